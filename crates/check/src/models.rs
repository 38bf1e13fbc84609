//! Sequential models of Freeway's structures: FIFO queue, bounded FIFO queue, LIFO stack, map and
//! atomic cell (also the seqlock's model: `Load` and `Store`).
//!
//! # Examples
//!
//! ```
//! use freeway_check::models::{BoundedFifo, BoundedOp, BoundedRet};
//! use freeway_check::spec::Spec;
//!
//! let mut q = BoundedFifo::new(1);
//! assert_eq!(q.apply(&BoundedOp::Push(1)), BoundedRet::Push(Ok(())));
//! assert_eq!(q.apply(&BoundedOp::Push(2)), BoundedRet::Push(Err(2)));
//! assert_eq!(q.apply(&BoundedOp::ForcePush(3)), BoundedRet::ForcePush(Some(1)));
//! assert_eq!(q.apply(&BoundedOp::Pop), BoundedRet::Pop(Some(3)));
//! ```

use crate::lin::Event;
use crate::spec::Spec;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt::Debug;
use std::hash::Hash;

/// Values the models can hold.
pub trait Value: Clone + Debug + Eq + Hash + Send + Sync {}
impl<T: Clone + Debug + Eq + Hash + Send + Sync> Value for T {}

/// An operation on a queue.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum QueueOp<T> {
    /// `push(value)`.
    Push(T),
    /// `pop()`.
    Pop,
}

/// The result of a [`QueueOp`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum QueueRet<T> {
    /// `push` returned.
    Push,
    /// `pop` returned this.
    Pop(Option<T>),
}

/// An unbounded FIFO queue.
///
/// # Examples
///
/// ```
/// use freeway_check::models::{Fifo, QueueOp, QueueRet};
/// use freeway_check::spec::Spec;
///
/// let mut q = Fifo::new();
/// q.apply(&QueueOp::Push('a'));
/// q.apply(&QueueOp::Push('b'));
/// assert_eq!(q.apply(&QueueOp::Pop), QueueRet::Pop(Some('a')));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Fifo<T> {
    items: VecDeque<T>,
}

impl<T> Fifo<T> {
    /// An empty queue.
    ///
    /// # Examples
    ///
    /// ```
    /// let _q = freeway_check::models::Fifo::<u8>::new();
    /// ```
    pub fn new() -> Self {
        Self {
            items: VecDeque::new(),
        }
    }
}

impl<T: Value> Spec for Fifo<T> {
    type Op = QueueOp<T>;
    type Ret = QueueRet<T>;
    fn apply(&mut self, op: &QueueOp<T>) -> QueueRet<T> {
        match op {
            QueueOp::Push(v) => {
                self.items.push_back(v.clone());
                QueueRet::Push
            }
            QueueOp::Pop => QueueRet::Pop(self.items.pop_front()),
        }
    }

    /// Pops by their return; each push by the return of the pop that took its value, so the
    /// pushes are tried in the order the pops saw (pushes never popped last, in call order).
    fn search_keys(events: &[&Event<QueueOp<T>, QueueRet<T>>]) -> Option<Vec<u64>> {
        let exits = exit_times(events.iter().filter_map(|e| match &e.ret {
            QueueRet::Pop(Some(v)) => Some((v, e.returned)),
            _ => None,
        }));
        Some(
            events
                .iter()
                .map(|e| match &e.op {
                    QueueOp::Push(v) => entry_key(&exits, v, e),
                    QueueOp::Pop => e.returned,
                })
                .collect(),
        )
    }
}

