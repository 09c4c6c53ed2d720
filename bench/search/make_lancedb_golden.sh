#!/usr/bin/env bash
# Regenerates tests/search/data/lancedb-flat.txt: LanceDB's own flat-search
# results (row ids and float32 _distance bits) for all three metrics on small
# deterministic tables, which test_search compares with ours bit for bit.
#
#   LANCEDB_NODE_DIR=<dir with node_modules/@lancedb/lancedb> \
#     bench/search/make_lancedb_golden.sh build/rel/bench/search/bench_search
#
# Tables: 60 rows x dim in {7, 20, 1024, 1030}, 2 queries, from bench_search's
# generator (xorshift seed 0x2545F4914F6CDD1D, rows then queries), then row 5
# set to zeros and row 9 made a copy of row 3 (a zero vector and a tie).
set -euo pipefail
bench=${1:?usage: make_lancedb_golden.sh path/to/bench_search}
here=$(cd "$(dirname "$0")" && pwd)
out="$here/../../tests/search/data/lancedb-flat.txt"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$(dirname "$out")"
{
  echo "# LanceDB $(node -e "console.log(require('$LANCEDB_NODE_DIR/node_modules/@lancedb/lancedb/package.json').version)") flat search: metric dim query rank row distance_bits_hex"
  for d in 7 20 1024 1030; do
    "$bench" --rows 60 --dim "$d" --queries 2 --write-vectors "$tmp/v.f32" --write-queries "$tmp/q.f32" 2>/dev/null
    python3 - "$tmp/v.f32" "$d" <<'PY'
import sys
path, dim = sys.argv[1], int(sys.argv[2])
data = bytearray(open(path, "rb").read())
row = 4 * dim
data[5 * row:6 * row] = bytes(row)
data[9 * row:10 * row] = data[3 * row:4 * row]
open(path, "wb").write(data)
PY
    create=--create
    for m in l2 cosine dot; do
      node "$here/lancedb_flat.mjs" --vectors "$tmp/v.f32" --queries "$tmp/q.f32" --rows 60 \
        --dim "$d" --nq 2 --k 60 --metric "$m" --dir "$tmp/db$d" $create --reps 1 \
        --out "$tmp/o.json" >/dev/null 2>&1
      create=
      python3 - "$tmp/o.json" "$m" "$d" <<'PY'
import json, struct, sys
o = json.load(open(sys.argv[1]))
for q, hits in enumerate(o["hits"]):
    for rank, h in enumerate(hits):
        bits = struct.unpack("<I", struct.pack("<f", h["distance"]))[0]
        print(sys.argv[2], sys.argv[3], q, rank, h["row"], f"{bits:08x}")
PY
    done
  done
} >"$out"
echo "wrote $out ($(wc -l <"$out") lines)"
