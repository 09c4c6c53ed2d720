/*
 * sync/export.c - streaming Tana export reader on yajl's callback API
 * (see export.h).
 *
 * The parser tracks only where it is: inside the root object (the top level
 * or "storeData"), inside "docs", inside one doc (built into a jtree), or
 * inside a value it skips (counted, not stored). Before yajl sees a chunk, a
 * tiny scanner measures the JSON string being read, because yajl would
 * otherwise buffer a string that spans chunks without any limit.
 */
#include "sync/export.h"

#include "st_error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_parse.h>

enum key_role { K_NONE, K_FORMAT, K_DOCS, K_EDITORS, K_WORKSPACES, K_STOREDATA, K_OTHER };

struct st_export_reader {
    const char *name;
    st_export_opts opts;
    st_export_doc_fn fn;
    void *payload;
    yajl_handle h;
    jt_arena *arena;
    jt_builder *builder;
    uint64_t base; /* file offset of the current chunk */
    int rc;        /* first failure (0 = none) */

    int depth;      /* open containers in the whole file */
    int top_seen;   /* the top-level value has started */
    int root_depth; /* depth of the root object while inside it (1 or 2), else 0 */
    int docs_depth; /* depth of the docs array while inside it, else 0 */
    int skip_depth; /* > 0 while skipping a nested value */
    int building;   /* inside a doc */
    int store_done; /* storeData was read: ignore the rest of the top level */
    enum key_role pending;
    uint64_t doc_offset;
    size_t doc_index;
    size_t doc_arena_start; /* arena bytes in use when the doc started */

    int got_format, got_docs, top_docs;
    st_export_info info;

    /* string scanner state */
    int in_string, escape;
    uint64_t str_len, str_start;
};

static uint64_t here(st_export_reader *r)
{
    return r->base + (uint64_t)yajl_get_bytes_consumed(r->h);
}

static int fail(st_export_reader *r, int code, const char *what)
{
    if (!r->rc)
        r->rc =
            st_error_set(code, "%s: %s at byte %llu", r->name, what, (unsigned long long)here(r));
    return 0;
}

static int fail_doc(st_export_reader *r, const char *what)
{
    if (!r->rc)
        r->rc = st_error_set(RESONA_EINVALID, "%s: docs[%zu] at byte %llu: %s", r->name,
                             r->doc_index, (unsigned long long)r->doc_offset, what);
    return 0;
}

static int builder_rc(st_export_reader *r, int rc)
{
    if (rc == 0)
        return 1;
    if (rc == -2) {
        char msg[96];
        snprintf(msg, sizeof(msg), "nested deeper than %d levels", r->opts.max_depth);
        return fail(r, RESONA_EINVALID, msg);
    }
    if (jt_arena_used(r->arena) - r->doc_arena_start + 4096 >= r->opts.max_doc) {
        char msg[96];
        snprintf(msg, sizeof(msg), "doc larger than %zu bytes in memory", r->opts.max_doc);
        return fail_doc(r, msg);
    }
    return fail(r, RESONA_ENOMEM, "out of memory");
}

/* A scalar or container start at root level, for the pending key. */
static int root_value(st_export_reader *r,
                      int kind /* 0 scalar-number 1 other scalar 2 null 3 map 4 array */)
{
    enum key_role role = r->pending;
    r->pending = K_NONE;
    switch (role) {
    case K_FORMAT:
        if (kind != 0)
            return fail(r, RESONA_EINVALID, "\"formatVersion\" is not a number");
        r->got_format = 1;
        return 1;
    case K_DOCS:
        if (kind != 4)
            return fail(r, RESONA_EINVALID, "\"docs\" is not an array");
        r->got_docs = 1;
        if (r->root_depth == 1)
            r->top_docs = 1;
        r->docs_depth = r->depth;
        return 1;
    case K_EDITORS:
        if (kind != 4)
            return fail(r, RESONA_EINVALID, "\"editors\" is not an array");
        break;
    case K_WORKSPACES:
        if (kind != 3)
            return fail(r, RESONA_EINVALID, "\"workspaces\" is not an object");
        break;
    case K_STOREDATA:
        if (kind == 2)
            return 1; /* storeData: null -> the top level is the export */
        if (kind != 3)
            return fail(r, RESONA_EINVALID, "\"storeData\" is not an object");
        if (r->top_docs)
            return fail(r, RESONA_EINVALID, "both top-level \"docs\" and \"storeData\"");
        r->got_format = r->got_docs = 0;
        r->info.wrapped = 1;
        r->root_depth = r->depth;
        return 1;
    default:
        break;
    }
    if (kind >= 3)
        r->skip_depth = 1;
    return 1;
}

