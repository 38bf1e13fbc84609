//! `AtomicMap` behaviour: every key and value storable (the marker keys included), the write
//! operations' results, resizes under concurrent writers, iteration, and user code that panics.

use freeway_hashmap::AtomicMap;
use std::collections::HashMap as StdMap;

/// The four 64-bit keys whose raw keys are the slot markers (see `raw::atomic`): they live in
/// the side cells.
const FLIP: u64 = 0x9E37_79B9_7F4A_7C15;

#[test]
fn every_key_and_value_is_storable() {
    let map: AtomicMap<u64, u64> = AtomicMap::new();
    let keys = [
        0,
        1,
        2,
        3,
        u64::MAX,
        u64::MAX - 1,
        FLIP,
        FLIP ^ 1,
        FLIP ^ 2,
        FLIP ^ 3,
        FLIP ^ 4,
    ];
    for (i, &k) in keys.iter().enumerate() {
        assert_eq!(map.get(k), None);
        for v in [0, 1, 2, 3, u64::MAX, k] {
            map.insert(k, v);
            assert_eq!(map.get(k), Some(v), "key {k:#x} value {v:#x}");
            map.insert(k, 0);
        }
        assert_eq!(map.len(), i + 1);
    }
    let mut seen: Vec<(u64, u64)> = map.iter().collect();
    seen.sort();
    let mut want: Vec<(u64, u64)> = keys.iter().map(|&k| (k, 0)).collect();
    want.sort();
    assert_eq!(seen, want);
    for &k in &keys {
        assert_eq!(map.remove(k), Some(0));
        assert_eq!(map.remove(k), None);
        assert_eq!(map.get(k), None);
    }
    assert!(map.is_empty());
}

#[test]
fn grows_from_empty_and_keeps_everything() {
    let map: AtomicMap<u64, u64> = AtomicMap::new();
    let n = 100_000u64;
    for i in 0..n {
        assert_eq!(map.insert(i, i * 3), None);
    }
    assert_eq!(map.len(), n as usize);
    for i in 0..n {
        assert_eq!(map.get(i), Some(i * 3));
    }
    for i in (0..n).step_by(2) {
        assert_eq!(map.remove(i), Some(i * 3));
    }
    assert_eq!(map.len(), n as usize / 2);
    assert_eq!(map.iter().count(), n as usize / 2);
    for i in 0..n {
        assert_eq!(map.get(i), (i % 2 == 1).then_some(i * 3));
    }
}

#[test]
fn concurrent_counters_are_exact() {
    let map: AtomicMap<u64, u64> = AtomicMap::new();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for i in 0..20_000u64 {
                    map.fetch_add(i % 5000, 1);
                }
            });
        }
    });
    let mut want = StdMap::new();
    for i in 0..5000u64 {
        want.insert(i, 16u64);
    }
    let got: StdMap<u64, u64> = map.iter().collect();
    assert_eq!(got, want);
}

#[test]
fn narrow_words_cover_their_whole_range() {
    let map: AtomicMap<u8, i8> = AtomicMap::new();
    for k in 0..=255u8 {
        map.insert(k, k as i8);
    }
    assert_eq!(map.len(), 256);
    for k in 0..=255u8 {
        assert_eq!(map.get(k), Some(k as i8));
    }
    let flags: AtomicMap<bool, char> = AtomicMap::new();
    flags.insert(false, '\u{10FFFF}');
    flags.insert(true, '\0');
    assert_eq!(flags.get(false), Some('\u{10FFFF}'));
    assert_eq!(flags.get(true), Some('\0'));
    let signed: AtomicMap<i64, isize> = AtomicMap::new();
    signed.insert(i64::MIN, isize::MIN);
    signed.insert(-1, -1);
    assert_eq!(signed.get(i64::MIN), Some(isize::MIN));
    assert_eq!(signed.fetch_add(-1, -1), -1);
    assert_eq!(signed.get(-1), Some(-2));
}

