//! Harnesses shared by tests and fuzz targets: the sequential differential runner and the
//! decoders that turn fuzz bytes into operation sequences.
//!
//! A fuzz target is `decode + run_sequential` against the structure; the corpus-replay test of
//! each crate calls the same two functions on the committed corpus, so a failing fuzz input
//! replays as a plain stable test.
//!
//! # Examples
//!
//! ```
//! use freeway_check::harness::{queue_ops, run_sequential};
//! use freeway_check::models::{Fifo, QueueOp, QueueRet};
//! use std::collections::VecDeque;
//!
//! let ops = queue_ops(&[0, 1, 0, 2, 0, 1, 1]);
//! let mut real = VecDeque::new();
//! run_sequential(Fifo::new(), &ops, |op| match op {
//!     QueueOp::Push(v) => { real.push_back(*v); QueueRet::Push }
//!     QueueOp::Pop => QueueRet::Pop(real.pop_front()),
//! }).unwrap();
//! ```

use crate::models::{BoundedOp, CellOp, MapOp, QueueOp, StackOp, WordMapOp};
use crate::spec::Spec;

/// Applies `ops` one by one to the model and, through `exec`, to the real structure, and
/// compares every result.
///
/// # Errors
///
/// The first step whose results differ, with the operations before it.
///
/// # Examples
///
/// ```
/// use freeway_check::harness::run_sequential;
/// use freeway_check::models::{Lifo, StackOp, StackRet};
///
/// let mut v = Vec::new();
/// let r = run_sequential(Lifo::new(), &[StackOp::Push(1u16), StackOp::Pop], |op| match op {
///     StackOp::Push(x) => { v.push(*x); StackRet::Push }
///     StackOp::Pop => StackRet::Pop(v.pop()),
/// });
/// assert!(r.is_ok());
/// ```
pub fn run_sequential<S: Spec>(
    model: S,
    ops: &[S::Op],
    exec: impl FnMut(&S::Op) -> S::Ret,
) -> Result<(), String> {
    run_sequential_model(model, ops, exec).map(|_| ())
}

/// [`run_sequential`], returning the model after the last operation, for a final check of the
/// structure's contents (see [`check_map_contents`]).
///
/// # Errors
///
/// The first step whose results differ, with the operations before it.
///
/// # Examples
///
/// ```
/// use freeway_check::harness::run_sequential_model;
/// use freeway_check::models::{MapModel, MapOp, MapRet};
///
/// let mut real = std::collections::HashMap::new();
/// let model = run_sequential_model(MapModel::new(), &[MapOp::Insert(1, 2)], |op| match *op {
///     MapOp::Insert(k, v) => MapRet::Insert(real.insert(k, v)),
///     _ => unreachable!(),
/// })
/// .unwrap();
/// assert_eq!(model.entries(), [(1, 2)]);
/// ```
pub fn run_sequential_model<S: Spec>(
    mut model: S,
    ops: &[S::Op],
    mut exec: impl FnMut(&S::Op) -> S::Ret,
) -> Result<S, String> {
    for (i, op) in ops.iter().enumerate() {
        let want = model.apply(op);
        let got = exec(op);
        if got != want {
            let start = i.saturating_sub(10);
            return Err(format!(
                "step {i}: {op:?} returned {got:?}, the model says {want:?}\n  preceding ops: {:?}\n  model now: {model:?}",
                &ops[start..i]
            ));
        }
    }
    Ok(model)
}

/// Compares a map's entries, gathered in any order by `what` (an iterator, a drain) after the
/// last operation, with the model's.
///
/// # Errors
///
/// The first key where the two differ, and both lengths.
///
/// # Examples
///
/// ```
/// use freeway_check::harness::check_map_contents;
/// use freeway_check::models::{MapModel, MapOp};
/// use freeway_check::spec::Spec;
///
/// let mut model = MapModel::new();
/// model.apply(&MapOp::Insert(3, 4));
/// model.apply(&MapOp::Insert(1, 2));
/// assert!(check_map_contents(&model, "iter", vec![(3, 4), (1, 2)]).is_ok());
/// assert!(check_map_contents(&model, "iter", vec![(1, 2)]).is_err());
/// ```
pub fn check_map_contents(
    model: &crate::models::MapModel,
    what: &str,
    mut got: Vec<(u64, u64)>,
) -> Result<(), String> {
    got.sort_unstable();
    let want = model.entries();
    if got == want {
        return Ok(());
    }
    let at = got
        .iter()
        .zip(&want)
        .position(|(g, w)| g != w)
        .unwrap_or(got.len().min(want.len()));
    Err(format!(
        "{what} yielded {} entries, the model holds {}; first difference at sorted position {at}: \
         {:?} against {:?}",
        got.len(),
        want.len(),
        got.get(at),
        want.get(at)
    ))
}

