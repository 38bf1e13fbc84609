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
}
