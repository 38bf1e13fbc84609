//! A lock-free, resizable concurrent hash map on Freeway's epoch-based reclamation core.
//!
//! [`HashMap<K, V, S>`] hands out references tied to an epoch [`Guard`]: pin once with
//! [`freeway_epoch::pin`] (or [`HashMap::pin`]) and every `&'g V` you read stays valid until the
//! guard drops, even if another thread removes or replaces the entry meanwhile.
//!
//! # The algorithm
//!
//! Open addressing with linear probing over a table of atomic pointers to boxed, immutable
//! entries, after Cliff Click's non-blocking hash table (Stanford EE380 / JavaOne, 2007), with
//! the chunked cooperative migration of Maier, Sanders and Dementiev (*Concurrent Hash Tables:
//! Fast and General?(!)*, PPoPP 2016) and the boxed-entry, wait-for-one-slot copy of papaya's
//! design notes (Ibraheem Ahmed, 2024). The private `raw` module walks through the slot states,
//! reads, writes and resizing in detail.
//!
//! # Progress
//!
//! - Reads never write shared memory and never wait: a bounded walk of the key's probe chain in
//!   each table of the (usually one-long) table chain.
//! - Writes are lock-free CAS loops on one slot, with one exception: a writer whose key sits in
//!   the very slot that another thread is moving into a new table waits until that slot's move is
//!   published (two atomic steps with no user code between them).
//! - Resizing is incremental: every writer that meets a resize copies one chunk of 64 slots, and
//!   nobody waits for the whole copy; iteration walks the old and the new table and does not
//!   need the resize to finish.
//! - `len` is a sum of striped counters: cheap, exact when no write is in flight.
//!
//! # Guards
//!
//! Entries are retired to `freeway_epoch`'s default collector, so only a guard of that collector
//! protects the references the map hands out. Every method that takes a `&Guard` checks this and
//! panics on an unprotected guard or another collector's (a foreign guard would be unsound, not
//! merely slow); the check is a dozen instructions per call. [`HashMap::pin`] pins the default
//! collector itself, so the methods of the [`HashMapRef`] it returns skip the check: pin once per
//! batch of operations and use the handle for the fastest path.
//!
//! # User code and panics
//!
//! `Hash`, `Eq` and the closures of [`HashMap::update`], [`HashMap::compute`] and
//! [`HashMap::get_or_insert_with`] run before the single CAS that changes the map, so a panic in
//! them leaves the map as it was; the key and value passed in are dropped by the unwinding. The
//! resize copies entries by pointer and runs no user code. Replaced and removed entries are
//! dropped later, after a grace period, on whichever thread collects garbage; a panic in such a
//! drop is caught and discarded there (the panic hook still reports it). Dropping the map drops
//! every remaining entry and then resumes the first panic, if any.
//!
//! # Examples
//!
//! ```
//! use freeway_hashmap::HashMap;
//!
//! let map = HashMap::new();
//! let m = map.pin();
//! m.insert("apple", 3);
//! m.update("apple", |n| n + 1);
//! assert_eq!(m.get("apple"), Some(&4));
//! assert_eq!(m.remove("apple"), Some(&4));
//! assert!(m.is_empty());
//! ```

// Every `unsafe` block of the crate lives in `raw`, the one module allowed to have them.
#![deny(unsafe_code)]

pub mod atomic_map;
mod iter;
mod map_ref;
#[cfg(feature = "rayon")]
mod par;
#[allow(unsafe_code)]
mod raw;

// docs/reclamation.md's example uses this crate, so its doctests compile and run it.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/reclamation.md")]
struct ReclamationDocExample;

pub use atomic_map::{AtomicMap, AtomicMapRef, IntWord, Word};
pub use iter::{IntoIter, Iter, Keys, Values};
pub use map_ref::HashMapRef;
#[cfg(feature = "rayon")]
pub use par::ParIter;

