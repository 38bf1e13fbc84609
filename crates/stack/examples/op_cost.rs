//! Single-thread operation cost, for deterministic instruction counts under callgrind.
//!
//! `cargo build --release -p freeway-stack --example op_cost`, then
//! `valgrind --tool=callgrind target/release/examples/op_cost <workload> <n>` for two values of
//! `n`: the difference of the two totals divided by the difference of the `n`s is the cost of one
//! iteration, without process start-up. Workloads:
//!
//! - `freeway-pair`, `mutex-pair`: one push then one pop (`Stack<u64>`, `Mutex<Vec<u64>>`);
//! - `freeway-push32`, `freeway-batch32`: 32 single pushes, or one `push_batch` of 32, then a
//!   `take_all` drain of the 32 (the drain is the same for both);
//! - `freeway-elim-pair`: the pair on `Stack<u64, 2>` (elimination never engages on one thread).

#[cfg(not(loom))]
fn main() {
    use freeway_stack::Stack;
    use std::hint::black_box;
    use std::sync::Mutex;

    let mut args = std::env::args().skip(1);
    let workload = args.next().unwrap_or_else(|| "freeway-pair".into());
    let n: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    match workload.as_str() {
        "freeway-pair" => {
            let s = Stack::<u64>::new();
            for i in 0..n {
                s.push(black_box(i));
                black_box(s.pop());
            }
        }
        "freeway-elim-pair" => {
            let s = Stack::<u64, 2>::with_elimination();
            for i in 0..n {
                s.push(black_box(i));
                black_box(s.pop());
            }
        }
        "mutex-pair" => {
            let s = Mutex::new(Vec::<u64>::new());
            for i in 0..n {
                s.lock().unwrap().push(black_box(i));
                black_box(s.lock().unwrap().pop());
            }
        }
        "freeway-push32" => {
            let s = Stack::<u64>::new();
            for _ in 0..n {
                for i in 0..32 {
                    s.push(black_box(i));
                }
                black_box(s.take_all().count());
            }
        }
        "freeway-batch32" => {
            let s = Stack::<u64>::new();
            for _ in 0..n {
                s.push_batch(black_box(0..32u64));
                black_box(s.take_all().count());
            }
        }
        other => panic!("unknown workload {other:?}"),
    }
}

#[cfg(loom)]
fn main() {}
