//! The map comparison table: every contender in one process, interleaved trial by trial,
//! duration-based, so that the ratios are measured under the same conditions.
//!
//! The workload (bustle-like): 2^18 `u64` keys split into disjoint ranges, one per thread, std
//! `RandomState` for every map. For read-heavy and exchange the map is made with room for 2^18
//! keys and each thread first inserts the first 3/4 of its range; rapid-grow starts from an
//! empty map with no room. Each thread then draws keys uniformly from its own range and picks
//! the operation by the mix (an update adds 1 to the value), in chunks of 64 between looks at the
//! stop flag, all threads starting together at a barrier and running for the trial's span.
//! Every operation counts; the figure is operations over the span, in Mops/s, and each cell is
//! the median of the trials with their min..max.
//!
//! The guard-style maps (freeway `HashMap`, papaya) pin once per chunk, as their docs advise.
//! `AtomicMap` runs twice: through its own methods, which pin inside every operation, and
//! through its pinned handle (`AtomicMap::pin`), once per chunk like the guard-style maps.
//!
//! ```text
//! cargo run --release -p freeway-benches --example map_table -- [--trials N] [--ms MS]
//!     [--threads 1,2,4] [--mix read-heavy,exchange,rapid-grow] [--only NAME,NAME]
//! ```
//!
//! The output is a Markdown section; `cargo xtask bench` puts it into docs/benchmarks.md.

use std::collections::HashMap as StdMap;
use std::collections::hash_map::RandomState;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Barrier, RwLock};
use std::time::{Duration, Instant};

/// Keys of the whole map; thread `t` of `n` owns `t * KEYS / n .. (t + 1) * KEYS / n`.
const KEYS: u64 = 1 << 18;
/// Operations between looks at the stop flag (and, for guard-style maps, per pin).
const CHUNK: usize = 64;

/// One contender: a map of `u64` to `u64` built fresh for every trial.
trait Contender: Sync + Sized {
    fn with_capacity(n: usize) -> Self;
    /// Runs `ops` (operation, key) pairs: 0 get, 1 insert, 2 remove, 3 update (add 1 to the
    /// value if there is one).
    fn run(&self, ops: &[(u8, u64)]);
}

/// The body of `run`: each operation an expression over the map handle `$m` and the key `$k`
/// (its result black-boxed).
macro_rules! run_ops {
    ($ops:expr, |$m:ident = $handle:expr, $k:ident| get: $get:expr, insert: $ins:expr,
        remove: $rem:expr, update: $upd:expr $(,)?) => {{
        let $m = $handle;
        for &(op, $k) in $ops {
            match op {
                0 => {
                    black_box($get);
                }
                1 => {
                    black_box($ins);
                }
                2 => {
                    black_box($rem);
                }
                _ => {
                    black_box($upd);
                }
            }
        }
    }};
}

impl Contender for freeway_hashmap::AtomicMap<u64, u64> {
    fn with_capacity(n: usize) -> Self {
        Self::with_capacity_and_hasher(n, RandomState::new())
    }
    #[inline]
    fn run(&self, ops: &[(u8, u64)]) {
        run_ops!(ops, |m = self, k| get: m.get(k), insert: m.insert(k, k), remove: m.remove(k),
            update: m.update(k, |v| v.wrapping_add(1)));
    }
}

/// `AtomicMap` through its pinned handle, one pin per chunk like the guard-style maps.
struct AtomicPinned(freeway_hashmap::AtomicMap<u64, u64>);

impl Contender for AtomicPinned {
    fn with_capacity(n: usize) -> Self {
        Self(freeway_hashmap::AtomicMap::with_capacity_and_hasher(
            n,
            RandomState::new(),
        ))
    }
    #[inline]
    fn run(&self, ops: &[(u8, u64)]) {
        run_ops!(ops, |m = self.0.pin(), k| get: m.get(k), insert: m.insert(k, k),
            remove: m.remove(k), update: m.update(k, |v| v.wrapping_add(1)));
    }
}

/// A contender with the pinned-handle API of papaya, which freeway's `HashMap` mirrors: it pins
/// once per chunk, as their docs advise.
macro_rules! guard_style {
    ($map:ty) => {
        impl Contender for $map {
            fn with_capacity(n: usize) -> Self {
                Self::with_capacity_and_hasher(n, RandomState::new())
            }
            #[inline]
            fn run(&self, ops: &[(u8, u64)]) {
                run_ops!(ops, |m = self.pin(), k| get: m.get(&k).copied(),
                    insert: m.insert(k, k), remove: m.remove(&k),
                    update: m.update(k, |v| v.wrapping_add(1)));
            }
        }
    };
}

guard_style!(freeway_hashmap::HashMap<u64, u64>);
guard_style!(papaya::HashMap<u64, u64>);

