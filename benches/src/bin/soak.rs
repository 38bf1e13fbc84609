//! The soak: every structure under mixed operations from 8 threads (the 2-core machine
//! oversubscribed) for a while, and under a reader that stays pinned, with pass/fail rules.
//!
//! ```text
//! cargo run --release -p freeway-benches --bin soak -- [--time SECONDS] [--samples DIR] [--only NAME]
//! ```
//! (`cargo xtask soak [--time S]` runs it; `cargo xtask test` runs a 30-second one.)
//!
//! Checks, each printed with its figures:
//! - **mixed**: no value lost or duplicated (counts and checksums of what went in and came out,
//!   per-thread models for the map, invariants for the cell and the seqlock), and memory bounded.
//!   The memory rules compare the two halves of the run after its first fifth (the warm-up):
//!   - outstanding epoch garbage: the second half's median is at most 1.5x the first half's,
//!     scaled by the change in the retirement rate between the halves, plus a floor of 4096
//!     objects below which a difference is noise. Medians, because the peaks are set by the
//!     longest preemption of a pinned thread: with 8 threads on 2 cores, one preempted while
//!     pinned holds the epoch for as long as the scheduler leaves it off the core, so the peak
//!     over a window grows with the window without any leak (the map's went from 133 000 to
//!     294 000 objects between the halves of a 30 s phase). Scaled, because a sound structure's
//!     garbage is its retirement rate times the time an epoch takes to advance, and the rate
//!     moves with whatever else the machine runs (in one 120 s soak AtomicArc's rate went from
//!     2.1 to 3.3 M objects/s between the halves, and its median from 37 000 to 56 000). A leak
//!     moves the scaled median;
//!   - every retired object is reclaimed within 2 s of the threads' stop (nobody is pinned then,
//!     so whatever is left was lost to reclamation);
//!   - resident memory: the second half's peak is at most 1.5x the first half's plus 4 MiB, in
//!     phases of 10 s or more (`--time 90` and up). Resident memory is the allocator's high-water
//!     mark of live and garbage memory, and in shorter phases it is still climbing: in 3.3 s
//!     phases with each thread's balance bounded (so what the structure held was bounded), the
//!     stack's went from 16 to 56 MiB over the first 2 s, then 87 MiB in one garbage spike.
//!     Shorter runs print it unjudged.
//! - **stall**: a thread stays pinned for a fifth of the phase while the others churn: they keep
//!   working (throughput printed), garbage grows, and within 5 s of the unpin the outstanding
//!   garbage is back under 2x its level before the stall (the median over the fifth of the phase
//!   before the pin, plus the same floor), and none is left 2 s after the stop.
//!
//! `SOAK_TRACE=1` prints each stall's garbage every 0.2 s from just before the unpin to 6 s after.
//!
//! `--samples DIR` writes each mixed phase's samples (every 20 ms: seconds, resident bytes,
//! garbage objects, objects retired) to a CSV file in `DIR`.

use freeway_check::stress::Rng;
use freeway_epoch::accounting;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

const THREADS: usize = 8;
const RSS_FLOOR: f64 = 4.0 * 1024.0 * 1024.0;
const GARBAGE_FLOOR: f64 = 4096.0;
/// The shortest phase whose resident memory is judged (module docs).
const RSS_JUDGED_FROM: Duration = Duration::from_secs(10);

/// Where `--samples DIR` asked for each mixed phase's samples, as CSV.
static SAMPLES_DIR: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Resident memory of the process, in bytes.
fn rss() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: f64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0.0);
    pages * 4096.0
}

/// One sample of the sampler thread.
#[derive(Clone, Copy)]
struct Sample {
    /// Seconds since the start of the phase.
    at: f64,
    /// Resident bytes.
    rss: f64,
    /// Outstanding garbage, in objects.
    garbage: f64,
    /// Objects retired so far (since the process started).
    retired: f64,
}

/// What [`run`] saw of a phase, beside the threads' results.
struct Phase {
    samples: Vec<Sample>,
    /// Garbage still outstanding [`SETTLE`] after the threads stopped: every retired object can
    /// be reclaimed once nobody is pinned, so anything left was lost to reclamation.
    left: u64,
}

/// How long a phase's garbage may take to be reclaimed after its threads stop.
const SETTLE: Duration = Duration::from_secs(2);

