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
const BATCH: usize = 64;
/// Most nodes a thread keeps for reuse, per class.
#[cfg_attr(loom, allow(dead_code))]
const FREE_CAP: usize = 512;

/// The pool class of `T`'s node layout, if any.
pub(super) const fn class_of(layout: Layout) -> Option<usize> {
    if cfg!(loom) || layout.align() > 16 {
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
pub(super) use imp::{alloc, dealloc, retire};

#[cfg(not(loom))]
mod imp {
    use super::{BATCH, CLASSES, FREE_CAP, class_layout};
    use core::cell::RefCell;

    /// One thread's nodes of one class: reusable now (`free`) and retired but not yet handed to
    /// the epoch (`pending`).
    #[derive(Default)]
    struct Class {
        free: Vec<*mut u8>,
        pending: Vec<*mut u8>,
    }

    struct Local {
        classes: [Class; CLASSES.len()],
    }

    impl Drop for Local {
        fn drop(&mut self) {
            for (class, c) in self.classes.iter_mut().enumerate() {
                for p in c.free.drain(..) {
                    // SAFETY: `free` holds nodes of `class` past their grace period, owned by
                    // this list alone.
                    unsafe { std::alloc::dealloc(p, class_layout(class)) };
                }
                let pending = core::mem::take(&mut c.pending);
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
        static LOCAL: RefCell<Local> = RefCell::new(Local {
            classes: Default::default(),
        });
    }

    /// Memory for a node of `class`: reused from this thread's free list, or fresh.
    pub(in crate::raw) fn alloc(class: usize) -> *mut u8 {
        let reused = LOCAL
            .try_with(|l| l.try_borrow_mut().ok()?.classes[class].free.pop())
            .ok()
            .flatten();
        reused.unwrap_or_else(|| {
            let layout = class_layout(class);
            // SAFETY: the layout has a non-zero size.
            let p = unsafe { std::alloc::alloc(layout) };
            if p.is_null() {
                std::alloc::handle_alloc_error(layout);
            }
            p
        })
    }

    /// Frees a node of `class` that no other thread can reach (never shared, or past its grace
    /// period).
    ///
    /// # Safety
    ///
    /// `p` came from [`alloc`] with the same `class`, no thread can reach it, and it is not used
    /// again by the caller.
    pub(in crate::raw) unsafe fn dealloc(p: *mut u8, class: usize) {
        let kept = LOCAL
            .try_with(|l| match l.try_borrow_mut() {
                Ok(mut l) if l.classes[class].free.len() < FREE_CAP => {
                    l.classes[class].free.push(p);
                    true
                }
                _ => false,
            })
            .unwrap_or(false);
        if !kept {
            // SAFETY: allocated with this layout by `alloc` (caller), unreachable, freed once.
            unsafe { std::alloc::dealloc(p, class_layout(class)) };
        }
    }

    /// Moves a batch of nodes of `class` past their grace period into this thread's free list
    /// (as far as it has room) and frees the rest. One thread-local access per batch.
    ///
    /// # Safety
    ///
    /// As [`dealloc`], for every node of `batch`.
    unsafe fn recycle(mut batch: Vec<*mut u8>, class: usize) {
        let _ = LOCAL.try_with(|l| {
            if let Ok(mut l) = l.try_borrow_mut() {
                let free = &mut l.classes[class].free;
                let room = FREE_CAP.saturating_sub(free.len()).min(batch.len());
                free.extend(batch.drain(batch.len() - room..));
            }
        });
        for p in batch {
            // SAFETY: allocated with this layout by `alloc` (caller), unreachable, freed once.
            unsafe { std::alloc::dealloc(p, class_layout(class)) };
        }
    }

    /// Retires a node of `class` that was unlinked while `guard` was pinned.
    ///
    /// # Safety
    ///
    /// `p` came from [`alloc`] with `class`, holds no value any more, is unreachable for threads
    /// that pin from now on, and is retired once.
    pub(in crate::raw) unsafe fn retire(guard: &freeway_epoch::Guard, p: *mut u8, class: usize) {
        let full = LOCAL
            .try_with(|l| {
                let mut l = l.try_borrow_mut().ok()?;
                let pending = &mut l.classes[class].pending;
                pending.push(p);
                (pending.len() >= BATCH)
                    .then(|| core::mem::replace(pending, Vec::with_capacity(BATCH)))
            })
            .ok();
        let batch = match full {
            Some(Some(batch)) => batch,
            Some(None) => return,
            // No thread-local (thread exiting) or re-entered: retire this node on its own.
            None => vec![p],
        };
        // SAFETY: (1) each node in the batch was unlinked before this call and is retired once,
        // so the grace period that starts now covers every thread that could still read it;
        // (2) the closure touches no `T`, only node memory, so it may run on any thread, after
        // any lifetime has ended.
        unsafe {
            // SAFETY: past the grace period: unreachable, freed (or reused) once.
            freeway_epoch::defer_unchecked(guard, move || recycle(batch, class))
        };
        // Hand the thread's epoch bag to the global queue now and collect what has expired:
        // otherwise the batch waits in the bag behind 63 other closures (4096 nodes), longer
        // than the free lists hold, and the nodes go back to the allocator instead of being
        // reused. One flush per `BATCH` nodes.
        guard.flush();
    }
}

#[cfg(loom)]
pub(super) use loom_imp::{alloc, dealloc, retire};

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
}
