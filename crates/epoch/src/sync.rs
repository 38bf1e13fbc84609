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

    /// Puts an atomic's initial value into the single total order of `SeqCst` operations, in a
    /// loom model; does nothing otherwise.
    ///
    /// loom 0.7 keeps a `SeqCst` load from reading a `SeqCst` store that a newer `SeqCst` store
    /// has replaced, which models that total order, but it records the value an atomic is made
    /// with as a non-`SeqCst` store, so such a load may still return the initial value after
    /// another thread's `SeqCst` store. The memory model rules that out: the initial value
    /// happens before every operation on the atomic, so a `SeqCst` load that follows a `SeqCst`
    /// store in the total order cannot read it. A constructor whose atomics take part in a
    /// `SeqCst` argument (a store-buffering shape: each side stores, then loads what the other
    /// stored) calls this on each of them, so that loom checks the argument instead of
    /// reporting an outcome that cannot happen.
    ///
    /// # Examples
    ///
    /// ```
    /// use freeway_epoch::sync::atomic::{AtomicUsize, Ordering, SeqCstInit};
    ///
    /// let flag = AtomicUsize::new(0);
    /// flag.seq_cst_init();
    /// assert_eq!(flag.load(Ordering::SeqCst), 0);
    /// ```
    pub trait SeqCstInit {
        /// Stores the current value again with `SeqCst` under loom; a no-op otherwise.
        fn seq_cst_init(&self);
    }

    macro_rules! seq_cst_init {
        ($($t:ty),*) => {$(
            impl SeqCstInit for $t {
                #[inline(always)]
                fn seq_cst_init(&self) {
                    #[cfg(loom)]
                    self.store(self.load(Ordering::Relaxed), Ordering::SeqCst);
                }
            }
        )*};
    }
    seq_cst_init!(AtomicBool, AtomicU64, AtomicUsize);

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

    /// A 16-byte atomic integer emulated for loom, which has none, with the orderings it is
    /// given. Every value ever stored is kept, in order, and a loom `AtomicUsize` holds the
    /// index of the current one: a load is a load of the index with the caller's ordering, a
    /// store or swap stores a new index, and a compare-exchange compares the value at the index
    /// it loaded and exchanges the index. So a model sees each operation's release and acquire
    /// as named, and explores stale reads of a `Relaxed` (or `Acquire`) load as it does for
    /// its own atomics; a model can catch an ordering on these operations that is too weak.
    /// (The list of values sits behind a std mutex, which loom does not see and which adds no
    /// happens-before: it only keeps the vector's memory safe.)
    #[cfg(loom)]
    pub struct AtomicU128 {
        current: loom::sync::atomic::AtomicUsize,
        values: std::sync::Mutex<Vec<u128>>,
    }

    #[cfg(loom)]
    impl std::fmt::Debug for AtomicU128 {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("AtomicU128").finish_non_exhaustive()
        }
    }

    #[cfg(loom)]
    impl AtomicU128 {
        /// A new atomic holding `v`.
        pub fn new(v: u128) -> Self {
            Self {
                current: loom::sync::atomic::AtomicUsize::new(0),
                values: std::sync::Mutex::new(vec![v]),
            }
        }

        /// Whether the operations are lock-free (in a model, as on x86-64: yes).
        pub fn is_lock_free() -> bool {
            true
        }

        /// The value stored at index `i`.
        fn at(&self, i: usize) -> u128 {
            self.values.lock().unwrap_or_else(|e| e.into_inner())[i]
        }

        /// Keeps `v` and returns its index (not yet current).
        fn keep(&self, v: u128) -> usize {
            let mut values = self.values.lock().unwrap_or_else(|e| e.into_inner());
            values.push(v);
            values.len() - 1
        }

        /// The value.
        pub fn load(&self, order: Ordering) -> u128 {
            self.at(self.current.load(order))
        }

        /// Stores `v`.
        pub fn store(&self, v: u128, order: Ordering) {
            let i = self.keep(v);
            self.current.store(i, order);
        }

        /// Stores `v` and returns the previous value.
        pub fn swap(&self, v: u128, order: Ordering) -> u128 {
            let i = self.keep(v);
            self.at(self.current.swap(i, order))
        }

        /// Stores `new` if the value is `current`; returns the previous value, `Ok` if it was
        /// `current`. A failure is a load with `failure`; a success exchanges the index it
        /// compared with `success` (if another store came between, it compares again).
        pub fn compare_exchange(
            &self,
            current: u128,
            new: u128,
            success: Ordering,
            failure: Ordering,
        ) -> Result<u128, u128> {
            let mut i = self.current.load(failure);
            loop {
                let v = self.at(i);
                if v != current {
                    return Err(v);
                }
                let j = self.keep(new);
                match self.current.compare_exchange(i, j, success, failure) {
                    Ok(_) => return Ok(v),
                    Err(now) => i = now,
                }
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

/// A mark of an object's making that loom can see.
///
/// An object's plain fields (a segment's lap, a table's size) are written before a pointer to
/// it is published with a `Release` (or stronger) store, and read by threads that `Acquire` the
/// pointer. loom cannot see plain fields, so a pointer load weakened to `Relaxed` would pass
/// every model. Under loom a witness is a cell written when its object is made (and again when
/// a recycled object is reset, [`remake`](Self::remake)) and read each time a pointer to the
/// object is followed ([`check`](Self::check)): a read without the happens-before of the
/// making, or a remaking not ordered after every earlier read, is a causality violation, which
/// fails the model. A witness made with [`tracked`](Self::tracked) also fails the model if
/// its object is never dropped: loom then reports the leak at the end of the execution.
/// Elsewhere a witness is zero-sized and its methods compile to nothing.
///
/// # Examples
///
/// ```
/// use freeway_epoch::sync::Witness;
///
/// struct Node {
///     witness: Witness,
///     value: u64,
/// }
///
/// let node = Node { witness: Witness::new(), value: 7 };
/// node.witness.check(); // where a reader follows a pointer to `node`
/// assert_eq!(node.value, 7);
/// ```
#[derive(Debug, Default)]
pub struct Witness {
    #[cfg(loom)]
    cell: cell::UnsafeCell<()>,
    #[cfg(loom)]
    /// Held for its drop, which tells loom the object was freed.
    _track: Option<loom::alloc::Track<()>>,
}

// SAFETY: the cell holds a unit whose reads and writes are loom's bookkeeping only (loom keeps
// it thread-safely); no data is shared through it.
#[cfg(loom)]
unsafe impl Sync for Witness {}

// Nothing a panic could leave half-written: the witness holds no state.
#[cfg(loom)]
impl std::panic::RefUnwindSafe for Witness {}

impl Witness {
    /// A witness made now.
    #[inline(always)]
    pub fn new() -> Self {
        Self {
            #[cfg(loom)]
            cell: cell::UnsafeCell::new(()),
            #[cfg(loom)]
            _track: None,
        }
    }

    /// A witness made now whose drop loom expects before the execution ends: an object that
    /// holds it and is lost (never freed) fails the model.
    #[inline(always)]
    pub fn tracked() -> Self {
        Self {
            #[cfg(loom)]
            cell: cell::UnsafeCell::new(()),
            #[cfg(loom)]
            _track: Some(loom::alloc::Track::new(())),
        }
    }

    /// Under loom, fails the model unless the object's making (or last remaking) happens
    /// before this call.
    #[inline(always)]
    pub fn check(&self) {
        #[cfg(loom)]
        self.cell.with(|_| ());
    }

    /// Marks a recycled object's reset: under loom, fails the model unless every earlier
    /// [`check`](Self::check) happens before this call, and later checks must then happen
    /// after it.
    #[inline(always)]
    pub fn remake(&self) {
        #[cfg(loom)]
        self.cell.with_mut(|_| ());
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
