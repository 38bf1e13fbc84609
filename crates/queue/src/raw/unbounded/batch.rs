//! Batches: `push_batch` and `pop_batch` claim up to a segment's remaining slots with one
//! compare-exchange (see "Batches" in docs/queue.md).

use super::{Claimed, RawQueue, SEGMENT_SLOTS, Taken};

impl<T> RawQueue<T> {
    /// Pushes every item of `items` in order, claiming up to a segment's worth of slots with
    /// each compare-exchange.
    ///
    /// The lower bound of `items.size_hint()` sizes the claims: an iterator that yields fewer
    /// items has the extra slots abandoned, one that yields more has the rest pushed in later
    /// rounds, and one that panics leaves the queue consistent with the items pushed so far.
    pub(crate) fn push_batch<I: Iterator<Item = T>>(&self, mut items: I) {
        // A value given back by a poisoned slot; it goes before the rest of `items`.
        let mut carry: Option<T> = None;
        loop {
            let want = items
                .size_hint()
                .0
                .saturating_add(usize::from(carry.is_some()))
                .min(SEGMENT_SLOTS);
            if want == 0 {
                // The hint may under-report: see whether the iterator really is exhausted.
                match items.next() {
                    Some(v) => carry = Some(v),
                    None => return,
                }
                continue;
            }
            let (seg, off, k, _) = self.claim_back(want, None);
            let mut claim = Claimed {
                queue: self,
                seg,
                next: off,
                end: off + k,
            };
            if let Some(v) = carry.take() {
                let i = claim.next;
                claim.next += 1;
                // SAFETY: slot `i` is claimed by us (above), in bounds, and used once.
                if let Err(v) = unsafe { self.publish(seg, i, v) } {
                    // Poisoned again: `claim`'s drop abandons the rest of the range.
                    carry = Some(v);
                    continue;
                }
            }
            while claim.next < claim.end {
                // Fewer items than claimed: `claim`'s drop abandons the rest.
                let Some(v) = items.next() else {
                    return;
                };
                let i = claim.next;
                claim.next += 1;
                // SAFETY: slot `i` is claimed by us (above), in bounds, and used once.
                if let Err(v) = unsafe { self.publish(seg, i, v) } {
                    // Poisoned: the rest of the range is abandoned and `v` and the rest are
                    // pushed at fresh slots, keeping the order.
                    carry = Some(v);
                    break;
                }
            }
        }
    }

    /// Moves up to `max` values from the front of the queue into `out`, claiming them with one
    /// compare-exchange (a segment end may cut the batch short). Returns how many it moved;
    /// 0 only if the queue was empty.
    pub(crate) fn pop_batch(&self, out: &mut Vec<T>, max: usize) -> usize {
        if max == 0 {
            return 0;
        }
        loop {
            // Reserve before claiming: nothing may panic while we hold claims.
            out.reserve(max.min(SEGMENT_SLOTS));
            let Some((seg, off, k)) = self.claim_front(max) else {
                return 0;
            };
            let len = out.len();
            let dst = out.spare_capacity_mut();
            let mut got = 0;
            // Whether we finish the segment's last slot, and so retire the segment: it is in
            // the range only at the range's end, and a slot we poison is its producer's to
            // finish.
            let mut retire = off + k == SEGMENT_SLOTS;
            for i in off..off + k {
                // SAFETY: the consumer claim of slot `i` is ours (above), in bounds, used once.
                match unsafe { self.take_unfinished(seg, i) } {
                    Taken::Value(v) => {
                        // SAFETY: `got < k <= max.min(SEGMENT_SLOTS)`, the spare capacity
                        // reserved above.
                        unsafe { dst.get_unchecked_mut(got) }.write(v);
                        got += 1;
                    }
                    Taken::Hole => {}
                    Taken::Poisoned => {
                        retire &= i + 1 < SEGMENT_SLOTS;
                        continue;
                    }
                }
                // SAFETY: we are the slot's finisher (not poisoned), done with it, and touch it
                // no more; the segment's last slot is retired below.
                unsafe { self.mark_finished(seg, i) };
            }
            // SAFETY: the first `got` spare elements were written above.
            unsafe { out.set_len(len + got) };
            if retire {
                // SAFETY: we finished the segment's last slot, in the loop above, and retire
                // the segment once, as its finisher.
                unsafe { self.retire(seg) };
            }
            if got > 0 {
                return got;
            }
        }
    }
}
