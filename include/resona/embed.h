/*
 * resona/embed.h - the embedding client: Ollama (/api/embed, legacy
 * /api/embeddings) and OpenAI-compatible servers (/v1/embeddings).
 *
 * An embedder turns texts into float32 vectors by talking HTTP to one or more
 * servers. It is built for bulk work against servers that compute one request
 * at a time (Ollama runs embedding models with parallelism 1):
 *
 *  - Batching. Inputs are packed into requests of at most max_texts texts and
 *    max_bytes bytes of text, so the server never pays per-request overhead
 *    for every text.
 *  - Pipelining. Each server has up to inflight_per_server requests in flight
 *    (default 2: the server always has the next request queued while we parse
 *    the previous reply). libcurl's multi interface drives every request from
 *    the calling thread; there are no threads inside.
 *  - Several servers. Work goes to whichever server has a free slot. A server
 *    that fails (connection error, timeout, 5xx, 503) leaves the rotation and
 *    is re-probed (GET /api/tags, or /v1/models for OpenAI) after a backoff;
 *    its failed requests are redone on the others.
 *  - Ordered streaming. Results reach the caller's sink IN SUBMISSION ORDER,
 *    whatever order the replies arrive in. Each vector is handed out as a
 *    pointer into the embedder's own buffer, filled straight from the reply
 *    text by a streaming JSON parser (no allocation per number; values are
 *    correctly rounded to float32, as strtof would). /api/embed vectors are
 *    passed on as sent (Ollama normalizes them); vectors from /api/embeddings
 *    and /v1/embeddings are L2-normalized by the client.
 *  - Faults. Timeouts; retries with exponential backoff and jitter for
 *    connection errors, 5xx and 503 (bounded in count and total time); a
 *    context-length 400 bisects the batch to find the over-long input(s),
 *    which are then retried truncated (reported truncated) or recorded as
 *    failed - a deterministic 400 is never retried unchanged and one input
 *    never fails the run; a 404 "model not found" stops the run with
 *    "run `ollama pull M`"; malformed replies, wrong vector counts, wrong
 *    dimensions and non-finite values are retried once, then the inputs of
 *    that request are recorded as failed.
 *
 * API keys. For the OpenAI provider the key is read from the environment
 * variable NAMED by api_key_env, sent only as "Authorization: Bearer", and
 * never copied into an error message or a log line.
 *
 * Thread safety. An embedder is used by one thread at a time; every call
 * that does network work (submit, poll, drain, embed, preflight, probe) runs
 * libcurl inside the call and may invoke the result sink before returning.
 * The one exception is resona_embedder_stop(), which only sets a flag and is
 * async-signal-safe: call it from a SIGINT handler or another thread.
 * Different embedders are independent. libcurl must be initialised
 * (curl_global_init) before threads start; resona_embedder_new does it once
 * if nobody did, which is only safe in a single-threaded program.
 *
 * Typical streaming use (the pipeline):
 *
 *   resona_embedder_options o = RESONA_EMBEDDER_OPTIONS_INIT;
 *   const char *urls[] = {"http://127.0.0.1:11434"};
 *   o.endpoints = urls; o.endpoint_count = 1; o.model = "bge-m3";
 *   resona_embedder *e;
 *   if (resona_embedder_new(&o, &e) < 0) ...resona_error_message()...
 *   if (resona_embedder_preflight(e) < 0) ...   // "model bge-m3 is not pulled: ..."
 *   resona_embedder_set_sink(e, on_result, ctx);
 *   for each item: if ((rc = resona_embedder_submit(e, text, len, item_id)) < 0) break;
 *   rc = resona_embedder_drain(e);              // everything delivered, in order
 *   resona_embedder_free(e);
 */
#ifndef RESONA_EMBED_H
#define RESONA_EMBED_H

#include <resona/common.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An embedding client. Opaque; create with resona_embedder_new. */
typedef struct resona_embedder resona_embedder;

/** Which HTTP API the endpoints speak. */
typedef enum resona_embed_provider {
    RESONA_EMBED_OLLAMA = 0, /**< POST /api/embed (fallback /api/embeddings), GET /api/tags */
    RESONA_EMBED_OPENAI = 1  /**< POST /v1/embeddings, GET /v1/models; Bearer key from env */
} resona_embed_provider;

