//! A lock-free LIFO stack: Treiber's stack on Freeway's epoch-based reclamation, with optional
//! elimination backoff.
//!
//! [`Stack<T>`] is an unbounded multi-producer multi-consumer stack. `push` and `pop` take
//! `&self`, so one stack can be shared between threads (in an `Arc`, a `static`, or a scoped
//! thread); elements move in and out by value. [`Stack::take_all`] detaches every element with one
//! atomic swap and hands them back as an owning iterator, and [`Stack::push_batch`] publishes a
//! whole batch with one CAS.
//!
//! # The algorithm
//!
//! The stack is R. Kent Treiber's (*Systems Programming: Coping with Parallelism*, IBM Almaden
//! Research Center, report RJ 5118, 1986): a singly linked list whose top is one atomic pointer,
//! `head`.
//!
//! - **push** allocates a node holding the value, points the node's `next` at the current head,
//!   and CASes `head` from that head to the node. If the CAS fails (another thread moved `head`),
//!   it re-reads `head`, re-links `next` and tries again. The successful CAS is the push's
//!   linearization point. Push never dereferences a node of the stack.
//! - **pop** pins the thread, reads `head`, reads the top node's `next`, and CASes `head` from the
//!   top node to `next`. The winner of that CAS (the linearization point) alone moves the value
//!   out of the node, then *retires* the node: the node's memory is freed only after every thread
//!   that was pinned at that moment has unpinned. An empty stack (`head` null) linearizes `None`
//!   at the read of `head`.
//! - **take_all** swaps `head` with null: one atomic step detaches the whole list, which the
//!   caller then owns. **push_batch** links the new values into a private chain first and
//!   publishes the chain with a single CAS, exactly like a one-node push.
//!
//! # Why there is no ABA problem
//!
//! The classic failure of a Treiber stack: thread A reads top node `X` and its `next` `Y`, is
//! delayed; meanwhile `X` and `Y` are popped, `X` is freed, and a new node is allocated at `X`'s
//! address and pushed; A's CAS from `X` to `Y` now succeeds and installs the freed `Y` as head.
//!
//! Here a popper reads `head` only while pinned, and every unlinked node is retired through the
//! epoch ([`freeway_epoch::retire`]), never freed at once. While A is pinned, `X` cannot be freed,
//! so its address cannot be handed out again, so `head` cannot hold `X` again after `X` was
//! popped (a node is pushed once in its life). A's CAS succeeds only if `X` is still the very node
//! on top, whose `next` has not changed since A read it (a published node's `next` is never
//! written). The same pin keeps `X` readable for A even when another thread popped it first.
//! Push needs no pin: it never dereferences a shared node, and an ABA on the pointer it merely
//! copies into its own node's `next` is harmless.
//!
//! # Elimination backoff
//!
//! Under contention every operation fights for the one `head` word. Hendler, Shavit and
//! Yerushalmi (*A Scalable Lock-free Stack Algorithm*, SPAA 2004) observed that a push and a pop
//! that collide can cancel out without touching `head` at all: the pop returns the value the push
//! brings, and the pair linearizes as "push, then pop" at the moment they meet.
//!
//! `Stack<T, SLOTS>` with `SLOTS > 0` has an elimination array of `SLOTS` slots. It is used only
//! after a CAS on `head` fails, so the uncontended path stays a single CAS:
//!
//! - a pusher whose CAS failed places its (already allocated) node in a free slot, waits a few
//!   spins for a popper, then tries to withdraw the offer; if the withdrawal fails a popper took
//!   the node, and the push is complete;
//! - a popper whose CAS failed scans the slots and tries to take an offer with a CAS.
//!
//! Taking and withdrawing are both a CAS from the node to null on the same slot, so exactly one of
//! them succeeds and every value is delivered exactly once. The pusher stays pinned while its
//! offer is out, which keeps its node's address from being reused and makes the withdrawal CAS
//! free of ABA.
//!
//! On the two-core machine this crate is measured on, elimination did not pay for itself in the
//! push/pop benchmarks (see `docs/stack.md`), so the default [`Stack<T>`] has no elimination
//! slots ([`DEFAULT_ELIMINATION_SLOTS`]); name a slot count, `Stack<T, 2>`, to turn it on.
//!
//! # Reclamation and node reuse
//!
//! Nodes leave the stack by `pop` (retired), by elimination (retired by the taker), by
//! `take_all` (the detached chain is retired as a whole when its [`TakeAll`] iterator drops, since
//! a popper that loaded the old head before the swap may still read the top node), and by dropping
//! the stack (freed at once: nobody else can reach it). All of it goes through freeway-epoch's
//! counted retirement path.
//!
//! A retired node of a small element type (node of at most 64 bytes) is not handed to the epoch
//! on its own: it joins a thread-local batch (`BATCH` nodes, 256, in `src/raw/pool.rs`), the batch
//! is deferred as one object, and when its grace period has passed its nodes go to the collecting
//! thread's free list (up to `FREE_CAP`, 1024, per size class), from which later pushes take their
//! nodes. This keeps the allocator and the epoch's per-object cost off the hot path (see
//! `docs/stack.md`), and since memory is reused only after a full grace period, the ABA argument
//! above is unchanged. A thread hands its batch to the epoch when it exits. Larger nodes are
//! allocated and retired one by one, and so is every node when `freeway_epoch::RECYCLING` is off
//! (sanitizer and fuzzing builds).
//!
//! # Panics in element destructors
//!
//! Dropping a `Stack` or a [`TakeAll`] drops the remaining elements top to bottom. If one
//! element's `Drop` panics, the rest are still dropped and every node is freed, then the panic
//! continues; a second panic during that unwinding aborts the process, as it does for `Vec`. No
//! other operation runs user code except [`Stack::push_batch`]'s iterator: if that panics, the
//! values it had produced are dropped and the stack is left unchanged.
//!
//! # Examples
//!
//! ```
//! use freeway_stack::Stack;
//! use std::sync::Arc;
//!
//! let stack = Arc::new(Stack::new());
//! let handles: Vec<_> = (0..4)
//!     .map(|t| {
//!         let stack = Arc::clone(&stack);
//!         std::thread::spawn(move || {
//!             for i in 0..100 {
//!                 stack.push(t * 100 + i);
//!             }
//!         })
//!     })
//!     .collect();
//! for h in handles {
//!     h.join().unwrap();
//! }
//! let mut all: Vec<u32> = stack.take_all().collect();
//! all.sort();
//! assert_eq!(all, (0..400).collect::<Vec<_>>());
//! ```

