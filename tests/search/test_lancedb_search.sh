#!/usr/bin/env bash
# Exact search = LanceDB's flat search, on a table written by libresona with
# 100 fragments and deleted rows: for L2, cosine and dot, the top-10 row ids
# and the float32 _distance bits of 4 queries must be identical.
# Needs a current LanceDB for Node: tests/interop/lancedb-current/node_modules
# (tests/interop/setup, run by scripts/test) or $LANCEDB_NODE_DIR; without
# either the test is skipped (exit 77), never passed.
set -euo pipefail
node_dir=${LANCEDB_NODE_DIR:-$SOURCE_DIR/tests/interop/lancedb-current}
if [ ! -d "$node_dir/node_modules/@lancedb/lancedb" ] || ! command -v node >/dev/null; then
  echo "SKIP: no LanceDB for Node in $node_dir (run tests/interop/setup)"
  exit 77
fi
export LANCEDB_NODE_DIR=$node_dir
T=$(mktemp -d "${TMPDIR:-/tmp}/lancedb-search.XXXXXX")
trap 'rm -rf "$T"' EXIT
B=$BUILD_DIR/bench/search/bench_search
S=$SOURCE_DIR/bench/search
rows=3000 dim=64
"$B" --rows $rows --dim $dim --queries 4 --write-vectors "$T/v.f32" --write-queries "$T/q.f32" 2>/dev/null
"$B" --vectors "$T/v.f32" --rows $rows --dim $dim --make-table "$T/db/bench.lance" --frag-rows 30 2>/dev/null
# delete every 7th of the first 1500 rows, and all of fragment 3
{ for ((i = 0; i < 1500; i += 7)); do echo "r$i"; done; for ((i = 90; i < 120; i++)); do echo "r$i"; done; } >"$T/del.txt"
"$RESONA" delete "$T/db/bench.lance" --column id --values-file "$T/del.txt" >/dev/null
for m in l2 cosine dot; do
  node "$S/lancedb_flat.mjs" --queries "$T/q.f32" --rows $rows --dim $dim --nq 4 --k 10 \
    --metric $m --dir "$T/db" --reps 1 --out "$T/l_$m.json" >/dev/null 2>&1
  "$B" --vectors "$T/v.f32" --table "$T/db/bench.lance" --query-file "$T/q.f32" --rows $rows \
    --dim $dim --queries 4 --k 10 --metric $m --reps 1 --no-bandwidth \
    --hits-json "$T/c_$m.json" >/dev/null 2>&1
  python3 "$S/compare_hits.py" "$T/c_$m.json" "$T/l_$m.json"
  # deleted rows never appear
  python3 - "$T/c_$m.json" <<'PY'
import json, sys
for hits in json.load(open(sys.argv[1])):
    for h in hits:
        frag, off = h["row"] >> 32, h["row"] & 0xffffffff
        r = frag * 30 + off
        assert not (r < 1500 and r % 7 == 0) and not (90 <= r < 120), h
PY
done
echo "all identical"
