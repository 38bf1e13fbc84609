//! An atomic `std::sync::Arc<T>`: many threads read it, any thread replaces it, and a read needs
//! no reference-count write at all.
//!
//! [`AtomicArc<T>`] always holds a value; [`AtomicOptionArc<T>`] holds an `Option<Arc<T>>`. Both
//! store the user's own [`std::sync::Arc`] (no private Arc type), and both serve unsized `T`
//! (`AtomicArc<str>`, `AtomicArc<[u8]>`, `AtomicArc<dyn Trait + Send + Sync>`).
//!
//! ```
//! use freeway_atomic_rc::AtomicArc;
//! use std::sync::Arc;
//!
//! let config = AtomicArc::new(Arc::new(String::from("v1")));
//! // Readers: a borrowed snapshot (no count traffic) or an owned Arc.
//! let guard = freeway_epoch::pin();
//! assert_eq!(*config.snapshot(&guard), "v1");
//! drop(guard);
//! let owned: Arc<String> = config.load();
//! // Writers: replace, swap, compare-and-swap, or read-copy-update.
//! config.store(Arc::new(String::from("v2")));
//! let old = config.rcu(|cur| Arc::new(format!("{cur}+")));
//! assert_eq!(*old, "v2");
//! assert_eq!(*config.load(), "v2+");
//! assert_eq!(*owned, "v1"); // an Arc already handed out is untouched
//! ```
//!
//! # Where the algorithm comes from
//!
//! - Read-copy-update: P. E. McKenney and J. D. Slingwine, *Read-Copy Update: Using Execution
//!   History to Solve Concurrency Problems*, PDCS 1998. Readers read a pointer without writing
//!   shared memory; a writer publishes a new version and frees the old one only after a grace
//!   period in which every reader that could hold it has finished.
//! - The grace period is epoch-based reclamation: K. Fraser, *Practical lock-freedom*, Cambridge
//!   PhD thesis, 2004, as implemented by crossbeam-epoch under `freeway-epoch`.
//! - Deferring the *decrement* of a reference count (rather than the free of a node) through a
//!   reclamation scheme, so that a reader may increment a count it found through a shared
//!   pointer: D. Anderson, G. E. Blelloch and Y. Wei, *Concurrent Deferred Reference Counting
//!   with Constant-Time Overhead*, PLDI 2021 (their "acquire-retire" with deferred decrements).
//!
//! # The representation
//!
//! The cell is one atomic word that owns one strong count of the stored `Arc` (the word is
//! `Arc::into_raw`). For unsized `T`, whose pointer is two words wide, the word points at a small
//! heap node holding the `Arc<T>`: one more allocation per stored value and one more dependent
//! load per read, decided at compile time, so sized `T` pays nothing for it.
//!
//! # Reading
//!
//! [`AtomicArc::snapshot`] takes a guard from [`freeway_epoch::pin`], loads the word, and returns
//! a [`Snapshot`] that borrows the value for the guard's lifetime: no reference-count write, no
//! shared-memory write beyond the pin itself (which is thread-local, plus one fence on the
//! outermost pin). Reusing one guard over many reads makes each read one load.
//!
//! [`AtomicArc::load`] pins, loads the word, increments the strong count, and unpins: the
//! returned `Arc` is independent of any guard. The increment is safe because a replaced value's
//! count is released only after every pin that could have read its word has ended.
//!
//! # Writing
//!
//! [`store`](AtomicArc::store) swaps the word and hands the old word's count to
//! `freeway_epoch::defer_unchecked`: the count is released after the grace period. No writer
//! ever looks at the readers, so a store costs the same whatever the number of readers.
//!
//! [`swap`](AtomicArc::swap) must return the old value, but it cannot give the caller the cell's
//! own count: the caller might drop it at once while a reader is between its load of the word
//! and its increment, and if that was the last count the reader would increment freed memory.
//! So `swap` returns a *fresh* count (an increment, safe while the cell's count is still held)
//! and defers the release of the cell's count like `store`.
//!
//! [`compare_exchange`](AtomicArc::compare_exchange) compares by pointer identity
//! ([`Arc::ptr_eq`]), never by value. On success it returns the previous value as `swap` does; on
//! failure it returns the actual current value and gives `new` back.
//! [`rcu`](AtomicArc::rcu) is the read-copy-update loop over it.
//!
//! # Against arc-swap
//!
//! arc-swap's readers borrow a few per-thread debt slots and its writers walk every thread's
//! slots to pay the debts back; here a write never looks at the readers. The price: **a replaced
//! value is dropped after a grace period, not at once**, and on whichever thread collects the
//! epoch's garbage. If dropping a value releases something scarce (a file handle, a large
//! buffer), call [`freeway_epoch::reclaim`] after replacing it to push collection forward, or
//! keep the handle outside the value. A thread that stays pinned for long (a snapshot held across
//! a slow computation) holds back every replaced value until it unpins.
//!
//! A panic in the `Drop` of a value whose last count is released by the epoch collector is
//! caught and discarded there (the panic hook still reports it): it runs inside another thread's
//! unrelated pin, and unwinding through the collector would lose other garbage.
//!
//! # Bounds
//!
//! Reading needs nothing of `T`. Replacing needs `T: Send + Sync + 'static`: the replaced
//! `Arc<T>` is released later, possibly on another thread. So a thread-bound value can be held
//! and read but not replaced:
//!
//! ```compile_fail,E0277
//! use freeway_atomic_rc::AtomicArc;
//! use std::rc::Rc;
//! use std::sync::Arc;
//!
//! let cell = AtomicArc::new(Arc::new(Rc::new(1)));
//! cell.store(Arc::new(Rc::new(2))); // the old Rc could be dropped on another thread
//! ```
//!
//! Its twin with a `Send + Sync` value compiles, and the thread-bound cell can still be read:
//!
//! ```
//! use freeway_atomic_rc::AtomicArc;
//! use std::rc::Rc;
//! use std::sync::Arc;
//!
//! let cell = AtomicArc::new(Arc::new(1));
//! cell.store(Arc::new(2));
//! let bound = AtomicArc::new(Arc::new(Rc::new(3)));
//! assert_eq!(**bound.load(), 3);
//! ```

