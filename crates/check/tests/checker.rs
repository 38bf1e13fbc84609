//! The checker must reject each kind of violation and accept linearizable histories.
#![cfg(not(loom))]

use freeway_check::lin::{Event, History, check, check_partitioned, check_with_budget};
use freeway_check::models::*;
use freeway_check::stress::{StressConfig, stress};
use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn e<O, R>(thread: usize, op: O, ret: R, call: u64, returned: u64) -> Event<O, R> {
    Event {
        thread,
        op,
        ret,
        call,
        returned,
    }
}

#[test]
fn rejects_lost_update() {
    // Two increments (CAS 0->1 both succeed) on a cell: one update is lost.
    let h = History::from_events(vec![
        e(
            0,
            CellOp::CompareExchange {
                current: 0u16,
                new: 1,
            },
            CellRet::CompareExchange(Ok(0)),
            0,
            10,
        ),
        e(
            1,
            CellOp::CompareExchange { current: 0, new: 1 },
            CellRet::CompareExchange(Ok(0)),
            1,
            11,
        ),
    ]);
    let err = check(&CellModel::new(0), &h).unwrap_err();
    assert_eq!(err.total, 2);
    assert_eq!(err.linearized, 1);
    assert_eq!(err.stuck.len(), 1, "{err}");
}

#[test]
fn rejects_fifo_violation() {
    // push 1 completes before push 2 starts, yet a later pop returns 2 first.
    let h = History::from_events(vec![
        e(0, QueueOp::Push(1u16), QueueRet::Push, 0, 1),
        e(0, QueueOp::Push(2), QueueRet::Push, 2, 3),
        e(1, QueueOp::Pop, QueueRet::Pop(Some(2)), 4, 5),
    ]);
    let err = check(&Fifo::new(), &h).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("Pop"), "{text}");
}

#[test]
fn rejects_value_popped_twice() {
    let h = History::from_events(vec![
        e(0, QueueOp::Push(7u16), QueueRet::Push, 0, 1),
        e(1, QueueOp::Pop, QueueRet::Pop(Some(7)), 2, 6),
        e(2, QueueOp::Pop, QueueRet::Pop(Some(7)), 3, 7),
    ]);
    assert!(check(&Fifo::new(), &h).is_err());
    // The same with a stack.
    let h = History::from_events(vec![
        e(0, StackOp::Push(7u16), StackRet::Push, 0, 1),
        e(1, StackOp::Pop, StackRet::Pop(Some(7)), 2, 6),
        e(2, StackOp::Pop, StackRet::Pop(Some(7)), 3, 7),
    ]);
    assert!(check(&Lifo::new(), &h).is_err());
}

#[test]
fn rejects_stale_read_after_completed_write() {
    let h = History::from_events(vec![
        e(0, CellOp::Store(5u16), CellRet::Store, 0, 2),
        e(1, CellOp::Load, CellRet::Load(0), 3, 4),
    ]);
    assert!(check(&CellModel::new(0), &h).is_err());
    // Overlapping, the old value is fine.
    let h = History::from_events(vec![
        e(0, CellOp::Store(5u16), CellRet::Store, 0, 4),
        e(1, CellOp::Load, CellRet::Load(0), 3, 5),
    ]);
    check(&CellModel::new(0), &h).unwrap();
}

#[test]
fn rejects_pop_empty_when_a_value_was_certainly_there() {
    let h = History::from_events(vec![
        e(0, QueueOp::Push(1u16), QueueRet::Push, 0, 1),
        e(1, QueueOp::Pop, QueueRet::Pop(None), 2, 3),
    ]);
    assert!(check(&Fifo::new(), &h).is_err());
}

/// A batch's values may interleave with other pushes, but not change their own order; a
/// `pop_batch` takes the front at one instant.
#[test]
fn batch_model_accepts_interleaving_and_rejects_reordering() {
    type Op = BatchOp<u8>;
    type Ret = BatchRet<u8>;
    let batch = || Op::PushBatch {
        id: 1,
        values: vec![1, 2],
    };
    // A single push (3) overlapping the batch lands between its values: fine.
    let ok = History::from_events(vec![
        e(0, batch(), Ret::Push, 0, 10),
        e(1, Op::Push(3), Ret::Push, 1, 9),
        e(1, Op::PopBatch(8), Ret::PopBatch(vec![1, 3, 2]), 11, 12),
    ]);
    check(&BatchFifo::new(), &ok).unwrap();
    // The batch's own values out of order: refused.
    let reordered = History::from_events(vec![
        e(0, batch(), Ret::Push, 0, 10),
        e(1, Op::PopBatch(8), Ret::PopBatch(vec![2, 1]), 11, 12),
    ]);
    assert!(check(&BatchFifo::new(), &reordered).is_err());
    // A pop_batch that skipped a value certainly there: refused.
    let skipped = History::from_events(vec![
        e(0, Op::Push(5), Ret::Push, 0, 1),
        e(0, Op::Push(6), Ret::Push, 2, 3),
        e(1, Op::PopBatch(8), Ret::PopBatch(vec![6]), 4, 5),
    ]);
    assert!(check(&BatchFifo::new(), &skipped).is_err());
    // An empty pop_batch while a value was certainly there: refused.
    let empty = History::from_events(vec![
        e(0, Op::Push(5), Ret::Push, 0, 1),
        e(1, Op::PopBatch(8), Ret::PopBatch(vec![]), 4, 5),
    ]);
    assert!(check(&BatchFifo::new(), &empty).is_err());
}

