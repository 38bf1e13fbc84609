//! The unbounded queue's core: a linked list of fixed-size segments, positions claimed with a
//! compare-exchange that backs off when it loses, and a slot protocol in which a consumer never
//! waits for a producer.
//!
//! # Origins
//!
//! The segment list with one position counter per end, where a position names a segment's lap
//! and an offset inside it, follows Dmitry Vyukov's bounded MPMC queue (1024cores, 2010) as
//! crossbeam-queue's `SegQueue` extends it to a list of blocks; the poisoning of a slot whose
//! producer is late comes from the fetch-and-add queue family: Pedro Ramalhete and Andreia
//! Correia's FAAArrayQueue (ConcurrencyFreaks, 2016), LCRQ (Adam Morrison and Yehuda Afek,
//! "Fast concurrent queues for x86 processors", PPoPP 2013) and LPRQ (Raed Romanov and Nikita
//! Koval, PPoPP 2023). That the threads done with a segment's slots decide when it can go is the
//! block-reclamation idea of `SegQueue`; here the slots are finished with plain stores, the
//! retirement goes through the epoch, so that the rare slow paths that read a segment without a
//! claim in it stay safe, and retired segments are reused.
//!
//! # Why claim with a compare-exchange
//!
//! A fetch-and-add never fails, so contending threads interleave operation by operation and
//! move the counters' cache lines between cores on every operation. A compare-exchange that
//! loses makes the loser back off while the winner keeps running on warm lines: on a machine
//! with few cores, contention turns into bursts, each near the single-thread speed.
//! `docs/queue.md` has the measurements.
//!
//! # Positions
//!
//! Each end (`head` for consumers, `tail` for producers) has an `index` and a `seg` pointer.
//! The index holds a position `lap * LAP + offset` (shifted left by one bit; bit 0 of the head
//! index is [`HAS_NEXT`], bit 0 of the tail index is [`SLEEPERS`]). Offsets `0..SEGMENT_SLOTS`
//! name slots of the segment whose `lap` field is `lap`; offset `SEGMENT_SLOTS` means "every
//! slot of this lap is claimed: switch to the next segment". Positions only grow (a 64-bit
//! counter does not wrap in practice), so a compare-exchange on the index that succeeds proves
//! the end has not moved since it was read.
//!
//! # Push and pop
//!
//! A producer reads `tail.index` and then `tail.seg`, and claims the slot by moving the index
//! one position on. A segment's `seg` pointer is stored before its index is, so a successful
//! claim at offset `o` means the loaded segment is the one of that lap; it is alive, because a
//! segment is retired only after every one of its slots has been finished (below). The producer
//! writes its value and sets the slot's `WRITTEN` bit with one read-modify-write. `push` makes
//! one such try inline, for a slot whose claim needs no switch or prelink (below), and leaves
//! the rest to a loop out of line, so that a caller's loop pays no call.
//!
//! A consumer reads `head.index`, checks that the queue is not empty (`head` position below the
//! `tail` position, read after a `SeqCst` fence; skipped while `HAS_NEXT` says a later segment
//! exists), and claims the slot the same way. If the slot's `WRITTEN` bit is set, the value is
//! the consumer's. If not, its producer has claimed the slot but not yet published (it may be
//! preempted): after a short, bounded grace period the consumer sets `TAKEN`, and unless
//! `WRITTEN` landed first, leaves the slot poisoned and claims another. The producer then finds
//! `TAKEN`, takes its value back and pushes it again. So no consumer ever waits for a producer
//! (the failure mode of crossbeam issue #675).
//!
//! The thread that claims the last slot of a lap moves the index to offset `SEGMENT_SLOTS`, then
//! switches the end to the next segment (linking it first if nobody has). Any thread that finds
//! an end at offset `SEGMENT_SLOTS` helps with the same steps, pinned, so a thread preempted in
//! the middle of a switch delays nobody: every step is a compare-exchange from a state that
//! only one transition leaves.
//!
//! # Finishing a slot, and retiring a segment
//!
//! Each slot is finished once, by whichever of its producer and its consumer touches it last:
//! the consumer after moving a published value out, or the producer after taking back the value
//! of a poisoned slot (or, for a batch that claimed more slots than it had values, after
//! abandoning one: `NO_VALUE`). Finishing is a plain `Release` store of `READ`: nobody writes
//! the state after its finisher, so it costs no read-modify-write. The finisher of the last slot
//! checks the others; if all are finished, it makes sure both ends have switched past the
//! segment and retires it through the epoch to the spare pool. If one is not (its consumer or
//! producer is still moving a value), the segment is parked in the queue's `limbo` list, and
//! every later retirement checks the parked segments again; the queue's drop frees what is
//! left. Fast paths never pin: they touch a segment only while they hold an unfinished claim in
//! it. The switch helpers, which read a segment's `lap` and `next` without a claim, run pinned,
//! and the grace period covers them.
//!
//! # Why `pop` returning `None` is linearizable
//!
//! The consumer read `head` at position `p`, then (both loads `SeqCst`) read `tail` at a
//! position with no more slots before it than `p` has. The head never has more slots behind it
//! than the tail (a consumer claims only slots the tail has passed), and both only grow, so at
//! the moment of the `tail` read every slot a producer had claimed had been claimed by a
//! consumer too. (In positions the head can be ahead: a consumer may switch the head to the next
//! lap while the tail still waits at the switch offset of the lap before, which counts the same
//! number of slots.) `HAS_NEXT` is set only after a consumer saw the
//! tail in a later lap, and cleared at each switch, so a skipped check never skips a `None`.
//!
//! # Slot states
//!
//! | bits | set by | meaning |
//! |---|---|---|
//! | `WRITTEN` | producer | the value is written (release) |
//! | `TAKEN` | consumer, after its grace period | the consumer gave up on the value; if `WRITTEN` was not already set, the producer takes it back |
//! | `NO_VALUE` | producer | a batch claimed the slot but had no value for it |
//! | `READ` | the finisher, with a plain store | nobody will touch the slot again |
//!
//! `WRITTEN`, `TAKEN` and `NO_VALUE` are each set once, by one thread, so their
//! read-modify-writes are `fetch_add`s (one `lock xadd` on x86; a `fetch_or` whose result is
//! used compiles to a compare-exchange loop). A pair of `push` and `pop` costs three
//! lock-prefixed instructions: the two claims and the producer's `WRITTEN`.
//!
//! # Recycling
//!
//! A retired segment is not freed: `RawQueue::recycle` defers (through the counted
//! `freeway_epoch::defer_unchecked`) a closure that parks it in the queue's spare pool, a
//! bounded Treiber stack of up to [`POOL_SLOTS`] segments shared by an `Arc` between the queue
//! and these closures (they may run after the queue is dropped). A switch that links a new
//! segment pops a spare when there is one and resets it, so a queue in steady state allocates
//! no segments.
//!
//! # Progress
//!
//! Lock-free: a compare-exchange fails only because another thread's succeeded, and no thread
//! waits for another beyond the consumer's bounded grace period. Reclamation is by epochs, so a
//! thread stalled while pinned (only inside a switch) delays the reuse of old segments, never
//! their correctness.