// Every `unsafe` block of the crate lives in `raw`, the one module allowed to have them.
#![deny(unsafe_code)]

#[allow(unsafe_code)]
mod raw;

use freeway_epoch::Guard;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// An atomic `Arc<T>`: load it, borrow it under a guard, replace it, compare-and-swap it.
///
/// See the [crate docs](crate) for the algorithm and the grace-period trade-off.
///
/// # Examples
///
/// ```
/// use freeway_atomic_rc::AtomicArc;
/// use std::sync::Arc;
///
/// let cell = AtomicArc::new(Arc::new(1u64));
/// std::thread::scope(|s| {
///     s.spawn(|| cell.store(Arc::new(2)));
///     s.spawn(|| {
///         let v = *cell.load();
///         assert!(v == 1 || v == 2);
///     });
/// });
/// assert_eq!(*cell.into_inner(), 2);
/// ```
pub struct AtomicArc<T: ?Sized> {
    raw: raw::RawArcCell<T>,
}

/// An atomic `Option<Arc<T>>`: the same operations as [`AtomicArc`], plus
/// [`take`](AtomicOptionArc::take).
///
/// # Examples
///
/// ```
/// use freeway_atomic_rc::AtomicOptionArc;
/// use std::sync::Arc;
///
/// let slot = AtomicOptionArc::<str>::default();
/// assert!(slot.load().is_none());
/// slot.store(Some(Arc::from("ready")));
/// assert_eq!(slot.take().as_deref(), Some("ready"));
/// assert!(slot.load().is_none());
/// ```
pub struct AtomicOptionArc<T: ?Sized> {
    raw: raw::RawArcCell<T>,
}

