//! Replays the committed corpus of the `seqlock` fuzz target (`fuzz/corpus/seqlock`) through the
//! same decoder and differential harness on stable, on both types.
#![cfg(not(loom))]

mod common;

use common::{Wide, exec};
use freeway_check::harness::{cell_ops, replay_corpus, run_sequential};
use freeway_check::models::CellModel;
use freeway_seqlock::{SeqLatch, SeqLock};

#[test]
fn corpus_replay_seqlock() {
    replay_corpus(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus/seqlock"),
        5,
        |data| {
            let ops = cell_ops(data);
            let lock = SeqLock::make(0);
            run_sequential(CellModel::new(0u16), &ops, |op| exec(&lock, op))
                .map_err(|e| format!("SeqLock: {e}"))?;
            let latch = SeqLatch::make(0);
            run_sequential(CellModel::new(0u16), &ops, |op| exec(&latch, op))
                .map_err(|e| format!("SeqLatch: {e}"))
        },
    );
}