/// The earliest time each value left a queue, for [`Spec::search_keys`].
fn exit_times<'a, T: Value + 'a>(exits: impl Iterator<Item = (&'a T, u64)>) -> HashMap<&'a T, u64> {
    let mut m: HashMap<&T, u64> = HashMap::new();
    for (v, t) in exits {
        let slot = m.entry(v).or_insert(t);
        *slot = (*slot).min(t);
    }
    m
}

/// The search key of an operation that puts `v` into a queue: when `v` left, or, for a value
/// still inside at the end, after every value that left (in call order).
fn entry_key<T: Value, O, R>(exits: &HashMap<&T, u64>, v: &T, e: &Event<O, R>) -> u64 {
    exits
        .get(v)
        .copied()
        .unwrap_or((u64::MAX / 2).saturating_add(e.call))
}

/// An operation on a queue with batch operations (the unbounded queue's `push_batch` and
/// `pop_batch`), as recorded and as the checker expands it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum BatchOp<T> {
    /// `push(value)`.
    Push(T),
    /// `pop()`.
    Pop,
    /// `push_batch(values)`, recorded with an `id` unique in the history. Each value takes effect
    /// at its own instant during the call, in order, and other operations may fall between them:
    /// it expands into one [`PushItem`](Self::PushItem) per value.
    PushBatch {
        /// Tells this batch's steps from other batches'.
        id: u64,
        /// The values, in order.
        values: Vec<T>,
    },
    /// `pop_batch(max)`: it expands into one [`PopTook`](Self::PopTook) step, which takes the
    /// values the call returned from the front of the queue at one instant.
    PopBatch(usize),
    /// The `index`th value of batch `id` (a step of [`PushBatch`](Self::PushBatch)).
    PushItem {
        /// The batch.
        id: u64,
        /// The value's place in the batch.
        index: usize,
        /// The value.
        value: T,
    },
    /// A `pop_batch` step that took `n` values (0: the queue was empty).
    PopTook(usize),
}

/// The result of a [`BatchOp`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum BatchRet<T> {
    /// `push` or `push_batch` returned (or a batch step succeeded).
    Push,
    /// `pop` returned this.
    Pop(Option<T>),
    /// `pop_batch` returned these values.
    PopBatch(Vec<T>),
    /// The model refuses the step here: a batch value out of its order, a `pop_batch` that
    /// took more values than the queue holds, or none from a non-empty queue. Never recorded, so
    /// it never matches: the checker tries another order.
    Refused,
}

/// An unbounded FIFO queue with batch operations: a [`Fifo`] whose `push_batch` is a sequence of
/// pushes in order and whose `pop_batch` is one step.
///
/// # Examples
///
/// ```
/// use freeway_check::models::{BatchFifo, BatchOp, BatchRet};
/// use freeway_check::spec::Spec;
///
/// let mut q = BatchFifo::new();
/// q.apply(&BatchOp::PushItem { id: 1, index: 0, value: 'a' });
/// // The batch's second value cannot come before its first.
/// assert_eq!(q.apply(&BatchOp::PushItem { id: 1, index: 2, value: 'c' }), BatchRet::Refused);
/// q.apply(&BatchOp::PushItem { id: 1, index: 1, value: 'b' });
/// assert_eq!(q.apply(&BatchOp::PopTook(2)), BatchRet::PopBatch(vec!['a', 'b']));
/// assert_eq!(q.apply(&BatchOp::PopTook(0)), BatchRet::PopBatch(vec![]));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct BatchFifo<T> {
    items: VecDeque<T>,
    /// Per batch, the index of its next value (batches not started are absent).
    next: BTreeMap<u64, usize>,
}

impl<T> BatchFifo<T> {
    /// An empty queue.
    ///
    /// # Examples
    ///
    /// ```
    /// let _q = freeway_check::models::BatchFifo::<u8>::new();
    /// ```
    pub fn new() -> Self {
        Self {
            items: VecDeque::new(),
            next: BTreeMap::new(),
        }
    }
}

impl<T: Value> Spec for BatchFifo<T> {
    type Op = BatchOp<T>;
    type Ret = BatchRet<T>;
    fn apply(&mut self, op: &BatchOp<T>) -> BatchRet<T> {
        match op {
            BatchOp::Push(v) => {
                self.items.push_back(v.clone());
                BatchRet::Push
            }
            BatchOp::Pop => BatchRet::Pop(self.items.pop_front()),
            BatchOp::PushItem { id, index, value } => {
                let next = self.next.get(id).copied().unwrap_or(0);
                if next != *index {
                    return BatchRet::Refused;
                }
                self.next.insert(*id, index + 1);
                self.items.push_back(value.clone());
                BatchRet::Push
            }
            BatchOp::PopTook(n) => {
                if (*n == 0) != self.items.is_empty() || *n > self.items.len() {
                    return BatchRet::Refused;
                }
                BatchRet::PopBatch(self.items.drain(..n).collect())
            }
            // Recorded forms: the checker expands them (see `expand`) before applying anything.
            BatchOp::PushBatch { .. } | BatchOp::PopBatch(_) => BatchRet::Refused,
        }
    }

