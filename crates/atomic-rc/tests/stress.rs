//! Threads + linearizability (freeway-check) and drop accounting under contention.
//!
//! This is also the file `cargo xtask asan` runs under AddressSanitizer: every test here
//! replaces values while others read them, so a release that came before a reader's increment
//! would show up as a use-after-free.
#![cfg(not(loom))]

mod common;

use common::{Read, exec_option, exec_sized, exec_unsized};
use freeway_atomic_rc::{AtomicArc, AtomicOptionArc};
use freeway_check::drops::DropTracker;
use freeway_check::lin::{Recorder, check};
use freeway_check::models::{CellModel, CellOp, CellRet};
use freeway_check::stress::{Rng, StressConfig, stress};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn cfg() -> StressConfig {
    StressConfig {
        threads: 3,
        ops_per_thread: 200,
        rounds: 40,
        time_limit: Duration::from_millis(400),
        ..StressConfig::default()
    }
}

fn gen_op(rng: &mut Rng, _thread: usize) -> CellOp<u16> {
    // Few values, so value-level compare-exchanges succeed often.
    let v = |rng: &mut Rng| rng.below(4) as u16;
    match rng.below(8) {
        0..=3 => CellOp::Load,
        4 => CellOp::Store(v(rng)),
        5 => CellOp::Swap(v(rng)),
        _ => CellOp::CompareExchange {
            current: v(rng),
            new: v(rng),
        },
    }
}

#[test]
fn sized_cell_is_linearizable() {
    let report = stress(
        &cfg(),
        CellModel::new(0u16),
        || AtomicArc::new(Arc::new(0u16)),
        gen_op,
        |cell, op| {
            let read = if matches!(op, CellOp::Load) && rand_bit(op) {
                Read::Snapshot
            } else {
                Read::Load
            };
            exec_sized(cell, op, read)
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(report.operations > 0);
}

/// Alternates reads between `load` and `snapshot` without state: by the address of the op.
fn rand_bit<T>(op: &T) -> bool {
    (op as *const T as usize >> 4) & 1 == 1
}

#[test]
fn unsized_cell_is_linearizable() {
    stress(
        &cfg(),
        CellModel::new(0u16),
        || AtomicArc::<str>::new(Arc::from("0")),
        gen_op,
        |cell, op| exec_unsized(cell, op, Read::Snapshot),
    )
    .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn option_cell_is_linearizable() {
    stress(
        &cfg(),
        CellModel::new(0u16),
        || AtomicOptionArc::<u16>::new(None),
        gen_op,
        |cell, op| exec_option(cell, op, Read::Snapshot),
    )
    .unwrap_or_else(|e| panic!("{e}"));
}

/// The pointer compare-exchange itself, single-shot, checked against the value model: every
/// stored value is unique (thread id and counter), so each value has exactly one allocation and
/// pointer identity coincides with value equality. A thread compares against the last `Arc` it
/// saw, which is often stale.
#[test]
fn pointer_compare_exchange_is_linearizable() {
    let start = Instant::now();
    let mut rounds = 0;
    while rounds < 30 && (rounds == 0 || start.elapsed() < Duration::from_millis(500)) {
        rounds += 1;
        let cell = AtomicArc::new(Arc::new(0u64));
        let rec = Recorder::<CellOp<u64>, CellRet<u64>>::new();
        std::thread::scope(|s| {
            for t in 0..3u64 {
                let mut log = rec.thread();
                let cell = &cell;
                s.spawn(move || {
                    let mut rng = Rng::new(0x9e37_79b9 ^ (t << 20) ^ rounds);
                    let mut last = cell.load();
                    for i in 1..=150u64 {
                        let fresh = ((t + 1) << 32) | i;
                        match rng.below(4) {
                            0 => {
                                let mut seen = None;
                                log.call(CellOp::Load, |_| {
                                    let v = cell.load();
                                    let r = CellRet::Load(*v);
                                    seen = Some(v);
                                    r
                                });
                                last = seen.expect("the call ran");
                            }
                            1 => {
                                log.call(CellOp::Swap(fresh), |_| {
                                    CellRet::Swap(*cell.swap(Arc::new(fresh)))
                                });
                            }
                            _ => {
                                let op = CellOp::CompareExchange {
                                    current: *last,
                                    new: fresh,
                                };
                                let mut next = None;
                                log.call(op, |_| {
                                    let r = match cell.compare_exchange(&last, Arc::new(fresh)) {
                                        Ok(prev) => Ok(*prev),
                                        Err(e) => {
                                            let v = *e.current;
                                            next = Some(e.current);
                                            Err(v)
                                        }
                                    };
                                    CellRet::CompareExchange(r)
                                });
                                if let Some(n) = next {
                                    last = n;
                                }
                            }
                        }
                    }
                });
            }
        });
        let h = rec.into_history();
        check(&CellModel::new(0u64), &h).unwrap_or_else(|c| panic!("round {rounds}: {c}"));
    }
}

#[test]
fn concurrent_rcu_loses_no_update() {
    let cell = AtomicArc::new(Arc::new(0u64));
    let opt = AtomicOptionArc::<u64>::new(None);
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                for _ in 0..2_000 {
                    cell.rcu(|v| Arc::new(**v + 1));
                    opt.rcu(|v| Some(Arc::new(v.as_deref().map_or(1, |n| n + 1))));
                }
            });
        }
    });
    assert_eq!(*cell.load(), 6_000);
    assert_eq!(opt.load().as_deref(), Some(&6_000));
}

#[test]
fn every_value_dropped_exactly_once_under_contention() {
    let tracker = DropTracker::new();
    let cell = AtomicArc::new(Arc::new(tracker.track(0u64)));
    let slices: AtomicArc<[u64]> = AtomicArc::new(Arc::from(vec![0u64; 4]));
    let opt = AtomicOptionArc::new(None);
    std::thread::scope(|s| {
        for t in 0..2u64 {
            let (cell, tracker, slices, opt) = (&cell, &tracker, &slices, &opt);
            s.spawn(move || {
                for i in 0..3_000u64 {
                    let v = t * 100_000 + i;
                    match i % 6 {
                        0 => cell.store(Arc::new(tracker.track(v))),
                        1 => drop(cell.swap(Arc::new(tracker.track(v)))),
                        2 => {
                            let cur = cell.load();
                            drop(cell.compare_exchange(&cur, Arc::new(tracker.track(v))));
                        }
                        3 => drop(cell.rcu(|_| Arc::new(tracker.track(v)))),
                        4 => opt.store(Some(Arc::new(tracker.track(v)))),
                        _ => drop(opt.take()),
                    }
                    slices.store(Arc::from(vec![v; 4]));
                }
            });
        }
        for _ in 0..2 {
            let (cell, slices, opt) = (&cell, &slices, &opt);
            s.spawn(move || {
                let mut guard = freeway_epoch::pin();
                for i in 0..6_000u32 {
                    let a = cell.load();
                    let b = **cell.snapshot(&guard);
                    let sl = slices.snapshot(&guard);
                    assert!(sl.iter().all(|x| *x == sl[0]), "a torn slice: {:?}", &*sl);
                    if let Some(o) = opt.snapshot(&guard) {
                        assert!(**o < 200_000);
                    }
                    assert!(**a < 200_000 && b < 200_000);
                    if i % 32 == 0 {
                        guard.repin();
                    }
                }
            });
        }
    });
    drop((cell, opt, slices));
    tracker.reclaim_until_all_dropped();
    tracker.assert_all_dropped_once();
}