// Every `unsafe` block of the crate lives in `raw`, the one module allowed to have them.
#![deny(unsafe_code)]
#![warn(missing_docs)]

use core::fmt;
use core::iter::FusedIterator;

use freeway_epoch::Guard;

#[allow(unsafe_code)]
mod raw;

/// Elimination slots of [`Stack<T>`] when no count is named: `0`, plain Treiber (elimination did
/// not pay off in our measurements; see the crate docs). Under `cfg(loom)` it is `1`, so the
/// models exercise the elimination path.
///
/// # Examples
///
/// ```
/// use freeway_stack::{Stack, DEFAULT_ELIMINATION_SLOTS};
///
/// let plain: Stack<u8> = Stack::new();
/// let same: Stack<u8, DEFAULT_ELIMINATION_SLOTS> = plain;
/// # drop(same);
/// ```
pub const DEFAULT_ELIMINATION_SLOTS: usize = raw::DEFAULT_SLOTS;

/// A lock-free, unbounded, multi-producer multi-consumer LIFO stack.
///
/// `SLOTS` is the size of the elimination array (see the crate docs); the default,
/// [`DEFAULT_ELIMINATION_SLOTS`], is the plain Treiber stack.
///
/// `Stack<T>` is `Send` and `Sync` when `T: Send`.
///
/// # Examples
///
/// ```
/// use freeway_stack::Stack;
///
/// let stack = Stack::new();
/// stack.push(1);
/// stack.push(2);
/// assert_eq!(stack.pop(), Some(2));
/// assert_eq!(stack.pop(), Some(1));
/// assert_eq!(stack.pop(), None);
/// ```
///
/// With elimination backoff (two slots):
///
/// ```
/// use freeway_stack::Stack;
///
/// let stack: Stack<String, 2> = Stack::with_elimination();
/// stack.push("a".to_string());
/// assert_eq!(stack.pop().as_deref(), Some("a"));
/// ```
pub struct Stack<T, const SLOTS: usize = DEFAULT_ELIMINATION_SLOTS> {
    raw: raw::RawStack<T, SLOTS>,
}

impl<T> Stack<T> {
    /// An empty stack with the default elimination setting.
    ///
    /// `const`, so a stack can live in a `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// use freeway_stack::Stack;
    ///
    /// static JOBS: Stack<u32> = Stack::new();
    /// JOBS.push(7);
    /// assert_eq!(JOBS.pop(), Some(7));
    /// ```
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        Self {
            raw: raw::RawStack::new(),
        }
    }

    /// An empty stack with the default elimination setting (not `const` under loom).
    ///
    /// # Examples
    ///
    /// ```
    /// let s: freeway_stack::Stack<u8> = freeway_stack::Stack::new();
    /// assert!(s.is_empty());
    /// ```
    #[cfg(loom)]
    pub fn new() -> Self {
        Self {
            raw: raw::RawStack::new(),
        }
    }
}

