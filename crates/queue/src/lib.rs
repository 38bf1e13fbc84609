//! Multi-producer multi-consumer FIFO queues on Freeway's epoch-based reclamation core.
//!
//! - [`Queue<T>`]: unbounded, lock-free, a list of segments whose slots are claimed with a
//!   compare-exchange that backs off when it loses (the segmented form of Dmitry Vyukov's
//!   bounded queue, as crossbeam's `SegQueue` uses it, with the late-producer poisoning of the
//!   fetch-and-add queues: Ramalhete and Correia's FAAArrayQueue, LCRQ of Morrison and Afek,
//!   PPoPP 2013, LPRQ of Romanov and Koval, PPoPP 2023). A producer or consumer that is
//!   preempted mid-operation never makes anyone else wait beyond a short, fixed grace period. It
//!   also has [`Queue::push_batch`] and [`Queue::pop_batch`], which claim many slots with one
//!   atomic step.
//! - [`ArrayQueue<T>`]: bounded, Vyukov's stamped ring (Dmitry Vyukov, "Bounded MPMC queue",
//!   1024cores.net, 2010), with [`ArrayQueue::force_push`] to evict the oldest element when
//!   full. Its fast path is one CAS and one store, but a consumer can wait for a producer that
//!   was preempted between claiming a slot and publishing into it (see its docs).
//!
//! The API mirrors crossbeam-queue's `SegQueue` and `ArrayQueue`, so switching is a rename.
//!
//! # The algorithm of `Queue`
//!
//! Values live in segments of slots linked into a list. Each end of the queue has a position
//! counter; a producer claims the slot at the tail position by moving the counter on with a
//! compare-exchange, writes its value and sets the slot's `WRITTEN` bit; a consumer claims the
//! slot at the head position the same way and takes the value if `WRITTEN` is set. A thread
//! that loses a compare-exchange backs off, so under contention one thread at a time runs a
//! burst on warm cache lines. A consumer that finds its slot not yet written re-reads it a fixed
//! number of times, then poisons it (`TAKEN`) and claims another; its producer then takes its
//! value back and pushes it again. Nobody waits for another thread beyond that grace period, so
//! the queue is lock-free. The last thread to finish with a segment's slots retires it through
//! the epoch to a small pool of spares that later segments come from, so a queue in steady state
//! allocates nothing. The full walk-through, the slot state table and the argument for why an
//! empty `pop` is linearizable are in the docs of the private `raw::unbounded` module (and in
//! `docs/queue.md` of the repository).
//!
//! # Waiting (feature `wait`)
//!
//! With the `wait` feature, consumers can sleep until a value arrives (`Queue::pop_wait`,
//! `pop_timeout`, `pop_async`), and producers of an [`ArrayQueue`] until there is room
//! (`push_wait`, `push_timeout`, `push_async`). It works with threads and with any async
//! executor (the futures are `Send` when `T` is), through event-listener. Waiters raise a flag
//! in the index that the operations which can end their wait claim, so with nobody waiting
//! `push` and `pop` cost the same instructions as without the feature; `Queue::push_batch`
//! reads one more atomic.
//!
//! ```
//! # #[cfg(feature = "wait")] {
//! use freeway_queue::Queue;
//!
//! let jobs = Queue::new();
//! std::thread::scope(|s| {
//!     let worker = s.spawn(|| futures_lite::future::block_on(jobs.pop_async()));
//!     jobs.push("render");
//!     assert_eq!(worker.join().unwrap(), "render");
//! });
//! # }
//! ```
//!
//! `examples/worker_pool.rs` runs a pool of async workers that sleep between bursts of jobs and
//! shut down cleanly.
//!
//! # Progress guarantees
//!
//! | type         | push                | pop                 | waits on a preempted thread?       |
//! |--------------|---------------------|---------------------|------------------------------------|
//! | `Queue`      | lock-free           | lock-free           | never (a bounded grace period)     |
//! | `ArrayQueue` | blocking (bounded)  | blocking (bounded)  | yes, on one between claim and write |
//!
//! Both are linearizable: every operation, `pop` returning `None` and `push` returning `Err`
//! included, appears to take effect at one instant between its call and its return.
//!
//! # Examples
//!
//! ```
//! use freeway_queue::{ArrayQueue, Queue};
//! use std::sync::Arc;
//! use std::thread;
//!
//! let q = Arc::new(Queue::new());
//! let producers: Vec<_> = (0..2u64)
//!     .map(|t| {
//!         let q = q.clone();
//!         thread::spawn(move || (0..100).for_each(|i| q.push(t * 1000 + i)))
//!     })
//!     .collect();
//! producers.into_iter().for_each(|h| h.join().unwrap());
//! assert_eq!(q.len(), 200);
//!
//! let bounded = ArrayQueue::new(2);
//! assert_eq!(bounded.push('a'), Ok(()));
//! assert_eq!(bounded.push('b'), Ok(()));
//! assert_eq!(bounded.push('c'), Err('c'));
//! assert_eq!(bounded.force_push('c'), Some('a'));
//! ```

