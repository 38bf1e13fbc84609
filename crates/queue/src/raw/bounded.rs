//! The bounded queue's core: a ring of slots, each with a stamp that says which lap it is on
//! and whether it is full.
//!
//! # Origins
//!
//! Dmitry Vyukov's bounded MPMC queue ("Bounded MPMC queue", 1024cores.net, 2010), the design
//! crossbeam's `ArrayQueue` also uses. Producers and consumers race on one index each (`tail`,
//! `head`) with a CAS, and a per-slot stamp tells them whether the slot at their index is ready
//! for them on this lap.
//!
//! # Indices and stamps
//!
//! An index packs a lap count above a slot position: `index = lap * one_lap + position`, where
//! `one_lap` is the smallest power of two above the capacity (so the position bits never carry
//! into the lap bits). With `t` the producer index and `h` the consumer index:
//!
//! | slot stamp                    | meaning                                                    |
//! |-------------------------------|------------------------------------------------------------|
//! | `stamp == t`                  | empty and ready for the producer that claims index `t`     |
//! | `stamp == t + 1 - one_lap`    | still full from the previous lap: the queue may be full    |
//! | `stamp == h + 1`              | full, ready for the consumer that claims index `h`         |
//! | `stamp == h`                  | empty on this lap: the queue may be empty                  |
//! | anything else                 | another thread is between its claim and its stamp store   |
//!
//! Initially slot `i` has stamp `i` and `head == tail == 0`.
//!
//! With the `wait` feature, the top bit of each index is a sleepers flag ([`FLAG`]), outside
//! the count: indices count modulo `FLAG` ([`COUNT`] masks the count), and stamps never carry
//! the flag. A consumer waiting for a value raises the flag in `tail`, a producer waiting for
//! room raises it in `head` (crate `wait` module, "The flag"). A flagged index equals no stamp,
//! so the inline tries of `push` and `pop` fail their stamp comparison at a flagged index and
//! leave it to the loops, which claim with the flag carried over and then wake a sleeper: a
//! claim made inline replaced an index with the flag down, so it has nobody to wake and tests
//! nothing. Without the feature, `FLAG` is 0 and every mask is a no-op.
//!
//! # Push and pop
//!
//! A producer reads `tail`, and if the slot's stamp equals it, claims the index by a CAS on
//! `tail` to the next index (wrapping to the next lap at the end of the ring), writes the value,
//! and stores stamp `t + 1`. A consumer reads `head`, and if the slot's stamp is `h + 1` claims
//! the index by a CAS on `head`, moves the value out and stores stamp `h + one_lap`: the slot is
//! empty and ready for the producer one lap later.
//!
//! `push` and `pop` make that first try inline and leave everything else (retries, back-off,
//! verdicts) to a loop out of line, so the code inlined into a caller's loop is a few loads, a
//! CAS and a store, with no call: that keeps the caller's registers free. With the `wait`
//! feature, waking sleepers is the loops' job alone (see the flag, above). A
//! try that loses its CAS enters the loop by backing off first and then waiting at the index it
//! tried (see `push_inner`): the loser steps aside and the winner runs on with warm cache lines.
//! Without that first back-off, contending threads alternate claim by claim and pay a
//! cache-line transfer on every operation (pairs at 2 and 4 threads fell to 0.34-0.41x
//! crossbeam's: `cargo run --release -p freeway-benches --example queue_table -- --workload
//! pairs --only ArrayQueue`).
//!
//! # Full and empty
//!
//! A producer whose slot is still full from the previous lap reports the queue full only if the
//! head is one lap behind its tail; a consumer whose slot is empty on this lap reports it empty
//! only if the tail equals its head. Each verdict compares an index the thread read earlier
//! with one it reads now, and must hold at one moment, also as seen together with other queues
//! and other `SeqCst` operations (a thread that pushes to one queue and then pops another must
//! not find it empty while another thread does the same the other way round). The claims (the
//! index CASes) are `SeqCst`, and the second read of a verdict
//! follows a `SeqCst` fence. In the single total order of `SeqCst` operations the fence comes
//! after the claim that wrote the first index read, and the second read returns the other index
//! as it was at the fence or later. The head never passes the tail and the tail never runs more
//! than a ring ahead of the head, so for "empty" (head read `h`, tail read `h`) and for "full"
//! (tail read `t`, head read one lap behind) both indices held the compared values at the fence.
//! All other index loads are `Relaxed`: a stale one fails the stamp comparison or the claim, and
//! no verdict rests on it without the fence. This is crossbeam's arrangement; the fences cost
//! only when a verdict is reached, never on the fast path. `force_push`'s two index updates are
//! not `SeqCst`: the ring is full before and after them, and they follow the fence of the full
//! verdict that allowed them, which orders them for every other thread's verdicts.
//!
//! `len`, `is_empty` and `is_full` read the tail, the head and the tail again until the two
//! tail reads agree, with `Acquire` loads that pair with the release half of the claims, so the
//! pair they return is one the queue held.
//!
//! # `force_push`
//!
//! When the ring is full, `force_push` claims the oldest element's slot as a consumer would (a
//! CAS moving `head` one step), then moves `tail` one step by a plain store (no producer can
//! move it while the ring is full), swaps its value for the old one in place, and stores the
//! stamp that marks the slot full for the new lap. The evicted value is returned.
//!
//! # Progress (honestly)
//!
//! Not lock-free in the strict sense. A consumer whose slot has been claimed by a producer that
//! has not yet stored its stamp (preempted between its CAS and its store) spins (with backoff,
//! then yielding) until that producer resumes; symmetrically a producer may wait for a consumer
//! one lap behind, and every thread waits while a `force_push` is between its two index updates.
//! This is the price of Vyukov's design, whose fast path is one CAS and one store per
//! operation; the unbounded [`Queue`](crate::Queue) has no such waits.

