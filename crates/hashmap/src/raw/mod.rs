//! The unsafe core of the map: open-addressed tables of atomic entry pointers, linked into a
//! chain while a resize is under way.
//!
//! Every `unsafe` block of the crate lives in this module. The public wrapper in `lib.rs` hashes
//! keys with the user's `BuildHasher`, checks nothing else, and hands out the `&'g` references this
//! module returns.
//!
//! # Sources
//!
//! The design follows Cliff Click's non-blocking hash table (*A Lock-Free Wait-Free Hash Table*,
//! talk at Stanford EE380 and JavaOne, 2007): open addressing with a slot claimed for one key
//! for the life of a table, tombstones that stay until the next resize, and a resize that freezes
//! old slots one by one and copies them into the next table while every other thread keeps
//! working. From Maier, Sanders and Dementiev (*Concurrent Hash Tables: Fast and General?(!)*,
//! PPoPP 2016) it takes the cooperative migration by chunks claimed with a fetch-and-add, and
//! from papaya's design notes (Ibraheem Ahmed, 2024) the boxed immutable entries (so that `&V`
//! handed to a reader stays valid under its guard) and the wait on a slot that is being moved.
//!
//! # Slots
//!
//! A table is an array of slots, each an `Atomic<Entry<K, V>>`. An entry is a boxed, immutable
//! `(hash, key, value)`; a write never changes an entry in place, it swings the slot's pointer to
//! a new entry and retires the old one through `freeway_epoch`. The pointer's low tag bits
//! (entries are 8-aligned) encode the slot state:
//!
//! | pointer  | tag      | state    | meaning                                                     | next states     |
//! |----------|----------|----------|-------------------------------------------------------------|-----------------|
//! | null     | 0        | EMPTY    | never claimed in this table; ends every probe chain (1)     | LIVE, SEALED    |
//! | non-null | 0        | LIVE     | the current entry of its key                                | LIVE, TOMB, FROZEN |
//! | null     | `TOMB`   | TOMB     | its key was removed; the slot is never reused in this table | (final)         |
//! | non-null | `FROZEN` | FROZEN   | being copied to the next table by one thread; still current | MOVED           |
//! | null     | `FROZEN` | MOVED    | its entry now lives in the next table                       | (final)         |
//! | null     | `SEALED` | SEALED   | was EMPTY when frozen: ends chains, nothing may claim it     | (final)         |
//!
//! (1) For readers, and writers that do not claim, the chain ends at the first UNTAGGED slot,
//! which may be a claim not yet tagged (see "Tag bytes").
//!
//! A slot holds entries of one key only from the moment it is claimed (a replacement keeps the
//! key), so a key has at most one slot per table, and that slot lies before the first EMPTY or
//! SEALED slot of the key's probe chain.
//!
//! # Buckets and tag bytes
//!
//! Slots are grouped in buckets of eight, each one 64-byte cache line of slot words; beside the
//! buckets, a table keeps a tag array of one byte per slot, one `AtomicU64` word per bucket
//! (after the control bytes of hashbrown and of papaya, which keep them apart from the slots
//! for the same reason). A key's probe chain starts at the first slot of its home bucket
//! (`hash & bmask`) and runs linearly through the slots, bucket after bucket, wrapping at the
//! end; all bucket and slot indexing is by power-of-two masks and shifts, without bounds checks.
//!
//! The tag array is an eighth of the size of the slots (256 KiB for a 2^18-slot table) and
//! mostly stays in the L2 cache, so a lookup of an absent key usually ends there, without
//! loading a slot line. (Before, the tags shared a line with seven slots: a miss cost a memory
//! access, 120 ns at 2^18 keys against papaya's 40, and about half of the read-heavy bench's
//! lookups are misses.) A hit loads the tag word, the slot line (prefetched while the tag word
//! is read) and the entry.
//!
//! # Tag bytes
//!
//! A tag byte is UNTAGGED (0) until its slot is claimed or sealed, then, once and for the life
//! of the table, `tag(hash)` of the claiming key (its top seven hash bits with the high bit set)
//! or `SEALED_TAG` (1). A reader decides from the bytes alone where the key's chain ends: an
//! UNTAGGED byte means "absent from this table", a `SEALED_TAG` "go to the next table", a
//! different tag "another key's slot"; only a slot with the key's tag has its word and entry
//! loaded (1 in 128 for another key).
//!
//! The slot word stays the authority on the state, and the tag follows it: a claim is the CAS
//! of the word (EMPTY -> LIVE, as before), then the claimer writes the tag (`Table::mark`); a
//! seal is the CAS EMPTY -> SEALED, then the sealer writes `SEALED_TAG`. Between the two steps
//! readers do not see the claim, which is fine: an insert takes effect when its tag is written.
//! What keeps that true for everyone is a helping rule: **a thread that acts on a slot word it
//! found untagged (a claim it walks past, a key of its own it replaces or removes, a seal it
//! turns back at, a slot it freezes or clears) writes the tag first** (`Table::publish`, an
//! idempotent `fetch_or`: the byte can only ever take the one value the word dictates). So no
//! operation's effect depends on a claim or seal that readers cannot see yet, and a claimer
//! descheduled between its two steps delays nobody. Writers that will not claim (`remove`)
//! stop at an UNTAGGED byte as readers do. The loom model `a_claim_walked_past_is_tagged`
//! fails without the rule.
//!
//! Skipping a MOVED slot of another key is sound: "a MOVED slot was passed" matters only when
//! the slot may have been our key's, and a slot with another tag never was. A slot leaves LIVE
//! (TOMB, FROZEN, MOVED) only after its tag is written, so a tagged slot's word is never EMPTY
//! or SEALED.
//!
//! A probe loads a bucket's tag word once and finds the slots worth a look (UNTAGGED, SEALED or
//! our tag) with a few word operations, SWAR as in hashbrown's generic control-byte group, then
//! visits them in slot order by their bits (`candidates`). The bytes could not be separate
//! `AtomicU8`s read as one word: mixed-size accesses to the same atomics are outside Rust's
//! memory model and loom.
//!
//! # Reads
//!
//! A reader walks the key's chain: a LIVE or FROZEN slot with the key is the answer (a FROZEN
//! entry is still current: nobody writes the key in the next table before its old slot is
//! MOVED). An UNTAGGED slot ends the search with "absent" unless a MOVED slot was passed (that
//! slot may have been the key's, now in the next table); a SEALED slot or a full wrap sends the
//! reader to the next table, if any. Reads never write shared memory.
//!
//! # Writes
//!
//! A writer first helps an in-progress resize with one chunk, then walks the chain; one that may
//! claim also loads the words of untagged slots (and tags what it finds there), one that will
//! not (`remove`) stops at an UNTAGGED slot as a reader does, and answers "absent" there unless
//! it passed a MOVED slot. A LIVE slot with its key is replaced or removed with a CAS on the
//! pointer. A FROZEN slot with its key makes it wait until the mover has published the copy (a
//! bounded step that runs no user code), then it goes on in the next table. At an EMPTY end it
//! may claim the slot only if the table has no next table and it passed no MOVED slot;
//! otherwise it SEALs the slot, claiming or not (so the key can never appear in this table
//! again, and in particular cannot be claimed behind it, frozen, and met as a copy in the next
//! table while the FROZEN original is still current here), and carries on in the next table;
//! if the seal fails it walks the table again, loading untagged words. `clear` likewise seals
//! the EMPTY slots of a table that has a next table before it clears the next. A chain longer than
//! the table's probe limit (two buckets) asks for a resize (see `grow_decision`): a doubling
//! once 5/8 of the slots are live, so tables run between about a third and two thirds full.
//!
//! # Resizing
//!
//! A resize links a new table from the old one (`next`, by CAS; the loser frees its unpublished
//! table). Writers claim chunks of old slots with a fetch-and-add on `claim` and copy them: an
//! EMPTY slot is SEALED, a TOMB stays, a LIVE slot is FROZEN, its entry (the same allocation; no
//! user code runs) is inserted into the next table by pointer, and the slot becomes MOVED. The
//! thread that completes the last chunk swings the map's root to the next table and retires the
//! old one (whose slots then hold no entries). Readers and writers never wait for a whole resize;
//! a writer whose own key is in the one slot being moved waits for that slot.
//!
//! A same-size (or smaller) rehash clears tombstones, so memory after a remove-heavy phase
//! returns to proportional to the live entries once the next write meets a long chain in a
//! table that is 3/4 claimed.
//!
//! A new table costs its writer no initialising pass: its zeroed memory comes from `calloc`
//! (see `ZeroedArray`), whose large blocks are pages the kernel zeroes on first touch, so the
//! cost is spread over the writers that copy into the table and insert into it.

