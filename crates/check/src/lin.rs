//! Recording concurrent histories and deciding whether they are linearizable.
//!
//! # Linearizability
//!
//! A history (operations with their call and return times and results) is linearizable with
//! respect to a sequential [`Spec`] if the operations can be put in one order that (1) respects
//! real time: an operation that returned before another was called comes first, and (2) makes
//! every result what the spec returns when applied in that order (Herlihy & Wing, TOPLAS 1990).
//!
//! # The checker
//!
//! The search is Wing & Gong's (J. Parallel Distrib. Comput. 1993) with Lowe's improvements
//! ("Testing for linearizability", Concurrency and Computation 2017), as Porcupine does it:
//!
//! 1. Calls and returns are laid out in time order in a linked list (at equal times, calls come
//!    first, so touching operations count as concurrent: the permissive, sound choice).
//! 2. Walking the list, a call whose operation, applied to the current state, gives the recorded
//!    result is *linearized* tentatively: it and its return are lifted out of the list, the state
//!    advances, and the walk restarts from the front.
//! 3. Meeting a return means the operation it ends must already have been linearized; it was
//!    not, so the search backtracks: the last tentative choice is undone and the walk goes on
//!    after it.
//! 4. Memoisation: a (set of linearized operations, state) pair seen before is not explored
//!    again, which turns the exponential search into one bounded by the distinct reachable
//!    configurations: for the histories Freeway records (2–4 threads, thousands of operations)
//!    this takes milliseconds.
//!
//! Maps are checked key by key ([`check_partitioned`]): linearizability is compositional over
//! objects (Herlihy & Wing), and a map is one object per key for operations that touch one key
//! (Horn & Kroening, "Faster linearizability checking via P-compositionality", FORTE 2015).
//!
//! # What a failure says
//!
//! A [`Counterexample`] reports the deepest point the search reached: the operations linearized
//! by then (the tail of them), the state there, and the operations still open at the first
//! return that could not be explained, in call order with their times and results. Those open
//! operations are the ones whose results no order can reconcile.
//!
//! # What it does not prove
//!
//! A passing check says that *this* history was linearizable; interleavings that the run did not
//! produce are loom's job, and memory-safety bugs are AddressSanitizer's.
//!
//! # Examples
//!
//! ```
//! use freeway_check::lin::{Recorder, check};
//! use freeway_check::models::{Fifo, QueueOp, QueueRet};
//! use std::collections::VecDeque;
//! use std::sync::Mutex;
//!
//! let queue = Mutex::new(VecDeque::new());
//! let rec = Recorder::new();
//! std::thread::scope(|s| {
//!     for t in 0..2u32 {
//!         let (queue, rec) = (&queue, &rec);
//!         s.spawn(move || {
//!             let mut log = rec.thread();
//!             for i in 0..50 {
//!                 log.call(QueueOp::Push(t * 100 + i), |op| match op {
//!                     QueueOp::Push(v) => { queue.lock().unwrap().push_back(*v); QueueRet::Push }
//!                     QueueOp::Pop => QueueRet::Pop(queue.lock().unwrap().pop_front()),
//!                 });
//!                 log.call(QueueOp::Pop, |_| QueueRet::Pop(queue.lock().unwrap().pop_front()));
//!             }
//!         });
//!     }
//! });
//! let history = rec.into_history();
//! assert_eq!(history.len(), 200);
//! check(&Fifo::new(), &history).unwrap();
//! ```

use crate::spec::Spec;
use freeway_epoch::sync::Mutex;
use freeway_epoch::sync::atomic::{AtomicUsize, Ordering};
use std::collections::{HashMap, HashSet};
use std::fmt::{self, Debug};
use std::hash::Hash;
use std::time::Instant;

/// One completed operation.
#[derive(Clone, Debug, PartialEq)]
pub struct Event<O, R> {
    /// The thread (log) that ran it.
    pub thread: usize,
    /// The operation.
    pub op: O,
    /// What it returned.
    pub ret: R,
    /// Nanoseconds since the recorder started, just before the call.
    pub call: u64,
    /// Nanoseconds since the recorder started, just after the return.
    pub returned: u64,
}

/// A recorded history: completed operations of all threads.
///
/// # Examples
///
/// ```
/// use freeway_check::lin::{Event, History};
///
/// let h = History::from_events(vec![Event { thread: 0, op: 'p', ret: (), call: 0, returned: 1 }]);
/// assert_eq!(h.len(), 1);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct History<O, R> {
    events: Vec<Event<O, R>>,
}

