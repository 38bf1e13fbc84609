//! Concurrent map mixes after conc-map-bench: read-heavy (98% get, 1% insert, 1% remove),
//! exchange (10/40/40/10 get/insert/remove/update) and rapid-grow (5/80/5/10 from empty), on u64
//! keys drawn from 2^18 by a per-thread xorshift, 75% prefill (not for rapid-grow), std
//! `RandomState` for every contender. The contenders live in `freeway_benches::maps`, shared
//! with the `map_mix` probe.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use freeway_benches::maps::{
    Dash, Freeway, FreewayAtomic, Map, MutexStd, Papaya, RwStd, Scc, prefilled,
};
use freeway_benches::{run_threads, thread_counts};

fn contender<M: Map>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    threads: usize,
    mix: (u64, u64, u64),
    prefill: bool,
) {
    // Prefilled workloads share one map per contender and thread count (its size drifts little:
    // inserts and removes balance); rapid-grow takes a fresh, empty map per sample.
    let shared = prefill.then(|| prefilled::<M>(true));
    g.bench_with_input(BenchmarkId::new(M::NAME, threads), &threads, |b, &t| {
        b.iter_custom(|iters| {
            let fresh = shared.is_none().then(M::new);
            let map = shared.as_ref().or(fresh.as_ref()).expect("one of the two");
            run_threads(t, iters, |thread| {
                let mut rng = 0x9E37_79B9_7F4A_7C15u64 ^ ((thread as u64 + 1) << 32);
                move |n| map.run(n, &mut rng, mix)
            })
        })
    });
}

fn group(c: &mut Criterion, name: &str, mix: (u64, u64, u64), prefill: bool) {
    let mut g = c.benchmark_group(format!("hashmap/{name}"));
    g.throughput(Throughput::Elements(1));
    for t in thread_counts() {
        contender::<Freeway>(&mut g, t, mix, prefill);
        contender::<FreewayAtomic>(&mut g, t, mix, prefill);
        contender::<RwStd>(&mut g, t, mix, prefill);
        contender::<MutexStd>(&mut g, t, mix, prefill);
        contender::<Dash>(&mut g, t, mix, prefill);
        contender::<Papaya>(&mut g, t, mix, prefill);
        contender::<Scc>(&mut g, t, mix, prefill);
    }
    g.finish();
}

fn read_heavy(c: &mut Criterion) {
    group(c, "read-heavy", (98, 1, 1), true);
}

fn exchange(c: &mut Criterion) {
    group(c, "exchange", (10, 40, 40), true);
}

fn rapid_grow(c: &mut Criterion) {
    group(c, "rapid-grow", (5, 80, 5), false);
}

criterion_group!(benches, read_heavy, exchange, rapid_grow);
criterion_main!(benches);
