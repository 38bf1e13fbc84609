//! The synchronisation facade: std normally, [loom](https://docs.rs/loom) under `--cfg loom`.
//!
//! Every Freeway structure takes its atomics, [`cell::UnsafeCell`], [`Arc`], [`Mutex`],
//! [`thread`] and [`hint::spin_loop`] from here, never from `std` directly, so that the very same
//! algorithm text runs in a loom model. Under loom, crossbeam-epoch and crossbeam-utils are built
//! in their loom mode as well (both `--cfg loom --cfg crossbeam_loom`), so pins, deferred
//! destruction and backoff are modelled too.
//!
//! The std [`cell::UnsafeCell`] here carries loom's closure API (`with`, `with_mut`): loom needs
//! to see every access to cell contents, and the closures are where it looks. In std builds the
//! closures inline away.
//!
//! # Examples
//!
//! ```
//! use freeway_epoch::sync::atomic::{AtomicUsize, Ordering};
//! use freeway_epoch::sync::cell::UnsafeCell;
//!
//! let hits = AtomicUsize::new(0);
//! hits.fetch_add(1, Ordering::Relaxed);
//! assert_eq!(hits.load(Ordering::Relaxed), 1);
//!
//! let cell = UnsafeCell::new(5);
//! // SAFETY: no other reference to the cell's contents exists.
//! cell.with_mut(|p| unsafe { *p += 1 });
//! // SAFETY: no writer exists any more.
//! assert_eq!(cell.with(|p| unsafe { *p }), 6);
//! ```

#[cfg(not(loom))]
pub use std::sync::{Arc, Mutex, MutexGuard};

#[cfg(loom)]
pub use loom::sync::{Arc, Mutex, MutexGuard};

/// Threads: `std::thread` normally, `loom::thread` in a model.
#[cfg(not(loom))]
pub use std::thread;

/// Threads: `std::thread` normally, `loom::thread` in a model.
#[cfg(loom)]
pub use loom::thread;

/// Atomic types, fences and orderings.
pub mod atomic {
    #[cfg(not(loom))]
    pub use std::sync::atomic::{
        AtomicBool, AtomicI64, AtomicIsize, AtomicPtr, AtomicU8, AtomicU32, AtomicU64, AtomicUsize,
        Ordering, compiler_fence, fence,
    };

    #[cfg(loom)]
    pub use loom::sync::atomic::{
        AtomicBool, AtomicI64, AtomicIsize, AtomicPtr, AtomicU8, AtomicU32, AtomicU64, AtomicUsize,
        Ordering, fence,
    };

    /// A compiler-only fence. loom has no compiler fences; in a model it is a no-op.
    #[cfg(loom)]
    pub fn compiler_fence(_order: Ordering) {}

    /// A 16-byte atomic integer: [portable-atomic's](https://docs.rs/portable-atomic)
    /// (`cmpxchg16b` on x86-64, detected at run time unless the build enables the target
    /// feature; `ldxp`/`stxp` or `casp` on AArch64; a global lock table on targets without a
    /// 16-byte compare-exchange, where [`AtomicU128::is_lock_free`] is false).
    ///
    /// # Examples
    ///
    /// ```
    /// use freeway_epoch::sync::atomic::{AtomicU128, Ordering};
    ///
    /// let pair = AtomicU128::new(1 << 64 | 2);
    /// assert!(pair.compare_exchange(1 << 64 | 2, 3, Ordering::AcqRel, Ordering::Acquire).is_ok());
    /// assert_eq!(pair.load(Ordering::Acquire), 3);
    /// ```
    #[cfg(not(loom))]
    pub use portable_atomic::AtomicU128;

    /// A 16-byte atomic integer emulated for loom, which has none: the value behind a loom
    /// mutex, so that a model explores every interleaving of the 16-byte operations, each of
    /// them indivisible. The emulation is stronger than the hardware: every operation
    /// synchronises with the one before it (as `SeqCst` would), whatever ordering it names, so a
    /// model cannot catch an ordering on these operations that is too weak.
    #[cfg(loom)]
    #[derive(Debug)]
    pub struct AtomicU128(loom::sync::Mutex<u128>);

    #[cfg(loom)]
    impl AtomicU128 {
        /// A new atomic holding `v`.
        pub fn new(v: u128) -> Self {
            Self(loom::sync::Mutex::new(v))
        }

        /// Whether the operations are lock-free (in a model, as on x86-64: yes).
        pub fn is_lock_free() -> bool {
            true
        }

        /// The value.
        pub fn load(&self, _order: Ordering) -> u128 {
            *self.0.lock().unwrap()
        }

        /// Stores `v`.
        pub fn store(&self, v: u128, _order: Ordering) {
            *self.0.lock().unwrap() = v;
        }

