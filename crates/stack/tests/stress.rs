//! Threads hammering one stack, every history checked for linearizability against the LIFO
//! model by freeway-check; plus a throughput run that exercises reclamation and elimination
//! (this file is what `cargo xtask asan` runs under AddressSanitizer).
#![cfg(not(loom))]

use std::time::Duration;

use freeway_check::drops::DropTracker;
use freeway_check::models::{Lifo, StackOp, StackRet};
use freeway_check::stress::{Rng, StressConfig, stress};
use freeway_stack::Stack;

fn gen_op(rng: &mut Rng, thread: usize) -> StackOp<u16> {
    if rng.chance(0.55) {
        // Distinct values per thread make histories easier to check.
        StackOp::Push((thread as u16) << 12 | rng.below(4096) as u16)
    } else {
        StackOp::Pop
    }
}

fn exec<const SLOTS: usize>(s: &Stack<u16, SLOTS>, op: &StackOp<u16>) -> StackRet<u16> {
    match op {
        StackOp::Push(v) => {
            s.push(*v);
            StackRet::Push
        }
        StackOp::Pop => StackRet::Pop(s.pop()),
    }
}

fn config(threads: usize) -> StressConfig {
    StressConfig {
        threads,
        ops_per_thread: 200,
        rounds: 40,
        time_limit: Duration::from_millis(500),
        ..StressConfig::default()
    }
}

#[test]
fn linearizable_plain_two_and_three_threads() {
    for threads in [2, 3] {
        let r = stress(
            &config(threads),
            Lifo::new(),
            Stack::<u16, 0>::with_elimination,
            gen_op,
            exec,
        );
        if let Err(e) = r {
            panic!("{e}");
        }
    }
}

#[test]
fn linearizable_with_elimination_two_and_four_threads() {
    for threads in [2, 4] {
        let r = stress(
            &config(threads),
            Lifo::new(),
            Stack::<u16, 2>::with_elimination,
            gen_op,
            exec,
        );
        if let Err(e) = r {
            panic!("{e}");
        }
    }
}

/// Pushes, pops, batches and `take_all` from four threads on tracked values: every value is
/// delivered exactly once (none lost, none duplicated) and dropped exactly once, and the retired
/// nodes are reclaimed without touching the values again.
fn churn<const SLOTS: usize, const PAD: usize>() {
    let t = DropTracker::new();
    let s = Stack::<_, SLOTS>::with_elimination();
    let seen = freeway_epoch::sync::Mutex::new(Vec::new());
    freeway_epoch::sync::thread::scope(|sc| {
        for th in 0..4u64 {
            let (s, t, seen) = (&s, &t, &seen);
            sc.spawn(move || {
                let mut rng = Rng::new(th + 1);
                let mut mine = Vec::new();
                let mut next = th << 32;
                for _ in 0..20_000 {
                    match rng.below(20) {
                        0 => {
                            let n = rng.below(16);
                            s.push_batch((0..n).map(|_| {
                                next += 1;
                                t.track((next, [0u8; PAD]))
                            }));
                        }
                        1 => mine.extend(s.take_all().map(|v| v.0)),
                        2..=10 => {
                            next += 1;
                            s.push(t.track((next, [0u8; PAD])));
                        }
                        _ => mine.extend(s.pop().map(|v| v.0)),
                    }
                }
                seen.lock().unwrap().push((th, next, mine));
            });
        }
    });
    let mut all: Vec<u64> = Vec::new();
    let mut want: Vec<u64> = Vec::new();
    for (th, last, mine) in seen.into_inner().unwrap() {
        let first = th << 32;
        all.extend(mine);
        want.extend(first + 1..=last);
    }
    all.extend(s.take_all().map(|v| v.0));
    all.sort_unstable();
    want.sort_unstable();
    assert_eq!(all.len(), want.len(), "values lost or duplicated");
    assert_eq!(all, want);
    drop(s);
    freeway_epoch::reclaim_until_quiescent(10_000);
    t.assert_all_dropped_once();
}

// Small elements: their nodes go through the crate's node pool (batched retirement and reuse).

#[test]
fn churn_plain_delivers_every_value_once() {
    churn::<0, 0>();
}

#[test]
fn churn_with_elimination_delivers_every_value_once() {
    churn::<2, 0>();
}

// Elements too large for the node pool: every node is its own allocation, retired and freed on
// its own, so AddressSanitizer (`cargo xtask asan`) sees a use-after-free of a node at once
// instead of it hiding in reused memory.

#[test]
fn churn_large_nodes_bypassing_the_pool() {
    churn::<0, 128>();
}

#[test]
fn churn_large_nodes_with_elimination() {
    churn::<2, 128>();
}

/// A thread that exits with popped nodes still in its pending batch (fewer than a batch) hands
/// them to the epoch from its thread-local destructor; they are freed after a grace period.
#[test]
fn nodes_pending_at_thread_exit_are_retired() {
    let s = Stack::<u64>::new();
    s.push_batch(0..1_000);
    freeway_epoch::sync::thread::scope(|sc| {
        for _ in 0..3 {
            sc.spawn(|| {
                for _ in 0..10 {
                    assert!(s.pop().is_some());
                }
            });
        }
    });
    assert_eq!(s.take_all().count(), 970);
    freeway_epoch::reclaim_until_quiescent(10_000);
}
