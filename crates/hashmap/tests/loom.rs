//! loom models: races on one key, an update racing a remove, and a resize racing a reader and a
//! writer. Tables shrink to 2 slots and copy chunks to 1 slot under `cfg(loom)`.
#![cfg(loom)]

use freeway_epoch::sync::Arc;
use freeway_epoch::sync::thread;
use std::collections::hash_map::DefaultHasher;
use std::hash::BuildHasherDefault;

/// A deterministic hasher: loom replays each interleaving and needs the same probe positions.
type HashMap<K, V> = freeway_hashmap::HashMap<K, V, BuildHasherDefault<DefaultHasher>>;

fn tiny<K, V>() -> Arc<HashMap<K, V>> {
    Arc::new(HashMap::with_capacity_and_hasher(1, Default::default()))
}

/// insert / get / remove of one key: the reader sees absent, 1 or 2, and the end state agrees
/// with the order of the two writers.
#[test]
fn insert_get_remove_one_key() {
    loom::model(|| {
        let map = tiny::<u64, u64>();
        map.pin().insert(0, 1);
        let m = map.clone();
        let t = thread::spawn(move || {
            let r = m.pin();
            let removed = r.remove(&0).copied();
            let seen = r.get(&0).copied();
            (removed, seen)
        });
        let old = map.pin().insert(0, 2).copied();
        let (removed, seen) = t.join().unwrap();
        let end = map.pin().get(&0).copied();
        match (old, removed) {
            // insert first, then remove took the 2
            (Some(1), Some(2)) => assert_eq!(end, None),
            // remove first (took 1), then insert found nothing
            (None, Some(1)) => assert_eq!(end, Some(2)),
            other => panic!("impossible outcome {other:?}"),
        }
        assert!(seen.is_none() || seen == Some(2));
        assert_eq!(map.len(), usize::from(end.is_some()));
    });
}

/// A replacing insert races a get, each on a thread of its own (loom explores few interleavings
/// of the main thread against a thread it has just spawned): the reader sees the old value or
/// the new one, and the new entry it may reach was published to it (loom checks its witness).
/// Both threads pin before the new entry is made, so no pin hands the entry over. Fails with the
/// replacing exchange's `Release` removed.
#[test]
fn replace_races_get() {
    loom::model(|| {
        let map = tiny::<u64, u64>();
        map.pin().insert(0, 1);
        let writer = {
            let m = map.clone();
            thread::spawn(move || m.pin().insert(0, 2).copied())
        };
        let reader = {
            let m = map.clone();
            thread::spawn(move || m.pin().get(&0).copied())
        };
        assert_eq!(writer.join().unwrap(), Some(1));
        let seen = reader.join().unwrap();
        assert!(seen == Some(1) || seen == Some(2), "get saw {seen:?}");
        assert_eq!(map.pin().get(&0).copied(), Some(2));
    });
}

/// update racing remove: either the update applied before the removal (and the removal took
/// the updated value) or it found the key gone.
#[test]
fn update_races_remove() {
    loom::model(|| {
        let map = tiny::<u64, u64>();
        map.pin().insert(7, 10);
        let m = map.clone();
        let t = thread::spawn(move || m.pin().update(7, |v| v + 1).copied());
        let removed = map.pin().remove(&7).copied();
        let updated = t.join().unwrap();
        match updated {
            Some(11) => assert_eq!(removed, Some(11)),
            None => assert_eq!(removed, Some(10)),
            other => panic!("impossible update result {other:?}"),
        }
        assert!(map.pin().get(&7).is_none());
        assert!(map.is_empty());
    });
}

/// Inserts 2 -> 200 and 3 -> 300 into a `tiny` map that holds key 1: they fill its 2-slot table
/// and force a resize and copy.
fn fill_and_resize(map: &HashMap<u64, u64>) {
    let r = map.pin();
    r.insert(2, 200);
    r.insert(3, 300);
}

/// A writer fills a 2-slot table (forcing a resize and copy) while a reader looks up a key that
/// was there before: the reader always finds it, and nothing is lost.
#[test]
fn resize_races_reader_and_writer() {
    loom::model(|| {
        let map = tiny::<u64, u64>();
        map.pin().insert(1, 100);
        let m = map.clone();
        let reader = thread::spawn(move || m.pin().get(&1).copied());
        fill_and_resize(&map);
        assert_eq!(reader.join().unwrap(), Some(100));
        let r = map.pin();
        assert_eq!(r.get(&1), Some(&100));
        assert_eq!(r.get(&2), Some(&200));
        assert_eq!(r.get(&3), Some(&300));
        assert_eq!(r.len(), 3);
    });
}

