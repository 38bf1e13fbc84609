//! The unsafe core of [`AtomicMap`](crate::AtomicMap): open-addressed tables of 16-byte slots
//! that hold a key and its value inline, changed by one 16-byte compare-exchange each.
//!
//! # Sources
//!
//! The table follows Cliff Click's non-blocking hash table (*A Lock-Free Wait-Free Hash Table*,
//! Stanford EE380 and JavaOne, 2007) and Jeff Preshing's leapfrog/linear maps (*A Resizable
//! Concurrent Map*, preshing.com, 2016): keys and values inline, a slot claimed by one key for the
//! life of a table, values changed in place by compare-exchange, and a resize that moves slots
//! one by one while every thread keeps working. The migration by chunks claimed with a
//! fetch-and-add is from Maier, Sanders and Dementiev (*Concurrent Hash Tables: Fast and
//! General?(!)*, PPoPP 2016), as in the boxed [`HashMap`](crate::HashMap)'s core.
//!
//! # Why 16 bytes
//!
//! Every 64-bit key and every 64-bit value must be storable, so neither word has a spare bit
//! pattern for "no value" or "moved to the next table". Click boxes a marked copy of a value that
//! is being moved and leapfrog reserves values; both would make some user values special. Here
//! a slot is one `AtomicU128`: the low word is the *key word*, the high word the *value word*,
//! and a state that needs a marker puts the marker in the key word and the key in the value word:
//!
//! | key word      | value word  | state    | meaning                                               | next states      |
//! |---------------|-------------|----------|-------------------------------------------------------|------------------|
//! | `EMPTY` (0)   | 0           | EMPTY    | nobody has filled it                                  | PRESENT, SEALED  |
//! | raw key `k`   | value `v`   | PRESENT  | `k` maps to `v`                                       | PRESENT, ABSENT, MOVED |
//! | `ABSENT` (2)  | raw key `k` | ABSENT   | `k` has this slot but no value (removed)              | PRESENT, MOVED   |
//! | `MOVED` (3)   | raw key `k` | MOVED    | `k`'s state lives in the next table now               | (final)          |
//! | `SEALED` (1)  | 0           | SEALED   | was EMPTY under a key tag during a resize: unfillable | (final)          |
//!
//! A raw key is the key's bits XOR [`KEY_FLIP`]; the four raw keys 0 to 3 that collide with the
//! markers belong to four user keys (of the 64-bit key types only: the flip sets high bits that
//! narrower keys never have), and those four keys live in four side cells of the map instead of
//! the table (see [`Side`]). Every transition of a slot is one compare-exchange of the whole
//! slot, so no state is ever half written.
//!
//! # Tags
//!
//! Slots are grouped in buckets of eight (two cache lines); beside the slots, a table keeps one
//! `AtomicU32` of eight 4-bit *tags* per bucket (half a byte per slot, after the control bytes of
//! hashbrown and the tag bytes of the boxed map). A key's chain starts at the first slot of its
//! home bucket (`hash & bmask`) and runs through the slots in order, bucket after bucket. A tag
//! is UNTAGGED (0) until a writer *reserves* its slot for a key's tag (`tag(hash)`, 2 to 15) or a
//! resize seals it (`SEALED_TAG`, 1); it never changes again in the table. An insert is two
//! steps: reserve the first UNTAGGED tag of the chain (a CAS of the tag word), then *fill* the
//! slot (EMPTY to PRESENT, a CAS of the slot). A slot EMPTY under a key tag is open to any key
//! with that tag: a writer whose walk meets one fills it itself, so a reserver descheduled
//! between its two steps delays nobody.
//!
//! A walk loads each bucket's tag word once and visits, in slot order, only the slots whose tag
//! is the key's (a SWAR search, `candidates`): one in fourteen of another key's. It ends
//! - at the key's slot (PRESENT, ABSENT or MOVED): found;
//! - at an UNTAGGED tag, or a slot EMPTY under the key's tag: the key is absent from the map
//!   (a *vacant* place, where a writer may put it);
//! - at a SEALED tag, or a slot SEALED under the key's tag: the key can only be in the next
//!   table.
//!
//! The second case is sound because a key is always put at the first vacant place of its chain:
//! a writer fills the first EMPTY slot under its tag, or reserves the first UNTAGGED tag. Tags
//! only go from UNTAGGED to taken and slots from EMPTY to filled or sealed, so a place that is
//! vacant now was vacant (or UNTAGGED, and before it) when any key of the chain took its slot:
//! no key with this tag has a slot after it. So a key has at most one slot per table, and a walk
//! that finds a vacant place first can answer "absent" there. An absent key is decided from the
//! tag word alone when its chain ends at an UNTAGGED tag, which is what makes misses cheap: the
//! tag array (256 KiB for 2^19 slots) mostly stays in the cache where the slots do not.
//!
//! # Reads
//!
//! `get` walks the chain of the root table: the key's PRESENT slot is the answer; its ABSENT slot
//! or a vacant place means absent; its MOVED slot or a seal sends the reader to the next table.
//! Reads never write shared memory. An operation prefetches the tag word and the home bucket's
//! slot lines (`prefetch`, from a hint word that is never dereferenced), so that the slot lines
//! come in while the tag word is read: a write before it pins (the misses then overlap the pin's
//! locked instruction), a read after (a pin behind prefetches made reads slower, see
//! `AtomicMap`'s `Pin`).
//!
//! # Writes
//!
//! Every write is [`RawAtomicMap::compute`]: a closure maps the key's current value (or `None`)
//! to keep, set or remove, and the result is applied with one compare-exchange on the slot that
//! was read; a failed exchange re-reads that slot and asks the closure again. A writer first
//! copies one chunk of a resize in progress. At a vacant place it puts the key (`fill`) only if
//! the table has no next table and the chain is not too long; otherwise it seals the place (the
//! UNTAGGED tag, or the EMPTY slot under its tag), so that the key can never be put in this
//! table behind it, and goes on in the next table.
//!
//! # Resizing
//!
//! A resize links a new table from the old one (`next`, by CAS). Writers claim chunks of old
//! slots with a fetch-and-add and move them, slot by slot ([`RawAtomicMap::move_slot`]): a
//! vacant place is sealed (an UNTAGGED tag becomes SEALED_TAG, an EMPTY slot under a key tag
//! becomes SEALED); a PRESENT or ABSENT slot has its state written to the key's slot in the next
//! table, and then the old slot is exchanged from exactly the state that was written to MOVED. If
//! a writer changed the old slot in between, the exchange fails and the mover writes the new
//! state and tries again. Until the old slot is MOVED nobody looks at the key in the next table
//! (readers and writers of the key stop at its old slot), so what the mover writes there is
//! private until the exchange publishes it, and the value a reader finds behind MOVED is the
//! value the old slot had when it became MOVED. No slot is ever frozen: a writer of a key being
//! moved is never made to wait, it just makes the mover try again. The thread that completes the
//! last chunk swings the map's root to the next table and retires the old one.
//!
//! A move needs the key's hash in the next table, and a slot keeps only the key: the mover
//! rehashes it with the map's hasher, user code that may panic. A panic in it leaves the slot as
//! it was and hands the rest of the chunk back (`Table::returned`), for the next writer that helps.
//!
//! A same-size (or smaller) rehash clears ABSENT slots: once 3/4 of a table's slots are claimed
//! while under 5/8 hold a value, the next long chain rehashes at a size proportional to the
//! entries. Writers keep no count of claimed slots (it would cost a locked instruction per new
//! key): the decision estimates it from a sample of tag words (`ChainTable::claimed`).

