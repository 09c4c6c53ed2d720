/*
 * sync/jtree.c - JSON trees in an arena, JavaScript-compatible printing
 * (see jtree.h).
 *
 * The builder keeps one growable vector per nesting level, reused from doc to
 * doc, and copies a container into the arena only when it closes, so a doc
 * costs one arena allocation per value and nothing is reallocated in the
 * arena. Objects are put into JavaScript property order when they close.
 */
#include "sync/jtree.h"

#include "sync/jsnum.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

/* ---- arena -------------------------------------------------------------- */

typedef struct arena_block {
    struct arena_block *next;
    size_t used, size;
    /* data follows, 8-byte aligned */
} arena_block;

struct jt_arena {
    arena_block *head; /* current block; older blocks chained behind */
    size_t total;      /* bytes allocated in blocks */
    size_t handed;     /* bytes handed out since reset */
    size_t max;
};

#define ARENA_BLOCK_MIN (64 * 1024)
#define BLOCK_DATA(b) ((char *)(b) + ((sizeof(arena_block) + 7) & ~(size_t)7))

jt_arena *jt_arena_new(size_t max_bytes)
{
    jt_arena *a = calloc(1, sizeof(*a));
    if (a)
        a->max = max_bytes;
    return a;
}

void jt_arena_reset(jt_arena *a)
{
    if (!a->head)
        return;
    /* keep the oldest block (the first one allocated), free the rest */
    arena_block *b = a->head, *keep = NULL;
    while (b) {
        arena_block *next = b->next;
        if (!next)
            keep = b;
        else
            free(b);
        b = next;
    }
    keep->used = 0;
    keep->next = NULL;
    a->head = keep;
    a->total = keep->size;
    a->handed = 0;
}

void jt_arena_free(jt_arena *a)
{
    if (!a)
        return;
    arena_block *b = a->head;
    while (b) {
        arena_block *next = b->next;
        free(b);
        b = next;
    }
    free(a);
}

void *jt_arena_alloc(jt_arena *a, size_t len)
{
    len = (len + 7) & ~(size_t)7;
    if (len == 0)
        len = 8;
    if (a->max && (len > a->max || a->handed > a->max - len))
        return NULL;
    arena_block *b = a->head;
    if (!b || b->size - b->used < len) {
        size_t size = ARENA_BLOCK_MIN;
        while (size < len)
            size *= 2;
        if (b && size < b->size * 2 && b->size * 2 <= 16 * 1024 * 1024)
            size = b->size * 2;
        arena_block *nb = malloc(((sizeof(arena_block) + 7) & ~(size_t)7) + size);
        if (!nb)
            return NULL;
        nb->used = 0;
        nb->size = size;
        nb->next = b;
        a->head = nb;
        a->total += size;
        b = nb;
    }
    void *p = BLOCK_DATA(b) + b->used;
    b->used += len;
    a->handed += len;
    return p;
}

