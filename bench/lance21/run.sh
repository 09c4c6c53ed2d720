#!/usr/bin/env bash
# Full-scan MB/s of a data format 2.1 table: resona (bench_lance21, the library's scan of
# every column) against LanceDB's scan of the same table (scan.mjs), alternating, REPS times
# each; MB/s counts the table's data files on disk. Needs tests/interop/setup.
#   bench/lance21/run.sh BUILD_DIR [ROWS] [DIM] [REPS] [FORMAT]   (defaults 100000 384 3 2.1)
# FORMAT 2.2 makes the same table in data format 2.2 (LanceDB 0.39's default).
# The table is made once in bench/out/lance21-ROWS-DIM[-FORMAT]/ (kept between runs).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:?usage: run.sh BUILD_DIR [ROWS] [DIM] [REPS]}
rows=${2:-100000} dim=${3:-384} reps=${4:-3} format=${5:-2.1}
gen="$root/tests/interop/lancedb-current"
out="$root/bench/out/lance21-$rows-$dim"
[ "$format" = 2.1 ] || out="$out-$format"
table="$out/bench21.lance"
if [ ! -d "$table" ]; then
  mkdir -p "$out"
  node "$here/gen.mjs" "$gen" "$out" "$rows" "$dim" "$format" 2>/dev/null
fi
bytes=$(du -sb "$table/data" | cut -f1)
echo "table $table: $rows rows, dim $dim, data files $bytes bytes; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$build/src/resona-cli/resona" info "$table" | head -c 200; echo
for i in $(seq "$reps"); do
  "$build/bench/lance21/bench_lance21" "$table" "$bytes"
  node "$here/scan.mjs" "$gen" "$table" "$bytes" 2>/dev/null
done
