#!/usr/bin/env bash
# The search benchmark of docs/benchmarks.md, end to end, for one table size:
#
#   LANCEDB_NODE_DIR=<dir with node_modules/@lancedb/lancedb> \
#     bench/search/run_bench.sh BUILD_DIR ROWS WORKDIR [FRAGMENTS]
#
# 1. generate ROWS x 1024 random unit vectors and 8 queries (bench_search);
# 2. write them as a Lance table (format 2.0) with libresona: one fragment,
#    and, if FRAGMENTS is given, a second table of FRAGMENTS equal fragments;
# 3. per table: resona_search_table (1 query, 2 threads; then 8 queries per
#    scan), LanceDB's flat search of the SAME table (same machine, same run),
#    and a check that both return identical top-10 ids and distances;
# 4. the in-memory search and the memory-bandwidth bound (bench_search).
set -euo pipefail
build=${1:?build dir}; rows=${2:?rows}; work=${3:?workdir}; frags=${4:-}
bench="$build/bench/search/bench_search"
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work"
v="$work/v$rows.f32"; q="$work/q8.f32"
[ -f "$v" ] || "$bench" --rows "$rows" --dim 1024 --queries 8 --write-vectors "$v" --write-queries "$q"
tables=("$work/t$rows-1/bench.lance")
[ -d "${tables[0]}" ] || "$bench" --vectors "$v" --rows "$rows" --make-table "${tables[0]}"
if [ -n "$frags" ]; then
  t="$work/t$rows-$frags/bench.lance"
  [ -d "$t" ] || "$bench" --vectors "$v" --rows "$rows" --make-table "$t" --frag-rows $((rows / frags))
  tables+=("$t")
fi
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2), load $(cut -d' ' -f1-3 /proc/loadavg)"
for t in "${tables[@]}"; do
  echo "== table $t"
  "$bench" --table "$t" --query-file "$q" --rows "$rows" --queries 1 --reps 5 --no-bandwidth \
    --hits-json "$work/c1.json" 2>/dev/null
  "$bench" --table "$t" --query-file "$q" --rows "$rows" --queries 8 --reps 3 --no-bandwidth \
    --hits-json "$work/c8.json" 2>/dev/null
  node "$here/lancedb_flat.mjs" --queries "$q" --rows "$rows" --dim 1024 --nq 2 --k 10 \
    --metric l2 --dir "$(dirname "$t")" --reps 3 --out "$work/l.json" 2>/dev/null
  python3 - "$work/c8.json" "$work/l.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); l = json.load(open(sys.argv[2]))["hits"]
same = all([(h["row"], h["distance"]) for h in c[i]] ==
           [(h["row"], float(f"{h['distance']:.9g}")) for h in l[i]] for i in range(len(l)))
print(f"top-10 of {len(l)} queries identical to LanceDB: {same}")
PY
done
echo "== in memory (same vectors, mmap of the raw file) + bandwidth bound"
"$bench" --vectors "$v" --query-file "$q" --rows "$rows" --queries 1 --reps 5 2>/dev/null
"$bench" --vectors "$v" --query-file "$q" --rows "$rows" --queries 8 --reps 3 --no-bandwidth 2>/dev/null
