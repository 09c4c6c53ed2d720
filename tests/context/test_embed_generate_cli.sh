#!/usr/bin/env bash
# `supertag embed generate` command line: options, usage errors (exit 2),
# the original's messages and counts, --enrichment-preview, and --dry-run
# --json items whose ids and text hashes equal the original's golden rows.
set -euo pipefail
: "${SUPERTAG:?}" "${FIXTURES_DIR:?}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/embed-cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/config" XDG_DATA_HOME="$tmp/data"
export XDG_CACHE_HOME="$tmp/cache"
mkdir -p "$HOME" "$XDG_CONFIG_HOME/supertag" "$XDG_DATA_HOME/supertag/workspaces/main"
cat >"$XDG_CONFIG_HOME/supertag/config.json" <<'JSON'
{
  "embeddings": { "model": "bge-m3", "endpoint": "http://127.0.0.1:9" },
  "workspaces": { "main": { "rootFileId": "root", "enabled": true } },
  "defaultWorkspace": "main"
}
JSON
cp "$FIXTURES_DIR/original-workspace/tana-index.db" "$XDG_DATA_HOME/supertag/workspaces/main/"

fail() { echo "FAIL: $*" >&2; exit 1; }
expect_status() { # expect_status <code> <command...>
  local want=$1; shift
  set +e; "$@" >"$tmp/out" 2>"$tmp/err"; local got=$?; set -e
  [ "$got" -eq "$want" ] || { cat "$tmp/out" "$tmp/err" >&2; fail "$* exited $got, expected $want"; }
}
has() { grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "missing in $1: $2"; }; }

# --help, and usage errors with clear messages
expect_status 0 "$SUPERTAG" embed generate --help
has "$tmp/out" "--lance-batch-size <n>"
has "$tmp/out" "--enrichment-preview <id>"
expect_status 0 "$SUPERTAG" embed --help
has "$tmp/out" "generate"
expect_status 2 "$SUPERTAG" embed
expect_status 2 "$SUPERTAG" embed frobnicate
has "$tmp/err" "unknown embed subcommand 'frobnicate'"
expect_status 2 "$SUPERTAG" embed generate --bogus
has "$tmp/err" "unknown option '--bogus'"
expect_status 2 "$SUPERTAG" embed generate --limit abc
has "$tmp/err" "invalid value for --limit: 'abc'"
expect_status 2 "$SUPERTAG" embed generate --min-length -3
expect_status 2 "$SUPERTAG" embed generate --lance-batch-size 0
has "$tmp/err" "invalid value for --lance-batch-size: '0'"
expect_status 2 "$SUPERTAG" embed generate --lance-batch-size=12x
expect_status 2 "$SUPERTAG" embed generate --batch-size 0
expect_status 2 "$SUPERTAG" embed generate --parallel 0
expect_status 2 "$SUPERTAG" embed generate --endpoint ftp://example
expect_status 2 "$SUPERTAG" embed generate -t
has "$tmp/err" "option -t needs a value"
expect_status 2 "$SUPERTAG" embed generate --enrichment-preview x --all-workspaces

# the selection and counts of the original (dry run: no server needed)
expect_status 0 "$SUPERTAG" embed generate --dry-run
has "$tmp/out" "📊 Embedding Configuration"
has "$tmp/out" "   Model: bge-m3"
has "$tmp/out" "   Dimensions: 1024"
has "$tmp/out" "   Endpoint: http://127.0.0.1:9"
has "$tmp/out" "📊 Processing 3,623 nodes..."
has "$tmp/out" "   Graph-aware enrichment: enabled"
has "$tmp/out" "   Enriched (with tags): 103"
has "$tmp/out" "   Plain text (no tags): 3,520"
[ ! -s "$tmp/err" ] || { cat "$tmp/err"; fail "unexpected stderr"; }

# warnings: batch size outside 1,000-10,000; --include-fields in graph mode
expect_status 0 "$SUPERTAG" embed generate --dry-run --lance-batch-size 500 --include-fields
has "$tmp/err" "--lance-batch-size 500 is outside the advised 1,000-10,000"
has "$tmp/err" "--include-fields applies to the legacy text only"
has "$tmp/out" "LanceDB batch size: 500"

# options reach the selection: tag, limit, verbose filtering block, legacy
expect_status 0 "$SUPERTAG" embed generate --dry-run -t chapter
has "$tmp/out" "📊 Processing 67 nodes..."
expect_status 0 "$SUPERTAG" embed generate --dry-run -l 10 --model nomic-embed-text --endpoint http://a:1 --endpoint http://b:2
has "$tmp/out" "📊 Processing 10 nodes..."
has "$tmp/out" "   Dimensions: 768"
has "$tmp/out" "   Endpoint: http://a:1"
has "$tmp/out" "   Endpoint: http://b:2"
expect_status 0 "$SUPERTAG" embed generate --dry-run -v --include-transcripts
has "$tmp/out" "   Total named nodes: 4,299"
has "$tmp/out" "   After filtering: 3,623"
has "$tmp/out" "     - Min length: 15 chars"
has "$tmp/out" "     - Including transcript content"
expect_status 0 "$SUPERTAG" embed generate --dry-run --include-all
has "$tmp/out" "📊 Processing 4,299 nodes..."
expect_status 0 "$SUPERTAG" embed generate --dry-run --no-graph-aware --include-fields
has "$tmp/out" "   Contextualizing nodes..."
has "$tmp/out" "   With own tag: 103"
has "$tmp/out" "   Field enrichment: enabled"
expect_status 0 "$SUPERTAG" embed generate --dry-run -t nosuchtag
has "$tmp/out" "No nodes found to embed"

