/*
 * embed/embedder.c - the embedder's lifecycle, the submission ring and
 * ordered delivery (see embedder.h for the data flow, resona/embed.h for the
 * contract).
 */
#include "embed/embedder.h"

#include "util/alloc.h"
#include "util/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t resona__embed_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void resona__embed_fmt(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, cap, fmt, ap);
    va_end(ap);
    if (n < 0 && cap)
        out[0] = '\0';
}

int resona__embed_fatal(resona_embedder *e, int code, const char *fmt, ...)
{
    if (e->fatal)
        return e->fatal;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->fatal_msg, sizeof(e->fatal_msg), fmt, ap);
    va_end(ap);
    resona__embed_scrub(e, e->fatal_msg);
    e->fatal = code;
    RESONA_LOG(RESONA_LOG_ERROR, "embed: %s", e->fatal_msg);
    return code;
}

/* Report the stored fatal error again on this thread (set once per call). */
static int fatal_again(resona_embedder *e)
{
    return resona__error_set(e->fatal, "%s", e->fatal_msg);
}

void resona__embed_scrub(const resona_embedder *e, char *s)
{
    if (!e->api_key || !*e->api_key || !s)
        return;
    size_t klen = strlen(e->api_key);
    char *hit;
    while ((hit = strstr(s, e->api_key)) != NULL) {
        memmove(hit + 3, hit + klen, strlen(hit + klen) + 1);
        memcpy(hit, "***", 3);
    }
}

void resona__embed_batch_free(ebatch *b)
{
    if (!b)
        return;
    resona__free(b->seqs);
    resona__free(b->vecs);
    resona__free(b);
}

static eslot *slot_of(resona_embedder *e, uint64_t seq)
{
    return &e->ring[seq % e->ring_cap];
}

static void slot_finish_text(eslot *s)
{
    resona__free(s->text);
    s->text = NULL;
}

int resona__embed_fail_batch(resona_embedder *e, ebatch *b, int code, const char *reason)
{
    int rc = 0;
    for (size_t i = 0; i < b->count; i++) {
        eslot *s = slot_of(e, b->seqs[i]);
        char msg[512];
        resona__embed_fmt(msg, sizeof(msg), "input %llu: %s", (unsigned long long)b->seqs[i], reason);
        resona__embed_scrub(e, msg);
        s->done = 1;
        s->status = code;
        s->owner = NULL;
        s->reason = resona__strdup(msg);
        if (!s->reason)
            rc = resona__embed_fatal(e, RESONA_ENOMEM, "out of memory recording a failure");
        slot_finish_text(s);
    }
    RESONA_LOG(RESONA_LOG_WARN, "embed: %zu input(s) from %llu failed: %s", b->count,
               (unsigned long long)(b->count ? b->seqs[0] : 0), reason);
    resona__embed_batch_free(b);
    return rc;
}

void resona__embed_requeue(resona_embedder *e, ebatch *b)
{
    ebatch **at = &e->retry;
    while (*at && (*at)->seqs[0] < b->seqs[0])
        at = &(*at)->next;
    b->next = *at;
    *at = b;
}

int resona__embed_deliver(resona_embedder *e)
{
    int delivered = 0;
    while (!e->fatal && e->head < e->tail) {
        eslot *s = slot_of(e, e->head);
        if (!s->done)
            break;
        resona_embed_result r;
        r.index = e->head;
        r.tag = s->tag;
        r.status = s->status;
        r.vector = s->status == 0 && s->owner
                       ? s->owner->vecs + (size_t)s->vec_at * s->owner->dim
                       : NULL;
        r.dim = s->owner ? s->owner->dim : e->dim;
        r.truncated = s->truncated;
        r.reason = s->status == 0 ? NULL : (s->reason ? s->reason : "failed");
        int rc = e->sink ? e->sink(&r, e->payload) : 0;
        if (s->status == 0) {
            e->st.inputs_embedded++;
            e->st.inputs_truncated += s->truncated;
        } else {
            e->st.inputs_failed++;
        }
        ebatch *owner = s->owner;
        resona__free(s->reason);
        slot_finish_text(s);
        e->pending_bytes -= s->len;
        memset(s, 0, sizeof(*s));
        if (owner && --owner->undelivered == 0)
            resona__embed_batch_free(owner);
        e->head++;
        delivered++;
        if (rc < 0) {
            const char *m = resona_error_message();
            return resona__embed_fatal(e, rc, "result sink stopped the run (%d)%s%s", rc,
                                       *m ? ": " : "", m);
        }
    }
    return e->fatal ? e->fatal : delivered;
}

