/*
 * fake-ollama/handlers.c - the endpoints: routing, request parsing (yajl
 * tree), the serving sequence of an embedding request under the model lock
 * (delay, injected statuses, context length, latency, vectors, body faults),
 * the reply shapes of Ollama and of the OpenAI API, and the request log line.
 *
 * Shapes and error texts follow /work/shared/reference/ollama-api.md sections
 * 2-6; README.md in this directory lists them.
 */
#include "fo_internal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <openssl/evp.h>
#include <yajl/yajl_tree.h>

enum endpoint { EP_EMBED, EP_EMBEDDINGS, EP_V1 };

/* What the log line says about one request. */
typedef struct logrec {
    uint64_t n, seq;
    const char *model;
    const char *const *texts;
    const size_t *lens;
    size_t count;
    size_t truncated;
    double start_ms, end_ms;
    double work_ms; /* the server's own work on the reply (vectors, JSON) */
    size_t cached;  /* vectors served from the cache */
    const char *fault;
} logrec;

/* A parsed embedding request; strings point into tree. */
typedef struct embed_req {
    yajl_val tree;
    const char *model; /* NULL if absent */
    const char **texts;
    size_t *lens;
    size_t count;
    int truncate; /* -1 absent, 0 false, 1 true */
    long long dimensions;
    int base64;
    /* A request error found while parsing, answered under the lock. */
    int err_status;
    const char *err_msg;
    const char *err_type;
    char err_buf[512];
} embed_req;

static const char *BUSY_MSG = "server busy, please try again.  maximum pending requests exceeded";
static const char *CTX_MSG = "the input length exceeds the context length";

static void set_body(fo_response *resp, int status, char *body, size_t len)
{
    resp->status = status;
    resp->body = body;
    resp->body_len = len;
    resp->send_len = len;
}

static void text_reply(fo_response *resp, int status, const char *text)
{
    size_t len = strlen(text);
    char *b = malloc(len + 1);
    if (b)
        memcpy(b, text, len + 1);
    set_body(resp, status, b, b ? len : 0);
    resp->content_type = "text/plain; charset=utf-8";
}

/* {"error":"msg"} or, on /v1, the OpenAI envelope. */
static void error_reply(fo_response *resp, enum endpoint ep, int status, const char *msg,
                        const char *type)
{
    yajl_gen g = fo_json_new();
    size_t len;
    yajl_gen_map_open(g);
    if (ep == EP_V1) {
        fo_json_str(g, "error");
        yajl_gen_map_open(g);
        fo_json_key_str(g, "message", msg);
        fo_json_key_str(g, "type", type ? type : "api_error");
        fo_json_key_str(g, "param", NULL);
        fo_json_key_str(g, "code", NULL);
        yajl_gen_map_close(g);
    } else {
        fo_json_key_str(g, "error", msg);
    }
    yajl_gen_map_close(g);
    char *b = fo_json_finish(g, &len);
    set_body(resp, status, b, len);
}

/* "name" -> "name:latest"; a tag is a ':' after the last '/'. Caller frees. */
static char *normalize_model(const char *name)
{
    const char *slash = strrchr(name, '/');
    const char *colon = strchr(slash ? slash : name, ':');
    size_t len = strlen(name);
    char *out = malloc(len + sizeof ":latest");
    if (!out)
        return NULL;
    memcpy(out, name, len + 1);
    if (!colon)
        memcpy(out + len, ":latest", sizeof ":latest");
    return out;
}

static int model_known(const fo_config *cfg, const char *name)
{
    if (!name || !*name)
        return 0;
    char *norm = normalize_model(name);
    int found = 0;
    for (size_t i = 0; norm && i < cfg->model_count && !found; i++)
        found = strcasecmp(norm, cfg->models[i]) == 0;
    free(norm);
    return found;
}

