//! Differential fuzzing of `freeway_hashmap::AtomicMap<u64, u64>` against freeway-check's
//! word-map model, starting from a tiny table so that resizes and rehashes are exercised, with
//! keys that include the four kept in side cells; the final contents are checked through `iter`
//! and `len`. The calls are those of the map's own model tests, which replay this target's
//! committed corpus.
#![no_main]

#[path = "../../crates/hashmap/tests/support/word_map.rs"]
mod word_map;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = word_map::replay(&freeway_check::harness::word_map_ops(data)) {
        panic!("{e}");
    }
});
