//! Segment recycling: a queue in steady state allocates no segments. Its own test binary
//! because it counts the process's allocations (a counting global allocator) and must be the
//! only test retiring and allocating while it measures.
#![cfg(not(loom))]

use freeway_queue::Queue;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};

/// Counts allocations of exactly `SEGMENT_BYTES` bytes (a segment's size, learnt from a fresh
/// queue's first push), and records the largest allocation while `LEARNING` is on.
struct Counting;

static SEGMENT_BYTES: AtomicUsize = AtomicUsize::new(usize::MAX);
static SEGMENT_ALLOCS: AtomicUsize = AtomicUsize::new(0);
static LEARNING: AtomicBool = AtomicBool::new(false);
static LARGEST: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to `System` unchanged; the counters have no effect on the memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // Relaxed (all): statistics read by this thread only.
        if layout.size() == SEGMENT_BYTES.load(Relaxed) {
            SEGMENT_ALLOCS.fetch_add(1, Relaxed);
        }
        if LEARNING.load(Relaxed) {
            LARGEST.fetch_max(layout.size(), Relaxed);
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

/// A fresh queue's first push allocates one segment (and the pool, which is smaller); this
/// thread's epoch record already exists. The segment is the largest allocation.
fn learn_segment_size() {
    drop(freeway_epoch::pin());
    LEARNING.store(true, Relaxed);
    let q = Queue::new();
    q.push(1u64);
    LEARNING.store(false, Relaxed);
    SEGMENT_BYTES.store(LARGEST.load(Relaxed), Relaxed);
    drop(q);
}

#[test]
fn steady_state_allocates_no_segments() {
    // At least the slots of a segment (the largest size the queue has used).
    const SEG: u64 = 256;
    learn_segment_size();
    for depth in [0, 3 * SEG + 17] {
        let q = Queue::new();
        // Warm-up: the pool fills once the first retired segments' grace period is over.
        churn(&q, 300 * SEG, depth);
        let before = SEGMENT_ALLOCS.load(Relaxed);
        // 1 000 more segments' worth of values pass through the queue.
        churn(&q, 1000 * SEG, 0);
        let after = SEGMENT_ALLOCS.load(Relaxed);
        assert_eq!(
            after - before,
            0,
            "depth {depth}: segments were allocated in steady state"
        );
        // Sanity: the counter sees segments (a fresh queue allocates one on its first push).
        let fresh = Queue::new();
        fresh.push(1u64);
        assert!(
            SEGMENT_ALLOCS.load(Relaxed) > after,
            "the counter missed a segment"
        );
        drop((q, fresh));
    }
}