/// Replays a committed fuzz corpus: calls `run` on the bytes of every file in `dir` and panics
/// with the file's path and the error at the first input that fails. Returns the number of
/// inputs, and panics if there are fewer than `at_least` (an empty or missing corpus would
/// otherwise pass without testing anything).
///
/// A crate's `tests/fuzz_corpus.rs` calls this with the same function its fuzz target runs, so
/// that a failing fuzz input replays as a plain stable test.
///
/// # Examples
///
/// ```
/// use freeway_check::harness::{queue_ops, replay_corpus};
///
/// let dir = std::env::temp_dir().join(format!("freeway-check-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("one"), [0u8, 1, 2]).unwrap();
/// let n = replay_corpus(&dir, 1, |data| {
///     assert!(!queue_ops(data).is_empty());
///     Ok(())
/// });
/// assert_eq!(n, 1);
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn replay_corpus(
    dir: impl AsRef<std::path::Path>,
    at_least: usize,
    mut run: impl FnMut(&[u8]) -> Result<(), String>,
) -> usize {
    let dir = dir.as_ref();
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read the corpus {}: {e}", dir.display()));
    let mut inputs = 0;
    for entry in entries {
        let path = entry
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
            .path();
        if !path.is_file() {
            continue;
        }
        let data =
            std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        if let Err(e) = run(&data) {
            panic!("{}: {e}", path.display());
        }
        inputs += 1;
    }
    assert!(
        inputs >= at_least,
        "{} holds {inputs} corpus inputs, expected at least {at_least}",
        dir.display()
    );
    inputs
}

/// A decoder of fuzz input: reads numbers from the front; past the end every read is zero.
///
/// # Examples
///
/// ```
/// let mut b = freeway_check::harness::Bytes::new(&[1, 2, 3]);
/// assert_eq!(b.u8(), 1);
/// assert_eq!(b.u16(), 0x0302);
/// assert!(b.is_empty());
/// assert_eq!(b.u8(), 0);
/// ```
#[derive(Debug, Clone)]
pub struct Bytes<'a> {
    data: &'a [u8],
}

impl<'a> Bytes<'a> {
    /// A decoder over `data`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(freeway_check::harness::Bytes::new(&[]).is_empty());
    /// ```
    pub fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    /// Whether all input is consumed.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!freeway_check::harness::Bytes::new(&[0]).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The next byte (0 past the end).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(freeway_check::harness::Bytes::new(&[9]).u8(), 9);
    /// ```
    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    /// The next two bytes, little-endian.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(freeway_check::harness::Bytes::new(&[1, 1]).u16(), 257);
    /// ```
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    /// The next eight bytes, little-endian.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(freeway_check::harness::Bytes::new(&[1]).u64(), 1);
    /// ```
    pub fn u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        for x in &mut b {
            *x = self.u8();
        }
        u64::from_le_bytes(b)
    }

    /// A number in `0..n` from one byte (`n` ≤ 256 gives every value a chance).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(freeway_check::harness::Bytes::new(&[7]).below(5), 2);
    /// ```
    pub fn below(&mut self, n: u64) -> u64 {
        u64::from(self.u8()) % n.max(1)
    }
}

/// Queue operations: a selector byte (even: push of the next `u16`, odd: pop).
///
/// # Examples
///
/// ```
/// use freeway_check::models::QueueOp;
/// assert_eq!(freeway_check::harness::queue_ops(&[0, 5, 0, 1]), vec![QueueOp::Push(5), QueueOp::Pop]);
/// ```
pub fn queue_ops(data: &[u8]) -> Vec<QueueOp<u16>> {
    let mut b = Bytes::new(data);
    let mut ops = Vec::new();
    while !b.is_empty() {
        ops.push(if b.u8().is_multiple_of(2) {
            QueueOp::Push(b.u16())
        } else {
            QueueOp::Pop
        });
    }
    ops
}

/// Bounded-queue operations: selector byte mod 3 (push, force_push of the next `u16`, pop).
/// Pick the capacity from the input too, e.g. `1 + data[0] % 16`, and decode the rest.
///
/// # Examples
///
/// ```
/// use freeway_check::models::BoundedOp;
/// assert_eq!(freeway_check::harness::bounded_ops(&[2]), vec![BoundedOp::Pop]);
/// ```
pub fn bounded_ops(data: &[u8]) -> Vec<BoundedOp<u16>> {
    let mut b = Bytes::new(data);
    let mut ops = Vec::new();
    while !b.is_empty() {
        ops.push(match b.u8() % 3 {
            0 => BoundedOp::Push(b.u16()),
            1 => BoundedOp::ForcePush(b.u16()),
            _ => BoundedOp::Pop,
        });
    }
    ops
}

