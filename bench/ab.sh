#!/bin/bash
# Before and after on the same machine state: the fan-out benchmark (thin beside it) on an older commit and on this
# checkout, taking turns, so that a noisy machine weighs on both alike.
#   bench/ab.sh <older commit> [turns, default 4]
# The older commit is checked out in a temporary worktree that borrows this checkout's virtualenv and load generator.
# Every run's JSON lands in this checkout's bench/results/; the printed list says which side each one was.
# BENCH_LOCK names the lock file that keeps two benchmarks from running at once (default /tmp/livesupport-bench.lock).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
old="$(git -C "$here" rev-parse "${1:?usage: bench/ab.sh <older commit> [turns]}")"
turns="${2:-4}"
lock="${BENCH_LOCK:-/tmp/livesupport-bench.lock}"
tree="$(mktemp -d /tmp/livesupport-ab-XXXXXX)"
git -C "$here" worktree add -q --detach "$tree" "$old"
trap 'git -C "$here" worktree remove --force "$tree"' EXIT
[ -d "$here/bench/loadgen/node_modules" ] || npm ci --prefix "$here/bench/loadgen" --silent
ln -s "$here/.venv" "$tree/.venv"
ln -s "$here/bench/loadgen/node_modules" "$tree/bench/loadgen/node_modules"
for _ in $(seq "$turns"); do
  for side in before after; do
    dir="$here"; [ "$side" = before ] && dir="$tree"
    out="$(cd "$dir" && flock "$lock" "$here/.venv/bin/python" bench/run.py --size default --servers livesupport,thin \
      --processes 2 --rounds 1 --messages 300 --duration 8 --quiet-wait 10 --settle 1 2>&1 \
      | sed -n 's/^Raw results: //p')"
    [ -n "$out" ] || { echo "$side: the benchmark printed no results" >&2; exit 1; }
    [ "$side" = before ] && cp "$tree/$out" "$here/$out"
    echo "$side $out"
  done
done
