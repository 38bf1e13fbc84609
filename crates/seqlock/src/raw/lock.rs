//! The seqlock protocol: one copy of the data, one sequence word that is also the writer lock.
//!
//! # The sequence word
//!
//! ```text
//!  bits 2..  version   bumped by one (the word by STEP = 4) on every publication
//!  bit 1     LOCKED    a writer holds the lock (store, update, or a live write guard)
//!  bit 0     WRITING   the data words are being stored: a copy taken now may be torn
//!
//!  state                 word          readers                 writers
//!  idle                  v             read and validate       may lock (CAS v -> v|L)
//!  locked, editing       v|L           read and validate       wait (LOCKED)
//!  publishing            v|L|W         retry (WRITING)         wait (LOCKED)
//!  published + unlocked  v+4           read and validate       may lock
//! ```
//! `WRITING` is only ever set together with `LOCKED`. The version wraps after `usize::MAX / 4`
//! publications; a reader would have to sleep through exactly that many to be fooled (on a 32-bit
//! target, 2^30), as in Linux.
//!
//! # Writer
//! 1. Lock: CAS `LOCKED` in (`Acquire`), spinning with backoff while another writer holds it.
//!    A writer waits only on another writer: its publication, or the closure of its `update`,
//!    or the life of its write guard. Readers never write the word, so they never delay it.
//! 2. Optionally read the current value (the lock holder's own data: nobody else stores).
//! 3. Publish: store `v|L|W`, `fence(Release)`, store the data words `Relaxed`, store `v+4`
//!    (`Release`), which also unlocks. Or, with nothing to publish, store `v` back.
//!
//! # Reader
//! `s1 = load(Acquire)`; retry if `WRITING`; copy the words `Relaxed`; `fence(Acquire)`;
//! `s2 = load(Relaxed)`; the copy is valid iff `s1` and `s2` agree except for `LOCKED` (a writer
//! taking or dropping the lock without publishing changes no data).
//!
//! # Why this is enough (Boehm, MSPC 2012, section 4)
//! If a reader's copy contains a word written by a publication P, P's `fence(Release)` precedes
//! that store and the reader's `fence(Acquire)` follows the load that read it, so the fences
//! synchronise: P's `v|L|W` store happens before the reader's `s2` load, which therefore reads it
//! or something later, never `s1` (which was read before and is not `v|L|W`, or it would have
//! been rejected). Conversely, if `s1` is the `Release` store ending publication P (or a CAS on
//! top of it), every word P stored is visible to the copy, so nothing older is read. Together: a
//! copy with `s1 ≈ s2` holds exactly the words of the last publication before `s1`.

use super::Plain;
use super::words::Words;
use freeway_epoch::Backoff;
use freeway_epoch::sync::atomic::{AtomicUsize, Ordering, fence};
use freeway_epoch::sync::snooze;

/// Bit 0: the data words are being stored.
const WRITING: usize = 1;
/// Bit 1: a writer holds the lock.
const LOCKED: usize = 2;
/// One version step.
const STEP: usize = 4;

/// The seqlock: the sequence word and one copy of the data.
#[repr(C)]
pub(crate) struct RawSeqLock<T> {
    seq: AtomicUsize,
    data: Words<T>,
}

/// Proof that the holder owns the writer lock of a [`RawSeqLock`]. Dropping it unlocks without
/// publishing.
pub(crate) struct SeqLockWriter<'a, T: Plain> {
    lock: &'a RawSeqLock<T>,
    /// The sequence word when the lock was taken, without `LOCKED`.
    seq: usize,
}

impl<T: Plain> RawSeqLock<T> {
    pub(crate) fn new(value: T) -> Self {
        Self {
            seq: AtomicUsize::new(0),
            data: Words::new(value),
        }
    }