/// A borrowed view of an [`AtomicArc`]'s value, valid while the guard it was taken under lives.
///
/// Taking it writes no reference count. It is `Copy`, derefs to `T`, and
/// [`to_arc`](Snapshot::to_arc) upgrades it to an owned `Arc`. It stays on its guard's thread
/// (`!Send`, `!Sync`, like [`Guard`]).
///
/// # Examples
///
/// ```
/// use freeway_atomic_rc::AtomicArc;
/// use std::sync::Arc;
///
/// let cell = AtomicArc::new(Arc::new(vec![1, 2, 3]));
/// let guard = freeway_epoch::pin();
/// let snap = cell.snapshot(&guard);
/// cell.store(Arc::new(vec![]));   // the snapshot still sees the old value
/// assert_eq!(snap.len(), 3);
/// let owned: Arc<Vec<i32>> = snap.to_arc();
/// drop(guard);
/// assert_eq!(*owned, [1, 2, 3]);
/// ```
///
/// A snapshot cannot outlive its guard:
///
/// ```compile_fail,E0597
/// use freeway_atomic_rc::AtomicArc;
/// use std::sync::Arc;
///
/// let cell = AtomicArc::new(Arc::new(5));
/// let snap;
/// {
///     let guard = freeway_epoch::pin();
///     snap = cell.snapshot(&guard);
/// }
/// println!("{}", *snap);
/// ```
///
/// Its twin, used while the guard lives, compiles:
///
/// ```
/// use freeway_atomic_rc::AtomicArc;
/// use std::sync::Arc;
///
/// let cell = AtomicArc::new(Arc::new(5));
/// let value;
/// {
///     let guard = freeway_epoch::pin();
///     let snap = cell.snapshot(&guard);
///     value = *snap;
/// }
/// assert_eq!(value, 5);
/// ```
///
/// A snapshot cannot be sent to another thread, not even a scoped one:
///
/// ```compile_fail,E0277
/// use freeway_atomic_rc::AtomicArc;
/// use std::sync::Arc;
///
/// let cell = AtomicArc::new(Arc::new(5));
/// let guard = freeway_epoch::pin();
/// let snap = cell.snapshot(&guard);
/// std::thread::scope(|s| {
///     s.spawn(move || println!("{}", *snap));
/// });
/// ```
///
/// Nor can its guard:
///
/// ```compile_fail,E0277
/// let guard = freeway_epoch::pin();
/// std::thread::scope(|s| {
///     s.spawn(move || drop(guard));
/// });
/// ```
///
/// Their twin sends the value (or an owned `Arc`) instead, and compiles:
///
/// ```
/// use freeway_atomic_rc::AtomicArc;
/// use std::sync::Arc;
///
/// let cell = AtomicArc::new(Arc::new(5));
/// let guard = freeway_epoch::pin();
/// let snap = cell.snapshot(&guard);
/// let (value, owned) = (*snap, snap.to_arc());
/// std::thread::scope(|s| {
///     s.spawn(move || assert_eq!(value + *owned, 10));
/// });
/// ```
pub struct Snapshot<'g, T: ?Sized> {
    raw: raw::RawSnapshot<'g, T>,
}

/// The error of [`AtomicArc::compare_exchange`]: the value that was actually there, and the
/// rejected new value, given back.
///
/// # Examples
///
/// ```
/// use freeway_atomic_rc::AtomicArc;
/// use std::sync::Arc;
///
/// let cell = AtomicArc::new(Arc::new(1));
/// let stale = Arc::new(1); // equal value, different allocation
/// let err = cell.compare_exchange(&stale, Arc::new(2)).unwrap_err();
/// assert_eq!((*err.current, *err.new), (1, 2));
/// ```
pub struct CompareExchangeError<T: ?Sized> {
    /// The value the cell held when the comparison failed.
    pub current: Arc<T>,
    /// The value that was not stored, given back.
    pub new: Arc<T>,
}

/// The error of [`AtomicOptionArc::compare_exchange`]: the value that was actually there, and
/// the rejected new value, given back.
///
/// # Examples
///
/// ```
/// use freeway_atomic_rc::AtomicOptionArc;
/// use std::sync::Arc;
///
/// let slot = AtomicOptionArc::new(Some(Arc::new(1)));
/// let err = slot.compare_exchange(None, Some(Arc::new(2))).unwrap_err();
/// assert_eq!(err.current.as_deref(), Some(&1));
/// assert_eq!(err.new.as_deref(), Some(&2));
/// ```
pub struct CompareExchangeOptionError<T: ?Sized> {
    /// The value the cell held when the comparison failed.
    pub current: Option<Arc<T>>,
    /// The value that was not stored, given back.
    pub new: Option<Arc<T>>,
}

