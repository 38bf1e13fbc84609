//! The iterators of a [`HashMap`]: borrowing ([`Iter`], [`Keys`], [`Values`]) and owning
//! ([`IntoIter`]).

use crate::{HashMap, raw};
use std::fmt;

/// The iterator of [`HashMap::iter`].
///
/// # Examples
///
/// ```
/// let map: freeway_hashmap::HashMap<u8, u8> = [(1, 2)].into_iter().collect();
/// let guard = freeway_epoch::pin();
/// let it: freeway_hashmap::Iter<'_, u8, u8> = map.iter(&guard);
/// assert_eq!(it.count(), 1);
/// ```
pub struct Iter<'g, K, V> {
    pub(crate) raw: raw::RawIter<'g, K, V>,
}

impl<'g, K, V> Iterator for Iter<'g, K, V> {
    type Item = (&'g K, &'g V);
    fn next(&mut self) -> Option<(&'g K, &'g V)> {
        self.raw.next().map(|e| (&e.key, &e.value))
    }
}

impl<K, V> fmt::Debug for Iter<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Iter { .. }")
    }
}

/// The iterator of [`HashMap::keys`].
///
/// # Examples
///
/// ```
/// let map: freeway_hashmap::HashMap<u8, u8> = [(1, 2)].into_iter().collect();
/// let guard = freeway_epoch::pin();
/// let it: freeway_hashmap::Keys<'_, u8, u8> = map.keys(&guard);
/// assert_eq!(it.count(), 1);
/// ```
pub struct Keys<'g, K, V> {
    pub(crate) inner: Iter<'g, K, V>,
}

impl<'g, K, V> Iterator for Keys<'g, K, V> {
    type Item = &'g K;
    fn next(&mut self) -> Option<&'g K> {
        self.inner.next().map(|(k, _)| k)
    }
}

impl<K, V> fmt::Debug for Keys<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Keys { .. }")
    }
}

/// The iterator of [`HashMap::values`].
///
/// # Examples
///
/// ```
/// let map: freeway_hashmap::HashMap<u8, u8> = [(1, 2)].into_iter().collect();
/// let guard = freeway_epoch::pin();
/// let it: freeway_hashmap::Values<'_, u8, u8> = map.values(&guard);
/// assert_eq!(it.count(), 1);
/// ```
pub struct Values<'g, K, V> {
    pub(crate) inner: Iter<'g, K, V>,
}

impl<'g, K, V> Iterator for Values<'g, K, V> {
    type Item = &'g V;
    fn next(&mut self) -> Option<&'g V> {
        self.inner.next().map(|(_, v)| v)
    }
}

impl<K, V> fmt::Debug for Values<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Values { .. }")
    }
}

impl<K, V, S> IntoIterator for HashMap<K, V, S> {
    type Item = (K, V);
    type IntoIter = IntoIter<K, V>;

    /// Moves the entries out, in no particular order. The map is consumed, so no thread can be
    /// using it, and a resize left half done by its writers is no obstacle.
    ///
    /// # Examples
    ///
    /// ```
    /// let map: freeway_hashmap::HashMap<u32, String> =
    ///     (0..3).map(|i| (i, i.to_string())).collect();
    /// let mut pairs: Vec<(u32, String)> = map.into_iter().collect();
    /// pairs.sort();
    /// assert_eq!(pairs, [(0, "0".into()), (1, "1".into()), (2, "2".into())]);
    /// ```
    fn into_iter(mut self) -> IntoIter<K, V> {
        IntoIter {
            inner: self.raw.drain_owned().into_iter(),
        }
    }
}

/// The owning iterator of a [`HashMap`] (its `IntoIterator`): the entries as `(K, V)`. What it
/// has not yielded when dropped is dropped with it.
///
/// # Examples
///
/// ```
/// let map: freeway_hashmap::HashMap<u8, u8> = [(1, 2), (3, 4)].into_iter().collect();
/// let it: freeway_hashmap::IntoIter<u8, u8> = map.into_iter();
/// assert_eq!(it.len(), 2);
/// ```
pub struct IntoIter<K, V> {
    pub(crate) inner: std::vec::IntoIter<(K, V)>,
}

impl<K, V> Iterator for IntoIter<K, V> {
    type Item = (K, V);
    fn next(&mut self) -> Option<(K, V)> {
        self.inner.next()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<K, V> ExactSizeIterator for IntoIter<K, V> {}

impl<K, V> std::iter::FusedIterator for IntoIter<K, V> {}

impl<K, V> fmt::Debug for IntoIter<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntoIter")
            .field("remaining", &self.inner.len())
            .finish()
    }
}
