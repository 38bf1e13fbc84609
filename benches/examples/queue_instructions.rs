//! A fixed number of `push` + `pop` pairs on one queue with 64 values queued, one thread: the
//! loop whose instruction count docs/queue.md quotes. Run it under valgrind twice and take the
//! difference, which leaves out the set-up:
//!
//! ```text
//! cargo build --release -p freeway-benches --example queue_instructions
//! for n in 1000000 2000000; do
//!   valgrind --tool=callgrind --callgrind-out-file=cg.$n \
//!     target/release/examples/queue_instructions array $n
//! done
//! # instructions per pair: (total of cg.2000000 - total of cg.1000000) / 1000000
//! ```
//!
//! Queues: `queue` (freeway `Queue`), `array` (freeway `ArrayQueue`, capacity 1024), `segqueue`
//! (crossbeam `SegQueue`), `crossbeam-array` (crossbeam `ArrayQueue`, capacity 1024), `mutex`
//! (`Mutex<VecDeque>`).

use std::hint::black_box;

/// `pairs` rounds of `push(i)` then `pop()` after 64 pushes; the sum of the values popped.
fn run(pairs: u64, push: impl Fn(u64), pop: impl Fn() -> Option<u64>) -> u64 {
    for i in 0..64 {
        push(i);
    }
    let mut sum = 0u64;
    for i in 0..pairs {
        push(black_box(i));
        sum = sum.wrapping_add(pop().expect("64 values are queued"));
    }
    sum
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(kind), Some(pairs)) = (args.next(), args.next().and_then(|s| s.parse().ok())) else {
        eprintln!("usage: queue_instructions queue|array|segqueue|crossbeam-array|mutex PAIRS");
        std::process::exit(2);
    };
    let sum = match kind.as_str() {
        "queue" => {
            let q = freeway_queue::Queue::new();
            run(pairs, |v| q.push(v), || q.pop())
        }
        "array" => {
            let q = freeway_queue::ArrayQueue::new(1024);
            run(pairs, |v| q.push(v).expect("room"), || q.pop())
        }
        "segqueue" => {
            let q = crossbeam_queue::SegQueue::new();
            run(pairs, |v| q.push(v), || q.pop())
        }
        "crossbeam-array" => {
            let q = crossbeam_queue::ArrayQueue::new(1024);
            run(pairs, |v| q.push(v).expect("room"), || q.pop())
        }
        "mutex" => {
            let q = std::sync::Mutex::new(std::collections::VecDeque::new());
            let lock = || q.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            run(pairs, |v| lock().push_back(v), || lock().pop_front())
        }
        other => {
            eprintln!("unknown queue {other:?}");
            std::process::exit(2);
        }
    };
    println!("{sum}");
}
