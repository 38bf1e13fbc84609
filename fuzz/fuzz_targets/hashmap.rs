//! Differential fuzzing of `freeway_hashmap::HashMap<u64, u64>` against freeway-check's map
//! model, starting from a tiny table so that resizes and tombstone rehashes are exercised.
#![no_main]

use freeway_check::harness::{map_ops, run_sequential};
use freeway_check::models::{MapModel, MapOp, MapRet};
use freeway_hashmap::HashMap;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let map: HashMap<u64, u64> = HashMap::with_capacity(0);
    let r = run_sequential(MapModel::new(), &map_ops(data), |op| {
        let m = map.pin();
        match *op {
            MapOp::Get(k) => MapRet::Get(m.get(&k).copied()),
            MapOp::Insert(k, v) => MapRet::Insert(m.insert(k, v).copied()),
            MapOp::Remove(k) => MapRet::Remove(m.remove(&k).copied()),
            MapOp::Update(k, d) => MapRet::Update(m.update(k, |v| v.wrapping_add(d)).copied()),
            MapOp::GetOrInsert(k, v) => MapRet::GetOrInsert(*m.get_or_insert_with(k, || v)),
        }
    });
    if let Err(e) = r {
        panic!("{e}");
    }
});
