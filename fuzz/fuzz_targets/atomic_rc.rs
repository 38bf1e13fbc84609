//! Differential fuzzing of `freeway_atomic_rc` against freeway-check's cell model: the input
//! decodes to load/store/swap/compare-exchange operations (`freeway_check::harness::cell_ops`),
//! run step by step on a sized `AtomicArc<u16>` (reads by `load`, then by `snapshot`), an
//! unsized `AtomicArc<str>` (the boxed-node layout) and an `AtomicOptionArc<u16>` (0 is `None`).
//! The executors are the crate's test helpers, included by path, so
//! `crates/atomic-rc/tests/fuzz_corpus.rs` replays the committed corpus through the very same
//! calls on stable.
#![no_main]

#[path = "../../crates/atomic-rc/tests/common/mod.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = common::run_all_flavours(data) {
        panic!("{e}");
    }
});
