//! The latch protocol (after Linux's `seqcount_latch`): two copies of the data, and a counter
//! whose parity tells readers which copy is current; writers only ever store the other one.
//!
//! # The sequence word
//!
//! ```text
//!  bits 1..  counter   bumped once per publication; counter & 1 is the current copy
//!  bit 0     LOCKED    a writer holds the lock
//!
//!  state                  word        readers use        writer is
//!  idle                   2c          copy c&1           -
//!  locked                 2c|L        copy c&1           editing its private value, or
//!                                                        storing copy (c+1)&1
//!  published + unlocked   2c+2        copy (c+1)&1       -
//! ```
//! The counter wraps after `usize::MAX / 2` publications; a reader would have to sleep through
//! exactly that many to be fooled.
//!
//! # Writer
//! 1. Lock: CAS `LOCKED` in (`Acquire`), with backoff while another writer holds it. As in the
//!    seqlock, a writer waits only on other writers; readers never write the word.
//! 2. `fence(Release)`, then store the *other* copy, `(c+1) & 1`, as `Relaxed` words. Readers
//!    that start meanwhile use copy `c & 1`, which nobody is writing.
//! 3. Flip and unlock in one `Release` store of `2c+2`: readers that start now use the new copy.
//!
//! # Reader
//! `w1 = load(Acquire)`; copy `copies[(w1 >> 1) & 1]` (`Relaxed` words); `fence(Acquire)`;
//! `w2 = load(Relaxed)`; valid iff `w1` and `w2` agree except for `LOCKED`.
//!
//! A reader never waits on a writer: wherever a writer is paused, the copy the counter selects is
//! not being written, so a read that starts during the pause validates. A read fails only when
//! the counter moved during it, that is, when a writer finished a publication.
//!
//! # Why this is enough
//! The seqlock's argument (`lock.rs`), with the locking CAS as the "writing" mark: a copy is only
//! stored by a writer whose counter no longer selects it, so a reader that copies it selected it
//! with an older counter `c' < c`. If the reader's copy holds a word stored by that writer, the
//! writer's `fence(Release)` (after its CAS) synchronises with the reader's `fence(Acquire)`,
//! so `w2` reads the CAS's `2c|L` or later, whose counter differs from `c'`: rejected. And the
//! `Release` flip that selects a copy follows every store to it, so a reader whose `w1` is that
//! flip (or the CAS after it) sees all its words.
//!
//! # Departure from Linux
//! Linux's latch (Mathieu Desnoyers and Peter Zijlstra, Linux 3.19, 2014, for NMI-safe
//! timekeeping) bumps the counter twice per write and modifies both copies, because its users
//! edit structures in place and need both current at rest. A `SeqLatch` replaces whole values,
//! so one store of the non-current copy and one flip suffice: half the stores, and the same
//! guarantee to readers. At rest the other copy holds the previous value, never read.

use super::Plain;
use super::words::Words;
use freeway_epoch::Backoff;
use freeway_epoch::sync::atomic::{AtomicUsize, Ordering, fence};
use freeway_epoch::sync::snooze;

/// Bit 0: a writer holds the lock.
const LOCKED: usize = 1;
/// One counter step.
const STEP: usize = 2;

/// The copy that counter word `w` selects.
#[inline(always)]
fn current(w: usize) -> usize {
    (w / STEP) & 1
}

/// The latch: the sequence word and two copies of the data.
#[repr(C)]
pub(crate) struct RawSeqLatch<T> {
    seq: AtomicUsize,
    copies: [Words<T>; 2],
}

/// Proof that the holder owns the writer lock of a [`RawSeqLatch`]. Dropping it unlocks without
/// publishing.
pub(crate) struct SeqLatchWriter<'a, T: Plain> {
    latch: &'a RawSeqLatch<T>,
    /// The sequence word when the lock was taken, without `LOCKED`.
    seq: usize,
}

impl<T: Plain> RawSeqLatch<T> {
    pub(crate) fn new(value: T) -> Self {
        Self {
            seq: AtomicUsize::new(0),
            copies: [Words::new(value), Words::new(value)],
        }
    }

