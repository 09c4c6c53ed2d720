#!/usr/bin/env bash
# resona writes to tables in LanceDB 0.39's DEFAULT data format (2.2), and LanceDB 0.39 reads
# the result back equal. On every table gen.mjs (mixed types, nulls, long/unicode strings,
# 8-1024-d vectors, deletion files of both kinds, after optimize(), BTree + IVF_PQ indices)
# and gen_embed.mjs (supertag's and resona's embedding schemas) make with current LanceDB's
# defaults, resona runs: append, delete (one LanceDB-written row and one of its own), compact,
# append again. Then:
#   1. every data file of the table has footer 2.2, and `resona info` still says 2.2;
#   2. resona's scan equals the expected rows (LanceDB's rows + appended - deleted), value by
#      value (compare.py: bit-exact floats);
#   3. LanceDB 0.39 opens the table, counts it, finds resona's rows by id and by vector
#      (flat and indexed search), adds 3 rows and deletes 1 (mutate.mjs), and its dump then
#      equals resona's scan.
source "$(dirname "$0")/common.sh"

REF="$TMP/ref"
EMB="$TMP/emb"
run "current LanceDB makes default-format tables" ldb current gen default "$REF" --dump
run "current LanceDB makes default-format embedding tables" ldb current gen_embed "$EMB" \
  --rows 2000 --dim 96 --adds 2 --dump

"$PY" -c '
import json, sys
for d in sys.argv[1:]:
    for t in json.load(open(d + "/tables.json")):
        print("%s|%s|%s|%s" % (d, t["kind"], t["table"], t["append"]))' \
  "$REF" "$EMB" >"$TMP/tables.txt"
[ "$(count_lines "$TMP/tables.txt")" -ge 9 ] || fail "too few tables described"

batch="$TMP/batch.jsonl"
: >"$batch"
declare -A expect
while IFS='|' read -r dir kind table append <&3; do
  T="$dir/$table"
  d="$TMP/w.$kind"
  mkdir -p "$d"
  # second batch of rows: the same rows under new ids; the ids to delete; expected rows
  "$PY" - "$dir/$kind.lancedb.jsonl" "$dir/$append" "$d" <<'PYEOF'
import json, sys
base = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
add = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8") if l.strip()]
out = sys.argv[3]
again = [dict(r, id=r["id"] + "-again") for r in add]
gone = {base[0]["id"], add[0]["id"]}
with open(out + "/again.jsonl", "w", encoding="utf-8") as f:
    for r in again:
        f.write(json.dumps(r, ensure_ascii=False) + "\n")
open(out + "/ids", "w", encoding="utf-8").write("\n".join(sorted(gone)) + "\n")
with open(out + "/expected.jsonl", "w", encoding="utf-8") as f:
    for r in base + add + again:
        if r["id"] not in gone:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
open(out + "/find", "w").write(",".join([add[1]["id"], again[0]["id"]]))
PYEOF
  # the deleted ids must be unique in the table for the expected rows to be exact
  for id in $(cat "$d/ids"); do
    n=$(grep -c "\"id\":\"$id\"" "$dir/$kind.lancedb.jsonl" "$dir/$append" | awk -F: '{s+=$2} END {print s}')
    [ "$n" -eq 1 ] || fail "$kind: id $id occurs $n times"
  done
  run "$kind: resona append" "$RESONA" append "$T" --jsonl "$dir/$append"
  run "$kind: resona delete" "$RESONA" delete "$T" --column id --values-file "$d/ids"
  run "$kind: resona compact" "$RESONA" compact "$T"
  run "$kind: resona append again" "$RESONA" append "$T" --jsonl "$d/again.jsonl"
  run "$kind: resona info" "$RESONA" info "$T"
  [ "$(json_field "$OUT" data_format)" = "2.2" ] || fail "$kind: the table is no longer 2.2"
  "$PY" - "$T/data" <<'PYEOF' || fail "$kind: a data file is not format 2.2"
import os, struct, sys
for n in os.listdir(sys.argv[1]):
    d = open(os.path.join(sys.argv[1], n), "rb").read()[-40:]
    major, minor = struct.unpack("<HH", d[32:36])
    if d[36:] != b"LANC" or (major, minor) != (2, 2):
        sys.exit("%s: footer %d.%d" % (n, major, minor))
PYEOF
  CMP_DIR="$d"
  cp "$d/expected.jsonl" "$CMP_DIR/lancedb.jsonl"
  cp "$dir/$kind.schema.json" "$CMP_DIR/schema.json"
  scan_equal "$kind after resona's append, delete, compact, append" "$T"
  expect[$kind]=$(count_lines "$d/expected.jsonl")
  "$PY" -c 'import json, sys; print(json.dumps(dict(zip(["table", "expect-rows", "find-ids",
    "tag", "dump-out", "schema-out"], [sys.argv[1], int(sys.argv[2])] + sys.argv[3:]))))' \
    "$T" "${expect[$kind]}" "$(cat "$d/find")" js-cur "$d/after.jsonl" "$d/after.schema.json" \
    >>"$batch"
done 3<"$TMP/tables.txt"

run "LanceDB 0.39 opens, finds, adds to and deletes from every resona-written 2.2 table" \
  ldb current mutate --batch "$batch"
cat "$OUT"
while IFS='|' read -r dir kind table append <&3; do
  CMP_DIR="$TMP/w.$kind/cmp"
  mkdir -p "$CMP_DIR"
  cp "$TMP/w.$kind/after.jsonl" "$CMP_DIR/lancedb.jsonl"
  cp "$TMP/w.$kind/after.schema.json" "$CMP_DIR/schema.json"
  scan_equal "$kind after LanceDB 0.39's add and delete" "$dir/$table"
  [ "$(count_lines "$CMP_DIR/resona.jsonl")" -eq $((expect[$kind] + 2)) ] ||
    fail "$kind: $(count_lines "$CMP_DIR/resona.jsonl") rows, expected $((expect[$kind] + 2))"
done 3<"$TMP/tables.txt"
echo "PASS: resona appends, deletes and compacts 2.2 tables; LanceDB 0.39 reads them back equal"
