//! Differential fuzzing of `freeway_stack::Stack` against freeway-check's LIFO model: the input
//! decodes to push/pop operations (`freeway_check::harness::stack_ops`), run step by step on the
//! plain stack and on one with elimination slots. `crates/stack/tests/fuzz_corpus.rs` replays the
//! committed corpus through the same calls on stable.
#![no_main]

use freeway_check::harness::{run_sequential, stack_ops};
use freeway_check::models::{Lifo, StackOp, StackRet};
use freeway_stack::Stack;
use libfuzzer_sys::fuzz_target;

fn run<const SLOTS: usize>(ops: &[StackOp<u16>]) {
    let s = Stack::<u16, SLOTS>::with_elimination();
    let r = run_sequential(Lifo::new(), ops, |op| match op {
        StackOp::Push(v) => {
            s.push(*v);
            StackRet::Push
        }
        StackOp::Pop => StackRet::Pop(s.pop()),
    });
    if let Err(e) = r {
        panic!("Stack<u16, {SLOTS}> diverged from the LIFO model: {e}");
    }
}

fuzz_target!(|data: &[u8]| {
    let ops = stack_ops(data);
    run::<0>(&ops);
    run::<2>(&ops);
});
