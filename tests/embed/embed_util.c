/*
 * embed/embed_util.c - see embed_util.h. Tests may use plain libc.
 */
#include "embed_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

float *eu_ref_vector(const char *text, size_t len, uint32_t dim)
{
    unsigned char seed[32];
    unsigned int seed_len = 0;
    unsigned char *raw = malloc((size_t)dim * 4);
    double *x = malloc((size_t)dim * sizeof(double));
    float *out = malloc((size_t)dim * sizeof(float));
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!raw || !x || !out || !ctx)
        abort();
    if (EVP_Digest(text, len, seed, &seed_len, EVP_sha256(), NULL) != 1 ||
        EVP_DigestInit_ex(ctx, EVP_shake256(), NULL) != 1 ||
        EVP_DigestUpdate(ctx, seed, sizeof(seed)) != 1 ||
        EVP_DigestFinalXOF(ctx, raw, (size_t)dim * 4) != 1)
        abort();
    double sum = 0;
    for (uint32_t i = 0; i < dim; i++) {
        const unsigned char *p = raw + (size_t)i * 4;
        uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                     (uint32_t)p[3] << 24;
        x[i] = (double)u / 2147483648.0 - 1.0;
        sum += x[i] * x[i];
    }
    double norm = sqrt(sum);
    for (uint32_t i = 0; i < dim; i++)
        out[i] = (float)(x[i] / norm);
    EVP_MD_CTX_free(ctx);
    free(raw);
    free(x);
    return out;
}

int eu_sink(const resona_embed_result *r, void *payload)
{
    eu_collect *c = payload;
    if (c->count == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->r = realloc(c->r, c->cap * sizeof(eu_result));
        if (!c->r)
            abort();
    }
    eu_result *o = &c->r[c->count++];
    memset(o, 0, sizeof(*o));
    o->index = r->index;
    o->tag = r->tag;
    o->status = r->status;
    o->truncated = r->truncated;
    o->dim = r->dim;
    if (r->vector) {
        o->vector = malloc(r->dim * sizeof(float));
        memcpy(o->vector, r->vector, r->dim * sizeof(float));
    }
    if (r->reason) {
        o->reason = strdup(r->reason);
        size_t used = strlen(c->reasons);
        snprintf(c->reasons + used, sizeof(c->reasons) - used, "%s\n", r->reason);
    }
    return c->hook ? c->hook(c, r) : 0;
}

void eu_collect_free(eu_collect *c)
{
    for (size_t i = 0; i < c->count; i++) {
        free(c->r[i].vector);
        free(c->r[i].reason);
    }
    free(c->r);
    memset(c, 0, sizeof(*c));
}

static char *captured;
static size_t captured_len, captured_cap;

static void capture(resona_log_level level, const char *message, void *payload)
{
    (void)level;
    (void)payload;
    size_t n = strlen(message);
    if (captured_len + n + 2 > captured_cap) {
        captured_cap = (captured_len + n + 2) * 2;
        captured = realloc(captured, captured_cap);
        if (!captured)
            abort();
    }
    memcpy(captured + captured_len, message, n);
    captured_len += n;
    captured[captured_len++] = '\n';
    captured[captured_len] = '\0';
}

void eu_log_capture_start(void)
{
    captured_len = 0;
    if (captured)
        captured[0] = '\0';
    resona_log_set(capture, RESONA_LOG_TRACE, NULL);
}

const char *eu_log_captured(void)
{
    return captured ? captured : "";
}

void eu_log_capture_stop(void)
{
    resona_log_set(NULL, RESONA_LOG_WARN, NULL);
    free(captured);
    captured = NULL;
    captured_len = captured_cap = 0;
}

size_t eu_log_requests(const char *log_path, long status)
{
    FILE *f = fopen(log_path, "r");
    if (!f)
        return 0;
    char *line = NULL;
    size_t cap = 0, count = 0;
    char want[32];
    snprintf(want, sizeof(want), "\"status\":%ld,", status);
    while (getline(&line, &cap, f) > 0) {
        if (strstr(line, "\"n\":0,"))
            continue;
        if (status < 0 || strstr(line, want))
            count++;
    }
    free(line);
    fclose(f);
    return count;
}

static void log_stderr(resona_log_level level, const char *message, void *payload)
{
    (void)payload;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    fprintf(stderr, "[%d %ld.%03ld] %s\n", (int)level, (long)ts.tv_sec % 1000,
            ts.tv_nsec / 1000000, message);
}

void eu_options(resona_embedder_options *o, const char *const *urls, size_t n)
{
    if (getenv("EMBED_TEST_LOG"))
        resona_log_set(log_stderr, RESONA_LOG_TRACE, NULL);
    resona_embedder_options init = RESONA_EMBEDDER_OPTIONS_INIT;
    *o = init;
    o->endpoints = urls;
    o->endpoint_count = n;
    o->model = "bge-m3";
    o->connect_timeout_ms = 2000;
    o->request_timeout_ms = 10000;
    o->per_input_timeout_ms = 100;
    o->preflight_timeout_ms = 2000;
    o->backoff_base_ms = 5;
    o->backoff_max_ms = 50;
    o->retry_total_ms = 20000;
    o->seed = 42;
}