char *jt_arena_strndup(jt_arena *a, const char *s, size_t len)
{
    if (len == SIZE_MAX)
        return NULL;
    char *p = jt_arena_alloc(a, len + 1);
    if (!p)
        return NULL;
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

size_t jt_arena_used(const jt_arena *a)
{
    return a->handed;
}

/* ---- builder ------------------------------------------------------------ */

typedef struct frame {
    int is_object;
    void *vec; /* jt_val ** or jt_member * */
    size_t count, cap; /* items; capacity in bytes */
    const char *key;   /* pending key (objects) */
    size_t key_len;
} frame;

struct jt_builder {
    jt_arena *arena;
    int max_depth;
    int depth; /* number of open containers */
    frame *frames;
    jt_val *root;
    size_t *scratch; /* index vector for object ordering */
    size_t scratch_cap;
};

jt_builder *jt_builder_new(jt_arena *arena, int max_depth)
{
    jt_builder *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->arena = arena;
    b->max_depth = max_depth;
    b->frames = calloc((size_t)max_depth + 1, sizeof(frame));
    if (!b->frames) {
        free(b);
        return NULL;
    }
    return b;
}

void jt_builder_free(jt_builder *b)
{
    if (!b)
        return;
    for (int i = 0; i <= b->max_depth; i++)
        free(b->frames[i].vec);
    free(b->frames);
    free(b->scratch);
    free(b);
}

void jt_builder_set_arena(jt_builder *b, jt_arena *arena)
{
    b->arena = arena;
}

void jt_builder_reset(jt_builder *b)
{
    b->depth = 0;
    b->root = NULL;
}

jt_val *jt_builder_root(const jt_builder *b)
{
    return b->depth == 0 ? b->root : NULL;
}

int jt_builder_depth(const jt_builder *b)
{
    return b->depth;
}

static int frame_push(frame *f, const void *elem, size_t elem_size)
{
    /* frames are reused by arrays (8-byte items) and objects (members), so
     * the capacity is counted in bytes */
    size_t need = (f->count + 1) * elem_size;
    if (need > f->cap) {
        size_t ncap = f->cap ? f->cap * 2 : 16 * sizeof(jt_member);
        while (ncap < need)
            ncap *= 2;
        void *nv = realloc(f->vec, ncap);
        if (!nv)
            return -1;
        f->vec = nv;
        f->cap = ncap;
    }
    memcpy((char *)f->vec + f->count * elem_size, elem, elem_size);
    f->count++;
    return 0;
}

/* Attach a finished value to the open container, or make it the root. */
static int place(jt_builder *b, jt_val *v)
{
    if (b->depth == 0) {
        b->root = v;
        return 0;
    }
    frame *f = &b->frames[b->depth - 1];
    if (!f->is_object)
        return frame_push(f, &v, sizeof(v));
    jt_member m = {f->key ? f->key : "", f->key_len, v};
    f->key = NULL;
    return frame_push(f, &m, sizeof(m));
}

static jt_val *new_val(jt_builder *b, jt_type t)
{
    jt_val *v = jt_arena_alloc(b->arena, sizeof(*v));
    if (v)
        v->type = t;
    return v;
}

int jt_builder_null(jt_builder *b)
{
    jt_val *v = new_val(b, JT_NULL);
    return v ? place(b, v) : -1;
}

int jt_builder_bool(jt_builder *b, int x)
{
    jt_val *v = new_val(b, x ? JT_TRUE : JT_FALSE);
    return v ? place(b, v) : -1;
}

int jt_builder_number(jt_builder *b, const char *raw, size_t len)
{
    jt_val *v = new_val(b, JT_NUMBER);
    if (!v)
        return -1;
    char *r = jt_arena_strndup(b->arena, raw, len);
    if (!r)
        return -1;
    v->u.num.raw = r;
    v->u.num.len = len;
    /* integer literals of up to 15 digits are exact doubles: skip strtod */
    size_t i = (len && r[0] == '-') ? 1 : 0, j = i;
    uint64_t u = 0;
    while (j < len && j - i < 16 && r[j] >= '0' && r[j] <= '9')
        u = u * 10 + (uint64_t)(r[j++] - '0');
    if (j == len && j > i && j - i <= 15)
        v->u.num.d = i ? -(double)u : (double)u;
    else
        v->u.num.d = strtod(r, NULL);
    return place(b, v);
}

int jt_builder_string(jt_builder *b, const char *s, size_t len)
{
    jt_val *v = new_val(b, JT_STRING);
    if (!v)
        return -1;
    char *c = jt_arena_strndup(b->arena, s, len);
    if (!c)
        return -1;
    v->u.str.s = c;
    v->u.str.len = len;
    return place(b, v);
}

int jt_builder_key(jt_builder *b, const char *s, size_t len)
{
    if (b->depth == 0)
        return -1;
    frame *f = &b->frames[b->depth - 1];
    char *k = jt_arena_strndup(b->arena, s, len);
    if (!k)
        return -1;
    f->key = k;
    f->key_len = len;
    return 0;
}

static int open_container(jt_builder *b, int is_object)
{
    if (b->depth >= b->max_depth)
        return -2;
    frame *f = &b->frames[b->depth++];
    f->is_object = is_object;
    f->count = 0;
    f->key = NULL;
    return 0;
}

int jt_builder_start_map(jt_builder *b)
{
    return open_container(b, 1);
}

int jt_builder_start_array(jt_builder *b)
{
    return open_container(b, 0);
}

int jt_builder_end_array(jt_builder *b)
{
    if (b->depth == 0)
        return -1;
    frame *f = &b->frames[b->depth - 1];
    jt_val *v = new_val(b, JT_ARRAY);
    if (!v)
        return -1;
    v->u.arr.count = f->count;
    v->u.arr.items = NULL;
    if (f->count) {
        v->u.arr.items = jt_arena_alloc(b->arena, f->count * sizeof(jt_val *));
        if (!v->u.arr.items)
            return -1;
        memcpy(v->u.arr.items, f->vec, f->count * sizeof(jt_val *));
    }
    b->depth--;
    return place(b, v);
}

/* Array index keys ("0", "1", ... "4294967294") order first in JS objects. */
static int array_index_key(const char *k, size_t len, uint32_t *out)
{
    if (len == 0 || len > 10 || (len > 1 && k[0] == '0'))
        return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (k[i] < '0' || k[i] > '9')
            return 0;
        v = v * 10 + (uint64_t)(k[i] - '0');
    }
    if (v >= 4294967295u)
        return 0;
    *out = (uint32_t)v;
    return 1;
}