static int enter(st_export_reader *r)
{
    if (r->depth >= r->opts.max_depth) {
        char msg[96];
        snprintf(msg, sizeof(msg), "nested deeper than %d levels", r->opts.max_depth);
        return fail(r, RESONA_EINVALID, msg);
    }
    r->depth++;
    return 1;
}

static int on_scalar(st_export_reader *r, int kind)
{
    if (r->skip_depth)
        return 1;
    if (!r->top_seen)
        return fail(r, RESONA_EINVALID, "not a Tana export (the top level is not an object)");
    if (r->docs_depth && r->depth == r->docs_depth)
        return fail(r, RESONA_EINVALID, "an element of \"docs\" is not an object");
    if (r->root_depth && r->depth == r->root_depth)
        return root_value(r, kind);
    return 1; /* a scalar inside a skipped top-level value after storeData */
}

#define R(ctx) ((st_export_reader *)(ctx))

static int cb_null(void *ctx)
{
    st_export_reader *r = R(ctx);
    if (r->building)
        return builder_rc(r, jt_builder_null(r->builder));
    return on_scalar(r, 2);
}

static int cb_bool(void *ctx, int v)
{
    st_export_reader *r = R(ctx);
    if (r->building)
        return builder_rc(r, jt_builder_bool(r->builder, v));
    return on_scalar(r, 1);
}

static int cb_number(void *ctx, const char *s, size_t len)
{
    st_export_reader *r = R(ctx);
    if (r->building)
        return builder_rc(r, jt_builder_number(r->builder, s, len));
    return on_scalar(r, 0);
}

static int cb_string(void *ctx, const unsigned char *s, size_t len)
{
    st_export_reader *r = R(ctx);
    if (r->building)
        return builder_rc(r, jt_builder_string(r->builder, (const char *)s, len));
    return on_scalar(r, 1);
}

static int cb_key(void *ctx, const unsigned char *s, size_t len)
{
    st_export_reader *r = R(ctx);
    if (r->building)
        return builder_rc(r, jt_builder_key(r->builder, (const char *)s, len));
    if (r->skip_depth || r->depth != (r->root_depth ? r->root_depth : 1))
        return 1;
    const char *k = (const char *)s;
#define IS(lit) (len == sizeof(lit) - 1 && memcmp(k, lit, len) == 0)
    if (r->store_done)
        r->pending = K_OTHER;
    else if (IS("formatVersion"))
        r->pending = K_FORMAT;
    else if (IS("docs"))
        r->pending = K_DOCS;
    else if (IS("editors"))
        r->pending = K_EDITORS;
    else if (IS("workspaces"))
        r->pending = K_WORKSPACES;
    else if (IS("storeData") && r->root_depth == 1)
        r->pending = K_STOREDATA;
    else
        r->pending = K_OTHER;
#undef IS
    return 1;
}

static int cb_start_map(void *ctx)
{
    st_export_reader *r = R(ctx);
    if (!enter(r))
        return 0;
    if (r->building)
        return builder_rc(r, jt_builder_start_map(r->builder));
    if (r->skip_depth) {
        r->skip_depth++;
        return 1;
    }
    if (!r->top_seen) {
        r->top_seen = 1;
        r->root_depth = 1;
        return 1;
    }
    if (r->docs_depth && r->depth == r->docs_depth + 1) {
        r->building = 1;
        r->doc_offset = here(r) - 1;
        if (!r->opts.keep_docs)
            jt_arena_reset(r->arena);
        r->doc_arena_start = jt_arena_used(r->arena);
        jt_builder_reset(r->builder);
        return builder_rc(r, jt_builder_start_map(r->builder));
    }
    if (r->root_depth && r->depth == r->root_depth + 1)
        return root_value(r, 3);
    r->skip_depth = 1;
    return 1;
}

