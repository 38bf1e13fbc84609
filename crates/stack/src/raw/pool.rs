//! Node memory: allocation, batched retirement and reuse through the epoch.
//!
//! A plain Treiber stack pays, per push/pop pair, one `malloc`, one `free` and one deferred
//! closure in the epoch. Measured on the pairs benchmark, glibc's allocator and
//! crossbeam-epoch's `defer` took about 70% of the time (the epoch frees nodes in bursts of 64+,
//! which overflows glibc's per-thread cache and sends it to its slow paths). So nodes whose layout
//! fits a small size class go through this module instead:
//!
//! - **retire**: a popped node is appended to a thread-local *pending* batch; when the batch holds
//!   [`BATCH`] nodes, one [`freeway_epoch::defer_unchecked`] hands the whole batch to the epoch,
//!   and the thread's epoch bag is flushed so that the grace period starts at once.
//!   Deferring later than the unlink is always safe: every thread pinned when the node was
//!   unlinked is still waited for, and no thread that pinned after the unlink can reach it.
//! - **recycle**: when the grace period has passed, the batch's nodes go to the *free* list of the
//!   thread that runs the deferred closure (up to [`FREE_CAP`] per class; the rest is freed).
//! - **alloc**: a push takes a node from its thread's free list, or from the allocator.
//!
//! A node's memory is thus reused only after a full grace period, exactly as if the allocator had
//! handed out the same address again, so the crate's ABA argument is unchanged.
//!
//! Thread exit hands the pending batches to the epoch and frees the free lists. Under `cfg(loom)`
//! the pool is off (every node is allocated and retired on its own), so models see the algorithm
//! only, and nodes larger than the biggest class always take that direct path, which is what the
//! AddressSanitizer stress test uses to keep use-after-free visible.

use core::alloc::Layout;

/// Node layouts served by the pool: size classes in bytes, all 16-aligned.
const CLASSES: [usize; 3] = [16, 32, 64];
/// Nodes per deferred batch.
#[cfg_attr(loom, allow(dead_code))]
const BATCH: usize = 256;
/// Most nodes a thread keeps for reuse, per class.
#[cfg_attr(loom, allow(dead_code))]
const FREE_CAP: usize = 1024;

