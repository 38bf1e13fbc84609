//! Random operation sequences against freeway-check's cell model, on both types.
#![cfg(not(loom))]

mod common;

use common::{Wide, exec};
use freeway_check::harness::run_sequential;
use freeway_check::models::CellModel;
use freeway_check::strategies::cell_ops;
use freeway_seqlock::{SeqLatch, SeqLock};
use proptest::prelude::*;

fn run<C: Wide>(ops: &[freeway_check::models::CellOp<u16>]) -> Result<(), String> {
    let c = C::make(0);
    run_sequential(CellModel::new(0u16), ops, |op| exec(&c, op))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn seqlock_matches_the_cell_model(ops in cell_ops(200)) {
        run::<SeqLock<[u64; 4]>>(&ops).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn seqlatch_matches_the_cell_model(ops in cell_ops(200)) {
        run::<SeqLatch<[u64; 4]>>(&ops).map_err(TestCaseError::fail)?;
    }

    /// Byte-sized and odd-sized values: the tail word is zero-padded and must round-trip.
    #[test]
    fn odd_sized_values_round_trip(a in any::<[u8; 13]>(), b in any::<[u8; 13]>(), c in any::<(u128, char, bool)>()) {
        let l = SeqLock::new(a);
        prop_assert_eq!(l.read(), a);
        l.store(b);
        prop_assert_eq!(l.try_read(), Some(b));
        let t = SeqLatch::new(a);
        t.store(b);
        prop_assert_eq!(t.read(), b);
        prop_assert_eq!(t.into_inner(), b);
        let w = SeqLatch::new(c.0);
        w.update(|v| *v ^= 1);
        prop_assert_eq!(w.read(), c.0 ^ 1);
        let ch = SeqLock::new(c.1);
        prop_assert_eq!(ch.read(), c.1);
        let bo = SeqLatch::new(c.2);
        bo.store(!c.2);
        prop_assert_eq!(bo.read(), !c.2);
    }
}
