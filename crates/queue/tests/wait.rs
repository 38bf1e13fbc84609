//! Waiting on the queues (feature `wait`): many sleepers, timeouts, cancelled futures. Every
//! value is received exactly once, and no consumer sleeps while a value is available (a lost
//! wake-up would show as a wait that times out with values still queued).
#![cfg(all(feature = "wait", not(loom)))]

use freeway_queue::{ArrayQueue, Queue};
use futures_lite::future;
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// Longer than any honest wait in these tests: a wait this long means a lost wake-up.
const LOST: Duration = Duration::from_secs(20);

fn assert_send<F: Send>(_: &F) {}

/// Takes values from `next` until the stop value (`u64::MAX`), returning the others.
fn until_stop(mut next: impl FnMut() -> u64) -> Vec<u64> {
    let mut got = Vec::new();
    loop {
        let v = next();
        if v == u64::MAX {
            return got;
        }
        got.push(v);
    }
}

/// Ends the process if the test is still running after `LOST` times three: an async wait has no
/// timeout, and a lost wake-up must fail the run rather than hang it.
struct Watchdog(Option<std::sync::mpsc::Sender<()>>);

impl Watchdog {
    fn new(test: &'static str) -> Self {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        std::thread::spawn(move || {
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(3 * LOST) {
                eprintln!("{test}: a waiter slept through values (lost wake-up); aborting");
                std::process::abort();
            }
        });
        Self(Some(tx))
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

#[test]
fn futures_are_send_when_values_are() {
    let q = Queue::<String>::new();
    assert_send(&q.pop_async());
    let b = ArrayQueue::<String>::new(1);
    assert_send(&b.pop_async());
    assert_send(&b.push_async(String::new()));
}

/// Four sleeping consumers, two producers: every value once, every consumer stops.
#[test]
fn many_sleepers_receive_every_value_once() {
    let _watchdog = Watchdog::new("many_sleepers_receive_every_value_once");
    const PER: u64 = 20_000;
    const CONSUMERS: usize = 4;
    let q = Queue::new();
    let got: Vec<Vec<u64>> = std::thread::scope(|s| {
        let consumers: Vec<_> = (0..CONSUMERS)
            .map(|_| s.spawn(|| until_stop(|| q.pop_wait())))
            .collect();
        let producers: Vec<_> = (0..2u64)
            .map(|p| {
                let q = &q;
                s.spawn(move || {
                    for i in 0..PER {
                        if i % 3 == 0 {
                            q.push_batch([(p << 32) | i]);
                        } else {
                            q.push((p << 32) | i);
                        }
                        if i % 1000 == 0 {
                            // Let the consumers fall asleep now and then.
                            std::thread::sleep(Duration::from_micros(200));
                        }
                    }
                })
            })
            .collect();
        for p in producers {
            p.join().unwrap();
        }
        for _ in 0..CONSUMERS {
            q.push(u64::MAX);
        }
        consumers.into_iter().map(|c| c.join().unwrap()).collect()
    });
    let all: Vec<u64> = got.into_iter().flatten().collect();
    let unique: HashSet<u64> = all.iter().copied().collect();
    assert_eq!(all.len() as u64, 2 * PER, "a value was lost or duplicated");
    assert_eq!(unique.len(), all.len(), "a value was received twice");
    assert!(q.is_empty());
}

#[test]
fn timeouts_expire_and_lose_nothing() {
    let q = Queue::<u32>::new();
    let t = Instant::now();
    assert_eq!(q.pop_timeout(Duration::from_millis(30)), None);
    assert!(t.elapsed() >= Duration::from_millis(30));
    // Short timeouts racing pushes: whatever a timed-out wait did not take is still there.
    let received = std::thread::scope(|s| {
        let c = s.spawn(|| {
            let mut got = Vec::new();
            while got.len() < 2000 {
                if let Some(v) = q.pop_timeout(Duration::from_micros(50)) {
                    got.push(v);
                }
            }
            got
        });
        for i in 0..2000 {
            q.push(i);
            if i % 100 == 0 {
                std::thread::sleep(Duration::from_micros(300));
            }
        }
        c.join().unwrap()
    });
    assert_eq!(received, (0..2000).collect::<Vec<_>>());
}

