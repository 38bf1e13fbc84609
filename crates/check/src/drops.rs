//! Drop accounting: values that record how many times each one was dropped.
//!
//! A [`DropTracker`] hands out [`Tracked`] values; each carries its own drop counter, so a test
//! can assert that every value was dropped exactly once ([`DropTracker::assert_all_dropped_once`]),
//! that none is dropped while still inside a structure ([`DropTracker::alive`]), and a second drop
//! of the same value panics at once, naming the value.
//!
//! A tracker can also hand out values whose `Drop` panics ([`DropTracker::track_panicking`]), to
//! test that a structure survives a panic in user code.
//!
//! # Examples
//!
//! ```
//! use freeway_check::drops::DropTracker;
//!
//! let tracker = DropTracker::new();
//! let a = tracker.track(String::from("a"));
//! assert_eq!(*a, "a");
//! assert_eq!(tracker.alive(), 1);
//! drop(a);
//! assert_eq!(tracker.dropped(), 1);
//! tracker.assert_all_dropped_once();
//! ```

use freeway_epoch::sync::atomic::{AtomicUsize, Ordering};
use freeway_epoch::sync::{Arc, Mutex};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

#[derive(Debug)]
struct Slot {
    id: usize,
    drops: AtomicUsize,
}

#[derive(Debug, Default)]
struct Inner {
    slots: Mutex<Vec<Arc<Slot>>>,
    dropped: AtomicUsize,
}

/// How long [`DropTracker::reclaim_until_all_dropped`] drives reclamation before giving up.
pub const RECLAIM_PATIENCE: std::time::Duration = std::time::Duration::from_secs(30);

/// Hands out [`Tracked`] values and counts their drops.
///
/// Cloning a tracker shares the counts.
///
/// # Examples
///
/// ```
/// use freeway_check::drops::DropTracker;
///
/// let t = DropTracker::new();
/// let x = t.track(1u32);
/// let y = t.track(2u32);
/// assert_eq!(t.created(), 2);
/// drop((x, y));
/// t.assert_all_dropped_once();
/// ```
#[derive(Debug, Clone, Default)]
pub struct DropTracker {
    inner: Arc<Inner>,
}

/// A value whose drops are counted by its [`DropTracker`].
///
/// Compares, hashes and formats as the value it wraps.
///
/// # Examples
///
/// ```
/// use freeway_check::drops::DropTracker;
///
/// let t = DropTracker::new();
/// let v = t.track(vec![1, 2]);
/// assert_eq!(v.len(), 2);
/// assert_eq!(v.id(), 0);
/// ```
pub struct Tracked<T> {
    value: T,
    slot: Arc<Slot>,
    tracker: Arc<Inner>,
    panic_on_drop: bool,
}