mod iter;
mod table;

pub(crate) use iter::RawAtomicIter;
use table::{Table, table};

use super::chain::{self, COPY_CHUNK, MIN_CAPACITY, SHARED_STRIPES};
use super::counter::Striped;
use freeway_epoch::sync::atomic::{AtomicU128, AtomicUsize, Ordering};
use freeway_epoch::{Atomic, Guard, Shared};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Key word of an EMPTY slot (0, so that zeroed memory is a table of EMPTY slots).
const EMPTY: u64 = 0;
/// Key word of a SEALED slot.
const SEALED: u64 = 1;
/// Key word of an ABSENT slot (the key is in the value word).
const ABSENT: u64 = 2;
/// Key word of a MOVED slot (the key is in the value word).
const MOVED: u64 = 3;
/// Raw keys below this are markers: their keys live in the side cells.
pub(crate) const RESERVED: u64 = 4;

/// What a user key's bits are XORed with to make its raw key. The high half is non-zero, so the
/// raw key of a key narrower than 64 bits is never a marker; the four 64-bit keys whose raw keys
/// are markers (this constant and its neighbours) are unlikely ids.
pub(crate) const KEY_FLIP: u64 = 0x9E37_79B9_7F4A_7C15;

/// Slots per bucket: eight 16-byte slots (two cache lines) share one tag word of eight
/// nibbles.
#[cfg(not(loom))]
const BUCKET: usize = 8;
#[cfg(loom)]
const BUCKET: usize = 2;