/// An iterator racing a writer that fills a 2-slot table and resizes it: the key there before
/// is yielded exactly once, each new key at most once, each with its own value; and every entry
/// and table the iterator reaches was published to it (loom checks their witnesses).
#[test]
fn iter_races_insert_and_resize() {
    loom::model(|| {
        let map = tiny::<u64, u64>();
        map.pin().insert(1, 100);
        let m = map.clone();
        let reader = thread::spawn(move || {
            let r = m.pin();
            r.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>()
        });
        fill_and_resize(&map);
        let seen = reader.join().unwrap();
        let count = |k| seen.iter().filter(|e| e.0 == k).count();
        assert_eq!(count(1), 1, "{seen:?}");
        assert!(count(2) <= 1 && count(3) <= 1, "{seen:?}");
        assert!(seen.iter().all(|&(k, v)| v == k * 100), "{seen:?}");
    });
}

/// Two writers insert different keys into a 2-slot table, racing each other's resize.
#[test]
fn two_writers_race_a_resize() {
    loom::model(|| {
        let map = tiny::<u64, u64>();
        map.pin().insert(1, 1);
        let m = map.clone();
        let w = thread::spawn(move || {
            m.pin().insert(2, 2);
        });
        map.pin().insert(3, 3);
        w.join().unwrap();
        let r = map.pin();
        for k in 1..=3 {
            assert_eq!(r.get(&k), Some(&k));
        }
        assert_eq!(r.len(), 3);
    });
}

/// A writer that walks past another key's claim whose tag is not written yet tags it before it
/// claims a later slot: its own read right after its insert (which may come before the other
/// claimer tags its slot) must find its key, and readers stop at the first UNTAGGED slot of a
/// chain. Fails without `Table::publish` in the writers' walk.
#[test]
fn a_claim_walked_past_is_tagged() {
    loom::model(|| {
        let map = tiny::<u64, u64>();
        let m = map.clone();
        let first = thread::spawn(move || {
            m.pin().insert(1, 1);
        });
        let r = map.pin();
        assert!(r.insert(2, 2).is_none());
        assert_eq!(r.get(&2), Some(&2));
        drop(r);
        first.join().unwrap();
        let r = map.pin();
        assert_eq!((r.get(&1), r.get(&2), r.len()), (Some(&1), Some(&2), 2));
    });
}

/// Inserts 2 -> 20 .. 5 -> 50 into a `tiny` map: 2 and 3 fill its 2-slot table, 4 starts a
/// resize (and goes to the new table), 5 copies slot 0, key 2's (one slot per chunk under loom).
fn insert_through_a_resize(map: &HashMap<u64, u64>) {
    let r = map.pin();
    for k in 2..=5 {
        r.insert(k, k * 10);
    }
}

/// A `remove` racing the insert of its key and the resize that copies it: a remove that returned
/// the entry is over, so a later `get` must not find the key (nor the entry, retired by the
/// remove, through the old table). Before every writer sealed the end of its chain on leaving a
/// table, the remove could skip the slot as EMPTY, meet the key's copy in the next table while
/// its original was still FROZEN in the old one, and retire it there.
#[test]
fn remove_races_insert_and_resize() {
    loom::model(|| {
        let map = tiny::<u64, u64>();
        let m = map.clone();
        let remover = thread::spawn(move || {
            let removed = m.pin().remove(&2).copied();
            let seen = m.pin().get(&2).copied();
            (removed, seen)
        });
        insert_through_a_resize(&map);
        let (removed, seen) = remover.join().unwrap();
        if removed.is_some() {
            assert_eq!(seen, None, "a removed key was still found");
        }
        let r = map.pin();
        assert_eq!(r.get(&2).is_some(), removed.is_none());
        assert_eq!(
            (r.get(&3), r.get(&4), r.get(&5)),
            (Some(&30), Some(&40), Some(&50))
        );
        assert_eq!(r.len(), 3 + usize::from(removed.is_none()));
    });
}

/// `clear` racing the insert of a key and the resize that copies it: a key that the clearing
/// thread still finds after its `clear` returned (an insert that raced it) must stay until
/// somebody removes it. Before `clear` sealed a resizing table's EMPTY slots, it could pass the
/// key's slot while EMPTY and then unlink (and retire) the key's copy in the next table while
/// the FROZEN original was still current: the key was found, then vanished.
#[test]
fn clear_races_insert_and_resize() {
    loom::model(|| {
        let map = tiny::<u64, u64>();
        let m = map.clone();
        let clearer = thread::spawn(move || {
            m.pin().clear();
            m.pin().get(&2).copied()
        });
        insert_through_a_resize(&map);
        let seen = clearer.join().unwrap();
        let end = map.pin().get(&2).copied();
        if seen.is_some() {
            assert_eq!(
                end, seen,
                "a key seen after clear vanished without a remove"
            );
        }
    });
}

