//! loom models of both queues (segments of 2 slots under loom, so three pushes cross a segment
//! boundary). Run with `cargo xtask loom queue`.
//!
//! Consumers that must observe a producer mid-operation spin (`pop` until it returns a value,
//! yielding in between) rather than pop once: loom's partial-order reduction backtracks a store
//! or read-modify-write only against the last access to the same atomic, which for a producer's
//! claim is its own load of the index just before. A consumer that reads the index once, before
//! the claim, would never be scheduled after it; one that re-reads is.
#![cfg(loom)]

use freeway_check::drops::DropTracker;
use freeway_epoch::sync::atomic::{AtomicBool, Ordering};
use freeway_epoch::sync::{Arc, thread};
use freeway_queue::{ArrayQueue, Queue};

/// Pops until a value arrives.
fn pop_spinning<T>(q: &Queue<T>) -> T {
    loop {
        if let Some(v) = q.pop() {
            return v;
        }
        thread::yield_now();
    }
}

/// A producer pushes three values (crossing into a second segment) while a consumer spins for
/// them: they arrive in order, each once.
#[test]
fn queue_push_pop_race_across_segments() {
    loom::model(|| {
        let q = Arc::new(Queue::new());
        let q2 = q.clone();
        let producer = thread::spawn(move || {
            for v in 1..=3 {
                q2.push(v);
            }
        });
        let got: Vec<i32> = (0..3).map(|_| pop_spinning(&q)).collect();
        producer.join().unwrap();
        assert_eq!(got, [1, 2, 3]);
        assert_eq!(q.pop(), None);
    });
}

/// Two producers race for the last slot of a segment: the loser's retry reads the index the
/// winner's switch wrote, and must also see the segment the switch installed before it (the
/// claim's failure ordering), or it would claim a slot of the old segment. Every value arrives
/// once, each producer's in order.
#[test]
fn queue_pushes_race_across_a_segment_boundary() {
    loom::model(|| {
        let q = Arc::new(Queue::new());
        q.push(0);
        let q2 = q.clone();
        let producer = thread::spawn(move || {
            q2.push(1);
            q2.push(2);
        });
        q.push(3);
        producer.join().unwrap();
        let mut got = Vec::new();
        while let Some(v) = q.pop() {
            got.push(v);
        }
        assert_eq!(got[0], 0);
        let ones: Vec<i32> = got.iter().copied().filter(|v| *v == 1 || *v == 2).collect();
        assert_eq!(ones, [1, 2], "a producer's values in order: {got:?}");
        got.sort_unstable();
        assert_eq!(got, [0, 1, 2, 3]);
    });
}

/// A consumer spinning on an empty queue while a boxed value is pushed: the value it reads is
/// the one written (fails with a causality violation if the producer's `WRITTEN` is Relaxed).
#[test]
fn queue_spinning_consumer_reads_the_published_value() {
    loom::model(|| {
        let q = Arc::new(Queue::new());
        let q2 = q.clone();
        let producer = thread::spawn(move || q2.push(Box::new(5)));
        let v = pop_spinning(&q);
        producer.join().unwrap();
        assert_eq!(*v, 5);
    });
}

/// Two consumers take the two slots of a segment; when the last slot's consumer finishes first,
/// the segment is parked (its other slot is still being read) and retired later, when the next
/// segment's last slot is finished. Every value is dropped once, and every segment retired
/// (parked ones included) is reclaimed or freed with the queue.
#[test]
fn queue_segment_parked_until_its_slots_finish() {
    loom::model(|| {
        let tracker = DropTracker::new();
        let q = Arc::new(Queue::new());
        q.push(tracker.track(1));
        q.push(tracker.track(2));
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let q = q.clone();
                thread::spawn(move || *q.pop().expect("two values, two pops"))
            })
            .collect();
        let mut got: Vec<i32> = consumers.into_iter().map(|c| c.join().unwrap()).collect();
        got.sort_unstable();
        assert_eq!(got, [1, 2]);
        // The next segment's last slot: its finisher retires the parked segment too.
        q.push(tracker.track(3));
        q.push(tracker.track(4));
        assert_eq!(*q.pop().unwrap(), 3);
        q.push(tracker.track(5));
        drop(q);
        tracker.assert_all_dropped_once();
    });
}