/// Runs `work` on `THREADS` threads for `span` while sampling memory and garbage every 20 ms,
/// then lets the garbage settle; returns each thread's result and the phase.
fn run<R: Send>(span: Duration, work: impl Fn(usize, &AtomicBool) -> R + Sync) -> (Vec<R>, Phase) {
    // Start from settled garbage: what earlier phases retired is reclaimed first, so the samples
    // are this phase's.
    freeway_epoch::reclaim_until_quiescent_for(Duration::from_secs(2));
    let stop = AtomicBool::new(false);
    let start = Instant::now();
    std::thread::scope(|s| {
        let sampler = s.spawn(|| {
            let mut samples = Vec::new();
            while !stop.load(Relaxed) {
                let c = accounting::counts();
                samples.push(Sample {
                    at: start.elapsed().as_secs_f64(),
                    rss: rss(),
                    garbage: c.outstanding() as f64,
                    retired: c.retired as f64,
                });
                std::thread::sleep(Duration::from_millis(20));
            }
            samples
        });
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let (work, stop) = (&work, &stop);
                s.spawn(move || work(t, stop))
            })
            .collect();
        std::thread::sleep(span);
        stop.store(true, Relaxed);
        let results = workers.into_iter().map(|w| w.join().unwrap()).collect();
        let samples = sampler.join().unwrap();
        let left = freeway_epoch::reclaim_until_quiescent_for(SETTLE);
        (results, Phase { samples, left })
    })
}

/// Statistics of one half of a run.
#[derive(Clone, Copy)]
struct Half {
    rss_peak: f64,
    garbage_peak: f64,
    garbage_median: f64,
    /// Objects retired per second over the half.
    retire_rate: f64,
}

/// The values, in ascending order.
fn sorted(values: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    v
}

/// The median of values in ascending order (the upper one of an even count); 0 if there are
/// none.
fn median(sorted: &[f64]) -> f64 {
    sorted.get(sorted.len() / 2).copied().unwrap_or(0.0)
}

/// [`Half`] statistics over the two halves of `samples`, leaving out the first fifth of the
/// run: the warm-up (threads starting, thread-local bags and allocator arenas filling) belongs
/// to neither steady-state half. In 3-second phases the warm-up put the first half's garbage
/// median at half the second's (AtomicArc, four runs of `soak --time 30`), while a 60-second
/// phase showed no trend from one tenth to the next.
fn halves(samples: &[Sample]) -> (Half, Half) {
    let end = samples.last().map_or(0.0, |s| s.at);
    let (from, mid) = (end / 5.0, end * 3.0 / 5.0);
    let stats = |second: bool| {
        let half: Vec<Sample> = samples
            .iter()
            .filter(|s| s.at >= from && (s.at > mid) == second)
            .copied()
            .collect();
        let rss = sorted(half.iter().map(|s| s.rss));
        let garbage = sorted(half.iter().map(|s| s.garbage));
        let retire_rate = match (half.first(), half.last()) {
            (Some(a), Some(b)) if b.at > a.at => (b.retired - a.retired) / (b.at - a.at),
            _ => 0.0,
        };
        Half {
            rss_peak: rss.last().copied().unwrap_or(0.0),
            garbage_peak: garbage.last().copied().unwrap_or(0.0),
            garbage_median: median(&garbage),
            retire_rate,
        }
    };
    (stats(false), stats(true))
}

/// What a check found: its name, whether it passed, and its figures.
struct Verdict {
    check: String,
    passed: bool,
    figures: String,
}