use core::marker::PhantomData;

use freeway_epoch::sync::Arc;
use freeway_epoch::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release, SeqCst};
#[cfg(loom)]
use freeway_epoch::sync::atomic::SeqCstInit;
use freeway_epoch::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize};
use freeway_epoch::sync::hint::spin_loop;
use freeway_epoch::{
    Atomic, CachePadded, Guard, Shared, defer_unchecked, pin, retire, unprotected,
};

mod batch;
mod pool;
mod retire;
mod segment;
use pool::Pool;
use segment::Segment;

/// Slots per segment: small under loom so that models cross segment boundaries.
pub(crate) const SEGMENT_SLOTS: usize = if cfg!(loom) { 2 } else { 255 };

/// Positions per lap: the slots, plus the offset that means "switching to the next segment".
const LAP: u64 = SEGMENT_SLOTS as u64 + 1;

/// Indices hold `position << SHIFT`; the bit below is a flag.
const SHIFT: usize = 1;

/// In `head.index`: a consumer saw the tail in a later lap, so every slot left in this lap has
/// a producer and `pop` may skip the emptiness check until the next switch.
const HAS_NEXT: u64 = 1;

/// In `tail.index`: a consumer may be asleep waiting for a value (feature `wait`; never set
/// without it). A producer's claim replaces the index it read, so it learns of sleepers from
/// its own compare-exchange, with no load of its own (see `wait.rs`). Raised and lowered
/// through `RawQueue`'s `wait::Flag` implementation; claims and switches carry it over.
const SLEEPERS: u64 = 1;

/// Spare segments a queue keeps for reuse (4 KiB each for a `u64`). Retired segments come back
/// within a few dozen retirements (every `COLLECT_EVERY`th retirement collects); with 24
/// spares a single-threaded churn still allocated 22 segments per 1 000 (`tests/recycle.rs`).
///
/// None when [`freeway_epoch::RECYCLING`] is off (sanitizer and fuzzing builds): every retired
/// segment is freed, so AddressSanitizer sees a use after the grace period.
const POOL_SLOTS: usize = if cfg!(loom) {
    1
} else if !freeway_epoch::RECYCLING {
    0
} else {
    64
};

/// How many retired segments between two forced collections (`retire_or_park`). Every one
/// (1) cost 30% of the 4-thread pairs throughput: a collection reads every thread's epoch
/// record and contends on the global garbage queue.
const COLLECT_EVERY: u64 = 16;

/// The producer that claims this offset links the next segment (`RawQueue::prelink`).
const PRELINK_AT: usize = SEGMENT_SLOTS / 2;

/// How many times a thread that finds an end switching re-reads its index before helping (once
/// under loom, so that the models reach the re-read).
const SWITCH_PATIENCE: usize = if cfg!(loom) { 1 } else { 64 };

/// How many times a consumer re-reads an unpublished slot before poisoning it (once under loom,
/// so that the models reach the re-read, without multiplying the interleavings).
const PATIENCE: usize = if cfg!(loom) { 1 } else { 32 };

/// Set by the producer once the slot's value is written.
const WRITTEN: u8 = 1;
/// Set by the consumer that gives up waiting for the value.
const TAKEN: u8 = 2;
/// Set by a producer that claimed the slot in a batch and has no value for it.
const NO_VALUE: u8 = 4;
/// Set by the slot's finisher: nobody touches the slot again.
const READ: u8 = 8;

/// The position an index holds.
#[inline]
fn position(index: u64) -> u64 {
    index >> SHIFT
}

/// The offset of `position` in its lap: a slot, or `SEGMENT_SLOTS` for "switching".
#[inline]
fn offset(position: u64) -> usize {
    // The remainder is at most `SEGMENT_SLOTS`.
    (position % LAP) as usize
}

