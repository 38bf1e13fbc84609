#!/usr/bin/env bash
# What the `wait` feature costs when nobody waits: the queue table's pairs workload for the two
# freeway queues, built once without and once with `freeway-queue/wait` (cargo unifies features
# within one build, so they are two binaries), run alternately, ROUNDS times each.
#
#   benches/wait-overhead.sh [ROUNDS] [extra queue_table arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-2}"
shift || true
dir=target/wait-overhead
mkdir -p "$dir"
cargo build --release -q -p freeway-benches --example queue_table
cp target/release/examples/queue_table "$dir/off"
cargo build --release -q -p freeway-benches --example queue_table --features freeway-queue/wait
cp target/release/examples/queue_table "$dir/on"
cargo build --release -q -p freeway-benches --example queue_table  # leave the default build
for r in $(seq "$rounds"); do
  for build in off on; do
    echo "## round $r, wait feature $build"
    "$dir/$build" --workload pairs --only "freeway Queue,freeway ArrayQueue" "$@" |
      grep -E '^\| freeway'
  done
done
