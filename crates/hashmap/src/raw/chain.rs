//! What both maps' cores share about their chains of tables: when to resize, how a next table
//! is linked, how the root moves past a table whose move is done, and the bounded waits.

use freeway_epoch::sync::atomic::{AtomicUsize, Ordering};
use freeway_epoch::{Atomic, Guard, Owned, Shared};

/// The smallest table (shrunk under loom so that models stay small).
#[cfg(not(loom))]
pub(super) const MIN_CAPACITY: usize = 16;
#[cfg(loom)]
pub(super) const MIN_CAPACITY: usize = 2;

/// Slots a helper copies per claim.
#[cfg(not(loom))]
pub(super) const COPY_CHUNK: usize = 64;
#[cfg(loom)]
pub(super) const COPY_CHUNK: usize = 1;

/// Stripes of the boxed map's claim counter of a table, at most.
#[cfg(not(loom))]
pub(super) const STRIPES: usize = 16;
#[cfg(loom)]
pub(super) const STRIPES: usize = 1;

/// Shared stripes of a map's length counter (for the threads beyond those holding an exclusive
/// `freeway_epoch::Stripe`, which have one each).
#[cfg(not(loom))]
pub(super) const SHARED_STRIPES: usize = 4;
#[cfg(loom)]
pub(super) const SHARED_STRIPES: usize = 1;

/// The loom-visible mark of a table's or an entry's making (see [`Witness`]).
pub(crate) use freeway_epoch::sync::Witness;

/// A table of a map's chain.
pub(super) trait ChainTable: Sized {
    /// A table of at least `capacity` slots, all EMPTY.
    fn with_capacity(capacity: usize) -> Self;
    /// Its number of slots.
    fn slots(&self) -> usize;
    /// The table being copied into, once a resize has started.
    fn next_link(&self) -> &Atomic<Self>;
    /// Slots whose copy is complete.
    fn done(&self) -> &AtomicUsize;
    /// Slots claimed (with a value, or given up by a remove, or moved on): exact when no write
    /// is in flight, or an estimate (see `AtomicMap`'s table).
    fn claimed(&self) -> usize;
    /// Its witness (see [`Witness`]).
    fn witness(&self) -> &Witness;
}

/// The number of buckets of `bucket` slots for a table of at least `capacity` slots (and at
/// least [`MIN_CAPACITY`]): a power of two. Panics if that overflows.
pub(super) fn bucket_count(capacity: usize, bucket: usize) -> usize {
    capacity
        .max(MIN_CAPACITY)
        .div_ceil(bucket)
        .checked_next_power_of_two()
        .expect("freeway_hashmap: capacity overflow")
}

/// Whether a chain of `dist` slots in `t` (longer than its probe limit `limit`), in a map of
/// `live` entries, calls for a resize, and to what capacity.
///
/// A long chain is only the trigger: what decides is the whole table. Live entries past 5/8 of
/// the slots double it. Otherwise, claimed slots (live entries and the tombstones that stay
/// until the next resize) past 3/4 of the slots ask for a rehash at a size proportional to the
/// live entries, which clears the tombstones (and shrinks the table after a remove-heavy phase).
/// A long chain in a table with room left is clustering or a poor hash: the key takes its slot
/// at the end of the longer walk. (Rehashing on the first long chain of any bucket, as the boxed
/// map once did, copied the whole table every ~40k tombstones of a 450k-slot table in the
/// exchange mix: see docs/hashmap.md.)
pub(super) fn grow_decision<T: ChainTable>(
    t: &T,
    dist: usize,
    limit: usize,
    live: usize,
    min_capacity: usize,
) -> Option<usize> {
    if dist <= limit {
        return None;
    }
    let cap = t.slots();
    if live * 8 >= cap * 5 {
        // Tables round up to a power of two: an exact doubling.
        return Some((cap * 2).max(live * 2));
    }
    if t.claimed() * 4 >= cap * 3 {
        // Mostly tombstones: rehash at a size proportional to the live entries.
        return Some((live * 2 + 1).max(min_capacity));
    }
    None
}

/// The next table of `t` (non-null only once a resize has started).
#[inline(always)]
pub(super) fn next<'g, T: ChainTable>(t: &T, guard: &'g Guard) -> Shared<'g, T> {
    // Acquire: pairs with the AcqRel CAS in `start_resize`, so the new table's slots are
    // initialised for us.
    t.next_link().load(Ordering::Acquire, guard)
}

/// Returns `t`'s next table, creating it with `cap` slots if there is none.
pub(super) fn start_resize<'g, T: ChainTable>(
    t: &'g T,
    cap: usize,
    guard: &'g Guard,
) -> Shared<'g, T> {
    let n = next(t, guard);
    if !n.is_null() {
        return n;
    }
    let new = Owned::new(T::with_capacity(cap));
    // AcqRel: Release publishes the new table's initialised slots to every thread that
    // Acquire-loads `next`; Acquire (also on failure) reads the winner's table.
    match t.next_link().compare_exchange(
        Shared::null(),
        new,
        Ordering::AcqRel,
        Ordering::Acquire,
        guard,
    ) {
        Ok(s) => s,
        // The loser's table was never shared: it is dropped here.
        Err(e) => e.current,
    }
}

