//! [`AtomicMapRef`]: an [`AtomicMap`] pinned once, for a run of single-key operations.

use super::{AtomicMap, IntWord, Pin, Word};
use freeway_epoch::Guard;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::BuildHasher;

/// A pinned handle on an [`AtomicMap`], from [`AtomicMap::pin`]: the map's single-key
/// operations, all under the handle's one pin. They behave exactly as the map's own methods of
/// the same names.
///
/// It holds a [`Guard`], so it is neither `Send` nor `Sync`; drop it to let the epoch advance.
///
/// # Examples
///
/// ```
/// let map = freeway_hashmap::AtomicMap::new();
/// let m = map.pin();
/// m.insert(1u64, 10u64);
/// assert_eq!(m.update(1, |v| v + 1), Some(11));
/// assert_eq!(m.remove(1), Some(11));
/// assert!(m.map().is_empty());
/// ```
pub struct AtomicMapRef<'m, K, V, S = RandomState> {
    pub(super) map: &'m AtomicMap<K, V, S>,
    pub(super) guard: Guard,
}

impl<'m, K: Word, V: Word, S: BuildHasher> AtomicMapRef<'m, K, V, S> {
    /// The map this handle works on.
    ///
    /// # Examples
    ///
    /// ```
    /// let map: freeway_hashmap::AtomicMap<u8, u8> = [(1, 2)].into_iter().collect();
    /// assert_eq!(map.pin().map().len(), 1);
    /// ```
    pub fn map(&self) -> &'m AtomicMap<K, V, S> {
        self.map
    }

    /// [`AtomicMap::get`] under this handle's pin.
    ///
    /// # Examples
    ///
    /// ```
    /// let map: freeway_hashmap::AtomicMap<u8, u8> = [(1, 2)].into_iter().collect();
    /// assert_eq!(map.pin().get(1), Some(2));
    /// ```
    #[inline]
    pub fn get(&self, key: K) -> Option<V> {
        self.map.get_in(key, Pin::Held(&self.guard))
    }

    /// [`AtomicMap::contains_key`] under this handle's pin.
    ///
    /// # Examples
    ///
    /// ```
    /// let map: freeway_hashmap::AtomicMap<u8, u8> = [(1, 2)].into_iter().collect();
    /// assert!(map.pin().contains_key(1));
    /// ```
    #[inline]
    pub fn contains_key(&self, key: K) -> bool {
        self.get(key).is_some()
    }

    /// [`AtomicMap::insert`] under this handle's pin.
    ///
    /// # Examples
    ///
    /// ```
    /// let map = freeway_hashmap::AtomicMap::new();
    /// assert_eq!(map.pin().insert(1u8, 'a'), None);
    /// ```
    #[inline]
    pub fn insert(&self, key: K, value: V) -> Option<V> {
        self.map.insert_in(key, value, Pin::Held(&self.guard))
    }

    /// [`AtomicMap::remove`] under this handle's pin.
    ///
    /// # Examples
    ///
    /// ```
    /// let map: freeway_hashmap::AtomicMap<u8, u8> = [(1, 2)].into_iter().collect();
    /// assert_eq!(map.pin().remove(1), Some(2));
    /// ```
    #[inline]
    pub fn remove(&self, key: K) -> Option<V> {
        self.map.remove_in(key, Pin::Held(&self.guard))
    }

    /// [`AtomicMap::update`] under this handle's pin.
    ///
    /// # Examples
    ///
    /// ```
    /// let map: freeway_hashmap::AtomicMap<u8, u8> = [(1, 2)].into_iter().collect();
    /// assert_eq!(map.pin().update(1, |v| v * 3), Some(6));
    /// ```
    #[inline]
    pub fn update(&self, key: K, f: impl FnMut(V) -> V) -> Option<V> {
        self.map.update_in(key, f, Pin::Held(&self.guard))
    }

    /// [`AtomicMap::get_or_insert`] under this handle's pin.
    ///
    /// # Examples
    ///
    /// ```
    /// let map = freeway_hashmap::AtomicMap::new();
    /// assert_eq!(map.pin().get_or_insert(1u8, 5u8), 5);
    /// ```
    #[inline]
    pub fn get_or_insert(&self, key: K, value: V) -> V {
        self.map
            .get_or_insert_in(key, value, Pin::Held(&self.guard))
    }

    /// [`AtomicMap::compare_exchange`] under this handle's pin.
    ///
    /// # Examples
    ///
    /// ```
    /// let map: freeway_hashmap::AtomicMap<u8, u8> = [(1, 2)].into_iter().collect();
    /// assert_eq!(map.pin().compare_exchange(1, 2, 3), Ok(2));
    /// ```
    #[inline]
    pub fn compare_exchange(&self, key: K, current: V, new: V) -> Result<V, Option<V>> {
        self.map
            .compare_exchange_in(key, current, new, Pin::Held(&self.guard))
    }

    /// [`AtomicMap::remove_if`] under this handle's pin.
    ///
    /// # Examples
    ///
    /// ```
    /// let map: freeway_hashmap::AtomicMap<u8, u8> = [(1, 2)].into_iter().collect();
    /// assert_eq!(map.pin().remove_if(1, |v| v == 2), Some(2));
    /// ```
    #[inline]
    pub fn remove_if(&self, key: K, cond: impl FnMut(V) -> bool) -> Option<V> {
        self.map.remove_if_in(key, cond, Pin::Held(&self.guard))
    }
}

impl<K: IntWord, V: IntWord, S: BuildHasher> AtomicMapRef<'_, K, V, S> {
    /// [`AtomicMap::fetch_add`] under this handle's pin.
    ///
    /// # Examples
    ///
    /// ```
    /// let map = freeway_hashmap::AtomicMap::new();
    /// let m = map.pin();
    /// assert_eq!(m.fetch_add(1u8, 1u64), 0);
    /// assert_eq!(m.fetch_add(1, 1), 1);
    /// ```
    #[inline]
    pub fn fetch_add(&self, key: K, delta: V) -> V {
        self.map.fetch_add_in(key, delta, Pin::Held(&self.guard))
    }
}

impl<K: Word, V: Word, S: BuildHasher> fmt::Debug for AtomicMapRef<'_, K, V, S> {
    /// The map's entries, as the map's own `Debug` prints them.
    ///
    /// # Examples
    ///
    /// ```
    /// let map: freeway_hashmap::AtomicMap<u8, u8> = [(1, 2)].into_iter().collect();
    /// assert_eq!(format!("{:?}", map.pin()), "{1: 2}");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.map, f)
    }
}
