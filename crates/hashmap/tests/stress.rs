//! Threads running random map operations on a small key space, starting from a tiny table so
//! that resizes happen during the run; histories checked per key for linearizability
//! (P-compositionality) with freeway-check, for `HashMap` and for `AtomicMap` (the `atomic_*`
//! tests). Also the AddressSanitizer net for reclamation.
#![cfg(not(loom))]

#[path = "support/word_map.rs"]
mod word_map;

use freeway_check::models::{MapModel, MapOp, MapRet};
use freeway_check::models::{WordMapModel, WordMapOp};
use freeway_check::stress::{Rng, StressConfig, stress_partitioned};
use freeway_hashmap::{AtomicMap, HashMap};
use std::time::Duration;

fn exec(map: &HashMap<u64, u64>, op: &MapOp) -> MapRet {
    let g = freeway_epoch::pin();
    match *op {
        MapOp::Get(k) => MapRet::Get(map.get(&k, &g).copied()),
        MapOp::Insert(k, v) => MapRet::Insert(map.insert(k, v, &g).copied()),
        MapOp::Remove(k) => MapRet::Remove(map.remove(&k, &g).copied()),
        MapOp::Update(k, d) => MapRet::Update(map.update(k, |v| v.wrapping_add(d), &g).copied()),
        MapOp::GetOrInsert(k, v) => MapRet::GetOrInsert(*map.get_or_insert_with(k, || v, &g)),
    }
}

fn gen_op(rng: &mut Rng, keys: u64) -> MapOp {
    let k = rng.below(keys);
    let v = rng.below(1000);
    match rng.below(10) {
        0..=2 => MapOp::Get(k),
        3..=5 => MapOp::Insert(k, v),
        6 | 7 => MapOp::Remove(k),
        8 => MapOp::Update(k, v),
        _ => MapOp::GetOrInsert(k, v),
    }
}

#[test]
fn linearizable_per_key_with_resizes() {
    let cfg = StressConfig {
        threads: 3,
        ops_per_thread: 300,
        rounds: 200,
        time_limit: Duration::from_millis(1500),
        ..Default::default()
    };
    let report = stress_partitioned(
        &cfg,
        MapModel::new(),
        || HashMap::with_capacity(0),
        |rng, _| gen_op(rng, 64),
        exec,
        |op| op.key(),
    );
    if let Err(e) = report {
        panic!("{e}");
    }
}

#[test]
fn linearizable_on_few_hot_keys() {
    let cfg = StressConfig {
        threads: 4,
        ops_per_thread: 200,
        rounds: 200,
        time_limit: Duration::from_millis(800),
        ..Default::default()
    };
    let report = stress_partitioned(
        &cfg,
        MapModel::new(),
        || HashMap::with_capacity(0),
        |rng, _| gen_op(rng, 4),
        exec,
        |op| op.key(),
    );
    if let Err(e) = report {
        panic!("{e}");
    }
}

/// Many threads growing one map from empty: every insert is found afterwards, the count is
/// exact, and every value is dropped once.
#[test]
fn concurrent_growth_loses_nothing() {
    let tracker = freeway_check::drops::DropTracker::new();
    {
        let map = HashMap::with_capacity(0);
        freeway_epoch::sync::thread::scope(|s| {
            for t in 0..4u64 {
                let (map, tracker) = (&map, &tracker);
                s.spawn(move || {
                    for i in 0..5000u64 {
                        let g = freeway_epoch::pin();
                        let k = i * 4 + t;
                        map.insert(k, tracker.track(k), &g);
                        if i % 3 == 0 {
                            assert_eq!(map.remove(&k, &g).map(|v| **v), Some(k));
                        }
                    }
                });
            }
        });
        let g = freeway_epoch::pin();
        let live = (0..20_000u64).filter(|k| (k / 4) % 3 != 0).count();
        assert_eq!(map.len(), live);
        for k in 0..20_000u64 {
            assert_eq!(map.get(&k, &g).is_some(), (k / 4) % 3 != 0, "key {k}");
        }
        assert_eq!(map.iter(&g).count(), live);
    }
    tracker.reclaim_until_all_dropped();
    tracker.assert_all_dropped_once();
}

/// Readers iterate while writers resize: each key inserted before the iteration and never
/// touched again is seen exactly once.
#[test]
fn iteration_during_resize_sees_stable_keys_once() {
    let map = HashMap::with_capacity(0);
    {
        let g = freeway_epoch::pin();
        for k in 0..2000u64 {
            map.insert(k, k, &g);
        }
    }
    freeway_epoch::sync::thread::scope(|s| {
        let m = &map;
        s.spawn(move || {
            for k in 1_000_000..1_030_000u64 {
                let g = freeway_epoch::pin();
                m.insert(k, k, &g);
            }
        });
        for _ in 0..20 {
            let g = freeway_epoch::pin();
            let mut stable: Vec<u64> = m.keys(&g).copied().filter(|k| *k < 2000).collect();
            stable.sort_unstable();
            assert_eq!(stable, (0..2000).collect::<Vec<_>>());
        }
    });
}

