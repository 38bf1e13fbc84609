//! The tables a map (`HashMap`, then `AtomicMap`) outgrows are freed while the map keeps growing,
//! not when the growing thread next retires a few hundred objects.
//!
//! One test in this binary: the accounting counters are process-wide.
#![cfg(not(loom))]

use freeway_epoch::{accounting, pin};
use freeway_hashmap::{AtomicMap, HashMap};

/// A thread grows a map from empty to 200 000 keys, through about fifteen doublings that retire
/// every table but the last, and retires nothing else (fresh keys replace no entry). Then it
/// only pins: crossbeam-epoch collects from the global queue every 128th pin. Before the
/// resize handed its garbage bag to that queue, the old tables (about as many bytes as the
/// current one) stayed in the thread's own bag: nothing freed them, and this failed.
#[test]
fn outgrown_tables_are_freed_while_the_map_only_grows() {
    const {
        assert!(
            accounting::ENABLED,
            "tests build freeway-epoch with `accounting`"
        )
    };
    std::thread::spawn(|| {
        let map = HashMap::new();
        for k in 0..200_000u64 {
            map.pin().insert(k, k);
        }
        assert!(map.capacity() >= 200_000);
        pin_until_reclaimed("old tables");
        assert_eq!(map.len(), 200_000);

        // The same for the word map, whose tables are all it ever retires.
        let words = AtomicMap::new();
        let before = accounting::counts().retired;
        for k in 0..200_000u64 {
            words.insert(k, k);
        }
        assert!(
            accounting::counts().retired >= before + 10,
            "about fifteen doublings retire tables"
        );
        pin_until_reclaimed("old word-map tables");
        assert_eq!(words.len(), 200_000);
    })
    .join()
    .unwrap();
}

/// Only pins (crossbeam-epoch collects from the global queue every 128th pin) until nothing
/// retired is outstanding; fails after 100 000 pins.
fn pin_until_reclaimed(what: &str) {
    let mut pins = 0;
    while accounting::counts().outstanding() > 0 && pins < 100_000 {
        drop(pin());
        pins += 1;
    }
    assert_eq!(
        accounting::counts().outstanding(),
        0,
        "{what} still unreclaimed after {pins} pins"
    );
}
