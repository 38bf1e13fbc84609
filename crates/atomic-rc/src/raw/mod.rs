//! The unsafe core: one atomic word that owns one strong count of a `std::sync::Arc<T>`.
//!
//! Everything unsafe in this crate is in this module. [`RawArcCell`] is an `Option<Arc<T>>`
//! behind an atomic word; the public `AtomicArc` keeps it non-null, `AtomicOptionArc` allows
//! null.
//!
//! # The word
//!
//! | `T`                                   | word                                        | null means |
//! |---------------------------------------|---------------------------------------------|------------|
//! | `Sized` (thin `*const T`)             | `Arc::into_raw(arc)`, the data pointer       | `None`     |
//! | unsized (`str`, `[U]`, `dyn Trait`)   | `Box::into_raw(Box::new(arc))`, a thin node | `None`     |
//!
//! A fat pointer (data + length or vtable) does not fit one atomic word, so an unsized `T` pays
//! one extra allocation per stored value: a `Box<Arc<T>>` node, written once before it is
//! published and never written again. Which layout a `T` uses is decided at compile time
//! ([`RawArcCell::THIN`]); the branch folds away.
//!
//! Whatever the layout, the word *owns one strong count* of the `Arc` it names (the "cell's
//! count"), and, for unsized `T`, the node.
//!
//! # Why reads may touch a value that is being replaced
//!
//! `load` reads the word and then increments the strong count. Between the two steps a writer
//! may swap the word out. If the writer released the cell's count at once and that was the last
//! count, the reader would increment a freed count. So a replaced word is never released at
//! once: it goes through `freeway_epoch::defer_unchecked` (the workspace's counted retirement
//! path), which runs the release only after every thread that was pinned at the swap has
//! unpinned. Every reader pins before it reads the word, so the count it increments is alive.
//!
//! This is the crux of `swap`: it must hand the caller an `Arc` that owns a count, but it cannot
//! hand over the cell's count, because the caller could drop it before a reader that is still
//! between its load and its increment has incremented. So `swap` increments once (a fresh count
//! for the caller, safe because the cell's count is still held) and defers the release of the
//! cell's count. `store` needs no increment. `compare_exchange` does as `swap` on success.
//!
//! # Orderings
//!
//! - Every write of the word (swap, compare-exchange success) is `AcqRel`: the Release half
//!   publishes the `Arc`'s contents (and, for unsized `T`, the node) to the `Acquire` loads of
//!   readers; the Acquire half makes the value being replaced visible to the writer, which clones
//!   it.
//! - Every read of the word is `Acquire`, pairing with those Release halves.
//! - The pin's `SeqCst` fence (inside crossbeam-epoch) orders the reader's read of the word
//!   against the writer's retirement; that is crossbeam's standard argument and needs nothing
//!   more from us. It does not publish values: a writer that already holds a guard pins again
//!   without a fence, after building its value, so the Release halves above are what publish
//!   (the loom models `a_pinned_writers_*` fail with any of them weakened).
//!
//! # Drop of a replaced value
//!
//! The deferred release runs on whichever thread collects garbage, at an arbitrary point of its
//! own work (inside a `pin`). If it drops the last count and `T`'s `Drop` panics, unwinding
//! through the epoch collector would lose the rest of its garbage bag and surface the panic in
//! an unrelated thread. So the deferred release catches the panic (the panic hook has already
//! reported it) and discards it: the value counts as dropped, the collector carries on.

use freeway_epoch::sync::atomic::{AtomicPtr, Ordering};
use freeway_epoch::{Guard, pin};
use std::marker::PhantomData;
use std::mem::{self, ManuallyDrop};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::{self, NonNull};
use std::sync::Arc;

/// An `Option<Arc<T>>` in one atomic word (see the module docs for the layout).
pub(crate) struct RawArcCell<T: ?Sized> {
    /// The word: null, or a word that owns one strong count (see the table in the module docs).
    word: AtomicPtr<()>,
    /// The cell owns an `Option<Arc<T>>`: auto traits (`Send`/`Sync` iff `T: Send + Sync`),
    /// variance and drop check follow `Arc<T>`.
    _owns: PhantomData<Option<Arc<T>>>,
}

impl<T: ?Sized> RawArcCell<T> {
    /// Whether `*const T` is a thin pointer, so the word can be the `Arc`'s data pointer itself.
    pub(crate) const THIN: bool = mem::size_of::<*const T>() == mem::size_of::<*const ()>();