/// Chains longer than this (in slots from the start of the home bucket) ask for a resize: past
/// the home bucket and the next.
#[cfg(not(loom))]
const PROBE_LIMIT: usize = 2 * BUCKET;
#[cfg(loom)]
const PROBE_LIMIT: usize = 8;

/// Tag nibble of a slot nobody has reserved: it ends every chain (see "Tags").
const UNTAGGED: u32 = 0;
/// Tag nibble of a slot sealed by a resize before anyone reserved it: go to the next table.
const SEALED_TAG: u32 = 1;

/// The tag nibble of a key with `hash`: 2 to 15, from the hash's top byte (the bucket index
/// uses the low bits).
#[inline(always)]
fn tag(hash: u64) -> u32 {
    2 + (((hash >> 56) as u32 * 14) >> 8)
}

/// The number of UNTAGGED nibbles among a bucket's in the tag word `w`.
#[inline(always)]
fn untagged(w: u32) -> u32 {
    (zero_nibbles(w) & LANES).count_ones()
}

/// Nibble `k` of the tag word `w`.
#[inline(always)]
fn nibble(w: u32, k: usize) -> u32 {
    (w >> (4 * k)) & 15
}

/// Bit 3 of each nibble of `v` that is 0. Exact, nibble by nibble: adding 7 to a nibble's low
/// three bits carries into bit 3 unless they are 0, and never into the next nibble.
#[inline(always)]
fn zero_nibbles(v: u32) -> u32 {
    const LOW3: u32 = 0x7777_7777;
    const HIGH: u32 = 0x8888_8888;
    !(((v & LOW3) + LOW3) | v) & HIGH
}

/// The high bits of a bucket's `BUCKET` nibbles.
const LANES: u32 = 0x8888_8888 >> (4 * (8 - BUCKET));

/// The slots of a bucket whose tag word is `w` that concern a key with tag `t`, as bit `4k + 3`
/// for slot `k`: UNTAGGED and SEALED nibbles end the chain, a nibble `t` may be the key's slot;
/// another tag is another key's.
#[inline(always)]
fn candidates(w: u32, t: u32) -> u32 {
    const LO: u32 = 0x1111_1111;
    // UNTAGGED (0) and SEALED_TAG (1) are the nibbles that are 0 once their low bit is cleared:
    // one zero test finds both.
    const _: () = assert!(UNTAGGED == 0 && SEALED_TAG == 1);
    (zero_nibbles(w & 0xEEEE_EEEE) | zero_nibbles(w ^ (LO * t))) & LANES
}

/// The slot word of key word `key` and value word `value`.
#[inline(always)]
fn pack(key: u64, value: u64) -> u128 {
    (u128::from(value) << 64) | u128::from(key)
}

/// A slot's state, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Empty,
    Sealed,
    Present { key: u64, value: u64 },
    Absent { key: u64 },
    Moved { key: u64 },
}

#[inline(always)]
fn decode(s: u128) -> Slot {
    let (kw, vw) = (s as u64, (s >> 64) as u64);
    match kw {
        EMPTY => Slot::Empty,
        SEALED => Slot::Sealed,
        ABSENT => Slot::Absent { key: vw },
        MOVED => Slot::Moved { key: vw },
        _ => Slot::Present { key: kw, value: vw },
    }
}

/// The slot word of `key`'s state `value` (`None`: ABSENT).
#[inline(always)]
fn state(key: u64, value: Option<u64>) -> u128 {
    match value {
        Some(v) => pack(key, v),
        None => pack(ABSENT, key),
    }
}

/// The hash of a raw key with the map's hasher: a slot keeps only its key, so moving it to a
/// new table and iterating over a resize hash it again.
pub(crate) trait RawHash {
    fn hash_raw(&self, raw: u64) -> u64;
}

/// What a write's closure asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Act {
    /// Change nothing.
    Keep,
    /// Make the key's value this.
    Set(u64),
    /// Remove the key.
    Remove,
}

/// The four cells of the keys whose raw keys are markers: word 0 of a cell is 1 when the key
/// has a value, and word 1 is the value.
struct Side([AtomicU128; RESERVED as usize]);