use freeway_epoch::Guard;
use raw::{Inserted, Pinned, RawMap};
use std::borrow::Borrow;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hash};

/// A lock-free, resizable concurrent hash map.
///
/// See the [crate docs](crate) for the algorithm and its progress guarantees. The default hasher
/// is std's [`RandomState`] (resists hash flooding); pass a faster one with
/// [`HashMap::with_hasher`]. A pathological hasher (every key the same hash) makes operations
/// slow (a walk over every colliding key), never wrong.
///
/// # Examples
///
/// ```
/// use freeway_hashmap::HashMap;
/// use freeway_epoch::sync::thread;
///
/// let map = HashMap::new();
/// thread::scope(|s| {
///     for t in 0..2u64 {
///         let map = &map;
///         s.spawn(move || {
///             let guard = freeway_epoch::pin();
///             for i in 0..100 {
///                 map.insert(t * 1000 + i, i, &guard);
///             }
///         });
///     }
/// });
/// assert_eq!(map.len(), 200);
/// ```
pub struct HashMap<K, V, S = RandomState> {
    raw: RawMap<K, V>,
    hasher: S,
}

/// What a [`HashMap::compute`] closure asks for.
///
/// # Examples
///
/// ```
/// use freeway_hashmap::{HashMap, Operation};
///
/// let map = HashMap::new();
/// let m = map.pin();
/// let counter = |old: Option<&u32>| match old {
///     Some(&n) if n >= 2 => Operation::Remove,
///     Some(&n) => Operation::Insert(n + 1),
///     None => Operation::Insert(1),
/// };
/// assert_eq!(m.compute("k", counter), (None, Some(&1)));
/// assert_eq!(m.compute("k", counter), (Some(&1), Some(&2)));
/// assert_eq!(m.compute("k", counter), (Some(&2), None));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation<V> {
    /// Leave the entry as it is (or absent).
    Keep,
    /// Insert this value, or replace the current one with it.
    Insert(V),
    /// Remove the entry (nothing if absent).
    Remove,
}

impl<K, V> HashMap<K, V, RandomState> {
    /// An empty map with the default hasher.
    ///
    /// # Examples
    ///
    /// ```
    /// let map: freeway_hashmap::HashMap<u64, u64> = freeway_hashmap::HashMap::new();
    /// assert!(map.is_empty());
    /// ```
    pub fn new() -> Self {
        Self::with_capacity_and_hasher(0, RandomState::new())
    }

    /// An empty map with room for `n` entries before it resizes.
    ///
    /// # Examples
    ///
    /// ```
    /// let map: freeway_hashmap::HashMap<u64, u64> = freeway_hashmap::HashMap::with_capacity(1000);
    /// assert!(map.capacity() >= 1000);
    /// ```
    pub fn with_capacity(n: usize) -> Self {
        Self::with_capacity_and_hasher(n, RandomState::new())
    }
}

impl<K, V, S> HashMap<K, V, S> {
    /// An empty map with the given hasher.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::collections::hash_map::RandomState;
    /// let map: freeway_hashmap::HashMap<u8, u8> =
    ///     freeway_hashmap::HashMap::with_hasher(RandomState::new());
    /// assert_eq!(map.len(), 0);
    /// ```
    pub fn with_hasher(hasher: S) -> Self {
        Self::with_capacity_and_hasher(0, hasher)
    }

    /// An empty map with room for `n` entries and the given hasher.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::collections::hash_map::RandomState;
    /// let map: freeway_hashmap::HashMap<u8, u8> =
    ///     freeway_hashmap::HashMap::with_capacity_and_hasher(10, RandomState::new());
    /// assert!(map.capacity() >= 10);
    /// ```
    pub fn with_capacity_and_hasher(n: usize, hasher: S) -> Self {
        Self {
            raw: RawMap::with_capacity(n),
            hasher,
        }
    }

