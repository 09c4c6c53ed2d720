#!/usr/bin/env bash
# LanceDB -> resona: a table written by LanceDB 0.13 (dictionary pages,
# nulls, both deletion-file kinds; tests/lance/data/lancedb013-deletions)
# scans with zero mismatches against LanceDB's own output; then resona
# appends to a copy (V1 names kept) and compacts it, reading back every row.
set -euo pipefail
: "${RESONA:?}" "${SOURCE_DIR:?}"
src="$SOURCE_DIR/tests/lance/data/lancedb013-deletions"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/resona-ldb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export RESONA_UNSAFE_NO_FSYNC=1
compare() { # compare OURS EXPECTED
  python3 - "$1" "$2" <<'P'
import json, struct, sys
f32 = lambda v: struct.unpack('<f', struct.pack('<f', v))[0]
def load(p):
    rows = [json.loads(l) for l in open(p)]
    for r in rows:
        if r.get("vector") is not None:
            r["vector"] = [f32(v) for v in r["vector"]]
    return rows
a, b = load(sys.argv[1]), load(sys.argv[2])
bad = sum(1 for x, y in zip(a, b) if x != y) + abs(len(a) - len(b))
print(f"rows {len(a)} expected {len(b)} mismatches {bad}")
sys.exit(1 if bad else 0)
P
}
"$RESONA" scan "$src/g.lance" >"$tmp/ours.jsonl"
compare "$tmp/ours.jsonl" "$src/expected.jsonl"
"$RESONA" info "$src/g.lance" | grep -q '"deleted_rows":5999' || { echo "FAIL: info"; exit 1; }

cp -r "$src/g.lance" "$tmp/g.lance"
printf '%s\n' '{"id":"new1","cat":"red","note":null,"x":1.5,"vector":[1,2]}' >"$tmp/new.jsonl"
"$RESONA" append "$tmp/g.lance" --jsonl "$tmp/new.jsonl" >/dev/null
ls "$tmp/g.lance/_versions" | grep -qx 5.manifest || { echo "FAIL: V1 name kept"; exit 1; }
cat "$src/expected.jsonl" "$tmp/new.jsonl" >"$tmp/want.jsonl"
"$RESONA" scan "$tmp/g.lance" >"$tmp/ours2.jsonl"
compare "$tmp/ours2.jsonl" "$tmp/want.jsonl"
"$RESONA" compact "$tmp/g.lance" >/dev/null
"$RESONA" scan "$tmp/g.lance" >"$tmp/ours3.jsonl"
compare "$tmp/ours3.jsonl" "$tmp/want.jsonl"
"$RESONA" info "$tmp/g.lance" | grep -q '"fragments":1,' || { echo "FAIL: compacted"; exit 1; }
echo ok
