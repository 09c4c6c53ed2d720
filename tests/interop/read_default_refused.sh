#!/usr/bin/env bash
# Tables in LanceDB 0.39's default data format (2.2, newer than the 2.0 and 2.1 that resona
# reads): `resona scan` and `resona append` refuse them with exit 1 and a clear message naming
# the format, and leave the table untouched (not one file added, removed or changed).
# (2.1 tables are read and appended to by interop_read_v21: lancedb_to_c.sh current 2.1.)
source "$(dirname "$0")/common.sh"

for format in default; do
  REF="$TMP/ref-$format"
  run "current LanceDB makes $format tables" ldb current gen "$format" "$REF"
  cat "$OUT"
  "$PY" -c '
import json, sys
for t in json.load(open(sys.argv[1])):
    print("%s|%s|%s|%s" % (t["kind"], t["table"], t["rows"], t["format"]))' \
    "$REF/tables.json" >"$TMP/tables-$format.txt"
  while IFS='|' read -r kind table rows fmt <&3; do
    T="$REF/$table"
    before=$(cd "$T" && find . -type f -exec md5sum {} + | sort)
    for cmd in scan append; do
      args=("$T")
      [ "$cmd" = append ] && args+=(--jsonl "$REF/$kind.append.jsonl")
      set +e
      "$RESONA" "$cmd" "${args[@]}" >"$TMP/out" 2>"$TMP/err"
      rc=$?
      set -e
      msg=$(head -c 400 "$TMP/err")
      [ "$rc" -eq 1 ] || fail "$fmt $kind: resona $cmd exited $rc (expected 1): $msg"
      grep -q "$fmt" "$TMP/err" || fail "$fmt $kind: resona $cmd's message does not name $fmt: $msg"
      grep -qiE 'not supported|unsupported|only' "$TMP/err" ||
        fail "$fmt $kind: resona $cmd's message does not say it is unsupported: $msg"
      [ "$cmd" = scan ] && [ -s "$TMP/out" ] && fail "$fmt $kind: resona scan printed rows"
      echo "$fmt $kind: resona $cmd refused: $msg"
    done
    after=$(cd "$T" && find . -type f -exec md5sum {} + | sort)
    [ "$before" = "$after" ] || fail "$fmt $kind: the refused commands changed files of the table"
  done 3<"$TMP/tables-$format.txt"
done
echo "PASS: LanceDB-default (2.2) tables are refused clearly and left untouched"
