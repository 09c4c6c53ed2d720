/*
 * embed/reply.c - streaming parser for embedding replies (see reply.h).
 */
#include "embed/reply.h"

#include "embed/fparse.h"
#include "util/alloc.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <yajl/yajl_parse.h>

enum { KEY_OTHER = 0, KEY_VECTORS = 1, KEY_EMBEDDING = 2, KEY_INDEX = 3 };

/*
 * yajl allocates with libc's malloc on purpose: it does not check its own
 * allocations (yajl_buf, the lexer), so routing them through the failure-
 * injecting allocator would turn an injected failure into a crash. yajl's
 * allocations are per handle and per long string, never per number.
 */

static int reject(resona__reply *p, resona__reply_error err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int reject(resona__reply *p, resona__reply_error err, const char *fmt, ...)
{
    if (p->err == RESONA__REPLY_OK) {
        p->err = err;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->msg, sizeof(p->msg), fmt, ap);
        va_end(ap);
    }
    return 0; /* cancels the yajl parse */
}

static int vec_depth(const resona__reply *p)
{
    switch (p->kind) {
    case RESONA__REPLY_LEGACY: return 2;
    case RESONA__REPLY_OPENAI: return 4;
    default: return 3;
    }
}

static int reserve(resona__reply *p, size_t floats)
{
    if (floats <= p->cap)
        return 0;
    float *v = resona__reallocarray(p->vecs, floats, sizeof(float));
    if (!v)
        return -1;
    p->vecs = v;
    p->cap = floats;
    return 0;
}

/* A value that is not a number: fine outside vectors, fatal inside the list. */
static int not_number(resona__reply *p, const char *what)
{
    if (p->depth == 0)
        return reject(p, RESONA__REPLY_MALFORMED, "reply is a %s, not an object", what);
    if (p->in_vec)
        return reject(p, RESONA__REPLY_MALFORMED, "vector %zu holds a %s", p->nvec, what);
    if (p->in_list && p->kind != RESONA__REPLY_OPENAI && p->depth == vec_depth(p) - 1)
        return reject(p, RESONA__REPLY_MALFORMED, "embedding list holds a %s", what);
    return 1;
}

static int cb_null(void *ctx)
{
    return not_number(ctx, "null");
}

static int cb_boolean(void *ctx, int b)
{
    (void)b;
    return not_number(ctx, "boolean");
}

static int cb_string(void *ctx, const unsigned char *s, size_t len)
{
    (void)s;
    (void)len;
    resona__reply *p = ctx;
    if (p->kind == RESONA__REPLY_OPENAI && p->depth == 3 && p->key3 == KEY_EMBEDDING)
        return reject(p, RESONA__REPLY_MALFORMED, "base64 embeddings are not supported");
    return not_number(ctx, "string");
}

static int cb_number(void *ctx, const char *s, size_t len)
{
    resona__reply *p = ctx;
    if (p->in_vec && p->depth == vec_depth(p)) {
        float f;
        if (resona__embed_parse_f32(s, len, &f) < 0)
            return reject(p, RESONA__REPLY_MALFORMED, "bad number in vector %zu", p->nvec);
        if (!isfinite(f))
            return reject(p, RESONA__REPLY_NONFINITE, "vector %zu value %zu is not finite (%.*s)",
                          p->nvec, p->cur, (int)(len > 40 ? 40 : len), s);
        if (p->dim) {
            if (p->cur >= p->dim)
                return reject(p, RESONA__REPLY_DIM, "vector %zu has more than %u values",
                              p->nvec, p->dim);
            p->vecs[p->nvec * p->dim + p->cur++] = f;
        } else {
            if (p->cur >= RESONA__REPLY_MAX_DIM)
                return reject(p, RESONA__REPLY_DIM, "vector 0 has more than %u values",
                              RESONA__REPLY_MAX_DIM);
            if (p->cur == p->cap && reserve(p, p->cap ? p->cap * 2 : 1024) < 0)
                return reject(p, RESONA__REPLY_NOMEM, "out of memory");
            p->vecs[p->cur++] = f;
        }
        return 1;
    }
    if (p->kind == RESONA__REPLY_OPENAI && p->depth == 3 && p->key3 == KEY_INDEX) {
        int64_t v = 0;
        for (size_t i = 0; i < len; i++) {
            if (s[i] < '0' || s[i] > '9' || v > (int64_t)1 << 40)
                return reject(p, RESONA__REPLY_MALFORMED, "bad \"index\" %.*s",
                              (int)(len > 40 ? 40 : len), s);
            v = v * 10 + (s[i] - '0');
        }
        p->item_index = v;
        return 1;
    }
    return not_number(ctx, "number");
}