/// The memory and garbage rules of a mixed run, plus the run's own correctness verdict.
fn mixed_verdict(
    name: &str,
    ops: u64,
    span: Duration,
    phase: &Phase,
    ok: Result<String, String>,
) -> Verdict {
    let Phase { samples, left } = phase;
    if let Some(dir) = SAMPLES_DIR.get() {
        let csv: String = samples
            .iter()
            .map(|s| format!("{},{},{},{}\n", s.at, s.rss, s.garbage, s.retired))
            .collect();
        let path = format!("{dir}/{name}.csv");
        if let Err(e) = std::fs::write(&path, csv) {
            eprintln!("soak: cannot write {path}: {e}");
        }
    }
    let (h1, h2) = halves(samples);
    // Garbage by its medians, since its peaks are set by the longest preemption of a pinned
    // thread; and per retirement, since the garbage of a sound structure is its retirement rate
    // times the time an epoch takes to advance, and the rate moves with what else the machine
    // runs (module docs).
    let scale = if h1.retire_rate > 0.0 {
        h2.retire_rate / h1.retire_rate
    } else {
        1.0
    };
    let g_ok = h2.garbage_median <= 1.5 * h1.garbage_median * scale + GARBAGE_FLOOR;
    // Resident memory by its peaks, in phases long enough for its high-water mark to settle.
    let r_judged = span >= RSS_JUDGED_FROM;
    let r_ok = !r_judged || h2.rss_peak <= 1.5 * h1.rss_peak + RSS_FLOOR;
    let settled = *left == 0;
    let (content_ok, content) = match ok {
        Ok(s) => (true, s),
        Err(s) => (false, s),
    };
    let figures = format!(
        "{:.1} Mops/s; {content}; RSS peak {:.1} -> {:.1} MiB{}; garbage median {:.0} -> {:.0} \
         at {:.2} -> {:.2} M retired/s (peak {:.0} -> {:.0}), {left} left {:.0} s after the stop",
        ops as f64 / span.as_secs_f64() / 1e6,
        h1.rss_peak / 1048576.0,
        h2.rss_peak / 1048576.0,
        if r_judged { "" } else { " (not judged)" },
        h1.garbage_median,
        h2.garbage_median,
        h1.retire_rate / 1e6,
        h2.retire_rate / 1e6,
        h1.garbage_peak,
        h2.garbage_peak,
        SETTLE.as_secs_f64(),
    );
    let passed = content_ok && r_ok && g_ok && settled;
    println!(
        "[{}] {name} mixed: {figures}",
        if passed { "pass" } else { "FAIL" }
    );
    Verdict {
        check: format!("{name} mixed"),
        passed,
        figures,
    }
}

/// Values a thread put in and took out: count, wrapping sum, xor.
#[derive(Default, Clone, Copy)]
struct Flow {
    count: u64,
    sum: u64,
    xor: u64,
}

impl Flow {
    fn add(&mut self, v: u64) {
        self.count += 1;
        self.sum = self.sum.wrapping_add(v);
        self.xor ^= v;
    }
    fn merge(a: Self, b: Self) -> Self {
        Self {
            count: a.count + b.count,
            sum: a.sum.wrapping_add(b.sum),
            xor: a.xor ^ b.xor,
        }
    }
}

/// A value unique to thread `t`'s `i`th push.
fn tag(t: usize, i: u64) -> u64 {
    ((t as u64) << 48) | i
}

/// The threads' flows merged, with the values `left` in the structure counted as taken out: the
/// operation count and the conservation verdict.
fn tally(
    flows: Vec<(Flow, Flow, u64)>,
    left: impl Iterator<Item = u64>,
) -> (u64, Result<String, String>) {
    let (mut ins, mut outs, mut ops) = (Flow::default(), Flow::default(), 0);
    for (i, o, n) in flows {
        ins = Flow::merge(ins, i);
        outs = Flow::merge(outs, o);
        ops += n;
    }
    left.for_each(|v| outs.add(v));
    (ops, conserved(ins, outs, "values"))
}

/// Compares what went in with what came out (plus what was left).
fn conserved(ins: Flow, outs: Flow, what: &str) -> Result<String, String> {
    if ins.count == outs.count && ins.sum == outs.sum && ins.xor == outs.xor {
        Ok(format!("{} {what} in and out, checksums equal", ins.count))
    } else {
        Err(format!(
            "{what}: {} in, {} out, checksums {}",
            ins.count,
            outs.count,
            if ins.sum == outs.sum && ins.xor == outs.xor {
                "equal"
            } else {
                "differ"
            }
        ))
    }
}

/// Values one thread may have put in beyond those it took out. Bounding each thread's balance
/// bounds what the structure holds (the sum of the balances), so its memory reflects the
/// structure and not a random walk of its length: with only more pops than pushes on average,
/// a thread preempted while the others pushed left a 20 MiB stack behind, which the memory rule
/// then judged.
const BALANCE: u64 = 1024;

/// Draws one of `choices` operations, the first `pushes` of which put values in; a thread at
/// its [`BALANCE`] draws from the others only.
fn pick(rng: &mut Rng, choices: u64, pushes: u64, ins: &Flow, outs: &Flow) -> u64 {
    if ins.count.saturating_sub(outs.count) >= BALANCE {
        pushes + rng.below(choices - pushes)
    } else {
        rng.below(choices)
    }
}

