//! [`AtomicMap`]: a lock-free map of word-sized keys and values, stored inline.

mod handle;

pub use handle::AtomicMapRef;

use crate::raw::atomic::{Act, KEY_FLIP, RawAtomicIter, RawAtomicMap, RawHash};
use freeway_epoch::Guard;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hash};

mod sealed {
    /// The conversions of a [`Word`](super::Word): private, so that only this crate's types
    /// are words.
    pub trait Sealed: Copy {
        /// The value's bits, zero-extended to 64.
        fn into_raw(self) -> u64;
        /// The value whose bits `into_raw` gave.
        fn from_raw(raw: u64) -> Self;
    }

    /// Wrapping addition on a [`Word`](super::Word)'s own width.
    pub trait SealedInt: Sealed {
        fn wrapping_add(self, other: Self) -> Self;
    }
}

/// A type that fits in a machine word and can be a key or a value of an [`AtomicMap`]: `u8` to
/// `u64`, `i8` to `i64`, `usize`, `isize`, `bool` and `char`. Sealed: the map's slots hold the
/// raw bits, so only types for which every bit pattern it makes round-trips are words.
///
/// Every value of every word type is storable: the map reserves no sentinel.
///
/// # Examples
///
/// ```
/// use freeway_hashmap::AtomicMap;
///
/// let map = AtomicMap::new();
/// map.insert('x', true);
/// map.insert('y', false);
/// assert_eq!(map.get('x'), Some(true));
/// ```
pub trait Word: sealed::Sealed + Eq + Hash + fmt::Debug + Send + Sync + 'static {}

/// A [`Word`] with wrapping integer addition, for [`AtomicMap::fetch_add`]: every integer word
/// type (not `bool` or `char`).
///
/// # Examples
///
/// ```
/// use freeway_hashmap::AtomicMap;
///
/// let hits: AtomicMap<u32, u8> = AtomicMap::new();
/// hits.insert(1, 255);
/// assert_eq!(hits.fetch_add(1, 1), 255);
/// assert_eq!(hits.get(1), Some(0)); // wrapping, like `AtomicU8::fetch_add`
/// ```
pub trait IntWord: Word + sealed::SealedInt {}

/// `Word` and `IntWord` for integer types: `$t` is stored as the bits of the unsigned `$u` of
/// its width, zero-extended.
macro_rules! int_words {
    ($($t:ty => $u:ty),*) => {$(
        impl sealed::Sealed for $t {
            #[inline(always)]
            fn into_raw(self) -> u64 {
                self as $u as u64
            }
            #[inline(always)]
            fn from_raw(raw: u64) -> Self {
                raw as $u as $t
            }
        }
        impl sealed::SealedInt for $t {
            #[inline(always)]
            fn wrapping_add(self, other: Self) -> Self {
                <$t>::wrapping_add(self, other)
            }
        }
        impl Word for $t {}
        impl IntWord for $t {}
    )*};
}

int_words!(u8 => u8, u16 => u16, u32 => u32, u64 => u64, usize => usize);
int_words!(i8 => u8, i16 => u16, i32 => u32, i64 => u64, isize => usize);

impl sealed::Sealed for bool {
    #[inline(always)]
    fn into_raw(self) -> u64 {
        u64::from(self)
    }
    #[inline(always)]
    fn from_raw(raw: u64) -> Self {
        raw != 0
    }
}
impl Word for bool {}

impl sealed::Sealed for char {
    #[inline(always)]
    fn into_raw(self) -> u64 {
        u64::from(u32::from(self))
    }
    #[inline(always)]
    fn from_raw(raw: u64) -> Self {
        // Only `into_raw` of a `char` is ever stored, so the bits are a valid `char`.
        char::from_u32(raw as u32).expect("freeway_hashmap: a stored char is valid")
    }
}
impl Word for char {}

#[inline(always)]
fn raw_key<K: Word>(k: K) -> u64 {
    k.into_raw() ^ KEY_FLIP
}

#[inline(always)]
fn user_key<K: Word>(raw: u64) -> K {
    K::from_raw(raw ^ KEY_FLIP)
}

