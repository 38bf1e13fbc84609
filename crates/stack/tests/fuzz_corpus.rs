//! Replays the committed fuzz corpus of the `stack` target (`fuzz/corpus/stack/`) through the
//! same harness call as `fuzz/fuzz_targets/stack.rs`, on stable.
#![cfg(not(loom))]

use freeway_check::harness::{run_sequential, stack_ops};
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
    let mut files = 0;
    for entry in std::fs::read_dir(CORPUS).expect("fuzz/corpus/stack exists") {
        let path = entry.unwrap().path();
        if !path.is_file() {
            continue;
        }
        let data = std::fs::read(&path).unwrap();
        let ops = stack_ops(&data);
        for r in [run::<0>(&ops), run::<2>(&ops)] {
            if let Err(e) = r {
                panic!("{}: {e}", path.display());
            }
        }
        files += 1;
    }
    assert!(files > 0, "empty corpus at {CORPUS}");
}
