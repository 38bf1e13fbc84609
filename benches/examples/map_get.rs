//! Single-thread `get` latency by map size, freeway's `HashMap` and `AtomicMap` against papaya:
//! the probe behind the tag-word (SWAR) and tag-array changes in docs/hashmap.md. Keys `0..n`,
//! lookups of random present keys (hits) and of absent keys `n..2n` (misses), the guard-style
//! maps under one pin, std `RandomState`. The contenders alternate round by round (11 rounds of
//! 2 M lookups per size); each cell is the median with min..max, and the last column the ratio
//! of the medians, freeway `HashMap` ÷ papaya.
//!
//! ```text
//! cargo run --release -p freeway-benches --example map_get [-- ROUNDS]
//! ```

use freeway_benches::maps::xorshift;
use freeway_benches::summary;
use std::collections::hash_map::RandomState;
use std::hint::black_box;
use std::time::Instant;

const LOOKUPS: u32 = 2_000_000;

/// Nanoseconds per lookup of `get` over random keys `lo..lo + n`.
fn per_get(n: u64, lo: u64, mut get: impl FnMut(u64) -> Option<u64>) -> f64 {
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let t = Instant::now();
    for _ in 0..LOOKUPS {
        black_box(get(lo + xorshift(&mut rng) % n));
    }
    t.elapsed().as_nanos() as f64 / f64::from(LOOKUPS)
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .map_or(11, |s| s.parse().expect("ROUNDS"));
    println!("| keys | lookup | freeway HashMap | freeway AtomicMap | papaya | HashMap ÷ papaya |");
    println!("|---:|---|---:|---:|---:|---:|");
    for n in [1u64 << 10, 1 << 14, 1 << 18] {
        let ours = freeway_hashmap::HashMap::with_hasher(RandomState::new());
        let atomic = freeway_hashmap::AtomicMap::with_hasher(RandomState::new());
        let peer = papaya::HashMap::with_hasher(RandomState::new());
        for k in 0..n {
            ours.pin().insert(k, k);
            atomic.insert(k, k);
            peer.pin().insert(k, k);
        }
        for (what, lo) in [("hit", 0), ("miss", n)] {
            let mut t = [Vec::new(), Vec::new(), Vec::new()];
            for _ in 0..rounds {
                let m = ours.pin();
                t[0].push(per_get(n, lo, |k| m.get(&k).copied()));
                drop(m);
                t[1].push(per_get(n, lo, |k| atomic.get(k)));
                let m = peer.pin();
                t[2].push(per_get(n, lo, |k| m.get(&k).copied()));
            }
            let s: Vec<(f64, f64, f64)> = t.iter_mut().map(|v| summary(v)).collect();
            print!("| {n} | {what} |");
            for (m, lo, hi) in &s {
                print!(" {m:.1} ({lo:.0}..{hi:.0}) |");
            }
            println!(" {:.2}x |", s[0].0 / s[2].0);
        }
    }
}
