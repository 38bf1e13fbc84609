//! Memory beside speed: bytes per element at a million elements, and the peak of live bytes
//! (and, for Freeway, of retired-but-unreclaimed objects) while two threads churn.
//!
//! Runs under `cargo bench` with N = 1 000 000 and under `cargo test --benches` with N = 10 000.
//! It installs a counting global allocator, so it is a binary of its own: the speed benches keep
//! the plain system allocator. It writes `target/bench-memory.md`, which `cargo xtask bench`
//! appends to the report.

use freeway_check::alloc::CountingAlloc;
use freeway_check::stress::Rng;
use freeway_epoch::accounting;
use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::hash::RandomState;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc::new();

struct Row {
    structure: &'static str,
    contender: &'static str,
    bytes_per_element: f64,
    churn_peak: isize,
    garbage_peak: Option<u64>,
}

fn settle() {
    freeway_epoch::reclaim_until_quiescent(10_000);
}

/// Bytes per element of a container filled with `n` elements.
fn footprint<C>(n: u64, make: impl Fn() -> C, fill: impl Fn(&C, u64)) -> f64 {
    settle();
    let before = ALLOC.live();
    let c = make();
    for i in 0..n {
        fill(&c, i);
    }
    let after = ALLOC.live();
    drop(c);
    settle();
    (after - before) as f64 / n as f64
}

