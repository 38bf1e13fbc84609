//! Threads, linearizability checking and reclamation under load (this file is also what
//! `cargo xtask asan` runs under AddressSanitizer).
//!
//! The tests share a lock: the reclamation test asserts quiescence of process-wide counters,
//! which other tests retiring at the same time would disturb.
#![cfg(not(loom))]

use freeway_check::drops::DropTracker;
use freeway_check::models::{
    BatchFifo, BatchOp, BatchRet, BoundedFifo, BoundedOp, BoundedRet, Fifo, QueueOp, QueueRet,
};
use freeway_check::spec::Spec;
use freeway_check::stress::{StressConfig, stress};
use freeway_epoch::sync::{Mutex, MutexGuard, thread};
use freeway_epoch::{accounting, reclaim_until_quiescent_for};
use freeway_queue::{ArrayQueue, Queue};
use std::time::Duration;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn cfg(threads: usize) -> StressConfig {
    StressConfig {
        threads,
        ops_per_thread: 200,
        rounds: 40,
        time_limit: Duration::from_millis(600),
        ..StressConfig::default()
    }
}

#[test]
fn queue_is_linearizable() {
    let _s = serial();
    for threads in [2, 3] {
        let report = stress(
            &cfg(threads),
            Fifo::<u64>::new(),
            Queue::new,
            |rng, _| {
                if rng.chance(0.5) {
                    QueueOp::Push(rng.next_u64())
                } else {
                    QueueOp::Pop
                }
            },
            |q, op| match op {
                QueueOp::Push(v) => {
                    q.push(*v);
                    QueueRet::Push
                }
                QueueOp::Pop => QueueRet::Pop(q.pop()),
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(report.operations > 0);
    }
}

#[test]
fn queue_is_linearizable_across_a_segment_boundary() {
    // Start each round with 250 values queued (segments hold 256), so pushes hand over to a new
    // segment and pops drain and retire the first one while the history is recorded.
    let _s = serial();
    use freeway_check::spec::Spec;
    const BACKLOG: u64 = 250;
    let mut init = Fifo::<u64>::new();
    for v in 0..BACKLOG {
        init.apply(&QueueOp::Push(v));
    }
    let cfg = StressConfig {
        ops_per_thread: 100,
        ..cfg(3)
    };
    stress(
        &cfg,
        init,
        || (0..BACKLOG).collect::<Queue<u64>>(),
        |rng, _| {
            if rng.chance(0.5) {
                QueueOp::Push(BACKLOG + rng.next_u64() % (u64::MAX - BACKLOG))
            } else {
                QueueOp::Pop
            }
        },
        |q, op| match op {
            QueueOp::Push(v) => {
                q.push(*v);
                QueueRet::Push
            }
            QueueOp::Pop => QueueRet::Pop(q.pop()),
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn array_queue_is_linearizable() {
    let _s = serial();
    for cap in [1, 3] {
        stress(
            &cfg(3),
            BoundedFifo::<u64>::new(cap),
            || ArrayQueue::new(cap),
            |rng, _| match rng.below(5) {
                0 | 1 => BoundedOp::Push(rng.next_u64()),
                2 => BoundedOp::ForcePush(rng.next_u64()),
                _ => BoundedOp::Pop,
            },
            |q, op| match op {
                BoundedOp::Push(v) => BoundedRet::Push(q.push(*v)),
                BoundedOp::ForcePush(v) => BoundedRet::ForcePush(q.force_push(*v)),
                BoundedOp::Pop => BoundedRet::Pop(q.pop()),
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
    }
}

/// Batches mixed with single calls, checked against the batch model: each `push_batch` is a
/// sequence of pushes in order (other operations may fall between its values), each `pop_batch`
/// one step taking the front. Small rounds across a segment boundary (values pre-queued so that
/// the operations straddle it).
#[test]
fn batches_are_linearizable() {
    let _s = serial();
    for threads in [2, 3] {
        let report = stress(
            &StressConfig {
                threads,
                ops_per_thread: 60,
                rounds: 30,
                time_limit: Duration::from_millis(600),
                ..StressConfig::default()
            },
            {
                let mut m = BatchFifo::<u64>::new();
                for v in 0..250 {
                    m.apply(&BatchOp::Push(v));
                }
                m
            },
            || {
                let q = Queue::new();
                q.push_batch(0..250u64);
                q
            },
            |rng, _| match rng.below(4) {
                0 => BatchOp::Push(rng.next_u64()),
                1 => BatchOp::Pop,
                2 => BatchOp::PushBatch {
                    id: rng.next_u64(),
                    values: (0..1 + rng.below(6)).map(|_| rng.next_u64()).collect(),
                },
                _ => BatchOp::PopBatch(1 + rng.below(8) as usize),
            },
            |q, op| match op {
                BatchOp::Push(v) => {
                    q.push(*v);
                    BatchRet::Push
                }
                BatchOp::Pop => BatchRet::Pop(q.pop()),
                BatchOp::PushBatch { values, .. } => {
                    q.push_batch(values.iter().copied());
                    BatchRet::Push
                }
                BatchOp::PopBatch(max) => {
                    let mut out = Vec::new();
                    q.pop_batch(&mut out, *max);
                    BatchRet::PopBatch(out)
                }
                BatchOp::PushItem { .. } | BatchOp::PopTook(_) => unreachable!("not generated"),
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(report.operations > 0);
    }
}

/// Producers push tagged batches, consumers pop batches: every value arrives exactly once and
/// each producer's values arrive in the order it pushed them.
#[test]
fn batches_keep_per_producer_order_and_lose_nothing() {
    let _s = serial();
    const PRODUCERS: u64 = 2;
    const PER: u64 = 20_000;
    let q = Queue::new();
    let seen: Vec<Vec<u64>> = thread::scope(|s| {
        for p in 0..PRODUCERS {
            let q = &q;
            s.spawn(move || {
                let mut i = 0;
                while i < PER {
                    let n = (i % 37 + 1).min(PER - i);
                    q.push_batch((i..i + n).map(|x| (p << 32) | x));
                    i += n;
                    if i % 5 == 0 && i < PER {
                        q.push((p << 32) | i);
                        i += 1;
                    }
                }
            });
        }
        let consumers: Vec<_> = (0..2)
            .map(|c| {
                let q = &q;
                s.spawn(move || {
                    let mut got = Vec::new();
                    let mut out = Vec::new();
                    let mut idle = 0;
                    while idle < 200_000 {
                        out.clear();
                        let n = if c == 0 {
                            q.pop_batch(&mut out, 32)
                        } else {
                            q.pop().map(|v| out.push(v)).map_or(0, |_| 1)
                        };
                        if n == 0 {
                            idle += 1;
                            std::hint::spin_loop();
                        } else {
                            idle = 0;
                            got.extend_from_slice(&out);
                        }
                        if got.len() as u64 >= PRODUCERS * PER {
                            break;
                        }
                    }
                    got
                })
            })
            .collect();
        consumers.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut rest = Vec::new();
    let mut q = q;
    rest.extend(std::mem::take(&mut q));
    assert_each_value_once_in_producer_order(&seen, &rest, PRODUCERS, PER);
}

/// Many threads push and pop drop-tracked values through many segments; afterwards every value
/// is dropped exactly once and every retired segment is reclaimed.
#[test]
fn elements_dropped_once_and_segments_reclaimed() {
    let _s = serial();
    const { assert!(accounting::ENABLED) };
    let tracker = DropTracker::new();
    let before = accounting::counts();
    {
        let q = Queue::new();
        let bounded = ArrayQueue::new(16);
        thread::scope(|s| {
            for t in 0..4usize {
                let (q, bounded, tracker) = (&q, &bounded, &tracker);
                s.spawn(move || {
                    for i in 0..15_000usize {
                        q.push(tracker.track(i));
                        if (i + t) % 3 != 0 {
                            drop(q.pop());
                        }
                        if let Err(v) = bounded.push(tracker.track(i)) {
                            drop(v);
                            drop(bounded.force_push(tracker.track(i)));
                        }
                        if i % 2 == 0 {
                            drop(bounded.pop());
                        }
                    }
                });
            }
        });
        assert!(tracker.alive() > 0, "the queues still hold values");
    }
    tracker.assert_all_dropped_once();
    let left = reclaim_until_quiescent_for(std::time::Duration::from_secs(30));
    let after = accounting::counts();
    assert!(
        after.retired - before.retired > 100,
        "drained segments go through the retirement path"
    );
    assert_eq!(left, 0, "segments retired but never reclaimed: {after:?}");
}

/// Segment recycling under load: two producers and two consumers move 2 x 150 000 boxed values
/// through a short queue, so well over a thousand segments are retired, parked in the spare
/// pool and reused while other threads still work in their neighbours (ASan sees a reused
/// segment read or freed too early). Every value arrives once, each producer's in order.
#[test]
fn recycled_segments_lose_and_duplicate_nothing() {
    let _s = serial();
    const PRODUCERS: u64 = 2;
    const PER: u64 = 150_000;
    let q: Queue<Box<u64>> = Queue::new();
    let seen: Vec<Vec<u64>> = thread::scope(|s| {
        for p in 0..PRODUCERS {
            let q = &q;
            s.spawn(move || (0..PER).for_each(|x| q.push(Box::new((p << 32) | x))));
        }
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let q = &q;
                s.spawn(move || {
                    let mut got = Vec::new();
                    let mut idle = 0;
                    while idle < 200_000 {
                        match q.pop() {
                            Some(v) => {
                                idle = 0;
                                got.push(*v);
                            }
                            None => {
                                idle += 1;
                                std::hint::spin_loop();
                            }
                        }
                        if got.len() as u64 >= PER {
                            break;
                        }
                    }
                    got
                })
            })
            .collect();
        consumers.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let rest: Vec<u64> = q.into_iter().map(|b| *b).collect();
    assert_each_value_once_in_producer_order(&seen, &rest, PRODUCERS, PER);
}

/// Every value `(producer << 32) | x` for `x in 0..per` arrived exactly once, across the
/// consumers' logs and what was left in the queue, and each log saw each producer's values in
/// the order they were pushed.
fn assert_each_value_once_in_producer_order(
    seen: &[Vec<u64>],
    rest: &[u64],
    producers: u64,
    per: u64,
) {
    let mut all: Vec<u64> = Vec::new();
    for got in seen.iter().map(Vec::as_slice).chain(std::iter::once(rest)) {
        let mut last = vec![None::<u64>; producers as usize];
        for &v in got {
            let (p, x) = ((v >> 32) as usize, v & 0xffff_ffff);
            if let Some(prev) = last[p] {
                assert!(x > prev, "producer {p}: {x} arrived after {prev}");
            }
            last[p] = Some(x);
        }
        all.extend_from_slice(got);
    }
    all.sort_unstable();
    let want: Vec<u64> = (0..producers)
        .flat_map(|p| (0..per).map(move |x| (p << 32) | x))
        .collect();
    assert_eq!(all.len(), want.len(), "values lost or duplicated");
    assert_eq!(all, want);
}
