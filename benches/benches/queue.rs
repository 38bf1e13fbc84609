//! Queues: `freeway Queue` against `Mutex<VecDeque>`, crossbeam's `SegQueue` and
//! concurrent-queue (unbounded); `freeway ArrayQueue` against crossbeam's `ArrayQueue`,
//! concurrent-queue (bounded) and `Mutex<VecDeque>` at capacity 1024; and 32-item batches
//! against single calls.
//!
//! Groups: `queue/pairs` (each thread pushes then pops; one iteration = 2 operations),
//! `queue/prodcons` (even threads push, odd threads pop; one thread alternates; one iteration =
//! 1 operation), `array_queue/pairs` and `queue/batch` (32 pushes then 32 pops per thread, as
//! one `push_batch` and one `pop_batch` or as 64 single calls; one iteration = one item pushed
//! and popped = 2 operations).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use freeway_benches::{run_threads, thread_counts};
use std::collections::VecDeque;
use std::hint::black_box;
use std::sync::Mutex;

/// One unbounded contender: adding a peer is one impl.
trait Unbounded: Sync {
    fn new() -> Self;
    fn push(&self, v: u64);
    fn pop(&self) -> Option<u64>;
}

impl Unbounded for freeway_queue::Queue<u64> {
    fn new() -> Self {
        Self::new()
    }
    fn push(&self, v: u64) {
        self.push(v)
    }
    fn pop(&self) -> Option<u64> {
        self.pop()
    }
}

impl Unbounded for Mutex<VecDeque<u64>> {
    fn new() -> Self {
        Mutex::new(VecDeque::new())
    }
    fn push(&self, v: u64) {
        self.lock().unwrap().push_back(v)
    }
    fn pop(&self) -> Option<u64> {
        self.lock().unwrap().pop_front()
    }
}

impl Unbounded for crossbeam_queue::SegQueue<u64> {
    fn new() -> Self {
        Self::new()
    }
    fn push(&self, v: u64) {
        self.push(v)
    }
    fn pop(&self) -> Option<u64> {
        self.pop()
    }
}

impl Unbounded for concurrent_queue::ConcurrentQueue<u64> {
    fn new() -> Self {
        Self::unbounded()
    }
    fn push(&self, v: u64) {
        let _ = self.push(v);
    }
    fn pop(&self) -> Option<u64> {
        self.pop().ok()
    }
}

/// One bounded contender.
trait Bounded: Sync {
    fn with_capacity(cap: usize) -> Self;
    fn push(&self, v: u64) -> bool;
    fn pop(&self) -> Option<u64>;
}

impl Bounded for freeway_queue::ArrayQueue<u64> {
    fn with_capacity(cap: usize) -> Self {
        Self::new(cap)
    }
    fn push(&self, v: u64) -> bool {
        self.push(v).is_ok()
    }
    fn pop(&self) -> Option<u64> {
        self.pop()
    }
}

impl Bounded for crossbeam_queue::ArrayQueue<u64> {
    fn with_capacity(cap: usize) -> Self {
        Self::new(cap)
    }
    fn push(&self, v: u64) -> bool {
        self.push(v).is_ok()
    }
    fn pop(&self) -> Option<u64> {
        self.pop()
    }
}

impl Bounded for concurrent_queue::ConcurrentQueue<u64> {
    fn with_capacity(cap: usize) -> Self {
        Self::bounded(cap)
    }
    fn push(&self, v: u64) -> bool {
        self.push(v).is_ok()
    }
    fn pop(&self) -> Option<u64> {
        self.pop().ok()
    }
}

/// `Mutex<VecDeque>` with a capacity check.
struct MutexBounded(Mutex<VecDeque<u64>>, usize);

impl Bounded for MutexBounded {
    fn with_capacity(cap: usize) -> Self {
        Self(Mutex::new(VecDeque::with_capacity(cap)), cap)
    }
    fn push(&self, v: u64) -> bool {
        let mut q = self.0.lock().unwrap();
        if q.len() == self.1 {
            return false;
        }
        q.push_back(v);
        true
    }
    fn pop(&self) -> Option<u64> {
        self.0.lock().unwrap().pop_front()
    }
}

fn pairs_of<Q: Unbounded>(b: &mut criterion::Bencher<'_>, threads: usize) {
    b.iter_custom(|iters| {
        let q = Q::new();
        run_threads(threads, iters, |t| {
            let q = &q;
            move |n| {
                for i in 0..n {
                    q.push(black_box(i ^ t as u64));
                    black_box(q.pop());
                }
            }
        })
    })
}

fn pairs(c: &mut Criterion) {
    let mut g = c.benchmark_group("queue/pairs");
    g.throughput(Throughput::Elements(2));
    for t in thread_counts() {
        g.bench_with_input(BenchmarkId::new("freeway Queue", t), &t, |b, &t| {
            pairs_of::<freeway_queue::Queue<u64>>(b, t)
        });
        g.bench_with_input(BenchmarkId::new("Mutex<VecDeque>", t), &t, |b, &t| {
            pairs_of::<Mutex<VecDeque<u64>>>(b, t)
        });
        g.bench_with_input(BenchmarkId::new("crossbeam SegQueue", t), &t, |b, &t| {
            pairs_of::<crossbeam_queue::SegQueue<u64>>(b, t)
        });
        g.bench_with_input(BenchmarkId::new("concurrent-queue", t), &t, |b, &t| {
            pairs_of::<concurrent_queue::ConcurrentQueue<u64>>(b, t)
        });
    }
    g.finish();
}