/// Makes the root table of the map at `root`, which holds `len()` entries, ready for
/// `additional` more claims: at least `2 * (len + additional)` slots (so the doubling threshold,
/// 5/8 live, is not reached) and room for `additional` claims below the tombstone rehash (3/4
/// claimed). Otherwise it starts a resize to that size, runs `copy_all` (which copies every chunk
/// nobody has claimed), waits for the chunks other threads are copying (bounded work that runs
/// no user code but, for `AtomicMap`, the hasher), and looks at the new root again.
///
/// The size is worked out again on every round from the length then: one fixed at the call
/// would, once concurrent inserts have added entries, leave a table that fails the tombstone
/// test however often it is rehashed (the loom model `reserve_races_a_writer_resize` caught that
/// livelock).
pub(super) fn reserve<'g, T: ChainTable + 'g>(
    root: &Atomic<T>,
    len: impl Fn() -> usize,
    additional: usize,
    guard: &'g Guard,
    mut copy_all: impl FnMut(Shared<'g, T>),
) {
    // Acquire: pairs with the SeqCst root CAS in `promote` (and the initial store), so the
    // table's slots are visible.
    let load_root = || root.load(Ordering::Acquire, guard);
    loop {
        let slots = len().saturating_add(additional).saturating_mul(2);
        let ts = load_root();
        let t = deref(ts);
        if next(t, guard).is_null() {
            let cap = t.slots();
            let claims = t.claimed().saturating_add(additional);
            if cap >= slots && claims.saturating_mul(4) < cap.saturating_mul(3) {
                return;
            }
            start_resize(t, slots, guard);
        }
        copy_all(ts);
        freeway_epoch::sync::wait_until(|| load_root() != ts);
    }
}

/// Counts `n` more copied slots of `ts` (a table with a next table), and swings the map's
/// `root` past it if that was the last.
pub(super) fn finish_part<T: ChainTable>(
    root: &Atomic<T>,
    ts: Shared<'_, T>,
    n: usize,
    guard: &Guard,
) {
    let t = deref(ts);
    // SeqCst: joins one total order with the root CAS and the `done` load in `promote`, so that
    // of "I finished T" and "I made T the root" at least one thread sees the other.
    let done = t.done().fetch_add(n, Ordering::SeqCst) + n;
    if done == t.slots() {
        promote(root, ts, guard);
    }
}

/// Swings `root` past `ts` (fully copied), retiring it, and past later tables that are fully
/// copied too.
fn promote<T: ChainTable>(root: &Atomic<T>, ts: Shared<'_, T>, guard: &Guard) {
    let mut cur = ts;
    loop {
        let nx = next(deref(cur), guard);
        // SeqCst: one total order with the `done` increments (see `finish_part`); readers
        // Acquire the root.
        if root
            .compare_exchange(cur, nx, Ordering::SeqCst, Ordering::SeqCst, guard)
            .is_err()
        {
            // An older table is still the root; its promoter will look at us.
            return;
        }
        // SAFETY: the root no longer points at `cur`, its predecessor was retired earlier, and
        // every slot of `cur` is final (its contents live in the next table), so it owns
        // nothing but its arrays; only threads pinned now can still reach it, and it is retired
        // once (only the winner of the root CAS gets here).
        unsafe { freeway_epoch::retire(guard, cur) };
        // A table is few objects but many bytes: hand our garbage bag to the global queue now,
        // where a later collection frees it once the threads pinned now have moved on, instead
        // of leaving it in this thread's bag until 64 more retirements fill the bag or the
        // thread's 256th runs a paced step (a map that only grows retires nothing else, and
        // kept every old table: their sum is the size of the current one). `collect_now`
        // catches a panic of anybody's deferred function that it runs, which would otherwise
        // leave this promotion chain half done.
        freeway_epoch::collect_now(guard);
        let n = deref(nx);
        // SeqCst: see `finish_part`.
        if n.done().load(Ordering::SeqCst) == n.slots() {
            cur = nx;
        } else {
            return;
        }
    }
}

/// Dereferences a table pointer loaded under `guard`.
#[inline(always)]
pub(super) fn deref<'g, T: ChainTable>(t: Shared<'g, T>) -> &'g T {
    debug_assert!(!t.is_null());
    // SAFETY: table pointers come from a map's root or a table's `next`; a table is retired
    // only after the root has moved past it, so one loaded under a guard lives as long as the
    // guard (for the boxed map's `RootView`, loaded through an unprotected guard: as long as
    // the caller's pin). Under the exclusive access of a map's `Drop` or `drain_owned`,
    // nothing is retired at all.
    let t = unsafe { t.deref() };
    t.witness().check();
    t
}
