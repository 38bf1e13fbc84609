//! Sequential specifications: what a concurrent structure must look like when its operations
//! are laid out one at a time.
//!
//! A [`Spec`] is a state machine: a state, and an `apply` that performs one operation on it and
//! returns the result the real structure must have returned. The checker clones and hashes
//! states to remember which (state, operations-done) pairs it has explored, so states should be
//! small and cheap to clone.
//!
//! # Writing a spec for a new structure
//!
//! ```
//! use freeway_check::spec::Spec;
//!
//! /// A counter with `inc` (returns the value before) and `get`.
//! #[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
//! struct Counter(u64);
//!
//! #[derive(Clone, Debug, PartialEq, Eq)]
//! enum Op { Inc, Get }
//!
//! impl Spec for Counter {
//!     type Op = Op;
//!     type Ret = u64;
//!     fn apply(&mut self, op: &Op) -> u64 {
//!         match op {
//!             Op::Inc => { self.0 += 1; self.0 - 1 }
//!             Op::Get => self.0,
//!         }
//!     }
//! }
//!
//! let mut c = Counter::default();
//! assert_eq!(c.apply(&Op::Inc), 0);
//! assert_eq!(c.apply(&Op::Get), 1);
//! ```

use crate::lin::Event;
use std::fmt::Debug;
use std::hash::Hash;

/// A sequential specification: a state machine over operations.
///
/// # Examples
///
/// ```
/// use freeway_check::models::{Fifo, QueueOp, QueueRet};
/// use freeway_check::spec::Spec;
///
/// let mut q = Fifo::new();
/// assert_eq!(q.apply(&QueueOp::Push(1)), QueueRet::Push);
/// assert_eq!(q.apply(&QueueOp::Pop), QueueRet::Pop(Some(1)));
/// ```
pub trait Spec: Clone + Eq + Hash + Debug {
    /// An operation, with its arguments.
    type Op: Clone + Debug + Send + Sync;
    /// What an operation returns.
    type Ret: Clone + Debug + PartialEq + Send;

    /// Performs `op` on the state and returns its result.
    fn apply(&mut self, op: &Self::Op) -> Self::Ret;

    /// An optional hint for the checker: one key per event, lower keys tried first among the
    /// operations that could be linearized next. `None` (the default) tries them in call order.
    ///
    /// The hint only orders the search, so a wrong hint costs time, never a wrong verdict. It
    /// pays where the default order goes wrong for thousands of steps before anything refutes it:
    /// a queue's pushes all succeed whatever their order, and a push placed too early or too late
    /// is only caught when the queue drains to its value, but the pops say which order the
    /// pushes must have had ([`Fifo`](crate::models::Fifo) keys each push by the pop of its
    /// value).
    ///
    /// # Examples
    ///
    /// ```
    /// use freeway_check::lin::Event;
    /// use freeway_check::models::{Fifo, QueueOp, QueueRet};
    /// use freeway_check::spec::Spec;
    ///
    /// let e = |op, ret, call, returned| Event { thread: 0, op, ret, call, returned };
    /// let (push, pop) = (e(QueueOp::Push(7u8), QueueRet::Push, 0, 1), e(QueueOp::Pop, QueueRet::Pop(Some(7)), 2, 3));
    /// let keys = Fifo::search_keys(&[&push, &pop]).unwrap();
    /// assert_eq!(keys[0], keys[1], "the push is keyed by the pop that took its value");
    /// ```
    #[allow(unused_variables)]
    fn search_keys(events: &[&Event<Self::Op, Self::Ret>]) -> Option<Vec<u64>> {
        None
    }

    /// The steps one recorded operation stands for, each linearized at its own instant inside
    /// the operation's interval (the checker expands every event before it searches). The
    /// default is the operation itself; a batch that promises "each item at its own instant, in
    /// order" expands into one step per item, and the spec refuses the steps out of order.
    ///
    /// # Examples
    ///
    /// ```
    /// use freeway_check::models::{BatchFifo, BatchOp, BatchRet};
    /// use freeway_check::spec::Spec;
    ///
    /// let steps = BatchFifo::<u8>::expand(
    ///     BatchOp::PushBatch { id: 7, values: vec![1, 2] },
    ///     BatchRet::Push,
    /// );
    /// assert_eq!(steps.len(), 2);
    /// ```
    fn expand(op: Self::Op, ret: Self::Ret) -> Vec<(Self::Op, Self::Ret)> {
        vec![(op, ret)]
    }
}
