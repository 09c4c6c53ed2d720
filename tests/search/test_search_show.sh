#!/usr/bin/env bash
# supertag search --semantic --show / --depth / --select on the original's
# workspace with the fake Ollama (the fixtures' deterministic vectors, so a
# query equal to a node's embedded text finds that node at 100%).
#
# Expected outputs come from two places, neither of them our C code:
#  - data/show-*.txt and data/select-*: written from the original's rules
#    (show_model.py for contents; the original's applyProjection and
#    JSON.stringify(x, null, 2) for --select) over the index data; the model
#    is itself checked against plain SQL on the index first;
#  - show_model.py run live over more queries and depths 0-2, table and JSON.
set -euo pipefail
source "$SOURCE_DIR/tests/support/fake_ollama.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/search-show.XXXXXX")
export XDG_CONFIG_HOME=$T/config XDG_DATA_HOME=$T/data XDG_CACHE_HOME=$T/cache HOME=$T
export TZ=UTC # "Created:" is a local date, as in the original
unset SUPERTAG_FORMAT || true
cleanup() { fake_stop >/dev/null 2>&1 || true; rm -rf "$T"; }
trap cleanup EXIT
D=$SOURCE_DIR/tests/search/data
MODEL=$SOURCE_DIR/tests/search/show_model.py
W=$T/data/supertag/workspaces/main
DB=$W/tana-index.db
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
same() { # file expected, then the command
  local exp=$1
  shift
  "$@" >"$T/out" || fail "exit status $? for: $*"
  cmp -s "$T/out" "$exp" || { diff "$T/out" "$exp" | head -20; fail "$(basename "$exp"): $*"; }
}

# The queries: embedded texts of a #chapter with fields, of a #book whose
# fields hold an inline date reference, of a node with a two-level subtree.
QL='[Type: #chapter] [Word count: 1198] [Chapter number: 1] [Book: Frankenstein; Or, The Modern Prometheus] Letter 1'
# data/query-book.txt: the context_text of 7CQebiYShzfi in golden/sample-embeddings.jsonl
QB=$(cat "$D/query-book.txt")
QC='Cities in Switzerland'
QW='how to run a weekly review'

