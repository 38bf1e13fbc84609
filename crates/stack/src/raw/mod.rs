//! The unsafe core of the stack: nodes, the Treiber head, the elimination array and the
//! detached chains that `take_all`, `into_iter` and `Drop` consume.
//!
//! Every `unsafe` block of the crate lives in this module. The public wrapper in `lib.rs` only
//! forwards to the safe methods here.
//!
//! # Memory orderings at a glance
//!
//! Every modification of `head` is a read-modify-write (the CAS of `push_chain` and `pop`, the
//! swap of `take_all`), so all of them belong to the release sequence of every earlier Release
//! CAS in `push_chain`. An Acquire read of `head` therefore synchronises with the push of *every*
//! node it can reach, not only the node it read: a popper that reads `top.next` and later
//! dereferences it sees that node's contents, although the pusher of `top` read `next` with a
//! Relaxed failure load.
//!
//! The elimination slots have the same shape: the offer is a Release CAS, the take an Acquire CAS.

use core::marker::PhantomData;
use core::mem::ManuallyDrop;
use core::ptr;

use freeway_epoch::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use freeway_epoch::sync::cell::UnsafeCell;
use freeway_epoch::sync::hint::spin_loop;
use freeway_epoch::{Atomic, Backoff, CachePadded, Guard, Shared, pin, unprotected};

mod pool;

/// Elimination slots of a `Stack<T>` that does not name its own count.
#[cfg(not(loom))]
pub(crate) const DEFAULT_SLOTS: usize = 0;
/// Elimination slots of a `Stack<T>` that does not name its own count (small under loom).
#[cfg(loom)]
pub(crate) const DEFAULT_SLOTS: usize = 1;

/// How many times a pusher whose offer sits in an elimination slot checks for a taker before it
/// withdraws the offer.
#[cfg(not(loom))]
const OFFER_SPINS: usize = 64;
/// Under loom every check is a scheduling point: keep the model small.
#[cfg(loom)]
const OFFER_SPINS: usize = 1;

/// One element of the stack.
///
/// `value` is written once, when the node is made, and read once, by the thread that unlinks the
/// node (a winning `pop`, an elimination taker, or the owner of a detached chain); `peek` may read
/// it in between. `next` is written only while the node is private to its pusher (before the
/// publishing CAS, or after a failed one) and never again once the node is reachable.
///
/// The value sits in a `ManuallyDrop`: whoever unlinks the node moves the value out with
/// `ptr::read`, and dropping the node afterwards (through the epoch) frees its memory without
/// dropping the value a second time.
pub(crate) struct Node<T> {
    value: UnsafeCell<ManuallyDrop<T>>,
    next: UnsafeCell<*mut Node<T>>,
}

impl<T> Node<T> {
    /// The node pool's size class for this node type (`None`: plain `Box`es, retired one by
    /// one).
    const CLASS: Option<usize> = pool::class_of(core::alloc::Layout::new::<Node<T>>());

    /// A private node, not linked anywhere yet.
    #[inline]
    fn alloc(value: T) -> *mut Node<T> {
        Self::alloc_from(value, pool::alloc)
    }

    /// A private node whose memory, if pooled, comes from `mem(class)` (which returns memory of
    /// that class owned by the caller).
    #[inline]
    fn alloc_from(value: T, mem: impl FnOnce(usize) -> *mut u8) -> *mut Node<T> {
        let node = Node {
            value: UnsafeCell::new(ManuallyDrop::new(value)),
            next: UnsafeCell::new(ptr::null_mut()),
        };
        match Self::CLASS {
            Some(class) => {
                let p = mem(class).cast::<Node<T>>();
                // SAFETY: `p` is fresh or recycled memory of the class's layout, which is at least
                // as large and as aligned as `Node<T>` (`class_of`), and owned by us alone.
                unsafe { p.write(node) };
                p
            }
            None => Box::into_raw(Box::new(node)),
        }
    }