    fn expand(op: BatchOp<T>, ret: BatchRet<T>) -> Vec<(BatchOp<T>, BatchRet<T>)> {
        match (op, ret) {
            (BatchOp::PushBatch { id, values }, ret) => values
                .into_iter()
                .enumerate()
                .map(|(index, value)| (BatchOp::PushItem { id, index, value }, ret.clone()))
                .collect(),
            (BatchOp::PopBatch(_), BatchRet::PopBatch(got)) => {
                vec![(BatchOp::PopTook(got.len()), BatchRet::PopBatch(got))]
            }
            (op, ret) => vec![(op, ret)],
        }
    }

    /// As for [`Fifo`]: pops by their return, each value's push by when the value left.
    fn search_keys(events: &[&Event<BatchOp<T>, BatchRet<T>>]) -> Option<Vec<u64>> {
        let exits = exit_times(events.iter().flat_map(|e| {
            let taken: Vec<&T> = match &e.ret {
                BatchRet::Pop(Some(v)) => vec![v],
                BatchRet::PopBatch(vs) => vs.iter().collect(),
                _ => Vec::new(),
            };
            taken.into_iter().map(move |v| (v, e.returned))
        }));
        Some(
            events
                .iter()
                .map(|e| match &e.op {
                    BatchOp::Push(v) | BatchOp::PushItem { value: v, .. } => {
                        entry_key(&exits, v, e)
                    }
                    _ => e.returned,
                })
                .collect(),
        )
    }
}

/// An operation on a bounded queue.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum BoundedOp<T> {
    /// `push(value)`: fails with the value when full.
    Push(T),
    /// `force_push(value)`: evicts the oldest when full.
    ForcePush(T),
    /// `pop()`.
    Pop,
}

/// The result of a [`BoundedOp`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum BoundedRet<T> {
    /// What `push` returned.
    Push(Result<(), T>),
    /// What `force_push` returned (the evicted value).
    ForcePush(Option<T>),
    /// What `pop` returned.
    Pop(Option<T>),
}

/// A bounded FIFO queue.
///
/// # Examples
///
/// ```
/// use freeway_check::models::{BoundedFifo, BoundedOp, BoundedRet};
/// use freeway_check::spec::Spec;
///
/// let mut q = BoundedFifo::<u8>::new(2);
/// assert_eq!(q.apply(&BoundedOp::Pop), BoundedRet::Pop(None));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BoundedFifo<T> {
    capacity: usize,
    items: VecDeque<T>,
}

impl<T> BoundedFifo<T> {
    /// An empty queue holding at most `capacity` values.
    ///
    /// # Panics
    ///
    /// If `capacity` is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// let _q = freeway_check::models::BoundedFifo::<u8>::new(4);
    /// ```
    pub fn new(capacity: usize) -> Self {
        assert!(capacity > 0, "BoundedFifo capacity must be non-zero");
        Self {
            capacity,
            items: VecDeque::new(),
        }
    }
}

impl<T: Value> Spec for BoundedFifo<T> {
    type Op = BoundedOp<T>;
    type Ret = BoundedRet<T>;
    fn apply(&mut self, op: &BoundedOp<T>) -> BoundedRet<T> {
        match op {
            BoundedOp::Push(v) => {
                if self.items.len() == self.capacity {
                    BoundedRet::Push(Err(v.clone()))
                } else {
                    self.items.push_back(v.clone());
                    BoundedRet::Push(Ok(()))
                }
            }
            BoundedOp::ForcePush(v) => {
                let evicted = if self.items.len() == self.capacity {
                    self.items.pop_front()
                } else {
                    None
                };
                self.items.push_back(v.clone());
                BoundedRet::ForcePush(evicted)
            }
            BoundedOp::Pop => BoundedRet::Pop(self.items.pop_front()),
        }
    }