// Every `unsafe` block of the crate lives in `raw`, the one module allowed to have them.
#![deny(unsafe_code)]

#[allow(unsafe_code)]
mod raw;
#[cfg(feature = "wait")]
mod wait;

use core::fmt;
#[cfg(feature = "wait")]
use core::future::Future;
#[cfg(feature = "wait")]
use std::time::Duration;

/// An unbounded multi-producer multi-consumer FIFO queue.
///
/// Lock-free: no operation waits for another thread, even one preempted in the middle of a
/// `push` or `pop` (a consumer re-reads a slot whose producer is mid-write a fixed number of
/// times, then moves on). Values are stored inline in segments of 255 slots; a queue in use holds
/// at least one segment. Retired segments are recycled: once freeway-epoch's grace period is over
/// they are parked in a per-queue pool of up to 64 spares (about 256 KiB for `u64` values) and
/// reused, so a queue in steady state allocates nothing; spares beyond that are freed, and the
/// pool is freed after the queue. A thread that stays pinned for long delays both.
///
/// With the `wait` feature, consumers can also sleep until a value arrives:
#[cfg_attr(
    feature = "wait",
    doc = "[`pop_wait`](Queue::pop_wait), [`pop_timeout`](Queue::pop_timeout) and \
           [`pop_async`](Queue::pop_async)"
)]
#[cfg_attr(
    not(feature = "wait"),
    doc = "`pop_wait`, `pop_timeout` and `pop_async`"
)]
/// (runtime-agnostic). A `push` learns of sleepers from a flag in the index it claims, which it
/// has read anyway: with nobody waiting, the feature costs it no instruction on its common path
/// (measured per push and pop pair); `push_batch` reads one more atomic.
///
/// # Examples
///
/// ```
/// use freeway_queue::Queue;
///
/// let q = Queue::new();
/// q.push(1);
/// q.push(2);
/// assert_eq!(q.pop(), Some(1));
/// assert_eq!(q.pop(), Some(2));
/// assert_eq!(q.pop(), None);
/// ```
pub struct Queue<T> {
    raw: raw::RawQueue<T>,
}