impl<T: ?Sized> AtomicArc<T> {
    /// A cell holding `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// use freeway_atomic_rc::AtomicArc;
    /// use std::sync::Arc;
    ///
    /// let cell: AtomicArc<str> = AtomicArc::new(Arc::from("hello"));
    /// assert_eq!(&*cell.load(), "hello");
    /// ```
    pub fn new(value: Arc<T>) -> Self {
        Self {
            raw: raw::RawArcCell::new(Some(value)),
        }
    }

    /// An owned copy of the current value (one strong-count increment inside a short pin).
    ///
    /// # Examples
    ///
    /// ```
    /// use freeway_atomic_rc::AtomicArc;
    /// use std::sync::Arc;
    ///
    /// let cell = AtomicArc::new(Arc::new(7));
    /// let v = cell.load();
    /// cell.store(Arc::new(8));
    /// assert_eq!((*v, *cell.load()), (7, 8));
    /// ```
    pub fn load(&self) -> Arc<T> {
        self.raw.load().expect("AtomicArc is never empty")
    }

    /// The current value, borrowed for as long as `guard` lives: no reference-count write.
    ///
    /// Reuse one guard over many snapshots to amortise the pin, but do not hold it for long:
    /// replaced values wait for it (see the [crate docs](crate)).
    ///
    /// # Panics
    ///
    /// If `guard` was not made by [`freeway_epoch::pin`] (a guard of another `Collector`, or
    /// `unprotected()`): such a guard would not hold back the release of replaced values.
    ///
    /// # Examples
    ///
    /// ```
    /// use freeway_atomic_rc::AtomicArc;
    /// use std::sync::Arc;
    ///
    /// let cell = AtomicArc::new(Arc::new(3u32));
    /// let guard = freeway_epoch::pin();
    /// let sum: u32 = (0..4).map(|_| *cell.snapshot(&guard)).sum();
    /// assert_eq!(sum, 12);
    /// ```
    pub fn snapshot<'g>(&'g self, guard: &'g Guard) -> Snapshot<'g, T> {
        Snapshot {
            raw: self.raw.snapshot(guard).expect("AtomicArc is never empty"),
        }
    }

    /// Unwraps the cell into the value it holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use freeway_atomic_rc::AtomicArc;
    /// use std::sync::Arc;
    ///
    /// let value = Arc::new(4);
    /// let cell = AtomicArc::new(value.clone());
    /// assert!(Arc::ptr_eq(&cell.into_inner(), &value));
    /// ```
    pub fn into_inner(mut self) -> Arc<T> {
        self.raw.take_mut().expect("AtomicArc is never empty")
    }
}

impl<T: ?Sized + Send + Sync + 'static> AtomicArc<T> {
    /// Replaces the value. The old value's count is released after the grace period.
    ///
    /// # Examples
    ///
    /// ```
    /// use freeway_atomic_rc::AtomicArc;
    /// use std::sync::Arc;
    ///
    /// let cell = AtomicArc::new(Arc::new('a'));
    /// cell.store(Arc::new('b'));
    /// assert_eq!(*cell.load(), 'b');
    /// ```
    pub fn store(&self, value: Arc<T>) {
        self.raw.store(Some(value));
    }

    /// Replaces the value and returns the old one.
    ///
    /// # Examples
    ///
    /// ```
    /// use freeway_atomic_rc::AtomicArc;
    /// use std::sync::Arc;
    ///
    /// let cell = AtomicArc::new(Arc::new(1));
    /// assert_eq!(*cell.swap(Arc::new(2)), 1);
    /// assert_eq!(*cell.load(), 2);
    /// ```
    pub fn swap(&self, value: Arc<T>) -> Arc<T> {
        self.raw
            .swap(Some(value))
            .expect("AtomicArc is never empty")
    }

    /// Stores `new` if the cell still holds `current` (the same allocation: [`Arc::ptr_eq`], not
    /// value equality).
    ///
    /// Returns the previous value (the same allocation as `current`) on success; on failure, the
    /// value actually held and `new`, given back.
    ///
    /// # Examples
    ///
    /// ```
    /// use freeway_atomic_rc::AtomicArc;
    /// use std::sync::Arc;
    ///
    /// let cell = AtomicArc::new(Arc::new(10));
    /// let seen = cell.load();
    /// let prev = cell.compare_exchange(&seen, Arc::new(11)).unwrap();
    /// assert!(Arc::ptr_eq(&prev, &seen));
    /// // `seen` is stale now: the exchange fails and reports 11.
    /// let err = cell.compare_exchange(&seen, Arc::new(12)).unwrap_err();
    /// assert_eq!((*err.current, *err.new), (11, 12));
    /// ```
    pub fn compare_exchange(
        &self,
        current: &Arc<T>,
        new: Arc<T>,
    ) -> Result<Arc<T>, CompareExchangeError<T>> {
        match self.raw.compare_exchange(Some(current), Some(new)) {
            Ok(prev) => Ok(prev.expect("AtomicArc is never empty")),
            Err((current, new)) => Err(CompareExchangeError {
                current: current.expect("AtomicArc is never empty"),
                new: new.expect("a non-empty `new` is given back"),
            }),
        }
    }

    /// Read-copy-update: computes a new value from the current one and installs it if nobody
    /// replaced the value meanwhile, else tries again. Returns the value it replaced.
    ///
    /// `f` may run more than once (once per lost race); it should be cheap and free of side
    /// effects. If `f` panics, the cell is unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// use freeway_atomic_rc::AtomicArc;
    /// use std::sync::Arc;
    ///
    /// let counter = AtomicArc::new(Arc::new(0u64));
    /// std::thread::scope(|s| {
    ///     for _ in 0..4 {
    ///         s.spawn(|| {
    ///             for _ in 0..100 {
    ///                 counter.rcu(|n| Arc::new(**n + 1));
    ///             }
    ///         });
    ///     }
    /// });
    /// assert_eq!(*counter.load(), 400);
    /// ```
    pub fn rcu<F>(&self, mut f: F) -> Arc<T>
    where
        F: FnMut(&Arc<T>) -> Arc<T>,
    {
        let mut current = self.load();
        loop {
            let new = f(&current);
            match self.compare_exchange(&current, new) {
                Ok(prev) => return prev,
                Err(e) => current = e.current,
            }
        }
    }
}

