/*
 * lance/delete.c - resona_table_delete: deletion files per affected
 * fragment, one Delete version (lance-format.md 3, 8).
 *
 * A fragment that already has a deletion file gets a new one holding the old
 * and the new row offsets; a fragment whose rows are all deleted is dropped
 * and listed in deleted_fragment_ids, as lance does.
 */
#include "lance/deletion.h"
#include "lance/io.h"
#include "lance/table_int.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/error.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int in_set(const char *const *sorted, size_t n, const char *s, size_t len)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strncmp(sorted[mid], s, len);
        if (c == 0 && sorted[mid][len] != '\0')
            c = 1;
        if (c == 0)
            return 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

typedef struct del_plan {
    Lt__DataFragment *upd; /* updated copies (n_frag) */
    Lt__DeletionFile *dfs;
    int *state;     /* 0 unchanged, 1 updated, 2 removed */
    char **written; /* deletion files written (for cleanup) */
    size_t nwritten;
} del_plan;

static void plan_free(del_plan *p, size_t n, int keep)
{
    for (size_t i = 0; i < p->nwritten; i++) {
        if (!keep)
            unlink(p->written[i]);
        resona__free(p->written[i]);
    }
    resona__free(p->written);
    resona__free(p->upd);
    resona__free(p->dfs);
    resona__free(p->state);
    (void)n;
    memset(p, 0, sizeof(*p));
}

/* Find matching rows of fragment i; returns the new deletion bitmap (or NULL if no match). */
static int match_fragment(resona_table *t, size_t i, const char *column, const char *const *sorted,
                          size_t n, roaring_bitmap_t **out, uint64_t *newly)
{
    *out = NULL;
    *newly = 0;
    resona_scan_options so = RESONA_SCAN_OPTIONS_INIT;
    const char *cols[1] = {column};
    so.columns = cols;
    so.column_count = 1;
    so.fragment_first = i;
    so.fragment_count = 1;
    resona_scan *s = NULL;
    int rc = resona_table_scan(t, &so, &s);
    if (rc < 0)
        return rc;
    roaring_bitmap_t *hits = NULL;
    const resona_chunk *ch;
    while ((rc = resona_scan_next(s, &ch)) > 0) {
        const resona_column *c = &ch->columns[0];
        for (size_t r = 0; r < ch->rows; r++) {
            if (c->validity && !(c->validity[r / 8] >> (r % 8) & 1))
                continue;
            const char *v = (const char *)c->values + c->offsets[r];
            size_t len = (size_t)(c->offsets[r + 1] - c->offsets[r]);
            if (memchr(v, '\0', len) || !in_set(sorted, n, v, len))
                continue;
            if (!hits && !(hits = roaring_bitmap_create())) {
                rc = resona__error_set(RESONA_ENOMEM, "out of memory (roaring)");
                goto done;
            }
            roaring_bitmap_add(hits, (uint32_t)(ch->row_ids[r] & 0xffffffffu));
            (*newly)++;
        }
    }
    if (rc < 0)
        goto done;
    *out = hits;
    hits = NULL;
done:
    if (hits)
        roaring_bitmap_free(hits);
    resona_scan_free(s);
    return rc;
}

static char *predicate(const char *column, const char *const *values, size_t count)
{
    resona_buf b = RESONA_BUF_INIT(0);
    if (resona__buf_printf(&b, "%s IN (", column) < 0)
        goto fail;
    for (size_t i = 0; i < count; i++) {
        if (b.len > 4000) {
            if (resona__buf_printf(&b, "... %zu values", count) < 0)
                goto fail;
            break;
        }
        if (resona__buf_puts(&b, i ? ", '" : "'") < 0)
            goto fail;
        for (const char *p = values[i]; *p; p++)
            if ((*p == '\'' && resona__buf_putc(&b, '\'') < 0) || resona__buf_putc(&b, *p) < 0)
                goto fail;
        if (resona__buf_putc(&b, '\'') < 0)
            goto fail;
    }
    if (resona__buf_putc(&b, ')') < 0)
        goto fail;
    return resona__buf_detach(&b, NULL);
fail:
    resona__buf_free(&b);
    return NULL;
}