/// A lock-free, resizable hash map whose keys and values are machine words ([`Word`]: the
/// integers, `bool` and `char`), stored inline in the table: ids to indices, counters,
/// interning tables, handles.
///
/// Where [`HashMap`](crate::HashMap) boxes each entry (an allocation and a retirement per write,
/// and a second cache miss per read, in exchange for values of any type that readers borrow),
/// an `AtomicMap` keeps the key and the value together in one 16-byte slot and changes them
/// with one 16-byte compare-exchange: a write allocates nothing, a read is one probe, and values
/// come out by value, so there is no guard in the API.
///
/// # The algorithm
///
/// Open addressing with linear probing, keys and values inline, values updated in place by
/// compare-exchange, after Cliff Click's non-blocking hash table (Stanford EE380 / JavaOne,
/// 2007) and Jeff Preshing's linear and leapfrog maps (*A Resizable Concurrent Map*, 2016),
/// with the chunked cooperative migration of Maier, Sanders and Dementiev (*Concurrent Hash
/// Tables: Fast and General?(!)*, PPoPP 2016). Both word-map designs reserve some values (or
/// box a marked copy during a resize); here the slot is 16 bytes, so a slot's state marker
/// ("removed", "moved to the next table") sits in the key's word and the key moves to the
/// value's word: every key and every value of every word type is storable. The four 64-bit
/// keys whose bits collide with the markers live in four side cells of the map. The private
/// `raw::atomic` module walks through the states and the resize.
///
/// # Progress
///
/// - Reads never write shared memory and never wait: a walk of the key's probe chain.
/// - Writes are lock-free compare-exchange loops on one slot. A resize never freezes a slot: a
///   write to a key that is being moved makes the mover try again, never waits for it.
/// - Resizing is incremental and cooperative: every writer that meets a resize moves one chunk of
///   64 slots; nobody waits for the whole move (only [`reserve`](AtomicMap::reserve) does).
/// - The 16-byte compare-exchange is `cmpxchg16b` on x86-64 (portable-atomic, detected at run
///   time) and `casp` or `ldxp`/`stxp` on AArch64; on a target without one it is emulated with
///   locks, and the map is then not lock-free.
///
/// # Memory
///
/// 16.5 bytes per slot (the pair, and half a byte of tag that lets a lookup of an absent key end
/// in a small array that stays in the cache) and nothing per entry; tables run between about a
/// third and two thirds full. A removed key keeps its slot for a later insert of the same key
/// until a rehash clears it. Old tables are reclaimed through `freeway_epoch` after a resize.
///
/// # User code and panics
///
/// The closures of [`update`](AtomicMap::update) and [`retain`](AtomicMap::retain) run before
/// the compare-exchange that applies their result, so a panic in one leaves the map as it was.
/// `update`'s closure may run more than once: again after each exchange that another writer's
/// write made fail (like [`AtomicU64::fetch_update`](std::sync::atomic::AtomicU64::fetch_update)).
/// The map's hasher also runs during a resize (a slot keeps only its key); if it panics there,
/// the panic is caught, the slot is left as it was and the rest of the chunk is handed back to
/// be moved by the next writer.
///
/// # Memory ordering
///
/// A key's value is an atomic message, as an [`AtomicU64`](std::sync::atomic::AtomicU64)
/// written and read with `AcqRel`: every write that stores a value releases it, and every
/// operation that returns a stored value (`get`, and the old value or the current one that a
/// write returns, including a `get_or_insert` or a `compare_exchange` that stores nothing)
/// acquires it. So what a thread wrote before it stored a value is visible to any thread that
/// reads that value from the map.
///
/// ```
/// use freeway_hashmap::AtomicMap;
/// use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
/// use std::thread;
///
/// let ready: AtomicMap<u8, bool> = AtomicMap::new();
/// let data = AtomicU32::new(0);
/// thread::scope(|s| {
///     s.spawn(|| {
///         data.store(7, Relaxed);
///         ready.insert(1, true);
///     });
///     if ready.get(1) == Some(true) {
///         assert_eq!(data.load(Relaxed), 7); // published by the insert
///     }
/// });
/// ```
///
/// # Examples
///
/// ```
/// use freeway_hashmap::AtomicMap;
/// use std::thread;
///
/// let counts: AtomicMap<u64, u64> = AtomicMap::new();
/// thread::scope(|s| {
///     for _ in 0..4 {
///         s.spawn(|| {
///             for word in [1, 2, 2, 3, 3, 3] {
///                 counts.fetch_add(word, 1);
///             }
///         });
///     }
/// });
/// assert_eq!(counts.get(3), Some(12));
/// assert_eq!(counts.len(), 3);
/// ```
pub struct AtomicMap<K, V, S = RandomState> {
    raw: RawAtomicMap,
    hasher: S,
    _types: std::marker::PhantomData<(K, V)>,
}

