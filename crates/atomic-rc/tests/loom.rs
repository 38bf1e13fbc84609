//! loom models of `AtomicArc` and `AtomicOptionArc`, written against the facade.
//!
//! Run with `cargo xtask loom atomic-rc` (both `--cfg loom --cfg crossbeam_loom`, `--release`).
//!
//! Values record their own drop in a per-test table of flags, outside the value (so reading a
//! flag never touches a freed value). The stored `Arc` is std's (the user's type), whose count
//! loom does not see; the flags are plain std atomics for the same reason a loom `Arc` is not
//! used: values whose release is still deferred at the end of an iteration are dropped by the
//! model's teardown, and loom would report such objects as leaked. loom runs one thread at a
//! time, so a `SeqCst` std flag reads the value of the real execution order: a drop that ran
//! before a reader's check is seen by it.
#![cfg(loom)]

use freeway_atomic_rc::{AtomicArc, AtomicOptionArc};
use freeway_epoch::sync::{Arc as LoomArc, thread};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Drop flags: `[id] == true` once value `id` was dropped.
type Flags = [AtomicBool; 4];

fn reset(flags: &'static Flags) -> &'static Flags {
    for f in flags {
        f.store(false, Ordering::SeqCst);
    }
    flags
}

struct Val {
    id: usize,
    flags: &'static Flags,
}

impl Val {
    fn new(id: usize, flags: &'static Flags) -> Arc<Self> {
        Arc::new(Val { id, flags })
    }

    /// Panics if this value was dropped already: then whoever holds it reached freed memory.
    fn check(&self) -> usize {
        assert!(
            !self.flags[self.id].load(Ordering::SeqCst),
            "value {} was dropped while still reachable",
            self.id
        );
        self.id
    }
}

impl Drop for Val {
    fn drop(&mut self) {
        let was = self.flags[self.id].swap(true, Ordering::SeqCst);
        assert!(!was, "value {} dropped twice", self.id);
    }
}

/// `load` races a `swap` whose caller drops the returned `Arc` at once and then
/// drives reclamation: the reader always gets a value that was stored and is still alive.
#[test]
fn load_racing_swap_never_sees_a_freed_value() {
    static FLAGS: Flags = [const { AtomicBool::new(false) }; 4];
    loom::model(|| {
        let flags = reset(&FLAGS);
        let cell = LoomArc::new(AtomicArc::new(Val::new(0, flags)));
        let c2 = cell.clone();
        let reader = thread::spawn(move || {
            let a = c2.load();
            let id = a.check();
            assert!(id <= 1);
            thread::yield_now();
            assert_eq!(a.check(), id, "an owned load stays alive after its pin");
        });
        drop(cell.swap(Val::new(1, flags)));
        freeway_epoch::reclaim(1);
        reader.join().unwrap();
        assert_eq!(cell.load().check(), 1);
    });
}

/// A snapshot taken before a `store` keeps its value alive while the writer reclaims.
#[test]
fn snapshot_survives_a_racing_store_and_reclaim() {
    static FLAGS: Flags = [const { AtomicBool::new(false) }; 4];
    loom::model(|| {
        let flags = reset(&FLAGS);
        let cell = LoomArc::new(AtomicArc::new(Val::new(0, flags)));
        let c2 = cell.clone();
        let writer = thread::spawn(move || {
            c2.store(Val::new(1, flags));
            freeway_epoch::reclaim(1);
        });
        {
            let guard = freeway_epoch::pin();
            let s = cell.snapshot(&guard);
            let first = s.check();
            thread::yield_now();
            assert_eq!(s.check(), first, "the snapshot still reads its value");
        }
        writer.join().unwrap();
        assert_eq!(cell.load().check(), 1);
    });
}

/// The unsized layout (a node per stored value) under the same race.
#[test]
fn unsized_load_racing_swap() {
    static FLAGS: Flags = [const { AtomicBool::new(false) }; 4];
    loom::model(|| {
        let flags = reset(&FLAGS);
        let one = |id| -> Arc<[Val]> { Arc::from(vec![Val { id, flags }]) };
        let cell: LoomArc<AtomicArc<[Val]>> = LoomArc::new(AtomicArc::new(one(0)));
        let c2 = cell.clone();
        let reader = thread::spawn(move || {
            let a = c2.load();
            assert!(a[0].check() <= 1);
        });
        drop(cell.swap(one(1)));
        freeway_epoch::reclaim(1);
        reader.join().unwrap();
        assert_eq!(cell.load()[0].check(), 1);
    });
}

/// Two compare-exchanges from the same expected value (one on a spawned thread, one on the
/// model's main thread): exactly one wins, the loser sees the winner's value and gets its own
/// `new` back.
#[test]
fn compare_exchange_race_has_one_winner() {
    static FLAGS: Flags = [const { AtomicBool::new(false) }; 4];
    loom::model(|| {
        let flags = reset(&FLAGS);
        let initial = Val::new(0, flags);
        let cell = LoomArc::new(AtomicArc::new(initial.clone()));
        let attempt = move |cell: &AtomicArc<Val>, initial: &Arc<Val>, id| match cell
            .compare_exchange(initial, Val::new(id, flags))
        {
            Ok(prev) => {
                assert!(Arc::ptr_eq(&prev, initial));
                None
            }
            Err(e) => {
                assert_eq!(e.new.check(), id, "the loser gets its value back");
                Some(e.current.check())
            }
        };
        let (c2, i2) = (cell.clone(), initial.clone());
        let t = thread::spawn(move || attempt(&c2, &i2, 1));
        let mine = attempt(&cell, &initial, 2);
        let theirs = t.join().unwrap();
        let winner = cell.load().check();
        match (theirs, mine) {
            (None, Some(seen)) => assert!(winner == 1 && seen == 1),
            (Some(seen), None) => assert!(winner == 2 && seen == 2),
            other => panic!("exactly one exchange must win: {other:?}"),
        }
    });
}

/// Two `rcu` increments under contention: both land (+2), whichever retries.
#[test]
fn rcu_increments_both_land() {
    loom::model(|| {
        let cell = LoomArc::new(AtomicArc::new(Arc::new(0u32)));
        let c2 = cell.clone();
        let t = thread::spawn(move || *c2.rcu(|v| Arc::new(**v + 1)));
        let mine = *cell.rcu(|v| Arc::new(**v + 1));
        let theirs = t.join().unwrap();
        let mut replaced = [mine, theirs];
        replaced.sort_unstable();
        assert_eq!(replaced, [0, 1], "each rcu replaced a distinct version");
        assert_eq!(*cell.load(), 2);
    });
}

/// `take` races `load` on an `AtomicOptionArc`: the reader sees the value (alive) or nothing,
/// and the value ends up taken exactly once.
#[test]
fn option_take_racing_load() {
    static FLAGS: Flags = [const { AtomicBool::new(false) }; 4];
    loom::model(|| {
        let flags = reset(&FLAGS);
        let slot = LoomArc::new(AtomicOptionArc::new(Some(Val::new(0, flags))));
        let s2 = slot.clone();
        let reader = thread::spawn(move || {
            if let Some(v) = s2.load() {
                assert_eq!(v.check(), 0);
            }
        });
        let taken = slot.take().expect("the value is taken once");
        assert_eq!(taken.check(), 0);
        drop(taken);
        freeway_epoch::reclaim(1);
        reader.join().unwrap();
        assert!(slot.load().is_none());
    });
}

/// A payload whose field is a loom cell written after construction, so that loom tracks it: a
/// reader that reaches the value without a happens-before edge from its publication fails with a
/// causality violation. (The `Val`s above are plain memory, which loom cannot see, so they do not
/// defend the publishing orderings of the cell.)
struct Payload(freeway_epoch::sync::cell::UnsafeCell<u64>);

// SAFETY: the cell is written once, by the thread that builds the payload and before the payload
// is published; every other access is a read after the publication.
unsafe impl Sync for Payload {}

impl Payload {
    fn new(v: u64) -> Arc<Self> {
        let p = Payload(freeway_epoch::sync::cell::UnsafeCell::new(0));
        // SAFETY: `p` is not shared yet.
        p.0.with_mut(|c| unsafe { *c = v });
        Arc::new(p)
    }

    fn get(&self) -> u64 {
        // SAFETY: written only before publication (see the `Sync` impl).
        self.0.with(|c| unsafe { *c })
    }
}

/// `store` and `swap` publish the new value to `load` and `snapshot`.
#[test]
fn store_and_swap_publish_to_load_and_snapshot() {
    loom::model(|| {
        let cell = LoomArc::new(AtomicArc::new(Payload::new(1)));
        let writer = {
            let cell = cell.clone();
            thread::spawn(move || {
                cell.store(Payload::new(2));
                assert!(cell.swap(Payload::new(3)).get() >= 1);
            })
        };
        for _ in 0..2 {
            assert!(cell.load().get() >= 1);
            let g = freeway_epoch::pin();
            assert!(cell.snapshot(&g).get() >= 1);
        }
        writer.join().unwrap();
        assert_eq!(cell.load().get(), 3);
    });
}

/// `compare_exchange` and `rcu` publish the new value, and read the current one, with the same
/// guarantees.
#[test]
fn compare_exchange_and_rcu_publish_and_read_values() {
    loom::model(|| {
        let cell = LoomArc::new(AtomicArc::new(Payload::new(1)));
        let writer = {
            let cell = cell.clone();
            thread::spawn(move || {
                let cur = cell.load();
                let _ = cell.compare_exchange(&cur, Payload::new(cur.get() + 10));
            })
        };
        let old = cell.rcu(|v| Payload::new(v.get() + 1));
        assert!(old.get() >= 1);
        writer.join().unwrap();
        let v = cell.load().get();
        assert!(v == 12 || v == 11 || v == 2, "value {v}");
    });
}

/// A writer that already holds a guard builds its value after pinning, so its own pin's fence
/// orders nothing about the value: only the `Release` half of the write publishes it, to `load`
/// and to `snapshot` under the reader's own pin. (loom
/// lets every later `SeqCst` fence acquire what came before every earlier one, which the
/// language does not promise; a writer pinned only inside the call is covered by that, and so
/// defends nothing.)
#[test]
fn a_pinned_writers_store_and_swap_publish_their_values() {
    loom::model(|| {
        let cell = LoomArc::new(AtomicArc::new(Payload::new(1)));
        let writer = {
            let cell = cell.clone();
            thread::spawn(move || {
                let _held = freeway_epoch::pin();
                cell.store(Payload::new(2));
                assert!(cell.swap(Payload::new(3)).get() >= 1);
            })
        };
        for _ in 0..2 {
            assert!(cell.load().get() >= 1);
            let g = freeway_epoch::pin();
            assert!(cell.snapshot(&g).get() >= 1);
        }
        writer.join().unwrap();
        assert_eq!(cell.load().get(), 3);
    });
}

/// As above for `compare_exchange`; the main thread's `rcu` reads the value a failed exchange
/// returns (so the exchange's first load must acquire it).
#[test]
fn a_pinned_writers_compare_exchange_publishes_and_rcu_reads_it() {
    loom::model(|| {
        let cell = LoomArc::new(AtomicArc::new(Payload::new(1)));
        let writer = {
            let cell = cell.clone();
            thread::spawn(move || {
                let _held = freeway_epoch::pin();
                let cur = cell.load();
                let _ = cell.compare_exchange(&cur, Payload::new(cur.get() + 10));
            })
        };
        let old = cell.rcu(|v| Payload::new(v.get() + 1));
        assert!(old.get() >= 1);
        writer.join().unwrap();
        let v = cell.load().get();
        assert!(v == 12 || v == 11 || v == 2, "value {v}");
    });
}
