//! The `Stack` calls of the `stack` fuzz target, shared with the corpus replay test (the target
//! includes this file), so that a failing fuzz input replays through the same calls.

use freeway_check::harness::{run_sequential, stack_ops};
use freeway_check::models::{Lifo, StackOp, StackRet};
use freeway_stack::Stack;

/// Runs `ops` step by step on a stack with `SLOTS` elimination slots against the LIFO model.
fn run<const SLOTS: usize>(ops: &[StackOp<u16>]) -> Result<(), String> {
    let s = Stack::<u16, SLOTS>::with_elimination();
    run_sequential(Lifo::new(), ops, |op| match op {
        StackOp::Push(v) => {
            s.push(*v);
            StackRet::Push
        }
        StackOp::Pop => StackRet::Pop(s.pop()),
    })
    .map_err(|e| format!("Stack<u16, {SLOTS}> diverged from the LIFO model: {e}"))
}

/// Decodes `data` into push/pop operations and runs them on the plain stack and on one with
/// elimination slots.
pub(crate) fn replay(data: &[u8]) -> Result<(), String> {
    let ops = stack_ops(data);
    run::<0>(&ops)?;
    run::<2>(&ops)
}
