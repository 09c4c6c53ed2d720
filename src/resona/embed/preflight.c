/*
 * embed/preflight.c - the checks before a long run (GET /api/tags or
 * /v1/models), the known-models table (display only), and the synchronous
 * calls built on the streaming core: resona_embedder_embed and _probe.
 */
#include "embed/embedder.h"

#include "util/alloc.h"
#include "util/log.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <yajl/yajl_parse.h>

/* ---- known models (display only: any model works, dimensions are learned) ---- */

static const struct {
    const char *name;
    uint32_t dim;
} known_models[] = {
    {"nomic-embed-text", 768},       {"mxbai-embed-large", 1024},
    {"all-minilm", 384},             {"bge-m3", 1024},
    {"snowflake-arctic-embed", 1024}, {"bge-large", 1024},
    {"embeddinggemma", 768},         {"text-embedding-3-small", 1536},
    {"text-embedding-3-large", 3072}, {"text-embedding-ada-002", 1536},
};

uint32_t resona_embed_known_dim(const char *model)
{
    if (!model)
        return 0;
    size_t n = strlen(model);
    if (n > 7 && strcmp(model + n - 7, ":latest") == 0)
        n -= 7;
    for (size_t i = 0; i < sizeof(known_models) / sizeof(known_models[0]); i++)
        if (strlen(known_models[i].name) == n && strncasecmp(known_models[i].name, model, n) == 0)
            return known_models[i].dim;
    return 0;
}

/* ---- /api/tags ------------------------------------------------------------ */

/* The model names of a tags reply: models[i].name. */
typedef struct tags_scan {
    int depth;
    int in_models; /* inside the root "models" array */
    int key_name;  /* the current key inside a model object is "name" */
    const char *want;
    size_t want_len;
    int found;
    int models;
} tags_scan;

static int ts_start_map(void *ctx)
{
    tags_scan *t = ctx;
    t->depth++;
    if (t->in_models && t->depth == 3)
        t->models++;
    return 1;
}

static int ts_end_map(void *ctx)
{
    ((tags_scan *)ctx)->depth--;
    return 1;
}

static int ts_map_key(void *ctx, const unsigned char *k, size_t len)
{
    tags_scan *t = ctx;
    if (t->depth == 1)
        t->in_models = len == 6 && memcmp(k, "models", 6) == 0 ? 1 : 0;
    else if (t->depth == 3)
        t->key_name = len == 4 && memcmp(k, "name", 4) == 0;
    return 1;
}

static int ts_start_array(void *ctx)
{
    tags_scan *t = ctx;
    t->depth++;
    if (!(t->depth == 2 && t->in_models == 1))
        t->in_models = t->depth == 2 ? 0 : t->in_models;
    if (t->depth > 3)
        t->key_name = 0;
    return 1;
}

static int ts_end_array(void *ctx)
{
    tags_scan *t = ctx;
    t->depth--;
    if (t->depth == 1)
        t->in_models = 0;
    return 1;
}

static int ts_string(void *ctx, const unsigned char *s, size_t len)
{
    tags_scan *t = ctx;
    if (t->in_models && t->depth == 3 && t->key_name && len == t->want_len &&
        strncasecmp((const char *)s, t->want, len) == 0)
        t->found = 1;
    return 1;
}

static const yajl_callbacks tags_callbacks = {NULL, NULL, NULL, NULL, NULL, ts_string,
                                               ts_start_map, ts_map_key, ts_end_map,
                                               ts_start_array, ts_end_array};

/* "bge-m3" -> "bge-m3:latest"; a name with a tag (after the last '/') is kept. */
static char *with_tag(const char *model)
{
    const char *slash = strrchr(model, '/');
    const char *colon = strchr(slash ? slash : model, ':');
    resona_buf b = RESONA_BUF_INIT(0);
    if (resona__buf_printf(&b, "%s%s", model, colon ? "" : ":latest") < 0) {
        resona__buf_free(&b);
        return NULL;
    }
    return resona__buf_detach(&b, NULL);
}

