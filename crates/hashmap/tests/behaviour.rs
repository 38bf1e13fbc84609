//! Unit behaviour, drop accounting, misuse and panic safety of `HashMap`.
#![cfg(not(loom))]

use freeway_check::drops::DropTracker;
use freeway_hashmap::{HashMap, Operation};
use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;

/// Tests that drive reclamation run one at a time.
static RECLAIM: Mutex<()> = Mutex::new(());

/// A hasher that sends every key to the same hash.
#[derive(Clone, Default)]
struct Collide;
struct CollideHasher;
impl Hasher for CollideHasher {
    fn finish(&self) -> u64 {
        0
    }
    fn write(&mut self, _: &[u8]) {}
}
impl BuildHasher for Collide {
    type Hasher = CollideHasher;
    fn build_hasher(&self) -> CollideHasher {
        CollideHasher
    }
}

#[test]
fn basic_operations() {
    let map = HashMap::new();
    let m = map.pin();
    assert!(m.is_empty());
    assert_eq!(m.insert(1u64, 10u64), None);
    assert_eq!(m.insert(1, 11), Some(&10));
    assert_eq!(m.get(&1), Some(&11));
    assert!(m.contains_key(&1));
    assert_eq!(m.update(1, |v| v + 1), Some(&12));
    assert_eq!(m.update(2, |v| v + 1), None);
    assert!(!m.contains_key(&2));
    assert_eq!(m.get_or_insert_with(2, || 20), &20);
    assert_eq!(m.get_or_insert_with(2, || 21), &20);
    assert_eq!(m.len(), 2);
    assert_eq!(m.remove(&1), Some(&12));
    assert_eq!(m.remove(&1), None);
    assert_eq!(m.len(), 1);
    assert_eq!(m.compute(2, |_| Operation::Remove), (Some(&20), None));
    assert_eq!(m.compute(3, |_| Operation::Keep), (None, None));
    assert!(m.is_empty());
}

#[test]
fn borrow_lookups() {
    let map: HashMap<String, u32> = HashMap::new();
    let m = map.pin();
    m.insert("a".to_string(), 1);
    assert_eq!(m.get("a"), Some(&1));
    assert_eq!(m.remove("a"), Some(&1));
    assert_eq!(m.get("a"), None);
}

#[test]
fn grows_from_tiny_and_matches_btreemap() {
    let map = HashMap::with_capacity(0);
    let mut model = BTreeMap::new();
    let g = freeway_epoch::pin();
    for i in 0..20_000u64 {
        let k = i.wrapping_mul(0x9E37_79B9) % 5000;
        match i % 4 {
            0 | 1 => assert_eq!(map.insert(k, i, &g).copied(), model.insert(k, i)),
            2 => assert_eq!(map.remove(&k, &g).copied(), model.remove(&k)),
            _ => assert_eq!(map.get(&k, &g).copied(), model.get(&k).copied()),
        }
    }
    assert_eq!(map.len(), model.len());
    let mut all: Vec<_> = map.iter(&g).map(|(k, v)| (*k, *v)).collect();
    all.sort();
    assert_eq!(all, model.into_iter().collect::<Vec<_>>());
}

#[test]
fn remove_heavy_phase_shrinks() {
    let map = HashMap::new();
    let g = freeway_epoch::pin();
    for i in 0..10_000u64 {
        map.insert(i, i, &g);
    }
    let big = map.capacity();
    for i in 0..10_000u64 {
        map.remove(&i, &g);
    }
    // Churn a few keys: long tombstone chains trigger a rehash proportional to live entries.
    for round in 0..50_000u64 {
        let k = 1_000_000 + round % 8;
        map.insert(k, round, &g);
        map.remove(&k, &g);
    }
    assert!(
        map.capacity() < big,
        "capacity {} not below {big}",
        map.capacity()
    );
    assert!(map.is_empty());
}