impl<K: Word, V: Word> AtomicMap<K, V> {
    /// An empty map.
    ///
    /// # Examples
    ///
    /// ```
    /// let map: freeway_hashmap::AtomicMap<u64, u64> = freeway_hashmap::AtomicMap::new();
    /// assert!(map.is_empty());
    /// ```
    pub fn new() -> Self {
        Self::with_capacity_and_hasher(0, RandomState::new())
    }

    /// An empty map with room for `n` keys before it resizes.
    ///
    /// # Examples
    ///
    /// ```
    /// let map: freeway_hashmap::AtomicMap<u32, u32> = freeway_hashmap::AtomicMap::with_capacity(1000);
    /// assert!(map.capacity() >= 1000);
    /// ```
    pub fn with_capacity(n: usize) -> Self {
        Self::with_capacity_and_hasher(n, RandomState::new())
    }
}

impl<K: Word, V: Word, S: BuildHasher> AtomicMap<K, V, S> {
    /// An empty map with the given hasher.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::collections::hash_map::RandomState;
    /// let map: freeway_hashmap::AtomicMap<u8, u8> =
    ///     freeway_hashmap::AtomicMap::with_hasher(RandomState::new());
    /// map.insert(1, 2);
    /// assert_eq!(map.get(1), Some(2));
    /// ```
    pub fn with_hasher(hasher: S) -> Self {
        Self::with_capacity_and_hasher(0, hasher)
    }

    /// An empty map with room for `n` keys and the given hasher.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::collections::hash_map::RandomState;
    /// let map: freeway_hashmap::AtomicMap<u8, u8> =
    ///     freeway_hashmap::AtomicMap::with_capacity_and_hasher(10, RandomState::new());
    /// assert!(map.capacity() >= 10);
    /// ```
    pub fn with_capacity_and_hasher(n: usize, hasher: S) -> Self {
        Self {
            raw: RawAtomicMap::with_capacity(n),
            hasher,
            _types: std::marker::PhantomData,
        }
    }

    /// The map's hasher.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::hash::BuildHasher;
    /// let map: freeway_hashmap::AtomicMap<u8, u8> = freeway_hashmap::AtomicMap::new();
    /// let _ = map.hasher().hash_one(1u8);
    /// ```
    pub fn hasher(&self) -> &S {
        &self.hasher
    }

    #[inline(always)]
    fn hash(&self, k: K) -> u64 {
        self.hasher.hash_one(k)
    }

    /// The number of keys with a value: a sum of per-thread counters, exact when no write is in
    /// flight.
    ///
    /// # Examples
    ///
    /// ```
    /// let map = freeway_hashmap::AtomicMap::new();
    /// map.insert(1u64, 10u64);
    /// map.insert(2, 20);
    /// assert_eq!(map.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    /// Whether no key has a value (see [`len`](AtomicMap::len)).
    ///
    /// # Examples
    ///
    /// ```
    /// let map: freeway_hashmap::AtomicMap<u8, u8> = freeway_hashmap::AtomicMap::new();
    /// assert!(map.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many keys the current table holds before a resize is likely (half its slots).
    ///
    /// # Examples
    ///
    /// ```
    /// let map: freeway_hashmap::AtomicMap<u8, u8> = freeway_hashmap::AtomicMap::with_capacity(100);
    /// assert!(map.capacity() >= 100);
    /// ```
    pub fn capacity(&self) -> usize {
        let guard = freeway_epoch::pin();
        self.raw.slots(&guard) / 2
    }

    /// Makes room for `additional` more keys beyond those present, resizing now (and waiting for
    /// the resize to finish) if needed, so that inserting them does not resize.
    ///
    /// # Examples
    ///
    /// ```
    /// let map = freeway_hashmap::AtomicMap::new();
    /// map.insert(0u32, 0u32);
    /// map.reserve(10_000);
    /// let cap = map.capacity();
    /// assert!(cap >= 10_001);
    /// for i in 1..10_001 {
    ///     map.insert(i, i);
    /// }
    /// assert_eq!(map.capacity(), cap);
    /// ```
    pub fn reserve(&self, additional: usize) {
        let guard = freeway_epoch::pin();
        self.raw.reserve(additional, &Rehash(self), &guard);
    }

