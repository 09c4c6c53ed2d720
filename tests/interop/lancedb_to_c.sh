#!/usr/bin/env bash
# LanceDB -> C: every reference table LanceDB GEN makes in data format FORMAT (gen.mjs: nullable,
# low-cardinality, long and unicode strings, int64/float32/float64/bool, vectors of 8, 384,
# 768 and 1024 dims, several fragments, deletions of both kinds, after optimize(), BTree and
# IVF_PQ indices) is read by `resona scan` with zero mismatches against LanceDB's own rows;
# then `resona append` adds rows to each, and every LanceDB generation that can use the
# table (both for 2.0 tables, except current-made indices, which 0.13 cannot read) still
# opens, counts, filters, searches, appends and deletes; resona reads the result each time.
#   lancedb_to_c.sh [GEN FORMAT]   (GEN 0.13|current, FORMAT 2.0|2.1; default from the
#                                    environment: INTEROP_GEN, INTEROP_FORMAT)
source "$(dirname "$0")/common.sh"
GEN=${1:-${INTEROP_GEN:?usage: lancedb_to_c.sh GEN FORMAT}}
FORMAT=${2:-${INTEROP_FORMAT:?usage: lancedb_to_c.sh GEN FORMAT}}

REF="$TMP/ref"
run "LanceDB $GEN makes the $FORMAT reference tables" ldb "$GEN" gen "$FORMAT" "$REF"
cat "$OUT"

# kind|table|rows|readers|append file|appended ids, one line per table.
"$PY" -c '
import json, sys
for t in json.load(open(sys.argv[1])):
    print("|".join([t["kind"], t["table"], str(t["rows"]), ",".join(t["readers"]), t["append"],
                    ",".join(t["append_ids"])]))' "$REF/tables.json" >"$TMP/tables.txt"
[ "$(count_lines "$TMP/tables.txt")" -ge 7 ] || fail "gen.mjs described too few tables"

while IFS='|' read -r kind table rows readers append ids <&3; do
  T="$REF/$table"
  echo "== $GEN $FORMAT $kind ($rows rows; readers $readers)"
  rows_equal "$kind as LanceDB $GEN wrote it" "$GEN" "$T"
  run "$kind: resona append" "$RESONA" append "$T" --jsonl "$REF/$append"
  expect=$((rows + $(count_lines "$REF/$append")))
  # Each generation that can use the table: open, count, find the C rows by id and by
  # vector (flat and indexed plans), add 3 rows, delete 1, search again; then resona reads
  # the C rows and LanceDB's rows, equal to what LanceDB reads.
  for reader in ${readers//,/ }; do
    mutate_equal "$kind after resona's and LanceDB's appends" "$reader" "$T" \
      --expect-rows "$expect" --find-ids "$ids" --tag "js-$reader"
    expect=$((expect + 2))
  done
  [ "$(count_lines "$CMP_DIR/resona.jsonl")" -eq "$expect" ] ||
    fail "$kind: resona scans $(count_lines "$CMP_DIR/resona.jsonl") rows, expected $expect"
done 3<"$TMP/tables.txt"
echo "PASS: LanceDB $GEN ($FORMAT) -> C"