    /// The number of entries.
    ///
    /// Cheap (a sum of a few striped counters; no scan, no lock) and exact when no write is in
    /// flight; under concurrent writes it is a momentary estimate.
    ///
    /// # Examples
    ///
    /// ```
    /// let map = freeway_hashmap::HashMap::new();
    /// map.pin().insert(1, 1);
    /// assert_eq!(map.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    /// Whether [`len`](Self::len) is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// let map: freeway_hashmap::HashMap<u8, u8> = freeway_hashmap::HashMap::new();
    /// assert!(map.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many entries the current table holds before a resize is likely (half its slots).
    ///
    /// # Examples
    ///
    /// ```
    /// let map: freeway_hashmap::HashMap<u8, u8> = freeway_hashmap::HashMap::with_capacity(100);
    /// assert!(map.capacity() >= 100);
    /// ```
    pub fn capacity(&self) -> usize {
        let guard = freeway_epoch::pin();
        self.raw.capacity(&guard) / 2
    }

    /// Makes room for at least `additional` entries beyond [`len`](Self::len): afterwards,
    /// `additional` inserts of new keys need no resize, as long as other threads add nothing
    /// meanwhile (for a bulk load, say). A table clogged with tombstones is rehashed for it.
    ///
    /// The calling thread does the resize itself. It starts one if the table is too small,
    /// copies every chunk that no other thread has claimed, and waits only for the chunks other
    /// threads are copying at that moment. That work is bounded and runs no user code, as when
    /// a writer waits for the one slot being moved.
    ///
    /// # Panics
    ///
    /// If the table this needs is larger than the address space, with a message that names the
    /// overflow; no entry changes. As with std's collections, running out of memory aborts.
    ///
    /// # Examples
    ///
    /// ```
    /// let map = freeway_hashmap::HashMap::new();
    /// map.pin().insert(0u32, 0u32);
    /// map.reserve(10_000);
    /// assert!(map.capacity() >= 10_001);
    /// let cap = map.capacity();
    /// let m = map.pin();
    /// for i in 1..10_001 {
    ///     m.insert(i, i);
    /// }
    /// assert_eq!(map.capacity(), cap);
    /// ```
    pub fn reserve(&self, additional: usize) {
        let pinned = Pinned::pin();
        self.len()
            .checked_add(additional)
            .and_then(|n| n.checked_mul(2))
            .expect("freeway_hashmap: capacity overflow in reserve");
        self.raw.reserve(additional, &pinned);
    }

    /// The map's hasher.
    ///
    /// # Examples
    ///
    /// ```
    /// let map: freeway_hashmap::HashMap<u8, u8> = freeway_hashmap::HashMap::new();
    /// let _h = map.hasher();
    /// ```
    pub fn hasher(&self) -> &S {
        &self.hasher
    }
}

