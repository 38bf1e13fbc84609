//! The unsafe core: every `unsafe` block of the crate is in this module.
//!
//! - [`plain`]: the [`Plain`] bound, which makes copying a value as integer words sound.
//! - [`words`]: a value stored as relaxed atomic words, and the unvalidated copies read from it.
//! - [`lock`]: the seqlock protocol (one copy; readers retry while a writer publishes).
//! - [`latch`]: the latch protocol (two copies; readers never wait on a writer).
//!
//! The public types in the crate root are safe wrappers over [`RawSeqLock`] and [`RawSeqLatch`].
//! A copy becomes a `T` only in [`words::Unvalidated::assume_valid`], called after the protocol
//! has validated it; that call and the word accesses are where soundness rests.

mod latch;
mod lock;
mod plain;
mod words;

pub(crate) use latch::{RawSeqLatch, SeqLatchWriter};
pub(crate) use lock::{RawSeqLock, SeqLockWriter};
pub use plain::Plain;
