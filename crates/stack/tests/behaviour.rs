//! Unit behaviour of `Stack`: LIFO order, batches, `take_all`, drop accounting (every element
//! dropped exactly once, wherever it ends), and panics in user code.
#![cfg(not(loom))]

use std::panic::{AssertUnwindSafe, catch_unwind};

use freeway_check::drops::DropTracker;
use freeway_stack::{Stack, TakeAll};

#[test]
fn lifo_order_and_empty() {
    let s = Stack::new();
    assert!(s.is_empty());
    assert_eq!(s.pop(), None);
    for i in 0..10 {
        s.push(i);
    }
    assert!(!s.is_empty());
    for i in (0..10).rev() {
        assert_eq!(s.pop(), Some(i));
    }
    assert_eq!(s.pop(), None);
    assert!(s.is_empty());
}

#[test]
fn lifo_order_with_elimination_slots() {
    let s = Stack::<u32, 4>::with_elimination();
    for i in 0..100 {
        s.push(i);
    }
    for i in (0..100).rev() {
        assert_eq!(s.pop(), Some(i));
    }
    assert_eq!(s.pop(), None);
}

#[test]
fn push_batch_is_as_if_pushed_in_turn() {
    let s = Stack::new();
    s.push(0);
    s.push_batch(1..=5);
    s.push(6);
    s.push_batch(Vec::<i32>::new());
    let all: Vec<_> = s.take_all().collect();
    assert_eq!(all, [6, 5, 4, 3, 2, 1, 0]);
}

#[test]
fn take_all_detaches_everything_in_lifo_order() {
    let s = Stack::new();
    s.push_batch(["a", "b", "c"]);
    let mut it = s.take_all();
    assert!(s.is_empty());
    s.push("d");
    assert_eq!(it.next(), Some("c"));
    assert_eq!(it.next(), Some("b"));
    assert_eq!(it.next(), Some("a"));
    assert_eq!(it.next(), None);
    assert_eq!(it.next(), None, "fused");
    assert_eq!(s.pop(), Some("d"));
}

#[test]
fn take_all_of_empty_stack_is_empty() {
    let s = Stack::<String>::new();
    let mut it = s.take_all();
    assert_eq!(it.size_hint(), (0, Some(0)));
    assert_eq!(it.next(), None);
}

#[test]
fn peek_sees_top_and_survives_a_concurrent_pop() {
    let s = Stack::new();
    let guard = freeway_epoch::pin();
    assert_eq!(s.peek(&guard), None);
    s.push(1u64);
    s.push(2u64);
    let top = s.peek(&guard).unwrap();
    // The node is popped (and retired) while we still hold a reference into it.
    assert_eq!(s.pop(), Some(2));
    assert_eq!(*top, 2);
    assert_eq!(s.peek(&guard), Some(&1));
}

