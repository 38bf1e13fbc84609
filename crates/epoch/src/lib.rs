//! Freeway's reclamation core: one epoch-based memory-reclamation scheme for every structure,
//! and the std|loom facade they are written against.
//!
//! Lock-free structures unlink a node while other threads may still be reading it, so the node
//! cannot be freed at once. Epoch-based reclamation (Fraser, *Practical lock-freedom*, Cambridge
//! PhD thesis, 2004; the crossbeam-epoch implementation used here) defers the free until every
//! thread that could have seen the node has left its critical section: a thread *pins* itself
//! ([`pin`]) before it reads shared pointers, and a node *retired* while pinned is freed only
//! after all pins that were live at the retirement have ended.
//!
//! This crate re-exports the crossbeam-epoch vocabulary ([`pin`], [`Guard`], [`Atomic`],
//! [`Owned`], [`Shared`], …) and adds:
//!
//! - [`sync`], the facade every structure imports its atomics, cells, `Arc` and threads from, so
//!   that one text runs under std and under loom;
//! - one retirement path for the whole workspace ([`retire`], [`defer_drop`],
//!   [`defer_unchecked`]), which counts retired and reclaimed objects when the `accounting`
//!   feature is on ([`accounting`]);
//! - collection paced by retirement: every 256th retirement of a thread also runs one
//!   collection step ([`Guard::flush`]), so garbage stays bounded for callers that keep one
//!   guard across many writes and re-pin now and then (crossbeam-epoch on its own collects only
//!   every 128th pin: a thread that pinned once per 256 map writes retired garbage 30 times
//!   faster than it was freed, without bound). Nothing retired while a guard is held can be
//!   freed before that guard drops, whatever the pacing;
//! - [`reclaim`], which drives reclamation forward so a test can assert that everything retired
//!   was reclaimed; with the `test-util` feature, `reclaim_until`,
//!   `reclaim_until_quiescent` and `reclaim_until_quiescent_for` drive it until a condition
//!   holds or a bound passes.
//!
//! `docs/reclamation.md` in the repository gives the rules for guards, the stalled-thread caveat
//! and how to amortise pins.
//!
//! # Examples
//!
//! Publish a value, replace it, and retire the old one:
//!
//! ```
//! use freeway_epoch::{pin, Atomic, Owned};
//! use freeway_epoch::sync::atomic::Ordering;
//!
//! let slot = Atomic::new(1u64);
//! {
//!     let guard = pin();
//!     let old = slot.swap(Owned::new(2u64), Ordering::AcqRel, &guard);
//!     // SAFETY: `old` was unlinked by the swap above and is retired exactly once; readers
//!     // that still hold it are pinned, so it is freed only after they unpin.
//!     unsafe { freeway_epoch::retire(&guard, old) };
//!     // SAFETY: the slot is non-null and we are pinned.
//!     assert_eq!(unsafe { *slot.load(Ordering::Acquire, &guard).deref() }, 2);
//! }
//! // Tear down: the slot is ours alone now.
//! // SAFETY: no other thread can reach the slot.
//! drop(unsafe { slot.into_owned() });
//! ```

#![warn(missing_docs)]

// loom models need both switches: `loom` turns this crate's facade onto loom's atomics, and
// `crossbeam_loom` turns crossbeam-epoch's; with only the first, the epoch's own atomics stay
// std ones that loom cannot see, and models report false causality errors.
#[cfg(all(loom, not(crossbeam_loom)))]
compile_error!(
    "freeway-epoch: build loom models with both `--cfg loom` and `--cfg crossbeam_loom` \
     (RUSTFLAGS=\"--cfg loom --cfg crossbeam_loom\"); `--cfg loom` alone leaves crossbeam-epoch \
     on std atomics"
);

pub use crossbeam_epoch::{
    Atomic, Collector, CompareExchangeError, Guard, LocalHandle, Owned, Pointable, Pointer, Shared,
    default_collector, is_pinned, pin, unprotected,
};
pub use crossbeam_utils::{Backoff, CachePadded};

pub mod accounting;
pub mod sync;

