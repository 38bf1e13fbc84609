//! The tables a map outgrows are freed while the map keeps growing, not when the growing thread
//! next retires a few hundred objects.
//!
//! One test in this binary: the accounting counters are process-wide.
#![cfg(not(loom))]

use freeway_epoch::{accounting, pin};
use freeway_hashmap::HashMap;

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
        let mut pins = 0;
        while accounting::counts().outstanding() > 0 && pins < 100_000 {
            drop(pin());
            pins += 1;
        }
        assert_eq!(
            accounting::counts().outstanding(),
            0,
            "old tables still unreclaimed after {pins} pins"
        );
        assert_eq!(map.len(), 200_000);
    })
    .join()
    .unwrap();
}
