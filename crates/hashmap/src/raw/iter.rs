//! Walking the table chain: the iterator and the parallel walk's live view (see "Iteration"
//! in the parent module).

use super::*;

/// Walks the table chain from the root: each table's LIVE and FROZEN entries, skipping in later
/// tables the entries already yielded from earlier ones (a resize may have copied them since).
pub(crate) struct RawIter<'g, K, V> {
    pub(super) table: Option<&'g Table<K, V>>,
    pub(super) idx: usize,
    /// Addresses of the entries yielded so far; `seen[..sorted]` is sorted and covers the
    /// earlier tables.
    pub(super) seen: Vec<usize>,
    pub(super) sorted: usize,
    pub(super) guard: &'g Guard,
}

impl<'g, K, V> Iterator for RawIter<'g, K, V> {
    type Item = &'g Entry<K, V>;

    fn next(&mut self) -> Option<&'g Entry<K, V>> {
        loop {
            let t = self.table?;
            if self.idx >= t.len {
                let next = chain::next(t, self.guard);
                if next.is_null() {
                    self.table = None;
                    return None;
                }
                self.seen.sort_unstable();
                self.sorted = self.seen.len();
                self.table = Some(table(next));
                self.idx = 0;
                continue;
            }
            let idx = self.idx;
            self.idx += 1;
            if let Some(e) = t.current(idx, self.guard) {
                let p = std::ptr::from_ref(e) as usize;
                // Pointers stay unique while we are pinned: nothing we yielded can be freed and
                // its address reused before the guard drops.
                if self.seen[..self.sorted].binary_search(&p).is_ok() {
                    continue;
                }
                self.seen.push(p);
                return Some(e);
            }
        }
    }
}

impl<K, V> Table<K, V> {
    /// The entry an iterator yields at slot `idx`: a LIVE or FROZEN one whose claim is tagged.
    #[inline]
    fn current<'g>(&self, idx: usize, guard: &'g Guard) -> Option<&'g Entry<K, V>> {
        // Acquire: pairs with the CASes that publish entries.
        let s = self.slot(idx).load(Ordering::Acquire, guard);
        match decode(s) {
            // A claim not yet tagged is an insert not yet done (see "Tag bytes"): `get`, and the
            // `remove` of `retain`, would not find it, so neither does an iterator. (FROZEN
            // slots are always tagged.)
            Slot::Live(e) | Slot::Frozen(e) if self.tag_of(idx) != UNTAGGED => Some(e),
            _ => None,
        }
    }
}

/// The root table of a pinned map, for a walk split between threads (`par.rs`): each worker
/// yields the entries of a range of its slots (`range`), as [`RawIter`] does in its first table,
/// and the caller then walks the tables a resize has linked after it (`rest`), skipping what the
/// ranges yielded. Together that is `RawIter`'s walk, with its guarantee: an entry present for
/// the whole walk is yielded exactly once.
///
/// A root view holds no guard, because a `Guard` may not leave its thread: what keeps its table
/// and every entry reachable from it alive is the pin of the [`Pinned`] it was made from, which
/// the `'g` borrow keeps on the calling thread until the walk is over. Its loads go through
/// `freeway_epoch::unprotected()`, which only ties lifetimes: a root view never retires anything.
#[cfg(feature = "rayon")]
pub(crate) struct RootView<'g, K, V> {
    pub(super) table: &'g Table<K, V>,
}

// SAFETY: a root view only reads the table (atomic loads; the tag writes of `publish` are never
// reached from it) and hands out `&'g K` and `&'g V`: sending or sharing it between threads is
// sharing those references, sound when `K` and `V` are `Sync`. The memory stays valid for `'g`
// whichever thread reads it (see the type's docs: the pin is global to the collector).
#[cfg(feature = "rayon")]
unsafe impl<K: Sync, V: Sync> Send for RootView<'_, K, V> {}
// SAFETY: as for `Send`.
#[cfg(feature = "rayon")]
unsafe impl<K: Sync, V: Sync> Sync for RootView<'_, K, V> {}

#[cfg(feature = "rayon")]
impl<K, V> Clone for RootView<'_, K, V> {
    fn clone(&self) -> Self {
        *self
    }
}

#[cfg(feature = "rayon")]
impl<K, V> Copy for RootView<'_, K, V> {}

#[cfg(feature = "rayon")]
impl<'g, K, V> RootView<'g, K, V> {
    /// A guard for loads under the pin that `'g` stands for (see the type's docs).
    fn guard() -> &'g Guard {
        // SAFETY: only loads go through this guard, never a retirement (whose deferred function
        // would run at once), and everything loaded is protected by the caller's pin for `'g`.
        unsafe { freeway_epoch::unprotected() }
    }

    /// The number of slots of the table.
    pub(crate) fn slots(&self) -> usize {
        self.table.len
    }

    /// The entries of slots `start..end` (clamped to the table), in slot order.
    pub(crate) fn range(&self, start: usize, end: usize) -> impl Iterator<Item = &'g Entry<K, V>> {
        let t = self.table;
        (start..end.min(t.len)).filter_map(move |idx| t.current(idx, Self::guard()))
    }

    /// Whether a resize has linked a table after this one (then `rest` has a walk to do).
    pub(crate) fn resized(&self) -> bool {
        // Relaxed: only compared with null; `rest` loads the pointer again with Acquire before
        // it follows it.
        !self
            .table
            .next
            .load(Ordering::Relaxed, Self::guard())
            .is_null()
    }

    /// The entries of the tables after this one (none unless `resized`), skipping those at the
    /// addresses in `seen`: the ones the ranges yielded.
    pub(crate) fn rest(&self, mut seen: Vec<usize>) -> RawIter<'g, K, V> {
        let guard = Self::guard();
        let next = chain::next(self.table, guard);
        seen.sort_unstable();
        RawIter {
            table: (!next.is_null()).then(|| table(next)),
            idx: 0,
            sorted: seen.len(),
            seen,
            guard,
        }
    }
}