/// Two producers fill the first segment and race to append the second (segment hand-over: one
/// CAS on `next` wins, the loser takes its value back and uses the winner's segment). Then the
/// main thread drains, retiring the first segment, and drops the queue: every value is dropped
/// exactly once and each producer's values stay in order.
#[test]
fn queue_segment_handover_and_reclamation() {
    loom::model(|| {
        let tracker = DropTracker::new();
        let q = Arc::new(Queue::new());
        let producer = {
            let (q, tracker) = (q.clone(), tracker.clone());
            thread::spawn(move || {
                q.push(tracker.track(0));
                q.push(tracker.track(1));
            })
        };
        q.push(tracker.track(10));
        q.push(tracker.track(11));
        producer.join().unwrap();
        let mut got = Vec::new();
        for _ in 0..3 {
            got.push(*q.pop().expect("four values were pushed"));
        }
        for p in [0, 10] {
            let mine: Vec<_> = got.iter().filter(|&&v| v / 10 == p / 10).collect();
            assert!(
                mine.windows(2).all(|w| w[0] < w[1]),
                "order of {p}: {got:?}"
            );
        }
        // The fourth value is dropped with the queue.
        drop(q);
        tracker.assert_all_dropped_once();
    });
}

/// The progress claim: a producer that has claimed a slot and then stalls (here: until the
/// consumer has finished) does not make the consumer wait. The consumer's pop returns `None`
/// (the value was not published) without spinning; the producer then finds its slot poisoned
/// and re-pushes, so the value is not lost. A design in which consumers wait for the slot's
/// producer (Vyukov's, crossbeam's `SegQueue`) deadlocks here.
#[test]
fn queue_pop_does_not_wait_for_a_stalled_producer() {
    loom::model(|| {
        let q = Arc::new(Queue::new());
        let claimed = Arc::new(AtomicBool::new(false));
        let popped = Arc::new(AtomicBool::new(false));
        let consumer = {
            let (q, claimed, popped) = (q.clone(), claimed.clone(), popped.clone());
            thread::spawn(move || {
                // Acquire: pairs with the Release store in the stall below.
                while !claimed.load(Ordering::Acquire) {
                    loom::thread::yield_now();
                }
                let r = q.pop();
                // Release: pairs with the Acquire load in the stall.
                popped.store(true, Ordering::Release);
                r
            })
        };
        q.push_with_stall(7, || {
            // Release: pairs with the consumer's Acquire load.
            claimed.store(true, Ordering::Release);
            // Stall until the consumer's pop has returned.
            while !popped.load(Ordering::Acquire) {
                loom::thread::yield_now();
            }
        });
        assert_eq!(consumer.join().unwrap(), None);
        assert_eq!(q.pop(), Some(7));
        assert_eq!(q.pop(), None);
    });
}

/// Segment reuse: the main thread drains the first segment (its last slot's consumer retires
/// it) and drives
/// reclamation, which parks it in the spare pool; then a producer crossing into a third segment
/// (popping the spare, resetting it, linking it) races a consumer. Values arrive once, in order.
#[test]
fn queue_reused_segment_races_pop() {
    loom::model(|| {
        let q = Arc::new(Queue::new());
        for v in 1..=3 {
            q.push(v);
        }
        assert_eq!(q.pop(), Some(1));
        let before = freeway_epoch::accounting::counts();
        // The pop that finishes the first segment's last slot retires it.
        assert_eq!(q.pop(), Some(2));
        assert_eq!(q.pop(), Some(3));
        let after = freeway_epoch::reclaim(4);
        assert!(
            after.retired > before.retired,
            "the drained segment was retired"
        );
        assert!(
            after.reclaimed > before.reclaimed,
            "its grace period ended: the segment is parked for reuse"
        );
        let q2 = q.clone();
        let producer = thread::spawn(move || {
            for v in 4..=6 {
                q2.push(v);
            }
        });
        let mut got: Vec<i32> = (0..2).filter_map(|_| q.pop()).collect();
        producer.join().unwrap();
        while let Some(v) = q.pop() {
            got.push(v);
        }
        assert_eq!(got, [4, 5, 6]);
    });
}

