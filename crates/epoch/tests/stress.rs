//! Stress test of the retirement path and its accounting under threads.
//!
//! One test in this binary: the counters are process-wide, so a quiescence assertion must not
//! share its process with other retiring tests.
#![cfg(not(loom))]

use freeway_epoch::sync::atomic::{AtomicUsize, Ordering};
use freeway_epoch::sync::{Arc, thread};
use freeway_epoch::{
    Atomic, Owned, accounting, defer_drop, pin, reclaim_until_quiescent_for, retire,
};

struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

#[test]
fn every_retired_object_is_reclaimed_exactly_once() {
    const {
        assert!(
            accounting::ENABLED,
            "tests build freeway-epoch with `accounting`"
        )
    };
    let before = accounting::counts();
    let drops = Arc::new(AtomicUsize::new(0));
    let slot = Arc::new(Atomic::new(Counted(drops.clone())));
    const THREADS: usize = 4;
    const PER_THREAD: usize = 20_000;
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let slot = slot.clone();
            let drops = drops.clone();
            thread::spawn(move || {
                for i in 0..PER_THREAD {
                    let guard = pin();
                    let old =
                        slot.swap(Owned::new(Counted(drops.clone())), Ordering::AcqRel, &guard);
                    // SAFETY: the swap unlinked `old`; this thread is its only retirer.
                    unsafe { retire(&guard, old) };
                    if i % 7 == 0 {
                        defer_drop(&guard, Counted(drops.clone()));
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let left = reclaim_until_quiescent_for(std::time::Duration::from_secs(30));
    let after = accounting::counts();
    let retired = after.retired - before.retired;
    let expected = (THREADS * (PER_THREAD + PER_THREAD.div_ceil(7))) as u64;
    assert_eq!(retired, expected, "every retire is counted");
    assert_eq!(left, 0, "garbage left after driving reclamation: {after:?}");
    // Every retired object dropped exactly once, the one still in the slot not yet.
    assert_eq!(drops.load(Ordering::Relaxed) as u64, expected);
    let slot = Arc::try_unwrap(slot).unwrap_or_else(|_| panic!("threads joined"));
    // SAFETY: all threads have joined; the slot is ours alone.
    drop(unsafe { slot.into_owned() });
    assert_eq!(drops.load(Ordering::Relaxed) as u64, expected + 1);
}