/// The number of slots before `position` (the offset `SEGMENT_SLOTS` counts as a full lap).
#[inline]
fn slots_before(position: u64) -> u64 {
    (position / LAP) * (LAP - 1) + (position % LAP).min(LAP - 1)
}

/// Waits after a lost compare-exchange, longer after each loss, so that the winner runs on.
/// Nothing under loom (see [`pause`]).
#[inline]
fn back_off(step: &mut u32) {
    if cfg!(loom) {
        return;
    }
    for _ in 0..1u32 << (*step).min(6) {
        spin_loop();
    }
    *step = step.saturating_add(1);
}

/// A spin-loop hint inside a bounded wait; nothing under loom. loom makes a spin-loop hint a
/// yield, and after a yield it never returns a value the thread read before it (so that spin
/// loops make progress): a bounded re-read after a hint would always see a newer value, and the
/// paths where it does not (a claim retried with a stale segment, a slot poisoned just as its
/// value lands) would go unchecked. A bounded wait needs no yield to end.
#[inline]
fn pause() {
    if !cfg!(loom) {
        spin_loop();
    }
}

/// What a consumer found in its slot (`RawQueue::take_unfinished`).
enum Taken<T> {
    /// The published value, now the consumer's.
    Value(T),
    /// A slot its batch producer abandoned (`NO_VALUE`).
    Hole,
    /// The producer had not published within the grace period: the consumer poisoned the slot.
    Poisoned,
}

/// One end of the queue: the position counter and the segment it points into.
struct End<T> {
    /// `position << SHIFT`, plus `HAS_NEXT` at the head (see the module docs).
    index: AtomicU64,
    /// The segment of the index's lap (or, during a switch, already the next one).
    seg: Atomic<Segment<T>>,
}

impl<T> End<T> {
    #[cfg(not(loom))]
    const fn new() -> Self {
        Self {
            index: AtomicU64::new(0),
            seg: Atomic::null(),
        }
    }

    #[cfg(loom)]
    fn new() -> Self {
        let end = Self {
            index: AtomicU64::new(0),
            seg: Atomic::null(),
        };
        // The index takes part in the `SeqCst` order of the emptiness check (see `SeqCstInit`).
        end.index.seq_cst_init();
        end
    }

    /// The segment pointer, as a raw pointer (null before the first push).
    #[inline]
    fn seg_ptr(&self) -> *const Segment<T> {
        // SAFETY: the pointer is only loaded here, not dereferenced; callers dereference it
        // only under the rules of the module docs (a claim in it, or a pin).
        let guard = unsafe { unprotected() };
        // Acquire: pairs with the Release CASes that install a segment (`init`, `switch`),
        // so its initialisation (reset slot states, `lap`, `next`) is visible.
        self.seg.load(Acquire, guard).as_raw()
    }
}

/// The unbounded MPMC queue's shared state.
pub(crate) struct RawQueue<T> {
    head: CachePadded<End<T>>,
    tail: CachePadded<End<T>>,
    /// The spare segments, from `Arc::into_raw` (the queue's reference); null until the first
    /// push installs it (before the first segment).
    pool: AtomicPtr<Pool<T>>,
    /// Segments whose last slot was finished before some other slot was: a Treiber stack
    /// through `parked_next`, emptied whole (a swap) by `retire`.
    limbo: Atomic<Segment<T>>,
    /// Slots abandoned by a batch (`NO_VALUE`) that their consumer has not passed yet: `len`
    /// subtracts them.
    holes: AtomicUsize,
    /// Consumers sleeping until a value arrives (feature `wait`); its flag is [`SLEEPERS`].
    #[cfg(feature = "wait")]
    pub(crate) not_empty: crate::wait::Signal,
    /// The queue owns `T`s (for drop check and auto traits).
    _owns: PhantomData<T>,
}

// SAFETY: the queue hands each `T` from the thread that pushed it to the thread that pops it (or
// drops it), so `T: Send` is needed and suffices; the queue never hands out `&T`, so it needs no
// `T: Sync` even when shared.
unsafe impl<T: Send> Send for RawQueue<T> {}
// SAFETY: as for `Send`: shared access only moves owned values between threads.
unsafe impl<T: Send> Sync for RawQueue<T> {}

/// Slots a producer claimed in a batch and has not filled yet: dropping it abandons them (a
/// short iterator, a poisoned slot that ends the run, or a panic from the iterator).
struct Claimed<'a, T> {
    queue: &'a RawQueue<T>,
    seg: *const Segment<T>,
    next: usize,
    end: usize,
}

impl<T> Drop for Claimed<'_, T> {
    fn drop(&mut self) {
        for i in self.next..self.end {
            // SAFETY: slots `next..end` of `seg` are claimed by this producer and were neither
            // published nor abandoned yet; each is abandoned once.
            unsafe { self.queue.abandon(self.seg, i) };
        }
    }
}

impl<T> RawQueue<T> {
    /// An empty queue; allocates nothing.
    #[cfg(not(loom))]
    pub(crate) const fn new() -> Self {
        Self {
            head: CachePadded::new(End::new()),
            tail: CachePadded::new(End::new()),
            pool: AtomicPtr::new(core::ptr::null_mut()),
            limbo: Atomic::null(),
            holes: AtomicUsize::new(0),
            #[cfg(feature = "wait")]
            not_empty: crate::wait::Signal::new(),
            _owns: PhantomData,
        }
    }

