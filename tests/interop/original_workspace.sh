#!/usr/bin/env bash
# The original tool's own table (tests/fixtures/original-workspace: LanceDB 0.13, format 2.0,
# V1 manifest names, .txn files only, BTree index id_idx), copied: `resona append` adds rows,
# then LanceDB 0.13 and the current LanceDB both open it, count it, find the new and old rows
# by id (0.13 through its BTree index) and by vector, return the same rows as `resona scan`
# and the same top-10 as `resona search` (l2, cosine, dot); then each LanceDB appends and
# deletes, and resona reads the result.
source "$(dirname "$0")/common.sh"
: "${FIXTURES_DIR:?FIXTURES_DIR not set (run through ctest)}"

cp -r "$FIXTURES_DIR/original-workspace" "$TMP/ws"
T="$TMP/ws/tana-index.lance/embeddings.lance"
ls "$T/_versions" | grep -qx '3.manifest' || fail "fixture layout changed: no 3.manifest"
orig_rows=3623
first_id=$(json_field "$FIXTURES_DIR/golden/sample-embeddings.jsonl" id)
[ -n "$first_id" ] || fail "no id in the golden embeddings"

"$PY" "$IROOT/rows.py" --schema original --count 20 --prefix c-orig --seed orig >"$TMP/new.jsonl"
run "resona append to the original's table" "$RESONA" append "$T" --jsonl "$TMP/new.jsonl"
ls "$T/_versions" | grep -qx '4.manifest' || fail "resona did not keep the V1 manifest names"
expect=$((orig_rows + 20))

# Both LanceDB generations open it, count it, find old and new rows by id (0.13 through its
# BTree index) and by vector, and return the same top-10 as resona (l2, cosine, dot).
run "resona scan" "$RESONA" scan "$T" --columns id,vector
vector_of "$OUT" "$first_id" 0.01 >"$TMP/q-old.json"
vector_of "$TMP/new.jsonl" c-orig-7 -0.02 >"$TMP/q-new.json"
for gen in 0.13 current; do
  run "LanceDB $gen opens, counts, finds rows" ldb "$gen" mutate "$T" --read-only \
    --expect-rows "$expect" --find-ids "c-orig-0,c-orig-19,$first_id"
  cat "$OUT"
  search_equal "original's table" "$gen" "$T" "$TMP/q-old.json" "$TMP/q-new.json"
done

# Both LanceDB generations write to it. After the original's LanceDB (0.13) wrote, every row
# (the original's, resona's and 0.13's: 3,645 rows x 1024-d) as resona reads it equals what
# 0.13 reads, value by value; then the current LanceDB writes and finds all kinds of rows.
mutate_equal "original's table after resona and LanceDB 0.13" 0.13 "$T" --expect-rows "$expect" \
  --find-ids "c-orig-3,$first_id"
run "LanceDB current add/delete/search" ldb current mutate "$T" --expect-rows $((expect + 2)) \
  --find-ids "c-orig-3,js-0.13-2,$first_id"
cat "$OUT"
run "resona scan after all writers" "$RESONA" scan "$T" --columns id
[ "$(count_lines "$OUT")" -eq $((expect + 4)) ] ||
  fail "resona scans $(count_lines "$OUT") rows after all writers, expected $((expect + 4))"
grep -q '"js-current-1"' "$OUT" || fail "resona does not see the current LanceDB's row js-current-1"
echo "PASS: original's table"