impl<O, R> History<O, R> {
    /// A history made of these events (for hand-written histories in tests).
    ///
    /// # Examples
    ///
    /// ```
    /// let h = freeway_check::lin::History::<u8, u8>::from_events(vec![]);
    /// assert!(h.is_empty());
    /// ```
    pub fn from_events(mut events: Vec<Event<O, R>>) -> Self {
        events.sort_by_key(|e| (e.call, e.returned));
        Self { events }
    }

    /// The events, in call order.
    ///
    /// # Examples
    ///
    /// ```
    /// let h = freeway_check::lin::History::<u8, u8>::from_events(vec![]);
    /// assert!(h.events().is_empty());
    /// ```
    pub fn events(&self) -> &[Event<O, R>] {
        &self.events
    }

    /// Number of operations.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(freeway_check::lin::History::<u8, u8>::from_events(vec![]).len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether there are no operations.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(freeway_check::lin::History::<u8, u8>::from_events(vec![]).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

/// Collects per-thread logs into one [`History`].
///
/// Each thread appends to its own [`ThreadLog`] (no shared lock per operation); a log is merged
/// into the recorder when it is dropped. Times come from one monotonic clock ([`Instant`]).
///
/// # Examples
///
/// ```
/// use freeway_check::lin::Recorder;
///
/// let rec = Recorder::<u8, u8>::new();
/// {
///     let mut log = rec.thread();
///     assert_eq!(log.call(1, |x| x + 1), 2);
/// }
/// assert_eq!(rec.into_history().len(), 1);
/// ```
#[derive(Debug)]
pub struct Recorder<O, R> {
    start: Instant,
    next_thread: AtomicUsize,
    merged: Mutex<Vec<Event<O, R>>>,
}

impl<O, R> Default for Recorder<O, R> {
    fn default() -> Self {
        Self::new()
    }
}

impl<O, R> Recorder<O, R> {
    /// A recorder whose clock starts now.
    ///
    /// # Examples
    ///
    /// ```
    /// let _r = freeway_check::lin::Recorder::<(), ()>::new();
    /// ```
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
            next_thread: AtomicUsize::new(0),
            merged: Mutex::new(Vec::new()),
        }
    }

    /// A log for one thread. Use one log per thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let r = freeway_check::lin::Recorder::<u8, ()>::new();
    /// let mut log = r.thread();
    /// log.call(3, |_| ());
    /// ```
    pub fn thread(&self) -> ThreadLog<'_, O, R> {
        ThreadLog {
            // Relaxed: only hands out distinct ids.
            thread: self.next_thread.fetch_add(1, Ordering::Relaxed),
            recorder: self,
            events: Vec::with_capacity(1024),
        }
    }

    fn now(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    /// The history of every log dropped so far.
    ///
    /// # Examples
    ///
    /// ```
    /// let r = freeway_check::lin::Recorder::<u8, ()>::new();
    /// assert!(r.into_history().is_empty());
    /// ```
    pub fn into_history(self) -> History<O, R> {
        let events = self.merged.into_inner().unwrap_or_else(|e| e.into_inner());
        History::from_events(events)
    }
}

/// One thread's log; merged into its [`Recorder`] on drop.
///
/// # Examples
///
/// ```
/// let r = freeway_check::lin::Recorder::<&str, usize>::new();
/// let mut log = r.thread();
/// assert_eq!(log.call("four", |s| s.len()), 4);
/// ```
#[derive(Debug)]
pub struct ThreadLog<'r, O, R> {
    thread: usize,
    recorder: &'r Recorder<O, R>,
    events: Vec<Event<O, R>>,
}

impl<O, R: Clone> ThreadLog<'_, O, R> {
    /// Runs `f(&op)`, recording the call time, the result and the return time; returns the result.
    ///
    /// # Examples
    ///
    /// ```
    /// let r = freeway_check::lin::Recorder::<u8, u8>::new();
    /// let mut log = r.thread();
    /// assert_eq!(log.call(2, |x| x * 2), 4);
    /// ```
    pub fn call(&mut self, op: O, f: impl FnOnce(&O) -> R) -> R {
        let call = self.recorder.now();
        let ret = f(&op);
        let returned = self.recorder.now();
        self.events.push(Event {
            thread: self.thread,
            op,
            ret: ret.clone(),
            call,
            returned,
        });
        ret
    }
}

impl<O, R> Drop for ThreadLog<'_, O, R> {
    fn drop(&mut self) {
        let mut merged = self
            .recorder
            .merged
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        merged.append(&mut self.events);
    }
}

