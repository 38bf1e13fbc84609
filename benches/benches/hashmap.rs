//! Concurrent map mixes after conc-map-bench: read-heavy (98% get, 1% insert, 1% remove),
//! exchange (10/40/40/10 get/insert/remove/update) and rapid-grow (5/80/5/10 from empty), on u64
//! keys drawn from 2^18 by a per-thread xorshift, 75% prefill (not for rapid-grow), std
//! `RandomState` for every contender. Ours pins once per chunk of operations, as papaya does.
//! Every contender's get copies the value out (the guard-style maps would otherwise only
//! compare the key).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use freeway_benches::{run_threads, thread_counts};
use std::collections::hash_map::RandomState;
use std::hint::black_box;
use std::sync::{Mutex, RwLock};

const KEYS: u64 = 1 << 18;

/// A contender: one impl per map.
trait Map: Sync {
    const NAME: &'static str;
    fn new() -> Self;
    /// Runs `n` operations with the mix `(get, insert, remove)` percentages (rest: update).
    fn run(&self, n: u64, rng: &mut u64, mix: (u64, u64, u64));
    /// Inserts `k -> k` (prefill).
    fn put(&self, k: u64);
}

fn xorshift(s: &mut u64) -> u64 {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    *s
}

/// The operation to run next: 0 get, 1 insert, 2 remove, 3 update; and the key.
#[inline]
fn pick(rng: &mut u64, mix: (u64, u64, u64)) -> (u8, u64) {
    let r = xorshift(rng);
    let k = r % KEYS;
    let p = (r >> 40) % 100;
    let op = if p < mix.0 {
        0
    } else if p < mix.0 + mix.1 {
        1
    } else if p < mix.0 + mix.1 + mix.2 {
        2
    } else {
        3
    };
    (op, k)
}

struct Freeway(freeway_hashmap::HashMap<u64, u64>);
impl Map for Freeway {
    fn put(&self, k: u64) {
        self.0.pin().insert(k, k);
    }
    const NAME: &'static str = "freeway HashMap";
    fn new() -> Self {
        Self(freeway_hashmap::HashMap::with_hasher(RandomState::new()))
    }
    fn run(&self, n: u64, rng: &mut u64, mix: (u64, u64, u64)) {
        let m = self.0.pin();
        for _ in 0..n {
            match pick(rng, mix) {
                (0, k) => {
                    black_box(m.get(&k).copied());
                }
                (1, k) => {
                    black_box(m.insert(k, k));
                }
                (2, k) => {
                    black_box(m.remove(&k));
                }
                (_, k) => {
                    black_box(m.update(k, |v| v + 1));
                }
            }
        }
    }
}

struct Papaya(papaya::HashMap<u64, u64>);
impl Map for Papaya {
    fn put(&self, k: u64) {
        self.0.pin().insert(k, k);
    }
    const NAME: &'static str = "papaya";
    fn new() -> Self {
        Self(papaya::HashMap::with_hasher(RandomState::new()))
    }
    fn run(&self, n: u64, rng: &mut u64, mix: (u64, u64, u64)) {
        let m = self.0.pin();
        for _ in 0..n {
            match pick(rng, mix) {
                (0, k) => {
                    black_box(m.get(&k).copied());
                }
                (1, k) => {
                    black_box(m.insert(k, k));
                }
                (2, k) => {
                    black_box(m.remove(&k));
                }
                (_, k) => {
                    black_box(m.update(k, |v| v + 1));
                }
            }
        }
    }
}