static int cb_start_map(void *ctx)
{
    resona__reply *p = ctx;
    if (p->in_vec)
        return reject(p, RESONA__REPLY_MALFORMED, "vector %zu holds an object", p->nvec);
    p->depth++;
    if (p->kind == RESONA__REPLY_OPENAI && p->in_list && p->depth == 3) {
        p->item_index = -1;
        p->key3 = KEY_OTHER;
        p->cur = 0;
    } else if (p->in_list && p->depth == vec_depth(p)) {
        return reject(p, RESONA__REPLY_MALFORMED, "embedding list holds an object");
    }
    return 1;
}

static int cb_map_key(void *ctx, const unsigned char *key, size_t len)
{
    resona__reply *p = ctx;
    if (p->depth == 1) {
        const char *want = p->kind == RESONA__REPLY_OLLAMA   ? "embeddings"
                           : p->kind == RESONA__REPLY_LEGACY ? "embedding"
                                                             : "data";
        p->key1 = len == strlen(want) && memcmp(key, want, len) == 0 ? KEY_VECTORS : KEY_OTHER;
    } else if (p->depth == 3 && p->kind == RESONA__REPLY_OPENAI && p->in_list) {
        if (len == 9 && memcmp(key, "embedding", 9) == 0)
            p->key3 = KEY_EMBEDDING;
        else if (len == 5 && memcmp(key, "index", 5) == 0)
            p->key3 = KEY_INDEX;
        else
            p->key3 = KEY_OTHER;
    }
    return 1;
}

static int begin_vector(resona__reply *p)
{
    if (p->nvec >= p->expected)
        return reject(p, RESONA__REPLY_COUNT, "more than %zu vectors for %zu inputs",
                      p->expected, p->expected);
    p->cur = 0;
    p->in_vec = 1;
    return 1;
}

static int end_vector(resona__reply *p)
{
    if (p->dim == 0) {
        if (p->cur == 0)
            return reject(p, RESONA__REPLY_DIM, "vector 0 is empty");
        p->dim = (uint32_t)p->cur;
        if (reserve(p, p->expected * p->dim) < 0)
            return reject(p, RESONA__REPLY_NOMEM, "out of memory");
    } else if (p->cur != p->dim) {
        return reject(p, RESONA__REPLY_DIM, "vector %zu has %zu values, expected %u", p->nvec,
                      p->cur, p->dim);
    }
    p->in_vec = 0;
    if (p->kind != RESONA__REPLY_OPENAI)
        p->nvec++;
    return 1;
}

static int cb_end_map(void *ctx)
{
    resona__reply *p = ctx;
    if (p->kind == RESONA__REPLY_OPENAI && p->in_list && p->depth == 3) {
        if (!p->order || p->nvec >= p->expected)
            return reject(p, RESONA__REPLY_COUNT, "more than %zu items for %zu inputs",
                          p->expected, p->expected);
        if (p->cur == 0 || (p->dim && p->cur != p->dim))
            return reject(p, RESONA__REPLY_MALFORMED, "data item %zu has no embedding", p->nvec);
        if (p->item_index >= 0 && (uint64_t)p->item_index >= p->expected)
            return reject(p, RESONA__REPLY_MALFORMED, "data item index %lld out of range",
                          (long long)p->item_index);
        p->order[p->nvec] = (uint32_t)(p->item_index >= 0 ? p->item_index : (int64_t)p->nvec);
        p->nvec++;
        p->cur = 0;
    }
    p->depth--;
    return 1;
}