impl<T> Queue<T> {
    /// Creates an empty queue. Allocates nothing until the first push.
    ///
    /// # Examples
    ///
    /// ```
    /// use freeway_queue::Queue;
    ///
    /// static JOBS: Queue<u32> = Queue::new();
    /// JOBS.push(7);
    /// assert_eq!(JOBS.pop(), Some(7));
    /// ```
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        Self {
            raw: raw::RawQueue::new(),
        }
    }

    /// Creates an empty queue. Allocates nothing until the first push.
    ///
    /// (Under `cfg(loom)` this is not `const`: loom's atomics cannot be built in a constant.)
    ///
    /// # Examples
    ///
    /// ```
    /// let q = freeway_queue::Queue::<u8>::new();
    /// assert!(q.is_empty());
    /// ```
    #[cfg(loom)]
    pub fn new() -> Self {
        Self {
            raw: raw::RawQueue::new(),
        }
    }

    /// Pushes `value` at the back of the queue.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = freeway_queue::Queue::new();
    /// q.push("job");
    /// assert_eq!(q.len(), 1);
    /// ```
    #[inline]
    pub fn push(&self, value: T) {
        self.raw.push(value);
    }

    /// `push` that runs `stall` after claiming its slot and before publishing into it: lets the
    /// loom models stand for a producer preempted mid-push. Only under `cfg(loom)`.
    ///
    /// # Examples
    ///
    /// ```ignore
    /// q.push_with_stall(1, || assert_eq!(q.pop(), None)); // the pop does not wait
    /// ```
    #[cfg(loom)]
    #[doc(hidden)]
    pub fn push_with_stall(&self, value: T, stall: impl FnOnce()) {
        self.raw.push_with_stall(value, stall);
    }

    /// Removes the value at the front of the queue, or returns `None` if the queue is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = freeway_queue::Queue::new();
    /// assert_eq!(q.pop(), None);
    /// q.push(3);
    /// assert_eq!(q.pop(), Some(3));
    /// ```
    #[inline]
    pub fn pop(&self) -> Option<T> {
        self.raw.pop()
    }

    /// Pushes every item of `items`, in order, claiming slots for many items with one atomic
    /// step (up to a segment's worth at a time).
    ///
    /// The items keep their order relative to each other, and each takes effect at some instant
    /// during the call; items pushed concurrently by other threads may land between them.
    /// The lower bound of the iterator's `size_hint` sizes the claims (an iterator that reports
    /// none is pushed one claim at a time); a wrong hint costs speed, never items, and a panic
    /// from the iterator leaves the items yielded so far in the queue.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = freeway_queue::Queue::new();
    /// q.push_batch(0..32);
    /// assert_eq!(q.len(), 32);
    /// assert_eq!(q.pop(), Some(0));
    /// ```
    pub fn push_batch<I: IntoIterator<Item = T>>(&self, items: I) {
        #[cfg(feature = "wait")]
        {
            /// Wakes one sleeper per value pushed, also when the iterator panics.
            struct Wake<'a>(&'a wait::Signal, usize);
            impl Drop for Wake<'_> {
                fn drop(&mut self) {
                    self.0.notify(self.1);
                }
            }
            let mut wake = Wake(&self.raw.not_empty, 0);
            let counted = items.into_iter().inspect(|_| wake.1 += 1);
            self.raw.push_batch(counted);
        }
        #[cfg(not(feature = "wait"))]
        self.raw.push_batch(items.into_iter());
    }

    /// Moves up to `max` values from the front of the queue to the end of `out`, claiming them
    /// with one atomic step, and returns how many it moved.
    ///
    /// It may move fewer than `max` even when more are queued (a batch never crosses a segment
    /// boundary, and slots whose producer is still writing are skipped), but it returns 0 only
    /// if the queue was empty. The values moved are in FIFO order, as if popped one by one.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = freeway_queue::Queue::new();
    /// q.push_batch([1, 2, 3]);
    /// let mut out = Vec::new();
    /// assert_eq!(q.pop_batch(&mut out, 2), 2);
    /// assert_eq!(out, [1, 2]);
    /// ```
    pub fn pop_batch(&self, out: &mut Vec<T>, max: usize) -> usize {
        self.raw.pop_batch(out, max)
    }

    /// The number of values in the queue: a snapshot, exact only when no operation is in
    /// flight. Never panics; pushes that are still writing their value may already count.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = freeway_queue::Queue::new();
    /// q.push(1);
    /// q.push(2);
    /// assert_eq!(q.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    /// Whether a `pop` now would find the queue empty (a snapshot).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = freeway_queue::Queue::new();
    /// assert!(q.is_empty());
    /// q.push(());
    /// assert!(!q.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }
}

/// Waiting (feature `wait`).
#[cfg(feature = "wait")]
impl<T> Queue<T> {
    /// Removes the value at the front, sleeping until there is one.
    ///
    /// # Examples
    ///
    /// ```
    /// use freeway_queue::Queue;
    ///
    /// let q = Queue::new();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| q.push("late"));
    ///     assert_eq!(q.pop_wait(), "late");
    /// });
    /// ```
    pub fn pop_wait(&self) -> T {
        self.raw.not_empty.wait_forever(&self.raw, || self.pop())
    }

    /// Removes the value at the front, sleeping until there is one or `timeout` has passed
    /// (`None`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let q = freeway_queue::Queue::<u8>::new();
    /// assert_eq!(q.pop_timeout(Duration::from_millis(10)), None);
    /// q.push(1);
    /// assert_eq!(q.pop_timeout(Duration::from_millis(10)), Some(1));
    /// ```
    pub fn pop_timeout(&self, timeout: Duration) -> Option<T> {
        self.raw
            .not_empty
            .wait_for(&self.raw, || self.pop(), timeout)
    }

