//! The unbounded queue's core: a linked list of fixed-size segments, indices claimed by
//! fetch-and-add, and a slot protocol in which nobody ever waits for anybody else.
//!
//! # Origins
//!
//! The shape is the FAAArrayQueue of Pedro Ramalhete and Andreia Correia ("FAAArrayQueue", in
//! the ConcurrencyFreaks collection, 2016; the fetch-and-add queue family also studied by
//! Chaoran Yang and John Mellor-Crummey, "A wait-free queue as fast as fetch-and-add",
//! PPoPP 2016), which is the simplest member of the family that LCRQ (Adam Morrison and Yehuda
//! Afek, "Fast concurrent queues for x86 processors", PPoPP 2013) and LPRQ (Raed Romanov and
//! Nikita Koval, "The state-of-the-art LCRQ concurrent queue algorithm does NOT require CAS2",
//! PPoPP 2023) refine. Producers and consumers each take a ticket from a per-segment counter with
//! one fetch-and-add, so contended threads never retry a CAS on the hot path; the ticket names a
//! slot that only its producer writes and only its consumer reads.
//!
//! # Segments
//!
//! A segment holds [`SEGMENT_SLOTS`] slots, an enqueue counter `enq`, a dequeue counter `deq`
//! (each on its own cache line) and a `next` link. The queue keeps `head` (the segment consumers
//! work in) and `tail` (the one producers work in). Both start null: the first push installs the
//! first segment, so [`RawQueue::new`] allocates nothing and is `const`.
//!
//! # Push
//!
//! A producer takes ticket `i = enq.fetch_add(1)` in the tail segment. If `i` is inside the
//! segment it writes its value into slot `i` (nobody else touches that cell) and then sets the
//! slot's `WRITTEN` bit. If a consumer had already poisoned the slot (its `TAKEN` bit is set),
//! the producer takes its value back and starts again with a new ticket. A ticket past the end
//! means the segment is full: the producer either follows `next` (helping to move `tail`), or
//! allocates a new segment with its value already in slot 0 and links it with one CAS on `next`.
//!
//! # Pop
//!
//! A consumer first checks, without claiming anything, whether the head segment has an unclaimed
//! producer ticket (`deq < enq`); if not and there is no next segment the queue is empty and
//! `pop` returns `None` without burning a ticket. Otherwise it takes `i = deq.fetch_add(1)` and
//! reads the state of slot `i`. If `WRITTEN` is set the value is its own to move out (no
//! read-modify-write needed: the producer has finished with the slot). If not, the producer of
//! slot `i` has claimed it but not finished writing (it may be preempted). After a short
//! bounded grace period (a few dozen re-reads of the state) the consumer sets `TAKEN`; if
//! `WRITTEN` still was not set it leaves the slot poisoned and takes another ticket, so a
//! stalled producer never blocks a consumer (the failure mode of crossbeam issue #675). A
//! consumer that finds `deq` past the end of the head segment moves `head` to `next` and hands
//! the old segment to the spare pool through `freeway_epoch::defer_unchecked` (see
//! "Recycling").
//!
//! # Why `pop` returning `None` is linearizable
//!
//! The emptiness check reads, in this order, `head`, then `deq`, then `enq`, then `next`, all in
//! the single `SeqCst` order with every ticket fetch-and-add and every `next` CAS. Say it sees
//! `d = deq`, then `e = enq` with `d >= e`, then `next == null`, and let `t` be the moment it read
//! `enq`. Every ticket below `e` had been handed to a consumer by then (`deq` only grows), so each
//! value at those slots is already popped or belongs to a pop that began before `t`; such a pop
//! can be linearized before `t`, and its push (which claimed its ticket before `t`) too. Every
//! ticket at or above `e` is claimed after `t`, so its push can be linearized after `t`. Segments
//! before `head` were left only after all their tickets went to consumers, and `next == null`
//! (read after `t`, and links only go from null to non-null) says no segment follows. So the
//! queue is empty at `t`.
//!
//! # Batches
//!
//! `push_batch` claims up to a segment's worth of tickets with one `fetch_add(k)` and fills them
//! in order; if a slot turns out poisoned, the rest of its claimed range is left for consumers to
//! poison and the remaining values are pushed again at fresh tickets, in order, so a batch never
//! reorders its own values. `pop_batch` claims up to `k` tickets that the snapshot shows as
//! claimed by producers, again with one `fetch_add(k)`.
//!
//! # Slot states
//!
//! Each slot has a one-byte state; the two bits are set once each, in either order:
//!
//! | state             | `WRITTEN` | `TAKEN` | meaning                                              |
//! |-------------------|:---------:|:-------:|------------------------------------------------------|
//! | empty             | 0         | 0       | no value; its producer (if any) is still writing     |
//! | full              | 1         | 0       | holds a published value                              |
//! | poisoned          | 0         | 1       | a consumer came first; the producer keeps its value  |
//! | consumed          | 1         | 1       | the value was moved out by its consumer              |
//!
//! Exactly one of the producer (on `poisoned`) and the consumer (on `consumed`) ends up owning a
//! written value, decided by which of the two bit-setting read-modify-writes came second (each
//! bit is set by one thread, once, so they are `fetch_add`s: one `lock xadd` on x86, where a
//! `fetch_or` whose result is used is a compare-exchange loop). A consumer that already sees
//! `WRITTEN` skips its read-modify-write (release builds): the producer's came first and
//! found no `TAKEN`, so the value is the consumer's, and the slot stays `full` in its bits while
//! `deq` (past its ticket) says it is consumed. `Drop` drops the values of the slots whose
//! tickets no consumer holds, so only values still in the queue.
//!
//! # Recycling
//!
//! A drained segment is not freed: `RawQueue::recycle` defers (through the counted
//! `freeway_epoch::defer_unchecked`) a closure that parks it in the queue's spare pool, a
//! bounded Treiber stack of up to [`POOL_SLOTS`] segments shared by an `Arc` between the queue
//! and these closures (they may run after the queue is dropped). A new segment is popped from
//! the pool when there is one, reset (counters, `next`, `id`, every slot state) and linked like
//! a fresh one, so a queue in steady state allocates no segments. The pool's size covers the
//! epoch's batching: deferred functions run a bag (64) at a time, so segments come back in
//! bursts.
//!
//! # Progress
//!
//! Lock-free: a thread retries only when another operation completed or claimed a ticket. Pops
//! and pushes never wait for one another beyond the consumer's bounded grace period (a fixed
//! number of re-reads, whatever the producer does). Reclamation is by epochs, so a
//! thread stalled while pinned delays the freeing of old segments (never their correctness).