#[test]
fn write_operations_report_what_they_did() {
    let map: AtomicMap<u32, u64> = AtomicMap::new();
    assert_eq!(map.update(1, |v| v + 1), None);
    assert_eq!(map.get(1), None, "update inserts nothing");
    assert_eq!(map.compare_exchange(1, 0, 5), Err(None));
    assert_eq!(map.get(1), None, "compare_exchange inserts nothing");
    assert_eq!(map.get_or_insert(1, 10), 10);
    assert_eq!(map.get_or_insert(1, 20), 10);
    assert_eq!(map.compare_exchange(1, 11, 12), Err(Some(10)));
    assert_eq!(map.compare_exchange(1, 10, 12), Ok(10));
    assert_eq!(map.update(1, |v| v * 2), Some(24));
    assert_eq!(map.fetch_add(1, u64::MAX), 24);
    assert_eq!(map.get(1), Some(23), "fetch_add wraps");
    assert_eq!(map.fetch_add(2, 7), 0);
    assert_eq!(map.get(2), Some(7));
    assert_eq!(map.remove_if(2, |v| v == 8), None);
    assert_eq!(map.remove_if(2, |v| v == 7), Some(7));
    assert_eq!(map.remove_if(2, |_| true), None);
    assert!(map.contains_key(1));
    assert!(!map.contains_key(2));
    assert_eq!(map.len(), 1);
}

#[test]
fn the_usual_traits() {
    let map: AtomicMap<u16, u16> = (0..100).map(|i| (i, i + 1)).collect();
    assert_eq!(map.len(), 100);
    let copy = map.clone();
    map.insert(0, 0);
    assert_eq!(copy.get(0), Some(1), "a clone is independent");
    let mut more = AtomicMap::<u16, u16>::default();
    more.extend([(1, 1), (2, 2)]);
    (&more).extend([(3, 3)]);
    assert_eq!(more.len(), 3);
    let one: AtomicMap<u8, u8> = [(7, 8)].into_iter().collect();
    assert_eq!(format!("{one:?}"), "{7: 8}");
    let mut n = 0;
    for (k, v) in &map {
        assert_eq!(v, if k == 0 { 0 } else { k + 1 });
        n += 1;
    }
    assert_eq!(n, 100);
    fn send_sync<T: Send + Sync>() {}
    send_sync::<AtomicMap<u64, u64>>();
}

#[test]
fn reserve_makes_room_and_clear_and_retain_remove() {
    let map: AtomicMap<u64, u64> = AtomicMap::new();
    map.reserve(5000);
    let cap = map.capacity();
    assert!(cap >= 5000);
    for i in 0..5000 {
        map.insert(i, i);
    }
    assert_eq!(map.capacity(), cap, "no resize after reserve");
    map.retain(|k, _| k % 3 == 0);
    assert_eq!(map.len(), 1667);
    assert!(map.iter().all(|(k, v)| k % 3 == 0 && k == v));
    map.clear();
    assert!(map.is_empty());
    assert_eq!(map.iter().count(), 0);
}

#[test]
fn removed_keys_do_not_grow_the_table_forever() {
    // Churn through many distinct keys with at most 64 present: removed keys' slots are
    // cleared by rehashes, so the table stays small.
    let map: AtomicMap<u64, u64> = AtomicMap::new();
    for i in 0..200_000u64 {
        map.insert(i, i);
        if i >= 64 {
            assert_eq!(map.remove(i - 64), Some(i - 64));
        }
    }
    assert_eq!(map.len(), 64);
    assert!(
        map.capacity() <= 1024,
        "capacity {} for 64 keys",
        map.capacity()
    );
}

/// A hasher that sends every key to the same slot: chains as long as the map.
#[derive(Clone, Default)]
struct Collide;
impl std::hash::BuildHasher for Collide {
    type Hasher = CollideHasher;
    fn build_hasher(&self) -> CollideHasher {
        CollideHasher
    }
}
struct CollideHasher;
impl std::hash::Hasher for CollideHasher {
    fn finish(&self) -> u64 {
        42
    }
    fn write(&mut self, _: &[u8]) {}
}

#[test]
fn all_colliding_keys_still_work() {
    let map: AtomicMap<u64, u64, Collide> = AtomicMap::with_hasher(Collide);
    for i in 0..600 {
        map.insert(i, i);
    }
    for i in (0..600).step_by(2) {
        map.remove(i);
    }
    for i in 0..600 {
        assert_eq!(map.get(i), (i % 2 == 1).then_some(i));
    }
    assert_eq!(map.iter().count(), 300);
}

#[test]
fn a_panic_in_a_closure_leaves_the_map_unchanged() {
    let map: AtomicMap<u64, u64> = (0..10).map(|i| (i, i)).collect();
    let r = std::panic::catch_unwind(|| map.update(3, |_| panic!("user closure")));
    assert!(r.is_err());
    assert_eq!(map.get(3), Some(3));
    let r = std::panic::catch_unwind(|| map.remove_if(4, |_| panic!("user closure")));
    assert!(r.is_err());
    assert_eq!(map.get(4), Some(4));
    let r = std::panic::catch_unwind(|| {
        map.retain(|k, _| if k == 5 { panic!("user closure") } else { true })
    });
    assert!(r.is_err());
    assert_eq!(map.len(), 10);
    for i in 10..1000 {
        map.insert(i, i);
    }
    assert_eq!(map.len(), 1000);
}