    /// Retires a node that the caller unlinked while `guard` was pinned.
    ///
    /// # Safety
    ///
    /// `node` came from `Node::alloc`, its value has been taken, it is unreachable for threads
    /// that pin from now on, and it is retired once.
    unsafe fn retire(guard: &Guard, node: *mut Node<T>) {
        match Self::CLASS {
            // SAFETY: forwarded from the caller; the node's memory is of the class's layout.
            Some(class) => unsafe { pool::retire(guard, node.cast::<u8>(), class) },
            // SAFETY: forwarded from the caller; a `Box` allocation, and dropping the node drops
            // no value (`ManuallyDrop`).
            None => unsafe { freeway_epoch::retire(guard, Shared::from(node as *const Node<T>)) },
        }
    }

    /// Reads `next`.
    ///
    /// # Safety
    ///
    /// `node` is live, and either private to the caller or published (then `next` is frozen, and
    /// the caller's Acquire load of the pointer synchronises with its publication).
    unsafe fn next(node: *const Node<T>) -> *mut Node<T> {
        // SAFETY: `node` is live (caller); nobody writes `next` of a published node, and a private
        // node is only touched by its owner, the caller.
        unsafe { (*node).next.with(|p| *p) }
    }

    /// Writes `next`.
    ///
    /// # Safety
    ///
    /// `node` is live and private to the caller: no other thread can reach it.
    unsafe fn set_next(node: *mut Node<T>, next: *mut Node<T>) {
        // SAFETY: the node is private to the caller, so this write races with nothing.
        unsafe { (*node).next.with_mut(|p| *p = next) }
    }

    /// Moves the value out of `node`.
    ///
    /// # Safety
    ///
    /// The caller has unlinked `node` (it alone may take the value), the value was not taken
    /// before, and the caller's acquire synchronises with the node's publication.
    unsafe fn take_value(node: *const Node<T>) -> T {
        // SAFETY: the caller is the only thread that takes this value, exactly once; concurrent
        // `peek`s only read it (and `peek` requires `T: Copy`, so the bits they read stay a
        // valid `T` after the move).
        unsafe {
            (*node)
                .value
                .with(|p| ManuallyDrop::into_inner(ptr::read(p)))
        }
    }

    /// Frees the node's memory; the value (taken before) is not dropped.
    ///
    /// # Safety
    ///
    /// `node` came from `Node::alloc`, its value has been taken, and no thread can reach it any
    /// more (the grace period of the epoch has passed, or it was never shared).
    unsafe fn free(node: *mut Node<T>) {
        match Self::CLASS {
            // SAFETY: allocated by the pool with this class in `alloc`, unreachable, freed once
            // (caller). `Node` has no drop glue worth running: the value is `ManuallyDrop`.
            Some(class) => unsafe { pool::dealloc(node.cast::<u8>(), class) },
            // SAFETY: allocated by `Box::new` in `alloc` and freed exactly once (caller); the
            // value is `ManuallyDrop`, so dropping the box only releases memory.
            None => drop(unsafe { Box::from_raw(node) }),
        }
    }
}

/// The stack proper.
///
/// `head` points to the top node (null when empty). `slots` is the elimination array
/// (Hendler, Shavit & Yerushalmi 2004), each slot holding a pusher's offered node or null:
///
/// | slot    | meaning                                   | who moves it on, and how             |
/// |---------|-------------------------------------------|--------------------------------------|
/// | null    | free                                      | a pusher: CAS null -> its node       |
/// | node `n`| `n`'s pusher offers it to one popper      | a popper takes: CAS n -> null        |
/// |         |                                           | or the pusher withdraws: CAS n -> null |
///
/// Exactly one of the two CASes from `n` to null can succeed, so an offered value is delivered
/// exactly once: to the popper that took it, or back to the pusher that withdrew it.
pub(crate) struct RawStack<T, const SLOTS: usize> {
    head: CachePadded<Atomic<Node<T>>>,
    slots: [CachePadded<Atomic<Node<T>>>; SLOTS],
    _owns: PhantomData<T>,
}