    /// An empty queue; allocates nothing. (Not `const` under loom, whose atomics are not.)
    #[cfg(loom)]
    pub(crate) fn new() -> Self {
        Self {
            head: CachePadded::new(End::new()),
            tail: CachePadded::new(End::new()),
            pool: AtomicPtr::new(core::ptr::null_mut()),
            limbo: Atomic::null(),
            holes: AtomicUsize::new(0),
            #[cfg(feature = "wait")]
            not_empty: crate::wait::Signal::new(),
            _owns: PhantomData,
        }
    }

    /// Installs the first segment: `head.seg` first, then `tail.seg` from it.
    ///
    /// `head.seg` cannot move while `tail.seg` is null (a switch needs every slot of the lap
    /// claimed by producers, who need `tail.seg`), so whichever thread sets `tail.seg` sets it
    /// to the lap-0 segment, and a consumer that sees a claimed position also sees `head.seg`.
    #[cold]
    fn init(&self) {
        let guard = &pin();
        // Before any segment exists, so that every thread that reaches a segment (through the
        // Release/Acquire chain on the ends and `next`) also sees the pool.
        self.install_pool();
        // Acquire: pairs with the Release CAS below made by another thread.
        let mut head = self.head.seg.load(Acquire, guard);
        if head.is_null() {
            let new = Segment::alloc(0, self.pool(), guard);
            // Release: publishes the new segment's initialisation to the Acquire loads of
            // `head.seg`; Acquire on failure: pairs with the winner's Release.
            head = match self
                .head
                .seg
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
        // Release: publishes the segment to the Acquire loads of `tail.seg`. Failure (another
        // thread installed the same segment) needs no ordering.
        let _ = self
            .tail
            .seg
            .compare_exchange(Shared::null(), head, Release, Relaxed, guard);
    }

    /// The spare pool; `None` only before the first segment exists.
    #[inline]
    fn pool(&self) -> Option<&Pool<T>> {
        // Acquire: pairs with the Release CAS in `install_pool`.
        let p = self.pool.load(Acquire);
        // SAFETY: non-null, it came from `Arc::into_raw`, and the queue's own reference (given
        // up only in `drop`, with `&mut self`) keeps it alive while `&self` does.
        let pool = unsafe { p.as_ref() };
        if let Some(pool) = pool {
            pool.witness.check();
        }
        pool
    }

    /// Installs the spare pool if there is none yet.
    #[cold]
    fn install_pool(&self) {
        // Relaxed: only tells whether to build a pool; nothing is read through the pointer
        // here (callers reach the pool through `pool`, whose Acquire load pairs with the CAS
        // below).
        if !self.pool.load(Relaxed).is_null() {
            return;
        }
        let new = Arc::into_raw(Arc::new(Pool::new())).cast_mut();
        // Release: publishes the pool's initialisation to the Acquire loads in `pool` and
        // `recycle`. Relaxed on failure: the winner's pool is not read here either.
        if self
            .pool
            .compare_exchange(core::ptr::null_mut(), new, Release, Relaxed)
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
    /// - `seg` is non-null, came from an `Owned`, and is unreachable for threads that pin later
    ///   (neither end points to it, and no claim in it is unfinished).
    /// - No value is left in it.
    /// - It is handed over (retired, recycled or freed) once.
    unsafe fn recycle(&self, guard: &Guard, seg: Shared<'_, Segment<T>>) {
        // Relaxed: every caller already saw the pool's installation. The last finisher of a
        // segment reached it through the Acquire chain on the ends and `next` that starts at
        // `init`, which installs the pool before the first segment; `init`'s and `next_of`'s
        // losers loaded the pool with `pool`'s Acquire to allocate the segment they give back.
        // The pointer never changes once installed, so this load returns that pool.
        let p = self.pool.load(Relaxed).cast_const();
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
        pool.witness.check();
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

    /// Claims up to `want` (at least 1) consecutive slots for a producer, never across a
    /// segment end: the segment, the first slot's offset, the number claimed, and whether the
    /// index the claim replaced had [`SLEEPERS`] set.
    ///
    /// `lost`: the index that a claim of the caller's own just failed against (`push`'s inline
    /// try); the loop then backs off before it retries from that index, as after a claim lost
    /// in the loop.
    #[inline]
    fn claim_back(
        &self,
        want: usize,
        lost: Option<u64>,
    ) -> (*const Segment<T>, usize, usize, bool) {
        let mut step = 0;
        let mut t = match lost {
            Some(current) => {
                back_off(&mut step);
                current
            }
            // Acquire: pairs with the index CAS of the switch that entered this lap (SeqCst,
            // so also a release), which follows its store of the lap's segment: the segment
            // loaded after it is this lap's or a later one's, never an earlier one's.
            None => self.tail.index.load(Acquire),
        };
        loop {
            let off = offset(position(t));
            if off == SEGMENT_SLOTS {
                t = self.await_switch(&self.tail, t);
                continue;
            }
            let seg = self.tail.seg_ptr();
            if seg.is_null() {
                self.init();
                continue;
            }
            let k = want.min(SEGMENT_SLOTS - off);
            // Keeps `SLEEPERS` as it was.
            let new = t + ((k as u64) << SHIFT);
            // SeqCst: the claims at both ends and the emptiness check's loads share one total
            // order (see "Why `pop` returning `None` is linearizable"). Acquire on failure: the
            // value read is used as the load at the top of the function.
            match self
                .tail
                .index
                .compare_exchange_weak(t, new, SeqCst, Acquire)
            {
                Ok(replaced) => {
                    if off + k == SEGMENT_SLOTS {
                        // Our claim took the lap's last slot: switch at once rather than leave
                        // it to the next producer.
                        self.switch(&self.tail, new);
                    } else if off <= PRELINK_AT && PRELINK_AT < off + k {
                        // SAFETY: our claim in `seg` is unfinished, so it is alive.
                        self.prelink(unsafe { &*seg });
                    }
                    // The index did not move between our loads and the claim, so `seg` is the
                    // segment of this lap (a later one only after the index passed the lap).
                    // SAFETY: our claim in `seg` is unfinished, so it is alive.
                    unsafe { (*seg).witness.check() };
                    // `replaced` (equal to `t`) is where the compare-exchange left it.
                    return (seg, off, k, replaced & SLEEPERS != 0);
                }
                Err(current) => {
                    // Retry with the value the failed claim read, *after* backing off, not a
                    // fresh one: while another thread keeps claiming, the retry keeps failing
                    // and the back-off keeps growing, so the winner runs a burst on warm lines
                    // instead of the two interleaving claim by claim (docs/queue.md).
                    t = current;
                    back_off(&mut step);
                }
            }
        }
    }

    /// Claims up to `want` (at least 1) consecutive published-or-claimed slots for a consumer,
    /// never across a segment end; `None` if the queue is empty.
    #[inline]
    fn claim_front(&self, want: usize) -> Option<(*const Segment<T>, usize, usize)> {
        let mut step = 0;
        // SeqCst: in the emptiness check's total order (module docs); as an acquire, as in
        // `claim_back`.
        let mut h = self.head.index.load(SeqCst);
        loop {
            let pos = position(h);
            let off = offset(pos);
            if off == SEGMENT_SLOTS {
                h = self.await_switch(&self.head, h);
                continue;
            }
            let mut k = want.min(SEGMENT_SLOTS - off);
            let mut flags = h & HAS_NEXT;
            if flags == 0 {
                // SeqCst: the emptiness check (module docs); as an acquire it pairs with the
                // producers' claims, so that a claimed position implies a visible `head.seg`.
                let t = position(self.tail.index.load(SeqCst));
                // Empty when the tail has no more slots behind it than the head: `t == pos`,
                // or `t == pos - 1` with the tail waiting at the switch offset of the lap the
                // head has already left. Any `t > pos` names slots the head has not claimed.
                if t <= pos {
                    return None;
                }
                if t / LAP > pos / LAP {
                    flags = HAS_NEXT;
                } else {
                    // `t - pos <= LAP`: same lap.
                    k = k.min((t - pos) as usize);
                }
            }
            let seg = self.head.seg_ptr();
            if seg.is_null() {
                // Unreachable: a producer claimed a position, so `init` had set `head.seg`.
                debug_assert!(false, "a claimed position without a head segment");
                spin_loop();
                continue;
            }
            let new = ((pos + k as u64) << SHIFT) | flags;
            // SeqCst: as in `claim_back`, on failure too: the value read stands for the load
            // at the top of the function, in the emptiness check's order.
            match self
                .head
                .index
                .compare_exchange_weak(h, new, SeqCst, SeqCst)
            {
                Ok(_) => {
                    if off + k == SEGMENT_SLOTS {
                        self.switch(&self.head, new);
                    }
                    // SAFETY: our claim in `seg` is unfinished, so it is alive.
                    unsafe { (*seg).witness.check() };
                    return Some((seg, off, k));
                }
                Err(current) => {
                    // As in `claim_back`: retry with the value read, after backing off.
                    h = current;
                    back_off(&mut step);
                }
            }
        }
    }

    /// `end`'s index was seen at `t`, the switch offset of a lap: waits a little for the thread
    /// that claimed the lap's last slot to switch (it does so at once, and the next segment is
    /// usually linked already, see [`PRELINK_AT`]), and helps if it has not. Returns the index
    /// read last.
    #[cold]
    fn await_switch(&self, end: &End<T>, t: u64) -> u64 {
        for _ in 0..SWITCH_PATIENCE {
            pause();
            // SeqCst: as the loads at the top of `claim_front` (and an acquire for `claim_back`).
            let now = end.index.load(SeqCst);
            if now != t {
                return now;
            }
        }
        self.switch(end, t);
        // SeqCst: as above.
        end.index.load(SeqCst)
    }

    /// Links the segment after `seg` ahead of its switch, so that the switch itself is two
    /// compare-exchanges and the threads waiting for it never race to allocate.
    #[cold]
    fn prelink(&self, seg: &Segment<T>) {
        let guard = &pin();
        let _ = self.next_of(seg, guard);
    }

    /// Moves `end`, whose index was seen at `t` (the switch offset of some lap), to the next
    /// lap's segment, linking that segment first if nobody has. Every step is a
    /// compare-exchange that only one thread wins, so any thread can help.
    #[cold]
    fn switch(&self, end: &End<T>, t: u64) {
        let guard = &pin();
        self.switch_pinned(end, t, guard);
    }

    /// `switch` under the caller's pin.
    fn switch_pinned(&self, end: &End<T>, t: u64, guard: &Guard) {
        let lap = position(t) / LAP;
        // Acquire: pairs with the Release CASes that install a segment (`init`, below).
        let seg = end.seg.load(Acquire, guard);
        // SAFETY: non-null (the index reached a switch offset, so a lap was claimed into a
        // segment); and a segment is retired only after both ends have switched past it
        // (`retire_or_park`), so one that `end` pointed to after we pinned stays allocated until
        // our guard drops. Only `lap` and `next` are read, never a slot.
        let s = unsafe { seg.deref() };
        s.witness.check();
        if s.lap == lap {
            let next = self.next_of(s, guard);
            // Release: publishes `next`'s initialisation to the Acquire loads of `end.seg`.
            // Failure: another helper moved it; nothing is read.
            let _ = end.seg.compare_exchange(seg, next, Release, Relaxed, guard);
        }
        // The next lap, offset 0, `HAS_NEXT` clear, `SLEEPERS` carried over. Only after
        // `end.seg` has moved (by us or by the helper whose CAS beat ours), so a claim in the
        // new lap finds its segment.
        let next_lap = ((lap + 1) * LAP) << SHIFT;
        let mut t = t;
        loop {
            let keep = if core::ptr::eq(end, &*self.tail) {
                t & SLEEPERS
            } else {
                0
            };
            // SeqCst: in the index's total order; as a release it publishes the `seg` store
            // above. Failure (Relaxed): only the position is read.
            match end
                .index
                .compare_exchange(t, next_lap | keep, SeqCst, Relaxed)
            {
                // Failure at the same position: only `SLEEPERS` changed; try again with it.
                Err(now) if position(now) == position(t) => t = now,
                // Done, or the switch is done already (positions never repeat).
                _ => return,
            }
        }
    }

    /// Makes sure `end` has switched past lap `lap`, every slot of which both ends have claimed.
    fn switch_past(&self, end: &End<T>, lap: u64, guard: &Guard) {
        loop {
            // SeqCst: as in `claim_front`.
            let t = end.index.load(SeqCst);
            if position(t) / LAP > lap {
                return;
            }
            debug_assert_eq!(
                offset(position(t)),
                SEGMENT_SLOTS,
                "lap {lap} not fully claimed"
            );
            self.switch_pinned(end, t, guard);
        }
    }

    /// The segment after `s`, linking a new one (from the pool, or fresh) if there is none.
    fn next_of<'g>(&self, s: &Segment<T>, guard: &'g Guard) -> Shared<'g, Segment<T>> {
        // Acquire: pairs with the Release CAS below made by another thread.
        let next = s.next.load(Acquire, guard);
        if !next.is_null() {
            return next;
        }
        let new = Segment::alloc(s.lap + 1, self.pool(), guard);
        // Release: publishes the segment's initialisation (or reset) to the Acquire loads of
        // `next` and, through the switch, of the ends; Acquire on failure: pairs with the
        // winner's Release.
        match s
            .next
            .compare_exchange(Shared::null(), new, AcqRel, Acquire, guard)
        {
            Ok(n) => n,
            Err(e) => {
                // SAFETY: never linked and holds no value; it may be a spare that a stale
                // `Pool::take` still reads, hence the grace period.
                unsafe { self.recycle(guard, e.new.into_shared(guard)) };
                e.current
            }
        }
    }

    /// Writes `value` into slot `i` and publishes it; gives the value back if the consumer has
    /// poisoned the slot (and then finishes the slot).
    ///
    /// # Safety
    ///
    /// `seg` is non-null, `i < SEGMENT_SLOTS`, and the caller holds the producer claim of slot
    /// `i` of `seg`, unused so far (so the segment is alive, and nobody else writes the cell).
    #[inline]
    unsafe fn publish(&self, seg: *const Segment<T>, i: usize, value: T) -> Result<(), T> {
        // SAFETY: the caller's claim keeps `seg` alive; `i` is in bounds.
        let slot = unsafe { (*seg).slots.get_unchecked(i) };
        // SAFETY: only the producer holding the claim writes this cell, and its consumer reads
        // it only after seeing `WRITTEN`, which is set below.
        slot.value.with_mut(|c| unsafe { (*c).write(value) });
        // Release: pairs with the consumer's Acquire load and `fetch_add` in `take`, so the
        // consumer that sees `WRITTEN` also sees the value written above.
        let prev = slot.state.fetch_add(WRITTEN, Release);
        if prev & TAKEN == 0 {
            // The consumer will see `WRITTEN`, move the value out and finish the slot.
            return Ok(());
        }
        // SAFETY: the slot was poisoned before our bit landed, so its consumer never reads
        // the cell: the value we wrote is still ours, and we move it out once.
        let v = slot.value.with(|c| unsafe { (*c).assume_init_read() });
        // SAFETY: the consumer is done (it poisoned the slot) and so are we: we finish it.
        unsafe { self.finish(seg, i) };
        Err(v)
    }

    /// Gives up a producer claim without a value: the consumer finds `NO_VALUE` and moves on.
    ///
    /// # Safety
    ///
    /// As for [`publish`](Self::publish).
    unsafe fn abandon(&self, seg: *const Segment<T>, i: usize) {
        // SAFETY: the caller's claim keeps `seg` alive; `i` is in bounds.
        let slot = unsafe { (*seg).slots.get_unchecked(i) };
        // Counted before the bit is set, so the consumer's decrement (after it sees the bit)
        // comes after it. Relaxed: a statistic; the bit's Release/Acquire orders the two.
        self.holes.fetch_add(1, Relaxed);
        // Release: pairs with the consumer's Acquire load and `fetch_add` in `take`, so our
        // being done with the slot (and the count above) happens before it finishes the slot.
        let prev = slot.state.fetch_add(NO_VALUE, Release);
        if prev & TAKEN != 0 {
            // The consumer came and went first, without seeing the bit: the hole is no hole.
            // Relaxed: a statistic.
            self.holes.fetch_sub(1, Relaxed);
            // SAFETY: the consumer came and went first: we are the slot's finisher.
            unsafe { self.finish(seg, i) };
        }
    }

    /// Takes the value of slot `i` for its consumer, or poisons the slot if its producer has
    /// not published within the grace period. `None`: no value here, claim another slot.
    ///
    /// # Safety
    ///
    /// `seg` is non-null, `i < SEGMENT_SLOTS`, and the caller holds the consumer claim of slot
    /// `i` of `seg`, unused so far.
    #[inline]
    unsafe fn take(&self, seg: *const Segment<T>, i: usize) -> Option<T> {
        // SAFETY: the caller's contract is `take_unfinished`'s.
        let v = match unsafe { self.take_unfinished(seg, i) } {
            Taken::Value(v) => Some(v),
            Taken::Hole => None,
            Taken::Poisoned => return None,
        };
        // SAFETY: the producer is done with the slot (its bit is set), and so are we.
        unsafe { self.finish(seg, i) };
        v
    }

    /// [`take`](Self::take) without finishing the slot: on `Value` and `Hole` the caller is
    /// the slot's finisher and must finish it (`finish`, or `mark_finished` and then, for the
    /// segment's last slot, `retire`); on `Poisoned` the producer finishes it.
    ///
    /// # Safety
    ///
    /// As for [`take`](Self::take).
    #[inline(always)]
    unsafe fn take_unfinished(&self, seg: *const Segment<T>, i: usize) -> Taken<T> {
        // SAFETY: the caller's claim keeps `seg` alive; `i` is in bounds.
        let slot = unsafe { (*seg).slots.get_unchecked(i) };
        // A producer between its claim and its `WRITTEN` bit is usually a few instructions
        // from done: give it a short, bounded grace period before poisoning its slot (which
        // would cost it a retry). Bounded, so a preempted producer still never blocks us.
        //
        // Acquire (these loads): pair with the Release `fetch_add`s of `publish` and `abandon`,
        // so a value seen as `WRITTEN` is visible.
        let mut state = slot.state.load(Acquire);
        let mut patience = PATIENCE;
        while state & (WRITTEN | NO_VALUE) == 0 && patience > 0 {
            pause();
            patience -= 1;
            state = slot.state.load(Acquire);
        }
        if state & (WRITTEN | NO_VALUE) == 0 {
            // Out of patience: poison the slot, unless the producer's bit lands first.
            // Acquire: as the loads above.
            state = slot.state.fetch_add(TAKEN, Acquire);
            if state & (WRITTEN | NO_VALUE) == 0 {
                // Poisoned: the producer takes its value back and finishes the slot.
                return Taken::Poisoned;
            }
        }
        if state & WRITTEN != 0 {
            // SAFETY: `WRITTEN` was set before any `TAKEN` of ours, so the producer has let go
            // of the value; the claim is ours alone, so we move it out exactly once.
            Taken::Value(slot.value.with(|c| unsafe { (*c).assume_init_read() }))
        } else {
            // An abandoned slot, passed. Relaxed: a statistic (see `abandon`).
            self.holes.fetch_sub(1, Relaxed);
            Taken::Hole
        }
    }

    /// Appends `value` to the queue; with the `wait` feature, wakes a consumer if the claim
    /// that took the value saw [`SLEEPERS`].
    ///
    /// One try inline, everything else out of line (`push_slow`, `push_lost`), as the bounded
    /// queue does: the inline try claims a slot whose claim neither ends the lap (which
    /// switches) nor reaches [`PRELINK_AT`] (which links the next segment), publishes into it
    /// and returns. A caller's loop then runs the common push with no call, no prologue and no
    /// epilogue. With the `wait` feature, the inline try also leaves an index with
    /// [`SLEEPERS`] raised to the slow path, which wakes a sleeper after its push: a claim
    /// that succeeds inline replaced an index with the flag down, so it has nobody to wake, and
    /// the inline path tests nothing after it.
    #[inline]
    pub(crate) fn push(&self, value: T) {
        // Acquire: as the first load in `claim_back`.
        let t = self.tail.index.load(Acquire);
        let off = offset(position(t));
        let sleepers = cfg!(feature = "wait") && t & SLEEPERS != 0;
        if off < SEGMENT_SLOTS - 1 && off != PRELINK_AT && !sleepers {
            let seg = self.tail.seg_ptr();
            if !seg.is_null() {
                // SeqCst, Acquire on failure: as in `claim_back`, whose claim this is for one
                // slot.
                match self
                    .tail
                    .index
                    .compare_exchange_weak(t, t + (1 << SHIFT), SeqCst, Acquire)
                {
                    Ok(_) => {
                        // SAFETY: our claim in `seg` is unfinished, so it is alive (as in
                        // `claim_back`: the index did not move between our loads and the
                        // claim, so `seg` is the segment of this lap).
                        unsafe { (*seg).witness.check() };
                        // SAFETY: the claim above is the producer claim of slot `off` of `seg`
                        // (`off < SEGMENT_SLOTS`), unused so far.
                        if let Err(v) = unsafe { self.publish(seg, off, value) } {
                            self.push_slow(v);
                        }
                    }
                    Err(current) => self.push_lost(value, current),
                }
                return;
            }
        }
        self.push_slow(value);
    }

    /// `push` after its inline try did not claim.
    #[inline(never)]
    fn push_slow(&self, value: T) {
        self.push_stalling(value, None::<fn()>, None);
    }

    /// `push` after its inline claim failed against index `current`: `lost` in `claim_back`.
    #[inline(never)]
    fn push_lost(&self, value: T, current: u64) {
        self.push_stalling(value, None::<fn()>, Some(current));
    }

    /// After a push whose claim replaced an index with [`SLEEPERS`] set (`sleepers`): wakes a
    /// consumer, if one is counted (feature `wait`; the flag is never set without it).
    #[inline(always)]
    fn pushed(&self, sleepers: bool) {
        #[cfg(feature = "wait")]
        if sleepers {
            self.not_empty.notify_flagged(1, self);
        }
        #[cfg(not(feature = "wait"))]
        let _ = sleepers;
    }

    /// `push`, but runs `stall` between claiming a slot and publishing into it: a stand-in for
    /// a producer preempted at the worst moment, used by the loom model of the progress claim.
    #[cfg(loom)]
    pub(crate) fn push_with_stall(&self, value: T, stall: impl FnOnce()) {
        self.push_stalling(value, Some(stall), None);
    }

    #[inline]
    fn push_stalling<F: FnOnce()>(
        &self,
        mut value: T,
        mut stall: Option<F>,
        mut lost: Option<u64>,
    ) {
        loop {
            let (seg, i, _, sleepers) = self.claim_back(1, lost.take());
            if let Some(f) = stall.take() {
                f();
            }
            // SAFETY: `claim_back` handed us the producer claim of slot `i` of `seg`.
            match unsafe { self.publish(seg, i, value) } {
                Ok(()) => return self.pushed(sleepers),
                Err(v) => value = v,
            }
        }
    }

    /// Removes the value at the front of the queue.
    #[inline]
    pub(crate) fn pop(&self) -> Option<T> {
        loop {
            let (seg, i, _) = self.claim_front(1)?;
            // SAFETY: `claim_front` handed us the consumer claim of slot `i` of `seg`.
            if let Some(v) = unsafe { self.take(seg, i) } {
                return Some(v);
            }
        }
    }

    /// A snapshot of the number of values in the queue (slots claimed by producers minus slots
    /// claimed by consumers, minus abandoned slots). Exact when no operation is in flight.
    pub(crate) fn len(&self) -> usize {
        // SeqCst (both): the head is read first, and the head never has more slots behind it
        // than the tail, so the difference is never negative; and a `len` is ordered with the
        // claims of other threads as the emptiness check is (store buffering: the loom models
        // `queue_len_is_ordered_with_*` fail with either load `Relaxed`).
        let h = position(self.head.index.load(SeqCst));
        let t = position(self.tail.index.load(SeqCst));
        // Relaxed: a statistic.
        let holes = self.holes.load(Relaxed) as u64;
        let n = slots_before(t)
            .saturating_sub(slots_before(h))
            .saturating_sub(holes);
        usize::try_from(n).unwrap_or(usize::MAX)
    }

    /// Whether a `pop` now would find the queue empty (a snapshot).
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `pop` for an owner with `&mut` access.
    pub(crate) fn pop_mut(&mut self) -> Option<T> {
        self.pop()
    }

    /// Drops every value left and frees every segment; leaves the queue empty and reusable.
    fn clear_mut(&mut self) {
        while let Some(v) = self.pop_mut() {
            drop(v);
        }
        // SAFETY: exclusive access.
        let guard = unsafe { unprotected() };
        // Every segment before `head.seg` has been retired or parked (no claim is in flight);
        // the chain from `head.seg` on is ours to free.
        let mut seg = self.head.seg.swap(Shared::null(), Relaxed, guard);
        self.tail.seg.store(Shared::null(), Relaxed);
        self.head.index.store(0, Relaxed);
        self.tail.index.store(0, Relaxed);
        while !seg.is_null() {
            // SAFETY: exclusive access; `seg` is a live segment of the chain.
            let next = unsafe { seg.deref() }.next.load(Relaxed, guard);
            // SAFETY: unlinked above, emptied of values by `pop_mut`, retired once; with the
            // unprotected guard it is freed now, which is fine as nobody else can reach it.
            unsafe { retire(guard, seg) };
            seg = next;
        }
        // The parked segments: behind both ends, their claims all finished now.
        let mut seg = self.limbo.swap(Shared::null(), Relaxed, guard);
        while !seg.is_null() {
            // SAFETY: exclusive access; a parked segment is live and in no other list.
            let next = unsafe { seg.deref() }.parked_next.load(Relaxed, guard);
            // SAFETY: unlinked above, emptied of values by `pop_mut`, retired once; with the
            // unprotected guard it is freed now, which is fine as nobody else can reach it.
            unsafe { retire(guard, seg) };
            seg = next;
        }
    }
}

/// The unbounded queue's sleepers flag, [`SLEEPERS`] in the tail index, where a push's claim
/// reads it.
#[cfg(feature = "wait")]
impl<T> crate::wait::Flag for RawQueue<T> {
    fn raise(&self) {
        // SeqCst: the waiter's half of the flag protocol (`wait.rs`): after its count, before
        // its last try's loads of the tail, in one total order with the producers' claims.
        self.tail.index.fetch_or(SLEEPERS, SeqCst);
    }

    fn lower(&self) {
        // SeqCst: the notifier's half of the flag protocol (`wait.rs`): before its second read
        // of the count, in one total order with the waiters' counts and raises.
        self.tail.index.fetch_and(!SLEEPERS, SeqCst);
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
