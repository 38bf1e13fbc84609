#!/usr/bin/env bash
# What the `wait` feature costs when nobody waits: the queue table's pairs workload for the two
# freeway queues, built once without and once with `freeway-queue/wait` (cargo unifies features
# within one build, so they are two binaries).
#
# The binaries alternate cell by cell: each round runs every thread count once per build, one
# process each (`--trials 3`), the two builds back to back and in turn first, so that both see
# the machine in the same state. Contended cells on this kind of machine switch between a fast
# and a slow regime over seconds (docs/queue.md), which a table per build, a minute apart,
# cannot share. The summary gives, per queue and thread count, the median over rounds of each
# build's runs and their ratio (on ÷ off; the budget is at least 0.95), then the median over
# rounds of each round's own ratio (its `on` run ÷ its `off` run, a second apart).
#
# Last, one process times both builds trial by trial: queue_table's `--wait-twin` runs each freeway
# queue beside its twin from `freeway-queue-wait-twin`, a second package whose library is
# freeway-queue's own source built with `wait`, interleaved, and prints the ratio of the medians
# (twin ÷ default build) and the median of each trial's own ratio, from max(ROUNDS, 7) trials.
#
#   benches/wait-overhead.sh [ROUNDS (9)] [extra queue_table arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-9}"
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
  echo "## round $r"
  if ((r % 2)); then order="off on"; else order="on off"; fi
  for t in 1 2 4; do
    for build in $order; do
      out=$("$dir/$build" --workload pairs --only "freeway Queue,freeway ArrayQueue" \
        --threads "$t" --trials 3 "$@" | grep -E '^\| freeway')
      echo "$out" | sed "s/^/$build, $t thr: /"
      sed "s/^/$build $r $t /" <<<"$out" >>"$log"
    done
  done
done
echo "## median over rounds (Mops/s), 1 / 2 / 4 threads: off / on = on ÷ off; then the median of the rounds' own on ÷ off"
# Each log line: BUILD ROUND THREADS | NAME | MEDIAN (MIN..MAX) |
awk -F'|' '
  function median(list,   a, n, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
      t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
    }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  {
    split($1, head, " "); build = head[1]; round = head[2]; t = head[3]
    name = $2; gsub(/^ +| +$/, "", name)
    if (!(name in seen)) { seen[name] = 1; order[++names] = name }
    if (!(t in tseen)) { tseen[t] = 1; tord[++ts] = t }
    split($3, v, " ")
    cells[name, t, build] = cells[name, t, build] " " v[1]
    run[name, t, build, round] = v[1]
    if (round > rounds) rounds = round
  }
  END {
    for (k = 1; k <= names; k++) {
      line = "| " order[k] " |"
      for (c = 1; c <= ts; c++) {
        t = tord[c]
        off = median(cells[order[k], t, "off"]); on = median(cells[order[k], t, "on"])
        pairs = ""
        for (r = 1; r <= rounds; r++) {
          if (run[order[k], t, "off", r] + 0 > 0 && run[order[k], t, "on", r] + 0 > 0)
            pairs = pairs " " run[order[k], t, "on", r] / run[order[k], t, "off", r]
        }
        line = line sprintf(" %.1f / %.1f = %.3f; paired %.3f |", off, on, on / off, median(pairs))
      }
      print line
    }
  }' "$log"
echo "## one process, both builds interleaved trial by trial (queue_table --wait-twin)"
"$dir/off" --workload pairs --wait-twin --trials "$((rounds > 7 ? rounds : 7))" "$@" |
  grep -E '^\|'
