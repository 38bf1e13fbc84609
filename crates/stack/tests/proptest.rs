//! Random operation sequences against freeway-check's LIFO model, and `push_batch`/`take_all`
//! against a `Vec`.
#![cfg(not(loom))]

use freeway_check::harness::run_sequential;
use freeway_check::models::{Lifo, StackOp, StackRet};
use freeway_check::strategies::stack_ops;
use freeway_stack::Stack;
use proptest::prelude::*;

fn exec<const SLOTS: usize>(s: &Stack<u16, SLOTS>, op: &StackOp<u16>) -> StackRet<u16> {
    match op {
        StackOp::Push(v) => {
            s.push(*v);
            StackRet::Push
        }
        StackOp::Pop => StackRet::Pop(s.pop()),
    }
}

/// Operations on a stack mirrored by a `Vec` (top = last).
#[derive(Clone, Debug)]
enum Op {
    Push(u16),
    Pop,
    Batch(Vec<u16>),
    TakeSome(usize),
    Peek,
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(
        prop_oneof![
            4 => any::<u16>().prop_map(Op::Push),
            3 => Just(Op::Pop),
            1 => prop::collection::vec(any::<u16>(), 0..40).prop_map(Op::Batch),
            1 => (0usize..8).prop_map(Op::TakeSome),
            1 => Just(Op::Peek),
        ],
        0..200,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn matches_lifo_model(ops in stack_ops(300)) {
        let s = Stack::new();
        run_sequential(Lifo::new(), &ops, |op| exec(&s, op)).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn matches_lifo_model_with_elimination(ops in stack_ops(300)) {
        let s = Stack::<u16, 2>::with_elimination();
        run_sequential(Lifo::new(), &ops, |op| exec(&s, op)).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn batches_take_all_and_peek_match_a_vec(ops in ops()) {
        let s = Stack::new();
        let mut model: Vec<u16> = Vec::new();
        for op in ops {
            match op {
                Op::Push(v) => { s.push(v); model.push(v); }
                Op::Pop => prop_assert_eq!(s.pop(), model.pop()),
                Op::Batch(vs) => { s.push_batch(vs.iter().copied()); model.extend(vs); }
                Op::TakeSome(n) => {
                    // Take everything, consume `n`, drop the rest.
                    let got: Vec<u16> = s.take_all().take(n).collect();
                    let want: Vec<u16> = model.iter().rev().take(n).copied().collect();
                    model.clear();
                    prop_assert_eq!(got, want);
                }
                Op::Peek => {
                    let g = freeway_epoch::pin();
                    prop_assert_eq!(s.peek(&g), model.last());
                }
            }
            prop_assert_eq!(s.is_empty(), model.is_empty());
        }
        let rest: Vec<u16> = s.into_iter().collect();
        model.reverse();
        prop_assert_eq!(rest, model);
    }
}