impl<T, const SLOTS: usize> RawStack<T, SLOTS> {
    /// An empty stack.
    #[cfg(not(loom))]
    pub(crate) const fn new() -> Self {
        Self {
            head: CachePadded::new(Atomic::null()),
            slots: [const { CachePadded::new(Atomic::null()) }; SLOTS],
            _owns: PhantomData,
        }
    }

    /// An empty stack (loom's atomics cannot be made in a `const fn`).
    #[cfg(loom)]
    pub(crate) fn new() -> Self {
        Self {
            head: CachePadded::new(Atomic::null()),
            slots: core::array::from_fn(|_| CachePadded::new(Atomic::null())),
            _owns: PhantomData,
        }
    }

    /// Pushes one value.
    pub(crate) fn push(&self, value: T) {
        let node = Node::alloc(value);
        // SAFETY: `node` is a fresh private node whose `next` we may overwrite; its value is set.
        unsafe { self.push_chain(node, node, SLOTS > 0) }
    }

    /// Pushes a batch: links the values into a private chain, then publishes it with one CAS.
    ///
    /// The last value of `iter` ends on top, as if each had been pushed in turn. A panic in the
    /// iterator drops the values already taken from it (in the chain) and leaves the stack as it
    /// was.
    pub(crate) fn push_batch(&self, iter: impl IntoIterator<Item = T>) {
        // The chain owns its nodes until we publish it: if `iter` panics, its Drop drops the
        // values collected so far and frees their nodes.
        // Pooled node memory: the free list, detached with one thread-local access (what is
        // left over goes back when `run` drops).
        let mut run = Node::<T>::CLASS.map(pool::take_run);
        let mut chain = Chain::<T>::private(ptr::null_mut());
        let mut last: *mut Node<T> = ptr::null_mut();
        for value in iter {
            let node = match &mut run {
                Some(run) => Node::alloc_from(value, |_| run.next()),
                None => Node::alloc(value),
            };
            // SAFETY: `node` is fresh and private; `chain.cursor` is private to us.
            unsafe { Node::set_next(node, chain.cursor) };
            if last.is_null() {
                last = node;
            }
            chain.first = node;
            chain.cursor = node;
        }
        let first = core::mem::replace(&mut chain.cursor, ptr::null_mut());
        chain.first = ptr::null_mut();
        drop(chain);
        if !first.is_null() {
            // SAFETY: `first..=last` is a private chain of live nodes linked through `next`,
            // ending at `last`, whose `next` we may overwrite.
            unsafe { self.push_chain(first, last, false) };
        }
    }

    /// Publishes the private chain `first ..= last` on top of the stack.
    ///
    /// # Safety
    ///
    /// `first` to `last` are live nodes private to the caller, linked through `next`; when
    /// `eliminate` is set, `first == last`.
    unsafe fn push_chain(&self, first: *mut Node<T>, last: *mut Node<T>, eliminate: bool) {
        // SAFETY: push never dereferences a node of the stack: it only copies the head pointer
        // into its own private `last.next`. An unprotected guard is therefore enough, and an
        // ABA on `head` is harmless here (whatever `head` holds when the CAS succeeds is what
        // `last.next` holds).
        let guard = unsafe { unprotected() };
        let new = Shared::from(first as *const Node<T>);
        // Relaxed: the pointer is only stored into `last.next`; see the module note on release
        // sequences for why the popper still sees the node behind it.
        let mut head = self.head.load(Relaxed, guard);
        let backoff = Backoff::new();
        loop {
            // SAFETY: `last` is private until the CAS below succeeds.
            unsafe { Node::set_next(last, head.as_raw() as *mut Node<T>) };
            // Release (success): publishes the chain's values and `next` links to the Acquire
            // loads and CASes of `head` in `pop` and `take_all`. Relaxed (failure): we only
            // reuse the pointer as above.
            match self
                .head
                .compare_exchange(head, new, Release, Relaxed, guard)
            {
                Ok(_) => return,
                Err(e) => head = e.current,
            }
            // Contention. Offer the node to a popper before trying `head` again.
            // SAFETY: `first == last` is private (caller) and holds a value.
            if eliminate && unsafe { self.offer(first) } {
                return;
            }
            // A stale `head` after the spin only costs one more failed CAS, which refreshes it.
            backoff.spin();
        }
    }

