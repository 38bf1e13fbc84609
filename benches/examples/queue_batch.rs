//! `Queue` batches against single calls, duration-based: every thread loops "push 32, pop 32",
//! as one `push_batch` and `pop_batch` or as 64 single calls, for 300 ms; Mops/s (an item pushed
//! and popped is two operations), median of 7 trials with min..max, the two interleaved trial by
//! trial, at 1, 2 and 4 threads.
//!
//! ```text
//! cargo run --release -p freeway-benches --example queue_batch          # the table
//! cargo run --release -p freeway-benches --example queue_batch -- 2     # batches only, 2 threads, 3 s (for perf)
//! ```
use freeway_queue::Queue;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

const BATCH: u64 = 32;

/// Items moved per second ×2, in millions, by `threads` threads for `span`.
fn trial(threads: usize, batch: bool, span: Duration) -> f64 {
    let q = Queue::new();
    let stop = AtomicBool::new(false);
    let total: u64 = std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|_| {
                let (q, stop) = (&q, &stop);
                s.spawn(move || {
                    let mut items = 0u64;
                    let mut out = Vec::with_capacity(BATCH as usize);
                    while !stop.load(Relaxed) {
                        if batch {
                            q.push_batch(0..BATCH);
                            let mut got = 0;
                            while got < BATCH && !stop.load(Relaxed) {
                                out.clear();
                                got += q.pop_batch(&mut out, (BATCH - got) as usize) as u64;
                                std::hint::black_box(&out);
                            }
                        } else {
                            for i in 0..BATCH {
                                q.push(i);
                            }
                            let mut got = 0;
                            while got < BATCH && !stop.load(Relaxed) {
                                if let Some(v) = q.pop() {
                                    std::hint::black_box(v);
                                    got += 1;
                                }
                            }
                        }
                        items += BATCH;
                    }
                    items
                })
            })
            .collect();
        std::thread::sleep(span);
        stop.store(true, Relaxed);
        hs.into_iter().map(|h| h.join().unwrap()).sum()
    });
    2.0 * total as f64 / span.as_secs_f64() / 1e6
}

fn main() {
    if let Some(t) = std::env::args().nth(1) {
        let t: usize = t.parse().unwrap();
        println!("{:.1}", trial(t, true, Duration::from_secs(3)));
        return;
    }
    let span = Duration::from_millis(300);
    for threads in [1, 2, 4] {
        let mut single = Vec::new();
        let mut batch = Vec::new();
        for _ in 0..7 {
            single.push(trial(threads, false, span));
            batch.push(trial(threads, true, span));
        }
        single.sort_by(f64::total_cmp);
        batch.sort_by(f64::total_cmp);
        println!(
            "{threads} threads: single {:.1} ({:.0}..{:.0}), batch {:.1} ({:.0}..{:.0}), ratio {:.2}",
            single[3],
            single[0],
            single[6],
            batch[3],
            batch[0],
            batch[6],
            batch[3] / single[3]
        );
    }
}
