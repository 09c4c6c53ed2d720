/*
 * embed/embedder.h - the embedder's internal state, shared by its files:
 *
 *   embedder.c  lifecycle, the submission ring, ordered delivery, public calls
 *   send.c      request bodies, libcurl multi driving, fault handling
 *   preflight.c GET /api/tags (or /v1/models), known models, sync embed, probe
 *   json.c      JSON string escaping for request bodies
 *
 * Data flow. resona_embedder_submit copies a text into the ring slot of its
 * sequence number (ring[seq % cap]). Fresh texts [fresh, tail) are packed
 * into batches lazily, when a server slot is free, so requests go out in
 * submission order. A batch that must be redone (transient failure, bisected
 * halves, truncation retry) waits in the retry list, which is served first
 * (lowest sequence first) so that ordered delivery is not held up. A reply's
 * vectors stay in the batch's float buffer; the slots point into it, and the
 * buffer is freed when its last slot has been delivered. Delivery walks the
 * ring from head while slots are done.
 *
 * Servers are UP (in rotation), SUSPECT (a request failed; re-probed after a
 * jittered exponential backoff) or DOWN (a probe failed too). Only UP servers
 * get work; the least loaded free slot wins.
 */
#ifndef RESONA_EMBED_EMBEDDER_H
#define RESONA_EMBED_EMBEDDER_H

#include <resona/embed.h>

#include "embed/reply.h"
#include "util/buf.h"

#include <curl/curl.h>
#include <signal.h>

typedef struct ebatch ebatch;

typedef struct eslot {
    char *text;         /* owned copy; freed once the slot is done */
    size_t len;
    uint64_t tag;
    ebatch *owner;      /* batch holding the vector (done, status 0) */
    uint32_t vec_at;    /* vector index inside owner */
    uint8_t done;
    uint8_t truncated;
    int status;
    char *reason;       /* owned; failure reason */
} eslot;

struct ebatch {
    uint64_t *seqs;     /* inputs, ascending */
    size_t count;
    size_t bytes;       /* text bytes */
    int attempts;       /* transient failures so far */
    int bad;            /* bad replies so far */
    int64_t first_fail_ms;
    int trunc_level;    /* 0 as configured; 1 server truncate; 2 client cut to cut_len */
    size_t cut_len;
    int last_server;    /* server that last failed it, -1 none */
    float *vecs;        /* after success: count * dim floats */
    uint32_t dim;
    size_t undelivered;
    ebatch *next;       /* retry list */
};

enum { SRV_UP = 0, SRV_SUSPECT = 1, SRV_DOWN = 2 };

typedef struct eserver {
    char *url;          /* base URL, no trailing '/' */
    char *shown;        /* url without user:password, for messages */
    int state;
    int legacy;         /* no /api/embed: use /api/embeddings */
    int probing;
    unsigned inflight;
    unsigned fail_streak;
    int64_t retry_at;   /* SUSPECT/DOWN: probe at this time */
    char last_error[256];
    resona_embed_server_stats st;
} eserver;

enum { REQ_EMBED = 0, REQ_LEGACY = 1, REQ_OPENAI = 2, REQ_PROBE = 3 };

typedef struct ereq {
    CURL *easy;
    resona_embedder *e;
    size_t srv;
    ebatch *batch;      /* NULL for a probe */
    int kind;
    resona_buf body;
    resona_buf errbody;
    resona__reply reply;
    int reply_ready;
    long status;
    int64_t start_ms;
    char curl_err[CURL_ERROR_SIZE];
    struct ereq *next;
} ereq;

struct resona_embedder {
    resona_embed_provider provider;
    char *model;
    uint32_t want_dim;        /* options.dimensions */
    resona_embed_truncate truncate;
    char *keep_alive;
    char *api_key_env;
    char *api_key;            /* secret: never formatted into messages */
    size_t max_texts, max_bytes, max_pending, max_pending_bytes;
    unsigned window;
    long connect_timeout_ms, request_timeout_ms, per_input_timeout_ms, preflight_timeout_ms;
    int max_retries;
    long retry_total_ms, backoff_base_ms, backoff_max_ms;
    uint64_t rng;

    eserver *servers;
    size_t nservers;
    struct curl_slist *headers;
    CURLM *multi;
    ereq *inflight;           /* list of requests in flight */
    ereq *idle;               /* free list (easy handles kept for reuse) */
    size_t embeds_inflight;   /* in-flight requests that carry a batch */

    eslot *ring;
    size_t ring_cap;
    uint64_t head, fresh, tail;
    size_t pending_bytes;
    ebatch *retry;

    uint32_t dim;
    int64_t none_up_since;    /* when the last UP server left the rotation (0: some UP) */
    volatile sig_atomic_t stop;
    int fatal;
    char fatal_msg[1024];
    resona_embed_sink_fn sink;
    void *payload;
    resona_embed_stats st;
};

/* embedder.c */
/* snprintf into a fixed buffer, cutting silently (messages only). */
void resona__embed_fmt(char *out, size_t cap, const char *fmt, ...) RESONA_PRINTF(3, 4);
int64_t resona__embed_now_ms(void);
/* Make the run fail with code and message (first fatal wins); returns code. */
int resona__embed_fatal(resona_embedder *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Replace every occurrence of the API key in s with "***". */
void resona__embed_scrub(const resona_embedder *e, char *s);
/* Mark every input of b done with status code and reason, and free b. */
int resona__embed_fail_batch(resona_embedder *e, ebatch *b, int code, const char *reason);
/* Put b on the retry list (kept ordered by first sequence number). */
void resona__embed_requeue(resona_embedder *e, ebatch *b);
void resona__embed_batch_free(ebatch *b);
/* Deliver ready results in order; returns how many, or a fatal code. */
int resona__embed_deliver(resona_embedder *e);

/* send.c */
/* Start requests while servers have free slots; partial = also send a short batch. */
int resona__embed_dispatch(resona_embedder *e, int partial);
/* One round: dispatch, run transfers (waiting up to wait_ms), handle completions. */
int resona__embed_step(resona_embedder *e, long wait_ms, int partial);
/* Abandon everything in flight (free). */
void resona__embed_abandon(resona_embedder *e);
/* Jittered exponential backoff for the n-th consecutive failure (n >= 1). */
long resona__embed_backoff(resona_embedder *e, unsigned n);

/* json.c */
int resona__json_put_string(resona_buf *b, const char *s, size_t len);

#endif