impl<K, V, S> HashMap<K, V, S>
where
    K: Hash + Eq + Send + 'static,
    V: Send + 'static,
    S: BuildHasher,
{
    fn hash<Q: Hash + ?Sized>(&self, key: &Q) -> u64 {
        self.hasher.hash_one(key)
    }

    /// Pins the current thread and returns a handle whose methods need no guard argument.
    ///
    /// Hold it for short spans: while it lives, memory retired by any thread waits (see
    /// `docs/reclamation.md`).
    ///
    /// # Examples
    ///
    /// ```
    /// let map = freeway_hashmap::HashMap::new();
    /// let m = map.pin();
    /// m.insert(1, "one");
    /// assert_eq!(m.get(&1), Some(&"one"));
    /// ```
    pub fn pin(&self) -> HashMapRef<'_, K, V, S> {
        HashMapRef {
            map: self,
            guard: Pinned::pin(),
        }
    }

    /// The value of `key`, if present.
    ///
    /// # Panics
    ///
    /// If `guard` is not from [`freeway_epoch::pin`] (an unprotected guard or another
    /// collector's), since it could not protect the value.
    ///
    /// # Examples
    ///
    /// ```
    /// let map = freeway_hashmap::HashMap::new();
    /// let guard = freeway_epoch::pin();
    /// map.insert(String::from("a"), 1, &guard);
    /// assert_eq!(map.get("a", &guard), Some(&1));
    /// assert_eq!(map.get("b", &guard), None);
    /// ```
    pub fn get<'g, Q>(&'g self, key: &Q, guard: &'g Guard) -> Option<&'g V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.get_key_value(key, guard).map(|(_, v)| v)
    }

    /// The stored key and value of `key`, if present.
    ///
    /// # Examples
    ///
    /// ```
    /// let map = freeway_hashmap::HashMap::new();
    /// let guard = freeway_epoch::pin();
    /// map.insert(7, 'x', &guard);
    /// assert_eq!(map.get_key_value(&7, &guard), Some((&7, &'x')));
    /// ```
    pub fn get_key_value<'g, Q>(&'g self, key: &Q, guard: &'g Guard) -> Option<(&'g K, &'g V)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.get_kv_in(key, Pinned::check(guard))
    }

    #[inline]
    fn get_kv_in<'g, Q>(&'g self, key: &Q, guard: &'g Pinned) -> Option<(&'g K, &'g V)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let h = self.hash(key);
        self.raw
            .get(h, |k| k.borrow() == key, guard)
            .map(|e| (&e.key, &e.value))
    }

    /// Whether `key` is present.
    ///
    /// # Examples
    ///
    /// ```
    /// let map = freeway_hashmap::HashMap::new();
    /// let guard = freeway_epoch::pin();
    /// map.insert(1, 1, &guard);
    /// assert!(map.contains_key(&1, &guard));
    /// assert!(!map.contains_key(&2, &guard));
    /// ```
    pub fn contains_key<Q>(&self, key: &Q, guard: &Guard) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.get(key, guard).is_some()
    }

    /// Inserts `value` under `key` and returns the value it replaced.
    ///
    /// On replacement the stored key becomes `key` (the old key is dropped with the old value,
    /// after a grace period).
    ///
    /// # Examples
    ///
    /// ```
    /// let map = freeway_hashmap::HashMap::new();
    /// let guard = freeway_epoch::pin();
    /// assert_eq!(map.insert(1, "a", &guard), None);
    /// assert_eq!(map.insert(1, "b", &guard), Some(&"a"));
    /// assert_eq!(map.get(&1, &guard), Some(&"b"));
    /// ```
    pub fn insert<'g>(&'g self, key: K, value: V, guard: &'g Guard) -> Option<&'g V> {
        self.insert_in(key, value, Pinned::check(guard))
    }

    fn insert_in<'g>(&'g self, key: K, value: V, guard: &'g Pinned) -> Option<&'g V> {
        let h = self.hash(&key);
        match self.raw.insert(h, key, value, true, guard) {
            Inserted::New(_) => None,
            Inserted::Replaced(old) | Inserted::Exists(old) => Some(&old.value),
        }
    }

    /// Removes `key` and returns its value, which stays readable until `guard` drops.
    ///
    /// # Examples
    ///
    /// ```
    /// let map = freeway_hashmap::HashMap::new();
    /// let guard = freeway_epoch::pin();
    /// map.insert(1, 10, &guard);
    /// assert_eq!(map.remove(&1, &guard), Some(&10));
    /// assert_eq!(map.remove(&1, &guard), None);
    /// ```
    pub fn remove<'g, Q>(&'g self, key: &Q, guard: &'g Guard) -> Option<&'g V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.remove_in(key, Pinned::check(guard))
    }

    fn remove_in<'g, Q>(&'g self, key: &Q, guard: &'g Pinned) -> Option<&'g V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let h = self.hash(key);
        self.raw
            .remove(h, |k| k.borrow() == key, None, guard)
            .map(|e| &e.value)
    }

    /// Atomically replaces the value of `key` with `f(old)` and returns the new value; `None`
    /// (and nothing inserted) when `key` is absent.
    ///
    /// `f` may run more than once: if another thread changes the entry between the read and the
    /// CAS, `f` runs again on the newer value (its earlier results are dropped). Keep it pure.
    ///
    /// # Examples
    ///
    /// ```
    /// let map = freeway_hashmap::HashMap::new();
    /// let guard = freeway_epoch::pin();
    /// map.insert("hits", 1, &guard);
    /// assert_eq!(map.update("hits", |n| n + 1, &guard), Some(&2));
    /// assert_eq!(map.update("misses", |n| n + 1, &guard), None);
    /// ```
    pub fn update<'g, F>(&'g self, key: K, f: F, guard: &'g Guard) -> Option<&'g V>
    where
        F: Fn(&V) -> V,
    {
        self.update_in(key, f, Pinned::check(guard))
    }

    fn update_in<'g, F>(&'g self, key: K, f: F, guard: &'g Pinned) -> Option<&'g V>
    where
        F: Fn(&V) -> V,
    {
        self.compute_in(
            key,
            |old| match old {
                Some(v) => Operation::Insert(f(v)),
                None => Operation::Keep,
            },
            guard,
        )
        .1
    }

    /// The value of `key`, inserting `f()` first if it is absent.
    ///
    /// `f` runs at most once, and only if `key` was absent when looked up; if another thread
    /// inserts the key first, that value is returned and `f`'s result is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// let map = freeway_hashmap::HashMap::new();
    /// let guard = freeway_epoch::pin();
    /// assert_eq!(map.get_or_insert_with(1, || 5, &guard), &5);
    /// assert_eq!(map.get_or_insert_with(1, || 9, &guard), &5);
    /// ```
    pub fn get_or_insert_with<'g, F>(&'g self, key: K, f: F, guard: &'g Guard) -> &'g V
    where
        F: FnOnce() -> V,
    {
        self.get_or_insert_with_in(key, f, Pinned::check(guard))
    }

    fn get_or_insert_with_in<'g, F>(&'g self, key: K, f: F, guard: &'g Pinned) -> &'g V
    where
        F: FnOnce() -> V,
    {
        let h = self.hash(&key);
        if let Some(e) = self.raw.get(h, |k| *k == key, guard) {
            return &e.value;
        }
        match self.raw.insert(h, key, f(), false, guard) {
            Inserted::New(e) | Inserted::Exists(e) | Inserted::Replaced(e) => &e.value,
        }
    }

    /// Atomically reads `key`'s value (or its absence), asks `f` what to do, and does it:
    /// insert-or-update, conditional removal, or nothing. Returns the values before and after.
    ///
    /// `f` may run more than once (as for [`update`](Self::update)); only the result of its last
    /// run takes effect.
    ///
    /// # Examples
    ///
    /// ```
    /// use freeway_hashmap::{HashMap, Operation};
    ///
    /// let map = HashMap::new();
    /// let guard = freeway_epoch::pin();
    /// let add = |old: Option<&u32>| Operation::Insert(old.map_or(1, |n| n + 1));
    /// assert_eq!(map.compute("k", add, &guard), (None, Some(&1)));
    /// assert_eq!(map.compute("k", add, &guard), (Some(&1), Some(&2)));
    /// ```
    pub fn compute<'g, F>(
        &'g self,
        key: K,
        f: F,
        guard: &'g Guard,
    ) -> (Option<&'g V>, Option<&'g V>)
    where
        F: FnMut(Option<&V>) -> Operation<V>,
    {
        self.compute_in(key, f, Pinned::check(guard))
    }

    fn compute_in<'g, F>(
        &'g self,
        key: K,
        mut f: F,
        guard: &'g Pinned,
    ) -> (Option<&'g V>, Option<&'g V>)
    where
        F: FnMut(Option<&V>) -> Operation<V>,
    {
        let h = self.hash(&key);
        let (old, new) = self.raw.compute(
            h,
            key,
            |cur| match f(cur) {
                Operation::Keep => raw::Op::Keep,
                Operation::Insert(v) => raw::Op::Set(v),
                Operation::Remove => raw::Op::Remove,
            },
            guard,
        );
        (old.map(|e| &e.value), new.map(|e| &e.value))
    }

    /// Removes every entry for which `f` returns false.
    ///
    /// Weakly consistent under concurrent writes: `f` sees each entry present for the whole call
    /// once, and an entry replaced meanwhile is kept (its new value was not judged).
    ///
    /// # Examples
    ///
    /// ```
    /// let map: freeway_hashmap::HashMap<u32, u32> = (0..10).map(|i| (i, i)).collect();
    /// let guard = freeway_epoch::pin();
    /// map.retain(|_, v| v % 2 == 0, &guard);
    /// assert_eq!(map.len(), 5);
    /// ```
    pub fn retain<F>(&self, f: F, guard: &Guard)
    where
        F: FnMut(&K, &V) -> bool,
    {
        self.retain_in(f, Pinned::check(guard))
    }

    fn retain_in<F>(&self, mut f: F, guard: &Pinned)
    where
        F: FnMut(&K, &V) -> bool,
    {
        for e in self.raw.iter(guard) {
            if !f(&e.key, &e.value) {
                self.raw.remove(
                    e.hash,
                    |k| k == &e.key,
                    Some(e as *const raw::Entry<K, V>),
                    guard,
                );
            }
        }
    }

    /// Removes every entry present when the walk reaches it.
    ///
    /// Not atomic: entries inserted concurrently may survive. The removed entries are dropped
    /// after a grace period.
    ///
    /// # Examples
    ///
    /// ```
    /// let map: freeway_hashmap::HashMap<u32, u32> = (0..10).map(|i| (i, i)).collect();
    /// map.clear(&freeway_epoch::pin());
    /// assert!(map.is_empty());
    /// ```
    pub fn clear(&self, guard: &Guard) {
        self.raw.clear(Pinned::check(guard));
    }
}