fn queue(span: Duration) -> Verdict {
    let q = freeway_queue::Queue::new();
    let (flows, phase) = run(span, |t, stop| {
        let mut rng = Rng::new(t as u64 + 1);
        let (mut ins, mut outs, mut n, mut ops) = (Flow::default(), Flow::default(), 0u64, 0u64);
        let mut buf = Vec::new();
        while !stop.load(Relaxed) {
            for _ in 0..64 {
                match pick(&mut rng, 7, 3, &ins, &outs) {
                    0 | 1 => {
                        let v = tag(t, n);
                        n += 1;
                        ins.add(v);
                        q.push(v);
                    }
                    2 => {
                        let k = 1 + rng.below(16);
                        let vs: Vec<u64> = (0..k).map(|i| tag(t, n + i)).collect();
                        n += k;
                        vs.iter().for_each(|&v| ins.add(v));
                        q.push_batch(vs);
                    }
                    3 => {
                        buf.clear();
                        q.pop_batch(&mut buf, 1 + rng.below(16) as usize);
                        buf.iter().for_each(|&v| outs.add(v));
                    }
                    _ => {
                        if let Some(v) = q.pop() {
                            outs.add(v);
                        }
                    }
                }
                ops += 1;
            }
        }
        (ins, outs, ops)
    });
    let (ops, ok) = tally(flows, std::iter::from_fn(|| q.pop()));
    mixed_verdict("Queue", ops, span, &phase, ok)
}

fn array_queue(span: Duration) -> Verdict {
    let q = freeway_queue::ArrayQueue::new(256);
    let (flows, phase) = run(span, |t, stop| {
        let mut rng = Rng::new(t as u64 + 11);
        let (mut ins, mut outs, mut n, mut ops) = (Flow::default(), Flow::default(), 0u64, 0u64);
        while !stop.load(Relaxed) {
            for _ in 0..64 {
                let v = tag(t, n);
                match rng.below(5) {
                    0 | 1 => {
                        if q.push(v).is_ok() {
                            n += 1;
                            ins.add(v);
                        }
                    }
                    2 => {
                        n += 1;
                        ins.add(v);
                        if let Some(old) = q.force_push(v) {
                            outs.add(old);
                        }
                    }
                    _ => {
                        if let Some(v) = q.pop() {
                            outs.add(v);
                        }
                    }
                }
                ops += 1;
            }
        }
        (ins, outs, ops)
    });
    let (ops, ok) = tally(flows, std::iter::from_fn(|| q.pop()));
    mixed_verdict("ArrayQueue", ops, span, &phase, ok)
}

fn stack(span: Duration) -> Verdict {
    let s = freeway_stack::Stack::new();
    let (flows, phase) = run(span, |t, stop| {
        let mut rng = Rng::new(t as u64 + 21);
        let (mut ins, mut outs, mut n, mut ops) = (Flow::default(), Flow::default(), 0u64, 0u64);
        while !stop.load(Relaxed) {
            for _ in 0..64 {
                match pick(&mut rng, 10, 4, &ins, &outs) {
                    0..=3 => {
                        let v = tag(t, n);
                        n += 1;
                        ins.add(v);
                        s.push(v);
                    }
                    4 => s.take_all().for_each(|v| outs.add(v)),
                    _ => {
                        if let Some(v) = s.pop() {
                            outs.add(v);
                        }
                    }
                }
                ops += 1;
            }
        }
        (ins, outs, ops)
    });
    let (ops, ok) = tally(flows, std::iter::from_fn(|| s.pop()));
    mixed_verdict("Stack", ops, span, &phase, ok)
}

/// Keys per thread in the map's soak (disjoint ranges, so each thread keeps an exact model).
const KEYS: u64 = 4096;

/// A map under the mixed soak: the operations every map check runs, on a per-chunk handle.
trait SoakMap: Sync {
    /// What a chunk of 64 operations holds (a guard per chunk for the boxed map: the amortised
    /// pattern, and garbage still has to stay bounded).
    type Chunk;
    fn chunk(&self) -> Self::Chunk;
    fn insert(&self, c: &Self::Chunk, k: u64, v: u64) -> Option<u64>;
    fn remove(&self, c: &Self::Chunk, k: u64) -> Option<u64>;
    /// Adds 1 to `k`'s value if it has one; the new value.
    fn update(&self, c: &Self::Chunk, k: u64) -> Option<u64>;
    fn get(&self, c: &Self::Chunk, k: u64) -> Option<u64>;
    fn len(&self) -> usize;
}