/// Whether structures may keep retired memory for reuse: the stack's node pool, the queue's
/// spare segments, the hash map's entry cache. Off in sanitizer and fuzzing builds
/// (`--cfg freeway_asan`, which `cargo xtask asan` sets, and cargo-fuzz's `fuzzing`), so that
/// every retired block is freed and AddressSanitizer sees a use after its grace period.
///
/// # Examples
///
/// ```
/// // On in ordinary builds.
/// assert!(freeway_epoch::RECYCLING || cfg!(any(fuzzing, freeway_asan)));
/// ```
pub const RECYCLING: bool = !cfg!(any(fuzzing, freeway_asan));

/// A small number for the calling thread, handed out round-robin from 0 in the order threads
/// first ask, for spreading per-thread statistics over striped counters (`thread_index() %
/// STRIPES`): `n` consecutive newcomers get `n` different numbers, where hashing an address
/// puts two threads on one of 16 stripes one time in sixteen. Wraps after `usize::MAX`
/// threads; never used to order anything.
///
/// A plain std atomic and thread-local, also under loom: loom atomics cannot live in statics,
/// and a statistic's stripe need not be modelled.
///
/// # Examples
///
/// ```
/// let a = freeway_epoch::thread_index();
/// assert_eq!(freeway_epoch::thread_index(), a, "stable for a thread");
/// let b = std::thread::spawn(freeway_epoch::thread_index).join().unwrap();
/// assert_ne!(a, b);
/// ```
#[inline]
pub fn thread_index() -> usize {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    std::thread_local! {
        static MINE: std::cell::Cell<usize> = const { std::cell::Cell::new(usize::MAX) };
    }
    MINE.try_with(|m| {
        let mut i = m.get();
        if i == usize::MAX {
            // Relaxed: only spreads threads over stripes; no data depends on it.
            i = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            m.set(i);
        }
        i
    })
    // During thread-local destruction (a guard dropped from a TLS destructor).
    .unwrap_or(0)
}

/// How many threads at a time can hold an exclusive [`Stripe`].
pub const EXCLUSIVE_STRIPES: usize = 16;

/// The calling thread's stripe of a per-thread statistic (see [`stripe`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stripe {
    /// Index `i < EXCLUSIVE_STRIPES`, held by this thread alone among the live threads: a
    /// counter stripe of it can be updated with a plain load and store instead of a locked
    /// read-modify-write.
    Exclusive(usize),
    /// Every exclusive stripe is held by another live thread (or this thread is exiting, or the
    /// code runs under loom): share stripes, updated with read-modify-writes.
    Shared,
}

