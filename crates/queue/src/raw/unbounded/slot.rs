//! The slot protocol: a producer publishes a value (or a batch's group of values) or abandons a
//! claimed slot, a consumer takes a value or poisons a late slot (see "Push and pop", "Slot
//! states" and "Batches and order" in the parent module's docs).

use super::{GROUP, NO_VALUE, PATIENCE, RawQueue, Segment, TAKEN, WRITTEN};
use freeway_epoch::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use freeway_epoch::sync::hint::spin_loop;

/// Slots a producer claimed in a batch: `next..written` have their values written but are not
/// yet published, `written..end` are not filled yet. Dropping it (a short iterator, a poisoned
/// slot that ends the run, or a panic from the iterator) publishes the first kind, pushing again
/// any values a poisoned slot gives back, and abandons the second.
pub(super) struct Claimed<'a, T> {
    pub(super) queue: &'a RawQueue<T>,
    pub(super) seg: *const Segment<T>,
    pub(super) next: usize,
    pub(super) written: usize,
    pub(super) end: usize,
}

impl<T> Claimed<'_, T> {
    /// Publishes `next..written`, group by group; the values of poisoned slots, in order.
    pub(super) fn publish(&mut self) -> Vec<T> {
        let mut back = Vec::new();
        while self.next < self.written {
            let to = self.written.min((self.next / GROUP + 1) * GROUP);
            let from = self.next;
            self.next = to;
            if back.is_empty() {
                // SAFETY: slots `from..to` lie in one group, are claimed by this producer,
                // written and neither published nor abandoned yet (and `next` moved past them).
                if let Err(vs) = unsafe { self.queue.publish_run(self.seg, from, to) } {
                    back = vs;
                }
            } else {
                // After a poisoned slot, later values must not overtake it: abandon these
                // slots and push their values behind it.
                for i in from..to {
                    // SAFETY: as above; the cell is written and not published, so its value is
                    // ours; the slot is abandoned once, after the value is out.
                    back.push(
                        unsafe { &*self.seg }.slots[i]
                            .value
                            .with(|c| unsafe { (*c).assume_init_read() }),
                    );
                    // SAFETY: as above.
                    unsafe { self.queue.abandon(self.seg, i) };
                }
            }
        }
        back
    }
}

impl<T> Drop for Claimed<'_, T> {
    fn drop(&mut self) {
        let back = self.publish();
        for i in self.written..self.end {
            // SAFETY: slots `written..end` of `seg` are claimed by this producer and were
            // neither filled, published nor abandoned yet; each is abandoned once.
            unsafe { self.queue.abandon(self.seg, i) };
        }
        // Only on an unwind or after `push_batch` took the values already (then `back` is
        // empty): values given back go in behind the published ones, in order.
        for v in back {
            self.queue.push(v);
        }
    }
}

impl<T> RawQueue<T> {
    /// Writes `value` into slot `i` and publishes it; gives the value back if the consumer has
    /// poisoned the slot (and then finishes the slot).
    ///
    /// # Safety
    ///
    /// `seg` is non-null, `i < SEGMENT_SLOTS`, and the caller holds the producer claim of slot
    /// `i` of `seg`, unused so far (so the segment is alive, and nobody else writes the cell).
    #[inline]
    pub(super) unsafe fn publish(
        &self,
        seg: *const Segment<T>,
        i: usize,
        value: T,
    ) -> Result<(), T> {
        // SAFETY: the caller's claim keeps `seg` alive; `i` is in bounds.
        let (s, slot) = unsafe { (&*seg, (*seg).slots.get_unchecked(i)) };
        // SAFETY: only the producer holding the claim writes this cell, and its consumer reads
        // it only after seeing `WRITTEN`, which is set below.
        slot.value.with_mut(|c| unsafe { (*c).write(value) });
        let (word, shift) = s.state(i);
        // Release: pairs with the consumer's Acquire load and `fetch_add` in `take`, so the
        // consumer that sees `WRITTEN` also sees the value written above.
        let prev = (word.fetch_add(u64::from(WRITTEN) << shift, Release) >> shift) as u8;
        if prev & TAKEN == 0 {
            // The consumer will see `WRITTEN`, move the value out and finish the slot.
            return Ok(());
        }
        // SAFETY: the slot was poisoned before our bit landed, so its consumer never reads
        // the cell: the value we wrote is still ours, and we move it out once.
        let v = slot.value.with(|c| unsafe { (*c).assume_init_read() });
        // SAFETY: the consumer is done (it poisoned the slot) and so are we: we finish it.
        unsafe { self.finish(seg, i) };
        Err(v)
    }

