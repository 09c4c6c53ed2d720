#!/usr/bin/env bash
# supertag sync on the real sample export gives the original's index, row for
# row (every table of the golden dump, sqlite_master and sqlite_sequence);
# an unchanged export is a no-op; the original's own index is adopted as is.
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/sync-golden.XXXXXX")
trap 'rm -rf "$T"' EXIT
export HOME="$T/home"; unset XDG_CONFIG_HOME XDG_DATA_HOME XDG_CACHE_HOME
mkdir -p "$HOME"
GOLDEN="$FIXTURES_DIR/golden/sample-index"
ORIG_DB="$FIXTURES_DIR/original-workspace/tana-index.db"

"$SUPERTAG" workspace add u-5GVx_8nTUj --alias main >/dev/null
EXPORTS="$HOME/.local/share/supertag/exports/main"
DB="$HOME/.local/share/supertag/workspaces/main/tana-index.db"
mkdir -p "$EXPORTS"
cp "$FIXTURES_DIR/sample-workspace.json" "$EXPORTS/_1liWSdbrpHY@2026-01-01.json"

"$SUPERTAG" sync > "$T/out1" || fail "first sync"
grep -q "nodes:  *5242 (5242 added" "$T/out1" || { cat "$T/out1"; fail "summary"; }
python3 "$SOURCE_DIR/tests/sync/dump_index.py" --compare "$DB" "$GOLDEN" --schema "$ORIG_DB" ||
  fail "index differs from the original's"
[ "$(sqlite3 "$DB" 'select last_export_file, total_nodes from sync_metadata')" = \
  "_1liWSdbrpHY@2026-01-01.json|5242" ] || fail "sync_metadata"
[ "$(sqlite3 "$DB" 'pragma integrity_check')" = ok ] || fail "integrity_check"
# the FTS index over field_values is populated by the triggers, as in the original
[ "$(sqlite3 "$DB" "select count(*) from field_values_fts where field_values_fts match 'Stevenson'")" -ge 1 ] ||
  fail "field_values_fts"

sqlite3 "$DB" "insert into field_values_fts(field_values_fts) values('integrity-check')" ||
  fail "field_values_fts integrity-check"

# unchanged export: nothing is written (same inode, same bytes, same mtime)
before=$(stat -c '%i %Y %s' "$DB"); sum=$(sha256sum < "$DB")
sleep 1
"$SUPERTAG" sync > "$T/out2" || fail "second sync"
grep -q "up to date: 5242 nodes unchanged" "$T/out2" || { cat "$T/out2"; fail "no-op message"; }
[ "$(stat -c '%i %Y %s' "$DB")" = "$before" ] && [ "$(sha256sum < "$DB")" = "$sum" ] ||
  fail "an unchanged export rewrote the index"

# --force rebuilds (new file, same rows)
"$SUPERTAG" sync --force >/dev/null || fail "forced sync"
[ "$(stat -c '%i' "$DB")" != "${before%% *}" ] || fail "--force did not rebuild"
python3 "$SOURCE_DIR/tests/sync/dump_index.py" --compare "$DB" "$GOLDEN" >/dev/null || fail "forced rebuild differs"

# field exclusions are user data: kept across a rebuild, and applied
sqlite3 "$DB" "insert into field_exclusions (field_name, reason) values ('Author', 'test')"
"$SUPERTAG" sync --force >/dev/null || fail "sync with an exclusion"
[ "$(sqlite3 "$DB" "select field_name || '/' || reason from field_exclusions")" = "Author/test" ] ||
  fail "field_exclusions not carried over"
[ "$(sqlite3 "$DB" "select count(*) from field_values where field_name = 'Author'")" = 0 ] ||
  fail "excluded field still extracted"
[ "$(sqlite3 "$DB" "select count(*) from field_values")" -gt 400 ] || fail "other field values lost"
sqlite3 "$DB" "delete from field_exclusions"

# a changed node triggers a rebuild
python3 - "$EXPORTS/_1liWSdbrpHY@2026-01-01.json" "$EXPORTS/_1liWSdbrpHY@2026-01-02.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for doc in d["docs"]:
    if doc["id"] == "Wrr1NjIFGoD8":
        doc["props"]["name"] = "Books (renamed)"
json.dump(d, open(sys.argv[2], "w"))
PY
"$SUPERTAG" sync > "$T/out3" || fail "sync of the newer export"
grep -q "0 added, 1 modified, 0 deleted" "$T/out3" || { cat "$T/out3"; fail "change counts"; }
[ "$(sqlite3 "$DB" "select name from nodes where id='Wrr1NjIFGoD8'")" = "Books (renamed)" ] || fail "renamed node"
[ "$(sqlite3 "$DB" 'select last_export_file from sync_metadata')" = "_1liWSdbrpHY@2026-01-02.json" ] ||
  fail "newest export not chosen"

# the original's own index for the same export is adopted without a rebuild
cp "$ORIG_DB" "$DB"
"$SUPERTAG" sync --export "$EXPORTS/_1liWSdbrpHY@2026-01-01.json" > "$T/out4" || fail "sync over the original's db"
grep -q "up to date" "$T/out4" || { cat "$T/out4"; fail "the original's index was not recognised as current"; }
cmp -s "$ORIG_DB" "$DB" || fail "the original's index was modified"

# the {"storeData": ...} wrapper gives the same index
python3 -c "
import json,sys; d=json.load(open(sys.argv[1])); json.dump({'storeData': d}, open(sys.argv[2],'w'))
" "$FIXTURES_DIR/sample-workspace.json" "$T/wrapped.json"
"$SUPERTAG" sync --export "$T/wrapped.json" --db-path "$T/wrapped.db" >/dev/null || fail "wrapped export"
python3 "$SOURCE_DIR/tests/sync/dump_index.py" --compare "$T/wrapped.db" "$GOLDEN" >/dev/null || fail "wrapped export differs"
echo "sync golden ok"