    /// Offers the private node `node` in an elimination slot and waits a little for a popper.
    /// Returns `true` when a popper took it (the push is done), `false` when the offer could not
    /// be placed or was withdrawn (the node is private to the caller again).
    ///
    /// # Safety
    ///
    /// `node` is a live private node of the caller, holding a value.
    unsafe fn offer(&self, node: *mut Node<T>) -> bool {
        // Pinned for the whole offer: a taker retires the node through the epoch, so it cannot be
        // freed, and its address cannot come back in a new offer, until we unpin. That makes the
        // withdrawal CAS below free of ABA: if the slot still holds `node`, it is our offer.
        let guard = pin();
        let slot = &self.slots[slot_index(node as usize, SLOTS)];
        let ours = Shared::from(node as *const Node<T>);
        // Release (success): publishes the node's value to the taker's Acquire CAS in
        // `try_take_offer`. Relaxed (failure): a busy slot is simply skipped.
        if slot
            .compare_exchange(Shared::null(), ours, Release, Relaxed, &guard)
            .is_err()
        {
            return false;
        }
        for _ in 0..OFFER_SPINS {
            spin_loop();
            // Relaxed: only a hint that the offer was taken; the CAS below decides.
            if slot.load(Relaxed, &guard) != ours {
                break;
            }
        }
        // Withdraw. Relaxed on both sides: on success the node was never taken and stays ours
        // (nobody dereferences a node they did not take); on failure a popper took it and we
        // touch nothing of it again.
        slot.compare_exchange(ours, Shared::null(), Relaxed, Relaxed, &guard)
            .is_err()
    }

    /// Pops the top value, if any.
    pub(crate) fn pop(&self) -> Option<T> {
        let guard = pin();
        // Acquire: pairs with the Release CAS in `push_chain` (through the release sequence of
        // `head`), so the node's `next` and value are visible.
        let mut head = self.head.load(Acquire, &guard);
        let backoff = Backoff::new();
        loop {
            if head.is_null() {
                return None;
            }
            // SAFETY: `head` is non-null and was read from `self.head` while pinned: the node is
            // live until we unpin (unlinkers retire through the epoch), and its `next` is frozen.
            let next = unsafe { Node::next(head.as_raw()) };
            // Relaxed (success): the node we unlink is `head`, which we read with an Acquire
            // (the load above or the failure below) that synchronised with the push that
            // published it (directly or through the release sequence of `head`, whose every
            // write is a read-modify-write); we are pinned, so a successful CAS proves it is
            // that same node, not a recycled one, and its value and `next` are visible already.
            // No loom model can fail without an Acquire here. Acquire (failure): we dereference
            // the new head next, so this load pairs with the Release CAS in `push_chain`.
            match self.head.compare_exchange(
                head,
                Shared::from(next as *const Node<T>),
                Relaxed,
                Acquire,
                &guard,
            ) {
                Ok(_) => {
                    // SAFETY: (1) our CAS unlinked the node, so we alone take its value, once;
                    // (2) the node is unreachable for threads that pin from now on, and we retire
                    // it once; its drop frees memory only (the value is `ManuallyDrop`).
                    unsafe {
                        let value = Node::take_value(head.as_raw());
                        Node::retire(&guard, head.as_raw() as *mut Node<T>);
                        return Some(value);
                    }
                }
                Err(e) => head = e.current,
            }
            if SLOTS > 0
                && let Some(value) = self.try_take_offer(&guard)
            {
                return Some(value);
            }
            // A stale `head` after the spin only costs one more failed CAS, which refreshes it
            // (and it stays allocated: we are pinned).
            backoff.spin();
        }
    }