        /// Stores `v` and returns the previous value.
        pub fn swap(&self, v: u128, _order: Ordering) -> u128 {
            std::mem::replace(&mut *self.0.lock().unwrap(), v)
        }

        /// Stores `new` if the value is `current`; returns the previous value, `Ok` if it was
        /// `current`.
        pub fn compare_exchange(
            &self,
            current: u128,
            new: u128,
            _success: Ordering,
            _failure: Ordering,
        ) -> Result<u128, u128> {
            let mut v = self.0.lock().unwrap();
            if *v == current {
                *v = new;
                Ok(current)
            } else {
                Err(*v)
            }
        }

        /// As `compare_exchange` (a model has no spurious failures).
        pub fn compare_exchange_weak(
            &self,
            current: u128,
            new: u128,
            success: Ordering,
            failure: Ordering,
        ) -> Result<u128, u128> {
            self.compare_exchange(current, new, success, failure)
        }
    }
}

/// Spin-loop hints.
pub mod hint {
    #[cfg(not(loom))]
    pub use std::hint::spin_loop;

    #[cfg(loom)]
    pub use loom::hint::spin_loop;
}

/// Interior mutability with loom's closure API.
pub mod cell {
    #[cfg(loom)]
    pub use loom::cell::UnsafeCell;

    /// `std::cell::UnsafeCell` with loom's `with`/`with_mut` API.
    ///
    /// # Examples
    ///
    /// ```
    /// use freeway_epoch::sync::cell::UnsafeCell;
    ///
    /// let cell = UnsafeCell::new([0u8; 4]);
    /// // SAFETY: we hold the only reference.
    /// cell.with_mut(|p| unsafe { (*p)[0] = 7 });
    /// assert_eq!(cell.into_inner(), [7, 0, 0, 0]);
    /// ```
    #[cfg(not(loom))]
    #[derive(Debug, Default)]
    #[repr(transparent)]
    pub struct UnsafeCell<T: ?Sized>(std::cell::UnsafeCell<T>);

    #[cfg(not(loom))]
    impl<T> UnsafeCell<T> {
        /// Wraps `value`.
        #[inline(always)]
        pub const fn new(value: T) -> Self {
            Self(std::cell::UnsafeCell::new(value))
        }

        /// Unwraps the value.
        #[inline(always)]
        pub fn into_inner(self) -> T {
            self.0.into_inner()
        }
    }

    #[cfg(not(loom))]
    impl<T: ?Sized> UnsafeCell<T> {
        /// Runs `f` with a shared raw pointer to the contents.
        #[inline(always)]
        pub fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        /// Runs `f` with a unique raw pointer to the contents.
        #[inline(always)]
        pub fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}

/// Waits a little before a retry, while another thread finishes a bounded step: `backoff`'s
/// snooze (spins that double, then yields) with std, one loom yield point in a model (where a
/// spin would only add branches to explore). The one waiting helper of every structure.
///
/// # Examples
///
/// ```
/// use freeway_epoch::Backoff;
/// use freeway_epoch::sync::atomic::{AtomicBool, Ordering};
///
/// let ready = AtomicBool::new(true);
/// let backoff = Backoff::new();
/// while !ready.load(Ordering::Acquire) {
///     freeway_epoch::sync::snooze(&backoff);
/// }
/// ```
#[inline]
pub fn snooze(backoff: &crate::Backoff) {
    #[cfg(not(loom))]
    backoff.snooze();
    #[cfg(loom)]
    {
        let _ = backoff;
        hint::spin_loop();
    }
}

/// Waits until `done` holds, snoozing between looks (see [`snooze`]). For waits on another
/// thread's bounded step that runs no user code.
///
/// # Examples
///
/// ```
/// use freeway_epoch::sync::atomic::{AtomicUsize, Ordering};
///
/// let n = AtomicUsize::new(0);
/// freeway_epoch::sync::wait_until(|| n.fetch_add(1, Ordering::Relaxed) >= 3);
/// assert_eq!(n.load(Ordering::Relaxed), 4);
/// ```
pub fn wait_until(mut done: impl FnMut() -> bool) {
    let backoff = crate::Backoff::new();
    while !done() {
        snooze(&backoff);
    }
}

/// Runs `f` as a loom model under `cfg(loom)`, and once, directly, otherwise.
///
/// Lets a test be written once and run in both worlds.
///
/// # Examples
///
/// ```
/// freeway_epoch::sync::model(|| {
///     let t = freeway_epoch::sync::thread::spawn(|| 1 + 1);
///     assert_eq!(t.join().unwrap(), 2);
/// });
/// ```
pub fn model<F>(f: F)
where
    F: Fn() + Sync + Send + 'static,
{
    #[cfg(loom)]
    loom::model(f);
    #[cfg(not(loom))]
    f();
}
