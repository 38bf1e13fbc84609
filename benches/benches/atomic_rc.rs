//! `AtomicArc` against arc-swap, `RwLock<Arc<T>>` and `Mutex<Arc<T>>`.
//!
//! - `atomic_rc/read`: readers at each thread count while ONE extra writer thread (spawned
//!   outside the measured threads, stopped after) replaces the value continuously. One element
//!   is one read.
//! - `atomic_rc/store`: the writer's store throughput (one measured thread) while 1, 2 or 4
//!   reader threads read continuously in the background; the parameter is the reader count. A
//!   store that walks the readers (arc-swap) slows down as readers are added; ours should not.
//!
//! Contenders sit behind one small trait ([`Cell`]); adding a peer is one impl.

use arc_swap::ArcSwap;
use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main,
};
use freeway_atomic_rc::AtomicArc;
use freeway_benches::{run_threads, thread_counts, with_background};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

/// The shared value: a small configuration-like record.
type Payload = [u64; 4];

fn payload(i: u64) -> Arc<Payload> {
    Arc::new([i, i + 1, i + 2, i + 3])
}

/// One contender: a shared `Arc<Payload>` that can be replaced and read many times.
trait Cell: Send + Sync {
    /// The function id in the report.
    const NAME: &'static str;
    fn new(v: Arc<Payload>) -> Self;
    fn store(&self, v: Arc<Payload>);
    /// Performs `n` reads; returns something derived from them so they are not optimised away.
    fn read_many(&self, n: u64) -> u64;
}

struct SnapshotPin(AtomicArc<Payload>);
impl Cell for SnapshotPin {
    const NAME: &'static str = "freeway AtomicArc snapshot (pin per read)";
    fn new(v: Arc<Payload>) -> Self {
        Self(AtomicArc::new(v))
    }
    fn store(&self, v: Arc<Payload>) {
        self.0.store(v)
    }
    fn read_many(&self, n: u64) -> u64 {
        let mut acc = 0;
        for _ in 0..n {
            let guard = freeway_epoch::pin();
            acc += self.0.snapshot(&guard)[0];
        }
        acc
    }
}

struct SnapshotReused(AtomicArc<Payload>);
impl Cell for SnapshotReused {
    const NAME: &'static str = "freeway AtomicArc snapshot (reused guard)";
    fn new(v: Arc<Payload>) -> Self {
        Self(AtomicArc::new(v))
    }
    fn store(&self, v: Arc<Payload>) {
        self.0.store(v)
    }
    fn read_many(&self, n: u64) -> u64 {
        // One pin per chunk of the harness (at most `CHUNK` = 128 reads).
        let guard = freeway_epoch::pin();
        let mut acc = 0;
        for _ in 0..n {
            acc += self.0.snapshot(&guard)[0];
        }
        acc
    }
}

struct Load(AtomicArc<Payload>);
impl Cell for Load {
    const NAME: &'static str = "freeway AtomicArc load";
    fn new(v: Arc<Payload>) -> Self {
        Self(AtomicArc::new(v))
    }
    fn store(&self, v: Arc<Payload>) {
        self.0.store(v)
    }
    fn read_many(&self, n: u64) -> u64 {
        (0..n).map(|_| self.0.load()[0]).sum()
    }
}

struct SwapLoad(ArcSwap<Payload>);
impl Cell for SwapLoad {
    const NAME: &'static str = "arc-swap load";
    fn new(v: Arc<Payload>) -> Self {
        Self(ArcSwap::new(v))
    }
    fn store(&self, v: Arc<Payload>) {
        self.0.store(v)
    }
    fn read_many(&self, n: u64) -> u64 {
        (0..n).map(|_| self.0.load()[0]).sum()
    }
}

struct SwapLoadFull(ArcSwap<Payload>);
impl Cell for SwapLoadFull {
    const NAME: &'static str = "arc-swap load_full";
    fn new(v: Arc<Payload>) -> Self {
        Self(ArcSwap::new(v))
    }
    fn store(&self, v: Arc<Payload>) {
        self.0.store(v)
    }
    fn read_many(&self, n: u64) -> u64 {
        (0..n).map(|_| self.0.load_full()[0]).sum()
    }
}

