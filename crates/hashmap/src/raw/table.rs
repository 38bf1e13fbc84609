//! One table of the map: the boxed entry, the slot and tag-word arrays and their accessors (see
//! "Slot states" and "Tag bytes" in the parent module's docs).

use super::chain::{self, ChainTable, STRIPES, Witness};
use super::counter::Striped;
use super::probe::{tag, tag_byte};
#[cfg(not(loom))]
use super::zeroed::ZeroedArray;
use super::zeroed::{empty_buckets, empty_tags};
use super::{BUCKET, MOVING, PROBE_LIMIT, TOMB, UNTAGGED};
use freeway_epoch::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use freeway_epoch::{Atomic, Shared};

/// A boxed, immutable map entry. Aligned to 8 so that its pointer has 3 free tag bits.
///
/// The key and value come first (`repr(C)`), so that a lookup, which reads only those two, stays
/// in one cache line: the allocator hands out 16-byte aligned blocks, so the first 16 bytes never
/// straddle a line, while a 24-byte entry does when it starts 48 bytes into one. With the hash
/// first, a hit at 2^18 keys loaded 0.34 lines more than papaya's (valgrind `--cache-sim=yes`
/// of a loop of hits on one map, docs/hashmap.md). The hash, read by writers and movers, comes
/// last.
#[repr(C, align(8))]
pub(crate) struct Entry<K, V> {
    pub(crate) key: K,
    pub(crate) value: V,
    pub(crate) hash: u64,
    pub(crate) witness: Witness,
}

impl<K, V> Entry<K, V> {
    #[inline(always)]
    pub(crate) fn new(hash: u64, key: K, value: V) -> Self {
        Self {
            hash,
            key,
            value,
            witness: Witness::new(),
        }
    }
}

/// A decoded slot.
pub(super) enum Slot<'g, K, V> {
    Empty,
    Live(&'g Entry<K, V>),
    Tomb,
    Frozen(&'g Entry<K, V>),
    Moved,
    Sealed,
}

/// Decodes a slot word loaded under `guard`.
pub(super) fn decode<'g, K, V>(s: Shared<'g, Entry<K, V>>) -> Slot<'g, K, V> {
    match (s.is_null(), s.tag()) {
        (true, 0) => Slot::Empty,
        (true, TOMB) => Slot::Tomb,
        (true, MOVING) => Slot::Moved,
        (true, _) => Slot::Sealed,
        (false, tag) => {
            // SAFETY: a non-null slot word points to an entry that is reachable from a table
            // reachable under the guard `s` was loaded with (for `RootView`'s loads through an
            // unprotected guard: under the caller's pin that `'g` stands for; see `RootView`);
            // entries are retired only after they are unlinked (replaced, removed, or the old
            // slot MOVED before the new copy is replaced), so the entry outlives `'g`.
            let e = unsafe { s.deref() };
            e.witness.check();
            if tag == MOVING {
                Slot::Frozen(e)
            } else {
                Slot::Live(e)
            }
        }
    }
}

/// The slot words of one bucket: one 64-byte cache line.
#[cfg_attr(not(loom), repr(C, align(64)))]
pub(super) struct Bucket<K, V> {
    pub(super) slots: [Atomic<Entry<K, V>>; BUCKET],
}

/// A table's arrays: zeroed and aligned by hand (`ZeroedArray`), or built element by element
/// under loom, whose atomics must be constructed.
#[cfg(not(loom))]
pub(super) type Array<T> = ZeroedArray<T>;
#[cfg(loom)]
pub(super) type Array<T> = Box<[T]>;

/// One open-addressed table: `len` slots, numbered bucket by bucket (slot `i` is
/// `buckets[i / BUCKET].slots[i % BUCKET]`, and its tag is byte `i % BUCKET` of
/// `tags[i / BUCKET]`).
pub(super) struct Table<K, V> {
    /// One word of `BUCKET` tag bytes per bucket (see "Tag bytes").
    /// Invariant: `tags.len() == bmask + 1`.
    pub(super) tags: Array<AtomicU64>,
    /// Invariant: `buckets.len() == bmask + 1`, a power of two.
    pub(super) buckets: Array<Bucket<K, V>>,
    pub(super) bmask: usize,
    /// Number of slots: `buckets.len() * BUCKET`.
    pub(super) len: usize,
    /// Chains longer than this ask for a resize.
    pub(super) limit: usize,
    /// The table being copied into, once a resize has started.
    pub(super) next: Atomic<Table<K, V>>,
    /// Start of the next chunk to copy.
    pub(super) claim: AtomicUsize,
    /// Slots whose copy is complete.
    pub(super) done: AtomicUsize,
    /// Slots claimed in this table (LIVE or TOMB now, or moved on), striped like the map's
    /// length: `grow_decision` tells a table clogged with tombstones from one long chain.
    pub(super) claimed: Striped,
    pub(super) witness: Witness,
}

impl<K, V> Table<K, V> {
    /// A table of at least `capacity` slots.
    pub(super) fn new(capacity: usize) -> Self {
        let nb = chain::bucket_count(capacity, BUCKET);
        // Both arrays' sizes are checked before either is allocated, so that a table too large
        // for the address space is a panic (`ZeroedArray::block`) that changes nothing, not an
        // allocation failure of the first array while the second could never exist.
        #[cfg(not(loom))]
        let _ = (
            ZeroedArray::<AtomicU64>::block(nb),
            ZeroedArray::<Bucket<K, V>>::block(nb),
        );
        Self {
            tags: empty_tags(nb),
            buckets: empty_buckets(nb),
            bmask: nb - 1,
            len: nb * BUCKET,
            limit: PROBE_LIMIT,
            next: Atomic::null(),
            claim: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
            // A stripe per 64 buckets, up to `STRIPES`: small tables stay small.
            claimed: Striped::shared((nb / 64).clamp(1, STRIPES)),
            witness: Witness::new(),
        }
    }