static _Thread_local jt_member *sort_members; /* qsort context (single-threaded use) */

static int cmp_key_then_pos(const void *pa, const void *pb)
{
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    const jt_member *ma = &sort_members[a], *mb = &sort_members[b];
    size_t n = ma->key_len < mb->key_len ? ma->key_len : mb->key_len;
    int c = memcmp(ma->key, mb->key, n);
    if (c == 0 && ma->key_len != mb->key_len)
        c = ma->key_len < mb->key_len ? -1 : 1;
    if (c == 0)
        c = a < b ? -1 : (a > b ? 1 : 0);
    return c;
}

static int cmp_index_key(const void *pa, const void *pb)
{
    const jt_member *a = pa, *b = pb;
    uint32_t x = 0, y = 0;
    array_index_key(a->key, a->key_len, &x);
    array_index_key(b->key, b->key_len, &y);
    return x < y ? -1 : (x > y ? 1 : 0);
}

static int key_eq(const jt_member *a, const jt_member *b)
{
    return a->key_len == b->key_len && memcmp(a->key, b->key, a->key_len) == 0;
}

/* Put the members of f into JS order in place; returns the new count. */
static size_t js_order(jt_builder *b, frame *f)
{
    jt_member *m = f->vec;
    size_t n = f->count;
    int has_dup = 0;
    if (n <= 16) {
        for (size_t i = 1; i < n && !has_dup; i++)
            for (size_t j = 0; j < i; j++)
                if (key_eq(&m[i], &m[j])) {
                    has_dup = 1;
                    break;
                }
    } else {
        if (b->scratch_cap < n) {
            size_t *ns = realloc(b->scratch, n * sizeof(size_t));
            if (!ns)
                return (size_t)-1;
            b->scratch = ns;
            b->scratch_cap = n;
        }
        for (size_t i = 0; i < n; i++)
            b->scratch[i] = i;
        sort_members = m;
        qsort(b->scratch, n, sizeof(size_t), cmp_key_then_pos);
        for (size_t i = 1; i < n; i++)
            if (key_eq(&m[b->scratch[i]], &m[b->scratch[i - 1]]))
                has_dup = 1;
    }
    if (has_dup) {
        /* last value wins, at the first position; O(n^2) but only on duplicates */
        size_t w = 0;
        for (size_t i = 0; i < n; i++) {
            size_t j;
            for (j = 0; j < w; j++)
                if (key_eq(&m[j], &m[i]))
                    break;
            if (j < w)
                m[j].val = m[i].val;
            else
                m[w++] = m[i];
        }
        n = w;
    }
    size_t nidx = 0;
    uint32_t dummy;
    for (size_t i = 0; i < n; i++)
        if (array_index_key(m[i].key, m[i].key_len, &dummy))
            nidx++;
    if (nidx) {
        /* stable partition: index keys first (then sorted), others in order */
        jt_member *tmp = malloc(n * sizeof(*tmp));
        if (!tmp)
            return (size_t)-1;
        size_t a = 0, c = nidx;
        for (size_t i = 0; i < n; i++) {
            if (array_index_key(m[i].key, m[i].key_len, &dummy))
                tmp[a++] = m[i];
            else
                tmp[c++] = m[i];
        }
        qsort(tmp, nidx, sizeof(*tmp), cmp_index_key);
        memcpy(m, tmp, n * sizeof(*tmp));
        free(tmp);
    }
    return n;
}

