//! Replays the committed fuzz corpora of the `hashmap` and `atomic_map` targets through the same
//! harnesses.
#![cfg(not(loom))]

#[path = "support/word_map.rs"]
mod word_map;

use freeway_check::harness::{check_map_contents, map_ops, run_sequential_model};
use freeway_check::models::{MapModel, MapOp, MapRet};
use freeway_hashmap::HashMap;

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

#[test]
fn corpus_replay_hashmap() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus/hashmap");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).expect("fuzz/corpus/hashmap exists") {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let map = HashMap::with_capacity(0);
        // As the fuzz target: the operations, then the contents through `iter` and `into_iter`.
        let r = run_sequential_model(MapModel::new(), &map_ops(&data), |op| exec(&map, op))
            .and_then(|model| {
                let seen = map.pin().iter().map(|(k, v)| (*k, *v)).collect();
                check_map_contents(&model, "iter", seen)?;
                check_map_contents(&model, "into_iter", map.into_iter().collect())
            });
        if let Err(e) = r {
            panic!("{}: {e}", path.display());
        }
        n += 1;
    }
    assert!(n > 0, "empty corpus");
}

#[test]
fn corpus_replay_atomic_map() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus/atomic_map");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).expect("fuzz/corpus/atomic_map exists") {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        if let Err(e) = word_map::replay(&freeway_check::harness::word_map_ops(&data)) {
            panic!("{}: {e}", path.display());
        }
        n += 1;
    }
    assert!(n > 0, "empty corpus");
}
