#!/usr/bin/env bash
# Two writers appending to one table at the same time lose no rows: C and C (two `resona
# append` loops), then C and LanceDB (a `resona append` loop against LanceDB's add(), once
# with LanceDB 0.13 and once with the current LanceDB). Afterwards every row of both writers
# is there exactly once, in resona's scan and in LanceDB's.
source "$(dirname "$0")/common.sh"
# The real commit path, fsyncs included, for the writers racing each other.
export RESONA_UNSAFE_NO_FSYNC=0
K=12   # commits per writer
M=5    # rows per commit

# make_batches PREFIX: K files $TMP/PREFIX-<b>.jsonl of M rows, ids PREFIX-0 … PREFIX-(K*M-1).
make_batches() {
  "$PY" "$IROOT/rows.py" --schema basic --count $((K * M)) --dim 16 --prefix "$1" --seed "$1" |
    awk -v m=$M -v p="$TMP/$1" '{ print > (p "-" int((NR - 1) / m) ".jsonl") }'
  [ -s "$TMP/$1-$((K - 1)).jsonl" ] || fail "could not write the batches of $1"
}

# c_writer TABLE PREFIX [START_FILE]: K appends, one per batch file.
c_writer() {
  local t=$1 p=$2 go=${3:-} b
  if [ -n "$go" ]; then
    for _ in $(seq 1 3000); do [ -e "$go" ] && break; sleep 0.01; done
  fi
  for b in $(seq 0 $((K - 1))); do
    "$RESONA" append "$t" --jsonl "$TMP/$p-$b.jsonl" >>"$LOGS/writer-$p.log" 2>&1 ||
      { echo "resona append of $p batch $b failed" >>"$LOGS/writer-$p.log"; return 1; }
  done
}

# check_ids TABLE EXPECTED_PREFIXES...: resona's and LanceDB's id lists are exactly the seed
# row plus K*M rows per prefix, each once.
check_ids() {
  local t=$1; shift
  run "resona scan ids" "$RESONA" scan "$t" --columns id
  cp "$OUT" "$TMP/ids-resona.jsonl"
  run "LanceDB current dump ids" ldb current dump "$t" --columns id
  cp "$OUT" "$TMP/ids-lancedb.jsonl"
  run "ids complete" "$PY" - "$TMP/ids-resona.jsonl" "$TMP/ids-lancedb.jsonl" \
    "$((K * M))" "$@" <<'PY'
import collections, json, sys
files, n, prefixes = sys.argv[1:3], int(sys.argv[3]), sys.argv[4:]
want = collections.Counter(["seed-0"] + ["%s-%d" % (p, i) for p in prefixes for i in range(n)])
for f in files:
    got = collections.Counter(json.loads(l)["id"] for l in open(f) if l.strip())
    missing, extra = want - got, got - want
    if missing or extra:
        sys.exit("%s: %d rows, missing %s, extra or duplicated %s"
                 % (f, sum(got.values()), sorted(missing)[:10], sorted(extra)[:10]))
    print("%s: all %d rows present once" % (f, sum(got.values())))
PY
  cat "$OUT"
}

"$PY" "$IROOT/rows.py" --schema basic --count 1 --dim 16 --prefix seed >"$TMP/seed.jsonl"
make_batches ca
make_batches cb

echo "== C and C"
T="$TMP/cc/items.lance"
run "create" "$RESONA" append "$T" --jsonl "$TMP/seed.jsonl" --create
c_writer "$T" ca & pa=$!
c_writer "$T" cb & pb=$!
ok=1
wait $pa || ok=0
wait $pb || ok=0
[ $ok -eq 1 ] || { cat "$LOGS"/writer-*.log >&2; fail "a C writer failed"; }
check_ids "$T" ca cb

for gen in 0.13 current; do
  echo "== C and LanceDB $gen"
  T="$TMP/cl-$gen/items.lance"
  go="$TMP/go-$gen"
  run "create" "$RESONA" append "$T" --jsonl "$TMP/seed.jsonl" --create
  ldb "$gen" concurrent "$T" --batches $K --rows $M --prefix "js$gen" --start-file "$go" \
    >"$LOGS/js-$gen.log" 2>&1 & pj=$!
  c_writer "$T" ca "$go" & pc=$!
  sleep 0.3   # let node load LanceDB and open the table, then start both together
  touch "$go"
  ok=1
  wait $pj || { grep -v 'WARN  lance' "$LOGS/js-$gen.log" >&2; ok=0; }
  wait $pc || { cat "$LOGS/writer-ca.log" >&2; ok=0; }
  [ $ok -eq 1 ] || fail "a writer failed (C and LanceDB $gen)"
  check_ids "$T" ca "js$gen"
  n=$(lancedb_count "$gen" "$T")
  [ "$n" -eq $((1 + 2 * K * M)) ] || fail "LanceDB $gen counts $n rows, expected $((1 + 2 * K * M))"
done
echo "PASS: concurrent writers lose no rows"
