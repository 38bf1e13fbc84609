//! [`Words`]: a `T` stored as an array of atomic machine words.
//!
//! # Layout
//!
//! A value lives in a [`Buf<T>`]: the `T` at offset 0, aligned to at least a word, its size
//! rounded up to whole words. The buffer is [`Words::LEN`] words long,
//! `size_of::<Buf<T>>() / size_of::<usize>()`, which is `size_of::<T>().div_ceil(8)` on a 64-bit
//! target (more only when `T` is aligned beyond a word: `u128` takes two words either way). The
//! bytes after the `T` (the tail of the last word) are zero from construction and stay zero: every
//! buffer is made by zeroing first and then writing a `T` over its front.
//!
//! Every byte of a stored buffer is initialised (the `T` is [`Plain`], the tail is zero), so it
//! can be read as `usize` words, and the same words written into a fresh buffer and read back as
//! a `T` give the `T` that was written.
//!
//! # Std and loom
//!
//! With std, the shared buffer is inline (no allocation, no indirection: a read of a 32-byte
//! value is four plain `mov`s on x86) and each word is accessed as an `AtomicUsize` through
//! [`AtomicUsize::from_ptr`]. Every access to the buffer while it is shared is such an atomic
//! word access; only `get_mut` and `into_inner`, which own it, use plain accesses. Under loom the
//! atomics are model objects that cannot be conjured from memory, so the words live in a boxed
//! slice of loom atomics; the protocols in [`super::lock`] and [`super::latch`] are the same
//! text in both builds.
//!
//! [`Plain`]: super::Plain

use super::Plain;
use core::mem::{MaybeUninit, size_of};
use freeway_epoch::sync::atomic::{AtomicUsize, Ordering};
#[cfg(not(loom))]
use freeway_epoch::sync::cell::UnsafeCell;

/// A `T` padded and aligned to whole words. All its bytes are initialised (see the module docs).
#[repr(C)]
pub(crate) struct Buf<T> {
    _align: [usize; 0],
    value: T,
}

/// A buffer holding a copy of the shared words that nobody has validated yet.
///
/// It may be torn (words of different writes); it only becomes a `T` through
/// [`Unvalidated::assume_valid`], once the caller knows it is not.
pub(crate) struct Unvalidated<T>(MaybeUninit<Buf<T>>);

impl<T: Plain> Unvalidated<T> {
    /// The `T` in the buffer.
    ///
    /// # Safety
    ///
    /// The words are, all of them, the words of one value that a writer converted from a valid
    /// `T` and stored whole ([`Words::store`] or [`Words::new`]): the copy was validated.
    #[inline(always)]
    pub(crate) unsafe fn assume_valid(self) -> T {
        // SAFETY: 1. every word of the buffer was written by `Words::load`, so the read is of
        // initialised memory; 2. by the caller's promise those bytes are the bytes of a valid `T`
        // (`Plain`: copying its bytes gives the same valid value); 3. the field is aligned
        // (`Buf` is `#[repr(C)]` and aligned for `T`).
        unsafe { core::ptr::addr_of!((*self.0.as_ptr()).value).read() }
    }
}

/// Word `i` of a buffer.
///
/// # Safety
///
/// `i < Words::<T>::LEN`, and every byte of the buffer is initialised.
#[inline(always)]
unsafe fn buf_word<T>(buf: &MaybeUninit<Buf<T>>, i: usize) -> usize {
    // SAFETY: 1. `i` is in bounds of the buffer (caller); 2. `Buf<T>` is aligned to at least a
    // word and word `i` starts at a multiple of the word size; 3. the caller promises the bytes
    // are initialised.
    unsafe { buf.as_ptr().cast::<usize>().add(i).read() }
}

/// `value` in a fresh buffer: zeroed, then `value` written over its front.
#[inline(always)]
fn to_buf<T: Plain>(value: T) -> MaybeUninit<Buf<T>> {
    let mut buf = MaybeUninit::<Buf<T>>::zeroed();
    // SAFETY: the pointer is to our own, aligned, live buffer; the write initialises the `T`
    // bytes (all of them: `T: Plain` has no padding) and leaves the zeroed tail as it was.
    unsafe { core::ptr::addr_of_mut!((*buf.as_mut_ptr()).value).write(value) };
    buf
}

/// A `T` stored as [`Words::LEN`] atomic words.
pub(crate) struct Words<T> {
    #[cfg(not(loom))]
    cell: UnsafeCell<MaybeUninit<Buf<T>>>,
    #[cfg(loom)]
    atoms: Box<[AtomicUsize]>,
    #[cfg(loom)]
    _value: core::marker::PhantomData<T>,
}

