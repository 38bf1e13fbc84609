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
//! `map_table` does), and the count is of operations.

use freeway_benches::maps::{pick, xorshift};
use std::hash::RandomState;
use std::hint::black_box;

/// Keys in the map.
const KEYS: u64 = 1 << 18;

/// `gets` lookups of random present keys through `get`; how many were found.
fn run(gets: u64, get: impl Fn(u64) -> bool) -> u64 {
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    (0..gets)
        .map(|_| u64::from(get(xorshift(&mut rng) % KEYS)))
        .sum()
}

/// `ops` operations of the exchange mix through `op(kind, key)` (0 get, 1 insert, 2 remove, 3
/// update).
fn exchange(ops: u64, op: impl Fn(u8, u64)) {
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..ops {
        let (o, k) = pick(&mut rng, (10, 40, 40));
        op(o, k);
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(kind), Some(gets)) = (args.next(), args.next().and_then(|s| s.parse().ok())) else {
        eprintln!(
            "usage: map_instructions hashmap|papaya|atomic|dashmap|atomic-exchange|dashmap-exchange N"
        );
        std::process::exit(2);
    };
    let found = match kind.as_str() {
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
        "atomic-exchange" => {
            let m = freeway_hashmap::AtomicMap::with_capacity_and_hasher(
                KEYS as usize,
                RandomState::new(),
            );
            for k in 0..KEYS * 3 / 4 {
                let _ = m.insert(k, k);
            }
            exchange(gets, |o, k| match o {
                0 => {
                    black_box(m.get(k));
                }
                1 => {
                    black_box(m.insert(k, k));
                }
                2 => {
                    black_box(m.remove(k));
                }
                _ => {
                    black_box(m.update(k, |v| v.wrapping_add(1)));
                }
            });
            return;
        }
        "dashmap-exchange" => {
            let m = dashmap::DashMap::with_capacity_and_hasher(KEYS as usize, RandomState::new());
            for k in 0..KEYS * 3 / 4 {
                let _ = m.insert(k, k);
            }
            exchange(gets, |o, k| match o {
                0 => {
                    black_box(m.get(&k).map(|v| *v));
                }
                1 => {
                    black_box(m.insert(k, k));
                }
                2 => {
                    black_box(m.remove(&k));
                }
                _ => {
                    black_box(m.get_mut(&k).map(|mut v| *v = v.wrapping_add(1)));
                }
            });
            return;
        }
        other => {
            eprintln!("unknown map {other:?}");
            std::process::exit(2);
        }
    };
    assert_eq!(found, gets, "every key looked up is present");
}
