/*
 * embed/send.c - requests on the wire: batch formation, request bodies,
 * libcurl multi driving, and what each outcome does to the batch and the
 * server (see the fault table below; embedder.h for the data flow).
 *
 *   outcome                              batch                         server
 *   -----------------------------------  ----------------------------  -----------------
 *   2xx, reply valid                     vectors kept, inputs done     UP, streak reset
 *   2xx, malformed/count/dim/non-finite  retried once, then failed     -
 *   connect error, reset, timeout        retried (backoff via server)  SUSPECT, re-probed
 *   408, 429, 5xx, 503                   retried                       SUSPECT, re-probed
 *   400 with more than one input         bisected into two halves      -
 *   400 context length, one input        truncated retry (or failed)   -
 *   400 other, one input                 failed                        -
 *   404 "model ... not found"            run stops: ollama pull        -
 *   404 otherwise (no /api/embed)        resent to /api/embeddings     legacy
 *   401, 403                             run stops: authentication     -
 *
 * Retries are bounded by max_retries and retry_total_ms per batch; a batch
 * past its bounds fails its inputs, unless every server is DOWN, which stops
 * the run ("cannot reach ..."). Backoff lives with the server: a SUSPECT
 * server is re-probed after base * 2^(streak-1) ms (capped, jitter in
 * [d/2, d]); other UP servers take the batch at once.
 */
#include "embed/embedder.h"

#include "util/alloc.h"
#include "util/log.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- small helpers ------------------------------------------------------- */

