//! The probe behind docs/queue.md's contention investigation: every thread runs
//! `push(thread id); pop()` pairs for a fixed span, all threads overlapping, and the program
//! prints the median throughput over 11 interleaved rounds together with how often a thread
//! popped its own value. 100% own values means the threads ran in alternating bursts rather
//! than interleaving operation by operation.
//!
//! ```text
//! cargo run --release -p freeway-benches --example queue_pairs -- [unbounded|bounded] [threads] [ms]
//! ```

use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// A queue under test.
trait Probe: Sync {
    fn push(&self, v: u64);
    fn pop(&self) -> Option<u64>;
}

impl Probe for freeway_queue::Queue<u64> {
    fn push(&self, v: u64) {
        freeway_queue::Queue::push(self, v);
    }
    fn pop(&self) -> Option<u64> {
        freeway_queue::Queue::pop(self)
    }
}

impl Probe for crossbeam_queue::SegQueue<u64> {
    fn push(&self, v: u64) {
        crossbeam_queue::SegQueue::push(self, v);
    }
    fn pop(&self) -> Option<u64> {
        crossbeam_queue::SegQueue::pop(self)
    }
}

impl Probe for freeway_queue::ArrayQueue<u64> {
    fn push(&self, v: u64) {
        let _ = freeway_queue::ArrayQueue::push(self, v);
    }
    fn pop(&self) -> Option<u64> {
        freeway_queue::ArrayQueue::pop(self)
    }
}

impl Probe for crossbeam_queue::ArrayQueue<u64> {
    fn push(&self, v: u64) {
        let _ = crossbeam_queue::ArrayQueue::push(self, v);
    }
    fn pop(&self) -> Option<u64> {
        crossbeam_queue::ArrayQueue::pop(self)
    }
}

/// One round: (pairs per microsecond, fraction of pops that returned the popping thread's id).
fn round(q: &impl Probe, threads: usize, span: Duration) -> (f64, f64) {
    let stop = AtomicBool::new(false);
    let pairs = AtomicU64::new(0);
    let own = AtomicU64::new(0);
    let start = Barrier::new(threads + 1);
    std::thread::scope(|s| {
        for id in 0..threads as u64 {
            let (stop, pairs, own, start) = (&stop, &pairs, &own, &start);
            s.spawn(move || {
                start.wait();
                let (mut n, mut mine) = (0u64, 0u64);
                // Relaxed: a stop flag; the scope join orders the counts.
                while !stop.load(Ordering::Relaxed) {
                    for _ in 0..64 {
                        q.push(id);
                        if q.pop() == Some(id) {
                            mine += 1;
                        }
                    }
                    n += 64;
                }
                pairs.fetch_add(n, Ordering::Relaxed);
                own.fetch_add(mine, Ordering::Relaxed);
            });
        }
        start.wait();
        std::thread::sleep(span);
        stop.store(true, Ordering::Relaxed);
    });
    let (n, mine) = (pairs.into_inner(), own.into_inner());
    (
        n as f64 / span.as_micros() as f64,
        mine as f64 / n.max(1) as f64,
    )
}

fn median(mut v: Vec<(f64, f64)>) -> (f64, f64) {
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let kind = args.get(1).map_or("unbounded", String::as_str);
    let threads: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2);
    let span = Duration::from_millis(args.get(3).and_then(|s| s.parse().ok()).unwrap_or(200));
    let (mut ours, mut peer) = (Vec::new(), Vec::new());
    for _ in 0..11 {
        if kind == "bounded" {
            ours.push(round(&freeway_queue::ArrayQueue::new(1024), threads, span));
            peer.push(round(
                &crossbeam_queue::ArrayQueue::new(1024),
                threads,
                span,
            ));
        } else {
            ours.push(round(&freeway_queue::Queue::new(), threads, span));
            peer.push(round(&crossbeam_queue::SegQueue::new(), threads, span));
        }
    }
    let ((a, a_own), (b, b_own)) = (median(ours), median(peer));
    println!(
        "{kind}, {threads} threads, median of 11: freeway {a:.1} Mpairs/s ({:.1}% own values), crossbeam {b:.1} Mpairs/s ({:.1}% own), ratio {:.2}",
        a_own * 100.0,
        b_own * 100.0,
        a / b
    );
}
