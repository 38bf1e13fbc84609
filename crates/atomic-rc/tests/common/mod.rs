//! Helpers shared by the test binaries: executing freeway-check's cell operations on each cell
//! flavour (sized, unsized through a node, optional).
#![allow(dead_code)]

use freeway_atomic_rc::{AtomicArc, AtomicOptionArc};
use freeway_check::models::{CellOp, CellRet};
use std::sync::Arc;

/// How `Load` is performed.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Read {
    /// `load()`, an owned Arc.
    Load,
    /// `snapshot()` under a fresh pin.
    Snapshot,
}

/// Executes `op` on a sized cell. `CompareExchange` compares by value, as the model does: it
/// loads the current `Arc`, compares its value, and exchanges against that very `Arc`, retrying
/// when the pointer moved (a value-level CAS built on the pointer CAS; linearizes at the final
/// load or at the successful exchange).
pub(crate) fn exec_sized(cell: &AtomicArc<u16>, op: &CellOp<u16>, read: Read) -> CellRet<u16> {
    match *op {
        CellOp::Load => CellRet::Load(match read {
            Read::Load => *cell.load(),
            Read::Snapshot => *cell.snapshot(&freeway_epoch::pin()),
        }),
        CellOp::Store(v) => {
            cell.store(Arc::new(v));
            CellRet::Store
        }
        CellOp::Swap(v) => CellRet::Swap(*cell.swap(Arc::new(v))),
        CellOp::CompareExchange { current, new } => {
            let mut seen = cell.load();
            let mut new = Arc::new(new);
            loop {
                if *seen != current {
                    return CellRet::CompareExchange(Err(*seen));
                }
                match cell.compare_exchange(&seen, new) {
                    Ok(prev) => {
                        assert!(Arc::ptr_eq(&prev, &seen), "success returns `current`");
                        return CellRet::CompareExchange(Ok(*prev));
                    }
                    Err(e) => {
                        seen = e.current;
                        new = e.new;
                    }
                }
            }
        }
    }
}

fn s(v: u16) -> Arc<str> {
    Arc::from(v.to_string())
}

fn n(v: &str) -> u16 {
    v.parse().expect("cells hold numbers")
}

/// As [`exec_sized`], on an unsized cell (`AtomicArc<str>`, the boxed-node layout).
pub(crate) fn exec_unsized(cell: &AtomicArc<str>, op: &CellOp<u16>, read: Read) -> CellRet<u16> {
    match *op {
        CellOp::Load => CellRet::Load(match read {
            Read::Load => n(&cell.load()),
            Read::Snapshot => n(&cell.snapshot(&freeway_epoch::pin())),
        }),
        CellOp::Store(v) => {
            cell.store(s(v));
            CellRet::Store
        }
        CellOp::Swap(v) => CellRet::Swap(n(&cell.swap(s(v)))),
        CellOp::CompareExchange { current, new } => {
            let mut seen = cell.load();
            let mut new = s(new);
            loop {
                if n(&seen) != current {
                    return CellRet::CompareExchange(Err(n(&seen)));
                }
                match cell.compare_exchange(&seen, new) {
                    Ok(prev) => return CellRet::CompareExchange(Ok(n(&prev))),
                    Err(e) => {
                        seen = e.current;
                        new = e.new;
                    }
                }
            }
        }
    }
}

/// As [`exec_sized`], on an optional cell; the value 0 stands for `None`.
pub(crate) fn exec_option(
    cell: &AtomicOptionArc<u16>,
    op: &CellOp<u16>,
    read: Read,
) -> CellRet<u16> {
    let wrap = |v: u16| (v != 0).then(|| Arc::new(v));
    let unwrap = |v: Option<Arc<u16>>| v.map_or(0, |a| *a);
    match *op {
        CellOp::Load => CellRet::Load(match read {
            Read::Load => unwrap(cell.load()),
            Read::Snapshot => cell.snapshot(&freeway_epoch::pin()).map_or(0, |s| *s),
        }),
        CellOp::Store(0) if matches!(read, Read::Snapshot) => {
            // Exercise `take` as the `Store(None)` spelling half the time.
            drop(cell.take());
            CellRet::Store
        }
        CellOp::Store(v) => {
            cell.store(wrap(v));
            CellRet::Store
        }
        CellOp::Swap(v) => CellRet::Swap(unwrap(cell.swap(wrap(v)))),
        CellOp::CompareExchange { current, new } => {
            let mut seen = cell.load();
            let mut new = wrap(new);
            loop {
                if seen.as_deref().map_or(0, |v| *v) != current {
                    return CellRet::CompareExchange(Err(unwrap(seen)));
                }
                match cell.compare_exchange(seen.as_ref(), new) {
                    Ok(prev) => return CellRet::CompareExchange(Ok(unwrap(prev))),
                    Err(e) => {
                        seen = e.current;
                        new = e.new;
                    }
                }
            }
        }
    }
}

/// The fuzz harness (shared by `fuzz/fuzz_targets/atomic_rc.rs` and `tests/fuzz_corpus.rs`):
/// decodes `data` into cell operations and runs them on every flavour against the model.
pub(crate) fn run_all_flavours(data: &[u8]) -> Result<(), String> {
    use freeway_check::harness::{cell_ops, run_sequential};
    use freeway_check::models::CellModel;

    let ops = cell_ops(data);
    for read in [Read::Load, Read::Snapshot] {
        let cell = AtomicArc::new(Arc::new(0u16));
        run_sequential(CellModel::new(0u16), &ops, |op| exec_sized(&cell, op, read))
            .map_err(|e| format!("AtomicArc<u16> ({read:?} reads): {e}"))?;
        let cell: AtomicArc<str> = AtomicArc::new(Arc::from("0"));
        run_sequential(CellModel::new(0u16), &ops, |op| {
            exec_unsized(&cell, op, read)
        })
        .map_err(|e| format!("AtomicArc<str> ({read:?} reads): {e}"))?;
        let cell = AtomicOptionArc::new(None);
        run_sequential(CellModel::new(0u16), &ops, |op| {
            exec_option(&cell, op, read)
        })
        .map_err(|e| format!("AtomicOptionArc<u16> ({read:?} reads): {e}"))?;
    }
    Ok(())
}
