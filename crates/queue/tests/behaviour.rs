//! Unit behaviour, drop accounting, misuse and panic safety of `Queue` and `ArrayQueue`.
#![cfg(not(loom))]

use freeway_check::drops::DropTracker;
use freeway_queue::{ArrayQueue, Queue};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// More than a few segments' worth (segments hold 256 slots).
const MANY: usize = 256 * 4 + 17;

#[test]
fn queue_is_fifo_across_segments() {
    let q = Queue::new();
    for i in 0..MANY {
        q.push(i);
    }
    assert_eq!(q.len(), MANY);
    for i in 0..MANY {
        assert_eq!(q.pop(), Some(i));
        assert_eq!(q.len(), MANY - i - 1);
    }
    assert_eq!(q.pop(), None);
    assert!(q.is_empty());
    // Usable again after being drained.
    q.push(MANY);
    assert_eq!(q.pop(), Some(MANY));
}

#[test]
fn queue_empty_pops_do_not_burn_slots() {
    let q = Queue::new();
    q.push(0u32);
    assert_eq!(q.pop(), Some(0));
    for _ in 0..10_000 {
        assert_eq!(q.pop(), None);
    }
    // Had each empty pop taken a ticket, these pushes would land in poisoned slots and be
    // re-pushed; they must still come out in order, and `len` must be exact.
    for i in 0..10 {
        q.push(i);
    }
    assert_eq!(q.len(), 10);
    assert_eq!(
        q.into_iter().collect::<Vec<_>>(),
        (0..10).collect::<Vec<_>>()
    );
}

#[test]
fn queue_traits() {
    let q: Queue<u32> = Queue::default();
    assert!(q.is_empty());
    assert_eq!(format!("{q:?}"), "Queue { .. }");
    assert_eq!(format!("{q:>14?}"), "  Queue { .. }");
    let mut q: Queue<_> = (0..5).collect();
    q.extend(5..8);
    assert_eq!(
        q.into_iter().collect::<Vec<_>>(),
        (0..8).collect::<Vec<_>>()
    );
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Queue<String>>();
    send_sync::<ArrayQueue<String>>();
}

#[test]
fn queue_batches_keep_order() {
    let q = Queue::new();
    q.push_batch(0..1000usize);
    q.push(1000);
    q.push_batch(Vec::<usize>::new());
    q.push_batch([1001, 1002]);
    assert_eq!(q.len(), 1003);
    let mut out = Vec::new();
    let mut total = 0;
    while total < 1003 {
        let n = q.pop_batch(&mut out, 32);
        assert!(n > 0 && n <= 32);
        total += n;
    }
    assert_eq!(out, (0..1003).collect::<Vec<_>>());
    assert_eq!(q.pop_batch(&mut out, 32), 0);
    assert_eq!(q.pop_batch(&mut out, 0), 0);
}

/// An iterator whose size hint lies in both directions must still push exactly what it yields.
struct Liar<I> {
    inner: I,
    claimed: usize,
}
impl<I: Iterator> Iterator for Liar<I> {
    type Item = I::Item;
    fn next(&mut self) -> Option<I::Item> {
        self.inner.next()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.claimed, None)
    }
}

#[test]
fn queue_push_batch_with_lying_len() {
    let q = Queue::new();
    q.push_batch(Liar {
        inner: 0..10,
        claimed: 500,
    });
    q.push_batch(Liar {
        inner: 10..700,
        claimed: 3,
    });
    q.push_batch(Liar {
        inner: 700..701,
        claimed: usize::MAX,
    });
    q.push(701);
    // Slots claimed for items the iterators did not yield are not counted.
    assert_eq!(q.len(), 702);
    assert_eq!(
        q.into_iter().collect::<Vec<_>>(),
        (0..702).collect::<Vec<_>>()
    );
}

#[test]
fn queue_drops_every_element_once() {
    let t = DropTracker::new();
    {
        let q = Queue::new();
        for i in 0..MANY {
            q.push(t.track(i));
        }
        for _ in 0..MANY / 3 {
            drop(q.pop());
        }
        assert_eq!(t.dropped(), MANY / 3);
        // The rest are dropped with the queue.
    }
    t.assert_all_dropped_once();

    // And through the owning iterator, partially consumed.
    let t = DropTracker::new();
    let q: Queue<_> = (0..MANY).map(|i| t.track(i)).collect();
    let mut it = q.into_iter();
    assert_eq!(*it.next().unwrap(), 0);
    drop(it);
    t.assert_all_dropped_once();
}

#[test]
fn queue_zero_sized_and_large_values() {
    let q = Queue::new();
    for _ in 0..MANY {
        q.push(());
    }
    assert_eq!(q.len(), MANY);
    assert_eq!(q.into_iter().count(), MANY);

    let t = DropTracker::new();
    let q = Queue::new();
    for i in 0..600u64 {
        q.push(t.track([i; 512])); // 4 KiB each: segments are built in place, not on the stack
    }
    assert_eq!(q.pop().map(|v| v[0]), Some(0));
    drop(q);
    t.assert_all_dropped_once();
}

#[test]
fn queue_survives_panicking_drop() {
    let t = DropTracker::new();
    let q = Queue::new();
    for i in 0..MANY {
        if i == 300 {
            q.push(t.track_panicking(i));
        } else {
            q.push(t.track(i));
        }
    }
    // A panic while the queue drops its elements: the others are still dropped once and the
    // segments freed (ASan would report the leak).
    let r = catch_unwind(AssertUnwindSafe(|| drop(q)));
    assert!(r.is_err());
    t.assert_all_dropped_once();

    // A panic in the user's drop of a popped value leaves the queue usable.
    let t = DropTracker::new();
    let q = Queue::new();
    q.push(t.track_panicking(0));
    q.push(t.track(1));
    let r = catch_unwind(AssertUnwindSafe(|| drop(q.pop())));
    assert!(r.is_err());
    assert_eq!(q.pop().map(|v| *v), Some(1));
    assert!(q.pop().is_none());
    t.assert_all_dropped_once();
}