impl<T: Plain> Words<T> {
    /// How many words a `T` takes.
    pub(crate) const LEN: usize = size_of::<Buf<T>>() / size_of::<usize>();

    /// Stores `value`.
    pub(crate) fn new(value: T) -> Self {
        #[cfg(not(loom))]
        {
            Self {
                cell: UnsafeCell::new(to_buf(value)),
            }
        }
        #[cfg(loom)]
        {
            let buf = to_buf(value);
            Self {
                // SAFETY: `i < LEN`, and `to_buf` initialised every byte.
                atoms: (0..Self::LEN)
                    .map(|i| AtomicUsize::new(unsafe { buf_word(&buf, i) }))
                    .collect(),
                _value: core::marker::PhantomData,
            }
        }
    }

    /// Word `i` as an atomic.
    ///
    /// # Safety
    ///
    /// `i < Self::LEN`.
    #[inline(always)]
    unsafe fn word(&self, i: usize) -> &AtomicUsize {
        #[cfg(not(loom))]
        {
            let base = self.cell.with_mut(|p| p.cast::<usize>());
            // SAFETY: 1. `i < LEN` (caller), so the word is inside the buffer, which lives as long
            // as `&self`; 2. it is aligned for `AtomicUsize` (same size and alignment as `usize`;
            // `Buf` is word-aligned); 3. it sits inside an `UnsafeCell`, so mutating it through
            // `&self` is allowed; 4. while the buffer is shared (`&self`) every access to it is
            // an atomic word access through this function, so there is no non-atomic access to
            // race with; `get_mut`/`into_inner` use plain accesses only with `&mut self`/`self`.
            unsafe { AtomicUsize::from_ptr(base.add(i)) }
        }
        #[cfg(loom)]
        {
            &self.atoms[i]
        }
    }

    /// Copies the words, each with a `Relaxed` load, into an unvalidated buffer.
    ///
    /// `Relaxed`: ordering comes from the caller's sequence loads and fences (the reader protocol
    /// in `lock` and `latch`); a word may be stale or fresh, which is what validation detects.
    #[inline(always)]
    pub(crate) fn load(&self) -> Unvalidated<T> {
        let mut buf = MaybeUninit::<Buf<T>>::uninit();
        let dst = buf.as_mut_ptr().cast::<usize>();
        for i in 0..Self::LEN {
            // SAFETY: 1. `i < LEN`; 2. `dst.add(i)` is word `i` of our own aligned local buffer.
            unsafe { dst.add(i).write(self.word(i).load(Ordering::Relaxed)) };
        }
        Unvalidated(buf)
    }

    /// Stores `value`'s words, each with a `Relaxed` store.
    ///
    /// `Relaxed`: the caller's fence(Release) before and Release sequence store after order these
    /// stores for readers (the writer protocol in `lock` and `latch`).
    #[inline(always)]
    pub(crate) fn store(&self, value: T) {
        let buf = to_buf(value);
        for i in 0..Self::LEN {
            // SAFETY: `i < LEN`, and `to_buf` initialised every byte of `buf`.
            unsafe { self.word(i).store(buf_word(&buf, i), Ordering::Relaxed) };
        }
    }

    /// The value, by unique reference.
    #[cfg(not(loom))]
    pub(crate) fn get_mut(&mut self) -> &mut T {
        self.cell.with_mut(|p| {
            // SAFETY: 1. `&mut self` excludes every other access, atomic or not; 2. the buffer
            // holds the last value stored whole (every `store` completed before the `&mut`
            // could be taken), a valid `T`; 3. writes through the `&mut T` write whole `Plain`
            // values or fields, which keep every byte initialised; the tail is untouched.
            unsafe { &mut *core::ptr::addr_of_mut!((*p.cast::<Buf<T>>()).value) }
        })
    }

    /// The value, consuming the words.
    pub(crate) fn into_inner(self) -> T {
        let copy = self.load();
        // SAFETY: we own the words; every store to them completed (ownership moved to us after
        // it), so they are all the words of the last value stored whole.
        unsafe { copy.assume_valid() }
    }
}

// SAFETY: shared access (`&Words`) only loads and stores words atomically and hands out owned
// copies of `T`, never a `&T`: sharing is sound exactly when sending a `T` to another thread is.
unsafe impl<T: Send> Sync for Words<T> {}