/// The calling thread's stripe: [`Stripe::Exclusive`] for the first [`EXCLUSIVE_STRIPES`] live
/// threads that ask (a thread releases its index when it exits, and a later thread takes it
/// over), [`Stripe::Shared`] beyond.
///
/// A thread that takes an index over from one that exited sees everything the former holder
/// wrote before it released the index (the release and the take are a `Release`/`Acquire`
/// pair), so plain loads and stores of a stripe by its successive holders never lose an
/// update. Under loom it is always `Shared`: the index table lives outside the model, which
/// could not see that pairing.
///
/// # Examples
///
/// ```
/// use freeway_epoch::{EXCLUSIVE_STRIPES, Stripe, stripe};
///
/// let mine = stripe();
/// assert_eq!(stripe(), mine, "stable for a thread");
/// if let Stripe::Exclusive(i) = mine {
///     assert!(i < EXCLUSIVE_STRIPES);
///     let other = std::thread::spawn(stripe).join().unwrap();
///     assert_ne!(other, Stripe::Exclusive(i), "never shared by two live threads");
/// }
/// ```
#[inline]
pub fn stripe() -> Stripe {
    #[cfg(loom)]
    return Stripe::Shared;
    #[cfg(not(loom))]
    {
        use std::sync::atomic::{AtomicU32, Ordering};
        /// Bit `i` is set while a live thread holds exclusive index `i`.
        static TAKEN: AtomicU32 = AtomicU32::new(0);
        const _: () = assert!(EXCLUSIVE_STRIPES <= 32);
        /// The thread's index (`usize::MAX`: not asked yet; `SHARED`: none), released when the
        /// thread's locals are destroyed.
        struct Held(std::cell::Cell<usize>);
        const SHARED: usize = usize::MAX - 1;
        impl Drop for Held {
            fn drop(&mut self) {
                let i = self.0.get();
                if i < EXCLUSIVE_STRIPES {
                    // Release: pairs with the Acquire `fetch_or` of the next holder, which then
                    // sees this thread's last plain stores to its stripes.
                    TAKEN.fetch_and(!(1 << i), Ordering::Release);
                }
            }
        }
        std::thread_local! {
            static HELD: Held = const { Held(std::cell::Cell::new(usize::MAX)) };
        }
        HELD.try_with(|h| {
            let mut i = h.0.get();
            if i == usize::MAX {
                i = SHARED;
                // Relaxed: a first look; the `fetch_or` decides.
                let mut taken = TAKEN.load(Ordering::Relaxed);
                while taken.trailing_ones() < EXCLUSIVE_STRIPES as u32 {
                    let bit = 1 << taken.trailing_ones();
                    // Acquire: pairs with the Release `fetch_and` of the index's last holder.
                    let before = TAKEN.fetch_or(bit, Ordering::Acquire);
                    if before & bit == 0 {
                        i = taken.trailing_ones() as usize;
                        break;
                    }
                    taken = before | bit;
                }
                h.0.set(i);
            }
            if i < EXCLUSIVE_STRIPES {
                Stripe::Exclusive(i)
            } else {
                Stripe::Shared
            }
        })
        // During thread-local destruction: the index may be released already.
        .unwrap_or(Stripe::Shared)
    }
}

/// Whether `guard` pins the calling thread in the [`default_collector`], the collector every
/// Freeway structure retires into.
///
/// A structure that hands out references valid "while `guard` lives" must refuse any other
/// guard: one from [`unprotected`] pins nothing, and one from a `Collector` of the caller's own
/// holds back only that collector's garbage, so a node the structure retires could be freed
/// under the reference. Every guard-taking method of the workspace asserts this first.
///
/// The default collector is fetched once per process and kept, so the test is a few loads and
/// one pointer compare (`Collector`'s `==` compares the shared global state).
///
/// # Examples
///
/// ```
/// use freeway_epoch::{pin, pins_default_collector, unprotected, Collector};
///
/// assert!(pins_default_collector(&pin()));
/// // SAFETY: the guard is only inspected, never used to read shared memory.
/// assert!(!pins_default_collector(unsafe { unprotected() }));
/// let other = Collector::new().register();
/// assert!(!pins_default_collector(&other.pin()));
/// ```
#[inline]
pub fn pins_default_collector(guard: &Guard) -> bool {
    match guard.collector() {
        Some(c) => *c == *default_collector_cached(),
        None => false,
    }
}

/// [`default_collector`], fetched once per process: that function is an out-of-line call (a
/// `OnceLock` inside crossbeam-epoch), and the `&'static` it returns never changes, so it is
/// kept in a `OnceLock` of ours, whose `get` inlines to one load and a compare.
#[cfg(not(loom))]
#[inline]
fn default_collector_cached() -> &'static Collector {
    static CACHED: std::sync::OnceLock<&'static Collector> = std::sync::OnceLock::new();
    match CACHED.get() {
        Some(c) => c,
        None => CACHED.get_or_init(default_collector),
    }
}

/// Under loom the default collector is created afresh for every model execution (a loom
/// `lazy_static`), so it must not be cached across executions: ask every time.
#[cfg(loom)]
#[inline]
fn default_collector_cached() -> &'static Collector {
    default_collector()
}

/// Retirements between two collection steps of one thread: four crossbeam-epoch bags (a bag
/// holds 64 deferred functions). A step seals the current bag and frees up to eight expired
/// ones, twice what the thread produced meanwhile, so its garbage stays bounded. Every bag (64)
/// was measured too: the same bound, but the 2-thread exchange mix of the hashmap probe ran at
/// a median 3.9 Mops/s against 5.0 with 256, the extra steps contending on the global queue.
#[cfg(not(loom))]
const RETIRES_PER_COLLECT: u32 = 256;