#[test]
fn accepts_concurrent_reorderings() {
    // Two overlapping pushes may linearize in either order.
    let h = History::from_events(vec![
        e(0, QueueOp::Push(1u16), QueueRet::Push, 0, 10),
        e(1, QueueOp::Push(2), QueueRet::Push, 1, 9),
        e(2, QueueOp::Pop, QueueRet::Pop(Some(2)), 11, 12),
        e(2, QueueOp::Pop, QueueRet::Pop(Some(1)), 13, 14),
        e(2, QueueOp::Pop, QueueRet::Pop(None), 15, 16),
    ]);
    check(&Fifo::new(), &h).unwrap();
    // A bounded queue that was full for an overlapping push.
    let h = History::from_events(vec![
        e(0, BoundedOp::Push(1u16), BoundedRet::Push(Ok(())), 0, 1),
        e(1, BoundedOp::Push(2), BoundedRet::Push(Err(2)), 2, 6),
        e(0, BoundedOp::Pop, BoundedRet::Pop(Some(1)), 3, 5),
    ]);
    check(&BoundedFifo::new(1), &h).unwrap();
}

#[test]
fn map_partitions_name_the_failing_key() {
    let h = History::from_events(vec![
        e(0, MapOp::Insert(1, 5), MapRet::Insert(None), 0, 1),
        e(0, MapOp::Insert(2, 6), MapRet::Insert(None), 2, 3),
        e(1, MapOp::Get(2), MapRet::Get(Some(7)), 4, 5),
        e(1, MapOp::Get(1), MapRet::Get(Some(5)), 6, 7),
    ]);
    let err = check_partitioned(&MapModel::new(), &h, |op| op.key()).unwrap_err();
    assert_eq!(err.partition.as_deref(), Some("2"));
    assert!(check(&MapModel::new(), &h).is_err());
}

/// A queue that sometimes hands out the second-oldest element: `run_concurrent` must catch it.
struct SloppyQueue {
    items: Mutex<VecDeque<u64>>,
    pops: AtomicU64,
}

#[test]
fn stress_catches_a_broken_queue() {
    let cfg = StressConfig {
        threads: 3,
        ops_per_thread: 200,
        rounds: 200,
        time_limit: Duration::from_secs(10),
        ..StressConfig::default()
    };
    let r = stress(
        &cfg,
        Fifo::new(),
        || SloppyQueue {
            items: Mutex::new(VecDeque::new()),
            pops: AtomicU64::new(0),
        },
        |rng, t| {
            if rng.chance(0.55) {
                QueueOp::Push(((t as u64) << 32) | rng.below(1 << 20))
            } else {
                QueueOp::Pop
            }
        },
        |q, op| match op {
            QueueOp::Push(v) => {
                q.items.lock().unwrap().push_back(*v);
                QueueRet::Push
            }
            QueueOp::Pop => {
                let mut items = q.items.lock().unwrap();
                let n = q.pops.fetch_add(1, Ordering::Relaxed);
                if n % 17 == 16 && items.len() >= 2 {
                    QueueRet::Pop(items.remove(1))
                } else {
                    QueueRet::Pop(items.pop_front())
                }
            }
        },
    );
    let err = r.expect_err("the broken queue must be caught");
    assert!(err.contains("not linearizable"), "{err}");
    assert!(err.contains("seed"), "{err}");
}

/// A stress run over a correct `Mutex<VecDeque>` queue.
fn mutex_queue_stress(cfg: &StressConfig) -> freeway_check::stress::StressReport {
    stress(
        cfg,
        Fifo::new(),
        || Mutex::new(VecDeque::new()),
        |rng, t| {
            if rng.chance(0.5) {
                QueueOp::Push(((t as u64) << 32) | rng.below(1 << 20))
            } else {
                QueueOp::Pop
            }
        },
        |q, op| match op {
            QueueOp::Push(v) => {
                q.lock().unwrap().push_back(*v);
                QueueRet::Push
            }
            QueueOp::Pop => QueueRet::Pop(q.lock().unwrap().pop_front()),
        },
    )
    .unwrap()
}

