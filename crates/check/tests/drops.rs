//! The drop tracker itself.
#![cfg(not(loom))]

use freeway_check::drops::DropTracker;

#[test]
fn counts_and_reports_leaks() {
    let t = DropTracker::new();
    let a = t.track(1);
    let b = t.track(2);
    std::mem::forget(b);
    drop(a);
    let (never, twice) = t.anomalies();
    assert_eq!(never, vec![1]);
    assert!(twice.is_empty());
    let r = std::panic::catch_unwind(|| t.assert_all_dropped_once());
    assert!(r.is_err());
}
