//! loom models of the stack: push/pop races, the elimination exchange, `take_all` racing push
//! and pop, and the atomicity of `push_batch`. Two threads each (the main thread and one
//! spawned), so each model runs in about a second at `LOOM_MAX_PREEMPTIONS=2`.
//!
//! Run with `cargo xtask loom stack`. The node contents live in loom cells, so a too-weak
//! ordering on `head` or on a slot shows up as a causality violation.
#![cfg(loom)]

use freeway_epoch::sync::{Arc, thread};
use freeway_stack::Stack;

fn drain<const S: usize>(s: &Stack<u32, S>) -> Vec<u32> {
    let mut v = Vec::new();
    while let Some(x) = s.pop() {
        v.push(x);
    }
    v
}

fn sorted(mut v: Vec<u32>) -> Vec<u32> {
    v.sort_unstable();
    v
}

/// A push races a pop on a one-element stack: both values are delivered exactly once, and the
/// pop returns one of them.
#[test]
fn push_races_pop() {
    loom::model(|| {
        let s = Arc::new(Stack::<u32, 0>::with_elimination());
        s.push(1);
        let s2 = s.clone();
        let t = thread::spawn(move || s2.push(2));
        let popped = s.pop();
        t.join().unwrap();
        assert!(matches!(popped, Some(1) | Some(2)), "{popped:?}");
        let mut all = drain(&s);
        all.extend(popped);
        assert_eq!(sorted(all), [1, 2]);
    });
}

/// Two pops race on a two-element stack: they get different values, the top one first in the
/// linearization (so at least one of them got the top).
#[test]
fn pops_race() {
    loom::model(|| {
        let s = Arc::new(Stack::<u32, 0>::with_elimination());
        s.push(1);
        s.push(2);
        let s2 = s.clone();
        let t = thread::spawn(move || s2.pop());
        let a = s.pop();
        let b = t.join().unwrap();
        assert_eq!(sorted(vec![a.unwrap(), b.unwrap()]), [1, 2]);
        assert!(s.pop().is_none());
    });
}

/// Two pushes race: both land, in either order.
#[test]
fn pushes_race() {
    loom::model(|| {
        let s = Arc::new(Stack::<u32, 0>::with_elimination());
        let s2 = s.clone();
        let t = thread::spawn(move || s2.push(1));
        s.push(2);
        t.join().unwrap();
        assert_eq!(sorted(drain(&s)), [1, 2]);
    });
}

/// A pusher's offer in the elimination slot races a taker: the value is delivered exactly once,
/// either to the taker or back to the pusher, whose withdrawal then leaves the slot free.
#[test]
fn elimination_offer_is_taken_or_withdrawn_exactly_once() {
    loom::model(|| {
        let s = Arc::new(Stack::<u32, 1>::with_elimination());
        let s2 = s.clone();
        let t = thread::spawn(move || s2.loom_offer(7));
        let taken = s.loom_take_offer();
        let offered = t.join().unwrap();
        match (taken, offered) {
            (Some(7), Ok(())) => {}
            (None, Err(7)) => {}
            other => panic!("value delivered {other:?}"),
        }
        // A withdrawn offer left nothing behind.
        assert_eq!(s.loom_take_offer(), None);
        assert!(s.is_empty());
    });
}

/// Elimination through the public path: a push and a pop on a stack with one slot, racing a
/// third operation that makes their CASes fail. Every value is delivered exactly once.
#[test]
fn push_pop_with_elimination_slot_deliver_once() {
    loom::model(|| {
        let s = Arc::new(Stack::<u32, 1>::with_elimination());
        s.push(1);
        let s2 = s.clone();
        let t = thread::spawn(move || {
            s2.push(2);
            s2.pop()
        });
        let a = s.pop();
        let b = t.join().unwrap();
        let mut all = drain(&s);
        all.extend(a);
        all.extend(b);
        assert_eq!(sorted(all), [1, 2]);
    });
}

/// `take_all` races a push: the detached chain is a LIFO suffix, the rest stays in the stack,
/// every value exactly once.
#[test]
fn take_all_races_push() {
    loom::model(|| {
        let s = Arc::new(Stack::<u32, 0>::with_elimination());
        s.push(1);
        let s2 = s.clone();
        let t = thread::spawn(move || s2.push(2));
        let taken: Vec<u32> = s.take_all().collect();
        t.join().unwrap();
        assert!(taken == [2, 1] || taken == [1], "{taken:?}");
        let mut all = drain(&s);
        all.extend(taken);
        assert_eq!(sorted(all), [1, 2]);
    });
}

