//! Single-thread cost of `Queue`: `N` push+pop pairs (argument 1, default 1 000 000) on one
//! thread, for instruction counts under `valgrind --tool=callgrind`, e.g.
//! `cargo build --release -p freeway-queue --example pairs` then
//! `valgrind --tool=callgrind target/release/examples/pairs 1000000`.

use freeway_queue::Queue;
use std::hint::black_box;

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let q = Queue::new();
    let mut sum = 0u64;
    for i in 0..n {
        q.push(black_box(i));
        sum = sum.wrapping_add(black_box(q.pop()).unwrap_or(0));
    }
    println!("{sum}");
}