/// Objects that one crossbeam-epoch collection frees when it is capped: it pops at most eight
/// expired bags, of 64 objects each when full. A flush of a collection step that freed at least
/// three quarters of this found a backlog, and the step flushes again (see [`collection_step`]).
#[cfg(not(loom))]
const BACKLOG_SIGN: u64 = 8 * 64 * 3 / 4;

/// The most flushes of one collection step while it finds a backlog: at most about 1 024
/// objects freed by one step, as two of crossbeam-epoch's own collections, so that a step stays
/// short (a thread preempted inside it holds the epoch, and a long step makes that likelier).
#[cfg(not(loom))]
const DRAIN_ROUNDS: u32 = 2;

/// Retirements between two collection steps of a thread whose last step ended with the backlog
/// still there, instead of [`RETIRES_PER_COLLECT`]: while it lasts, the thread drains in many
/// short steps, unpinning between its operations, and frees far more than it retires.
#[cfg(not(loom))]
const RETIRES_PER_DRAIN_STEP: u32 = 4;

#[cfg(not(loom))]
std::thread_local! {
    /// Retirements (calls of the retirement path) on this thread since its last collection step.
    static SINCE_COLLECT: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    /// Whether this thread is inside a paced collection step.
    static COLLECTING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// Deferred functions of this crate's retirement path that have run on this thread.
    static RAN: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Counts one deferred function of the retirement path as run: on this thread (see
/// [`collection_step`]) and in the [`accounting`] counters.
#[inline]
fn note_ran() {
    #[cfg(not(loom))]
    let _ = RAN.try_with(|c| c.set(c.get() + 1));
    accounting::note_reclaimed();
}

/// Deferred functions of the retirement path run on this thread so far.
#[cfg(not(loom))]
#[inline]
fn ran() -> u64 {
    RAN.try_with(|c| c.get()).unwrap_or(0)
}

/// Paces collection after one retirement has been deferred: every [`RETIRES_PER_COLLECT`]th
/// time on this thread, runs a collection step.
///
/// Without it, a thread that keeps its guard across many writes (the amortised pattern that
/// docs/reclamation.md recommends) would only collect when it pins, every 128th pin in
/// crossbeam-epoch, while retiring a bag per 64 writes. Not under loom: the step's extra atomics
/// would multiply the models' interleavings without exercising code of ours.
///
/// The step runs the deferred functions of expired garbage, anybody's, in the middle of the
/// caller's operation, so two things are contained here:
/// - a deferred function that itself retires does not start a nested step (`COLLECTING`):
///   each level would pop up to eight more bags, and the recursion would grow with the backlog;
/// - a deferred function that panics does not unwind through the caller's data structure
///   operation, half done: every function deferred through this crate runs inside
///   [`contained`], which stops the panic where it happens, so the rest of its bag still runs.
///   The step also catches what a function deferred directly through crossbeam-epoch might
///   throw (crossbeam-epoch then leaks the rest of that bag, never frees anything twice).
#[inline]
fn pace_collection(guard: &Guard) {
    #[cfg(not(loom))]
    {
        let due = SINCE_COLLECT
            .try_with(|c| {
                let n = c.get() + 1;
                c.set(if n >= RETIRES_PER_COLLECT { 0 } else { n });
                n >= RETIRES_PER_COLLECT
            })
            .unwrap_or(false);
        if due {
            collection_step(guard);
        }
    }
    #[cfg(loom)]
    let _ = guard;
}

/// One paced collection step, unless this thread is already in one (see [`pace_collection`]).
#[cfg(not(loom))]
#[cold]
fn collection_step(guard: &Guard) {
    if COLLECTING.try_with(|c| c.replace(true)).unwrap_or(true) {
        return;
    }
    // A flush frees at most eight expired bags, twice what this thread sealed since its last
    // step, so after a stall (a thread pinned for seconds while the others retire) the backlog
    // would drain only about as fast as the threads retire. While a flush frees nearly its cap,
    // the step flushes again, up to `DRAIN_ROUNDS` times, and if the backlog is still there the
    // thread's next step comes sooner. A step that finds none costs nothing extra.
    let backlog = (0..DRAIN_ROUNDS).all(|_| {
        let before = ran();
        // Only a function deferred around this crate can panic here (ours are `contained`); the
        // panic has been reported by the hook; see `pace_collection` for why it stops here.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| guard.flush()));
        ran() - before >= BACKLOG_SIGN
    });
    if backlog {
        // Still there: the next step comes after `RETIRES_PER_DRAIN_STEP` retirements.
        let _ = SINCE_COLLECT.try_with(|c| c.set(RETIRES_PER_COLLECT - RETIRES_PER_DRAIN_STEP));
    }
    let _ = COLLECTING.try_with(|c| c.set(false));
}

/// Hands this thread's garbage to the global queue now and runs a collection step, contained as
/// the paced steps of the retirement path are: not nested in another step, and no panic of a
/// deferred function unwinds out of it.
///
/// For a retirement of few objects but many bytes, such as a hash table's outgrown bucket
/// array: left in the thread's bag, it waits until 64 more retirements fill the bag or the
/// thread's next paced step, which a thread that retires nothing else never reaches. The
/// objects are freed by a later collection, once every thread pinned now has moved on. Under
/// loom this does nothing (as the paced steps).
///
/// # Examples
///
/// ```
/// let guard = freeway_epoch::pin();
/// freeway_epoch::defer_drop(&guard, vec![0u8; 1 << 20]);
/// freeway_epoch::collect_now(&guard);
/// ```
pub fn collect_now(guard: &Guard) {
    #[cfg(not(loom))]
    collection_step(guard);
    #[cfg(loom)]
    let _ = guard;
}

/// Retires the object behind `ptr`: it is dropped and freed once no pinned thread can still hold
/// a reference to it.
///
/// This, [`defer_drop`] and [`defer_unchecked`] are the workspace's one retirement path: the
/// [`accounting`] counters see every object that goes through them.
///
/// With an [`unprotected`] guard the object is destroyed at once.
///
/// # Safety
///
/// - `ptr` is non-null and points to an object allocated by [`Owned`] (or `Box`), still live.
/// - The object is unreachable for any thread that pins after this call: it has been unlinked
///   from every shared location.
/// - It is retired once, and nobody else frees it.
/// - Its drop may run on any thread: `T` must be safe to drop from another thread (`T: Send`,
///   or a type whose drop touches nothing thread-bound).
///
/// # Examples
///
/// ```
/// use freeway_epoch::{pin, Atomic, Owned, retire};
/// use freeway_epoch::sync::atomic::Ordering;
///
/// let a = Atomic::new(String::from("old"));
/// let guard = pin();
/// let old = a.swap(Owned::new(String::from("new")), Ordering::AcqRel, &guard);
/// // SAFETY: `old` is unlinked and retired once.
/// unsafe { retire(&guard, old) };
/// # drop(guard);
/// # drop(unsafe { a.into_owned() });
/// ```
#[inline]
pub unsafe fn retire<T>(guard: &Guard, ptr: Shared<'_, T>) {
    accounting::note_retired();
    let raw = ptr.as_raw() as *mut T;
    // SAFETY: the caller guarantees the object is unlinked, live, allocated as a Box and retired
    // once; the closure runs after every guard that could reach it has been dropped.
    unsafe {
        guard.defer_unchecked(move || {
            contained(|| drop(Box::from_raw(raw)));
            note_ran();
        })
    }
    pace_collection(guard);
}

/// Drops `value` once every thread that is pinned now has unpinned.
///
/// For values that other threads may still read through pointers they loaded while pinned (an
/// `Arc` whose count must not drop early, a buffer still being copied from).
///
/// # Examples
///
/// ```
/// let guard = freeway_epoch::pin();
/// freeway_epoch::defer_drop(&guard, vec![1, 2, 3]);
/// ```
#[inline]
pub fn defer_drop<T: Send + 'static>(guard: &Guard, value: T) {
    accounting::note_retired();
    guard.defer(move || {
        contained(|| drop(value));
        note_ran();
    });
    pace_collection(guard);
}

/// Runs a deferred function so that a panic inside it (a user's `Drop`) stops here: the panic
/// hook has reported it by then, and the unwinding must not reach crossbeam-epoch's bag (which
/// would leak the rest of the bag) nor the operation that happened to run the collection (a
/// `pop` whose value was already taken, say). What the function had not finished is lost to the
/// panic, as in any `Drop` that panics; everything else in the bag still runs.
#[inline]
fn contained(f: impl FnOnce()) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
}

