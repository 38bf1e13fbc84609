//! Waiting queues against channels: a producer/consumer pipeline whose consumers sleep when there
//! is nothing to take. Two producers send 100 000 values each in bursts of 100 with a yield in
//! between (so the consumers keep running dry and going to sleep); two consumers take values
//! until each has received a stop value, sent after the last burst. Once on threads with the
//! blocking calls, once on a two-worker tokio runtime with the async ones. Contenders are
//! interleaved trial by trial; the figure is million values delivered per second, median of the
//! trials (min..max).
//!
//! ```text
//! cargo run --release -p freeway-benches --features freeway-queue/wait --example wait_pipeline -- [--trials N]
//! ```

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

const PRODUCERS: usize = 2;
const CONSUMERS: usize = 2;
const PER_PRODUCER: u64 = 300_000;
const BURST: u64 = 100;
const STOP: u64 = u64::MAX;

/// One contender: a queue or channel with blocking and async sending and receiving.
trait Pipe: Send + Sync + 'static {
    fn send(&self, v: u64);
    fn recv(&self) -> u64;
    fn send_async(&self, v: u64) -> impl Future<Output = ()> + Send + '_;
    fn recv_async(&self) -> impl Future<Output = u64> + Send + '_;
}

impl Pipe for freeway_queue::Queue<u64> {
    fn send(&self, v: u64) {
        self.push(v);
    }
    fn recv(&self) -> u64 {
        self.pop_wait()
    }
    async fn send_async(&self, v: u64) {
        self.push(v);
    }
    fn recv_async(&self) -> impl Future<Output = u64> + Send + '_ {
        self.pop_async()
    }
}

impl Pipe for freeway_queue::ArrayQueue<u64> {
    fn send(&self, v: u64) {
        self.push_wait(v);
    }
    fn recv(&self) -> u64 {
        self.pop_wait()
    }
    fn send_async(&self, v: u64) -> impl Future<Output = ()> + Send + '_ {
        self.push_async(v)
    }
    fn recv_async(&self) -> impl Future<Output = u64> + Send + '_ {
        self.pop_async()
    }
}

/// async-channel's sender and receiver.
struct AsyncChannel(async_channel::Sender<u64>, async_channel::Receiver<u64>);

impl Pipe for AsyncChannel {
    fn send(&self, v: u64) {
        self.0.send_blocking(v).unwrap();
    }
    fn recv(&self) -> u64 {
        self.1.recv_blocking().unwrap()
    }
    async fn send_async(&self, v: u64) {
        self.0.send(v).await.unwrap();
    }
    async fn recv_async(&self) -> u64 {
        self.1.recv().await.unwrap()
    }
}

/// flume's sender and receiver.
struct Flume(flume::Sender<u64>, flume::Receiver<u64>);

impl Pipe for Flume {
    fn send(&self, v: u64) {
        self.0.send(v).unwrap();
    }
    fn recv(&self) -> u64 {
        self.1.recv().unwrap()
    }
    async fn send_async(&self, v: u64) {
        self.0.send_async(v).await.unwrap();
    }
    async fn recv_async(&self) -> u64 {
        self.1.recv_async().await.unwrap()
    }
}

/// crossbeam-channel's sender and receiver (threads only: it has no async calls).
struct Crossbeam(
    crossbeam_channel::Sender<u64>,
    crossbeam_channel::Receiver<u64>,
);

impl Pipe for Crossbeam {
    fn send(&self, v: u64) {
        self.0.send(v).unwrap();
    }
    fn recv(&self) -> u64 {
        self.1.recv().unwrap()
    }
    async fn send_async(&self, _: u64) {
        unreachable!("crossbeam-channel runs on threads only")
    }
    async fn recv_async(&self) -> u64 {
        unreachable!("crossbeam-channel runs on threads only")
    }
}

