//! Stress runs: threads perform random operations on a fresh structure, round after round, and
//! every round's history is checked for linearizability.
//!
//! Reproducing a failure: the error names the seed; `FREEWAY_SEED=<seed> cargo test <name>`
//! replays the same operation sequences (the interleaving is the scheduler's and may need a few
//! runs to recur).
//!
//! # Examples
//!
//! ```
//! use freeway_check::models::{Fifo, QueueOp, QueueRet};
//! use freeway_check::stress::{stress, StressConfig};
//! use std::collections::VecDeque;
//! use std::sync::Mutex;
//! use std::time::Duration;
//!
//! // All 3 rounds, however slow the machine: the default 2 s limit stops after the first round
//! // that ends past it (which failed this example once under a loaded doctest run).
//! let cfg = StressConfig {
//!     rounds: 3,
//!     ops_per_thread: 100,
//!     time_limit: Duration::from_secs(3600),
//!     ..StressConfig::default()
//! };
//! let report = stress(
//!     &cfg,
//!     Fifo::new(),
//!     || Mutex::new(VecDeque::new()),
//!     |rng, thread| if rng.chance(0.5) { QueueOp::Push((thread as u64) << 32 | rng.below(1000)) } else { QueueOp::Pop },
//!     |q, op| match op {
//!         QueueOp::Push(v) => { q.lock().unwrap().push_back(*v); QueueRet::Push }
//!         QueueOp::Pop => QueueRet::Pop(q.lock().unwrap().pop_front()),
//!     },
//! ).unwrap();
//! // A round whose history the checker cannot decide within its search budget (rare, and more
//! // likely when the scheduler interleaves the threads finely) is run but not counted.
//! assert_eq!(report.rounds + report.inconclusive_rounds, 3);
//! assert!(report.rounds >= 1);
//! ```

use crate::lin::{Counterexample, History, Recorder, check, check_partitioned};
use crate::spec::Spec;
use std::fmt::Debug;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// A small, fast, seedable generator (xorshift64*), good enough for choosing operations.
///
/// # Examples
///
/// ```
/// let mut r = freeway_check::stress::Rng::new(7);
/// assert!(r.below(10) < 10);
/// ```
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (any value, zero included).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut a = freeway_check::stress::Rng::new(1);
    /// let mut b = freeway_check::stress::Rng::new(1);
    /// assert_eq!(a.next_u64(), b.next_u64());
    /// ```
    pub fn new(seed: u64) -> Self {
        // splitmix64 of the seed, so that nearby seeds give unrelated streams and 0 is allowed.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }

    /// The next 64 random bits.
    ///
    /// # Examples
    ///
    /// ```
    /// let _ = freeway_check::stress::Rng::new(3).next_u64();
    /// ```
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n > 0`).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut r = freeway_check::stress::Rng::new(3);
    /// assert_eq!(r.below(1), 0);
    /// ```
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n.max(1) as u128) >> 64) as u64
    }

    /// `true` with probability `p`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut r = freeway_check::stress::Rng::new(3);
    /// assert!(!r.chance(0.0));
    /// assert!(r.chance(1.0));
    /// ```
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p && p > 0.0
    }
}

/// How a stress run is shaped.
///
/// # Examples
///
/// ```
/// let cfg = freeway_check::stress::StressConfig { threads: 4, ..Default::default() };
/// assert_eq!(cfg.threads, 4);
/// ```
#[derive(Clone, Debug)]
pub struct StressConfig {
    /// Threads per round.
    pub threads: usize,
    /// Operations each thread performs per round.
    pub ops_per_thread: usize,
    /// Rounds at most (each on a fresh structure).
    pub rounds: usize,
    /// Stop starting new rounds after this long, once at least one round has been decided
    /// (until then rounds go on, up to `rounds`: a slow first round whose history exhausted the
    /// checker's budget, as under AddressSanitizer, must not end the run undecided).
    pub time_limit: Duration,
    /// Seed of the operation generators.
    pub seed: u64,
}

impl Default for StressConfig {
    /// 3 threads × 300 operations, up to 50 rounds or 2 s; the seed from `FREEWAY_SEED` or the
    /// clock.
    fn default() -> Self {
        Self {
            threads: 3,
            ops_per_thread: 300,
            rounds: 50,
            time_limit: Duration::from_secs(2),
            seed: default_seed(),
        }
    }
}

/// `FREEWAY_SEED` if set, else the clock.
///
/// # Examples
///
/// ```
/// let _ = freeway_check::stress::default_seed();
/// ```
pub fn default_seed() -> u64 {
    std::env::var("FREEWAY_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64)
        })
}

/// What a passing stress run did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StressReport {
    /// Rounds run.
    pub rounds: usize,
    /// Operations recorded and checked, over all rounds.
    pub operations: usize,
    /// Rounds whose history the checker could not decide within its search budget (not counted
    /// in `rounds`; a run fails if no round at all was decided).
    pub inconclusive_rounds: usize,
    /// The seed used.
    pub seed: u64,
}

/// Runs rounds of random concurrent operations and checks each history against `init`.
///
/// `make` builds a fresh structure per round; `gen(rng, thread)` picks each operation; `exec`
/// performs it on the structure and returns its result.
///
/// # Errors
///
/// A message naming the seed, the round and the [`Counterexample`].
pub fn stress<S, Sys, M, G, X>(
    cfg: &StressConfig,
    init: S,
    make: M,
    generate: G,
    exec: X,
) -> Result<StressReport, String>
where
    S: Spec,
    Sys: Sync,
    M: Fn() -> Sys,
    G: Fn(&mut Rng, usize) -> S::Op + Sync,
    X: Fn(&Sys, &S::Op) -> S::Ret + Sync,
{
    run_rounds(cfg, make, generate, exec, |h| check(&init, h))
}