/// A guard of another collector would let a popped node be freed under the peeked reference
/// (peek, pop, churn, reclaim: the `&u64` read a free-list link). `peek` must refuse it.
#[test]
fn peek_refuses_a_guard_of_another_collector() {
    let s = Stack::new();
    s.push(0xAAAA_AAAA_AAAA_AAAAu64);
    let handle = freeway_epoch::Collector::new().register();
    let foreign = handle.pin();
    let err = catch_unwind(AssertUnwindSafe(|| s.peek(&foreign).copied()))
        .expect_err("peek accepted a guard of another collector");
    let msg = err
        .downcast_ref::<&str>()
        .copied()
        .map(str::to_owned)
        .or_else(|| err.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    assert!(
        msg.contains("freeway_epoch::pin()"),
        "unhelpful panic message: {msg:?}"
    );
    // The stack is untouched and usable.
    assert_eq!(s.pop(), Some(0xAAAA_AAAA_AAAA_AAAA));
    assert_eq!(s.pop(), None);
}

#[test]
fn peek_refuses_an_unprotected_guard() {
    let s = Stack::new();
    s.push(1u64);
    // SAFETY: the guard is passed to `peek`, which must refuse it before reading anything.
    let unprotected = unsafe { freeway_epoch::unprotected() };
    assert!(catch_unwind(AssertUnwindSafe(|| s.peek(unprotected).copied())).is_err());
    assert_eq!(s.pop(), Some(1));
}

#[test]
fn from_iterator_into_iterator_and_extend_ref() {
    let mut s: Stack<u8> = (1..=3).collect();
    s.extend(&[4, 5]);
    assert_eq!(s.into_iter().collect::<Vec<_>>(), [5, 4, 3, 2, 1]);
}

#[test]
fn debug_and_default() {
    let s: Stack<Vec<u8>> = Stack::default();
    assert_eq!(format!("{s:?}"), "Stack { .. }");
    assert_eq!(format!("{:>14?}", s), "  Stack { .. }");
    assert_eq!(format!("{:?}", s.take_all()), "TakeAll { .. }");
}

#[test]
fn send_and_sync_when_t_is_send() {
    fn send_sync<X: Send + Sync>() {}
    fn send<X: Send>() {}
    send_sync::<Stack<String>>();
    send_sync::<Stack<std::cell::Cell<u8>, 2>>(); // Send but not Sync: still a Sync stack
    send::<TakeAll<String>>();
}

#[test]
fn static_stack() {
    static S: Stack<u32> = Stack::new();
    S.push(9);
    assert_eq!(S.pop(), Some(9));
}

// ---------------------------------------------------------------- drop accounting

#[test]
fn elements_left_at_drop_are_dropped_once() {
    let t = DropTracker::new();
    let s = Stack::new();
    for i in 0..100 {
        s.push(t.track(i));
    }
    for _ in 0..30 {
        drop(s.pop().unwrap());
    }
    assert_eq!(t.alive(), 70);
    drop(s);
    t.assert_all_dropped_once();
}

#[test]
fn popped_values_are_not_dropped_again_by_reclamation() {
    let t = DropTracker::new();
    let s = Stack::<_, 2>::with_elimination();
    let mut kept = Vec::new();
    for i in 0..200 {
        s.push(t.track(i));
    }
    for _ in 0..200 {
        kept.push(s.pop().unwrap());
    }
    // Push the retired nodes through the epoch: freeing them must not drop the values.
    freeway_epoch::reclaim_until_quiescent(10_000);
    assert_eq!(t.alive(), 200);
    drop(kept);
    t.assert_all_dropped_once();
}

#[test]
fn half_consumed_take_all_drops_the_rest_once() {
    let t = DropTracker::new();
    let s = Stack::new();
    s.push_batch((0..50).map(|i| t.track(i)));
    s.push(t.track(50));
    let mut it = s.take_all();
    let first: Vec<_> = it.by_ref().take(10).collect();
    assert_eq!(*first[0], 50);
    assert_eq!(t.alive(), 51);
    drop(it);
    assert_eq!(t.alive(), 10);
    drop(first);
    drop(s);
    t.assert_all_dropped_once();
}

#[test]
fn into_iter_half_consumed_drops_the_rest_once() {
    let t = DropTracker::new();
    let s: Stack<_> = (0..20).map(|i| t.track(i)).collect();
    let mut it = s.into_iter();
    assert_eq!(*it.next().unwrap(), 19);
    drop(it);
    t.assert_all_dropped_once();
}

#[test]
fn retired_nodes_are_all_reclaimed() {
    // Every node leaves through the counted path; once quiescent, nothing is outstanding.
    // (Other tests of this binary run concurrently and retire too, so only assert that our own
    // garbage drains: the outstanding count reaches zero after we stop.)
    let s = Stack::new();
    for round in 0..10 {
        s.push_batch(0..100);
        for _ in 0..50 {
            s.pop();
        }
        if round % 2 == 0 {
            drop(s.take_all());
        }
    }
    drop(s);
    let mut left = u64::MAX;
    for _ in 0..100 {
        left = freeway_epoch::reclaim_until_quiescent(10_000);
        if left == 0 {
            break;
        }
        freeway_epoch::sync::thread::yield_now();
    }
    assert_eq!(left, 0, "retired objects never reclaimed");
}

// ---------------------------------------------------------------- panics in user code

#[test]
fn panicking_element_drop_when_stack_drops_still_drops_the_others() {
    let t = DropTracker::new();
    let s = Stack::new();
    for i in 0..10 {
        if i == 4 {
            s.push(t.track_panicking(i));
        } else {
            s.push(t.track(i));
        }
    }
    let r = catch_unwind(AssertUnwindSafe(|| drop(s)));
    assert!(r.is_err(), "the element's panic propagates");
    t.assert_all_dropped_once();
}

#[test]
fn panicking_element_drop_in_take_all_drop_still_drops_the_others() {
    let t = DropTracker::new();
    let s = Stack::new();
    for i in 0..10 {
        if i == 7 {
            s.push(t.track_panicking(i));
        } else {
            s.push(t.track(i));
        }
    }
    let mut it = s.take_all();
    drop(it.next()); // 9
    let r = catch_unwind(AssertUnwindSafe(|| drop(it)));
    assert!(r.is_err());
    t.assert_all_dropped_once();
    // The stack itself is untouched and usable.
    s.push(t.track(100));
    assert_eq!(*s.pop().unwrap(), 100);
    t.assert_all_dropped_once();
}

#[test]
fn panicking_batch_iterator_leaves_stack_unchanged_and_drops_its_values() {
    let t = DropTracker::new();
    let s = Stack::new();
    s.push(t.track(-1));
    let r = catch_unwind(AssertUnwindSafe(|| {
        s.push_batch((0..10).map(|i| {
            if i == 5 {
                panic!("iterator fails");
            }
            t.track(i)
        }))
    }));
    assert!(r.is_err());
    assert_eq!(t.alive(), 1, "the five produced values were dropped");
    assert_eq!(*s.pop().unwrap(), -1);
    assert!(s.pop().is_none());
    s.push(t.track(1));
    drop(s);
    t.assert_all_dropped_once();
}

#[test]
fn popped_panicking_value_does_not_corrupt_the_stack() {
    let t = DropTracker::new();
    let s = Stack::new();
    s.push(t.track(0));
    s.push(t.track_panicking(1));
    s.push(t.track(2));
    assert_eq!(*s.pop().unwrap(), 2);
    let v = s.pop().unwrap();
    assert!(catch_unwind(AssertUnwindSafe(|| drop(v))).is_err());
    assert_eq!(*s.pop().unwrap(), 0);
    assert!(s.pop().is_none());
    t.assert_all_dropped_once();
}

// ---------------------------------------------------------------- threads (short; stress.rs does more)

#[test]
fn concurrent_pushes_and_pops_lose_nothing() {
    let t = DropTracker::new();
    let s = Stack::<_, 2>::with_elimination();
    let popped = freeway_epoch::sync::Mutex::new(Vec::new());
    freeway_epoch::sync::thread::scope(|sc| {
        for th in 0..4u32 {
            let (s, t, popped) = (&s, &t, &popped);
            sc.spawn(move || {
                let mut mine = Vec::new();
                for i in 0..2_000 {
                    s.push(t.track(th * 10_000 + i));
                    if i % 2 == 1 {
                        mine.extend(s.pop().map(|v| *v));
                    }
                }
                popped.lock().unwrap().extend(mine);
            });
        }
    });
    let mut all = popped.into_inner().unwrap();
    all.extend(s.take_all().map(|v| *v));
    all.sort_unstable();
    let mut want: Vec<u32> = (0..4)
        .flat_map(|th| (0..2_000).map(move |i| th * 10_000 + i))
        .collect();
    want.sort_unstable();
    assert_eq!(all, want);
    drop(s);
    t.assert_all_dropped_once();
}
