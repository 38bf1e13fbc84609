//! A counting global allocator for the memory bench: live bytes and their peak.
//!
//! Only the `memory` bench binary installs it (`#[global_allocator]`), so the speed benches
//! measure the plain system allocator: a shared counter on every allocation would slow the
//! allocation-heavy contenders under threads and bias the comparison.
//!
//! # Examples
//!
//! ```
//! use freeway_benches::alloc::CountingAlloc;
//!
//! static A: CountingAlloc = CountingAlloc::new();
//! // In a bench binary: #[global_allocator] static A: CountingAlloc = CountingAlloc::new();
//! assert_eq!(A.live(), 0);
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
// Benches never build under loom, so the facade gives std's atomics here.
use freeway_epoch::sync::atomic::{AtomicIsize, Ordering};

/// Wraps the system allocator, counting live bytes and the peak since the last reset.
#[derive(Debug)]
pub struct CountingAlloc {
    live: AtomicIsize,
    peak: AtomicIsize,
}

impl CountingAlloc {
    /// A counter at zero.
    pub const fn new() -> Self {
        Self {
            live: AtomicIsize::new(0),
            peak: AtomicIsize::new(0),
        }
    }

    /// Bytes allocated and not yet freed.
    pub fn live(&self) -> isize {
        // Relaxed: a statistic.
        self.live.load(Ordering::Relaxed)
    }

    /// The highest `live` seen since the last [`CountingAlloc::reset_peak`].
    pub fn peak(&self) -> isize {
        // Relaxed: a statistic.
        self.peak.load(Ordering::Relaxed)
    }

    /// Starts a new peak measurement from the current live bytes.
    pub fn reset_peak(&self) {
        // Relaxed: a statistic.
        self.peak.store(self.live(), Ordering::Relaxed);
    }

    fn add(&self, n: isize) {
        // Relaxed: statistics; no memory is published through these counters.
        let now = self.live.fetch_add(n, Ordering::Relaxed) + n;
        self.peak.fetch_max(now, Ordering::Relaxed);
    }
}

impl Default for CountingAlloc {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged and only
// counts sizes on the side, so `System`'s guarantees carry over.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded from the caller.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            self.add(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded from the caller.
        unsafe { System.dealloc(ptr, layout) };
        self.add(-(layout.size() as isize));
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded from the caller.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            self.add(layout.size() as isize);
        }
        p
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded from the caller.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            self.add(new_size as isize - layout.size() as isize);
        }
        p
    }
}