    /// One read attempt: `None` when a writer published during it.
    #[inline]
    pub(crate) fn try_read(&self) -> Option<T> {
        // Acquire: pairs with the Release flip that selected this copy (or, through the release
        // sequence, the CAS that locked after it); the flip follows every store to the copy.
        let w1 = self.seq.load(Ordering::Acquire);
        let copy = self.copies[current(w1)].load();
        // Acquire fence: pairs with the fence(Release) in `SeqLatchWriter::publish`: if the copy
        // read a word stored by a later writer, that writer's locking CAS happens before the
        // load below, so `w2`'s counter differs from `w1`'s.
        fence(Ordering::Acquire);
        // Relaxed: ordered after the copy by the fence above.
        let w2 = self.seq.load(Ordering::Relaxed);
        if (w1 ^ w2) & !LOCKED == 0 {
            // SAFETY: the counter did not move between `w1` and `w2`, so (module docs) no writer
            // stored to the selected copy during the read, and it holds exactly the words of one
            // value stored whole from a valid `T`.
            Some(unsafe { copy.assume_valid() })
        } else {
            None
        }
    }

    /// Reads until a copy validates; each retry means a writer finished a publication.
    #[inline]
    pub(crate) fn read(&self) -> T {
        match self.try_read() {
            Some(v) => v,
            None => self.read_contended(),
        }
    }

    #[cold]
    fn read_contended(&self) -> T {
        let backoff = Backoff::new();
        loop {
            if let Some(v) = self.try_read() {
                return v;
            }
            snooze(&backoff);
        }
    }

    /// Takes the writer lock if no writer holds it.
    #[inline]
    pub(crate) fn try_lock(&self) -> Option<SeqLatchWriter<'_, T>> {
        // Relaxed: only a guess for the CAS, which does the synchronising.
        let mut w = self.seq.load(Ordering::Relaxed);
        loop {
            if w & LOCKED != 0 {
                return None;
            }
            // Acquire: pairs with the Release flip-and-unlock of the previous writer: its stores
            // happen before ours (ours are later in every word's modification order) and before
            // `SeqLatchWriter::value`'s copy.
            // Relaxed on failure: we only retry with the value seen.
            match self.seq.compare_exchange_weak(
                w,
                w | LOCKED,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    return Some(SeqLatchWriter {
                        latch: self,
                        seq: w,
                    });
                }
                Err(actual) => w = actual,
            }
        }
    }

    /// Takes the writer lock, waiting (with backoff) while another writer holds it.
    #[inline]
    pub(crate) fn lock(&self) -> SeqLatchWriter<'_, T> {
        if let Some(w) = self.try_lock() {
            return w;
        }
        let backoff = Backoff::new();
        loop {
            snooze(&backoff);
            if let Some(w) = self.try_lock() {
                return w;
            }
        }
    }

    /// The current copy, by unique reference; the next publication stores the other one whole.
    #[cfg(not(loom))]
    pub(crate) fn get_mut(&mut self) -> &mut T {
        let i = current(*self.seq.get_mut());
        self.copies[i].get_mut()
    }

    pub(crate) fn into_inner(self) -> T {
        let i = current(self.seq.into_inner());
        let [a, b] = self.copies;
        if i == 0 {
            a.into_inner()
        } else {
            b.into_inner()
        }
    }
}

impl<T: Plain> SeqLatchWriter<'_, T> {
    /// The current value.
    #[inline]
    pub(crate) fn value(&self) -> T {
        let copy = self.latch.copies[current(self.seq)].load();
        // SAFETY: we hold the lock, so no other thread stores to either copy, and our locking
        // CAS (Acquire) synchronised with the last writer's Release flip, after which the copy
        // our counter selects holds the words of the last value stored whole.
        unsafe { copy.assume_valid() }
    }

    /// Stores `value` into the copy readers are not using, then flips them to it and unlocks.
    #[inline]
    pub(crate) fn publish(self, value: T) {
        let this = core::mem::ManuallyDrop::new(self);
        let (latch, w) = (this.latch, this.seq);
        // Release fence: pairs with the fence(Acquire) in `try_read`: a reader that copies any
        // word stored below (a reader with an older counter) then sees our CAS's `w|LOCKED`, or
        // later, in its second load.
        fence(Ordering::Release);
        latch.copies[current(w) ^ 1].store(value);
        // Release: flips readers to the copy just stored (pairs with their Acquire `w1` load, so
        // they see its words) and hands the lock on (pairs with the Acquire CAS in `try_lock`).
        latch.seq.store(w.wrapping_add(STEP), Ordering::Release);
    }
}

impl<T: Plain> Drop for SeqLatchWriter<'_, T> {
    /// Unlocks without publishing.
    fn drop(&mut self) {
        // Release: pairs with the Acquire CAS of the next writer; readers ignore `LOCKED`.
        self.latch.seq.store(self.seq, Ordering::Release);
    }
}