/// `reserve` racing a writer whose inserts fill the 2-slot table and start (and help) a
/// doubling: `reserve` helps that resize, waits for the chunk the writer is copying, then grows
/// the table to its own request. On return the request is met, and no key is lost either way.
#[test]
fn reserve_races_a_writer_resize() {
    loom::model(|| {
        let map = tiny::<u64, u64>();
        map.pin().insert(1, 10);
        let m = map.clone();
        let w = thread::spawn(move || {
            let r = m.pin();
            r.insert(2, 20);
            r.insert(3, 30);
        });
        // At least 1 entry when it starts: room for 4.
        map.reserve(3);
        assert!(map.capacity() >= 4, "capacity {}", map.capacity());
        w.join().unwrap();
        let r = map.pin();
        for k in 1..=3 {
            assert_eq!(r.get(&k), Some(&(k * 10)));
        }
        assert_eq!(r.len(), 3);
    });
}

/// `AtomicMap` with a deterministic hasher; under loom its tables start at 2 slots and a
/// resize moves one slot per helping write.
type AtomicMap = freeway_hashmap::AtomicMap<u64, u64, BuildHasherDefault<DefaultHasher>>;

/// A full 2-slot `AtomicMap` holding keys 1 and 2 (the next new key starts a resize).
fn full_atomic() -> Arc<AtomicMap> {
    let map = Arc::new(AtomicMap::with_capacity_and_hasher(1, Default::default()));
    map.insert(1, 10);
    map.insert(2, 20);
    map
}

/// insert racing remove on one key: the outcomes of the two orders, and nothing else.
#[test]
fn atomic_insert_races_remove() {
    loom::model(|| {
        let map = Arc::new(AtomicMap::with_capacity_and_hasher(1, Default::default()));
        map.insert(7, 1);
        let m = map.clone();
        let t = thread::spawn(move || m.remove(7));
        let old = map.insert(7, 2);
        let removed = t.join().unwrap();
        match (old, removed) {
            (Some(1), Some(2)) => assert_eq!(map.get(7), None),
            (None, Some(1)) => assert_eq!(map.get(7), Some(2)),
            other => panic!("impossible outcome {other:?}"),
        }
        assert_eq!(map.len(), usize::from(map.get(7).is_some()));
    });
}

/// A compare-exchange and a fetch-add on key 1 race a writer whose new key starts a resize and
/// then moves the old table's slots (one per write): no update is lost to the move, and the
/// reader behind MOVED finds the value the slot had when it moved.
#[test]
fn atomic_updates_race_a_resize() {
    loom::model(|| {
        let map = full_atomic();
        let m = map.clone();
        let t = thread::spawn(move || {
            let cas = m.compare_exchange(1, 10, 11);
            let add = m.fetch_add(1, 100);
            (cas, add)
        });
        map.insert(3, 30);
        map.insert(4, 40);
        map.insert(5, 50);
        let (cas, add) = t.join().unwrap();
        assert_eq!(cas, Ok(10));
        assert_eq!(add, 11);
        assert_eq!(map.get(1), Some(111));
        assert_eq!(map.get(2), Some(20));
        assert_eq!(map.get(3), Some(30));
        assert_eq!(map.len(), 5);
    });
}

/// Two threads count on one key while one of them starts a resize: the count is exact.
#[test]
fn atomic_fetch_add_counts_exactly_through_a_resize() {
    loom::model(|| {
        let map = full_atomic();
        let m = map.clone();
        let t = thread::spawn(move || {
            m.fetch_add(2, 1);
            m.fetch_add(2, 1);
        });
        map.insert(3, 30);
        map.fetch_add(2, 1);
        t.join().unwrap();
        assert_eq!(map.get(2), Some(23));
        assert_eq!(map.get(1), Some(10));
    });
}

