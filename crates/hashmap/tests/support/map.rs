//! The `HashMap` calls of the `hashmap` fuzz target, shared with the corpus replay test (the
//! target includes this file), so that a failing fuzz input replays through the same calls.

use freeway_check::harness::{check_map_contents, map_ops, run_sequential_model};
use freeway_check::models::{MapModel, MapOp, MapRet};
use freeway_hashmap::HashMap;

/// Decodes `data` into map operations and runs them on a map that starts from a tiny table
/// (so that resizes and tombstone rehashes happen), against the model; then checks the
/// contents through `iter` and through the owning `into_iter` (which drains every table of a
/// resize left half done).
pub(crate) fn replay(data: &[u8]) -> Result<(), String> {
    let map: HashMap<u64, u64> = HashMap::with_capacity(0);
    let model = run_sequential_model(MapModel::new(), &map_ops(data), |op| {
        let m = map.pin();
        match *op {
            MapOp::Get(k) => MapRet::Get(m.get(&k).copied()),
            MapOp::Insert(k, v) => MapRet::Insert(m.insert(k, v).copied()),
            MapOp::Remove(k) => MapRet::Remove(m.remove(&k).copied()),
            MapOp::Update(k, d) => MapRet::Update(m.update(k, |v| v.wrapping_add(d)).copied()),
            MapOp::GetOrInsert(k, v) => MapRet::GetOrInsert(*m.get_or_insert_with(k, || v)),
        }
    })?;
    let seen = map.pin().iter().map(|(k, v)| (*k, *v)).collect();
    check_map_contents(&model, "iter", seen)?;
    check_map_contents(&model, "into_iter", map.into_iter().collect())
}