use core::mem::MaybeUninit;

use freeway_epoch::Backoff;
use freeway_epoch::CachePadded;
use freeway_epoch::sync::atomic::AtomicUsize;
use freeway_epoch::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};
use freeway_epoch::sync::atomic::fence;
use freeway_epoch::sync::cell::UnsafeCell;
use freeway_epoch::sync::snooze;

/// With the `wait` feature, the sleepers flag: the top bit of an index (module docs).
#[cfg(feature = "wait")]
const FLAG: usize = 1 << (usize::BITS - 1);
/// Without the `wait` feature, no flag.
#[cfg(not(feature = "wait"))]
const FLAG: usize = 0;
/// The bits of an index that count (all of them without the `wait` feature).
const COUNT: usize = !FLAG;

struct Slot<T> {
    /// Lap and state of the slot (table in the module docs).
    stamp: AtomicUsize,
    value: UnsafeCell<MaybeUninit<T>>,
}

/// The bounded MPMC queue's shared state.
pub(crate) struct RawArrayQueue<T> {
    /// Consumer index (lap and position).
    head: CachePadded<AtomicUsize>,
    /// Producer index (lap and position).
    tail: CachePadded<AtomicUsize>,
    buffer: Box<[Slot<T>]>,
    /// Slots in the ring.
    cap: usize,
    /// The smallest power of two above `cap`: adding it to an index moves it one lap on.
    one_lap: usize,
    /// Consumers sleeping until a value arrives (feature `wait`); its flag is `tail`'s.
    #[cfg(feature = "wait")]
    pub(crate) not_empty: crate::wait::Signal,
    /// Producers sleeping until there is room (feature `wait`); its flag is `head`'s.
    #[cfg(feature = "wait")]
    pub(crate) not_full: crate::wait::Signal,
}

/// An index's sleepers flag, for the waiting protocol (`crate::wait`).
#[cfg(feature = "wait")]
pub(crate) struct IndexFlag<'a>(&'a AtomicUsize);

#[cfg(feature = "wait")]
impl crate::wait::Flag for IndexFlag<'_> {
    fn raise(&self) {
        // SeqCst: the waiter's half of the flag protocol (`crate::wait`): after its count,
        // before its last try's loads of this index, in one total order with the claims.
        self.0.fetch_or(FLAG, SeqCst);
    }

    fn lower(&self) {
        // SeqCst: the notifier's half (`crate::wait`): before its second read of the count.
        self.0.fetch_and(COUNT, SeqCst);
    }
}

