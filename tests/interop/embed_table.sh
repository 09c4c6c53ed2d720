#!/usr/bin/env bash
# The table that `supertag embed generate` writes (real sync, selection, pipeline and Lance
# writer; the fake server with the golden vector function) is a table the original tool's
# LanceDB and current LanceDB both use: its schema (column names, Arrow types, nullability)
# equals the original tool's own table; both generations count it, return the same rows as
# `resona scan` and the same top-10 as `resona search` (l2, cosine, dot); the original's
# LanceDB (0.13) can still append to and delete from it, and our next run keeps working.
source "$(dirname "$0")/common.sh"
: "${SUPERTAG:?SUPERTAG not set (run through ctest)}"
source "$SOURCE_DIR/tests/support/fake_ollama.sh"
export HOME="$TMP/home" XDG_CONFIG_HOME="$TMP/config" XDG_DATA_HOME="$TMP/data" \
       XDG_CACHE_HOME="$TMP/cache"
mkdir -p "$HOME"
trap 'fake_stop >/dev/null 2>&1 || true; on_exit' EXIT

run "workspace add" "$SUPERTAG" workspace add sample-root --alias main
run "sync the sample export" "$SUPERTAG" sync --export "$FIXTURES_DIR/sample-workspace.json"
fake_start --dim 1024 --model bge-m3 || fail "fake server did not start"
run "embed generate" "$SUPERTAG" embed generate --endpoint "$FAKE_URL" --lance-batch-size 1000
T="$XDG_DATA_HOME/supertag/workspaces/main/tana-index.lance/embeddings.lance"
O="$FIXTURES_DIR/original-workspace/tana-index.lance/embeddings.lance"
[ -d "$T" ] || fail "embed generate wrote no table at $T"

run "resona scan" "$RESONA" scan "$T" --columns id,vector
first_id=$(json_field "$OUT" id)
vector_of "$OUT" "$first_id" 0.01 >"$TMP/q.json"

for gen in 0.13 current; do
  run "LanceDB $gen: the original's schema" ldb "$gen" schema "$O"
  "$PY" -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["columns"]))' \
    "$OUT" >"$TMP/orig-columns.json"
  run "LanceDB $gen: our table's schema" ldb "$gen" schema "$T"
  "$PY" -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["columns"]))' \
    "$OUT" >"$TMP/our-columns.json"
  cmp -s "$TMP/orig-columns.json" "$TMP/our-columns.json" ||
    fail "LanceDB $gen: schema differs from the original's: ours $(cat "$TMP/our-columns.json"), original $(cat "$TMP/orig-columns.json")"
  rows=$(json_field "$OUT" rows)
  [ "$rows" = 3623 ] || fail "LanceDB $gen counts $rows rows, expected 3623"
  rows_equal "embed generate's table" "$gen" "$T" --columns id,text_hash,context_text,model,dimensions,metadata
  search_equal "embed generate's table" "$gen" "$T" "$TMP/q.json"
done

# The original's LanceDB appends and deletes in it; resona reads the result, and a new run of
# embed generate on the same export still finds nothing to embed.
mutate_equal "after LanceDB 0.13 writes" 0.13 "$T" --expect-rows 3623
run "embed generate again" "$SUPERTAG" embed generate --endpoint "$FAKE_URL" --json
grep -q '"event":"summary","processed":0,"skipped":3623' "$OUT" ||
  fail "the second run re-embedded rows: $(grep '"summary"' "$OUT")"
# LanceDB's two extra rows (ids of no node) are removed as stale by the full run
grep -q '"total_rows":3623' "$OUT" || fail "rows after the second run: $(grep '"summary"' "$OUT")"
echo "PASS: embed generate's table is used by LanceDB 0.13 and current"
