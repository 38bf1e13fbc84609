//! Walking the table chain of an [`AtomicMap`](crate::AtomicMap).
//!
//! A key is handled in the first table of the chain where it has a slot (its *first table*),
//! once: there a PRESENT slot is yielded, a MOVED one is followed to the key's value in the
//! later tables, and an ABSENT one is skipped. In a later table the walk skips every key that
//! has a slot in an earlier one. A key that has a value for the whole walk had its slot in its
//! first table before the walk began (slots are never given up), so it is yielded exactly
//! once; no key is yielded twice, because a key has one slot per table and one first table.
//! Only a walk that meets a resize pays for the look back (a probe of the earlier tables per
//! slot of a later one).
//!
//! The walk ends with the last table of the chain when it began. A key that has a value for the
//! whole walk has its first table among those, and a MOVED slot there is followed by a lookup,
//! so the tables linked later hold nothing the walk owes; and without the bound, a writer that
//! keeps rehashing a small table could link new tables faster than a walk reads them, and the
//! walk (and its pin, which holds every old table) would never end.

use super::*;

/// The iterator of raw `(key, value)` pairs: the side cells first, then the table chain. It
/// owns the guard that keeps the tables it walks alive.
pub(crate) struct RawAtomicIter<'m, H> {
    map: &'m RawAtomicMap,
    /// The root table when the walk began (non-null).
    root: *const Table,
    /// The table being walked; null when the walk is over.
    table: *const Table,
    /// The last table of the chain when the walk began: the walk ends with it (see below).
    last: *const Table,
    idx: usize,
    side: u64,
    rehash: H,
    guard: Guard,
}

impl RawAtomicMap {
    /// Walks the map (see the module docs), pinned until the iterator is dropped. `rehash` is
    /// the hash of a raw key.
    pub(crate) fn iter<H: RawHash>(&self, rehash: H) -> RawAtomicIter<'_, H> {
        let guard = freeway_epoch::pin();
        let root = self.root_table(&guard);
        let mut last = root;
        while let Some(n) = last.next_table(&guard) {
            last = n;
        }
        RawAtomicIter {
            map: self,
            root: std::ptr::from_ref(root),
            last: std::ptr::from_ref(last),
            table: std::ptr::from_ref(root),
            idx: 0,
            side: 0,
            rehash,
            guard,
        }
    }
}

/// The table at `p`, one of the chain from an iterator's `root`, for as long as its `guard`.
fn tab(_guard: &Guard, p: *const Table) -> &Table {
    debug_assert!(!p.is_null());
    // SAFETY: `p` is the root the walk began at or a table reached from it through `next`,
    // loaded under the iterator's guard, which stays pinned for as long as the iterator lives
    // (and the borrow of it that the result carries); a table is freed only after a grace
    // period that began after it left the chain.
    unsafe { &*p }
}

impl<H: RawHash> RawAtomicIter<'_, H> {
    /// Whether `key`, with `hash`, has a slot in a table of the chain before `t`.
    fn claimed_before(&self, t: *const Table, hash: u64, key: u64) -> bool {
        let mut e = self.root;
        while !std::ptr::eq(e, t) {
            let et = tab(&self.guard, e);
            if RawAtomicMap::has_slot(et, hash, key) {
                return true;
            }
            e = table(et.next(&self.guard));
        }
        false
    }
}

impl RawAtomicMap {
    /// Whether `key` has a slot (in any state) in `t`.
    fn has_slot(t: &Table, hash: u64, key: u64) -> bool {
        matches!(Self::walk(t, hash, key), Walk::Found { .. })
    }
}

impl<H: RawHash> Iterator for RawAtomicIter<'_, H> {
    type Item = (u64, u64);

    fn next(&mut self) -> Option<(u64, u64)> {
        while self.side < RESERVED {
            let k = self.side;
            self.side += 1;
            if let Some(v) = self.map.side.get(k) {
                return Some((k, v));
            }
        }
        loop {
            if self.table.is_null() {
                return None;
            }
            let t = tab(&self.guard, self.table);
            if self.idx >= t.capacity() {
                self.table = if std::ptr::eq(self.table, self.last) {
                    std::ptr::null()
                } else {
                    t.next(&self.guard).as_raw()
                };
                self.idx = 0;
                continue;
            }
            let idx = self.idx;
            self.idx += 1;
            let (key, value) = match decode(t.load(idx)) {
                Slot::Present { key, value } => (key, Some(value)),
                Slot::Moved { key } => (key, None),
                _ => continue,
            };
            // The key's hash, computed once, only if the walk needs it (a later table, or a
            // MOVED slot to follow).
            let mut hash = None;
            let mut hash_of = |key| *hash.get_or_insert_with(|| self.rehash.hash_raw(key));
            if !std::ptr::eq(self.table, self.root)
                && self.claimed_before(self.table, hash_of(key), key)
            {
                continue;
            }
            match value {
                Some(v) => return Some((key, v)),
                None => {
                    let next = table(t.next(&self.guard));
                    if let Some(v) = RawAtomicMap::get_from(next, hash_of(key), key, &self.guard) {
                        return Some((key, v));
                    }
                }
            }
        }
    }
}
