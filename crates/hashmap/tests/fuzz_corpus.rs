//! Replays the committed fuzz corpora of the `hashmap` and `atomic_map` targets through the same
//! calls as the targets (`tests/support/map.rs`, `tests/support/word_map.rs`), on stable.
#![cfg(not(loom))]

#[path = "support/map.rs"]
mod map;
#[path = "support/word_map.rs"]
mod word_map;

use freeway_check::harness::{replay_corpus, word_map_ops};

#[test]
fn corpus_replay_hashmap() {
    replay_corpus(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus/hashmap"),
        1,
        map::replay,
    );
}

#[test]
fn corpus_replay_atomic_map() {
    replay_corpus(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus/atomic_map"),
        1,
        |data| word_map::replay(&word_map_ops(data)),
    );
}
