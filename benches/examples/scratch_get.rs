//! scratch
use std::collections::hash_map::RandomState;
use std::hint::black_box;
use std::time::Instant;
fn xs(s: &mut u64) -> u64 {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    *s
}
fn main() {
    let n = 1u64 << 18;
    let p = n * 3 / 4;
    let a: freeway_hashmap::AtomicMap<u64, u64> =
        freeway_hashmap::AtomicMap::with_capacity_and_hasher(n as usize, RandomState::new());
    let d: dashmap::DashMap<u64, u64, RandomState> =
        dashmap::DashMap::with_capacity_and_hasher(n as usize, RandomState::new());
    for k in 0..p {
        a.insert(k, k);
        d.insert(k, k);
    }
    let iters = 4_000_000u64;
    for round in 0..3 {
        let mut out = String::new();
        for (name, lo, span) in [("present", 0, p), ("absent", p, n - p)] {
            let mut r = 88172645463325252u64;
            let t = Instant::now();
            for _ in 0..iters {
                black_box(a.get(lo + xs(&mut r) % span));
            }
            let ta = t.elapsed().as_nanos() as f64 / iters as f64;
            let mut r = 88172645463325252u64;
            let t = Instant::now();
            for _ in 0..iters {
                black_box(d.get(&(lo + xs(&mut r) % span)).map(|v| *v));
            }
            let td = t.elapsed().as_nanos() as f64 / iters as f64;
            out += &format!("{name}: atomic {ta:.1} dash {td:.1} | ");
        }
        println!("round {round}: {out}");
    }
}