// SAFETY: the queue moves `T`s between threads (pushed on one, popped or dropped on another), so
// `T: Send` is needed and suffices; it never shares a `&T`, so no `T: Sync` is needed.
unsafe impl<T: Send> Send for RawArrayQueue<T> {}
// SAFETY: as for `Send`: shared access only moves owned values between threads.
unsafe impl<T: Send> Sync for RawArrayQueue<T> {}

impl<T> RawArrayQueue<T> {
    /// A queue of `cap` slots (`cap > 0`, checked by the caller).
    pub(crate) fn new(cap: usize) -> Self {
        debug_assert!(cap > 0);
        let one_lap = (cap + 1).next_power_of_two();
        let buffer = (0..cap)
            .map(|i| Slot {
                stamp: AtomicUsize::new(i),
                value: UnsafeCell::new(MaybeUninit::uninit()),
            })
            .collect();
        Self {
            head: CachePadded::new(AtomicUsize::new(0)),
            tail: CachePadded::new(AtomicUsize::new(0)),
            buffer,
            cap,
            one_lap,
            #[cfg(feature = "wait")]
            not_empty: crate::wait::Signal::new(),
            #[cfg(feature = "wait")]
            not_full: crate::wait::Signal::new(),
        }
    }

    /// The flag of consumers waiting for a value (in `tail`, which producers claim).
    #[cfg(feature = "wait")]
    pub(crate) fn tail_flag(&self) -> IndexFlag<'_> {
        IndexFlag(&self.tail)
    }

    /// The flag of producers waiting for room (in `head`, which consumers claim).
    #[cfg(feature = "wait")]
    pub(crate) fn head_flag(&self) -> IndexFlag<'_> {
        IndexFlag(&self.head)
    }

    /// After a claim that replaced the index `flagged`: if its flag was raised, wakes a sleeper
    /// waiting on that index (`tail_side`: consumers, on `tail`; otherwise producers, on
    /// `head`), if one is counted. Nothing without the `wait` feature (no flag is ever raised).
    #[inline]
    fn woke(&self, flagged: usize, tail_side: bool) {
        #[cfg(feature = "wait")]
        if flagged & FLAG != 0 {
            if tail_side {
                self.not_empty.notify_flagged(1, &self.tail_flag());
            } else {
                self.not_full.notify_flagged(1, &self.head_flag());
            }
        }
        #[cfg(not(feature = "wait"))]
        let _ = (flagged, tail_side);
    }

    pub(crate) fn capacity(&self) -> usize {
        self.cap
    }

    /// The index after `index` (unflagged): the next position, or position 0 of the next lap
    /// (modulo `FLAG`).
    #[inline]
    fn step(&self, index: usize) -> usize {
        let pos = index & (self.one_lap - 1);
        if pos + 1 < self.cap {
            index + 1
        } else {
            (index & !(self.one_lap - 1)).wrapping_add(self.one_lap) & COUNT
        }
    }

    #[inline]
    fn slot(&self, index: usize) -> &Slot<T> {
        let pos = index & (self.one_lap - 1);
        // SAFETY: every index stored in `head` or `tail` has a position below `cap` (`step`
        // wraps at `cap`), and `buffer.len() == cap`.
        unsafe { self.buffer.get_unchecked(pos) }
    }

    /// Pushes `value`, or, with `force`, evicts the oldest value when full. Returns
    /// `Err(value)` when full and not forced, `Ok(Some(old))` on an eviction. The loop behind
    /// `push`'s single try (see `push`), and all of `force_push`. Starts at index `tail`, the
    /// one the caller read (`Relaxed`) and tried; `lost` says that its claim failed. The loop
    /// then backs off before it looks at `tail` again, where the slot is by then another
    /// thread's, so it also snoozes and reloads the index: a longer step aside than after a
    /// claim lost inside the loop (which retries at the index the claim found). That longer
    /// step is what lets contending threads run in bursts. Retrying at the found index instead,
    /// 2-thread pairs in the interleaving regime (see docs/queue.md) ran at 0.86x and 0.96x of
    /// crossbeam's in two runs, against 2.9-4.3x with the longer step (`queue_table --workload
    /// pairs --only ArrayQueue --threads 2`; the latter runs had workers bound to CPUs).
    #[inline(never)]
    fn push_inner(
        &self,
        value: T,
        force: bool,
        mut tail: usize,
        lost: bool,
    ) -> Result<Option<T>, T> {
        let backoff = Backoff::new();
        if lost {
            backoff.spin();
        }
        loop {
            // `tail` as read, flag and all; `t` its count.
            let t = tail & COUNT;
            let slot = self.slot(t);
            let stamp = Self::stamp(slot);
            if stamp == t {
                match self.claim_tail(tail, self.step(t) | (tail & FLAG)) {
                    Ok(_) => {
                        self.fill(slot, t, value);
                        self.woke(tail, true);
                        return Ok(None);
                    }
                    Err(found) => {
                        tail = found;
                        backoff.spin();
                    }
                }
            } else if stamp.wrapping_add(self.one_lap) & COUNT == t.wrapping_add(1) {
                // The slot is still full from the previous lap: full if the head is one lap
                // behind. The fence orders the head load after every consumer claim that came
                // before it in the single total order (module docs).
                fence(SeqCst);
                // Relaxed: the fence above gives the order.
                let head_found = self.head.load(Relaxed);
                let head = head_found & COUNT;
                if head.wrapping_add(self.one_lap) & COUNT == t {
                    if !force {
                        return Err(value);
                    }
                    // Full: claim the oldest slot (at `head`, which is this one) as a consumer.
                    let new_tail = self.step(t);
                    let new_head = self.step(head) | (head_found & FLAG);
                    // Relaxed: the ring is full before and after a forced push, so no verdict
                    // turns on this claim, and other verdicts that read the index it writes
                    // are ordered by the fence above, which precedes it. That fence is also
                    // the release that `len` needs: a `len` that acquires this head sees the
                    // tail as this push read it. The old value comes through the stamp
                    // (Acquire above); the CAS only decides who takes it.
                    if self
                        .head
                        .compare_exchange_weak(head_found, new_head, Relaxed, Relaxed)
                        .is_ok()
                    {
                        // No producer can move `tail` while the ring is full (they all see a
                        // full slot or wait for ours), so a store suffices; with the `wait`
                        // feature an add, which keeps the flag a waiter may raise meanwhile
                        // (the count cannot carry into the flag: `new_tail` is below `FLAG`,
                        // and `tail` holds `t` plus the flag). Release: pairs with `len`'s
                        // Acquire tail load, which must then find the head claim above (the
                        // fence's release does not cover it). Not SeqCst, for the same reason
                        // the claim above is not.
                        let replaced = if FLAG == 0 {
                            self.tail.store(new_tail, Release);
                            0
                        } else {
                            self.tail.fetch_add(new_tail.wrapping_sub(t), Release)
                        };
                        // SAFETY: the head CAS made us the consumer of the oldest value and the
                        // full ring made us the producer of the same slot; nobody else touches
                        // its cell until our stamp store. The value is initialised (stamp said
                        // full).
                        let old = slot.value.with_mut(|c| unsafe {
                            let old = (*c).assume_init_read();
                            (*c).write(value);
                            old
                        });
                        // Release: pairs with the Acquire load in `stamp`, publishing the
                        // new value.
                        slot.stamp.store(t.wrapping_add(1), Release);
                        self.woke(replaced, true);
                        return Ok(Some(old));
                    }
                    backoff.spin();
                } else {
                    // A consumer is between its claim and its stamp store.
                    snooze(&backoff);
                }
                // Relaxed: as the first load, in `push`.
                tail = self.tail.load(Relaxed);
            } else {
                // Another producer claimed this index and has not stored its stamp yet, or
                // `tail` moved on: reload.
                snooze(&backoff);
                // Relaxed: as the first load, in `push`.
                tail = self.tail.load(Relaxed);
            }
        }
    }

    /// Writes `value` into `slot` and publishes it for the consumer of index `tail` (its count,
    /// below `FLAG`, so `tail + 1` is too). The caller claimed `tail` (its tail compare-exchange
    /// succeeded) while the slot's stamp was `tail`.
    #[inline(always)]
    fn fill(&self, slot: &Slot<T>, tail: usize, value: T) {
        // SAFETY: the caller's claim of index `tail`, whose slot was empty on this lap (stamp ==
        // tail), leaves its cell to us: no other thread touches it until we store the stamp
        // below.
        slot.value.with_mut(|c| unsafe { (*c).write(value) });
        // Release: pairs with the Acquire load in `stamp`, publishing the value to the
        // consumer.
        slot.stamp.store(tail.wrapping_add(1), Release);
    }

    /// Moves the value out of `slot` and frees the slot for the producer one lap on. The caller
    /// claimed index `head` (its count; its head compare-exchange succeeded) while the slot's
    /// stamp was `head + 1`.
    #[inline(always)]
    fn take(&self, slot: &Slot<T>, head: usize) -> T {
        // SAFETY: the caller's claim of index `head`, whose slot was full on this lap (stamp ==
        // head + 1), leaves its cell to us: no other thread touches it until our stamp store,
        // and we move the value out once.
        let v = slot.value.with(|c| unsafe { (*c).assume_init_read() });
        // Release: pairs with the Acquire load in `stamp`: the slot is free for the producer one
        // lap on.
        slot.stamp
            .store(head.wrapping_add(self.one_lap) & COUNT, Release);
        v
    }

    /// The stamp of `slot`, for the thread at an index that maps to it.
    #[inline(always)]
    fn stamp(slot: &Slot<T>) -> usize {
        // Acquire: pairs with the Release stamp stores in `fill`, `take` and `push_inner`'s
        // forced branch: a producer that finds the slot empty for it finds the old value moved
        // out, and a consumer that finds it full finds the value written.
        slot.stamp.load(Acquire)
    }

    /// Claims index `tail` (as read, flag and all) for a producer, moving `tail` to `next` (the
    /// next index, with the flag carried over); on failure, the index found instead.
    #[inline(always)]
    fn claim_tail(&self, tail: usize, next: usize) -> Result<usize, usize> {
        // SeqCst: the claims take part in the full and empty verdicts' order (module docs); as
        // a release, they let `len` bound the head by the tail it reads. Failure: Relaxed, the
        // value found only feeds the next try, like a Relaxed index load.
        self.tail.compare_exchange_weak(tail, next, SeqCst, Relaxed)
    }

    /// Claims index `head` (as read, flag and all) for a consumer, moving `head` to `next`; on
    /// failure, the index found instead.
    #[inline(always)]
    fn claim_head(&self, head: usize, next: usize) -> Result<usize, usize> {
        // SeqCst: as in `claim_tail`; as a release it lets `len`, having read the head, find the
        // tail past every value this pop saw pushed. Failure: Relaxed, as in `claim_tail`.
        self.head.compare_exchange_weak(head, next, SeqCst, Relaxed)
    }

    /// One try inline, the loop (`push_inner`) out of line: an uncontended push is a few
    /// instructions in the caller's code, with no back-off state and no call to keep registers
    /// for. With the `wait` feature, a `tail` with its flag raised fails the stamp comparison
    /// (stamps never carry the flag), so the inline claim is always from an index with the flag
    /// down, and only the loop wakes sleepers (module docs).
    #[inline(always)]
    pub(crate) fn push(&self, value: T) -> Result<(), T> {
        // Relaxed: a stale index fails the stamp comparison or the claim, and the full verdict
        // does not trust it alone (see "Full and empty" in the module docs).
        let tail = self.tail.load(Relaxed);
        let slot = self.slot(tail);
        let lost = if Self::stamp(slot) == tail {
            // `tail` equals a stamp, so its flag is down: the next index needs no flag.
            match self.claim_tail(tail, self.step(tail)) {
                Ok(_) => {
                    self.fill(slot, tail, value);
                    return Ok(());
                }
                Err(_) => true,
            }
        } else {
            false
        };
        self.push_inner(value, false, tail, lost).map(|_| ())
    }

    #[inline]
    pub(crate) fn force_push(&self, value: T) -> Option<T> {
        // Relaxed: a stale index fails the stamp comparison or the claim in `push_inner`, and
        // the full verdict does not trust it alone (see "Full and empty" in the module docs).
        let tail = self.tail.load(Relaxed);
        match self.push_inner(value, true, tail, false) {
            Ok(old) => old,
            Err(_) => unreachable!("a forced push never reports the ring full"),
        }
    }

    /// One try inline, the loop (`pop_slow`) out of line, as in `push` (also for the flag).
    #[inline(always)]
    pub(crate) fn pop(&self) -> Option<T> {
        // Relaxed: as in `push`.
        let head = self.head.load(Relaxed);
        let slot = self.slot(head);
        let lost = if Self::stamp(slot) == head.wrapping_add(1) {
            // `head + 1` equals a stamp, and stamps never carry the flag (a count plus one
            // stays below `FLAG`, as positions stay below `one_lap`), so the flag is down: the
            // next index needs none.
            match self.claim_head(head, self.step(head)) {
                Ok(_) => return Some(self.take(slot, head)),
                Err(_) => true,
            }
        } else {
            false
        };
        self.pop_slow(head, lost)
    }

    /// The loop behind `pop`'s single try, from index `head`; `head` and `lost` as in
    /// `push_inner`.
    #[inline(never)]
    fn pop_slow(&self, mut head: usize, lost: bool) -> Option<T> {
        let backoff = Backoff::new();
        if lost {
            backoff.spin();
        }
        loop {
            // `head` as read, flag and all; `h` its count.
            let h = head & COUNT;
            let slot = self.slot(h);
            let stamp = Self::stamp(slot);
            if stamp == h.wrapping_add(1) {
                match self.claim_head(head, self.step(h) | (head & FLAG)) {
                    Ok(_) => {
                        let v = self.take(slot, h);
                        self.woke(head, false);
                        return Some(v);
                    }
                    Err(found) => {
                        head = found;
                        backoff.spin();
                    }
                }
            } else if stamp == h {
                // Empty on this lap: empty if the tail is here too. The fence orders the tail
                // load after every producer claim that came before it (module docs).
                fence(SeqCst);
                // Relaxed: the fence above gives the order.
                let tail = self.tail.load(Relaxed) & COUNT;
                if tail == h {
                    return None;
                }
                // A producer claimed this slot and has not published yet: wait for it.
                snooze(&backoff);
                // Relaxed: as the first load, in `pop`.
                head = self.head.load(Relaxed);
            } else {
                snooze(&backoff);
                // Relaxed: as the first load, in `pop`.
                head = self.head.load(Relaxed);
            }
        }
    }

    /// A snapshot of the number of elements; never above the capacity.
    pub(crate) fn len(&self) -> usize {
        let (head, tail) = self.indices();
        let hix = head & (self.one_lap - 1);
        let tix = tail & (self.one_lap - 1);
        if hix < tix {
            tix - hix
        } else if hix > tix {
            self.cap - hix + tix
        } else if tail == head {
            0
        } else {
            self.cap
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        let (head, tail) = self.indices();
        head == tail
    }

    pub(crate) fn is_full(&self) -> bool {
        let (head, tail) = self.indices();
        head.wrapping_add(self.one_lap) & COUNT == tail
    }

    /// `(head, tail)` as they were together at some moment of the call: the head at most the
    /// tail, and at most one ring behind it.
    fn indices(&self) -> (usize, usize) {
        loop {
            // Acquire: pairs with the release half of the producer claims (the tail CAS, or
            // `force_push`'s store). A claim of index `t` follows the pop that emptied its slot
            // one lap earlier (the claimer acquired that pop's stamp), so the head read below is
            // at least `t - cap`.
            let tail = self.tail.load(Acquire);
            // Acquire: pairs with the release half of the consumer claims. A claim of index `h`
            // follows the push that filled its slot, so the recheck below reads a tail past `h`
            // when the head passed the first tail read.
            let head = self.head.load(Acquire);
            // Relaxed: the head's Acquire above already orders this load after every push the
            // head read depends on; an unchanged tail means the pair was current together.
            if self.tail.load(Relaxed) == tail {
                return (head & COUNT, tail & COUNT);
            }
        }
    }

    /// `pop` with exclusive access.
    pub(crate) fn pop_mut(&mut self) -> Option<T> {
        // Relaxed: `&mut self`, no other thread can race.
        let head = self.head.load(Relaxed) & COUNT;
        let tail = self.tail.load(Relaxed) & COUNT;
        if head == tail {
            return None;
        }
        let slot = self.slot(head);
        // SAFETY: exclusive access, and `head != tail` with no operation in flight means the
        // slot at `head` is full; we move its value out once and advance `head` past it.
        let v = slot.value.with(|c| unsafe { (*c).assume_init_read() });
        slot.stamp
            .store(head.wrapping_add(self.one_lap) & COUNT, Relaxed);
        let next = self.step(head);
        // Without the head's flag: with `&mut self`, nobody is waiting.
        self.head.store(next, Relaxed);
        Some(v)
    }
}