#[test]
fn stress_accepts_a_correct_queue() {
    // All 5 rounds however slow the machine (the default 2 s limit may stop after one), as the
    // stress module's doc example.
    let cfg = StressConfig {
        rounds: 5,
        time_limit: std::time::Duration::from_secs(3600),
        ..StressConfig::default()
    };
    let report = mutex_queue_stress(&cfg);
    // A round the checker cannot decide within its budget is run but not counted.
    assert_eq!(report.rounds + report.inconclusive_rounds, 5);
    assert!(report.rounds >= 1);
    assert_eq!(report.operations, report.rounds * 3 * 300);
}

#[test]
fn a_few_thousand_operations_check_quickly() {
    // 4 threads x 1000 ops through a correct queue, checked once; the time is printed for the
    // record (speed is measured properly by the `check` bench).
    let cfg = StressConfig {
        threads: 4,
        ops_per_thread: 1000,
        rounds: 1,
        ..StressConfig::default()
    };
    let t = Instant::now();
    mutex_queue_stress(&cfg);
    eprintln!(
        "4000 queue operations recorded and checked in {:?}",
        t.elapsed()
    );
}

#[test]
fn an_undecidable_search_stops_at_its_budget() {
    // 24 pushes that all overlap each other and a final pop whose result no order explains:
    // refuting it means trying every order of the pushes, far beyond a budget of 50 000
    // configurations. The checker must give up cleanly, say so, and not call the history
    // linearizable. (`check` does the same at `SEARCH_BUDGET`.)
    let mut events: Vec<_> = (0..24u16)
        .map(|v| e(v as usize, QueueOp::Push(v), QueueRet::Push, 0, 100))
        .collect();
    events.push(e(99, QueueOp::Pop, QueueRet::Pop(Some(1000)), 101, 102));
    let err = check_with_budget(&Fifo::new(), &History::from_events(events), 50_000).unwrap_err();
    assert!(err.inconclusive, "{err}");
    assert!(err.to_string().contains("undecided"), "{err}");
}

/// A linearizable history with the wide overlaps a loaded machine produces: four threads take
/// turns at the linearization points of the sequential `spec`, and each operation's call and
/// return stamps stretch away from its linearization point, now and then by thousands of ticks
/// (a thread descheduled before or after its operation took effect).
fn stretched_history<S: freeway_check::spec::Spec>(
    seed: u64,
    ops: usize,
    mut spec: S,
    mut op: impl FnMut(&mut freeway_check::stress::Rng, u64) -> S::Op,
) -> History<S::Op, S::Ret> {
    let mut rng = freeway_check::stress::Rng::new(seed);
    let threads = 4;
    let mut ready = vec![0u64; threads];
    let mut events = Vec::with_capacity(ops);
    let mut now = 0u64;
    let stretch = |rng: &mut freeway_check::stress::Rng| {
        if rng.chance(0.03) {
            1000 + rng.below(20_000)
        } else {
            rng.below(4)
        }
    };
    while events.len() < ops {
        now += 10;
        let free: Vec<usize> = (0..threads).filter(|&t| ready[t] < now).collect();
        if free.is_empty() {
            continue;
        }
        let t = free[rng.below(free.len() as u64) as usize];
        let call = now.saturating_sub(stretch(&mut rng)).max(ready[t] + 1);
        let returned = now + stretch(&mut rng);
        let o = op(&mut rng, events.len() as u64);
        let ret = spec.apply(&o);
        ready[t] = returned;
        events.push(e(t, o, ret, call, returned));
    }
    History::from_events(events)
}

#[test]
fn wide_overlaps_are_decided_within_the_budget() {
    // A correct history must be accepted, not left undecided, even when threads sat descheduled
    // across thousands of other operations (what failed CI once: a 4-thread stress round on a
    // loaded 2-core machine ran out of the search budget).
    for seed in 0..10 {
        let t = Instant::now();
        let h = stretched_history(seed, 4000, Fifo::new(), |rng, i| {
            if rng.chance(0.5) {
                QueueOp::Push(i)
            } else {
                QueueOp::Pop
            }
        });
        let r = check(&Fifo::new(), &h);
        assert!(r.is_ok(), "queue, seed {seed}: {}", r.unwrap_err());
        let h = stretched_history(seed, 4000, BoundedFifo::new(8), |rng, i| {
            match rng.below(3) {
                0 => BoundedOp::Push(i),
                1 => BoundedOp::ForcePush(i),
                _ => BoundedOp::Pop,
            }
        });
        let r = check(&BoundedFifo::new(8), &h);
        assert!(r.is_ok(), "bounded queue, seed {seed}: {}", r.unwrap_err());
        let h = stretched_history(seed, 4000, Lifo::new(), |rng, i| {
            if rng.chance(0.5) {
                StackOp::Push(i)
            } else {
                StackOp::Pop
            }
        });
        let r = check(&Lifo::new(), &h);
        assert!(r.is_ok(), "stack, seed {seed}: {}", r.unwrap_err());
        eprintln!("seed {seed}: decided in {:?}", t.elapsed());
    }
}
