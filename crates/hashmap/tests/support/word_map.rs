//! The `AtomicMap` calls behind its model checks, shared by the proptest, stress and corpus
//! replay tests, and by the `atomic_map` fuzz target (which includes this file).
// Each includer uses part of it.
#![allow(dead_code)]

use freeway_check::harness::{check_map_contents, run_sequential_model};
use freeway_check::models::{MapOp, MapRet, WordMapModel, WordMapOp, WordMapRet};
use freeway_hashmap::AtomicMap;

/// Runs `op` on `map`: the same calls as the `atomic_map` fuzz target.
pub(crate) fn exec(map: &AtomicMap<u64, u64>, op: &WordMapOp) -> WordMapRet {
    match *op {
        WordMapOp::Map(ref op) => WordMapRet::Map(match *op {
            MapOp::Get(k) => MapRet::Get(map.get(k)),
            MapOp::Insert(k, v) => MapRet::Insert(map.insert(k, v)),
            MapOp::Remove(k) => MapRet::Remove(map.remove(k)),
            MapOp::Update(k, d) => MapRet::Update(map.update(k, |v| v.wrapping_add(d))),
            MapOp::GetOrInsert(k, v) => MapRet::GetOrInsert(map.get_or_insert(k, v)),
        }),
        WordMapOp::CompareExchange(k, c, n) => {
            WordMapRet::CompareExchange(map.compare_exchange(k, c, n))
        }
        WordMapOp::FetchAdd(k, d) => WordMapRet::FetchAdd(map.fetch_add(k, d)),
        WordMapOp::RemoveIf(k, v) => WordMapRet::RemoveIf(map.remove_if(k, |x| x == v)),
    }
}

/// The operations, then the contents through `iter` and the length.
pub(crate) fn replay(ops: &[WordMapOp]) -> Result<(), String> {
    let map = AtomicMap::with_capacity(0);
    let model = run_sequential_model(WordMapModel::new(), ops, |op| exec(&map, op))?;
    check_map_contents(model.as_map(), "iter", map.iter().collect())?;
    if map.len() != model.as_map().entries().len() {
        return Err(format!(
            "len {} against {}",
            map.len(),
            model.as_map().entries().len()
        ));
    }
    Ok(())
}
