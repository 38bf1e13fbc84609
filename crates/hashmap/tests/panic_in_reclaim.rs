//! A value whose `Drop` panics, retired by the map (replaced, then dropped after the grace
//! period by whichever operation collects): the panic stops in the deferred function, the values
//! retired after it are still dropped, each once, and nothing retired stays unreclaimed.
//!
//! Its own test binary: it asserts that everything retired in the process was reclaimed.
#![cfg(not(loom))]

use freeway_check::drops::DropTracker;
use freeway_hashmap::HashMap;

#[test]
fn a_panicking_retired_value_loses_nothing_else() {
    let tracker = DropTracker::new();
    let map = HashMap::new();
    {
        let g = freeway_epoch::pin();
        map.insert(0u32, tracker.track_panicking(0u32), &g);
        // Replacing retires the panicking value; the ten after it go into the same bag.
        map.insert(0, tracker.track(0), &g);
        for i in 1..=10u32 {
            map.insert(i, tracker.track(i), &g);
            map.remove(&i, &g);
        }
    }
    // Keep the map busy: its operations' collection steps run the deferred drops.
    for round in 0..100_000u32 {
        let g = freeway_epoch::pin();
        map.insert(1000 + round % 64, tracker.track(round), &g);
        if tracker.alive() <= 65 {
            break;
        }
    }
    drop(map);
    assert_eq!(
        freeway_epoch::reclaim_until_quiescent(100_000),
        0,
        "retired objects were never reclaimed"
    );
    tracker.assert_all_dropped_once();
}
