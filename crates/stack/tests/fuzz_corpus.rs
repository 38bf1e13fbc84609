//! Replays the committed fuzz corpus of the `stack` target (`fuzz/corpus/stack/`) through the
//! same calls as `fuzz/fuzz_targets/stack.rs` (`tests/support/stack.rs`), on stable.
#![cfg(not(loom))]

#[path = "support/stack.rs"]
mod stack;

#[test]
fn corpus_replay_stack() {
    freeway_check::harness::replay_corpus(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus/stack"),
        1,
        stack::replay,
    );
}