/* ---- lifecycle ----------------------------------------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static char *url_redacted(const char *url)
{
    const char *scheme = strstr(url, "://");
    const char *host = scheme ? scheme + 3 : url;
    const char *slash = strchr(host, '/');
    const char *at = strchr(host, '@');
    if (!at || (slash && at > slash))
        return resona__strdup(url);
    size_t pre = (size_t)(host - url);
    size_t n = pre + strlen(at + 1) + 1;
    char *out = resona__malloc(n);
    if (!out)
        return NULL;
    memcpy(out, url, pre);
    memcpy(out + pre, at + 1, strlen(at + 1) + 1);
    return out;
}

#define DEFAULT(field, value)                                                                      \
    do {                                                                                           \
        if (!(field))                                                                              \
            (field) = (value);                                                                     \
    } while (0)

int resona_embedder_new(const resona_embedder_options *opts, resona_embedder **out)
{
    int rc = 0;
    resona_embedder *e = NULL;
    if (!out)
        return resona__error_set(RESONA_EINVALID, "embedder: out is NULL");
    *out = NULL;
    if (!opts)
        return resona__error_set(RESONA_EINVALID, "embedder: options are NULL");
    if (opts->provider != RESONA_EMBED_OLLAMA && opts->provider != RESONA_EMBED_OPENAI)
        return resona__error_set(RESONA_EINVALID, "embedder: unknown provider %d",
                                 (int)opts->provider);
    if (!opts->model || !*opts->model)
        return resona__error_set(RESONA_EINVALID, "embedder: no model given");
    if (!opts->endpoints || opts->endpoint_count == 0)
        return resona__error_set(RESONA_EINVALID, "embedder: no endpoint given");
    if ((unsigned)opts->truncate > RESONA_EMBED_TRUNCATE_NEVER)
        return resona__error_set(RESONA_EINVALID, "embedder: bad truncate mode %d",
                                 (int)opts->truncate);
    for (size_t i = 0; i < opts->endpoint_count; i++) {
        const char *u = opts->endpoints[i];
        if (!u || (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0))
            return resona__error_set(RESONA_EINVALID,
                                     "embedder: endpoint %zu is not an http(s) URL: %s", i,
                                     u ? u : "(null)");
    }
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return resona__error_set(RESONA_ERROR, "embedder: curl_global_init failed: %s",
                                 curl_easy_strerror(curl_init_rc));

    e = resona__calloc(1, sizeof(*e));
    if (!e)
        return RESONA_ENOMEM;
    e->provider = opts->provider;
    e->want_dim = opts->dimensions;
    e->dim = opts->dimensions;
    e->truncate = opts->truncate;
    e->max_texts = opts->max_texts;
    e->max_bytes = opts->max_bytes;
    e->window = opts->inflight_per_server;
    e->max_pending = opts->max_pending;
    e->max_pending_bytes = opts->max_pending_bytes;
    e->connect_timeout_ms = opts->connect_timeout_ms;
    e->request_timeout_ms = opts->request_timeout_ms;
    e->per_input_timeout_ms = opts->per_input_timeout_ms;
    e->preflight_timeout_ms = opts->preflight_timeout_ms;
    e->max_retries = opts->max_retries;
    e->retry_total_ms = opts->retry_total_ms;
    e->backoff_base_ms = opts->backoff_base_ms;
    e->backoff_max_ms = opts->backoff_max_ms;
    DEFAULT(e->max_texts, 32);
    DEFAULT(e->max_bytes, 256 * 1024);
    DEFAULT(e->window, 2);
    DEFAULT(e->max_pending, 4096);
    DEFAULT(e->max_pending_bytes, (size_t)64 << 20);
    DEFAULT(e->connect_timeout_ms, 5000);
    DEFAULT(e->request_timeout_ms, 60000);
    DEFAULT(e->per_input_timeout_ms, 10000);
    DEFAULT(e->preflight_timeout_ms, 5000);
    DEFAULT(e->max_retries, 5);
    if (e->max_retries < 0)
        e->max_retries = 0;
    DEFAULT(e->retry_total_ms, 120000);
    DEFAULT(e->backoff_base_ms, 200);
    DEFAULT(e->backoff_max_ms, 10000);
    if (e->max_pending < e->max_texts)
        e->max_pending = e->max_texts;
    e->rng = opts->seed ? opts->seed : (uint64_t)resona__embed_now_ms() ^ (uint64_t)(uintptr_t)e;

    e->model = resona__strdup(opts->model);
    if (!e->model)
        goto nomem;
    if (opts->keep_alive && !(e->keep_alive = resona__strdup(opts->keep_alive)))
        goto nomem;
    if (opts->api_key_env && *opts->api_key_env) {
        if (!(e->api_key_env = resona__strdup(opts->api_key_env)))
            goto nomem;
        const char *key = getenv(opts->api_key_env);
        if (!key || !*key) {
            rc = resona__error_set(RESONA_EINVALID,
                                   "embedder: environment variable %s (API key) is not set",
                                   opts->api_key_env);
            goto done;
        }
        if (strpbrk(key, "\r\n")) {
            rc = resona__error_set(RESONA_EINVALID,
                                   "embedder: environment variable %s holds a line break",
                                   opts->api_key_env);
            goto done;
        }
        if (!(e->api_key = resona__strdup(key)))
            goto nomem;
    }

    e->servers = resona__calloc(opts->endpoint_count, sizeof(eserver));
    if (!e->servers)
        goto nomem;
    e->nservers = opts->endpoint_count;
    for (size_t i = 0; i < e->nservers; i++) {
        eserver *s = &e->servers[i];
        const char *u = opts->endpoints[i];
        size_t n = strlen(u);
        while (n > 0 && u[n - 1] == '/')
            n--;
        if (!(s->url = resona__strndup(u, n)) || !(s->shown = url_redacted(s->url)))
            goto nomem;
        s->st.url = s->shown;
        s->state = SRV_UP;
    }

    e->ring = resona__calloc(e->max_pending, sizeof(eslot));
    if (!e->ring)
        goto nomem;
    e->ring_cap = e->max_pending;

    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    if (h)
        e->headers = h;
    if (!h || !(h = curl_slist_append(e->headers, "Expect:")))
        goto nomem;
    if (e->api_key) {
        resona_buf auth = RESONA_BUF_INIT(0);
        if (resona__buf_printf(&auth, "Authorization: Bearer %s", e->api_key) < 0)
            goto nomem;
        h = curl_slist_append(e->headers, auth.ptr);
        memset(auth.ptr, 0, auth.len);
        resona__buf_free(&auth);
        if (!h)
            goto nomem;
    }
    e->multi = curl_multi_init();
    if (!e->multi)
        goto nomem;
    curl_multi_setopt(e->multi, CURLMOPT_MAXCONNECTS,
                      (long)(e->nservers * (e->window + 1) + 4));
    *out = e;
    e = NULL;
    goto done;
nomem:
    rc = resona__error_set(RESONA_ENOMEM, "embedder: out of memory");
done:
    resona_embedder_free(e);
    return rc;
}

void resona_embedder_free(resona_embedder *e)
{
    if (!e)
        return;
    resona__embed_abandon(e);
    while (e->retry) {
        ebatch *b = e->retry;
        e->retry = b->next;
        resona__embed_batch_free(b);
    }
    /* Undelivered slots: batches referenced by done slots are freed once. */
    for (uint64_t seq = e->head; e->ring && seq < e->tail; seq++) {
        eslot *s = slot_of(e, seq);
        resona__free(s->text);
        resona__free(s->reason);
        if (s->owner && --s->owner->undelivered == 0)
            resona__embed_batch_free(s->owner);
    }
    resona__free(e->ring);
    if (e->multi)
        curl_multi_cleanup(e->multi);
    /* The Authorization header holds the key: wipe before freeing. */
    for (struct curl_slist *h = e->headers; h; h = h->next)
        memset(h->data, 0, strlen(h->data));
    curl_slist_free_all(e->headers);
    for (size_t i = 0; e->servers && i < e->nservers; i++) {
        resona__free(e->servers[i].url);
        resona__free(e->servers[i].shown);
    }
    resona__free(e->servers);
    if (e->api_key)
        memset(e->api_key, 0, strlen(e->api_key));
    resona__free(e->api_key);
    resona__free(e->api_key_env);
    resona__free(e->keep_alive);
    resona__free(e->model);
    resona__free(e);
}