/// How a walk of one table for one key ended.
enum Walk {
    /// The key's slot `idx`, last seen holding `s` (PRESENT, ABSENT or MOVED).
    Found { idx: usize, s: u128 },
    /// The key is absent from the map (see "Tags"). Slot `idx`, `dist` slots into the chain, is
    /// where a writer may put it: an EMPTY slot reserved for the key's tag (`reserved`), or one
    /// whose nibble is UNTAGGED.
    Vacant {
        idx: usize,
        dist: usize,
        reserved: bool,
    },
    /// The key is in a later table, if anywhere (a SEALED nibble, a SEALED slot under the key's
    /// tag, the key's MOVED slot, or a walk of the whole table: `full`).
    Next { full: bool },
}

/// How `fill` ended.
enum End {
    /// The slot is the key's, with its value.
    Claimed,
    /// The slot is SEALED: the writer goes on in the next table.
    Sealed,
    /// The slot was claimed or sealed by another writer first: walk again.
    Lost,
}

/// The raw map: a root table, the side cells and a striped length counter.
pub(crate) struct RawAtomicMap {
    root: Atomic<Table>,
    /// Where the root table's slots and tag words were when last looked at, as `Table::hint`
    /// (see `RawAtomicMap::prefetch`): read without a pin, so never dereferenced.
    hint: AtomicUsize,
    hint_tags: AtomicUsize,
    side: Side,
    count: Striped,
}

impl RawAtomicMap {
    pub(crate) fn with_capacity(n: usize) -> Self {
        let t = Table::new(n.saturating_mul(2));
        let (hint, hint_tags) = t.hint();
        Self {
            hint: AtomicUsize::new(hint),
            hint_tags: AtomicUsize::new(hint_tags),
            root: Atomic::new(t),
            side: Side(std::array::from_fn(|_| AtomicU128::new(0))),
            count: Striped::new(SHARED_STRIPES),
        }
    }

    /// The number of keys with a value (a sum of stripes; exact when no write is in flight).
    pub(crate) fn len(&self) -> usize {
        self.count.sum()
    }

