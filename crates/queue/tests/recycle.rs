//! Segment recycling: a queue in steady state allocates no segments. Its own test binary
//! because it counts the process's allocations (a counting global allocator) and must be the
//! only test retiring and allocating while it measures.
#![cfg(not(loom))]

use freeway_check::alloc::CountingAlloc;
use freeway_queue::Queue;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc::new();

/// `n` push+pop pairs, keeping `depth` values queued.
fn churn(q: &Queue<u64>, n: u64, depth: u64) {
    for i in 0..n {
        q.push(i);
        if i >= depth {
            assert!(q.pop().is_some());
        }
    }
}

/// A segment's size in bytes: a fresh queue's first push allocates one segment (and the pool,
/// which is smaller); this thread's epoch record already exists. The segment is the largest
/// allocation.
fn learn_segment_size() -> usize {
    drop(freeway_epoch::pin());
    ALLOC.reset_largest();
    let q = Queue::new();
    q.push(1u64);
    let size = ALLOC.largest();
    drop(q);
    size
}

#[test]
fn steady_state_allocates_no_segments() {
    // At least the slots of a segment (the largest size the queue has used).
    const SEG: u64 = 256;
    ALLOC.watch(learn_segment_size());
    for depth in [0, 3 * SEG + 17] {
        let q = Queue::new();
        // Warm-up: the pool fills once the first retired segments' grace period is over.
        churn(&q, 300 * SEG, depth);
        let before = ALLOC.watched();
        // 1 000 more segments' worth of values pass through the queue.
        churn(&q, 1000 * SEG, 0);
        let after = ALLOC.watched();
        assert_eq!(
            after - before,
            0,
            "depth {depth}: segments were allocated in steady state"
        );
        // Sanity: the counter sees segments (a fresh queue allocates one on its first push).
        let fresh = Queue::new();
        fresh.push(1u64);
        assert!(ALLOC.watched() > after, "the counter missed a segment");
        drop((q, fresh));
    }
}
