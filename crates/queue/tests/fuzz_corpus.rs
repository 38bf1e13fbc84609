//! Replays the committed fuzz corpora (`fuzz/corpus/queue`, `fuzz/corpus/array_queue`) through
//! the fuzz targets' harnesses, on stable.
#![cfg(not(loom))]

mod common;

use std::path::Path;

fn replay(dir: &str, run: fn(&[u8]) -> Result<(), String>) {
    let dir = Path::new(dir);
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_file() {
            let data = std::fs::read(&path).unwrap();
            if let Err(e) = run(&data) {
                panic!("{}: {e}", path.display());
            }
            n += 1;
        }
    }
    assert!(n > 0, "no corpus files in {}", dir.display());
}

#[test]
fn corpus_replay_queue() {
    replay(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus/queue"),
        common::run_queue,
    );
}

#[test]
fn corpus_replay_array_queue() {
    replay(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus/array_queue"),
        common::run_array_queue,
    );
}
