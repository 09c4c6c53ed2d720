# Sourced by the interop test scripts: strict mode, a fresh temp dir, the binaries ctest
# passes in (RESONA, SOURCE_DIR, FIXTURES_DIR), the LanceDB check, and small helpers that
# keep LanceDB's stderr chatter in log files unless a step fails.
#
# LanceDB missing is a failure, unless RESONA_SKIP_INTEROP=1: then the test prints a loud
# notice and exits 77, which ctest reports as "Skipped" (SKIP_RETURN_CODE).
set -euo pipefail

IROOT="${SOURCE_DIR:?SOURCE_DIR not set (run through ctest)}/tests/interop"
: "${RESONA:?RESONA not set (run through ctest)}"
[ -x "$RESONA" ] || { echo "FAIL: resona binary $RESONA is missing" >&2; exit 1; }
command -v node >/dev/null || { echo "FAIL: node is not installed" >&2; exit 1; }
command -v python3 >/dev/null || { echo "FAIL: python3 is not installed" >&2; exit 1; }
# The interpreter itself, not a version-manager shim (which can take seconds per start).
PY=$(python3 -c 'import sys; print(sys.executable)')

if ! "$IROOT/setup" --check >/dev/null 2>&1; then
  if [ "${RESONA_SKIP_INTEROP:-0}" = "1" ]; then
    echo "########################################################################"
    echo "## SKIPPED: LanceDB is not installed and RESONA_SKIP_INTEROP=1.        ##"
    echo "## Nothing was checked against LanceDB. Run tests/interop/setup.       ##"
    echo "########################################################################"
    exit 77
  fi
  "$IROOT/setup" --check || true
  echo "FAIL: LanceDB for the interop tests is not installed: run tests/interop/setup" \
       "(or set RESONA_SKIP_INTEROP=1 to skip these tests loudly)" >&2
  exit 1
fi

# Interop is about the bytes LanceDB reads, which fsync does not change: skip resona's fsyncs
# (slow on a shared CI disk) except where a test sets RESONA_UNSAFE_NO_FSYNC=0 itself.
export RESONA_UNSAFE_NO_FSYNC=${RESONA_UNSAFE_NO_FSYNC:-1}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/resona-interop.XXXXXX")
LOGS="$TMP/logs"
mkdir -p "$LOGS"
on_exit() {
  local rc=$?
  if [ "$rc" -eq 0 ]; then rm -rf "$TMP"; else echo "(files kept in $TMP)" >&2; fi
  exit "$rc"
}
trap on_exit EXIT

STEP=0
fail() { echo "FAIL: $*" >&2; exit 1; }

# run LABEL CMD...: run a command with stdout to $LOGS/<n>.out (its path is printed in $OUT)
# and stderr to a log; on failure show both and fail the test.
run() {
  local label=$1; shift
  STEP=$((STEP + 1))
  OUT="$LOGS/$STEP.out"
  if ! "$@" >"$OUT" 2>"$LOGS/$STEP.err"; then
    echo "--- step $STEP failed: $label" >&2
    echo "--- command: $*" >&2
    tail -c 3000 "$OUT" >&2 || true
    grep -v 'WARN  lance' "$LOGS/$STEP.err" | tail -n 40 >&2 || true
    fail "$label"
  fi
}

# node scripts: ldb GEN SCRIPT ARGS... (runs SCRIPT.mjs from tests/interop with GEN)
ldb() { local gen=$1 script=$2; shift 2; node "$IROOT/$script.mjs" "$gen" "$@"; }

# rows_equal LABEL GEN TABLE [extra dump/scan args]: LanceDB GEN's rows = resona's rows.
# Leaves both row files in $CMP_DIR (lancedb.jsonl, resona.jsonl).
rows_equal() {
  local label=$1 gen=$2 table=$3; shift 3
  new_cmp_dir
  run "$label: LanceDB $gen dump" ldb "$gen" dump "$table" --schema-out "$CMP_DIR/schema.json" "$@"
  cp "$OUT" "$CMP_DIR/lancedb.jsonl"
  scan_equal "$label ($gen)" "$table" "$@"
}

new_cmp_dir() { CMP_DIR="$TMP/cmp.$STEP"; mkdir -p "$CMP_DIR"; }

# scan_equal LABEL TABLE [scan args]: resona's rows = $CMP_DIR/lancedb.jsonl (schema.json).
scan_equal() {
  local label=$1 table=$2; shift 2
  run "$label: resona scan" "$RESONA" scan "$table" "$@"
  cp "$OUT" "$CMP_DIR/resona.jsonl"
  run "$label: compare rows" "$PY" "$IROOT/compare.py" "$CMP_DIR/lancedb.jsonl" \
    "$CMP_DIR/resona.jsonl" --schema "$CMP_DIR/schema.json" --label "$label"
  cat "$OUT"
}

# mutate_equal LABEL GEN TABLE [mutate.mjs args]: LanceDB GEN checks and (unless --read-only)
# changes the table (mutate.mjs), then dumps it; resona's scan must equal that dump.
mutate_equal() {
  local label=$1 gen=$2 table=$3; shift 3
  new_cmp_dir
  run "$label: LanceDB $gen" ldb "$gen" mutate "$table" "$@" \
    --dump-out "$CMP_DIR/lancedb.jsonl" --schema-out "$CMP_DIR/schema.json"
  cat "$OUT"
  scan_equal "$label ($gen)" "$table"
}

# search_equal LABEL GEN TABLE VECTOR_FILE...: top-10 ids and distances for l2, cosine and
# dot, for each query vector (LanceDB runs them all in one process).
search_equal() {
  local label=$1 gen=$2 table=$3; shift 3
  local d="$TMP/search.$STEP" q m qs
  mkdir -p "$d"
  qs=$(IFS=,; echo "$*")
  run "$label: LanceDB $gen searches" ldb "$gen" search "$table" --queries "$qs" \
    --metrics l2,cosine,dot --out-dir "$d" -k 10
  for q in "$@"; do
    for m in l2 cosine dot; do
      local a="$d/$(basename "$q").$m.jsonl"
      [ "$(count_lines "$a")" -eq 10 ] ||
        fail "$label: LanceDB returned $(count_lines "$a") results for $q $m, expected 10"
      run "$label: resona search $m" "$RESONA" search "$table" --vector-file "$q" -k 10 \
        --metric "$m"
      cp "$OUT" "$a.resona"
      run "$label: compare search $m" "$PY" "$IROOT/compare.py" --search "$a" "$a.resona" \
        --label "$label $(basename "$q") $m ($gen)"
      cat "$OUT"
    done
  done
}

# count_lines FILE
count_lines() { wc -l <"$1" | tr -d ' '; }

# lancedb_count GEN TABLE: LanceDB's countRows.
lancedb_count() { ldb "$1" dump "$2" --count-only 2>/dev/null; }

# json_field FILE KEY: the value of KEY in the first JSON line of FILE (or "" if absent).
json_field() {
  "$PY" -c 'import json,sys; d=json.loads(open(sys.argv[1]).readline()); print(d.get(sys.argv[2], ""))' "$1" "$2"
}

# vector_of FILE ID [DELTA]: the vector of the row with that id from JSON lines, as a JSON
# array, its first component shifted by DELTA (a query near, but not on, that row).
vector_of() {
  "$PY" -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("id") == sys.argv[2]:
        v = r["vector"]; v[0] += float(sys.argv[3]); print(json.dumps(v)); break
else:
    sys.exit("no row %s in %s" % (sys.argv[2], sys.argv[1]))' "$1" "$2" "${3:-0}"
}