#[test]
fn all_keys_collide_is_slow_not_broken() {
    let map: HashMap<u64, u64, Collide> = HashMap::with_hasher(Collide);
    let g = freeway_epoch::pin();
    for i in 0..2000u64 {
        assert_eq!(map.insert(i, i * 2, &g), None);
    }
    assert_eq!(map.len(), 2000);
    for i in 0..2000u64 {
        assert_eq!(map.get(&i, &g), Some(&(i * 2)));
    }
    for i in (0..2000u64).step_by(2) {
        assert_eq!(map.remove(&i, &g), Some(&(i * 2)));
    }
    assert_eq!(map.len(), 1000);
    assert_eq!(map.iter(&g).count(), 1000);
    assert_eq!(map.get(&2, &g), None);
    assert_eq!(map.get(&3, &g), Some(&6));
}

#[test]
fn traits() {
    let map: HashMap<u32, String> = (0..100).map(|i| (i, i.to_string())).collect();
    let copy = map.clone();
    assert_eq!(map, copy);
    assert_eq!(copy.len(), 100);
    copy.pin().insert(5, "x".into());
    assert_ne!(map, copy);
    let mut e: HashMap<u32, String> = HashMap::default();
    e.extend([(1, "1".to_string())]);
    assert_eq!(format!("{e:?}"), r#"{1: "1"}"#);
    let m = map.pin();
    assert_eq!(format!("{m:?}"), "HashMapRef { .. }");
    assert_eq!((&m).into_iter().count(), 100);
    assert_eq!(m.keys().count(), 100);
    assert_eq!(m.values().filter(|v| v.len() == 1).count(), 10);
}

#[test]
fn retain_and_clear() {
    let map: HashMap<u32, u32> = (0..1000).map(|i| (i, i)).collect();
    let g = freeway_epoch::pin();
    let mut seen = 0;
    map.retain(
        |_, v| {
            seen += 1;
            v % 3 == 0
        },
        &g,
    );
    assert_eq!(seen, 1000);
    assert_eq!(map.len(), 334);
    assert!(map.iter(&g).all(|(_, v)| v % 3 == 0));
    map.clear(&g);
    assert!(map.is_empty());
    assert_eq!(map.iter(&g).count(), 0);
    map.insert(1, 1, &g);
    assert_eq!(map.get(&1, &g), Some(&1));
}

#[test]
fn unprotected_guard_is_rejected() {
    let map: HashMap<u8, u8> = HashMap::new();
    let r = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: nothing is dereferenced; the map rejects the guard before using it.
        let g = unsafe { freeway_epoch::unprotected() };
        map.get(&1, g).copied()
    }));
    let err = r.unwrap_err();
    let msg = err
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| err.downcast_ref::<String>().cloned())
        .unwrap();
    assert!(msg.contains("freeway_epoch::pin()"), "{msg}");
    // Another collector's guard is rejected too.
    let c = freeway_epoch::Collector::new();
    let h = c.register();
    let r = catch_unwind(AssertUnwindSafe(|| {
        map.insert(1, 1, &h.pin());
    }));
    assert!(r.is_err());
    assert!(map.is_empty());
}

#[test]
fn drops_every_key_and_value_exactly_once() {
    let _lock = RECLAIM.lock().unwrap_or_else(|e| e.into_inner());
    let keys = DropTracker::new();
    let vals = DropTracker::new();
    {
        let map = HashMap::with_capacity(0);
        let g = freeway_epoch::pin();
        for i in 0..3000u32 {
            map.insert(keys.track(i % 1000), vals.track(i), &g);
        }
        for i in 0..200u32 {
            map.remove(&keys.track(i), &g);
            map.update(keys.track(500 + i), |v| vals.track(**v + 1), &g);
        }
        map.get_or_insert_with(keys.track(5000), || vals.track(1), &g);
        map.get_or_insert_with(keys.track(5000), || vals.track(2), &g);
        assert_eq!(map.len(), 801);
        drop(g);
        // Only the entries still in the map stay alive (the probe keys above were dropped).
        keys.reclaim_until_alive(801);
        vals.reclaim_until_alive(801);
        assert_eq!((keys.alive(), vals.alive()), (801, 801));
        // Drop with entries left in it.
    }
    keys.reclaim_until_all_dropped();
    vals.reclaim_until_all_dropped();
    keys.assert_all_dropped_once();
    vals.assert_all_dropped_once();
}

