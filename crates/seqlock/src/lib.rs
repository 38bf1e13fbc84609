//! A seqlock that is sound under the Rust memory model, and a two-copy latch beside it whose
//! readers never wait on a writer.
//!
//! A seqlock protects a small `Copy` value that is read far more often than it is written.
//! Readers take no lock and write no shared memory: they read a sequence number, copy the value,
//! and read the sequence number again; if a writer was active in between they try again. Writers
//! bump the sequence number around their store. Reads therefore scale with the number of
//! readers, and a writer is never blocked by readers.
//!
//! - [`SeqLock<T>`]: one copy. A reader retries while a writer is storing.
//! - [`SeqLatch<T>`]: two copies. A writer stores the copy readers are not using, then flips
//!   them to it, so a reader never waits, even on a writer preempted mid-store. It costs one more
//!   copy of `T` in memory.
//!
//! # Sources
//!
//! - Leslie Lamport, "Concurrent reading and writing", *Communications of the ACM* 20(11), 1977:
//!   version numbers read before and after, so readers detect a concurrent write and retry.
//! - The Linux kernel's `seqcount_t`/`seqlock_t` (Stephen Hemminger, 2.5.60, 2003) and
//!   `seqcount_latch` (Mathieu Desnoyers and Peter Zijlstra, 3.19, 2014), in
//!   `include/linux/seqlock.h`.
//! - Hans-J. Boehm, "Can seqlocks get along with programming language memory models?",
//!   MSPC 2012: the orderings a seqlock needs under the C++11 (and so Rust) memory model, and
//!   why the data must be read with atomic operations.
//! - Rust RFC 3301, `AtomicPerByte` (Mara Bos, 2022): the same diagnosis for Rust, and the relaxed
//!   atomic copy this crate does by hand until such a type exists.
//!
//! # Why not a plain copy
//!
//! A reader copies the value while a writer may be storing it. In Rust a non-atomic read racing
//! with a write is a data race, undefined behaviour, even if the result is thrown away: the
//! popular `seqlock` crate reads with `read_volatile`, which is still a data race. Here every
//! byte of the value is stored and loaded as part of a relaxed atomic word, so there is no race
//! in the language's sense, only torn copies, which validation rejects before they become a `T`.
//! Reading bytes as integers requires that `T` have no uninitialised (padding) bytes: that is
//! the [`Plain`] bound.
//!
//! # The protocols
//!
//! ## Reader
//! Load the sequence word (`Acquire`); for the seqlock, retry at once if a writer is storing.
//! Copy the value's words (`Relaxed` atomic loads). `fence(Acquire)`. Load the sequence word
//! again (`Relaxed`); if it moved, discard the copy and retry; else turn the copy into a `T`.
//! On x86 the loads are plain `mov`s and the fence compiles to nothing, so a read costs what an
//! unsound volatile read costs.
//!
//! ## Writer
//! Writers are serialised by a lock bit in the sequence word itself (a CAS sets it, `Acquire`),
//! so a writer waits only on another writer (its store, or the closure of its
//! [`update`](SeqLock::update), or the life of its [`write`](SeqLock::write) guard), spinning
//! with backoff. A reader never blocks a writer: readers never write shared memory.
//! A writer that holds the lock does not stop readers; only the store itself does (for the
//! seqlock): mark the word "storing" (`Relaxed`) and `fence(Release)`, store the words
//! (`Relaxed`), then bump the version and unlock in one `Release` store. The latch instead stores
//! the copy no reader is using and flips readers to it with one `Release` store.
//!
//! The state tables of both sequence words, and the orderings argued pair by pair, are in the
//! private `raw` module (`src/raw/lock.rs`, `src/raw/latch.rs`).
//!
//! # Examples
//!
//! ```
//! use freeway_seqlock::{SeqLatch, SeqLock};
//! use std::thread;
//!
//! let clock = SeqLock::new([0u64; 4]);
//! let latch = SeqLatch::new(0u32);
//! thread::scope(|s| {
//!     s.spawn(|| {
//!         for i in 1..=100u64 {
//!             clock.store([i; 4]);
//!             latch.update(|v| *v += 1);
//!         }
//!     });
//!     s.spawn(|| {
//!         for _ in 0..100 {
//!             let v = clock.read();
//!             assert!(v.iter().all(|&w| w == v[0]), "never torn");
//!             assert!(latch.read() <= 100);
//!         }
//!     });
//! });
//! assert_eq!(clock.read(), [100; 4]);
//! assert_eq!(latch.into_inner(), 100);
//! ```

