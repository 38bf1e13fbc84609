//! [`Plain`]: the types whose bytes may be copied out as integer words and back.
//!
//! A seqlock copies its value as machine words (see [`super::words`]). Turning a `T` into words
//! reads every byte of the `T` as an integer, and turning words back into a `T` reinterprets
//! integers as a `T`. Both directions need a promise about `T` that Rust's type system cannot
//! state, so it is an `unsafe trait`.

/// A `Copy` type with no padding or otherwise uninitialised bytes, which a [`SeqLock`] or
/// [`SeqLatch`] can copy as integer words.
///
/// # Why the bound
///
/// A seqlock reader copies the protected bytes while a writer may be changing them, so every
/// byte is read and written with relaxed *atomic* word operations (a plain or volatile copy
/// would be a data race, undefined behaviour in Rust). Turning a `T` into words reads each of
/// its bytes as part of an integer, and reading an uninitialised byte (struct padding, the
/// unused payload of an enum variant, a `MaybeUninit`) into an integer is undefined behaviour.
/// So `T` may have no such bytes.
///
/// The other direction, words back into a `T`, is only done with a *validated* copy: the bytes
/// of one value that a writer stored whole, read while no writer touched them. They are
/// therefore the bytes of a valid `T`, which is what makes `bool`, `char` and other types with
/// invalid bit patterns sound here; a torn copy is discarded as integers and never becomes a
/// `T`.
///
/// Implemented for the integers, floats, `bool`, `char`, `()`, `Wrapping<T>` and arrays of
/// `Plain` types. Not for tuples: the layout of a Rust tuple is unspecified and `(u8, u64)` has
/// seven bytes of padding. Use an array, or a `#[repr(C)]` struct of your own, as below.
///
/// # Safety
///
/// Implement it only for a type where
///
/// - every byte of every value is initialised: no padding between or after fields, no enum
///   whose variants differ in size, no `MaybeUninit`, no unions;
/// - every bit pattern obtained by copying the bytes of a valid value is that valid value again
///   (true of every `Copy` type without pointers to thread-bound data);
/// - the value may be sent to and read from another thread (the bytes are shared between
///   threads as integers).
///
/// `#[repr(C)]` structs whose fields are `Plain` and whose fields' sizes leave no gap (largest
/// alignment first is the usual way) qualify; check with `size_of` against the sum of the
/// fields.
///
/// # Examples
///
/// ```
/// use freeway_seqlock::{Plain, SeqLock};
///
/// #[derive(Clone, Copy, Debug, PartialEq)]
/// #[repr(C)]
/// struct Position {
///     x: f64,
///     y: f64,
///     tick: u32,
///     flags: u32,
/// }
///
/// // No padding: 8 + 8 + 4 + 4 = 24 bytes, and every field is Plain.
/// const _: () = assert!(size_of::<Position>() == 24);
///
/// // SAFETY: `#[repr(C)]`, every field is `Plain`, and the fields fill all 24 bytes.
/// unsafe impl Plain for Position {}
///
/// let lock = SeqLock::new(Position { x: 0.0, y: 0.0, tick: 0, flags: 0 });
/// lock.update(|p| p.tick += 1);
/// assert_eq!(lock.read().tick, 1);
/// ```
///
/// A padded type is rejected at compile time:
///
/// ```compile_fail
/// let lock = freeway_seqlock::SeqLock::new((1u8, 2u64)); // (u8, u64) is not Plain
/// ```
///
/// while its padding-free twin compiles:
///
/// ```
/// let lock = freeway_seqlock::SeqLock::new([1u64, 2u64]);
/// assert_eq!(lock.read(), [1, 2]);
/// ```
///
/// [`SeqLock`]: crate::SeqLock
/// [`SeqLatch`]: crate::SeqLatch
pub unsafe trait Plain: Copy {}

macro_rules! plain {
    ($($t:ty),* $(,)?) => {
        $(
            // SAFETY: a primitive with no padding; every byte of a valid value is initialised,
            // its bytes copied back are the same valid value, and it is `Send`.
            unsafe impl Plain for $t {}
        )*
    };
}

plain!(
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    f32,
    f64,
    bool,
    char,
    (),
);

// SAFETY: an array has no padding between or after its elements (its size is exactly
// `N * size_of::<T>()`), and each element is `Plain`.
unsafe impl<T: Plain, const N: usize> Plain for [T; N] {}

// SAFETY: `Wrapping<T>` is `#[repr(transparent)]` over `T`, which is `Plain`.
unsafe impl<T: Plain> Plain for core::num::Wrapping<T> {}