/** What to do with inputs longer than the model's context. */
typedef enum resona_embed_truncate {
    /**
     * Default. Send "truncate": false so that an over-long input is detected
     * (HTTP 400 "... exceeds the context length"), bisect the batch down to
     * the offending input(s), retry each one truncated (Ollama: with
     * "truncate": true; if that still fails, or for OpenAI servers, cut the
     * text itself, halving it until it fits) and report it with truncated=1.
     */
    RESONA_EMBED_TRUNCATE_RETRY = 0,
    /** Send "truncate": true: the server cuts silently; nothing is reported. */
    RESONA_EMBED_TRUNCATE_SERVER = 1,
    /** Send "truncate": false; an over-long input is recorded as failed. */
    RESONA_EMBED_TRUNCATE_NEVER = 2
} resona_embed_truncate;

/**
 * Options for resona_embedder_new. Start from RESONA_EMBEDDER_OPTIONS_INIT
 * and set what you need. Strings are copied by resona_embedder_new; the
 * caller keeps ownership of its arrays. 0 in a numeric field means "the
 * default shown in the comment".
 */
typedef struct resona_embedder_options {
    resona_embed_provider provider; /**< default RESONA_EMBED_OLLAMA */
    /** Base URLs, e.g. "http://127.0.0.1:11434" (a trailing '/' is ignored). At least one. */
    const char *const *endpoints;
    size_t endpoint_count;
    const char *model;       /**< required, e.g. "bge-m3" or "nomic-embed-text:v1.5" */
    uint32_t dimensions;     /**< 0 = the model's own; else sent as "dimensions" and checked */
    resona_embed_truncate truncate; /**< default RESONA_EMBED_TRUNCATE_RETRY */
    const char *keep_alive;  /**< NULL = not sent; e.g. "30m" or "-1" (Ollama only) */
    /**
     * NAME of the environment variable holding the API key (OpenAI provider),
     * e.g. "OPENAI_API_KEY". NULL = no Authorization header. The variable is
     * read once by resona_embedder_new; its value is never logged.
     */
    const char *api_key_env;

    size_t max_texts;            /**< texts per request, default 32 */
    size_t max_bytes;            /**< bytes of text per request, default 256 KiB (one
                                      longer text still goes alone) */
    unsigned inflight_per_server; /**< requests in flight per server, default 2 */
    size_t max_pending;          /**< submitted but undelivered inputs, default 4096 */
    size_t max_pending_bytes;    /**< their text bytes, default 64 MiB */

    long connect_timeout_ms;     /**< TCP connect, default 5000 */
    /**
     * Time allowed for one request from send to last byte, default 60000, plus
     * per_input_timeout_ms (default 10000) for each text in it. It includes
     * waiting behind our own other in-flight request on a one-at-a-time server.
     */
    long request_timeout_ms;
    long per_input_timeout_ms;
    long preflight_timeout_ms;   /**< GET /api/tags and re-probes, default 5000 */

    int max_retries;             /**< retries of one request after transient errors,
                                      default 5 (0); negative = no retries */
    long retry_total_ms;         /**< give up on a request this long after its first
                                      failure, default 120000 */
    long backoff_base_ms;        /**< first backoff, default 200; doubles per failure */
    long backoff_max_ms;         /**< backoff cap, default 10000; jitter: uniform in [d/2, d] */
    uint64_t seed;               /**< jitter PRNG seed, 0 = from the clock */
} resona_embedder_options;

#define RESONA_EMBEDDER_OPTIONS_INIT                                                               \
    {RESONA_EMBED_OLLAMA, NULL, 0, NULL, 0, RESONA_EMBED_TRUNCATE_RETRY, NULL, NULL,              \
     0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}

/**
 * One delivered input. Everything it points to is borrowed and valid only
 * until the sink returns: copy the vector (dim floats) if you keep it.
 */
typedef struct resona_embed_result {
    uint64_t index;       /**< submission order, 0-based over the embedder's life */
    uint64_t tag;         /**< the caller's tag given to resona_embedder_submit */
    int status;           /**< 0 = embedded; else a negative RESONA_E* code */
    const float *vector;  /**< dim floats when status == 0, else NULL */
    uint32_t dim;         /**< vector width (the embedder's dimension) */
    int truncated;        /**< 1 if the text was embedded truncated (TRUNCATE_RETRY) */
    /**
     * NULL when status == 0; else why this input failed, e.g.
     * "input 17: HTTP 400 from http://h:11434: the input length exceeds the
     * context length" or "stopped before sending". Never contains an API key.
     */
    const char *reason;
} resona_embed_result;