    /// Scans the elimination slots once and takes the first offer found.
    fn try_take_offer(&self, guard: &Guard) -> Option<T> {
        let start = slot_index(guard as *const Guard as usize, SLOTS);
        for i in 0..SLOTS {
            let slot = &self.slots[(start + i) % SLOTS];
            // Relaxed: a hint only; we dereference nothing before the Acquire CAS below.
            let offer = slot.load(Relaxed, guard);
            if offer.is_null() {
                continue;
            }
            // Acquire (success): pairs with the offering Release CAS in `offer`, so the value
            // is visible. Relaxed (failure): someone else took or withdrew it.
            if slot
                .compare_exchange(offer, Shared::null(), Acquire, Relaxed, guard)
                .is_ok()
            {
                // SAFETY: (1) our CAS took the offer, so the node is ours and the pusher will not
                // touch it again (its withdrawal CAS fails); its value was never taken; (2) it is
                // unreachable from the slot now, and we retire it once (through the epoch, so its
                // address is not reused while the pusher, pinned, still compares against it).
                unsafe {
                    let value = Node::take_value(offer.as_raw());
                    Node::retire(guard, offer.as_raw() as *mut Node<T>);
                    return Some(value);
                }
            }
        }
        None
    }

    /// The top value, borrowed for as long as `guard` lives.
    ///
    /// `T: Copy` is what makes this sound: a concurrent `pop` moves the value out of the node we
    /// point into and may then drop or mutate its copy; for a `Copy` type that copy shares
    /// nothing with the bits left in the node, which stay allocated until `guard` drops.
    pub(crate) fn peek<'g>(&'g self, guard: &'g Guard) -> Option<&'g T>
    where
        T: Copy + Sync,
    {
        assert!(
            freeway_epoch::pins_default_collector(guard),
            "Stack::peek needs a guard from `freeway_epoch::pin()`: a guard of another \
             Collector, or `unprotected()`, does not keep popped nodes alive"
        );
        // Acquire: pairs with the Release CAS in `push_chain`, so the value is visible.
        let head = self.head.load(Acquire, guard);
        // SAFETY: (1) non-null nodes read from `head` while pinned stay allocated until `guard`
        // drops (the assert above: `guard` pins the default collector, the one nodes are
        // retired into); (2) the value is never written after the node is published, and moving it out
        // (pop) leaves the bits of a `Copy` value intact and valid.
        unsafe { head.as_ref().map(|node| &**node.value.with(|p| p)) }
    }

    /// Whether the stack was empty at the moment of the load.
    pub(crate) fn is_empty(&self) -> bool {
        // SAFETY: the pointer is compared with null and never dereferenced.
        let guard = unsafe { unprotected() };
        // Acquire: pairs with the Release CAS in `push_chain`, so an `is_empty() == false`
        // happens after the push it saw (no data is read through it, but callers may reason so).
        self.head.load(Acquire, guard).is_null()
    }

    /// Detaches every node with one swap and returns the chain.
    pub(crate) fn take_all(&self) -> Chain<T> {
        // SAFETY: the swap gives us the only link to the old chain; we dereference it below only
        // as its owner, and nodes of a detached chain are retired through the epoch (see
        // `Chain`), never freed at once.
        let guard = unsafe { unprotected() };
        // Acquire: pairs with the Release CAS in `push_chain` (release sequence), so every node
        // of the chain, and its value, is visible to the owner.
        let first = self.head.swap(Shared::null(), Acquire, guard);
        Chain::shared(first.as_raw() as *mut Node<T>)
    }