#[test]
fn clear_and_retain_release_entries() {
    let _lock = RECLAIM.lock().unwrap_or_else(|e| e.into_inner());
    let vals = DropTracker::new();
    let map = HashMap::new();
    {
        let g = freeway_epoch::pin();
        for i in 0..500u32 {
            map.insert(i, vals.track(i), &g);
        }
        map.retain(|k, _| k % 2 == 0, &g);
    }
    vals.reclaim_until_alive(250);
    assert_eq!(vals.alive(), 250);
    map.clear(&freeway_epoch::pin());
    vals.reclaim_until_all_dropped();
    drop(map);
    vals.assert_all_dropped_once();
}

#[derive(Debug)]
struct Touchy(u32);
impl PartialEq for Touchy {
    fn eq(&self, other: &Self) -> bool {
        assert!(self.0 != 666 && other.0 != 666, "Eq panics on 666");
        self.0 == other.0
    }
}
impl Eq for Touchy {}
impl Hash for Touchy {
    fn hash<H: Hasher>(&self, state: &mut H) {
        assert!(self.0 != 999, "Hash panics on 999");
        // A narrow hash so that Eq runs on collisions.
        (self.0 % 4).hash(state);
    }
}

#[test]
fn panics_in_hash_eq_and_closures_leave_the_map_intact() {
    let _lock = RECLAIM.lock().unwrap_or_else(|e| e.into_inner());
    let vals = DropTracker::new();
    {
        let map = HashMap::new();
        let g = freeway_epoch::pin();
        for i in 0..100 {
            map.insert(Touchy(i), vals.track(i), &g);
        }
        let r = catch_unwind(AssertUnwindSafe(|| {
            map.insert(Touchy(999), vals.track(0), &g)
        }));
        assert!(r.is_err());
        let r = catch_unwind(AssertUnwindSafe(|| {
            map.insert(Touchy(666), vals.track(0), &g)
        }));
        assert!(r.is_err());
        let r = catch_unwind(AssertUnwindSafe(|| {
            map.update(Touchy(7), |_| panic!("closure panics"), &g)
        }));
        assert!(r.is_err());
        let r = catch_unwind(AssertUnwindSafe(|| {
            map.get_or_insert_with(Touchy(1000), || panic!("init panics"), &g)
        }));
        assert!(r.is_err());
        let r = catch_unwind(AssertUnwindSafe(|| {
            map.compute(Touchy(8), |_| panic!("compute panics"), &g)
        }));
        assert!(r.is_err());
        assert_eq!(map.len(), 100);
        for i in 0..100 {
            assert_eq!(map.get(&Touchy(i), &g).map(|v| **v), Some(i));
        }
        assert_eq!(
            map.update(Touchy(7), |v| vals.track(**v + 100), &g)
                .map(|v| **v),
            Some(107)
        );
        drop(g);
    }
    vals.reclaim_until_all_dropped();
    vals.assert_all_dropped_once();
}