impl<T: ?Sized> AtomicOptionArc<T> {
    /// A cell holding `value` (or nothing).
    ///
    /// # Examples
    ///
    /// ```
    /// use freeway_atomic_rc::AtomicOptionArc;
    /// use std::sync::Arc;
    ///
    /// let full = AtomicOptionArc::new(Some(Arc::new(1)));
    /// let empty = AtomicOptionArc::<i32>::new(None);
    /// assert_eq!(full.load().as_deref(), Some(&1));
    /// assert!(empty.load().is_none());
    /// ```
    pub fn new(value: Option<Arc<T>>) -> Self {
        Self {
            raw: raw::RawArcCell::new(value),
        }
    }

    /// An owned copy of the current value, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// use freeway_atomic_rc::AtomicOptionArc;
    /// use std::sync::Arc;
    ///
    /// let slot = AtomicOptionArc::new(Some(Arc::new("x")));
    /// assert_eq!(slot.load().as_deref(), Some(&"x"));
    /// ```
    pub fn load(&self) -> Option<Arc<T>> {
        self.raw.load()
    }

    /// The current value, if any, borrowed for as long as `guard` lives.
    ///
    /// # Panics
    ///
    /// If `guard` was not made by [`freeway_epoch::pin`] (see [`AtomicArc::snapshot`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use freeway_atomic_rc::AtomicOptionArc;
    /// use std::sync::Arc;
    ///
    /// let slot = AtomicOptionArc::new(Some(Arc::new(2)));
    /// let guard = freeway_epoch::pin();
    /// assert_eq!(slot.snapshot(&guard).map(|s| *s), Some(2));
    /// ```
    pub fn snapshot<'g>(&'g self, guard: &'g Guard) -> Option<Snapshot<'g, T>> {
        self.raw.snapshot(guard).map(|raw| Snapshot { raw })
    }

    /// Unwraps the cell into the value it holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use freeway_atomic_rc::AtomicOptionArc;
    /// use std::sync::Arc;
    ///
    /// let slot = AtomicOptionArc::new(Some(Arc::new(5)));
    /// assert_eq!(slot.into_inner().as_deref(), Some(&5));
    /// ```
    pub fn into_inner(mut self) -> Option<Arc<T>> {
        self.raw.take_mut()
    }
}

