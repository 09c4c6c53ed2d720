#!/usr/bin/env bash
# A sync that fails or is interrupted leaves the previous index untouched:
# bad input of every kind (with the byte offset in the message), SIGINT,
# SIGKILL, and a write failure in the middle of the build.
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/sync-safety.XXXXXX")
trap 'rm -rf "$T"' EXIT
DB="$T/ws/tana-index.db"
mkdir -p "$T/ws"
SAMPLE="$FIXTURES_DIR/sample-workspace.json"
"$SUPERTAG" sync --export "$SAMPLE" --db-path "$DB" >/dev/null || fail "initial sync"
sum=$(sha256sum < "$DB")
check_kept() {
  [ "$(sha256sum < "$DB")" = "$sum" ] || fail "$1: the previous index changed"
  local extra
  extra=$(ls -A "$T/ws" | grep -v '^tana-index.db$' || true)
  [ -z "$extra" ] || fail "$1: left files behind: $extra"
}
bad() { # name, file, expected message part
  local rc=0
  "$SUPERTAG" sync --export "$2" --db-path "$DB" >/dev/null 2>"$T/err" || rc=$?
  [ "$rc" -eq 1 ] || fail "$1: exit $rc"
  grep -q -- "$3" "$T/err" || { cat "$T/err"; fail "$1: message"; }
  grep -q "previous index (if any) is unchanged" "$T/err" || fail "$1: no reassurance"
  check_kept "$1"
}
head -c 1500000 "$SAMPLE" > "$T/truncated.json"
bad truncated "$T/truncated.json" "truncated JSON: input ends at byte 1500000"
printf '{"formatVersion":1,"docs":[{"id":"a","props":{}},{"id":"b","props":{"name":"x"},"children":[7]}]}' > "$T/types.json"
bad wrong-types "$T/types.json" 'docs\[1\] (id "b") at byte 49: "children" holds a value that is not a string'
printf '{"formatVersion":1,"editors":[],"workspaces":{}}' > "$T/nodocs.json"
bad missing-docs "$T/nodocs.json" 'no "docs" array'
printf '{"formatVersion":1,"docs":[{"id":"a","props":{"name":"\xc3\x28"}}]}' > "$T/utf8.json"
bad invalid-utf8 "$T/utf8.json" "invalid JSON at byte .*UTF8"
python3 -c "
import sys; sys.stdout.write('{\"formatVersion\":1,\"docs\":[{\"id\":\"a\",\"props\":{},\"x\":' + '['*5000 + ']'*5000 + '}]}')" > "$T/deep.json"
bad deep-nesting "$T/deep.json" "nested deeper than 256 levels at byte"
bad missing-file "$T/nope.json" "cannot open"
printf 'not json' > "$T/garbage.json"
bad garbage "$T/garbage.json" "garbage.json: invalid JSON at byte 1"

# SIGINT in the middle of reading: exit 130, index untouched
mkfifo "$T/fifo"
"$SUPERTAG" sync --export "$T/fifo" --db-path "$DB" >/dev/null 2>"$T/err" & pid=$!
exec 3>"$T/fifo"
head -c 1000000 "$SAMPLE" >&3
sleep 0.5
kill -INT $pid
tail -c +1000001 "$SAMPLE" >&3 || true
exec 3>&-
rc=0; wait $pid || rc=$?
[ "$rc" -eq 130 ] || { cat "$T/err"; fail "SIGINT: exit $rc"; }
grep -q "interrupted; the previous index is unchanged" "$T/err" || fail "SIGINT message"
check_kept SIGINT

# SIGKILL in the middle: nothing half-written is visible
"$SUPERTAG" sync --export "$T/fifo" --db-path "$DB" >/dev/null 2>&1 & pid=$!
exec 3>"$T/fifo"
head -c 1000000 "$SAMPLE" >&3
sleep 0.5
kill -KILL $pid
exec 3>&- || true
wait $pid 2>/dev/null || true
check_kept SIGKILL

# the disk fills up while the new index is written (file size limit): the
# build fails cleanly and the old index stays
python3 -c "
import json,sys; d=json.load(open(sys.argv[1])); d['docs'][0]['props']['name']='changed'; json.dump(d, open(sys.argv[2],'w'))
" "$SAMPLE" "$T/changed.json"
rc=0
( trap '' XFSZ; ulimit -f 3500; exec "$SUPERTAG" sync --export "$T/changed.json" --db-path "$DB" ) \
  >/dev/null 2>"$T/err" || rc=$?
[ "$rc" -eq 1 ] || { cat "$T/err"; fail "disk full: exit $rc"; }
check_kept disk-full
# an old index in WAL mode with a leftover -wal file: the new index must not
# inherit it (its frames belong to the old file)
python3 - "$DB" <<'PY'
import shutil, sqlite3, sys
db = sys.argv[1]
con = sqlite3.connect(db)
con.execute("pragma journal_mode=wal")
con.execute("insert into field_exclusions (field_name, reason) values ('x', 'wal test')")
con.commit()
shutil.copy(db + "-wal", db + ".saved-wal")
con.close()
shutil.move(db + ".saved-wal", db + "-wal")
PY
[ -s "$DB-wal" ] || fail "test setup: no -wal file"
"$SUPERTAG" sync --export "$T/changed.json" --db-path "$DB" >/dev/null || fail "sync over a WAL index"
[ ! -e "$DB-wal" ] && [ ! -e "$DB-shm" ] || fail "stale -wal/-shm left next to the new index"
[ "$(sqlite3 "$DB" 'pragma integrity_check')" = ok ] || fail "new index not intact"
[ "$(sqlite3 "$DB" "select name from nodes where name = 'changed'")" = changed ] || fail "new index content"
[ "$(sqlite3 "$DB" "select reason from field_exclusions")" = "wal test" ] || fail "WAL-only row not carried over"
# no temporary file is left next to the index: neither the new index, nor
# the side database node_checksums is built in, nor those of the killed run
left=$(cd "$(dirname "$DB")" && ls -a | grep -F "$(basename "$DB").sync-" || true)
[ -z "$left" ] || fail "temporary files left: $left"
echo "sync safety ok"
