//! The guard wrapper every raw operation takes.

use freeway_epoch::Guard;

/// A guard known to pin the default collector, the one entries and tables are retired to.
///
/// Every raw operation takes one: an unprotected guard, or one of another `Collector`, would
/// not hold back the retirements of `retire_entry` and `promote`, and the references handed out
/// would dangle. The check (`Pinned::check`, a dozen instructions) runs once per call of the
/// guard-taking API; `HashMapRef` pins through `Pinned::pin` and skips it for good.
#[repr(transparent)]
pub(crate) struct Pinned(Guard);

impl Pinned {
    /// Pins the current thread on the default collector.
    pub(crate) fn pin() -> Self {
        Self(freeway_epoch::pin())
    }

    /// `guard` as a `Pinned`.
    ///
    /// # Panics
    ///
    /// Unless `guard` pins the default collector.
    #[inline]
    pub(crate) fn check(guard: &Guard) -> &Self {
        assert!(
            freeway_epoch::pins_default_collector(guard),
            "freeway_hashmap: the guard must come from freeway_epoch::pin() (the default \
             collector); an unprotected guard or one of another Collector cannot protect the \
             map's entries"
        );
        let p = guard as *const Guard as *const Self;
        // SAFETY: `Pinned` is a `repr(transparent)` wrapper of `Guard`, so the cast keeps the
        // layout and the lifetime of the borrow; the check above is the wrapper's invariant.
        unsafe { &*p }
    }

    /// The guard.
    #[inline]
    pub(crate) fn guard(&self) -> &Guard {
        &self.0
    }
}