/// A panic in `retain`'s closure, and in a consumer of the map's iterator: the entries the
/// closure had already rejected are removed, the others stay, and the map works on; every value
/// is dropped once.
#[test]
fn panics_in_retain_and_iterator_consumers_leave_the_map_intact() {
    let _lock = RECLAIM.lock().unwrap_or_else(|e| e.into_inner());
    let vals = DropTracker::new();
    {
        let map = HashMap::new();
        let g = freeway_epoch::pin();
        for i in 0..100u32 {
            map.insert(i, vals.track(i), &g);
        }
        let mut seen = 0;
        let r = catch_unwind(AssertUnwindSafe(|| {
            map.retain(
                |_, v| {
                    seen += 1;
                    assert!(seen < 50, "retain's closure panics");
                    **v % 2 == 0
                },
                &g,
            )
        }));
        assert!(r.is_err());
        // Every entry is either still there or was rejected by the closure before the panic.
        let left: Vec<u32> = map.values(&g).map(|v| **v).collect();
        assert!(left.len() >= 50, "only rejected entries may be gone");
        let r = catch_unwind(AssertUnwindSafe(|| {
            map.iter(&g)
                .for_each(|(k, _)| assert!(*k != left[0], "consumer panics"))
        }));
        assert!(r.is_err());
        map.insert(1000, vals.track(1000), &g);
        assert_eq!(map.get(&1000, &g).map(|v| **v), Some(1000));
        assert_eq!(map.len(), left.len() + 1);
    }
    vals.reclaim_until_all_dropped();
    vals.assert_all_dropped_once();
}

#[test]
fn panicking_value_drops_are_contained() {
    let _lock = RECLAIM.lock().unwrap_or_else(|e| e.into_inner());
    let vals = DropTracker::new();
    let map = HashMap::new();
    {
        let g = freeway_epoch::pin();
        for i in 0..10u32 {
            map.insert(i, vals.track_panicking(i), &g);
        }
        // Replaced and removed values are dropped later; their panics are contained there.
        map.insert(0, vals.track(100), &g);
        map.remove(&1, &g);
    }
    vals.reclaim_until_alive(9);
    assert_eq!(vals.alive(), 9);
    let g = freeway_epoch::pin();
    map.insert(42, vals.track(42), &g);
    assert_eq!(map.get(&42, &g).map(|v| **v), Some(42));
    drop(g);
    // Dropping the map drops every entry, then resumes the first panic.
    let r = catch_unwind(AssertUnwindSafe(move || drop(map)));
    assert!(r.is_err());
    vals.reclaim_until_all_dropped();
    vals.assert_all_dropped_once();
}

#[test]
fn into_iter_moves_every_entry_out_once_even_mid_resize() {
    // A table of 2^16 slots doubles once 40 960 entries are live, and writers copy a resize 64
    // slots per write, so each of these sizes stops a few dozen to a few hundred inserts after
    // the doubling began: the entries are split between the two tables.
    for n in [41_000u64, 41_100, 41_300, 42_000] {
        let map = HashMap::with_capacity(0);
        for i in 0..n {
            map.pin().insert(i, i * 2);
        }
        let mut pairs: Vec<(u64, u64)> = map.into_iter().collect();
        pairs.sort_unstable();
        assert_eq!(pairs.len() as u64, n, "{n} entries");
        assert!(
            pairs
                .iter()
                .enumerate()
                .all(|(i, &(k, v))| k == i as u64 && v == 2 * k)
        );
    }

    let _lock = RECLAIM.lock().unwrap_or_else(|e| e.into_inner());
    let keys = DropTracker::new();
    let vals = DropTracker::new();
    {
        let map = HashMap::with_capacity(0);
        let g = freeway_epoch::pin();
        for i in 0..1000u32 {
            // 400 replacements: their entries go to the collector, not to the iterator.
            map.insert(keys.track(i % 600), vals.track(i), &g);
        }
        drop(g);
        let mut it = map.into_iter();
        assert_eq!(it.len(), 600);
        let taken: Vec<_> = it.by_ref().take(250).collect();
        assert_eq!((taken.len(), it.len()), (250, 350));
        assert!(taken.iter().all(|(k, v)| **v % 600 == **k));
        // The pairs taken and the 350 left in the iterator are dropped here, once each.
    }
    keys.reclaim_until_all_dropped();
    vals.reclaim_until_all_dropped();
    keys.assert_all_dropped_once();
    vals.assert_all_dropped_once();
}

