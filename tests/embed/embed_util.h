/*
 * embed/embed_util.h - helpers for the embedding client tests: the fixture
 * vector definition (tests/fixtures/README.md "The vectors"), a collecting
 * result sink, a capturing log sink, and reading the fake server's log.
 */
#ifndef RESONA_TEST_EMBED_UTIL_H
#define RESONA_TEST_EMBED_UTIL_H

#include <resona/embed.h>

#include <stddef.h>
#include <stdint.h>

/* The expected vector of text[0..len) at width dim (caller frees). */
float *eu_ref_vector(const char *text, size_t len, uint32_t dim);

/* Everything a sink saw, in delivery order. */
typedef struct eu_result {
    uint64_t index, tag;
    int status, truncated;
    uint32_t dim;
    float *vector; /* copy, NULL on failure */
    char *reason;
} eu_result;

typedef struct eu_collect {
    eu_result *r;
    size_t count, cap;
    /* optional hook, called after each result is stored */
    int (*hook)(struct eu_collect *c, const resona_embed_result *r);
    void *hook_data;
    char reasons[65536]; /* every reason, concatenated (for key greps) */
} eu_collect;

int eu_sink(const resona_embed_result *r, void *payload);
void eu_collect_free(eu_collect *c);

/* Log capture: all libresona log lines at TRACE into one buffer. */
void eu_log_capture_start(void);
const char *eu_log_captured(void);
void eu_log_capture_stop(void);

/* Count lines of the fake's log whose "status" equals status (-1 = any) and n > 0. */
size_t eu_log_requests(const char *log_path, long status);

/* Options for a fake at url with small, test-friendly timeouts and backoffs. */
void eu_options(resona_embedder_options *o, const char *const *urls, size_t n);

#endif