/* ---- streaming ----------------------------------------------------------- */

void resona_embedder_set_sink(resona_embedder *e, resona_embed_sink_fn fn, void *payload)
{
    e->sink = fn;
    e->payload = payload;
}

size_t resona_embedder_pending(const resona_embedder *e)
{
    return (size_t)(e->tail - e->head);
}

uint32_t resona_embedder_dim(const resona_embedder *e)
{
    return e->dim;
}

void resona_embedder_stop(resona_embedder *e)
{
    e->stop = 1;
}

/* After stop, once nothing is in flight: every undelivered input is interrupted. */
static int interrupt_rest(resona_embedder *e)
{
    while (e->retry) {
        ebatch *b = e->retry;
        e->retry = b->next;
        resona__embed_batch_free(b);
    }
    for (uint64_t seq = e->head; seq < e->tail; seq++) {
        eslot *s = slot_of(e, seq);
        if (s->done)
            continue;
        s->done = 1;
        s->status = RESONA_EINTERRUPTED;
        s->reason = resona__strdup("stopped before sending");
        slot_finish_text(s);
    }
    e->fresh = e->tail;
    int rc = resona__embed_deliver(e);
    return rc < 0 ? fatal_again(e)
                  : resona__error_set(RESONA_EINTERRUPTED, "embedding stopped on request");
}

