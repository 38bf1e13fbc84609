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
//! | `EMPTY` (0)   | 0           | EMPTY    | never claimed; ends every probe chain                 | PRESENT, SEALED  |
//! | raw key `k`   | value `v`   | PRESENT  | `k` maps to `v`                                       | PRESENT, ABSENT, MOVED |
//! | `ABSENT` (2)  | raw key `k` | ABSENT   | `k` has this slot but no value (removed)              | PRESENT, MOVED   |
//! | `MOVED` (3)   | raw key `k` | MOVED    | `k`'s state lives in the next table now               | (final)          |
//! | `SEALED` (1)  | 0           | SEALED   | was EMPTY during a resize: ends chains, never claimed | (final)          |
//!
//! A raw key is the key's bits XOR [`KEY_FLIP`]; the four raw keys 0 to 3 that collide with the
//! markers belong to four user keys (of the 64-bit key types only: the flip sets high bits that
//! narrower keys never have), and those four keys live in four side cells of the map instead of
//! the table (see [`Side`]). Every transition is one compare-exchange of the whole slot, so no
//! state is ever half written, and an insert is one instruction: EMPTY to PRESENT.
//!
//! A slot belongs to one key from its claim to the end of its table, so a key has at most one
//! slot per table, and it lies before the first EMPTY or SEALED slot of the key's probe chain.
//! Probe chains are linear from `hash & mask`, four slots to a cache line.
//!
//! # Reads
//!
//! `get` walks the chain of the root table: the key's PRESENT slot is the answer, its ABSENT slot
//! or an EMPTY slot means absent, its MOVED slot or a SEALED slot sends the reader to the next
//! table. Reads never write shared memory.
//!
//! # Writes
//!
//! Every write is [`RawAtomicMap::compute`]: a closure maps the key's current value (or `None`)
//! to keep, set or remove, and the result is applied with one compare-exchange on the slot that
//! was read; a failed exchange re-reads that slot and asks the closure again. A writer first
//! copies one chunk of a resize in progress. At an EMPTY end of the chain it claims the slot
//! (EMPTY to PRESENT) only if the table has no next table; otherwise it SEALs the slot, so that
//! the key can never appear in this table behind it, and goes on in the next table.
//!
//! # Resizing
//!
//! A resize links a new table from the old one (`next`, by CAS). Writers claim chunks of old
//! slots with a fetch-and-add and move them, slot by slot ([`RawAtomicMap::move_slot`]): an EMPTY
//! slot is SEALED; a PRESENT or ABSENT slot has its state written to the key's slot in the next
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
//! entries.

mod iter;

pub(crate) use iter::RawAtomicIter;

use super::chain::{self, COPY_CHUNK, ChainTable, MIN_CAPACITY, STRIPES};
use super::counter::Striped;
#[cfg(not(loom))]
use super::zeroed::ZeroedArray;
use freeway_epoch::sync::Mutex;
use freeway_epoch::sync::atomic::{AtomicBool, AtomicU128, AtomicUsize, Ordering};
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

/// Chains longer than this (in slots from the home slot) ask for a resize: four cache lines.
#[cfg(not(loom))]
const PROBE_LIMIT: usize = 16;
#[cfg(loom)]
const PROBE_LIMIT: usize = 8;

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

#[cfg(not(loom))]
type Slots = ZeroedArray<AtomicU128>;
#[cfg(loom)]
type Slots = Box<[AtomicU128]>;

/// `n` EMPTY slots.
#[cfg(not(loom))]
fn empty_slots(n: usize) -> Slots {
    // SAFETY: portable-atomic's `AtomicU128` is a 16-byte integer cell for which all-zero bytes
    // are the value 0, the EMPTY slot (`pack(EMPTY, 0)`, checked by the `zeroed_slots_are_empty`
    // test); it needs no drop and is aligned to 16.
    unsafe { ZeroedArray::zeroed(n) }
}

/// `n` EMPTY slots (loom's atomics must be constructed).
#[cfg(loom)]
fn empty_slots(n: usize) -> Slots {
    (0..n).map(|_| AtomicU128::new(0)).collect()
}

