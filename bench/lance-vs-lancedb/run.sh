#!/usr/bin/env bash
# resona vs LanceDB on the same rows and the same disk (see README.md next to this file):
#   1. append ROWS rows x DIM in batches of BATCH: resona_table_append (with its fsyncs, and
#      again with RESONA_UNSAFE_NO_FSYNC=1: LanceDB does not fsync) vs LanceDB add(), for
#      LanceDB 0.13.0 and the current pinned version; MB/s of row payload and the ratio
#   2. time of one append (FRAG_ROWS rows) once the table has 10, 100 and 1,000 fragments
#   3. full-scan MB/s: resona's scan vs LanceDB's, of the resona-written and of the
#      LanceDB-written table (warm page cache: the tables were just written; SCAN_PASSES
#      (default 1) scans each, the last one counts)
# Usage: bench/lance-vs-lancedb/run.sh [OUTDIR]     (default bench/out/lance-vs-lancedb)
# Environment: ROWS (100000) DIM (1024) BATCH (5000) FRAG_AT (10,100,1000) FRAG_ROWS (10)
#   REPS (5) GENS ("0.13 current") SCAN_PASSES (1) BUILD_DIR (build/bench, Release)
#   PARTS ("append fragments scan": which measurements; scan needs the append tables)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
out=${1:-$root/bench/out/lance-vs-lancedb}
ROWS=${ROWS:-100000} DIM=${DIM:-1024} BATCH=${BATCH:-5000}
FRAG_AT=${FRAG_AT:-10,100,1000} FRAG_ROWS=${FRAG_ROWS:-10} REPS=${REPS:-5}
GENS=${GENS:-"0.13 current"} SCAN_PASSES=${SCAN_PASSES:-1}
PARTS=${PARTS:-"append fragments scan"}
part() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }
build=${BUILD_DIR:-$root/build/bench}
here="$root/bench/lance-vs-lancedb"

tests/interop/setup >/dev/null
echo "== building c_bench_lance (Release) in $build" >&2
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DRESONA_WERROR=OFF >"$out.configure.log" 2>&1 ||
  { cat "$out.configure.log"; exit 1; }
cmake --build "$build" -j2 --target c_bench_lance >"$out.build.log" 2>&1 ||
  { tail -40 "$out.build.log"; exit 1; }
cbench="$build/bench/lance-vs-lancedb/c_bench_lance"

part append && rm -rf "$out"
mkdir -p "$out"
res="$out/results.jsonl"
part append && : >"$res"
lance() { node "$here/lancedb_bench.mjs" "$@" 2>>"$out/lancedb.stderr"; }
note() { echo "== $*" >&2; }

if part append; then
note "append $ROWS x $DIM in batches of $BATCH"
"$cbench" append "$out/c.lance" "$ROWS" "$DIM" "$BATCH" | tee -a "$res"
RESONA_UNSAFE_NO_FSYNC=1 "$cbench" append "$out/c-nofsync.lance" "$ROWS" "$DIM" "$BATCH" |
  sed 's/"side":"resona"/"side":"resona-nofsync"/' | tee -a "$res"
for g in $GENS; do lance "$g" append "$out/l-$g.lance" "$ROWS" "$DIM" "$BATCH" | tee -a "$res"; done
rm -rf "$out/c-nofsync.lance"
fi

if part fragments; then
note "one append of $FRAG_ROWS rows after $FRAG_AT fragments"
"$cbench" fragments "$out/cf.lance" "$DIM" "$FRAG_ROWS" "$FRAG_AT" "$REPS" | tee -a "$res"
RESONA_UNSAFE_NO_FSYNC=1 "$cbench" fragments "$out/cf-nofsync.lance" "$DIM" "$FRAG_ROWS" \
  "$FRAG_AT" "$REPS" | sed 's/"side":"resona"/"side":"resona-nofsync"/' | tee -a "$res"
for g in $GENS; do
  lance "$g" fragments "$out/lf-$g.lance" "$DIM" "$FRAG_ROWS" "$FRAG_AT" "$REPS" | tee -a "$res"
done
rm -rf "$out/cf.lance" "$out/cf-nofsync.lance" "$out"/lf-*.lance
fi

if part scan; then
note "full scans (warm)"
last_gen=${GENS##* }
for t in c "l-$last_gen"; do
  for pass in $(seq 1 "$SCAN_PASSES"); do
    line=$(/usr/bin/time -f '%M' -o "$out/rss" "$cbench" scan "$out/$t.lance")
    [ "$pass" -eq "$SCAN_PASSES" ] && echo "$line" | sed "s/}\$/,\"table\":\"$t\",\"max_rss_kb\":$(cat "$out/rss")}/" |
      tee -a "$res"
  done
  for g in $GENS; do
    for pass in $(seq 1 "$SCAN_PASSES"); do
      line=$(lance "$g" scan "$out/$t.lance")
      [ "$pass" -eq "$SCAN_PASSES" ] && echo "$line" | sed "s/}\$/,\"table\":\"$t\"}/" | tee -a "$res"
    done
  done
done

fi

python3 "$here/summary.py" "$res" | tee "$out/summary.md"
echo "(results: $res; tables kept in $out)" >&2
