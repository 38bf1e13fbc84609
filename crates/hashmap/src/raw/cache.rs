//! A per-thread cache of freed entry blocks.
//!
//! Every write allocates an entry and retires the one it replaces, and the collector frees
//! retired entries in batches of a few hundred, on whichever thread collects. Through glibc that
//! cost a quarter of the exchange mix's profile: `free` writes its bookkeeping into the block
//! (which nobody has touched since the entry was written, so a cache miss), frees beyond the
//! seven-block tcache land in fastbins, and then each 2 KiB garbage bag that crossbeam-epoch
//! allocates is a large request, which makes glibc consolidate every fastbin first.
//!
//! So a freed entry's block is kept here, as a pointer on a per-thread stack that never touches
//! the block itself, and the next entry of the same layout allocated on this thread reuses it.
//! Blocks are kept by layout (sizes up to `MAX_SIZE` with the entries' 8-byte alignment; other
//! layouts bypass the cache), at most `CAP` per layout and thread; the rest, and everything a
//! thread holds when it exits, go back to the global allocator. Every block here came from the
//! global allocator with exactly its layout (`Box` or `alloc`) and goes back with it, so a block
//! may move between maps of different types with the same entry layout, and between threads.
//!
//! The cache is off under loom (its thread-locals would outlive loom's executions) and whenever
//! [`freeway_epoch::RECYCLING`] is (the sanitizer and fuzzing builds, the switch the stack's node
//! pool and the queue's spare segments follow too): a block recycled here is never freed, so
//! AddressSanitizer could not see a use of an entry after its retirement, and catching that is
//! what those runs are for.

use std::alloc::Layout;
use std::cell::RefCell;
use std::ptr::NonNull;

/// Whether blocks are kept at all (see the module docs): every caller goes through `take` and
/// `give`, which fall back to the global allocator when this is false.
const ENABLED: bool = freeway_epoch::RECYCLING && !cfg!(loom);
/// Blocks kept per layout and thread: above the batch a collection step frees (a few bags of
/// 64), so that a step's frees all fit.
const CAP: usize = 1024;
/// The largest entry layout cached, in bytes.
const MAX_SIZE: usize = 128;
/// The alignment of the cached layouts (`Entry` is `repr(align(8))`; larger alignments bypass).
const ALIGN: usize = 8;
/// One stack per size: 8, 16, ..., `MAX_SIZE`.
const CLASSES: usize = MAX_SIZE / ALIGN;

/// This thread's stacks of free blocks, by size class.
struct Stacks([Vec<NonNull<u8>>; CLASSES]);

impl Drop for Stacks {
    fn drop(&mut self) {
        for (c, stack) in self.0.iter_mut().enumerate() {
            let layout = class_layout(c);
            for p in stack.drain(..) {
                // SAFETY: every block on stack `c` came from the global allocator with
                // `class_layout(c)` and is owned by the stack alone (see `give`).
                unsafe { std::alloc::dealloc(p.as_ptr(), layout) };
            }
        }
    }
}

std::thread_local! {
    static STACKS: RefCell<Stacks> = const { RefCell::new(Stacks([const { Vec::new() }; CLASSES])) };
}

/// The size class of `layout`, if it is cached (never while the cache is off).
#[inline(always)]
fn class(layout: Layout) -> Option<usize> {
    (ENABLED && layout.align() == ALIGN && layout.size() <= MAX_SIZE && layout.size() != 0)
        .then(|| layout.size() / ALIGN - 1)
}

/// The layout of class `c` (entry sizes are multiples of their alignment).
fn class_layout(c: usize) -> Layout {
    Layout::from_size_align((c + 1) * ALIGN, ALIGN).expect("a small power-of-two-aligned layout")
}

/// A free block of `layout` from this thread's cache, if it has one.
#[inline]
pub(super) fn take(layout: Layout) -> Option<NonNull<u8>> {
    let c = class(layout)?;
    // The thread is exiting (`try_with` fails) or the stack is borrowed (only if a custom
    // global allocator, called by `give`'s `Vec::push`, re-entered the map): no block, the
    // caller allocates.
    STACKS
        .try_with(|s| {
            let mut s = s.try_borrow_mut().ok()?;
            let stack = &mut s.0[c];
            let p = stack.pop()?;
            if let Some(&next) = stack.last() {
                prefetch_for_write(next);
            }
            Some(p)
        })
        .ok()
        .flatten()
}

/// Starts loading the block that the next `take` of this class will probably hand out (unless a
/// `give` comes first): a block comes back here long after its entry was last touched, so
/// without the hint the new entry's first store waits for a miss (12% of `insert`'s samples in
/// the exchange mix). A plain `prefetcht0`: the write-intent form needs the `prfchw` target
/// feature, which the x86_64 baseline lacks (LLVM lowers `_MM_HINT_ET0` to `prefetcht0` there).
#[inline(always)]
fn prefetch_for_write(p: NonNull<u8>) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `_mm_prefetch` needs SSE, which the x86_64 baseline includes; a prefetch is a hint
    // that never faults and changes no memory (the block is a free one of this stack).
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(p.as_ptr().cast::<i8>().cast_const());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Keeps the free block `p` of `layout` in this thread's cache, or frees it.
///
/// # Safety
///
/// `p` came from the global allocator with `layout`, holds no live value, and is not used by
/// the caller again.
#[inline]
pub(super) unsafe fn give(p: NonNull<u8>, layout: Layout) {
    let kept = class(layout).is_some_and(|c| {
        STACKS
            .try_with(|s| {
                let Ok(mut s) = s.try_borrow_mut() else {
                    return false;
                };
                let stack = &mut s.0[c];
                if stack.len() >= CAP {
                    return false;
                }
                stack.push(p);
                true
            })
            .unwrap_or(false)
    });
    if !kept {
        // SAFETY: forwarded from the caller: allocated with `layout`, ours to free.
        unsafe { std::alloc::dealloc(p.as_ptr(), layout) };
    }
}

#[cfg(all(test, not(any(loom, fuzzing, freeway_asan))))]
mod tests {
    use super::*;

    #[test]
    fn classes_round_trip_and_bypass() {
        for size in (8..=MAX_SIZE).step_by(8) {
            let l = Layout::from_size_align(size, 8).unwrap();
            assert_eq!(class_layout(class(l).unwrap()), l);
        }
        assert_eq!(
            class(Layout::from_size_align(MAX_SIZE + 8, 8).unwrap()),
            None
        );
        assert_eq!(class(Layout::from_size_align(32, 16).unwrap()), None);
    }

    #[test]
    fn a_given_block_comes_back_and_the_cap_holds() {
        let l = Layout::from_size_align(40, 8).unwrap();
        let blocks: Vec<_> = (0..CAP + 10)
            // SAFETY: a non-zero-size layout.
            .map(|_| NonNull::new(unsafe { std::alloc::alloc(l) }).unwrap())
            .collect();
        for &p in &blocks {
            // SAFETY: allocated with `l` above, empty, not used again here.
            unsafe { give(p, l) };
        }
        let c = class(l).unwrap();
        assert_eq!(STACKS.with(|s| s.borrow().0[c].len()), CAP);
        // The last block kept is the first one back.
        assert_eq!(take(l), Some(blocks[CAP - 1]));
        // A layout of another class does not see it.
        assert_eq!(take(Layout::from_size_align(48, 8).unwrap()), None);
    }
}
