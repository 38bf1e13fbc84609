#!/usr/bin/env bash
# What the `wait` feature costs when nobody waits: the queue table's pairs workload for the two
# freeway queues, built once without and once with `freeway-queue/wait` (cargo unifies features
# within one build, so they are two binaries), run alternately, ROUNDS times each. Ends with,
# per queue and thread count, the median over rounds of each build's per-round median and their
# ratio (on ÷ off; the budget is at least 0.95); then the median over rounds of each round's own
# ratio (its `on` run ÷ its `off` run, the two run back to back). Contended cells on this kind of
# machine fall into a fast or a slow regime per process (docs/queue.md), so a median over rounds
# can take one build's fast runs and the other's slow ones; the paired ratios compare runs made a
# few seconds apart, and their median discounts the rounds in which the regime changed between
# the two.
#
# Last, one process times both builds trial by trial: queue_table's `--wait-twin` runs each freeway
# queue beside its twin from `freeway-queue-wait-twin`, a second package whose library is
# freeway-queue's own source built with `wait`. Both builds then run under the same conditions,
# interleaved, which takes the per-process regime out of the comparison; the table ends with the
# ratio of the medians (twin ÷ default build), from max(ROUNDS, 7) trials.
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
log="$dir/rounds.txt"
: >"$log"
for r in $(seq "$rounds"); do
  for build in off on; do
    echo "## round $r, wait feature $build"
    out=$("$dir/$build" --workload pairs --only "freeway Queue,freeway ArrayQueue" "$@" |
      grep -E '^\| freeway')
    echo "$out"
    sed "s/^/$build $r /" <<<"$out" >>"$log"
  done
done
echo "## median over rounds (Mops/s): off / on = on ÷ off; then the median of the rounds' own on ÷ off"
# Each log line: BUILD | NAME | MEDIAN (MIN..MAX) | ... one cell per thread count.
awk -F'|' '
  function median(list,   a, n, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
      t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
    }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  {
    split($1, head, " "); build = head[1]; round = head[2]
    name = $2; gsub(/^ +| +$/, "", name)
    if (!(name in seen)) { seen[name] = 1; order[++names] = name }
    for (c = 3; c < NF; c++) {
      split($c, v, " ")
      cells[name, c - 2, build] = cells[name, c - 2, build] " " v[1]
      run[name, c - 2, build, round] = v[1]
      if (round > rounds) rounds = round
    }
    if (NF - 3 > width) width = NF - 3
  }
  END {
    for (k = 1; k <= names; k++) {
      line = "| " order[k] " |"
      for (c = 1; c <= width; c++) {
        off = median(cells[order[k], c, "off"]); on = median(cells[order[k], c, "on"])
        pairs = ""
        for (r = 1; r <= rounds; r++) {
          if (run[order[k], c, "off", r] + 0 > 0)
            pairs = pairs " " run[order[k], c, "on", r] / run[order[k], c, "off", r]
        }
        line = line sprintf(" %.1f / %.1f = %.3f; paired %.3f |", off, on, on / off, median(pairs))
      }
      print line
    }
  }' "$log"
echo "## one process, both builds interleaved trial by trial (queue_table --wait-twin)"
"$dir/off" --workload pairs --wait-twin --trials "$((rounds > 7 ? rounds : 7))" "$@" |
  grep -E '^\|'
