//! A deferred destructor that panics while a paced collection step runs it does not unwind out
//! of the retirement call that ran the step (which sits in the middle of some structure's
//! operation), nor out of `collect_now`.
//!
//! Nor is the rest of the panicking destructor's bag lost: every function deferred through
//! freeway-epoch is contained on its own, so the objects retired after it are still dropped.
//!
//! One test in this binary: it needs the only collections of its process to be its own
//! thread's.
#![cfg(not(loom))]

use freeway_epoch::sync::thread;
use freeway_epoch::{collect_now, defer_drop, pin};
use std::sync::atomic::{AtomicUsize, Ordering};

static DROPPED: AtomicUsize = AtomicUsize::new(0);
/// Drops of the well-behaved values retired in the same bag, after each `Panicky`.
static NEIGHBOURS: AtomicUsize = AtomicUsize::new(0);
/// Well-behaved values retired after each `Panicky`.
const AFTER: usize = 10;

struct Neighbour;

impl Drop for Neighbour {
    fn drop(&mut self) {
        NEIGHBOURS.fetch_add(1, Ordering::SeqCst);
    }
}

struct Panicky;

impl Drop for Panicky {
    fn drop(&mut self) {
        DROPPED.fetch_add(1, Ordering::SeqCst);
        panic!("deliberate panic in a deferred destructor (expected by this test)");
    }
}

/// On a fresh thread: retires a `Panicky` and then `AFTER` neighbours into the same bag, runs
/// `after` with the same guard, then calls `step` until the destructor and its neighbours have
/// run (at most `limit` times). The thread must not unwind (`through` names what the panic would
/// have unwound out of), the destructor must have run (the `nth` drop of the test), and so must
/// every neighbour.
fn drop_panicky(
    after: fn(&freeway_epoch::Guard),
    step: fn(),
    limit: u32,
    nth: usize,
    through: &str,
) {
    let t = thread::spawn(move || {
        {
            let g = pin();
            defer_drop(&g, Panicky);
            for _ in 0..AFTER {
                defer_drop(&g, Neighbour);
            }
            after(&g);
        }
        let mut steps = 0;
        while (DROPPED.load(Ordering::SeqCst) < nth
            || NEIGHBOURS.load(Ordering::SeqCst) < nth * AFTER)
            && steps < limit
        {
            step();
            steps += 1;
        }
        steps
    });
    let steps = t
        .join()
        .unwrap_or_else(|_| panic!("the destructor's panic unwound out of {through}"));
    assert_eq!(
        DROPPED.load(Ordering::SeqCst),
        nth,
        "the panicking destructor did not run within {steps} steps through {through}"
    );
    assert_eq!(
        NEIGHBOURS.load(Ordering::SeqCst),
        nth * AFTER,
        "values retired after the panicking destructor were lost with its bag ({through})"
    );
}

#[test]
fn a_panicking_deferred_destructor_stays_in_the_collection_step() {
    // A fresh thread: its first pin collects (crossbeam-epoch collects on every 128th pin,
    // starting with the first), the next such pin is far beyond the loop's 100, so whatever
    // runs `Panicky`'s drop is a paced step inside `defer_drop`.
    drop_panicky(
        |_| {},
        || {
            let g = pin();
            for i in 0..256u64 {
                defer_drop(&g, i);
            }
        },
        100,
        1,
        "defer_drop",
    );
    // Then `collect_now`, which also runs anybody's expired garbage.
    drop_panicky(
        collect_now,
        || collect_now(&pin()),
        10_000,
        2,
        "collect_now",
    );
}
