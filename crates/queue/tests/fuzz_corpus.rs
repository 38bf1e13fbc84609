//! Replays the committed fuzz corpora (`fuzz/corpus/queue`, `fuzz/corpus/array_queue`) through
//! the fuzz targets' harnesses, on stable.
#![cfg(not(loom))]

mod common;

use freeway_check::harness::replay_corpus;

#[test]
fn corpus_replay_queue() {
    replay_corpus(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus/queue"),
        1,
        common::run_queue,
    );
}

#[test]
fn corpus_replay_array_queue() {
    replay_corpus(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus/array_queue"),
        1,
        common::run_array_queue,
    );
}
