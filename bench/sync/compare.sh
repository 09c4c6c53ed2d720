#!/usr/bin/env bash
# Side-by-side timing of two supertag binaries on the same synthetic export
# (see docs/benchmarks.md): fresh syncs into empty directories, alternating
# A and B so that machine noise hits both alike; prints each run and the
# minimum / median wall time, CPU time and peak RSS of each.
#
#   bench/sync/compare.sh BIN_A BIN_B [NODES] [RUNS]     default: 100000 nodes, 7 runs
#
# Build an older commit for A with e.g.
#   git worktree add /tmp/old <rev> && cmake -S /tmp/old -B /tmp/old/b -DCMAKE_BUILD_TYPE=Release \
#     && cmake --build /tmp/old/b -j2 --target supertag
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
a=${1:?usage: compare.sh BIN_A BIN_B [NODES] [RUNS]}
b=${2:?usage: compare.sh BIN_A BIN_B [NODES] [RUNS]}
n=${3:-100000}
runs=${4:-7}
dir=${BENCH_DIR:-/tmp/supertag-bench}
mkdir -p "$dir"
export_file="$dir/bench-$n@2026-01-01.json"
[ -f "$export_file" ] || python3 "$root/bench/sync/gen_export.py" "$n" "$export_file"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); export $(du -h "$export_file" | cut -f1), $n nodes"
out=$(mktemp)
trap 'rm -f "$out"; rm -rf "$dir/cmp-ws"' EXIT
for i in $(seq 1 "$runs"); do
  for which in A B; do
    bin=$a
    [ "$which" = B ] && bin=$b
    rm -rf "$dir/cmp-ws"
    mkdir -p "$dir/cmp-ws"
    /usr/bin/time -f "%e %U %S %M" -o "$dir/cmp-time" "$bin" sync --export "$export_file" \
      --db-path "$dir/cmp-ws/tana-index.db" >/dev/null
    read -r wall user sys rss <"$dir/cmp-time"
    cpu=$(echo "$user + $sys" | bc)
    echo "$which $wall $cpu $rss" >>"$out"
    printf "run %d %s: wall %5.2f s  cpu %5.2f s  peak RSS %6.1f MB\n" "$i" "$which" "$wall" "$cpu" \
      "$(echo "scale=1; $rss / 1024" | bc)"
  done
done
stat() { # column of $out for one binary: "min median"
  grep "^$1 " "$out" | cut -d' ' -f"$2" | sort -n | awk '{ v[NR] = $1 } END { printf "min %.2f median %.2f", v[1], v[int((NR + 1) / 2)] }'
}
for which in A B; do
  bin=$a
  [ "$which" = B ] && bin=$b
  rss=$(grep "^$which " "$out" | cut -d' ' -f4 | sort -n | tail -1)
  printf "%s (%s): wall %s s | cpu %s s | peak RSS %.1f MB\n" "$which" "$bin" "$(stat "$which" 2)" \
    "$(stat "$which" 3)" "$(echo "scale=1; $rss / 1024" | bc)"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
