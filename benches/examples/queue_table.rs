//! The queue comparison table: every contender in one process, interleaved trial by trial,
//! duration-based, so the ratios are measured under the same conditions.
//!
//! Workloads (each trial starts from a fresh queue holding 64 items):
//! - `pairs`: every thread loops `push(x); pop()`, in chunks of 64 between looks at the stop
//!   flag;
//! - `prodcons`: even threads push, odd threads pop (a single thread alternates one push and
//!   one pop); a bounded push that finds the queue full is retried and not counted.
//!
//! Every push and every pop that returned a value counts as one operation. All threads start
//! together at a barrier and run for the trial's span; the figure is operations over the span,
//! in Mops/s. Each cell is the median of the trials, with their min..max. For `prodcons` two
//! more tables come from the same trials: the pops that returned a value alone (the items that
//! went through the queue), and the items left in the queue at the end. A queue whose consumers
//! fall behind its producers scores more operations (a push costs less than a hand-over) while
//! its length grows without bound; these two tables show which regime each contender ran in.
//!
//! ```text
//! cargo run --release -p freeway-benches --example queue_table -- [--trials N] [--ms MS]
//!     [--threads 1,2,4] [--workload pairs|prodcons|both] [--only NAME,NAME] [--wait-twin]
//! ```
//!
//! `--wait-twin` replaces the contenders with freeway's two queues, each beside its twin built
//! with the `wait` feature (see `wait_twins`), for `benches/wait-overhead.sh`.
//!
//! The output is a Markdown section; `cargo xtask bench` puts it into docs/benchmarks.md.

use freeway_benches::{median, summary};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

/// One contender: a queue of `u64` that can be built fresh for every trial.
trait Contender: Sync {
    /// Pushes `v`; `false` if a bounded queue was full.
    fn push(&self, v: u64) -> bool;
    fn pop(&self) -> Option<u64>;
    fn len(&self) -> usize;
}

/// `Contender` for the two queues of a build of freeway-queue: the crate itself, or its twin
/// built with the `wait` feature (`--wait-twin`).
macro_rules! freeway_contenders {
    ($krate:ident) => {
        impl Contender for $krate::Queue<u64> {
            #[inline]
            fn push(&self, v: u64) -> bool {
                $krate::Queue::push(self, v);
                true
            }
            #[inline]
            fn pop(&self) -> Option<u64> {
                $krate::Queue::pop(self)
            }
            fn len(&self) -> usize {
                $krate::Queue::len(self)
            }
        }

        impl Contender for $krate::ArrayQueue<u64> {
            #[inline]
            fn push(&self, v: u64) -> bool {
                $krate::ArrayQueue::push(self, v).is_ok()
            }
            #[inline]
            fn pop(&self) -> Option<u64> {
                $krate::ArrayQueue::pop(self)
            }
            fn len(&self) -> usize {
                $krate::ArrayQueue::len(self)
            }
        }
    };
}

freeway_contenders!(freeway_queue);
freeway_contenders!(freeway_queue_wait_twin);

impl Contender for crossbeam_queue::SegQueue<u64> {
    #[inline]
    fn push(&self, v: u64) -> bool {
        crossbeam_queue::SegQueue::push(self, v);
        true
    }
    #[inline]
    fn pop(&self) -> Option<u64> {
        crossbeam_queue::SegQueue::pop(self)
    }
    fn len(&self) -> usize {
        crossbeam_queue::SegQueue::len(self)
    }
}

impl Contender for concurrent_queue::ConcurrentQueue<u64> {
    #[inline]
    fn push(&self, v: u64) -> bool {
        concurrent_queue::ConcurrentQueue::push(self, v).is_ok()
    }
    #[inline]
    fn pop(&self) -> Option<u64> {
        concurrent_queue::ConcurrentQueue::pop(self).ok()
    }
    fn len(&self) -> usize {
        concurrent_queue::ConcurrentQueue::len(self)
    }
}

impl Contender for Mutex<VecDeque<u64>> {
    #[inline]
    fn push(&self, v: u64) -> bool {
        self.lock().unwrap().push_back(v);
        true
    }
    #[inline]
    fn pop(&self) -> Option<u64> {
        self.lock().unwrap().pop_front()
    }
    fn len(&self) -> usize {
        self.lock().unwrap().len()
    }
}