pub(crate) mod atomic;
mod cache;
mod chain;
mod counter;
mod iter;
mod pinned;
mod probe;
mod zeroed;

use chain::{COPY_CHUNK, ChainTable, MIN_CAPACITY, SHARED_STRIPES, STRIPES};
use counter::Striped;
pub(crate) use iter::RawIter;
#[cfg(feature = "rayon")]
pub(crate) use iter::RootView;
pub(crate) use pinned::Pinned;
use probe::{candidates, first_slot, tag, tag_byte};
#[cfg(not(loom))]
use zeroed::ZeroedArray;
use zeroed::{empty_buckets, empty_tags};

use freeway_epoch::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use freeway_epoch::{Atomic, Guard, Owned, Shared};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

/// Slots per bucket: eight slot words fill one 64-byte cache line, and their eight tag bytes
/// one word of the tag array.
#[cfg(not(loom))]
const BUCKET: usize = 8;
#[cfg(loom)]
const BUCKET: usize = 2;

/// Chains longer than this (in slots, from the start of the home bucket) ask for a resize (see
/// `grow_decision`): past the home bucket and the next, a probe reads a third line.
#[cfg(not(loom))]
const PROBE_LIMIT: usize = 2 * BUCKET;
#[cfg(loom)]
const PROBE_LIMIT: usize = 8;

/// Tag byte of a slot that nobody has claimed or sealed yet, as far as readers know (see
/// "Tag bytes"; `candidates` and the zeroed tag array rely on it being 0).
const UNTAGGED: u8 = 0;
const _: () = assert!(UNTAGGED == 0);
/// Tag byte of a SEALED slot. Key tags have the high bit set, so they never equal it.
const SEALED_TAG: u8 = 1;

/// Tag of a TOMB slot (null pointer).
const TOMB: usize = 1;
/// Pointer tag of a slot whose entry is moving: FROZEN while the pointer is non-null (being
/// copied), MOVED once it is null (copied).
const MOVING: usize = 2;
/// Tag of a SEALED slot (null pointer).
const SEALED: usize = 3;

/// A boxed, immutable map entry. Aligned to 8 so that its pointer has 3 free tag bits.
#[repr(align(8))]
pub(crate) struct Entry<K, V> {
    pub(crate) hash: u64,
    pub(crate) key: K,
    pub(crate) value: V,
}

/// A decoded slot.
enum Slot<'g, K, V> {
    Empty,
    Live(&'g Entry<K, V>),
    Tomb,
    Frozen(&'g Entry<K, V>),
    Moved,
    Sealed,
}

/// Decodes a slot word loaded under `guard`.
fn decode<'g, K, V>(s: Shared<'g, Entry<K, V>>) -> Slot<'g, K, V> {
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
struct Bucket<K, V> {
    slots: [Atomic<Entry<K, V>>; BUCKET],
}

/// A table's arrays: zeroed and aligned by hand (`ZeroedArray`), or built element by element
/// under loom, whose atomics must be constructed.
#[cfg(not(loom))]
type Array<T> = ZeroedArray<T>;
#[cfg(loom)]
type Array<T> = Box<[T]>;

/// One open-addressed table: `len` slots, numbered bucket by bucket (slot `i` is
/// `buckets[i / BUCKET].slots[i % BUCKET]`, and its tag is byte `i % BUCKET` of
/// `tags[i / BUCKET]`).
struct Table<K, V> {
    /// One word of `BUCKET` tag bytes per bucket (see "Tag bytes").
    /// Invariant: `tags.len() == bmask + 1`.
    tags: Array<AtomicU64>,
    /// Invariant: `buckets.len() == bmask + 1`, a power of two.
    buckets: Array<Bucket<K, V>>,
    bmask: usize,
    /// Number of slots: `buckets.len() * BUCKET`.
    len: usize,
    /// Chains longer than this ask for a resize.
    limit: usize,
    /// The table being copied into, once a resize has started.
    next: Atomic<Table<K, V>>,
    /// Start of the next chunk to copy.
    claim: AtomicUsize,
    /// Slots whose copy is complete.
    done: AtomicUsize,
    /// Slots claimed in this table (LIVE or TOMB now, or moved on), striped like the map's
    /// length: `grow_decision` tells a table clogged with tombstones from one long chain.
    claimed: Striped,
}