#[test]
fn queue_push_batch_survives_panicking_iterator() {
    let q = Queue::new();
    let r = catch_unwind(AssertUnwindSafe(|| {
        q.push_batch((0..100).map(|i| if i == 40 { panic!("boom") } else { i }))
    }));
    assert!(r.is_err());
    // The 40 items yielded before the panic are in the queue, in order, and nothing else.
    assert_eq!(q.len(), 40);
    q.push(1000);
    let mut got = Vec::new();
    while let Some(v) = q.pop() {
        got.push(v);
    }
    let mut want: Vec<_> = (0..40).collect();
    want.push(1000);
    assert_eq!(got, want);
    assert_eq!(q.len(), 0);
    assert!(q.is_empty());
}

#[test]
fn array_queue_basic() {
    let q = ArrayQueue::new(3);
    assert_eq!(q.capacity(), 3);
    assert!(q.is_empty() && !q.is_full());
    assert_eq!(q.push(1), Ok(()));
    assert_eq!(q.push(2), Ok(()));
    assert_eq!(q.push(3), Ok(()));
    assert!(q.is_full());
    assert_eq!(q.len(), 3);
    assert_eq!(q.push(4), Err(4));
    assert_eq!(q.pop(), Some(1));
    assert_eq!(q.push(4), Ok(()));
    assert_eq!(q.force_push(5), Some(2));
    assert_eq!(q.len(), 3);
    assert_eq!(q.pop(), Some(3));
    assert_eq!(q.pop(), Some(4));
    assert_eq!(q.pop(), Some(5));
    assert_eq!(q.pop(), None);
    assert_eq!(q.force_push(6), None);
    assert_eq!(format!("{q:?}"), "ArrayQueue { .. }");
    assert_eq!(q.into_iter().collect::<Vec<_>>(), [6]);
}

#[test]
fn array_queue_wraps_many_laps() {
    for cap in [1, 2, 3, 4, 7, 8, 1024] {
        let q = ArrayQueue::new(cap);
        let mut next_out = 0usize;
        for i in 0..(cap * 10 + 5) {
            if q.push(i).is_err() {
                assert_eq!(q.len(), cap);
                assert_eq!(q.pop(), Some(next_out));
                next_out += 1;
                assert_eq!(q.push(i), Ok(()));
            }
            assert!(q.len() <= cap);
        }
        while let Some(v) = q.pop() {
            assert_eq!(v, next_out);
            next_out += 1;
        }
        assert_eq!(next_out, cap * 10 + 5);
    }
}

#[test]
fn array_queue_force_push_evicts_oldest() {
    let q = ArrayQueue::new(4);
    let mut evicted = Vec::new();
    for i in 0..20 {
        if let Some(old) = q.force_push(i) {
            evicted.push(old);
        }
        assert!(q.len() <= 4);
    }
    assert_eq!(evicted, (0..16).collect::<Vec<_>>());
    assert_eq!(q.into_iter().collect::<Vec<_>>(), [16, 17, 18, 19]);
}

#[test]
#[should_panic(expected = "capacity must be non-zero")]
fn array_queue_zero_capacity_panics() {
    let _ = ArrayQueue::<u8>::new(0);
}

#[test]
fn array_queue_drop_accounting() {
    let t = DropTracker::new();
    {
        let q = ArrayQueue::new(8);
        for i in 0..8 {
            q.push(t.track(i)).unwrap();
        }
        // Full: the rejected value comes back and is dropped by us.
        drop(q.push(t.track(100)).unwrap_err());
        // Evictions hand back the oldest.
        for i in 8..13 {
            let old = q.force_push(t.track(i)).expect("full");
            assert_eq!(*old, i - 8);
        }
        drop(q.pop());
        assert_eq!(t.alive(), 7);
    }
    t.assert_all_dropped_once();

    let q = ArrayQueue::new(16);
    for _ in 0..40 {
        let _ = q.force_push(());
    }
    assert_eq!(q.len(), 16);
    assert_eq!(q.into_iter().len(), 16);
}

#[test]
fn array_queue_survives_panicking_drop() {
    let t = DropTracker::new();
    let q = ArrayQueue::new(5);
    q.push(t.track(0)).unwrap();
    q.push(t.track_panicking(1)).unwrap();
    q.push(t.track(2)).unwrap();
    let r = catch_unwind(AssertUnwindSafe(|| drop(q)));
    assert!(r.is_err());
    t.assert_all_dropped_once();

    let t = DropTracker::new();
    let q = ArrayQueue::new(1);
    q.push(t.track_panicking(0)).unwrap();
    let r = catch_unwind(AssertUnwindSafe(|| drop(q.force_push(t.track(1)))));
    assert!(r.is_err());
    assert_eq!(q.pop().map(|v| *v), Some(1));
    t.assert_all_dropped_once();
}

#[test]
fn segments_are_reclaimed() {
    use freeway_epoch::{accounting, reclaim_until_quiescent};
    // Other tests in this binary retire concurrently, so count only a lower bound here; the
    // exact quiescence check lives in stress.rs, alone in its process.
    let before = accounting::counts();
    let q = Queue::new();
    for round in 0..20 {
        for i in 0..256 {
            q.push(round * 256 + i);
        }
        for _ in 0..256 {
            q.pop().unwrap();
        }
    }
    let after = accounting::counts();
    assert!(
        after.retired - before.retired >= 19,
        "drained segments are retired"
    );
    drop(q);
    reclaim_until_quiescent(1000);
}