    /// Turns an owned `Arc` into a word that owns its count (allocating a node for unsized `T`).
    fn into_word(arc: Arc<T>) -> *mut () {
        if Self::THIN {
            Arc::into_raw(arc).cast::<()>().cast_mut()
        } else {
            Box::into_raw(Box::new(arc)).cast::<()>()
        }
    }

    fn option_into_word(v: Option<Arc<T>>) -> *mut () {
        v.map_or(ptr::null_mut(), Self::into_word)
    }

    /// The value a non-null word names.
    ///
    /// # Safety
    ///
    /// - `w` is a non-null word made by [`Self::into_word`] for this `T`.
    /// - The count (and node) it owns stays alive for `'a`.
    unsafe fn word_ref<'a>(w: *mut ()) -> &'a T {
        if Self::THIN {
            // SAFETY: 1. `*const T` has the size of a thin pointer (THIN), so it is a thin
            // pointer and `*const ()` -> `*const T` is a plain re-typing of the address.
            // 2. The word came from `Arc::into_raw`, so it points at a live `T` for `'a`
            // (caller).
            unsafe { &*mem::transmute_copy::<*const (), *const T>(&w.cast_const()) }
        } else {
            // SAFETY: the word is a `Box<Arc<T>>` node, alive for `'a` (caller), never written
            // after publication; the `Arc` in it keeps the `T` alive.
            unsafe { &*w.cast::<Arc<T>>() }
        }
    }

    /// A new strong count of the value a non-null word names.
    ///
    /// # Safety
    ///
    /// As [`Self::word_ref`], for the duration of the call.
    unsafe fn word_clone(w: *mut ()) -> Arc<T> {
        if Self::THIN {
            // SAFETY: 1. as in `word_ref`, the re-typing is exact and the pointer came from
            // `Arc::into_raw`. 2. The count the word owns is alive (caller), so the `Arc` it
            // names has a count >= 1 and may be incremented; `ManuallyDrop` leaves the word's
            // own count untouched.
            unsafe {
                let p = mem::transmute_copy::<*const (), *const T>(&w.cast_const());
                Arc::clone(&ManuallyDrop::new(Arc::from_raw(p)))
            }
        } else {
            // SAFETY: the node is alive (caller) and holds an `Arc<T>`.
            unsafe { Arc::clone(&*w.cast::<Arc<T>>()) }
        }
    }

    /// Takes back the count (and node) a non-null word owns.
    ///
    /// # Safety
    ///
    /// - `w` is a non-null word made by [`Self::into_word`] for this `T`.
    /// - The word's count is taken back once: no other owner, and no thread can read the word
    ///   any more (or every thread that could has unpinned).
    unsafe fn word_take(w: *mut ()) -> Arc<T> {
        if Self::THIN {
            // SAFETY: the re-typing is exact (THIN) and the pointer came from `Arc::into_raw`;
            // its count is taken back once (caller).
            unsafe { Arc::from_raw(mem::transmute_copy::<*const (), *const T>(&w.cast_const())) }
        } else {
            // SAFETY: the node came from `Box::into_raw` and is freed once (caller).
            unsafe { *Box::from_raw(w.cast::<Arc<T>>()) }
        }
    }

    /// Whether a word names the same allocation as `current` (`Arc::ptr_eq`), `None` matching
    /// null.
    ///
    /// # Safety
    ///
    /// A non-null `w` is alive for the duration of the call (as [`Self::word_ref`]).
    unsafe fn word_is(w: *mut (), current: Option<&Arc<T>>) -> bool {
        match current {
            None => w.is_null(),
            Some(_) if w.is_null() => false,
            Some(c) if Self::THIN => ptr::eq(Arc::as_ptr(c).cast::<()>(), w.cast_const()),
            // SAFETY: non-null and alive (caller); the node holds an `Arc<T>`.
            Some(c) => Arc::ptr_eq(unsafe { &*w.cast::<Arc<T>>() }, c),
        }
    }

    /// An empty (`None`) or full cell.
    pub(crate) fn new(v: Option<Arc<T>>) -> Self {
        Self {
            word: AtomicPtr::new(Self::option_into_word(v)),
            _owns: PhantomData,
        }
    }

    /// An owned copy of the current value: pin, read, increment, unpin.
    pub(crate) fn load(&self) -> Option<Arc<T>> {
        let _guard = pin();
        // Acquire: pairs with the Release half of the AcqRel swap in `swap`/`store` and of the
        // AcqRel CAS in `compare_exchange`, so the value's contents are visible.
        let w = self.word.load(Ordering::Acquire);
        if w.is_null() {
            return None;
        }
        // SAFETY: we are pinned and read `w` from the cell while pinned; a word replaced after
        // our read is released only through `defer_unchecked`, after our pin ends (module docs),
        // so its count is alive during this call.
        Some(unsafe { Self::word_clone(w) })
    }