int jt_builder_end_map(jt_builder *b)
{
    if (b->depth == 0)
        return -1;
    frame *f = &b->frames[b->depth - 1];
    size_t n = js_order(b, f);
    if (n == (size_t)-1)
        return -1;
    jt_val *v = new_val(b, JT_OBJECT);
    if (!v)
        return -1;
    v->u.obj.count = n;
    v->u.obj.members = NULL;
    if (n) {
        v->u.obj.members = jt_arena_alloc(b->arena, n * sizeof(jt_member));
        if (!v->u.obj.members)
            return -1;
        memcpy(v->u.obj.members, f->vec, n * sizeof(jt_member));
    }
    b->depth--;
    return place(b, v);
}

/* ---- whole-text parse (config files) ------------------------------------ */

typedef struct parse_ctx {
    jt_builder *b;
    int rc;
} parse_ctx;

#define PC(ctx) ((parse_ctx *)(ctx))
#define CHK(ctx, call)                                                                             \
    do {                                                                                           \
        int r_ = (call);                                                                           \
        if (r_ < 0) {                                                                              \
            PC(ctx)->rc = r_;                                                                      \
            return 0;                                                                              \
        }                                                                                          \
        return 1;                                                                                  \
    } while (0)

static int p_null(void *ctx)
{
    CHK(ctx, jt_builder_null(PC(ctx)->b));
}
static int p_bool(void *ctx, int v)
{
    CHK(ctx, jt_builder_bool(PC(ctx)->b, v));
}
static int p_number(void *ctx, const char *s, size_t len)
{
    CHK(ctx, jt_builder_number(PC(ctx)->b, s, len));
}
static int p_string(void *ctx, const unsigned char *s, size_t len)
{
    CHK(ctx, jt_builder_string(PC(ctx)->b, (const char *)s, len));
}
static int p_key(void *ctx, const unsigned char *s, size_t len)
{
    CHK(ctx, jt_builder_key(PC(ctx)->b, (const char *)s, len));
}
static int p_start_map(void *ctx)
{
    CHK(ctx, jt_builder_start_map(PC(ctx)->b));
}
static int p_end_map(void *ctx)
{
    CHK(ctx, jt_builder_end_map(PC(ctx)->b));
}
static int p_start_array(void *ctx)
{
    CHK(ctx, jt_builder_start_array(PC(ctx)->b));
}
static int p_end_array(void *ctx)
{
    CHK(ctx, jt_builder_end_array(PC(ctx)->b));
}

static const yajl_callbacks parse_callbacks = {p_null,    p_bool,        NULL,        NULL,
                                               p_number,  p_string,      p_start_map, p_key,
                                               p_end_map, p_start_array, p_end_array};

int jt_parse(jt_arena *arena, const char *text, size_t len, int max_depth, jt_val **out, char *err,
             size_t errlen)
{
    int rc = -1;
    parse_ctx ctx = {jt_builder_new(arena, max_depth), 0};
    yajl_handle h = NULL;
    if (!ctx.b) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    h = yajl_alloc(&parse_callbacks, NULL, &ctx);
    if (!h) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    yajl_status st = yajl_parse(h, (const unsigned char *)text, len);
    size_t off = yajl_get_bytes_consumed(h);
    if (st == yajl_status_ok) {
        st = yajl_complete_parse(h);
        off = len;
    }
    if (st != yajl_status_ok) {
        if (ctx.rc == -2)
            snprintf(err, errlen, "nested deeper than %d levels at byte %zu", max_depth, off);
        else if (ctx.rc == -1)
            snprintf(err, errlen, "out of memory at byte %zu", off);
        else {
            unsigned char *m = yajl_get_error(h, 0, NULL, 0);
            const char *msg = (const char *)m;
            if (strncmp(msg, "parse error: ", 13) == 0)
                msg += 13;
            snprintf(err, errlen, "invalid JSON at byte %zu: %s", off, msg);
            yajl_free_error(h, m);
        }
        goto done;
    }
    if (!jt_builder_root(ctx.b)) {
        snprintf(err, errlen, "empty document");
        goto done;
    }
    *out = jt_builder_root(ctx.b);
    rc = 0;
done:
    if (h)
        yajl_free(h);
    jt_builder_free(ctx.b);
    return rc;
}