impl SoakMap for freeway_hashmap::HashMap<u64, u64> {
    type Chunk = freeway_epoch::Guard;
    fn chunk(&self) -> Self::Chunk {
        freeway_epoch::pin()
    }
    fn insert(&self, g: &Self::Chunk, k: u64, v: u64) -> Option<u64> {
        self.insert(k, v, g).copied()
    }
    fn remove(&self, g: &Self::Chunk, k: u64) -> Option<u64> {
        self.remove(&k, g).copied()
    }
    fn update(&self, g: &Self::Chunk, k: u64) -> Option<u64> {
        self.update(k, |v| v.wrapping_add(1), g).copied()
    }
    fn get(&self, g: &Self::Chunk, k: u64) -> Option<u64> {
        self.get(&k, g).copied()
    }
    fn len(&self) -> usize {
        self.len()
    }
}

impl SoakMap for freeway_hashmap::AtomicMap<u64, u64> {
    type Chunk = ();
    fn chunk(&self) {}
    fn insert(&self, _: &(), k: u64, v: u64) -> Option<u64> {
        self.insert(k, v)
    }
    fn remove(&self, _: &(), k: u64) -> Option<u64> {
        self.remove(k)
    }
    fn update(&self, _: &(), k: u64) -> Option<u64> {
        // `fetch_add` on present keys only: the model's update (and the map's counter path).
        self.update(k, |v| v.wrapping_add(1))
    }
    fn get(&self, _: &(), k: u64) -> Option<u64> {
        self.get(k)
    }
    fn len(&self) -> usize {
        self.len()
    }
}

/// The mixed check of a map: every thread runs random writes and reads on its own key range and
/// keeps an exact model of it; at the end every entry of every model is looked up.
fn map_check<M: SoakMap>(name: &str, map: M, span: Duration) -> Verdict {
    let (models, phase) = run(span, |t, stop| {
        let mut rng = Rng::new(t as u64 + 31);
        let mut model = BTreeMap::new();
        let mut ops = 0u64;
        let mut bad = 0u64;
        while !stop.load(Relaxed) {
            let c = map.chunk();
            for _ in 0..64 {
                let k = t as u64 * KEYS + rng.below(KEYS);
                match rng.below(8) {
                    0..=2 => {
                        let v = rng.next_u64();
                        bad += u64::from(map.insert(&c, k, v) != model.insert(k, v));
                    }
                    3 | 4 => bad += u64::from(map.remove(&c, k) != model.remove(&k)),
                    5 => {
                        let m = model.get_mut(&k).map(|v: &mut u64| {
                            *v = v.wrapping_add(1);
                            *v
                        });
                        bad += u64::from(map.update(&c, k) != m);
                    }
                    _ => bad += u64::from(map.get(&c, k) != model.get(&k).copied()),
                }
                ops += 1;
            }
        }
        (model, ops, bad)
    });
    let c = map.chunk();
    let mut ops = 0;
    let mut bad = 0;
    let mut expected = 0;
    for (model, n, b) in &models {
        ops += n;
        bad += b;
        expected += model.len();
        for (&k, &v) in model {
            bad += u64::from(map.get(&c, k) != Some(v));
        }
    }
    let found = map.len();
    drop(c);
    let ok = if bad == 0 && found == expected {
        Ok(format!("{found} entries match the per-thread models"))
    } else {
        Err(format!(
            "{bad} mismatches, {found} entries against {expected}"
        ))
    };
    mixed_verdict(name, ops, span, &phase, ok)
}