    /// As for [`Fifo`]: a value's entry is keyed by its exit (a pop, or an eviction by
    /// `force_push`); a `force_push` that evicted is pinned by its eviction instead, and
    /// everything else by its return.
    fn search_keys(events: &[&Event<BoundedOp<T>, BoundedRet<T>>]) -> Option<Vec<u64>> {
        let exits = exit_times(events.iter().filter_map(|e| match &e.ret {
            BoundedRet::Pop(Some(v)) | BoundedRet::ForcePush(Some(v)) => Some((v, e.returned)),
            _ => None,
        }));
        Some(
            events
                .iter()
                .map(|e| match (&e.op, &e.ret) {
                    (BoundedOp::Push(v), BoundedRet::Push(Ok(())))
                    | (BoundedOp::ForcePush(v), BoundedRet::ForcePush(None)) => {
                        entry_key(&exits, v, e)
                    }
                    _ => e.returned,
                })
                .collect(),
        )
    }
}

/// An operation on a stack.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum StackOp<T> {
    /// `push(value)`.
    Push(T),
    /// `pop()`.
    Pop,
}

/// The result of a [`StackOp`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum StackRet<T> {
    /// `push` returned.
    Push,
    /// `pop` returned this.
    Pop(Option<T>),
}

/// A LIFO stack.
///
/// # Examples
///
/// ```
/// use freeway_check::models::{Lifo, StackOp, StackRet};
/// use freeway_check::spec::Spec;
///
/// let mut s = Lifo::new();
/// s.apply(&StackOp::Push(1));
/// s.apply(&StackOp::Push(2));
/// assert_eq!(s.apply(&StackOp::Pop), StackRet::Pop(Some(2)));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Lifo<T> {
    items: Vec<T>,
}

impl<T> Lifo<T> {
    /// An empty stack.
    ///
    /// # Examples
    ///
    /// ```
    /// let _s = freeway_check::models::Lifo::<u8>::new();
    /// ```
    pub fn new() -> Self {
        Self { items: Vec::new() }
    }
}

impl<T: Value> Spec for Lifo<T> {
    type Op = StackOp<T>;
    type Ret = StackRet<T>;
    fn apply(&mut self, op: &StackOp<T>) -> StackRet<T> {
        match op {
            StackOp::Push(v) => {
                self.items.push(v.clone());
                StackRet::Push
            }
            StackOp::Pop => StackRet::Pop(self.items.pop()),
        }
    }
}

/// An operation on a `u64 -> u64` map.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum MapOp {
    /// `get(key)`.
    Get(u64),
    /// `insert(key, value)`.
    Insert(u64, u64),
    /// `remove(key)`.
    Remove(u64),
    /// `update(key, |old| old.wrapping_add(delta))`.
    Update(u64, u64),
    /// `get_or_insert_with(key, || value)`.
    GetOrInsert(u64, u64),
}

impl MapOp {
    /// The key the operation touches (for per-key, P-compositional checking).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(freeway_check::models::MapOp::Insert(3, 9).key(), 3);
    /// ```
    pub fn key(&self) -> u64 {
        match *self {
            MapOp::Get(k)
            | MapOp::Insert(k, _)
            | MapOp::Remove(k)
            | MapOp::Update(k, _)
            | MapOp::GetOrInsert(k, _) => k,
        }
    }
}

/// The result of a [`MapOp`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum MapRet {
    /// The value found.
    Get(Option<u64>),
    /// The value replaced.
    Insert(Option<u64>),
    /// The value removed.
    Remove(Option<u64>),
    /// The new value; `None` when the key was absent (nothing inserted).
    Update(Option<u64>),
    /// The value present after the call.
    GetOrInsert(u64),
}

/// A `u64 -> u64` map.
///
/// # Examples
///
/// ```
/// use freeway_check::models::{MapModel, MapOp, MapRet};
/// use freeway_check::spec::Spec;
///
/// let mut m = MapModel::new();
/// assert_eq!(m.apply(&MapOp::Insert(1, 10)), MapRet::Insert(None));
/// assert_eq!(m.apply(&MapOp::Update(1, 5)), MapRet::Update(Some(15)));
/// assert_eq!(m.apply(&MapOp::Remove(1)), MapRet::Remove(Some(15)));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct MapModel {
    entries: BTreeMap<u64, u64>,
}

