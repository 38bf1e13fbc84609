//! A backlog left by a thread that stayed pinned drains faster than the threads retire.
//!
//! One test in this binary: the accounting counters and the default collector are process-wide,
//! so nothing else may pin or retire here.
#![cfg(not(loom))]

use freeway_epoch::sync::thread;
use freeway_epoch::{accounting, defer_drop, pin, reclaim_until_quiescent_for};
use std::sync::mpsc;
use std::time::Duration;

/// A reader stays pinned while this thread retires 200 000 objects, then unpins. The thread
/// then retires 2 048 more, re-pinning every 256 (too rarely for crossbeam-epoch's own
/// collection every 128th pin). With one flush per collection step, the eight steps those
/// retirements pace could free at most 4 096 objects (about 1 500 were freed with the drain
/// turned off); a step that finds a backlog flushes again, and the next one comes sooner while
/// the backlog lasts, so they must free at least four times that bound (they free it all).
#[test]
fn a_backlog_drains_faster_than_the_threads_retire() {
    const {
        assert!(
            accounting::ENABLED,
            "tests build freeway-epoch with `accounting`"
        )
    };
    const BACKLOG: u64 = 200_000;
    const AFTER: u64 = 2048;
    const PER_PIN: u64 = 256;
    let (pinned_tx, pinned_rx) = mpsc::channel();
    let (unpin_tx, unpin_rx) = mpsc::channel::<()>();
    let reader = thread::spawn(move || {
        let guard = pin();
        pinned_tx.send(()).unwrap();
        unpin_rx.recv().unwrap();
        drop(guard);
    });
    pinned_rx.recv().unwrap();
    let retire = |n: u64| {
        for c in 0..n / PER_PIN {
            let guard = pin();
            for i in 0..PER_PIN {
                defer_drop(&guard, Box::new((c, i)));
            }
        }
    };
    retire(BACKLOG);
    let stalled = accounting::counts().outstanding();
    assert!(
        stalled > BACKLOG * 9 / 10,
        "only {stalled} objects outstanding while a reader was pinned: nothing to drain"
    );
    unpin_tx.send(()).unwrap();
    reader.join().unwrap();
    retire(AFTER);
    let left = accounting::counts().outstanding();
    let freed = (stalled + AFTER).saturating_sub(left);
    let one_flush_per_step = AFTER / 256 * 8 * 64;
    assert!(
        freed >= 4 * one_flush_per_step,
        "{AFTER} retirements after the unpin freed {freed} of {stalled} objects; one flush per \
         collection step frees up to {one_flush_per_step}"
    );
    assert_eq!(reclaim_until_quiescent_for(Duration::from_secs(30)), 0);
}
