#!/usr/bin/env bash
# supertag search --semantic on the original's workspace, with the fake Ollama
# (whose vectors are the fixtures' deterministic ones): the outputs must be
# byte-identical to the original tool's golden files; the other formats must
# carry the same rows; options and errors behave as the original's.
set -euo pipefail
source "$SOURCE_DIR/tests/support/fake_ollama.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/cmd-search.XXXXXX")
export XDG_CONFIG_HOME=$T/config XDG_DATA_HOME=$T/data XDG_CACHE_HOME=$T/cache HOME=$T
unset SUPERTAG_FORMAT || true
cleanup() { fake_stop >/dev/null 2>&1 || true; rm -rf "$T"; }
trap cleanup EXIT
G=$FIXTURES_DIR/golden
W=$T/data/supertag/workspaces/main
mkdir -p "$W" "$T/config/supertag"
cp -r "$FIXTURES_DIR/original-workspace/." "$W/"
fake_start --dim 1024 --model bge-m3
cat >"$T/config/supertag/config.json" <<JSON
{
  "embeddings": {"model": "bge-m3", "endpoint": "$FAKE_URL"},
  "workspaces": {"main": {"rootFileId": "x", "enabled": true}},
  "defaultWorkspace": "main"
}
JSON
fail() { echo "FAIL: $*"; exit 1; }
st() { "$SUPERTAG" search "$@"; }

# 1. golden outputs, byte for byte
st "Wrapping up agendas" --semantic --limit 5 >"$T/table.txt"
cmp "$T/table.txt" "$G/sample-search-table.txt" || { diff "$T/table.txt" "$G/sample-search-table.txt"; fail table; }
st "Wrapping up agendas" --semantic --json >"$T/a.json"
cmp "$T/a.json" "$G/sample-search-wrapping-up-agendas.json" || fail "json (agendas)"
st how to run a weekly review --semantic --format json >"$T/b.json"
cmp "$T/b.json" "$G/sample-search-weekly-review.json" || fail "json (weekly review)"
SUPERTAG_FORMAT=json st "Wrapping up agendas" --semantic >"$T/env.json"
cmp "$T/env.json" "$G/sample-search-wrapping-up-agendas.json" || fail "SUPERTAG_FORMAT=json"

# 2. the other formats carry the same rows as json
python3 - "$T" "$SUPERTAG" <<'PY'
import csv, io, json, subprocess, sys
t, exe = sys.argv[1], sys.argv[2]
def run(*a):
    return subprocess.run([exe, "search", "how to run a weekly review", "--semantic", *a],
                          check=True, capture_output=True, text=True).stdout
ref = json.loads(run("--json"))
assert len(ref) == 20, len(ref)
jl = [json.loads(l) for l in run("--format", "jsonl").splitlines()]
assert jl == ref, "jsonl"
ids = run("--format", "ids").splitlines()
assert ids == [r["id"] for r in ref], "ids"
rows = list(csv.DictReader(io.StringIO(run("--format", "csv"))))
assert rows == ref, "csv"
nohdr = run("--format", "csv", "--no-header").splitlines()
assert len(nohdr) == 20 and not nohdr[0].startswith("id,"), "csv --no-header"
mini = json.loads(run("--format", "minimal"))
assert mini == [{"id": r["id"], "name": r["name"], "tags": r["tags"]} for r in ref], "minimal"
# --no-ancestor: the same rows with empty ancestors; -a and --raw change nothing
noanc = json.loads(run("--json", "--no-ancestor"))
assert any(r["ancestor"] for r in ref), "test data: some result has an ancestor"
assert noanc == [dict(r, ancestor="") for r in ref], "--no-ancestor"
assert json.loads(run("--json", "-a")) == ref, "-a"
assert json.loads(run("--json", "--raw")) == ref, "--raw"
# --limit, --min-score (fraction and percentage), similarity order
assert json.loads(run("--json", "-l", "3")) == ref[:3], "limit"
cut = float(ref[4]["similarity"])
ms = json.loads(run("--json", "--min-score", "%.3f" % -cut if cut < 0 else "%.3f" % cut))
sims = [float(r["similarity"]) for r in ref]
assert sims == sorted(sims, reverse=True), "order"
top = json.loads(subprocess.run([exe, "search", "Wrapping up agendas", "--semantic", "--json",
                                 "--min-score", "90"], check=True, capture_output=True,
                                text=True).stdout)
assert [r["id"] for r in top] == ["-0r4M51tLqFo"], top
# --tag: only results carrying the tag (case-insensitive)
tagged = json.loads(run("--json", "--tag", "CHAPTER"))
assert tagged and all("chapter" in r["tags"].split(", ") for r in tagged), tagged
print("formats ok")
PY

# 3. --type-hint changes the embedded text (so the results)
st "Wrapping up agendas" --semantic --json --type-hint chapter >"$T/hint.json"
cmp -s "$T/hint.json" "$T/a.json" && fail "--type-hint had no effect"

# 4. errors
set +e
st --semantic >/dev/null 2>"$T/err"; rc=$?
set -e
[ $rc -eq 1 ] && grep -q "Query is required for semantic search" "$T/err" || fail "no query"
set +e
st "x" >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 2 ] || fail "without --semantic should be a usage error"
st "x" --semantic --format xml >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 2 ] || fail "--format xml"
mv "$W/tana-index.lance" "$W/lance.moved"
st "x" --semantic >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 1 ] && grep -q 'No embeddings found for workspace "main"' "$T/err" || fail "no lance"
mv "$W/lance.moved" "$W/tana-index.lance"
mv "$W/tana-index.db" "$W/db.moved"
st "x" --semantic -w main >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 1 ] && grep -q "Database not found: $W/tana-index.db" "$T/err" &&
  grep -q "sync index --workspace main" "$T/err" || fail "no db"
mv "$W/db.moved" "$W/tana-index.db"
fake_stop
st "x" --semantic >/dev/null 2>"$T/err"; rc=$?
set -e
[ $rc -eq 1 ] && grep -q "supertag:" "$T/err" || fail "Ollama down must fail with a message"
echo "all ok"
