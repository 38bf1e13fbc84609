//! The spare segments of one queue (see "Recycling" in the parent module's docs).

use super::{POOL_SLOTS, Segment};
use freeway_epoch::sync::Witness;
use freeway_epoch::sync::atomic::AtomicUsize;
use freeway_epoch::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use freeway_epoch::{Atomic, Guard, Shared, unprotected};

/// Spare segments of one queue: a bounded Treiber stack (R. Kent Treiber, IBM RJ 5118, 1986)
/// linked through the segments' own `next` fields.
///
/// Shared through an [`Arc`](freeway_epoch::sync::Arc) by the queue and by the deferred
/// closures that park retired segments here, since those may run after the queue is gone; the
/// last owner frees the spares.
///
/// ABA: `take` runs pinned, and a segment it pops goes back into the queue, whence it returns
/// here only through retirement and a grace period, which cannot end while any thread that
/// read it as the top is still pinned. So the top a `take` read cannot come back under it, and
/// the CAS never succeeds with a stale `next`. A popped segment that does not get linked (a lost
/// `next` CAS) goes through the same grace period (`RawQueue::recycle`) for the same reason.
pub(super) struct Pool<T> {
    /// The top spare, null when there is none.
    top: Atomic<Segment<T>>,
    /// Spares parked (an upper bound of the stack's depth, which `put` keeps `<= POOL_SLOTS`).
    len: AtomicUsize,
    /// The pool's making as loom sees it: checked where a thread reaches the pool through the
    /// queue's pointer to it.
    pub(super) witness: Witness,
}

impl<T> Pool<T> {
    pub(super) fn new() -> Self {
        Self {
            top: Atomic::null(),
            len: AtomicUsize::new(0),
            witness: Witness::new(),
        }
    }

    /// Pops a spare segment, now the caller's alone (see the type docs for why it has no ABA).
    pub(super) fn take(&self, guard: &Guard) -> Option<*mut Segment<T>> {
        debug_assert!(
            freeway_epoch::is_pinned(),
            "the ABA argument needs a real pin"
        );
        // Acquire: pairs with the Release CAS in `put`, so the link stored there is visible.
        let mut top = self.top.load(Acquire, guard);
        loop {
            let p = top.as_raw().cast_mut();
            if p.is_null() {
                return None;
            }
            // SAFETY: `p` was in the stack while we were pinned; it is freed only by `Pool`'s
            // drop (not while `&self` lives) or after a grace period that our pin holds back.
            // Only its `next` field is read, atomically: the popper may be resetting the rest.
            let next = unsafe { (*p).next.load(Relaxed, guard) };
            // Acquire (both): as the load above, for the new top.
            match self
                .top
                .compare_exchange(top, next, Acquire, Acquire, guard)
            {
                Ok(_) => {
                    // Relaxed: a bound on the depth, not synchronisation.
                    self.len.fetch_sub(1, Relaxed);
                    return Some(p);
                }
                Err(e) => top = e.current,
            }
        }
    }

    /// Parks the retired segment `p`, or frees it if [`POOL_SLOTS`] spares are parked already.
    ///
    /// # Safety
    ///
    /// - `p` came from `Box::into_raw` (an `Owned`), its grace period is over (no thread can
    ///   reach it), every value was moved out of it, and it is handed over once.
    pub(super) unsafe fn put(&self, p: *mut Segment<T>) {
        // Relaxed: a bound on the depth, not synchronisation.
        if self.len.fetch_add(1, Relaxed) >= POOL_SLOTS {
            self.len.fetch_sub(1, Relaxed);
            // SAFETY: by the contract, `p` is an unreachable boxed segment with no values.
            drop(unsafe { Box::from_raw(p) });
            return;
        }
        // SAFETY: the stack is only read through atomics and never dereferenced here.
        let guard = unsafe { unprotected() };
        let mut top = self.top.load(Relaxed, guard);
        loop {
            // SAFETY: `p` is ours alone (see the contract); the link is published by the CAS.
            unsafe { (*p).next.store(top, Relaxed) };
            // Release: pairs with the Acquire loads and CAS of `take`, publishing the link and
            // (with the grace period before it) every earlier access to the segment.
            match self.top.compare_exchange(
                top,
                Shared::from(p.cast_const()),
                Release,
                Relaxed,
                guard,
            ) {
                Ok(_) => return,
                Err(e) => top = e.current,
            }
        }
    }
}

impl<T> Drop for Pool<T> {
    fn drop(&mut self) {
        // SAFETY: the last owner: nobody else can reach the stack.
        let guard = unsafe { unprotected() };
        let mut top = self.top.load(Relaxed, guard);
        while !top.is_null() {
            // SAFETY: every parked segment came from `Box::into_raw`, holds no values and is
            // owned by the stack alone; each is freed once as we walk the links.
            let seg = unsafe { top.into_owned() };
            top = seg.next.load(Relaxed, guard);
            drop(seg);
        }
    }
}
