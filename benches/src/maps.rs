//! The `hashmap` group's contenders, shared by its criterion bench and the `map_mix` probe:
//! the conc-map-bench mixes on u64 keys drawn from 2^18 by a per-thread xorshift, std
//! `RandomState` for every map. Ours pins once per chunk of operations, as papaya does; every
//! contender's get copies the value out (the guard-style maps would otherwise only compare the
//! key).

use std::collections::hash_map::RandomState;
use std::hint::black_box;
use std::sync::{Mutex, RwLock};

/// Keys are drawn from `0..KEYS`.
pub const KEYS: u64 = 1 << 18;

/// A contender: one impl per map.
pub trait Map: Sync {
    /// The contender's name in reports.
    const NAME: &'static str;
    /// An empty map.
    fn new() -> Self;
    /// Runs `n` operations with the mix `(get, insert, remove)` percentages (rest: update).
    fn run(&self, n: u64, rng: &mut u64, mix: (u64, u64, u64));
    /// Inserts `k -> k` (prefill).
    fn put(&self, k: u64);
}

/// One step of the per-thread xorshift generator.
pub fn xorshift(s: &mut u64) -> u64 {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    *s
}

/// The operation to run next: 0 get, 1 insert, 2 remove, 3 update; and the key.
#[inline]
pub fn pick(rng: &mut u64, mix: (u64, u64, u64)) -> (u8, u64) {
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

/// A contender with papaya's guard-style API (`pin`, then `get`/`insert`/`remove`/`update` on
/// the pinned reference), which ours mirrors.
macro_rules! guard_style {
    ($(#[$doc:meta])* $name:ident($map:ty), $label:literal) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name(pub $map);
        impl Map for $name {
            const NAME: &'static str = $label;
            fn new() -> Self {
                Self(<$map>::with_hasher(RandomState::new()))
            }
            fn put(&self, k: u64) {
                self.0.pin().insert(k, k);
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
    };
}

guard_style!(
    /// Contender: freeway_hashmap::HashMap (ours).
    Freeway(freeway_hashmap::HashMap<u64, u64>),
    "freeway HashMap"
);
guard_style!(
    /// Contender: papaya::HashMap.
    Papaya(papaya::HashMap<u64, u64>),
    "papaya"
);

/// Contender: freeway_hashmap::AtomicMap (ours; no guard in its API, so it pins inside every
/// operation).
#[derive(Debug)]
pub struct FreewayAtomic(pub freeway_hashmap::AtomicMap<u64, u64>);
impl Map for FreewayAtomic {
    const NAME: &'static str = "freeway AtomicMap";
    fn new() -> Self {
        Self(freeway_hashmap::AtomicMap::with_hasher(RandomState::new()))
    }
    fn put(&self, k: u64) {
        self.0.insert(k, k);
    }
    fn run(&self, n: u64, rng: &mut u64, mix: (u64, u64, u64)) {
        for _ in 0..n {
            match pick(rng, mix) {
                (0, k) => {
                    black_box(self.0.get(k));
                }
                (1, k) => {
                    black_box(self.0.insert(k, k));
                }
                (2, k) => {
                    black_box(self.0.remove(k));
                }
                (_, k) => {
                    black_box(self.0.update(k, |v| v + 1));
                }
            }
        }
    }
}

/// Contender: dashmap::DashMap.
#[derive(Debug)]
pub struct Dash(pub dashmap::DashMap<u64, u64, RandomState>);
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

/// Contender: scc::HashMap.
#[derive(Debug)]
pub struct Scc(pub scc::HashMap<u64, u64, RandomState>);
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

/// Contender: `RwLock<std::collections::HashMap>` (the baseline).
#[derive(Debug)]
pub struct RwStd(pub RwLock<std::collections::HashMap<u64, u64>>);
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

/// Contender: `Mutex<std::collections::HashMap>`.
#[derive(Debug)]
pub struct MutexStd(pub Mutex<std::collections::HashMap<u64, u64>>);
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

/// A new map, holding 75% of the key space (in a fixed pseudo-random order) if `prefill`.
pub fn prefilled<M: Map>(prefill: bool) -> M {
    let m = M::new();
    if prefill {
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