/// `take_all` races a pop that may have loaded the old head before the swap (and so reads the
/// detached top node): every value exactly once, and the node is not freed under the popper.
#[test]
fn take_all_races_pop() {
    loom::model(|| {
        let s = Arc::new(Stack::<u32, 0>::with_elimination());
        s.push(1);
        s.push(2);
        let s2 = s.clone();
        let t = thread::spawn(move || s2.pop());
        let taken: Vec<u32> = s.take_all().collect();
        let popped = t.join().unwrap();
        let mut all = taken.clone();
        all.extend(popped);
        assert_eq!(sorted(all), [1, 2], "taken {taken:?}, popped {popped:?}");
        assert!(s.is_empty());
    });
}

/// A batch is published with one CAS: a racing pop sees none of it or its top, never a part.
#[test]
fn push_batch_is_atomic_to_a_racing_pop() {
    loom::model(|| {
        let s = Arc::new(Stack::<u32, 0>::with_elimination());
        let s2 = s.clone();
        let t = thread::spawn(move || s2.push_batch([1, 2, 3]));
        let popped = s.pop();
        t.join().unwrap();
        assert!(matches!(popped, None | Some(3)), "{popped:?}");
        let mut all = drain(&s);
        all.extend(popped);
        assert_eq!(sorted(all), [1, 2, 3]);
    });
}

/// `peek` racing a push reads the pushed value through the `Acquire` load of `head`. The
/// pusher holds a guard, so the nested pins inside `push` have no fence (loom lets a later
/// `SeqCst` fence acquire everything before an earlier one, which would cover the value); the
/// reader peeks until it sees the value, so that loom explores the racing read.
#[test]
fn peek_racing_push_reads_a_published_value() {
    loom::model(|| {
        let s = Arc::new(Stack::<u32, 0>::with_elimination());
        let s2 = s.clone();
        let t = thread::spawn(move || {
            let _held = freeway_epoch::pin();
            s2.push(2);
        });
        loop {
            let guard = freeway_epoch::pin();
            if let Some(&top) = s.peek(&guard) {
                assert_eq!(top, 2);
                break;
            }
            drop(guard);
            thread::yield_now();
        }
        t.join().unwrap();
        assert_eq!(drain(&s), [2]);
    });
}

/// `is_empty() == false` happens after the push it saw: what the pusher wrote before pushing is
/// visible to a thread that saw the stack non-empty (a loom cell, so loom checks it).
#[test]
fn a_non_empty_stack_shows_what_its_pusher_wrote_before() {
    struct Note(freeway_epoch::sync::cell::UnsafeCell<u32>);
    // SAFETY: written once by the pusher before the push that publishes it; read after.
    unsafe impl Sync for Note {}
    loom::model(|| {
        let s = Arc::new(Stack::<u32, 0>::with_elimination());
        let note = Arc::new(Note(freeway_epoch::sync::cell::UnsafeCell::new(0)));
        let (s2, n2) = (s.clone(), note.clone());
        let t = thread::spawn(move || {
            let _held = freeway_epoch::pin();
            // SAFETY: nobody reads the note before the push below.
            n2.0.with_mut(|c| unsafe { *c = 7 });
            s2.push(1);
        });
        while s.is_empty() {
            thread::yield_now();
        }
        // SAFETY: the push that made the stack non-empty came after the write.
        assert_eq!(note.0.with(|c| unsafe { *c }), 7);
        t.join().unwrap();
    });
}

/// A pusher that already holds a guard offers its value with a nested pin, which has no fence:
/// only the offer's `Release` publishes the value to the taker. (loom lets a later `SeqCst` fence
/// acquire everything before an earlier one, so an unpinned pusher's own pin would cover it.)
#[test]
fn a_pinned_pushers_offer_publishes_its_value() {
    loom::model(|| {
        let s = Arc::new(Stack::<u32, 1>::with_elimination());
        let s2 = s.clone();
        let t = thread::spawn(move || {
            let _held = freeway_epoch::pin();
            s2.loom_offer(7)
        });
        let taken = s.loom_take_offer();
        let offered = t.join().unwrap();
        match (taken, offered) {
            (Some(7), Ok(())) | (None, Err(7)) => {}
            other => panic!("value delivered {other:?}"),
        }
    });
}
