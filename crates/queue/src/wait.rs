//! Waiting for a queue to change (feature `wait`): one [`Signal`] per condition ("not empty",
//! and for the bounded queue "not full"), built on event-listener's `Event`.
//!
//! # The protocol
//!
//! A waiter counts itself in `sleeping` (a `SeqCst` read-modify-write), registers a listener,
//! tries its operation once more, and only then sleeps. An operation that may have made the
//! condition true (a push for "not empty", a pop for "not full") reads `sleeping` after its own
//! `SeqCst` claim (or, the unbounded queue's `push`, a flag in the index it claims: see "The
//! flag" below), and notifies only if someone is counted. Both sides are `SeqCst`, so in their
//! single total order either the notifier's read comes after the waiter's count (and it
//! notifies), or the notifier's claim came before the waiter's retry, which then sees it. A
//! notification that lands between the listener's registration and its sleep is kept by the
//! listener, so nothing falls between the retry and the sleep. With nobody waiting, the cost on
//! the fast path is that one load: no notification, no fence.
//!
//! ## The flag
//!
//! The unbounded queue's `push` does not read the count: its claim replaces the tail index
//! anyway, and the index carries a `SLEEPERS` bit ([`Flag`]). A waiter raises the flag (a
//! `SeqCst` read-modify-write of the index) after counting itself and before its retry. The
//! claim and the raise are read-modify-writes of one atomic, so either the claim comes later
//! and reads the flag (and the producer then reads the count, below),
//! or it comes earlier and the waiter's retry, which reads the index after its raise, sees it.
//!
//! A producer whose claim saw the flag reads the count. If someone is counted, it notifies. If
//! nobody is, the flag is stale (its waiters have left) and the producer lowers it, so that
//! later pushes skip the slow path; then it reads the count once more, and if a waiter counted
//! itself in between (whose raise the lowering may have undone), raises the flag again and
//! wakes every waiter. In the total order, a waiter counted after that second read raises after
//! the lowering, so its flag stands. Pushes that claimed while the flag was down were missed by
//! the flag; the wake-up of every waiter covers them, as each woken waiter tries again. So
//! every lowering is followed by a read of the count, and nobody sleeps with the flag down.
//!
//! `push_batch` and the bounded queue do not use a flag: their notifiers read the count.
//!
//! A blocking wait first retries a few times, spinning and then yielding, since a value often
//! arrives within microseconds and a sleep costs two system calls; an async wait registers at
//! once and lets the executor run other tasks.
//!
//! Notifications are "additional": every push wakes one more waiter, even while an earlier one
//! is still on its way, so a value never sits in the queue while every waiter sleeps. A listener
//! that was notified and is then dropped (a timed-out or cancelled wait) passes its
//! notification on to another listener.

use std::time::{Duration, Instant};

use event_listener::{Event, IntoNotification, Listener};
use freeway_epoch::sync::atomic::AtomicUsize;
use freeway_epoch::sync::atomic::Ordering::{Relaxed, SeqCst};
#[cfg(loom)]
use freeway_epoch::sync::atomic::SeqCstInit;
use freeway_epoch::sync::hint::spin_loop;
use freeway_epoch::sync::thread::yield_now;

/// A second place, besides the count, where a signal's waiters announce themselves: a bit that
/// a notifier's own claim reads (see "The flag" in the module docs).
pub(crate) trait Flag {
    /// Sets the flag (`SeqCst`): a waiter, after counting itself and before its retry.
    fn raise(&self);
    /// Clears the flag (`SeqCst`): a notifier that found nobody counted.
    fn lower(&self);
}

/// No flag: the signal's notifiers read the count.
pub(crate) struct NoFlag;

impl Flag for NoFlag {
    fn raise(&self) {}

    fn lower(&self) {}
}

/// A condition that threads and tasks can wait for.
pub(crate) struct Signal {
    event: Event,
    /// Waiters between their count and their wake-up (or give-up).
    sleeping: AtomicUsize,
    /// Whether `notify` fences under loom (the bounded queue's signals).
    #[cfg(loom)]
    loom_fence: bool,
}

/// Tries of a blocking wait before it sleeps: six with a growing spin (1 to 32 pauses), then
/// yields. None under loom, where the spins would only multiply the interleavings.
const SPIN_ROUNDS: u32 = if cfg!(loom) { 0 } else { 9 };

/// Counts one waiter while it lives (so a cancelled future uncounts itself).
struct Counted<'a>(&'a AtomicUsize);

impl<'a> Counted<'a> {
    fn new(sleeping: &'a AtomicUsize) -> Self {
        // SeqCst: the waiter's half of the protocol (module docs), ordered before its retry.
        sleeping.fetch_add(1, SeqCst);
        Self(sleeping)
    }
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        // Relaxed: the protocol rests on the count (`new`), not the uncount. A notifier that
        // reads a count from before this uncount sends a notification nobody needs (passed on
        // or dropped, harmless); one that reads a later count reads a later waiter's `SeqCst`
        // count, which the protocol covers.
        self.0.fetch_sub(1, Relaxed);
    }
}

impl Signal {
    #[cfg(not(loom))]
    pub(crate) const fn new() -> Self {
        Self {
            event: Event::new(),
            sleeping: AtomicUsize::new(0),
        }
    }

    /// A signal for the bounded queue (see [`loom_sc_fence`](Self::loom_sc_fence)).
    #[cfg(not(loom))]
    pub(crate) const fn for_ring() -> Self {
        Self::new()
    }