    #[inline(always)]
    fn root<'g>(&self, guard: &'g Guard) -> Shared<'g, Table> {
        // Acquire: pairs with the SeqCst root CAS in `promote` (and the initial store), so the
        // table's slots are visible.
        self.root.load(Ordering::Acquire, guard)
    }

    /// Slots of the root table.
    pub(crate) fn slots(&self, guard: &Guard) -> usize {
        table(self.root(guard)).capacity()
    }

    /// Walks `key`'s chain in `t`, bucket by bucket from its home bucket, by the tag nibbles
    /// (see "Tags"): only slots tagged with the key's tag are loaded.
    #[inline(always)]
    fn walk(t: &Table, hash: u64, key: u64) -> Walk {
        let tg = tag(hash);
        let home = t.home(hash);
        for step in 0..=t.bmask {
            let b = home.wrapping_add(step) & t.bmask;
            // Acquire: pairs with the Release CAS in `set_nibble` (a seal).
            let w = t.tags_at(b).load(Ordering::Acquire);
            let mut m = candidates(w, tg);
            while m != 0 {
                let k = (m.trailing_zeros() / 4) as usize;
                m &= m - 1;
                let idx = b * BUCKET + k;
                let dist = step * BUCKET + k;
                match nibble(w, k) {
                    UNTAGGED => {
                        return Walk::Vacant {
                            idx,
                            dist,
                            reserved: false,
                        };
                    }
                    SEALED_TAG => return Walk::Next { full: false },
                    _ => {
                        let s = t.load(idx);
                        match decode(s) {
                            Slot::Present { key: k2, .. }
                            | Slot::Absent { key: k2 }
                            | Slot::Moved { key: k2 }
                                if k2 == key =>
                            {
                                return Walk::Found { idx, s };
                            }
                            Slot::Empty => {
                                return Walk::Vacant {
                                    idx,
                                    dist,
                                    reserved: true,
                                };
                            }
                            Slot::Sealed => return Walk::Next { full: false },
                            _ => {}
                        }
                    }
                }
            }
        }
        Walk::Next { full: true }
    }

    /// Starts loading `hash`'s tag word and home bucket (two slot lines) in the root table as
    /// last seen (see "Reads" for when the callers ask). Reads only the map's own hint words and
    /// dereferences nothing, so a caller may ask before it pins: a stale hint (a table since
    /// freed) only wastes the prefetches, which never fault.
    #[inline(always)]
    pub(crate) fn prefetch(&self, hash: u64) {
        #[cfg(all(target_arch = "x86_64", not(loom)))]
        {
            // Relaxed: hints; nothing is read through them.
            let h = self.hint.load(Ordering::Relaxed);
            // Relaxed: as above.
            let tags = self.hint_tags.load(Ordering::Relaxed);
            let b = hash as usize & ((1usize << (h & 63)) - 1);
            let slots = (h & !63).wrapping_add(b.wrapping_mul(BUCKET * 16));
            // SAFETY: `_mm_prefetch` needs SSE, which the x86_64 baseline includes; a prefetch
            // is a hint that never faults and changes no memory, whatever the address.
            unsafe {
                use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
                _mm_prefetch::<_MM_HINT_T0>(tags.wrapping_add(b * 4) as *const i8);
                _mm_prefetch::<_MM_HINT_T0>(slots as *const i8);
                _mm_prefetch::<_MM_HINT_T0>(slots.wrapping_add(64) as *const i8);
            }
        }
        #[cfg(not(all(target_arch = "x86_64", not(loom))))]
        let _ = hash;
    }

    /// Points the hints at the root table (after a resize may have moved the root).
    fn refresh_hint(&self, guard: &Guard) {
        let (h, tags) = table(self.root(guard)).hint();
        // Relaxed: hints (see `prefetch`).
        if self.hint.load(Ordering::Relaxed) != h {
            // Relaxed: as above.
            self.hint.store(h, Ordering::Relaxed);
            // Relaxed: as above.
            self.hint_tags.store(tags, Ordering::Relaxed);
        }
    }

    /// The value of raw key `key` (`key >= RESERVED`) with `hash`.
    #[inline]
    pub(crate) fn get(&self, hash: u64, key: u64, guard: &Guard) -> Option<u64> {
        if key < RESERVED {
            return self.side.get(key);
        }
        Self::get_from(table(self.root(guard)), hash, key, guard)
    }

    /// The value of `key` found from table `t` on.
    #[inline(always)]
    fn get_from(t: &Table, hash: u64, key: u64, guard: &Guard) -> Option<u64> {
        let mut t = t;
        loop {
            match Self::walk(t, hash, key) {
                Walk::Found { s, .. } => match decode(s) {
                    Slot::Present { value, .. } => return Some(value),
                    Slot::Moved { .. } => {}
                    _ => return None,
                },
                Walk::Vacant { .. } => return None,
                Walk::Next { .. } => {}
            }
            let next = t.next(guard);
            if next.is_null() {
                // Only a full walk of the last table ends here.
                return None;
            }
            t = table(next);
        }
    }

    /// Applies `f` to raw key `key`'s value: returns the value before and after. `f` may be
    /// called more than once (again after each failed exchange); its last call decided.
    /// `rehash` is the hash of a raw key, for moving slots of a resize in progress.
    #[inline(always)]
    pub(crate) fn compute(
        &self,
        hash: u64,
        key: u64,
        f: impl FnMut(Option<u64>) -> Act,
        rehash: &impl RawHash,
        guard: &Guard,
    ) -> (Option<u64>, Option<u64>) {
        if key < RESERVED {
            let (old, new) = self.side.compute(key, f);
            self.count_change(old, new);
            return (old, new);
        }
        let ts = self.root(guard);
        if !table(ts).next(guard).is_null() {
            self.help_move(ts, rehash, guard);
        }
        let (old, new) = self.write_from(table(ts), hash, key, f, guard);
        self.count_change(old, new);
        (old, new)
    }

    /// The write loop of `compute` (and of a mover's `place`), from table `t` on: applies `f`
    /// to `key`'s value where the key is found, puts it at a vacant place, or follows it to the
    /// next table. Returns the value before and after; counts nothing.
    #[inline(always)]
    fn write_from(
        &self,
        t: &Table,
        hash: u64,
        key: u64,
        mut f: impl FnMut(Option<u64>) -> Act,
        guard: &Guard,
    ) -> (Option<u64>, Option<u64>) {
        let mut t = t;
        loop {
            match Self::walk(t, hash, key) {
                Walk::Found { idx, mut s } => loop {
                    let old = match decode(s) {
                        Slot::Present { value, .. } => Some(value),
                        Slot::Absent { .. } => None,
                        Slot::Moved { .. } => break,
                        _ => unreachable!("a claimed slot keeps its key"),
                    };
                    let new = match f(old) {
                        Act::Keep => return (old, old),
                        Act::Set(v) => Some(v),
                        Act::Remove if old.is_none() => return (None, None),
                        Act::Remove => None,
                    };
                    match t.cas(idx, s, state(key, new)) {
                        Ok(()) => return (old, new),
                        Err(cur) => s = cur,
                    }
                },
                Walk::Vacant {
                    idx,
                    dist,
                    reserved,
                } => {
                    let Act::Set(v) = f(None) else {
                        return (None, None);
                    };
                    match self.fill(t, idx, dist, reserved, hash, key, v, guard) {
                        End::Claimed => return (None, Some(v)),
                        End::Sealed => {}
                        // Claimed or sealed meanwhile (maybe by our key): walk again.
                        End::Lost => continue,
                    }
                }
                Walk::Next { full } => {
                    if full && t.next(guard).is_null() {
                        self.start_resize(t, t.capacity() * 2, guard);
                    }
                }
            }
            // Acquire (in `next`): whoever sent us on saw the next table published.
            t = table(t.next(guard));
        }
    }

    #[inline(always)]
    fn count_change(&self, old: Option<u64>, new: Option<u64>) {
        match (old.is_some(), new.is_some()) {
            (false, true) => self.count.add(1),
            (true, false) => self.count.add(-1),
            _ => {}
        }
    }

    /// Puts `key` with `value` in slot `idx` of `t`, where its walk found it vacant `dist`
    /// slots into the chain (`reserved`: an EMPTY slot under the key's tag; otherwise an
    /// UNTAGGED nibble, which is reserved first), if `t` takes claims (no resize under way, and
    /// none called for). Otherwise it seals the place (the nibble, or the reserved slot), so that
    /// the key can never be put here behind the writer, who goes on in the next table (see
    /// "Writes").
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn fill(
        &self,
        t: &Table,
        idx: usize,
        dist: usize,
        reserved: bool,
        hash: u64,
        key: u64,
        value: u64,
        guard: &Guard,
    ) -> End {
        let open = t.next(guard).is_null()
            && (dist <= PROBE_LIMIT || !self.start_if_needed(t, dist, guard));
        if !reserved && !t.set_nibble(idx, if open { tag(hash) } else { SEALED_TAG }) {
            return End::Lost;
        }
        let new = if open {
            pack(key, value)
        } else if reserved {
            pack(SEALED, 0)
        } else {
            return End::Sealed;
        };
        match t.cas(idx, pack(EMPTY, 0), new) {
            Ok(()) if open => End::Claimed,
            Ok(()) => End::Sealed,
            // Filled by another key with our tag (maybe ours) or sealed by a mover: walk again.
            Err(_) => End::Lost,
        }
    }

    /// Starts a resize of `t` if a chain of `dist` slots calls for one (see `grow_decision`);
    /// whether it did (or one was under way).
    fn start_if_needed(&self, t: &Table, dist: usize, guard: &Guard) -> bool {
        match self.grow_decision(t, dist) {
            Some(cap) => {
                self.start_resize(t, cap, guard);
                true
            }
            None => false,
        }
    }

    /// Whether a chain of `dist` slots calls for a resize of `t`, and to what size (see
    /// `chain::grow_decision`).
    fn grow_decision(&self, t: &Table, dist: usize) -> Option<usize> {
        chain::grow_decision(t, dist, PROBE_LIMIT, self.len(), MIN_CAPACITY)
    }

    /// Returns `t`'s next table, creating it with `cap` slots if there is none.
    fn start_resize<'g>(&self, t: &'g Table, cap: usize, guard: &'g Guard) -> Shared<'g, Table> {
        chain::start_resize(t, cap, guard)
    }

    /// Makes the root table ready for `additional` more keys beyond those present now (see
    /// `chain::reserve`).
    pub(crate) fn reserve(&self, additional: usize, rehash: &impl RawHash, guard: &Guard) {
        chain::reserve(
            &self.root,
            || self.len(),
            additional,
            guard,
            |ts| {
                self.finish_moves(ts, rehash, guard);
            },
        );
    }

    /// Moves every chunk of `ts` (a table with a next table) that nobody has claimed.
    fn finish_moves(&self, ts: Shared<'_, Table>, rehash: &impl RawHash, guard: &Guard) {
        let t = table(ts);
        // Relaxed: as in `help_move`, the counter only partitions the work.
        while t.claim.load(Ordering::Relaxed) < t.capacity()
            // Relaxed: a hint; the mutex orders the list.
            || t.any_returned.load(Ordering::Relaxed)
        {
            self.help_move(ts, rehash, guard);
        }
    }

    /// Moves one chunk of `ts` (a table with a next table) and promotes it when the move is
    /// done.
    fn help_move(&self, ts: Shared<'_, Table>, rehash: &impl RawHash, guard: &Guard) {
        let t = table(ts);
        let next = t.next(guard);
        if next.is_null() {
            return;
        }
        let cap = t.capacity();
        // Relaxed: the claim only partitions the work; slot contents are ordered by the slot
        // exchanges themselves.
        let (start, end) = if t.claim.load(Ordering::Relaxed) < cap {
            // Relaxed: as above.
            let start = t.claim.fetch_add(COPY_CHUNK, Ordering::Relaxed);
            if start >= cap {
                return;
            }
            (start, (start + COPY_CHUNK).min(cap))
        } else if t.any_returned.load(Ordering::Relaxed) {
            // A chunk handed back (rare: a hasher panicked). Never block on the list.
            let Ok(mut list) = t.returned.try_lock() else {
                return;
            };
            let Some(range) = list.pop() else {
                return;
            };
            if list.is_empty() {
                // Relaxed: a hint; the mutex orders the list.
                t.any_returned.store(false, Ordering::Relaxed);
            }
            range
        } else {
            return;
        };
        for i in start..end {
            if let Err(()) = self.move_slot(t, i, table(next), rehash, guard) {
                // The hasher panicked (the panic hook has reported it): hand the rest back.
                let mut list = t.returned.lock().unwrap_or_else(|e| e.into_inner());
                list.push((i, end));
                // Relaxed: a hint; the mutex orders the list.
                t.any_returned.store(true, Ordering::Relaxed);
                drop(list);
                self.finish_part(ts, i - start, guard);
                return;
            }
        }
        self.finish_part(ts, end - start, guard);
    }

    /// Counts `n` more moved slots of `ts`, and promotes it if that was the last.
    fn finish_part(&self, ts: Shared<'_, Table>, n: usize, guard: &Guard) {
        chain::finish_part(&self.root, ts, n, guard);
        self.refresh_hint(guard);
    }

    /// Moves slot `i` of `t` into `next` (see "Resizing"); `Err` if the hasher panicked, with
    /// the slot unchanged.
    fn move_slot(
        &self,
        t: &Table,
        i: usize,
        next: &Table,
        rehash: &impl RawHash,
        guard: &Guard,
    ) -> Result<(), ()> {
        let mut hash = None;
        // Whether the key may have a slot in the next tables (we wrote its state there).
        let mut placed = false;
        let mut s = t.load(i);
        loop {
            let (key, value) = match decode(s) {
                Slot::Empty => {
                    // Seal what a writer could still take: an UNTAGGED nibble (reserve), or the
                    // EMPTY slot under a key's tag (fill). A nibble that changes meanwhile, or
                    // a slot filled meanwhile, is looked at again.
                    let sealed = match t.nibble_of(i) {
                        UNTAGGED => t.set_nibble(i, SEALED_TAG),
                        SEALED_TAG => true,
                        _ => t.cas(i, s, pack(SEALED, 0)).is_ok(),
                    };
                    if sealed {
                        return Ok(());
                    }
                    s = t.load(i);
                    continue;
                }
                Slot::Sealed => return Ok(()),
                Slot::Moved { .. } => {
                    invariant!(false, "only the owner of a chunk moves its slots");
                    return Ok(());
                }
                Slot::Present { key, value } => (key, Some(value)),
                Slot::Absent { key } => (key, None),
            };
            if value.is_some() || placed {
                let h = match hash {
                    Some(h) => h,
                    None => {
                        let h = catch_unwind(AssertUnwindSafe(|| rehash.hash_raw(key)))
                            .map_err(|_| ())?;
                        *hash.insert(h)
                    }
                };
                self.place(next, h, key, value, guard);
                placed = true;
            }
            match t.cas(i, s, pack(MOVED, key)) {
                Ok(()) => return Ok(()),
                Err(cur) => s = cur,
            }
        }
    }

    /// Writes `key`'s state `value` into its slot in `t` or a later table, claiming one if it
    /// has none and `value` is a value. Only the mover of the key's older slot writes it there
    /// (see "Resizing"), apart from the movers of later resizes, whose exchanges make ours fail
    /// and walk on.
    #[inline(always)]
    fn place(&self, t: &Table, hash: u64, key: u64, value: Option<u64>, guard: &Guard) {
        let act = value.map_or(Act::Remove, Act::Set);
        self.write_from(t, hash, key, |_| act, guard);
    }

    /// The root table, for iteration.
    fn root_table<'g>(&self, guard: &'g Guard) -> &'g Table {
        table(self.root(guard))
    }
}