static uint64_t rnd(resona_embedder *e)
{
    uint64_t z = (e->rng += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

long resona__embed_backoff(resona_embedder *e, unsigned n)
{
    long d = e->backoff_base_ms;
    for (unsigned i = 1; i < n && d < e->backoff_max_ms; i++)
        d *= 2;
    if (d > e->backoff_max_ms)
        d = e->backoff_max_ms;
    long half = d / 2;
    return half + (long)(rnd(e) % (uint64_t)(d - half + 1));
}

static eslot *slot_of(resona_embedder *e, uint64_t seq)
{
    return &e->ring[seq % e->ring_cap];
}

static const char *endpoint_path(int kind)
{
    switch (kind) {
    case REQ_LEGACY: return "/api/embeddings";
    case REQ_OPENAI: return "/v1/embeddings";
    default: return "/api/embed";
    }
}

static size_t utf8_floor(const char *s, size_t n)
{
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

static int all_down(const resona_embedder *e)
{
    for (size_t i = 0; i < e->nservers; i++)
        if (e->servers[i].state != SRV_DOWN)
            return 0;
    return 1;
}

static int any_up(const resona_embedder *e)
{
    for (size_t i = 0; i < e->nservers; i++)
        if (e->servers[i].state == SRV_UP)
            return 1;
    return 0;
}

static int has_free_slot(const resona_embedder *e, size_t i)
{
    const eserver *s = &e->servers[i];
    return s->state == SRV_UP && s->inflight < e->window;
}

/* ---- batches -------------------------------------------------------------- */

static ebatch *batch_new(size_t count)
{
    ebatch *b = resona__calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->seqs = resona__reallocarray(NULL, count ? count : 1, sizeof(uint64_t));
    if (!b->seqs) {
        resona__free(b);
        return NULL;
    }
    b->count = count;
    b->last_server = -1;
    return b;
}

/* Split b into singles (legacy servers take one text per request); b keeps the first. */
static int split_singles(resona_embedder *e, ebatch *b)
{
    for (size_t i = b->count; i-- > 1;) {
        ebatch *one = batch_new(1);
        if (!one)
            return RESONA_ENOMEM;
        one->seqs[0] = b->seqs[i];
        one->bytes = slot_of(e, b->seqs[i])->len;
        one->attempts = b->attempts;
        one->bad = b->bad;
        one->first_fail_ms = b->first_fail_ms;
        one->trunc_level = b->trunc_level;
        resona__embed_requeue(e, one);
    }
    b->count = 1;
    b->bytes = slot_of(e, b->seqs[0])->len;
    return 0;
}

/* The next batch for server si: retries first (lowest sequence), then fresh texts. */
static ebatch *next_batch(resona_embedder *e, size_t si, int partial, int *err)
{
    eserver *s = &e->servers[si];
    *err = 0;
    ebatch **at = &e->retry;
    for (; *at; at = &(*at)->next) {
        ebatch *b = *at;
        if (b->last_server != (int)si)
            break;
        /* It failed here last time: leave it for another server that is free now. */
        int other = 0;
        for (size_t j = 0; j < e->nservers; j++)
            other |= j != si && has_free_slot(e, j);
        if (!other)
            break;
    }
    if (*at) {
        ebatch *b = *at;
        *at = b->next;
        b->next = NULL;
        if (s->legacy && b->count > 1 && (*err = split_singles(e, b)) < 0) {
            resona__embed_requeue(e, b);
            return NULL;
        }
        return b;
    }
    size_t limit = s->legacy ? 1 : e->max_texts;
    size_t count = 0, bytes = 0;
    int full = 0;
    while (e->fresh + count < e->tail) {
        if (count == limit) {
            full = 1;
            break;
        }
        size_t len = slot_of(e, e->fresh + count)->len;
        if (count > 0 && bytes + len > e->max_bytes) {
            full = 1;
            break;
        }
        count++;
        bytes += len;
    }
    if (count == limit || bytes >= e->max_bytes)
        full = 1;
    if (count == 0 || (!full && !partial))
        return NULL;
    ebatch *b = batch_new(count);
    if (!b) {
        *err = RESONA_ENOMEM;
        return NULL;
    }
    for (size_t i = 0; i < count; i++)
        b->seqs[i] = e->fresh + i;
    b->bytes = bytes;
    e->fresh += count;
    return b;
}

/* ---- request bodies -------------------------------------------------------- */

static int put_keep_alive(resona_embedder *e, resona_buf *body)
{
    if (!e->keep_alive)
        return 0;
    int rc = resona__buf_puts(body, ",\"keep_alive\":");
    if (rc < 0)
        return rc;
    /* A plain integer is seconds (a JSON number); anything else is a Go duration string. */
    const char *k = e->keep_alive;
    size_t i = k[0] == '-' ? 1 : 0;
    int numeric = k[i] != '\0';
    for (; k[i]; i++)
        numeric &= k[i] >= '0' && k[i] <= '9';
    return numeric ? resona__buf_puts(body, k) : resona__json_put_string(body, k, strlen(k));
}

static int put_text(resona_embedder *e, resona_buf *body, const ebatch *b, size_t i)
{
    const eslot *s = slot_of(e, b->seqs[i]);
    size_t len = b->trunc_level == 2 && b->cut_len < s->len ? b->cut_len : s->len;
    return resona__json_put_string(body, s->text, len);
}

static int build_body(resona_embedder *e, ereq *r, const ebatch *b)
{
    resona_buf *body = &r->body;
    int rc;
    resona__buf_clear(body);
    if ((rc = resona__buf_puts(body, "{\"model\":")) < 0 ||
        (rc = resona__json_put_string(body, e->model, strlen(e->model))) < 0)
        return rc;
    if (r->kind == REQ_LEGACY) {
        if ((rc = resona__buf_puts(body, ",\"prompt\":")) < 0 || (rc = put_text(e, body, b, 0)) < 0 ||
            (rc = put_keep_alive(e, body)) < 0)
            return rc;
        return resona__buf_putc(body, '}');
    }
    if ((rc = resona__buf_puts(body, ",\"input\":[")) < 0)
        return rc;
    for (size_t i = 0; i < b->count; i++) {
        if ((i && (rc = resona__buf_putc(body, ',')) < 0) || (rc = put_text(e, body, b, i)) < 0)
            return rc;
    }
    if ((rc = resona__buf_putc(body, ']')) < 0)
        return rc;
    if (r->kind == REQ_EMBED) {
        int trunc = e->truncate == RESONA_EMBED_TRUNCATE_SERVER ||
                    (e->truncate == RESONA_EMBED_TRUNCATE_RETRY && b->trunc_level > 0);
        if ((rc = resona__buf_puts(body, trunc ? ",\"truncate\":true" : ",\"truncate\":false")) <
                0 ||
            (rc = put_keep_alive(e, body)) < 0)
            return rc;
    } else if ((rc = resona__buf_puts(body, ",\"encoding_format\":\"float\"")) < 0) {
        return rc;
    }
    if (e->want_dim && (rc = resona__buf_printf(body, ",\"dimensions\":%u", e->want_dim)) < 0)
        return rc;
    return resona__buf_putc(body, '}');
}

/* ---- requests -------------------------------------------------------------- */

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    ereq *r = userdata;
    size_t n = size * nmemb;
    if (r->status == 0)
        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
    r->e->st.bytes_received += n;
    r->e->servers[r->srv].st.bytes_received += n;
    if (r->kind != REQ_PROBE && r->status >= 200 && r->status < 300) {
        resona__reply_feed(&r->reply, ptr, n); /* a rejection is kept in r->reply.err */
    } else if (r->errbody.len < 16384) {
        size_t room = 16384 - r->errbody.len;
        if (resona__buf_append(&r->errbody, ptr, n < room ? n : room) < 0)
            return 0;
    }
    return n;
}

static ereq *req_get(resona_embedder *e)
{
    ereq *r = e->idle;
    if (r) {
        e->idle = r->next;
        curl_easy_reset(r->easy);
    } else {
        r = resona__calloc(1, sizeof(*r));
        if (!r)
            return NULL;
        r->easy = curl_easy_init();
        if (!r->easy) {
            resona__free(r);
            resona__error_set(RESONA_ENOMEM, "embedder: curl_easy_init failed");
            return NULL;
        }
        r->body.max = (size_t)1 << 30;
        r->errbody.max = 65536;
    }
    r->e = e;
    r->next = NULL;
    r->batch = NULL;
    r->status = 0;
    r->reply_ready = 0;
    r->curl_err[0] = '\0';
    resona__buf_clear(&r->errbody);
    return r;
}

static void req_put(resona_embedder *e, ereq *r)
{
    if (r->reply_ready)
        resona__reply_free(&r->reply);
    r->reply_ready = 0;
    resona__buf_clear(&r->body);
    resona__buf_clear(&r->errbody);
    r->next = e->idle;
    e->idle = r;
}

static void req_destroy(ereq *r)
{
    if (r->reply_ready)
        resona__reply_free(&r->reply);
    resona__buf_free(&r->body);
    resona__buf_free(&r->errbody);
    if (r->easy)
        curl_easy_cleanup(r->easy);
    resona__free(r);
}

static int launch(resona_embedder *e, ereq *r, const char *path, long timeout_ms)
{
    eserver *s = &e->servers[r->srv];
    char url[2048];
    if (strlen(s->url) + strlen(path) >= sizeof(url))
        return resona__embed_fatal(e, RESONA_EINVALID, "endpoint URL too long: %s", s->shown);
    memcpy(url, s->url, strlen(s->url));
    memcpy(url + strlen(s->url), path, strlen(path) + 1);
    CURL *h = r->easy;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, r->curl_err);
    curl_easy_setopt(h, CURLOPT_PRIVATE, r);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, e->connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, e->headers);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    if (r->kind == REQ_PROBE) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body.ptr);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body.len);
    }
    CURLMcode mc = curl_multi_add_handle(e->multi, h);
    if (mc != CURLM_OK)
        return resona__embed_fatal(e, RESONA_ERROR, "curl_multi_add_handle: %s",
                                   curl_multi_strerror(mc));
    r->start_ms = resona__embed_now_ms();
    r->next = e->inflight;
    e->inflight = r;
    s->inflight++;
    return 0;
}