    /// The current value, borrowed for as long as `guard` (and the cell) live.
    ///
    /// # Panics
    ///
    /// If `guard` is not a pin of the default collector (`freeway_epoch::pin()`): another
    /// collector's guard, or `unprotected()`, does not hold back the releases this cell defers.
    pub(crate) fn snapshot<'g>(&'g self, guard: &'g Guard) -> Option<RawSnapshot<'g, T>> {
        check_guard(guard);
        // Acquire: pairs with the Release half of the AcqRel writes in `swap`/`store`/
        // `compare_exchange`, so the value's contents are visible.
        let w = NonNull::new(self.word.load(Ordering::Acquire))?;
        Some(RawSnapshot {
            word: w,
            _life: PhantomData,
        })
    }

    /// Takes the current value out of a cell that is being destroyed or unwrapped.
    pub(crate) fn take_mut(&mut self) -> Option<Arc<T>> {
        // Relaxed: `&mut self` means every other access to the cell happened before this one
        // (whatever handed us the unique borrow synchronised it).
        let w = self.word.swap(ptr::null_mut(), Ordering::Relaxed);
        if w.is_null() {
            return None;
        }
        // SAFETY: 1. `&mut self`: no thread can read the word any more, and no snapshot of this
        // cell is alive (snapshots borrow the cell). 2. We just nulled the word, so its count is
        // taken back once.
        Some(unsafe { Self::word_take(w) })
    }
}

impl<T: ?Sized> Drop for RawArcCell<T> {
    fn drop(&mut self) {
        // The cell's count is released at once: `&mut self` rules out readers and snapshots.
        drop(self.take_mut());
    }
}

impl<T: ?Sized + Send + Sync + 'static> RawArcCell<T> {
    /// Releases a replaced word's count (and node) once every thread pinned now has unpinned.
    ///
    /// # Safety
    ///
    /// `w` is non-null, was just unlinked from the cell by this thread (a swap or a successful
    /// CAS), and is retired once.
    unsafe fn retire_word(guard: &Guard, w: *mut ()) {
        struct SendWord(*mut ());
        // SAFETY: the word owns an `Arc<T>` (and a node holding it) with `T: Send + Sync`, so
        // the `Arc<T>` it stands for is `Send`; only the closure below uses it.
        unsafe impl Send for SendWord {}
        let sw = SendWord(w);
        let release = move || {
            let sw = sw;
            // SAFETY: the closure runs once, after every thread that was pinned when it was
            // deferred has unpinned, so no reader can still be between its read of `w` and its
            // increment; the word is unlinked (caller), so this takes its count back once.
            let arc = unsafe { Self::word_take(sw.0) };
            // A panic in the last `T::drop` must not unwind through the collector (module
            // docs); the panic hook has reported it already.
            let _ = catch_unwind(AssertUnwindSafe(move || drop(arc)));
        };
        // SAFETY: 1. `w` is unlinked: threads that pin after this call cannot read it, and
        // threads pinned now are waited for by the epoch. 2. It is retired once (caller), so the
        // count is taken back once. 3. The closure touches only the `Arc<T>` it owns, with
        // `T: Send + Sync + 'static`: fine to run later on any thread.
        unsafe { freeway_epoch::defer_unchecked(guard, release) };
    }

    /// Replaces the value; returns the old one (with a fresh count; the cell's is deferred).
    pub(crate) fn swap(&self, v: Option<Arc<T>>) -> Option<Arc<T>> {
        let new = Self::option_into_word(v);
        let guard = pin();
        // AcqRel: Release publishes the new value's contents to the Acquire loads in `load`,
        // `snapshot` and `compare_exchange`; Acquire pairs with the Release half of the write
        // that installed the old value, which we are about to clone.
        let old = self.word.swap(new, Ordering::AcqRel);
        if old.is_null() {
            return None;
        }
        // SAFETY: the cell's count of `old` is still held by us (not yet retired), so it is
        // alive for this call.
        let out = unsafe { Self::word_clone(old) };
        // SAFETY: our swap unlinked `old`; we retire it once.
        unsafe { Self::retire_word(&guard, old) };
        Some(out)
    }

    /// Replaces the value, dropping the old one after the grace period.
    pub(crate) fn store(&self, v: Option<Arc<T>>) {
        let new = Self::option_into_word(v);
        let guard = pin();
        // AcqRel: Release publishes the new value (pairs with the Acquire loads); Acquire pairs
        // with the Release that installed the old value, whose release we defer (its drop may
        // read its contents).
        let old = self.word.swap(new, Ordering::AcqRel);
        if !old.is_null() {
            // SAFETY: our swap unlinked `old`; we retire it once.
            unsafe { Self::retire_word(&guard, old) };
        }
    }

    /// Installs `new` if the current value is `current` (pointer identity); returns the previous
    /// value, or the actual value and `new` back.
    #[allow(clippy::type_complexity)]
    pub(crate) fn compare_exchange(
        &self,
        current: Option<&Arc<T>>,
        new: Option<Arc<T>>,
    ) -> Result<Option<Arc<T>>, (Option<Arc<T>>, Option<Arc<T>>)> {
        let new_w = Self::option_into_word(new);
        let guard = pin();
        // Acquire: pairs with the Release halves of the writes that installed the value.
        let mut seen = self.word.load(Ordering::Acquire);
        loop {
            // SAFETY: we are pinned and read `seen` from the cell while pinned, so a non-null
            // `seen` is alive (module docs).
            if !unsafe { Self::word_is(seen, current) } {
                // SAFETY: as above for `seen`; `new_w` was never published, so taking it back is
                // its only release.
                let actual = (!seen.is_null()).then(|| unsafe { Self::word_clone(seen) });
                // SAFETY: `new_w` was made by `option_into_word` above and never shared.
                let new_back = (!new_w.is_null()).then(|| unsafe { Self::word_take(new_w) });
                return Err((actual, new_back));
            }
            // AcqRel on success: Release publishes `new`'s contents (pairs with the Acquire
            // loads); Acquire pairs with the Release that installed `seen`, which we clone.
            // Acquire on failure: the value we read next is cloned or compared.
            match self
                .word
                .compare_exchange(seen, new_w, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) if seen.is_null() => return Ok(None),
                Ok(_) => {
                    // SAFETY: our CAS unlinked `seen`; its count is ours until we retire it.
                    let prev = unsafe { Self::word_clone(seen) };
                    // SAFETY: unlinked by our CAS, retired once.
                    unsafe { Self::retire_word(&guard, seen) };
                    return Ok(Some(prev));
                }
                // The word changed (for unsized `T` it may name the same `Arc` in a new node):
                // compare again.
                Err(actual) => seen = actual,
            }
        }
    }
}