/// [`stress`] with a P-compositional check: each partition `key(op)` is checked on its own.
///
/// # Errors
///
/// As [`stress`].
///
/// # Examples
///
/// ```
/// use freeway_check::models::{MapModel, MapOp, MapRet};
/// use freeway_check::stress::{stress_partitioned, StressConfig};
/// use std::collections::HashMap;
/// use std::sync::Mutex;
///
/// let cfg = StressConfig { rounds: 2, ..StressConfig::default() };
/// stress_partitioned(
///     &cfg,
///     MapModel::new(),
///     || Mutex::new(HashMap::new()),
///     |rng, _| match rng.below(3) {
///         0 => MapOp::Get(rng.below(8)),
///         1 => MapOp::Insert(rng.below(8), rng.below(100)),
///         _ => MapOp::Remove(rng.below(8)),
///     },
///     |m, op| {
///         let mut m = m.lock().unwrap();
///         match *op {
///             MapOp::Get(k) => MapRet::Get(m.get(&k).copied()),
///             MapOp::Insert(k, v) => MapRet::Insert(m.insert(k, v)),
///             MapOp::Remove(k) => MapRet::Remove(m.remove(&k)),
///             _ => unreachable!(),
///         }
///     },
///     |op| op.key(),
/// ).unwrap();
/// ```
pub fn stress_partitioned<S, Sys, M, G, X, K, KF>(
    cfg: &StressConfig,
    init: S,
    make: M,
    generate: G,
    exec: X,
    key: KF,
) -> Result<StressReport, String>
where
    S: Spec,
    Sys: Sync,
    M: Fn() -> Sys,
    G: Fn(&mut Rng, usize) -> S::Op + Sync,
    X: Fn(&Sys, &S::Op) -> S::Ret + Sync,
    K: Hash + Eq + Debug + Ord,
    KF: Fn(&S::Op) -> K,
{
    run_rounds(cfg, make, generate, exec, |h| {
        check_partitioned(&init, h, &key)
    })
}

fn run_rounds<O, R, Sys, M, G, X>(
    cfg: &StressConfig,
    make: M,
    generate: G,
    exec: X,
    verify: impl Fn(&History<O, R>) -> Result<(), Counterexample>,
) -> Result<StressReport, String>
where
    O: Clone + Send + Sync,
    R: Clone + Send,
    Sys: Sync,
    M: Fn() -> Sys,
    G: Fn(&mut Rng, usize) -> O + Sync,
    X: Fn(&Sys, &O) -> R + Sync,
{
    let started = Instant::now();
    let mut report = StressReport {
        rounds: 0,
        operations: 0,
        inconclusive_rounds: 0,
        seed: cfg.seed,
    };
    for round in 0..cfg.rounds.max(1) {
        if report.rounds > 0 && started.elapsed() >= cfg.time_limit {
            break;
        }
        let sys = make();
        let recorder = Recorder::new();
        std::thread::scope(|s| {
            for t in 0..cfg.threads {
                let (sys, recorder, generate, exec) = (&sys, &recorder, &generate, &exec);
                let mut rng = Rng::new(cfg.seed ^ ((round as u64) << 32) ^ t as u64);
                s.spawn(move || {
                    let mut log = recorder.thread();
                    for _ in 0..cfg.ops_per_thread {
                        let op = generate(&mut rng, t);
                        log.call(op, |op| exec(sys, op));
                    }
                });
            }
        });
        drop(sys);
        let history = recorder.into_history();
        match verify(&history) {
            Ok(()) => {
                report.operations += history.len();
                report.rounds += 1;
            }
            Err(c) if c.inconclusive => {
                eprintln!(
                    "stress: seed {} round {round}: checker budget exhausted, round not counted",
                    cfg.seed
                );
                report.inconclusive_rounds += 1;
            }
            Err(c) => {
                return Err(format!(
                    "seed {} round {round} ({} threads x {} ops): {c}",
                    cfg.seed, cfg.threads, cfg.ops_per_thread
                ));
            }
        }
    }
    if report.rounds == 0 {
        return Err(format!(
            "seed {}: no round could be decided within the checker's search budget ({} inconclusive)",
            cfg.seed, report.inconclusive_rounds
        ));
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A first round that the checker cannot decide, slower than the whole time limit, does not
    /// end the run: rounds go on until one is decided.
    #[test]
    fn the_time_limit_waits_for_a_decided_round() {
        let cfg = StressConfig {
            threads: 1,
            ops_per_thread: 1,
            rounds: 5,
            time_limit: Duration::ZERO,
            seed: 1,
        };
        let verified = AtomicUsize::new(0);
        let report = run_rounds(
            &cfg,
            || (),
            |_, _| (),
            |_, _| (),
            |_: &History<(), ()>| {
                if verified.fetch_add(1, Ordering::Relaxed) < 2 {
                    Err(Counterexample {
                        inconclusive: true,
                        partition: None,
                        total: 1,
                        linearized: 0,
                        prefix_tail: Vec::new(),
                        state: String::new(),
                        stuck: Vec::new(),
                    })
                } else {
                    Ok(())
                }
            },
        )
        .expect("the third round is decided");
        assert_eq!(report.inconclusive_rounds, 2);
        assert_eq!(
            report.rounds, 1,
            "the time limit stops the run once a round is decided"
        );
    }
}
