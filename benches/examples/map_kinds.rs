//! Single-thread cost of each kind of `AtomicMap` operation against dashmap's, by the state of
//! the key: present, removed (inserted once, then removed) and never inserted. The probe behind
//! "where it loses" in docs/hashmap.md: it splits the exchange mix, where half the keys are
//! removed at any time, into the operations that make it up.
//!
//! Both maps are made with room for 2^18 keys and hold keys `0..2^18`, of which the odd ones are
//! then removed; keys from `2^18..2^19` are never inserted. Each row runs 400 000 operations on
//! random keys of one kind, the two maps alternating round by round (`ROUNDS` rounds, 5 by
//! default); each cell is the median nanoseconds per operation with min..max. `AtomicMap` pins
//! in every operation, as through its own methods; std `RandomState` for both.
//!
//! ```text
//! cargo run --release -p freeway-benches --example map_kinds [-- ROUNDS]
//! ```

use freeway_benches::maps::xorshift;
use freeway_benches::summary;
use std::hash::RandomState;
use std::hint::black_box;
use std::time::Instant;

/// Keys `0..KEYS` are inserted, the odd ones removed again.
const KEYS: u64 = 1 << 18;
/// Operations per row and round.
const OPS: usize = 400_000;

/// Nanoseconds per call of `op` over `keys`.
fn per_op(keys: &[u64], mut op: impl FnMut(u64)) -> f64 {
    let t = Instant::now();
    for &k in keys {
        op(k);
    }
    t.elapsed().as_nanos() as f64 / keys.len() as f64
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let am = freeway_hashmap::AtomicMap::<u64, u64>::with_capacity_and_hasher(
        KEYS as usize,
        RandomState::new(),
    );
    let dm = dashmap::DashMap::<u64, u64, RandomState>::with_capacity_and_hasher(
        KEYS as usize,
        RandomState::new(),
    );
    for k in 0..KEYS {
        am.insert(k, k);
        dm.insert(k, k);
    }
    for k in (1..KEYS).step_by(2) {
        am.remove(k);
        dm.remove(&k);
    }
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    let mut draw =
        |f: &dyn Fn(u64) -> u64| -> Vec<u64> { (0..OPS).map(|_| f(xorshift(&mut rng))).collect() };
    let present = draw(&|r| r % (KEYS / 2) * 2);
    let removed = draw(&|r| r % (KEYS / 2) * 2 + 1);
    let never = draw(&|r| KEYS + r % KEYS);

    println!("| operation, key | AtomicMap ns | dashmap ns | ratio |");
    println!("|---|---:|---:|---:|");
    let (am, dm) = (&am, &dm);
    // Writes leave every key in the state it had: an insert of a present key replaces its value,
    // an update of a removed key and a remove of a removed key change nothing.
    let row = |name: &str, keys: &[u64], ours: &dyn Fn(u64), theirs: &dyn Fn(u64)| {
        let (mut a, mut d) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            a.push(per_op(keys, ours));
            d.push(per_op(keys, theirs));
        }
        let (am_med, am_lo, am_hi) = summary(&mut a);
        let (dm_med, dm_lo, dm_hi) = summary(&mut d);
        println!(
            "| {name} | {am_med:.1} ({am_lo:.1}..{am_hi:.1}) | {dm_med:.1} ({dm_lo:.1}..{dm_hi:.1}) \
             | {:.2} |",
            am_med / dm_med
        );
    };
    let am_get = |k| {
        black_box(am.get(k));
    };
    let dm_get = |k| {
        black_box(dm.get(&k).map(|v| *v));
    };
    let am_update = |k| {
        black_box(am.update(k, |v| v.wrapping_add(1)));
    };
    let dm_update = |k| {
        black_box(dm.get_mut(&k).map(|mut v| *v = v.wrapping_add(1)));
    };
    let am_insert = |k| {
        black_box(am.insert(k, k));
    };
    let dm_insert = |k| {
        black_box(dm.insert(k, k));
    };
    let am_remove = |k| {
        black_box(am.remove(k));
    };
    let dm_remove = |k| {
        black_box(dm.remove(&k));
    };
    row("get, present", &present, &am_get, &dm_get);
    row("get, removed", &removed, &am_get, &dm_get);
    row("get, never inserted", &never, &am_get, &dm_get);
    row("insert, present", &present, &am_insert, &dm_insert);
    row("update, present", &present, &am_update, &dm_update);
    row("update, removed", &removed, &am_update, &dm_update);
    row("remove, removed", &removed, &am_remove, &dm_remove);
}