    /// Pins the current thread and returns a handle with the map's single-key operations, all
    /// running under that one pin: a thread doing many operations in a row saves the pin each
    /// would otherwise take (see `docs/hashmap.md`, "Measuring", for what it is worth).
    ///
    /// Hold it for short spans: while it lives, memory retired by any thread waits, here the
    /// old tables of a resize (see `docs/reclamation.md`).
    ///
    /// # Examples
    ///
    /// ```
    /// let map = freeway_hashmap::AtomicMap::new();
    /// let m = map.pin();
    /// for i in 0..100u32 {
    ///     m.fetch_add(i % 10, 1u32);
    /// }
    /// assert_eq!(m.get(3), Some(10));
    /// ```
    pub fn pin(&self) -> AtomicMapRef<'_, K, V, S> {
        AtomicMapRef {
            map: self,
            guard: freeway_epoch::pin(),
        }
    }

    /// The value of `key`, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// let map = freeway_hashmap::AtomicMap::new();
    /// map.insert(0u64, u64::MAX); // every key and value is storable
    /// assert_eq!(map.get(0), Some(u64::MAX));
    /// assert_eq!(map.get(1), None);
    /// ```
    #[inline]
    pub fn get(&self, key: K) -> Option<V> {
        self.get_in(key, Pin::Fresh)
    }

    #[inline(always)]
    fn get_in(&self, key: K, pin: Pin<'_>) -> Option<V> {
        let hash = self.hash(key);
        let mut fresh = None;
        let guard = pin.guard(&mut fresh);
        self.raw.prefetch(hash);
        self.raw.get(hash, raw_key(key), guard).map(V::from_raw)
    }

    /// Whether `key` has a value.
    ///
    /// # Examples
    ///
    /// ```
    /// let map = freeway_hashmap::AtomicMap::new();
    /// map.insert(-1i32, false);
    /// assert!(map.contains_key(-1));
    /// assert!(!map.contains_key(1));
    /// ```
    #[inline]
    pub fn contains_key(&self, key: K) -> bool {
        self.get(key).is_some()
    }

    /// The general write: `f` maps the current value to what to do; returns the values before
    /// and after.
    #[inline(always)]
    fn compute(
        &self,
        key: K,
        f: impl FnMut(Option<u64>) -> Act,
        pin: Pin<'_>,
    ) -> (Option<u64>, Option<u64>) {
        let hash = self.hash(key);
        self.raw.prefetch(hash);
        match pin {
            Pin::Held(guard) => self
                .raw
                .compute(hash, raw_key(key), f, &Rehash(self), guard),
            Pin::Fresh => {
                self.raw
                    .compute(hash, raw_key(key), f, &Rehash(self), &freeway_epoch::pin())
            }
        }
    }

    /// Sets `key`'s value to `value`; returns the old value, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// let map = freeway_hashmap::AtomicMap::new();
    /// assert_eq!(map.insert(7u16, 'a'), None);
    /// assert_eq!(map.insert(7, 'b'), Some('a'));
    /// assert_eq!(map.get(7), Some('b'));
    /// ```
    #[inline]
    pub fn insert(&self, key: K, value: V) -> Option<V> {
        self.insert_in(key, value, Pin::Fresh)
    }

    #[inline(always)]
    fn insert_in(&self, key: K, value: V, pin: Pin<'_>) -> Option<V> {
        let v = value.into_raw();
        self.compute(key, |_| Act::Set(v), pin).0.map(V::from_raw)
    }

    /// Removes `key`; returns its value, if it had one.
    ///
    /// # Examples
    ///
    /// ```
    /// let map = freeway_hashmap::AtomicMap::new();
    /// map.insert(1u64, 2u64);
    /// assert_eq!(map.remove(1), Some(2));
    /// assert_eq!(map.remove(1), None);
    /// ```
    #[inline]
    pub fn remove(&self, key: K) -> Option<V> {
        self.remove_in(key, Pin::Fresh)
    }

    #[inline(always)]
    fn remove_in(&self, key: K, pin: Pin<'_>) -> Option<V> {
        self.compute(key, |_| Act::Remove, pin).0.map(V::from_raw)
    }

    /// Replaces `key`'s value `v` with `f(v)`, if it has one; returns the new value, or `None`
    /// (and calls nothing) if the key is absent.
    ///
    /// `f` may be called more than once: when another thread changes the value between the
    /// read and the exchange, `f` is called again with the newer value. A panic in `f` leaves
    /// the map unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// let map = freeway_hashmap::AtomicMap::new();
    /// map.insert(1u8, 10u32);
    /// assert_eq!(map.update(1, |v| v * 2), Some(20));
    /// assert_eq!(map.update(2, |v| v * 2), None);
    /// ```
    #[inline]
    pub fn update(&self, key: K, f: impl FnMut(V) -> V) -> Option<V> {
        self.update_in(key, f, Pin::Fresh)
    }

    #[inline(always)]
    fn update_in(&self, key: K, mut f: impl FnMut(V) -> V, pin: Pin<'_>) -> Option<V> {
        let act = |old: Option<u64>| match old {
            Some(v) => Act::Set(f(V::from_raw(v)).into_raw()),
            None => Act::Keep,
        };
        self.compute(key, act, pin).1.map(V::from_raw)
    }

    /// `key`'s value, inserting `value` first if it has none.
    ///
    /// # Examples
    ///
    /// ```
    /// let map = freeway_hashmap::AtomicMap::new();
    /// assert_eq!(map.get_or_insert(5u64, 1u64), 1);
    /// assert_eq!(map.get_or_insert(5, 2), 1);
    /// ```
    #[inline]
    pub fn get_or_insert(&self, key: K, value: V) -> V {
        self.get_or_insert_in(key, value, Pin::Fresh)
    }

    #[inline(always)]
    fn get_or_insert_in(&self, key: K, value: V, pin: Pin<'_>) -> V {
        let v = value.into_raw();
        let act = |old: Option<u64>| match old {
            Some(_) => Act::Keep,
            None => Act::Set(v),
        };
        let (old, _) = self.compute(key, act, pin);
        V::from_raw(old.unwrap_or(v))
    }

    /// Sets `key`'s value to `new` if it is `current`: `Ok(current)` if it was;
    /// `Err(Some(actual))` if the key's value is another; `Err(None)` if the key has no value,
    /// and then nothing is inserted.
    ///
    /// # Examples
    ///
    /// ```
    /// let map = freeway_hashmap::AtomicMap::new();
    /// map.insert(1u64, 10u64);
    /// assert_eq!(map.compare_exchange(1, 10, 11), Ok(10));
    /// assert_eq!(map.compare_exchange(1, 10, 12), Err(Some(11)));
    /// assert_eq!(map.compare_exchange(2, 0, 1), Err(None));
    /// assert_eq!(map.get(2), None);
    /// ```
    #[inline]
    pub fn compare_exchange(&self, key: K, current: V, new: V) -> Result<V, Option<V>> {
        self.compare_exchange_in(key, current, new, Pin::Fresh)
    }

    #[inline(always)]
    fn compare_exchange_in(
        &self,
        key: K,
        current: V,
        new: V,
        pin: Pin<'_>,
    ) -> Result<V, Option<V>> {
        let (c, n) = (current.into_raw(), new.into_raw());
        let act = |old: Option<u64>| {
            if old == Some(c) {
                Act::Set(n)
            } else {
                Act::Keep
            }
        };
        let (old, _) = self.compute(key, act, pin);
        match old {
            Some(v) if v == c => Ok(current),
            other => Err(other.map(V::from_raw)),
        }
    }

    /// Removes `key` and returns its value, if any, for which `keep` returns false; returns
    /// `None` and changes nothing otherwise. A panic in `keep` leaves the map unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// let map = freeway_hashmap::AtomicMap::new();
    /// map.insert(1u64, 0u64);
    /// map.insert(2, 5);
    /// assert_eq!(map.remove_if(1, |v| v == 0), Some(0));
    /// assert_eq!(map.remove_if(2, |v| v == 0), None);
    /// assert_eq!(map.get(2), Some(5));
    /// ```
    #[inline]
    pub fn remove_if(&self, key: K, cond: impl FnMut(V) -> bool) -> Option<V> {
        self.remove_if_in(key, cond, Pin::Fresh)
    }

    #[inline(always)]
    fn remove_if_in(&self, key: K, mut cond: impl FnMut(V) -> bool, pin: Pin<'_>) -> Option<V> {
        let act = |old: Option<u64>| match old {
            Some(v) if cond(V::from_raw(v)) => Act::Remove,
            _ => Act::Keep,
        };
        let (old, new) = self.compute(key, act, pin);
        match (old, new) {
            (Some(v), None) => Some(V::from_raw(v)),
            _ => None,
        }
    }

    /// Visits every key and its value; a key that has a value for the whole walk is visited
    /// exactly once, whatever other threads do meanwhile (resizes included). The iterator pins
    /// the thread (see `freeway_epoch`) until it is dropped, which holds back the reclamation
    /// of old tables: do not keep it for long.
    ///
    /// # Examples
    ///
    /// ```
    /// let map: freeway_hashmap::AtomicMap<u8, u8> = (0..4).map(|i| (i, i * 10)).collect();
    /// let mut pairs: Vec<_> = map.iter().collect();
    /// pairs.sort();
    /// assert_eq!(pairs, [(0, 0), (1, 10), (2, 20), (3, 30)]);
    /// ```
    pub fn iter(&self) -> Iter<'_, K, V, S> {
        Iter {
            raw: self.raw.iter(Rehash(self)),
        }
    }

    /// Removes every key that has a value throughout the call (keys written meanwhile may
    /// stay).
    ///
    /// # Examples
    ///
    /// ```
    /// let map: freeway_hashmap::AtomicMap<u8, u8> = (0..4).map(|i| (i, i)).collect();
    /// map.clear();
    /// assert!(map.is_empty());
    /// ```
    pub fn clear(&self) {
        self.retain(|_, _| false);
    }

    /// Removes every key whose value `v` makes `keep(key, v)` false, if the key still has that
    /// value when it is removed (a key whose value changes meanwhile stays). A panic in `keep`
    /// stops the walk and leaves the map consistent: the keys removed so far stay removed.
    ///
    /// # Examples
    ///
    /// ```
    /// let map: freeway_hashmap::AtomicMap<u32, u32> = (0..10).map(|i| (i, i)).collect();
    /// map.retain(|_, v| v % 2 == 0);
    /// assert_eq!(map.len(), 5);
    /// assert_eq!(map.get(3), None);
    /// ```
    pub fn retain(&self, mut keep: impl FnMut(K, V) -> bool) {
        for (k, v) in self.iter() {
            if !keep(k, v) {
                let raw = v.into_raw();
                let act = |old: Option<u64>| {
                    if old == Some(raw) {
                        Act::Remove
                    } else {
                        Act::Keep
                    }
                };
                self.compute(k, act, Pin::Fresh);
            }
        }
    }
}