/// Distinct (linearized set, state) configurations the search may remember before it gives up
/// and calls the history inconclusive. Bounds the checker's memory (each configuration holds a
/// bit set and a state) at roughly a gigabyte for the largest histories Freeway records.
pub const SEARCH_BUDGET: usize = 1_000_000;

/// Why a history is not linearizable, or why the search could not decide.
///
/// `Display` gives the readable form.
#[derive(Clone, Debug)]
pub struct Counterexample {
    /// `true` when the search ran out of its [`SEARCH_BUDGET`] before deciding: the history is
    /// neither proven nor refuted. The other fields then describe the deepest point reached.
    pub inconclusive: bool,
    /// The partition (key) the failure is in, for partitioned checks.
    pub partition: Option<String>,
    /// How many operations the history (or partition) has.
    pub total: usize,
    /// The most operations linearized in any explored order.
    pub linearized: usize,
    /// The last few operations of that deepest order, formatted.
    pub prefix_tail: Vec<String>,
    /// The spec state after that order, formatted.
    pub state: String,
    /// The operations left open at the first return the search could not get past, in call
    /// order: no order of them is consistent with their results.
    pub stuck: Vec<String>,
}

impl fmt::Display for Counterexample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.inconclusive {
            writeln!(
                f,
                "linearizability undecided: the search ran out of its configuration budget without an answer"
            )?;
        } else {
            writeln!(f, "history is not linearizable")?;
        }
        if let Some(p) = &self.partition {
            writeln!(f, "  in partition {p}")?;
        }
        writeln!(
            f,
            "  deepest consistent order covers {} of {} operations; its last steps:",
            self.linearized, self.total
        )?;
        for s in &self.prefix_tail {
            writeln!(f, "    {s}")?;
        }
        writeln!(f, "  spec state there: {}", self.state)?;
        writeln!(
            f,
            "  operations that no order explains from there (call order, times in ns):"
        )?;
        for s in &self.stuck {
            writeln!(f, "    {s}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Counterexample {}

fn describe<O: Debug, R: Debug>(e: &Event<O, R>) -> String {
    format!(
        "t{} [{}..{}] {:?} -> {:?}",
        e.thread, e.call, e.returned, e.op, e.ret
    )
}

/// A fixed-size bit set keyed by operation index.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Bits(Vec<u64>);

impl Bits {
    fn new(n: usize) -> Self {
        Bits(vec![0; n.div_ceil(64)])
    }
    fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }
    fn clear(&mut self, i: usize) {
        self.0[i / 64] &= !(1 << (i % 64));
    }
}

/// Decides whether `history` is linearizable with respect to the spec starting in `init`.
///
/// # Errors
///
/// A [`Counterexample`] explaining where every order fails, or one marked `inconclusive` when
/// the search exceeded [`SEARCH_BUDGET`] (very wide overlaps, e.g. threads blocked in a lock
/// while others run hundreds of operations).
///
/// # Examples
///
/// A value popped twice is caught:
///
/// ```
/// use freeway_check::lin::{check, Event, History};
/// use freeway_check::models::{Fifo, QueueOp as Op, QueueRet as Ret};
///
/// let e = |thread, op, ret, call, returned| Event { thread, op, ret, call, returned };
/// let h = History::from_events(vec![
///     e(0, Op::Push(1), Ret::Push, 0, 1),
///     e(1, Op::Pop, Ret::Pop(Some(1)), 2, 5),
///     e(2, Op::Pop, Ret::Pop(Some(1)), 3, 6),
/// ]);
/// let err = check(&Fifo::new(), &h).unwrap_err();
/// println!("{err}");
/// ```
pub fn check<S: Spec>(init: &S, history: &History<S::Op, S::Ret>) -> Result<(), Counterexample> {
    check_with_budget(init, history, SEARCH_BUDGET)
}

/// [`check`] with an explicit search budget (distinct configurations remembered at most).
///
/// # Errors
///
/// As [`check`]; `inconclusive` once `budget` configurations have been explored.
///
/// # Examples
///
/// ```
/// use freeway_check::lin::{check_with_budget, Event, History};
/// use freeway_check::models::{Fifo, QueueOp, QueueRet};
///
/// let h = History::from_events(vec![
///     Event { thread: 0, op: QueueOp::Push(1u8), ret: QueueRet::Push, call: 0, returned: 1 },
/// ]);
/// check_with_budget(&Fifo::new(), &h, 10).unwrap();
/// ```
pub fn check_with_budget<S: Spec>(
    init: &S,
    history: &History<S::Op, S::Ret>,
    budget: usize,
) -> Result<(), Counterexample> {
    let events = expanded::<S>(&history.events);
    let refs: Vec<&Event<S::Op, S::Ret>> = events.iter().collect();
    check_events(init, &refs, budget).map_err(|mut c| {
        c.partition = None;
        c
    })
}

/// Checks each partition of `history` separately, partitioned by `key(op)`.
///
/// Sound for operations that each touch one partition (a map's per-key operations): the whole
/// history is linearizable iff every partition is.
///
/// # Errors
///
/// The [`Counterexample`] of the first partition that fails, naming it.
///
/// # Examples
///
/// ```
/// use freeway_check::lin::{check_partitioned, Event, History};
/// use freeway_check::models::{MapModel, MapOp, MapRet};
///
/// let e = |thread, op, ret, call, returned| Event { thread, op, ret, call, returned };
/// let h = History::from_events(vec![
///     e(0, MapOp::Insert(1, 5), MapRet::Insert(None), 0, 3),
///     e(1, MapOp::Insert(2, 6), MapRet::Insert(None), 1, 2),
///     e(1, MapOp::Get(1), MapRet::Get(Some(5)), 4, 5),
/// ]);
/// check_partitioned(&MapModel::new(), &h, |op| op.key()).unwrap();
/// ```
pub fn check_partitioned<S, K>(
    init: &S,
    history: &History<S::Op, S::Ret>,
    key: impl Fn(&S::Op) -> K,
) -> Result<(), Counterexample>
where
    S: Spec,
    K: Hash + Eq + Debug + Ord,
{
    type Part<'h, S> = Vec<&'h Event<<S as Spec>::Op, <S as Spec>::Ret>>;
    let events = expanded::<S>(&history.events);
    let mut parts: HashMap<K, Part<'_, S>> = HashMap::new();
    for e in &events {
        parts.entry(key(&e.op)).or_default().push(e);
    }
    let mut keys: Vec<_> = parts.into_iter().collect();
    keys.sort_by(|a, b| a.0.cmp(&b.0));
    for (k, events) in keys {
        check_events(init, &events, SEARCH_BUDGET).map_err(|mut c| {
            c.partition = Some(format!("{k:?}"));
            c
        })?;
    }
    Ok(())
}

/// The events with each one replaced by the steps [`Spec::expand`] makes of it, each step with
/// its event's thread and interval.
fn expanded<S: Spec>(events: &[Event<S::Op, S::Ret>]) -> Vec<Event<S::Op, S::Ret>> {
    events
        .iter()
        .flat_map(|e| {
            S::expand(e.op.clone(), e.ret.clone())
                .into_iter()
                .map(|(op, ret)| Event {
                    thread: e.thread,
                    op,
                    ret,
                    call: e.call,
                    returned: e.returned,
                })
        })
        .collect()
}

#[derive(Clone, Copy)]
struct Node {
    /// Index of the operation.
    op: usize,
    is_call: bool,
    /// For a call: the list index of its return node.
    matching: usize,
    prev: usize,
    next: usize,
}

const NIL: usize = usize::MAX;

fn check_events<S: Spec>(
    init: &S,
    events: &[&Event<S::Op, S::Ret>],
    budget: usize,
) -> Result<(), Counterexample> {
    let n = events.len();
    if n == 0 {
        return Ok(());
    }
    // Lay out calls and returns in time order; calls first at equal times.
    let mut marks: Vec<(u64, bool, usize)> = Vec::with_capacity(2 * n);
    for (i, e) in events.iter().enumerate() {
        marks.push((e.call, true, i));
        marks.push((e.returned.max(e.call), false, i));
    }
    marks.sort_by_key(|&(t, is_call, i)| (t, !is_call, i));
    // nodes[0] is the head sentinel; list nodes follow at 1..=2n.
    let mut nodes = vec![
        Node {
            op: NIL,
            is_call: false,
            matching: NIL,
            prev: NIL,
            next: NIL,
        };
        2 * n + 1
    ];
    let mut ret_pos = vec![NIL; n];
    for (pos, &(_, is_call, i)) in marks.iter().enumerate() {
        let idx = pos + 1;
        nodes[idx] = Node {
            op: i,
            is_call,
            matching: NIL,
            prev: idx - 1,
            next: if idx == 2 * n { NIL } else { idx + 1 },
        };
        if !is_call {
            ret_pos[i] = idx;
        }
    }
    nodes[0].next = 1;
    for idx in 1..=2 * n {
        if nodes[idx].is_call {
            nodes[idx].matching = ret_pos[nodes[idx].op];
        }
    }

    let lift = |nodes: &mut Vec<Node>, call: usize| {
        for idx in [call, nodes[call].matching] {
            let (p, nx) = (nodes[idx].prev, nodes[idx].next);
            nodes[p].next = nx;
            if nx != NIL {
                nodes[nx].prev = p;
            }
        }
    };
    let unlift = |nodes: &mut Vec<Node>, call: usize| {
        for idx in [nodes[call].matching, call] {
            let (p, nx) = (nodes[idx].prev, nodes[idx].next);
            nodes[p].next = idx;
            if nx != NIL {
                nodes[nx].prev = idx;
            }
        }
    };

    // The operations that may go next: the calls ahead of the first return still in the list,
    // tried in the order of the spec's search keys (call order by default).
    let keys: Vec<u64> =
        S::search_keys(events).unwrap_or_else(|| events.iter().map(|e| e.call).collect());
    assert_eq!(
        keys.len(),
        n,
        "Spec::search_keys must give one key per event"
    );
    let candidates = |nodes: &Vec<Node>| {
        let mut c = Vec::new();
        let mut idx = nodes[0].next;
        while idx != NIL && nodes[idx].is_call {
            c.push(idx);
            idx = nodes[idx].next;
        }
        c.sort_by_key(|&call| (keys[nodes[call].op], call));
        c
    };

    let mut state = init.clone();
    let mut done = Bits::new(n);
    let mut seen: HashSet<(Bits, S)> = HashSet::new();
    // One frame per configuration on the current path: its candidates and the next to try.
    let mut frames: Vec<(Vec<usize>, usize)> = vec![(candidates(&nodes), 0)];
    // The calls linearized on the current path, with the state before each.
    let mut path: Vec<(usize, S)> = Vec::new();
    let mut best: (usize, Vec<usize>, S) = (0, Vec::new(), init.clone());
    while nodes[0].next != NIL {
        let frame = frames.last_mut().expect("the root frame is never popped");
        if let Some(&call) = frame.0.get(frame.1) {
            frame.1 += 1;
            let op = nodes[call].op;
            let mut next_state = state.clone();
            if next_state.apply(&events[op].op) != events[op].ret {
                continue;
            }
            let mut next_done = done.clone();
            next_done.set(op);
            if seen.len() >= budget {
                let mut c = counterexample(events, best);
                c.inconclusive = true;
                return Err(c);
            }
            if seen.insert((next_done.clone(), next_state.clone())) {
                path.push((call, std::mem::replace(&mut state, next_state)));
                done = next_done;
                lift(&mut nodes, call);
                if path.len() > best.0 {
                    best = (
                        path.len(),
                        path.iter().map(|&(c, _)| nodes[c].op).collect(),
                        state.clone(),
                    );
                }
                frames.push((candidates(&nodes), 0));
            }
        } else {
            // Every candidate failed here: backtrack.
            let Some((call, prev_state)) = path.pop() else {
                return Err(counterexample(events, best));
            };
            frames.pop();
            state = prev_state;
            done.clear(nodes[call].op);
            unlift(&mut nodes, call);
        }
    }
    Ok(())
}

fn counterexample<S: Spec>(
    events: &[&Event<S::Op, S::Ret>],
    best: (usize, Vec<usize>, S),
) -> Counterexample {
    let (depth, order, state) = best;
    let done: HashSet<usize> = order.iter().copied().collect();
    let tail: Vec<String> = order
        .iter()
        .skip(order.len().saturating_sub(8))
        .map(|&i| describe(events[i]))
        .collect();
    // The first operation (by return time) left out of the deepest order, and every operation
    // not in that order that overlaps it: those are the ones no order reconciles.
    let mut rest: Vec<usize> = (0..events.len()).filter(|i| !done.contains(i)).collect();
    rest.sort_by_key(|&i| events[i].returned);
    let stuck = match rest.first() {
        None => Vec::new(),
        Some(&first) => {
            let limit = events[first].returned;
            let mut s: Vec<usize> = rest
                .iter()
                .copied()
                .filter(|&i| events[i].call <= limit)
                .collect();
            s.sort_by_key(|&i| (events[i].call, i));
            s.into_iter()
                .take(16)
                .map(|i| describe(events[i]))
                .collect()
        }
    };
    Counterexample {
        inconclusive: false,
        partition: None,
        total: events.len(),
        linearized: depth,
        prefix_tail: tail,
        state: format!("{state:?}"),
        stuck,
    }
}
