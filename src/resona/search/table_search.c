/*
 * search/table_search.c - the Lance table as a search source.
 *
 * Parts are fragments, or shares of fragments: each worker scans with its
 * own resona_scan (table.h allows concurrent scans of one handle), and the
 * chunks go straight from the scan's buffers (pread) to the distance
 * kernels, with no copy. With at least as many fragments as threads, a part
 * is one fragment. With fewer (the usual case after compaction: one fragment
 * holds up to 1M rows), each fragment is cut into `threads` parts that take
 * its chunks round-robin (resona_scan_options.part_index/part_count), so one
 * fragment still keeps every core busy.
 *
 * Measured and rejected: sharing one scan between workers (take a chunk under
 * a lock, copy it out, compute outside). The pread and the copy are serial
 * and cost more than the distance work they free; it was slower than one
 * thread (docs/benchmarks.md).
 */
#include "search/topk.h"

#include "util/alloc.h"
#include "util/error.h"

#include <resona/search.h>
#include <resona/table.h>

#include <string.h>
#include <unistd.h>

#define SEARCH_CHUNK_ROWS 1024

typedef struct table_src {
    resona_table *table;
    const char *columns[2];
    size_t ncol;
    uint32_t dim;
    size_t fragments;
    size_t shares; /* parts per fragment: 1, or the thread count when fragments are few */
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

/* Part p = share p % shares of fragment p / shares, read with a private scan. */
static int read_fragment(table_src *ts, size_t part, resona_search_emit_fn emit, void *ep)
{
    resona_scan_options so = RESONA_SCAN_OPTIONS_INIT;
    so.columns = ts->columns;
    so.column_count = ts->ncol;
    so.chunk_rows = SEARCH_CHUNK_ROWS;
    so.fragment_first = part / ts->shares;
    so.fragment_count = 1;
    so.part_index = part % ts->shares;
    so.part_count = ts->shares;
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

static int table_read_part(size_t part, resona_search_emit_fn emit, void *ep, void *payload)
{
    table_src *ts = payload;
    return read_fragment(ts, part, emit, ep);
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
            return resona__error_set(
                RESONA_EINVALID, "%s: column \"%s\" has %u dimensions, the query has %zu",
                resona_table_path(table), vector_column, (unsigned)vec->dim, dim);
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

    ts.shares = ts.fragments > 0 && ts.fragments < threads ? threads : 1;

    resona_search_source src;
    src.part_count = ts.fragments * ts.shares;
    src.read_part = table_read_part;
    src.payload = &ts;
    /* an empty table still validates the queries and returns empty results */
    opt.threads = threads;
    return resona_search_run(&src, queries, query_count, dim, &opt, out);
}
