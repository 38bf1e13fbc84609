//! The unsafe core of the map: open-addressed tables of atomic entry pointers, linked into a
//! chain while a resize is under way.
//!
//! Every `unsafe` block of the crate lives in this module. The public wrapper in `lib.rs` hashes
//! keys with the user's `BuildHasher`, checks nothing else, and hands out the `&'g` references this
//! module returns.
//!
//! The files: this one holds the state machine's docs and the operations (lookups, writes,
//! clearing); `table.rs` one table's arrays and their accessors, `probe.rs` the SWAR tag match,
//! `resize.rs` the decision to grow and the chunked copy, `chain.rs` what both maps share about
//! a chain of tables, `counter.rs` the striped counters, `cache.rs` the entry cache, `iter.rs`
//! iteration, `owned.rs` taking entries out with exclusive access, `pinned.rs` the checked
//! guard, `zeroed.rs` zeroed table arrays, and `atomic/` the inline map's core.
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
//! visits them in slot order by their bits (`candidates`; a reader takes only those before the
//! chain's end, `tagged_before_end`). The bytes could not be separate
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

/// A protocol invariant: checked in debug builds, and always under loom, whose models run in
/// release builds (where `debug_assert!` is off) and are where a broken protocol shows first.
macro_rules! invariant {
    ($($t:tt)*) => {
        if cfg!(any(debug_assertions, loom)) {
            assert!($($t)*);
        }
    };
}

pub(crate) mod atomic;
mod cache;
mod chain;
mod counter;
mod iter;
mod owned;
mod pinned;
mod probe;
mod resize;
mod table;
mod zeroed;

use chain::{COPY_CHUNK, MIN_CAPACITY, SHARED_STRIPES};
use counter::Striped;
pub(crate) use iter::RawIter;
#[cfg(feature = "rayon")]
pub(crate) use iter::RootView;
pub(crate) use pinned::Pinned;
use probe::{candidates, first_slot, tag, tag_byte, tagged_before_end};
pub(crate) use table::Entry;
use table::{Bucket, Slot, Table, decode, table};

use freeway_epoch::sync::atomic::Ordering;
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
    #[inline]
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
                let (mut m, end) = tagged_before_end(meta, tg);
                while m != 0 {
                    let k = first_slot(m);
                    m &= m - 1;
                    // Acquire: pairs with the Release/AcqRel CASes and stores that publish
                    // entries and slot states (`insert`, `compute`, `copy_slot`), so the entry
                    // is initialised.
                    match decode(t.bucket_at(b).slots[k].load(Ordering::Acquire, guard)) {
                        // A tag is written after its slot's claim, so a tagged slot is never
                        // EMPTY or SEALED.
                        Slot::Empty | Slot::Sealed => {
                            invariant!(false, "a tagged slot unclaimed")
                        }
                        Slot::Tomb => {}
                        Slot::Moved => saw_moved = true,
                        Slot::Live(e) | Slot::Frozen(e) => {
                            // The key alone decides (the tag already matched 7 bits of the
                            // hash): reading `e.hash` too could load a second line (see
                            // `Entry`).
                            if eq(&e.key) {
                                return Some(e);
                            }
                        }
                    }
                }
                if let Some(k) = end {
                    // UNTAGGED: not claimed as far as readers know, so the key is not in this
                    // table. SEALED: it may be in the next.
                    break 'walk tag_byte(meta, k) == UNTAGGED;
                }
                b += 1;
                dist += BUCKET;
            };
            if empty_end && !saw_moved {
                return None;
            }
            let next = chain::next(t, guard);
            if next.is_null() {
                return None;
            }
            t = table(next);
        }
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
                        invariant!(byte == UNTAGGED, "a tagged slot unclaimed");
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
        // Relaxed: only compared with null, to decide whether to help; `help_copy` loads the
        // pointer again with Acquire before it follows it.
        if !table(ts).next.load(Ordering::Relaxed, guard).is_null() {
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
            let mut next = chain::next(t, guard);
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
                        invariant!(false, "MOVED slot without a next table");
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
        let mut new = new_entry(Entry::new(hash, key, value));
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
                    // Relaxed on failure: the entry that beat us is not read; the loop walks the
                    // chain again with its own Acquire loads.
                    match table.slot(idx).compare_exchange(
                        cur,
                        new,
                        Ordering::AcqRel,
                        Ordering::Relaxed,
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
                    // AcqRel: Release publishes the new entry (Acquire: see above). Relaxed on
                    // failure: the competing claim is not read; the loop walks the chain again.
                    match table.slot(idx).compare_exchange(
                        Shared::null(),
                        new,
                        Ordering::AcqRel,
                        Ordering::Relaxed,
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
                    let new = new_entry(Entry::new(hash, key, v));
                    // AcqRel: Release publishes the new entry. Relaxed on failure: the value
                    // that beat us is not read; the loop walks the chain again with its own
                    // Acquire loads.
                    match slot.compare_exchange(
                        cur,
                        new,
                        Ordering::AcqRel,
                        Ordering::Relaxed,
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
        // Relaxed: nothing is read through a TOMB (readers, writers and movers pass over it),
        // the caller acquired `cur` with the load that found it, and the entry's reclamation is
        // ordered by the epoch, not by this exchange: the retirement below is a deferred
        // function, which runs only after every thread pinned now has unpinned, on a thread
        // that the epoch's own synchronisation orders after ours. Relaxed on failure: the value
        // that beat us is not read; the caller walks the chain again with Acquire loads.
        if slot
            .compare_exchange(
                cur,
                Shared::null().with_tag(TOMB),
                Ordering::Relaxed,
                Ordering::Relaxed,
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
            let mut next = chain::next(t, guard);
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
                next = chain::next(t, guard);
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
    use super::zeroed::{empty_buckets, empty_tags};
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
    /// within the bucket's lanes, for every tag and every mix of bytes around it; and
    /// `tagged_before_end` those equal to the tag before the first untagged or sealed byte.
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
                // A reader's view: the tagged slots before the first untagged or sealed one.
                let end = (0..BUCKET).find(|&k| bytes[k] == UNTAGGED || bytes[k] == SEALED_TAG);
                let before: u64 = (0..end.unwrap_or(BUCKET))
                    .filter(|&k| bytes[k] == t)
                    .map(|k| 0x80u64 << (8 * k))
                    .sum();
                assert_eq!(
                    tagged_before_end(meta, t),
                    (before, end),
                    "meta {meta:#018x} tag {t:#04x}"
                );
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
