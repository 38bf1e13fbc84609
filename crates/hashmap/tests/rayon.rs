//! The `rayon` feature: parallel extend, collect and iteration, with drop accounting.
#![cfg(all(feature = "rayon", not(loom)))]

use freeway_check::drops::DropTracker;
use freeway_hashmap::HashMap;
use rayon::prelude::*;

#[test]
fn par_extend_inserts_every_pair_once() {
    let map = HashMap::new();
    (&map).par_extend((0..20_000u64).into_par_iter().map(|i| (i, i * 3)));
    assert_eq!(map.len(), 20_000);
    let m = map.pin();
    for i in 0..20_000u64 {
        assert_eq!(m.get(&i), Some(&(i * 3)));
    }
    // Duplicate keys: exactly one value per key survives, and it is one of the inserted ones.
    let mut owned = HashMap::new();
    owned.par_extend((0..10_000u64).into_par_iter().map(|i| (i % 100, i)));
    assert_eq!(owned.len(), 100);
    let o = owned.pin();
    for k in 0..100u64 {
        let v = *o.get(&k).expect("every key present");
        assert_eq!(v % 100, k);
    }
}

#[test]
fn collect_matches_sequential() {
    let par: HashMap<u32, String> = (0..5_000u32)
        .into_par_iter()
        .map(|i| (i, i.to_string()))
        .collect();
    let seq: HashMap<u32, String> = (0..5_000u32).map(|i| (i, i.to_string())).collect();
    assert_eq!(par, seq);
}

#[test]
fn par_iter_yields_every_entry_once() {
    let map: HashMap<u64, u64> = (0..10_000u64).map(|i| (i, i)).collect();
    let m = map.pin();
    assert_eq!(m.par_iter().count(), 10_000);
    let sum: u64 = m.par_iter().map(|(k, v)| k + v).sum();
    assert_eq!(sum, 2 * (0..10_000u64).sum::<u64>());
    let mut keys: Vec<u64> = m.par_iter().map(|(k, _)| *k).collect();
    keys.sort_unstable();
    assert_eq!(keys, (0..10_000u64).collect::<Vec<_>>());
}

#[test]
fn par_iter_during_concurrent_growth_sees_stable_entries() {
    // Entries present for the whole walk are yielded exactly once even while another thread
    // grows the map through several resizes.
    let map: HashMap<u64, u64> = HashMap::new();
    {
        let m = map.pin();
        for i in 0..1_000u64 {
            m.insert(i, i);
        }
    }
    std::thread::scope(|s| {
        s.spawn(|| {
            let m = map.pin();
            for i in 1_000..40_000u64 {
                m.insert(i, i);
            }
        });
        for _ in 0..5 {
            let m = map.pin();
            let mut all: Vec<u64> = m.par_iter().map(|(k, _)| *k).collect();
            all.sort_unstable();
            // Nothing is replaced or removed, so no key may come twice, from two tables.
            let n = all.len();
            all.dedup();
            assert_eq!(all.len(), n, "a key yielded twice");
            let stable: Vec<u64> = all.into_iter().filter(|k| *k < 1_000).collect();
            assert_eq!(stable, (0..1_000u64).collect::<Vec<_>>());
        }
    });
}

#[test]
fn par_extend_drops_every_key_and_value_once() {
    let keys = DropTracker::new();
    let vals = DropTracker::new();
    {
        let map = HashMap::new();
        let pairs: Vec<_> = (0..2_000u32)
            .map(|i| (keys.track(i % 500), vals.track(i)))
            .collect();
        (&map).par_extend(pairs.into_par_iter());
        assert_eq!(map.len(), 500);
        drop(map);
    }
    // Replaced entries are retired to the collector; drive it until they are all freed.
    keys.reclaim_until_all_dropped();
    vals.reclaim_until_all_dropped();
    keys.assert_all_dropped_once();
    vals.assert_all_dropped_once();
}

#[test]
fn par_iter_walks_a_large_map_in_pieces_like_iter() {
    // Many pieces of the table, some empty, on a pool of several workers.
    let map: HashMap<u64, u64> = (0..50_000u64).map(|i| (i * 7, i)).collect();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .unwrap();
    let m = map.pin();
    let it = m.par_iter();
    let mut par: Vec<(u64, u64)> = pool.install(|| it.map(|(k, v)| (*k, *v)).collect());
    let mut seq: Vec<(u64, u64)> = m.iter().map(|(k, v)| (*k, *v)).collect();
    par.sort_unstable();
    seq.sort_unstable();
    assert_eq!(par.len(), 50_000);
    assert_eq!(par, seq);
    // A consumer that stops early drops pieces half walked.
    let it = m.par_iter();
    let found = pool.install(|| it.find_any(|(k, _)| **k == 7 * 12_345));
    assert_eq!(found, Some((&(7 * 12_345), &12_345)));
    assert!(m.par_iter().any(|(_, v)| *v == 49_999));
    assert_eq!(
        HashMap::<u8, u8>::new().pin().par_iter().count(),
        0,
        "an empty map"
    );
}

/// A consumer of `par_iter` that panics on one rayon worker: the panic reaches the caller after
/// every worker has stopped, the map is unchanged and usable, and every key and value is dropped
/// exactly once when the map goes.
#[test]
fn a_panicking_par_iter_consumer_leaves_the_map_intact() {
    let keys = DropTracker::new();
    let vals = DropTracker::new();
    {
        let map = HashMap::new();
        for i in 0..5_000u32 {
            map.pin().insert(keys.track(i), vals.track(u64::from(i)));
        }
        let seen = std::sync::atomic::AtomicUsize::new(0);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            map.pin().par_iter().for_each(|(k, v)| {
                seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                assert_eq!(u64::from(*k.value()), *v.value());
                if *k.value() == 2_500 {
                    panic!("a consumer gives up");
                }
            });
        }));
        assert!(r.is_err(), "the consumer's panic reaches the caller");
        assert!(seen.into_inner() >= 1);
        // Unchanged and usable: every entry still there, writes still work.
        let m = map.pin();
        assert_eq!(m.len(), 5_000);
        assert_eq!(m.par_iter().count(), 5_000);
        for i in 0..5_000u32 {
            assert_eq!(
                m.get(&keys.track(i)).map(|v| *v.value()),
                Some(u64::from(i))
            );
        }
        m.insert(keys.track(9_999), vals.track(9_999));
        assert_eq!(m.len(), 5_001);
        drop(m);
        drop(map);
    }
    keys.reclaim_until_all_dropped();
    vals.reclaim_until_all_dropped();
    keys.assert_all_dropped_once();
    vals.assert_all_dropped_once();
}
