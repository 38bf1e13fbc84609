//! A fixed number of `get`s of present keys, one thread, on a map holding keys `0..2^18`
//! (inserted from `new()`, std `RandomState`): the loop whose instruction and cache-miss counts
//! docs/hashmap.md quotes. Run it under valgrind twice and take the difference, which leaves
//! out the set-up:
//!
//! ```text
//! cargo build --release -p freeway-benches --example map_instructions
//! for n in 1000000 2000000; do
//!   valgrind --tool=callgrind --cache-sim=yes --callgrind-out-file=cg.$n \
//!     target/release/examples/map_instructions hashmap $n
//! done
//! # per get: (total of cg.2000000 - total of cg.1000000) / 1000000, for each event
//! ```
//!
//! Maps: `hashmap` (freeway `HashMap`, through one pinned handle), `papaya` (likewise),
//! `atomic` (freeway `AtomicMap`, which pins inside every call), `dashmap`. With
//! `atomic-exchange` or `dashmap-exchange` the loop runs the exchange mix instead (10% get, 40%
//! insert, 40% remove, 10% update, on a map made with room for 2^18 keys and 3/4 prefilled, as
//! `map_table` does; the loop is the criterion contenders' own, `freeway_benches::maps::Map::run`),
//! and the count is of operations.

use freeway_benches::maps::{Dash, FreewayAtomic, KEYS, Map, xorshift};
use std::hash::RandomState;
use std::hint::black_box;

/// `gets` lookups of random present keys through `get`; how many were found.
fn run(gets: u64, get: impl Fn(u64) -> bool) -> u64 {
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    (0..gets)
        .map(|_| u64::from(get(xorshift(&mut rng) % KEYS)))
        .sum()
}

/// `ops` operations of the exchange mix on `m` (the bench contenders' own loop, `Map::run`),
/// after putting the first 3/4 of the keys in.
fn exchange(m: impl Map, ops: u64) {
    for k in 0..KEYS * 3 / 4 {
        m.put(k);
    }
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    m.run(ops, &mut rng, (10, 40, 40));
}

/// `gets` lookups through map `kind` holding keys `0..KEYS`; how many were found.
fn lookups(kind: &str, gets: u64) -> u64 {
    match kind {
        "hashmap" => {
            let m = freeway_hashmap::HashMap::with_hasher(RandomState::new());
            let g = m.pin();
            for k in 0..KEYS {
                let _ = g.insert(k, k);
            }
            run(gets, |k| black_box(g.get(&k).copied()).is_some())
        }
        "papaya" => {
            let m = papaya::HashMap::with_hasher(RandomState::new());
            let g = m.pin();
            for k in 0..KEYS {
                let _ = g.insert(k, k);
            }
            run(gets, |k| black_box(g.get(&k).copied()).is_some())
        }
        "atomic" => {
            let m = freeway_hashmap::AtomicMap::with_hasher(RandomState::new());
            for k in 0..KEYS {
                let _ = m.insert(k, k);
            }
            run(gets, |k| black_box(m.get(k)).is_some())
        }
        "dashmap" => {
            let m = dashmap::DashMap::with_hasher(RandomState::new());
            for k in 0..KEYS {
                let _ = m.insert(k, k);
            }
            run(gets, |k| black_box(m.get(&k).map(|v| *v)).is_some())
        }
        other => {
            eprintln!("unknown map {other:?}");
            std::process::exit(2);
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(kind), Some(n)) = (args.next(), args.next().and_then(|s| s.parse().ok())) else {
        eprintln!(
            "usage: map_instructions hashmap|papaya|atomic|dashmap|atomic-exchange|dashmap-exchange N"
        );
        std::process::exit(2);
    };
    let room = KEYS as usize;
    match kind.as_str() {
        "atomic-exchange" => exchange(
            FreewayAtomic(freeway_hashmap::AtomicMap::with_capacity_and_hasher(
                room,
                RandomState::new(),
            )),
            n,
        ),
        "dashmap-exchange" => exchange(
            Dash(dashmap::DashMap::with_capacity_and_hasher(
                room,
                RandomState::new(),
            )),
            n,
        ),
        _ => assert_eq!(lookups(&kind, n), n, "every key looked up is present"),
    }
}
