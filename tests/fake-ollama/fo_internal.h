/*
 * fake-ollama/fo_internal.h - the pieces of the fake Ollama server shared by
 * its files: the configuration parsed from the command line (main.c), the
 * deterministic vectors (vectors.c), small JSON output helpers (json.c) and
 * the HTTP side (server.c, handlers.c).
 *
 * The server is a test instrument, not part of libresona: it uses plain libc
 * allocation and prints to stderr. See README.md in this directory for the
 * flags, the endpoints, the fault modes and the request log format.
 */
#ifndef FO_INTERNAL_H
#define FO_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <yajl/yajl_gen.h>

/* One "N:VALUE" rule (fail-nth N:STATUS, delay-nth N:MS) or "N" rule. */
typedef struct fo_rule {
    uint64_t n;
    long value;
} fo_rule;

typedef struct fo_rules {
    fo_rule *v;
    size_t count;
} fo_rules;

typedef struct fo_config {
    char host[64];
    uint16_t port;
    uint32_t dim;
    char **models; /* normalized names "name:tag" */
    size_t model_count;
    uint32_t latency_ms;
    uint32_t per_input_ms;
    uint64_t seed;
    fo_rules fail_nth;    /* value = HTTP status */
    double fail_rate;     /* probability in [0,1] */
    int fail_rate_status; /* status for fail-rate hits */
    uint64_t burst_start, burst_count;
    fo_rules delay_nth; /* value = milliseconds */
    fo_rules truncate_nth;
    fo_rules malformed_nth;
    fo_rules wrong_dim_nth;
    fo_rules wrong_count_nth;
    fo_rules nan_nth;
    long max_input_chars; /* -1: no limit */
    int ignore_truncate;  /* model ollama#14186: too long fails even with truncate on */
    int no_embed_endpoint;
    int nan_null; /* --nan-literal null */
    int log_texts;
    size_t max_body;
    size_t cache_bytes; /* --vector-cache-mb; 0: no cache */
    const char *api_key;
    const char *log_path;
} fo_config;

typedef struct fo_cache fo_cache;

/* Server-wide state. */
typedef struct fo_server {
    const fo_config *cfg;
    FILE *log;
    pthread_mutex_t log_lock;
    /* The "model": a FIFO ticket lock, one request at a time. */
    pthread_mutex_t model_lock;
    pthread_cond_t model_cond;
    uint64_t next_ticket, serving;
    uint64_t embed_count; /* n of the last embedding request served */
    uint64_t seq;         /* every request */
    int stopping;
    pthread_cond_t stop_cond; /* with model_lock: interruptible sleeps */
    double t0;                /* monotonic seconds at start */
    fo_cache *cache;          /* encoded vectors; used under model_lock only */
} fo_server;

/* ---- vectors.c ---- */

/*
 * The deterministic vector of `text` (len bytes) with `dim` values (see
 * tests/fixtures/README.md "The vectors"). out holds dim floats. Returns 0, or
 * -1 if libcrypto failed or memory ran out.
 */
int fo_vector(const char *text, size_t len, uint32_t dim, float *out);
/* Cut v (dim values) to its first `keep` values and L2-normalize them again in double. */
void fo_vector_shorten(float *v, uint32_t keep);
/* Number of UTF-8 code points in s[0..len). */
size_t fo_utf8_chars(const char *s, size_t len);
/* Byte length of the first `chars` code points of s[0..len). */
size_t fo_utf8_prefix(const char *s, size_t len, size_t chars);
/* The fake token count of a text: 2 + ceil(chars / 4). */
uint64_t fo_tokens(const char *s, size_t len);

/* ---- cache.c: encoded vectors by (dim, text), bounded, oldest out first ---- */

/* NULL if memory ran out (the server then runs without a cache). */
fo_cache *fo_cache_new(size_t max_bytes);
void fo_cache_free(fo_cache *c);
/* The JSON text "[...]" of the vector of text[0..len) at dim, or NULL. The
 * pointer stays valid until the next fo_cache_put. c may be NULL. */
const char *fo_cache_get(fo_cache *c, uint32_t dim, const char *text, size_t len,
                         size_t *json_len);
/* Remember json[0..json_len) for (dim, text); silently skipped if it does not
 * fit or memory runs out. c may be NULL. */
void fo_cache_put(fo_cache *c, uint32_t dim, const char *text, size_t len, const char *json,
                  size_t json_len);

/* ---- json.c: yajl_gen helpers (errors are ignored: yajl only fails on misuse) ---- */

yajl_gen fo_json_new(void);
void fo_json_str(yajl_gen g, const char *s);
void fo_json_strn(yajl_gen g, const char *s, size_t len);
void fo_json_key_str(yajl_gen g, const char *key, const char *s);
void fo_json_key_int(yajl_gen g, const char *key, long long v);
void fo_json_key_ms(yajl_gen g, const char *key, double ms);
/* A float32 as JSON number text: the shortest decimal that parses back to the
 * same float, in Go's (Ollama's) notation; out holds >= 32 bytes. Returns the
 * length. Infinity: 1e999. */
size_t fo_format_f32(char *out, float f);
/* Already-encoded JSON text as the next value (a cached vector "[...]"). */
void fo_json_raw(yajl_gen g, const char *text, size_t len);
/* A generator that writes straight into one growable buffer (for big
 * replies: no copy at the end, no doubling from 4 KiB when cap_hint is
 * right). fo_json_finish_into frees g and hands over the buffer
 * (NUL-terminated; NULL if memory ran out). */
typedef struct fo_outbuf {
    char *buf;
    size_t len, cap;
    int oom;
} fo_outbuf;
yajl_gen fo_json_new_into(fo_outbuf *o, size_t cap_hint);
char *fo_json_finish_into(yajl_gen g, fo_outbuf *o, size_t *len);
/* Copy the generated text into a fresh malloc'd buffer; frees g. */
char *fo_json_finish(yajl_gen g, size_t *len);

/* ---- server.c ---- */

double fo_now_ms(const fo_server *s);
/* The monotonic time ms milliseconds from now. */
void fo_deadline(struct timespec *dl, uint64_t ms);
/* Sleep until dl (or ms), waking early if the server stops. Call with model_lock held. */
void fo_sleep_until_locked(fo_server *s, const struct timespec *dl);
void fo_sleep_locked(fo_server *s, uint64_t ms);
/* Serve on listen_fd until SIGTERM/SIGINT; prints the "listening" line. Returns the exit code. */
int fo_server_run(const fo_config *cfg, int listen_fd, uint16_t port);
/* Wait for the model (FIFO); returns the request number n. Holds model_lock until release. */
uint64_t fo_model_acquire(fo_server *s);
void fo_model_release(fo_server *s);
uint64_t fo_next_seq(fo_server *s);
/* Append one line (no newline in `line`) to the request log and flush it. */
void fo_log_line(fo_server *s, const char *line, size_t len);

/* ---- handlers.c: one request in, one response out ---- */

typedef struct fo_request {
    const char *method;
    const char *url;
    const char *auth; /* Authorization header or NULL */
    const char *body;
    size_t body_len;
    int body_too_big;
    double recv_ms;
    int fd; /* the client socket (to notice a client that gave up), or -1 */
} fo_request;

typedef struct fo_response {
    int status;
    const char *content_type;
    char *body; /* malloc'd */
    size_t body_len;
    size_t send_len; /* < body_len: send this much, then drop the connection */
} fo_response;

void fo_handle(fo_server *s, const fo_request *req, fo_response *resp);

/* ---- main.c ---- */
const fo_rule *fo_rules_find(const fo_rules *r, uint64_t n);

#endif