    /// Detaches every node of a stack nobody else can reach (`&mut self`).
    pub(crate) fn take_all_mut(&mut self) -> Chain<T> {
        // SAFETY: `&mut self`: no other thread holds the stack, and none of the operations that
        // ended before still reads its nodes (`peek` borrows the stack for its guard's life).
        let guard = unsafe { unprotected() };
        // Relaxed: exclusive access; whatever synchronised the `&mut` orders the earlier writes.
        let first = self.head.swap(Shared::null(), Relaxed, guard);
        Chain::private(first.as_raw() as *mut Node<T>)
    }
}

impl<T, const SLOTS: usize> Drop for RawStack<T, SLOTS> {
    fn drop(&mut self) {
        // Every offer is withdrawn or taken before its push returns, so the slots are empty and
        // the chain holds every element; dropping it drops each value once.
        drop(self.take_all_mut());
    }
}

// SAFETY: the stack owns its `T`s; sending it sends them (`T: Send`). Nodes are freed from
// whichever thread runs the epoch's collection, which touches no `T`.
unsafe impl<T: Send, const SLOTS: usize> Send for RawStack<T, SLOTS> {}

// SAFETY: through `&RawStack` threads move `T`s in (`push`) and out (`pop`, `take_all`) of the
// stack, which is sending them: `T: Send` suffices. The one method that shares a `&T` between
// threads, `peek`, demands `T: Sync` (and `Copy`) itself.
unsafe impl<T: Send, const SLOTS: usize> Sync for RawStack<T, SLOTS> {}

/// Hooks that let loom models drive the elimination protocol directly (a 2-thread model can
/// hardly make both a push's and a pop's CAS on `head` fail, which is what engages it).
#[cfg(loom)]
impl<T, const SLOTS: usize> RawStack<T, SLOTS> {
    /// Offers `value` in an elimination slot; `Err(value)` if the offer was not taken.
    pub(crate) fn offer_value(&self, value: T) -> Result<(), T> {
        let node = Node::alloc(value);
        // SAFETY: `node` is fresh, private and holds a value.
        if unsafe { self.offer(node) } {
            return Ok(());
        }
        // SAFETY: (1) the offer was withdrawn (or never placed), so the node is private again and
        // its value untaken; (2) nobody else dereferences it, so it is freed at once through the
        // counted path (the unprotected guard runs the retirement immediately).
        unsafe {
            let value = Node::take_value(node);
            freeway_epoch::defer_unchecked(unprotected(), move || Node::free(node));
            Err(value)
        }
    }

    /// Takes an offer from the elimination slots, if one is there.
    pub(crate) fn take_offer(&self) -> Option<T> {
        self.try_take_offer(&pin())
    }
}

/// Picks a slot from a pointer-like number (the low bits of heap and stack addresses are
/// alignment, so shift them away).
fn slot_index(addr: usize, slots: usize) -> usize {
    if slots <= 1 {
        0
    } else {
        (addr >> 6 ^ addr >> 12) % slots
    }
}

/// A chain of nodes owned by one thread: detached from a stack by `take_all`, drained out of a
/// dropped stack, or being built by `push_batch`.
///
/// `first` is where the chain began; `cursor` is the next node whose value has not been taken.
/// Values of the nodes before `cursor` have been taken; values from `cursor` on are owned by the
/// chain. When the chain drops, it drops the values it still owns, then frees every node from
/// `first` on: at once when the chain was `private` (no other thread ever could read it), through
/// the epoch when it was detached from a shared stack (a popper that loaded the old head before
/// the swap may still read the top node's `next`).
pub(crate) struct Chain<T> {
    first: *mut Node<T>,
    cursor: *mut Node<T>,
    shared: bool,
    _owns: PhantomData<T>,
}

// SAFETY: a chain owns its nodes and the values in them: sending it sends those `T`s, which is
// sound exactly when `T: Send`. Freeing nodes from the epoch's collector thread touches no `T`.
unsafe impl<T: Send> Send for Chain<T> {}