/// Runs `f` once every thread that is pinned now has unpinned; counted as one retired object.
///
/// # Safety
///
/// As [`Guard::defer_unchecked`]: `f` may run on any thread, and everything it touches must stay
/// valid until it runs. In particular, whatever it frees must be unreachable to threads that pin
/// after this call.
///
/// # Examples
///
/// ```
/// let raw = Box::into_raw(Box::new(5u32));
/// let guard = freeway_epoch::pin();
/// // SAFETY: `raw` came from `Box::into_raw`, is freed exactly once, and nothing else uses it.
/// unsafe { freeway_epoch::defer_unchecked(&guard, move || drop(Box::from_raw(raw))) };
/// ```
#[inline]
pub unsafe fn defer_unchecked<F: FnOnce()>(guard: &Guard, f: F) {
    accounting::note_retired();
    // SAFETY: forwarded from the caller.
    unsafe {
        guard.defer_unchecked(move || {
            contained(f);
            note_ran();
        })
    }
    pace_collection(guard);
}

/// Drives reclamation forward: pins and flushes this thread `rounds` times.
///
/// Each round moves this thread's deferred garbage to the global queue, tries to advance the
/// global epoch, and frees expired garbage. Garbage still sitting in *other* live threads' local
/// bags is out of reach until those threads pin again or exit; garbage of threads that have
/// exited is in the global queue and is reclaimed here. Call it with no guard of this thread
/// live, or the epoch cannot advance.
///
/// Returns the accounting snapshot after the last round (all zeros without the `accounting`
/// feature).
///
/// # Examples
///
/// ```
/// let guard = freeway_epoch::pin();
/// freeway_epoch::defer_drop(&guard, String::from("garbage"));
/// drop(guard);
/// freeway_epoch::reclaim(64);
/// ```
pub fn reclaim(rounds: usize) -> accounting::Counts {
    for _ in 0..rounds {
        let guard = pin();
        guard.flush();
    }
    accounting::counts()
}