static int cb_start_array(void *ctx)
{
    st_export_reader *r = R(ctx);
    if (!enter(r))
        return 0;
    if (r->building)
        return builder_rc(r, jt_builder_start_array(r->builder));
    if (r->skip_depth) {
        r->skip_depth++;
        return 1;
    }
    if (!r->top_seen)
        return fail(r, RESONA_EINVALID, "not a Tana export (the top level is not an object)");
    if (r->docs_depth && r->depth == r->docs_depth + 1)
        return fail(r, RESONA_EINVALID, "an element of \"docs\" is not an object");
    if (r->root_depth && r->depth == r->root_depth + 1)
        return root_value(r, 4);
    r->skip_depth = 1;
    return 1;
}

static int finish_doc(st_export_reader *r)
{
    r->building = 0;
    st_export_doc d = {jt_builder_root(r->builder), r->doc_index, r->doc_offset, r};
    int rc = r->fn ? r->fn(&d, r->payload) : 0;
    r->doc_index++;
    r->info.doc_count++;
    if (rc < 0) {
        r->rc = rc;
        return 0;
    }
    return 1;
}

static int leave(st_export_reader *r, int is_map)
{
    r->depth--;
    if (r->building) {
        int rc = is_map ? jt_builder_end_map(r->builder) : jt_builder_end_array(r->builder);
        if (!builder_rc(r, rc))
            return 0;
        if (jt_builder_depth(r->builder) == 0)
            return finish_doc(r);
        return 1;
    }
    if (r->skip_depth) {
        r->skip_depth--;
        return 1;
    }
    if (r->docs_depth && r->depth + 1 == r->docs_depth) {
        r->docs_depth = 0;
        return 1;
    }
    if (r->root_depth == 2 && r->depth == 1) { /* end of storeData */
        r->root_depth = 1;
        r->store_done = 1;
        return 1;
    }
    if (r->root_depth == 1 && r->depth == 0)
        r->root_depth = 0;
    return 1;
}

static int cb_end_map(void *ctx)
{
    return leave(R(ctx), 1);
}

static int cb_end_array(void *ctx)
{
    return leave(R(ctx), 0);
}

static const yajl_callbacks callbacks = {cb_null,    cb_bool,        NULL,         NULL,
                                         cb_number,  cb_string,      cb_start_map, cb_key,
                                         cb_end_map, cb_start_array, cb_end_array};

int st_export_reader_new(const char *name, const st_export_opts *opts, st_export_doc_fn fn,
                         void *payload, st_export_reader **out)
{
    static const st_export_opts defaults = ST_EXPORT_OPTS_INIT;
    st_export_reader *r = calloc(1, sizeof(*r));
    if (!r)
        return st_error_set(RESONA_ENOMEM, "out of memory");
    r->name = name;
    r->opts = opts ? *opts : defaults;
    if (r->opts.max_depth < 8)
        r->opts.max_depth = 8;
    r->fn = fn;
    r->payload = payload;
    r->arena = jt_arena_new(r->opts.max_doc + (r->opts.keep_docs ? ST_EXPORT_KEEP_SLACK : 0));
    r->builder = r->arena ? jt_builder_new(r->arena, r->opts.max_depth) : NULL;
    r->h = yajl_alloc(&callbacks, NULL, r);
    if (!r->arena || !r->builder || !r->h) {
        st_export_reader_free(r);
        return st_error_set(RESONA_ENOMEM, "out of memory");
    }
    *out = r;
    return 0;
}

jt_arena *st_export_reader_swap_arena(st_export_reader *r, jt_arena *fresh)
{
    jt_arena *old = r->arena;
    jt_arena_reset(fresh);
    r->arena = fresh;
    r->doc_arena_start = 0;
    jt_builder_set_arena(r->builder, fresh);
    return old;
}

size_t st_export_reader_arena_used(const st_export_reader *r)
{
    return jt_arena_used(r->arena);
}

void st_export_reader_free(st_export_reader *r)
{
    if (!r)
        return;
    if (r->h)
        yajl_free(r->h);
    jt_builder_free(r->builder);
    jt_arena_free(r->arena);
    free(r);
}

