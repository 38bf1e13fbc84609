//! The map's striped length counter.

use freeway_epoch::CachePadded;
use freeway_epoch::sync::atomic::{AtomicIsize, Ordering};

/// A counter split over cache-padded stripes, one per thread (`freeway_epoch::thread_index`)
/// while threads are fewer than the stripes, so that concurrent writers do not trade its line.
/// A statistic: sums are exact only when no update is in flight.
pub(super) struct Striped(Box<[CachePadded<AtomicIsize>]>);

impl Striped {
    pub(super) fn new(stripes: usize) -> Self {
        Self(
            (0..stripes)
                .map(|_| CachePadded::new(AtomicIsize::new(0)))
                .collect(),
        )
    }

    #[inline]
    pub(super) fn add(&self, d: isize) {
        let i = freeway_epoch::thread_index() % self.0.len();
        // Relaxed: a statistic; no memory is published through the counter.
        self.0[i].fetch_add(d, Ordering::Relaxed);
    }

    /// The sum of the stripes, 0 if it is (transiently) negative.
    pub(super) fn sum(&self) -> usize {
        let n = self
            .0
            .iter()
            // Relaxed: a statistic; no memory is published through the counter.
            .fold(0isize, |n, c| n.wrapping_add(c.load(Ordering::Relaxed)));
        n.max(0) as usize
    }
}
