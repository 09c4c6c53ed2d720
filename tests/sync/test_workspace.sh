#!/usr/bin/env bash
# Paths, config.json and workspaces: everything lands under a temporary HOME
# (or the XDG directories when set), workspace add|list follow the original,
# -w resolves aliases, nodeids and rootFileIds, and export discovery takes
# the newest *@YYYY-MM-DD.json.
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/sync-ws.XXXXXX")
trap 'rm -rf "$T"' EXIT
export HOME="$T/home"; unset XDG_CONFIG_HOME XDG_DATA_HOME XDG_CACHE_HOME
mkdir -p "$HOME"
CFG="$HOME/.config/supertag/config.json"

"$SUPERTAG" workspace list > "$T/out" || fail "list (empty)"
grep -q "No workspaces configured." "$T/out" || fail "empty list message"
rc=0; "$SUPERTAG" sync 2>"$T/err" || rc=$?
[ $rc -eq 1 ] || fail "sync without a workspace: exit $rc"
grep -q "Workspace not found: main" "$T/err" && grep -q "No workspaces configured." "$T/err" ||
  { cat "$T/err"; fail "not-found message"; }

# config.json: other keys survive, 2-space indentation, mode 0600
mkdir -p "$(dirname "$CFG")"
printf '{"embeddings":{"model":"bge-m3","endpoint":"http://localhost:11434"},"cleanup":{"keepCount":7}}' > "$CFG"
"$SUPERTAG" workspace add ROOT1 --alias books --nodeid NODE1 --name "My books" > "$T/out" || fail "add"
grep -q 'Added workspace "books"' "$T/out" && grep -q "Set as default workspace" "$T/out" || fail "add output"
"$SUPERTAG" workspace add ROOT2 --alias work --disabled > "$T/out" || fail "add 2"
! grep -q "Set as default" "$T/out" || fail "second add changed the default"
python3 - "$CFG" <<'PY' || fail "config.json content"
import json, sys
text = open(sys.argv[1]).read()
c = json.loads(text)
assert list(c) == ["embeddings", "cleanup", "workspaces", "defaultWorkspace"], list(c)
assert c["embeddings"]["model"] == "bge-m3" and c["cleanup"] == {"keepCount": 7}
assert c["workspaces"]["books"] == {"rootFileId": "ROOT1", "nodeid": "NODE1", "name": "My books", "enabled": True}
assert c["workspaces"]["work"] == {"rootFileId": "ROOT2", "enabled": False}
assert c["defaultWorkspace"] == "books"
assert text == json.dumps(c, indent=2), "not JSON.stringify(x, null, 2) layout"
PY
[ "$(stat -c %a "$CFG")" = 600 ] || fail "config.json mode"
"$SUPERTAG" workspace list > "$T/out" || fail "list"
grep -q "books (My books) \[default\]" "$T/out" && grep -q "rootFileId: ROOT2" "$T/out" &&
  grep -q "database: not synced" "$T/out" || { cat "$T/out"; fail "list output"; }
"$SUPERTAG" workspace list --json | python3 -c "
import json,sys; l=json.load(sys.stdin); assert [w['alias'] for w in l]==['books','work']; assert l[0]['isDefault'] and not l[1]['enabled']
" || fail "list --json"

# export discovery: the newest name wins, other files are ignored
EX="$HOME/.local/share/supertag/exports/books"
mkdir -p "$EX"
mk() { printf '{"formatVersion":1,"editors":[],"workspaces":{},"docs":[{"id":"%s","props":{"name":"n"}}]}' "$2" > "$EX/$1"; }
mk "ws@2026-01-01.json" old
mk "ws@2026-03-01.json" newest
mk "ws@2026-02-01.json" middle
mk "zzz-notes.json" ignored
mk "ws@2026-04-01.json.bak" ignored
"$SUPERTAG" sync > "$T/out" || fail "sync default workspace"
DB="$HOME/.local/share/supertag/workspaces/books/tana-index.db"
[ "$(sqlite3 "$DB" 'select id from nodes')" = newest ] || fail "newest export not chosen"
[ "$(sqlite3 "$DB" 'select last_export_file from sync_metadata')" = "ws@2026-03-01.json" ] || fail "export name"
[ "$(stat -c %a "$(dirname "$DB")")" = 700 ] || fail "workspace dir mode"

# -w by alias, by nodeid, by rootFileId; unknown lists the available ones
for w in books NODE1 ROOT1; do
  "$SUPERTAG" sync -w "$w" > "$T/out" || fail "sync -w $w"
  grep -q "up to date" "$T/out" || fail "-w $w did not find the books index"
done
rc=0; "$SUPERTAG" sync -w nope 2>"$T/err" || rc=$?
[ $rc -eq 1 ] && grep -q "Workspace not found: nope" "$T/err" && grep -q "Available: books, work" "$T/err" ||
  { cat "$T/err"; fail "unknown workspace"; }
rc=0; "$SUPERTAG" sync -w work 2>"$T/err" || rc=$?
[ $rc -eq 1 ] && grep -q "exports/work" "$T/err" || { cat "$T/err"; fail "missing export dir"; }
"$SUPERTAG" sync -w work --export "$EX/ws@2026-01-01.json" >/dev/null || fail "--export"
[ "$(sqlite3 "$HOME/.local/share/supertag/workspaces/work/tana-index.db" 'select id from nodes')" = old ] ||
  fail "--export file not used"
"$SUPERTAG" sync -w work --export-dir "$EX" >/dev/null || fail "--export-dir"

# XDG variables override HOME
export XDG_CONFIG_HOME="$T/xc" XDG_DATA_HOME="$T/xd"
"$SUPERTAG" workspace add R3 --alias x >/dev/null || fail "add under XDG"
[ -f "$T/xc/supertag/config.json" ] || fail "XDG_CONFIG_HOME ignored"
mkdir -p "$T/xd/supertag/exports/x"; cp "$EX/ws@2026-01-01.json" "$T/xd/supertag/exports/x/"
"$SUPERTAG" sync -w x >/dev/null || fail "sync under XDG"
[ -f "$T/xd/supertag/workspaces/x/tana-index.db" ] || fail "XDG_DATA_HOME ignored"

# usage errors
rc=0; "$SUPERTAG" workspace add --alias 2>/dev/null || rc=$?; [ $rc -eq 2 ] || fail "add without value"
rc=0; "$SUPERTAG" workspace add R --alias ../x 2>/dev/null || rc=$?; [ $rc -eq 2 ] || fail "bad alias"
rc=0; "$SUPERTAG" sync --bogus 2>/dev/null || rc=$?; [ $rc -eq 2 ] || fail "unknown option"
echo "workspace ok"