struct Dash(dashmap::DashMap<u64, u64, RandomState>);
impl Map for Dash {
    fn put(&self, k: u64) {
        self.0.insert(k, k);
    }
    const NAME: &'static str = "dashmap";
    fn new() -> Self {
        Self(dashmap::DashMap::with_hasher(RandomState::new()))
    }
    fn run(&self, n: u64, rng: &mut u64, mix: (u64, u64, u64)) {
        for _ in 0..n {
            match pick(rng, mix) {
                (0, k) => {
                    black_box(self.0.get(&k).map(|v| *v));
                }
                (1, k) => {
                    black_box(self.0.insert(k, k));
                }
                (2, k) => {
                    black_box(self.0.remove(&k));
                }
                (_, k) => {
                    if let Some(mut v) = self.0.get_mut(&k) {
                        *v += 1;
                    }
                }
            }
        }
    }
}

struct Scc(scc::HashMap<u64, u64, RandomState>);
impl Map for Scc {
    fn put(&self, k: u64) {
        let _ = self.0.upsert_sync(k, k);
    }
    const NAME: &'static str = "scc::HashMap";
    fn new() -> Self {
        Self(scc::HashMap::with_hasher(RandomState::new()))
    }
    fn run(&self, n: u64, rng: &mut u64, mix: (u64, u64, u64)) {
        for _ in 0..n {
            match pick(rng, mix) {
                (0, k) => {
                    black_box(self.0.read_sync(&k, |_, v| *v));
                }
                (1, k) => {
                    black_box(self.0.upsert_sync(k, k));
                }
                (2, k) => {
                    black_box(self.0.remove_sync(&k));
                }
                (_, k) => {
                    black_box(self.0.update_sync(&k, |_, v| *v += 1));
                }
            }
        }
    }
}

struct RwStd(RwLock<std::collections::HashMap<u64, u64>>);
impl Map for RwStd {
    fn put(&self, k: u64) {
        self.0.write().unwrap().insert(k, k);
    }
    const NAME: &'static str = "RwLock<HashMap>";
    fn new() -> Self {
        Self(RwLock::new(std::collections::HashMap::new()))
    }
    fn run(&self, n: u64, rng: &mut u64, mix: (u64, u64, u64)) {
        for _ in 0..n {
            match pick(rng, mix) {
                (0, k) => {
                    black_box(self.0.read().unwrap().get(&k).copied());
                }
                (1, k) => {
                    black_box(self.0.write().unwrap().insert(k, k));
                }
                (2, k) => {
                    black_box(self.0.write().unwrap().remove(&k));
                }
                (_, k) => {
                    if let Some(v) = self.0.write().unwrap().get_mut(&k) {
                        *v += 1;
                    }
                }
            }
        }
    }
}

struct MutexStd(Mutex<std::collections::HashMap<u64, u64>>);
impl Map for MutexStd {
    fn put(&self, k: u64) {
        self.0.lock().unwrap().insert(k, k);
    }
    const NAME: &'static str = "Mutex<HashMap>";
    fn new() -> Self {
        Self(Mutex::new(std::collections::HashMap::new()))
    }
    fn run(&self, n: u64, rng: &mut u64, mix: (u64, u64, u64)) {
        for _ in 0..n {
            match pick(rng, mix) {
                (0, k) => {
                    black_box(self.0.lock().unwrap().get(&k).copied());
                }
                (1, k) => {
                    black_box(self.0.lock().unwrap().insert(k, k));
                }
                (2, k) => {
                    black_box(self.0.lock().unwrap().remove(&k));
                }
                (_, k) => {
                    if let Some(v) = self.0.lock().unwrap().get_mut(&k) {
                        *v += 1;
                    }
                }
            }
        }
    }
}

fn prefilled<M: Map>(prefill: bool) -> M {
    let m = M::new();
    if prefill {
        // 75% of the key space, in a fixed pseudo-random order.
        let mut rng = 0x1234_5678_9abc_def1u64;
        let mut seen = vec![false; KEYS as usize];
        let mut n = 0;
        while n < KEYS * 3 / 4 {
            let k = xorshift(&mut rng) % KEYS;
            if !std::mem::replace(&mut seen[k as usize], true) {
                m.put(k);
                n += 1;
            }
        }
    }
    m
}

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
