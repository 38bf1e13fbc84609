//! Replays the committed fuzz corpus of the `atomic_rc` target (`fuzz/corpus/atomic_rc/`)
//! through the same harness call as `fuzz/fuzz_targets/atomic_rc.rs`, on stable.
#![cfg(not(loom))]

mod common;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus/atomic_rc");

#[test]
fn corpus_replay_atomic_rc() {
    let mut files = 0;
    for entry in std::fs::read_dir(CORPUS).expect("fuzz/corpus/atomic_rc exists") {
        let path = entry.unwrap().path();
        if !path.is_file() {
            continue;
        }
        let data = std::fs::read(&path).unwrap();
        if let Err(e) = common::run_all_flavours(&data) {
            panic!("{}: {e}", path.display());
        }
        files += 1;
    }
    assert!(files > 0, "empty corpus at {CORPUS}");
}