/// Rayon's workers read entries through the caller's pin (`par_iter`) while other threads
/// replace and remove them and the table grows and rehashes: every value yielded is a live
/// box holding its key. Under AddressSanitizer (`cargo xtask asan` enables the feature), a
/// worker reading an entry that had been freed would be caught here.
#[cfg(feature = "rayon")]
#[test]
fn par_iter_reads_survive_churn_and_resizes() {
    use rayon::prelude::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    let map: HashMap<u64, Box<u64>> = (0..2_000u64).map(|k| (k, Box::new(k))).collect();
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        for seed in 1..=2u64 {
            let (map, stop) = (&map, &stop);
            s.spawn(move || {
                let mut rng = freeway_check::stress::Rng::new(seed);
                // Relaxed: a stop flag; the scope's join orders everything else.
                while !stop.load(Ordering::Relaxed) {
                    let m = map.pin();
                    for _ in 0..256 {
                        let k = rng.below(6_000);
                        if rng.below(2) == 0 {
                            m.insert(k, Box::new(k));
                        } else {
                            m.remove(&k);
                        }
                    }
                }
            });
        }
        let mut walked = 0;
        for _ in 0..30 {
            let m = map.pin();
            walked += m
                .par_iter()
                .map(|(k, v)| {
                    assert_eq!(**v, *k, "a value that is not its key's");
                    1
                })
                .sum::<usize>();
        }
        stop.store(true, Ordering::Relaxed);
        assert!(walked > 0);
    });
}

fn gen_word_op(rng: &mut Rng, keys: u64) -> WordMapOp {
    let k = rng.below(keys);
    // Some keys are the side-cell keys (see `WORD_MAP_KEYS`), so that their cells race too.
    let k = if k % 16 == 15 {
        freeway_check::harness::WORD_MAP_KEYS[(k / 16 % 4 + 11) as usize]
    } else {
        k
    };
    let v = rng.below(1000);
    match rng.below(14) {
        0..=2 => WordMapOp::Map(MapOp::Get(k)),
        3..=5 => WordMapOp::Map(MapOp::Insert(k, v)),
        6 | 7 => WordMapOp::Map(MapOp::Remove(k)),
        8 => WordMapOp::Map(MapOp::Update(k, v)),
        9 => WordMapOp::Map(MapOp::GetOrInsert(k, v)),
        10 => WordMapOp::CompareExchange(k, v % 4, v),
        11 | 12 => WordMapOp::FetchAdd(k, 1),
        _ => WordMapOp::RemoveIf(k, v % 4),
    }
}

fn stress_atomic(threads: usize, keys: u64, ms: u64) {
    let cfg = StressConfig {
        threads,
        ops_per_thread: 300,
        rounds: 200,
        time_limit: Duration::from_millis(ms),
        ..Default::default()
    };
    let report = stress_partitioned(
        &cfg,
        WordMapModel::new(),
        || AtomicMap::with_capacity(0),
        |rng, _| gen_word_op(rng, keys),
        word_map::exec,
        |op| op.key(),
    );
    if let Err(e) = report {
        panic!("{e}");
    }
}

/// Many keys from a tiny table: resizes (and rehashes of removed keys' slots) during the run.
#[test]
fn atomic_linearizable_per_key_with_resizes() {
    stress_atomic(3, 256, 1500);
}

/// A few hot keys: exchanges failing and retrying on one slot.
#[test]
fn atomic_linearizable_on_few_hot_keys() {
    stress_atomic(4, 4, 800);
}

/// Keys present for the whole walk are seen exactly once while other threads insert, remove
/// and resize the map.
#[test]
fn atomic_iteration_during_resizes_sees_stable_keys_once() {
    let map: AtomicMap<u64, u64> = AtomicMap::with_capacity(0);
    for k in 0..1000 {
        map.insert(k, k);
    }
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            // A window of 2000 churning keys: the removed keys' slots fill the table and call
            // for rehashes, over and over.
            let mut k = 1_000_000u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                map.insert(k, k);
                if k >= 1_002_000 {
                    map.remove(k - 2000);
                }
                k += 1;
            }
        });
        for _ in 0..200 {
            let mut seen = vec![0u32; 1000];
            for (k, v) in map.iter() {
                if k < 1000 {
                    assert_eq!(k, v);
                    seen[k as usize] += 1;
                }
            }
            assert!(
                seen.iter().all(|&n| n == 1),
                "{:?}",
                seen.iter().enumerate().find(|(_, n)| **n != 1)
            );
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
}

/// Writers of their own keys and of shared counters, with resizes: every insert stays, every
/// increment counts.
#[test]
fn atomic_concurrent_growth_loses_nothing() {
    let map: AtomicMap<u64, u64> = AtomicMap::new();
    std::thread::scope(|s| {
        for t in 0..4u64 {
            let map = &map;
            s.spawn(move || {
                for i in 0..30_000u64 {
                    map.insert(t << 32 | i, i);
                    map.fetch_add(u64::MAX - (i % 8), 1);
                }
            });
        }
    });
    for t in 0..4u64 {
        for i in 0..30_000u64 {
            assert_eq!(map.get(t << 32 | i), Some(i));
        }
    }
    for c in 0..8 {
        assert_eq!(map.get(u64::MAX - c), Some(4 * 30_000 / 8));
    }
    assert_eq!(map.len(), 4 * 30_000 + 8);
}
