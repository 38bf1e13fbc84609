//! `AtomicMap` against freeway-check's word-map model: random sequences (proptest) and threads whose histories are checked per
//! key for linearizability (P-compositionality) while the map resizes. The stress tests are
//! also the AddressSanitizer net for the tables' reclamation.
#![cfg(not(loom))]

#[path = "support/word_map.rs"]
mod word_map;

use freeway_check::models::{MapOp, WordMapModel, WordMapOp};
use freeway_check::stress::{Rng, StressConfig, stress_partitioned};
use freeway_hashmap::AtomicMap;
use proptest::prelude::*;
use std::time::Duration;
use word_map::{exec, replay};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn matches_the_model(ops in freeway_check::strategies::word_map_ops(400)) {
        let r = replay(&ops);
        prop_assert!(r.is_ok(), "{}", r.unwrap_err());
    }
}

fn gen_op(rng: &mut Rng, keys: u64) -> WordMapOp {
    let k = rng.below(keys);
    // Some keys are the side-cell keys (see `WORD_MAP_KEYS`), so that their cells race too.
    let k = if k % 16 == 15 {
        freeway_check::harness::WORD_MAP_KEYS[(k / 16 % 4 + 11) as usize]
    } else {
        k
    };
    let v = rng.below(1000);
    match rng.below(14) {
        0..=2 => WordMapOp::Map(MapOp::Get(k)),
        3..=5 => WordMapOp::Map(MapOp::Insert(k, v)),
        6 | 7 => WordMapOp::Map(MapOp::Remove(k)),
        8 => WordMapOp::Map(MapOp::Update(k, v)),
        9 => WordMapOp::Map(MapOp::GetOrInsert(k, v)),
        10 => WordMapOp::CompareExchange(k, v % 4, v),
        11 | 12 => WordMapOp::FetchAdd(k, 1),
        _ => WordMapOp::RemoveIf(k, v % 4),
    }
}

fn stress(threads: usize, keys: u64, ms: u64) {
    let cfg = StressConfig {
        threads,
        ops_per_thread: 300,
        rounds: 200,
        time_limit: Duration::from_millis(ms),
        ..Default::default()
    };
    let report = stress_partitioned(
        &cfg,
        WordMapModel::new(),
        || AtomicMap::with_capacity(0),
        |rng, _| gen_op(rng, keys),
        exec,
        |op| op.key(),
    );
    if let Err(e) = report {
        panic!("{e}");
    }
}

/// Many keys from a tiny table: resizes (and rehashes of removed keys' slots) during the run.
#[test]
fn linearizable_per_key_with_resizes() {
    stress(3, 256, 1500);
}

/// A few hot keys: exchanges failing and retrying on one slot.
#[test]
fn linearizable_on_few_hot_keys() {
    stress(4, 4, 800);
}
