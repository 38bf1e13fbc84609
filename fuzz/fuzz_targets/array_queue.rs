//! Differential fuzzing of `freeway_queue::ArrayQueue` against freeway-check's bounded FIFO
//! model, the capacity (1 to 16) taken from the first byte.
//! The harness is the crate's test helper, included by path, so
//! `crates/queue/tests/fuzz_corpus.rs` replays the committed corpus through the same calls.
#![no_main]

#[path = "../../crates/queue/tests/common/mod.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = common::run_array_queue(data) {
        panic!("{e}");
    }
});
