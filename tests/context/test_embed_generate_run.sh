#!/usr/bin/env bash
# `supertag embed generate` end to end against fake-ollama: the sample
# export's 3,623 items embedded into a new Lance table (one commit with the
# default --lance-batch-size), the summary of the original's wording, an
# unchanged second run that makes no embedding request, JSON events, and
# the preflight messages when no server answers or the model is missing.
set -euo pipefail
: "${SUPERTAG:?}" "${FIXTURES_DIR:?}" "${FAKE_OLLAMA:?}" "${SOURCE_DIR:?}"
source "$SOURCE_DIR/tests/support/fake_ollama.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/embed-run.XXXXXX")
cleanup() { fake_stop >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT
export HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/config" XDG_DATA_HOME="$tmp/data"
export XDG_CACHE_HOME="$tmp/cache"
mkdir -p "$HOME"
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_status() {
  local want=$1; shift
  set +e; "$@" >"$tmp/out" 2>"$tmp/err"; local got=$?; set -e
  [ "$got" -eq "$want" ] || { cat "$tmp/out" "$tmp/err" >&2; fail "$* exited $got, expected $want"; }
}
has() { grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "missing in $1: $2"; }; }

"$SUPERTAG" workspace add root --alias main >/dev/null
"$SUPERTAG" sync --export "$FIXTURES_DIR/sample-workspace.json" >/dev/null
fake_start --dim 16 --model bge-m3 --log "$tmp/requests.jsonl"

expect_status 0 "$SUPERTAG" embed generate --endpoint "$FAKE_URL"
has "$tmp/out" "📊 Processing 3,623 nodes..."
has "$tmp/out" "   Starting embedding process..."
has "$tmp/out" "✅ Embedding complete"
has "$tmp/out" "   Processed: 3,623"
has "$tmp/out" "   Skipped: 0 (unchanged)"
# one append for all 3,623 rows (plus the table's creation)
grep -qE '^   LanceDB commits: [12]$' "$tmp/out" || { cat "$tmp/out"; fail "commits"; }
has "$tmp/out" "   Total embeddings: 3,623"
grep -q "⏳ .*Ollama: .*LanceDB: " "$tmp/out" || fail "no progress line (plain mode)"
[ -d "$XDG_DATA_HOME/supertag/workspaces/main/tana-index.lance/embeddings.lance" ] || fail "no table"
embeds() { grep -c '"path":"/api/embed' "$tmp/requests.jsonl" || true; }
requests=$(embeds)
[ "$requests" -gt 0 ] || fail "no embedding requests"

# unchanged: everything skipped, no new request, JSON events
expect_status 0 "$SUPERTAG" embed generate --endpoint "$FAKE_URL" --json
[ "$(embeds)" -eq "$requests" ] || fail "the unchanged run sent embedding requests"
grep -q '"event":"summary","processed":0,"skipped":3623,"errors":0' "$tmp/out" ||
  { cat "$tmp/out"; fail "JSON summary"; }
grep -q '"total_rows":3623' "$tmp/out" || fail "JSON total rows"
grep -q '📊' "$tmp/out" && fail "human messages in --json output"

# --lance-batch-size 1000 with --all: every item re-embedded, rows replaced
# (never duplicated), four appends
expect_status 0 "$SUPERTAG" embed generate --endpoint "$FAKE_URL" --all --lance-batch-size 1000
has "$tmp/out" "   Processed: 3,623"
has "$tmp/out" "   Total embeddings: 3,623"

# automatic compaction: --all in commits of 250 rows leaves more than
# --compact-after 5 fragments, so the run compacts them into one; the rows stay
expect_status 0 "$SUPERTAG" embed generate --endpoint "$FAKE_URL" --all --lance-batch-size 250 \
  --compact-after 5 --json
grep -q '"compacted":{"fragments_before":[0-9]*,"fragments_after":1}' "$tmp/out" ||
  { cat "$tmp/out"; fail "no automatic compaction in the JSON summary"; }
