//! A deferred destructor that panics while a paced collection step runs it does not unwind out
//! of the retirement call that ran the step (which sits in the middle of some structure's
//! operation), nor out of `collect_now`.
//!
//! One test in this binary: it needs the only collections of its process to be its own
//! thread's, and the rest of the panicking destructor's bag is leaked by crossbeam-epoch's
//! unwinding, which would upset other tests' accounting.
#![cfg(not(loom))]

use freeway_epoch::sync::thread;
use freeway_epoch::{collect_now, defer_drop, pin};
use std::sync::atomic::{AtomicUsize, Ordering};

static DROPPED: AtomicUsize = AtomicUsize::new(0);

struct Panicky;

impl Drop for Panicky {
    fn drop(&mut self) {
        DROPPED.fetch_add(1, Ordering::SeqCst);
        panic!("deliberate panic in a deferred destructor (expected by this test)");
    }
}

#[test]
fn a_panicking_deferred_destructor_stays_in_the_collection_step() {
    // A fresh thread: its first pin collects (crossbeam-epoch collects on every 128th pin,
    // starting with the first), the next such pin is far beyond the loop's 100, so whatever
    // runs `Panicky`'s drop is a paced step inside `defer_drop`.
    let t = thread::spawn(|| {
        {
            let g = pin();
            defer_drop(&g, Panicky);
        }
        let mut pins = 0;
        while DROPPED.load(Ordering::SeqCst) == 0 && pins < 100 {
            let g = pin();
            for i in 0..256u64 {
                defer_drop(&g, i);
            }
            pins += 1;
        }
        pins
    });
    let pins = t
        .join()
        .expect("the destructor's panic unwound out of defer_drop");
    assert_eq!(
        DROPPED.load(Ordering::SeqCst),
        1,
        "the panicking destructor did not run within {pins} pins"
    );

    // Then `collect_now`, which also runs anybody's expired garbage.
    let t = thread::spawn(|| {
        {
            let g = pin();
            defer_drop(&g, Panicky);
            collect_now(&g);
        }
        let mut calls = 0;
        while DROPPED.load(Ordering::SeqCst) == 1 && calls < 10_000 {
            collect_now(&pin());
            calls += 1;
        }
        calls
    });
    let calls = t
        .join()
        .expect("the destructor's panic unwound out of collect_now");
    assert_eq!(
        DROPPED.load(Ordering::SeqCst),
        2,
        "the panicking destructor did not run within {calls} calls of collect_now"
    );
}