/// Drives reclamation (as [`reclaim`]) until no retired object is outstanding or `max_rounds`
/// have run, and returns the number still outstanding. Needs the `test-util` feature.
///
/// Without the `accounting` feature nothing is counted and this returns `0` after one round.
///
/// # Examples
///
/// ```
/// let guard = freeway_epoch::pin();
/// freeway_epoch::defer_drop(&guard, 42u64);
/// drop(guard);
/// let _left = freeway_epoch::reclaim_until_quiescent(10_000);
/// ```
#[cfg(feature = "test-util")]
pub fn reclaim_until_quiescent(max_rounds: usize) -> u64 {
    let mut left = reclaim(1).outstanding();
    let mut rounds = 1;
    while left > 0 && rounds < max_rounds {
        left = reclaim(8).outstanding();
        rounds += 8;
    }
    left
}

/// Drives reclamation (as [`reclaim`]) until no retired object is outstanding or `patience` has
/// passed, yielding the processor now and then, and returns the number still outstanding.
/// Needs the `test-util` feature.
///
/// The time-bounded form of [`reclaim_until_quiescent`], for tests that share their process with
/// others: a neighbouring thread that stays pinned holds the epoch back for as long as it runs,
/// and a fixed number of rounds can be spent in microseconds while it does. Without the
/// `accounting` feature this returns `0` after one round.
///
/// # Examples
///
/// ```
/// let guard = freeway_epoch::pin();
/// freeway_epoch::defer_drop(&guard, 42u64);
/// drop(guard);
/// let _left = freeway_epoch::reclaim_until_quiescent_for(std::time::Duration::from_secs(5));
/// ```
#[cfg(all(feature = "test-util", not(loom)))]
pub fn reclaim_until_quiescent_for(patience: std::time::Duration) -> u64 {
    reclaim(1);
    reclaim_until(patience, || accounting::counts().outstanding() == 0);
    accounting::counts().outstanding()
}