impl<K, V> Table<K, V> {
    /// A table of at least `capacity` slots.
    fn new(capacity: usize) -> Self {
        let nb = capacity
            .max(MIN_CAPACITY)
            .div_ceil(BUCKET)
            .checked_next_power_of_two()
            .expect("freeway_hashmap: capacity overflow");
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
        }
    }

    fn capacity(&self) -> usize {
        self.len
    }

    /// The home bucket of `hash`.
    #[inline(always)]
    fn home_bucket(&self, hash: u64) -> usize {
        hash as usize & self.bmask
    }

    /// Bucket `b & bmask`, without a bounds check.
    #[inline(always)]
    fn bucket_at(&self, b: usize) -> &Bucket<K, V> {
        // SAFETY: `b & bmask < bmask + 1 == buckets.len()` (the invariant of `buckets`).
        unsafe { self.buckets.get_unchecked(b & self.bmask) }
    }

    /// Starts loading bucket `b & bmask`'s slot line while its tag word is read: a hit needs
    /// both, and the slot to load is known only from the tag word, so without the hint the two
    /// misses would come one after the other.
    #[inline(always)]
    fn prefetch(&self, b: usize) {
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
    fn tags_at(&self, b: usize) -> &AtomicU64 {
        // SAFETY: `b & bmask < bmask + 1 == tags.len()` (the invariant of `tags`).
        unsafe { self.tags.get_unchecked(b & self.bmask) }
    }

    /// Slot `i` (modulo `len`).
    #[inline(always)]
    fn slot(&self, i: usize) -> &Atomic<Entry<K, V>> {
        &self.bucket_at(i / BUCKET).slots[i % BUCKET]
    }

    /// Slot `i`'s tag byte.
    #[inline(always)]
    fn tag_of(&self, i: usize) -> u8 {
        // Acquire: pairs with the Release `fetch_or`s of `mark` and `publish`: a thread that
        // reads a tag reads the slot word in the state that was tagged, or later.
        tag_byte(self.tags_at(i / BUCKET).load(Ordering::Acquire), i % BUCKET)
    }

    /// Publishes the tag of the key that has just claimed slot `i` (EMPTY -> LIVE) and counts
    /// the claim. Only the claimer calls it, once.
    #[inline(always)]
    fn mark(&self, i: usize, hash: u64) {
        // Release: pairs with the Acquire tag-word loads in `get`, `walk` and `tag_of`: a thread
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
    fn publish(&self, i: usize, byte: u8) {
        let cur = self.tag_of(i);
        debug_assert!(cur == UNTAGGED || cur == byte, "a slot tagged twice");
        if cur == UNTAGGED {
            // Release: pairs with the Acquire tag-word loads in `get`, `walk` and `tag_of`. A
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
}

/// Dereferences a table pointer loaded under `guard` (see `chain::deref`).
#[inline(always)]
fn table<'g, K, V>(t: Shared<'g, Table<K, V>>) -> &'g Table<K, V> {
    chain::deref(t)
}

/// Where a key stands, for a writer.
enum Pos<'g, K, V> {
    /// The key's current entry is `cur`, LIVE at `table.slot(idx)`.
    Live {
        table: &'g Table<K, V>,
        idx: usize,
        cur: Shared<'g, Entry<K, V>>,
    },
    /// The key is absent; `table.slot(idx)` was EMPTY and may be claimed for it.
    Vacant { table: &'g Table<K, V>, idx: usize },
    /// The key is absent (writers that do not insert).
    Absent,
}

/// How far a chain walk went.
struct Chain {
    /// Slots walked.
    dist: usize,
    /// Whether a MOVED slot of a key with our tag was passed.
    saw_moved: bool,
}

/// What an UNTAGGED slot does to a chain walk (`RawMap::walk`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Untagged {
    /// It ends the walk, as a reader's: a claim not yet tagged is an insert not yet done (for
    /// writers that will not claim).
    Ends,
    /// Its word decides: an EMPTY one ends the walk (and may be claimed); a claim or a seal not
    /// yet tagged is tagged and walked past or ended at, as if tagged (for claiming writers, and
    /// any writer after a failed seal).
    Look,
}

/// How a chain walk ended.
enum End {
    Empty(usize),
    Sealed,
    Full,
}