/// The pool class of `T`'s node layout, if any.
pub(super) const fn class_of(layout: Layout) -> Option<usize> {
    // Off under loom (models see the algorithm only) and when `RECYCLING` is (sanitizer and
    // fuzzing builds: every node is freed, so AddressSanitizer sees a use after its grace
    // period).
    if cfg!(loom) || !freeway_epoch::RECYCLING || layout.align() > 16 {
        return None;
    }
    let mut i = 0;
    while i < CLASSES.len() {
        if layout.size() <= CLASSES[i] {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// The layout every node of `class` is allocated with.
#[cfg_attr(loom, allow(dead_code))]
fn class_layout(class: usize) -> Layout {
    // Sizes are non-zero multiples of the alignment, which is a power of two.
    match Layout::from_size_align(CLASSES[class], 16) {
        Ok(l) => l,
        Err(_) => unreachable!("size classes are valid layouts"),
    }
}

#[cfg(not(loom))]
pub(super) use imp::{alloc, dealloc, retire, retire_chain, take_run};

#[cfg(not(loom))]
mod imp {
    use super::{BATCH, CLASSES, FREE_CAP, class_layout};
    use core::cell::Cell;
    use core::ptr;

    /// One thread's nodes of one class.
    ///
    /// `free` is an intrusive list of nodes past their grace period: the first word of each free
    /// node points to the next one (nobody else can read a node past its grace period, so its
    /// memory is ours to write). `pending` holds retired nodes not yet handed to the epoch; those
    /// may still be read by pinned poppers (`next`) and peekers (the value), so they are listed
    /// in an array beside it, never written. A full pending array is copied into a `Vec` that
    /// the deferred closure owns; `spare` is an empty `Vec` kept from a recycled batch, so that
    /// the copy needs no allocation.
    struct Class {
        free: Cell<*mut u8>,
        free_len: Cell<usize>,
        pending: [Cell<*mut u8>; BATCH],
        pending_len: Cell<usize>,
        spare: Cell<Vec<*mut u8>>,
    }

    impl Class {
        const fn new() -> Self {
            Self {
                free: Cell::new(ptr::null_mut()),
                free_len: Cell::new(0),
                pending: [const { Cell::new(ptr::null_mut()) }; BATCH],
                pending_len: Cell::new(0),
                spare: Cell::new(Vec::new()),
            }
        }

        /// Pops a node off the free list.
        fn pop_free(&self) -> Option<*mut u8> {
            let p = self.free.get();
            if p.is_null() {
                return None;
            }
            // SAFETY: `p` is on the free list: past its grace period, owned by this list, and its
            // first word holds the link written by `push_free`.
            self.free.set(unsafe { p.cast::<*mut u8>().read() });
            self.free_len.set(self.free_len.get() - 1);
            Some(p)
        }

        /// Puts `p` on the free list if it has room; `false` if it has none.
        ///
        /// # Safety
        ///
        /// `p` is a node of this class that no thread can reach any more and that the caller
        /// gives up.
        unsafe fn push_free(&self, p: *mut u8) -> bool {
            if self.free_len.get() >= FREE_CAP {
                return false;
            }
            // SAFETY: nobody else reads `p` (caller); the class layout is at least one pointer
            // large and 16-aligned.
            unsafe { p.cast::<*mut u8>().write(self.free.get()) };
            self.free.set(p);
            self.free_len.set(self.free_len.get() + 1);
            true
        }
    }

    struct Local {
        classes: [Class; CLASSES.len()],
    }

    impl Drop for Local {
        fn drop(&mut self) {
            for (class, c) in self.classes.iter().enumerate() {
                while let Some(p) = c.pop_free() {
                    // SAFETY: `free` holds nodes of `class` past their grace period, owned by
                    // this list alone.
                    unsafe { std::alloc::dealloc(p, class_layout(class)) };
                }
                let pending: Vec<*mut u8> = c.pending[..c.pending_len.replace(0)]
                    .iter()
                    .map(Cell::get)
                    .collect();
                if !pending.is_empty() {
                    // crossbeam-epoch pins through a temporary handle if its own thread-local
                    // is already gone.
                    let guard = freeway_epoch::pin();
                    // SAFETY: the pending nodes are unlinked and retired once, here; the closure
                    // only frees memory and touches no thread-local.
                    unsafe {
                        freeway_epoch::defer_unchecked(&guard, move || {
                            for p in pending {
                                std::alloc::dealloc(p, class_layout(class));
                            }
                        })
                    };
                }
            }
        }
    }

    std::thread_local! {
        static LOCAL: Local = const {
            Local {
                classes: [const { Class::new() }; CLASSES.len()],
            }
        };
    }

    /// Fresh memory for a node of `class`.
    fn fresh(class: usize) -> *mut u8 {
        let layout = class_layout(class);
        // SAFETY: the layout has a non-zero size.
        let p = unsafe { std::alloc::alloc(layout) };
        if p.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        p
    }

    /// Memory for a node of `class`: reused from this thread's free list, or fresh.
    #[inline]
    pub(in crate::raw) fn alloc(class: usize) -> *mut u8 {
        LOCAL
            .try_with(|l| l.classes[class].pop_free())
            .ok()
            .flatten()
            .unwrap_or_else(|| fresh(class))
    }

    /// This thread's whole free list of one class, detached with one thread-local access for
    /// `push_batch`. Nodes it still holds when dropped go back to the pool (in O(1) when the free
    /// list is still empty then, the common case).
    pub(in crate::raw) struct Run {
        head: *mut u8,
        len: usize,
        class: usize,
    }

    /// Detaches the free list of `class`.
    pub(in crate::raw) fn take_run(class: usize) -> Run {
        let (head, len) = LOCAL
            .try_with(|l| {
                let c = &l.classes[class];
                (c.free.replace(ptr::null_mut()), c.free_len.replace(0))
            })
            .unwrap_or((ptr::null_mut(), 0));
        Run { head, len, class }
    }

    impl Run {
        /// Memory for one node: from the run, or (run spent) from [`alloc`].
        #[inline]
        pub(in crate::raw) fn next(&mut self) -> *mut u8 {
            let p = self.head;
            if p.is_null() {
                return alloc(self.class);
            }
            // SAFETY: `p` heads the run, which owns its free nodes, linked by their first word.
            self.head = unsafe { p.cast::<*mut u8>().read() };
            self.len -= 1;
            p
        }
    }

    impl Drop for Run {
        fn drop(&mut self) {
            let (head, len) = (self.head, self.len);
            let back = LOCAL
                .try_with(|l| {
                    let c = &l.classes[self.class];
                    if c.free.get().is_null() {
                        c.free.set(head);
                        c.free_len.set(len);
                        true
                    } else {
                        false
                    }
                })
                .unwrap_or(false);
            if back {
                return;
            }
            let mut p = head;
            while !p.is_null() {
                // SAFETY: the run owns its free nodes, linked by their first word; each goes back
                // to the pool (or the allocator) once.
                unsafe {
                    let next = p.cast::<*mut u8>().read();
                    dealloc(p, self.class);
                    p = next;
                }
            }
        }
    }

    /// Frees a node of `class` that no other thread can reach (never shared, or past its grace
    /// period).
    ///
    /// # Safety
    ///
    /// `p` came from [`alloc`] with the same `class`, no thread can reach it, and it is not used
    /// again by the caller.
    pub(in crate::raw) unsafe fn dealloc(p: *mut u8, class: usize) {
        // SAFETY: forwarded from the caller.
        let kept = LOCAL
            .try_with(|l| unsafe { l.classes[class].push_free(p) })
            .unwrap_or(false);
        if !kept {
            // SAFETY: allocated with this layout by `alloc` (caller), unreachable, freed once.
            unsafe { std::alloc::dealloc(p, class_layout(class)) };
        }
    }

    /// Moves a batch of nodes of `class` past their grace period into this thread's free list
    /// (as far as it has room) and frees the rest. One thread-local access per batch; the emptied
    /// `Vec` is kept for the next pending batch.
    ///
    /// # Safety
    ///
    /// As [`dealloc`], for every node of `batch`.
    unsafe fn recycle(mut batch: Vec<*mut u8>, class: usize) {
        let _ = LOCAL.try_with(|l| {
            let c = &l.classes[class];
            // SAFETY: each node is past its grace period and given up (caller).
            batch.retain(|&p| unsafe { !c.push_free(p) });
        });
        for p in batch.drain(..) {
            // SAFETY: allocated with this layout by `alloc` (caller), unreachable, freed once.
            unsafe { std::alloc::dealloc(p, class_layout(class)) };
        }
        let _ = LOCAL.try_with(|l| {
            let c = &l.classes[class];
            let spare = c.spare.take();
            c.spare.set(if spare.capacity() >= batch.capacity() {
                spare
            } else {
                batch
            });
        });
    }

    /// Hands a full pending batch to the epoch and flushes this thread's bag.
    fn hand_off(guard: &freeway_epoch::Guard, batch: Vec<*mut u8>, class: usize) {
        // SAFETY: (1) each node in the batch was unlinked before it joined the batch and is
        // retired once, so the grace period that starts now covers every thread that could still
        // read it; (2) the closure touches no `T`, only node memory, so it may run on any thread,
        // after any lifetime has ended.
        unsafe {
            // SAFETY: past the grace period: unreachable, freed (or reused) once.
            freeway_epoch::defer_unchecked(guard, move || recycle(batch, class))
        };
        // Hand the thread's epoch bag to the global queue now and collect what has expired:
        // otherwise the batch waits in the bag behind 63 other closures, longer than the free
        // lists hold, and the nodes go back to the allocator instead of being reused. One flush
        // per `BATCH` nodes. `collect_now`, not `Guard::flush`: no panic of a deferred function
        // unwinds out of it into the caller's `pop` (whose value is already taken) or into a
        // chain's retirement (whose rest would leak).
        freeway_epoch::collect_now(guard);
    }

    /// Appends `p` to the pending batch; returns the batch when it is full (`Err(p)` when the
    /// thread-local is gone).
    #[inline]
    fn push_pending(p: *mut u8, class: usize) -> Result<Option<Vec<*mut u8>>, *mut u8> {
        LOCAL
            .try_with(|l| {
                let c = &l.classes[class];
                let len = c.pending_len.get();
                c.pending[len].set(p);
                if len + 1 < BATCH {
                    c.pending_len.set(len + 1);
                    return None;
                }
                c.pending_len.set(0);
                let mut batch = c.spare.take();
                batch.extend(c.pending.iter().map(Cell::get));
                Some(batch)
            })
            .map_err(|_| p)
    }

    /// Retires a node of `class` that was unlinked while `guard` was pinned.
    ///
    /// # Safety
    ///
    /// `p` came from [`alloc`] with `class`, holds no value any more, is unreachable for threads
    /// that pin from now on, and is retired once.
    #[inline]
    pub(in crate::raw) unsafe fn retire(guard: &freeway_epoch::Guard, p: *mut u8, class: usize) {
        match push_pending(p, class) {
            Ok(None) => {}
            Ok(Some(batch)) => hand_off(guard, batch, class),
            // No thread-local (thread exiting) or re-entered: retire this node on its own.
            Err(p) => hand_off(guard, vec![p], class),
        }
    }

    /// Retires every node of a chain linked through `next_of`, as [`retire`] does one by one,
    /// with one thread-local access.
    ///
    /// # Safety
    ///
    /// As [`retire`], for every node from `first` on; `next_of(p)` reads the link of the live,
    /// unretired node `p` and is called before `p` is retired.
    pub(in crate::raw) unsafe fn retire_chain(
        guard: &freeway_epoch::Guard,
        first: *mut u8,
        class: usize,
        next_of: impl Fn(*mut u8) -> *mut u8,
    ) {
        let mut p = first;
        let _ = LOCAL.try_with(|l| {
            let c = &l.classes[class];
            while !p.is_null() {
                let next = next_of(p);
                let len = c.pending_len.get();
                c.pending[len].set(p);
                p = next;
                if len + 1 < BATCH {
                    c.pending_len.set(len + 1);
                } else {
                    c.pending_len.set(0);
                    let mut batch = c.spare.take();
                    batch.extend(c.pending.iter().map(Cell::get));
                    hand_off(guard, batch, class);
                }
            }
        });
        // Thread-local gone (thread exit): the rest one by one.
        while !p.is_null() {
            let next = next_of(p);
            // SAFETY: forwarded from the caller, node by node.
            unsafe { retire(guard, p, class) };
            p = next;
        }
    }
}

#[cfg(loom)]
pub(super) use loom_imp::{alloc, dealloc, retire, retire_chain, take_run};

/// Under loom `class_of` is always `None`, so these are never called; they exist so the callers
/// compile unchanged.
#[cfg(loom)]
mod loom_imp {
    pub(in crate::raw) fn alloc(_class: usize) -> *mut u8 {
        unreachable!("the node pool is off under loom")
    }
    pub(in crate::raw) unsafe fn dealloc(_p: *mut u8, _class: usize) {
        unreachable!("the node pool is off under loom")
    }
    pub(in crate::raw) unsafe fn retire(_g: &freeway_epoch::Guard, _p: *mut u8, _class: usize) {
        unreachable!("the node pool is off under loom")
    }
    pub(in crate::raw) unsafe fn retire_chain(
        _g: &freeway_epoch::Guard,
        _first: *mut u8,
        _class: usize,
        _next_of: impl Fn(*mut u8) -> *mut u8,
    ) {
        unreachable!("the node pool is off under loom")
    }
    pub(in crate::raw) struct Run;
    pub(in crate::raw) fn take_run(_class: usize) -> Run {
        unreachable!("the node pool is off under loom")
    }
    impl Run {
        pub(in crate::raw) fn next(&mut self) -> *mut u8 {
            unreachable!("the node pool is off under loom")
        }
    }
}
