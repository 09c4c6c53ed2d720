#!/usr/bin/env bash
# Tables in LanceDB 0.39's DEFAULT data format (2.2) are read by resona exactly as LanceDB
# reads them:
#   1. gen.mjs's reference tables (mixed types, nulls, unicode and long strings, int64 extremes,
#      8/384/768/1024-d vectors with null vectors, several fragments, both deletion-file kinds,
#      after optimize(), BTree + IVF_PQ indices) and gen_embed.mjs's embedding tables
#      (supertag's and resona's schemas, 3,000 rows of 128-d in two adds: dictionaries with LZ4 items,
#      constant columns, strings up to ~40 KB in zstd-compressed full-zip pages, RLE levels):
#      `resona scan` prints every row equal to LanceDB's (compare.py: bit-exact floats);
#   2. on every table with a vector column, `resona search` top-10 (l2, cosine, dot) equals
#      LanceDB's exact search (ids in order, distances within 1e-5 relative);
#   3. `resona info` says 2.2, readable and writable by resona, with a note that the original's
#      LanceDB (JS 0.13) cannot open it.
# (resona's writes to such tables are checked by write_default.sh.)
source "$(dirname "$0")/common.sh"

REF="$TMP/ref"
EMB="$TMP/emb"
run "current LanceDB makes default-format tables" ldb current gen default "$REF" --dump
cat "$OUT"
run "current LanceDB makes default-format embedding tables" ldb current gen_embed "$EMB" \
  --rows 3000 --dim 128 --adds 2 --dump
cat "$OUT"

"$PY" -c '
import json, sys
for d in sys.argv[1:]:
    for t in json.load(open(d + "/tables.json")):
        v = t.get("vector") or {}
        print("%s|%s|%s|%s" % (d, t["kind"], t["table"], v.get("column", "")))' \
  "$REF" "$EMB" >"$TMP/tables.txt"
[ "$(count_lines "$TMP/tables.txt")" -ge 9 ] || fail "too few tables described"

while IFS='|' read -r dir kind table vcol <&3; do
  T="$dir/$table"

  CMP_DIR="$TMP/cmp.$kind"
  mkdir -p "$CMP_DIR"
  cp "$dir/$kind.lancedb.jsonl" "$CMP_DIR/lancedb.jsonl"
  cp "$dir/$kind.schema.json" "$CMP_DIR/schema.json"
  scan_equal "$kind (default format)" "$T"

  run "$kind: resona info" "$RESONA" info "$T"
  "$PY" - "$OUT" "$kind" <<'PYEOF' || fail "$kind: resona info is wrong"
import json, sys
i = json.load(open(sys.argv[1]))
assert i["data_format"] == "2.2", i["data_format"]
assert i["readable_by"]["resona"] is True and i["writable_by_resona"] is True, i
assert i["readable_by"]["lancedb_0_13"] is False and "2.2" in i.get("note", ""), i
print("%s: info says 2.2, readable and writable" % sys.argv[2])
PYEOF

  if [ -n "$vcol" ]; then
    # two queries: near a stored row, and a row's vector negated (far from everything)
    first=$(head -n 1 "$CMP_DIR/lancedb.jsonl" | "$PY" -c 'import json,sys; print(json.loads(sys.stdin.read())["id"])')
    vector_of "$CMP_DIR/lancedb.jsonl" "$first" 0.25 >"$TMP/$kind.q1.json"
    "$PY" -c 'import json,sys; print(json.dumps([-x for x in json.load(open(sys.argv[1]))]))' \
      "$TMP/$kind.q1.json" >"$TMP/$kind.q2.json"
    search_equal "$kind (default format)" current "$T" "$TMP/$kind.q1.json" "$TMP/$kind.q2.json"
  fi

done 3<"$TMP/tables.txt"
echo "PASS: LanceDB-default (2.2) tables read and searched like LanceDB does"