/// What `insert` found.
pub(crate) enum Inserted<'g, K, V> {
    /// The key was absent; this is the new entry.
    New(&'g Entry<K, V>),
    /// The key was present with this entry, now replaced.
    Replaced(&'g Entry<K, V>),
    /// The key was present with this entry and `replace` was false: nothing changed.
    Exists(&'g Entry<K, V>),
}

/// What a `compute` closure asks for.
pub(crate) enum Op<V> {
    Keep,
    Set(V),
    Remove,
}

/// The raw map: a root table pointer and a striped length counter.
pub(crate) struct RawMap<K, V> {
    root: Atomic<Table<K, V>>,
    count: Striped,
}

/// A new boxed entry, in a block from this thread's entry cache when it has one (`cache`).
#[inline]
fn new_entry<K, V>(e: Entry<K, V>) -> Owned<Entry<K, V>> {
    if let Some(p) = cache::take(std::alloc::Layout::new::<Entry<K, V>>()) {
        let p = p.cast::<Entry<K, V>>().as_ptr();
        // SAFETY: `p` is a free block from the global allocator with exactly `Entry<K, V>`'s
        // layout (the cache's contract), so it may hold the entry and be owned as the `Box`
        // that `Owned` is (freed, if ever, with that same layout).
        unsafe {
            p.write(e);
            return Owned::from_raw(p);
        }
    }
    Owned::new(e)
}

/// Retires an unlinked entry: later, its drop runs (a panic there is caught; the panic hook
/// reports it) and its block goes to the collecting thread's entry cache (`cache`).
///
/// # Safety
///
/// - `p` is non-null, came from `new_entry` (or `Owned::new`), and is unreachable for threads
///   that pin later.
/// - It is retired once.
unsafe fn retire_entry<K: Send + 'static, V: Send + 'static>(
    guard: &Guard,
    p: Shared<'_, Entry<K, V>>,
) {
    let raw = p.as_raw() as *mut Entry<K, V>;
    let free = move || {
        // SAFETY: `raw` is an unlinked entry, initialised, dropped exactly once here (a panic
        // in a field's drop still drops the other fields while unwinding).
        let _ = catch_unwind(AssertUnwindSafe(|| unsafe { std::ptr::drop_in_place(raw) }));
        let layout = std::alloc::Layout::new::<Entry<K, V>>();
        let block = std::ptr::NonNull::new(raw.cast::<u8>()).expect("entries are non-null");
        // SAFETY: the block of a `Box<Entry<K, V>>` (allocated with `layout`), whose value was
        // just dropped, and not used again.
        unsafe { cache::give(block, layout) };
    };
    // SAFETY: (1) forwarded from the caller: unlinked, retired once; (2) `K, V: Send + 'static`,
    // so dropping the entry later on any thread is sound.
    unsafe { freeway_epoch::defer_unchecked(guard, free) }
}

impl<K, V> RawMap<K, V> {
    pub(crate) fn with_capacity(n: usize) -> Self {
        Self {
            root: Atomic::new(Table::new(n.saturating_mul(2))),
            count: Striped::new(SHARED_STRIPES),
        }
    }

    /// The number of entries (a sum of stripes; exact when no write is in flight).
    pub(crate) fn len(&self) -> usize {
        self.count.sum()
    }

    fn add_len(&self, d: isize) {
        self.count.add(d);
    }

    fn root<'g>(&self, guard: &'g Guard) -> Shared<'g, Table<K, V>> {
        // Acquire: pairs with the SeqCst root CAS in `promote` (and the initial store), so the
        // table's contents are visible.
        self.root.load(Ordering::Acquire, guard)
    }

    /// Capacity of the current root table.
    pub(crate) fn capacity(&self, guard: &Guard) -> usize {
        table(self.root(guard)).capacity()
    }

    /// Finds the entry of the key with `hash` for which `eq` holds.
    pub(crate) fn get<'g>(
        &'g self,
        hash: u64,
        mut eq: impl FnMut(&K) -> bool,
        pinned: &'g Pinned,
    ) -> Option<&'g Entry<K, V>> {
        let guard = pinned.guard();
        let tg = tag(hash);
        let mut t = table(self.root(guard));
        loop {
            let mut saw_moved = false;
            // Bucket by bucket from the home bucket (slot order within each, as `walk`).
            let mut b = t.home_bucket(hash);
            let mut dist = 0;
            let empty_end = 'walk: loop {
                if dist >= t.len {
                    break false;
                }
                t.prefetch(b);
                // Acquire: pairs with the Release `fetch_or`s of `Table::mark` and
                // `Table::publish`: a tagged slot's word is read in the state that was tagged,
                // or later.
                let meta = t.tags_at(b).load(Ordering::Acquire);
                let mut m = candidates(meta, tg);
                while m != 0 {
                    let k = first_slot(m);
                    m &= m - 1;
                    match tag_byte(meta, k) {
                        // Not claimed as far as readers know: the key is not in this table.
                        UNTAGGED => break 'walk true,
                        SEALED_TAG => break 'walk false,
                        _ => {}
                    }
                    // Acquire: pairs with the Release/AcqRel CASes and stores that publish
                    // entries and slot states (`insert`, `compute`, `copy_slot`), so the entry
                    // is initialised.
                    match decode(t.bucket_at(b).slots[k].load(Ordering::Acquire, guard)) {
                        // A tag is written after its slot's claim, so a tagged slot is never
                        // EMPTY or SEALED.
                        Slot::Empty | Slot::Sealed => {
                            debug_assert!(false, "a tagged slot unclaimed")
                        }
                        Slot::Tomb => {}
                        Slot::Moved => saw_moved = true,
                        Slot::Live(e) | Slot::Frozen(e) => {
                            if e.hash == hash && eq(&e.key) {
                                return Some(e);
                            }
                        }
                    }
                }
                b += 1;
                dist += BUCKET;
            };
            if empty_end && !saw_moved {
                return None;
            }
            // Acquire: pairs with the AcqRel CAS in `start_resize` that publishes the table.
            let next = t.next.load(Ordering::Acquire, guard);
            if next.is_null() {
                return None;
            }
            t = table(next);
        }
    }

    /// Spins until `table.slot(idx)` no longer holds `s` (a FROZEN word being moved).
    fn wait_moved(t: &Table<K, V>, idx: usize, s: Shared<'_, Entry<K, V>>, guard: &Guard) {
        // Acquire: pairs with the Release store of MOVED in `copy_slot`, after which the entry
        // is in the next table.
        freeway_epoch::sync::wait_until(|| t.slot(idx).load(Ordering::Acquire, guard) != s);
    }

    /// Whether a chain of `chain.dist` slots calls for a resize, and to what capacity (see
    /// `chain::grow_decision`).
    fn grow_decision(&self, t: &Table<K, V>, chain: &Chain) -> Option<usize> {
        chain::grow_decision(t, chain.dist, t.limit, self.len(), MIN_CAPACITY)
    }

    /// Returns `t`'s next table, creating it with `cap` slots if there is none.
    fn start_resize<'g>(
        &self,
        t: &'g Table<K, V>,
        cap: usize,
        guard: &'g Guard,
    ) -> Shared<'g, Table<K, V>> {
        chain::start_resize(t, cap, guard)
    }

    /// Makes the root table ready for `additional` more claims beyond the entries live now (see
    /// `chain::reserve`).
    pub(crate) fn reserve(&self, additional: usize, pinned: &Pinned) {
        let guard = pinned.guard();
        chain::reserve(
            &self.root,
            || self.len(),
            additional,
            guard,
            |ts| {
                // Relaxed: as in `help_copy`, the counter only partitions the work.
                while table(ts).claim.load(Ordering::Relaxed) < table(ts).capacity() {
                    self.help_copy(ts, guard);
                }
            },
        );
    }

    /// Copies one chunk of `t` (a table with a next table) and promotes it when the copy is done.
    fn help_copy<'g>(&self, ts: Shared<'g, Table<K, V>>, guard: &'g Guard) {
        let t = table(ts);
        // Acquire: pairs with the AcqRel CAS in `start_resize`.
        let next = t.next.load(Ordering::Acquire, guard);
        if next.is_null() {
            return;
        }
        let cap = t.capacity();
        // Relaxed: the claim only partitions the work; slot contents are ordered by the slot
        // CASes themselves.
        let start = t.claim.fetch_add(COPY_CHUNK, Ordering::Relaxed);
        if start >= cap {
            return;
        }
        let end = (start + COPY_CHUNK).min(cap);
        for i in start..end {
            self.copy_slot(t, i, table(next), guard);
        }
        chain::finish_part(&self.root, ts, end - start, guard);
    }

    /// Moves slot `i` of `t` into `next`.
    fn copy_slot<'g>(&self, t: &'g Table<K, V>, i: usize, next: &'g Table<K, V>, guard: &'g Guard) {
        loop {
            // Acquire: pairs with the CASes that published the slot's entry.
            let s = t.slot(i).load(Ordering::Acquire, guard);
            match decode(s) {
                Slot::Empty => {
                    // AcqRel: Release orders the seal after our load of `next`; Acquire reads a
                    // claimer's entry on failure.
                    if t.slot(i)
                        .compare_exchange(
                            s,
                            Shared::null().with_tag(SEALED),
                            Ordering::AcqRel,
                            Ordering::Acquire,
                            guard,
                        )
                        .is_ok()
                    {
                        t.publish(i, SEALED_TAG);
                        return;
                    }
                }
                Slot::Sealed => {
                    // A writer's seal, maybe not tagged yet: the copy of a chunk leaves every
                    // slot of it tagged.
                    t.publish(i, SEALED_TAG);
                    return;
                }
                // Tagged before they left LIVE.
                Slot::Tomb | Slot::Moved => return,
                Slot::Live(e) => {
                    // Tag a claim before acting on it (see "Tag bytes"): its entry's state
                    // changes from here on.
                    t.publish(i, tag(e.hash));
                    // AcqRel: freezing pairs with writers' CASes on this slot (theirs fail from
                    // now on); Acquire on failure reads the replacement entry.
                    if t.slot(i)
                        .compare_exchange(
                            s,
                            s.with_tag(MOVING),
                            Ordering::AcqRel,
                            Ordering::Acquire,
                            guard,
                        )
                        .is_ok()
                    {
                        self.insert_copy(next, s, e.hash, guard);
                        // Release: pairs with the Acquire loads in `wait_moved`, `get` and
                        // `locate`: whoever sees MOVED sees the entry in the next table.
                        t.slot(i)
                            .store(Shared::null().with_tag(MOVING), Ordering::Release);
                        return;
                    }
                }
                Slot::Frozen(_) => {
                    // Only the owner of a chunk freezes its slots, and chunks are claimed once.
                    debug_assert!(false, "a slot frozen twice");
                    return;
                }
            }
        }
    }

    /// Inserts the (frozen elsewhere) entry `p` into `t` or a later table, by pointer: its key
    /// is absent from those tables until its old slot is MOVED, so no key comparison is needed.
    fn insert_copy<'g>(
        &self,
        t: &'g Table<K, V>,
        p: Shared<'g, Entry<K, V>>,
        hash: u64,
        guard: &'g Guard,
    ) {
        let mut t = t;
        loop {
            let (end, chain) = Self::walk(t, hash, Untagged::Look, guard, |_| false);
            let end = match end {
                Err(end) => end,
                Ok(_) => unreachable!("the matcher never matches"),
            };
            let next = match end {
                End::Empty(i) => {
                    // Acquire: pairs with the AcqRel CAS in `start_resize`.
                    let mut next = t.next.load(Ordering::Acquire, guard);
                    if next.is_null() && !chain.saw_moved {
                        match self.grow_decision(t, &chain) {
                            None => {
                                // AcqRel: Release publishes the entry (already initialised) in
                                // its new table; Acquire reads a competing claim on failure.
                                if t.slot(i)
                                    .compare_exchange(
                                        Shared::null(),
                                        p.with_tag(0),
                                        Ordering::AcqRel,
                                        Ordering::Acquire,
                                        guard,
                                    )
                                    .is_ok()
                                {
                                    t.mark(i, hash);
                                    return;
                                }
                                continue;
                            }
                            Some(cap) => next = self.start_resize(t, cap, guard),
                        }
                    }
                    if !Self::seal(t, i, guard) {
                        continue;
                    }
                    next
                }
                End::Sealed => t.next.load(Ordering::Acquire, guard),
                End::Full => self.start_resize(t, t.capacity() * 2, guard),
            };
            t = table(next);
        }
    }

    /// Seals the EMPTY slot `i` and tags it SEALED; false if it is no longer EMPTY.
    fn seal(t: &Table<K, V>, i: usize, guard: &Guard) -> bool {
        // AcqRel: Release orders the seal after our reads of the chain; Acquire reads a
        // competing claim on failure.
        let sealed = t
            .slot(i)
            .compare_exchange(
                Shared::null(),
                Shared::null().with_tag(SEALED),
                Ordering::AcqRel,
                Ordering::Acquire,
                guard,
            )
            .is_ok();
        if sealed {
            t.publish(i, SEALED_TAG);
        }
        sealed
    }

    /// Walks the chain of `hash` in `t`, bucket by bucket from its home bucket. `Ok((idx,
    /// word))` when `matches` holds for a LIVE entry; a FROZEN match is waited out. `Err(end)`
    /// otherwise. The `Chain` says how far it went.
    ///
    /// `untagged` says what an UNTAGGED slot does to the walk (see [`Untagged`]).
    #[allow(clippy::type_complexity)]
    fn walk<'g>(
        t: &'g Table<K, V>,
        hash: u64,
        untagged: Untagged,
        guard: &'g Guard,
        mut matches: impl FnMut(&Entry<K, V>) -> bool,
    ) -> (Result<(usize, Shared<'g, Entry<K, V>>), End>, Chain) {
        let tg = tag(hash);
        let mut c = Chain {
            dist: 0,
            saw_moved: false,
        };
        let mut b = t.home_bucket(hash);
        loop {
            if c.dist >= t.len {
                return (Err(End::Full), c);
            }
            t.prefetch(b);
            let bucket = t.bucket_at(b);
            let base = (b & t.bmask) * BUCKET;
            // Acquire: pairs with the Release `fetch_or`s of `Table::mark` and
            // `Table::publish`. The slots left out are other keys' (LIVE, TOMB, FROZEN or
            // MOVED): they neither end the chain nor hold our key, in this table or (once
            // MOVED) in the next.
            let meta = t.tags_at(b).load(Ordering::Acquire);
            let mut m = candidates(meta, tg);
            while m != 0 {
                let k = first_slot(m);
                let idx = base + k;
                let byte = tag_byte(meta, k);
                if byte == SEALED_TAG {
                    c.dist += k;
                    return (Err(End::Sealed), c);
                }
                if byte == UNTAGGED && untagged == Untagged::Ends {
                    // A writer that will not claim stops where a reader does: a claim not yet
                    // tagged is an insert not yet done.
                    c.dist += k;
                    return (Err(End::Empty(idx)), c);
                }
                // Acquire: pairs with the CASes and stores that publish entries and slot
                // states.
                let s = bucket.slots[k].load(Ordering::Acquire, guard);
                match decode(s) {
                    Slot::Empty => {
                        debug_assert!(byte == UNTAGGED, "a tagged slot unclaimed");
                        c.dist += k;
                        return (Err(End::Empty(idx)), c);
                    }
                    Slot::Sealed => {
                        // Untagged when `meta` was read: we act on the seal, so we tag it.
                        t.publish(idx, SEALED_TAG);
                        c.dist += k;
                        return (Err(End::Sealed), c);
                    }
                    Slot::Tomb => {}
                    Slot::Moved => c.saw_moved = true,
                    Slot::Live(e) => {
                        if byte == UNTAGGED {
                            // A claim whose tag is not written yet: we act on it (a key of
                            // ours found here, or a claim further down the chain), so we tag
                            // it first (see "Tag bytes").
                            t.publish(idx, tag(e.hash));
                        }
                        if e.hash == hash && matches(e) {
                            c.dist += k;
                            return (Ok((idx, s)), c);
                        }
                    }
                    Slot::Frozen(e) => {
                        if e.hash == hash && matches(e) {
                            Self::wait_moved(t, idx, s, guard);
                            // Look at the same slot again: it is MOVED now.
                            continue;
                        }
                    }
                }
                m &= m - 1;
            }
            c.dist += BUCKET;
            b += 1;
        }
    }

    /// Finds where a writer acts on the key `eq` names. With `claim`, an absent key gets a
    /// claimable EMPTY slot (creating and moving to a new table as needed); without, `Absent`.
    fn locate<'g>(
        &'g self,
        hash: u64,
        eq: &mut impl FnMut(&K) -> bool,
        claim: bool,
        guard: &'g Guard,
    ) -> Pos<'g, K, V> {
        let mut ts = self.root(guard);
        // Acquire: pairs with the AcqRel CAS in `start_resize`.
        if !table(ts).next.load(Ordering::Acquire, guard).is_null() {
            self.help_copy(ts, guard);
            ts = self.root(guard);
        }
        let mut t = table(ts);
        // A claiming writer looks at the words of untagged slots, any writer after a failed seal.
        let mut untagged = if claim {
            Untagged::Look
        } else {
            Untagged::Ends
        };
        loop {
            let (found, chain) = Self::walk(t, hash, untagged, guard, |e| eq(&e.key));
            let end = match found {
                Ok((idx, cur)) => return Pos::Live { table: t, idx, cur },
                Err(end) => end,
            };
            // Acquire: pairs with the AcqRel CAS in `start_resize`.
            let mut next = t.next.load(Ordering::Acquire, guard);
            match end {
                End::Empty(i) => {
                    if !chain.saw_moved && !claim {
                        // As for a reader: the chain ends at a slot nobody has claimed (as far
                        // as readers know) and nothing of ours has moved on, so the key is in
                        // no table now, resize or not.
                        return Pos::Absent;
                    }
                    if next.is_null() && !chain.saw_moved {
                        match self.grow_decision(t, &chain) {
                            None => return Pos::Vacant { table: t, idx: i },
                            Some(cap) => next = self.start_resize(t, cap, guard),
                        }
                    }
                    if next.is_null() {
                        // A MOVED slot implies a next table; this is unreachable in practice.
                        debug_assert!(false, "MOVED slot without a next table");
                        next = self.start_resize(t, t.capacity(), guard);
                    }
                    // Every writer, claiming or not, seals the end of the chain before it goes
                    // on to the next table: otherwise the key could be claimed here behind it,
                    // frozen and copied, and the writer would act on the copy while the FROZEN
                    // original is still current here (a `remove` that retires an entry readers
                    // of this table can still reach).
                    if !Self::seal(t, i, guard) {
                        // Someone claimed or sealed it meanwhile: walk this table again, looking
                        // at the words of untagged slots, so that a claim not yet tagged is
                        // seen (and waited out if it is frozen) rather than met again.
                        untagged = Untagged::Look;
                        continue;
                    }
                }
                End::Sealed => {}
                End::Full => {
                    if next.is_null() {
                        if !claim {
                            return Pos::Absent;
                        }
                        next = self.start_resize(t, t.capacity() * 2, guard);
                    }
                }
            }
            t = table(next);
        }
    }

    /// Takes every LIVE entry out of every table of the chain, leaving their slots TOMB (as a
    /// removal would), and hands each to `f`. Runs with exclusive access (`drain_owned`,
    /// `destroy`).
    ///
    /// A resize that writers left unfinished is no obstacle: with no thread inside the map, no
    /// slot is FROZEN (a mover runs no user code and finishes its slot before it returns), so
    /// every entry is LIVE in exactly one table of the chain, the one it was copied to last.
    fn take_live(&mut self, mut f: impl FnMut(Box<Entry<K, V>>)) {
        // SAFETY: `&mut self`: no other thread can reach the map, and nothing is retired
        // through this guard.
        let guard = unsafe { freeway_epoch::unprotected() };
        // Relaxed (here and below): exclusive access; whatever other threads did is ordered
        // before us by whatever handed us the map (a join, a channel, a move).
        let mut t = self.root.load(Ordering::Relaxed, guard);
        while !t.is_null() {
            let tb = table(t);
            for slot in tb.buckets.iter().flat_map(|b| b.slots.iter()) {
                let s = slot.load(Ordering::Relaxed, guard);
                // Only LIVE entries are owned by a table: MOVED, SEALED and TOMB hold none.
                debug_assert!(s.is_null() || s.tag() == 0, "a FROZEN slot with no mover");
                if !s.is_null() && s.tag() == 0 {
                    slot.store(Shared::null().with_tag(TOMB), Ordering::Relaxed);
                    // SAFETY: a LIVE entry is owned by its slot alone (see above), which no
                    // longer holds it; it is taken once.
                    f(unsafe { s.into_owned() }.into_box());
                }
            }
            t = tb.next.load(Ordering::Relaxed, guard);
        }
    }

    /// Moves every entry out, in no particular order, and leaves the map empty (its tables
    /// stay, to be freed by `destroy`). Runs with exclusive access (the map's `into_iter`).
    pub(crate) fn drain_owned(&mut self) -> Vec<(K, V)> {
        let mut out = Vec::with_capacity(self.len());
        self.take_live(|e| {
            let Entry { key, value, .. } = *e;
            out.push((key, value));
        });
        self.count = Striped::new(SHARED_STRIPES);
        out
    }

    /// Frees every table and entry. Runs with exclusive access (the map's `Drop`).
    ///
    /// A panic in an entry's drop is resumed after every other entry is dropped.
    pub(crate) fn destroy(&mut self) {
        let mut payload = None;
        self.take_live(|e| {
            if let Err(p) = catch_unwind(AssertUnwindSafe(move || drop(e))) {
                payload.get_or_insert(p);
            }
        });
        // SAFETY: `&mut self`: no other thread can reach the map.
        let guard = unsafe { freeway_epoch::unprotected() };
        let mut t = self.root.swap(Shared::null(), Ordering::Relaxed, guard);
        while !t.is_null() {
            // SAFETY: the chain from the root is owned by the map alone now, and its slots hold
            // no entry any more (`take_live`); each table is taken once.
            let owned = unsafe { t.into_owned() };
            t = owned.next.load(Ordering::Relaxed, guard);
        }
        if let Some(p) = payload
            && !std::thread::panicking()
        {
            resume_unwind(p);
        }
    }
}

