//! A value whose `Drop` panics, released by the cell after the grace period (replaced, then run
//! by whichever operation collects): the panic stops in the deferred function, the values
//! released after it are still dropped, each once, and nothing retired stays unreclaimed.
//!
//! Its own test binary: it asserts that everything retired in the process was reclaimed.
#![cfg(not(loom))]

use freeway_atomic_rc::AtomicArc;
use freeway_check::drops::DropTracker;
use std::sync::Arc;

#[test]
fn a_panicking_released_value_loses_nothing_else() {
    let tracker = DropTracker::new();
    let cell = AtomicArc::new(Arc::new(tracker.track_panicking(0u32)));
    // The panicking value's release is deferred; the next 1 000 releases follow it.
    for i in 1..=1000u32 {
        cell.store(Arc::new(tracker.track(i)));
    }
    assert_eq!(**cell.swap(Arc::new(tracker.track(1001))), 1000);
    drop(cell);
    assert_eq!(
        freeway_epoch::reclaim_until_quiescent(100_000),
        0,
        "retired objects were never reclaimed"
    );
    tracker.assert_all_dropped_once();
}