impl<K, V, S> HashMap<K, V, S> {
    /// An iterator over the entries, weakly consistent: every entry present for the whole
    /// iteration is yielded exactly once; an entry inserted, replaced or removed meanwhile may or
    /// may not be, and a key replaced meanwhile may show both its old and its new value.
    ///
    /// It does not wait for a resize in progress: it walks the old table and then the new one,
    /// skipping entries it already yielded. While a resize is in flight it remembers the
    /// entries it yielded (one pointer each).
    ///
    /// # Panics
    ///
    /// If `guard` is not from [`freeway_epoch::pin`].
    ///
    /// # Examples
    ///
    /// ```
    /// let map: freeway_hashmap::HashMap<u32, u32> = (0..3).map(|i| (i, i * 10)).collect();
    /// let guard = freeway_epoch::pin();
    /// let mut all: Vec<_> = map.iter(&guard).map(|(k, v)| (*k, *v)).collect();
    /// all.sort();
    /// assert_eq!(all, [(0, 0), (1, 10), (2, 20)]);
    /// ```
    pub fn iter<'g>(&'g self, guard: &'g Guard) -> Iter<'g, K, V> {
        self.iter_in(Pinned::check(guard))
    }

    fn iter_in<'g>(&'g self, guard: &'g Pinned) -> Iter<'g, K, V> {
        Iter {
            raw: self.raw.iter(guard),
        }
    }

