/*
 * lance/append.c - resona_table_append: one data file, one fragment, one
 * version (an Append transaction), retried on commit conflicts.
 */
#include "lance/io.h"
#include "lance/table_int.h"
#include "lance/writer.h"
#include "util/alloc.h"
#include "util/error.h"

#include <string.h>

/* Map the batch onto the schema order; validate. cols has t->nfields slots. */
static int map_batch(const resona_table *t, const resona_batch *b, const resona_column **cols)
{
    for (size_t i = 0; i < t->nfields; i++)
        cols[i] = NULL;
    for (size_t j = 0; j < b->column_count; j++) {
        const resona_column *c = &b->columns[j];
        int k = c->name ? resona_table_column_index(t, c->name) : -1;
        if (k < 0)
            return resona__error_set(RESONA_EINVALID, "%s: no column \"%s\" in the table", t->path,
                                     c->name ? c->name : "(null)");
        if (cols[k])
            return resona__error_set(RESONA_EINVALID, "batch names column \"%s\" twice", c->name);
        int rc = resona__column_check(&t->fields[k], c, b->rows);
        if (rc < 0)
            return rc;
        cols[k] = c;
    }
    for (size_t i = 0; i < t->nfields; i++) {
        const resona_field *f = &t->fields[i];
        if (!cols[i] && !f->nullable)
            return resona__error_set(RESONA_EINVALID,
                                     "batch lacks column \"%s\", which is not nullable", f->name);
        if (!cols[i] && f->type == RESONA_TYPE_OTHER)
            return resona__error_set(RESONA_EUNSUPPORTED,
                                     "%s: column \"%s\" has type %s, which resona cannot write",
                                     t->path, f->name, f->logical_type);
    }
    return 0;
}

/* Same columns (ids, types) as when the data file was written? */
static int same_schema(const resona_table *t, const int32_t *ids, const resona_type *types,
                       size_t n)
{
    if (t->nfields != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (t->fields[i].id != ids[i] || t->fields[i].type != types[i])
            return 0;
    return 1;
}

int resona_table_append(resona_table *t, const resona_batch *batch,
                        const resona_append_options *opts)
{
    resona_append_options o = RESONA_APPEND_OPTIONS_INIT;
    if (opts)
        o = *opts;
    t->last_commit = 0;
    if (!batch || batch->rows == 0)
        return 0;
    int rc = resona__table_check_writable(t);
    if (rc < 0)
        return rc;
    const resona_column **cols = resona__calloc(t->nfields ? t->nfields : 1, sizeof(*cols));
    int32_t *ids = resona__calloc(t->nfields ? t->nfields : 1, sizeof(*ids));
    resona_type *types = resona__calloc(t->nfields ? t->nfields : 1, sizeof(*types));
    Lt__DataFragment **frags = NULL;
    lance_writer *w = NULL;
    int committed = 0;
    if (!cols || !ids || !types) {
        rc = RESONA_ENOMEM;
        goto done;
    }
    size_t nf = t->nfields;
    for (size_t i = 0; i < nf; i++) {
        ids[i] = t->fields[i].id;
        types[i] = t->fields[i].type;
    }
    if ((rc = map_batch(t, batch, cols)) < 0)
        goto done;
    if ((rc = resona__writer_open(t, &w)) < 0)
        goto done;
    if ((rc = resona__writer_write(w, (const resona_column *const *)cols, batch->rows)) < 0)
        goto done;
    Lt__DataFile *df = NULL;
    uint64_t rows = 0;
    if ((rc = resona__writer_finish(w, &df, &rows)) < 0)
        goto done;
    if ((rc = resona__io_fsync_subdir(t->path, "data")) < 0)
        goto done;

    Lt__DataFile *dfs[1] = {df};
    for (unsigned attempt = 0;; attempt++) {
        Lt__DataFragment frag = LT__DATA_FRAGMENT__INIT;
        frag.n_files = 1;
        frag.files = dfs;
        frag.has_physical_rows = 1;
        frag.physical_rows = rows;
        /* transaction: the fragment without an id */
        Lt__DataFragment *tf[1] = {&frag};
        Lt__Transaction__Append ap = LT__TRANSACTION__APPEND__INIT;
        ap.n_fragments = 1;
        ap.fragments = tf;
        Lt__Transaction txn = LT__TRANSACTION__INIT;
        txn.operation_case = LT__TRANSACTION__OPERATION_APPEND;
        txn.append = &ap;
        /* the transaction is packed inside commit before the id is set below?
         * No: commit packs txn first, so give the manifest its own copy. */
        Lt__DataFragment mf = frag;
        uint64_t id = resona__table_next_fragment_id(t);
        mf.has_id = id != 0;
        mf.id = id;
        Lt__Manifest next = *t->man;
        resona__free(frags);
        frags = resona__calloc(t->man->n_fragments + 1, sizeof(*frags));
        if (!frags) {
            rc = RESONA_ENOMEM;
            goto done;
        }
        if (t->man->n_fragments)
            memcpy(frags, t->man->fragments, t->man->n_fragments * sizeof(*frags));
        frags[t->man->n_fragments] = &mf;
        next.fragments = frags;
        next.n_fragments = t->man->n_fragments + 1;
        next.has_max_fragment_id = 1;
        next.max_fragment_id = (uint32_t)id;
        rc = resona__manifest_commit(t, &next, &txn, t->index_raw, t->index_len);
        if (t->committed)
            committed = 1; /* linked: keep the data file even if the reload failed */
        if (rc != RESONA_ECONFLICT)
            break;
        if (attempt >= o.max_retries)
            break;
        /* someone else committed: reload and retry on top of their version */
        if ((rc = resona__table_load(t, 0)) < 0)
            break;
        if ((rc = resona__table_check_writable(t)) < 0)
            break;
        if (!same_schema(t, ids, types, nf)) {
            rc = resona__error_set(RESONA_ECONFLICT,
                                   "%s: the schema changed while appending; retry the append",
                                   t->path);
            break;
        }
    }
done:
    resona__writer_free(w, committed);
    resona__free(frags);
    resona__free(cols);
    resona__free(ids);
    resona__free(types);
    return rc;
}