/* 1 if the tags reply lists the model, 0 if not, -1 if it is not a tags reply. */
static int tags_has_model(const char *body, size_t len, const char *want)
{
    tags_scan t;
    memset(&t, 0, sizeof(t));
    t.want = want;
    t.want_len = strlen(want);
    yajl_handle h = yajl_alloc(&tags_callbacks, NULL, &t);
    if (!h)
        return -1;
    int ok = yajl_parse(h, (const unsigned char *)body, len) == yajl_status_ok &&
             yajl_complete_parse(h) == yajl_status_ok;
    yajl_free(h);
    if (!ok)
        return -1;
    return t.found;
}

static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    resona_buf *b = userdata;
    return resona__buf_append(b, ptr, size * nmemb) < 0 ? 0 : size * nmemb;
}

/* GET base+path; *status gets the HTTP status (0 when no answer); err the curl error. */
static int http_get(resona_embedder *e, const eserver *s, const char *path, resona_buf *body,
                    long *status, char *err, size_t errcap)
{
    CURL *h = curl_easy_init();
    if (!h)
        return resona__error_set(RESONA_ENOMEM, "embedder: curl_easy_init failed");
    resona_buf url = RESONA_BUF_INIT(0);
    char curl_err[CURL_ERROR_SIZE] = "";
    int rc = resona__buf_printf(&url, "%s%s", s->url, path);
    if (rc < 0)
        goto done;
    curl_easy_setopt(h, CURLOPT_URL, url.ptr);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, e->headers);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, e->connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, e->preflight_timeout_ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
    CURLcode res = curl_easy_perform(h);
    *status = 0;
    if (res == CURLE_OK) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
        err[0] = '\0';
    } else {
        resona__embed_fmt(err, errcap, "%s", curl_err[0] ? curl_err : curl_easy_strerror(res));
        resona__embed_scrub(e, err);
    }
done:
    resona__buf_free(&url);
    curl_easy_cleanup(h);
    return rc;
}

int resona_embedder_preflight(resona_embedder *e)
{
    if (e->fatal)
        return resona__error_set(e->fatal, "%s", e->fatal_msg);
    int rc = 0, reachable = 0;
    char first_err[512] = "";
    char *want = with_tag(e->model);
    if (!want)
        return RESONA_ENOMEM;
    const char *what = e->provider == RESONA_EMBED_OLLAMA ? "Ollama" : "server";
    for (size_t i = 0; i < e->nservers; i++) {
        eserver *s = &e->servers[i];
        resona_buf body = RESONA_BUF_INIT((size_t)16 << 20);
        long status = 0;
        char err[300];
        const char *path = e->provider == RESONA_EMBED_OLLAMA ? "/api/tags" : "/v1/models";
        if ((rc = http_get(e, s, path, &body, &status, err, sizeof(err))) < 0) {
            resona__buf_free(&body);
            goto done;
        }
        if (status == 0 || status >= 500 ||
            (e->provider == RESONA_EMBED_OLLAMA && status != 200 && status != 401 &&
             status != 403)) {
            char m[512];
            if (status == 0)
                resona__embed_fmt(m, sizeof(m), "cannot reach %s at %s: %s", what, s->shown, err);
            else
                resona__embed_fmt(m, sizeof(m), "cannot reach %s at %s: HTTP %ld from %s",
                                  what, s->shown, status, path);
            if (!first_err[0])
                resona__embed_fmt(first_err, sizeof(first_err), "%s", m);
            s->state = SRV_DOWN;
            s->fail_streak++;
            s->retry_at = resona__embed_now_ms() + resona__embed_backoff(e, s->fail_streak);
            resona__embed_fmt(s->last_error, sizeof(s->last_error), "%s", m);
            RESONA_LOG(RESONA_LOG_WARN, "embed: %s; out of rotation", m);
            resona__buf_free(&body);
            continue;
        }
        if (status == 401 || status == 403) {
            resona__buf_free(&body);
            rc = resona__error_set(RESONA_EHTTP,
                                   "HTTP %ld from %s%s: authentication failed (%s%s)", status,
                                   s->shown, path,
                                   e->api_key_env ? "check the API key in $" : "no API key configured",
                                   e->api_key_env ? e->api_key_env : "");
            goto done;
        }
        reachable++;
        if (e->provider == RESONA_EMBED_OLLAMA) {
            int has = tags_has_model(body.ptr ? body.ptr : "", body.len, want);
            if (has == 0) {
                resona__buf_free(&body);
                rc = resona__error_set(RESONA_ENOTFOUND,
                                       "model %s is not pulled: run `ollama pull %s` (server %s)",
                                       e->model, e->model, s->shown);
                goto done;
            }
            if (has < 0)
                RESONA_LOG(RESONA_LOG_WARN, "embed: %s/api/tags is not a model list; skipping "
                           "the model check", s->shown);
        }
        s->state = SRV_UP;
        resona__buf_free(&body);
    }
    if (!reachable)
        rc = resona__error_set(RESONA_EHTTP, "%s", first_err);
done:
    resona__free(want);
    return rc;
}