impl DropTracker {
    /// A tracker with no values yet.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = freeway_check::drops::DropTracker::new();
    /// assert_eq!(t.created(), 0);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    fn make<T>(&self, value: T, panic_on_drop: bool) -> Tracked<T> {
        let mut slots = self.inner.slots.lock().unwrap_or_else(|e| e.into_inner());
        let slot = Arc::new(Slot {
            id: slots.len(),
            drops: AtomicUsize::new(0),
        });
        slots.push(slot.clone());
        Tracked {
            value,
            slot,
            tracker: self.inner.clone(),
            panic_on_drop,
        }
    }

    /// Wraps `value` so that its drops are counted.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = freeway_check::drops::DropTracker::new();
    /// let v = t.track("x");
    /// assert_eq!(*v, "x");
    /// ```
    pub fn track<T>(&self, value: T) -> Tracked<T> {
        self.make(value, false)
    }

    /// Wraps `value` so that dropping it counts the drop and then panics.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = freeway_check::drops::DropTracker::new();
    /// let v = t.track_panicking(3);
    /// let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(v)));
    /// assert!(r.is_err());
    /// t.assert_all_dropped_once();
    /// ```
    pub fn track_panicking<T>(&self, value: T) -> Tracked<T> {
        self.make(value, true)
    }

    /// How many values this tracker has handed out.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = freeway_check::drops::DropTracker::new();
    /// let _a = t.track(());
    /// assert_eq!(t.created(), 1);
    /// ```
    pub fn created(&self) -> usize {
        self.inner
            .slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    /// How many drops have happened (a double drop counts twice).
    ///
    /// # Examples
    ///
    /// ```
    /// let t = freeway_check::drops::DropTracker::new();
    /// drop(t.track(()));
    /// assert_eq!(t.dropped(), 1);
    /// ```
    pub fn dropped(&self) -> usize {
        // Acquire: pairs with the AcqRel increment in `Tracked::drop`.
        self.inner.dropped.load(Ordering::Acquire)
    }

    /// Values created and not dropped yet.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = freeway_check::drops::DropTracker::new();
    /// let a = t.track(1);
    /// assert_eq!(t.alive(), 1);
    /// drop(a);
    /// assert_eq!(t.alive(), 0);
    /// ```
    pub fn alive(&self) -> usize {
        self.created().saturating_sub(self.dropped())
    }

    /// The ids of values that were never dropped and of values dropped more than once.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = freeway_check::drops::DropTracker::new();
    /// let a = t.track(1);
    /// assert_eq!(t.anomalies(), (vec![0], vec![]));
    /// drop(a);
    /// assert_eq!(t.anomalies(), (vec![], vec![]));
    /// ```
    pub fn anomalies(&self) -> (Vec<usize>, Vec<usize>) {
        let slots = self.inner.slots.lock().unwrap_or_else(|e| e.into_inner());
        let mut never = Vec::new();
        let mut twice = Vec::new();
        for s in slots.iter() {
            // Acquire: pairs with the AcqRel increment in `Tracked::drop`.
            match s.drops.load(Ordering::Acquire) {
                0 => never.push(s.id),
                1 => {}
                _ => twice.push(s.id),
            }
        }
        (never, twice)
    }

    /// Drives epoch reclamation (this thread pins and flushes, yielding now and then) until at
    /// most `alive` tracked values are left undropped or [`RECLAIM_PATIENCE`] has passed, and
    /// returns whether the target was reached. Call it with no guard of this thread live.
    ///
    /// The bound is in time, not rounds: another test of the same process that stays pinned (a
    /// long walk in a debug build on a loaded machine) holds the epoch back for as long as it
    /// runs, and a fixed number of rounds can be spent in microseconds.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = freeway_check::drops::DropTracker::new();
    /// let kept = t.track(0u8);
    /// let guard = freeway_epoch::pin();
    /// freeway_epoch::defer_drop(&guard, t.track(1u8));
    /// drop(guard);
    /// assert!(t.reclaim_until_alive(1));
    /// assert_eq!(t.alive(), 1);
    /// drop(kept);
    /// ```
    pub fn reclaim_until_alive(&self, alive: usize) -> bool {
        freeway_epoch::reclaim_until(RECLAIM_PATIENCE, || self.alive() <= alive)
    }

    /// [`reclaim_until_alive`](Self::reclaim_until_alive)`(0)`: drives reclamation until every
    /// tracked value has been dropped (or gives up), and says whether they all were.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = freeway_check::drops::DropTracker::new();
    /// let guard = freeway_epoch::pin();
    /// freeway_epoch::defer_drop(&guard, t.track(1u8));
    /// drop(guard);
    /// assert!(t.reclaim_until_all_dropped());
    /// t.assert_all_dropped_once();
    /// ```
    pub fn reclaim_until_all_dropped(&self) -> bool {
        self.reclaim_until_alive(0)
    }

    /// Panics unless every value handed out was dropped exactly once.
    ///
    /// # Panics
    ///
    /// With the ids of the values never dropped (leaked or still held) and of those dropped more
    /// than once.
    ///
    /// # Examples
    ///
    /// ```should_panic
    /// let t = freeway_check::drops::DropTracker::new();
    /// let leaked = t.track(1);
    /// std::mem::forget(leaked);
    /// t.assert_all_dropped_once(); // panics: value 0 was never dropped
    /// ```
    pub fn assert_all_dropped_once(&self) {
        let (never, twice) = self.anomalies();
        assert!(
            never.is_empty() && twice.is_empty(),
            "drop accounting: {} of {} values never dropped (first ids {:?}), {} dropped more than once (first ids {:?})",
            never.len(),
            self.created(),
            &never[..never.len().min(10)],
            twice.len(),
            &twice[..twice.len().min(10)],
        );
    }
}

impl<T> Tracked<T> {
    /// The value's id: its creation index within its tracker.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = freeway_check::drops::DropTracker::new();
    /// assert_eq!(t.track('a').id(), 0);
    /// assert_eq!(t.track('b').id(), 1);
    /// ```
    pub fn id(&self) -> usize {
        self.slot.id
    }

    /// The wrapped value.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = freeway_check::drops::DropTracker::new();
    /// assert_eq!(*t.track(9).value(), 9);
    /// ```
    pub fn value(&self) -> &T {
        &self.value
    }
}

impl<T> Deref for Tracked<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> Drop for Tracked<T> {
    fn drop(&mut self) {
        // AcqRel: orders this drop after everything the dropping thread did with the value, and
        // pairs with the Acquire loads in `anomalies`/`dropped`.
        let before = self.slot.drops.fetch_add(1, Ordering::AcqRel);
        self.tracker.dropped.fetch_add(1, Ordering::AcqRel);
        if before != 0 && !std::thread::panicking() {
            panic!("value {} dropped {} times", self.slot.id, before + 1);
        }
        if self.panic_on_drop && !std::thread::panicking() {
            panic!("Tracked value {} panics in Drop, as asked", self.slot.id);
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Tracked<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value.fmt(f)
    }
}

impl<T: PartialEq> PartialEq for Tracked<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T: Eq> Eq for Tracked<T> {}

impl<T: Hash> Hash for Tracked<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.value.hash(state)
    }
}