/* ---- access ------------------------------------------------------------- */

jt_val *jt_get(const jt_val *v, const char *key)
{
    if (!v || v->type != JT_OBJECT)
        return NULL;
    size_t kl = strlen(key);
    for (size_t i = 0; i < v->u.obj.count; i++) {
        const jt_member *m = &v->u.obj.members[i];
        if (m->key_len == kl && memcmp(m->key, key, kl) == 0)
            return m->val;
    }
    return NULL;
}

int jt_streq(const jt_val *v, const char *s)
{
    return v && v->type == JT_STRING && strlen(s) == v->u.str.len &&
           memcmp(v->u.str.s, s, v->u.str.len) == 0;
}

int jt_truthy(const jt_val *v)
{
    if (!v)
        return 0;
    switch (v->type) {
    case JT_NULL:
    case JT_FALSE:
        return 0;
    case JT_TRUE:
        return 1;
    case JT_NUMBER:
        return v->u.num.d != 0 && v->u.num.d == v->u.num.d;
    case JT_STRING:
        return v->u.str.len > 0;
    default:
        return 1;
    }
}

jt_val *jt_new_string(jt_arena *a, const char *s)
{
    jt_val *v = jt_arena_alloc(a, sizeof(*v));
    if (!v)
        return NULL;
    size_t n = strlen(s);
    char *c = jt_arena_strndup(a, s, n);
    if (!c)
        return NULL;
    v->type = JT_STRING;
    v->u.str.s = c;
    v->u.str.len = n;
    return v;
}

jt_val *jt_new_bool(jt_arena *a, int x)
{
    jt_val *v = jt_arena_alloc(a, sizeof(*v));
    if (v)
        v->type = x ? JT_TRUE : JT_FALSE;
    return v;
}

jt_val *jt_new_object(jt_arena *a)
{
    jt_val *v = jt_arena_alloc(a, sizeof(*v));
    if (v) {
        v->type = JT_OBJECT;
        v->u.obj.members = NULL;
        v->u.obj.count = 0;
    }
    return v;
}

int jt_object_set(jt_arena *a, jt_val *obj, const char *key, jt_val *val)
{
    size_t kl = strlen(key);
    for (size_t i = 0; i < obj->u.obj.count; i++) {
        jt_member *m = &obj->u.obj.members[i];
        if (m->key_len == kl && memcmp(m->key, key, kl) == 0) {
            m->val = val;
            return 0;
        }
    }
    jt_member *nm = jt_arena_alloc(a, (obj->u.obj.count + 1) * sizeof(jt_member));
    char *k = jt_arena_strndup(a, key, kl);
    if (!nm || !k)
        return -1;
    if (obj->u.obj.count)
        memcpy(nm, obj->u.obj.members, obj->u.obj.count * sizeof(jt_member));
    nm[obj->u.obj.count] = (jt_member){k, kl, val};
    obj->u.obj.members = nm;
    obj->u.obj.count++;
    return 0;
}

void jt_object_remove(jt_val *obj, const char *key)
{
    size_t kl = strlen(key);
    for (size_t i = 0; i < obj->u.obj.count; i++) {
        jt_member *m = &obj->u.obj.members[i];
        if (m->key_len == kl && memcmp(m->key, key, kl) == 0) {
            memmove(m, m + 1, (obj->u.obj.count - i - 1) * sizeof(*m));
            obj->u.obj.count--;
            return;
        }
    }
}

/* ---- printing ----------------------------------------------------------- */