/// A segment retired by the consumer of its last slot while another thread consumed its first
/// slot, then reused by the retiring thread, which writes the first slot's cell again: loom
/// checks that the other consumer's read of that cell happens before the new write, and that
/// every value arrives once. (The retirement check's Acquire load is what orders them; with it
/// weakened to `Relaxed`, the `SeqCst` fences of the pins that retirement and reclamation take
/// afterwards still order them in this model. The load is needed where nothing fences between
/// it and the hand-over of the thread's garbage bag, a bag filling up inside the retirement's
/// own pin, which a model of this size does not reach.)
#[test]
fn queue_segment_reused_after_another_thread_finished_a_slot() {
    loom::model(|| {
        let q = Arc::new(Queue::new());
        q.push(1);
        q.push(2);
        let other = {
            let q = q.clone();
            thread::spawn(move || q.pop())
        };
        let mine = q.pop();
        // If this thread took the last slot after the other had finished the first, it retired
        // the segment: reclamation parks it in the spare pool, and the pushes below cross two
        // segment ends, the second of which reuses it and writes its first slot.
        freeway_epoch::reclaim(4);
        for v in 3..=5 {
            q.push(v);
        }
        let theirs = other.join().unwrap();
        let mut got = vec![mine.unwrap(), theirs.unwrap()];
        got.sort_unstable();
        while let Some(v) = q.pop() {
            got.push(v);
        }
        assert_eq!(got, [1, 2, 3, 4, 5]);
    });
}

/// A batch against a consumer that claims its slots before they are written and gives up on
/// them: a poisoned slot's value and every later value of the batch are pushed again behind
/// it, so single pops still see 1, 2, 3 in order, and no abandoned slot stays counted as a hole.
#[test]
fn queue_push_batch_races_poisoning_pops() {
    loom::model(|| {
        let q = Arc::new(Queue::new());
        let q2 = q.clone();
        let producer = thread::spawn(move || q2.push_batch([1, 2, 3]));
        let got: Vec<i32> = (0..3).map(|_| pop_spinning(&q)).collect();
        producer.join().unwrap();
        assert_eq!(got, [1, 2, 3]);
        assert_eq!(q.pop(), None);
        // A hole still counted would hide this value from `len`.
        q.push(4);
        assert_eq!(q.len(), 1, "no hole is left counted");
    });
}

/// Batches against single pops: the popped values are a prefix in order, all arrive once.
#[test]
fn queue_push_batch_races_pop_batch() {
    loom::model(|| {
        let q = Arc::new(Queue::new());
        let q2 = q.clone();
        let producer = thread::spawn(move || q2.push_batch([1, 2, 3]));
        let mut got = Vec::new();
        q.pop_batch(&mut got, 3);
        producer.join().unwrap();
        while q.pop_batch(&mut got, 3) > 0 {}
        assert_eq!(got, [1, 2, 3]);
    });
}

