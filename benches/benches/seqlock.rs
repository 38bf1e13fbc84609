//! `SeqLock` and `SeqLatch` against the seqlock crate, crossbeam's `AtomicCell`, `RwLock` and
//! `Mutex`.
//!
//! - `seqlock/read`: readers of a 32-byte value (`[u64; 4]`) at each thread count while ONE
//!   extra writer thread (spawned outside the measured threads, stopped after) stores
//!   continuously. One element is one read. Every contender sits in its own `CachePadded`, so
//!   none gains or loses by where its words fall across cache lines.
//!
//! Contenders sit behind one small trait ([`Cell`]); adding a peer is one impl.

use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main,
};
use crossbeam_utils::CachePadded;
use crossbeam_utils::atomic::AtomicCell;
use freeway_benches::{run_threads, thread_counts, with_background};
use freeway_seqlock::{SeqLatch, SeqLock};
use std::hint::black_box;
use std::sync::{Mutex, RwLock};

/// The shared value: four words.
type Payload = [u64; 4];

fn payload(i: u64) -> Payload {
    [i, i ^ 1, i ^ 2, i ^ 3]
}

/// One contender: a shared `Payload` that can be stored and read.
trait Cell: Send + Sync {
    /// The function id in the report.
    const NAME: &'static str;
    fn new(v: Payload) -> Self;
    fn store(&self, v: Payload);
    fn read(&self) -> Payload;
}

impl Cell for SeqLock<Payload> {
    const NAME: &'static str = "freeway SeqLock";
    fn new(v: Payload) -> Self {
        SeqLock::new(v)
    }
    fn store(&self, v: Payload) {
        SeqLock::store(self, v)
    }
    #[inline]
    fn read(&self) -> Payload {
        SeqLock::read(self)
    }
}

impl Cell for SeqLatch<Payload> {
    const NAME: &'static str = "freeway SeqLatch";
    fn new(v: Payload) -> Self {
        SeqLatch::new(v)
    }
    fn store(&self, v: Payload) {
        SeqLatch::store(self, v)
    }
    #[inline]
    fn read(&self) -> Payload {
        SeqLatch::read(self)
    }
}

impl Cell for seqlock::SeqLock<Payload> {
    const NAME: &'static str = "seqlock";
    fn new(v: Payload) -> Self {
        seqlock::SeqLock::new(v)
    }
    fn store(&self, v: Payload) {
        *self.lock_write() = v;
    }
    #[inline]
    fn read(&self) -> Payload {
        seqlock::SeqLock::read(self)
    }
}

impl Cell for AtomicCell<Payload> {
    const NAME: &'static str = "crossbeam AtomicCell";
    fn new(v: Payload) -> Self {
        AtomicCell::new(v)
    }
    fn store(&self, v: Payload) {
        AtomicCell::store(self, v)
    }
    #[inline]
    fn read(&self) -> Payload {
        self.load()
    }
}

impl Cell for RwLock<Payload> {
    const NAME: &'static str = "RwLock<[u64; 4]>";
    fn new(v: Payload) -> Self {
        RwLock::new(v)
    }
    fn store(&self, v: Payload) {
        *self.write().unwrap() = v;
    }
    #[inline]
    fn read(&self) -> Payload {
        *RwLock::read(self).unwrap()
    }
}

impl Cell for Mutex<Payload> {
    const NAME: &'static str = "Mutex<[u64; 4]>";
    fn new(v: Payload) -> Self {
        Mutex::new(v)
    }
    fn store(&self, v: Payload) {
        *self.lock().unwrap() = v;
    }
    #[inline]
    fn read(&self) -> Payload {
        *self.lock().unwrap()
    }
}

fn read_one<C: Cell>(g: &mut BenchmarkGroup<'_, WallTime>, threads: usize) {
    g.bench_with_input(BenchmarkId::new(C::NAME, threads), &threads, |b, &t| {
        let cell = CachePadded::new(C::new(payload(0)));
        let mut i = 0;
        with_background(
            || {
                cell.store(payload(i));
                i += 1;
            },
            || {
                b.iter_custom(|iters| {
                    run_threads(t, iters, |_| {
                        let cell = &cell;
                        move |n| {
                            let mut acc = 0;
                            for _ in 0..n {
                                let v = cell.read();
                                acc ^= v[0] ^ v[3];
                            }
                            black_box(acc);
                        }
                    })
                });
            },
        );
    });
}

fn read(c: &mut Criterion) {
    let mut g = c.benchmark_group("seqlock/read");
    g.throughput(Throughput::Elements(1));
    for t in thread_counts() {
        read_one::<SeqLock<Payload>>(&mut g, t);
        read_one::<SeqLatch<Payload>>(&mut g, t);
        read_one::<seqlock::SeqLock<Payload>>(&mut g, t);
        read_one::<AtomicCell<Payload>>(&mut g, t);
        read_one::<RwLock<Payload>>(&mut g, t);
        read_one::<Mutex<Payload>>(&mut g, t);
    }
    g.finish();
}

criterion_group!(benches, read);
criterion_main!(benches);