impl<T, const SLOTS: usize> Stack<T, SLOTS> {
    /// An empty stack with `SLOTS` elimination slots (`0`: none).
    ///
    /// # Examples
    ///
    /// ```
    /// use freeway_stack::Stack;
    ///
    /// let stack = Stack::<u64, 4>::with_elimination();
    /// stack.push(3);
    /// assert_eq!(stack.pop(), Some(3));
    /// ```
    #[cfg(not(loom))]
    pub const fn with_elimination() -> Self {
        Self {
            raw: raw::RawStack::new(),
        }
    }

    /// An empty stack with `SLOTS` elimination slots (not `const` under loom).
    ///
    /// # Examples
    ///
    /// ```
    /// let s = freeway_stack::Stack::<u8, 1>::with_elimination();
    /// assert!(s.is_empty());
    /// ```
    #[cfg(loom)]
    pub fn with_elimination() -> Self {
        Self {
            raw: raw::RawStack::new(),
        }
    }

    /// Pushes `value` on top of the stack.
    ///
    /// Lock-free: one CAS when uncontended.
    ///
    /// # Examples
    ///
    /// ```
    /// let stack = freeway_stack::Stack::new();
    /// stack.push("x");
    /// assert_eq!(stack.pop(), Some("x"));
    /// ```
    pub fn push(&self, value: T) {
        self.raw.push(value)
    }

    /// Pushes every value of `values`, publishing them all with one CAS.
    ///
    /// Afterwards the stack holds them as if each had been pushed in turn (the last on top), and
    /// no other thread ever sees part of the batch: other threads' pushes and pops land entirely
    /// before or entirely after it. If the iterator panics, the values it produced are dropped and
    /// the stack is unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// let stack = freeway_stack::Stack::new();
    /// stack.push_batch([1, 2, 3]);
    /// assert_eq!(stack.pop(), Some(3));
    /// assert_eq!(stack.pop(), Some(2));
    /// assert_eq!(stack.pop(), Some(1));
    /// ```
    pub fn push_batch(&self, values: impl IntoIterator<Item = T>) {
        self.raw.push_batch(values)
    }

    /// Removes and returns the top value, or `None` if the stack is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// let stack = freeway_stack::Stack::new();
    /// assert_eq!(stack.pop(), None::<u8>);
    /// stack.push(5u8);
    /// assert_eq!(stack.pop(), Some(5));
    /// ```
    pub fn pop(&self) -> Option<T> {
        self.raw.pop()
    }

    /// Whether the stack is empty at this instant (other threads may change that right after).
    /// A `false` happens after the push it saw: what that push's thread wrote before pushing is
    /// visible to the caller.
    ///
    /// # Examples
    ///
    /// ```
    /// let stack = freeway_stack::Stack::new();
    /// assert!(stack.is_empty());
    /// stack.push(());
    /// assert!(!stack.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// The top value, borrowed while `guard` (and the stack) live, or `None` if empty.
    ///
    /// The value may be popped by another thread while you hold the reference; the reference
    /// stays valid (the node is not freed while you are pinned) and shows the value as pushed.
    /// That is sound only for `Copy` values: a popped `String` would free the buffer the
    /// reference points into. For other types, pop and push back, or use `take_all`.
    ///
    /// # Panics
    ///
    /// Unless `guard` comes from [`freeway_epoch::pin`]: the stack retires popped nodes into
    /// the default collector, so a guard of another [`Collector`](freeway_epoch::Collector), or
    /// [`unprotected`](freeway_epoch::unprotected), would not keep the node alive and the
    /// reference could read freed memory.
    ///
    /// ```should_panic
    /// let stack = freeway_stack::Stack::new();
    /// stack.push(1u64);
    /// let handle = freeway_epoch::Collector::new().register();
    /// let foreign = handle.pin();
    /// let _ = stack.peek(&foreign); // panics: this guard protects nothing the stack retires
    /// ```
    ///
    /// # Examples
    ///
    /// ```
    /// let stack = freeway_stack::Stack::new();
    /// stack.push(1u64);
    /// stack.push(2u64);
    /// let guard = freeway_epoch::pin();
    /// assert_eq!(stack.peek(&guard), Some(&2));
    /// ```
    ///
    /// A non-`Copy` element cannot be peeked:
    ///
    /// ```compile_fail
    /// let stack = freeway_stack::Stack::new();
    /// stack.push(String::from("no"));
    /// let guard = freeway_epoch::pin();
    /// let _ = stack.peek(&guard);
    /// ```
    pub fn peek<'g>(&'g self, guard: &'g Guard) -> Option<&'g T>
    where
        T: Copy + Sync,
    {
        self.raw.peek(guard)
    }