    /// Removes the value at the front, waiting (asynchronously) until there is one. Works
    /// under any executor; the future is `Send` when `T` is.
    ///
    /// Cancel-safe: a future dropped before it completes has taken nothing, and passes a wake-up
    /// it received on to another waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = freeway_queue::Queue::new();
    /// q.push(9);
    /// assert_eq!(futures_lite::future::block_on(q.pop_async()), 9);
    /// ```
    pub fn pop_async(&self) -> impl Future<Output = T> + '_ {
        self.raw.not_empty.wait_async(&self.raw, || self.pop())
    }
}

impl<T> Default for Queue<T> {
    /// An empty queue.
    ///
    /// # Examples
    ///
    /// ```
    /// let q: freeway_queue::Queue<i32> = Default::default();
    /// assert!(q.is_empty());
    /// ```
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for Queue<T> {
    /// Prints `Queue { .. }`: the contents cannot be read without taking them.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = freeway_queue::Queue::<u8>::new();
    /// assert_eq!(format!("{q:?}"), "Queue { .. }");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Queue { .. }")
    }
}

impl<T> FromIterator<T> for Queue<T> {
    /// A queue holding the items in iteration order.
    ///
    /// # Examples
    ///
    /// ```
    /// let q: freeway_queue::Queue<_> = (1..=3).collect();
    /// assert_eq!(q.pop(), Some(1));
    /// ```
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut q = Self::new();
        q.extend(iter);
        q
    }
}

impl<T> Extend<T> for Queue<T> {
    /// Pushes every item, in order.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut q = freeway_queue::Queue::new();
    /// q.extend([1, 2]);
    /// assert_eq!(q.len(), 2);
    /// ```
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        for v in iter {
            self.push(v);
        }
    }
}

impl<T> IntoIterator for Queue<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;

    /// Turns the queue into an iterator over its values, front to back.
    ///
    /// # Examples
    ///
    /// ```
    /// let q: freeway_queue::Queue<_> = (0..3).collect();
    /// assert_eq!(q.into_iter().collect::<Vec<_>>(), [0, 1, 2]);
    /// ```
    fn into_iter(self) -> IntoIter<T> {
        IntoIter { queue: self }
    }
}

/// An owning iterator over the values of a [`Queue`], front to back.
///
/// The values not consumed are dropped with the iterator.
///
/// # Examples
///
/// ```
/// let q: freeway_queue::Queue<_> = ["a", "b"].into_iter().collect();
/// let mut it = q.into_iter();
/// assert_eq!(it.next(), Some("a"));
/// ```
pub struct IntoIter<T> {
    queue: Queue<T>,
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.queue.raw.pop_mut()
    }
}

impl<T> fmt::Debug for IntoIter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("IntoIter { .. }")
    }
}

/// A bounded multi-producer multi-consumer FIFO queue with a fixed capacity.
///
/// `push` returns the value back when the queue is full; `force_push` evicts the oldest value
/// instead. The slots are allocated once, at creation.
///
/// # Progress
///
/// Operations are one CAS and one store in the common case, but they are *not* lock-free: a
/// thread preempted between claiming a slot and publishing it makes the consumer (or producer)
/// of that slot wait, with backoff, until it runs again. Use [`Queue`] where that matters.
///
/// # Examples
///
/// ```
/// use freeway_queue::ArrayQueue;
///
/// let q = ArrayQueue::new(2);
/// assert_eq!(q.push(1), Ok(()));
/// assert_eq!(q.push(2), Ok(()));
/// assert_eq!(q.push(3), Err(3));
/// assert_eq!(q.pop(), Some(1));
/// ```
pub struct ArrayQueue<T> {
    raw: raw::RawArrayQueue<T>,
}

impl<T> ArrayQueue<T> {
    /// Creates an empty queue that holds up to `capacity` values.
    ///
    /// # Panics
    ///
    /// If `capacity` is 0 (a queue that can hold nothing is almost certainly a bug), or if it is
    /// so large that the index arithmetic would overflow (above `usize::MAX / 4`: an index
    /// keeps a bit for the lap count and one for the `wait` feature's flag).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = freeway_queue::ArrayQueue::<u64>::new(1024);
    /// assert_eq!(q.capacity(), 1024);
    /// ```
    ///
    /// ```should_panic
    /// let q = freeway_queue::ArrayQueue::<u64>::new(0); // panics: capacity must be non-zero
    /// ```
    pub fn new(capacity: usize) -> Self {
        assert!(capacity > 0, "ArrayQueue::new: capacity must be non-zero");
        assert!(
            capacity <= usize::MAX / 4,
            "ArrayQueue::new: capacity {capacity} is too large"
        );
        Self {
            raw: raw::RawArrayQueue::new(capacity),
        }
    }