impl<K: Eq + Send + 'static, V: Send + 'static> RawMap<K, V> {
    /// Inserts `(key, value)`; replaces an existing entry if `replace`.
    pub(crate) fn insert<'g>(
        &'g self,
        hash: u64,
        key: K,
        value: V,
        replace: bool,
        pinned: &'g Pinned,
    ) -> Inserted<'g, K, V> {
        let guard = pinned.guard();
        let mut new = new_entry(Entry { hash, key, value });
        loop {
            let kp: *const K = &new.key;
            let mut eq = |k: &K| {
                // SAFETY: `kp` points into the heap allocation of `new`, which we own for the
                // whole `locate` call (a failed CAS hands it back; a successful one returns).
                k == unsafe { &*kp }
            };
            match self.locate(hash, &mut eq, true, guard) {
                Pos::Live { table, idx, cur } => {
                    // SAFETY: `cur` is a LIVE entry loaded under `guard` (see `decode`).
                    let old = unsafe { cur.deref() };
                    if !replace {
                        return Inserted::Exists(old);
                    }
                    // AcqRel: Release publishes the new entry; Acquire orders our later read of
                    // `old` after the writer that published it (pairs with its Release CAS).
                    match table.slot(idx).compare_exchange(
                        cur,
                        new,
                        Ordering::AcqRel,
                        Ordering::Acquire,
                        guard,
                    ) {
                        Ok(_) => {
                            // SAFETY: the CAS unlinked `cur` from its only slot; retired once.
                            unsafe { retire_entry(guard, cur) };
                            return Inserted::Replaced(old);
                        }
                        Err(e) => new = e.new,
                    }
                }
                Pos::Vacant { table, idx } => {
                    // AcqRel: Release publishes the new entry; Acquire reads a competing claim.
                    match table.slot(idx).compare_exchange(
                        Shared::null(),
                        new,
                        Ordering::AcqRel,
                        Ordering::Acquire,
                        guard,
                    ) {
                        Ok(s) => {
                            table.mark(idx, hash);
                            self.add_len(1);
                            // SAFETY: just published; retired only after a later unlink, which
                            // waits for our guard.
                            return Inserted::New(unsafe { s.deref() });
                        }
                        Err(e) => new = e.new,
                    }
                }
                Pos::Absent => unreachable!("claiming locate never reports Absent"),
            }
        }
    }

    /// Reads the key's entry, asks `f` what to do, and does it atomically (retrying `f` if the
    /// entry changed meanwhile). Returns the entries before and after.
    #[allow(clippy::type_complexity)]
    pub(crate) fn compute<'g>(
        &'g self,
        hash: u64,
        key: K,
        mut f: impl FnMut(Option<&'g V>) -> Op<V>,
        pinned: &'g Pinned,
    ) -> (Option<&'g Entry<K, V>>, Option<&'g Entry<K, V>>) {
        let guard = pinned.guard();
        let mut key = key;
        loop {
            let mut eq = |k: &K| *k == key;
            let pos = self.locate(hash, &mut eq, true, guard);
            let (table, idx, cur, old) = match pos {
                Pos::Live { table, idx, cur } => {
                    // SAFETY: a LIVE entry loaded under `guard` (see `decode`).
                    let old = unsafe { cur.deref() };
                    (table, idx, cur, Some(old))
                }
                Pos::Vacant { table, idx } => (table, idx, Shared::null(), None),
                Pos::Absent => unreachable!("claiming locate never reports Absent"),
            };
            let slot = table.slot(idx);
            match f(old.map(|e| &e.value)) {
                Op::Keep => return (old, old),
                Op::Set(v) => {
                    let new = new_entry(Entry {
                        hash,
                        key,
                        value: v,
                    });
                    // AcqRel: Release publishes the new entry; Acquire reads the competitor.
                    match slot.compare_exchange(
                        cur,
                        new,
                        Ordering::AcqRel,
                        Ordering::Acquire,
                        guard,
                    ) {
                        Ok(s) => {
                            if cur.is_null() {
                                table.mark(idx, hash);
                                self.add_len(1);
                            } else {
                                // SAFETY: the CAS unlinked `cur`; retired once.
                                unsafe { retire_entry(guard, cur) };
                            }
                            // SAFETY: just published; see `insert`.
                            return (old, Some(unsafe { s.deref() }));
                        }
                        Err(e) => {
                            let Entry { key: k, value, .. } = *e.new.into_box();
                            key = k;
                            drop(value);
                        }
                    }
                }
                Op::Remove => {
                    if cur.is_null() {
                        return (None, None);
                    }
                    if Self::unlink(slot, cur, guard) {
                        self.add_len(-1);
                        return (old, None);
                    }
                }
            }
        }
    }

    /// CASes the LIVE `cur` out of `slot` (to TOMB) and retires it.
    fn unlink(slot: &Atomic<Entry<K, V>>, cur: Shared<'_, Entry<K, V>>, guard: &Guard) -> bool {
        // AcqRel: Release orders the removal after our reads; Acquire reads the competitor.
        if slot
            .compare_exchange(
                cur,
                Shared::null().with_tag(TOMB),
                Ordering::AcqRel,
                Ordering::Acquire,
                guard,
            )
            .is_ok()
        {
            // SAFETY: the CAS unlinked `cur` from its only slot; retired once.
            unsafe { retire_entry(guard, cur) };
            true
        } else {
            false
        }
    }

    /// Removes the key `eq` names (only if its entry is `only`, when given).
    pub(crate) fn remove<'g>(
        &'g self,
        hash: u64,
        mut eq: impl FnMut(&K) -> bool,
        only: Option<*const Entry<K, V>>,
        pinned: &'g Pinned,
    ) -> Option<&'g Entry<K, V>> {
        let guard = pinned.guard();
        loop {
            match self.locate(hash, &mut eq, false, guard) {
                Pos::Live { table, idx, cur } => {
                    if only.is_some_and(|p| p != cur.as_raw()) {
                        return None;
                    }
                    if Self::unlink(table.slot(idx), cur, guard) {
                        self.add_len(-1);
                        // SAFETY: loaded under `guard`; retirement waits for it.
                        return Some(unsafe { cur.deref() });
                    }
                }
                Pos::Vacant { .. } | Pos::Absent => return None,
            }
        }
    }

    /// Removes every entry present when the walk reaches it.
    pub(crate) fn clear(&self, pinned: &Pinned) {
        let guard = pinned.guard();
        let mut t = table(self.root(guard));
        loop {
            // Acquire: pairs with the AcqRel CAS in `start_resize`.
            let mut next = t.next.load(Ordering::Acquire, guard);
            loop {
                // Once a resize is on, the pass also seals EMPTY slots, so that it leaves this
                // table final (no LIVE, FROZEN or EMPTY slot) before the next one is cleared:
                // an entry copied there is then MOVED here, never FROZEN and still current
                // (see `locate`).
                let sealing = !next.is_null();
                for idx in 0..t.capacity() {
                    loop {
                        // Acquire: pairs with the CASes that publish entries.
                        let s = t.slot(idx).load(Ordering::Acquire, guard);
                        match decode(s) {
                            Slot::Live(e) => {
                                // Tag a claim before removing its entry (see "Tag bytes").
                                t.publish(idx, tag(e.hash));
                                if Self::unlink(t.slot(idx), s, guard) {
                                    self.add_len(-1);
                                    break;
                                }
                            }
                            // Its copy lands in the next table, which we clear after this one.
                            Slot::Frozen(_) => Self::wait_moved(t, idx, s, guard),
                            Slot::Empty if sealing => {
                                if Self::seal(t, idx, guard) {
                                    break;
                                }
                            }
                            _ => break,
                        }
                    }
                }
                if sealing {
                    break;
                }
                // Acquire: pairs with the AcqRel CAS in `start_resize`.
                next = t.next.load(Ordering::Acquire, guard);
                if next.is_null() {
                    return;
                }
                // A resize started during the pass: slots passed while EMPTY may have been
                // claimed and copied since. Pass again, sealing.
            }
            t = table(next);
        }
    }
}

