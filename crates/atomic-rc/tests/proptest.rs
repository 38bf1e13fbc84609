//! Random operation sequences against freeway-check's cell model, on every cell flavour.
#![cfg(not(loom))]

mod common;

use common::{Read, exec_option, exec_sized, exec_unsized};
use freeway_atomic_rc::{AtomicArc, AtomicOptionArc};
use freeway_check::harness::run_sequential;
use freeway_check::models::CellModel;
use freeway_check::strategies::cell_ops;
use proptest::prelude::*;
use std::sync::Arc;

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn sized_cell_matches_the_model(ops in cell_ops(64), init in 0u16..8, snap in any::<bool>()) {
        let cell = AtomicArc::new(Arc::new(init));
        let read = if snap { Read::Snapshot } else { Read::Load };
        run_sequential(CellModel::new(init), &ops, |op| exec_sized(&cell, op, read))
            .map_err(TestCaseError::fail)?;
    }

    #[test]
    fn unsized_cell_matches_the_model(ops in cell_ops(64), init in 0u16..8, snap in any::<bool>()) {
        let cell: AtomicArc<str> = AtomicArc::new(Arc::from(init.to_string()));
        let read = if snap { Read::Snapshot } else { Read::Load };
        run_sequential(CellModel::new(init), &ops, |op| exec_unsized(&cell, op, read))
            .map_err(TestCaseError::fail)?;
    }

    #[test]
    fn option_cell_matches_the_model(ops in cell_ops(64), init in 0u16..8, snap in any::<bool>()) {
        let cell = AtomicOptionArc::new((init != 0).then(|| Arc::new(init)));
        let read = if snap { Read::Snapshot } else { Read::Load };
        run_sequential(CellModel::new(init), &ops, |op| exec_option(&cell, op, read))
            .map_err(TestCaseError::fail)?;
    }
}