/// One open-addressed table.
struct Table {
    /// Invariant: `slots.len() == mask + 1`, a power of two.
    slots: Slots,
    mask: usize,
    /// The table being moved into, once a resize has started.
    next: Atomic<Table>,
    /// Start of the next chunk to move.
    claim: AtomicUsize,
    /// Slots whose move is complete.
    done: AtomicUsize,
    /// Slots claimed in this table (PRESENT, ABSENT or MOVED): tells a table clogged with
    /// ABSENT slots from one long chain.
    claimed: Striped,
    /// Starts of chunks handed back by a mover whose hasher panicked (see "Resizing"), and
    /// whether there are any (so that helpers look at the mutex only then).
    returned: Mutex<Vec<(usize, usize)>>,
    any_returned: AtomicBool,
}

impl Table {
    /// A table of at least `capacity` slots.
    fn new(capacity: usize) -> Self {
        let n = capacity
            .max(MIN_CAPACITY)
            .checked_next_power_of_two()
            .expect("freeway_hashmap: capacity overflow");
        #[cfg(not(loom))]
        let _ = ZeroedArray::<AtomicU128>::block(n);
        Self {
            slots: empty_slots(n),
            mask: n - 1,
            next: Atomic::null(),
            claim: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
            claimed: Striped::new((n / 512).clamp(1, STRIPES)),
            returned: Mutex::new(Vec::new()),
            any_returned: AtomicBool::new(false),
        }
    }

    #[inline(always)]
    fn capacity(&self) -> usize {
        self.mask + 1
    }

    /// The slots' address with log2 of their number in the low six bits (the address is
    /// 64-byte aligned): all that `RawAtomicMap::prefetch` needs, in one word.
    fn hint(&self) -> usize {
        #[cfg(not(loom))]
        return self.slots.as_ptr() as usize | self.capacity().trailing_zeros() as usize;
        #[cfg(loom)]
        return 0;
    }

    /// Slot `i & mask`, without a bounds check.
    #[inline(always)]
    fn slot(&self, i: usize) -> &AtomicU128 {
        // SAFETY: `i & mask < mask + 1 == slots.len()` (the invariant of `slots`).
        unsafe { self.slots.get_unchecked(i & self.mask) }
    }

    /// Loads slot `i`.
    #[inline(always)]
    fn load(&self, i: usize) -> u128 {
        // Acquire: pairs with the AcqRel exchanges that wrote the slot, so that a thread that
        // sees MOVED sees what the mover wrote into the next table before, and a reader sees
        // whatever the writer of the value it reads had written before it.
        self.slot(i).load(Ordering::Acquire)
    }

    /// Exchanges slot `i` from `cur` to `new`; the slot's value on failure.
    #[inline(always)]
    fn cas(&self, i: usize, cur: u128, new: u128) -> Result<(), u128> {
        // AcqRel: Release publishes this state (and what the writer did before) to the Acquire
        // loads of `load`; Acquire reads the state of a competing writer, and on failure the
        // state that beat us.
        self.slot(i)
            .compare_exchange(cur, new, Ordering::AcqRel, Ordering::Acquire)
            .map(|_| ())
    }

    #[inline(always)]
    fn next<'g>(&self, guard: &'g Guard) -> Shared<'g, Table> {
        chain::next(self, guard)
    }
}

impl ChainTable for Table {
    fn with_capacity(capacity: usize) -> Self {
        Self::new(capacity)
    }
    fn slots(&self) -> usize {
        self.capacity()
    }
    fn next_link(&self) -> &Atomic<Self> {
        &self.next
    }
    fn done(&self) -> &AtomicUsize {
        &self.done
    }
    fn claimed(&self) -> &Striped {
        &self.claimed
    }
}

/// Dereferences a table pointer loaded under `guard` (see `chain::deref`).
#[inline(always)]
fn table<'g>(t: Shared<'g, Table>) -> &'g Table {
    chain::deref(t)
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
    /// The key's slot `idx`, last seen holding `s` (PRESENT or ABSENT).
    Found { idx: usize, s: u128 },
    /// An EMPTY slot `idx` ends the chain after `dist` slots: the key is absent from the map.
    Empty { idx: usize, dist: usize },
    /// The key is in a later table (its slot is MOVED, or the chain ends SEALED or wraps).
    Next { full: bool },
}