int resona_table_delete(resona_table *t, const char *column, const char *const *values,
                        size_t count, uint64_t *deleted_out)
{
    if (deleted_out)
        *deleted_out = 0;
    t->last_commit = 0;
    int rc = resona__table_check_writable(t);
    if (rc < 0)
        return rc;
    int ci = column ? resona_table_column_index(t, column) : -1;
    if (ci < 0)
        return resona__error_set(RESONA_ENOTFOUND, "%s: no column \"%s\"", t->path,
                                 column ? column : "(null)");
    if (t->fields[ci].type != RESONA_TYPE_UTF8)
        return resona__error_set(RESONA_EINVALID, "delete: column \"%s\" is not utf8", column);
    if (count == 0)
        return 0;
    const char **sorted = resona__calloc(count, sizeof(*sorted));
    char *pred = predicate(column, values, count);
    if (!sorted || !pred) {
        resona__free(sorted);
        resona__free(pred);
        return RESONA_ENOMEM;
    }
    memcpy(sorted, values, count * sizeof(*sorted));
    qsort(sorted, count, sizeof(*sorted), cmp_str);
    del_plan p;
    memset(&p, 0, sizeof(p));
    Lt__DataFragment **frags = NULL, **updp = NULL;
    uint64_t *removed = NULL;
    for (int attempt = 0;; attempt++) {
        size_t nf = t->man->n_fragments;
        plan_free(&p, nf, 0);
        resona__free(frags);
        resona__free(updp);
        resona__free(removed);
        frags = NULL;
        updp = NULL;
        removed = NULL;
        p.upd = resona__calloc(nf ? nf : 1, sizeof(*p.upd));
        p.dfs = resona__calloc(nf ? nf : 1, sizeof(*p.dfs));
        p.state = resona__calloc(nf ? nf : 1, sizeof(*p.state));
        p.written = resona__calloc(nf ? nf : 1, sizeof(char *));
        frags = resona__calloc(nf ? nf : 1, sizeof(*frags));
        updp = resona__calloc(nf ? nf : 1, sizeof(*updp));
        removed = resona__calloc(nf ? nf : 1, sizeof(*removed));
        if (!p.upd || !p.dfs || !p.state || !p.written || !frags || !updp || !removed) {
            rc = RESONA_ENOMEM;
            goto done;
        }
        uint64_t total = 0;
        size_t nupd = 0, nrem = 0, nkeep = 0;
        for (size_t i = 0; i < nf; i++) {
            Lt__DataFragment *fr = t->man->fragments[i];
            roaring_bitmap_t *hits = NULL, *old = NULL;
            uint64_t newly = 0;
            if ((rc = match_fragment(t, i, column, sorted, count, &hits, &newly)) < 0)
                goto done;
            if (!hits) {
                frags[nkeep++] = fr;
                continue;
            }
            total += newly;
            if ((rc = resona__deletion_load(t->path, fr, &old)) < 0) {
                roaring_bitmap_free(hits);
                goto done;
            }
            if (old) {
                roaring_bitmap_or_inplace(hits, old);
                roaring_bitmap_free(old);
            }
            uint64_t card = roaring_bitmap_get_cardinality(hits);
            if (fr->physical_rows && card >= fr->physical_rows) {
                p.state[i] = 2;
                removed[nrem++] = fr->id;
                roaring_bitmap_free(hits);
                continue;
            }
            rc = resona__deletion_write(t->path, fr->id, t->version, hits, &p.dfs[i]);
            roaring_bitmap_free(hits);
            if (rc < 0)
                goto done;
            p.written[p.nwritten] = resona__deletion_path(t->path, fr->id, &p.dfs[i]);
            if (!p.written[p.nwritten]) {
                rc = RESONA_ENOMEM;
                goto done;
            }
            p.nwritten++;
            p.upd[i] = *fr;
            p.upd[i].deletion_file = &p.dfs[i];
            p.state[i] = 1;
            updp[nupd++] = &p.upd[i];
            frags[nkeep++] = &p.upd[i];
        }
        if (total == 0) {
            rc = 0;
            break;
        }
        Lt__Transaction__Delete d = LT__TRANSACTION__DELETE__INIT;
        d.n_updated_fragments = nupd;
        d.updated_fragments = updp;
        d.n_deleted_fragment_ids = nrem;
        d.deleted_fragment_ids = removed;
        d.predicate = pred;
        Lt__Transaction txn = LT__TRANSACTION__INIT;
        txn.operation_case = LT__TRANSACTION__OPERATION_DELETE;
        txn.delete_ = &d;
        Lt__Manifest next = *t->man;
        next.fragments = frags;
        next.n_fragments = nkeep;
        if (!next.has_max_fragment_id && nf > 0) {
            uint64_t nid = resona__table_next_fragment_id(t);
            next.has_max_fragment_id = 1;
            next.max_fragment_id = (uint32_t)(nid ? nid - 1 : 0);
        }
        rc = resona__manifest_commit(t, &next, &txn, t->index_raw, t->index_len);
        if (t->committed) { /* linked: keep its deletion files, even if the reload failed */
            if (deleted_out) /* also when only the reload failed: they are deleted */
                *deleted_out = total;
            plan_free(&p, nf, 1);
            break;
        }
        if (rc != RESONA_ECONFLICT || attempt >= 100)
            break;
        if ((rc = resona__table_load(t, 0)) < 0 || (rc = resona__table_check_writable(t)) < 0)
            break;
        ci = resona_table_column_index(t, column);
        if (ci < 0 || t->fields[ci].type != RESONA_TYPE_UTF8) {
            rc = resona__error_set(RESONA_ECONFLICT, "%s: column \"%s\" changed during delete",
                                   t->path, column);
            break;
        }
    }
done:
    plan_free(&p, 0, 0);
    resona__free(frags);
    resona__free(updp);
    resona__free(removed);
    resona__free(sorted);
    resona__free(pred);
    return rc;
}