use core::marker::PhantomData;
use core::mem::MaybeUninit;

use freeway_epoch::sync::Arc;
use freeway_epoch::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release, SeqCst};
use freeway_epoch::sync::atomic::{AtomicPtr, AtomicU8, AtomicUsize};
use freeway_epoch::sync::cell::UnsafeCell;
use freeway_epoch::sync::hint::spin_loop;
use freeway_epoch::{
    Atomic, CachePadded, Guard, Owned, Shared, defer_unchecked, pin, retire, unprotected,
};

/// Slots per segment: small under loom so that models cross segment boundaries.
pub(crate) const SEGMENT_SLOTS: usize = if cfg!(loom) { 2 } else { 256 };

/// Spare segments a queue keeps for reuse (about 4.4 KiB each for a `u64`). Retired segments
/// come back in bursts, a whole epoch bag (64 deferred functions) at a time, so fewer spares
/// than that would not cover the gap and steady state would keep allocating.
const POOL_SLOTS: usize = if cfg!(loom) { 1 } else { 64 };

/// How many times a consumer re-reads an empty slot before poisoning it (none under loom, where
/// it would only multiply the interleavings).
const PATIENCE: usize = if cfg!(loom) { 0 } else { 32 };

/// Set by the producer once the slot's value is written.
const WRITTEN: u8 = 1;
/// Set by the consumer that holds the slot's ticket.
const TAKEN: u8 = 2;

struct Slot<T> {
    /// The state bits of the table in the module docs.
    state: AtomicU8,
    value: UnsafeCell<MaybeUninit<T>>,
}

impl<T> Slot<T> {
    fn new(state: u8) -> Self {
        Self {
            state: AtomicU8::new(state),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }
}

struct Segment<T> {
    /// Producer tickets handed out (may run past `SEGMENT_SLOTS`).
    enq: CachePadded<AtomicUsize>,
    /// Consumer tickets handed out (may run past `SEGMENT_SLOTS`).
    deq: CachePadded<AtomicUsize>,
    /// The following segment, null while this is the last one.
    next: Atomic<Segment<T>>,
    /// Position of this segment in the list since the queue was created (for `len`).
    id: usize,
    slots: [Slot<T>; SEGMENT_SLOTS],
}

impl<T> Segment<T> {
    /// A segment whose first `claimed` tickets are already handed out, taken from `pool` if it
    /// has a spare and allocated otherwise; if `first` is given it is written into slot 0 as a
    /// published value (`claimed` must then be at least 1).
    ///
    /// Built in place on the heap: a segment of a large `T` would not fit on the stack.
    #[cold]
    fn alloc(
        id: usize,
        claimed: usize,
        first: Option<T>,
        pool: Option<&Pool<T>>,
        guard: &Guard,
    ) -> Owned<Self> {
        if let Some(p) = pool.and_then(|pool| pool.take(guard)) {
            // SAFETY: 1. `take` hands the spare to us alone: it went through a grace period
            // after its retirement, so no thread can still read it as a queue segment, and
            // the only other accesses (stale pool pops) are atomic loads of `next`. 2. Every
            // value was moved out before its retirement, so its cells are logically
            // uninitialised and overwriting them leaks nothing. 3. The resets are atomic stores
            // (or raw writes to `id` and the cells, which nobody else touches); they are
            // published with the segment by the Release CAS that links it, as for a fresh one.
            // 4. `p` came from `Box::into_raw`, so `Owned::from_raw` takes it back once.
            unsafe {
                (*p).enq.store(claimed, Relaxed);
                (*p).deq.store(0, Relaxed);
                (*p).next.store(Shared::null(), Relaxed);
                (&raw mut (*p).id).write(id);
                let slots = (&raw const (*p).slots).cast::<Slot<T>>();
                for i in 0..SEGMENT_SLOTS {
                    (*slots.add(i)).state.store(0, Relaxed);
                }
                if let Some(v) = first {
                    (*slots).value.with_mut(|c| (*c).write(v));
                    (*slots).state.store(WRITTEN, Relaxed);
                }
                return Owned::from_raw(p);
            }
        }
        let mut b = Box::<Self>::new_uninit();
        let p = b.as_mut_ptr();
        // SAFETY: 1. `p` points to an allocation for a `Segment<T>`; every field is written once
        // through raw pointers before `assume_init`, and slots are written one by one in place.
        // 2. `MaybeUninit<T>` needs no initialisation, so a `Slot` is fully initialised by
        // `Slot::new`.
        unsafe {
            (&raw mut (*p).enq).write(CachePadded::new(AtomicUsize::new(claimed)));
            (&raw mut (*p).deq).write(CachePadded::new(AtomicUsize::new(0)));
            (&raw mut (*p).next).write(Atomic::null());
            (&raw mut (*p).id).write(id);
            let slots = (&raw mut (*p).slots).cast::<Slot<T>>();
            for i in 0..SEGMENT_SLOTS {
                let state = if i == 0 && first.is_some() {
                    WRITTEN
                } else {
                    0
                };
                slots.add(i).write(Slot::new(state));
            }
            if let Some(v) = first {
                (*slots).value.with_mut(|c| (*c).write(v));
            }
            Owned::from(b.assume_init())
        }
    }

