//! [`HashMapRef`]: a [`HashMap`] pinned once, its methods without the guard argument.

use crate::raw::Pinned;
use crate::{HashMap, Iter, Keys, Operation, Values};
use freeway_epoch::Guard;
use std::borrow::Borrow;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hash};

/// A pinned handle on a [`HashMap`]: the map's methods without the guard argument.
///
/// It holds a [`Guard`], so it is not `Send`; drop it to let the epoch advance.
///
/// # Examples
///
/// ```
/// let map = freeway_hashmap::HashMap::new();
/// let m = map.pin();
/// m.insert('a', 1);
/// m.update('a', |v| v * 10);
/// assert_eq!(m.get(&'a'), Some(&10));
/// assert_eq!(m.len(), 1);
/// ```
pub struct HashMapRef<'m, K, V, S = RandomState> {
    pub(crate) map: &'m HashMap<K, V, S>,
    /// Pinned on the default collector at creation, so no method checks it again.
    pub(crate) guard: Pinned,
}

impl<'m, K, V, S> HashMapRef<'m, K, V, S>
where
    K: Hash + Eq + Send + 'static,
    V: Send + 'static,
    S: BuildHasher,
{
    /// The guard this handle holds.
    ///
    /// # Examples
    ///
    /// ```
    /// let map: freeway_hashmap::HashMap<u8, u8> = freeway_hashmap::HashMap::new();
    /// let m = map.pin();
    /// assert_eq!(map.get(&1, m.guard()), None);
    /// ```
    pub fn guard(&self) -> &Guard {
        self.guard.guard()
    }

    /// See [`HashMap::get`].
    ///
    /// # Examples
    ///
    /// ```
    /// let map = freeway_hashmap::HashMap::new();
    /// let m = map.pin();
    /// m.insert(1, 2);
    /// assert_eq!(m.get(&1), Some(&2));
    /// ```
    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.get_kv_in(key, &self.guard).map(|(_, v)| v)
    }

    /// See [`HashMap::get_key_value`].
    ///
    /// # Examples
    ///
    /// ```
    /// let map = freeway_hashmap::HashMap::new();
    /// let m = map.pin();
    /// m.insert(1, 2);
    /// assert_eq!(m.get_key_value(&1), Some((&1, &2)));
    /// ```
    pub fn get_key_value<Q>(&self, key: &Q) -> Option<(&K, &V)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.get_kv_in(key, &self.guard)
    }

    /// See [`HashMap::contains_key`].
    ///
    /// # Examples
    ///
    /// ```
    /// let map = freeway_hashmap::HashMap::new();
    /// let m = map.pin();
    /// m.insert(1, 2);
    /// assert!(m.contains_key(&1));
    /// ```
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.get_kv_in(key, &self.guard).is_some()
    }

    /// See [`HashMap::insert`].
    ///
    /// # Examples
    ///
    /// ```
    /// let map = freeway_hashmap::HashMap::new();
    /// let m = map.pin();
    /// assert_eq!(m.insert(1, 2), None);
    /// assert_eq!(m.insert(1, 3), Some(&2));
    /// ```
    pub fn insert(&self, key: K, value: V) -> Option<&V> {
        self.map.insert_in(key, value, &self.guard)
    }

    /// See [`HashMap::remove`].
    ///
    /// # Examples
    ///
    /// ```
    /// let map = freeway_hashmap::HashMap::new();
    /// let m = map.pin();
    /// m.insert(1, 2);
    /// assert_eq!(m.remove(&1), Some(&2));
    /// ```
    pub fn remove<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.remove_in(key, &self.guard)
    }

    /// See [`HashMap::update`] (`f` may run more than once).
    ///
    /// # Examples
    ///
    /// ```
    /// let map = freeway_hashmap::HashMap::new();
    /// let m = map.pin();
    /// m.insert(1, 2);
    /// assert_eq!(m.update(1, |v| v + 1), Some(&3));
    /// ```
    pub fn update<F>(&self, key: K, f: F) -> Option<&V>
    where
        F: Fn(&V) -> V,
    {
        self.map.update_in(key, f, &self.guard)
    }

    /// See [`HashMap::get_or_insert_with`].
    ///
    /// # Examples
    ///
    /// ```
    /// let map = freeway_hashmap::HashMap::new();
    /// let m = map.pin();
    /// assert_eq!(m.get_or_insert_with(1, || 7), &7);
    /// ```
    pub fn get_or_insert_with<F>(&self, key: K, f: F) -> &V
    where
        F: FnOnce() -> V,
    {
        self.map.get_or_insert_with_in(key, f, &self.guard)
    }

    /// See [`HashMap::compute`].
    ///
    /// # Examples
    ///
    /// ```
    /// use freeway_hashmap::{HashMap, Operation};
    /// let map = HashMap::new();
    /// let m = map.pin();
    /// assert_eq!(m.compute(1, |_| Operation::Insert(5)), (None, Some(&5)));
    /// ```
    pub fn compute<F>(&self, key: K, f: F) -> (Option<&V>, Option<&V>)
    where
        F: FnMut(Option<&V>) -> Operation<V>,
    {
        self.map.compute_in(key, f, &self.guard)
    }

    /// See [`HashMap::retain`].
    ///
    /// # Examples
    ///
    /// ```
    /// let map: freeway_hashmap::HashMap<u8, u8> = (0..4).map(|i| (i, i)).collect();
    /// let m = map.pin();
    /// m.retain(|k, _| *k < 2);
    /// assert_eq!(m.len(), 2);
    /// ```
    pub fn retain<F>(&self, f: F)
    where
        F: FnMut(&K, &V) -> bool,
    {
        self.map.retain_in(f, &self.guard)
    }

    /// See [`HashMap::clear`].
    ///
    /// # Examples
    ///
    /// ```
    /// let map: freeway_hashmap::HashMap<u8, u8> = (0..4).map(|i| (i, i)).collect();
    /// let m = map.pin();
    /// m.clear();
    /// assert!(m.is_empty());
    /// ```
    pub fn clear(&self) {
        self.map.raw.clear(&self.guard)
    }
}