    /// An iterator over the keys (as [`iter`](Self::iter)).
    ///
    /// # Examples
    ///
    /// ```
    /// let map: freeway_hashmap::HashMap<u32, ()> = [(1, ())].into_iter().collect();
    /// let guard = freeway_epoch::pin();
    /// assert_eq!(map.keys(&guard).collect::<Vec<_>>(), [&1]);
    /// ```
    pub fn keys<'g>(&'g self, guard: &'g Guard) -> Keys<'g, K, V> {
        Keys {
            inner: self.iter(guard),
        }
    }

    /// An iterator over the values (as [`iter`](Self::iter)).
    ///
    /// # Examples
    ///
    /// ```
    /// let map: freeway_hashmap::HashMap<(), u32> = [((), 4)].into_iter().collect();
    /// let guard = freeway_epoch::pin();
    /// assert_eq!(map.values(&guard).sum::<u32>(), 4);
    /// ```
    pub fn values<'g>(&'g self, guard: &'g Guard) -> Values<'g, K, V> {
        Values {
            inner: self.iter(guard),
        }
    }
}

impl<K, V, S> Drop for HashMap<K, V, S> {
    fn drop(&mut self) {
        self.raw.destroy();
    }
}

impl<K, V, S: Default> Default for HashMap<K, V, S> {
    fn default() -> Self {
        Self::with_hasher(S::default())
    }
}