// SAFETY: `&Chain` exposes nothing of the values (all reads go through `&mut self`); `T: Sync`
// is the conservative bound.
unsafe impl<T: Sync> Sync for Chain<T> {}

impl<T> Chain<T> {
    fn private(first: *mut Node<T>) -> Self {
        Self {
            first,
            cursor: first,
            shared: false,
            _owns: PhantomData,
        }
    }

    fn shared(first: *mut Node<T>) -> Self {
        Self {
            first,
            cursor: first,
            shared: true,
            _owns: PhantomData,
        }
    }

    /// Moves the next value out of the chain (LIFO order: top of the stack first).
    pub(crate) fn next_value(&mut self) -> Option<T> {
        let node = self.cursor;
        if node.is_null() {
            return None;
        }
        // SAFETY: (1) nodes from `cursor` on are live (freed only when the chain drops) and owned
        // by the chain, whose detaching Acquire swap (or exclusive access) made them visible;
        // (2) their values have not been taken; we take this one once and advance past it.
        unsafe {
            self.cursor = Node::next(node);
            Some(Node::take_value(node))
        }
    }

    /// Whether every value has been taken.
    pub(crate) fn is_drained(&self) -> bool {
        self.cursor.is_null()
    }

    /// Frees every node of the chain (the values must all have been taken).
    fn free_nodes(&mut self) {
        debug_assert!(self.cursor.is_null());
        let first = core::mem::replace(&mut self.first, ptr::null_mut());
        if first.is_null() {
            return;
        }
        if self.shared && Node::<T>::CLASS.is_some() {
            // Pooled nodes join this thread's retirement batches, node by node, as if popped.
            let guard = pin();
            if let Some(class) = Node::<T>::CLASS {
                // SAFETY: (1) the chain's nodes are live (not retired yet) and their `next`s
                // frozen, and each `next` is read before its node is retired; (2) each node was
                // unlinked by `take_all`'s swap, has had its value taken, and is retired exactly
                // once here.
                unsafe {
                    pool::retire_chain(&guard, first.cast::<u8>(), class, |p| {
                        Node::next(p.cast::<Node<T>>()).cast::<u8>()
                    })
                };
            }
            return;
        }
        let free_all = move || {
            let mut node = first;
            while !node.is_null() {
                // SAFETY: the chain's nodes are linked through frozen `next`s, came from
                // `Node::alloc`, have had their values taken, and are freed here exactly once,
                // after every thread that could still read them has unpinned.
                unsafe {
                    let next = Node::next(node);
                    Node::free(node);
                    node = next;
                }
            }
        };
        if self.shared {
            let guard = pin();
            // SAFETY: (1) the chain is unreachable for threads that pin from now on (it was
            // detached by `take_all`'s swap before this call); (2) threads pinned now may still
            // read the top node's `next`, which is why this is deferred; (3) the closure frees
            // memory only and touches no `T`, so running it on any thread, even after `T`'s
            // lifetime, is sound.
            unsafe { freeway_epoch::defer_unchecked(&guard, free_all) };
        } else {
            // SAFETY: a private chain was never reachable by another thread (or the stack it came
            // from was held by `&mut`): the unprotected guard runs the closure at once, and the
            // freeing still goes through the counted retirement path.
            unsafe { freeway_epoch::defer_unchecked(unprotected(), free_all) };
        }
    }
}

impl<T> Drop for Chain<T> {
    fn drop(&mut self) {
        /// Runs when a value's `Drop` panics: finishes dropping the rest (a second panic aborts,
        /// as in `Vec`) and frees the nodes, so nothing leaks.
        struct Finish<'a, T>(&'a mut Chain<T>);
        impl<T> Drop for Finish<'_, T> {
            fn drop(&mut self) {
                while let Some(value) = self.0.next_value() {
                    drop(value);
                }
                self.0.free_nodes();
            }
        }
        let finish = Finish(self);
        while let Some(value) = finish.0.next_value() {
            drop(value);
        }
        // `finish` drops here and frees the nodes.
    }
}