    /// Writes `value` into slot `i` and publishes it; gives the value back if a consumer has
    /// poisoned the slot.
    ///
    /// # Safety
    ///
    /// - `i < SEGMENT_SLOTS` and the caller holds producer ticket `i` of this segment (so no
    ///   other thread writes the cell, and no consumer reads it before `WRITTEN` is set).
    #[inline]
    unsafe fn publish(&self, i: usize, value: T) -> Result<(), T> {
        // SAFETY: `i` is in bounds by the caller's contract.
        let slot = unsafe { self.slots.get_unchecked(i) };
        // SAFETY: only the holder of ticket `i` writes this cell, and consumers read it only
        // after seeing `WRITTEN`, which is set below.
        slot.value.with_mut(|c| unsafe { (*c).write(value) });
        // `fetch_add` sets the bit as `fetch_or` would (only the ticket holder sets `WRITTEN`,
        // once), and compiles to one `lock xadd` on x86 where a `fetch_or` whose result is
        // used becomes a compare-exchange loop.
        // Release: pairs with the Acquire loads and `fetch_add` in `take`, so the consumer
        // that sees `WRITTEN` also sees the value written above.
        let prev = slot.state.fetch_add(WRITTEN, Release);
        if prev & TAKEN == 0 {
            Ok(())
        } else {
            // SAFETY: the slot was poisoned before our bit landed, so its consumer will never
            // read the cell: the value we wrote is still ours, and we move it out once.
            Err(slot.value.with(|c| unsafe { (*c).assume_init_read() }))
        }
    }

    /// Claims slot `i` for its consumer: returns its value if published, or poisons it.
    ///
    /// # Safety
    ///
    /// - `i < SEGMENT_SLOTS` and the caller holds consumer ticket `i` of this segment (or has
    ///   `&mut` access to the queue, in which case the ticket is implied), and calls this once
    ///   per ticket.
    #[inline]
    unsafe fn take(&self, i: usize) -> Option<T> {
        // SAFETY: `i` is in bounds by the caller's contract.
        let slot = unsafe { self.slots.get_unchecked(i) };
        // A producer between its ticket and its `WRITTEN` bit is usually a few instructions
        // from done: give it a short, bounded grace period before poisoning its slot (which
        // would cost it a retry). Bounded, so a preempted producer still never blocks us.
        //
        // Acquire (these loads): pair with the Release `fetch_or` in `publish` (or with the
        // publication of a pre-filled or reset segment by the CAS that links it), so a value
        // seen as `WRITTEN` is visible.
        let mut state = slot.state.load(Acquire);
        let mut patience = PATIENCE;
        while state & WRITTEN == 0 && patience > 0 {
            spin_loop();
            patience -= 1;
            state = slot.state.load(Acquire);
        }
        if state & WRITTEN == 0 {
            // Out of patience: poison the slot, unless `WRITTEN` lands first.
            // `fetch_add` for `fetch_or`, as in `publish`: only the ticket holder sets `TAKEN`.
            // Acquire: as the loads above.
            state = slot.state.fetch_add(TAKEN, Acquire);
        } else {
            // The common case needs no read-modify-write: the producer's `fetch_add` has
            // already run and (as only we set `TAKEN`) found the slot unpoisoned, so it has let
            // go of the value. Debug builds still mark the slot to catch a reused ticket.
            debug_assert!(
                slot.state.fetch_or(TAKEN, Relaxed) & TAKEN == 0,
                "a ticket was used twice"
            );
        }
        if state & WRITTEN != 0 {
            // SAFETY: `WRITTEN` was set before any `TAKEN` of ours, so the producer has let go
            // of the value; the ticket is ours alone, so we move it out exactly once.
            Some(slot.value.with(|c| unsafe { (*c).assume_init_read() }))
        } else {
            None
        }
    }
}

/// Spare segments of one queue: a bounded Treiber stack (R. Kent Treiber, IBM RJ 5118, 1986)
/// linked through the segments' own `next` fields.
///
/// Shared through an [`Arc`] by the queue and by the deferred closures that park retired
/// segments here, since those may run after the queue is gone; the last owner frees the spares.
///
/// ABA: `take` runs pinned, and a segment it pops goes back into the queue, whence it returns
/// here only through retirement and a grace period, which cannot end while any thread that
/// read it as the top is still pinned. So the top a `take` read cannot come back under it, and
/// the CAS never succeeds with a stale `next`. A popped segment that does not get linked (a lost
/// `next` CAS) goes through the same grace period (`RawQueue::recycle`) for the same reason.
struct Pool<T> {
    /// The top spare, null when there is none.
    top: Atomic<Segment<T>>,
    /// Spares parked (an upper bound of the stack's depth, which `put` keeps `<= POOL_SLOTS`).
    len: AtomicUsize,
}

impl<T> Pool<T> {
    fn new() -> Self {
        Self {
            top: Atomic::null(),
            len: AtomicUsize::new(0),
        }
    }