/// Stack operations: a selector byte (even: push of the next `u16`, odd: pop).
///
/// # Examples
///
/// ```
/// use freeway_check::models::StackOp;
/// assert_eq!(freeway_check::harness::stack_ops(&[1]), vec![StackOp::Pop]);
/// ```
pub fn stack_ops(data: &[u8]) -> Vec<StackOp<u16>> {
    let mut b = Bytes::new(data);
    let mut ops = Vec::new();
    while !b.is_empty() {
        ops.push(if b.u8().is_multiple_of(2) {
            StackOp::Push(b.u16())
        } else {
            StackOp::Pop
        });
    }
    ops
}

/// Map operations over 16 keys: selector byte mod 5, then a key byte and a value byte.
///
/// # Examples
///
/// ```
/// use freeway_check::models::MapOp;
/// assert_eq!(freeway_check::harness::map_ops(&[1, 3, 9]), vec![MapOp::Insert(3, 9)]);
/// ```
pub fn map_ops(data: &[u8]) -> Vec<MapOp> {
    let mut b = Bytes::new(data);
    let mut ops = Vec::new();
    while !b.is_empty() {
        let sel = b.u8() % 5;
        let k = b.below(16);
        ops.push(match sel {
            0 => MapOp::Get(k),
            1 => MapOp::Insert(k, u64::from(b.u8())),
            2 => MapOp::Remove(k),
            3 => MapOp::Update(k, u64::from(b.u8())),
            _ => MapOp::GetOrInsert(k, u64::from(b.u8())),
        });
    }
    ops
}

/// Keys for word-map inputs: small ones, the extremes, and the four 64-bit keys that
/// `freeway_hashmap::AtomicMap` keeps in side cells instead of its table (their bits collide with
/// its slot markers; the map's unit tests check that this list names them).
pub const WORD_MAP_KEYS: [u64; 16] = [
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    u64::MAX,
    u64::MAX - 1,
    0x9E37_79B9_7F4A_7C15,
    0x9E37_79B9_7F4A_7C14,
    0x9E37_79B9_7F4A_7C17,
    0x9E37_79B9_7F4A_7C16,
    1 << 63,
];

/// Word-map operations: a selector byte mod 8, a key from [`WORD_MAP_KEYS`] and values that are
/// a byte, or for one in four the extremes (`u64::MAX`, 0).
///
/// # Examples
///
/// ```
/// use freeway_check::models::{MapOp, WordMapOp};
/// assert_eq!(
///     freeway_check::harness::word_map_ops(&[0, 9]),
///     vec![WordMapOp::Map(MapOp::Get(u64::MAX))]
/// );
/// ```
pub fn word_map_ops(data: &[u8]) -> Vec<WordMapOp> {
    let mut b = Bytes::new(data);
    let mut ops = Vec::new();
    let value = |b: &mut Bytes<'_>| match b.u8() {
        0xFF => u64::MAX,
        x => u64::from(x),
    };
    while !b.is_empty() {
        let sel = b.u8() % 8;
        let k = WORD_MAP_KEYS[b.below(16) as usize];
        ops.push(match sel {
            0 => WordMapOp::Map(MapOp::Get(k)),
            1 => WordMapOp::Map(MapOp::Insert(k, value(&mut b))),
            2 => WordMapOp::Map(MapOp::Remove(k)),
            3 => WordMapOp::Map(MapOp::Update(k, value(&mut b))),
            4 => WordMapOp::Map(MapOp::GetOrInsert(k, value(&mut b))),
            5 => WordMapOp::CompareExchange(k, value(&mut b), value(&mut b)),
            6 => WordMapOp::FetchAdd(k, value(&mut b)),
            _ => WordMapOp::RemoveIf(k, value(&mut b)),
        });
    }
    ops
}

/// Cell operations over the values `0..8` (so that compare-exchange succeeds often): selector
/// byte mod 4 (load, store, swap, compare-exchange).
///
/// # Examples
///
/// ```
/// use freeway_check::models::CellOp;
/// assert_eq!(freeway_check::harness::cell_ops(&[0, 2, 5]), vec![CellOp::Load, CellOp::Swap(5)]);
/// ```
pub fn cell_ops(data: &[u8]) -> Vec<CellOp<u16>> {
    let mut b = Bytes::new(data);
    let mut ops = Vec::new();
    while !b.is_empty() {
        ops.push(match b.u8() % 4 {
            0 => CellOp::Load,
            1 => CellOp::Store(b.below(8) as u16),
            2 => CellOp::Swap(b.below(8) as u16),
            _ => CellOp::CompareExchange {
                current: b.below(8) as u16,
                new: b.below(8) as u16,
            },
        });
    }
    ops
}