static int start_request(resona_embedder *e, size_t si, ebatch *b)
{
    eserver *s = &e->servers[si];
    ereq *r = req_get(e);
    if (!r)
        return resona__embed_fatal(e, RESONA_ENOMEM, "out of memory starting a request");
    r->srv = si;
    r->batch = b;
    r->kind = e->provider == RESONA_EMBED_OPENAI ? REQ_OPENAI : s->legacy ? REQ_LEGACY : REQ_EMBED;
    int rc = build_body(e, r, b);
    if (rc == 0) {
        resona__reply_kind k = r->kind == REQ_OPENAI   ? RESONA__REPLY_OPENAI
                               : r->kind == REQ_LEGACY ? RESONA__REPLY_LEGACY
                                                       : RESONA__REPLY_OLLAMA;
        rc = resona__reply_init(&r->reply, k, b->count, e->dim) < 0 ? RESONA_ENOMEM : 0;
        r->reply_ready = rc == 0;
    }
    if (rc < 0) {
        r->batch = NULL;
        req_put(e, r);
        resona__embed_requeue(e, b);
        return resona__embed_fatal(e, rc, "building a request: %s", resona_error_message());
    }
    long timeout = e->request_timeout_ms + e->per_input_timeout_ms * (long)b->count;
    if ((rc = launch(e, r, endpoint_path(r->kind), timeout)) < 0) {
        r->batch = NULL;
        req_put(e, r);
        resona__embed_requeue(e, b);
        return rc;
    }
    e->embeds_inflight++;
    e->st.requests++;
    e->st.bytes_sent += r->body.len;
    s->st.requests++;
    s->st.bytes_sent += r->body.len;
    return 0;
}

