//! Counts of objects retired through the workspace's retirement path and of those reclaimed.
//!
//! On with the `accounting` cargo feature (every crate's tests and the benches turn it on); off,
//! the counting calls compile to nothing and [`counts`] reports zeros.
//!
//! The counters are process-wide and striped over cache-padded cells, so counting costs one
//! uncontended relaxed increment. They are statistics, not synchronisation: a snapshot taken
//! while other threads retire is only approximately consistent, and tests that assert
//! quiescence must be the only test of their process retiring at that moment.
//!
//! # Examples
//!
//! ```
//! use freeway_epoch::accounting;
//!
//! let before = accounting::counts();
//! let guard = freeway_epoch::pin();
//! freeway_epoch::defer_drop(&guard, 1u8);
//! drop(guard);
//! if accounting::ENABLED {
//!     assert!(accounting::counts().retired >= before.retired + 1);
//! }
//! ```

/// Whether this build counts (the `accounting` feature).
pub const ENABLED: bool = cfg!(feature = "accounting");

/// A snapshot of the counters.
///
/// # Examples
///
/// ```
/// let c = freeway_epoch::accounting::counts();
/// assert!(c.reclaimed <= c.retired || !freeway_epoch::accounting::ENABLED);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Objects handed to the retirement path so far.
    pub retired: u64,
    /// Objects whose deferred destruction has run so far.
    pub reclaimed: u64,
}

impl Counts {
    /// Retired but not yet reclaimed: the garbage.
    ///
    /// # Examples
    ///
    /// ```
    /// let c = freeway_epoch::accounting::Counts { retired: 5, reclaimed: 3 };
    /// assert_eq!(c.outstanding(), 2);
    /// ```
    pub fn outstanding(&self) -> u64 {
        self.retired.saturating_sub(self.reclaimed)
    }
}

/// Reads the counters (zeros without the `accounting` feature).
///
/// # Examples
///
/// ```
/// let c = freeway_epoch::accounting::counts();
/// println!("garbage now: {}", c.outstanding());
/// ```
pub fn counts() -> Counts {
    imp::counts()
}

#[inline(always)]
pub(crate) fn note_retired() {
    imp::note_retired()
}

#[inline(always)]
pub(crate) fn note_reclaimed() {
    imp::note_reclaimed()
}

#[cfg(feature = "accounting")]
mod imp {
    // Plain std atomics on purpose, also under loom: these are statistics, never used to order
    // anything, and loom atomics cannot live in statics shared across model iterations.
    use crossbeam_utils::CachePadded;
    use std::sync::atomic::{AtomicU64, Ordering};

    const STRIPES: usize = 16;

    struct Stripe {
        retired: AtomicU64,
        reclaimed: AtomicU64,
    }

    static STRIPE: [CachePadded<Stripe>; STRIPES] = [const {
        CachePadded::new(Stripe {
            retired: AtomicU64::new(0),
            reclaimed: AtomicU64::new(0),
        })
    }; STRIPES];
    #[inline]
    fn stripe() -> &'static Stripe {
        &STRIPE[crate::thread_index() % STRIPES]
    }

    #[inline]
    pub(super) fn note_retired() {
        // Relaxed: a statistic; nothing is published through it.
        stripe().retired.fetch_add(1, Ordering::Relaxed);
    }

    #[inline]
    pub(super) fn note_reclaimed() {
        // Relaxed: a statistic; nothing is published through it.
        stripe().reclaimed.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn counts() -> super::Counts {
        let mut c = super::Counts::default();
        for s in &STRIPE {
            // Relaxed: a statistic read; callers accept an approximate snapshot.
            c.retired += s.retired.load(Ordering::Relaxed);
            c.reclaimed += s.reclaimed.load(Ordering::Relaxed);
        }
        c
    }
}

#[cfg(not(feature = "accounting"))]
mod imp {
    #[inline(always)]
    pub(super) fn note_retired() {}
    #[inline(always)]
    pub(super) fn note_reclaimed() {}
    pub(super) fn counts() -> super::Counts {
        super::Counts::default()
    }
}
