//! Threads against both types: histories of reads, stores and read-modify-writes checked for
//! linearizability against freeway-check's cell model, and a torn-read hunt with one writer
//! storing continuously. Bounded to about 3 s in all. Also what `cargo xtask asan` runs.
#![cfg(not(loom))]

mod common;

use common::{Wide, exec, narrow, spread};
use freeway_check::models::{CellModel, CellOp};
use freeway_check::stress::{Rng, StressConfig, stress};
use freeway_epoch::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use freeway_epoch::sync::thread;
use freeway_seqlock::{SeqLatch, SeqLock};
use std::time::{Duration, Instant};

fn cell_op(rng: &mut Rng, _thread: usize) -> CellOp<u16> {
    let v = rng.below(6) as u16;
    match rng.below(10) {
        0..=4 => CellOp::Load,
        5 | 6 => CellOp::Store(v),
        7 => CellOp::Swap(v),
        _ => CellOp::CompareExchange {
            current: rng.below(6) as u16,
            new: v,
        },
    }
}

fn linearizable<C: Wide>() {
    let cfg = StressConfig {
        threads: 3,
        ops_per_thread: 200,
        rounds: 40,
        time_limit: Duration::from_millis(600),
        ..StressConfig::default()
    };
    let report = stress(
        &cfg,
        CellModel::new(0u16),
        || C::make(0),
        cell_op,
        exec::<C>,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(report.operations >= 600);
}

#[test]
fn seqlock_is_linearizable() {
    linearizable::<SeqLock<[u64; 4]>>();
}

#[test]
fn seqlatch_is_linearizable() {
    linearizable::<SeqLatch<[u64; 4]>>();
}

/// Sets the flag when dropped, unwinding included.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Four words that must agree: `k` and three scrambles of it.
fn whole(k: u64) -> [u64; 4] {
    [k, !k, k.rotate_left(17), k ^ 0x5555_5555_5555_5555]
}

/// The `k` of a value read, panicking if its words disagree.
fn check_whole(w: [u64; 4]) -> u64 {
    assert_eq!(w, whole(w[0]), "torn value read: {w:x?}");
    w[0]
}

/// One writer stores 1, 2, 3, ... as fast as it can for ~0.4 s; two readers check that every
/// value is whole and that the values each sees never go back. Both `read` and `try_read` run.
fn torn_read_hunt<C: Sync>(
    c: &C,
    store: impl Fn(&C, [u64; 4]) + Sync,
    read: impl Fn(&C) -> [u64; 4] + Sync,
    try_read: impl Fn(&C) -> Option<[u64; 4]> + Sync,
) {
    let stop = AtomicBool::new(false);
    let reads = AtomicU64::new(0);
    let deadline = Instant::now() + Duration::from_millis(400);
    thread::scope(|s| {
        s.spawn(|| {
            let mut k = 0u64;
            while !stop.load(Ordering::Relaxed) {
                k += 1;
                store(c, whole(k));
            }
        });
        for r in 0..2u64 {
            let (stop, reads, read, try_read) = (&stop, &reads, &read, &try_read);
            s.spawn(move || {
                // Stop the writer even if this reader panics, so the test fails instead of hanging.
                let _stop_on_exit = StopOnDrop(stop);
                let mut last = 0u64;
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let v = if (n + r).is_multiple_of(4) {
                        match try_read(c) {
                            Some(w) => check_whole(w),
                            None => continue,
                        }
                    } else {
                        check_whole(read(c))
                    };
                    assert!(v >= last, "went back from {last} to {v}");
                    last = v;
                    if n.is_multiple_of(1024) && Instant::now() > deadline {
                        stop.store(true, Ordering::Relaxed);
                    }
                }
                reads.fetch_add(n, Ordering::Relaxed);
            });
        }
    });
    assert!(reads.load(Ordering::Relaxed) > 0);
}

#[test]
fn seqlock_never_returns_a_torn_value() {
    let c = SeqLock::new(whole(0));
    torn_read_hunt(&c, |c, v| c.store(v), |c| c.read(), |c| c.try_read());
}

#[test]
fn seqlatch_never_returns_a_torn_value() {
    let c = SeqLatch::new(whole(0));
    torn_read_hunt(&c, |c, v| c.store(v), |c| c.read(), |c| c.try_read());
}

/// Two writers adding through `update` while readers check wholeness: nothing lost, nothing torn.
#[test]
fn racing_updates_stay_whole_and_add_up() {
    fn run<C: Wide>() {
        let c = C::make(0);
        const EACH: u16 = 3000;
        thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    for _ in 0..EACH {
                        c.update(|w| *w = spread(narrow(*w) + 1));
                    }
                });
            }
            s.spawn(|| {
                let mut last = 0;
                let deadline = Instant::now() + Duration::from_secs(10);
                while last < 2 * EACH && Instant::now() < deadline {
                    let v = narrow(c.read());
                    assert!(v >= last);
                    last = v;
                }
            });
        });
        assert_eq!(narrow(c.read()), 2 * EACH);
    }
    run::<SeqLock<[u64; 4]>>();
    run::<SeqLatch<[u64; 4]>>();
}