/// Peak live bytes above the starting point, and peak garbage, while 2 threads run `ops` each.
fn churn<C: Sync>(
    make: impl Fn() -> C,
    prefill: impl Fn(&C),
    ops: u64,
    op: impl Fn(&C, &mut Rng) + Sync,
    counts_garbage: bool,
) -> (isize, Option<u64>) {
    let c = make();
    prefill(&c);
    settle();
    let base = ALLOC.live();
    ALLOC.reset_peak();
    let g0 = accounting::counts().outstanding();
    let done = AtomicBool::new(false);
    let mut garbage_peak = 0u64;
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..2u64)
            .map(|t| {
                let (c, op) = (&c, &op);
                s.spawn(move || {
                    let mut rng = Rng::new(t + 17);
                    for _ in 0..ops {
                        op(c, &mut rng);
                    }
                })
            })
            .collect();
        let sampler = s.spawn(|| {
            let mut peak = 0u64;
            while !done.load(Ordering::Acquire) {
                peak = peak.max(accounting::counts().outstanding().saturating_sub(g0));
                std::thread::sleep(std::time::Duration::from_micros(200));
            }
            peak
        });
        for w in workers {
            w.join().unwrap();
        }
        done.store(true, Ordering::Release);
        garbage_peak = sampler.join().unwrap();
    });
    let peak = ALLOC.peak() - base;
    drop(c);
    settle();
    (peak, counts_garbage.then_some(garbage_peak))
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let n: u64 = if full { 1_000_000 } else { 10_000 };
    let ops: u64 = if full { 1_000_000 } else { 10_000 };
    let mut rows = Vec::new();

    // Queues and stacks: fill, then churn with push-then-pop pairs over 1024 queued values.
    macro_rules! pairs_row {
        ($structure:expr, $name:expr, $make:expr, $push:expr, $pop:expr, $garbage:expr) => {{
            let bytes = footprint(n, $make, |q, i| $push(q, i));
            let (peak, g) = churn(
                $make,
                |q| {
                    for i in 0..1024 {
                        $push(q, i)
                    }
                },
                ops,
                |q, rng| {
                    $push(q, rng.next_u64());
                    let _ = $pop(q);
                },
                $garbage,
            );
            rows.push(Row {
                structure: $structure,
                contender: $name,
                bytes_per_element: bytes,
                churn_peak: peak,
                garbage_peak: g,
            });
        }};
    }
    pairs_row!(
        "queue (u64)",
        "freeway Queue",
        freeway_queue::Queue::<u64>::new,
        |q: &freeway_queue::Queue<u64>, v| q.push(v),
        |q: &freeway_queue::Queue<u64>| q.pop(),
        true
    );
    pairs_row!(
        "queue (u64)",
        "crossbeam SegQueue",
        crossbeam_queue::SegQueue::<u64>::new,
        |q: &crossbeam_queue::SegQueue<u64>, v| q.push(v),
        |q: &crossbeam_queue::SegQueue<u64>| q.pop(),
        false
    );
    pairs_row!(
        "queue (u64)",
        "concurrent-queue",
        concurrent_queue::ConcurrentQueue::<u64>::unbounded,
        |q: &concurrent_queue::ConcurrentQueue<u64>, v| {
            let _ = q.push(v);
        },
        |q: &concurrent_queue::ConcurrentQueue<u64>| q.pop().ok(),
        false
    );
    pairs_row!(
        "queue (u64)",
        "Mutex<VecDeque>",
        || Mutex::new(VecDeque::<u64>::new()),
        |q: &Mutex<VecDeque<u64>>, v| q.lock().unwrap().push_back(v),
        |q: &Mutex<VecDeque<u64>>| q.lock().unwrap().pop_front(),
        false
    );

    pairs_row!(
        "stack (u64)",
        "freeway Stack",
        freeway_stack::Stack::<u64>::new,
        |s: &freeway_stack::Stack<u64>, v| s.push(v),
        |s: &freeway_stack::Stack<u64>| s.pop(),
        true
    );
    pairs_row!(
        "stack (u64)",
        "scc::Stack",
        scc::Stack::<u64>::default,
        |s: &scc::Stack<u64>, v| {
            s.push(v);
        },
        |s: &scc::Stack<u64>| s.pop().map(|e| **e),
        false
    );
    pairs_row!(
        "stack (u64)",
        "Mutex<Vec>",
        || Mutex::new(Vec::<u64>::new()),
        |s: &Mutex<Vec<u64>>, v| s.lock().unwrap().push(v),
        |s: &Mutex<Vec<u64>>| s.lock().unwrap().pop(),
        false
    );

    let keys = n;
    macro_rules! map_row {
        ($name:expr, $make:expr, $insert:expr, $remove:expr, $garbage:expr) => {{
            let bytes = footprint(n, $make, |m, i| $insert(m, i, i));
            let (peak, g) = churn(
                $make,
                |m| {
                    for i in 0..keys / 2 {
                        $insert(m, i, i)
                    }
                },
                ops,
                |m, rng| {
                    let k = rng.below(keys);
                    if rng.chance(0.5) {
                        $insert(m, k, k);
                    } else {
                        $remove(m, k);
                    }
                },
                $garbage,
            );
            rows.push(Row {
                structure: "map (u64 -> u64)",
                contender: $name,
                bytes_per_element: bytes,
                churn_peak: peak,
                garbage_peak: g,
            });
        }};
    }
    map_row!(
        "freeway HashMap",
        freeway_hashmap::HashMap::<u64, u64>::new,
        |m: &freeway_hashmap::HashMap<u64, u64>, k, v| {
            m.pin().insert(k, v);
        },
        |m: &freeway_hashmap::HashMap<u64, u64>, k| {
            m.pin().remove(&k);
        },
        true
    );
    map_row!(
        "freeway AtomicMap",
        freeway_hashmap::AtomicMap::<u64, u64>::new,
        |m: &freeway_hashmap::AtomicMap<u64, u64>, k, v| {
            m.insert(k, v);
        },
        |m: &freeway_hashmap::AtomicMap<u64, u64>, k| {
            m.remove(k);
        },
        true
    );
    map_row!(
        "dashmap",
        || dashmap::DashMap::<u64, u64, RandomState>::with_hasher(RandomState::new()),
        |m: &dashmap::DashMap<u64, u64, RandomState>, k, v| {
            m.insert(k, v);
        },
        |m: &dashmap::DashMap<u64, u64, RandomState>, k| {
            m.remove(&k);
        },
        false
    );
    map_row!(
        "papaya",
        || papaya::HashMap::<u64, u64, RandomState>::with_hasher(RandomState::new()),
        |m: &papaya::HashMap<u64, u64, RandomState>, k, v| {
            m.pin().insert(k, v);
        },
        |m: &papaya::HashMap<u64, u64, RandomState>, k| {
            m.pin().remove(&k);
        },
        false
    );
    map_row!(
        "scc::HashMap",
        || scc::HashMap::<u64, u64, RandomState>::with_hasher(RandomState::new()),
        |m: &scc::HashMap<u64, u64, RandomState>, k, v| {
            let _ = m.upsert_sync(k, v);
        },
        |m: &scc::HashMap<u64, u64, RandomState>, k| {
            m.remove_sync(&k);
        },
        false
    );
    map_row!(
        "Mutex<HashMap>",
        || Mutex::new(HashMap::<u64, u64>::new()),
        |m: &Mutex<HashMap<u64, u64>>, k, v| {
            m.lock().unwrap().insert(k, v);
        },
        |m: &Mutex<HashMap<u64, u64>>, k| {
            m.lock().unwrap().remove(&k);
        },
        false
    );

    // Worst single-insert latency while growing from empty to n entries: a resize must not stall
    // a writer. One thread; the max over every insert, and the 99.99th percentile.
    let mut latencies = Vec::new();
    macro_rules! grow_latency {
        ($name:expr, $make:expr, $insert:expr) => {{
            let m = $make();
            let mut ns: Vec<u64> = Vec::with_capacity(n as usize);
            for k in 0..n {
                let t = std::time::Instant::now();
                $insert(&m, k.wrapping_mul(0x9E37_79B9_7F4A_7C15), k);
                ns.push(t.elapsed().as_nanos() as u64);
            }
            drop(m);
            ns.sort_unstable();
            let p9999 = ns[((ns.len() as f64) * 0.9999) as usize - 1];
            latencies.push(($name, *ns.last().unwrap(), p9999, ns[ns.len() / 2]));
            settle();
        }};
    }
    grow_latency!(
        "freeway HashMap",
        freeway_hashmap::HashMap::<u64, u64>::new,
        |m: &freeway_hashmap::HashMap<u64, u64>, k, v| {
            m.pin().insert(k, v);
        }
    );
    grow_latency!(
        "freeway AtomicMap",
        freeway_hashmap::AtomicMap::<u64, u64>::new,
        |m: &freeway_hashmap::AtomicMap<u64, u64>, k, v| {
            m.insert(k, v);
        }
    );
    grow_latency!(
        "dashmap",
        || dashmap::DashMap::<u64, u64, RandomState>::with_hasher(RandomState::new()),
        |m: &dashmap::DashMap<u64, u64, RandomState>, k, v| {
            m.insert(k, v);
        }
    );
    grow_latency!(
        "papaya",
        || papaya::HashMap::<u64, u64, RandomState>::with_hasher(RandomState::new()),
        |m: &papaya::HashMap<u64, u64, RandomState>, k, v| {
            m.pin().insert(k, v);
        }
    );
    grow_latency!(
        "scc::HashMap",
        || scc::HashMap::<u64, u64, RandomState>::with_hasher(RandomState::new()),
        |m: &scc::HashMap<u64, u64, RandomState>, k, v| {
            let _ = m.upsert_sync(k, v);
        }
    );
    grow_latency!(
        "Mutex<HashMap>",
        || Mutex::new(HashMap::<u64, u64>::new()),
        |m: &Mutex<HashMap<u64, u64>>, k, v| {
            m.lock().unwrap().insert(k, v);
        }
    );

    let mut md = String::new();
    let _ = writeln!(md, "## Memory\n");
    let _ = writeln!(
        md,
        "Bytes per element with {n} elements inserted into a fresh structure (counting global allocator, \
         so allocator slack is excluded and growth headroom included); churn: 2 threads, {ops} operations each \
         (queue/stack: push then pop over 1024 queued; map: 50/50 insert/remove over {keys} keys, half prefilled), \
         peak live bytes above the start of the phase, and for Freeway the peak count of retired objects not yet \
         reclaimed (freeway-epoch accounting, sampled every 0.2 ms).\n"
    );
    let _ = writeln!(
        md,
        "| structure | contender | bytes / element | churn: peak bytes above start | churn: peak garbage (objects) |\n|---|---|---:|---:|---:|"
    );
    for r in &rows {
        let _ = writeln!(
            md,
            "| {} | {} | {:.1} | {} | {} |",
            r.structure,
            r.contender,
            r.bytes_per_element,
            r.churn_peak,
            r.garbage_peak.map_or("–".to_string(), |g| g.to_string())
        );
    }
    let _ = writeln!(
        md,
        "\n### Insert latency while growing from empty to {n} entries (one thread)\n\n| contender | worst | 99.99th percentile | median |\n|---|---:|---:|---:|"
    );
    for (name, worst, p, med) in &latencies {
        let _ = writeln!(
            md,
            "| {name} | {:.1} µs | {:.1} µs | {med} ns |",
            *worst as f64 / 1e3,
            *p as f64 / 1e3
        );
    }
    print!("{md}");
    if full {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/bench-memory.md");
        std::fs::write(path, md).expect("write target/bench-memory.md");
    }
}
