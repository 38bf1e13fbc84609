//! Differential fuzzing of `freeway_hashmap::HashMap<u64, u64>` against freeway-check's map
//! model, starting from a tiny table so that resizes and tombstone rehashes are exercised; the
//! final contents are checked through `iter` and the owning `into_iter`. The calls are in
//! `crates/hashmap/tests/support/map.rs`, which the map's corpus replay test runs too.
#![no_main]

#[path = "../../crates/hashmap/tests/support/map.rs"]
mod map;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = map::replay(data) {
        panic!("{e}");
    }
});