fn prodcons_of<Q: Unbounded>(b: &mut criterion::Bencher<'_>, threads: usize) {
    b.iter_custom(|iters| {
        let q = Q::new();
        run_threads(threads, iters, |t| {
            let q = &q;
            let alone = threads == 1;
            move |n| {
                for i in 0..n {
                    if alone {
                        if i % 2 == 0 {
                            q.push(black_box(i));
                        } else {
                            black_box(q.pop());
                        }
                    } else if t % 2 == 0 {
                        q.push(black_box(i));
                    } else {
                        black_box(q.pop());
                    }
                }
            }
        })
    })
}

fn prodcons(c: &mut Criterion) {
    let mut g = c.benchmark_group("queue/prodcons");
    g.throughput(Throughput::Elements(1));
    for t in thread_counts() {
        g.bench_with_input(BenchmarkId::new("freeway Queue", t), &t, |b, &t| {
            prodcons_of::<freeway_queue::Queue<u64>>(b, t)
        });
        g.bench_with_input(BenchmarkId::new("Mutex<VecDeque>", t), &t, |b, &t| {
            prodcons_of::<Mutex<VecDeque<u64>>>(b, t)
        });
        g.bench_with_input(BenchmarkId::new("crossbeam SegQueue", t), &t, |b, &t| {
            prodcons_of::<crossbeam_queue::SegQueue<u64>>(b, t)
        });
        g.bench_with_input(BenchmarkId::new("concurrent-queue", t), &t, |b, &t| {
            prodcons_of::<concurrent_queue::ConcurrentQueue<u64>>(b, t)
        });
    }
    g.finish();
}

fn bounded_pairs_of<Q: Bounded>(b: &mut criterion::Bencher<'_>, threads: usize) {
    b.iter_custom(|iters| {
        let q = Q::with_capacity(1024);
        run_threads(threads, iters, |t| {
            let q = &q;
            move |n| {
                for i in 0..n {
                    black_box(q.push(black_box(i ^ t as u64)));
                    black_box(q.pop());
                }
            }
        })
    })
}

fn array_pairs(c: &mut Criterion) {
    let mut g = c.benchmark_group("array_queue/pairs");
    g.throughput(Throughput::Elements(2));
    for t in thread_counts() {
        g.bench_with_input(BenchmarkId::new("freeway ArrayQueue", t), &t, |b, &t| {
            bounded_pairs_of::<freeway_queue::ArrayQueue<u64>>(b, t)
        });
        g.bench_with_input(BenchmarkId::new("Mutex<VecDeque>", t), &t, |b, &t| {
            bounded_pairs_of::<MutexBounded>(b, t)
        });
        g.bench_with_input(BenchmarkId::new("crossbeam ArrayQueue", t), &t, |b, &t| {
            bounded_pairs_of::<crossbeam_queue::ArrayQueue<u64>>(b, t)
        });
        g.bench_with_input(BenchmarkId::new("concurrent-queue", t), &t, |b, &t| {
            bounded_pairs_of::<concurrent_queue::ConcurrentQueue<u64>>(b, t)
        });
    }
    g.finish();
}

const BATCH: u64 = 32;

fn batch(c: &mut Criterion) {
    let mut g = c.benchmark_group("queue/batch");
    g.throughput(Throughput::Elements(2));
    for t in thread_counts() {
        g.bench_with_input(
            BenchmarkId::new("freeway Queue push_batch/pop_batch", t),
            &t,
            |b, &t| {
                b.iter_custom(|iters| {
                    let q = freeway_queue::Queue::new();
                    run_threads(t, iters, |_| {
                        let q = &q;
                        let mut out = Vec::with_capacity(BATCH as usize);
                        move |n| {
                            let mut left = n;
                            while left > 0 {
                                let k = left.min(BATCH);
                                q.push_batch(0..k);
                                let mut got = 0;
                                while got < k {
                                    out.clear();
                                    got += q.pop_batch(&mut out, (k - got) as usize) as u64;
                                    black_box(&out);
                                }
                                left -= k;
                            }
                        }
                    })
                })
            },
        );
        g.bench_with_input(BenchmarkId::new("freeway Queue", t), &t, |b, &t| {
            b.iter_custom(|iters| {
                let q = freeway_queue::Queue::new();
                run_threads(t, iters, |_| {
                    let q = &q;
                    move |n| {
                        let mut left = n;
                        while left > 0 {
                            let k = left.min(BATCH);
                            for i in 0..k {
                                q.push(black_box(i));
                            }
                            for _ in 0..k {
                                black_box(q.pop());
                            }
                            left -= k;
                        }
                    }
                })
            })
        });
        g.bench_with_input(BenchmarkId::new("crossbeam SegQueue", t), &t, |b, &t| {
            b.iter_custom(|iters| {
                let q = crossbeam_queue::SegQueue::new();
                run_threads(t, iters, |_| {
                    let q = &q;
                    move |n| {
                        let mut left = n;
                        while left > 0 {
                            let k = left.min(BATCH);
                            for i in 0..k {
                                q.push(black_box(i));
                            }
                            for _ in 0..k {
                                black_box(q.pop());
                            }
                            left -= k;
                        }
                    }
                })
            })
        });
    }
    g.finish();
}

criterion_group!(benches, pairs, prodcons, array_pairs, batch);
criterion_main!(benches);