static int start_probe(resona_embedder *e, size_t si)
{
    eserver *s = &e->servers[si];
    ereq *r = req_get(e);
    if (!r)
        return resona__embed_fatal(e, RESONA_ENOMEM, "out of memory starting a probe");
    r->srv = si;
    r->kind = REQ_PROBE;
    s->probing = 1;
    e->st.probes++;
    int rc = launch(e, r, e->provider == RESONA_EMBED_OPENAI ? "/v1/models" : "/api/tags",
                    e->preflight_timeout_ms);
    if (rc < 0) {
        s->probing = 0;
        req_put(e, r);
    }
    return rc;
}

int resona__embed_dispatch(resona_embedder *e, int partial)
{
    if (e->stop || e->fatal)
        return e->fatal;
    int64_t now = resona__embed_now_ms();
    for (size_t i = 0; i < e->nservers; i++) {
        eserver *s = &e->servers[i];
        if (s->state != SRV_UP && !s->probing && now >= s->retry_at) {
            int rc = start_probe(e, i);
            if (rc < 0)
                return rc;
        }
    }
    for (;;) {
        /* The least loaded server with a free slot; ties go to the fewest requests. */
        size_t best = e->nservers;
        for (size_t i = 0; i < e->nservers; i++) {
            if (!has_free_slot(e, i))
                continue;
            if (best == e->nservers || e->servers[i].inflight < e->servers[best].inflight ||
                (e->servers[i].inflight == e->servers[best].inflight &&
                 e->servers[i].st.requests < e->servers[best].st.requests))
                best = i;
        }
        if (best == e->nservers)
            return 0;
        int err;
        ebatch *b = next_batch(e, best, partial, &err);
        if (err < 0)
            return resona__embed_fatal(e, err, "out of memory forming a batch");
        if (!b)
            return 0;
        int rc = start_request(e, best, b);
        if (rc < 0)
            return rc;
    }
}

/* ---- outcomes ---------------------------------------------------------------- */

static void server_failed(resona_embedder *e, size_t si, const char *msg)
{
    eserver *s = &e->servers[si];
    s->st.failures++;
    s->fail_streak++;
    long wait = resona__embed_backoff(e, s->fail_streak);
    if (s->state == SRV_UP) {
        s->state = SRV_SUSPECT;
        s->retry_at = resona__embed_now_ms() + wait;
        RESONA_LOG(RESONA_LOG_WARN, "embed: %s out of rotation, re-probe in %ld ms: %s",
                   s->shown, wait, msg);
    }
    resona__embed_fmt(s->last_error, sizeof(s->last_error), "%s", msg);
}

/* A transient failure of b on server si: retry within bounds. */
static int transient(resona_embedder *e, ebatch *b, size_t si, int code, const char *msg)
{
    int64_t now = resona__embed_now_ms();
    if (!b->first_fail_ms)
        b->first_fail_ms = now;
    b->attempts++;
    b->last_server = (int)si;
    if (e->stop) {
        resona__embed_requeue(e, b); /* interrupted by drain */
        return 0;
    }
    if (b->attempts > e->max_retries || now - b->first_fail_ms > e->retry_total_ms) {
        if (all_down(e))
            return resona__embed_fatal(e, code, "cannot reach any server: %s", msg);
        char reason[512];
        resona__embed_fmt(reason, sizeof(reason), "%s (gave up after %d attempts in %lld ms)", msg,
                 b->attempts, (long long)(now - b->first_fail_ms));
        return resona__embed_fail_batch(e, b, code, reason);
    }
    e->st.retries++;
    RESONA_LOG(RESONA_LOG_INFO, "embed: retrying %zu input(s) from %llu (attempt %d): %s",
               b->count, (unsigned long long)b->seqs[0], b->attempts + 1, msg);
    resona__embed_requeue(e, b);
    return 0;
}