    /// Pushes `value` at the back, or gives it back as `Err(value)` if the queue is full.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = freeway_queue::ArrayQueue::new(1);
    /// assert_eq!(q.push('x'), Ok(()));
    /// assert_eq!(q.push('y'), Err('y'));
    /// ```
    #[inline(always)]
    pub fn push(&self, value: T) -> Result<(), T> {
        self.raw.push(value)
    }

    /// Pushes `value` at the back; if the queue is full, first removes the value at the front
    /// and returns it.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = freeway_queue::ArrayQueue::new(2);
    /// assert_eq!(q.force_push(1), None);
    /// assert_eq!(q.force_push(2), None);
    /// assert_eq!(q.force_push(3), Some(1));
    /// assert_eq!(q.pop(), Some(2));
    /// ```
    #[inline]
    pub fn force_push(&self, value: T) -> Option<T> {
        self.raw.force_push(value)
    }

    /// Removes the value at the front, or returns `None` if the queue is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = freeway_queue::ArrayQueue::new(4);
    /// assert_eq!(q.pop(), None::<u8>);
    /// q.push(5).unwrap();
    /// assert_eq!(q.pop(), Some(5));
    /// ```
    #[inline(always)]
    pub fn pop(&self) -> Option<T> {
        self.raw.pop()
    }

    /// The most values the queue can hold.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(freeway_queue::ArrayQueue::<()>::new(3).capacity(), 3);
    /// ```
    pub fn capacity(&self) -> usize {
        self.raw.capacity()
    }

    /// The number of values in the queue: a snapshot, never above [`capacity`](Self::capacity).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = freeway_queue::ArrayQueue::new(4);
    /// q.push(1).unwrap();
    /// assert_eq!(q.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    /// Whether the queue is empty (a snapshot).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = freeway_queue::ArrayQueue::<u8>::new(4);
    /// assert!(q.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Whether the queue is full (a snapshot).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = freeway_queue::ArrayQueue::new(1);
    /// q.push(0).unwrap();
    /// assert!(q.is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        self.raw.is_full()
    }
}

/// Waiting (feature `wait`).
#[cfg(feature = "wait")]
impl<T> ArrayQueue<T> {
    /// [`Queue::pop_wait`] for the bounded queue: removes the front value, sleeping until
    /// there is one.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = freeway_queue::ArrayQueue::new(4);
    /// std::thread::scope(|s| {
    ///     s.spawn(|| q.push('x').unwrap());
    ///     assert_eq!(q.pop_wait(), 'x');
    /// });
    /// ```
    pub fn pop_wait(&self) -> T {
        self.raw
            .not_empty
            .wait_forever(self.raw.tail_flag(), || self.pop())
    }

    /// [`Queue::pop_timeout`] for the bounded queue: `None` if no value came within `timeout`.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = freeway_queue::ArrayQueue::<u8>::new(1);
    /// assert_eq!(q.pop_timeout(std::time::Duration::from_millis(10)), None);
    /// ```
    pub fn pop_timeout(&self, timeout: Duration) -> Option<T> {
        self.raw
            .not_empty
            .wait_for(self.raw.tail_flag(), || self.pop(), timeout)
    }