    #[cfg(loom)]
    pub(crate) fn new() -> Self {
        let signal = Self {
            event: Event::new(),
            sleeping: AtomicUsize::new(0),
            loom_fence: false,
        };
        // The count takes part in the protocol's `SeqCst` order (see `SeqCstInit`).
        signal.sleeping.seq_cst_init();
        signal
    }

    /// A signal for the bounded queue (see [`loom_sc_fence`](Self::loom_sc_fence)).
    #[cfg(loom)]
    pub(crate) fn for_ring() -> Self {
        Self {
            loom_fence: true,
            ..Self::new()
        }
    }

    /// Under loom, for the bounded queue's signals, a `SeqCst` fence on the notifier's side,
    /// between its claim and its read of the count. loom models the total order of `SeqCst`
    /// loads and stores (a `SeqCst` load does not read a `SeqCst` store that a newer one
    /// replaced), but not the rule that orders a `SeqCst` fence after the `SeqCst` writes before
    /// it: the bounded queue's retry ends its verdict with a fence and a `Relaxed` load (see its
    /// module docs), which loom would let miss the notifier's claim. The fence gives loom that
    /// order. The unbounded queue's verdict is made of `SeqCst` loads, which loom checks as they
    /// are. Real builds rely on the accesses themselves: a fence on every push would cost what
    /// the feature promises not to.
    #[inline]
    fn loom_sc_fence(&self) {
        #[cfg(loom)]
        if self.loom_fence {
            freeway_epoch::sync::atomic::fence(SeqCst);
        }
    }

    /// Wakes up to `n` more waiters, if any is counted. Call it after the operation that may
    /// have made the condition true (after its `SeqCst` claim).
    #[inline]
    pub(crate) fn notify(&self, n: usize) {
        self.loom_sc_fence();
        // SeqCst: the notifier's half of the protocol (module docs).
        if n > 0 && self.sleeping.load(SeqCst) != 0 {
            self.notify_slow(n);
        }
    }

    #[cold]
    fn notify_slow(&self, n: usize) {
        self.event.notify(n.additional());
    }

    /// Wakes up to `n` more waiters, for a notifier whose claim read `flag` raised: the
    /// notifier's half of the flag protocol (module docs).
    #[cold]
    pub(crate) fn notify_flagged(&self, n: usize, flag: &impl Flag) {
        // SeqCst: after the claim that read the flag, in the protocol's total order.
        if self.sleeping.load(SeqCst) != 0 {
            self.event.notify(n.additional());
            return;
        }
        // Nobody counted: the flag is stale. Lower it, then look again for a waiter that
        // counted itself before the lowering (whose raise it may have undone).
        flag.lower();
        // SeqCst: after the lowering, in the same total order as the waiters' counts.
        if self.sleeping.load(SeqCst) != 0 {
            flag.raise();
            // Pushes that claimed while the flag was down notified nobody: wake every waiter,
            // and each tries again.
            self.event.notify(usize::MAX);
        }
    }

    /// Runs `attempt` until it succeeds, sleeping between tries. `flag` is the signal's flag
    /// (or [`NoFlag`]); the same for every wait and notification of a signal.
    pub(crate) fn wait_forever<R>(
        &self,
        flag: &impl Flag,
        attempt: impl FnMut() -> Option<R>,
    ) -> R {
        match self.wait(flag, attempt, None) {
            Some(r) => r,
            None => unreachable!("a wait without a deadline ends with a result"),
        }
    }

    /// Runs `attempt` until it succeeds, sleeping between tries; `None` once `timeout` has
    /// passed (after one last try).
    pub(crate) fn wait_for<R>(
        &self,
        flag: &impl Flag,
        attempt: impl FnMut() -> Option<R>,
        timeout: Duration,
    ) -> Option<R> {
        // A timeout too long for the clock is no timeout.
        self.wait(flag, attempt, Instant::now().checked_add(timeout))
    }

    /// Runs `attempt` until it succeeds, sleeping between tries; `None` once `deadline` passes
    /// (after one last try).
    fn wait<R>(
        &self,
        flag: &impl Flag,
        mut attempt: impl FnMut() -> Option<R>,
        deadline: Option<Instant>,
    ) -> Option<R> {
        // A value often arrives within microseconds: try a few more times, spinning and then
        // yielding, before paying for a sleep and a wake-up (two system calls). Not in async
        // waits, where the executor has other tasks to run instead.
        for round in 0..SPIN_ROUNDS {
            if let Some(r) = attempt() {
                return Some(r);
            }
            if round < 6 {
                for _ in 0..1u32 << round {
                    spin_loop();
                }
            } else {
                yield_now();
            }
        }
        loop {
            if let Some(r) = attempt() {
                return Some(r);
            }
            let counted = Counted::new(&self.sleeping);
            flag.raise();
            let listener = self.event.listen();
            if let Some(r) = attempt() {
                return Some(r);
            }
            match deadline {
                None => listener.wait(),
                Some(d) => {
                    if listener.wait_deadline(d).is_none() {
                        drop(counted);
                        return attempt();
                    }
                }
            }
        }
    }

    /// [`wait`](Self::wait) for async tasks, without a deadline. Cancel-safe: dropped while
    /// pending, it has taken nothing, uncounts itself, and passes on a notification it got.
    pub(crate) async fn wait_async<R>(
        &self,
        flag: &impl Flag,
        mut attempt: impl FnMut() -> Option<R>,
    ) -> R {
        loop {
            if let Some(r) = attempt() {
                return r;
            }
            let _counted = Counted::new(&self.sleeping);
            flag.raise();
            let listener = self.event.listen();
            if let Some(r) = attempt() {
                return r;
            }
            listener.await;
        }
    }
}