/// Values delivered per microsecond, on threads.
fn on_threads<P: Pipe>(p: P) -> f64 {
    let start = Instant::now();
    std::thread::scope(|s| {
        let consumers: Vec<_> = (0..CONSUMERS)
            .map(|_| {
                s.spawn(|| {
                    let mut n = 0u64;
                    while p.recv() != STOP {
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|_| {
                s.spawn(|| {
                    for i in 0..PER_PRODUCER {
                        p.send(i);
                        if i % BURST == BURST - 1 {
                            std::thread::yield_now();
                        }
                    }
                })
            })
            .collect();
        for h in producers {
            h.join().unwrap();
        }
        for _ in 0..CONSUMERS {
            p.send(STOP);
        }
        let got: u64 = consumers.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(got, PER_PRODUCER * PRODUCERS as u64);
    });
    (PER_PRODUCER * PRODUCERS as u64) as f64 / start.elapsed().as_micros() as f64
}

/// Values delivered per microsecond, as tasks on `rt`.
fn on_tokio<P: Pipe>(rt: &tokio::runtime::Runtime, p: P) -> f64 {
    let p = Arc::new(p);
    let start = Instant::now();
    rt.block_on(async {
        let consumers: Vec<_> = (0..CONSUMERS)
            .map(|_| {
                let p = p.clone();
                tokio::spawn(async move {
                    let mut n = 0u64;
                    while p.recv_async().await != STOP {
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|_| {
                let p = p.clone();
                tokio::spawn(async move {
                    for i in 0..PER_PRODUCER {
                        p.send_async(i).await;
                        if i % BURST == BURST - 1 {
                            tokio::task::yield_now().await;
                        }
                    }
                })
            })
            .collect();
        for h in producers {
            h.await.unwrap();
        }
        for _ in 0..CONSUMERS {
            p.send_async(STOP).await;
        }
        let mut got = 0;
        for h in consumers {
            got += h.await.unwrap();
        }
        assert_eq!(got, PER_PRODUCER * PRODUCERS as u64);
    });
    (PER_PRODUCER * PRODUCERS as u64) as f64 / start.elapsed().as_micros() as f64
}

struct Contender {
    name: &'static str,
    threads: fn() -> f64,
    tokio: Option<fn(&tokio::runtime::Runtime) -> f64>,
}

fn contenders() -> Vec<Contender> {
    vec![
        Contender {
            name: "freeway Queue",
            threads: || on_threads(freeway_queue::Queue::new()),
            tokio: Some(|rt| on_tokio(rt, freeway_queue::Queue::new())),
        },
        Contender {
            name: "freeway ArrayQueue (cap 1024)",
            threads: || on_threads(freeway_queue::ArrayQueue::new(1024)),
            tokio: Some(|rt| on_tokio(rt, freeway_queue::ArrayQueue::new(1024))),
        },
        Contender {
            name: "async-channel unbounded",
            threads: || {
                let (s, r) = async_channel::unbounded();
                on_threads(AsyncChannel(s, r))
            },
            tokio: Some(|rt| {
                let (s, r) = async_channel::unbounded();
                on_tokio(rt, AsyncChannel(s, r))
            }),
        },
        Contender {
            name: "async-channel bounded 1024",
            threads: || {
                let (s, r) = async_channel::bounded(1024);
                on_threads(AsyncChannel(s, r))
            },
            tokio: Some(|rt| {
                let (s, r) = async_channel::bounded(1024);
                on_tokio(rt, AsyncChannel(s, r))
            }),
        },
        Contender {
            name: "flume unbounded",
            threads: || {
                let (s, r) = flume::unbounded();
                on_threads(Flume(s, r))
            },
            tokio: Some(|rt| {
                let (s, r) = flume::unbounded();
                on_tokio(rt, Flume(s, r))
            }),
        },
        Contender {
            name: "crossbeam-channel unbounded",
            threads: || {
                let (s, r) = crossbeam_channel::unbounded();
                on_threads(Crossbeam(s, r))
            },
            tokio: None,
        },
    ]
}

fn summary(v: &mut [f64]) -> String {
    v.sort_by(f64::total_cmp);
    format!("{:.1} ({:.0}..{:.0})", v[v.len() / 2], v[0], v[v.len() - 1])
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let trials: usize = args
        .iter()
        .position(|a| a == "--trials")
        .and_then(|i| args.get(i + 1))
        .map_or(5, |s| s.parse().expect("--trials N"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("a tokio runtime");
    let all = contenders();
    let mut threads = vec![Vec::new(); all.len()];
    let mut tasks = vec![Vec::new(); all.len()];
    for _ in 0..trials {
        for (i, c) in all.iter().enumerate() {
            threads[i].push((c.threads)());
            if let Some(t) = c.tokio {
                tasks[i].push(t(&rt));
            }
        }
    }
    println!(
        "Pipeline with sleeping consumers: {PRODUCERS} producers x {PER_PRODUCER} values in \
         bursts of {BURST}, {CONSUMERS} consumers; million values delivered per second, median of \
         {trials} trials (min..max).\n"
    );
    println!("| contender | threads (blocking calls) | tokio tasks, 2 workers (async calls) |");
    println!("|---|---:|---:|");
    for (i, c) in all.iter().enumerate() {
        let t = if tasks[i].is_empty() {
            "–".to_string()
        } else {
            summary(&mut tasks[i])
        };
        println!("| {} | {} | {} |", c.name, summary(&mut threads[i]), t);
    }
}