impl Side {
    #[inline]
    fn get(&self, key: u64) -> Option<u64> {
        // Acquire: pairs with the AcqRel exchange in `compute`.
        let s = self.0[key as usize].load(Ordering::Acquire);
        (s as u64 == 1).then_some((s >> 64) as u64)
    }

    fn compute(
        &self,
        key: u64,
        mut f: impl FnMut(Option<u64>) -> Act,
    ) -> (Option<u64>, Option<u64>) {
        let cell = &self.0[key as usize];
        // Acquire: pairs with the AcqRel exchange below.
        let mut s = cell.load(Ordering::Acquire);
        loop {
            let old = (s as u64 == 1).then_some((s >> 64) as u64);
            let new = match f(old) {
                Act::Keep => return (old, old),
                Act::Set(v) => Some(v),
                Act::Remove => None,
            };
            if old.is_none() && new.is_none() {
                return (None, None);
            }
            let word = new.map_or(0, |v| pack(1, v));
            // AcqRel: as for table slots (`Table::cas`).
            match cell.compare_exchange(s, word, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return (old, new),
                Err(cur) => s = cur,
            }
        }
    }
}

impl Drop for RawAtomicMap {
    fn drop(&mut self) {
        // SAFETY: `&mut self`: no other thread can reach the map, and nothing is retired
        // through this guard.
        let guard = unsafe { freeway_epoch::unprotected() };
        // Relaxed (here and below): exclusive access; whatever other threads did is ordered
        // before us by whatever handed us the map.
        let mut t = self.root.swap(Shared::null(), Ordering::Relaxed, guard);
        while !t.is_null() {
            // SAFETY: the chain from the root is owned by the map alone now; each table is
            // taken once, and owns nothing that needs dropping but its arrays.
            let owned = unsafe { t.into_owned() };
            t = owned.next.load(Ordering::Relaxed, guard);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::table::empty_slots;
    use super::*;

    #[test]
    fn zeroed_slots_are_empty() {
        let slots = empty_slots(8);
        assert!(
            slots
                .iter()
                .all(|s| decode(s.load(Ordering::Relaxed)) == Slot::Empty)
        );
        assert_eq!(pack(EMPTY, 0), 0);
    }

    #[test]
    fn the_check_harness_names_the_side_keys() {
        for raw in 0..RESERVED {
            assert!(freeway_check::harness::WORD_MAP_KEYS.contains(&(raw ^ KEY_FLIP)));
        }
    }

    #[test]
    fn nibble_searches_are_exact() {
        // Every nibble value at every position, among neighbours of every value.
        for t in 2..16u32 {
            for pos in 0..BUCKET {
                for v in 0..16u32 {
                    for other in [0u32, 1, 7, 8, 15, t] {
                        let mut w = 0;
                        for k in 0..BUCKET {
                            w |= (if k == pos { v } else { other }) << (4 * k);
                        }
                        let want = |x: u32| x == UNTAGGED || x == SEALED_TAG || x == t;
                        for k in 0..BUCKET {
                            let x = nibble(w, k);
                            assert_eq!(candidates(w, t) >> (4 * k + 3) & 1 == 1, want(x));
                        }
                        let zeros = (0..BUCKET).filter(|&k| nibble(w, k) == 0).count();
                        assert_eq!(untagged(w) as usize, zeros);
                    }
                }
            }
        }
        for h in [0u64, 1 << 56, u64::MAX, 0x8000_0000_0000_0000] {
            assert!((2..16).contains(&tag(h)));
        }
    }

    #[test]
    fn decode_round_trips() {
        assert_eq!(decode(pack(SEALED, 0)), Slot::Sealed);
        assert_eq!(
            decode(state(77, Some(u64::MAX))),
            Slot::Present {
                key: 77,
                value: u64::MAX
            }
        );
        assert_eq!(decode(state(77, None)), Slot::Absent { key: 77 });
        assert_eq!(decode(pack(MOVED, 77)), Slot::Moved { key: 77 });
    }
}
