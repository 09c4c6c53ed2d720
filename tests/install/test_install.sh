#!/usr/bin/env bash
# Installs the build into a DESTDIR and checks the layout (see CMakeLists.txt).
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=/opt/resona-test
DESTDIR="$tmp/dest" "$CMAKE_COMMAND" --install "$BUILD_DIR" --prefix "$prefix" >/dev/null
root="$tmp/dest$prefix"
for f in bin/supertag bin/resona include/resona/common.h; do
  [ -e "$root/$f" ] || fail "missing $f"
done
pc=$(find "$root" -name resona.pc | head -n1)
[ -n "$pc" ] || fail "missing resona.pc"
libdir=$(dirname "$(dirname "$pc")")
ls "$libdir"/libresona.so* >/dev/null 2>&1 || fail "missing libresona.so in $libdir"
[ -e "$libdir/libresona.a" ] || fail "missing libresona.a in $libdir"
ls "$root"/share/man/man1/*.1 >/dev/null 2>&1 || fail "no man pages in share/man/man1"

# Every public header compiles from the installed tree.
cat >"$tmp/use.c" <<'C'
#include <resona/common.h>
#include <stdio.h>
#include <string.h>
int main(void) { printf("%s\n", resona_version()); return strcmp(resona_version(), RESONA_VERSION) != 0; }
C
export PKG_CONFIG_PATH="$(dirname "$pc")"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Werror "$tmp/use.c" -o "$tmp/use" $(pkg-config --cflags --libs resona) \
   || fail "cannot build against the installed library with pkg-config"
if [ "${RESONA_SANITIZED:-0}" = 1 ]; then
  echo "sanitizer build: the instrumented library needs the ASan runtime first; not run here"
else
  LD_LIBRARY_PATH="$libdir" "$tmp/use" >/dev/null || fail "installed library does not run"
fi

# Only the public API is exported from the shared library.
bad=$(nm -D --defined-only "$RESONA_SHARED_LIB" | awk '$2 ~ /^[TDBR]$/ {print $3}' \
      | grep -Ev '^(resona_[a-z0-9_]+|_init|_fini|_edata|_end|__bss_start)$' || true)
[ -z "$bad" ] || fail "shared library exports non-API symbols: $(echo "$bad" | head -n 10 | tr '\n' ' ')"
internal=$(nm -D --defined-only "$RESONA_SHARED_LIB" | awk '{print $3}' | grep -E '^resona__' || true)
[ -z "$internal" ] || fail "shared library exports internal symbols: $internal"
echo "install layout ok"