static void log_request(fo_server *s, const fo_request *req, const logrec *lr,
                        const fo_response *resp)
{
    if (!s->log)
        return;
    yajl_gen g = fo_json_new();
    size_t len;
    yajl_gen_map_open(g);
    fo_json_key_int(g, "n", (long long)lr->n);
    fo_json_key_int(g, "seq", (long long)lr->seq);
    fo_json_key_str(g, "method", req->method);
    fo_json_key_str(g, "path", req->url);
    fo_json_key_str(g, "model", lr->model);
    fo_json_key_int(g, "inputs", (long long)lr->count);
    fo_json_str(g, "input_chars");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < lr->count; i++)
        yajl_gen_integer(g, (long long)fo_utf8_chars(lr->texts[i], lr->lens[i]));
    yajl_gen_array_close(g);
    fo_json_key_int(g, "truncated_inputs", (long long)lr->truncated);
    fo_json_key_int(g, "bytes_in", (long long)req->body_len);
    fo_json_key_int(g, "bytes_out", (long long)resp->send_len);
    fo_json_key_int(g, "status", resp->status);
    fo_json_key_ms(g, "recv_ms", req->recv_ms);
    fo_json_key_ms(g, "start_ms", lr->start_ms);
    fo_json_key_ms(g, "end_ms", lr->end_ms);
    fo_json_key_ms(g, "work_ms", lr->work_ms);
    fo_json_key_int(g, "cached", (long long)lr->cached);
    fo_json_key_str(g, "fault", lr->fault);
    if (s->cfg->log_texts) {
        fo_json_str(g, "texts");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < lr->count; i++)
            fo_json_strn(g, lr->texts[i], lr->lens[i]);
        yajl_gen_array_close(g);
    }
    yajl_gen_map_close(g);
    char *line = fo_json_finish(g, &len);
    if (line)
        fo_log_line(s, line, len);
    free(line);
}

/* ---- GET /api/tags, POST /api/show ---- */