// Every `unsafe` block of the crate lives in `raw`, the one module allowed to have them.
#![deny(unsafe_code)]

#[allow(unsafe_code)]
mod raw;

pub use raw::Plain;

use core::fmt;
use core::ops::{Deref, DerefMut};

/// A sequence lock: lock-free reads of a small `Copy` value by copying, with writers
/// serialised by a lock bit in the sequence word.
///
/// Reads never write shared memory and retry while a writer is storing; a writer holding the
/// lock (in [`update`](Self::update), or through a [`write`](Self::write) guard) does not stop
/// readers until it stores. See the [crate docs](crate) for the protocol.
///
/// `T` must be [`Plain`]: `Copy`, with no padding bytes.
///
/// # Examples
///
/// ```
/// use freeway_seqlock::SeqLock;
///
/// let lock = SeqLock::new([1u64, 2, 3, 4]);
/// lock.store([5, 6, 7, 8]);
/// lock.update(|v| v[0] += 10);
/// assert_eq!(lock.read(), [15, 6, 7, 8]);
/// ```
///
/// A value that is not `Copy` is rejected:
///
/// ```compile_fail
/// let lock = freeway_seqlock::SeqLock::new(String::from("no")); // String is not Plain
/// ```
///
/// while a `Copy` one compiles:
///
/// ```
/// let lock = freeway_seqlock::SeqLock::new(7u32);
/// assert_eq!(lock.read(), 7);
/// ```
pub struct SeqLock<T: Plain> {
    raw: raw::RawSeqLock<T>,
}

/// A two-copy sequence latch: like [`SeqLock`], but a reader never waits on a writer.
///
/// A writer stores the copy that readers are not using, then flips readers to it, so a read
/// that starts while a writer is paused anywhere (preempted mid-store on an oversubscribed
/// machine, say) succeeds at once; a read retries only if a writer finished a store while it was
/// copying. It holds two copies of `T`. Writers are serialised as in [`SeqLock`].
///
/// # Examples
///
/// ```
/// use freeway_seqlock::SeqLatch;
///
/// let latch = SeqLatch::new(0u64);
/// let mut guard = latch.write();
/// *guard = 42;
/// // A writer holding the lock does not stop readers: they see the previous value.
/// assert_eq!(latch.read(), 0);
/// drop(guard); // publishes
/// assert_eq!(latch.read(), 42);
/// ```
pub struct SeqLatch<T: Plain> {
    raw: raw::RawSeqLatch<T>,
}

/// Write access to a [`SeqLock`]: a private copy of the value, published when the guard drops.
///
/// While it lives, other writers wait and readers keep reading the previous value. If the
/// thread panics while the guard is alive, the edits are discarded (nothing is published) and
/// the lock is released.
///
/// # Examples
///
/// ```
/// use freeway_seqlock::SeqLock;
///
/// let lock = SeqLock::new([0u32; 3]);
/// {
///     let mut g = lock.write();
///     g[0] = 1;
///     g[2] = 3;
/// }
/// assert_eq!(lock.read(), [1, 0, 3]);
/// ```
pub struct SeqLockWriteGuard<'a, T: Plain> {
    writer: Option<raw::SeqLockWriter<'a, T>>,
    value: T,
    panicking: bool,
}

/// Write access to a [`SeqLatch`]: a private copy of the value, published when the guard drops.
///
/// Behaves as [`SeqLockWriteGuard`]: other writers wait, readers read the previous value, a
/// panic discards the edits and releases the lock.
///
/// # Examples
///
/// ```
/// use freeway_seqlock::SeqLatch;
///
/// let latch = SeqLatch::new(1.5f64);
/// *latch.write() *= 2.0;
/// assert_eq!(latch.read(), 3.0);
/// ```
pub struct SeqLatchWriteGuard<'a, T: Plain> {
    writer: Option<raw::SeqLatchWriter<'a, T>>,
    value: T,
    panicking: bool,
}

