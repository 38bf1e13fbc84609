//! A segment of the unbounded queue and its slots (see the parent module's docs).

use super::{Pool, SEGMENT_SLOTS};
use core::mem::MaybeUninit;
use freeway_epoch::sync::Witness;
use freeway_epoch::sync::atomic::Ordering::Relaxed;
use freeway_epoch::sync::atomic::{AtomicU8, AtomicUsize};
use freeway_epoch::sync::cell::UnsafeCell;
use freeway_epoch::{Atomic, Guard, Owned, Shared};

pub(super) struct Slot<T> {
    /// The state bits of the table in the module docs.
    pub(super) state: AtomicU8,
    pub(super) value: UnsafeCell<MaybeUninit<T>>,
}

impl<T> Slot<T> {
    pub(super) fn new() -> Self {
        Self {
            state: AtomicU8::new(0),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }
}

pub(super) struct Segment<T> {
    /// The following segment, null until a switch links it.
    pub(super) next: Atomic<Segment<T>>,
    /// The lap this segment serves (written before the segment is published, then read-only).
    pub(super) lap: u64,
    /// The next segment in the queue's `limbo` list while this one is parked there.
    pub(super) parked_next: Atomic<Segment<T>>,
    /// Slots before this one are known to be finished (see `RawQueue::finished`).
    pub(super) checked: AtomicUsize,
    pub(super) slots: [Slot<T>; SEGMENT_SLOTS],
    /// The segment's making (or reset) as loom sees it: checked where a thread reaches the
    /// segment through a pointer, so that loom sees the `Acquire` loads that `lap` relies on;
    /// tracked, so that a segment lost from the lists that free it fails a model.
    pub(super) witness: Witness,
}

impl<T> Segment<T> {
    /// A segment for lap `lap`, taken from `pool` if it has a spare and allocated otherwise.
    ///
    /// Built in place on the heap: a segment of a large `T` would not fit on the stack.
    #[cold]
    pub(super) fn alloc(lap: u64, pool: Option<&Pool<T>>, guard: &Guard) -> Owned<Self> {
        if let Some(p) = pool.and_then(|pool| pool.take(guard)) {
            // SAFETY: 1. `take` hands the spare to us alone: it went through a grace period
            // after its retirement, so no thread can still read it as a queue segment, and
            // the only other accesses (stale pool pops) are atomic loads of `next`. 2. Every
            // value was moved out before its retirement, so its cells are logically
            // uninitialised and overwriting them leaks nothing. 3. The resets are atomic stores
            // (or a raw write to `lap`, which nobody else reads now); they are published with
            // the segment by the Release CAS that links it, as for a fresh one. 4. `p` came
            // from `Box::into_raw`, so `Owned::from_raw` takes it back once.
            unsafe {
                (*p).next.store(Shared::null(), Relaxed);
                (*p).parked_next.store(Shared::null(), Relaxed);
                (*p).checked.store(0, Relaxed);
                (*p).witness.remake();
                (&raw mut (*p).lap).write(lap);
                let slots = (&raw const (*p).slots).cast::<Slot<T>>();
                for i in 0..SEGMENT_SLOTS {
                    (*slots.add(i)).state.store(0, Relaxed);
                }
                return Owned::from_raw(p);
            }
        }
        let mut b = Box::<Self>::new_uninit();
        let p = b.as_mut_ptr();
        // SAFETY: 1. `p` points to an allocation for a `Segment<T>`; every field is written once
        // through raw pointers before `assume_init`, and slots are written one by one in place.
        // 2. `MaybeUninit<T>` needs no initialisation, so a `Slot` is fully initialised by
        // `Slot::new`.
        unsafe {
            (&raw mut (*p).next).write(Atomic::null());
            (&raw mut (*p).parked_next).write(Atomic::null());
            (&raw mut (*p).checked).write(AtomicUsize::new(0));
            (&raw mut (*p).witness).write(Witness::tracked());
            (&raw mut (*p).lap).write(lap);
            let slots = (&raw mut (*p).slots).cast::<Slot<T>>();
            for i in 0..SEGMENT_SLOTS {
                slots.add(i).write(Slot::new());
            }
            Owned::from(b.assume_init())
        }
    }
}