/// Panics unless `guard` pins this thread in the default collector, the one this crate defers
/// releases to ([`freeway_epoch::pins_default_collector`]: a few loads, no call).
#[inline]
fn check_guard(guard: &Guard) {
    if !freeway_epoch::pins_default_collector(guard) {
        bad_guard()
    }
}

#[cold]
#[inline(never)]
fn bad_guard() -> ! {
    panic!(
        "AtomicArc::snapshot needs a guard from `freeway_epoch::pin()`: a guard of another \
         collector, or `unprotected()`, does not hold back the release of replaced values"
    )
}

/// A borrowed view of a cell's value, valid while the guard it was taken under lives.
///
/// Invariant: `word` is a non-null word of a cell, read while pinned in the default collector
/// by a guard that outlives `'g`, and the cell outlives `'g`; so the count (and node) it owns
/// stays alive for `'g` (released no earlier than after that guard's pin ends).
pub(crate) struct RawSnapshot<'g, T: ?Sized> {
    word: NonNull<()>,
    /// `&'g T` for the lifetime; `*const ()` keeps the snapshot on its guard's thread (`!Send`,
    /// `!Sync`), like the guard itself.
    _life: PhantomData<(&'g T, *const ())>,
}

impl<T: ?Sized> Clone for RawSnapshot<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: ?Sized> Copy for RawSnapshot<'_, T> {}

impl<'g, T: ?Sized> RawSnapshot<'g, T> {
    /// The value.
    pub(crate) fn get(&self) -> &'g T {
        // SAFETY: the type's invariant: the word is alive for `'g`.
        unsafe { RawArcCell::<T>::word_ref(self.word.as_ptr()) }
    }

    /// A new strong count of the value.
    pub(crate) fn to_arc(self) -> Arc<T> {
        // SAFETY: the type's invariant: the word is alive for `'g`, which covers this call.
        unsafe { RawArcCell::<T>::word_clone(self.word.as_ptr()) }
    }

    /// The address of the value (for pointer comparisons).
    pub(crate) fn as_ptr(&self) -> *const T {
        self.get()
    }
}
