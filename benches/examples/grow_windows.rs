//! Where the one-thread rapid-grow time goes: the 5/80/5/10 mix on a fresh `AtomicMap` and a
//! fresh dashmap (both from `new()`, std `RandomState`, keys drawn from 2^18), timed in
//! consecutive windows of 2^17 operations, the two maps alternated round by round. Each window's
//! figure is the median over the rounds, in ns per operation, with dashmap's time over ours (above
//! 1: ours faster). The first windows are the growth to 2^18 keys (resizes, fresh pages), the
//! later ones the steady state, where 80% inserts replace present keys.
//!
//! ```text
//! cargo run --release -p freeway-benches --example grow_windows -- [ROUNDS]
//! ```

use freeway_benches::maps::{Dash, FreewayAtomic, Map};
use freeway_benches::median;
use std::hash::RandomState;
use std::time::Instant;

/// Operations per window.
const WINDOW: u64 = 1 << 17;
/// Windows per round: about as many operations as one thread runs in a `map_table` trial.
const WINDOWS: usize = 24;

/// ns per operation in each window of one round on `m`.
fn round(m: &impl Map) -> Vec<f64> {
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    (0..WINDOWS)
        .map(|_| {
            let t = Instant::now();
            m.run(WINDOW, &mut rng, (5, 80, 5));
            t.elapsed().as_nanos() as f64 / WINDOW as f64
        })
        .collect()
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
    let mut ours = vec![Vec::new(); WINDOWS];
    let mut dash = vec![Vec::new(); WINDOWS];
    for _ in 0..rounds {
        let a = round(&FreewayAtomic(freeway_hashmap::AtomicMap::with_hasher(
            RandomState::new(),
        )));
        let d = round(&Dash(dashmap::DashMap::with_hasher(RandomState::new())));
        for w in 0..WINDOWS {
            ours[w].push(a[w]);
            dash[w].push(d[w]);
        }
    }
    println!("| operations | AtomicMap ns/op | dashmap ns/op | dashmap ÷ AtomicMap |");
    println!("|---:|---:|---:|---:|");
    let (mut sum_a, mut sum_d) = (0.0, 0.0);
    for (w, (a, d)) in ours.into_iter().zip(dash).enumerate() {
        let (a, d) = (median(a), median(d));
        sum_a += a;
        sum_d += d;
        println!(
            "| {} | {a:.1} | {d:.1} | {:.2} |",
            (w as u64 + 1) * WINDOW,
            d / a
        );
    }
    println!("\nall windows: dashmap ÷ AtomicMap {:.2}", sum_d / sum_a);
}