    /// Pops a spare segment, now the caller's alone (see the type docs for why it has no ABA).
    fn take(&self, guard: &Guard) -> Option<*mut Segment<T>> {
        // Acquire: pairs with the Release CAS in `put`, so the link stored there is visible.
        let mut top = self.top.load(Acquire, guard);
        loop {
            let p = top.as_raw().cast_mut();
            if p.is_null() {
                return None;
            }
            // SAFETY: `p` was in the stack while we were pinned; it is freed only by `Pool`'s
            // drop (not while `&self` lives) or after a grace period that our pin holds back.
            // Only its `next` field is read, atomically: the popper may be resetting the rest.
            let next = unsafe { (*p).next.load(Relaxed, guard) };
            // Acquire (both): as the load above, for the new top.
            match self
                .top
                .compare_exchange(top, next, Acquire, Acquire, guard)
            {
                Ok(_) => {
                    // Relaxed: a bound on the depth, not synchronisation.
                    self.len.fetch_sub(1, Relaxed);
                    return Some(p);
                }
                Err(e) => top = e.current,
            }
        }
    }

    /// Parks the retired segment `p`, or frees it if [`POOL_SLOTS`] spares are parked already.
    ///
    /// # Safety
    ///
    /// - `p` came from `Box::into_raw` (an `Owned`), its grace period is over (no thread can
    ///   reach it), every value was moved out of it, and it is handed over once.
    unsafe fn put(&self, p: *mut Segment<T>) {
        // Relaxed: a bound on the depth, not synchronisation.
        if self.len.fetch_add(1, Relaxed) >= POOL_SLOTS {
            self.len.fetch_sub(1, Relaxed);
            // SAFETY: by the contract, `p` is an unreachable boxed segment with no values.
            drop(unsafe { Box::from_raw(p) });
            return;
        }
        // SAFETY: the stack is only read through atomics and never dereferenced here.
        let guard = unsafe { unprotected() };
        let mut top = self.top.load(Relaxed, guard);
        loop {
            // SAFETY: `p` is ours alone (see the contract); the link is published by the CAS.
            unsafe { (*p).next.store(top, Relaxed) };
            // Release: pairs with the Acquire loads and CAS of `take`, publishing the link and
            // (with the grace period before it) every earlier access to the segment.
            match self.top.compare_exchange(
                top,
                Shared::from(p.cast_const()),
                Release,
                Relaxed,
                guard,
            ) {
                Ok(_) => return,
                Err(e) => top = e.current,
            }
        }
    }
}

impl<T> Drop for Pool<T> {
    fn drop(&mut self) {
        // SAFETY: the last owner: nobody else can reach the stack.
        let guard = unsafe { unprotected() };
        let mut top = self.top.load(Relaxed, guard);
        while !top.is_null() {
            // SAFETY: every parked segment came from `Box::into_raw`, holds no values and is
            // owned by the stack alone; each is freed once as we walk the links.
            let seg = unsafe { top.into_owned() };
            top = seg.next.load(Relaxed, guard);
            drop(seg);
        }
    }
}

/// The unbounded MPMC queue's shared state.
pub(crate) struct RawQueue<T> {
    head: CachePadded<Atomic<Segment<T>>>,
    tail: CachePadded<Atomic<Segment<T>>>,
    /// The spare segments, from `Arc::into_raw` (the queue's reference); null until the first
    /// push installs it (before the first segment).
    pool: AtomicPtr<Pool<T>>,
    /// The queue owns `T`s (for drop check and auto traits).
    _owns: PhantomData<T>,
}

// SAFETY: the queue hands each `T` from the thread that pushed it to the thread that pops it (or
// drops it), so `T: Send` is needed and suffices; the queue never hands out `&T`, so it needs no
// `T: Sync` even when shared.
unsafe impl<T: Send> Send for RawQueue<T> {}
// SAFETY: as for `Send`: shared access only moves owned values between threads.
unsafe impl<T: Send> Sync for RawQueue<T> {}

impl<T> RawQueue<T> {
    /// An empty queue; allocates nothing.
    #[cfg(not(loom))]
    pub(crate) const fn new() -> Self {
        Self {
            head: CachePadded::new(Atomic::null()),
            tail: CachePadded::new(Atomic::null()),
            pool: AtomicPtr::new(core::ptr::null_mut()),
            _owns: PhantomData,
        }
    }

    /// An empty queue; allocates nothing. (Not `const` under loom, whose atomics are not.)
    #[cfg(loom)]
    pub(crate) fn new() -> Self {
        Self {
            head: CachePadded::new(Atomic::null()),
            tail: CachePadded::new(Atomic::null()),
            pool: AtomicPtr::new(core::ptr::null_mut()),
            _owns: PhantomData,
        }
    }