static int bad_reply(resona_embedder *e, ebatch *b, size_t si, const char *msg)
{
    e->st.bad_replies++;
    b->bad++;
    b->last_server = (int)si;
    char reason[512];
    resona__embed_fmt(reason, sizeof(reason), "bad reply from %s: %s", e->servers[si].shown, msg);
    if (b->bad <= 1 && !e->stop) {
        e->st.retries++;
        RESONA_LOG(RESONA_LOG_WARN, "embed: %s; retrying once", reason);
        resona__embed_requeue(e, b);
        return 0;
    }
    if (e->stop) {
        resona__embed_requeue(e, b);
        return 0;
    }
    return resona__embed_fail_batch(e, b, RESONA_ECORRUPT, reason);
}

static int bisect(resona_embedder *e, ebatch *b)
{
    size_t half = b->count / 2;
    ebatch *lo = batch_new(half), *hi = batch_new(b->count - half);
    if (!lo || !hi) {
        resona__embed_batch_free(lo);
        resona__embed_batch_free(hi);
        resona__embed_requeue(e, b);
        return resona__embed_fatal(e, RESONA_ENOMEM, "out of memory bisecting a batch");
    }
    for (size_t i = 0; i < b->count; i++) {
        ebatch *to = i < half ? lo : hi;
        size_t at = i < half ? i : i - half;
        to->seqs[at] = b->seqs[i];
        to->bytes += slot_of(e, b->seqs[i])->len;
    }
    lo->trunc_level = hi->trunc_level = b->trunc_level;
    e->st.bisections++;
    RESONA_LOG(RESONA_LOG_INFO, "embed: bisecting %zu inputs from %llu after HTTP 400",
               b->count, (unsigned long long)b->seqs[0]);
    resona__embed_batch_free(b);
    resona__embed_requeue(e, lo);
    resona__embed_requeue(e, hi);
    return 0;
}

static int is_context_error(const char *msg)
{
    return (strstr(msg, "exceeds") && strstr(msg, "context length")) ||
           strstr(msg, "maximum context length") || strstr(msg, "too long");
}

static int too_long(resona_embedder *e, ebatch *b, int kind, const char *full)
{
    if (e->truncate != RESONA_EMBED_TRUNCATE_RETRY || e->stop) {
        if (e->stop) {
            resona__embed_requeue(e, b);
            return 0;
        }
        return resona__embed_fail_batch(e, b, RESONA_EINVALID, full);
    }
    const eslot *s = slot_of(e, b->seqs[0]);
    if (kind == REQ_EMBED && b->trunc_level == 0) {
        b->trunc_level = 1; /* ask Ollama to truncate */
    } else {
        size_t from = b->trunc_level == 2 ? b->cut_len : s->len;
        size_t cut = utf8_floor(s->text, from / 2);
        if (cut == 0) {
            char reason[512];
            resona__embed_fmt(reason, sizeof(reason), "%s (still too long when cut to %zu bytes)", full,
                     from);
            return resona__embed_fail_batch(e, b, RESONA_EINVALID, reason);
        }
        b->trunc_level = 2;
        b->cut_len = cut;
    }
    RESONA_LOG(RESONA_LOG_INFO, "embed: input %llu too long; retrying truncated%s",
               (unsigned long long)b->seqs[0], b->trunc_level == 2 ? " (cut by the client)" : "");
    resona__embed_requeue(e, b);
    return 0;
}