/// How `claim_or_seal` ended.
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
    /// Where the root table's slots were when last looked at, as `Table::hint` (see
    /// `RawAtomicMap::prefetch`): read without a pin, so never dereferenced.
    hint: AtomicUsize,
    side: Side,
    count: Striped,
}

impl RawAtomicMap {
    pub(crate) fn with_capacity(n: usize) -> Self {
        let t = Table::new(n.saturating_mul(2));
        Self {
            hint: AtomicUsize::new(t.hint()),
            root: Atomic::new(t),
            side: Side(std::array::from_fn(|_| AtomicU128::new(0))),
            count: Striped::new(STRIPES),
        }
    }

    /// The number of keys with a value (a sum of stripes; exact when no write is in flight).
    pub(crate) fn len(&self) -> usize {
        self.count.sum()
    }

    fn root<'g>(&self, guard: &'g Guard) -> Shared<'g, Table> {
        // Acquire: pairs with the SeqCst root CAS in `promote` (and the initial store), so the
        // table's slots are visible.
        self.root.load(Ordering::Acquire, guard)
    }

    /// Slots of the root table.
    pub(crate) fn slots(&self, guard: &Guard) -> usize {
        table(self.root(guard)).capacity()
    }

    /// Walks `key`'s chain in `t` from its home slot.
    #[inline(always)]
    fn walk(t: &Table, hash: u64, key: u64) -> Walk {
        let home = hash as usize;
        let cap = t.capacity();
        let mut dist = 0;
        while dist < cap {
            let idx = home.wrapping_add(dist);
            let s = t.load(idx);
            let kw = s as u64;
            if kw == key {
                return Walk::Found { idx, s };
            }
            match kw {
                EMPTY => return Walk::Empty { idx, dist },
                SEALED => return Walk::Next { full: false },
                ABSENT | MOVED if (s >> 64) as u64 == key => {
                    return if kw == MOVED {
                        Walk::Next { full: false }
                    } else {
                        Walk::Found { idx, s }
                    };
                }
                _ => dist += 1,
            }
        }
        Walk::Next { full: true }
    }

    /// Starts loading `hash`'s home slot in the root table as last seen, before the caller pins:
    /// the pin's locked instruction then runs while the line is on its way, where otherwise the
    /// line's miss would follow it. Reads only the map's own `hint` word and dereferences
    /// nothing: a stale hint (a table since freed) only wastes the prefetch, which never faults.
    #[inline(always)]
    pub(crate) fn prefetch(&self, hash: u64) {
        #[cfg(all(target_arch = "x86_64", not(loom)))]
        {
            // Relaxed: a hint; nothing is read through it.
            let h = self.hint.load(Ordering::Relaxed);
            let mask = (1usize << (h & 63)) - 1;
            let addr = (h & !63).wrapping_add((hash as usize & mask).wrapping_mul(16));
            // SAFETY: `_mm_prefetch` needs SSE, which the x86_64 baseline includes; a prefetch
            // is a hint that never faults and changes no memory, whatever the address.
            unsafe {
                use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
                _mm_prefetch::<_MM_HINT_T0>(addr as *const i8);
            }
        }
        #[cfg(not(all(target_arch = "x86_64", not(loom))))]
        let _ = hash;
    }

    /// Points `hint` at the root table's slots (after a resize may have moved the root).
    fn refresh_hint(&self, guard: &Guard) {
        let h = table(self.root(guard)).hint();
        // Relaxed: a hint (see `prefetch`).
        if self.hint.load(Ordering::Relaxed) != h {
            // Relaxed: as above.
            self.hint.store(h, Ordering::Relaxed);
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
    fn get_from(t: &Table, hash: u64, key: u64, guard: &Guard) -> Option<u64> {
        let mut t = t;
        loop {
            match Self::walk(t, hash, key) {
                Walk::Found { s, .. } => {
                    return match decode(s) {
                        Slot::Present { value, .. } => Some(value),
                        _ => None,
                    };
                }
                Walk::Empty { .. } => return None,
                Walk::Next { .. } => {
                    let next = t.next(guard);
                    if next.is_null() {
                        return None;
                    }
                    t = table(next);
                }
            }
        }
    }

    /// Applies `f` to raw key `key`'s value: returns the value before and after. `f` may be
    /// called more than once (again after each failed exchange); its last call decided.
    /// `rehash` is the hash of a raw key, for moving slots of a resize in progress.
    #[inline]
    pub(crate) fn compute(
        &self,
        hash: u64,
        key: u64,
        mut f: impl FnMut(Option<u64>) -> Act,
        rehash: &impl RawHash,
        guard: &Guard,
    ) -> (Option<u64>, Option<u64>) {
        if key < RESERVED {
            let (old, new) = self.side.compute(key, f);
            self.count_change(old, new);
            return (old, new);
        }
        let ts = self.root(guard);
        let mut t = table(ts);
        if !t.next(guard).is_null() {
            self.help_move(ts, rehash, guard);
        }
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
                        Ok(()) => {
                            self.count_change(old, new);
                            return (old, new);
                        }
                        Err(cur) => s = cur,
                    }
                },
                Walk::Empty { idx, dist } => {
                    let Act::Set(v) = f(None) else {
                        return (None, None);
                    };
                    match self.claim_or_seal(t, idx, dist, key, v, guard) {
                        End::Claimed => {
                            self.count_change(None, Some(v));
                            return (None, Some(v));
                        }
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

    fn count_change(&self, old: Option<u64>, new: Option<u64>) {
        match (old.is_some(), new.is_some()) {
            (false, true) => self.count.add(1),
            (true, false) => self.count.add(-1),
            _ => {}
        }
    }

    /// At the EMPTY end `idx` of `key`'s chain in `t`, `dist` slots from its home: claims the
    /// slot for `key` with `value` if `t` takes claims (no resize under way, and none called
    /// for), or else seals it, so that the key can never be claimed here behind the writer, who
    /// goes on in the next table (see "Writes").
    fn claim_or_seal(
        &self,
        t: &Table,
        idx: usize,
        dist: usize,
        key: u64,
        value: u64,
        guard: &Guard,
    ) -> End {
        let claim = t.next(guard).is_null()
            && (dist <= PROBE_LIMIT || !self.start_if_needed(t, dist, guard));
        let new = if claim {
            pack(key, value)
        } else {
            pack(SEALED, 0)
        };
        match t.cas(idx, pack(EMPTY, 0), new) {
            Ok(()) if claim => {
                t.claimed.add(1);
                End::Claimed
            }
            Ok(()) => End::Sealed,
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
                Slot::Empty => match t.cas(i, s, pack(SEALED, 0)) {
                    Ok(()) => return Ok(()),
                    Err(cur) => {
                        s = cur;
                        continue;
                    }
                },
                Slot::Sealed => return Ok(()),
                Slot::Moved { .. } => {
                    debug_assert!(false, "only the owner of a chunk moves its slots");
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
    fn place(&self, t: &Table, hash: u64, key: u64, value: Option<u64>, guard: &Guard) {
        let mut t = t;
        loop {
            match Self::walk(t, hash, key) {
                Walk::Found { idx, mut s } => loop {
                    if matches!(decode(s), Slot::Moved { .. }) {
                        break;
                    }
                    match t.cas(idx, s, state(key, value)) {
                        Ok(()) => return,
                        Err(cur) => s = cur,
                    }
                },
                Walk::Empty { idx, dist } => {
                    let Some(v) = value else {
                        // Absent in this table and every later one: nothing to write.
                        return;
                    };
                    match self.claim_or_seal(t, idx, dist, key, v, guard) {
                        End::Claimed => return,
                        End::Sealed => {}
                        End::Lost => continue,
                    }
                }
                Walk::Next { full } => {
                    if full && t.next(guard).is_null() {
                        self.start_resize(t, t.capacity() * 2, guard);
                    }
                }
            }
            t = table(t.next(guard));
        }
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