impl<K: fmt::Debug, V: fmt::Debug, S> fmt::Debug for HashMap<K, V, S> {
    /// A snapshot of the entries, weakly consistent as [`HashMap::iter`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let guard = freeway_epoch::pin();
        f.debug_map().entries(self.iter(&guard)).finish()
    }
}

impl<K, V, S> Clone for HashMap<K, V, S>
where
    K: Hash + Eq + Send + Clone + 'static,
    V: Send + Clone + 'static,
    S: BuildHasher + Clone,
{
    fn clone(&self) -> Self {
        let out = Self::with_capacity_and_hasher(self.len(), self.hasher.clone());
        {
            let guard = freeway_epoch::pin();
            for (k, v) in self.iter(&guard) {
                out.insert(k.clone(), v.clone(), &guard);
            }
        }
        out
    }
}

impl<K, V, S> PartialEq for HashMap<K, V, S>
where
    K: Hash + Eq + Send + 'static,
    V: Send + PartialEq + 'static,
    S: BuildHasher,
{
    /// Entry-by-entry comparison; meaningful when neither map is being written.
    fn eq(&self, other: &Self) -> bool {
        if self.len() != other.len() {
            return false;
        }
        let guard = freeway_epoch::pin();
        self.iter(&guard)
            .all(|(k, v)| other.get(k, &guard).is_some_and(|o| o == v))
    }
}

impl<K, V, S> Eq for HashMap<K, V, S>
where
    K: Hash + Eq + Send + 'static,
    V: Send + Eq + 'static,
    S: BuildHasher,
{
}

impl<K, V, S> FromIterator<(K, V)> for HashMap<K, V, S>
where
    K: Hash + Eq + Send + 'static,
    V: Send + 'static,
    S: BuildHasher + Default,
{
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let iter = iter.into_iter();
        let map = Self::with_capacity_and_hasher(iter.size_hint().0, S::default());
        {
            let guard = freeway_epoch::pin();
            for (k, v) in iter {
                map.insert(k, v, &guard);
            }
        }
        map
    }
}

impl<K, V, S> Extend<(K, V)> for HashMap<K, V, S>
where
    K: Hash + Eq + Send + 'static,
    V: Send + 'static,
    S: BuildHasher,
{
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        (&*self).extend(iter)
    }
}

impl<K, V, S> Extend<(K, V)> for &HashMap<K, V, S>
where
    K: Hash + Eq + Send + 'static,
    V: Send + 'static,
    S: BuildHasher,
{
    /// Inserts every pair through a shared reference (one pin per 1024 pairs).
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        let mut guard = freeway_epoch::pin();
        for (i, (k, v)) in iter.into_iter().enumerate() {
            if i % 1024 == 1023 {
                guard.repin();
            }
            self.insert(k, v, &guard);
        }
        drop(guard);
    }
}