int resona_embedder_submit(resona_embedder *e, const char *text, size_t len, uint64_t tag)
{
    if (e->fatal)
        return fatal_again(e);
    if (e->stop)
        return resona__error_set(RESONA_EINTERRUPTED, "embedding stopped on request");
    if (!text && len)
        return resona__error_set(RESONA_EINVALID, "embedder: text is NULL");
    /* Room in the ring: drive the network until the head moves. */
    while (e->tail - e->head >= e->ring_cap ||
           (e->tail > e->head && e->pending_bytes + len > e->max_pending_bytes)) {
        int rc = resona__embed_step(e, 1000, 1);
        if (rc < 0)
            return fatal_again(e);
        if (e->stop)
            return resona__error_set(RESONA_EINTERRUPTED, "embedding stopped on request");
    }
    eslot *s = slot_of(e, e->tail);
    memset(s, 0, sizeof(*s));
    s->text = resona__malloc(len + 1);
    if (!s->text)
        return RESONA_ENOMEM;
    if (len)
        memcpy(s->text, text, len);
    s->text[len] = '\0';
    s->len = len;
    s->tag = tag;
    e->tail++;
    e->pending_bytes += len;
    e->st.inputs_submitted++;
    /* Send full batches right away; partial ones wait for poll/drain. */
    int rc = resona__embed_step(e, 0, 0);
    return rc < 0 ? fatal_again(e) : 0;
}

int resona_embedder_poll(resona_embedder *e, long timeout_ms)
{
    if (e->fatal)
        return fatal_again(e);
    int64_t deadline = resona__embed_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    int total = 0;
    for (;;) {
        int64_t left = deadline - resona__embed_now_ms();
        int rc = resona__embed_step(e, left > 0 ? (long)left : 0, 1);
        if (rc < 0)
            return fatal_again(e);
        total += rc;
        if (total > 0 || left <= 0 || e->head == e->tail)
            return total;
        if (e->stop && !e->embeds_inflight)
            return interrupt_rest(e);
    }
}

int resona_embedder_drain(resona_embedder *e)
{
    if (e->fatal)
        return fatal_again(e);
    while (e->head < e->tail) {
        if (e->stop && !e->embeds_inflight)
            return interrupt_rest(e);
        int rc = resona__embed_step(e, 1000, 1);
        if (rc < 0)
            return fatal_again(e);
    }
    if (e->stop)
        return resona__error_set(RESONA_EINTERRUPTED, "embedding stopped on request");
    return 0;
}

void resona_embedder_stats(const resona_embedder *e, resona_embed_stats *out)
{
    *out = e->st;
}

size_t resona_embedder_server_count(const resona_embedder *e)
{
    return e->nservers;
}

int resona_embedder_server_stats(const resona_embedder *e, size_t i, resona_embed_server_stats *out)
{
    if (i >= e->nservers)
        return resona__error_set(RESONA_EINVALID, "embedder: no server %zu (%zu servers)", i,
                                 e->nservers);
    *out = e->servers[i].st;
    out->up = e->servers[i].state == SRV_UP;
    out->legacy = e->servers[i].legacy;
    return 0;
}
