//! `collect_now` runs other users' deferred functions, so a panicking one must stay inside it.
//!
//! One test in this binary: the rest of the panicking destructor's bag is leaked by
//! crossbeam-epoch's unwinding, which would upset other tests' accounting.
#![cfg(not(loom))]

use freeway_epoch::sync::thread;
use freeway_epoch::{collect_now, defer_drop, pin};
use std::sync::atomic::{AtomicBool, Ordering};

static DROPPED: AtomicBool = AtomicBool::new(false);

struct Panicky;

impl Drop for Panicky {
    fn drop(&mut self) {
        DROPPED.store(true, Ordering::SeqCst);
        panic!("deliberate panic in a deferred destructor (expected by this test)");
    }
}

#[test]
fn a_panicking_deferred_destructor_stays_in_collect_now() {
    let t = thread::spawn(|| {
        {
            let g = pin();
            defer_drop(&g, Panicky);
            collect_now(&g);
        }
        let mut calls = 0;
        while !DROPPED.load(Ordering::SeqCst) && calls < 10_000 {
            collect_now(&pin());
            calls += 1;
        }
        calls
    });
    let calls = t
        .join()
        .expect("the destructor's panic unwound out of collect_now");
    assert!(
        DROPPED.load(Ordering::SeqCst),
        "the panicking destructor did not run within {calls} calls"
    );
}