/// A hasher that panics on its `n`th use after being armed.
#[derive(Clone)]
struct Flaky(std::sync::Arc<std::sync::atomic::AtomicI64>);
impl std::hash::BuildHasher for Flaky {
    type Hasher = std::collections::hash_map::DefaultHasher;
    fn build_hasher(&self) -> Self::Hasher {
        if self.0.fetch_sub(1, std::sync::atomic::Ordering::Relaxed) == 0 {
            panic!("flaky hasher");
        }
        Self::Hasher::default()
    }
}

/// The hasher panics while a resize moves slots: every insert is armed to panic at the
/// second hash it runs, which is never its own key's (the first) but the first slot it moves if
/// it helps a resize. No panic reaches the caller, the chunks handed back are moved once the
/// hasher behaves, and nothing is lost.
#[test]
fn a_hasher_panic_during_a_resize_loses_nothing() {
    use std::sync::atomic::Ordering::Relaxed;
    let arm = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(i64::MAX));
    let map: AtomicMap<u64, u64, Flaky> = AtomicMap::with_hasher(Flaky(arm.clone()));
    let mut caught = 0;
    for i in 0..20_000u64 {
        arm.store(1, Relaxed);
        assert_eq!(map.insert(i, i), None);
        if arm.load(Relaxed) < 0 {
            caught += 1;
        }
    }
    assert!(caught > 0, "no insert helped a resize");
    arm.store(i64::MAX, Relaxed);
    for i in 20_000..40_000u64 {
        map.insert(i, i);
    }
    for i in 0..40_000u64 {
        assert_eq!(map.get(i), Some(i));
    }
    assert_eq!(map.len(), 40_000);
    assert_eq!(map.iter().count(), 40_000);
}

#[test]
fn a_pinned_handle_does_what_the_map_does_across_resizes() {
    let map: AtomicMap<u64, u64> = AtomicMap::new();
    let first = map.capacity();
    {
        // One pin for all of it: the resizes retire tables under the handle's own pin.
        let m = map.pin();
        for k in 0..20_000 {
            assert_eq!(m.insert(k, k), None);
        }
        assert!(map.capacity() > first, "the map grew under the handle");
        for k in 0..20_000 {
            assert_eq!(m.get(k), Some(k), "key {k}");
        }
        assert_eq!(m.insert(5, 50), Some(5));
        assert_eq!(m.update(5, |v| v + 1), Some(51));
        assert_eq!(m.update(20_000, |v| v + 1), None);
        assert_eq!(m.compare_exchange(5, 50, 0), Err(Some(51)));
        assert_eq!(m.compare_exchange(5, 51, 52), Ok(51));
        assert_eq!(m.compare_exchange(20_000, 0, 1), Err(None));
        assert_eq!(m.get_or_insert(5, 0), 52);
        assert_eq!(m.get_or_insert(20_000, 7), 7);
        assert_eq!(m.remove_if(20_000, |v| v == 8), None);
        assert_eq!(m.remove_if(20_000, |v| v == 7), Some(7));
        assert_eq!(m.fetch_add(6, 10), 6);
        assert_eq!(m.fetch_add(20_001, 3), 0);
        for k in (0..20_000).step_by(2) {
            assert!(m.remove(k).is_some(), "key {k}");
        }
        assert!(!m.contains_key(0));
        assert!(m.contains_key(1));
    }
    assert_eq!(map.len(), 10_001);
    assert_eq!(map.get(5), Some(52));
    assert_eq!(map.get(7), Some(7));
    assert_eq!(map.get(20_001), Some(3));
    assert_eq!(map.get(0), None);
}

#[test]
fn pinned_handles_on_many_threads_count_exactly() {
    let map: AtomicMap<u32, u64> = AtomicMap::new();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                // A fresh handle per chunk, as a thread would that lets the epoch advance.
                for _ in 0..50 {
                    let m = map.pin();
                    for k in 0..1_000 {
                        m.fetch_add(k, 1);
                    }
                }
            });
        }
    });
    assert_eq!(map.len(), 1_000);
    assert!(map.iter().all(|(_, v)| v == 200));
}
