//! Random operation sequences against freeway-check's sequential map model.
#![cfg(not(loom))]

use freeway_check::harness::run_sequential;
use freeway_check::models::{MapModel, MapOp, MapRet};
use freeway_check::spec::Spec;
use freeway_hashmap::HashMap;
use proptest::prelude::*;

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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn matches_the_model(ops in freeway_check::strategies::map_ops(300)) {
        let map = HashMap::with_capacity(0);
        let r = run_sequential(MapModel::new(), &ops, |op| exec(&map, op));
        prop_assert!(r.is_ok(), "{}", r.unwrap_err());
        // The iterator agrees with the model's final contents.
        let mut model = MapModel::new();
        for op in &ops {
            model.apply(op);
        }
        let live: Vec<(u64, u64)> = (0..64)
            .filter_map(|k| match model.apply(&MapOp::Get(k)) {
                MapRet::Get(v) => v.map(|v| (k, v)),
                _ => None,
            })
            .collect();
        let g = freeway_epoch::pin();
        let mut got: Vec<_> = map.iter(&g).map(|(k, v)| (*k, *v)).collect();
        got.sort_unstable();
        prop_assert_eq!(got, live);
        prop_assert_eq!(map.len(), map.iter(&g).count());
    }
}
