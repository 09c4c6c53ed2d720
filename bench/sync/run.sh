#!/usr/bin/env bash
# Benchmark `supertag sync` on synthetic exports (see docs/benchmarks.md).
#
#   bench/sync/run.sh [BUILD_DIR] [NODES...]     default: build/rel, 100000 1000000
#
# For each size: generate the export once (cached in $BENCH_DIR, default
# /tmp/supertag-bench), then run a fresh sync into an empty directory and a
# no-op re-sync, each under /usr/bin/time -v; prints wall time, user+sys CPU
# and peak RSS. Build first with:
#   cmake -S . -B build/rel -DCMAKE_BUILD_TYPE=Release && cmake --build build/rel -j2
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build/rel}
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100000 1000000)
bin="$build/src/supertag/supertag"
[ -x "$bin" ] || { echo "no $bin: build it first" >&2; exit 1; }
dir=${BENCH_DIR:-/tmp/supertag-bench}
mkdir -p "$dir"
measure() { # label, command...
  local log="$dir/time.log"
  local label=$1; shift
  /usr/bin/time -v "$@" >/dev/null 2>"$log"
  local wall user sys rss
  wall=$(grep 'Elapsed (wall clock)' "$log" | awk '{print $NF}')
  user=$(grep 'User time' "$log" | awk '{print $NF}')
  sys=$(grep 'System time' "$log" | awk '{print $NF}')
  rss=$(grep 'Maximum resident set size' "$log" | awk '{print $NF}')
  printf "%-28s wall %8s  cpu %6.2f s  peak RSS %6.1f MB\n" "$label" "$wall" \
    "$(echo "$user + $sys" | bc)" "$(echo "scale=1; $rss / 1024" | bc)"
}
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for n in "${sizes[@]}"; do
  export_file="$dir/bench-$n@2026-01-01.json"
  [ -f "$export_file" ] || python3 "$root/bench/sync/gen_export.py" "$n" "$export_file"
  echo "== $n nodes: $(du -h "$export_file" | cut -f1) export"
  rm -rf "$dir/ws-$n"; mkdir -p "$dir/ws-$n"
  measure "sync (fresh index)" "$bin" sync --export "$export_file" --db-path "$dir/ws-$n/tana-index.db"
  measure "sync (unchanged, no-op)" "$bin" sync --export "$export_file" --db-path "$dir/ws-$n/tana-index.db"
  measure "sync --force (rebuild)" "$bin" sync --force --export "$export_file" --db-path "$dir/ws-$n/tana-index.db"
  echo "   index: $(du -h "$dir/ws-$n/tana-index.db" | cut -f1)"
done
