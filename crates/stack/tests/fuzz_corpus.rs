//! Replays the committed fuzz corpus of the `stack` target (`fuzz/corpus/stack/`) through the
//! same harness call as `fuzz/fuzz_targets/stack.rs`, on stable.
#![cfg(not(loom))]

use freeway_check::harness::{replay_corpus, run_sequential, stack_ops};
use freeway_check::models::{Lifo, StackOp, StackRet};
use freeway_stack::Stack;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus/stack");

fn run<const SLOTS: usize>(ops: &[StackOp<u16>]) -> Result<(), String> {
    let s = Stack::<u16, SLOTS>::with_elimination();
    run_sequential(Lifo::new(), ops, |op| match op {
        StackOp::Push(v) => {
            s.push(*v);
            StackRet::Push
        }
        StackOp::Pop => StackRet::Pop(s.pop()),
    })
}

#[test]
fn corpus_replay_stack() {
    replay_corpus(CORPUS, 1, |data| {
        let ops = stack_ops(data);
        run::<0>(&ops)?;
        run::<2>(&ops)
    });
}