impl<K: IntWord, V: IntWord, S: BuildHasher> AtomicMap<K, V, S> {
    /// Adds `delta` to `key`'s value, wrapping on overflow like
    /// [`AtomicU64::fetch_add`](std::sync::atomic::AtomicU64::fetch_add); returns the previous
    /// value, or 0 if the key had none (and then it now has `delta`).
    ///
    /// # Examples
    ///
    /// ```
    /// let map = freeway_hashmap::AtomicMap::new();
    /// assert_eq!(map.fetch_add("hello".len(), 1u64), 0);
    /// assert_eq!(map.fetch_add(5, 1), 1);
    /// assert_eq!(map.get(5), Some(2));
    /// ```
    #[inline]
    pub fn fetch_add(&self, key: K, delta: V) -> V {
        self.fetch_add_in(key, delta, Pin::Fresh)
    }

    #[inline(always)]
    fn fetch_add_in(&self, key: K, delta: V, pin: Pin<'_>) -> V {
        let act = |old: Option<u64>| {
            let cur = old.map_or(V::from_raw(0), V::from_raw);
            Act::Set(cur.wrapping_add(delta).into_raw())
        };
        let (old, _) = self.compute(key, act, pin);
        old.map_or(V::from_raw(0), V::from_raw)
    }
}

