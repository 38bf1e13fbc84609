//! proptest strategies: random operation sequences for the models.
//!
//! # Examples
//!
//! ```
//! use proptest::prelude::*;
//! use freeway_check::strategies::queue_ops;
//!
//! proptest!(|(ops in queue_ops(50))| {
//!     prop_assert!(ops.len() <= 50);
//! });
//! ```

use crate::models::{BoundedOp, CellOp, MapOp, QueueOp, StackOp, WordMapOp};
use proptest::collection::vec;
use proptest::prelude::*;

/// Up to `max_len` queue operations (push of small values, pop).
pub fn queue_ops(max_len: usize) -> impl Strategy<Value = Vec<QueueOp<u16>>> {
    vec(
        prop_oneof![any::<u16>().prop_map(QueueOp::Push), Just(QueueOp::Pop)],
        0..=max_len,
    )
}

/// Up to `max_len` bounded-queue operations.
pub fn bounded_ops(max_len: usize) -> impl Strategy<Value = Vec<BoundedOp<u16>>> {
    vec(
        prop_oneof![
            3 => any::<u16>().prop_map(BoundedOp::Push),
            1 => any::<u16>().prop_map(BoundedOp::ForcePush),
            3 => Just(BoundedOp::Pop),
        ],
        0..=max_len,
    )
}

/// Up to `max_len` stack operations.
pub fn stack_ops(max_len: usize) -> impl Strategy<Value = Vec<StackOp<u16>>> {
    vec(
        prop_oneof![any::<u16>().prop_map(StackOp::Push), Just(StackOp::Pop)],
        0..=max_len,
    )
}

/// Up to `max_len` map operations over 32 keys.
pub fn map_ops(max_len: usize) -> impl Strategy<Value = Vec<MapOp>> {
    let k = 0u64..32;
    vec(
        prop_oneof![
            k.clone().prop_map(MapOp::Get),
            (k.clone(), any::<u64>()).prop_map(|(k, v)| MapOp::Insert(k, v)),
            k.clone().prop_map(MapOp::Remove),
            (k.clone(), 0u64..100).prop_map(|(k, d)| MapOp::Update(k, d)),
            (k, any::<u64>()).prop_map(|(k, v)| MapOp::GetOrInsert(k, v)),
        ],
        0..=max_len,
    )
}

/// Up to `max_len` word-map operations over the keys of
/// [`WORD_MAP_KEYS`](crate::harness::WORD_MAP_KEYS) and 32 more, values small or extreme.
pub fn word_map_ops(max_len: usize) -> impl Strategy<Value = Vec<WordMapOp>> {
    let k = prop_oneof![
        prop::sample::select(&crate::harness::WORD_MAP_KEYS[..]),
        100u64..132,
    ];
    let v = prop_oneof![0u64..8, Just(u64::MAX), any::<u64>()];
    vec(
        prop_oneof![
            k.clone().prop_map(|k| WordMapOp::Map(MapOp::Get(k))),
            (k.clone(), v.clone()).prop_map(|(k, v)| WordMapOp::Map(MapOp::Insert(k, v))),
            k.clone().prop_map(|k| WordMapOp::Map(MapOp::Remove(k))),
            (k.clone(), v.clone()).prop_map(|(k, d)| WordMapOp::Map(MapOp::Update(k, d))),
            (k.clone(), v.clone()).prop_map(|(k, v)| WordMapOp::Map(MapOp::GetOrInsert(k, v))),
            (k.clone(), v.clone(), v.clone())
                .prop_map(|(k, c, n)| WordMapOp::CompareExchange(k, c, n)),
            (k.clone(), v.clone()).prop_map(|(k, d)| WordMapOp::FetchAdd(k, d)),
            (k, v).prop_map(|(k, v)| WordMapOp::RemoveIf(k, v)),
        ],
        0..=max_len,
    )
}

/// Up to `max_len` cell operations over the values `0..8`.
pub fn cell_ops(max_len: usize) -> impl Strategy<Value = Vec<CellOp<u16>>> {
    let v = 0u16..8;
    vec(
        prop_oneof![
            Just(CellOp::Load),
            v.clone().prop_map(CellOp::Store),
            v.clone().prop_map(CellOp::Swap),
            (v.clone(), v).prop_map(|(current, new)| CellOp::CompareExchange { current, new }),
        ],
        0..=max_len,
    )
}
