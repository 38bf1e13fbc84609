//! Differential fuzzing of `freeway_queue::Queue` against freeway-check's FIFO model: the
//! decoded operations run one call each, then again with runs of pushes as `push_batch` and runs
//! of pops as `pop_batch`.
//! The harness is the crate's test helper, included by path, so
//! `crates/queue/tests/fuzz_corpus.rs` replays the committed corpus through the same calls.
#![no_main]

#[path = "../../crates/queue/tests/common/mod.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = common::run_queue(data) {
        panic!("{e}");
    }
});
