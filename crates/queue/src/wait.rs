//! Waiting for a queue to change (feature `wait`): one [`Signal`] per condition ("not empty",
//! and for the bounded queue "not full"), built on event-listener's `Event`.
//!
//! # The protocol
//!
//! A waiter counts itself in `sleeping` (a `SeqCst` read-modify-write), raises its signal's
//! flag (below), registers a listener, tries its operation once more, and only then sleeps. A
//! notification that lands between the listener's registration and its sleep is kept by the
//! listener, so nothing falls between the retry and the sleep.
//!
//! ## The flag
//!
//! Each signal has a flag in the index that its notifiers claim: the unbounded queue's tail
//! index carries a `SLEEPERS` bit for consumers, and the bounded queue's tail and head indices
//! carry a top bit each, for consumers and for producers ([`Flag`]). A waiter raises the flag
//! (a `SeqCst` read-modify-write of the index) after counting itself and before its retry. An
//! operation that may make the condition true (a push for "not empty", a pop for "not full")
//! claims by a compare-exchange on that index, so the claim and the raise are
//! read-modify-writes of one atomic: either the claim comes later and replaces the index with
//! the flag raised (and the notifier then reads the count, below), or it comes earlier and the
//! waiter's retry, which reads the index after its raise, sees it. A claim from an index with
//! the flag down wakes nobody and reads nothing more: the queues' inline fast paths only claim
//! from such an index, and leave a raised flag to their out-of-line loops, so with nobody
//! waiting the feature costs their fast paths nothing.
//!
//! A notifier whose claim saw the flag reads the count. If someone is counted, it notifies. If
//! nobody is, the flag is stale (its waiters have left) and the notifier lowers it, so that
//! later operations skip the slow path; then it reads the count once more, and if a waiter
//! counted itself in between (whose raise the lowering may have undone), raises the flag again
//! and wakes every waiter. In the total order, a waiter counted after that second read raises
//! after the lowering, so its flag stands. Claims made while the flag was down were missed by
//! the flag; the wake-up of every waiter covers them, as each woken waiter tries again. So
//! every lowering is followed by a read of the count, and nobody sleeps with the flag down.
//!
//! ## The count alone
//!
//! `Queue::push_batch` notifies by the count alone ([`Signal::notify`]): it reads `sleeping`
//! after its `SeqCst` claims and notifies if someone is counted. Both sides are `SeqCst`, so in
//! their single total order either its read comes after the waiter's count, or its claims came
//! before the waiter's retry, which then sees them.
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

impl<F: Flag + ?Sized> Flag for &F {
    fn raise(&self) {
        (**self).raise();
    }

    fn lower(&self) {
        (**self).lower();
    }
}

/// A condition that threads and tasks can wait for.
pub(crate) struct Signal {
    event: Event,
    /// Waiters between their count and their wake-up (or give-up).
    sleeping: AtomicUsize,
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

    #[cfg(loom)]
    pub(crate) fn new() -> Self {
        let signal = Self {
            event: Event::new(),
            sleeping: AtomicUsize::new(0),
        };
        // The count takes part in the protocol's `SeqCst` order (see `SeqCstInit`).
        signal.sleeping.seq_cst_init();
        signal
    }

    /// Counts a waiter that never sleeps, so that notifiers keep its signal's flag raised
    /// (unit tests of the flag's arithmetic).
    #[cfg(test)]
    pub(crate) fn count_phantom_waiter(&self) {
        self.sleeping.fetch_add(1, SeqCst);
    }

    /// Wakes up to `n` more waiters, if any is counted. Call it after the operation that may
    /// have made the condition true (after its `SeqCst` claim).
    #[inline]
    pub(crate) fn notify(&self, n: usize) {
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
            self.notify_slow(n);
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

    /// Runs `attempt` until it succeeds, sleeping between tries. `flag` is the signal's flag,
    /// the one its notifiers pass to [`notify_flagged`](Self::notify_flagged).
    pub(crate) fn wait_forever<R>(&self, flag: impl Flag, attempt: impl FnMut() -> Option<R>) -> R {
        match self.wait(flag, attempt, None) {
            Some(r) => r,
            None => unreachable!("a wait without a deadline ends with a result"),
        }
    }

    /// Runs `attempt` until it succeeds, sleeping between tries; `None` once `timeout` has
    /// passed (after one last try).
    pub(crate) fn wait_for<R>(
        &self,
        flag: impl Flag,
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
        flag: impl Flag,
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
        flag: impl Flag,
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