    /// The tail segment, installing the first segment if there is none yet.
    #[inline]
    fn tail<'g>(&self, guard: &'g Guard) -> Shared<'g, Segment<T>> {
        // Acquire: pairs with the Release CASes that install a tail (`init`, `append`,
        // `advance_head`), so the segment's initialisation is visible.
        let tail = self.tail.load(Acquire, guard);
        if tail.is_null() {
            self.init(guard)
        } else {
            tail
        }
    }

    /// Installs the first segment: `head` first, then `tail` from `head`.
    ///
    /// `head` cannot move while `tail` is null (moving it needs a `next` link, which needs a
    /// producer that has seen a non-null `tail`), so whichever thread sets `tail` from null sets
    /// it to the current `head`, and `tail` is never behind `head`.
    #[cold]
    fn init<'g>(&self, guard: &'g Guard) -> Shared<'g, Segment<T>> {
        // Before any segment exists, so that every thread that reaches a segment (through the
        // Release/Acquire chain on `head`, `tail` and `next`) also sees the pool.
        self.install_pool();
        // Acquire: pairs with the Release CAS below made by another thread.
        let mut head = self.head.load(Acquire, guard);
        if head.is_null() {
            let new = Segment::alloc(0, 0, None, self.pool(), guard);
            // Release: publishes the new segment's initialisation to the Acquire loads of
            // `head`; Acquire on failure: pairs with the winner's Release.
            head = match self
                .head
                .compare_exchange(Shared::null(), new, AcqRel, Acquire, guard)
            {
                Ok(h) => h,
                Err(e) => {
                    // SAFETY: the loser's segment was never linked and holds no value; it may
                    // be a spare that a stale `Pool::take` still reads, hence the grace period.
                    unsafe { self.recycle(guard, e.new.into_shared(guard)) };
                    e.current
                }
            };
        }
        // Release: publishes the segment to the Acquire loads of `tail`; Acquire on failure:
        // pairs with the winner's Release.
        match self
            .tail
            .compare_exchange(Shared::null(), head, AcqRel, Acquire, guard)
        {
            Ok(_) => head,
            Err(e) => e.current,
        }
    }

    /// The spare pool; `None` only before the first segment exists.
    #[inline]
    fn pool(&self) -> Option<&Pool<T>> {
        // Acquire: pairs with the Release CAS in `install_pool`.
        let p = self.pool.load(Acquire);
        // SAFETY: non-null, it came from `Arc::into_raw`, and the queue's own reference (given
        // up only in `drop`, with `&mut self`) keeps it alive while `&self` does.
        unsafe { p.as_ref() }
    }

    /// Installs the spare pool if there is none yet.
    #[cold]
    fn install_pool(&self) {
        // Acquire: pairs with the Release CAS below made by another thread.
        if !self.pool.load(Acquire).is_null() {
            return;
        }
        let new = Arc::into_raw(Arc::new(Pool::new())).cast_mut();
        // Release: publishes the pool's initialisation to the Acquire loads in `pool` and
        // `recycle`; Acquire on failure: pairs with the winner's Release (value unused).
        if self
            .pool
            .compare_exchange(core::ptr::null_mut(), new, AcqRel, Acquire)
            .is_err()
        {
            // SAFETY: from `Arc::into_raw` just above and never shared: taken back once.
            drop(unsafe { Arc::from_raw(new) });
        }
    }

    /// Hands `seg` to the spare pool once no thread that is pinned now can still reach it (the
    /// counted retirement path, `defer_unchecked`). The deferred closure owns a reference to
    /// the pool, so it is safe to run after the queue is dropped.
    ///
    /// # Safety
    ///
    /// - `seg` is non-null, came from an `Owned`, and is unreachable for threads that pin after
    ///   this call.
    /// - No value is left in it once every thread pinned now has unpinned.
    /// - It is handed over (retired, recycled or freed) once.
    unsafe fn recycle(&self, guard: &Guard, seg: Shared<'_, Segment<T>>) {
        // Acquire: pairs with the Release CAS in `install_pool`.
        let p = self.pool.load(Acquire).cast_const();
        if p.is_null() {
            // SAFETY: forwarded from the caller; a segment has no drop glue, so this frees
            // memory only.
            unsafe { retire(guard, seg) };
            return;
        }
        // SAFETY: `p` came from `Arc::into_raw`, and the queue's reference keeps the count
        // positive while `&self` lives: we add one reference, owned by the closure.
        let pool = unsafe {
            Arc::increment_strong_count(p);
            Arc::from_raw(p)
        };
        let raw = seg.as_raw().cast_mut();
        let park = move || {
            // SAFETY: `park` runs once, after every thread pinned now has unpinned (see
            // below): by the caller's contract `raw` is then unreachable and empty of values,
            // which is `put`'s contract.
            unsafe { pool.put(raw) }
        };
        // SAFETY: 1. `park` runs after the grace period, as its own comment needs. 2. It
        // touches only `raw` (a boxed segment, handed over once) and the pool, which its own
        // `Arc` keeps alive even after the queue is dropped. 3. It may run on any thread: it
        // moves no `T`.
        unsafe { defer_unchecked(guard, park) };
    }

    /// Appends `value` to the queue.
    #[inline]
    pub(crate) fn push(&self, mut value: T) {
        let guard = &pin();
        loop {
            let tail = self.tail(guard);
            // SAFETY: `tail` is non-null and we are pinned; segments are retired only after both
            // `head` and `tail` have moved past them, so it is live while our guard is.
            let seg = unsafe { tail.deref() };
            // SeqCst: the ticket counters, `next` and the emptiness check of `pop` share one
            // total order (see "Why `pop` returning `None` is linearizable").
            let i = seg.enq.fetch_add(1, SeqCst);
            let r = if i < SEGMENT_SLOTS {
                // SAFETY: ticket `i` is ours and in bounds.
                unsafe { seg.publish(i, value) }
            } else {
                self.append_value(tail, seg, value, guard)
            };
            match r {
                Ok(()) => return,
                Err(v) => value = v,
            }
        }
    }

    /// `push`, but runs `stall` between taking a producer ticket and publishing into it: a
    /// stand-in for a producer preempted at the worst moment, used by the loom model of the
    /// progress claim. (If the ticket is past the segment end, `stall` runs before the append.)
    #[cfg(loom)]
    pub(crate) fn push_with_stall(&self, mut value: T, stall: impl FnOnce()) {
        let mut stall = Some(stall);
        let guard = &pin();
        loop {
            let tail = self.tail(guard);
            // SAFETY: as in `push`.
            let seg = unsafe { tail.deref() };
            // SeqCst: as in `push`.
            let i = seg.enq.fetch_add(1, SeqCst);
            if let Some(f) = stall.take() {
                f();
            }
            let r = if i < SEGMENT_SLOTS {
                // SAFETY: ticket `i` is ours and in bounds.
                unsafe { seg.publish(i, value) }
            } else {
                self.append_value(tail, seg, value, guard)
            };
            match r {
                Ok(()) => return,
                Err(v) => value = v,
            }
        }
    }

    /// `seg` (loaded from `tail`) is full: link a new segment holding `value` in slot 0, or
    /// follow the successor someone else linked (and give `value` back for another try).
    #[cold]
    fn append_value<'g>(
        &self,
        tail: Shared<'g, Segment<T>>,
        seg: &Segment<T>,
        value: T,
        guard: &'g Guard,
    ) -> Result<(), T> {
        // SeqCst: in the emptiness check's total order; as an acquire it pairs with the `next`
        // CAS below made by another thread, so the segment's initialisation is visible.
        let next = seg.next.load(SeqCst, guard);
        if !next.is_null() {
            self.help_tail(tail, next, guard);
            return Err(value);
        }
        let new = Segment::alloc(seg.id + 1, 1, Some(value), self.pool(), guard);
        // SeqCst: links the segment in the emptiness check's total order; as a release it
        // publishes the segment, slot 0's value included, to every thread that reaches it.
        match seg
            .next
            .compare_exchange(Shared::null(), new, SeqCst, SeqCst, guard)
        {
            Ok(new) => {
                self.help_tail(tail, new, guard);
                Ok(())
            }
            Err(e) => {
                // SAFETY: the segment was never shared and slot 0 holds the value written by
                // `alloc`; we take it back once (consumer ticket 0 of a private segment), and the
                // segment is then freed without dropping slot contents.
                let v = unsafe { e.new.take(0) }.expect("slot 0 was pre-filled");
                // SAFETY: never linked, and its one value was just taken back out; it may be a
                // spare that a stale `Pool::take` still reads, hence the grace period.
                unsafe { self.recycle(guard, e.new.into_shared(guard)) };
                self.help_tail(tail, e.current, guard);
                Err(v)
            }
        }
    }

    /// `seg` (loaded from `tail`) is full: link a new segment whose first `claim` producer
    /// tickets belong to the caller and return it, or follow the successor someone else linked
    /// (`None`: try again).
    #[cold]
    fn append_claim<'g>(
        &self,
        tail: Shared<'g, Segment<T>>,
        seg: &Segment<T>,
        claim: usize,
        guard: &'g Guard,
    ) -> Option<Shared<'g, Segment<T>>> {
        // SeqCst: as in `append_value`.
        let next = seg.next.load(SeqCst, guard);
        if !next.is_null() {
            self.help_tail(tail, next, guard);
            return None;
        }
        let new = Segment::alloc(seg.id + 1, claim, None, self.pool(), guard);
        // SeqCst: as in `append_value`.
        match seg
            .next
            .compare_exchange(Shared::null(), new, SeqCst, SeqCst, guard)
        {
            Ok(new) => {
                self.help_tail(tail, new, guard);
                Some(new)
            }
            Err(e) => {
                // SAFETY: never linked and holds no value; it may be a spare that a stale
                // `Pool::take` still reads, hence the grace period.
                unsafe { self.recycle(guard, e.new.into_shared(guard)) };
                self.help_tail(tail, e.current, guard);
                None
            }
        }
    }

    /// Moves `tail` from `from` to its successor `to`, unless someone already has.
    #[inline]
    fn help_tail<'g>(
        &self,
        from: Shared<'g, Segment<T>>,
        to: Shared<'g, Segment<T>>,
        guard: &'g Guard,
    ) {
        // Release: pairs with the Acquire load in `tail`, publishing `to`'s initialisation to
        // producers that find it there. Failure needs no ordering: the value is not used.
        let _ = self
            .tail
            .compare_exchange(from, to, Release, Relaxed, guard);
    }

    /// Moves `head` from the exhausted segment `from` to its successor `to`; the thread whose
    /// CAS succeeds hands `from` to `recycle`.
    fn advance_head<'g>(
        &self,
        from: Shared<'g, Segment<T>>,
        to: Shared<'g, Segment<T>>,
        guard: &'g Guard,
    ) {
        // `tail` must never point at a retired segment, and it is never behind `head`: if it
        // is still at `from`, move it on first.
        // Acquire: pairs with the Release CASes on `tail`.
        if self.tail.load(Acquire, guard) == from {
            self.help_tail(from, to, guard);
        }
        // Release: pairs with the Acquire load of `head` in `pop`, publishing `to`'s
        // initialisation. Failure needs no ordering: the caller reloads `head`.
        if self
            .head
            .compare_exchange(from, to, Release, Relaxed, guard)
            .is_ok()
        {
            // SAFETY: 1. `from` is unlinked: `head` and `tail` have both moved past it, and its
            // predecessor was retired before it (threads that can still read the predecessor's
            // `next` were pinned before that retirement, and so before this one). 2. Only the
            // winner of this CAS hands it over, once. 3. Every value in it was moved out by its
            // consumer or producer before the grace period ends (those are pinned meanwhile).
            unsafe { self.recycle(guard, from) };
        }
    }

    /// Removes the value at the front of the queue.
    #[inline]
    pub(crate) fn pop(&self) -> Option<T> {
        let guard = &pin();
        loop {
            let (seg, _) = self.claimable(1, guard)?;
            // SeqCst: in the total order of the emptiness check (module docs).
            let i = seg.deq.fetch_add(1, SeqCst);
            if i < SEGMENT_SLOTS {
                // SAFETY: consumer ticket `i` is ours and in bounds.
                if let Some(v) = unsafe { seg.take(i) } {
                    return Some(v);
                }
            }
        }
    }

    /// The emptiness check: finds the first segment with a producer ticket no consumer has yet,
    /// moving `head` past exhausted segments. `None` if the queue is empty (see the module docs
    /// for why that verdict is linearizable); otherwise the segment and how many tickets (at
    /// most `want`, at least 1) the snapshot shows as claimable.
    #[inline]
    fn claimable<'g>(&self, want: usize, guard: &'g Guard) -> Option<(&'g Segment<T>, usize)> {
        loop {
            // Acquire: pairs with the Release CASes on `head` (`init`, `advance_head`).
            let head = self.head.load(Acquire, guard);
            // SAFETY: pinned; `head` is retired only after it has moved past, so a segment
            // loaded from it stays allocated while our guard lives. Null: nothing was ever
            // pushed.
            let seg = unsafe { head.as_ref() }?;
            // SeqCst (this and the two loads below): the emptiness check's total order.
            let d = seg.deq.load(SeqCst);
            if d < SEGMENT_SLOTS {
                let e = seg.enq.load(SeqCst).min(SEGMENT_SLOTS);
                if d < e {
                    return Some((seg, (e - d).min(want)));
                }
            }
            let next = seg.next.load(SeqCst, guard);
            if next.is_null() {
                return None;
            }
            if d >= SEGMENT_SLOTS {
                self.advance_head(head, next, guard);
            }
            // Otherwise `enq` has passed the end since we read it: look again.
        }
    }

    /// Pushes every item of `items` in order, claiming up to a segment's worth of tickets with
    /// each fetch-and-add.
    ///
    /// The lower bound of `items.size_hint()` sizes the claims: an iterator that yields fewer
    /// items leaves the extra tickets for consumers to poison, one that yields more has the rest
    /// pushed in later rounds, and one that panics leaves the queue consistent with the items
    /// pushed so far.
    pub(crate) fn push_batch<I: Iterator<Item = T>>(&self, mut items: I) {
        let guard = &pin();
        // A value given back by a poisoned slot; it goes before the rest of `items`.
        let mut carry: Option<T> = None;
        loop {
            let want = items
                .size_hint()
                .0
                .saturating_add(usize::from(carry.is_some()))
                .min(SEGMENT_SLOTS);
            if want == 0 {
                // The hint may under-report: see whether the iterator really is exhausted.
                match items.next() {
                    Some(v) => carry = Some(v),
                    None => return,
                }
                continue;
            }
            let tail = self.tail(guard);
            // SAFETY: as in `push`.
            let seg = unsafe { tail.deref() };
            // SeqCst: as in `push`.
            let start = seg.enq.fetch_add(want, SeqCst);
            let (seg, range) = if start < SEGMENT_SLOTS {
                (seg, start..(start + want).min(SEGMENT_SLOTS))
            } else {
                match self.append_claim(tail, seg, want, guard) {
                    // SAFETY: `append_claim` returns a non-null, linked segment; pinned.
                    Some(new) => (unsafe { new.deref() }, 0..want),
                    None => continue,
                }
            };
            for i in range {
                let v = match carry.take() {
                    Some(v) => v,
                    None => match items.next() {
                        Some(v) => v,
                        // Fewer items than claimed: consumers poison the tickets left.
                        None => return,
                    },
                };
                // SAFETY: every ticket in `range` was handed to us by the fetch-and-add above
                // (or by `append_claim`), is in bounds, and is used once.
                if let Err(v) = unsafe { seg.publish(i, v) } {
                    // Poisoned: stop filling this range (the tickets left are poisoned by their
                    // consumers) and push `v` and the rest at fresh tickets, keeping the order.
                    carry = Some(v);
                    break;
                }
            }
        }
    }

    /// Moves up to `max` values from the front of the queue into `out`, claiming them with one
    /// fetch-and-add (a segment boundary may cut the batch short). Returns how many it moved;
    /// 0 only if the queue was empty.
    pub(crate) fn pop_batch(&self, out: &mut Vec<T>, max: usize) -> usize {
        if max == 0 {
            return 0;
        }
        let guard = &pin();
        loop {
            let (seg, k) = match self.claimable(max, guard) {
                Some(c) => c,
                None => return 0,
            };
            // Reserve before claiming: nothing may panic while we hold tickets.
            out.reserve(k);
            // SeqCst: as in `pop`.
            let start = seg.deq.fetch_add(k, SeqCst);
            let mut got = 0;
            for i in start..(start + k).min(SEGMENT_SLOTS) {
                // SAFETY: consumer ticket `i` is ours (claimed above), in bounds, used once.
                if let Some(v) = unsafe { seg.take(i) } {
                    out.push(v);
                    got += 1;
                }
            }
            if got > 0 {
                return got;
            }
        }
    }

    /// A snapshot of the number of values in the queue (tickets handed to producers minus
    /// tickets handed to consumers, between `head` and `tail`). Exact when no operation is in
    /// flight.
    pub(crate) fn len(&self) -> usize {
        let guard = &pin();
        loop {
            // Acquire (both): pair with the Release CASes on `head` and `tail`.
            let head = self.head.load(Acquire, guard);
            // SAFETY: pinned; see `claimable`.
            let Some(h) = (unsafe { head.as_ref() }) else {
                return 0;
            };
            // Relaxed (the counters): a statistic; the recheck of `head` below bounds it.
            let deq = h.deq.load(Relaxed).min(SEGMENT_SLOTS);
            let tail = self.tail.load(Acquire, guard);
            // SAFETY: pinned; `tail` is retired only after moving past, and it is non-null once
            // `head` is (tail may still be null for an instant during `init`).
            let Some(t) = (unsafe { tail.as_ref() }) else {
                return 0;
            };
            let enq = t.enq.load(Relaxed).min(SEGMENT_SLOTS);
            // Acquire: as above; if `head` moved, the two readings may straddle it: retry.
            if self.head.load(Acquire, guard) != head {
                continue;
            }
            let back = t.id.wrapping_mul(SEGMENT_SLOTS).wrapping_add(enq);
            let front = h.id.wrapping_mul(SEGMENT_SLOTS).wrapping_add(deq);
            return back.saturating_sub(front);
        }
    }

    /// Whether a `pop` now would find the queue empty (a snapshot).
    pub(crate) fn is_empty(&self) -> bool {
        let guard = &pin();
        self.claimable(1, guard).is_none()
    }

    /// `pop` for an owner with `&mut` access: no pin, no contention, segments freed at once.
    pub(crate) fn pop_mut(&mut self) -> Option<T> {
        // SAFETY: `&mut self`: no other thread can reach the queue, so nothing needs pinning.
        let guard = unsafe { unprotected() };
        loop {
            let head = self.head.load(Relaxed, guard);
            // SAFETY: exclusive access; `head` is null or a live segment.
            let seg = unsafe { head.as_ref() }?;
            let d = seg.deq.load(Relaxed);
            if d < seg.enq.load(Relaxed).min(SEGMENT_SLOTS) {
                seg.deq.store(d + 1, Relaxed);
                // SAFETY: `deq` now hands ticket `d` to us; exclusive access makes us its only
                // consumer.
                if let Some(v) = unsafe { seg.take(d) } {
                    return Some(v);
                }
                continue;
            }
            let next = seg.next.load(Relaxed, guard);
            if next.is_null() {
                return None;
            }
            // Every ticket below `enq` is used and a successor exists (which implies `enq`
            // passed the end): drop this segment.
            if self.tail.load(Relaxed, guard) == head {
                self.tail.store(next, Relaxed);
            }
            self.head.store(next, Relaxed);
            // SAFETY: unlinked from `head` and `tail` above, retired once; with the
            // unprotected guard it is freed now, which is fine as nobody else can reach it.
            unsafe { retire(guard, head) };
        }
    }

    /// Drops every value left and frees every segment; leaves the queue empty and reusable.
    fn clear_mut(&mut self) {
        while let Some(v) = self.pop_mut() {
            drop(v);
        }
        // SAFETY: exclusive access.
        let guard = unsafe { unprotected() };
        let head = self.head.swap(Shared::null(), Relaxed, guard);
        self.tail.store(Shared::null(), Relaxed);
        if !head.is_null() {
            // SAFETY: the last segment, now unlinked from `head` and `tail` and emptied of
            // values by `pop_mut`; retired once, freed at once under the unprotected guard.
            unsafe { retire(guard, head) };
        }
    }
}

impl<T> Drop for RawQueue<T> {
    fn drop(&mut self) {
        /// Finishes the job if dropping a value panics: the remaining values are still dropped
        /// and every segment freed.
        struct Finish<'a, T>(&'a mut RawQueue<T>);
        impl<T> Drop for Finish<'_, T> {
            fn drop(&mut self) {
                self.0.clear_mut();
                // Relaxed: exclusive access.
                let pool = self.0.pool.swap(core::ptr::null_mut(), Relaxed);
                if !pool.is_null() {
                    // SAFETY: the queue's own reference, from `Arc::into_raw`, given up once;
                    // deferred closures still running hold their own.
                    drop(unsafe { Arc::from_raw(pool.cast_const()) });
                }
            }
        }
        let finish = Finish(self);
        while let Some(v) = finish.0.pop_mut() {
            drop(v);
        }
        drop(finish);
    }
}
