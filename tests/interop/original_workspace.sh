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

# The original's LanceDB: every row equal to resona's (3,643 rows x 1024-d, value by value).
mutate_equal "original's table + resona rows" 0.13 "$T" --read-only --expect-rows "$expect" \
  --find-ids "c-orig-0,c-orig-19,$first_id"
vector_of "$CMP_DIR/lancedb.jsonl" "$first_id" 0.01 >"$TMP/q-old.json"
vector_of "$TMP/new.jsonl" c-orig-7 -0.02 >"$TMP/q-new.json"
search_equal "original's table" 0.13 "$T" "$TMP/q-old.json" "$TMP/q-new.json"
# The current LanceDB: opens, counts, finds the rows, searches like resona.
run "LanceDB current opens, counts, finds rows" ldb current mutate "$T" --read-only \
  --expect-rows "$expect" --find-ids "c-orig-0,c-orig-19,$first_id"
cat "$OUT"
search_equal "original's table" current "$T" "$TMP/q-old.json" "$TMP/q-new.json"

# Both LanceDB generations write to it; resona reads everything (compared with current).
run "LanceDB 0.13 add/delete/search" ldb 0.13 mutate "$T" --expect-rows "$expect" \
  --find-ids "c-orig-3,$first_id"
cat "$OUT"
mutate_equal "original's table after all writers" current "$T" --expect-rows $((expect + 2)) \
  --find-ids "c-orig-3,js-0.13-2,$first_id"
echo "PASS: original's table"