fn atomic_arc(span: Duration) -> Verdict {
    // Every value ever stored is a multiple of 7: a reader that sees anything else read freed or
    // torn memory.
    let cell = freeway_atomic_rc::AtomicArc::new(Arc::new(0u64));
    let (results, phase) = run(span, |t, stop| {
        let mut rng = Rng::new(t as u64 + 41);
        let (mut ops, mut bad) = (0u64, 0u64);
        while !stop.load(Relaxed) {
            for _ in 0..64 {
                if t % 4 == 0 {
                    cell.store(Arc::new(7 * rng.below(1 << 40)));
                } else if t % 4 == 1 {
                    let g = freeway_epoch::pin();
                    bad += u64::from(!(*cell.snapshot(&g)).is_multiple_of(7));
                } else {
                    bad += u64::from(!(*cell.load()).is_multiple_of(7));
                }
                ops += 1;
            }
        }
        (ops, bad)
    });
    let (ops, bad) = results.iter().fold((0, 0), |a, r| (a.0 + r.0, a.1 + r.1));
    let last = cell.into_inner();
    let ok = if bad == 0 && Arc::strong_count(&last) == 1 {
        Ok("every value read was one stored; the last has one owner".to_string())
    } else {
        Err(format!(
            "{bad} impossible reads, {} owners",
            Arc::strong_count(&last)
        ))
    };
    mixed_verdict("AtomicArc", ops, span, &phase, ok)
}

fn seqlock(span: Duration) -> Verdict {
    let lock = freeway_seqlock::SeqLock::new([0u64; 4]);
    let (results, phase) = run(span, |t, stop| {
        let (mut ops, mut bad, mut x) = (0u64, 0u64, t as u64);
        while !stop.load(Relaxed) {
            for _ in 0..64 {
                if t < 2 {
                    x = x.wrapping_add(THREADS as u64);
                    lock.store([x; 4]);
                } else {
                    let v = lock.read();
                    bad += u64::from(v.iter().any(|&w| w != v[0]));
                }
                ops += 1;
            }
        }
        (ops, bad)
    });
    let (ops, bad) = results.iter().fold((0, 0), |a, r| (a.0 + r.0, a.1 + r.1));
    let ok = if bad == 0 {
        Ok("no torn read".to_string())
    } else {
        Err(format!("{bad} torn reads"))
    };
    mixed_verdict("SeqLock", ops, span, &phase, ok)
}

