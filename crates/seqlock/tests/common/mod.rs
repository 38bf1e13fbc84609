//! The map from freeway-check's cell operations to `SeqLock`/`SeqLatch` calls, shared by the
//! proptest, stress and corpus-replay tests.
//!
//! `Swap` and `CompareExchange` are done with `update` (a read-modify-write under the writer
//! lock), so the model checks that writers are serialised too. Values are stored spread over four
//! words (`[v; 4]`), so a torn read shows up as unequal words: `wide` panics on one.

use freeway_check::models::{CellOp, CellRet};
use freeway_seqlock::{SeqLatch, SeqLock};

/// The operations the map needs, on both types.
pub(crate) trait Wide: Sync {
    fn make(v: u16) -> Self;
    fn read(&self) -> [u64; 4];
    fn store(&self, v: [u64; 4]);
    fn update<R>(&self, f: impl FnOnce(&mut [u64; 4]) -> R) -> R;
}

macro_rules! wide_impl {
    ($Lock:ident) => {
        impl Wide for $Lock<[u64; 4]> {
            fn make(v: u16) -> Self {
                $Lock::new(spread(v))
            }
            fn read(&self) -> [u64; 4] {
                $Lock::read(self)
            }
            fn store(&self, v: [u64; 4]) {
                $Lock::store(self, v)
            }
            fn update<R>(&self, f: impl FnOnce(&mut [u64; 4]) -> R) -> R {
                $Lock::update(self, f)
            }
        }
    };
}
wide_impl!(SeqLock);
wide_impl!(SeqLatch);

/// `v` in all four words, each word different in its high bits so that a word copied into the
/// wrong place is caught as well.
pub(crate) fn spread(v: u16) -> [u64; 4] {
    [0, 1, 2, 3].map(|i| (i << 48) | u64::from(v))
}

/// The `u16` in a value read, panicking if its words disagree (a torn read).
pub(crate) fn narrow(w: [u64; 4]) -> u16 {
    assert_eq!(w, spread(w[0] as u16), "torn or corrupt value read: {w:x?}");
    w[0] as u16
}

/// Performs `op` on `c` and returns what the model should have returned.
pub(crate) fn exec<C: Wide>(c: &C, op: &CellOp<u16>) -> CellRet<u16> {
    match *op {
        CellOp::Load => CellRet::Load(narrow(c.read())),
        CellOp::Store(v) => {
            c.store(spread(v));
            CellRet::Store
        }
        CellOp::Swap(v) => CellRet::Swap(narrow(c.update(|w| std::mem::replace(w, spread(v))))),
        CellOp::CompareExchange { current, new } => CellRet::CompareExchange(c.update(|w| {
            let now = narrow(*w);
            if now == current {
                *w = spread(new);
                Ok(now)
            } else {
                Err(now)
            }
        })),
    }
}