/* ---- synchronous calls ---------------------------------------------------- */

typedef struct sync_ctx {
    uint64_t base;
    size_t count;
    float *out;
    uint32_t dim;
    int fail_code;
    char fail_msg[512];
} sync_ctx;

static int sync_sink(const resona_embed_result *r, void *payload)
{
    sync_ctx *c = payload;
    size_t i = (size_t)(r->index - c->base);
    if (r->status != 0) {
        if (!c->fail_code) {
            c->fail_code = r->status;
            resona__embed_fmt(c->fail_msg, sizeof(c->fail_msg), "%s", r->reason);
        }
        return 0;
    }
    if (!c->out) {
        c->dim = r->dim;
        c->out = resona__reallocarray(NULL, c->count * c->dim, sizeof(float));
        if (!c->out)
            return RESONA_ENOMEM;
    }
    if (r->dim != c->dim)
        return resona__error_set(RESONA_ECORRUPT, "vector %zu has %u values, expected %u", i,
                                 r->dim, c->dim);
    memcpy(c->out + i * c->dim, r->vector, (size_t)c->dim * sizeof(float));
    return 0;
}

int resona_embedder_embed(resona_embedder *e, const char *const *texts, size_t count,
                          float **out_vectors, uint32_t *out_dim)
{
    if (!out_vectors)
        return resona__error_set(RESONA_EINVALID, "embedder: out_vectors is NULL");
    *out_vectors = NULL;
    if (e->head != e->tail)
        return resona__error_set(RESONA_EINVALID,
                                 "embedder: %zu streamed inputs are still pending",
                                 (size_t)(e->tail - e->head));
    if (count == 0) {
        if (out_dim)
            *out_dim = e->dim;
        return 0;
    }
    sync_ctx c;
    memset(&c, 0, sizeof(c));
    c.base = e->tail;
    c.count = count;
    resona_embed_sink_fn old_fn = e->sink;
    void *old_payload = e->payload;
    e->sink = sync_sink;
    e->payload = &c;
    int rc = 0;
    for (size_t i = 0; i < count && rc == 0; i++)
        rc = resona_embedder_submit(e, texts[i] ? texts[i] : "", texts[i] ? strlen(texts[i]) : 0,
                                    i);
    if (rc == 0)
        rc = resona_embedder_drain(e);
    e->sink = old_fn;
    e->payload = old_payload;
    if (rc == 0 && c.fail_code)
        rc = resona__error_set(c.fail_code, "%s", c.fail_msg);
    if (rc < 0) {
        resona__free(c.out);
        return rc;
    }
    *out_vectors = c.out;
    if (out_dim)
        *out_dim = c.dim;
    return 0;
}

void resona_embedder_vectors_free(float *vectors)
{
    resona__free(vectors);
}

int resona_embedder_probe(resona_embedder *e, uint32_t *out_dim)
{
    static const char *const probe[] = {"dimension probe"};
    float *v = NULL;
    uint32_t dim = 0;
    int rc = resona_embedder_embed(e, probe, 1, &v, &dim);
    resona__free(v);
    if (rc == 0 && out_dim)
        *out_dim = dim;
    return rc;
}
