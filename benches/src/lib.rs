//! The shared harness of Freeway's criterion benches: thread sweeps with overlapping threads.
//!
//! Every group measures its contenders at each thread count of [`thread_counts`] (default
//! `1, 2, 4`; set `FREEWAY_BENCH_THREADS=1,2,4,8,16` or pass `--threads` to `cargo xtask bench`).
//! One criterion iteration is one operation (or one operation pair, as the group says); a sample of
//! `iters` iterations is run by [`run_threads`]: all threads start together at a barrier and
//! draw work from one shared budget in small chunks until it is spent, so every thread runs for
//! (nearly) the whole sample and none finishes early to leave the others uncontended. The
//! sample's time is the wall time from the barrier to the last thread done.
//!
//! Naming, which `cargo xtask bench` relies on to write the report: group `structure/workload`,
//! function id the contender (`freeway …` for ours, `Mutex<…>`/`RwLock<…>` for the baseline,
//! anything else a peer), parameter the thread count.
//!
//! # Examples
//!
//! ```
//! use freeway_benches::run_threads;
//! use std::sync::atomic::{AtomicU64, Ordering};
//!
//! let counter = AtomicU64::new(0);
//! let t = run_threads(2, 10_000, |_thread| {
//!     let counter = &counter;
//!     move |n: u64| {
//!         for _ in 0..n {
//!             counter.fetch_add(1, Ordering::Relaxed);
//!         }
//!     }
//! });
//! assert_eq!(counter.load(Ordering::Relaxed), 10_000);
//! assert!(t.as_nanos() > 0);
//! ```

pub mod maps;

use freeway_epoch::sync::atomic::{AtomicU64, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};

/// Operations a thread claims from the shared budget at a time.
pub const CHUNK: u64 = 128;

/// Thread counts to sweep: `FREEWAY_BENCH_THREADS` (comma-separated) or `1, 2, 4`.
///
/// # Examples
///
/// ```
/// assert!(!freeway_benches::thread_counts().is_empty());
/// ```
pub fn thread_counts() -> Vec<usize> {
    std::env::var("FREEWAY_BENCH_THREADS")
        .ok()
        .map(|s| {
            s.split(',')
                .filter_map(|t| t.trim().parse().ok())
                .filter(|&t| t > 0)
                .collect::<Vec<usize>>()
        })
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| vec![1, 2, 4])
}

/// Runs `iters` operations over `threads` threads and returns the wall time.
///
/// `make_worker(thread_index)` runs on each thread before the start barrier and returns the
/// worker, which is then called with the number of operations to perform, repeatedly, until the
/// shared budget is spent.
///
/// The time runs from the first worker leaving the barrier to the last worker finishing, both
/// read by the workers themselves: the calling thread may be descheduled on an oversubscribed
/// machine, and a clock read there could start late and overstate throughput.
pub fn run_threads<F, W>(threads: usize, iters: u64, make_worker: F) -> Duration
where
    F: Fn(usize) -> W + Sync,
    W: FnMut(u64),
{
    let budget = AtomicU64::new(iters);
    let barrier = Barrier::new(threads);
    let base = Instant::now();
    let first_start = AtomicU64::new(u64::MAX);
    let last_end = AtomicU64::new(0);
    std::thread::scope(|s| {
        for t in 0..threads {
            let (budget, barrier, make_worker) = (&budget, &barrier, &make_worker);
            let (first_start, last_end) = (&first_start, &last_end);
            s.spawn(move || {
                let mut work = make_worker(t);
                barrier.wait();
                // Relaxed: min/max of timestamps; the scope join orders them before the read.
                first_start.fetch_min(base.elapsed().as_nanos() as u64, Ordering::Relaxed);
                loop {
                    // Relaxed: the budget only splits work; the scope join orders the results.
                    let left = budget.fetch_sub(CHUNK.min(iters.max(1)), Ordering::Relaxed);
                    if left == 0 || left > iters {
                        break;
                    }
                    work(left.min(CHUNK));
                }
                last_end.fetch_max(base.elapsed().as_nanos() as u64, Ordering::Relaxed);
            });
        }
    });
    // Relaxed: every worker has been joined by the scope.
    let (a, b) = (
        first_start.load(Ordering::Relaxed),
        last_end.load(Ordering::Relaxed),
    );
    Duration::from_nanos(b.saturating_sub(a).max(1))
}

/// Runs `step` over and over on a background thread while `f` runs, then stops it and returns
/// what `f` returned: the unmeasured writer of the reader benches.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
///
/// let writes = AtomicU64::new(0);
/// let r = freeway_benches::with_background(
///     || {
///         writes.fetch_add(1, Ordering::Relaxed);
///     },
///     || 7,
/// );
/// assert_eq!(r, 7);
/// ```
pub fn with_background<R>(mut step: impl FnMut() + Send, f: impl FnOnce() -> R) -> R {
    let stop = freeway_epoch::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            // Relaxed: a stop flag; the scope join orders everything else.
            while !stop.load(Ordering::Relaxed) {
                step();
            }
        });
        let r = f();
        stop.store(true, Ordering::Relaxed);
        r
    })
}

/// The median of the probes' rounds (the upper one of an even count).
///
/// # Examples
///
/// ```
/// assert_eq!(freeway_benches::median(vec![3.0, 1.0, 2.0]), 2.0);
/// ```
///
/// # Panics
///
/// If `v` is empty.
pub fn median(mut v: Vec<f64>) -> f64 {
    summary(&mut v).0
}

/// The median, minimum and maximum of `v` (sorting it in place): the cells of the duration-based
/// tables, "median (min..max)".
///
/// # Examples
///
/// ```
/// let mut v = [3.0, 1.0, 2.0];
/// assert_eq!(freeway_benches::summary(&mut v), (2.0, 1.0, 3.0));
/// ```
///
/// # Panics
///
/// If `v` is empty.
pub fn summary(v: &mut [f64]) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0], v[v.len() - 1])
}
