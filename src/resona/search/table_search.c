/*
 * search/table_search.c - the Lance table as a search source.
 *
 * Parts are fragments: worker i scans fragment after fragment with its own
 * resona_scan (table.h allows concurrent scans of one handle), and the
 * chunks go straight from the scan's buffers to the distance kernels, no
 * copy. A table with fewer fragments than threads (the usual case after
 * compaction: one fragment holds up to 1M rows) cannot be split that way,
 * because a scan cannot start inside a fragment. Then the workers share one
 * scan: under a lock a worker takes the next chunk and copies it into its own
 * buffers (a chunk is only valid until the next resona_scan_next), then
 * computes outside the lock. The copy costs one extra pass over memory but
 * lets both cores work; see docs/benchmarks.md.
 */
#include "search/topk.h"

#include "util/alloc.h"
#include "util/error.h"

#include <resona/search.h>
#include <resona/table.h>

#include <pthread.h>
#include <string.h>
#include <unistd.h>

#define SEARCH_CHUNK_ROWS 1024

typedef struct table_src {
    resona_table *table;
    const char *columns[2];
    size_t ncol;
    uint32_t dim;
    size_t fragments;
    int shared; /* workers share one scan */
    pthread_mutex_t lock;
    resona_scan *scan; /* shared mode: created by the first part to run */
    int scan_done;
} table_src;

static void fill_batch(resona_search_batch *b, const resona_chunk *c, size_t dim, size_t ncol)
{
    memset(b, 0, sizeof(*b));
    b->count = c->rows;
    b->dim = dim;
    b->vectors = c->columns[0].values;
    b->vector_validity = c->columns[0].validity;
    b->row_ids = c->row_ids;
    if (ncol > 1) {
        b->key_values = c->columns[1].values;
        b->key_offsets = c->columns[1].offsets;
        b->key_validity = c->columns[1].validity;
    }
}

/* Fragment-parallel mode: part = one fragment, read with a private scan. */
static int read_fragment(table_src *ts, size_t part, resona_search_emit_fn emit, void *ep)
{
    resona_scan_options so = RESONA_SCAN_OPTIONS_INIT;
    so.columns = ts->columns;
    so.column_count = ts->ncol;
    so.chunk_rows = SEARCH_CHUNK_ROWS;
    so.fragment_first = part;
    so.fragment_count = 1;
    resona_scan *scan = NULL;
    int rc = resona_table_scan(ts->table, &so, &scan);
    if (rc < 0)
        return rc;
    const resona_chunk *c;
    while ((rc = resona_scan_next(scan, &c)) == 1) {
        resona_search_batch b;
        fill_batch(&b, c, ts->dim, ts->ncol);
        if ((rc = emit(&b, ep)) < 0)
            break;
    }
    resona_scan_free(scan);
    return rc < 0 ? rc : 0;
}

/* A worker's private copy of one chunk (shared mode). */
typedef struct chunk_copy {
    float *vectors;
    uint64_t *row_ids;
    char *key_values;
    uint64_t *key_offsets;
    uint8_t *key_validity;
    uint8_t *vector_validity;
    size_t cap_rows, cap_key_bytes;
} chunk_copy;

static void copy_free(chunk_copy *cc)
{
    resona__free(cc->vectors);
    resona__free(cc->row_ids);
    resona__free(cc->key_values);
    resona__free(cc->key_offsets);
    resona__free(cc->key_validity);
    resona__free(cc->vector_validity);
}

static int copy_chunk(chunk_copy *cc, const resona_chunk *c, size_t dim, size_t ncol,
                      resona_search_batch *b)
{
    size_t n = c->rows, bitmap = (n + 7) / 8;
    if (n > cc->cap_rows) {
        copy_free(cc);
        memset(cc, 0, sizeof(*cc));
        cc->vectors = resona__reallocarray(NULL, n * dim, sizeof(float));
        cc->row_ids = resona__reallocarray(NULL, n, sizeof(uint64_t));
        cc->key_offsets = resona__reallocarray(NULL, n + 1, sizeof(uint64_t));
        cc->key_validity = resona__malloc(bitmap);
        cc->vector_validity = resona__malloc(bitmap);
        if (!cc->vectors || !cc->row_ids || !cc->key_offsets || !cc->key_validity ||
            !cc->vector_validity)
            return RESONA_ENOMEM;
        cc->cap_rows = n;
    }
    memset(b, 0, sizeof(*b));
    b->count = n;
    b->dim = dim;
    memcpy(cc->vectors, c->columns[0].values, n * dim * sizeof(float));
    memcpy(cc->row_ids, c->row_ids, n * sizeof(uint64_t));
    b->vectors = cc->vectors;
    b->row_ids = cc->row_ids;
    if (c->columns[0].validity) {
        memcpy(cc->vector_validity, c->columns[0].validity, bitmap);
        b->vector_validity = cc->vector_validity;
    }
    if (ncol > 1) {
        const uint64_t *off = c->columns[1].offsets;
        size_t bytes = (size_t)(off[n] - off[0]);
        if (bytes + 1 > cc->cap_key_bytes) {
            char *p = resona__realloc(cc->key_values, bytes + 1);
            if (!p)
                return RESONA_ENOMEM;
            cc->key_values = p;
            cc->cap_key_bytes = bytes + 1;
        }
        memcpy(cc->key_values, (const char *)c->columns[1].values + off[0], bytes);
        for (size_t i = 0; i <= n; i++)
            cc->key_offsets[i] = off[i] - off[0];
        b->key_values = cc->key_values;
        b->key_offsets = cc->key_offsets;
        if (c->columns[1].validity) {
            memcpy(cc->key_validity, c->columns[1].validity, bitmap);
            b->key_validity = cc->key_validity;
        }
    }
    return 0;
}

