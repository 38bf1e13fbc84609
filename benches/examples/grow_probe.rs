//! The criterion `rapid-grow` point as a probe: a fresh map per round, the 5/80/5/10 mix on a
//! budget of operations shared by the threads (`run_threads`), freeway and its three peers
//! interleaved round by round, medians of 7 rounds in Mops/s; `AtomicMap` too.
//!
//! ```text
//! cargo run --release -p freeway-benches --example grow_probe -- [operations per round]
//! ```
//!
//! A small budget is mostly growth from empty; a large one is mostly the steady state at 2^18
//! keys, where 80% inserts replace present keys. That is where criterion's `rapid-grow` point and
//! `map_mix` (a fixed span, so mostly the steady state) part ways.

use freeway_benches::maps::{Dash, Freeway, FreewayAtomic, Map, Papaya, Scc};
use freeway_benches::{median, run_threads};

/// One round on a fresh map: millions of operations per second.
fn round<M: Map>(threads: usize, iters: u64) -> f64 {
    let map = M::new();
    let d = run_threads(threads, iters, |thread| {
        let mut rng = 0x9E37_79B9_7F4A_7C15u64 ^ ((thread as u64 + 1) << 32);
        let map = &map;
        move |n| map.run(n, &mut rng, (5, 80, 5))
    });
    iters as f64 / d.as_secs_f64() / 1e6
}

fn main() {
    let iters: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    for threads in [1, 2] {
        let mut r: [Vec<f64>; 5] = Default::default();
        for _ in 0..7 {
            r[0].push(round::<Freeway>(threads, iters));
            r[1].push(round::<Papaya>(threads, iters));
            r[2].push(round::<Scc>(threads, iters));
            r[3].push(round::<Dash>(threads, iters));
            r[4].push(round::<FreewayAtomic>(threads, iters));
        }
        let [a, b, c, d, e] = r.map(median);
        println!(
            "{threads} threads, {iters} operations from empty, Mops/s: freeway {a:.2} papaya {b:.2} \
             scc {c:.2} dashmap {d:.2} AtomicMap {e:.2}"
        );
    }
}