/**
 * The result sink. Called once per submitted input, in submission order,
 * from inside submit/poll/drain/embed. Return 0 to continue; a negative
 * value stops delivery and is returned by the driving call (the embedder is
 * then unusable except for resona_embedder_free and resona_embedder_stats).
 * It must not call back into the same embedder, except for
 * resona_embedder_stop, resona_embedder_stats and resona_embedder_pending.
 */
typedef int (*resona_embed_sink_fn)(const resona_embed_result *result, void *payload);

/** Counters over the embedder's life (resona_embedder_stats). */
typedef struct resona_embed_stats {
    uint64_t inputs_submitted;
    uint64_t inputs_embedded;   /**< delivered with status 0 (including truncated) */
    uint64_t inputs_truncated;
    uint64_t inputs_failed;     /**< delivered with status < 0 */
    uint64_t requests;          /**< embedding requests sent (retries included) */
    uint64_t requests_ok;
    uint64_t retries;           /**< requests re-sent after a transient failure */
    uint64_t transport_errors;  /**< connect failures, resets, timeouts */
    uint64_t timeouts;
    uint64_t http_errors;       /**< non-2xx replies */
    uint64_t bad_replies;       /**< malformed JSON, wrong count/dim, non-finite values */
    uint64_t bisections;        /**< batches split after a 400 */
    uint64_t probes;            /**< re-probes of servers out of rotation */
    uint64_t bytes_sent;        /**< request bodies */
    uint64_t bytes_received;    /**< reply bodies */
} resona_embed_stats;

/** Per-server counters (resona_embedder_server_stats). */
typedef struct resona_embed_server_stats {
    const char *url;            /**< borrowed, valid while the embedder lives */
    int up;                     /**< 1 in rotation, 0 out (waiting for a re-probe) */
    int legacy;                 /**< 1 if it lacks /api/embed and gets /api/embeddings */
    uint64_t requests;
    uint64_t requests_ok;
    uint64_t failures;          /**< transport errors and 5xx/503 */
    uint64_t inputs_embedded;
    uint64_t bytes_sent;
    uint64_t bytes_received;
} resona_embed_server_stats;

/**
 * Create an embedder. Validates the options (RESONA_EINVALID naming the bad
 * field; an api_key_env that is set but names an unset or empty variable is
 * RESONA_EINVALID naming the variable, never its value). Does no network I/O.
 * *out belongs to the caller: resona_embedder_free.
 */
RESONA_EXTERN int resona_embedder_new(const resona_embedder_options *opts, resona_embedder **out);

/** Free an embedder, abandoning anything in flight (nothing is delivered). NULL is a no-op. */
RESONA_EXTERN void resona_embedder_free(resona_embedder *e);

/**
 * Check every server before a long run. Ollama: GET /api/tags on each
 * endpoint. Errors: RESONA_EHTTP "cannot reach Ollama at URL: <reason>" when
 * no endpoint answers (endpoints that fail while others answer are taken out
 * of rotation and logged); RESONA_ENOTFOUND "model M is not pulled: run
 * `ollama pull M`" when a reachable server lacks the model. A name without a
 * tag means ":latest" (as Ollama resolves it), compared case-insensitively:
 * "bge-m3" matches "bge-m3:latest" but not "bge-m3:567m". OpenAI: GET
 * /v1/models; only reachability and authentication (401/403 -> RESONA_EHTTP
 * naming the variable, not the key) are checked.
 */
RESONA_EXTERN int resona_embedder_preflight(resona_embedder *e);

/**
 * Embed one short probe text to learn the dimension now rather than from the
 * first batch. *out_dim (may be NULL) gets it. Errors as for a request:
 * RESONA_ENOTFOUND for a missing model, RESONA_EHTTP / RESONA_ETIMEOUT when
 * no server answers within the retry limits, RESONA_ECORRUPT for a bad reply.
 * Must not be called while inputs are pending (RESONA_EINVALID).
 */