struct Rw(RwLock<Arc<Payload>>);
impl Cell for Rw {
    const NAME: &'static str = "RwLock<Arc<T>>";
    fn new(v: Arc<Payload>) -> Self {
        Self(RwLock::new(v))
    }
    fn store(&self, v: Arc<Payload>) {
        let old = std::mem::replace(&mut *self.0.write().unwrap(), v);
        drop(old); // outside the lock
    }
    fn read_many(&self, n: u64) -> u64 {
        // An owned Arc per read, like `load`/`load_full`.
        (0..n).map(|_| self.0.read().unwrap().clone()[0]).sum()
    }
}

struct Mx(Mutex<Arc<Payload>>);
impl Cell for Mx {
    const NAME: &'static str = "Mutex<Arc<T>>";
    fn new(v: Arc<Payload>) -> Self {
        Self(Mutex::new(v))
    }
    fn store(&self, v: Arc<Payload>) {
        let old = std::mem::replace(&mut *self.0.lock().unwrap(), v);
        drop(old);
    }
    fn read_many(&self, n: u64) -> u64 {
        (0..n).map(|_| self.0.lock().unwrap().clone()[0]).sum()
    }
}

/// Readers measured at `threads`, one unmeasured writer replacing the value all along.
fn read_one<C: Cell>(g: &mut BenchmarkGroup<'_, WallTime>, threads: usize) {
    g.bench_with_input(BenchmarkId::new(C::NAME, threads), &threads, |b, &t| {
        let cell = C::new(payload(0));
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
                            black_box(cell.read_many(n));
                        }
                    })
                });
            },
        );
    });
}

fn read(c: &mut Criterion) {
    let mut g = c.benchmark_group("atomic_rc/read");
    g.throughput(Throughput::Elements(1));
    for t in thread_counts() {
        read_one::<SnapshotPin>(&mut g, t);
        read_one::<SnapshotReused>(&mut g, t);
        read_one::<Load>(&mut g, t);
        read_one::<SwapLoad>(&mut g, t);
        read_one::<SwapLoadFull>(&mut g, t);
        read_one::<Rw>(&mut g, t);
        read_one::<Mx>(&mut g, t);
    }
    g.finish();
}

/// One measured writer; `readers` unmeasured reader threads reading all along.
fn store_one<C: Cell>(g: &mut BenchmarkGroup<'_, WallTime>, name: &str, readers: usize) {
    g.bench_with_input(BenchmarkId::new(name, readers), &readers, |b, &r| {
        let cell = C::new(payload(0));
        let stop = AtomicBool::new(false);
        std::thread::scope(|s| {
            for _ in 0..r {
                s.spawn(|| {
                    // Relaxed: a stop flag; the scope join orders everything else.
                    while !stop.load(Ordering::Relaxed) {
                        black_box(cell.read_many(64));
                    }
                });
            }
            // One writer: timed on this thread itself. (`run_threads` times from its own thread
            // after the start barrier; with one worker and the readers oversubscribing the
            // cores, that thread can be descheduled until the worker has finished, which
            // reported absurd rates.)
            let mut i = 0u64;
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    i += 1;
                    cell.store(payload(i));
                }
                start.elapsed()
            });
            stop.store(true, Ordering::Relaxed);
        });
    });
}

fn store(c: &mut Criterion) {
    let mut g = c.benchmark_group("atomic_rc/store");
    g.throughput(Throughput::Elements(1));
    for r in thread_counts() {
        // Readers take snapshots under a reused guard / arc-swap `load` guards: each side's
        // cheapest read, the one that makes its writer's job hardest.
        store_one::<SnapshotReused>(&mut g, "freeway AtomicArc store", r);
        store_one::<SwapLoad>(&mut g, "arc-swap store", r);
    }
    g.finish();
}

criterion_group!(benches, read, store);
criterion_main!(benches);