/// A full bounded queue: `force_push` races `pop`. The outcome is one of the two
/// linearizations.
#[test]
fn array_queue_force_push_races_pop() {
    loom::model(|| {
        let q = Arc::new(ArrayQueue::new(1));
        q.push(1).unwrap();
        let q2 = q.clone();
        let pusher = thread::spawn(move || q2.force_push(2));
        // The pop runs on a spawned thread too: loom explores far fewer interleavings of a
        // main thread that races a thread it has just spawned.
        let popper = {
            let q = q.clone();
            thread::spawn(move || q.pop())
        };
        let popped = popper.join().unwrap();
        let evicted = pusher.join().unwrap();
        let rest = q.pop();
        match (evicted, popped, rest) {
            // force_push first: evicts 1, the pop gets 2.
            (Some(1), Some(2), None) => {}
            // pop first: gets 1, force_push finds room.
            (None, Some(1), Some(2)) => {}
            other => panic!("not linearizable: (evicted, popped, rest) = {other:?}"),
        }
        assert_eq!(q.pop(), None);
    });
}

/// Bounded push/pop race around a full ring: values arrive in order, nothing lost.
#[test]
fn array_queue_push_pop_race() {
    loom::model(|| {
        let q = Arc::new(ArrayQueue::new(2));
        let q2 = q.clone();
        let producer = thread::spawn(move || {
            let mut rejected = Vec::new();
            for v in 1..=3 {
                if let Err(v) = q2.push(v) {
                    rejected.push(v);
                }
            }
            rejected
        });
        // The pop runs on a spawned thread: see `array_queue_force_push_races_pop`.
        let consumer = {
            let q = q.clone();
            thread::spawn(move || q.pop())
        };
        let mut got: Vec<i32> = consumer.join().unwrap().into_iter().collect();
        let rejected = producer.join().unwrap();
        while let Some(v) = q.pop() {
            got.push(v);
        }
        got.extend(rejected);
        got.sort_unstable();
        assert_eq!(got, [1, 2, 3]);
    });
}

/// The waiting protocol (feature `wait`): a consumer going to sleep races a push. It must wake
/// with the value; a lost wake-up leaves it parked forever, which loom reports as a deadlock.
#[cfg(feature = "wait")]
#[test]
fn queue_pop_wait_races_push() {
    loom::model(|| {
        let q = Arc::new(Queue::new());
        let q2 = q.clone();
        let consumer = thread::spawn(move || q2.pop_wait());
        q.push(7);
        assert_eq!(consumer.join().unwrap(), 7);
    });
}

/// The unbounded queue's sleepers flag (feature `wait`): the consumer's first wait may raise
/// it and leave it raised, so a later push finds it stale and lowers it, racing a later wait,
/// which raises it again. The lowering must not strand that wait: a push that lowers the flag
/// without reading the count again lets the third wait sleep through the third push, and
/// deadlocks here. The second push claims a segment's last slot, so its switch carries the
/// flag over.
#[cfg(feature = "wait")]
#[test]
fn queue_sleepers_flag_lowered_while_a_consumer_waits_again() {
    loom::model(|| {
        let q = Arc::new(Queue::new());
        let q2 = q.clone();
        let consumer = thread::spawn(move || [q2.pop_wait(), q2.pop_wait(), q2.pop_wait()]);
        q.push(1);
        q.push(2);
        q.push(3);
        assert_eq!(consumer.join().unwrap(), [1, 2, 3]);
    });
}

/// The same on the bounded queue's other side: a producer sleeping on a full queue races a pop.
#[cfg(feature = "wait")]
#[test]
fn array_queue_push_wait_races_pop() {
    loom::model(|| {
        let q = Arc::new(ArrayQueue::new(1));
        q.push(1).unwrap();
        let q2 = q.clone();
        let producer = thread::spawn(move || q2.push_wait(2));
        assert_eq!(q.pop_wait(), 1);
        producer.join().unwrap();
        assert_eq!(q.pop(), Some(2));
    });
}