RESONA_EXTERN int resona_embedder_probe(resona_embedder *e, uint32_t *out_dim);

/**
 * The vector width: options.dimensions if set, else learned from the first
 * reply (or probe); 0 while unknown. Every later reply must match it (a
 * mismatch is a bad reply). Caveat: a server whose very first reply has the
 * wrong width would set the wrong dimension, so a long run should pass
 * options.dimensions or compare resona_embedder_probe's result with the
 * dimension of the table it writes to.
 */
RESONA_EXTERN uint32_t resona_embedder_dim(const resona_embedder *e);

/**
 * Known models' native dimensions, for display only ("bge-m3" -> 1024; a
 * ":latest" tag is ignored). 0 for an unknown model; any model works anyway.
 */
RESONA_EXTERN uint32_t resona_embed_known_dim(const char *model);

/** Install the result sink (replaces the previous one). fn NULL drops results. */
RESONA_EXTERN void resona_embedder_set_sink(resona_embedder *e, resona_embed_sink_fn fn,
                                            void *payload);

/**
 * Submit one text (len bytes, UTF-8, copied) with a caller tag. Returns 0
 * once the text is queued; it is sent as soon as a server slot is free. When
 * max_pending / max_pending_bytes are reached, submit drives the network (and
 * the sink) until there is room, so a loop of submits is self-pacing.
 * Errors (fatal for the run; nothing more will be sent): RESONA_ENOTFOUND
 * (model not found on a server), RESONA_EHTTP / RESONA_ETIMEOUT (every server
 * out of rotation past the retry limits), RESONA_EINTERRUPTED (after
 * resona_embedder_stop), RESONA_ENOMEM, or the sink's own negative value.
 * Per-input problems are never errors here: they arrive at the sink.
 */
RESONA_EXTERN int resona_embedder_submit(resona_embedder *e, const char *text, size_t len,
                                         uint64_t tag);

/**
 * Drive the network for up to timeout_ms (0 = just what is ready, no
 * waiting) and deliver whatever results are ready in order. Returns the
 * number of results delivered (>= 0) or a fatal error as for submit.
 */
RESONA_EXTERN int resona_embedder_poll(resona_embedder *e, long timeout_ms);

/**
 * Block until every submitted input has been delivered (embedded or failed).
 * After resona_embedder_stop: waits for the requests in flight, then delivers
 * every input that was never sent (or whose request failed) with status
 * RESONA_EINTERRUPTED and returns RESONA_EINTERRUPTED. Fatal errors as for
 * submit; then undelivered inputs stay undelivered.
 */
RESONA_EXTERN int resona_embedder_drain(resona_embedder *e);

/** Inputs submitted and not yet delivered. */
RESONA_EXTERN size_t resona_embedder_pending(const resona_embedder *e);

/**
 * Ask the embedder to stop: no new requests are sent (retries included);
 * requests in flight are finished and their results delivered by the next
 * poll/drain. Async-signal-safe; callable from any thread.
 */
RESONA_EXTERN void resona_embedder_stop(resona_embedder *e);

/**
 * Synchronous convenience: embed count texts (NUL-terminated) and return
 * count * dim floats in *out_vectors (caller frees with
 * resona_embedder_vectors_free) and the width in *out_dim. All or nothing:
 * if any input fails, returns its error (message naming the input index and
 * reason) and *out_vectors is NULL. Requires no pending streamed inputs
 * (RESONA_EINVALID); uses its own sink and restores the caller's.
 */
RESONA_EXTERN int resona_embedder_embed(resona_embedder *e, const char *const *texts,
                                        size_t count, float **out_vectors, uint32_t *out_dim);

/** Free vectors returned by resona_embedder_embed. NULL is a no-op. */
RESONA_EXTERN void resona_embedder_vectors_free(float *vectors);

/** Copy the counters into *out. */
RESONA_EXTERN void resona_embedder_stats(const resona_embedder *e, resona_embed_stats *out);

/** Number of servers (= endpoint_count). */
RESONA_EXTERN size_t resona_embedder_server_count(const resona_embedder *e);

/** Counters of server i (0-based, in endpoint order); RESONA_EINVALID if out of range. */
RESONA_EXTERN int resona_embedder_server_stats(const resona_embedder *e, size_t i,
                                               resona_embed_server_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* RESONA_EMBED_H */
