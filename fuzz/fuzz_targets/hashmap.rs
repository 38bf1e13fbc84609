//! Differential fuzzing of `freeway_hashmap::HashMap<u64, u64>` against freeway-check's map
//! model, starting from a tiny table so that resizes and tombstone rehashes are exercised; the
//! final contents are checked through `iter` and the owning `into_iter`.
#![no_main]

use freeway_check::harness::{check_map_contents, map_ops, run_sequential_model};
use freeway_check::models::{MapModel, MapOp, MapRet};
use freeway_hashmap::HashMap;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let map: HashMap<u64, u64> = HashMap::with_capacity(0);
    let r = run_sequential_model(MapModel::new(), &map_ops(data), |op| {
        let m = map.pin();
        match *op {
            MapOp::Get(k) => MapRet::Get(m.get(&k).copied()),
            MapOp::Insert(k, v) => MapRet::Insert(m.insert(k, v).copied()),
            MapOp::Remove(k) => MapRet::Remove(m.remove(&k).copied()),
            MapOp::Update(k, d) => MapRet::Update(m.update(k, |v| v.wrapping_add(d)).copied()),
            MapOp::GetOrInsert(k, v) => MapRet::GetOrInsert(*m.get_or_insert_with(k, || v)),
        }
    });
    // Then the contents, through the iterator and through the owning iterator (which drains
    // every table of a resize left half done).
    let r = r.and_then(|model| {
        let seen = map.pin().iter().map(|(k, v)| (*k, *v)).collect();
        check_map_contents(&model, "iter", seen)?;
        check_map_contents(&model, "into_iter", map.into_iter().collect())
    });
    if let Err(e) = r {
        panic!("{e}");
    }
});