/// A remove of a key being moved races the mover: the key is either moved with its value and
/// then removed in the next table, or removed in the old one before the move; either way it is
/// gone afterwards and a reader sees 10 or nothing.
#[test]
fn atomic_remove_races_the_move() {
    loom::model(|| {
        let map = full_atomic();
        let m = map.clone();
        let t = thread::spawn(move || {
            let removed = m.remove(1);
            let seen = m.get(1);
            (removed, seen)
        });
        map.insert(3, 30);
        let seen = map.get(1);
        map.insert(4, 40);
        let (removed, after) = t.join().unwrap();
        assert_eq!(removed, Some(10));
        assert_eq!(after, None);
        assert!(seen.is_none() || seen == Some(10));
        assert_eq!(map.get(1), None);
        assert_eq!(map.len(), 3);
    });
}

/// A hasher that gives every key the same hash: one home bucket and one tag for all.
#[derive(Clone, Default)]
struct SameHash;
impl std::hash::BuildHasher for SameHash {
    type Hasher = SameHasher;
    fn build_hasher(&self) -> SameHasher {
        SameHasher
    }
}
struct SameHasher;
impl std::hash::Hasher for SameHasher {
    fn finish(&self) -> u64 {
        0xAB00_0000_0000_0000
    }
    fn write(&mut self, _: &[u8]) {}
}

/// Two writers insert the same key while a third key with the same tag races them: the tag
/// reservation and the fill are separate steps, and a slot reserved for the tag may be filled by
/// any key with it. The key ends up in one slot (removing it once leaves it absent), and the
/// other key is found.
#[test]
fn atomic_same_tag_inserts_share_no_slot() {
    loom::model(|| {
        let map = Arc::new(
            freeway_hashmap::AtomicMap::<u64, u64, SameHash>::with_capacity_and_hasher(1, SameHash),
        );
        let m = map.clone();
        let t = thread::spawn(move || {
            let a = m.insert(1, 10);
            let b = m.insert(2, 20);
            (a, b)
        });
        let c = map.insert(1, 11);
        let (a, b) = t.join().unwrap();
        assert_eq!(b, None);
        match (a, c) {
            (None, Some(10)) | (Some(11), None) => {}
            other => panic!("impossible outcome {other:?}"),
        }
        assert_eq!(map.len(), 2);
        assert!(map.remove(1).is_some());
        assert_eq!(map.get(1), None);
        assert_eq!(map.get(2), Some(20));
    });
}

/// Data written before a value is stored, as loom sees it: a cell written once by the thread
/// that stores the value, read by whoever reads that value back from the map.
struct Data(freeway_epoch::sync::cell::UnsafeCell<u64>);

// SAFETY: written once, by one thread, before the value that publishes it is stored; read only
// by threads that read that value (the happens-before the models check).
unsafe impl Sync for Data {}

impl Data {
    fn new() -> Arc<Self> {
        Arc::new(Data(freeway_epoch::sync::cell::UnsafeCell::new(0)))
    }
    fn write(&self, v: u64) {
        // SAFETY: see the `Sync` impl.
        self.0.with_mut(|c| unsafe { *c = v });
    }
    fn read(&self) -> u64 {
        // SAFETY: see the `Sync` impl.
        self.0.with(|c| unsafe { *c })
    }
}

/// A stored value carries what its writer did before (the type's "Memory ordering" docs), for
/// a key of the table and for a key of a side cell: a `get_or_insert` that loses its exchange
/// keeps the value it lost to, and a `get`, both read the writer's data. The key starts removed,
/// so a table key's slot is ABSENT and the exchange is on that slot. Both threads pin before the
/// data is written: a pin is a `SeqCst` fence, and loom lets a later fence acquire whatever came
/// before an earlier one, so a writer that pinned after writing its data would hand the data
/// over by its pin alone and hide the orderings of the value's own loads and exchanges.
fn value_carries_its_writes(key: u64) {
    loom::model(move || {
        let map = Arc::new(AtomicMap::with_capacity_and_hasher(1, Default::default()));
        map.insert(key, 0);
        map.remove(key);
        let data = Data::new();
        let (m, d) = (map.clone(), data.clone());
        let reader = thread::spawn(move || {
            let r = m.pin();
            if r.get_or_insert(key, 2) == 1 {
                assert_eq!(d.read(), 42);
            }
            if r.get(key) == Some(1) {
                assert_eq!(d.read(), 42);
            }
        });
        let w = map.pin();
        data.write(42);
        w.insert(key, 1);
        drop(w);
        reader.join().unwrap();
    });
}

#[test]
fn atomic_a_value_carries_its_writes() {
    value_carries_its_writes(7);
}

/// As above for the key whose bits XOR the map's key flip are 0: it lives in a side cell.
#[test]
fn atomic_a_side_value_carries_its_writes() {
    value_carries_its_writes(0x9E37_79B9_7F4A_7C15);
}
