//! A counting global allocator for tests and benches that measure memory: live bytes and their
//! peak, the number of allocations, the largest one, and the allocations of one chosen size.
//!
//! Install it in a binary of its own (`#[global_allocator]`, one test file or bench): it counts
//! the whole process, and a shared counter on every allocation would slow the speed benches.
//! The forwarding to the system allocator (the one `unsafe` part) is in this crate's `raw`
//! module.
//!
//! # Examples
//!
//! ```
//! use freeway_check::alloc::CountingAlloc;
//!
//! // In a test or bench binary: #[global_allocator] static A: CountingAlloc = CountingAlloc::new();
//! static A: CountingAlloc = CountingAlloc::new();
//! assert_eq!(A.live(), 0);
//! A.watch(4096);
//! assert_eq!(A.watched(), 0);
//! ```

use freeway_epoch::sync::atomic::{AtomicIsize, AtomicUsize, Ordering::Relaxed};

/// Wraps the system allocator and counts what passes through it (see the [module docs](self)).
///
/// Every counter is a statistic updated with `Relaxed` read-modify-writes: a thread reads its
/// own allocations exactly; other threads' become visible in their own time.
#[derive(Debug)]
pub struct CountingAlloc {
    live: AtomicIsize,
    peak: AtomicIsize,
    allocations: AtomicUsize,
    largest: AtomicUsize,
    /// The size [`watch`](CountingAlloc::watch) chose; `usize::MAX` for none.
    watched_size: AtomicUsize,
    watched: AtomicUsize,
}

impl CountingAlloc {
    /// Every counter at zero, no size watched.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = freeway_check::alloc::CountingAlloc::new();
    /// assert_eq!((a.live(), a.peak(), a.allocations()), (0, 0, 0));
    /// ```
    pub const fn new() -> Self {
        Self {
            live: AtomicIsize::new(0),
            peak: AtomicIsize::new(0),
            allocations: AtomicUsize::new(0),
            largest: AtomicUsize::new(0),
            watched_size: AtomicUsize::new(usize::MAX),
            watched: AtomicUsize::new(0),
        }
    }

    /// Bytes allocated and not yet freed.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = freeway_check::alloc::CountingAlloc::new();
    /// assert_eq!(a.live(), 0);
    /// ```
    pub fn live(&self) -> isize {
        self.live.load(Relaxed)
    }

    /// The highest [`live`](CountingAlloc::live) since the last
    /// [`reset_peak`](CountingAlloc::reset_peak).
    ///
    /// # Examples
    ///
    /// ```
    /// let a = freeway_check::alloc::CountingAlloc::new();
    /// assert_eq!(a.peak(), 0);
    /// ```
    pub fn peak(&self) -> isize {
        self.peak.load(Relaxed)
    }

    /// Starts a new peak measurement from the current live bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = freeway_check::alloc::CountingAlloc::new();
    /// a.reset_peak();
    /// assert_eq!(a.peak(), a.live());
    /// ```
    pub fn reset_peak(&self) {
        self.peak.store(self.live(), Relaxed);
    }

    /// Allocations made so far (reallocations count as one each).
    ///
    /// # Examples
    ///
    /// ```
    /// let a = freeway_check::alloc::CountingAlloc::new();
    /// assert_eq!(a.allocations(), 0);
    /// ```
    pub fn allocations(&self) -> usize {
        self.allocations.load(Relaxed)
    }

    /// The size of the largest allocation since the last
    /// [`reset_largest`](CountingAlloc::reset_largest): with a reset before and a read after,
    /// the size of the biggest block an operation allocated.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = freeway_check::alloc::CountingAlloc::new();
    /// a.reset_largest();
    /// assert_eq!(a.largest(), 0);
    /// ```
    pub fn largest(&self) -> usize {
        self.largest.load(Relaxed)
    }

    /// Starts a new [`largest`](CountingAlloc::largest) measurement.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = freeway_check::alloc::CountingAlloc::new();
    /// a.reset_largest();
    /// ```
    pub fn reset_largest(&self) {
        self.largest.store(0, Relaxed);
    }

    /// Counts, from now on, the allocations of exactly `size` bytes (a structure's node or
    /// segment), in [`watched`](CountingAlloc::watched), which starts again from zero.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = freeway_check::alloc::CountingAlloc::new();
    /// a.watch(64);
    /// assert_eq!(a.watched(), 0);
    /// ```
    pub fn watch(&self, size: usize) {
        self.watched_size.store(size, Relaxed);
        self.watched.store(0, Relaxed);
    }

    /// Allocations of the [`watch`](CountingAlloc::watch)ed size since it was chosen.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = freeway_check::alloc::CountingAlloc::new();
    /// assert_eq!(a.watched(), 0);
    /// ```
    pub fn watched(&self) -> usize {
        self.watched.load(Relaxed)
    }

    /// Records an allocation of `size` bytes (the raw module calls this after the system
    /// allocator succeeded).
    pub(crate) fn allocated(&self, size: usize) {
        self.allocations.fetch_add(1, Relaxed);
        self.largest.fetch_max(size, Relaxed);
        if size == self.watched_size.load(Relaxed) {
            self.watched.fetch_add(1, Relaxed);
        }
        self.add(size as isize);
    }

    /// Records a reallocation from `old` to `new` bytes.
    pub(crate) fn reallocated(&self, old: usize, new: usize) {
        self.allocations.fetch_add(1, Relaxed);
        self.largest.fetch_max(new, Relaxed);
        self.add(new as isize - old as isize);
    }

    /// Records `delta` live bytes (negative for a free).
    pub(crate) fn add(&self, delta: isize) {
        let now = self.live.fetch_add(delta, Relaxed) + delta;
        self.peak.fetch_max(now, Relaxed);
    }
}

impl Default for CountingAlloc {
    fn default() -> Self {
        Self::new()
    }
}