impl<T: ?Sized + Send + Sync + 'static> AtomicOptionArc<T> {
    /// Replaces the value; the old one's count is released after the grace period.
    ///
    /// # Examples
    ///
    /// ```
    /// use freeway_atomic_rc::AtomicOptionArc;
    /// use std::sync::Arc;
    ///
    /// let slot = AtomicOptionArc::new(None);
    /// slot.store(Some(Arc::new(1)));
    /// assert_eq!(slot.load().as_deref(), Some(&1));
    /// ```
    pub fn store(&self, value: Option<Arc<T>>) {
        self.raw.store(value);
    }

    /// Replaces the value and returns the old one.
    ///
    /// # Examples
    ///
    /// ```
    /// use freeway_atomic_rc::AtomicOptionArc;
    /// use std::sync::Arc;
    ///
    /// let slot = AtomicOptionArc::new(None);
    /// assert!(slot.swap(Some(Arc::new(1))).is_none());
    /// assert_eq!(slot.swap(None).as_deref(), Some(&1));
    /// ```
    pub fn swap(&self, value: Option<Arc<T>>) -> Option<Arc<T>> {
        self.raw.swap(value)
    }

    /// Takes the value out, leaving the cell empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use freeway_atomic_rc::AtomicOptionArc;
    /// use std::sync::Arc;
    ///
    /// let slot = AtomicOptionArc::new(Some(Arc::new(9)));
    /// assert_eq!(slot.take().as_deref(), Some(&9));
    /// assert!(slot.take().is_none());
    /// ```
    pub fn take(&self) -> Option<Arc<T>> {
        self.raw.swap(None)
    }

    /// Stores `new` if the cell still holds `current` (`None`, or the same allocation:
    /// [`Arc::ptr_eq`]). Returns the previous value on success; on failure, the value actually
    /// held and `new`, given back.
    ///
    /// # Examples
    ///
    /// ```
    /// use freeway_atomic_rc::AtomicOptionArc;
    /// use std::sync::Arc;
    ///
    /// let slot = AtomicOptionArc::new(None);
    /// // Initialise once: only the first exchange from `None` wins.
    /// assert!(slot.compare_exchange(None, Some(Arc::new(1))).is_ok());
    /// assert!(slot.compare_exchange(None, Some(Arc::new(2))).is_err());
    /// assert_eq!(slot.load().as_deref(), Some(&1));
    /// ```
    pub fn compare_exchange(
        &self,
        current: Option<&Arc<T>>,
        new: Option<Arc<T>>,
    ) -> Result<Option<Arc<T>>, CompareExchangeOptionError<T>> {
        self.raw
            .compare_exchange(current, new)
            .map_err(|(current, new)| CompareExchangeOptionError { current, new })
    }

    /// Read-copy-update over the optional value; returns the value it replaced. `f` may run
    /// more than once.
    ///
    /// # Examples
    ///
    /// ```
    /// use freeway_atomic_rc::AtomicOptionArc;
    /// use std::sync::Arc;
    ///
    /// let slot = AtomicOptionArc::new(None);
    /// let bump = |cur: &Option<Arc<u32>>| Some(Arc::new(cur.as_deref().map_or(1, |n| n + 1)));
    /// assert!(slot.rcu(bump).is_none());
    /// assert_eq!(slot.rcu(bump).as_deref(), Some(&1));
    /// assert_eq!(slot.load().as_deref(), Some(&2));
    /// ```
    pub fn rcu<F>(&self, mut f: F) -> Option<Arc<T>>
    where
        F: FnMut(&Option<Arc<T>>) -> Option<Arc<T>>,
    {
        let mut current = self.load();
        loop {
            let new = f(&current);
            match self.compare_exchange(current.as_ref(), new) {
                Ok(prev) => return prev,
                Err(e) => current = e.current,
            }
        }
    }
}

impl<'g, T: ?Sized> Snapshot<'g, T> {
    /// An owned `Arc` of the snapshot's value (one strong-count increment).
    ///
    /// # Examples
    ///
    /// ```
    /// use freeway_atomic_rc::AtomicArc;
    /// use std::sync::Arc;
    ///
    /// let value = Arc::new(1);
    /// let cell = AtomicArc::new(value.clone());
    /// let guard = freeway_epoch::pin();
    /// assert!(Arc::ptr_eq(&cell.snapshot(&guard).to_arc(), &value));
    /// ```
    // `&self`, as the workspace's API contract spells it, although `Snapshot` is `Copy`.
    #[allow(clippy::wrong_self_convention)]
    pub fn to_arc(&self) -> Arc<T> {
        self.raw.to_arc()
    }