# 1. --show in the table format, exact
same "$D/show-letter1.txt" st "$QL" --semantic --show -l 2
same "$D/show-book.txt" st "$QB" --semantic --show -l 1
same "$D/show-letter1-depth1.txt" st "$QL" --semantic --show --depth 1 -l 1
same "$D/show-cities-depth2.txt" st "$QC" --semantic --show --depth 2 -l 2
same "$D/show-cities-depth2.txt" st "$QC" --semantic -s -d 2 -l 2
# spot checks straight from SQLite: the book's fields and children
grep -qx '   - Import date:: 2025-12-13' "$D/show-book.txt" || fail "inline date"
n_children=$(sqlite3 "$DB" "SELECT count(*) FROM nodes p, json_each(p.raw_data, '\$.children') c
  JOIN nodes n ON n.id = c.value WHERE p.id = '7CQebiYShzfi'
  AND coalesce(json_extract(n.raw_data, '\$.props._docType'), '') != 'tuple'")
got=$(st "$QB" --semantic --show -l 1 | sed -n '/^   Children:/,/^$/p' | grep -c '^   - ')
[ "$got" = "$n_children" ] || fail "book children: $got, index says $n_children"
cats=$(sqlite3 "$DB" "SELECT group_concat(value_text, ', ') FROM (SELECT value_text FROM
  field_values WHERE parent_id = '7CQebiYShzfi' AND field_name = 'Category' ORDER BY value_order)")
grep -qxF "   - Category:: $cats" "$D/show-book.txt" || fail "categories"

# 2. --select, exact, per format
same "$D/select-json.json" st "$QW" --semantic --json -l 3 --select id,similarity,Name
same "$D/select-jsonl.jsonl" st "$QW" --semantic --format jsonl -l 3 --select tags,id
same "$D/select-csv.csv" st "$QW" --semantic --format csv -l 3 --select name,id,similarity
same "$D/select-table.txt" st "$QW" --semantic -l 3 --select similarity,id
same "$D/select-show.json" st "$QB" --semantic --show --depth 1 --json -l 2 \
  --select id,contents.tags,contents.fields.4.value,contents.children.0.name,contents.children.0.fields.length

# 3. the model, live, over more results at depths 0 and 2 (table and JSON); checked
#    in one Python run at the end (Python starts slowly on a busy machine)
mkdir "$T/m"
i=0
for q in "$QL" "$QB" "$QC" "$QW"; do
  i=$((i + 1))
  st "$q" --semantic --json -l 4 >"$T/m/$i.hits"
  for depth in 0 2; do
    st "$q" --semantic --show --depth $depth -l 4 | tail -n +3 >"$T/m/$i.$depth.table"
    st "$q" --semantic --show --depth $depth -l 4 --json >"$T/m/$i.$depth.json"
  done
done
st "$QB" --semantic --show -l 3 --json >"$T/a.json"
st "$QB" --semantic --show -l 3 --format jsonl >"$T/a.jsonl"

# 4. the original ignores --show in csv, ids and minimal, and --depth without --show
for f in csv ids minimal; do
  st "$QW" --semantic --format $f >"$T/plain"
  same "$T/plain" st "$QW" --semantic --format $f --show --depth 2
done
st "$QL" --semantic -l 3 >"$T/plain"
same "$T/plain" st "$QL" --semantic -l 3 --depth 2
# an empty --select is no projection; minimal is always an array of {id, name, tags}
st "$QW" --semantic --json >"$T/plain"
same "$T/plain" st "$QW" --semantic --json --select ' , '
st "$QL" --semantic --format minimal -l 1 >"$T/min1"
# minimal with --select projects the full row (as the original)
st "$QL" --semantic --format minimal -l 1 --select similarity,ancestor >"$T/min"
printf '[\n  {\n    "similarity": "1.000",\n    "ancestor": ""\n  }\n]\n' | cmp -s - "$T/min" ||
  fail "minimal --select"

# 5. usage errors name the value
usage() { # expected message fragment, then the arguments
  local want=$1 rc
  shift
  set +e
  st "$@" >"$T/out" 2>"$T/err"
  rc=$?
  set -e
  [ $rc -eq 2 ] || fail "exit $rc (want 2) for: $*"
  grep -qF -- "$want" "$T/err" || { cat "$T/err"; fail "message '$want' for: $*"; }
  [ ! -s "$T/out" ] || fail "output on a usage error: $*"
}
usage "'foo'" x --semantic --json --select id,foo
usage "'id.x'" x --semantic --json --select id.x
usage "'contents' needs --show" x --semantic --json --select contents
usage "'contents.bogus'" x --semantic --json --show --select contents.bogus
usage "'contents.name'" x --semantic --format csv --show --select id,contents.name
usage "'contents'" x --semantic --select contents --show --format table --no-header --format csv
usage "--show table output" x --semantic --show --select id
usage "'abc'" x --semantic --show --depth abc
usage "'-1'" x --semantic --show --depth -1
usage "'101'" x --semantic --show -d 101
usage "'2x'" x --semantic --show --depth 2x
# 6. the checks of section 3 and a few more, against the model and the index
python3 - "$T" "$MODEL" "$DB" <<'PY' || fail "model comparison (above)"
import json, os, sqlite3, sys
t, model, dbpath = sys.argv[1:4]
sys.path.insert(0, os.path.dirname(model))
import show_model
db = sqlite3.connect("file:%s?mode=ro" % dbpath, uri=True)
show_model.check(db)  # the model agrees with plain SQL on the index
for i in range(1, 5):
    hits = json.load(open("%s/m/%d.hits" % (t, i)))
    assert len(hits) == 4
    for depth in (0, 2):
        got = open("%s/m/%d.%d.table" % (t, i, depth), encoding="utf-8").read()
        exp = show_model.show_table(db, hits, depth)
        assert got == exp, ("table", i, depth, got[:400], exp[:400])
        got = open("%s/m/%d.%d.json" % (t, i, depth), encoding="utf-8").read()
        exp = show_model.show_json(db, hits, depth)
        # same values, same key order, and JSON.stringify's compact layout
        assert got == json.dumps(exp, ensure_ascii=False, separators=(",", ":")) + "\n", \
            ("json", i, depth, got[:400])
# jsonl carries the same rows as json, one per line, contents included
a = json.load(open(t + "/a.json"))
b = [json.loads(l) for l in open(t + "/a.jsonl")]
assert a == b and len(b) == 3 and "contents" in b[0], b
# minimal is always an array of {id, name, tags}, even with one result
m = json.load(open(t + "/min1"))
assert m == [{"id": "tpJ8wiPxCZM3", "name": "Letter 1", "tags": "chapter"}], m
print("model comparisons ok")
PY
echo "all ok"