/// A thread pinned for the middle fifth of `span` while the others churn `churn`.
fn stalled(name: &str, span: Duration, churn: impl Fn(usize, &mut Rng) + Sync) -> Verdict {
    let stall = span / 5;
    let during_ops = AtomicU64::new(0);
    let phase = AtomicU64::new(0); // 0 before, 1 stalled, 2 after
    let (_, Phase { samples, left }) = run(span, |t, stop| {
        if t == 0 {
            // The staller: wait, measure, pin, hold, unpin.
            std::thread::sleep(span * 2 / 5);
            let g = freeway_epoch::pin();
            phase.store(1, Relaxed);
            std::thread::sleep(stall);
            phase.store(2, Relaxed);
            drop(g);
            return;
        }
        let mut rng = Rng::new(t as u64 + 51);
        while !stop.load(Relaxed) {
            for _ in 0..64 {
                churn(t, &mut rng);
            }
            if phase.load(Relaxed) == 1 {
                during_ops.fetch_add(64, Relaxed);
            }
        }
    });
    // The level before the stall: the median over the fifth of the phase before the pin (after
    // a first fifth of warm-up). One sample would not do: the garbage of 8 threads on 2 cores
    // moves by several times within 100 ms as pinned threads are preempted and resumed.
    let pinned = span.as_secs_f64() * 2.0 / 5.0;
    let base = median(&sorted(
        samples
            .iter()
            .filter(|s| s.at >= pinned / 2.0 && s.at < pinned)
            .map(|s| s.garbage),
    ));
    let unpinned = span.as_secs_f64() * 3.0 / 5.0;
    let peak = samples
        .iter()
        .filter(|s| s.at <= unpinned + 0.05)
        .map(|s| s.garbage)
        .fold(0.0, f64::max);
    let recovered = samples
        .iter()
        .filter(|s| s.at > unpinned && s.at <= unpinned + 5.0)
        .find(|s| s.garbage <= 2.0 * base + GARBAGE_FLOOR)
        .map(|s| s.at - unpinned);
    if std::env::var_os("SOAK_TRACE").is_some() {
        for s in samples
            .iter()
            .filter(|s| s.at > unpinned - 0.3 && s.at <= unpinned + 6.0)
            .step_by(10)
        {
            eprintln!(
                "  {:+.2} s  garbage {:.0}  retired {:.0}",
                s.at - unpinned,
                s.garbage,
                s.retired
            );
        }
    }
    let mops = during_ops.load(Relaxed) as f64 / stall.as_secs_f64() / 1e6;
    let passed = mops > 0.0 && recovered.is_some() && left == 0;
    let figures = format!(
        "{mops:.1} Mops/s while a reader was pinned {:.1} s; garbage {base:.0} before (median), peak {peak:.0}, \
         {}; {left} left {:.0} s after the stop",
        stall.as_secs_f64(),
        match recovered {
            Some(s) => format!("back under 2x (+floor) {s:.2} s after the unpin"),
            None => "not back under 2x within 5 s of the unpin".to_string(),
        },
        SETTLE.as_secs_f64(),
    );
    println!(
        "[{}] {name} stall: {figures}",
        if passed { "pass" } else { "FAIL" }
    );
    Verdict {
        check: format!("{name} stall"),
        passed,
        figures,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!(
            "soak [--time SECONDS] [--samples DIR] [--only NAME]\n  --time     default 120, split over 7 mixed and 2 stall phases (the phase length is the same with --only)\n  --only     run the checks whose name contains NAME, such as \"hashmap stall\"\n  --samples  write each mixed phase's samples to DIR as CSV (seconds, resident bytes, garbage, retired)"
        );
        return;
    }
    if let Some(dir) = args
        .iter()
        .position(|a| a == "--samples")
        .map(|i| args.get(i + 1).expect("--samples DIR"))
    {
        std::fs::create_dir_all(dir).expect("--samples DIR: cannot create the directory");
        let _ = SAMPLES_DIR.set(dir.clone());
    }
    let total: f64 = args
        .iter()
        .position(|a| a == "--time")
        .and_then(|i| args.get(i + 1))
        .map_or(120.0, |s| s.parse().expect("--time SECONDS"));
    let phase = Duration::from_secs_f64((total / 9.0).max(1.0));
    println!(
        "soak: {THREADS} threads on {} cores, {:.1} s per phase",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        phase.as_secs_f64()
    );
    // `--only NAME`: run the checks whose name contains NAME (case-insensitive), for example
    // `--only "hashmap stall"`.
    let only = args
        .iter()
        .position(|a| a == "--only")
        .map(|i| args.get(i + 1).expect("--only NAME").to_lowercase());
    let wanted = |name: &str| {
        only.as_ref()
            .is_none_or(|o| name.to_lowercase().contains(o))
    };
    let queue_stall = || {
        let q = freeway_queue::Queue::new();
        stalled("Queue", phase, |t, rng| {
            q.push(tag(t, rng.next_u64() >> 16));
            let _ = q.pop();
        })
    };
    let map_stall = || {
        let map = freeway_hashmap::HashMap::new();
        stalled("HashMap", phase, |t, rng| {
            let g = freeway_epoch::pin();
            let k = t as u64 * KEYS + rng.below(KEYS);
            if rng.chance(0.5) {
                map.insert(k, rng.next_u64(), &g);
            } else {
                map.remove(&k, &g);
            }
        })
    };
    let checks: [(&str, &dyn Fn() -> Verdict); 9] = [
        ("Queue mixed", &|| queue(phase)),
        ("ArrayQueue mixed", &|| array_queue(phase)),
        ("Stack mixed", &|| stack(phase)),
        ("HashMap mixed", &|| {
            map_check("HashMap", freeway_hashmap::HashMap::new(), phase)
        }),
        ("AtomicMap mixed", &|| {
            map_check("AtomicMap", freeway_hashmap::AtomicMap::new(), phase)
        }),
        ("AtomicArc mixed", &|| atomic_arc(phase)),
        ("SeqLock mixed", &|| seqlock(phase)),
        ("Queue stall", &queue_stall),
        ("HashMap stall", &map_stall),
    ];
    let verdicts: Vec<Verdict> = checks
        .into_iter()
        .filter(|(name, _)| wanted(name))
        .map(|(_, check)| check())
        .collect();
    if verdicts.is_empty() {
        eprintln!("soak: no check matches --only");
        std::process::exit(2);
    }
    println!("\n| check | result | figures |\n|---|---|---|");
    for v in &verdicts {
        println!(
            "| {} | {} | {} |",
            v.check,
            if v.passed { "pass" } else { "FAIL" },
            v.figures
        );
    }
    if verdicts.iter().any(|v| !v.passed) {
        std::process::exit(1);
    }
}
