//! Exclusive access: taking every entry out of the chain, for the map's owning iterator and
//! its drop.

use super::*;

impl<K, V> RawMap<K, V> {
    /// Takes every LIVE entry out of every table of the chain, leaving their slots TOMB (as a
    /// removal would), and hands each to `f`. Runs with exclusive access (`drain_owned`,
    /// `destroy`).
    ///
    /// A resize that writers left unfinished is no obstacle: with no thread inside the map, no
    /// slot is FROZEN (a mover runs no user code and finishes its slot before it returns), so
    /// every entry is LIVE in exactly one table of the chain, the one it was copied to last.
    fn take_live(&mut self, mut f: impl FnMut(Box<Entry<K, V>>)) {
        // SAFETY: `&mut self`: no other thread can reach the map, and nothing is retired
        // through this guard.
        let guard = unsafe { freeway_epoch::unprotected() };
        // Relaxed (here and below): exclusive access; whatever other threads did is ordered
        // before us by whatever handed us the map (a join, a channel, a move).
        let mut t = self.root.load(Ordering::Relaxed, guard);
        while !t.is_null() {
            let tb = table(t);
            for slot in tb.buckets.iter().flat_map(|b| b.slots.iter()) {
                let s = slot.load(Ordering::Relaxed, guard);
                // Only LIVE entries are owned by a table: MOVED, SEALED and TOMB hold none.
                invariant!(s.is_null() || s.tag() == 0, "a FROZEN slot with no mover");
                if !s.is_null() && s.tag() == 0 {
                    slot.store(Shared::null().with_tag(TOMB), Ordering::Relaxed);
                    // SAFETY: a LIVE entry is owned by its slot alone (see above), which no
                    // longer holds it; it is taken once.
                    f(unsafe { s.into_owned() }.into_box());
                }
            }
            t = tb.next.load(Ordering::Relaxed, guard);
        }
    }

    /// Moves every entry out, in no particular order, and leaves the map empty (its tables
    /// stay, to be freed by `destroy`). Runs with exclusive access (the map's `into_iter`).
    pub(crate) fn drain_owned(&mut self) -> Vec<(K, V)> {
        let mut out = Vec::with_capacity(self.len());
        self.take_live(|e| {
            let Entry { key, value, .. } = *e;
            out.push((key, value));
        });
        self.count = Striped::new(SHARED_STRIPES);
        out
    }

    /// Frees every table and entry. Runs with exclusive access (the map's `Drop`).
    ///
    /// A panic in an entry's drop is resumed after every other entry is dropped.
    pub(crate) fn destroy(&mut self) {
        let mut payload = None;
        self.take_live(|e| {
            if let Err(p) = catch_unwind(AssertUnwindSafe(move || drop(e))) {
                payload.get_or_insert(p);
            }
        });
        // SAFETY: `&mut self`: no other thread can reach the map.
        let guard = unsafe { freeway_epoch::unprotected() };
        let mut t = self.root.swap(Shared::null(), Ordering::Relaxed, guard);
        while !t.is_null() {
            // SAFETY: the chain from the root is owned by the map alone now, and its slots hold
            // no entry any more (`take_live`); each table is taken once.
            let owned = unsafe { t.into_owned() };
            t = owned.next.load(Ordering::Relaxed, guard);
        }
        if let Some(p) = payload
            && !std::thread::panicking()
        {
            resume_unwind(p);
        }
    }
}