impl Contender for crossbeam_queue::ArrayQueue<u64> {
    #[inline]
    fn push(&self, v: u64) -> bool {
        crossbeam_queue::ArrayQueue::push(self, v).is_ok()
    }
    #[inline]
    fn pop(&self) -> Option<u64> {
        crossbeam_queue::ArrayQueue::pop(self)
    }
    fn len(&self) -> usize {
        crossbeam_queue::ArrayQueue::len(self)
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Workload {
    Pairs,
    ProdCons,
}

/// What one trial measured.
#[derive(Clone, Copy)]
struct Sample {
    /// Pushes plus pops that returned a value, per microsecond.
    ops: f64,
    /// Pops that returned a value, per microsecond: the items that went through the queue.
    delivered: f64,
    /// Items left in the queue when the trial ended.
    left: f64,
}

/// One trial of `q` (prefilled by the caller).
fn trial<Q: Contender>(q: &Q, workload: Workload, threads: usize, span: Duration) -> Sample {
    let stop = AtomicBool::new(false);
    let ops = AtomicU64::new(0);
    let popped = AtomicU64::new(0);
    let start = Barrier::new(threads + 1);
    let elapsed = std::thread::scope(|s| {
        for id in 0..threads {
            let (stop, ops, popped, start) = (&stop, &ops, &popped, &start);
            s.spawn(move || {
                let role = match (workload, threads) {
                    (Workload::Pairs, _) | (Workload::ProdCons, 1) => 2,
                    (Workload::ProdCons, _) => id % 2,
                };
                let v = id as u64;
                start.wait();
                let (mut n, mut p) = (0u64, 0u64);
                // Relaxed: a stop flag; the scope's join orders the counts.
                while !stop.load(Ordering::Relaxed) {
                    for _ in 0..64 {
                        match role {
                            0 => n += u64::from(q.push(v)),
                            1 => p += u64::from(q.pop().is_some()),
                            _ => {
                                n += u64::from(q.push(v));
                                p += u64::from(q.pop().is_some());
                            }
                        }
                    }
                }
                ops.fetch_add(n + p, Ordering::Relaxed);
                popped.fetch_add(p, Ordering::Relaxed);
            });
        }
        start.wait();
        let t0 = Instant::now();
        std::thread::sleep(span);
        stop.store(true, Ordering::Relaxed);
        t0.elapsed()
    });
    let us = elapsed.as_micros() as f64;
    Sample {
        ops: ops.into_inner() as f64 / us,
        delivered: popped.into_inner() as f64 / us,
        left: q.len() as f64,
    }
}

struct Entry {
    name: &'static str,
    /// Builds a fresh prefilled queue and runs one trial on it.
    run: fn(Workload, usize, Duration) -> Sample,
}

fn run_fresh<Q: Contender>(make: fn() -> Q) -> impl Fn(Workload, usize, Duration) -> Sample {
    move |w, t, span| {
        let q = make();
        for i in 0..64 {
            assert!(q.push(i));
        }
        trial(&q, w, t, span)
    }
}

macro_rules! entry {
    ($name:expr, $make:expr) => {
        Entry {
            name: $name,
            run: |w, t, span| run_fresh($make)(w, t, span),
        }
    };
}

fn contenders() -> Vec<Entry> {
    vec![
        entry!("freeway Queue", freeway_queue::Queue::<u64>::new),
        entry!("crossbeam SegQueue", crossbeam_queue::SegQueue::<u64>::new),
        entry!(
            "concurrent-queue unbounded",
            concurrent_queue::ConcurrentQueue::<u64>::unbounded
        ),
        entry!("Mutex<VecDeque>", || Mutex::new(VecDeque::<u64>::new())),
        entry!("freeway ArrayQueue (cap 1024)", || {
            freeway_queue::ArrayQueue::<u64>::new(1024)
        }),
        entry!("crossbeam ArrayQueue (cap 1024)", || {
            crossbeam_queue::ArrayQueue::<u64>::new(1024)
        }),
    ]
}

/// `--wait-twin`: freeway's two queues as this build has them, each beside its twin built with
/// the `wait` feature (the crate `freeway-queue-wait-twin`, the same source), so that the
/// feature's cost when nobody waits is measured in one process, trial by trial. Meaningful only
/// in a build without `freeway-queue/wait`, where the first of each pair has the feature off.
fn wait_twins() -> Vec<Entry> {
    vec![
        entry!("freeway Queue", freeway_queue::Queue::<u64>::new),
        entry!(
            "freeway Queue, wait twin",
            freeway_queue_wait_twin::Queue::<u64>::new
        ),
        entry!("freeway ArrayQueue (cap 1024)", || {
            freeway_queue::ArrayQueue::<u64>::new(1024)
        }),
        entry!("freeway ArrayQueue (cap 1024), wait twin", || {
            freeway_queue_wait_twin::ArrayQueue::<u64>::new(1024)
        }),
    ]
}

fn arg<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!(
            "queue_table [--trials N (7)] [--ms MS (300)] [--threads 1,2,4] \
             [--workload pairs|prodcons|both] [--only NAME,NAME] [--wait-twin]"
        );
        return;
    }
    let trials: usize = arg(&args, "--trials").map_or(7, |s| s.parse().expect("--trials N"));
    let span =
        Duration::from_millis(arg(&args, "--ms").map_or(300, |s| s.parse().expect("--ms MS")));
    let threads: Vec<usize> = arg(&args, "--threads")
        .unwrap_or("1,2,4")
        .split(',')
        .map(|s| s.parse().expect("--threads 1,2,4"))
        .collect();
    let workloads: Vec<(Workload, &str)> = match arg(&args, "--workload").unwrap_or("both") {
        "pairs" => vec![(Workload::Pairs, "pairs")],
        "prodcons" => vec![(Workload::ProdCons, "prodcons")],
        _ => vec![(Workload::Pairs, "pairs"), (Workload::ProdCons, "prodcons")],
    };
    let twins = args.iter().any(|a| a == "--wait-twin");
    let mut all = if twins { wait_twins() } else { contenders() };
    if let Some(only) = arg(&args, "--only") {
        let keep: Vec<&str> = only.split(',').collect();
        all.retain(|e| keep.iter().any(|k| e.name.contains(k)));
    }