grep -q '"total_rows":3623' "$tmp/out" || fail "rows changed by the compaction"
"$RESONA" info "$XDG_DATA_HOME/supertag/workspaces/main/tana-index.lance/embeddings.lance" \
  >"$tmp/info" || fail "resona info"
grep -q '"rows":3623,"deleted_rows":0,"fragments":1,' "$tmp/info" || { cat "$tmp/info"; fail "info after compaction"; }
# --compact-after 0 never compacts
expect_status 0 "$SUPERTAG" embed generate --endpoint "$FAKE_URL" --all --lance-batch-size 1000 \
  --compact-after 0 --json
grep -q '"compacted"' "$tmp/out" && fail "compacted with --compact-after 0"

# SIGINT mid-run with a buffer that never fills: the rows generated so far
# are committed (flush on interrupt), exit 130; the next run skips them
rm -rf "$XDG_DATA_HOME/supertag/workspaces/main/tana-index.lance"
fake_stop >/dev/null
fake_start --dim 16 --model bge-m3 --latency-ms 40 --log "$tmp/requests.jsonl"
set +e
"$SUPERTAG" embed generate --endpoint "$FAKE_URL" --lance-batch-size 100000 --batch-size 8 \
  --json >"$tmp/int.out" 2>"$tmp/int.err" &
pid=$!
for _ in $(seq 200); do grep -q '"generated":[1-9]' "$tmp/int.out" && break; sleep 0.05; done
kill -INT "$pid"
wait "$pid"
status=$?
set -e
[ "$status" -eq 130 ] || { cat "$tmp/int.out"; fail "interrupted run exited $status, expected 130"; }
grep -q '"event":"summary".*"interrupted":true' "$tmp/int.out" || fail "no interrupted summary"
kept=$(sed -nE 's/.*"event":"summary".*"total_rows":([0-9]+).*/\1/p' "$tmp/int.out")
[ -n "$kept" ] && [ "$kept" -gt 0 ] && [ "$kept" -lt 3623 ] || { cat "$tmp/int.out"; fail "rows kept: '$kept'"; }
expect_status 0 "$SUPERTAG" embed generate --endpoint "$FAKE_URL"
skipped=$(sed -nE 's/^   Skipped: ([0-9,]+) \(unchanged\)$/\1/p' "$tmp/out" | tr -d ,)
[ "$skipped" = "$kept" ] || { cat "$tmp/out"; fail "skipped $skipped, expected the $kept kept rows"; }
has "$tmp/out" "   Total embeddings: 3,623"

# the original's own workspace (its tana-index.db and the LanceDB table it
# wrote): every text and hash we build matches its rows, so nothing is
# embedded and nothing is committed
ws="$XDG_DATA_HOME/supertag/workspaces/main"
rm -rf "$ws/tana-index.lance" "$ws/tana-index.db"
cp -r "$FIXTURES_DIR/original-workspace/tana-index.db" "$FIXTURES_DIR/original-workspace/tana-index.lance" "$ws/"
before=$(embeds)
expect_status 0 "$SUPERTAG" embed generate --endpoint "$FAKE_URL"
has "$tmp/out" "   Processed: 0"
has "$tmp/out" "   Skipped: 3,623 (unchanged)"
has "$tmp/out" "   LanceDB commits: 0"
has "$tmp/out" "   Total embeddings: 3,623"
[ "$(embeds)" -eq "$before" ] || fail "adopting the original's table sent embedding requests"

# preflight: a missing model, then no server
expect_status 1 "$SUPERTAG" embed generate --endpoint "$FAKE_URL" --model nosuchmodel
has "$tmp/out" '❌ Model "nosuchmodel" not found in Ollama'
has "$tmp/out" "  ollama pull nosuchmodel"
url=$FAKE_URL
fake_stop >/dev/null
expect_status 1 "$SUPERTAG" embed generate --endpoint "$url"
has "$tmp/out" "❌ Cannot connect to Ollama"
has "$tmp/out" "  ollama serve"

echo ok
