//! Replays the committed corpus of the `seqlock` fuzz target (`fuzz/corpus/seqlock`) through the
//! same decoder and differential harness on stable, on both types.
#![cfg(not(loom))]

mod common;

use common::{Wide, exec};
use freeway_check::harness::{cell_ops, run_sequential};
use freeway_check::models::CellModel;
use freeway_seqlock::{SeqLatch, SeqLock};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus/seqlock");

#[test]
fn corpus_replay_seqlock() {
    let mut inputs = 0;
    for entry in std::fs::read_dir(CORPUS).expect("fuzz/corpus/seqlock is committed") {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let ops = cell_ops(&data);
        let lock = SeqLock::make(0);
        run_sequential(CellModel::new(0u16), &ops, |op| exec(&lock, op))
            .unwrap_or_else(|e| panic!("SeqLock on {}: {e}", path.display()));
        let latch = SeqLatch::make(0);
        run_sequential(CellModel::new(0u16), &ops, |op| exec(&latch, op))
            .unwrap_or_else(|e| panic!("SeqLatch on {}: {e}", path.display()));
        inputs += 1;
    }
    assert!(inputs >= 5, "only {inputs} corpus inputs");
}