static int cb_start_array(void *ctx)
{
    resona__reply *p = ctx;
    if (p->in_vec)
        return reject(p, RESONA__REPLY_MALFORMED, "vector %zu holds an array", p->nvec);
    if (p->depth == 0)
        return reject(p, RESONA__REPLY_MALFORMED, "reply is an array, not an object");
    p->depth++;
    int vd = vec_depth(p);
    if (p->depth == 2 && p->key1 == KEY_VECTORS) {
        if (p->seen_list)
            return reject(p, RESONA__REPLY_MALFORMED, "two embedding lists");
        p->seen_list = 1;
        p->in_list = 1;
        if (p->kind == RESONA__REPLY_LEGACY)
            return begin_vector(p);
        return 1;
    }
    if (p->in_list && p->depth == vd) {
        if (p->kind == RESONA__REPLY_OPENAI && p->key3 != KEY_EMBEDDING)
            return 1;
        if (p->kind == RESONA__REPLY_OPENAI && p->cur != 0)
            return reject(p, RESONA__REPLY_MALFORMED, "data item %zu has two embeddings",
                          p->nvec);
        return begin_vector(p);
    }
    if (p->in_list && p->kind != RESONA__REPLY_OPENAI && p->depth > vd)
        return reject(p, RESONA__REPLY_MALFORMED, "nested arrays in vector %zu", p->nvec);
    return 1;
}

static int cb_end_array(void *ctx)
{
    resona__reply *p = ctx;
    int vd = vec_depth(p);
    int rc = 1;
    if (p->in_vec && p->depth == vd) {
        rc = end_vector(p);
        if (p->kind == RESONA__REPLY_LEGACY)
            p->in_list = 0;
    } else if (p->in_list && p->depth == 2) {
        p->in_list = 0;
    }
    p->depth--;
    return rc;
}

static const yajl_callbacks reply_callbacks = {
    cb_null, cb_boolean, NULL, NULL, cb_number, cb_string,
    cb_start_map, cb_map_key, cb_end_map, cb_start_array, cb_end_array};

int resona__reply_init(resona__reply *p, resona__reply_kind kind, size_t expected, uint32_t dim)
{
    memset(p, 0, sizeof(*p));
    p->kind = kind;
    p->expected = expected;
    p->dim = dim;
    if (dim && expected && reserve(p, expected * dim) < 0)
        goto nomem;
    if (kind == RESONA__REPLY_OPENAI && expected) {
        p->order = resona__reallocarray(NULL, expected, sizeof(uint32_t));
        if (!p->order)
            goto nomem;
    }
    p->yajl = yajl_alloc(&reply_callbacks, NULL, p);
    if (!p->yajl)
        goto nomem;
    return 0;
nomem:
    reject(p, RESONA__REPLY_NOMEM, "out of memory");
    resona__reply_free(p);
    p->err = RESONA__REPLY_NOMEM;
    return -1;
}

static int yajl_failed(resona__reply *p, const char *data, size_t len)
{
    if (p->err != RESONA__REPLY_OK)
        return -1;
    unsigned char *m = yajl_get_error(p->yajl, 0, (const unsigned char *)data, len);
    reject(p, RESONA__REPLY_MALFORMED, "invalid JSON: %s", m ? (const char *)m : "?");
    if (m)
        yajl_free_error(p->yajl, m);
    return -1;
}

int resona__reply_feed(resona__reply *p, const char *data, size_t len)
{
    if (p->err != RESONA__REPLY_OK)
        return -1;
    if (yajl_parse(p->yajl, (const unsigned char *)data, len) != yajl_status_ok)
        return yajl_failed(p, data, len);
    return 0;
}

