//! loom models of both protocols, written against the public API (whose atomics are loom's under
//! `cfg(loom)`). Values are `[u64; 2]` (two words) whose words must agree, so a torn copy shows.
//!
//! Run with `cargo xtask loom seqlock` (both `--cfg loom --cfg crossbeam_loom`, `--release`).
#![cfg(loom)]

use freeway_epoch::sync::{Arc, thread};
use freeway_seqlock::{SeqLatch, SeqLock};

/// Panics unless both words agree; returns the value.
fn whole(v: [u64; 2]) -> u64 {
    assert_eq!(v[0], v[1], "torn read: {v:?}");
    v[0]
}

/// A writer stores 1 then 2 while a reader reads twice: every read is whole, one of the values
/// written, and the second is not older than the first.
#[test]
fn seqlock_reads_are_whole_and_monotonic() {
    loom::model(|| {
        let lock = Arc::new(SeqLock::new([0u64; 2]));
        let l = lock.clone();
        let writer = thread::spawn(move || {
            l.store([1; 2]);
            l.store([2; 2]);
        });
        let a = whole(lock.read());
        let b = whole(lock.read());
        assert!(a <= b && b <= 2, "read {a} then {b}");
        writer.join().unwrap();
        assert_eq!(lock.read(), [2; 2]);
    });
}

/// `try_read` racing one store: `None`, or a whole value that was written.
#[test]
fn seqlock_try_read_is_none_or_whole() {
    loom::model(|| {
        let lock = Arc::new(SeqLock::new([0u64; 2]));
        let l = lock.clone();
        let writer = thread::spawn(move || l.store([1; 2]));
        if let Some(v) = lock.try_read() {
            assert!(whole(v) <= 1);
        }
        writer.join().unwrap();
    });
}

/// Two writers increment both words through `update` / `write`: serialised, so neither
/// increment is lost and no writer sees the other's half-done store.
#[test]
fn seqlock_writers_are_serialised() {
    loom::model(|| {
        let lock = Arc::new(SeqLock::new([0u64; 2]));
        let l = lock.clone();
        let other = thread::spawn(move || l.update(|v| *v = [v[0] + 1, v[1] + 1]));
        {
            let mut g = lock.write();
            whole(*g);
            *g = [g[0] + 1, g[1] + 1];
        }
        other.join().unwrap();
        assert_eq!(lock.into_inner_checked(), [2; 2]);
    });
}

/// The latch under a writer storing 1 then 2: every read is whole, written, and monotonic.
#[test]
fn seqlatch_reads_are_whole_and_monotonic() {
    loom::model(|| {
        let latch = Arc::new(SeqLatch::new([0u64; 2]));
        let l = latch.clone();
        let writer = thread::spawn(move || {
            l.store([1; 2]);
            l.store([2; 2]);
        });
        let a = whole(latch.read());
        let b = whole(latch.read());
        assert!(a <= b && b <= 2, "read {a} then {b}");
        writer.join().unwrap();
        assert_eq!(latch.read(), [2; 2]);
    });
}

/// A latch reader never waits on a writer: with one store in flight, wherever the writer is
/// paused, at most one `try_read` fails (a failure means the store finished), so two attempts
/// always yield a value. (A `SeqLock` reader can fail any number of times while the writer is
/// paused mid-store.)
#[test]
fn seqlatch_reader_does_not_wait_on_a_paused_writer() {
    loom::model(|| {
        let latch = Arc::new(SeqLatch::new([0u64; 2]));
        let l = latch.clone();
        let writer = thread::spawn(move || {
            let mut g = l.write();
            *g = [1; 2];
        });
        let v = latch
            .try_read()
            .or_else(|| latch.try_read())
            .expect("a latch read failed twice with only one store in flight");
        assert!(whole(v) <= 1);
        writer.join().unwrap();
    });
}

/// Two latch writers increment through `update` / `write`: serialised, nothing lost.
#[test]
fn seqlatch_writers_are_serialised() {
    loom::model(|| {
        let latch = Arc::new(SeqLatch::new([0u64; 2]));
        let l = latch.clone();
        let other = thread::spawn(move || l.update(|v| *v = [v[0] + 1, v[1] + 1]));
        {
            let mut g = latch.write();
            whole(*g);
            *g = [g[0] + 1, g[1] + 1];
        }
        other.join().unwrap();
        assert_eq!(latch.into_inner_checked(), [2; 2]);
    });
}

/// `into_inner` out of the `Arc` once the other thread is gone.
trait IntoInnerChecked {
    fn into_inner_checked(self) -> [u64; 2];
}

impl IntoInnerChecked for Arc<SeqLock<[u64; 2]>> {
    fn into_inner_checked(self) -> [u64; 2] {
        Arc::try_unwrap(self)
            .unwrap_or_else(|_| panic!("still shared"))
            .into_inner()
    }
}

impl IntoInnerChecked for Arc<SeqLatch<[u64; 2]>> {
    fn into_inner_checked(self) -> [u64; 2] {
        Arc::try_unwrap(self)
            .unwrap_or_else(|_| panic!("still shared"))
            .into_inner()
    }
}

/// A writer that panics under the lock publishes nothing but still hands the lock on with a
/// `Release`: the next writer sees everything the first did while it held the lock (here a loom
/// cell that the lock guards, so loom checks the hand-over).
macro_rules! panicking_writer_hands_the_lock_on {
    ($name:ident, $Lock:ident) => {
        #[test]
        fn $name() {
            struct Note(freeway_epoch::sync::cell::UnsafeCell<u32>);
            // SAFETY: the note is only touched while holding the lock's writer side.
            unsafe impl Sync for Note {}
            loom::model(|| {
                let lock = Arc::new($Lock::new([0u64; 2]));
                let note = Arc::new(Note(freeway_epoch::sync::cell::UnsafeCell::new(0)));
                let (l, n) = (lock.clone(), note.clone());
                let panicker = thread::spawn(move || {
                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        let mut g = l.write();
                        // SAFETY: we hold the writer lock.
                        n.0.with_mut(|c| unsafe { *c += 1 });
                        *g = [9; 2];
                        // A panic without the hook's message (printed once per execution).
                        std::panic::resume_unwind(Box::new("a writer gives up"));
                    }));
                    assert!(r.is_err());
                });
                {
                    let g = lock.write();
                    // SAFETY: we hold the writer lock.
                    let seen = note.0.with_mut(|c| unsafe {
                        *c += 1;
                        *c
                    });
                    assert!(seen == 1 || seen == 2);
                    assert_eq!(whole(*g), 0, "the panicking writer published nothing");
                }
                panicker.join().unwrap();
                assert_eq!(lock.read(), [0; 2]);
            });
        }
    };
}

panicking_writer_hands_the_lock_on!(seqlock_a_panicking_writer_hands_the_lock_on, SeqLock);
panicking_writer_hands_the_lock_on!(seqlatch_a_panicking_writer_hands_the_lock_on, SeqLatch);
