//! A destructor deferred earlier (anybody's garbage) that panics when a stack operation's
//! collection runs it: the operation completes, the value it had taken is not lost, and no node
//! it was retiring leaks. The stack hands its retired nodes to the epoch in batches and flushes
//! the thread's bag there (`pop`, and `take_all`'s chain), so those are where the collection runs.
//!
//! Its own test binary: it asserts that everything retired in the process was reclaimed.
#![cfg(not(loom))]

use freeway_stack::Stack;
use std::sync::atomic::{AtomicUsize, Ordering};

static PANICKED: AtomicUsize = AtomicUsize::new(0);
static NEIGHBOURS: AtomicUsize = AtomicUsize::new(0);

struct Panicky;

impl Drop for Panicky {
    fn drop(&mut self) {
        PANICKED.fetch_add(1, Ordering::SeqCst);
        panic!("deliberate panic in a deferred destructor (expected by this test)");
    }
}

struct Neighbour;

impl Drop for Neighbour {
    fn drop(&mut self) {
        NEIGHBOURS.fetch_add(1, Ordering::SeqCst);
    }
}

/// Retires a `Panicky` and ten neighbours into this thread's bag.
fn retire_a_panicky_destructor() {
    let g = freeway_epoch::pin();
    freeway_epoch::defer_drop(&g, Panicky);
    for _ in 0..10 {
        freeway_epoch::defer_drop(&g, Neighbour);
    }
}

#[test]
fn a_panicking_deferred_destructor_does_not_unwind_through_pop_or_take_all() {
    let s = Stack::new();
    // Through `pop`: every popped value must come back, in order, with no unwinding.
    retire_a_panicky_destructor();
    let mut rounds = 0;
    while PANICKED.load(Ordering::SeqCst) < 1 && rounds < 10_000 {
        for i in 0..64u64 {
            s.push(i);
        }
        for i in (0..64u64).rev() {
            assert_eq!(s.pop(), Some(i));
        }
        rounds += 1;
    }
    assert_eq!(
        PANICKED.load(Ordering::SeqCst),
        1,
        "the destructor never ran"
    );
    // Through `take_all`: the detached chain's nodes are retired as its iterator drops.
    retire_a_panicky_destructor();
    rounds = 0;
    while PANICKED.load(Ordering::SeqCst) < 2 && rounds < 10_000 {
        for i in 0..64u64 {
            s.push(i);
        }
        let all = s.take_all();
        drop(all);
        rounds += 1;
    }
    assert_eq!(
        PANICKED.load(Ordering::SeqCst),
        2,
        "the destructor never ran"
    );
    drop(s);
    // Nothing retired was lost: the neighbours in the panicking destructors' bags and every node
    // the stack retired were all reclaimed.
    let left = freeway_epoch::reclaim_until_quiescent(100_000);
    assert_eq!(left, 0, "retired objects were never reclaimed");
    assert_eq!(NEIGHBOURS.load(Ordering::SeqCst), 20);
}
