//! Single-thread `get` latency by map size, freeway against papaya: the probe behind the
//! tag-word (SWAR) and tag-array changes in docs/hashmap.md. Keys `0..n`, lookups of random
//! present keys (hits) and of absent keys `n..2n` (misses) under one pin, std `RandomState`;
//! three rounds per size, each printed.
//!
//! ```text
//! cargo run --release -p freeway-benches --example map_get
//! ```

use freeway_benches::maps::xorshift;
use std::collections::hash_map::RandomState;
use std::hint::black_box;
use std::time::Instant;

const LOOKUPS: u32 = 4_000_000;

/// Nanoseconds per lookup of `get` over random keys below `n`.
fn per_get(n: u64, mut get: impl FnMut(u64) -> Option<u64>) -> f64 {
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let t = Instant::now();
    for _ in 0..LOOKUPS {
        black_box(get(xorshift(&mut rng) % n));
    }
    t.elapsed().as_nanos() as f64 / f64::from(LOOKUPS)
}

fn main() {
    for n in [1u64 << 10, 1 << 14, 1 << 18] {
        let ours = freeway_hashmap::HashMap::with_hasher(RandomState::new());
        let peer = papaya::HashMap::with_hasher(RandomState::new());
        for k in 0..n {
            ours.pin().insert(k, k);
            peer.pin().insert(k, k);
        }
        for _ in 0..3 {
            let m = ours.pin();
            let a = per_get(n, |k| m.get(&k).copied());
            let a2 = per_get(n, |k| m.get(&(k + n)).copied());
            drop(m);
            let m = peer.pin();
            let b = per_get(n, |k| m.get(&k).copied());
            let b2 = per_get(n, |k| m.get(&(k + n)).copied());
            println!(
                "{n} keys: freeway {a:.1} ns/hit {a2:.1} ns/miss, papaya {b:.1} ns/hit {b2:.1} ns/miss"
            );
        }
    }
}