impl MapModel {
    /// An empty map.
    ///
    /// # Examples
    ///
    /// ```
    /// let _m = freeway_check::models::MapModel::new();
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// The entries, sorted by key.
    ///
    /// # Examples
    ///
    /// ```
    /// use freeway_check::models::{MapModel, MapOp};
    /// use freeway_check::spec::Spec;
    ///
    /// let mut m = MapModel::new();
    /// m.apply(&MapOp::Insert(2, 20));
    /// m.apply(&MapOp::Insert(1, 10));
    /// assert_eq!(m.entries(), [(1, 10), (2, 20)]);
    /// ```
    pub fn entries(&self) -> Vec<(u64, u64)> {
        self.entries.iter().map(|(&k, &v)| (k, v)).collect()
    }
}

impl Spec for MapModel {
    type Op = MapOp;
    type Ret = MapRet;
    fn apply(&mut self, op: &MapOp) -> MapRet {
        match *op {
            MapOp::Get(k) => MapRet::Get(self.entries.get(&k).copied()),
            MapOp::Insert(k, v) => MapRet::Insert(self.entries.insert(k, v)),
            MapOp::Remove(k) => MapRet::Remove(self.entries.remove(&k)),
            MapOp::Update(k, d) => MapRet::Update(self.entries.get_mut(&k).map(|v| {
                *v = v.wrapping_add(d);
                *v
            })),
            MapOp::GetOrInsert(k, v) => MapRet::GetOrInsert(*self.entries.entry(k).or_insert(v)),
        }
    }
}

/// An operation on a `u64 -> u64` map of words (`AtomicMap`): the [`MapOp`]s and the word
/// map's own.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum WordMapOp {
    /// One of the general map operations.
    Map(MapOp),
    /// `compare_exchange(key, current, new)`.
    CompareExchange(u64, u64, u64),
    /// `fetch_add(key, delta)` (wrapping; an absent key counts as 0).
    FetchAdd(u64, u64),
    /// `remove_if(key, |v| v == value)`.
    RemoveIf(u64, u64),
}

impl WordMapOp {
    /// The key the operation touches (for per-key, P-compositional checking).
    ///
    /// # Examples
    ///
    /// ```
    /// use freeway_check::models::WordMapOp;
    /// assert_eq!(WordMapOp::FetchAdd(3, 1).key(), 3);
    /// ```
    pub fn key(&self) -> u64 {
        match *self {
            WordMapOp::Map(ref op) => op.key(),
            WordMapOp::CompareExchange(k, ..)
            | WordMapOp::FetchAdd(k, _)
            | WordMapOp::RemoveIf(k, _) => k,
        }
    }
}

/// The result of a [`WordMapOp`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum WordMapRet {
    /// The result of a [`MapOp`].
    Map(MapRet),
    /// `Ok(current)`, `Err(Some(actual))` or `Err(None)` (absent; nothing inserted).
    CompareExchange(Result<u64, Option<u64>>),
    /// The previous value (0 if absent).
    FetchAdd(u64),
    /// The value removed.
    RemoveIf(Option<u64>),
}

/// A `u64 -> u64` map with the word map's operations (see [`WordMapOp`]).
///
/// # Examples
///
/// ```
/// use freeway_check::models::{MapOp, MapRet, WordMapModel, WordMapOp, WordMapRet};
/// use freeway_check::spec::Spec;
///
/// let mut m = WordMapModel::new();
/// assert_eq!(m.apply(&WordMapOp::FetchAdd(1, 5)), WordMapRet::FetchAdd(0));
/// assert_eq!(m.apply(&WordMapOp::CompareExchange(1, 5, 6)), WordMapRet::CompareExchange(Ok(5)));
/// assert_eq!(m.apply(&WordMapOp::Map(MapOp::Get(1))), WordMapRet::Map(MapRet::Get(Some(6))));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct WordMapModel {
    map: MapModel,
}