static int http_error(resona_embedder *e, ereq *r, ebatch *b)
{
    eserver *s = &e->servers[r->srv];
    char msg[300], full[512];
    resona__reply_error_message(r->errbody.ptr ? r->errbody.ptr : "", r->errbody.len, msg,
                                sizeof(msg));
    resona__embed_scrub(e, msg);
    resona__embed_fmt(full, sizeof(full), "HTTP %ld from %s%s: %s", r->status, s->shown,
             endpoint_path(r->kind), msg);
    e->st.http_errors++;
    long st = r->status;
    if (st == 404) {
        if (strstr(msg, "not found") && strstr(msg, "model")) {
            resona__embed_requeue(e, b);
            if (e->provider == RESONA_EMBED_OLLAMA)
                return resona__embed_fatal(e, RESONA_ENOTFOUND,
                                           "model %s not found on %s: run `ollama pull %s`",
                                           e->model, s->shown, e->model);
            return resona__embed_fatal(e, RESONA_ENOTFOUND, "model %s not found: %s", e->model,
                                       full);
        }
        if (r->kind == REQ_EMBED) {
            s->legacy = 1;
            RESONA_LOG(RESONA_LOG_WARN, "embed: %s has no /api/embed; using /api/embeddings",
                       s->shown);
            resona__embed_requeue(e, b);
            return 0;
        }
        resona__embed_requeue(e, b);
        return resona__embed_fatal(e, RESONA_EHTTP, "%s", full);
    }
    if (st == 401 || st == 403) {
        resona__embed_requeue(e, b);
        if (e->api_key_env)
            return resona__embed_fatal(e, RESONA_EHTTP,
                                       "%s: authentication failed (check the API key in $%s)",
                                       full, e->api_key_env);
        return resona__embed_fatal(e, RESONA_EHTTP,
                                   "%s: authentication failed (no API key configured)", full);
    }
    if (st == 408 || st == 429 || st >= 500) {
        server_failed(e, r->srv, full);
        return transient(e, b, r->srv, RESONA_EHTTP, full);
    }
    if (b->count > 1)
        return bisect(e, b);
    if (is_context_error(msg))
        return too_long(e, b, r->kind, full);
    return resona__embed_fail_batch(e, b, RESONA_EINVALID, full);
}

static void normalize(float *v, uint32_t dim)
{
    double sum = 0;
    for (uint32_t i = 0; i < dim; i++)
        sum += (double)v[i] * v[i];
    double norm = sqrt(sum);
    if (norm < 1e-12)
        return;
    for (uint32_t i = 0; i < dim; i++)
        v[i] = (float)(v[i] / norm);
}

static int success(resona_embedder *e, ereq *r, ebatch *b)
{
    eserver *s = &e->servers[r->srv];
    if (resona__reply_finish(&r->reply) < 0)
        return bad_reply(e, b, r->srv, r->reply.msg);
    uint32_t dim = r->reply.dim;
    if (e->dim && dim != e->dim) {
        char m[96];
        resona__embed_fmt(m, sizeof(m), "vectors of %u values, expected %u", dim, e->dim);
        return bad_reply(e, b, r->srv, m);
    }
    if (!e->dim) {
        e->dim = dim;
        RESONA_LOG(RESONA_LOG_INFO, "embed: model %s gives %u dimensions (first reply, %s)",
                   e->model, dim, s->shown);
    }
    b->vecs = resona__reply_take(&r->reply);
    b->dim = dim;
    b->undelivered = b->count;
    /* /api/embed output is unit length already; re-normalize the others (ollama-api.md 9.6). */
    if (r->kind != REQ_EMBED)
        for (size_t i = 0; i < b->count; i++)
            normalize(b->vecs + i * dim, dim);
    for (size_t i = 0; i < b->count; i++) {
        eslot *sl = slot_of(e, b->seqs[i]);
        sl->done = 1;
        sl->status = 0;
        sl->owner = b;
        sl->vec_at = (uint32_t)i;
        sl->truncated = b->trunc_level > 0;
        resona__free(sl->text);
        sl->text = NULL;
    }
    e->st.requests_ok++;
    s->st.requests_ok++;
    s->st.inputs_embedded += b->count;
    s->fail_streak = 0;
    s->state = SRV_UP;
    return 0;
}

static int complete(resona_embedder *e, ereq *r, CURLcode res)
{
    eserver *s = &e->servers[r->srv];
    curl_multi_remove_handle(e->multi, r->easy);
    for (ereq **at = &e->inflight; *at; at = &(*at)->next) {
        if (*at == r) {
            *at = r->next;
            break;
        }
    }
    s->inflight--;
    if (r->status == 0)
        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
    int rc = 0;
    if (r->kind == REQ_PROBE) {
        s->probing = 0;
        if (res == CURLE_OK && r->status > 0 && r->status < 500) {
            if (s->state != SRV_UP)
                RESONA_LOG(RESONA_LOG_INFO, "embed: %s is back in rotation", s->shown);
            s->state = SRV_UP;
        } else {
            s->state = SRV_DOWN;
            s->fail_streak++;
            s->retry_at = resona__embed_now_ms() + resona__embed_backoff(e, s->fail_streak);
            if (res != CURLE_OK)
                resona__embed_fmt(s->last_error, sizeof(s->last_error), "cannot reach %s: %s", s->shown,
                         r->curl_err[0] ? r->curl_err : curl_easy_strerror(res));
            else
                resona__embed_fmt(s->last_error, sizeof(s->last_error), "HTTP %ld from %s", r->status,
                         s->shown);
            resona__embed_scrub(e, s->last_error);
        }
        req_put(e, r);
        return 0;
    }
    ebatch *b = r->batch;
    r->batch = NULL;
    e->embeds_inflight--;
    if (res != CURLE_OK) {
        char msg[512];
        e->st.transport_errors++;
        int timeout = res == CURLE_OPERATION_TIMEDOUT;
        if (timeout)
            e->st.timeouts++;
        resona__embed_fmt(msg, sizeof(msg), "%s %s%s: %s", timeout ? "timeout from" : "cannot reach",
                 s->shown, endpoint_path(r->kind),
                 r->curl_err[0] ? r->curl_err : curl_easy_strerror(res));
        resona__embed_scrub(e, msg);
        server_failed(e, r->srv, msg);
        rc = transient(e, b, r->srv, timeout ? RESONA_ETIMEOUT : RESONA_EHTTP, msg);
    } else if (r->status >= 200 && r->status < 300) {
        rc = success(e, r, b);
    } else {
        rc = http_error(e, r, b);
    }
    req_put(e, r);
    return rc;
}