impl<K, V> RawMap<K, V> {
    /// The root table, for a walk split between threads (see `RootView`).
    #[cfg(feature = "rayon")]
    pub(crate) fn root_view<'g>(&'g self, pinned: &'g Pinned) -> RootView<'g, K, V> {
        RootView {
            table: table(self.root(pinned.guard())),
        }
    }

    /// A weakly consistent iterator over the entries.
    pub(crate) fn iter<'g>(&'g self, pinned: &'g Pinned) -> RawIter<'g, K, V> {
        let guard = pinned.guard();
        RawIter {
            table: Some(table(self.root(guard))),
            idx: 0,
            seen: Vec::new(),
            sorted: 0,
            guard,
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// `empty_buckets` and `empty_tags` rely on all-zero bytes being EMPTY slots and UNTAGGED
    /// tags.
    #[test]
    fn zeroed_tables_are_empty() {
        let b = empty_buckets::<u64, u64>(4);
        let tags = empty_tags(4);
        assert_eq!((b.len(), tags.len()), (4, 4));
        assert_eq!(b.as_ptr() as usize % 64, 0);
        assert_eq!(tags.as_ptr() as usize % 64, 0);
        // SAFETY: only loads, no dereference; nothing is shared.
        let guard = unsafe { freeway_epoch::unprotected() };
        for (bucket, word) in b.iter().zip(tags.iter()) {
            assert_eq!(word.load(Ordering::Relaxed), 0);
            for k in 0..BUCKET {
                assert_eq!(tag_byte(word.load(Ordering::Relaxed), k), UNTAGGED);
                let s = bucket.slots[k].load(Ordering::Relaxed, guard);
                assert!(s.is_null() && s.tag() == 0);
                assert!(s == Atomic::<Entry<u64, u64>>::null().load(Ordering::Relaxed, guard));
            }
        }
        assert_eq!(std::mem::size_of::<Bucket<u64, u64>>(), 64);
    }

    /// `candidates` flags exactly the untagged and sealed bytes and those equal to the tag,
    /// within the bucket's lanes, for every tag and every mix of bytes around it.
    #[test]
    fn candidates_are_exact() {
        let tags = [0x80u8, 0x81, 0xFE, 0xFF, 0xC3];
        let mut rng = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..20_000 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let mut bytes = [0u8; 8];
            for (k, b) in bytes.iter_mut().enumerate().take(BUCKET) {
                // Untagged, or one of a few tags (so that equal neighbours are common).
                let r = (rng >> (8 * k)) as u8;
                *b = match r % 5 {
                    0 => UNTAGGED,
                    1 => SEALED_TAG,
                    _ => tags[r as usize % tags.len()],
                };
            }
            let meta = u64::from_le_bytes(bytes);
            for &t in &tags {
                let want: u64 = (0..BUCKET)
                    .filter(|&k| bytes[k] == UNTAGGED || bytes[k] == SEALED_TAG || bytes[k] == t)
                    .map(|k| 0x80u64 << (8 * k))
                    .sum();
                assert_eq!(candidates(meta, t), want, "meta {meta:#018x} tag {t:#04x}");
            }
        }
        let mut m = candidates(0, 0x80);
        let mut seen = Vec::new();
        while m != 0 {
            seen.push(first_slot(m));
            m &= m - 1;
        }
        assert_eq!(seen, (0..BUCKET).collect::<Vec<_>>());
    }
}
