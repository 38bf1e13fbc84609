//! The crate's only `unsafe` code: [`CountingAlloc`]'s forwarding to the system allocator.

use crate::alloc::CountingAlloc;
use std::alloc::{GlobalAlloc, Layout, System};

// SAFETY: every method forwards to `System` with the caller's arguments unchanged and only
// counts sizes on the side (atomics, no allocation), so `System`'s guarantees carry over.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded from the caller, who upholds `GlobalAlloc::alloc`'s contract.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            self.allocated(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded: `ptr` came from this allocator, that is from `System`, with
        // `layout`.
        unsafe { System.dealloc(ptr, layout) };
        self.add(-(layout.size() as isize));
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded from the caller.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            self.allocated(layout.size());
        }
        p
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded: `ptr` came from `System` with `layout`, as the caller promises.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            self.reallocated(layout.size(), new_size);
        }
        p
    }
}
