//! Replays the committed fuzz corpus of the `atomic_rc` target (`fuzz/corpus/atomic_rc/`)
//! through the same harness call as `fuzz/fuzz_targets/atomic_rc.rs`, on stable.
#![cfg(not(loom))]

mod common;

#[test]
fn corpus_replay_atomic_rc() {
    freeway_check::harness::replay_corpus(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus/atomic_rc"),
        1,
        common::run_all_flavours,
    );
}
