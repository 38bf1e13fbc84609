//! The probe behind docs/hashmap.md's performance work: the conc-map-bench mixes of the
//! `hashmap` criterion group (u64 keys from 2^18, std `RandomState`, 75% prefill except for
//! rapid-grow), run for a fixed span per round, freeway and the three peers interleaved round by
//! round, and the median throughput of each printed with the ratio to the best peer.
//!
//! ```text
//! cargo run --release -p freeway-benches --example map_mix -- [read-heavy|exchange|rapid-grow] [threads] [ms] [rounds] [peer]
//! ```
//!
//! With `peer` (`papaya`, `scc::HashMap` or `dashmap`), only freeway and that peer run; a name
//! that matches none runs freeway alone (for `perf record`).

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use freeway_benches::maps::{Dash, Freeway, Map, Papaya, Scc, prefilled};
use freeway_benches::median;
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// One round on a fresh (prefilled) map: millions of operations per second.
fn round<M: Map>(threads: usize, span: Duration, mix: (u64, u64, u64), prefill: bool) -> f64 {
    let map = prefilled::<M>(prefill);
    let stop = AtomicBool::new(false);
    let ops = AtomicU64::new(0);
    let start = Barrier::new(threads + 1);
    std::thread::scope(|s| {
        for id in 0..threads as u64 {
            let (stop, ops, start, map) = (&stop, &ops, &start, &map);
            s.spawn(move || {
                let mut rng = 0x9E37_79B9_7F4A_7C15u64 ^ ((id + 1) << 32);
                start.wait();
                let mut n = 0u64;
                // Relaxed: a stop flag; the scope join orders the counts.
                while !stop.load(Ordering::Relaxed) {
                    map.run(256, &mut rng, mix);
                    n += 256;
                }
                ops.fetch_add(n, Ordering::Relaxed);
            });
        }
        start.wait();
        std::thread::sleep(span);
        stop.store(true, Ordering::Relaxed);
    });
    ops.into_inner() as f64 / span.as_micros() as f64
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let kind = args.get(1).map_or("exchange", String::as_str);
    let threads: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let span = Duration::from_millis(args.get(3).and_then(|s| s.parse().ok()).unwrap_or(300));
    let rounds: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(7);
    let only = args.get(5).cloned();
    let (mix, prefill) = match kind {
        "read-heavy" => ((98, 1, 1), true),
        "rapid-grow" => ((5, 80, 5), false),
        _ => ((10, 40, 40), true),
    };
    let mut res: [(&str, Vec<f64>); 4] = [
        (Freeway::NAME, Vec::new()),
        (Papaya::NAME, Vec::new()),
        (Scc::NAME, Vec::new()),
        (Dash::NAME, Vec::new()),
    ];
    let want = |n: &str| only.as_deref().is_none_or(|o| o == n || n == Freeway::NAME);
    for _ in 0..rounds {
        res[0].1.push(round::<Freeway>(threads, span, mix, prefill));
        if want(Papaya::NAME) {
            res[1].1.push(round::<Papaya>(threads, span, mix, prefill));
        }
        if want(Scc::NAME) {
            res[2].1.push(round::<Scc>(threads, span, mix, prefill));
        }
        if want(Dash::NAME) {
            res[3].1.push(round::<Dash>(threads, span, mix, prefill));
        }
    }
    let ours = median(res[0].1.clone());
    let mut best = 0.0f64;
    print!("{kind}, {threads} threads, median of {rounds} Mops/s:");
    for (name, v) in res.iter() {
        if v.is_empty() {
            continue;
        }
        let m = median(v.clone());
        if *name != Freeway::NAME {
            best = best.max(m);
        }
        print!(" {name} {m:.2}");
    }
    if best > 0.0 {
        println!(", freeway / best peer {:.2}", ours / best);
    } else {
        println!();
    }
}