/*
 * No server in rotation for longer than retry_total_ms, every one of them
 * failed its last probe, and work is pending: stop ("cannot reach ..."). The
 * clock starts at the oldest failure of a waiting batch, or when the last
 * server left the rotation (servers found down by the preflight, before any
 * request failed).
 */
static int check_unreachable(resona_embedder *e)
{
    int64_t now = resona__embed_now_ms();
    if (any_up(e)) {
        e->none_up_since = 0;
        return 0;
    }
    if (!e->none_up_since)
        e->none_up_since = now;
    if (e->head == e->tail || !all_down(e))
        return 0;
    int64_t oldest = e->none_up_since;
    for (ebatch *b = e->retry; b; b = b->next)
        if (b->first_fail_ms && b->first_fail_ms < oldest)
            oldest = b->first_fail_ms;
    if (now - oldest <= e->retry_total_ms)
        return 0;
    return resona__embed_fatal(e, RESONA_EHTTP, "cannot reach any server after %lld ms: %s",
                               (long long)(now - oldest), e->servers[0].last_error);
}

int resona__embed_step(resona_embedder *e, long wait_ms, int partial)
{
    int rc = resona__embed_dispatch(e, partial);
    if (rc < 0)
        return rc;
    if (e->inflight || wait_ms > 0) {
        /* Wake up for the next re-probe if it comes before wait_ms. */
        int64_t now = resona__embed_now_ms();
        long wait = wait_ms;
        for (size_t i = 0; i < e->nservers; i++) {
            const eserver *s = &e->servers[i];
            if (s->state != SRV_UP && !s->probing && !e->stop) {
                int64_t left = s->retry_at - now;
                if (left < wait)
                    wait = left < 0 ? 0 : (long)left;
            }
        }
        int running = 0;
        curl_multi_perform(e->multi, &running);
        if (wait > 0 && e->inflight)
            curl_multi_poll(e->multi, NULL, 0, (int)(wait > 60000 ? 60000 : wait), NULL);
        else if (wait > 0 && !e->inflight) {
            curl_multi_poll(e->multi, NULL, 0, (int)(wait > 1000 ? 1000 : wait), NULL);
        }
        curl_multi_perform(e->multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(e->multi, &left)) != NULL) {
            if (m->msg != CURLMSG_DONE)
                continue;
            ereq *r = NULL;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
            CURLcode res = m->data.result;
            if (r && (rc = complete(e, r, res)) < 0)
                return rc;
        }
        if ((rc = resona__embed_dispatch(e, partial)) < 0)
            return rc;
    }
    if ((rc = check_unreachable(e)) < 0)
        return rc;
    return resona__embed_deliver(e);
}

void resona__embed_abandon(resona_embedder *e)
{
    while (e->inflight) {
        ereq *r = e->inflight;
        e->inflight = r->next;
        if (e->multi)
            curl_multi_remove_handle(e->multi, r->easy);
        if (r->batch)
            resona__embed_requeue(e, r->batch);
        r->batch = NULL;
        req_destroy(r);
    }
    while (e->idle) {
        ereq *r = e->idle;
        e->idle = r->next;
        req_destroy(r);
    }
    e->embeds_inflight = 0;
}
