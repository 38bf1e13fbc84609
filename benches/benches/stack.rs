//! `Stack` against `Mutex<Vec>` and `scc::Stack`: the pairs workload (each thread pushes then
//! pops), the bursty workload (push 64, then pop 64), and `push_batch` of 32 against 32 single
//! pushes. "freeway Stack" is the default (plain Treiber); "freeway Stack<T, 2>" has two
//! elimination slots, measured to decide whether elimination earns its place.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use freeway_benches::{run_threads, thread_counts};
use freeway_stack::Stack;
use std::hint::black_box;
use std::sync::Mutex;

/// One contender: a concurrent stack of `u64`.
trait Contender: Send + Sync + 'static {
    const NAME: &'static str;
    fn make() -> Self;
    fn push(&self, v: u64);
    fn pop(&self) -> Option<u64>;
}

impl Contender for Stack<u64> {
    const NAME: &'static str = "freeway Stack";
    fn make() -> Self {
        Stack::new()
    }
    fn push(&self, v: u64) {
        Stack::push(self, v)
    }
    fn pop(&self) -> Option<u64> {
        Stack::pop(self)
    }
}

impl Contender for Stack<u64, 2> {
    const NAME: &'static str = "freeway Stack<T, 2> (elimination)";
    fn make() -> Self {
        Stack::with_elimination()
    }
    fn push(&self, v: u64) {
        Stack::push(self, v)
    }
    fn pop(&self) -> Option<u64> {
        Stack::pop(self)
    }
}

impl Contender for Mutex<Vec<u64>> {
    const NAME: &'static str = "Mutex<Vec>";
    fn make() -> Self {
        Mutex::new(Vec::new())
    }
    fn push(&self, v: u64) {
        self.lock().unwrap().push(v)
    }
    fn pop(&self) -> Option<u64> {
        self.lock().unwrap().pop()
    }
}

impl Contender for scc::Stack<u64> {
    const NAME: &'static str = "scc::Stack";
    fn make() -> Self {
        scc::Stack::default()
    }
    fn push(&self, v: u64) {
        scc::Stack::push(self, v);
    }
    fn pop(&self) -> Option<u64> {
        scc::Stack::pop(self).map(|e| **e)
    }
}

fn pairs_one<S: Contender>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    t: usize,
) {
    g.bench_with_input(BenchmarkId::new(S::NAME, t), &t, |b, &t| {
        let s = S::make();
        b.iter_custom(|iters| {
            run_threads(t, iters, |thread| {
                let s = &s;
                move |n| {
                    for i in 0..n {
                        s.push(i ^ thread as u64);
                        black_box(s.pop());
                    }
                }
            })
        })
    });
}

fn bursty_one<S: Contender>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    t: usize,
) {
    g.bench_with_input(BenchmarkId::new(S::NAME, t), &t, |b, &t| {
        let s = S::make();
        b.iter_custom(|iters| {
            run_threads(t, iters, |thread| {
                let s = &s;
                move |n| {
                    for _ in 0..n {
                        for i in 0..64 {
                            s.push(i ^ thread as u64);
                        }
                        for _ in 0..64 {
                            black_box(s.pop());
                        }
                    }
                }
            })
        })
    });
}

fn pairs(c: &mut Criterion) {
    let mut g = c.benchmark_group("stack/pairs");
    // One iteration is a push and a pop.
    g.throughput(Throughput::Elements(2));
    for t in thread_counts() {
        pairs_one::<Stack<u64>>(&mut g, t);
        pairs_one::<Stack<u64, 2>>(&mut g, t);
        pairs_one::<Mutex<Vec<u64>>>(&mut g, t);
        pairs_one::<scc::Stack<u64>>(&mut g, t);
    }
    g.finish();
}

fn bursty(c: &mut Criterion) {
    let mut g = c.benchmark_group("stack/bursty");
    // One iteration is 64 pushes then 64 pops.
    g.throughput(Throughput::Elements(128));
    for t in thread_counts() {
        bursty_one::<Stack<u64>>(&mut g, t);
        bursty_one::<Stack<u64, 2>>(&mut g, t);
        bursty_one::<Mutex<Vec<u64>>>(&mut g, t);
        bursty_one::<scc::Stack<u64>>(&mut g, t);
    }
    g.finish();
}

const BATCH: u64 = 32;

fn batch(c: &mut Criterion) {
    let mut g = c.benchmark_group("stack/batch");
    // One iteration pushes 32 items (then `take_all` drains them, the same for both).
    g.throughput(Throughput::Elements(BATCH));
    for t in thread_counts() {
        g.bench_with_input(
            BenchmarkId::new("freeway Stack push_batch(32)", t),
            &t,
            |b, &t| {
                let s = Stack::<u64>::new();
                b.iter_custom(|iters| {
                    run_threads(t, iters, |_| {
                        let s = &s;
                        move |n| {
                            for _ in 0..n {
                                s.push_batch(0..BATCH);
                                black_box(s.take_all().count());
                            }
                        }
                    })
                })
            },
        );
        g.bench_with_input(
            BenchmarkId::new("freeway Stack push x32", t),
            &t,
            |b, &t| {
                let s = Stack::<u64>::new();
                b.iter_custom(|iters| {
                    run_threads(t, iters, |_| {
                        let s = &s;
                        move |n| {
                            for _ in 0..n {
                                for i in 0..BATCH {
                                    s.push(i);
                                }
                                black_box(s.take_all().count());
                            }
                        }
                    })
                })
            },
        );
    }
    g.finish();
}

/// Push-only cost of a batch against single pushes, one thread: each sample starts from an
/// empty stack (made in the untimed setup) and the filled stack is dropped outside the timed
/// region (criterion's `iter_batched` drops outputs after timing), so the drain is not measured.
/// Batches of 16 iterations (512 nodes) stay within the node pool's free list, as a steady state
/// of push-drain cycles does.
fn batch_push_only(c: &mut Criterion) {
    use criterion::BatchSize;
    let mut g = c.benchmark_group("stack/batch_push_only");
    g.throughput(Throughput::Elements(BATCH));
    g.bench_with_input(
        BenchmarkId::new("freeway Stack push_batch(32)", 1),
        &1,
        |b, _| {
            b.iter_batched(
                Stack::<u64>::new,
                |s| {
                    s.push_batch(black_box(0..BATCH));
                    s
                },
                BatchSize::NumIterations(16),
            )
        },
    );
    g.bench_with_input(BenchmarkId::new("freeway Stack push x32", 1), &1, |b, _| {
        b.iter_batched(
            Stack::<u64>::new,
            |s| {
                for i in 0..BATCH {
                    s.push(black_box(i));
                }
                s
            },
            BatchSize::NumIterations(16),
        )
    });
    g.finish();
}

criterion_group!(benches, pairs, bursty, batch, batch_push_only);
criterion_main!(benches);