static void digest_hex(const char *name, char out[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    static const char hex[] = "0123456789abcdef";
    EVP_Digest(name, strlen(name), md, &n, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

static void gen_details(yajl_gen g)
{
    fo_json_str(g, "details");
    yajl_gen_map_open(g);
    fo_json_key_str(g, "parent_model", "");
    fo_json_key_str(g, "format", "gguf");
    fo_json_key_str(g, "family", "bert");
    fo_json_str(g, "families");
    yajl_gen_array_open(g);
    fo_json_str(g, "bert");
    yajl_gen_array_close(g);
    fo_json_key_str(g, "parameter_size", "566.70M");
    fo_json_key_str(g, "quantization_level", "F16");
    yajl_gen_map_close(g);
}

static void handle_tags(fo_server *s, fo_response *resp)
{
    yajl_gen g = fo_json_new();
    size_t len;
    char digest[65];
    yajl_gen_map_open(g);
    fo_json_str(g, "models");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < s->cfg->model_count; i++) {
        const char *name = s->cfg->models[i];
        digest_hex(name, digest);
        yajl_gen_map_open(g);
        fo_json_key_str(g, "name", name);
        fo_json_key_str(g, "model", name);
        fo_json_key_str(g, "modified_at", "2026-01-01T00:00:00.000000000Z");
        fo_json_key_int(g, "size", 1157672605);
        fo_json_key_str(g, "digest", digest);
        gen_details(g);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
    char *b = fo_json_finish(g, &len);
    set_body(resp, 200, b, len);
}

static void handle_show(fo_server *s, const fo_request *req, fo_response *resp,
                        const char **model_out, yajl_val *tree_out)
{
    char errbuf[256];
    yajl_val tree = yajl_tree_parse(req->body, errbuf, sizeof errbuf);
    *tree_out = tree;
    yajl_val m = NULL;
    if (tree) {
        const char *p1[] = {"model", NULL};
        const char *p2[] = {"name", NULL};
        m = yajl_tree_get(tree, p1, yajl_t_string);
        if (!m)
            m = yajl_tree_get(tree, p2, yajl_t_string);
    }
    const char *model = m ? YAJL_GET_STRING(m) : NULL;
    *model_out = model;
    if (!tree) {
        error_reply(resp, EP_EMBED, 400, req->body_len ? "invalid JSON" : "missing request body",
                    NULL);
        return;
    }
    if (!model_known(s->cfg, model)) {
        char msg[512];
        snprintf(msg, sizeof msg, "model '%s' not found", model ? model : "");
        error_reply(resp, EP_EMBED, 404, msg, NULL);
        return;
    }
    yajl_gen g = fo_json_new();
    size_t len;
    yajl_gen_map_open(g);
    gen_details(g);
    fo_json_str(g, "model_info");
    yajl_gen_map_open(g);
    fo_json_key_str(g, "general.architecture", "bert");
    fo_json_key_int(g, "bert.embedding_length", s->cfg->dim);
    fo_json_key_int(g, "bert.context_length", 8192);
    yajl_gen_map_close(g);
    fo_json_str(g, "capabilities");
    yajl_gen_array_open(g);
    fo_json_str(g, "embedding");
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
    char *b = fo_json_finish(g, &len);
    set_body(resp, 200, b, len);
}

/* ---- embedding requests ---- */

static void req_error(embed_req *er, int status, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void req_error(embed_req *er, int status, const char *type, const char *fmt, ...)
{
    va_list ap;
    er->err_status = status;
    er->err_type = type;
    va_start(ap, fmt);
    vsnprintf(er->err_buf, sizeof er->err_buf, fmt, ap);
    va_end(ap);
    er->err_msg = er->err_buf;
}

static int add_text(embed_req *er, const char *t)
{
    const char **texts = realloc(er->texts, (er->count + 1) * sizeof *texts);
    if (!texts)
        return -1;
    er->texts = texts;
    size_t *lens = realloc(er->lens, (er->count + 1) * sizeof *lens);
    if (!lens)
        return -1;
    er->lens = lens;
    er->texts[er->count] = t;
    er->lens[er->count] = strlen(t);
    er->count++;
    return 0;
}

static void parse_embed(const fo_request *req, enum endpoint ep, embed_req *er)
{
    char errbuf[256];
    const char *stname = ep == EP_EMBEDDINGS ? "EmbeddingRequest" : "EmbedRequest";
    er->truncate = -1;
    if (req->body_too_big) {
        req_error(er, 413, "invalid_request_error", "request body too large");
        return;
    }
    if (req->body_len == 0) {
        req_error(er, 400, "invalid_request_error", "missing request body");
        return;
    }
    er->tree = yajl_tree_parse(req->body, errbuf, sizeof errbuf);
    if (!er->tree) {
        char *nl = strchr(errbuf, '\n');
        if (nl)
            *nl = '\0';
        req_error(er, 400, "invalid_request_error", "invalid JSON: %s", errbuf);
        return;
    }
    if (!YAJL_IS_OBJECT(er->tree)) {
        req_error(er, 400, "invalid_request_error",
                  "json: cannot unmarshal value into Go value of type api.%s", stname);
        return;
    }
    yajl_val model = NULL, input = NULL, trunc = NULL, dims = NULL, fmt = NULL;
    for (size_t i = 0; i < er->tree->u.object.len; i++) {
        const char *k = er->tree->u.object.keys[i];
        yajl_val v = er->tree->u.object.values[i];
        if (strcmp(k, "model") == 0)
            model = v;
        else if (strcmp(k, ep == EP_EMBEDDINGS ? "prompt" : "input") == 0)
            input = v;
        else if (strcmp(k, "truncate") == 0)
            trunc = v;
        else if (strcmp(k, "dimensions") == 0)
            dims = v;
        else if (strcmp(k, "encoding_format") == 0)
            fmt = v;
    }
    if (model && !YAJL_IS_NULL(model)) {
        if (!YAJL_IS_STRING(model)) {
            req_error(er, 400, "invalid_request_error",
                      "json: cannot unmarshal value into Go struct field %s.model of type string",
                      stname);
            return;
        }
        er->model = YAJL_GET_STRING(model);
    }
    if (trunc && !YAJL_IS_NULL(trunc))
        er->truncate = YAJL_IS_TRUE(trunc) ? 1 : 0;
    if (dims && YAJL_IS_INTEGER(dims))
        er->dimensions = YAJL_GET_INTEGER(dims);
    if (ep == EP_V1 && fmt && YAJL_IS_STRING(fmt)) {
        const char *f = YAJL_GET_STRING(fmt);
        if (strcmp(f, "base64") == 0) {
            er->base64 = 1;
        } else if (strcmp(f, "float") != 0) {
            req_error(er, 400, "invalid_request_error",
                      "Invalid value for 'encoding_format' = %s. Supported values: ['float', "
                      "'base64'].",
                      f);
            return;
        }
    }

    /* Inputs. */
    if (ep == EP_EMBEDDINGS) {
        if (input && !YAJL_IS_NULL(input)) {
            if (!YAJL_IS_STRING(input)) {
                req_error(er, 400, "invalid_request_error",
                          "json: cannot unmarshal value into Go struct field "
                          "EmbeddingRequest.prompt of type string");
                return;
            }
            if (*YAJL_GET_STRING(input) && add_text(er, YAJL_GET_STRING(input)) != 0)
                goto oom;
        }
        return;
    }
    if (!input || YAJL_IS_NULL(input)) {
        if (ep == EP_V1)
            req_error(er, 400, "invalid_request_error", "invalid input");
        return;
    }
    if (YAJL_IS_STRING(input)) {
        /* /api/embed: "" means no inputs; /v1: "" becomes [""]. */
        if ((*YAJL_GET_STRING(input) || ep == EP_V1) && add_text(er, YAJL_GET_STRING(input)) != 0)
            goto oom;
        return;
    }
    if (YAJL_IS_ARRAY(input)) {
        if (input->u.array.len == 0 && ep == EP_V1) {
            req_error(er, 400, "invalid_request_error", "invalid input");
            return;
        }
        for (size_t i = 0; i < input->u.array.len; i++) {
            yajl_val v = input->u.array.values[i];
            if (!YAJL_IS_STRING(v)) {
                req_error(er, 400, "invalid_request_error", "invalid input type");
                return;
            }
            if (add_text(er, YAJL_GET_STRING(v)) != 0)
                goto oom;
        }
        return;
    }
    req_error(er, 400, "invalid_request_error", "invalid input type");
    return;
oom:
    req_error(er, 500, "api_error", "out of memory");
}

/* Deterministic per (seed, n): splitmix64, so fail-rate hits do not depend on timing. */
static double rate_roll(uint64_t seed, uint64_t n)
{
    uint64_t z = seed + n * 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

static const char *status_message(int status)
{
    switch (status) {
    case 503:
        return BUSY_MSG;
    case 499:
        return "request canceled";
    case 500:
        return "llama runner process has terminated: exit status 2";
    case 429:
        return "rate limit exceeded, please retry later";
    case 404:
        return "model not found";
    case 401:
        return "unauthorized";
    default:
        return "fake-ollama: injected error";
    }
}

static const char *status_type(int status)
{
    if (status == 404)
        return "not_found_error";
    if (status >= 400 && status < 500)
        return "invalid_request_error";
    return "api_error";
}

static void base64_floats(yajl_gen g, const float *v, uint32_t dim)
{
    size_t raw_len = (size_t)dim * 4;
    unsigned char *raw = malloc(raw_len ? raw_len : 1);
    unsigned char *b64 = malloc(4 * ((raw_len + 2) / 3) + 1);
    if (raw && b64) {
        for (uint32_t i = 0; i < dim; i++) {
            uint32_t u;
            memcpy(&u, &v[i], 4);
            raw[4 * i] = (unsigned char)u;
            raw[4 * i + 1] = (unsigned char)(u >> 8);
            raw[4 * i + 2] = (unsigned char)(u >> 16);
            raw[4 * i + 3] = (unsigned char)(u >> 24);
        }
        int n = EVP_EncodeBlock(b64, raw, (int)raw_len);
        fo_json_strn(g, (const char *)b64, (size_t)n);
    }
    free(raw);
    free(b64);
}

/* "[v0,v1,...]" into out (room for n * 32 + 3 bytes); returns the length. */
static size_t format_vector(char *out, const float *v, uint32_t n, int nan_null)
{
    char *p = out;
    *p++ = '[';
    for (uint32_t j = 0; j < n; j++) {
        if (j)
            *p++ = ',';
        if (isnan(v[j])) {
            memcpy(p, nan_null ? "null" : "NaN", nan_null ? 4 : 3);
            p += nan_null ? 4 : 3;
        } else {
            p += fo_format_f32(p, v[j]);
        }
    }
    *p++ = ']';
    return (size_t)(p - out);
}

/*
 * The successful reply: vectors of texts[0..count) (already cut to the
 * context length), with the body faults that change content applied.
 */
static void embed_reply(fo_server *s, enum endpoint ep, const embed_req *er, const char **texts,
                        const size_t *lens, uint64_t n, double start_ms, double ready_ms,
                        fo_response *resp, const char **fault, size_t *cached)
{
    const fo_config *cfg = s->cfg;
    uint32_t dim = cfg->dim;
    if (er->dimensions > 0 && er->dimensions < (long long)dim && ep != EP_EMBEDDINGS)
        dim = (uint32_t)er->dimensions;
    uint32_t out_dim = dim;
    size_t out_count = er->count;
    int nan = 0;
    if (fo_rules_find(&cfg->wrong_dim_nth, n)) {
        out_dim = dim > 1 ? dim - 1 : dim + 1;
        *fault = "wrong-dim";
    }
    if (fo_rules_find(&cfg->wrong_count_nth, n) && out_count > 0) {
        out_count--;
        *fault = "wrong-count";
    }
    if (fo_rules_find(&cfg->nan_nth, n)) {
        nan = 1;
        *fault = "nan";
    }

    float *v = malloc(((size_t)cfg->dim + 1) * sizeof(float));
    char *text = malloc(((size_t)cfg->dim + 1) * 32 + 3);
    if (!v || !text) {
        free(v);
        free(text);
        error_reply(resp, ep, 500, "out of memory", "api_error");
        return;
    }
    uint64_t tokens = 0;
    for (size_t i = 0; i < er->count; i++)
        tokens += fo_tokens(texts[i], lens[i]);

    /* Room for every vector at the longest number text (a miss is printed
     * into `text` first, a hit copied), so the reply is built in place. */
    fo_outbuf out;
    size_t per_vector = ((size_t)out_dim + 1) * (ep == EP_V1 && er->base64 ? 6 : 24) + 64;
    yajl_gen g = fo_json_new_into(&out, (out_count + 1) * per_vector + 1024);
    size_t len;
    yajl_gen_map_open(g);
    if (ep == EP_V1) {
        fo_json_key_str(g, "object", "list");
        fo_json_str(g, "data");
        yajl_gen_array_open(g);
    } else if (ep == EP_EMBED) {
        fo_json_key_str(g, "model", er->model);
        fo_json_str(g, "embeddings");
        yajl_gen_array_open(g);
    } else {
        fo_json_str(g, "embedding");
    }
    for (size_t i = 0; i < out_count || (ep == EP_EMBEDDINGS && i == 0); i++) {
        uint32_t vd = i < out_count ? out_dim : 0; /* legacy endpoint, empty prompt: [] */
        int b64 = ep == EP_V1 && er->base64;
        /* Only plain, undamaged vectors go through the cache. */
        int cacheable = i < out_count && !b64 && vd == dim && !(nan && i == 0);
        const char *hit = NULL;
        size_t hit_len = 0;
        if (cacheable)
            hit = fo_cache_get(s->cache, dim, texts[i], lens[i], &hit_len);
        if (i < out_count && !hit) {
            if (fo_vector(texts[i], lens[i], cfg->dim, v) != 0) {
                free(fo_json_finish_into(g, &out, &len));
                free(v);
                free(text);
                error_reply(resp, ep, 500, "vector computation failed", "api_error");
                return;
            }
            if (dim < cfg->dim)
                fo_vector_shorten(v, dim);
            v[dim] = v[0]; /* the extra value of a wrong-dim reply with dim + 1 */
            if (nan && i == 0 && vd > 0)
                v[0] = NAN;
        }
        if (ep == EP_V1) {
            yajl_gen_map_open(g);
            fo_json_key_str(g, "object", "embedding");
            fo_json_str(g, "embedding");
        }
        if (b64) {
            base64_floats(g, v, vd);
        } else if (hit) {
            fo_json_raw(g, hit, hit_len);
            (*cached)++;
        } else {
            size_t tl = format_vector(text, v, vd, cfg->nan_null);
            fo_json_raw(g, text, tl);
            if (cacheable)
                fo_cache_put(s->cache, dim, texts[i], lens[i], text, tl);
        }
        if (ep == EP_V1) {
            fo_json_key_int(g, "index", (long long)i);
            yajl_gen_map_close(g);
        }
    }
    if (ep == EP_V1) {
        yajl_gen_array_close(g);
        fo_json_key_str(g, "model", er->model);
        fo_json_str(g, "usage");
        yajl_gen_map_open(g);
        fo_json_key_int(g, "prompt_tokens", (long long)tokens);
        fo_json_key_int(g, "total_tokens", (long long)tokens);
        yajl_gen_map_close(g);
    } else if (ep == EP_EMBED) {
        yajl_gen_array_close(g);
        if (er->count > 0) {
            /* The reply goes out when the model time is over (ready_ms) or
             * when it is ready, whichever is later. */
            double now = fo_now_ms(s);
            long long total_ns = (long long)(((now > ready_ms ? now : ready_ms) - start_ms) * 1e6);
            fo_json_key_int(g, "total_duration", total_ns > 0 ? total_ns : 1);
            fo_json_key_int(g, "load_duration", 100000);
            fo_json_key_int(g, "prompt_eval_count", (long long)tokens);
        }
    }
    yajl_gen_map_close(g);
    free(v);
    free(text);
    char *b = fo_json_finish_into(g, &out, &len);
    set_body(resp, 200, b, len);
}

/* Faults that damage the serialized body. */
static void body_faults(const fo_config *cfg, uint64_t n, fo_response *resp, const char **fault)
{
    if (!resp->body)
        return;
    if (fo_rules_find(&cfg->malformed_nth, n)) {
        /* The first half of the real body, then bytes no JSON parser accepts. */
        size_t half = resp->body_len / 2;
        memcpy(resp->body + half, "!!", 3);
        resp->body_len = half + 2;
        resp->send_len = resp->body_len;
        *fault = "malformed";
    }
    if (fo_rules_find(&cfg->truncate_nth, n)) {
        resp->send_len = resp->body_len / 2;
        *fault = "truncate";
    }
}

/*
 * Has the client closed its connection (timed out, cancelled)? Ollama then
 * cancels the request (499) instead of computing it; so does this server, if
 * it notices before the model work starts. Pipelined bytes of a next request
 * on the same connection do not count as closed.
 */
static int client_gone(int fd)
{
    char c;
    if (fd < 0)
        return 0;
    ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

static void handle_embed(fo_server *s, const fo_request *req, enum endpoint ep, fo_response *resp,
                         logrec *lr)
{
    const fo_config *cfg = s->cfg;
    embed_req er;
    memset(&er, 0, sizeof er);
    parse_embed(req, ep, &er);
    if (!er.err_status && !model_known(cfg, er.model)) {
        if (ep == EP_EMBEDDINGS && (!er.model || !*er.model))
            req_error(&er, 400, "invalid_request_error", "model is required");
        else if (ep == EP_EMBEDDINGS)
            req_error(&er, 404, "not_found_error", "model \"%s\" not found, try pulling it first",
                      er.model);
        else
            req_error(&er, 404, "not_found_error", "model '%s' not found",
                      er.model ? er.model : "");
    }
    lr->model = er.model;
    lr->texts = er.texts;
    lr->lens = er.lens;
    lr->count = er.count;

    /* Context length: cut copies of the texts, or refuse. */
    const char **texts = er.count ? malloc(er.count * sizeof *texts) : NULL;
    size_t *lens = er.count ? malloc(er.count * sizeof *lens) : NULL;
    if (er.count && (!texts || !lens) && !er.err_status)
        req_error(&er, 500, "api_error", "out of memory");
    int too_long = 0;
    for (size_t i = 0; texts && lens && i < er.count; i++) {
        texts[i] = er.texts[i];
        lens[i] = er.lens[i];
        if (cfg->max_input_chars >= 0 &&
            fo_utf8_chars(er.texts[i], er.lens[i]) > (size_t)cfg->max_input_chars) {
            lens[i] = fo_utf8_prefix(er.texts[i], er.lens[i], (size_t)cfg->max_input_chars);
            lr->truncated++;
            too_long = 1;
        }
    }
    /* /api/embed truncates unless truncate:false; /v1 always; the legacy endpoint never. */
    int may_truncate =
        !cfg->ignore_truncate && ((ep == EP_EMBED && er.truncate != 0) || ep == EP_V1);
    if (!may_truncate)
        lr->truncated = 0;

    uint64_t n = fo_model_acquire(s);
    lr->n = n;
    lr->start_ms = fo_now_ms(s);
    const fo_rule *rule;

    if ((rule = fo_rules_find(&cfg->delay_nth, n)) != NULL) {
        fo_sleep_locked(s, (uint64_t)rule->value);
        lr->fault = "delay";
    }
    if (client_gone(req->fd)) {
        error_reply(resp, ep, 499, "request canceled", "api_error");
        lr->fault = "client-gone";
    } else if (er.err_status) {
        error_reply(resp, ep, er.err_status, er.err_msg, er.err_type);
    } else if (cfg->burst_count && n >= cfg->burst_start &&
               n - cfg->burst_start < cfg->burst_count) {
        error_reply(resp, ep, 503, BUSY_MSG, "api_error");
        lr->fault = "burst-503";
    } else if ((rule = fo_rules_find(&cfg->fail_nth, n)) != NULL) {
        error_reply(resp, ep, (int)rule->value, status_message((int)rule->value),
                    status_type((int)rule->value));
        lr->fault = "fail-nth";
    } else if (cfg->fail_rate > 0 && rate_roll(cfg->seed, n) < cfg->fail_rate) {
        error_reply(resp, ep, cfg->fail_rate_status, status_message(cfg->fail_rate_status),
                    status_type(cfg->fail_rate_status));
        lr->fault = "fail-rate";
    } else if (too_long && !may_truncate) {
        error_reply(resp, ep, ep == EP_EMBEDDINGS ? 500 : 400, CTX_MSG, "invalid_request_error");
    } else {
        /* The model time is a floor, not an addition: the server's own work
         * (vectors, JSON) runs inside it, and the reply leaves when both are
         * done. See README.md "Timing". */
        uint64_t model_ms = (uint64_t)cfg->latency_ms + (uint64_t)cfg->per_input_ms * er.count;
        struct timespec ready;
        double work0 = fo_now_ms(s);
        fo_deadline(&ready, model_ms);
        embed_reply(s, ep, &er, texts, lens, n, lr->start_ms, work0 + (double)model_ms, resp,
                    &lr->fault, &lr->cached);
        body_faults(cfg, n, resp, &lr->fault);
        lr->work_ms = fo_now_ms(s) - work0;
        fo_sleep_until_locked(s, &ready);
    }
    if (!resp->body)
        text_reply(resp, 500, "out of memory");
    lr->end_ms = fo_now_ms(s);
    log_request(s, req, lr, resp);
    fo_model_release(s);

    free(texts);
    free(lens);
    free(er.texts);
    free(er.lens);
    yajl_tree_free(er.tree);
    lr->texts = NULL;
    lr->count = 0;
}

static int authorized(const fo_config *cfg, const char *auth)
{
    if (!cfg->api_key)
        return 1;
    if (!auth || strncmp(auth, "Bearer ", 7) != 0)
        return 0;
    return strcmp(auth + 7, cfg->api_key) == 0;
}

void fo_handle(fo_server *s, const fo_request *req, fo_response *resp)
{
    logrec lr;
    memset(&lr, 0, sizeof lr);
    lr.seq = fo_next_seq(s);
    lr.start_ms = fo_now_ms(s);
    int post = strcmp(req->method, "POST") == 0;
    int get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
    const char *url = req->url;
    enum endpoint ep = EP_EMBED;
    int embed = 0;

    if (post && strcmp(url, "/api/embed") == 0 && !s->cfg->no_embed_endpoint) {
        embed = 1;
        ep = EP_EMBED;
    } else if (post && strcmp(url, "/api/embeddings") == 0) {
        embed = 1;
        ep = EP_EMBEDDINGS;
    } else if (post && strcmp(url, "/v1/embeddings") == 0) {
        embed = 1;
        ep = EP_V1;
    }

    if (!authorized(s->cfg, req->auth)) {
        if (strncmp(url, "/v1/", 4) == 0)
            error_reply(resp, EP_V1, 401, "Incorrect API key provided", "invalid_request_error");
        else
            error_reply(resp, EP_EMBED, 401, "unauthorized", NULL);
        lr.fault = "auth";
    } else if (embed) {
        handle_embed(s, req, ep, resp, &lr);
        return;
    } else if (get && strcmp(url, "/api/tags") == 0) {
        handle_tags(s, resp);
    } else if (get && strcmp(url, "/api/version") == 0) {
        char *b = strdup("{\"version\":\"0.0.0-fake\"}");
        set_body(resp, 200, b, b ? strlen(b) : 0);
    } else if (get && strcmp(url, "/") == 0) {
        text_reply(resp, 200, "Ollama is running");
    } else if (post && strcmp(url, "/api/show") == 0) {
        yajl_val tree = NULL;
        handle_show(s, req, resp, &lr.model, &tree);
        lr.end_ms = fo_now_ms(s);
        log_request(s, req, &lr, resp);
        yajl_tree_free(tree);
        return;
    } else {
        text_reply(resp, 404, "404 page not found");
    }
    if (!resp->body)
        text_reply(resp, 500, "out of memory");
    lr.end_ms = fo_now_ms(s);
    log_request(s, req, &lr, resp);
}
