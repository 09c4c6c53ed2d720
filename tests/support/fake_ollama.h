/*
 * support/fake_ollama.h - start and stop the fake Ollama server
 * (tests/fake-ollama) from a C test.
 *
 *   ts_fake f;
 *   assert_int_equal(ts_fake_start("--dim 8 --latency-ms 5", &f), 0);
 *   ... talk to f.url ("http://127.0.0.1:PORT") ...
 *   ts_fake_stop(&f);
 *
 * The binary is $FAKE_OLLAMA (set by ctest), else
 * RESONA_BINARY_DIR/tests/fake-ollama/fake-ollama. extra_args is split by
 * /bin/sh, so quote arguments with spaces ("--log '/tmp/a b/log'").
 */
#ifndef RESONA_TEST_FAKE_OLLAMA_H
#define RESONA_TEST_FAKE_OLLAMA_H

#include <sys/types.h>

typedef struct ts_fake {
    int port;
    pid_t pid;
    char url[64]; /* "http://127.0.0.1:PORT" */
} ts_fake;

/*
 * Spawn fake-ollama --port 0 <extra_args>, wait (up to 10 s) for its
 * "listening 127.0.0.1:PORT" line and fill *out. Returns 0, or -1 (the
 * reason on stderr; a started process is killed).
 */
int ts_fake_start(const char *extra_args, ts_fake *out);
/* SIGTERM and waitpid. Returns the exit status (0 = clean), -1 if killed/failed. */
int ts_fake_stop(ts_fake *f);

#endif
