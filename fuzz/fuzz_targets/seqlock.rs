//! Differential fuzzing of `SeqLock` and `SeqLatch` against freeway-check's cell model: the same
//! decoded operations run on both, values spread over four words (`[v; 4]`) so that a torn or
//! misplaced word shows. `Swap` and `CompareExchange` go through `update`.
#![no_main]

use freeway_check::harness::{cell_ops, run_sequential};
use freeway_check::models::{CellModel, CellOp, CellRet};
use freeway_seqlock::{SeqLatch, SeqLock};
use libfuzzer_sys::fuzz_target;

fn spread(v: u16) -> [u64; 4] {
    [0u64, 1, 2, 3].map(|i| (i << 48) | u64::from(v))
}

fn narrow(w: [u64; 4]) -> u16 {
    assert_eq!(w, spread(w[0] as u16), "corrupt value read: {w:x?}");
    w[0] as u16
}

macro_rules! exec {
    ($c:expr, $op:expr) => {
        match *$op {
            CellOp::Load => CellRet::Load(narrow($c.read())),
            CellOp::Store(v) => {
                $c.store(spread(v));
                CellRet::Store
            }
            CellOp::Swap(v) => CellRet::Swap(narrow($c.update(|w| std::mem::replace(w, spread(v))))),
            CellOp::CompareExchange { current, new } => CellRet::CompareExchange($c.update(|w| {
                let now = narrow(*w);
                if now == current {
                    *w = spread(new);
                    Ok(now)
                } else {
                    Err(now)
                }
            })),
        }
    };
}

fuzz_target!(|data: &[u8]| {
    let ops = cell_ops(data);
    let lock = SeqLock::new(spread(0));
    if let Err(e) = run_sequential(CellModel::new(0u16), &ops, |op| exec!(lock, op)) {
        panic!("SeqLock: {e}");
    }
    let latch = SeqLatch::new(spread(0));
    if let Err(e) = run_sequential(CellModel::new(0u16), &ops, |op| exec!(latch, op)) {
        panic!("SeqLatch: {e}");
    }
});