    pub(super) fn capacity(&self) -> usize {
        self.len
    }

    /// The home bucket of `hash`.
    #[inline(always)]
    pub(super) fn home_bucket(&self, hash: u64) -> usize {
        hash as usize & self.bmask
    }

    /// Bucket `b & bmask`, without a bounds check.
    #[inline(always)]
    pub(super) fn bucket_at(&self, b: usize) -> &Bucket<K, V> {
        // SAFETY: `b & bmask < bmask + 1 == buckets.len()` (the invariant of `buckets`).
        unsafe { self.buckets.get_unchecked(b & self.bmask) }
    }

    /// Starts loading bucket `b & bmask`'s slot line while its tag word is read: a hit needs
    /// both, and the slot to load is known only from the tag word, so without the hint the two
    /// misses would come one after the other.
    #[inline(always)]
    pub(super) fn prefetch(&self, b: usize) {
        #[cfg(all(target_arch = "x86_64", not(loom)))]
        // SAFETY: `_mm_prefetch` needs SSE, which the x86_64 baseline includes; a prefetch is
        // a hint that never faults and changes no memory (the address is a bucket of ours).
        unsafe {
            use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(self.bucket_at(b)).cast());
        }
        #[cfg(not(all(target_arch = "x86_64", not(loom))))]
        let _ = b;
    }

    /// The tag word of bucket `b & bmask`, without a bounds check.
    #[inline(always)]
    pub(super) fn tags_at(&self, b: usize) -> &AtomicU64 {
        // SAFETY: `b & bmask < bmask + 1 == tags.len()` (the invariant of `tags`).
        unsafe { self.tags.get_unchecked(b & self.bmask) }
    }

    /// Slot `i` (modulo `len`).
    #[inline(always)]
    pub(super) fn slot(&self, i: usize) -> &Atomic<Entry<K, V>> {
        &self.bucket_at(i / BUCKET).slots[i % BUCKET]
    }

    /// Slot `i`'s tag byte.
    #[inline(always)]
    pub(super) fn tag_of(&self, i: usize) -> u8 {
        // Relaxed: both callers read nothing through the byte. `publish` only decides whether
        // to OR in a byte that racing writers OR identically; an iterator's `current` has
        // already loaded the slot with Acquire (which published the entry) and only asks
        // whether the claim is tagged yet. The walks that do read slots after their tags
        // (`get`, `walk`) load the tag words themselves, with Acquire.
        tag_byte(self.tags_at(i / BUCKET).load(Ordering::Relaxed), i % BUCKET)
    }

    /// Publishes the tag of the key that has just claimed slot `i` (EMPTY -> LIVE) and counts
    /// the claim. Only the claimer calls it, once.
    #[inline(always)]
    pub(super) fn mark(&self, i: usize, hash: u64) {
        // Release: pairs with the Acquire tag-word loads in `get` and `walk`: a thread
        // that reads the tag reads the claim (or a later state) when it loads the slot. The byte
        // is UNTAGGED or already `tag(hash)` (a helper's `publish`), so the OR leaves exactly
        // the tag, and no other byte changes.
        self.tags_at(i / BUCKET).fetch_or(
            u64::from(tag(hash)) << (8 * (i % BUCKET)),
            Ordering::Release,
        );
        self.claimed.add(1);
    }

    /// Makes sure slot `i`'s tag byte is `byte`, the tag of the state its word was seen in
    /// (`tag(hash)` of a claimed slot, `SEALED_TAG` of a sealed one): a thread that acts on a
    /// claim or a seal whose tag is not yet written writes it first (see "Tag bytes").
    #[inline]
    pub(super) fn publish(&self, i: usize, byte: u8) {
        let cur = self.tag_of(i);
        invariant!(cur == UNTAGGED || cur == byte, "a slot tagged twice");
        if cur == UNTAGGED {
            // Release: pairs with the Acquire tag-word loads in `get` and `walk`. A
            // tag byte changes once, from UNTAGGED to the one value its slot's word dictates,
            // so racing writers OR the same bits.
            self.tags_at(i / BUCKET)
                .fetch_or(u64::from(byte) << (8 * (i % BUCKET)), Ordering::Release);
        }
    }
}

impl<K, V> ChainTable for Table<K, V> {
    fn with_capacity(capacity: usize) -> Self {
        Self::new(capacity)
    }
    fn slots(&self) -> usize {
        self.len
    }
    fn next_link(&self) -> &Atomic<Self> {
        &self.next
    }
    fn done(&self) -> &AtomicUsize {
        &self.done
    }
    fn claimed(&self) -> usize {
        self.claimed.sum()
    }
    fn witness(&self) -> &Witness {
        &self.witness
    }
}

/// Dereferences a table pointer loaded under `guard` (see `chain::deref`).
#[inline(always)]
pub(super) fn table<'g, K, V>(t: Shared<'g, Table<K, V>>) -> &'g Table<K, V> {
    chain::deref(t)
}