/* Shared mode: every part pulls chunks from the one scan until it ends. */
static int read_shared(table_src *ts, resona_search_emit_fn emit, void *ep)
{
    chunk_copy cc;
    memset(&cc, 0, sizeof(cc));
    int rc = 0;
    for (;;) {
        resona_search_batch b;
        int got = 0;
        pthread_mutex_lock(&ts->lock);
        if (!ts->scan && !ts->scan_done) {
            resona_scan_options so = RESONA_SCAN_OPTIONS_INIT;
            so.columns = ts->columns;
            so.column_count = ts->ncol;
            so.chunk_rows = SEARCH_CHUNK_ROWS;
            rc = resona_table_scan(ts->table, &so, &ts->scan);
            if (rc < 0)
                ts->scan_done = 1;
        }
        if (rc == 0 && ts->scan) {
            const resona_chunk *c;
            rc = resona_scan_next(ts->scan, &c);
            if (rc == 1) {
                rc = copy_chunk(&cc, c, ts->dim, ts->ncol, &b);
                got = rc == 0;
            } else {
                /* end or failure: nobody reads on */
                resona_scan_free(ts->scan);
                ts->scan = NULL;
                ts->scan_done = 1;
            }
        }
        pthread_mutex_unlock(&ts->lock);
        if (rc < 0 || !got)
            break;
        if ((rc = emit(&b, ep)) < 0)
            break;
    }
    copy_free(&cc);
    return rc < 0 ? rc : 0;
}

static int table_read_part(size_t part, resona_search_emit_fn emit, void *ep, void *payload)
{
    table_src *ts = payload;
    return ts->shared ? read_shared(ts, emit, ep) : read_fragment(ts, part, emit, ep);
}

static unsigned cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1u : (unsigned)(n > 256 ? 256 : n);
}

int resona_search_table(struct resona_table *table, const char *vector_column,
                        const char *key_column, const float *queries, size_t query_count,
                        size_t dim, const resona_search_options *options,
                        resona_search_results **out)
{
    resona_search_options opt = RESONA_SEARCH_OPTIONS_INIT;
    if (options)
        opt = *options;
    if (out)
        *out = NULL;
    if (!table || !out)
        return resona__error_set(RESONA_EINVALID, "search: missing table or out");
    const resona_schema *schema = resona_table_schema(table);
    const resona_field *vec = NULL;
    if (vector_column) {
        int i = resona_table_column_index(table, vector_column);
        if (i < 0)
            return resona__error_set(RESONA_ENOTFOUND, "%s: no column \"%s\"",
                                     resona_table_path(table), vector_column);
        vec = &schema->fields[i];
        if (vec->type != RESONA_TYPE_VECTOR)
            return resona__error_set(RESONA_EINVALID, "%s: column \"%s\" is %s, not a vector",
                                     resona_table_path(table), vector_column,
                                     resona_type_name(vec->type));
        if (vec->dim != dim)
            return resona__error_set(RESONA_EINVALID,
                                     "%s: column \"%s\" has %u dimensions, the query has %zu",
                                     resona_table_path(table), vector_column, (unsigned)vec->dim,
                                     dim);
    } else {
        size_t found = 0;
        for (size_t i = 0; i < schema->count; i++) {
            const resona_field *f = &schema->fields[i];
            if (f->type == RESONA_TYPE_VECTOR && f->dim == dim) {
                vec = vec ? vec : f;
                found++;
            }
        }
        if (found == 0)
            return resona__error_set(
                RESONA_EINVALID,
                "%s: No vector column found to match with the query vector dimension: %zu",
                resona_table_path(table), dim);
        if (found > 1)
            return resona__error_set(RESONA_EINVALID,
                                     "%s: More than one vector column found with dimension %zu; "
                                     "name the column",
                                     resona_table_path(table), dim);
    }
    if (key_column) {
        int i = resona_table_column_index(table, key_column);
        if (i < 0)
            return resona__error_set(RESONA_ENOTFOUND, "%s: no column \"%s\"",
                                     resona_table_path(table), key_column);
        if (schema->fields[i].type != RESONA_TYPE_UTF8)
            return resona__error_set(RESONA_EINVALID, "%s: key column \"%s\" is %s, not utf8",
                                     resona_table_path(table), key_column,
                                     resona_type_name(schema->fields[i].type));
    } else if (opt.collapse_chunks) {
        return resona__error_set(RESONA_EINVALID, "search: collapse_chunks needs a key column");
    }

    resona_table_stats st;
    int rc = resona_table_stats_get(table, &st);
    if (rc < 0)
        return rc;
    table_src ts;
    memset(&ts, 0, sizeof(ts));
    ts.table = table;
    ts.columns[0] = vec->name;
    ts.columns[1] = key_column;
    ts.ncol = key_column ? 2 : 1;
    ts.dim = vec->dim;
    ts.fragments = (size_t)st.fragments;
    unsigned threads = opt.threads ? opt.threads : cpu_count();
    ts.shared = ts.fragments < threads && threads > 1;
    if (pthread_mutex_init(&ts.lock, NULL) != 0)
        return resona__error_set(RESONA_ERROR, "search: pthread_mutex_init failed");

    resona_search_source src;
    src.part_count = ts.shared ? threads : ts.fragments;
    src.read_part = table_read_part;
    src.payload = &ts;
    if (src.part_count == 0) {
        /* an empty table: still validate the queries and return empty results */
        src.part_count = 1;
        ts.shared = 1;
    }
    opt.threads = threads;
    rc = resona_search_run(&src, queries, query_count, dim, &opt, out);
    resona_scan_free(ts.scan);
    pthread_mutex_destroy(&ts.lock);
    return rc;
}