    /// [`Queue::pop_async`] for the bounded queue (any executor; `Send` when `T` is;
    /// cancel-safe).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = freeway_queue::ArrayQueue::new(2);
    /// q.push(3).unwrap();
    /// assert_eq!(futures_lite::future::block_on(q.pop_async()), 3);
    /// ```
    pub fn pop_async(&self) -> impl Future<Output = T> + '_ {
        self.raw
            .not_empty
            .wait_async(self.raw.tail_flag(), || self.pop())
    }

    /// Pushes `value` at the back, sleeping while the queue is full.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = freeway_queue::ArrayQueue::new(1);
    /// q.push(1).unwrap();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| assert_eq!(q.pop_wait(), 1));
    ///     q.push_wait(2); // sleeps until the pop above makes room
    /// });
    /// assert_eq!(q.pop(), Some(2));
    /// ```
    pub fn push_wait(&self, value: T) {
        let mut slot = Some(value);
        self.raw
            .not_full
            .wait_forever(self.raw.head_flag(), || self.push_from(&mut slot));
    }

    /// Pushes `value` at the back, sleeping while the queue is full, for at most `timeout`;
    /// gives the value back as `Err(value)` if there was no room by then.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let q = freeway_queue::ArrayQueue::new(1);
    /// assert_eq!(q.push_timeout('a', Duration::from_millis(10)), Ok(()));
    /// assert_eq!(q.push_timeout('b', Duration::from_millis(10)), Err('b'));
    /// ```
    pub fn push_timeout(&self, value: T, timeout: Duration) -> Result<(), T> {
        let mut slot = Some(value);
        match self.raw.not_full.wait_for(
            self.raw.head_flag(),
            || self.push_from(&mut slot),
            timeout,
        ) {
            Some(()) => Ok(()),
            None => match slot {
                Some(v) => Err(v),
                None => unreachable!("a push that did not succeed keeps its value"),
            },
        }
    }

    /// Pushes `value` at the back, waiting (asynchronously) while the queue is full. Works
    /// under any executor; the future is `Send` when `T` is.
    ///
    /// A future dropped before it completes drops `value` with it: the value is then never in
    /// the queue.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = freeway_queue::ArrayQueue::new(1);
    /// futures_lite::future::block_on(q.push_async(5));
    /// assert_eq!(q.pop(), Some(5));
    /// ```
    pub fn push_async(&self, value: T) -> impl Future<Output = ()> + '_ {
        let mut slot = Some(value);
        self.raw
            .not_full
            .wait_async(self.raw.head_flag(), move || self.push_from(&mut slot))
    }

    /// One attempt of the waiting pushes: pushes the value out of `slot`, or puts it back.
    fn push_from(&self, slot: &mut Option<T>) -> Option<()> {
        let v = slot.take()?;
        match self.push(v) {
            Ok(()) => Some(()),
            Err(v) => {
                *slot = Some(v);
                None
            }
        }
    }
}

impl<T> fmt::Debug for ArrayQueue<T> {
    /// Prints `ArrayQueue { .. }`: the contents cannot be read without taking them.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = freeway_queue::ArrayQueue::<u8>::new(1);
    /// assert_eq!(format!("{q:?}"), "ArrayQueue { .. }");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("ArrayQueue { .. }")
    }
}

impl<T> IntoIterator for ArrayQueue<T> {
    type Item = T;
    type IntoIter = ArrayIntoIter<T>;

    /// Turns the queue into an iterator over its values, front to back.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = freeway_queue::ArrayQueue::new(3);
    /// q.push(1).unwrap();
    /// q.push(2).unwrap();
    /// assert_eq!(q.into_iter().collect::<Vec<_>>(), [1, 2]);
    /// ```
    fn into_iter(self) -> ArrayIntoIter<T> {
        ArrayIntoIter { queue: self }
    }
}

/// An owning iterator over the values of an [`ArrayQueue`], front to back.
///
/// The values not consumed are dropped with the iterator.
///
/// # Examples
///
/// ```
/// let q = freeway_queue::ArrayQueue::new(2);
/// q.push("a").unwrap();
/// assert_eq!(q.into_iter().next(), Some("a"));
/// ```
pub struct ArrayIntoIter<T> {
    queue: ArrayQueue<T>,
}

impl<T> Iterator for ArrayIntoIter<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.queue.raw.pop_mut()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.queue.len();
        (n, Some(n))
    }
}

impl<T> ExactSizeIterator for ArrayIntoIter<T> {}

impl<T> fmt::Debug for ArrayIntoIter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("ArrayIntoIter { .. }")
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn crosses_many_segments_in_order() {
        let q = Queue::new();
        let n = raw::SEGMENT_SLOTS * 5 + 3;
        for i in 0..n {
            q.push(i);
        }
        assert_eq!(q.len(), n);
        for i in 0..n {
            assert_eq!(q.pop(), Some(i));
        }
        assert_eq!(q.pop(), None);
        assert_eq!(q.len(), 0);
    }
}
