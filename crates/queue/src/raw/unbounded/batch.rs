//! Batches: `push_batch` and `pop_batch` claim up to a segment's remaining slots with one
//! compare-exchange, and `push_batch` publishes up to a group of slots with one
//! read-modify-write (see "Batches" in docs/queue.md).

use super::{Claimed, GROUP, RawQueue, SEGMENT_SLOTS, WRITTEN};
use freeway_epoch::sync::atomic::Ordering::Acquire;
use std::collections::VecDeque;

impl<T> RawQueue<T> {
    /// Pushes every item of `items` in order, claiming up to a segment's worth of slots with
    /// each compare-exchange and publishing up to a [`GROUP`] of them with each
    /// read-modify-write.
    ///
    /// The lower bound of `items.size_hint()` sizes the claims: an iterator that yields fewer
    /// items has the extra slots abandoned, one that yields more has the rest pushed in later
    /// rounds, and one that panics leaves the queue holding every item it yielded before, in
    /// order.
    pub(crate) fn push_batch<I: Iterator<Item = T>>(&self, mut items: I) {
        // Values given back by poisoned slots, in order; they go before the rest of `items`.
        let mut carry: VecDeque<T> = VecDeque::new();
        // Set once `items` returned `None`: it is not called again.
        let mut exhausted = false;
        loop {
            let hint = if exhausted { 0 } else { items.size_hint().0 };
            let want = hint.saturating_add(carry.len()).min(SEGMENT_SLOTS);
            if want == 0 {
                if exhausted {
                    return;
                }
                // The hint may under-report: see whether the iterator really is exhausted.
                match items.next() {
                    Some(v) => carry.push_back(v),
                    None => return,
                }
                continue;
            }
            let (seg, off, k) = self.claim_back(want);
            let mut claim = Claimed {
                queue: self,
                seg,
                next: off,
                written: off,
                end: off + k,
            };
            while claim.written < claim.end {
                let v = match carry.pop_front() {
                    Some(v) => v,
                    None if exhausted => break,
                    None => match items.next() {
                        Some(v) => v,
                        // Fewer items than claimed: `claim`'s drop abandons the rest.
                        None => {
                            exhausted = true;
                            break;
                        }
                    },
                };
                let i = claim.written;
                // SAFETY: slot `i` is claimed by us (above), in bounds, and its cell is written
                // once: `written` moves past it at once, and a claimed cell is read by nobody
                // before it is published.
                unsafe { &*seg }.slots[i]
                    .value
                    .with_mut(|c| unsafe { (*c).write(v) });
                claim.written += 1;
                if claim.written.is_multiple_of(GROUP) || claim.written == claim.end {
                    let from = claim.next;
                    claim.next = claim.written;
                    // SAFETY: slots `from..written` lie in one group (published at every group
                    // end), are claimed by us, written, and neither published nor abandoned
                    // (`next` has moved past them, so `claim`'s drop leaves them alone).
                    if let Err(back) = unsafe { self.publish_run(seg, from, claim.written) } {
                        // Poisoned: the rest of the claim is abandoned (by `claim`'s drop), and
                        // the values given back go first at fresh slots, keeping the order.
                        for v in back.into_iter().rev() {
                            carry.push_front(v);
                        }
                        break;
                    }
                }
            }
            // A short iterator: publish what was written (the drop would push values given
            // back at once, behind nothing else of ours, which is also in order).
            let back = claim.publish();
            drop(claim);
            for v in back.into_iter().rev() {
                carry.push_front(v);
            }
            if exhausted && carry.is_empty() {
                return;
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
            let mut got = 0;
            // SAFETY: our claims keep the segment alive until we finish its slots; the last
            // `finish` may retire it, and nothing below touches it after the last one.
            let s = unsafe { &*seg };
            let mut i = off;
            while i < off + k {
                let end = (off + k).min((i / GROUP + 1) * GROUP);
                let (word, _) = s.state(i);
                // One load for the group. Acquire: pairs with the producers' Release
                // publication (`publish`, `publish_run`), so the values marked are visible.
                let w = word.load(Acquire);
                for j in i..end {
                    let byte = (w >> s.state(j).1) as u8;
                    let v = if byte & WRITTEN != 0 {
                        // Published, and not poisoned (only we could have set `TAKEN` on a
                        // slot we claimed): the value is ours, its producer is done with the
                        // slot, and so are we once it is out.
                        // SAFETY: as in `take`: moved out once, by the claim's holder.
                        let v = s.slots[j]
                            .value
                            .with(|c| unsafe { (*c).assume_init_read() });
                        // SAFETY: both sides are done with slot `j`.
                        unsafe { self.finish(seg, j) };
                        Some(v)
                    } else {
                        // Not published yet, or abandoned: the single-slot path decides.
                        // SAFETY: the consumer claim of slot `j` is ours, in bounds, unused.
                        unsafe { self.take(seg, j) }
                    };
                    if let Some(v) = v {
                        out.push(v);
                        got += 1;
                    }
                }
                i = end;
            }
            if got > 0 {
                return got;
            }
        }
    }
}