macro_rules! common_api {
    ($Lock:ident, $Guard:ident, $Raw:ident, $Writer:ident, $name:literal) => {
        impl<T: Plain> $Lock<T> {
            #[doc = concat!("A ", $name, " holding `value`.")]
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let x = freeway_seqlock::", $name, "::new(5u8);")]
            /// assert_eq!(x.read(), 5);
            /// ```
            pub fn new(value: T) -> Self {
                Self {
                    raw: raw::$Raw::new(value),
                }
            }

            /// Reads the value, retrying until a copy is consistent.
            ///
            /// Never returns a torn value: only a copy that no writer touched while it was
            /// taken.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let x = freeway_seqlock::", $name, "::new([3u16; 8]);")]
            /// assert_eq!(x.read(), [3; 8]);
            /// ```
            #[inline]
            pub fn read(&self) -> T {
                self.raw.read()
            }

            /// One read attempt: `None` if a writer interfered with it.
            ///
            /// Never returns a torn value.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let x = freeway_seqlock::", $name, "::new('a');")]
            /// // Nothing writes concurrently, so the attempt succeeds.
            /// assert_eq!(x.try_read(), Some('a'));
            /// ```
            #[inline]
            pub fn try_read(&self) -> Option<T> {
                self.raw.try_read()
            }

            /// Replaces the value, waiting for other writers first.
            ///
            /// # Deadlock
            ///
            /// Calling it while this thread holds a write guard of the same lock spins forever,
            /// as a `Mutex` would.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let x = freeway_seqlock::", $name, "::new(1i64);")]
            /// x.store(-1);
            /// assert_eq!(x.read(), -1);
            /// ```
            #[inline]
            pub fn store(&self, value: T) {
                self.raw.lock().publish(value);
            }

            /// Locks out other writers and returns a guard holding a copy of the value; the
            /// copy is published when the guard drops.
            ///
            /// Readers are not stopped while the guard lives: they read the previous value
            /// until it is published. If the thread panics while the guard lives, the edits
            /// are discarded and the lock is released.
            ///
            /// # Deadlock
            ///
            /// Waits for the writer lock: taking a second guard (or calling [`store`] or
            /// [`update`]) on the same thread while holding one spins forever. Use
            /// [`try_write`] where that could happen.
            ///
            #[doc = concat!("[`store`]: ", stringify!($Lock), "::store")]
            #[doc = concat!("[`update`]: ", stringify!($Lock), "::update")]
            #[doc = concat!("[`try_write`]: ", stringify!($Lock), "::try_write")]
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let x = freeway_seqlock::", $name, "::new([0u8; 4]);")]
            /// let mut g = x.write();
            /// g[1] = 9;
            /// assert_eq!(x.read(), [0; 4]); // not published yet
            /// drop(g);
            /// assert_eq!(x.read(), [0, 9, 0, 0]);
            /// ```
            #[inline]
            pub fn write(&self) -> $Guard<'_, T> {
                $Guard::new(self.raw.lock())
            }

            /// Like [`write`](Self::write), but `None` instead of waiting when another writer
            /// holds the lock.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let x = freeway_seqlock::", $name, "::new(0u32);")]
            /// let g = x.try_write().expect("no other writer");
            /// assert!(x.try_write().is_none());
            /// drop(g);
            /// assert!(x.try_write().is_some());
            /// ```
            #[inline]
            pub fn try_write(&self) -> Option<$Guard<'_, T>> {
                self.raw.try_lock().map($Guard::new)
            }

            /// Applies `f` to a copy of the value under the writer lock and publishes the
            /// result; returns what `f` returns.
            ///
            /// Concurrent `update`s never lose each other's changes. If `f` panics, nothing is
            /// published, the lock is released and the panic goes on.
            ///
            /// # Deadlock
            ///
            /// As [`write`](Self::write): `f` must not write to the same lock.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let x = freeway_seqlock::", $name, "::new(10u64);")]
            /// let old = x.update(|v| std::mem::replace(v, *v + 1));
            /// assert_eq!((old, x.read()), (10, 11));
            /// ```
            #[inline]
            pub fn update<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
                let mut guard = self.write();
                f(&mut guard)
            }

            /// The value, through a unique borrow (no synchronisation needed).
            ///
            /// Not available under `cfg(loom)`, whose atomics cannot be viewed as a `T`.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let mut x = freeway_seqlock::", $name, "::new(1u8);")]
            /// *x.get_mut() += 1;
            /// assert_eq!(x.read(), 2);
            /// ```
            #[cfg(not(loom))]
            pub fn get_mut(&mut self) -> &mut T {
                self.raw.get_mut()
            }

            /// Consumes the lock and returns the value.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let x = freeway_seqlock::", $name, "::new(true);")]
            /// x.store(false);
            /// assert!(!x.into_inner());
            /// ```
            pub fn into_inner(self) -> T {
                self.raw.into_inner()
            }
        }

        impl<T: Plain + Default> Default for $Lock<T> {
            /// A lock holding `T::default()`.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let x = freeway_seqlock::", $name, "::<[u32; 2]>::default();")]
            /// assert_eq!(x.read(), [0, 0]);
            /// ```
            fn default() -> Self {
                Self::new(T::default())
            }
        }

        impl<T: Plain> From<T> for $Lock<T> {
            /// A lock holding `value`.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let x: freeway_seqlock::", $name, "<u16> = 7.into();")]
            /// assert_eq!(x.read(), 7);
            /// ```
            fn from(value: T) -> Self {
                Self::new(value)
            }
        }

        impl<T: Plain + fmt::Debug> fmt::Debug for $Lock<T> {
            /// Shows a consistent snapshot of the value (a [`read`](Self::read)).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let x = freeway_seqlock::", $name, "::new(3u8);")]
            #[doc = concat!("assert_eq!(format!(\"{x:?}\"), \"", $name, " { value: 3 }\");")]
            /// ```
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct($name).field("value", &self.read()).finish()
            }
        }

        impl<'a, T: Plain> $Guard<'a, T> {
            fn new(writer: raw::$Writer<'a, T>) -> Self {
                Self {
                    value: writer.value(),
                    writer: Some(writer),
                    panicking: std::thread::panicking(),
                }
            }
        }

        impl<T: Plain> Deref for $Guard<'_, T> {
            type Target = T;

            /// The guard's copy of the value.
            fn deref(&self) -> &T {
                &self.value
            }
        }

        impl<T: Plain> DerefMut for $Guard<'_, T> {
            /// The guard's copy of the value, to edit; published when the guard drops.
            fn deref_mut(&mut self) -> &mut T {
                &mut self.value
            }
        }

        impl<T: Plain> Drop for $Guard<'_, T> {
            /// Publishes the copy and releases the writer lock; if the thread started panicking
            /// while the guard was alive, only releases the lock.
            fn drop(&mut self) {
                if let Some(writer) = self.writer.take() {
                    if std::thread::panicking() && !self.panicking {
                        drop(writer);
                    } else {
                        writer.publish(self.value);
                    }
                }
            }
        }

        impl<T: Plain + fmt::Debug> fmt::Debug for $Guard<'_, T> {
            /// Shows the guard's (unpublished) copy.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let x = freeway_seqlock::", $name, "::new(1u8);")]
            /// let mut g = x.write();
            /// *g = 2;
            #[doc = concat!("assert_eq!(format!(\"{g:?}\"), \"", stringify!($Guard), " { value: 2 }\");")]
            /// ```
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($Guard))
                    .field("value", &self.value)
                    .finish()
            }
        }
    };
}

common_api!(
    SeqLock,
    SeqLockWriteGuard,
    RawSeqLock,
    SeqLockWriter,
    "SeqLock"
);
common_api!(
    SeqLatch,
    SeqLatchWriteGuard,
    RawSeqLatch,
    SeqLatchWriter,
    "SeqLatch"
);