    /// Publishes slots `from..to` of one [`GROUP`], whose cells the caller has written, with
    /// one compare-exchange of their state word, up to the first slot a consumer has poisoned.
    /// If there is one, that slot and the rest are not published (the rest are abandoned, so
    /// that their consumers pass them): their values come back, in order, for the caller to
    /// push again behind the published ones, so that a batch never reorders its own values.
    ///
    /// # Safety
    ///
    /// `seg` is non-null, `from < to <= SEGMENT_SLOTS`, `from..to` lie in one group, and the
    /// caller holds the producer claims of those slots, has written each cell and published
    /// or abandoned none of them.
    #[inline]
    pub(super) unsafe fn publish_run(
        &self,
        seg: *const Segment<T>,
        from: usize,
        to: usize,
    ) -> Result<(), Vec<T>> {
        debug_assert!(from < to && (to - 1) / GROUP == from / GROUP);
        // SAFETY: the caller's claims keep `seg` alive.
        let s = unsafe { &*seg };
        let (word, _) = s.state(from);
        let byte = |w: u64, i: usize| (w >> s.state(i).1) as u8;
        // `bit` in the bytes of slots `lo..hi` of this group.
        let base = from - from % GROUP;
        let bits = |bit: u8, lo: usize, hi: usize| -> u64 {
            let upto = |n: usize| match n - base {
                GROUP => u64::MAX,
                k => (1u64 << (8 * k)) - 1,
            };
            (upto(hi) & !upto(lo)) & (0x0101_0101_0101_0101 * u64::from(bit))
        };
        // Relaxed: the compare-exchange below decides; nothing is read through this value.
        let mut cur = word.load(Relaxed);
        let (poisoned, prev) = loop {
            let taken = cur & bits(TAKEN, from, to);
            let poisoned = (taken != 0).then(|| base + taken.trailing_zeros() as usize / 8);
            let (new, abandoned) = match poisoned {
                None => (cur + bits(WRITTEN, from, to), 0),
                Some(p) => (
                    cur + bits(WRITTEN, from, p) + bits(NO_VALUE, p + 1, to),
                    to - p - 1,
                ),
            };
            // Counted before the bits are set, as in `abandon`. Relaxed: a statistic.
            if abandoned > 0 {
                self.holes.fetch_add(abandoned, Relaxed);
            }
            // Release: pairs with the consumers' Acquire loads and `fetch_add`s in `take`, so
            // a consumer that sees `WRITTEN` also sees the value, and one that sees `NO_VALUE`
            // comes after the count above. Relaxed on failure: the value read is only decoded.
            match word.compare_exchange_weak(cur, new, Release, Relaxed) {
                Ok(_) => break (poisoned, cur),
                Err(c) => {
                    if abandoned > 0 {
                        // Relaxed: as above.
                        self.holes.fetch_sub(abandoned, Relaxed);
                    }
                    cur = c;
                }
            }
        };
        let Some(p) = poisoned else {
            return Ok(());
        };
        // Slot `p` is poisoned: its consumer is done with it, and we finish it last, so the
        // segment stays alive while we read the cells below.
        let back: Vec<T> = (p..to)
            .map(|i| {
                // SAFETY: slot `p`'s consumer never reads its cell (it poisoned the slot), and
                // nobody reads the cell of a slot marked `NO_VALUE`: each value is still ours,
                // moved out once.
                s.slots[i]
                    .value
                    .with(|c| unsafe { (*c).assume_init_read() })
            })
            .collect();
        for i in p + 1..to {
            if byte(prev, i) & TAKEN != 0 {
                // Its consumer gave up before our `NO_VALUE` landed and passed without seeing
                // it: it is done, so are we, and its hole is no hole. Relaxed: a statistic.
                self.holes.fetch_sub(1, Relaxed);
                // SAFETY: both sides are done with slot `i`; slot `p` is still unfinished.
                unsafe { self.finish(seg, i) };
            }
        }
        // SAFETY: both sides are done with slot `p`, and we touch the segment no more.
        unsafe { self.finish(seg, p) };
        Err(back)
    }

