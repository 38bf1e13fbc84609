//! Every `unsafe` block of the crate lives under this module: the segment list of the unbounded
//! queue ([`unbounded`]) and the stamped ring of the bounded one ([`bounded`]). The public types
//! in the crate root are safe wrappers around [`RawQueue`] and [`RawArrayQueue`].

pub(crate) mod bounded;
pub(crate) mod unbounded;

pub(crate) use bounded::RawArrayQueue;
pub(crate) use unbounded::RawQueue;
#[cfg(all(test, not(loom)))]
pub(crate) use unbounded::SEGMENT_SLOTS;