/// Drives reclamation (as [`reclaim`], a round at a time, yielding the processor every 64
/// rounds) until `done()` holds or `patience` has passed, and returns whether `done()` held.
/// Needs the `test-util` feature.
///
/// The one time-bounded reclamation loop: [`reclaim_until_quiescent_for`] waits on the global
/// accounting with it, and tests wait on their own drop counters. A neighbouring thread that
/// stays pinned holds the epoch back for as long as it runs, so the bound is in time, not rounds.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
///
/// struct Flag<'a>(&'a AtomicBool);
/// impl Drop for Flag<'_> {
///     fn drop(&mut self) {
///         self.0.store(true, Ordering::Relaxed);
///     }
/// }
/// static DROPPED: AtomicBool = AtomicBool::new(false);
/// let guard = freeway_epoch::pin();
/// freeway_epoch::defer_drop(&guard, Flag(&DROPPED));
/// drop(guard);
/// let done = freeway_epoch::reclaim_until(std::time::Duration::from_secs(30), || {
///     DROPPED.load(Ordering::Relaxed)
/// });
/// assert!(done);
/// ```
// Not `cfg(not(loom))`: freeway-check's drop tracker calls it in every build. It uses std's clock
// and `yield_now` on purpose: it runs outside loom models, where loom's would panic.
#[cfg(feature = "test-util")]
pub fn reclaim_until(patience: std::time::Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + patience;
    let mut round = 0u32;
    while !done() {
        if std::time::Instant::now() >= deadline {
            return false;
        }
        reclaim(1);
        round = round.wrapping_add(1);
        if round.is_multiple_of(64) {
            std::thread::yield_now();
        }
    }
    true
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::Arc;
    use crate::sync::atomic::{AtomicUsize, Ordering};

    struct Bump(Arc<AtomicUsize>);
    impl Drop for Bump {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn unprotected_retire_runs_at_once() {
        let n = Arc::new(AtomicUsize::new(0));
        let a = Atomic::new(Bump(n.clone()));
        // SAFETY: single-threaded; nothing else can see `a`.
        unsafe {
            let g = unprotected();
            let p = a.swap(Shared::null(), Ordering::Relaxed, g);
            retire(g, p);
        }
        assert_eq!(n.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn deferred_drop_waits_for_pins_then_runs_once() {
        let n = Arc::new(AtomicUsize::new(0));
        {
            let g = pin();
            defer_drop(&g, Bump(n.clone()));
            // Our own pin is still live, so the epoch cannot have moved past it.
            assert_eq!(n.load(Ordering::Relaxed), 0);
        }
        for _ in 0..10_000 {
            if n.load(Ordering::Relaxed) == 1 {
                break;
            }
            reclaim(4);
        }
        assert_eq!(n.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn defer_unchecked_runs_closure() {
        let n = Arc::new(AtomicUsize::new(0));
        let m = n.clone();
        // SAFETY: the closure only touches an Arc it owns.
        unsafe { defer_unchecked(unprotected(), move || drop(Bump(m))) };
        assert_eq!(n.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn counts_outstanding_never_underflows() {
        let c = accounting::Counts {
            retired: 1,
            reclaimed: 3,
        };
        assert_eq!(c.outstanding(), 0);
    }

    #[test]
    fn nested_pins_are_cheap_and_pinned() {
        let a = pin();
        let b = pin();
        assert!(is_pinned());
        drop(a);
        assert!(is_pinned());
        drop(b);
        assert!(!is_pinned());
    }
}
