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
///
/// On Linux, the arrays of a table made by a resize have the whole 2 MiB pages inside their block
/// (arrays of a few MiB and up) advised as transparent huge pages (`madvise(MADV_HUGEPAGE)`, see `advise_huge_pages`): one fault and a
/// 2 MiB clear where there were 512 faults, and a table that random lookups cross with a few
/// TLB entries instead of thousands. The block is not enlarged to align it (the memory counted
/// per entry stays what it was); the advice covers the aligned part only. A table made for
/// `with_capacity` is not advised: a map made large and filled little would have every huge page
/// it touches resident, where ordinary pages stay untouched. A resize's table receives the old
/// table's entries, spread over all of it, at once, so its pages are all touched anyway.
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

    /// `len >= 1` zeroed elements; `huge`: advise its whole 2 MiB pages as huge pages (on
    /// Linux), for a table that a resize fills as soon as it is made.
    ///
    /// # Safety
    ///
    /// All-zero bytes are a valid `T`, `T` owns nothing that needs dropping, and `T` is
    /// aligned to at most 64.
    pub(super) unsafe fn zeroed(len: usize, huge: bool) -> Self {
        debug_assert!(len >= 1);
        debug_assert!(!std::mem::needs_drop::<T>());
        debug_assert!(std::mem::align_of::<T>() <= 64);
        let layout = Self::block(len);
        // SAFETY: `layout` has a non-zero size (at least 64 bytes).
        let p = unsafe { std::alloc::alloc_zeroed(layout) };
        let Some(base) = std::ptr::NonNull::new(p) else {
            std::alloc::handle_alloc_error(layout)
        };
        #[cfg(target_os = "linux")]
        if huge {
            advise_huge_pages(base, layout.size());
        }
        #[cfg(not(target_os = "linux"))]
        let _ = huge;
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

/// The size of a transparent huge page on x86_64 and aarch64 with 4 KiB base pages; on a system
/// with another size, the advice covers fewer or no whole huge pages, which only forgoes the gain.
#[cfg(all(target_os = "linux", not(loom)))]
const HUGE_PAGE: usize = 2 << 20;

/// Advises the kernel to back the 2 MiB-aligned whole huge pages of the `size`-byte block at
/// `base` with transparent huge pages. Advice only: it changes no byte of the block, and a kernel
/// without transparent huge pages (or with them off) refuses or ignores it, which is fine.
#[cfg(all(target_os = "linux", not(loom)))]
fn advise_huge_pages(base: std::ptr::NonNull<u8>, size: usize) {
    let start = base.as_ptr().align_offset(HUGE_PAGE);
    let Some(len) = size
        .checked_sub(start)
        .map(|rest| rest & !(HUGE_PAGE - 1))
        .filter(|&len| len > 0)
    else {
        return;
    };
    // SAFETY: `start + len <= size`, so the range lies inside our block, and its start is
    // 2 MiB aligned (so page aligned, as `madvise` requires). `MADV_HUGEPAGE` only sets a flag
    // on the mapping: it neither reads, writes nor discards the memory, so whatever the allocator
    // or we keep in the block (zeroes so far) is unchanged. Its result is ignored on purpose: a
    // refusal (no huge page support) leaves the ordinary pages.
    unsafe {
        libc::madvise(
            base.as_ptr().add(start).cast::<libc::c_void>(),
            len,
            libc::MADV_HUGEPAGE,
        );
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
pub(super) fn empty_buckets<K, V>(nb: usize, huge: bool) -> ZeroedArray<Bucket<K, V>> {
    // SAFETY: crossbeam's `Atomic` is one pointer-sized atomic word where 0 is the null pointer
    // with tag 0 (EMPTY), exactly what `Atomic::null()` holds (checked by the
    // `zeroed_tables_are_empty` test); a bucket owns nothing (its entries are freed by
    // `RawMap::destroy`) and is aligned to 64.
    unsafe { ZeroedArray::zeroed(nb, huge) }
}

/// `nb` tag words of UNTAGGED bytes (see `ZeroedArray`).
#[cfg(not(loom))]
pub(super) fn empty_tags(nb: usize, huge: bool) -> ZeroedArray<AtomicU64> {
    // SAFETY: an all-zero `AtomicU64` is 0, all bytes UNTAGGED; it needs no drop and is
    // aligned to 8.
    unsafe { ZeroedArray::zeroed(nb, huge) }
}

/// `nb` buckets of EMPTY slots (loom's atomics must be constructed).
#[cfg(loom)]
pub(super) fn empty_buckets<K, V>(nb: usize, _huge: bool) -> Box<[Bucket<K, V>]> {
    (0..nb)
        .map(|_| Bucket {
            slots: std::array::from_fn(|_| Atomic::null()),
        })
        .collect()
}

/// `nb` tag words of UNTAGGED bytes (loom's atomics must be constructed).
#[cfg(loom)]
pub(super) fn empty_tags(nb: usize, _huge: bool) -> Box<[AtomicU64]> {
    (0..nb).map(|_| AtomicU64::new(0)).collect()
}

#[cfg(all(test, target_os = "linux", not(loom)))]
mod tests {
    use super::*;

    /// The `VmFlags` of the mapping in `/proc/self/smaps` that contains `addr`.
    fn vm_flags(addr: usize) -> Option<String> {
        let smaps = std::fs::read_to_string("/proc/self/smaps").ok()?;
        let mut inside = false;
        for line in smaps.lines() {
            let head = line.split_whitespace().next().unwrap_or("");
            if let Some((lo, hi)) = head.split_once('-')
                && let (Ok(lo), Ok(hi)) =
                    (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
            {
                inside = (lo..hi).contains(&addr);
            } else if inside && let Some(flags) = line.strip_prefix("VmFlags:") {
                return Some(flags.to_owned());
            }
        }
        None
    }

    #[test]
    fn large_arrays_ask_for_huge_pages() {
        if !std::path::Path::new("/sys/kernel/mm/transparent_hugepage/enabled").exists() {
            eprintln!("no transparent huge pages on this kernel: nothing to check");
            return;
        }
        // SAFETY: all-zero bytes are a `u64`, which needs no drop and is aligned to 8.
        let a = unsafe { ZeroedArray::<u64>::zeroed(1 << 20, true) };
        let first = a.as_ptr() as usize;
        let huge = first.next_multiple_of(HUGE_PAGE);
        assert!(
            huge + HUGE_PAGE <= first + 8 * a.len(),
            "an 8 MiB array holds a huge page"
        );
        let flags = vm_flags(huge).expect("the array's mapping is in /proc/self/smaps");
        assert!(
            flags.split_whitespace().any(|f| f == "hg"),
            "the array's huge pages were not advised: VmFlags {flags}"
        );
    }
}