    /// Gives up a producer claim without a value: the consumer finds `NO_VALUE` and moves on.
    ///
    /// # Safety
    ///
    /// As for [`publish`](Self::publish).
    pub(super) unsafe fn abandon(&self, seg: *const Segment<T>, i: usize) {
        // SAFETY: the caller's claim keeps `seg` alive; `i` is in bounds.
        let (word, shift) = unsafe { (*seg).state(i) };
        // Counted before the bit is set, so the consumer's decrement (after it sees the bit)
        // comes after it. Relaxed: a statistic; the bit's Release/Acquire orders the two.
        self.holes.fetch_add(1, Relaxed);
        // Release: pairs with the consumer's Acquire load and `fetch_add` in `take`, so our
        // being done with the slot (and the count above) happens before it finishes the slot.
        let prev = (word.fetch_add(u64::from(NO_VALUE) << shift, Release) >> shift) as u8;
        if prev & TAKEN != 0 {
            // The consumer came and went first, without seeing the bit: the hole is no hole.
            // Relaxed: a statistic.
            self.holes.fetch_sub(1, Relaxed);
            // SAFETY: the consumer came and went first: we are the slot's finisher.
            unsafe { self.finish(seg, i) };
        }
    }

    /// Takes the value of slot `i` for its consumer, or poisons the slot if its producer has
    /// not published within the grace period. `None`: no value here, claim another slot.
    ///
    /// # Safety
    ///
    /// `seg` is non-null, `i < SEGMENT_SLOTS`, and the caller holds the consumer claim of slot
    /// `i` of `seg`, unused so far.
    #[inline]
    pub(super) unsafe fn take(&self, seg: *const Segment<T>, i: usize) -> Option<T> {
        // SAFETY: the caller's claim keeps `seg` alive; `i` is in bounds.
        let (s, slot) = unsafe { (&*seg, (*seg).slots.get_unchecked(i)) };
        let (word, shift) = s.state(i);
        // A producer between its claim and its `WRITTEN` bit is usually a few instructions
        // from done: give it a short, bounded grace period before poisoning its slot (which
        // would cost it a retry). Bounded, so a preempted producer still never blocks us.
        //
        // Acquire (these loads): pair with the Release `fetch_add`s of `publish` and `abandon`,
        // so a value seen as `WRITTEN` is visible.
        let mut state = (word.load(Acquire) >> shift) as u8;
        let mut patience = PATIENCE;
        while state & (WRITTEN | NO_VALUE) == 0 && patience > 0 {
            spin_loop();
            patience -= 1;
            state = (word.load(Acquire) >> shift) as u8;
        }
        if state & (WRITTEN | NO_VALUE) == 0 {
            // Out of patience: poison the slot, unless the producer's bit lands first.
            // Acquire: as the loads above.
            state = (word.fetch_add(u64::from(TAKEN) << shift, Acquire) >> shift) as u8;
            if state & (WRITTEN | NO_VALUE) == 0 {
                // Poisoned: the producer takes its value back and finishes the slot.
                return None;
            }
        }
        let v = if state & WRITTEN != 0 {
            // SAFETY: `WRITTEN` was set before any `TAKEN` of ours, so the producer has let go
            // of the value; the claim is ours alone, so we move it out exactly once.
            Some(slot.value.with(|c| unsafe { (*c).assume_init_read() }))
        } else {
            // An abandoned slot, passed. Relaxed: a statistic (see `abandon`).
            self.holes.fetch_sub(1, Relaxed);
            None
        };
        // SAFETY: the producer is done with the slot (its bit is set), and so are we.
        unsafe { self.finish(seg, i) };
        v
    }
}
