//! Rayon support (feature `rayon`): parallel inserts and a parallel iterator over a pinned map.
//!
//! Safe code only: every rayon worker pins the default collector itself (`HashMap::pin`), so the
//! inserts are ordinary lock-free inserts from several threads.

use crate::{HashMap, HashMapRef};
use rayon::iter::plumbing::UnindexedConsumer;
use rayon::iter::{FromParallelIterator, IntoParallelIterator, ParallelExtend, ParallelIterator};
use std::fmt;
use std::hash::{BuildHasher, Hash};

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

/// The parallel iterator of [`HashMapRef::par_iter`]: the map's entries as `(&K, &V)`.
///
/// The walk of the table is the weakly consistent one of [`HashMapRef::iter`] (an entry present
/// for the whole call is yielded exactly once), done on the calling thread; the consumer's
/// per-entry work then runs on rayon's workers.
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
    entries: Vec<(&'g K, &'g V)>,
}

impl<K, V> fmt::Debug for ParIter<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("ParIter { .. }")
    }
}

impl<'g, K: Sync, V: Sync> ParallelIterator for ParIter<'g, K, V> {
    type Item = (&'g K, &'g V);

    fn drive_unindexed<C>(self, consumer: C) -> C::Result
    where
        C: UnindexedConsumer<Self::Item>,
    {
        self.entries.into_par_iter().drive_unindexed(consumer)
    }

    fn opt_len(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

impl<K, V, S> HashMapRef<'_, K, V, S>
where
    K: Sync,
    V: Sync,
{
    /// A rayon parallel iterator over the entries, valid while this handle is pinned.
    ///
    /// The entries are gathered by one weakly consistent walk (as [`HashMapRef::iter`]; it never
    /// waits for a resize) and handed to rayon, so what runs in parallel is the work done per
    /// entry, not the walk itself.
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
            entries: self.iter().collect(),
        }
    }
}