impl Contender for dashmap::DashMap<u64, u64, RandomState> {
    fn with_capacity(n: usize) -> Self {
        Self::with_capacity_and_hasher(n, RandomState::new())
    }
    #[inline]
    fn run(&self, ops: &[(u8, u64)]) {
        run_ops!(ops, |m = self, k| get: m.get(&k).map(|v| *v), insert: m.insert(k, k),
            remove: m.remove(&k), update: m.get_mut(&k).map(|mut v| *v = v.wrapping_add(1)));
    }
}

impl Contender for scc::HashMap<u64, u64, RandomState> {
    fn with_capacity(n: usize) -> Self {
        Self::with_capacity_and_hasher(n, RandomState::new())
    }
    #[inline]
    fn run(&self, ops: &[(u8, u64)]) {
        run_ops!(ops, |m = self, k| get: m.read_sync(&k, |_, v| *v), insert: m.upsert_sync(k, k),
            remove: m.remove_sync(&k),
            update: m.update_sync(&k, |_, v| *v = v.wrapping_add(1)));
    }
}

impl Contender for RwLock<StdMap<u64, u64>> {
    fn with_capacity(n: usize) -> Self {
        RwLock::new(StdMap::with_capacity(n))
    }
    #[inline]
    fn run(&self, ops: &[(u8, u64)]) {
        run_ops!(ops, |m = self, k| get: m.read().unwrap().get(&k).copied(),
            insert: m.write().unwrap().insert(k, k), remove: m.write().unwrap().remove(&k),
            update: m.write().unwrap().get_mut(&k).map(|v| *v = v.wrapping_add(1)));
    }
}

/// A mix: its name, (get, insert, remove) percentages (the rest updates), and whether the map
/// is made with room and 3/4 prefilled.
#[derive(Clone, Copy)]
struct Mix {
    name: &'static str,
    pct: (u64, u64, u64),
    prefill: bool,
}

const MIXES: [Mix; 3] = [
    Mix {
        name: "read-heavy",
        pct: (98, 1, 1),
        prefill: true,
    },
    Mix {
        name: "exchange",
        pct: (10, 40, 40),
        prefill: true,
    },
    Mix {
        name: "rapid-grow",
        pct: (5, 80, 5),
        prefill: false,
    },
];

fn xorshift(s: &mut u64) -> u64 {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    *s
}

/// One trial: Mops/s.
fn trial<M: Contender>(threads: usize, mix: Mix, span: Duration) -> f64 {
    let map = M::with_capacity(if mix.prefill { KEYS as usize } else { 0 });
    let stop = AtomicBool::new(false);
    let ops = AtomicU64::new(0);
    let start = Barrier::new(threads + 1);
    let n = threads as u64;
    std::thread::scope(|s| {
        for t in 0..n {
            let (map, stop, ops, start) = (&map, &stop, &ops, &start);
            s.spawn(move || {
                let (lo, hi) = (t * KEYS / n, (t + 1) * KEYS / n);
                let len = hi - lo;
                if mix.prefill {
                    let fill: Vec<(u8, u64)> = (lo..lo + len * 3 / 4).map(|k| (1, k)).collect();
                    for c in fill.chunks(CHUNK) {
                        map.run(c);
                    }
                }
                let mut rng = 0x2545_F491_4F6C_DD1Du64 ^ ((t + 1) << 32);
                let mut chunk = [(0u8, 0u64); CHUNK];
                start.wait();
                let mut done = 0u64;
                // Relaxed: a stop flag; the scope's join orders the counts.
                while !stop.load(Ordering::Relaxed) {
                    for slot in chunk.iter_mut() {
                        let r = xorshift(&mut rng);
                        let p = (r >> 40) % 100;
                        let op = if p < mix.pct.0 {
                            0
                        } else if p < mix.pct.0 + mix.pct.1 {
                            1
                        } else if p < mix.pct.0 + mix.pct.1 + mix.pct.2 {
                            2
                        } else {
                            3
                        };
                        *slot = (op, lo + (r & 0xFF_FFFF) % len);
                    }
                    map.run(&chunk);
                    done += CHUNK as u64;
                }
                ops.fetch_add(done, Ordering::Relaxed);
            });
        }
        start.wait();
        let t0 = Instant::now();
        std::thread::sleep(span);
        stop.store(true, Ordering::Relaxed);
        let el = t0.elapsed();
        // The span actually slept (a loaded machine oversleeps).
        ops.fetch_add(0, Ordering::Relaxed);
        SPAN_US.store(el.as_micros() as u64, Ordering::Relaxed);
    });
    ops.into_inner() as f64 / SPAN_US.load(Ordering::Relaxed) as f64
}

static SPAN_US: AtomicU64 = AtomicU64::new(1);

type Runner = fn(usize, Mix, Duration) -> f64;

