//! Rayon support (feature `rayon`): parallel inserts and a parallel iterator over a pinned map.
//!
//! Safe code only: every rayon worker pins the default collector itself (`HashMap::pin`), so the
//! inserts are ordinary lock-free inserts from several threads; the parallel walk goes through
//! `raw::RootView`, whose entries the caller's pin protects on every worker.

use crate::{HashMap, HashMapRef, raw};
use rayon::iter::plumbing::{Reducer, UnindexedConsumer};
use rayon::iter::{FromParallelIterator, IntoParallelIterator, ParallelExtend, ParallelIterator};
use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::marker::PhantomData;
use std::sync::{Mutex, PoisonError};

impl<K, V, S> ParallelExtend<(K, V)> for &HashMap<K, V, S>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Send + Sync + 'static,
    S: BuildHasher + Sync,
{
    /// Inserts every pair, from rayon's workers (each pins once per piece of work it takes);
    /// a later pair of a key replaces an earlier one in no particular order.
    ///
    /// # Examples
    ///
    /// ```
    /// use rayon::prelude::*;
    ///
    /// let map = freeway_hashmap::HashMap::new();
    /// (&map).par_extend((0..1000u32).into_par_iter().map(|i| (i, i * 2)));
    /// assert_eq!(map.len(), 1000);
    /// assert_eq!(map.pin().get(&7), Some(&14));
    /// ```
    fn par_extend<I>(&mut self, par_iter: I)
    where
        I: IntoParallelIterator<Item = (K, V)>,
    {
        let map: &HashMap<K, V, S> = self;
        par_iter.into_par_iter().for_each_init(
            || map.pin(),
            |m, (k, v)| {
                m.insert(k, v);
            },
        );
    }
}

impl<K, V, S> ParallelExtend<(K, V)> for HashMap<K, V, S>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Send + Sync + 'static,
    S: BuildHasher + Sync,
{
    /// See the impl for `&HashMap`.
    ///
    /// # Examples
    ///
    /// ```
    /// use rayon::prelude::*;
    ///
    /// let mut map = freeway_hashmap::HashMap::new();
    /// map.par_extend((0..100u32).into_par_iter().map(|i| (i, i)));
    /// assert_eq!(map.len(), 100);
    /// ```
    fn par_extend<I>(&mut self, par_iter: I)
    where
        I: IntoParallelIterator<Item = (K, V)>,
    {
        (&*self).par_extend(par_iter);
    }
}

impl<K, V, S> FromParallelIterator<(K, V)> for HashMap<K, V, S>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Send + Sync + 'static,
    S: BuildHasher + Default + Sync,
{
    /// Builds a map from rayon's workers (see `par_extend`).
    ///
    /// # Examples
    ///
    /// ```
    /// use rayon::prelude::*;
    ///
    /// let map: freeway_hashmap::HashMap<u64, u64> =
    ///     (0..1000u64).into_par_iter().map(|i| (i, i + 1)).collect();
    /// assert_eq!(map.len(), 1000);
    /// assert_eq!(map.pin().get(&999), Some(&1000));
    /// ```
    fn from_par_iter<I>(par_iter: I) -> Self
    where
        I: IntoParallelIterator<Item = (K, V)>,
    {
        let map = HashMap::with_hasher(S::default());
        (&map).par_extend(par_iter);
        map
    }
}

/// Slots of the root table per piece of a parallel walk: rayon splits the pieces between its
/// workers; a piece is a few cache lines of tag words and 8 slot lines per 64 slots.
const PIECE: usize = 1024;

/// The parallel iterator of [`HashMapRef::par_iter`]: the map's entries as `(&K, &V)`.
///
/// The walk itself is split between rayon's workers, piece by piece of the table (see
/// [`HashMapRef::par_iter`] for what it guarantees).
///
/// # Examples
///
/// ```
/// use rayon::prelude::*;
///
/// let map: freeway_hashmap::HashMap<u32, u32> = (0..100).map(|i| (i, i)).collect();
/// let m = map.pin();
/// let it: freeway_hashmap::ParIter<'_, u32, u32> = m.par_iter();
/// assert_eq!(it.count(), 100);
/// ```
pub struct ParIter<'g, K, V> {
    view: raw::RootView<'g, K, V>,
}

