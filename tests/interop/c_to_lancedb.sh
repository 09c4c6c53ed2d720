#!/usr/bin/env bash
# C -> LanceDB: a table made only by `resona` (create, several appends, a delete, a
# compaction, an append after it) is opened by LanceDB 0.13.0 (the original's) and by the
# current pinned LanceDB: equal row count, equal rows value by value, equal top-10 ids and
# distances for l2, cosine and dot; an older version reads the same in both; then each
# LanceDB appends and deletes through its own API and resona reads the result.
source "$(dirname "$0")/common.sh"

T="$TMP/db/items.lance"
DIM=48
for b in 0 1 2 3 4; do
  "$PY" "$IROOT/rows.py" --schema basic --start $((b * 60)) --count 60 --dim $DIM \
    --prefix c --seed c2l >"$TMP/b$b.jsonl"
done

run "create + first append" "$RESONA" append "$T" --jsonl "$TMP/b0.jsonl" --create
for b in 1 2 3; do run "append $b" "$RESONA" append "$T" --jsonl "$TMP/b$b.jsonl"; done
run "info after appends" "$RESONA" info "$T"
# Delete 25 rows spread over all four fragments.
"$PY" -c 'print("\n".join("c-%d" % i for i in range(3, 240, 10)))' >"$TMP/del.txt"
echo "c-59" >>"$TMP/del.txt"
run "delete" "$RESONA" delete "$T" --column id --values-file "$TMP/del.txt"
run "compact" "$RESONA" compact "$T"
run "append after compaction" "$RESONA" append "$T" --jsonl "$TMP/b4.jsonl"
expect=$((5 * 60 - 25))

run "resona scan" "$RESONA" scan "$T"
[ "$(count_lines "$OUT")" -eq "$expect" ] || fail "resona scans $(count_lines "$OUT") rows, expected $expect"
grep -q '"c-59"' "$OUT" && fail "deleted row c-59 is still scanned"

# Query vectors: near an existing row, near a row of the last fragment, and far from all.
vector_of "$TMP/b1.jsonl" c-70 0.05 >"$TMP/q1.json"
vector_of "$TMP/b4.jsonl" c-250 -0.3 >"$TMP/q2.json"
"$PY" -c "import json; print(json.dumps([0.5]*$DIM))" >"$TMP/q3.json"

for gen in 0.13 current; do
  # countRows = expected, rows found by id filter and by vector, rows equal to resona's.
  mutate_equal "resona-made table" "$gen" "$T" --read-only --expect-rows "$expect" \
    --find-ids c-0,c-70,c-250,c-299
  search_equal "resona-made table" "$gen" "$T" "$TMP/q1.json" "$TMP/q2.json" "$TMP/q3.json"
  # Time travel: the table as of version 2, in both readers.
  rows_equal "resona-made table at version 2" "$gen" "$T" --version 2
done

# LanceDB writes into the resona-made table (append, delete, search), each generation in
# turn; resona reads what they wrote.
mutate_equal "after LanceDB 0.13's writes" 0.13 "$T" --expect-rows "$expect" \
  --find-ids c-0,c-250,c-299
mutate_equal "after LanceDB current's writes" current "$T" --expect-rows $((expect + 2)) \
  --find-ids c-0,c-299,js-0.13-1
echo "PASS: C -> LanceDB"
