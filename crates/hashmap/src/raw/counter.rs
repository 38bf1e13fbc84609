//! The map's striped length counter.

use freeway_epoch::CachePadded;
use freeway_epoch::sync::atomic::{AtomicIsize, Ordering};

/// A counter split over cache-padded stripes so that concurrent writers do not trade its line:
/// one per thread holding an exclusive `freeway_epoch::Stripe` (updated with a plain load and
/// store: only that thread writes it), then `shared` more for the other threads, spread by
/// `freeway_epoch::thread_index` and updated with `fetch_add`. A statistic: sums are exact only
/// when no update is in flight.
pub(super) struct Striped {
    exclusive: Box<[CachePadded<AtomicIsize>]>,
    shared: Box<[CachePadded<AtomicIsize>]>,
}

impl Striped {
    /// A counter with a stripe per exclusive `freeway_epoch::Stripe` and `shared` more. Under
    /// loom, where every stripe is `Shared`, none of the exclusive ones: each would be one more
    /// atomic for every sum to load, and more branches for the model.
    pub(super) fn new(shared: usize) -> Self {
        let exclusive = if cfg!(loom) {
            0
        } else {
            freeway_epoch::EXCLUSIVE_STRIPES
        };
        Self::with(exclusive, shared)
    }

    /// A counter with `shared` stripes only (small, for counters written less often).
    pub(super) fn shared(shared: usize) -> Self {
        Self::with(0, shared)
    }

    fn with(exclusive: usize, shared: usize) -> Self {
        let stripes = |n| {
            (0..n)
                .map(|_| CachePadded::new(AtomicIsize::new(0)))
                .collect()
        };
        Self {
            exclusive: stripes(exclusive),
            shared: stripes(shared.max(1)),
        }
    }

    #[inline]
    pub(super) fn add(&self, d: isize) {
        let stripe = if self.exclusive.is_empty() {
            freeway_epoch::Stripe::Shared
        } else {
            freeway_epoch::stripe()
        };
        match stripe {
            freeway_epoch::Stripe::Exclusive(i) => {
                let c = &self.exclusive[i];
                // Relaxed (both): only this thread writes this stripe while it holds the index,
                // and its predecessor's stores are visible through the index hand-over (see
                // `freeway_epoch::stripe`); readers only sum a statistic. Not a locked
                // instruction: a writer pays one less per counted write.
                c.store(c.load(Ordering::Relaxed).wrapping_add(d), Ordering::Relaxed);
            }
            freeway_epoch::Stripe::Shared => {
                let i = freeway_epoch::thread_index() % self.shared.len();
                // Relaxed: a statistic; no memory is published through the counter.
                self.shared[i].fetch_add(d, Ordering::Relaxed);
            }
        }
    }

    /// The sum of the stripes, 0 if it is (transiently) negative.
    pub(super) fn sum(&self) -> usize {
        let n = self
            .exclusive
            .iter()
            .chain(self.shared.iter())
            // Relaxed: a statistic; no memory is published through the counter.
            .fold(0isize, |n, c| n.wrapping_add(c.load(Ordering::Relaxed)));
        n.max(0) as usize
    }
}
