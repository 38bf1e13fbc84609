//! A worker pool fed by a `Queue`: async workers (each on its own thread here, driven by
//! futures-lite's `block_on`; any executor does) sleep in `pop_async` until a job arrives, and
//! shut down cleanly when each receives a stop message after the last job.
//!
//! ```text
//! cargo run -p freeway-queue --features wait --example worker_pool
//! ```

use freeway_queue::Queue;
use std::sync::atomic::{AtomicU64, Ordering};

enum Job {
    /// Square this number and add it to the total.
    Square(u64),
    /// No more jobs for the worker that takes this.
    Stop,
}

async fn worker(jobs: &Queue<Job>, total: &AtomicU64) -> u64 {
    let mut done = 0;
    loop {
        match jobs.pop_async().await {
            Job::Square(n) => {
                // Relaxed: a sum read after the workers are joined.
                total.fetch_add(n * n, Ordering::Relaxed);
                done += 1;
            }
            Job::Stop => return done,
        }
    }
}

fn main() {
    const WORKERS: usize = 4;
    const JOBS: u64 = 10_000;
    let jobs = Queue::new();
    let total = AtomicU64::new(0);
    let per_worker: Vec<u64> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..WORKERS)
            .map(|_| s.spawn(|| futures_lite::future::block_on(worker(&jobs, &total))))
            .collect();
        // Jobs arrive in bursts, with pauses in which the workers go to sleep.
        for burst in 0..10 {
            jobs.push_batch((burst * JOBS / 10..(burst + 1) * JOBS / 10).map(Job::Square));
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        // One stop message per worker, after every job: FIFO order means each worker stops
        // only once the jobs before it have been taken.
        jobs.push_batch((0..WORKERS).map(|_| Job::Stop));
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let expected: u64 = (0..JOBS).map(|n| n * n).sum();
    assert_eq!(total.load(Ordering::Relaxed), expected);
    assert_eq!(per_worker.iter().sum::<u64>(), JOBS);
    assert!(jobs.is_empty());
    println!("{JOBS} jobs done by {WORKERS} workers: {per_worker:?}");
}