/// The bounded queue's sleepers flags (feature `wait`), on both sides of a one-slot ring: a
/// consumer waits for each of three values while the producer waits for room for each. Each
/// side's first wait may leave its flag raised, so a later claim finds it stale and lowers
/// it, racing a later wait, which raises it again. Deadlocks when a lowering notifier does not
/// read the count again.
#[cfg(feature = "wait")]
#[test]
fn array_queue_sleepers_flags_lowered_while_both_sides_wait_again() {
    loom::model(|| {
        let q = Arc::new(ArrayQueue::new(1));
        let q2 = q.clone();
        let consumer = thread::spawn(move || [q2.pop_wait(), q2.pop_wait(), q2.pop_wait()]);
        for v in 1..=3 {
            q.push_wait(v);
        }
        assert_eq!(consumer.join().unwrap(), [1, 2, 3]);
    });
}

/// `len` returns a length the queue had: one thread pushes and pops three times (so the queue
/// holds 0 or 1 values, and both indices go once round the 3-slot ring), another reads `len`.
/// A torn pair of indices gives 2 or 3: a tail read after the head has moved past it, or a
/// head read long before the tail. Fails with the claims' release or `len`'s acquires weakened.
#[test]
fn array_queue_len_is_a_length_it_had() {
    loom::model(|| {
        let q = Arc::new(ArrayQueue::new(3));
        let mover = {
            let q = q.clone();
            thread::spawn(move || {
                for v in 0..3 {
                    q.push(v).unwrap();
                    assert_eq!(q.pop(), Some(v));
                }
            })
        };
        let reader = {
            let q = q.clone();
            thread::spawn(move || q.len())
        };
        let len = reader.join().unwrap();
        mover.join().unwrap();
        assert!(len <= 1, "len {len} of a queue that held at most 1");
    });
}

/// `len` while a full ring is popped, refilled and then pushed into by force: the queue holds
/// 3 values, or 2 between an operation's two index updates. Fails with `force_push`'s index
/// updates or the pop's claim made `Relaxed`.
#[test]
fn array_queue_len_during_force_push() {
    loom::model(|| {
        let q = Arc::new(ArrayQueue::new(3));
        for v in 0..3 {
            q.push(v).unwrap();
        }
        let mover = {
            let q = q.clone();
            thread::spawn(move || {
                assert_eq!(q.pop(), Some(0));
                q.push(3).unwrap();
                assert_eq!(q.force_push(4), Some(1));
            })
        };
        let reader = {
            let q = q.clone();
            thread::spawn(move || q.len())
        };
        let len = reader.join().unwrap();
        mover.join().unwrap();
        assert!(
            (2..=3).contains(&len),
            "len {len} of a queue that held 2 or 3"
        );
    });
}

/// The store-buffering shape of the verdict models: two queues, `a` and `b`, and two threads;
/// the first runs `side(a, b, 1)`, the second `side(b, a, 2)` (each works on its own queue, then
/// on the other's). Returns both results.
fn store_buffering<Q, R>(a: Q, b: Q, side: fn(&Q, &Q, i32) -> R) -> (R, R)
where
    Q: Send + Sync + 'static,
    R: Send + 'static,
{
    let (a, b) = (Arc::new(a), Arc::new(b));
    let t1 = {
        let (a, b) = (a.clone(), b.clone());
        thread::spawn(move || side(&a, &b, 1))
    };
    let t2 = thread::spawn(move || side(&b, &a, 2));
    (t1.join().unwrap(), t2.join().unwrap())
}

/// Empty verdicts are ordered with pushes to other queues (store buffering): each thread pushes
/// to one queue and then pops the other; both pops cannot find their queue empty, since
/// whichever pop comes second in the total order of `SeqCst` operations follows the other
/// thread's push. Fails without the fence before the empty verdict's tail load.
#[test]
fn array_queue_empty_verdicts_are_ordered() {
    loom::model(|| {
        let (r1, r2) = store_buffering(ArrayQueue::new(1), ArrayQueue::new(1), |mine, other, v| {
            mine.push(v).unwrap();
            other.pop()
        });
        assert!(
            r1.is_some() || r2.is_some(),
            "both queues seen empty after both pushes"
        );
    });
}

