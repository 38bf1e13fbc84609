//! How fast freeway-check decides linearizability: operations checked per second, for queue
//! histories (whole-history search) and map histories (per-key, P-compositional), recorded from
//! real threads on Freeway's own `Queue` and `HashMap` (every history is linearizable, so the
//! checker must search to the end). Lock-free structures, not Mutex ones: a thread asleep in a
//! futex stretches one operation over hundreds of others, and such histories cost the search
//! orders of magnitude more (they can exhaust its budget); that cost is the lock's, not the
//! checker's typical one.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use freeway_check::lin::{History, Recorder, check, check_partitioned};
use freeway_check::models::{Fifo, MapModel, MapOp, MapRet, QueueOp, QueueRet};
use freeway_check::stress::Rng;

fn record<O: Clone + Send + Sync, R: Clone + Send, S: Sync>(
    threads: usize,
    ops: usize,
    sys: &S,
    generate: impl Fn(&mut Rng, usize) -> O + Sync,
    exec: impl Fn(&S, &O) -> R + Sync,
) -> History<O, R> {
    let rec = Recorder::new();
    std::thread::scope(|s| {
        for t in 0..threads {
            let (rec, generate, exec) = (&rec, &generate, &exec);
            s.spawn(move || {
                let mut rng = Rng::new(t as u64 + 1);
                let mut log = rec.thread();
                for _ in 0..ops {
                    let op = generate(&mut rng, t);
                    log.call(op, |op| exec(sys, op));
                }
            });
        }
    });
    rec.into_history()
}

fn queue_histories(c: &mut Criterion) {
    let mut g = c.benchmark_group("check/queue");
    for threads in [2usize, 4] {
        let q = freeway_queue::Queue::new();
        let h = record(
            threads,
            1000,
            &q,
            |rng, t| {
                // Pop-biased so the queue stays shallow: see docs/testing.md on deep queues.
                if rng.chance(0.4) {
                    QueueOp::Push(((t as u64) << 32) | rng.below(1 << 20))
                } else {
                    QueueOp::Pop
                }
            },
            |q, op| match op {
                QueueOp::Push(v) => {
                    q.push(*v);
                    QueueRet::Push
                }
                QueueOp::Pop => QueueRet::Pop(q.pop()),
            },
        );
        g.throughput(Throughput::Elements(h.len() as u64));
        g.bench_with_input(BenchmarkId::new("freeway-check", threads), &h, |b, h| {
            b.iter(|| check(&Fifo::new(), h).unwrap())
        });
    }
    g.finish();
}

fn map_histories(c: &mut Criterion) {
    let mut g = c.benchmark_group("check/map");
    for threads in [2usize, 4] {
        let m = freeway_hashmap::HashMap::<u64, u64>::new();
        let h = record(
            threads,
            1000,
            &m,
            |rng, _| {
                let k = rng.below(16);
                match rng.below(4) {
                    0 => MapOp::Get(k),
                    1 => MapOp::Insert(k, rng.below(1000)),
                    2 => MapOp::Remove(k),
                    _ => MapOp::Update(k, 1),
                }
            },
            |m, op| {
                let m = m.pin();
                match *op {
                    MapOp::Get(k) => MapRet::Get(m.get(&k).copied()),
                    MapOp::Insert(k, v) => MapRet::Insert(m.insert(k, v).copied()),
                    MapOp::Remove(k) => MapRet::Remove(m.remove(&k).copied()),
                    MapOp::Update(k, d) => {
                        MapRet::Update(m.update(k, |v| v.wrapping_add(d)).copied())
                    }
                    MapOp::GetOrInsert(k, v) => MapRet::GetOrInsert(*m.get_or_insert_with(k, || v)),
                }
            },
        );
        g.throughput(Throughput::Elements(h.len() as u64));
        g.bench_with_input(BenchmarkId::new("freeway-check", threads), &h, |b, h| {
            b.iter(|| check_partitioned(&MapModel::new(), h, |op| op.key()).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, queue_histories, map_histories);
criterion_main!(benches);
