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
# LanceDB starts once per phase (gen.mjs --dump, mutate.mjs --batch), not once per table.
source "$(dirname "$0")/common.sh"
GEN=${1:-${INTEROP_GEN:?usage: lancedb_to_c.sh GEN FORMAT}}
FORMAT=${2:-${INTEROP_FORMAT:?usage: lancedb_to_c.sh GEN FORMAT}}

REF="$TMP/ref"
run "LanceDB $GEN makes the $FORMAT reference tables" ldb "$GEN" gen "$FORMAT" "$REF" --dump
cat "$OUT"

# kind|table|rows|readers|append file|appended ids, one line per table.
"$PY" -c '
import json, sys
for t in json.load(open(sys.argv[1])):
    print("|".join([t["kind"], t["table"], str(t["rows"]), ",".join(t["readers"]), t["append"],
                    ",".join(t["append_ids"])]))' "$REF/tables.json" >"$TMP/tables.txt"
[ "$(count_lines "$TMP/tables.txt")" -ge 7 ] || fail "gen.mjs described too few tables"

# Phase 1: resona reads each table as LanceDB wrote it, then appends to it.
declare -A expect
while IFS='|' read -r kind table rows readers append ids <&3; do
  echo "== $GEN $FORMAT $kind ($rows rows; readers $readers)"
  CMP_DIR="$TMP/cmp.$kind.lancedb-$GEN"
  mkdir -p "$CMP_DIR"
  cp "$REF/$kind.lancedb.jsonl" "$CMP_DIR/lancedb.jsonl"
  cp "$REF/$kind.schema.json" "$CMP_DIR/schema.json"
  scan_equal "$kind as LanceDB $GEN wrote it" "$REF/$table"
  run "$kind: resona append" "$RESONA" append "$REF/$table" --jsonl "$REF/$append"
  expect[$kind]=$((rows + $(count_lines "$REF/$append")))
done 3<"$TMP/tables.txt"

# Phase 2, per LanceDB generation (0.13 first): on each table it can use, open, count, find
# the C rows by id and by vector (flat and indexed plans), add 3 rows, delete 1, search
# again, dump; then resona's scan must equal that dump.
for reader in 0.13 current; do
  batch="$TMP/batch-$reader.jsonl"
  : >"$batch"
  while IFS='|' read -r kind table rows readers append ids <&3; do
    case ",$readers," in *",$reader,"*) ;; *) continue ;; esac
    d="$TMP/cmp.$kind.after-$reader"
    mkdir -p "$d"
    "$PY" -c 'import json, sys; print(json.dumps(dict(zip(["table", "expect-rows", "find-ids",
      "tag", "dump-out", "schema-out"], [sys.argv[1], int(sys.argv[2])] + sys.argv[3:]))))' \
      "$REF/$table" "${expect[$kind]}" "$ids" "js-$reader" "$d/lancedb.jsonl" "$d/schema.json" \
      >>"$batch"
  done 3<"$TMP/tables.txt"
  [ -s "$batch" ] || continue
  run "LanceDB $reader after resona's appends (all tables)" ldb "$reader" mutate --batch "$batch"
  cat "$OUT"
  while IFS='|' read -r kind table rows readers append ids <&3; do
    case ",$readers," in *",$reader,"*) ;; *) continue ;; esac
    CMP_DIR="$TMP/cmp.$kind.after-$reader"
    scan_equal "$kind after resona's and LanceDB $reader's appends" "$REF/$table"
    expect[$kind]=$((expect[$kind] + 2))
    [ "$(count_lines "$CMP_DIR/resona.jsonl")" -eq "${expect[$kind]}" ] ||
      fail "$kind: resona scans $(count_lines "$CMP_DIR/resona.jsonl") rows, expected ${expect[$kind]}"
  done 3<"$TMP/tables.txt"
done
echo "PASS: LanceDB $GEN ($FORMAT) -> C"