/// Full verdicts likewise: both rings start full, each thread pops one and then pushes to the
/// other; both pushes cannot find their ring full. Fails without the fence before the full
/// verdict's head load.
#[test]
fn array_queue_full_verdicts_are_ordered() {
    loom::model(|| {
        let full = || {
            let q = ArrayQueue::new(1);
            q.push(0).unwrap();
            q
        };
        let (r1, r2) = store_buffering(full(), full(), |mine, other, v| {
            assert_eq!(mine.pop(), Some(0));
            other.push(v).is_ok()
        });
        assert!(r1 || r2, "both rings seen full after both pops");
    });
}

/// `Queue`'s empty verdicts are ordered with pushes to other queues (store buffering): each
/// thread pushes to one queue and then pops the other, and both pops cannot find their queue
/// empty. The claims and the emptiness check's loads are `SeqCst`, so whichever check comes
/// second in their total order sees the other thread's claim. Fails with the producers' claim
/// or the check's tail load made `Relaxed`.
#[test]
fn queue_empty_verdicts_are_ordered() {
    loom::model(|| {
        let (r1, r2) = store_buffering(Queue::new(), Queue::new(), |mine, other, v| {
            mine.push(v);
            other.pop()
        });
        assert!(
            r1.is_some() || r2.is_some(),
            "both queues seen empty after both pushes"
        );
    });
}

/// Two consumers race across a segment end: the one that takes a lap's last slot switches the
/// head to the next segment, and the other, reading the new lap's index, must also see the
/// segment installed before it (the Acquire half of the head's loads and of the claim's
/// failure), or it would claim a slot of the old segment again. Every value arrives once, each
/// consumer's in order.
#[test]
fn queue_pops_race_across_a_segment_boundary() {
    loom::model(|| {
        let q = Arc::new(Queue::new());
        for v in 0..3 {
            q.push(v);
        }
        let consumer = |q: Arc<Queue<i32>>| {
            thread::spawn(move || {
                let first = q.pop();
                let second = q.pop();
                if let (Some(a), Some(b)) = (first, second) {
                    assert!(a < b, "one consumer's values out of order: {a} then {b}");
                }
                [first, second]
            })
        };
        let c1 = consumer(q.clone());
        let c2 = consumer(q.clone());
        let mut got: Vec<i32> = [c1.join().unwrap(), c2.join().unwrap()]
            .into_iter()
            .flatten()
            .flatten()
            .collect();
        while let Some(v) = q.pop() {
            got.push(v);
        }
        got.sort_unstable();
        assert_eq!(got, [0, 1, 2]);
    });
}

/// `Queue::len` is ordered with pops of other queues (store buffering): each queue holds one
/// value; each thread pops its own queue and then reads the other's `len`. Both cannot still
/// count the other's value: whichever `len` comes second in the total order of `SeqCst`
/// operations follows the other thread's claim. Fails with `len`'s head load made `Relaxed`.
#[test]
fn queue_len_is_ordered_with_pops_of_other_queues() {
    loom::model(|| {
        let (a, b) = (Queue::new(), Queue::new());
        a.push(1);
        b.push(2);
        let (l1, l2) = store_buffering(a, b, |mine, other, v| {
            assert_eq!(mine.pop(), Some(v));
            other.len()
        });
        assert!(
            l1 == 0 || l2 == 0,
            "both lens counted a value the other thread had already popped"
        );
    });
}

/// `Queue::len` is ordered with pushes to other queues (store buffering): each thread pushes to
/// its own empty queue and then reads the other's `len`; both cannot miss the other's value.
/// Fails with `len`'s tail load made `Relaxed`.
#[test]
fn queue_len_is_ordered_with_pushes_to_other_queues() {
    loom::model(|| {
        let (l1, l2) = store_buffering(Queue::new(), Queue::new(), |mine, other, v| {
            mine.push(v);
            other.len()
        });
        assert!(
            l1 == 1 || l2 == 1,
            "both lens missed a value the other thread had already pushed"
        );
    });
}