#[test]
fn reserve_grows_ahead_and_a_hopeless_one_changes_nothing() {
    let map = HashMap::with_capacity(0);
    for i in 0..100u64 {
        map.pin().insert(i, i);
    }
    map.reserve(50_000);
    let cap = map.capacity();
    assert!(cap >= 50_100, "capacity {cap}");
    for i in 100..50_100u64 {
        map.pin().insert(i, i);
    }
    assert_eq!(map.capacity(), cap, "no resize on the way");
    assert_eq!(map.len(), 50_100);
    // Reserving less than there is room for does nothing.
    map.reserve(10);
    assert_eq!(map.capacity(), cap);

    // (`1 << 60` once aborted: its tag array was a valid size, tried before the buckets' size
    // was checked.)
    for hopeless in [usize::MAX, usize::MAX / 4, 1 << 60, 1 << 59] {
        let err = catch_unwind(AssertUnwindSafe(|| map.reserve(hopeless))).unwrap_err();
        let msg = err
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| err.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        assert!(msg.contains("overflow"), "{msg}");
        assert_eq!((map.len(), map.capacity()), (50_100, cap));
    }
    let m = map.pin();
    assert!((0..50_100u64).all(|i| m.get(&i) == Some(&i)));
    m.insert(1 << 40, 1);
    assert_eq!(m.len(), 50_101);
}

#[test]
fn reserve_while_others_write() {
    let map = HashMap::with_capacity(0);
    std::thread::scope(|s| {
        for t in 0..2u64 {
            let map = &map;
            s.spawn(move || {
                for i in 0..20_000u64 {
                    map.pin().insert(t << 32 | i, i);
                }
            });
        }
        for r in 1..=20 {
            map.reserve(r * 2_000);
            // Met on return, even when another thread's smaller resize was under way.
            assert!(
                map.capacity() >= r * 2_000,
                "reserve({}) left {}",
                r * 2_000,
                map.capacity()
            );
        }
    });
    assert_eq!(map.len(), 40_000);
    // Inserts alone would have stopped at 2^16 slots (capacity 32 768; the doubling is at
    // 40 960 live); nothing shrinks a map without tombstones.
    assert!(map.capacity() >= 40_000);
    let m = map.pin();
    for t in 0..2u64 {
        assert!((0..20_000u64).all(|i| m.get(&(t << 32 | i)) == Some(&i)));
    }
}

#[test]
fn reserve_clears_tombstones_that_would_force_a_rehash() {
    // 80 000 keys grow the table to 2^17 slots (the next doubling is at 81 920 live); removing
    // all but 100 leaves 80 000 claimed slots, 61% of it. 20 000 more claims would pass the 3/4
    // that asks for a rehash, which would shrink the table (to room for the live entries) in
    // the middle of the load: reserve must rehash first.
    let map = HashMap::with_capacity(0);
    let m = map.pin();
    for i in 0..80_000u64 {
        m.insert(i, i);
    }
    for i in 100..80_000u64 {
        m.remove(&i);
    }
    drop(m);
    map.reserve(20_000);
    let cap = map.capacity();
    let m = map.pin();
    for i in 1_000_000..1_020_000u64 {
        m.insert(i, i);
    }
    // A resize is copied a chunk per write: replacing the same keys would finish one begun
    // during the inserts, and make it visible in `capacity`.
    for i in 1_000_000..1_020_000u64 {
        m.insert(i, i);
    }
    assert_eq!(
        map.capacity(),
        cap,
        "no rehash or doubling during the reserved inserts"
    );
    assert_eq!(map.len(), 20_100);
    assert!(
        (0..100u64)
            .chain(1_000_000..1_020_000)
            .all(|i| m.get(&i) == Some(&i))
    );
}