    /// Detaches every element with one atomic swap and returns them as an owning iterator, top
    /// first (LIFO order).
    ///
    /// Elements the iterator has not yielded are dropped when it drops.
    ///
    /// # Examples
    ///
    /// ```
    /// let stack = freeway_stack::Stack::new();
    /// stack.push_batch([1, 2, 3]);
    /// let all: Vec<_> = stack.take_all().collect();
    /// assert_eq!(all, [3, 2, 1]);
    /// assert!(stack.is_empty());
    /// ```
    pub fn take_all(&self) -> TakeAll<T> {
        TakeAll {
            chain: self.raw.take_all(),
        }
    }
}

/// Test hooks for the loom models only (not part of the API; absent outside `cfg(loom)`).
#[cfg(loom)]
#[doc(hidden)]
impl<T, const SLOTS: usize> Stack<T, SLOTS> {
    /// Offers `value` in an elimination slot; `Err(value)` when no popper took it in time.
    pub fn loom_offer(&self, value: T) -> Result<(), T> {
        self.raw.offer_value(value)
    }

    /// Takes a value offered in an elimination slot, if any.
    pub fn loom_take_offer(&self) -> Option<T> {
        self.raw.take_offer()
    }
}

impl<T, const SLOTS: usize> Default for Stack<T, SLOTS> {
    /// An empty stack.
    ///
    /// # Examples
    ///
    /// ```
    /// let s: freeway_stack::Stack<i32> = Default::default();
    /// assert!(s.is_empty());
    /// ```
    fn default() -> Self {
        Self {
            raw: raw::RawStack::new(),
        }
    }
}

impl<T, const SLOTS: usize> fmt::Debug for Stack<T, SLOTS> {
    /// Prints `Stack { .. }`: listing the elements would need a consistent snapshot.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = freeway_stack::Stack::<u8>::new();
    /// assert_eq!(format!("{s:?}"), "Stack { .. }");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Stack { .. }")
    }
}

impl<T, const SLOTS: usize> FromIterator<T> for Stack<T, SLOTS> {
    /// Pushes every value in turn (the last ends on top).
    ///
    /// # Examples
    ///
    /// ```
    /// let s: freeway_stack::Stack<_> = (1..=3).collect();
    /// assert_eq!(s.pop(), Some(3));
    /// ```
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let stack = Self::default();
        stack.push_batch(iter);
        stack
    }
}

impl<T, const SLOTS: usize> Extend<T> for Stack<T, SLOTS> {
    /// Pushes every value as one batch ([`Stack::push_batch`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut s = freeway_stack::Stack::new();
    /// s.extend(["a", "b"]);
    /// assert_eq!(s.pop(), Some("b"));
    /// ```
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        self.push_batch(iter)
    }
}

impl<'a, T: Copy + 'a, const SLOTS: usize> Extend<&'a T> for Stack<T, SLOTS> {
    /// Pushes a copy of every value as one batch.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut s = freeway_stack::Stack::new();
    /// s.extend(&[1, 2]);
    /// assert_eq!(s.pop(), Some(2));
    /// ```
    fn extend<I: IntoIterator<Item = &'a T>>(&mut self, iter: I) {
        self.push_batch(iter.into_iter().copied())
    }
}

impl<T, const SLOTS: usize> IntoIterator for Stack<T, SLOTS> {
    type Item = T;
    type IntoIter = TakeAll<T>;

    /// Consumes the stack, yielding its elements top first.
    ///
    /// # Examples
    ///
    /// ```
    /// let s: freeway_stack::Stack<_> = vec![1, 2, 3].into_iter().collect();
    /// assert_eq!(s.into_iter().collect::<Vec<_>>(), [3, 2, 1]);
    /// ```
    fn into_iter(mut self) -> TakeAll<T> {
        TakeAll {
            chain: self.raw.take_all_mut(),
        }
    }
}

/// The elements detached by [`Stack::take_all`] (or [`Stack::into_iter`]), yielded top first.
///
/// Owns its elements: those not yielded are dropped when the iterator drops. Its nodes are
/// released through the epoch when it drops (other threads may have been reading the detached top
/// node), so it holds their memory, not their values, until then.
///
/// `Send` when `T: Send`.
///
/// # Examples
///
/// ```
/// let stack = freeway_stack::Stack::new();
/// stack.push_batch(["a", "b", "c"]);
/// let mut all = stack.take_all();
/// assert_eq!(all.next(), Some("c"));
/// drop(all); // drops "b" and "a"
/// assert!(stack.is_empty());
/// ```
pub struct TakeAll<T> {
    chain: raw::Chain<T>,
}

impl<T> Iterator for TakeAll<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.chain.next_value()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.chain.is_drained() {
            (0, Some(0))
        } else {
            (1, None)
        }
    }
}

impl<T> FusedIterator for TakeAll<T> {}

impl<T> fmt::Debug for TakeAll<T> {
    /// Prints `TakeAll { .. }`.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = freeway_stack::Stack::<u8>::new();
    /// assert_eq!(format!("{:?}", s.take_all()), "TakeAll { .. }");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("TakeAll { .. }")
    }
}