impl<K, V> fmt::Debug for ParIter<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("ParIter { .. }")
    }
}

/// The entries of one piece of the root table, whose addresses it adds to the walk's `seen`
/// list when it is done (or dropped early by a consumer that has what it needs).
struct Piece<'g, 's, K, V, I> {
    entries: I,
    yielded: Vec<usize>,
    seen: &'s Mutex<Vec<usize>>,
    _entry: PhantomData<&'g raw::Entry<K, V>>,
}

impl<'g, K, V, I: Iterator<Item = &'g raw::Entry<K, V>>> Iterator for Piece<'g, '_, K, V, I> {
    type Item = (&'g K, &'g V);

    fn next(&mut self) -> Option<(&'g K, &'g V)> {
        let e = self.entries.next()?;
        self.yielded.push(std::ptr::from_ref(e) as usize);
        Some((&e.key, &e.value))
    }
}

impl<K, V, I> Drop for Piece<'_, '_, K, V, I> {
    fn drop(&mut self) {
        // A panic in a consumer elsewhere may have poisoned the lock; the list is still whole.
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.append(&mut self.yielded);
    }
}

impl<'g, K: Sync, V: Sync> ParallelIterator for ParIter<'g, K, V> {
    type Item = (&'g K, &'g V);

    fn drive_unindexed<C>(self, consumer: C) -> C::Result
    where
        C: UnindexedConsumer<Self::Item>,
    {
        let view = self.view;
        let seen = Mutex::new(Vec::new());
        let left = consumer.split_off_left();
        let reducer = consumer.to_reducer();
        // The root table, piece by piece on rayon's workers.
        let first = (0..view.slots().div_ceil(PIECE))
            .into_par_iter()
            .flat_map_iter(|p| Piece {
                entries: view.range(p * PIECE, (p + 1) * PIECE),
                yielded: Vec::new(),
                seen: &seen,
                _entry: PhantomData,
            })
            .drive_unindexed(left);
        // Then the tables a resize linked after it, if any (rare; walked on this thread). The
        // `seen` list is sorted for that walk only: a table is never unlinked from its next, so
        // if none is linked now, no entry left the root table while the pieces walked it.
        let mut rest: Vec<(&'g K, &'g V)> = Vec::new();
        if view.resized() && !consumer.full() {
            let seen = seen.into_inner().unwrap_or_else(PoisonError::into_inner);
            rest = view.rest(seen).map(|e| (&e.key, &e.value)).collect();
        }
        let rest = rest.into_par_iter().drive_unindexed(consumer);
        reducer.reduce(first, rest)
    }
}

impl<K, V, S> HashMapRef<'_, K, V, S>
where
    K: Sync,
    V: Sync,
{
    /// A rayon parallel iterator over the entries, valid while this handle is pinned.
    ///
    /// Rayon's workers walk the table in pieces, in parallel. The walk is weakly consistent, as
    /// [`HashMapRef::iter`]'s: an entry present for the whole call is yielded exactly once, and
    /// it never waits for a resize. If a resize has linked a new table, the entries that only it
    /// holds are gathered after the pieces, on the calling thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use rayon::prelude::*;
    ///
    /// let map: freeway_hashmap::HashMap<u64, u64> = (1..=100).map(|i| (i, i)).collect();
    /// let m = map.pin();
    /// let sum: u64 = m.par_iter().map(|(_, v)| *v).sum();
    /// assert_eq!(sum, 5050);
    /// ```
    pub fn par_iter(&self) -> ParIter<'_, K, V> {
        ParIter {
            view: self.map.raw.root_view(&self.guard),
        }
    }
}