    println!(
        "Queue contenders in one process, interleaved trial by trial; each trial a fresh queue \
         with 64 items, all threads running together for {} ms; Mops/s, median of {trials} \
         trials (min..max).\n",
        span.as_millis()
    );
    for (w, wname) in workloads {
        // results[contender][thread count] = samples
        let mut results = vec![vec![Vec::new(); threads.len()]; all.len()];
        for (ti, &t) in threads.iter().enumerate() {
            for _ in 0..trials {
                for (ci, e) in all.iter().enumerate() {
                    results[ci][ti].push((e.run)(w, t, span));
                }
            }
        }
        println!("### queue {wname}\n");
        let names: Vec<&str> = all.iter().map(|e| e.name).collect();
        let med = print_table(&names, &threads, &results, |s| s.ops, 1);
        let find = |n: &str| all.iter().position(|e| e.name == n);
        let ratio_row = |label: &str, a: Option<usize>, b: Option<usize>| {
            if let (Some(a), Some(b)) = (a, b) {
                print!("| {label} |");
                for (x, y) in med[a].iter().zip(&med[b]) {
                    print!(" {:.2}x |", x / y);
                }
                println!();
            }
        };
        let q = find("freeway Queue");
        ratio_row("Queue ÷ SegQueue", q, find("crossbeam SegQueue"));
        ratio_row("Queue ÷ Mutex<VecDeque>", q, find("Mutex<VecDeque>"));
        // Best unbounded peer per thread count.
        if let Some(q) = q {
            let peers: Vec<usize> = [
                "crossbeam SegQueue",
                "concurrent-queue unbounded",
                "Mutex<VecDeque>",
            ]
            .iter()
            .filter_map(|n| find(n))
            .collect();
            if !peers.is_empty() {
                print!("| Queue ÷ best unbounded peer |");
                for (ti, ours) in med[q].iter().enumerate() {
                    let best = peers.iter().map(|&p| med[p][ti]).fold(0.0, f64::max);
                    print!(" {:.2}x |", ours / best);
                }
                println!();
            }
        }
        ratio_row(
            "ArrayQueue ÷ crossbeam ArrayQueue",
            find("freeway ArrayQueue (cap 1024)"),
            find("crossbeam ArrayQueue (cap 1024)"),
        );
        // The twins: the ratio of the medians, and the median of each trial's own ratio (a
        // contender and its twin run back to back in every trial round, so the pair usually
        // shares the process's regime; see docs/queue.md).
        for (label, base, twin) in [
            ("Queue", q, find("freeway Queue, wait twin")),
            (
                "ArrayQueue",
                find("freeway ArrayQueue (cap 1024)"),
                find("freeway ArrayQueue (cap 1024), wait twin"),
            ),
        ] {
            ratio_row(&format!("{label}: wait twin ÷ this build"), twin, base);
            if let (Some(b), Some(t)) = (base, twin) {
                print!("| {label}: wait twin ÷ this build, trial by trial (median) |");
                for (bs, ts) in results[b].iter().zip(&results[t]) {
                    let r = median(bs.iter().zip(ts).map(|(b, t)| t.ops / b.ops).collect());
                    print!(" {r:.2}x |");
                }
                println!();
            }
        }
        println!();
        if w == Workload::ProdCons {
            println!(
                "The same trials, counting only the pops that returned a value (items through \
                 the queue, Mops/s):\n"
            );
            print_table(&names, &threads, &results, |s| s.delivered, 1);
            println!();
            println!("Items left in the queue when each trial ended (thousands):\n");
            print_table(&names, &threads, &results, |s| s.left / 1000.0, 0);
            println!();
        }
    }
}

/// Prints one Markdown table of `pick(sample)`, a row per contender and a column per thread
/// count, each cell the median with min..max; returns the medians.
fn print_table(
    names: &[&str],
    threads: &[usize],
    results: &[Vec<Vec<Sample>>],
    pick: fn(&Sample) -> f64,
    digits: usize,
) -> Vec<Vec<f64>> {
    print!("| contender |");
    for t in threads {
        print!(" {t} thr |");
    }
    println!();
    print!("|---|");
    for _ in threads {
        print!("---:|");
    }
    println!();
    let mut med = vec![vec![0.0; threads.len()]; names.len()];
    for (ci, name) in names.iter().enumerate() {
        print!("| {name} |");
        for ti in 0..threads.len() {
            let mut v: Vec<f64> = results[ci][ti].iter().map(pick).collect();
            let (m, lo, hi) = summary(&mut v);
            med[ci][ti] = m;
            print!(" {m:.digits$} ({lo:.0}..{hi:.0}) |");
        }
        println!();
    }
    med
}