# --dry-run --json: one item per selected node; ids and hashes = the golden rows
expect_status 0 "$SUPERTAG" embed generate --dry-run --json
[ "$(grep -c '"event":"item"' "$tmp/out")" -eq 3623 ] || fail "expected 3623 items"
grep -q '"event":"summary","dry_run":true,"selected":3623,"enriched":103' "$tmp/out" ||
  fail "no JSON summary"
sed -nE 's/.*"event":"item","id":"([^"]*)","text_hash":"([0-9a-f]{64})".*/\1 \2/p' "$tmp/out" |
  sort >"$tmp/ours"
sed -nE 's/^\{"id":"([^"]*)","text_hash":"([0-9a-f]{64})".*/\1 \2/p' \
  "$FIXTURES_DIR/golden/sample-embeddings.jsonl" | sort >"$tmp/golden"
[ "$(wc -l <"$tmp/golden")" -eq 3623 ] || fail "golden parse"
diff "$tmp/golden" "$tmp/ours" >/dev/null || fail "ids/hashes differ from the golden rows"

# --enrichment-preview
expect_status 0 "$SUPERTAG" embed generate --enrichment-preview 0ecJixIn6TCJ
has "$tmp/out" "📋 Enrichment Preview [main]"
has "$tmp/out" "   Node ID:        0ecJixIn6TCJ"
has "$tmp/out" "   Supertags:      #chapter"
has "$tmp/out" "   Enriched:       yes"
has "$tmp/out" "   [Type: #chapter] [Word count: 1489] [Book: The Strange Case of Dr. Jekyll and Mr. Hyde] [Chapter number: 7] Section 7: REMARKABLE INCIDENT OF DR. LANYON"
has "$tmp/out" "   Est. tokens:    "
grep -q "Enriched text (truncated)" "$tmp/out" && fail "short text shown as truncated"
expect_status 1 "$SUPERTAG" embed generate --enrichment-preview nosuchnode
has "$tmp/out" "❌ Node not found: nosuchnode"

# no index yet
expect_status 1 "$SUPERTAG" embed generate -w other --dry-run 2>/dev/null || true
mkdir -p "$XDG_DATA_HOME/supertag/workspaces/empty"
cat >"$XDG_CONFIG_HOME/supertag/config.json" <<'JSON'
{ "workspaces": { "main": { "rootFileId": "root" }, "empty": { "rootFileId": "e" } },
  "defaultWorkspace": "main" }
JSON
expect_status 1 "$SUPERTAG" embed generate -w empty --dry-run
has "$tmp/out" "❌ Database not found: $XDG_DATA_HOME/supertag/workspaces/empty/tana-index.db"
has "$tmp/out" "Run 'supertag sync' first to index the workspace."
has "$tmp/out" "   Endpoint: http://localhost:11434"   # the default without config
expect_status 1 "$SUPERTAG" embed generate --all-workspaces --dry-run
has "$tmp/out" "━━━ Workspace: main ━━━"
has "$tmp/out" "━━━ Workspace: empty ━━━"
has "$tmp/out" "✅ All workspaces processed (1 succeeded, 1 failed)"

# an unparsable embed-enrichment.json: the original's warning, defaults used
printf '{nope' >"$XDG_CONFIG_HOME/supertag/embed-enrichment.json"
expect_status 0 "$SUPERTAG" embed generate --dry-run
has "$tmp/err" "⚠️  Failed to parse enrichment config: "
has "$tmp/out" "   Enriched (with tags): 103"

# end to end: our own `supertag sync` of the sample export, then the same
# selection, texts and hashes as the original's golden rows
export XDG_CONFIG_HOME="$tmp/config2" XDG_DATA_HOME="$tmp/data2"
expect_status 0 "$SUPERTAG" workspace add root --alias main
expect_status 0 "$SUPERTAG" sync --export "$FIXTURES_DIR/sample-workspace.json"
expect_status 0 "$SUPERTAG" embed generate --dry-run --json
sed -nE 's/.*"event":"item","id":"([^"]*)","text_hash":"([0-9a-f]{64})".*/\1 \2/p' "$tmp/out" |
  sort >"$tmp/ours2"
diff "$tmp/golden" "$tmp/ours2" >/dev/null || fail "after our sync: ids/hashes differ from golden"
echo "ok"