impl<T> Drop for RawArrayQueue<T> {
    fn drop(&mut self) {
        /// Keeps dropping if a value's `Drop` panics, so nothing is leaked.
        struct Finish<'a, T>(&'a mut RawArrayQueue<T>);
        impl<T> Drop for Finish<'_, T> {
            fn drop(&mut self) {
                while let Some(v) = self.0.pop_mut() {
                    drop(v);
                }
            }
        }
        let finish = Finish(self);
        while let Some(v) = finish.0.pop_mut() {
            drop(v);
        }
    }
}

#[cfg(all(test, feature = "wait", not(loom)))]
mod tests {
    use super::*;

    /// A ring whose indices and stamps start `laps` laps before the count wraps at `FLAG`.
    fn near_the_wrap(cap: usize, laps: usize) -> RawArrayQueue<u64> {
        let q = RawArrayQueue::new(cap);
        let start = FLAG - laps * q.one_lap;
        q.head.store(start, Relaxed);
        q.tail.store(start, Relaxed);
        for (i, slot) in q.buffer.iter().enumerate() {
            slot.stamp.store(start + i, Relaxed);
        }
        q
    }

    /// The count wraps from its last lap to lap 0 without touching the flag bit, with the
    /// flags down and with both raised (as by counted waiters, so every claim carries them
    /// over), and `len`, the full and empty verdicts and `force_push` agree with a model
    /// throughout.
    #[test]
    fn indices_wrap_below_the_flag() {
        for raised in [false, true] {
            let q = near_the_wrap(3, 2);
            if raised {
                // Counted, so that the notifiers do not lower the flags as stale.
                q.not_empty.count_phantom_waiter();
                q.not_full.count_phantom_waiter();
                crate::wait::Flag::raise(&q.tail_flag());
                crate::wait::Flag::raise(&q.head_flag());
            }
            let mut model = std::collections::VecDeque::new();
            let mut next = 0u64;
            for step in 0..40 {
                match step % 5 {
                    0..=2 => {
                        let r = q.push(next);
                        if model.len() < 3 {
                            assert_eq!(r, Ok(()));
                            model.push_back(next);
                        } else {
                            assert_eq!(r, Err(next));
                        }
                        next += 1;
                    }
                    3 => {
                        let old = q.force_push(next);
                        model.push_back(next);
                        let want = if model.len() > 3 {
                            model.pop_front()
                        } else {
                            None
                        };
                        assert_eq!(old, want);
                        next += 1;
                    }
                    _ => assert_eq!(q.pop(), model.pop_front()),
                }
                assert_eq!(q.len(), model.len());
                assert_eq!(q.is_empty(), model.is_empty());
                assert_eq!(q.is_full(), model.len() == 3);
                assert_eq!(q.tail.load(Relaxed) & FLAG != 0, raised, "tail flag kept");
                assert_eq!(q.head.load(Relaxed) & FLAG != 0, raised, "head flag kept");
            }
            let start = FLAG - 2 * q.one_lap;
            assert!(q.head.load(Relaxed) & COUNT < start, "the count wrapped");
            while let Some(v) = q.pop() {
                assert_eq!(Some(v), model.pop_front());
            }
            assert!(model.is_empty());
        }
    }
}