/// Where an operation gets its guard: `Fresh` pins for this operation alone, `Held` is an
/// [`AtomicMapRef`]'s.
///
/// The order of the pin and the prefetch of the key's bucket (`RawAtomicMap::prefetch`) was
/// measured both ways (docs/hashmap.md, "The prefetch before the pin"): a write prefetches
/// first, so that the line is on its way while the pin's locked instruction runs; a read pins
/// first, which made `get` up to a third faster.
#[derive(Clone, Copy)]
enum Pin<'g> {
    Fresh,
    Held(&'g Guard),
}

impl<'g> Pin<'g> {
    /// The guard to run under: the held one, or a fresh pin kept in `fresh`.
    #[inline(always)]
    fn guard<'a>(self, fresh: &'a mut Option<Guard>) -> &'a Guard
    where
        'g: 'a,
    {
        match self {
            Pin::Held(guard) => guard,
            Pin::Fresh => fresh.insert(freeway_epoch::pin()),
        }
    }
}

/// The hash of a raw key with the map's hasher.
struct Rehash<'m, K, V, S>(&'m AtomicMap<K, V, S>);

impl<K: Word, V: Word, S: BuildHasher> RawHash for Rehash<'_, K, V, S> {
    #[inline]
    fn hash_raw(&self, raw: u64) -> u64 {
        self.0.hasher.hash_one(user_key::<K>(raw))
    }
}

