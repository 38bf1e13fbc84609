//! Resizing: the decision to grow, creating the next table, and copying a table's slots into it
//! chunk by chunk (see "Resize" in the parent module's docs).

use super::*;

impl<K, V> RawMap<K, V> {
    /// Spins until `table.slot(idx)` no longer holds `s` (a FROZEN word being moved).
    pub(super) fn wait_moved(
        t: &Table<K, V>,
        idx: usize,
        s: Shared<'_, Entry<K, V>>,
        guard: &Guard,
    ) {
        // Relaxed: the word is only compared with `s`; both callers then load the slot again
        // with Acquire (the walk looks at the same slot again, `clear` repeats its loop), which
        // pairs with the Release store of MOVED in `copy_slot`.
        freeway_epoch::sync::wait_until(|| t.slot(idx).load(Ordering::Relaxed, guard) != s);
    }

    /// Whether a chain of `chain.dist` slots calls for a resize, and to what capacity (see
    /// `chain::grow_decision`).
    pub(super) fn grow_decision(&self, t: &Table<K, V>, chain: &Chain) -> Option<usize> {
        chain::grow_decision(t, chain.dist, t.limit, self.len(), MIN_CAPACITY)
    }

    /// Returns `t`'s next table, creating it with `cap` slots if there is none.
    pub(super) fn start_resize<'g>(
        &self,
        t: &'g Table<K, V>,
        cap: usize,
        guard: &'g Guard,
    ) -> Shared<'g, Table<K, V>> {
        chain::start_resize(t, cap, guard)
    }

    /// Makes the root table ready for `additional` more claims beyond the entries live now (see
    /// `chain::reserve`).
    pub(crate) fn reserve(&self, additional: usize, pinned: &Pinned) {
        let guard = pinned.guard();
        chain::reserve(
            &self.root,
            || self.len(),
            additional,
            guard,
            |ts| {
                // Relaxed: as in `help_copy`, the counter only partitions the work.
                while table(ts).claim.load(Ordering::Relaxed) < table(ts).capacity() {
                    self.help_copy(ts, guard);
                }
            },
        );
    }

    /// Copies one chunk of `t` (a table with a next table) and promotes it when the copy is done.
    pub(super) fn help_copy<'g>(&self, ts: Shared<'g, Table<K, V>>, guard: &'g Guard) {
        let t = table(ts);
        let next = chain::next(t, guard);
        if next.is_null() {
            return;
        }
        let cap = t.capacity();
        // Relaxed: the claim only partitions the work; slot contents are ordered by the slot
        // CASes themselves.
        let start = t.claim.fetch_add(COPY_CHUNK, Ordering::Relaxed);
        if start >= cap {
            return;
        }
        let end = (start + COPY_CHUNK).min(cap);
        for i in start..end {
            self.copy_slot(t, i, table(next), guard);
        }
        chain::finish_part(&self.root, ts, end - start, guard);
    }

    /// Moves slot `i` of `t` into `next`.
    pub(super) fn copy_slot<'g>(
        &self,
        t: &'g Table<K, V>,
        i: usize,
        next: &'g Table<K, V>,
        guard: &'g Guard,
    ) {
        loop {
            // Acquire: pairs with the CASes that published the slot's entry.
            let s = t.slot(i).load(Ordering::Acquire, guard);
            match decode(s) {
                Slot::Empty => {
                    if Self::seal(t, i, guard) {
                        return;
                    }
                }
                Slot::Sealed => {
                    // A writer's seal, maybe not tagged yet: the copy of a chunk leaves every
                    // slot of it tagged.
                    t.publish(i, SEALED_TAG);
                    return;
                }
                // Tagged before they left LIVE.
                Slot::Tomb | Slot::Moved => return,
                Slot::Live(e) => {
                    // Tag a claim before acting on it (see "Tag bytes"): its entry's state
                    // changes from here on.
                    t.publish(i, tag(e.hash));
                    // Relaxed: the freeze publishes nothing and reads nothing. A thread that
                    // sees FROZEN reads the entry, which the exchange that made the slot LIVE
                    // published with a Release that this read-modify-write continues (a
                    // release sequence); a writer waits for MOVED, whose Release store
                    // publishes the copy; an iterator needs the tag only if the insert was
                    // over before its walk, and then sees it through that insert. We read `e`
                    // through our own Acquire load above, and the exchange only decides who
                    // moves the slot (writers' exchanges fail from now on). Relaxed on failure:
                    // the replacement entry is not read here; the loop loads the slot again.
                    if t.slot(i)
                        .compare_exchange(
                            s,
                            s.with_tag(MOVING),
                            Ordering::Relaxed,
                            Ordering::Relaxed,
                            guard,
                        )
                        .is_ok()
                    {
                        self.insert_copy(next, s, e.hash, guard);
                        // Release: pairs with the Acquire loads in `get` and
                        // `locate`: whoever sees MOVED sees the entry in the next table.
                        t.slot(i)
                            .store(Shared::null().with_tag(MOVING), Ordering::Release);
                        return;
                    }
                }
                Slot::Frozen(_) => {
                    // Only the owner of a chunk freezes its slots, and chunks are claimed once.
                    invariant!(false, "a slot frozen twice");
                    return;
                }
            }
        }
    }

    /// Inserts the (frozen elsewhere) entry `p` into `t` or a later table, by pointer: its key
    /// is absent from those tables until its old slot is MOVED, so no key comparison is needed.
    pub(super) fn insert_copy<'g>(
        &self,
        t: &'g Table<K, V>,
        p: Shared<'g, Entry<K, V>>,
        hash: u64,
        guard: &'g Guard,
    ) {
        let mut t = t;
        loop {
            let (end, chain) = Self::walk(t, hash, Untagged::Look, guard, |_| false);
            let end = match end {
                Err(end) => end,
                Ok(_) => unreachable!("the matcher never matches"),
            };
            let next = match end {
                End::Empty(i) => {
                    let mut next = chain::next(t, guard);
                    if next.is_null() && !chain.saw_moved {
                        match self.grow_decision(t, &chain) {
                            None => {
                                // AcqRel: Release publishes the entry (already initialised) in
                                // its new table. Relaxed on failure: the competing claim is not
                                // read; the loop walks the table again with Acquire loads.
                                if t.slot(i)
                                    .compare_exchange(
                                        Shared::null(),
                                        p.with_tag(0),
                                        Ordering::AcqRel,
                                        Ordering::Relaxed,
                                        guard,
                                    )
                                    .is_ok()
                                {
                                    t.mark(i, hash);
                                    return;
                                }
                                continue;
                            }
                            Some(cap) => next = self.start_resize(t, cap, guard),
                        }
                    }
                    if !Self::seal(t, i, guard) {
                        continue;
                    }
                    next
                }
                // Relaxed: a slot is sealed, and tagged SEALED_TAG, only once `t.next` is
                // linked (every sealer saw it non-null first or linked it), and the walk read the
                // seal with an Acquire load of the slot or the tag word, which synchronizes with
                // the seal's Release: so this load reads the link, and the next table's making
                // happens before us through that chain.
                End::Sealed => t.next.load(Ordering::Relaxed, guard),
                End::Full => self.start_resize(t, t.capacity() * 2, guard),
            };
            t = table(next);
        }
    }

    /// Seals the EMPTY slot `i` and tags it SEALED; false if it is no longer EMPTY.
    pub(super) fn seal(t: &Table<K, V>, i: usize, guard: &Guard) -> bool {
        // AcqRel: Release orders the seal after our earlier reads (of the chain for a writer, of
        // `next` for a mover). Relaxed on failure: the competing claim is not read; every caller
        // told "no longer EMPTY" loads the slot, or walks the chain, again with Acquire.
        let sealed = t
            .slot(i)
            .compare_exchange(
                Shared::null(),
                Shared::null().with_tag(SEALED),
                Ordering::AcqRel,
                Ordering::Relaxed,
                guard,
            )
            .is_ok();
        if sealed {
            t.publish(i, SEALED_TAG);
        }
        sealed
    }
}
