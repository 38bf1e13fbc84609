//! `AtomicMap` against freeway-check's word-map model: random operation sequences (proptest).
//! The threaded, linearizability-checked tests are in stress.rs.
#![cfg(not(loom))]

#[path = "support/word_map.rs"]
mod word_map;

use proptest::prelude::*;
use word_map::replay;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn matches_the_model(ops in freeway_check::strategies::word_map_ops(400)) {
        let r = replay(&ops);
        prop_assert!(r.is_ok(), "{}", r.unwrap_err());
    }
}
