//! The cost of the reclamation core against raw crossbeam-epoch: pin/unpin, a nested pin, and
//! retiring an object (its reclamation included). The facade must be free; the accounting
//! feature (on in the benches) must cost little.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use freeway_benches::{run_threads, thread_counts};
use std::hint::black_box;

fn pin(c: &mut Criterion) {
    let mut g = c.benchmark_group("epoch/pin");
    g.throughput(Throughput::Elements(1));
    for t in thread_counts() {
        g.bench_with_input(BenchmarkId::new("freeway-epoch", t), &t, |b, &t| {
            b.iter_custom(|iters| {
                run_threads(t, iters, |_| {
                    |n| {
                        for _ in 0..n {
                            black_box(freeway_epoch::pin());
                        }
                    }
                })
            })
        });
        g.bench_with_input(BenchmarkId::new("crossbeam-epoch (raw)", t), &t, |b, &t| {
            b.iter_custom(|iters| {
                run_threads(t, iters, |_| {
                    |n| {
                        for _ in 0..n {
                            black_box(crossbeam_epoch::pin());
                        }
                    }
                })
            })
        });
    }
    g.finish();
}

fn nested_pin(c: &mut Criterion) {
    let mut g = c.benchmark_group("epoch/nested-pin");
    g.throughput(Throughput::Elements(1));
    for t in thread_counts() {
        g.bench_with_input(BenchmarkId::new("freeway-epoch", t), &t, |b, &t| {
            b.iter_custom(|iters| {
                run_threads(t, iters, |_| {
                    |n| {
                        let outer = freeway_epoch::pin();
                        for _ in 0..n {
                            black_box(freeway_epoch::pin());
                        }
                        drop(outer);
                    }
                })
            })
        });
        g.bench_with_input(BenchmarkId::new("crossbeam-epoch (raw)", t), &t, |b, &t| {
            b.iter_custom(|iters| {
                run_threads(t, iters, |_| {
                    |n| {
                        let outer = crossbeam_epoch::pin();
                        for _ in 0..n {
                            black_box(crossbeam_epoch::pin());
                        }
                        drop(outer);
                    }
                })
            })
        });
    }
    g.finish();
}

fn retire(c: &mut Criterion) {
    let mut g = c.benchmark_group("epoch/retire");
    g.throughput(Throughput::Elements(1));
    for t in thread_counts() {
        g.bench_with_input(BenchmarkId::new("freeway-epoch", t), &t, |b, &t| {
            b.iter_custom(|iters| {
                run_threads(t, iters, |_| {
                    |n| {
                        for _ in 0..n {
                            let guard = freeway_epoch::pin();
                            let p = freeway_epoch::Owned::new([0u64; 4]).into_shared(&guard);
                            // SAFETY: `p` was never shared and is retired once.
                            unsafe { freeway_epoch::retire(&guard, p) };
                        }
                    }
                })
            })
        });
        g.bench_with_input(BenchmarkId::new("crossbeam-epoch (raw)", t), &t, |b, &t| {
            b.iter_custom(|iters| {
                run_threads(t, iters, |_| {
                    |n| {
                        for _ in 0..n {
                            let guard = crossbeam_epoch::pin();
                            let p = crossbeam_epoch::Owned::new([0u64; 4]).into_shared(&guard);
                            // SAFETY: `p` was never shared and is destroyed once.
                            unsafe { guard.defer_destroy(p) };
                        }
                    }
                })
            })
        });
    }
    g.finish();
}

criterion_group!(benches, pin, nested_pin, retire);
criterion_main!(benches);