/// The iterator of [`AtomicMap::iter`]: `(key, value)` pairs, in no particular order.
///
/// It pins the thread while it lives (so it is neither `Send` nor `Sync`).
///
/// # Examples
///
/// ```
/// let map: freeway_hashmap::AtomicMap<u8, bool> = [(1, true)].into_iter().collect();
/// let it: freeway_hashmap::atomic_map::Iter<'_, u8, bool> = map.iter();
/// assert_eq!(it.count(), 1);
/// ```
pub struct Iter<'m, K, V, S = RandomState> {
    raw: RawAtomicIter<'m, Rehash<'m, K, V, S>>,
}

impl<K: Word, V: Word, S: BuildHasher> Iterator for Iter<'_, K, V, S> {
    type Item = (K, V);

    #[inline]
    fn next(&mut self) -> Option<(K, V)> {
        self.raw
            .next()
            .map(|(k, v)| (user_key::<K>(k), V::from_raw(v)))
    }
}

impl<K, V, S> fmt::Debug for Iter<'_, K, V, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iter").finish_non_exhaustive()
    }
}

impl<'m, K: Word, V: Word, S: BuildHasher> IntoIterator for &'m AtomicMap<K, V, S> {
    type Item = (K, V);
    type IntoIter = Iter<'m, K, V, S>;

    /// See [`AtomicMap::iter`].
    fn into_iter(self) -> Iter<'m, K, V, S> {
        self.iter()
    }
}

impl<K: Word, V: Word, S: BuildHasher + Default> Default for AtomicMap<K, V, S> {
    /// An empty map with the default hasher.
    fn default() -> Self {
        Self::with_hasher(S::default())
    }
}

impl<K: Word, V: Word, S: BuildHasher> fmt::Debug for AtomicMap<K, V, S> {
    /// The pairs as a map (`{1: 2, ...}`), in iteration order.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: Word, V: Word, S: BuildHasher + Default> FromIterator<(K, V)> for AtomicMap<K, V, S> {
    /// A map of the pairs (a later pair with the same key wins).
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let iter = iter.into_iter();
        let map = Self::with_capacity_and_hasher(iter.size_hint().0, S::default());
        (&map).extend(iter);
        map
    }
}

impl<K: Word, V: Word, S: BuildHasher> Extend<(K, V)> for AtomicMap<K, V, S> {
    /// Inserts every pair.
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        (&*self).extend(iter);
    }
}

impl<K: Word, V: Word, S: BuildHasher> Extend<(K, V)> for &AtomicMap<K, V, S> {
    /// Inserts every pair (through a shared reference: the map is concurrent).
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        let iter = iter.into_iter();
        self.reserve(iter.size_hint().0);
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl<K: Word, V: Word, S: BuildHasher + Clone> Clone for AtomicMap<K, V, S> {
    /// A new map with the pairs this one has during the copy (see [`AtomicMap::iter`]) and a
    /// clone of its hasher.
    fn clone(&self) -> Self {
        let map = Self::with_capacity_and_hasher(self.len(), self.hasher.clone());
        (&map).extend(self.iter());
        map
    }
}

// `AtomicMap` is `Send` and `Sync` without an impl of ours: its fields are (the raw map is
// atomics and epoch pointers, whose tables hold plain words), and keys and values are `Word`s,
// which are `Send + Sync`. A thread that gets a `&AtomicMap` can only copy words in and out.