/// A pending `pop_async` that is dropped takes nothing, and a wake-up it got goes to another
/// waiter instead of being lost.
#[test]
fn cancelled_futures_lose_no_value_and_pass_wake_ups_on() {
    let q = Queue::new();
    for round in 0..200u32 {
        std::thread::scope(|s| {
            let waiter = s.spawn(|| {
                let t = Instant::now();
                let v = q.pop_timeout(LOST);
                assert!(t.elapsed() < LOST, "the waiter slept through the value");
                v
            });
            let mut cancelled = Box::pin(q.pop_async());
            assert!(future::block_on(future::poll_once(cancelled.as_mut())).is_none());
            // Let the waiter fall asleep; the push may then notify the future that is about
            // to be dropped rather than the waiter.
            std::thread::sleep(Duration::from_millis(2));
            q.push(round);
            drop(cancelled);
            assert_eq!(waiter.join().unwrap(), Some(round));
        });
    }
    assert!(q.is_empty());
}

#[test]
fn async_consumers_on_threads_receive_every_value_once() {
    let _watchdog = Watchdog::new("async_consumers_on_threads_receive_every_value_once");
    let q = Queue::new();
    let got: Vec<u64> = std::thread::scope(|s| {
        let consumers: Vec<_> = (0..3)
            .map(|_| {
                s.spawn(|| {
                    let mut got = Vec::new();
                    future::block_on(async {
                        loop {
                            let v = q.pop_async().await;
                            if v == u64::MAX {
                                break;
                            }
                            got.push(v);
                        }
                    });
                    got
                })
            })
            .collect();
        for i in 0..30_000 {
            q.push(i);
        }
        for _ in 0..3 {
            q.push(u64::MAX);
        }
        consumers
            .into_iter()
            .flat_map(|c| c.join().unwrap())
            .collect()
    });
    let mut sorted = got;
    sorted.sort_unstable();
    assert_eq!(sorted, (0..30_000).collect::<Vec<_>>());
}

/// A bounded queue of 4 between two producers that sleep while it is full and two consumers
/// that sleep while it is empty, blocking and async mixed.
#[test]
fn bounded_producers_and_consumers_sleep_on_both_sides() {
    let _watchdog = Watchdog::new("bounded_producers_and_consumers_sleep_on_both_sides");
    const PER: u64 = 10_000;
    let q = ArrayQueue::new(4);
    let got: Vec<u64> = std::thread::scope(|s| {
        let consumers: Vec<_> = (0..2)
            .map(|c| {
                let q = &q;
                s.spawn(move || {
                    until_stop(|| {
                        if c == 0 {
                            q.pop_timeout(LOST)
                                .expect("a consumer slept through values")
                        } else {
                            future::block_on(q.pop_async())
                        }
                    })
                })
            })
            .collect();
        let producers: Vec<_> = (0..2u64)
            .map(|p| {
                let q = &q;
                s.spawn(move || {
                    for i in 0..PER {
                        let v = (p << 32) | i;
                        match i % 3 {
                            0 => q.push_wait(v),
                            1 => future::block_on(q.push_async(v)),
                            _ => q
                                .push_timeout(v, LOST)
                                .expect("a producer slept through room"),
                        }
                    }
                })
            })
            .collect();
        for p in producers {
            p.join().unwrap();
        }
        for _ in 0..2 {
            q.push_wait(u64::MAX);
        }
        consumers
            .into_iter()
            .flat_map(|c| c.join().unwrap())
            .collect()
    });
    let unique: HashSet<u64> = got.iter().copied().collect();
    assert_eq!(got.len() as u64, 2 * PER);
    assert_eq!(unique.len(), got.len());
}

#[test]
fn push_timeout_gives_the_value_back_and_a_dropped_push_async_keeps_it_out() {
    let q = ArrayQueue::new(1);
    q.push(1).unwrap();
    assert_eq!(q.push_timeout(2, Duration::from_millis(10)), Err(2));
    let mut pending = Box::pin(q.push_async(3));
    assert!(future::block_on(future::poll_once(pending.as_mut())).is_none());
    drop(pending);
    assert_eq!(q.pop(), Some(1));
    assert_eq!(
        q.pop(),
        None,
        "a dropped push_async must not push its value"
    );
}