int resona__reply_finish(resona__reply *p)
{
    if (p->err != RESONA__REPLY_OK)
        return -1;
    if (yajl_complete_parse(p->yajl) != yajl_status_ok)
        return yajl_failed(p, NULL, 0);
    if (!p->seen_list)
        return reject(p, RESONA__REPLY_MALFORMED, "reply has no %s",
                      p->kind == RESONA__REPLY_OLLAMA   ? "\"embeddings\""
                      : p->kind == RESONA__REPLY_LEGACY ? "\"embedding\""
                                                        : "\"data\""),
               -1;
    if (p->nvec != p->expected)
        return reject(p, RESONA__REPLY_COUNT, "%zu vectors for %zu inputs", p->nvec,
                      p->expected),
               -1;
    if (p->kind == RESONA__REPLY_OPENAI && p->expected) {
        int in_order = 1;
        for (size_t i = 0; i < p->nvec; i++)
            in_order &= p->order[i] == i;
        if (!in_order) {
            float *sorted = resona__reallocarray(NULL, p->expected * p->dim, sizeof(float));
            uint8_t *seen = resona__calloc(p->expected, 1);
            if (!sorted || !seen) {
                resona__free(sorted);
                resona__free(seen);
                return reject(p, RESONA__REPLY_NOMEM, "out of memory"), -1;
            }
            for (size_t i = 0; i < p->nvec; i++) {
                uint32_t at = p->order[i];
                if (seen[at]) {
                    resona__free(sorted);
                    resona__free(seen);
                    return reject(p, RESONA__REPLY_MALFORMED, "data index %u appears twice", at),
                           -1;
                }
                seen[at] = 1;
                memcpy(sorted + (size_t)at * p->dim, p->vecs + i * p->dim,
                       p->dim * sizeof(float));
            }
            resona__free(seen);
            resona__free(p->vecs);
            p->vecs = sorted;
            p->cap = p->expected * p->dim;
        }
    }
    return 0;
}

float *resona__reply_take(resona__reply *p)
{
    float *v = p->vecs;
    p->vecs = NULL;
    p->cap = 0;
    return v;
}

void resona__reply_free(resona__reply *p)
{
    if (p->yajl)
        yajl_free(p->yajl);
    p->yajl = NULL;
    resona__free(p->vecs);
    p->vecs = NULL;
    p->cap = 0;
    resona__free(p->order);
    p->order = NULL;
}

/* ---- error bodies ------------------------------------------------------- */

typedef struct errbody {
    int depth;
    int key;     /* 1: at "error" (depth 1), 2: at "message" inside it */
    char *out;
    size_t cap;
    int found;
} errbody;

static int eb_string(void *ctx, const unsigned char *s, size_t len)
{
    errbody *b = ctx;
    if (!b->found && ((b->depth == 1 && b->key == 1) || (b->depth == 2 && b->key == 2))) {
        size_t n = len < b->cap - 1 ? len : b->cap - 1;
        memcpy(b->out, s, n);
        b->out[n] = '\0';
        b->found = 1;
    }
    return 1;
}

static int eb_start_map(void *ctx)
{
    errbody *b = ctx;
    b->depth++;
    if (b->depth == 2 && b->key != 1)
        b->key = 0;
    return 1;
}

static int eb_end_map(void *ctx)
{
    errbody *b = ctx;
    b->depth--;
    return 1;
}

static int eb_map_key(void *ctx, const unsigned char *k, size_t len)
{
    errbody *b = ctx;
    if (b->depth == 1)
        b->key = len == 5 && memcmp(k, "error", 5) == 0 ? 1 : 0;
    else if (b->depth == 2 && b->key >= 1)
        b->key = len == 7 && memcmp(k, "message", 7) == 0 ? 2 : 1;
    return 1;
}

static int eb_start_array(void *ctx)
{
    errbody *b = ctx;
    b->depth += 100; /* nothing inside arrays counts */
    return 1;
}

static int eb_end_array(void *ctx)
{
    errbody *b = ctx;
    b->depth -= 100;
    return 1;
}

static const yajl_callbacks errbody_callbacks = {
    NULL, NULL, NULL, NULL, NULL, eb_string, eb_start_map, eb_map_key, eb_end_map,
    eb_start_array, eb_end_array};

void resona__reply_error_message(const char *body, size_t len, char *out, size_t cap)
{
    if (cap == 0)
        return;
    out[0] = '\0';
    errbody b = {0, 0, out, cap, 0};
    yajl_handle h = yajl_alloc(&errbody_callbacks, NULL, &b);
    if (h) {
        if (yajl_parse(h, (const unsigned char *)body, len) == yajl_status_ok)
            yajl_complete_parse(h);
        yajl_free(h);
    }
    if (b.found)
        return;
    /* Not our JSON shape: the body itself, trimmed, control bytes as spaces. */
    while (len && (body[len - 1] == '\n' || body[len - 1] == '\r' || body[len - 1] == ' '))
        len--;
    size_t n = len < cap - 1 ? len : cap - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = (unsigned char)body[i] < 0x20 ? ' ' : body[i];
    out[n] = '\0';
}