impl WordMapModel {
    /// An empty map.
    ///
    /// # Examples
    ///
    /// ```
    /// let _m = freeway_check::models::WordMapModel::new();
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// The general model inside (for [`check_map_contents`](crate::harness::check_map_contents)).
    ///
    /// # Examples
    ///
    /// ```
    /// use freeway_check::models::{WordMapModel, WordMapOp};
    /// use freeway_check::spec::Spec;
    ///
    /// let mut m = WordMapModel::new();
    /// m.apply(&WordMapOp::FetchAdd(2, 7));
    /// assert_eq!(m.as_map().entries(), [(2, 7)]);
    /// ```
    pub fn as_map(&self) -> &MapModel {
        &self.map
    }
}

impl Spec for WordMapModel {
    type Op = WordMapOp;
    type Ret = WordMapRet;
    fn apply(&mut self, op: &WordMapOp) -> WordMapRet {
        let e = &mut self.map.entries;
        match *op {
            WordMapOp::Map(ref op) => WordMapRet::Map(self.map.apply(op)),
            WordMapOp::CompareExchange(k, cur, new) => {
                WordMapRet::CompareExchange(match e.get(&k) {
                    Some(&v) if v == cur => {
                        e.insert(k, new);
                        Ok(cur)
                    }
                    other => Err(other.copied()),
                })
            }
            WordMapOp::FetchAdd(k, d) => {
                let old = e.get(&k).copied().unwrap_or(0);
                e.insert(k, old.wrapping_add(d));
                WordMapRet::FetchAdd(old)
            }
            WordMapOp::RemoveIf(k, v) => WordMapRet::RemoveIf(if e.get(&k) == Some(&v) {
                e.remove(&k)
            } else {
                None
            }),
        }
    }
}

/// An operation on an atomic cell (also a seqlock: `Load` is `read`, `Store` is `store`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CellOp<T> {
    /// `load()`.
    Load,
    /// `store(value)`.
    Store(T),
    /// `swap(value)`.
    Swap(T),
    /// `compare_exchange(current, new)`.
    CompareExchange {
        /// The expected value.
        current: T,
        /// The value to install.
        new: T,
    },
}

/// The result of a [`CellOp`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CellRet<T> {
    /// The value loaded.
    Load(T),
    /// `store` returned.
    Store,
    /// The value replaced.
    Swap(T),
    /// `Ok(previous)` on success, `Err(actual)` on failure.
    CompareExchange(Result<T, T>),
}

/// An atomic cell holding one value.
///
/// # Examples
///
/// ```
/// use freeway_check::models::{CellModel, CellOp, CellRet};
/// use freeway_check::spec::Spec;
///
/// let mut c = CellModel::new(0);
/// assert_eq!(c.apply(&CellOp::CompareExchange { current: 0, new: 1 }), CellRet::CompareExchange(Ok(0)));
/// assert_eq!(c.apply(&CellOp::CompareExchange { current: 0, new: 2 }), CellRet::CompareExchange(Err(1)));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CellModel<T> {
    value: T,
}

impl<T> CellModel<T> {
    /// A cell holding `initial`.
    ///
    /// # Examples
    ///
    /// ```
    /// let _c = freeway_check::models::CellModel::new(7u8);
    /// ```
    pub fn new(initial: T) -> Self {
        Self { value: initial }
    }
}

impl<T: Value> Spec for CellModel<T> {
    type Op = CellOp<T>;
    type Ret = CellRet<T>;
    fn apply(&mut self, op: &CellOp<T>) -> CellRet<T> {
        match op {
            CellOp::Load => CellRet::Load(self.value.clone()),
            CellOp::Store(v) => {
                self.value = v.clone();
                CellRet::Store
            }
            CellOp::Swap(v) => CellRet::Swap(std::mem::replace(&mut self.value, v.clone())),
            CellOp::CompareExchange { current, new } => {
                if self.value == *current {
                    CellRet::CompareExchange(Ok(std::mem::replace(&mut self.value, new.clone())))
                } else {
                    CellRet::CompareExchange(Err(self.value.clone()))
                }
            }
        }
    }
}
