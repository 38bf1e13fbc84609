//! Segment recycling: a queue in steady state allocates no segments. Its own test binary
//! because it counts the process's allocations (a counting global allocator) and must be the
//! only test retiring and allocating while it measures.
#![cfg(not(loom))]

use freeway_queue::Queue;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// Counts allocations of `BIG..HUGE` bytes: a segment of 63 `u64` slots is 1 KiB, while
/// everything else this test allocates is smaller (the pool, the epoch's thread record) or
/// larger (the epoch's bags of 64 deferred functions, over 2 KiB).
struct Counting;

const BIG: usize = 1000;
const HUGE: usize = 2048;
static BIG_ALLOCS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to `System` unchanged; the counter has no effect on the memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if (BIG..HUGE).contains(&layout.size()) {
            // Relaxed: a statistic read by this thread only.
            BIG_ALLOCS.fetch_add(1, Relaxed);
        }
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// `n` push+pop pairs, keeping `depth` values queued.
fn churn(q: &Queue<u64>, n: u64, depth: u64) {
    for i in 0..n {
        q.push(i);
        if i >= depth {
            assert!(q.pop().is_some());
        }
    }
}

#[test]
fn steady_state_allocates_no_segments() {
    const SEG: u64 = 63;
    for depth in [0, 3 * SEG + 17] {
        let q = Queue::new();
        // Warm-up: the pool fills once the first retired segments' grace period is over.
        churn(&q, 300 * SEG, depth);
        let before = BIG_ALLOCS.load(Relaxed);
        // 1 000 more segments' worth of values pass through the queue.
        churn(&q, 1000 * SEG, 0);
        let after = BIG_ALLOCS.load(Relaxed);
        assert_eq!(
            after - before,
            0,
            "depth {depth}: segments were allocated in steady state"
        );
        // Sanity: the counter sees segments (a fresh queue allocates one on its first push).
        let fresh = Queue::new();
        fresh.push(1u64);
        assert!(
            BIG_ALLOCS.load(Relaxed) > after,
            "the counter missed a segment"
        );
        drop((q, fresh));
    }
}
