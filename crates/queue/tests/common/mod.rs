//! The differential harnesses shared by the fuzz targets (`fuzz/fuzz_targets/queue.rs`,
//! `array_queue.rs`, which include this file by path) and `tests/fuzz_corpus.rs`, so the
//! committed corpora replay through the very same calls on stable.

// Each fuzz target uses one of the two harnesses.
#![allow(dead_code)]

use freeway_check::harness::{bounded_ops, queue_ops, run_sequential};
use freeway_check::models::{BoundedFifo, BoundedOp, BoundedRet, Fifo, QueueOp, QueueRet};
use freeway_check::spec::Spec;
use freeway_queue::{ArrayQueue, Queue};

/// Runs the decoded queue operations on a `Queue`, one call per operation, then again with each
/// run of consecutive pushes as one `push_batch` and each run of pops as one `pop_batch`,
/// comparing with the FIFO model step by step.
pub(crate) fn run_queue(data: &[u8]) -> Result<(), String> {
    let ops = queue_ops(data);
    let q = Queue::new();
    run_sequential(Fifo::new(), &ops, |op| match op {
        QueueOp::Push(v) => {
            q.push(*v);
            QueueRet::Push
        }
        QueueOp::Pop => QueueRet::Pop(q.pop()),
    })?;
    let mut model = Fifo::new();
    let q = Queue::new();
    let mut k = 0;
    while k < ops.len() {
        let pushes = matches!(ops[k], QueueOp::Push(_));
        let mut end = k;
        while end < ops.len() && matches!(ops[end], QueueOp::Push(_)) == pushes {
            end += 1;
        }
        let run = &ops[k..end];
        if pushes {
            let vals: Vec<u16> = run
                .iter()
                .map(|op| match op {
                    QueueOp::Push(v) => *v,
                    QueueOp::Pop => unreachable!(),
                })
                .collect();
            run.iter().for_each(|op| {
                model.apply(op);
            });
            q.push_batch(vals);
        } else {
            let mut out = Vec::new();
            let mut want = Vec::new();
            while out.len() < run.len() {
                let left = run.len() - out.len();
                if q.pop_batch(&mut out, left) == 0 {
                    break;
                }
            }
            for op in run {
                if let QueueRet::Pop(Some(v)) = model.apply(op) {
                    want.push(v);
                }
            }
            if out != want {
                return Err(format!(
                    "ops {k}..{end}: pop_batch gave {out:?}, the model {want:?}"
                ));
            }
        }
        k = end;
    }
    let len = q.len();
    let rest: Vec<u16> = q.into_iter().collect();
    if rest.len() != len {
        return Err(format!("len said {len}, {} values were left", rest.len()));
    }
    Ok(())
}

/// Runs the decoded bounded-queue operations on an `ArrayQueue` whose capacity comes from the
/// first byte (1 to 16), comparing with the bounded FIFO model step by step.
pub(crate) fn run_array_queue(data: &[u8]) -> Result<(), String> {
    let Some((&first, rest)) = data.split_first() else {
        return Ok(());
    };
    let cap = 1 + usize::from(first % 16);
    let q = ArrayQueue::new(cap);
    run_sequential(BoundedFifo::new(cap), &bounded_ops(rest), |op| {
        let r = match op {
            BoundedOp::Push(v) => BoundedRet::Push(q.push(*v)),
            BoundedOp::ForcePush(v) => BoundedRet::ForcePush(q.force_push(*v)),
            BoundedOp::Pop => BoundedRet::Pop(q.pop()),
        };
        assert!(q.len() <= cap, "len {} above capacity {cap}", q.len());
        r
    })
}