const CONTENDERS: [(&str, Runner); 7] = [
    (
        "freeway AtomicMap",
        trial::<freeway_hashmap::AtomicMap<u64, u64>>,
    ),
    ("freeway AtomicMap (pin per chunk)", trial::<AtomicPinned>),
    (
        "freeway HashMap",
        trial::<freeway_hashmap::HashMap<u64, u64>>,
    ),
    ("papaya", trial::<papaya::HashMap<u64, u64>>),
    ("dashmap", trial::<dashmap::DashMap<u64, u64, RandomState>>),
    ("scc", trial::<scc::HashMap<u64, u64, RandomState>>),
    ("RwLock<HashMap>", trial::<RwLock<StdMap<u64, u64>>>),
];

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let mut trials = 7;
    let mut ms = 300;
    let mut threads = vec![1, 2, 4];
    let mut mixes: Vec<Mix> = MIXES.to_vec();
    let mut only: Option<Vec<String>> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--trials" => trials = val().parse().expect("--trials N"),
            "--ms" => ms = val().parse().expect("--ms MS"),
            "--threads" => {
                threads = val()
                    .split(',')
                    .map(|t| t.parse().expect("--threads 1,2,4"))
                    .collect()
            }
            "--mix" => {
                let names = val();
                mixes = MIXES
                    .iter()
                    .copied()
                    .filter(|m| names.split(',').any(|n| n == m.name))
                    .collect();
                assert!(
                    !mixes.is_empty(),
                    "--mix: read-heavy, exchange or rapid-grow"
                );
            }
            "--only" => only = Some(val().split(',').map(str::to_owned).collect()),
            "--help" | "-h" => {
                println!(
                    "map_table [--trials N] [--ms MS] [--threads 1,2,4] \
                     [--mix read-heavy,exchange,rapid-grow] [--only NAME,NAME]"
                );
                return;
            }
            other => panic!("unknown argument {other} (see --help)"),
        }
    }
    let contenders: Vec<(&str, Runner)> = CONTENDERS
        .iter()
        .copied()
        .filter(|(name, _)| only.as_ref().is_none_or(|o| o.iter().any(|n| n == name)))
        .collect();
    let span = Duration::from_millis(ms);
    println!("### Maps: bustle-like mixes, Mops/s (median of {trials} × {ms} ms, min..max)\n");
    println!(
        "2^18 u64 keys in disjoint per-thread ranges, std `RandomState`; read-heavy and \
         exchange made with room for 2^18 and 3/4 prefilled, rapid-grow from empty. \
         Contenders interleaved trial by trial.\n"
    );
    for mix in &mixes {
        let mut header = format!(
            "| {} ({}/{}/{}/{}) |",
            mix.name,
            mix.pct.0,
            mix.pct.1,
            mix.pct.2,
            100 - mix.pct.0 - mix.pct.1 - mix.pct.2
        );
        let mut rule = String::from("|---|");
        for t in &threads {
            header += &format!(" {t} thread{} |", if *t == 1 { "" } else { "s" });
            rule += "---:|";
        }
        println!("{header}\n{rule}");
        let mut med: Vec<Vec<f64>> = vec![Vec::new(); contenders.len()];
        let mut rows: Vec<String> = contenders.iter().map(|(n, _)| format!("| {n} |")).collect();
        for &t in &threads {
            let mut samples = vec![Vec::new(); contenders.len()];
            for _ in 0..trials {
                for (i, (_, run)) in contenders.iter().enumerate() {
                    samples[i].push(run(t, *mix, span));
                }
            }
            for (i, s) in samples.iter_mut().enumerate() {
                let m = median(s);
                rows[i] += &format!(" {m:.1} ({:.1}..{:.1}) |", s[0], s[s.len() - 1]);
                med[i].push(m);
            }
        }
        for r in &rows {
            println!("{r}");
        }
        let idx = |n: &str| contenders.iter().position(|(c, _)| *c == n);
        let ratio = |a: usize, bs: &[usize]| -> String {
            (0..threads.len())
                .map(|j| {
                    let best = bs.iter().map(|&b| med[b][j]).fold(0.0, f64::max);
                    format!("{:.2}", med[a][j] / best)
                })
                .collect::<Vec<_>>()
                .join(" / ")
        };
        if let (Some(a), Some(d), Some(s)) = (idx("freeway AtomicMap"), idx("dashmap"), idx("scc"))
        {
            println!(
                "\nAtomicMap ÷ best of scc and dashmap: {}",
                ratio(a, &[d, s])
            );
        }
        if let (Some(a), Some(d), Some(s)) = (
            idx("freeway AtomicMap (pin per chunk)"),
            idx("dashmap"),
            idx("scc"),
        ) {
            println!(
                "AtomicMap (pin per chunk) ÷ best of scc and dashmap: {}",
                ratio(a, &[d, s])
            );
        }
        if let (Some(h), Some(p)) = (idx("freeway HashMap"), idx("papaya")) {
            println!("HashMap ÷ papaya: {}", ratio(h, &[p]));
        }
        println!();
    }
}
