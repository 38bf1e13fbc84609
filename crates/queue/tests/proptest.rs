//! Random operation sequences against freeway-check's sequential FIFO models.
#![cfg(not(loom))]

use freeway_check::harness::run_sequential;
use freeway_check::models::{BoundedFifo, BoundedOp, BoundedRet, Fifo, QueueOp, QueueRet};
use freeway_check::strategies::{bounded_ops, queue_ops};
use freeway_queue::{ArrayQueue, Queue};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn queue_matches_fifo(ops in queue_ops(1500)) {
        let q = Queue::new();
        let r = run_sequential(Fifo::new(), &ops, |op| match op {
            QueueOp::Push(v) => {
                q.push(*v);
                QueueRet::Push
            }
            QueueOp::Pop => QueueRet::Pop(q.pop()),
        });
        prop_assert!(r.is_ok(), "{}", r.unwrap_err());
        let model_len = ops.iter().fold(0usize, |n, op| match op {
            QueueOp::Push(_) => n + 1,
            QueueOp::Pop => n.saturating_sub(1),
        });
        prop_assert_eq!(q.len(), model_len);
        prop_assert_eq!(q.is_empty(), model_len == 0);
    }

    /// Batches are sequences of single operations: compare them with the model op by op.
    #[test]
    fn queue_batches_match_fifo(ops in queue_ops(600), sizes in proptest::collection::vec(1usize..70, 1..40)) {
        let q = Queue::new();
        let mut model = std::collections::VecDeque::new();
        let mut k = 0;
        let mut sizes = sizes.into_iter().cycle();
        while k < ops.len() {
            let n = sizes.next().unwrap().min(ops.len() - k);
            let chunk = &ops[k..k + n];
            k += n;
            if matches!(chunk[0], QueueOp::Push(_)) {
                let vals: Vec<u16> = chunk.iter().filter_map(|op| match op {
                    QueueOp::Push(v) => Some(*v),
                    QueueOp::Pop => None,
                }).collect();
                model.extend(vals.iter().copied());
                q.push_batch(vals);
            } else {
                let mut out = Vec::new();
                let got = q.pop_batch(&mut out, n);
                prop_assert_eq!(got, out.len());
                prop_assert!(got <= n);
                prop_assert_eq!(got == 0, model.is_empty());
                let want: Vec<u16> = model.drain(..got).collect();
                prop_assert_eq!(out, want);
            }
        }
        prop_assert_eq!(q.len(), model.len());
        prop_assert_eq!(q.into_iter().collect::<Vec<_>>(), Vec::from(model));
    }

    #[test]
    fn array_queue_matches_bounded_fifo(cap in 1usize..10, ops in bounded_ops(400)) {
        let q = ArrayQueue::new(cap);
        let r = run_sequential(BoundedFifo::new(cap), &ops, |op| {
            let ret = match op {
                BoundedOp::Push(v) => BoundedRet::Push(q.push(*v)),
                BoundedOp::ForcePush(v) => BoundedRet::ForcePush(q.force_push(*v)),
                BoundedOp::Pop => BoundedRet::Pop(q.pop()),
            };
            assert!(q.len() <= cap);
            assert_eq!(q.is_full(), q.len() == cap);
            let n = q.len();
            assert_eq!(q.is_empty(), n == 0);
            ret
        });
        prop_assert!(r.is_ok(), "{}", r.unwrap_err());
    }
}
