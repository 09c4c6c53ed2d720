#!/usr/bin/env bash
# The resona CLI end to end: exit codes (0 ok, 1 error with one line
# "resona: ...", 2 usage), --help of every command, append --create type
# inference, scan/info output formats, search distances as LanceDB defines
# them (row [1,2], query [3,4]: l2 8, cosine 0.0161290, dot -10), delete,
# compact with prune, and reading the original tool's table.
set -euo pipefail
: "${RESONA:?}" "${FIXTURES_DIR:?}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/resona-cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export RESONA_UNSAFE_NO_FSYNC=1
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_rc() { # expect_rc CODE cmd...
  local want=$1; shift
  set +e; "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?; set -e
  [ "$rc" = "$want" ] || { cat "$tmp/err" >&2; fail "'$*' exited $rc, wanted $want"; }
}

for c in info scan search append delete compact; do
  expect_rc 0 "$RESONA" "$c" --help
  grep -q "usage: resona $c" "$tmp/out" || fail "$c --help"
done
expect_rc 2 "$RESONA"
expect_rc 2 "$RESONA" nosuchcommand
expect_rc 2 "$RESONA" scan
expect_rc 1 "$RESONA" info "$tmp/missing.lance"
[ "$(wc -l <"$tmp/err")" = 1 ] && grep -q '^resona: ' "$tmp/err" || fail "one-line error"

# append --create: inference like LanceDB's JS client
cat >"$tmp/a.jsonl" <<'J'
{"id":"a","score":1.5,"ok":true,"vector":[1,2],"note":"x"}
{"id":"b","score":null,"ok":false,"vector":[3,4.5],"note":null}
{"id":"c\"q","score":2,"vector":null}
J
T="$tmp/db/t.lance"
expect_rc 0 "$RESONA" append "$T" --jsonl "$tmp/a.jsonl" --create
[ "$(cat "$tmp/out")" = '{"version":2,"rows":3}' ] || fail "append output: $(cat "$tmp/out")"
expect_rc 0 "$RESONA" info "$T"
python3 - "$tmp/out" <<'P'
import json, sys
i = json.load(open(sys.argv[1]))
assert i["version"] == 2 and i["rows"] == 3 and i["fragments"] == 1, i
assert i["data_format"] == "2.0" and i["manifest_naming"] == "v2", i
types = [(f["name"], f["type"], f["nullable"]) for f in i["schema"]]
assert types == [("id","utf8",True),("score","float64",True),("ok","bool",True),
                 ("vector","vector",True),("note","utf8",True)], types
assert i["schema"][3]["dim"] == 2 and i["schema"][3]["logical_type"] == "fixed_size_list:float:2"
assert i["readable_by"] == {"resona": True, "lancedb_0_13": True, "lancedb_current": True}
P
expect_rc 0 "$RESONA" scan "$T"
cat >"$tmp/want" <<'J'
{"id":"a","score":1.5,"ok":true,"vector":[1,2],"note":"x"}
{"id":"b","score":null,"ok":false,"vector":[3,4.5],"note":null}
{"id":"c\"q","score":2,"ok":null,"vector":null,"note":null}
J
diff "$tmp/want" "$tmp/out" || fail "scan output"
expect_rc 0 "$RESONA" scan "$T" --columns note,id --limit 1
[ "$(cat "$tmp/out")" = '{"id":"a","note":"x"}' ] || fail "scan --columns keeps schema order"
expect_rc 1 "$RESONA" scan "$T" --columns nope
expect_rc 1 "$RESONA" append "$T" --jsonl <(echo '{"id":"d","bogus":1}')
expect_rc 1 "$RESONA" append "$T" --jsonl <(echo '{"id":"d","vector":[1,2,3]}')

# float32 round trip: %.9g prints exactly what was stored
echo '{"id":"f","vector":[0.1,0.3333333]}' >"$tmp/f.jsonl"
expect_rc 0 "$RESONA" append "$T" --jsonl "$tmp/f.jsonl"
expect_rc 0 "$RESONA" scan "$T" --columns vector
tail -1 "$tmp/out" | grep -qx '{"vector":\[0.100000001,0.333333313\]}' || fail "float32 text"

# search: LanceDB's distances on row [1,2] with query [3,4]
S="$tmp/db/s.lance"
printf '%s\n' '{"id":"r","vector":[1,2]}' '{"id":"far","vector":[100,100]}' '{"id":"r2","vector":[1,2]}' >"$tmp/s.jsonl"
expect_rc 0 "$RESONA" append "$S" --jsonl "$tmp/s.jsonl" --create
expect_rc 0 "$RESONA" search "$S" --vector '[3,4]' -k 2 --columns id
printf '%s\n' '{"id":"r","_distance":8}' '{"id":"r2","_distance":8}' | diff - "$tmp/out" || fail "l2 + tie order"
expect_rc 0 "$RESONA" search "$S" --vector '[3,4]' -k 3 --metric cosine --columns id
sed -n 2p "$tmp/out" | grep -q '^{"id":"r","_distance":0.01613' || fail "cosine: $(cat "$tmp/out")"
expect_rc 0 "$RESONA" search "$S" --vector '[3,4]' -k 1 --metric dot --columns id
[ "$(cat "$tmp/out")" = '{"id":"far","_distance":-699}' ] || fail "dot: $(cat "$tmp/out")"
echo '[3,4]' >"$tmp/q.json"
expect_rc 0 "$RESONA" search "$S" --vector-file "$tmp/q.json" -k 3
[ "$(wc -l <"$tmp/out")" = 3 ] || fail "search -k 3"
expect_rc 1 "$RESONA" search "$S" --vector '[1,2,3]'
expect_rc 2 "$RESONA" search "$S" --vector '[1,2]' --metric hamming

# delete + compact + prune
printf 'a\nzzz\n' >"$tmp/del.txt"
expect_rc 0 "$RESONA" delete "$T" --column id --values-file "$tmp/del.txt"
[ "$(cat "$tmp/out")" = '{"version":4,"deleted":1}' ] || fail "delete: $(cat "$tmp/out")"
expect_rc 0 "$RESONA" scan "$T" --columns id
[ "$(wc -l <"$tmp/out")" = 3 ] || fail "rows after delete"
expect_rc 0 "$RESONA" compact "$T" --prune-days 0
grep -q '"fragments_removed":2,"fragments_added":1' "$tmp/out" || fail "compact: $(cat "$tmp/out")"
expect_rc 0 "$RESONA" scan "$T" --columns id
printf '%s\n' '{"id":"b"}' '{"id":"c\"q"}' '{"id":"f"}' | diff - "$tmp/out" || fail "rows after compact"

# the original tool's table
O="$FIXTURES_DIR/original-workspace/tana-index.lance/embeddings.lance"
expect_rc 0 "$RESONA" info "$O"
grep -q '"rows":3623' "$tmp/out" && grep -q '"manifest_naming":"v1"' "$tmp/out" &&
  grep -q '"indices":\["id_idx"\]' "$tmp/out" || fail "info of the original table"
expect_rc 0 "$RESONA" scan "$O" --columns id --version 1
[ "$(wc -l <"$tmp/out")" = 1 ] || fail "scan --version 1"
echo "ok"