int jt_out_reserve(jt_out *o, size_t extra)
{
    if (o->cap - o->len > extra)
        return 0;
    if (extra > SIZE_MAX / 2 - o->len)
        return -1;
    size_t need = o->len + extra + 1;
    if (o->max && need > o->max + 1)
        return -1;
    size_t ncap = o->cap ? o->cap : 256;
    while (ncap < need)
        ncap *= 2;
    char *np = realloc(o->ptr, ncap);
    if (!np)
        return -1;
    o->ptr = np;
    o->cap = ncap;
    return 0;
}

int jt_out_append(jt_out *o, const void *data, size_t len)
{
    if (jt_out_reserve(o, len) < 0)
        return -1;
    memcpy(o->ptr + o->len, data, len);
    o->len += len;
    o->ptr[o->len] = '\0';
    return 0;
}

void jt_out_free(jt_out *o)
{
    free(o->ptr);
    o->ptr = NULL;
    o->len = o->cap = 0;
}

int jt_write_string(jt_out *o, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    if (jt_out_reserve(o, len + 2) < 0)
        return -1;
    o->ptr[o->len++] = '"';
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if (jt_out_append(o, s + start, i - start) < 0)
            return -1;
        char esc[6];
        size_t n = 2;
        esc[0] = '\\';
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
        }
        if (jt_out_append(o, esc, n) < 0)
            return -1;
        start = i + 1;
    }
    if (jt_out_append(o, s + start, len - start) < 0)
        return -1;
    return jt_out_append(o, "\"", 1);
}

static int write_indent(jt_out *o, int indent, int level)
{
    if (jt_out_reserve(o, (size_t)(indent * level) + 1) < 0)
        return -1;
    o->ptr[o->len++] = '\n';
    for (int i = 0; i < indent * level; i++)
        o->ptr[o->len++] = ' ';
    o->ptr[o->len] = '\0';
    return 0;
}

static int write_val(jt_out *o, const jt_val *v, int indent, int level)
{
    switch (v->type) {
    case JT_NULL:
        return jt_out_append(o, "null", 4);
    case JT_FALSE:
        return jt_out_append(o, "false", 5);
    case JT_TRUE:
        return jt_out_append(o, "true", 4);
    case JT_NUMBER: {
        double d = v->u.num.d;
        if (d != d || d - d != 0)
            return jt_out_append(o, "null", 4);
        char buf[ST_JSNUM_MAX];
        size_t n = st_jsnum_format_raw(v->u.num.raw, v->u.num.len, d, buf);
        return jt_out_append(o, buf, n);
    }
    case JT_STRING:
        return jt_write_string(o, v->u.str.s, v->u.str.len);
    case JT_ARRAY:
        if (jt_out_append(o, "[", 1) < 0)
            return -1;
        for (size_t i = 0; i < v->u.arr.count; i++) {
            if (i && jt_out_append(o, ",", 1) < 0)
                return -1;
            if (indent && write_indent(o, indent, level + 1) < 0)
                return -1;
            if (write_val(o, v->u.arr.items[i], indent, level + 1) < 0)
                return -1;
        }
        if (indent && v->u.arr.count && write_indent(o, indent, level) < 0)
            return -1;
        return jt_out_append(o, "]", 1);
    case JT_OBJECT:
        if (jt_out_append(o, "{", 1) < 0)
            return -1;
        for (size_t i = 0; i < v->u.obj.count; i++) {
            const jt_member *m = &v->u.obj.members[i];
            if (i && jt_out_append(o, ",", 1) < 0)
                return -1;
            if (indent && write_indent(o, indent, level + 1) < 0)
                return -1;
            if (jt_write_string(o, m->key, m->key_len) < 0)
                return -1;
            if (jt_out_append(o, indent ? ": " : ":", indent ? 2 : 1) < 0)
                return -1;
            if (write_val(o, m->val, indent, level + 1) < 0)
                return -1;
        }
        if (indent && v->u.obj.count && write_indent(o, indent, level) < 0)
            return -1;
        return jt_out_append(o, "}", 1);
    }
    return -1;
}

int jt_write(jt_out *o, const jt_val *v, int indent)
{
    return write_val(o, v, indent, 0);
}
