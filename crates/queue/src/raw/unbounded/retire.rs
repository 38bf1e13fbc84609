//! Finishing slots and retiring segments: the last finisher of a segment retires it, or parks
//! it until its other slots are finished (see "Finishing a slot, and retiring a segment" in the
//! parent module's docs).

use super::{COLLECT_EVERY, READ, RawQueue, SEGMENT_SLOTS, Segment};
use freeway_epoch::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use freeway_epoch::{Guard, Shared, pin};

/// Slots whose states `finished` combines before it looks at the result.
const SCAN_CHUNK: usize = 16;

impl<T> RawQueue<T> {
    /// Marks slot `i` finished; the finisher of the last slot tries to retire the segment.
    ///
    /// # Safety
    ///
    /// `seg` is non-null, `i < SEGMENT_SLOTS`, the caller is the slot's finisher (both its
    /// producer and its consumer are done with it, the other one before the caller), and it
    /// touches neither the slot nor the segment afterwards (but for the retirement).
    #[inline]
    pub(super) unsafe fn finish(&self, seg: *const Segment<T>, i: usize) {
        // SAFETY: the caller's contract is `mark_finished`'s.
        unsafe { self.mark_finished(seg, i) };
        if i + 1 == SEGMENT_SLOTS {
            // SAFETY: the last slot's finisher retires the segment once, or parks it.
            unsafe { self.retire(seg) };
        }
    }

    /// `finish` without the retirement: a caller that marks the segment's last slot must call
    /// `retire` itself (a batch does, after its loop).
    ///
    /// # Safety
    ///
    /// As for [`finish`](Self::finish).
    #[inline(always)]
    pub(super) unsafe fn mark_finished(&self, seg: *const Segment<T>, i: usize) {
        // SAFETY: the slot is unfinished until the store below, so `seg` is alive.
        let slot = unsafe { (*seg).slots.get_unchecked(i) };
        // A plain store: nobody writes the state after its finisher (the retirement check only
        // reads it). Release: pairs with the Acquire loads of `finished`, so every access to
        // the slot happens before the segment is retired.
        slot.state.store(READ, Release);
    }

    /// Whether every slot of `seg` is finished. Resumes where the last check of this segment
    /// stopped (`checked`): a parked segment is checked again at every retirement, and slots,
    /// once finished, stay so.
    ///
    /// # Safety
    ///
    /// `seg` is alive (not retired), its last slot is finished, and the caller is the one
    /// thread retiring or parking it.
    unsafe fn finished(seg: *const Segment<T>) -> bool {
        // SAFETY: alive by the caller's contract.
        let s = unsafe { &*seg };
        // Relaxed: only the thread that retires or parks the segment uses `checked`; the
        // limbo list's Release CAS and Acquire swap hand it from one such thread to the next.
        let from = s.checked.load(Relaxed);
        // The last slot is known to be finished. The states are combined a chunk at a time
        // with no branch per slot (a branch per slot ran the scan at a third of the speed), and
        // a chunk with an unfinished slot stops the check at its start: resuming a little early
        // is harmless, since finished slots stay finished.
        let mut i = from;
        while i < SEGMENT_SLOTS - 1 {
            let end = (i + SCAN_CHUNK).min(SEGMENT_SLOTS - 1);
            let all = s.slots[i..end]
                .iter()
                // Acquire: pairs with the finisher's Release store in `finish`.
                .fold(READ, |all, slot| all & slot.state.load(Acquire));
            if all & READ == 0 {
                s.checked.store(i, Relaxed);
                return false;
            }
            i = end;
        }
        true
    }

    /// Called once per segment, by the finisher of its last slot: retires the segment if every
    /// slot is finished, and parks it in `limbo` otherwise (a consumer or producer may still be
    /// moving a value in or out). Parked segments are checked again here, each time a later
    /// segment's last slot is finished, and freed with the queue at the latest.
    ///
    /// # Safety
    ///
    /// `seg` is non-null, its last slot is finished, and this is called once for it.
    #[cold]
    pub(super) unsafe fn retire(&self, seg: *const Segment<T>) {
        let guard = &pin();
        // Acquire: pairs with the Release CAS in `park`, so the parked segments' links are
        // visible. The swap takes the whole list, so no other thread sees it meanwhile.
        let mut parked = self.limbo.swap(Shared::null(), Acquire, guard);
        // SAFETY: forwarded.
        unsafe { self.retire_or_park(seg, guard) };
        while !parked.is_null() {
            let p = parked.as_raw();
            // SAFETY: a parked segment is not retired (only this function retires it, once,
            // after taking it out of the list), so its link is readable.
            parked = unsafe {
                (*p).witness.check();
                (*p).parked_next.load(Relaxed, guard)
            };
            // SAFETY: parked segments have their last slot finished, and we took this one off
            // the list, so we are the only caller for it.
            unsafe { self.retire_or_park(p, guard) };
        }
    }

    /// Retires `seg` if every slot is finished, parks it otherwise.
    ///
    /// # Safety
    ///
    /// As for [`retire`](Self::retire); the caller is pinned by `guard`.
    unsafe fn retire_or_park(&self, seg: *const Segment<T>, guard: &Guard) {
        // SAFETY: forwarded.
        if !unsafe { Self::finished(seg) } {
            // SAFETY: `seg` is alive and ours to park; its `parked_next` is written only by
            // the thread that parks it.
            let s = unsafe { &*seg };
            // Relaxed: the CAS below publishes it.
            let mut top = self.limbo.load(Relaxed, guard);
            loop {
                s.parked_next.store(top, Relaxed);
                // Release: pairs with the Acquire swap in `retire`, publishing `parked_next`.
                match self
                    .limbo
                    .compare_exchange(top, Shared::from(seg), Release, Relaxed, guard)
                {
                    Ok(_) => return,
                    Err(e) => top = e.current,
                }
            }
        }
        // SAFETY: every slot is finished, so no claim in it is outstanding.
        let lap = unsafe { (*seg).lap };
        self.switch_past(&self.head, lap, guard);
        self.switch_past(&self.tail, lap, guard);
        // SAFETY: 1. Neither end points to `seg` any more and every claim in it is finished, so
        // a thread that pins from now on cannot reach it; threads pinned now (switch helpers)
        // are covered by the grace period. 2. Every value was moved out by its finisher. 3.
        // Only the one caller for `seg` gets here, once.
        unsafe { self.recycle(guard, Shared::from(seg)) };
        // Every `COLLECT_EVERY`th segment, hand the thread's bag to the global queue and collect
        // now: segments come back to the pool within a few dozen retirements instead of after
        // a whole bag (64) of them and the epoch's own pace, so a small pool covers the
        // segments in flight.
        if lap % COLLECT_EVERY == 0 {
            freeway_epoch::collect_now(guard);
        }
    }
}