    /// One read attempt: `None` when a writer was publishing during it.
    #[inline]
    pub(crate) fn try_read(&self) -> Option<T> {
        // Acquire: pairs with the Release store that ended the last publication (or, through
        // the release sequence, the CAS that locked after it), so its data words are visible to
        // the copy below.
        let s1 = self.seq.load(Ordering::Acquire);
        if s1 & WRITING != 0 {
            return None;
        }
        let copy = self.data.load();
        // Acquire fence: pairs with the fence(Release) in `SeqLockWriter::publish`. If the copy
        // read any word of a later publication, that publication's `WRITING` store happens
        // before the load below, so `s2` differs from `s1`.
        fence(Ordering::Acquire);
        // Relaxed: ordered after the copy by the fence above.
        let s2 = self.seq.load(Ordering::Relaxed);
        if (s1 ^ s2) & !LOCKED == 0 {
            // SAFETY: `s1` had no `WRITING` and the version did not move between `s1` and `s2`,
            // so (module docs, "Why this is enough") every word copied is a word of the last
            // publication before `s1`, which stored a valid `T` whole.
            Some(unsafe { copy.assume_valid() })
        } else {
            None
        }
    }

    /// Reads until a copy validates.
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
            snooze(&backoff);
            if let Some(v) = self.try_read() {
                return v;
            }
        }
    }

    /// Takes the writer lock if no writer holds it.
    #[inline]
    pub(crate) fn try_lock(&self) -> Option<SeqLockWriter<'_, T>> {
        // Relaxed: only a guess for the CAS, which does the synchronising.
        let mut s = self.seq.load(Ordering::Relaxed);
        loop {
            if s & LOCKED != 0 {
                return None;
            }
            // Acquire: pairs with the Release store with which the previous writer unlocked,
            // so its data stores happen before ours (ours come later in every word's
            // modification order) and `SeqLockWriter::value` sees them.
            // Relaxed on failure: we only retry with the value seen.
            match self.seq.compare_exchange_weak(
                s,
                s | LOCKED,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Some(SeqLockWriter { lock: self, seq: s }),
                Err(actual) => s = actual,
            }
        }
    }

    /// Takes the writer lock, waiting (with backoff) while another writer holds it.
    #[inline]
    pub(crate) fn lock(&self) -> SeqLockWriter<'_, T> {
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

    #[cfg(not(loom))]
    pub(crate) fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    pub(crate) fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: Plain> SeqLockWriter<'_, T> {
    /// The current value.
    #[inline]
    pub(crate) fn value(&self) -> T {
        let copy = self.lock.data.load();
        // SAFETY: we hold the lock, so no other thread stores data words, and our locking CAS
        // (Acquire) synchronised with the Release unlock of the last writer, so the copy is
        // exactly the words of the last value stored whole.
        unsafe { copy.assume_valid() }
    }

    /// Stores `value` for readers, then unlocks.
    #[inline]
    pub(crate) fn publish(self, value: T) {
        let this = core::mem::ManuallyDrop::new(self);
        let (lock, s) = (this.lock, this.seq);
        // Relaxed: we hold the lock, so nobody else writes the word; the fence below orders this
        // store before the data stores for any reader that sees one of them.
        lock.seq.store(s | LOCKED | WRITING, Ordering::Relaxed);
        // Release fence: pairs with the fence(Acquire) in `try_read`: a reader whose copy holds
        // any of the words stored below then sees `WRITING` (or later) in its second load.
        fence(Ordering::Release);
        lock.data.store(value);
        // Release: publishes the words (pairs with the Acquire `s1` load of readers) and hands
        // the lock on (pairs with the Acquire CAS in `try_lock`).
        lock.seq.store(s.wrapping_add(STEP), Ordering::Release);
    }
}

impl<T: Plain> Drop for SeqLockWriter<'_, T> {
    /// Unlocks without publishing.
    fn drop(&mut self) {
        // Release: pairs with the Acquire CAS of the next writer (which then sees everything we
        // did while holding the lock); no data changed, so readers see the same version.
        self.lock.seq.store(self.seq, Ordering::Release);
    }
}
