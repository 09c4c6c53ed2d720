#!/usr/bin/env bash
# Every command and subcommand answers --help with exit 0 and a usage line;
# unknown commands and options are usage errors (exit 2).
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
"$SUPERTAG" --help | grep -q '^usage: supertag' || fail "supertag --help"
"$RESONA" --help | grep -q '^usage: resona' || fail "resona --help"
"$SUPERTAG" --version | grep -q '^supertag ' || fail "supertag --version"
# Commands listed by --help each answer --help themselves.
for c in $("$SUPERTAG" --help | awk '/^commands:/{on=1;next} /^$/{on=0} on{print $1}'); do
  "$SUPERTAG" "$c" --help >/dev/null || fail "supertag $c --help"
done
for c in $("$RESONA" --help | awk '/^commands:/{on=1;next} /^$/{on=0} on{print $1}'); do
  "$RESONA" "$c" --help >/dev/null || fail "resona $c --help"
done
set +e
"$SUPERTAG" no-such-command 2>/dev/null; [ $? -eq 2 ] || fail "unknown command is not exit 2"
"$SUPERTAG" --no-such-option 2>/dev/null; [ $? -eq 2 ] || fail "unknown option is not exit 2"
"$RESONA" no-such-command 2>/dev/null; [ $? -eq 2 ] || fail "resona unknown command is not exit 2"
echo "help ok"