    /// The value, borrowed for the guard's whole lifetime (longer than `&self`).
    ///
    /// # Examples
    ///
    /// ```
    /// use freeway_atomic_rc::{AtomicArc, Snapshot};
    /// use std::sync::Arc;
    ///
    /// let cell = AtomicArc::new(Arc::new(String::from("s")));
    /// let guard = freeway_epoch::pin();
    /// let s: &String = Snapshot::get(cell.snapshot(&guard));
    /// assert_eq!(s, "s");
    /// ```
    pub fn get(this: Self) -> &'g T {
        this.raw.get()
    }

    /// Whether the snapshot shows the very allocation `arc` points to ([`Arc::ptr_eq`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use freeway_atomic_rc::{AtomicArc, Snapshot};
    /// use std::sync::Arc;
    ///
    /// let value = Arc::new(1);
    /// let cell = AtomicArc::new(value.clone());
    /// let guard = freeway_epoch::pin();
    /// assert!(Snapshot::ptr_eq(cell.snapshot(&guard), &value));
    /// assert!(!Snapshot::ptr_eq(cell.snapshot(&guard), &Arc::new(1)));
    /// ```
    pub fn ptr_eq(this: Self, arc: &Arc<T>) -> bool {
        std::ptr::addr_eq(this.raw.as_ptr(), Arc::as_ptr(arc))
    }
}

impl<T: ?Sized> Clone for Snapshot<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: ?Sized> Copy for Snapshot<'_, T> {}

impl<T: ?Sized> Deref for Snapshot<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.raw.get()
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Snapshot<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Snapshot").field(&&**self).finish()
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for Snapshot<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for AtomicArc<T> {
    /// Shows the current value (read under a short pin, without a count write).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let guard = freeway_epoch::pin();
        f.debug_tuple("AtomicArc")
            .field(&&*self.snapshot(&guard))
            .finish()
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for AtomicOptionArc<T> {
    /// Shows the current value (read under a short pin, without a count write).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let guard = freeway_epoch::pin();
        let snap = self.snapshot(&guard);
        f.debug_tuple("AtomicOptionArc")
            .field(&snap.as_deref())
            .finish()
    }
}

impl<T: Default> Default for AtomicArc<T> {
    /// A cell holding `Arc::new(T::default())`.
    fn default() -> Self {
        Self::new(Arc::default())
    }
}

impl<T: ?Sized> Default for AtomicOptionArc<T> {
    /// An empty cell.
    fn default() -> Self {
        Self::new(None)
    }
}

impl<T: ?Sized> From<Arc<T>> for AtomicArc<T> {
    fn from(value: Arc<T>) -> Self {
        Self::new(value)
    }
}

impl<T: ?Sized> From<Option<Arc<T>>> for AtomicOptionArc<T> {
    fn from(value: Option<Arc<T>>) -> Self {
        Self::new(value)
    }
}

impl<T: ?Sized> From<Arc<T>> for AtomicOptionArc<T> {
    fn from(value: Arc<T>) -> Self {
        Self::new(Some(value))
    }
}

impl<T: ?Sized> From<AtomicArc<T>> for AtomicOptionArc<T> {
    fn from(cell: AtomicArc<T>) -> Self {
        Self::new(Some(cell.into_inner()))
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for CompareExchangeError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompareExchangeError")
            .field("current", &self.current)
            .field("new", &self.new)
            .finish()
    }
}

impl<T: ?Sized> fmt::Display for CompareExchangeError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("compare_exchange failed: the cell holds another value")
    }
}

impl<T: ?Sized + fmt::Debug> std::error::Error for CompareExchangeError<T> {}

impl<T: ?Sized + fmt::Debug> fmt::Debug for CompareExchangeOptionError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompareExchangeOptionError")
            .field("current", &self.current)
            .field("new", &self.new)
            .finish()
    }
}

impl<T: ?Sized> fmt::Display for CompareExchangeOptionError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("compare_exchange failed: the cell holds another value")
    }
}

impl<T: ?Sized + fmt::Debug> std::error::Error for CompareExchangeOptionError<T> {}
