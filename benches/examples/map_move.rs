//! What a resize costs per moved key, one thread: `AtomicMap` doubling its table (`reserve`
//! with a table at 5/8 load, the point where it grows) against the std `HashMap` (hashbrown,
//! dashmap's shard table) doubling at its own full load. Both from tables just filled with the
//! same keys, std `RandomState`; each round times the one resize and counts the page faults it
//! took (`/proc/self/stat`, Linux only), the two maps alternating round by round. Medians of
//! `ROUNDS` rounds (9 by default) with min..max.
//!
//! ```text
//! cargo run --release -p freeway-benches --example map_move [-- ROUNDS]
//! ```
//!
//! The probe behind "Growth from empty" in docs/hashmap.md: a move in the lock-free map is three
//! locked compare-exchanges (the tag reservation and the slot in the new table, the MOVED mark
//! in the old), where hashbrown's resize, under its owner's lock, copies with plain stores.
//!
//! Page faults depend on where the allocator finds the new table: fresh pages from the kernel
//! (the first rounds: about 14 faults per 1000 keys for either map, at about 2 µs each on the
//! 2-core guest) or memory an earlier round freed (none). `-- 1` shows the first case.

use freeway_benches::{median, summary};
use std::hash::RandomState;
use std::time::Instant;

/// Slots of `AtomicMap`'s table before the resize.
const SLOTS: usize = 1 << 18;

/// Minor page faults of this process so far (0 where `/proc` is not there to ask).
fn minor_faults() -> u64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // The fields after the command name, which is in parentheses: minflt is the 10th
            // field of the line, the 8th after the name.
            let rest = &s[s.rfind(')')? + 2..];
            rest.split_whitespace().nth(7)?.parse().ok()
        })
        .unwrap_or(0)
}

/// Nanoseconds and page faults per key of `resize`, which moves `keys` keys.
fn timed(keys: usize, resize: impl FnOnce()) -> (f64, f64) {
    let f = minor_faults();
    let t = Instant::now();
    resize();
    let ns = t.elapsed().as_nanos() as f64 / keys as f64;
    (ns, (minor_faults() - f) as f64 / keys as f64)
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(9);
    // Just below the 5/8 load at which a long chain doubles the table.
    let keys = SLOTS * 5 / 8 - SLOTS / 64;
    let key = |i: usize| (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let (mut ours, mut ours_pf, mut std, mut std_pf) = (vec![], vec![], vec![], vec![]);
    for _ in 0..rounds {
        let m = freeway_hashmap::AtomicMap::<u64, u64>::with_capacity_and_hasher(
            SLOTS / 2,
            RandomState::new(),
        );
        for i in 0..keys {
            m.insert(key(i), i as u64);
        }
        let before = m.capacity();
        let (ns, pf) = timed(keys, || m.reserve(1));
        assert_eq!(m.capacity(), 2 * before, "the resize doubles the table");
        ours.push(ns);
        ours_pf.push(pf);
        drop(m);

        let mut s = std::collections::HashMap::with_capacity_and_hasher(keys, RandomState::new());
        for i in 0..keys {
            s.insert(key(i), i as u64);
        }
        let before = s.capacity();
        let more = before - s.len() + 1;
        let (ns, pf) = timed(keys, || s.reserve(more));
        assert!(s.capacity() > before, "the reserve resizes");
        std.push(ns);
        std_pf.push(pf);
    }
    let cell = |v: &mut Vec<f64>| {
        let (m, lo, hi) = summary(v);
        format!("{m:.1} ({lo:.1}..{hi:.1})")
    };
    println!("| map | ns per moved key | page faults per 1000 moved keys |");
    println!("|---|---:|---:|");
    let per_k = |v: &mut Vec<f64>| format!("{:.1}", median(std::mem::take(v)) * 1000.0);
    println!(
        "| freeway AtomicMap | {} | {} |",
        cell(&mut ours),
        per_k(&mut ours_pf)
    );
    println!(
        "| std HashMap (hashbrown) | {} | {} |",
        cell(&mut std),
        per_k(&mut std_pf)
    );
}
