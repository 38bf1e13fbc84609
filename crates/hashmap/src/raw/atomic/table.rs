//! One table of the inline map: the 16-byte slots, the tag nibbles and their accessors (see
//! "Tags" and "Resizing" in the parent module's docs).

use super::{BUCKET, UNTAGGED, nibble, untagged};
use crate::raw::chain::{self, ChainTable, Witness};
#[cfg(not(loom))]
use crate::raw::zeroed::ZeroedArray;
use freeway_epoch::sync::Mutex;
use freeway_epoch::sync::atomic::{AtomicBool, AtomicU32, AtomicU128, AtomicUsize, Ordering};
use freeway_epoch::{Atomic, Guard, Shared};

#[cfg(not(loom))]
pub(super) type Array<T> = ZeroedArray<T>;
#[cfg(loom)]
pub(super) type Array<T> = Box<[T]>;

/// `n` EMPTY slots.
#[cfg(not(loom))]
pub(super) fn empty_slots(n: usize) -> Array<AtomicU128> {
    // SAFETY: portable-atomic's `AtomicU128` is a 16-byte integer cell for which all-zero bytes
    // are the value 0, the EMPTY slot (`pack(EMPTY, 0)`, checked by the `zeroed_slots_are_empty`
    // test); it needs no drop and is aligned to 16.
    unsafe { ZeroedArray::zeroed(n) }
}

/// `n` EMPTY slots (loom's atomics must be constructed).
#[cfg(loom)]
pub(super) fn empty_slots(n: usize) -> Array<AtomicU128> {
    (0..n).map(|_| AtomicU128::new(0)).collect()
}

/// `nb` tag words of UNTAGGED nibbles.
#[cfg(not(loom))]
pub(super) fn empty_tags(nb: usize) -> Array<AtomicU32> {
    // SAFETY: an all-zero `AtomicU32` is 0, every nibble UNTAGGED; it needs no drop and is
    // aligned to 4.
    unsafe { ZeroedArray::zeroed(nb) }
}

/// `nb` tag words of UNTAGGED nibbles (loom's atomics must be constructed).
#[cfg(loom)]
pub(super) fn empty_tags(nb: usize) -> Array<AtomicU32> {
    (0..nb).map(|_| AtomicU32::new(0)).collect()
}

/// One open-addressed table.
pub(super) struct Table {
    /// Invariant: `slots.len() == mask + 1 == BUCKET * tags.len()`, a power of two.
    pub(super) slots: Array<AtomicU128>,
    /// One word of `BUCKET` tag nibbles per bucket (see "Tags"). Invariant: `tags.len() ==
    /// bmask + 1`.
    pub(super) tags: Array<AtomicU32>,
    pub(super) mask: usize,
    pub(super) bmask: usize,
    /// The table being moved into, once a resize has started.
    pub(super) next: Atomic<Table>,
    /// Start of the next chunk to move.
    pub(super) claim: AtomicUsize,
    /// Slots whose move is complete.
    pub(super) done: AtomicUsize,
    /// Starts of chunks handed back by a mover whose hasher panicked (see "Resizing"), and
    /// whether there are any (so that helpers look at the mutex only then).
    pub(super) returned: Mutex<Vec<(usize, usize)>>,
    pub(super) any_returned: AtomicBool,
    pub(super) witness: Witness,
}

impl Table {
    /// A table of at least `capacity` slots.
    pub(super) fn new(capacity: usize) -> Self {
        let nb = chain::bucket_count(capacity, BUCKET);
        let n = nb * BUCKET;
        // Both arrays' sizes are checked before either is allocated (see the boxed map's
        // `Table::new`).
        #[cfg(not(loom))]
        let _ = (
            ZeroedArray::<AtomicU128>::block(n),
            ZeroedArray::<AtomicU32>::block(nb),
        );
        Self {
            slots: empty_slots(n),
            tags: empty_tags(nb),
            mask: n - 1,
            bmask: nb - 1,
            next: Atomic::null(),
            claim: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
            returned: Mutex::new(Vec::new()),
            any_returned: AtomicBool::new(false),
            witness: Witness::new(),
        }
    }

    #[inline(always)]
    pub(super) fn capacity(&self) -> usize {
        self.mask + 1
    }

    /// The slots' address with log2 of the number of buckets in the low six bits (the address
    /// is 64-byte aligned), and the tag words' address: what `RawAtomicMap::prefetch` needs.
    pub(super) fn hint(&self) -> (usize, usize) {
        #[cfg(not(loom))]
        return (
            self.slots.as_ptr() as usize | (self.bmask + 1).trailing_zeros() as usize,
            self.tags.as_ptr() as usize,
        );
        #[cfg(loom)]
        return (0, 0);
    }

    /// The home bucket of `hash`.
    #[inline(always)]
    pub(super) fn home(&self, hash: u64) -> usize {
        hash as usize & self.bmask
    }

