/*
 * support/support.h - helpers shared by the C tests: temporary directories,
 * whole-file I/O, running a command and capturing its output.
 *
 * Every test gets a fresh temporary directory (ts_tmpdir) and removes it on
 * success. Paths of the build and of the fixtures come from the compile
 * definitions RESONA_SOURCE_DIR, RESONA_BINARY_DIR and RESONA_FIXTURES_DIR.
 *
 * Include after <stdarg.h>, <stddef.h>, <setjmp.h>, <stdint.h> and <cmocka.h>
 * or let this header include them (it does).
 */
#ifndef RESONA_TEST_SUPPORT_H
#define RESONA_TEST_SUPPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/** A fresh empty directory under $TMPDIR (or /tmp). Caller frees the string. */
char *ts_tmpdir(const char *prefix);
/** rm -rf path. Returns 0 on success. */
int ts_rmtree(const char *path);
/** Join two path parts with '/'. Caller frees. */
char *ts_path(const char *dir, const char *name);
/** Read a whole file (NUL-terminated); NULL on failure. Caller frees. */
char *ts_read_file(const char *path, size_t *len);
/** Write (replace) a whole file. Returns 0 on success. */
int ts_write_file(const char *path, const void *data, size_t len);
/**
 * Run a shell command line; capture stdout (if out != NULL, caller frees).
 * Returns the exit status, or -1 if it could not run / was killed.
 */
int ts_run(const char *cmdline, char **out);
/** Like ts_run, formatting the command line printf-style. */
int ts_runf(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** Absolute path of a fixture under tests/fixtures. Caller frees. */
char *ts_fixture(const char *relpath);
/** Environment variable or a default. */
const char *ts_env(const char *name, const char *fallback);

#endif
