//! Table arrays that start zeroed (an all-zero slot is EMPTY, an all-zero tag byte UNTAGGED).

use super::Bucket;
#[cfg(loom)]
use freeway_epoch::Atomic;
use freeway_epoch::sync::atomic::AtomicU64;

/// A zeroed array of `len` values of `T` for which all-zero bytes are valid: one allocation
/// from the global allocator, 64-byte aligned by hand, freed as it was made.
///
/// A zeroed allocation with 64-byte alignment is, in std's system allocator, `posix_memalign`
/// plus a `memset` of the whole block (std calls `calloc` only for alignments up to 16), paid
/// by the one writer that starts the resize: the memory bench measured a 12 ms insert while a
/// map grew to a million entries. So the array asks for 16-byte alignment and 64 bytes more,
/// and starts at the first 64-byte boundary inside. Then `calloc` serves it, and a large
/// `calloc` is a fresh mapping whose pages the kernel zeroes lazily, on first touch, spread
/// over the writers that copy into the table and insert into it. (An `mmap` of our own did the
/// same, but hid the tables from a counting global allocator, and so from users' accounting.)
#[cfg(not(loom))]
pub(super) struct ZeroedArray<T> {
    /// The first element, 64-byte aligned, inside the block at `base`.
    ptr: std::ptr::NonNull<T>,
    /// The block from the global allocator (`ZeroedArray::block(len)`).
    base: std::ptr::NonNull<u8>,
    len: usize,
}

// SAFETY: the array owns its elements exactly as a `Box<[T]>` would (one allocation, freed
// once by `Drop`), so it may cross and be shared between threads under the same conditions.
#[cfg(not(loom))]
unsafe impl<T> Send for ZeroedArray<T> where Box<[T]>: Send {}
// SAFETY: as for `Send`.
#[cfg(not(loom))]
unsafe impl<T> Sync for ZeroedArray<T> where Box<[T]>: Sync {}

#[cfg(not(loom))]
impl<T> ZeroedArray<T> {
    /// The block that holds `len` elements after at most 63 bytes of padding.
    pub(super) fn block(len: usize) -> std::alloc::Layout {
        let size = std::mem::size_of::<T>()
            .checked_mul(len)
            .and_then(|n| n.checked_add(64))
            .expect("freeway_hashmap: table size overflows");
        std::alloc::Layout::from_size_align(size, 16)
            .expect("freeway_hashmap: table size overflows")
    }

    /// `len >= 1` zeroed elements.
    ///
    /// # Safety
    ///
    /// All-zero bytes are a valid `T`, `T` owns nothing that needs dropping, and `T` is
    /// aligned to at most 64.
    pub(super) unsafe fn zeroed(len: usize) -> Self {
        debug_assert!(len >= 1);
        debug_assert!(!std::mem::needs_drop::<T>());
        debug_assert!(std::mem::align_of::<T>() <= 64);
        let layout = Self::block(len);
        // SAFETY: `layout` has a non-zero size (at least 64 bytes).
        let p = unsafe { std::alloc::alloc_zeroed(layout) };
        let Some(base) = std::ptr::NonNull::new(p) else {
            std::alloc::handle_alloc_error(layout)
        };
        let pad = base.as_ptr().align_offset(64);
        debug_assert!(pad < 64);
        // SAFETY: `pad < 64`, so `base + pad` and the `len` elements after it lie inside the
        // block of `len` elements plus 64 bytes.
        let first = unsafe { base.as_ptr().add(pad) }.cast::<T>();
        Self {
            ptr: std::ptr::NonNull::new(first).expect("inside a non-null block"),
            base,
            len,
        }
    }
}

#[cfg(not(loom))]
impl<T> std::ops::Deref for ZeroedArray<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        // SAFETY: (1) `ptr` is 64-byte aligned (so aligned for `T`, by `zeroed`'s contract) and
        // points to `len` elements' worth of zeroed memory inside our block, owned until `Drop`;
        // (2) all-zero bytes are a valid `T` (`zeroed`'s contract); (3) elements are only ever
        // shared (`&`): the tables' atomics provide the mutation.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

#[cfg(not(loom))]
impl<T> Drop for ZeroedArray<T> {
    fn drop(&mut self) {
        // SAFETY: `base` came from `alloc_zeroed` with this same layout and is freed once; the
        // elements need no drop (`zeroed`'s contract).
        unsafe { std::alloc::dealloc(self.base.as_ptr(), Self::block(self.len)) };
    }
}

/// `nb` buckets of EMPTY slots (see `ZeroedArray`).
#[cfg(not(loom))]
pub(super) fn empty_buckets<K, V>(nb: usize) -> ZeroedArray<Bucket<K, V>> {
    // SAFETY: crossbeam's `Atomic` is one pointer-sized atomic word where 0 is the null pointer
    // with tag 0 (EMPTY), exactly what `Atomic::null()` holds (checked by the
    // `zeroed_tables_are_empty` test); a bucket owns nothing (its entries are freed by
    // `RawMap::destroy`) and is aligned to 64.
    unsafe { ZeroedArray::zeroed(nb) }
}

/// `nb` tag words of UNTAGGED bytes (see `ZeroedArray`).
#[cfg(not(loom))]
pub(super) fn empty_tags(nb: usize) -> ZeroedArray<AtomicU64> {
    // SAFETY: an all-zero `AtomicU64` is 0, all bytes UNTAGGED; it needs no drop and is
    // aligned to 8.
    unsafe { ZeroedArray::zeroed(nb) }
}

/// `nb` buckets of EMPTY slots (loom's atomics must be constructed).
#[cfg(loom)]
pub(super) fn empty_buckets<K, V>(nb: usize) -> Box<[Bucket<K, V>]> {
    (0..nb)
        .map(|_| Bucket {
            slots: std::array::from_fn(|_| Atomic::null()),
        })
        .collect()
}

/// `nb` tag words of UNTAGGED bytes (loom's atomics must be constructed).
#[cfg(loom)]
pub(super) fn empty_tags(nb: usize) -> Box<[AtomicU64]> {
    (0..nb).map(|_| AtomicU64::new(0)).collect()
}