    /// The tag word of bucket `b & bmask`, without a bounds check.
    #[inline(always)]
    pub(super) fn tags_at(&self, b: usize) -> &AtomicU32 {
        // SAFETY: `b & bmask < bmask + 1 == tags.len()` (the invariant of `tags`).
        unsafe { self.tags.get_unchecked(b & self.bmask) }
    }

    /// Slot `i`'s tag nibble.
    #[inline(always)]
    pub(super) fn nibble_of(&self, i: usize) -> u32 {
        // Relaxed: the only caller, a mover sealing an EMPTY slot, reads nothing through the
        // nibble: it picks which compare-exchange to try (`set_nibble`, or the slot's), and that
        // exchange checks the state again.
        nibble(self.tags_at(i / BUCKET).load(Ordering::Relaxed), i % BUCKET)
    }

    /// Sets slot `i`'s tag nibble from UNTAGGED to `nib`; false if it is no longer UNTAGGED.
    #[inline(always)]
    pub(super) fn set_nibble(&self, i: usize, nib: u32) -> bool {
        let word = self.tags_at(i / BUCKET);
        let shift = 4 * (i % BUCKET);
        // Relaxed: `w` is only the expected value of the exchange below and the nibble it
        // checks; a caller told "no longer UNTAGGED" reads nothing through the word (a writer
        // walks the chain again, a mover loads the slot again, both with Acquire loads).
        let mut w = word.load(Ordering::Relaxed);
        loop {
            if nibble(w, i % BUCKET) != UNTAGGED {
                return false;
            }
            // Release: publishes the seal to walkers that Acquire the word, so that one that
            // sees SEALED_TAG sees the next table linked before it (`move_slot` seals only after
            // `next` is set); a reservation publishes nothing (the slot's own exchange
            // publishes the key). Nothing is read through the word here, so no Acquire, and
            // Relaxed on failure: the word that beat us only becomes the next expected value.
            // The other nibbles of the word may change meanwhile: then retry.
            match word.compare_exchange(w, w | (nib << shift), Ordering::Release, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(cur) => w = cur,
            }
        }
    }

    /// Slot `i & mask`, without a bounds check.
    #[inline(always)]
    pub(super) fn slot(&self, i: usize) -> &AtomicU128 {
        // SAFETY: `i & mask < mask + 1 == slots.len()` (the invariant of `slots`).
        unsafe { self.slots.get_unchecked(i & self.mask) }
    }

    /// Loads slot `i`.
    #[inline(always)]
    pub(super) fn load(&self, i: usize) -> u128 {
        // Acquire: pairs with the AcqRel exchanges that wrote the slot, so that a thread that
        // sees MOVED sees what the mover wrote into the next table before, and a reader sees
        // whatever the writer of the value it reads had written before it.
        self.slot(i).load(Ordering::Acquire)
    }

    /// Exchanges slot `i` from `cur` to `new`; the slot's value on failure.
    #[inline(always)]
    pub(super) fn cas(&self, i: usize, cur: u128, new: u128) -> Result<(), u128> {
        // AcqRel: Release publishes this state (and what the writer did before) to the Acquire
        // loads of `load`; Acquire reads the state of a competing writer, and on failure the
        // state that beat us.
        self.slot(i)
            .compare_exchange(cur, new, Ordering::AcqRel, Ordering::Acquire)
            .map(|_| ())
    }

    #[inline(always)]
    pub(super) fn next<'g>(&self, guard: &'g Guard) -> Shared<'g, Table> {
        chain::next(self, guard)
    }

    /// The next table, if a resize has linked one.
    pub(super) fn next_table<'g>(&self, guard: &'g Guard) -> Option<&'g Table> {
        let n = self.next(guard);
        (!n.is_null()).then(|| table(n))
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
    fn witness(&self) -> &Witness {
        &self.witness
    }
    /// Counted from the tag nibbles (a reserved or sealed nibble is a claimed slot, near enough
    /// for the resize heuristics): all of them in a table of up to 64 buckets, otherwise 64 tag
    /// words spread evenly over the table, scaled up. Writers keep no claim counter, which
    /// would cost a locked instruction per insert of a new key.
    fn claimed(&self) -> usize {
        let nb = self.bmask + 1;
        let (samples, stride) = if nb <= 64 { (nb, 1) } else { (64, nb / 64) };
        let taken: usize = (0..samples)
            .map(|i| {
                // Relaxed: a statistic for the resize heuristics; any value the word had will
                // do, and nothing is read through it.
                let w = self.tags_at(i * stride).load(Ordering::Relaxed);
                BUCKET - untagged(w) as usize
            })
            .sum();
        taken * (nb / samples)
    }
}

/// Dereferences a table pointer loaded under `guard` (see `chain::deref`).
#[inline(always)]
pub(super) fn table<'g>(t: Shared<'g, Table>) -> &'g Table {
    chain::deref(t)
}