impl<'m, K, V, S> HashMapRef<'m, K, V, S> {
    /// See [`HashMap::len`].
    ///
    /// # Examples
    ///
    /// ```
    /// let map: freeway_hashmap::HashMap<u8, u8> = freeway_hashmap::HashMap::new();
    /// assert_eq!(map.pin().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// See [`HashMap::is_empty`].
    ///
    /// # Examples
    ///
    /// ```
    /// let map: freeway_hashmap::HashMap<u8, u8> = freeway_hashmap::HashMap::new();
    /// assert!(map.pin().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// See [`HashMap::iter`].
    ///
    /// # Examples
    ///
    /// ```
    /// let map: freeway_hashmap::HashMap<u8, u8> = [(1, 2)].into_iter().collect();
    /// assert_eq!(map.pin().iter().count(), 1);
    /// ```
    pub fn iter(&self) -> Iter<'_, K, V> {
        self.map.iter_in(&self.guard)
    }

    /// See [`HashMap::keys`].
    ///
    /// # Examples
    ///
    /// ```
    /// let map: freeway_hashmap::HashMap<u8, u8> = [(1, 2)].into_iter().collect();
    /// assert_eq!(map.pin().keys().copied().collect::<Vec<_>>(), [1]);
    /// ```
    pub fn keys(&self) -> Keys<'_, K, V> {
        Keys {
            inner: self.map.iter_in(&self.guard),
        }
    }

    /// See [`HashMap::values`].
    ///
    /// # Examples
    ///
    /// ```
    /// let map: freeway_hashmap::HashMap<u8, u8> = [(1, 2)].into_iter().collect();
    /// assert_eq!(map.pin().values().copied().collect::<Vec<_>>(), [2]);
    /// ```
    pub fn values(&self) -> Values<'_, K, V> {
        Values {
            inner: self.map.iter_in(&self.guard),
        }
    }
}

impl<K, V, S> fmt::Debug for HashMapRef<'_, K, V, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("HashMapRef { .. }")
    }
}

impl<'a, K, V, S> IntoIterator for &'a HashMapRef<'_, K, V, S> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;
    fn into_iter(self) -> Iter<'a, K, V> {
        self.iter()
    }
}
