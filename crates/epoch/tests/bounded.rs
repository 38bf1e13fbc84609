//! Garbage stays bounded when threads keep one guard across many retirements.
//!
//! One test in this binary: the accounting counters are process-wide, so the bound must not see
//! other tests' garbage.
#![cfg(not(loom))]

use freeway_epoch::sync::thread;
use freeway_epoch::{accounting, defer_drop, pin, reclaim_until_quiescent_for};
use std::time::Duration;

/// A thread pins once per 256 retirements (the amortised pattern of a `HashMapRef` held across a
/// batch of writes) for 512 000 retirements. crossbeam-epoch alone collects every 128th pin,
/// eight bags of 64 at a time: about 8 000 of those would have been freed by the end, and the
/// outstanding count climbs past 500 000 (measured with the pacing turned off). With collection
/// paced by retirement it stays within a few bags.
///
/// One thread, on purpose: with two, a thread preempted while pinned holds the epoch back and
/// the other's garbage grows for as long as the scheduler says, which is EBR's known caveat
/// (docs/reclamation.md), not what this test is about.
#[test]
fn garbage_stays_bounded_under_long_guards() {
    const {
        assert!(
            accounting::ENABLED,
            "tests build freeway-epoch with `accounting`"
        )
    };
    const THREADS: usize = 1;
    const CHUNKS: usize = 2000;
    const PER_PIN: usize = 256;
    const BOUND: u64 = 16 * 1024;
    let peaks: Vec<u64> = (0..THREADS)
        .map(|t| {
            thread::spawn(move || {
                let mut peak = 0;
                for c in 0..CHUNKS {
                    let guard = pin();
                    for i in 0..PER_PIN {
                        defer_drop(&guard, Box::new((t, c, i)));
                    }
                    drop(guard);
                    peak = peak.max(accounting::counts().outstanding());
                }
                peak
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    let peak = peaks.into_iter().max().unwrap();
    assert!(
        peak < BOUND,
        "garbage peaked at {peak} objects (bound {BOUND}) out of {} retired",
        THREADS * CHUNKS * PER_PIN
    );
    assert_eq!(reclaim_until_quiescent_for(Duration::from_secs(30)), 0);
}