/* Bound the length of every JSON string before yajl buffers it. */
static int scan_strings(st_export_reader *r, const unsigned char *p, size_t len)
{
    size_t i = 0;
    while (i < len) {
        if (!r->in_string) {
            const unsigned char *q = memchr(p + i, '"', len - i);
            if (!q)
                return 0;
            i = (size_t)(q - p) + 1;
            r->in_string = 1;
            r->escape = 0;
            r->str_len = 0;
            r->str_start = r->base + i - 1;
            continue;
        }
        size_t start = i;
        for (; i < len; i++) {
            unsigned char c = p[i];
            if (r->escape) {
                r->escape = 0;
            } else if (c == '\\') {
                r->escape = 1;
            } else if (c == '"') {
                break;
            }
        }
        r->str_len += i - start;
        if (r->str_len > r->opts.max_string)
            return st_error_set(RESONA_EINVALID, "%s: string at byte %llu is longer than %zu bytes",
                                r->name, (unsigned long long)r->str_start, r->opts.max_string);
        if (i < len) {
            r->in_string = 0;
            i++;
        }
    }
    return 0;
}

static int yajl_failure(st_export_reader *r, const unsigned char *chunk, size_t len)
{
    if (r->rc)
        return r->rc;
    unsigned char *m = yajl_get_error(r->h, 0, chunk, len);
    const char *msg = (const char *)m;
    if (strncmp(msg, "parse error: ", 13) == 0)
        msg += 13;
    size_t ml = strlen(msg);
    while (ml && (msg[ml - 1] == '\n' || msg[ml - 1] == ' '))
        ml--;
    r->rc = st_error_set(RESONA_EINVALID, "%s: invalid JSON at byte %llu: %.*s", r->name,
                         (unsigned long long)here(r), (int)ml, msg);
    yajl_free_error(r->h, m);
    return r->rc;
}

int st_export_reader_feed(st_export_reader *r, const void *data, size_t len)
{
    if (r->rc)
        return r->rc;
    int rc = scan_strings(r, data, len);
    if (rc < 0)
        return r->rc = rc;
    yajl_status st = yajl_parse(r->h, data, len);
    if (st != yajl_status_ok)
        return yajl_failure(r, data, len);
    r->base += len;
    return 0;
}

int st_export_reader_finish(st_export_reader *r, st_export_info *info)
{
    if (r->rc)
        return r->rc;
    if (!r->top_seen)
        return r->rc = st_error_set(RESONA_EINVALID, "%s: empty file, not a Tana export", r->name);
    yajl_status st = yajl_complete_parse(r->h);
    if (st != yajl_status_ok) {
        if (r->rc)
            return r->rc;
        r->rc = st_error_set(RESONA_EINVALID, "%s: truncated JSON: input ends at byte %llu",
                             r->name, (unsigned long long)r->base);
        return r->rc;
    }
    if (!r->top_seen)
        return r->rc = st_error_set(RESONA_EINVALID, "%s: empty file, not a Tana export", r->name);
    if (!r->got_format)
        return r->rc = st_error_set(RESONA_EINVALID,
                                    "%s: not a Tana export: no numeric \"formatVersion\"%s",
                                    r->name, r->info.wrapped ? " in \"storeData\"" : "");
    if (!r->got_docs)
        return r->rc = st_error_set(RESONA_EINVALID, "%s: not a Tana export: no \"docs\" array%s",
                                    r->name, r->info.wrapped ? " in \"storeData\"" : "");
    if (info)
        *info = r->info;
    return 0;
}

int st_export_reader_feed_file(st_export_reader *r, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return st_error_set_errno(errno == ENOENT ? RESONA_ENOTFOUND : RESONA_EIO, errno,
                                  "cannot open %s", path);
    const size_t chunk = 1u << 20;
    unsigned char *buf = malloc(chunk);
    int rc = buf ? 0 : st_error_set(RESONA_ENOMEM, "out of memory");
    while (rc == 0) {
        ssize_t n = read(fd, buf, chunk);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = st_error_set_errno(RESONA_EIO, errno, "reading %s", path);
        } else if (n == 0) {
            break;
        } else {
            rc = st_export_reader_feed(r, buf, (size_t)n);
        }
    }
    free(buf);
    close(fd);
    return rc;
}

int st_export_read_file(const char *path, const st_export_opts *opts, st_export_doc_fn fn,
                        void *payload, st_export_info *info)
{
    st_export_reader *r = NULL;
    int rc = st_export_reader_new(path, opts, fn, payload, &r);
    if (rc == 0 && (rc = st_export_reader_feed_file(r, path)) == 0)
        rc = st_export_reader_finish(r, info);
    st_export_reader_free(r);
    return rc;
}
