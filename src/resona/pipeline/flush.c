/*
 * pipeline/flush.c - committing the buffer to the table.
 *
 * One flush = at most two commits: a Delete of the rows the buffered items
 * replace (their plain row and chunk rows, found in the known-rows index),
 * then ONE Append of the buffered rows. New items need no delete, so a first
 * run makes exactly ceil(rows / store_batch_size) commits.
 *
 * Why delete first, then append. The table API deletes by key value, so a
 * delete after the append would also remove the new rows of the same ids.
 * Delete-first is safe because the new rows are already durable in the
 * journal (fsynced just before the delete): if the process dies between the
 * two commits, the next run re-commits the journal first (delete + append
 * again, idempotent), so no row is lost - readers may just miss the items of
 * that one flush until then. A failed attempt is retried (with the entries
 * already deleted remembered, so nothing is deleted twice); after the last
 * attempt the rows stay in the buffer and in the journal.
 */
#include "pipeline/run.h"

#include "util/alloc.h"
#include "util/error.h"
#include "util/log.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static atomic_int inject_failures;

void resona__pipeline_fail_flushes(int n)
{
    atomic_store(&inject_failures, n);
}

double resona__run_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0)
        ;
}

void resona__run_sample(resona_run *r, const char *what, size_t what_len, const char *message)
{
    if (r->sample_count >= RESONA_PIPELINE_MAX_SAMPLES)
        return;
    resona_buf b = RESONA_BUF_INIT(4096);
    if (what && what_len)
        (void)resona__buf_printf(&b, "%.*s: ", (int)(what_len > 200 ? 200 : what_len), what);
    (void)resona__buf_puts(&b, message ? message : "");
    if (b.ptr)
        r->samples[r->sample_count++] = resona__buf_detach(&b, NULL);
    resona__buf_free(&b);
}

/* A list of NUL-terminated id pointers (borrowed from the known index). */
typedef struct idlist {
    const char **v;
    size_t count, cap;
} idlist;

static int idlist_push(idlist *l, const char *id)
{
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        const char **v = resona__reallocarray(l->v, cap, sizeof(*v));
        if (!v)
            return RESONA_ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->count++] = id;
    return 0;
}

/* The old rows of an entry, to be deleted. */
static int push_entry_ids(idlist *l, const resona_known_entry *e)
{
    int rc = 0;
    if (e->flags & RESONA_KNOWN_PLAIN)
        rc = idlist_push(l, e->base);
    for (const resona_known_extra *x = e->extra; x && rc == 0; x = x->next)
        rc = idlist_push(l, x->id);
    return rc;
}

/* The entry no longer has rows in the table. */
static void entry_emptied(resona_known_entry *e)
{
    e->flags &= ~(uint32_t)(RESONA_KNOWN_IN_TABLE | RESONA_KNOWN_PLAIN | RESONA_KNOWN_STALE);
    e->extra = NULL;
    e->rows = 0;
    e->flags |= RESONA_KNOWN_REPLACED;
}

static int ensure_table(resona_run *r)
{
    if (r->table)
        return 0;
    resona_field fields[9];
    resona_schema schema;
    resona__embeddings_schema(r->buf.dim, fields, &schema);
    resona_create_options co = RESONA_CREATE_OPTIONS_INIT;
    co.naming = RESONA_NAMING_V1; /* what the original's LanceDB creates */
    co.exist_ok = 1;
    int rc = resona_table_create(r->opt.table_path, &schema, &co, &r->table);
    if (rc < 0)
        return rc;
    const resona_schema *s = resona_table_schema(r->table);
    int vi = resona_table_column_index(r->table, "vector");
    if (vi < 0 || s->fields[vi].type != RESONA_TYPE_VECTOR)
        return resona__error_set(RESONA_EINVALID, "table %s has no vector column",
                                 r->opt.table_path);
    r->table_dim = s->fields[vi].dim;
    if (r->table_dim != r->buf.dim)
        return resona__error_set(RESONA_EINVALID,
                                 "table %s holds %u-dimensional vectors, the model returned %u",
                                 r->opt.table_path, r->table_dim, r->buf.dim);
    r->c.commits++; /* version 1 of a new table */
    return 0;
}

static int flush_once(resona_run *r)
{
    int rc = 0;
    idlist del = {0};
    if (atomic_load(&inject_failures) > 0) {
        atomic_fetch_sub(&inject_failures, 1);
        return resona__error_set(RESONA_EIO, "injected flush failure (test hook)");
    }
    /* 1. The old rows of the buffered items. Chunks of one item are adjacent. */
    const char *prev = NULL;
    size_t prev_len = 0;
    for (size_t i = 0; i < r->buf.rows; i++) {
        size_t len;
        const char *id = resona__rowbuf_id(&r->buf, i, &len);
        size_t base_len = resona_pipeline_base_id_len(id, len);
        if (prev && prev_len == base_len && memcmp(prev, id, base_len) == 0)
            continue;
        prev = id;
        prev_len = base_len;
        resona_known_entry *e = resona__known_find(r->known, id, base_len);
        if (e && (e->flags & RESONA_KNOWN_IN_TABLE) && (rc = push_entry_ids(&del, e)) < 0)
            goto done;
    }
    if (del.count > 0 && r->table) {
        uint64_t n = 0;
        /* The journal must be durable before old rows are deleted: it is then
         * the only copy of the items until the append commits. */
        if (r->journal && r->opt.journal_fsync && (rc = resona__journal_sync(r->journal)) < 0)
            goto done;
        if ((rc = resona_table_delete(r->table, "id", del.v, del.count, &n)) < 0)
            goto done;
        if (n > 0)
            r->c.commits++;
        r->deleted += n;
    }
    if (del.count > 0) {
        /* Those rows are gone: a retry must not count on them. */
        prev = NULL;
        for (size_t i = 0; i < r->buf.rows; i++) {
            size_t len;
            const char *id = resona__rowbuf_id(&r->buf, i, &len);
            size_t base_len = resona_pipeline_base_id_len(id, len);
            resona_known_entry *e = resona__known_find(r->known, id, base_len);
            if (e && (e->flags & RESONA_KNOWN_IN_TABLE))
                entry_emptied(e);
        }
    }
    /* 2. One append. */
    if ((rc = ensure_table(r)) < 0)
        goto done;
    resona_batch batch;
    resona__rowbuf_batch(&r->buf, &batch);
    if ((rc = resona_table_append(r->table, &batch, NULL)) < 0)
        goto done;
    r->c.commits++;
    /* 3. The index now describes the new rows. */
    for (size_t i = 0; i < r->buf.rows; i++) {
        size_t len;
        const char *id = resona__rowbuf_id(&r->buf, i, &len);
        size_t base_len = resona_pipeline_base_id_len(id, len);
        resona_known_entry *e = resona__known_get(r->known, id, base_len);
        if (!e) {
            rc = RESONA_ENOMEM;
            goto done;
        }
        if (e->flags & RESONA_KNOWN_REPLACED) {
            e->flags &= ~(uint32_t)RESONA_KNOWN_REPLACED;
        }
        size_t mlen = (size_t)(r->buf.off[RB_MODEL][i + 1] - r->buf.off[RB_MODEL][i]);
        int model_ok =
            mlen == r->model_len &&
            memcmp(r->buf.str[RB_MODEL].ptr + r->buf.off[RB_MODEL][i], r->model, mlen) == 0;
        if ((rc = resona__known_add_row(r->known, id, len, resona__rowbuf_hash(&r->buf, i), 64,
                                        model_ok, 1)) < 0)
            goto done;
    }
done:
    resona__free(del.v);
    return rc;
}

int resona__run_flush(resona_run *r)
{
    int rc = 0;
    if (r->buf.rows == 0)
        return 0;
    /* Written (not fsynced): enough for kill -9. A flush without deletes
     * needs no fsync: if power fails first, only model work is lost, never
     * a row of the table. */
    if (r->journal && (rc = resona__journal_write(r->journal)) < 0)
        return rc; /* the rows stay in memory; a journal that cannot be written is fatal */
    int attempts = r->opt.flush_attempts > 0 ? r->opt.flush_attempts : 1;
    for (int a = 0; a < attempts; a++) {
        rc = flush_once(r);
        if (rc == 0)
            break;
        r->flush_failures++;
        RESONA_LOG(RESONA_LOG_WARN, "flush of %zu rows to %s failed (attempt %d of %d): %s",
                   r->buf.rows, r->opt.table_path, a + 1, attempts, resona_error_message());
        if (r->table)
            (void)resona_table_refresh(r->table); /* reload the latest version before retrying */
        if (a + 1 < attempts)
            sleep_ms(50L << (a < 6 ? a : 6));
    }
    if (rc < 0) {
        r->failing = 1;
        char what[64];
        int n = snprintf(what, sizeof(what), "flush of %zu rows", r->buf.rows);
        resona__run_sample(r, what, n > 0 ? (size_t)n : 0, resona_error_message());
        return rc;
    }
    r->failing = 0;
    r->c.persisted += r->buf.rows;
    if (r->recovering)
        r->c.recovered += r->buf.rows;
    r->c.buffered -= r->buf.rows < r->c.buffered ? r->buf.rows : r->c.buffered;
    resona__rowbuf_clear(&r->buf);
    if (r->journal && !r->recovering && (rc = resona__journal_reset(r->journal)) < 0)
        return rc;
    resona__run_progress(r, 0);
    return 0;
}

int resona__run_remove_missing(resona_run *r)
{
    int rc = 0;
    idlist del = {0};
    if (!r->table)
        return 0;
    size_t slots = resona__known_slots(r->known);
    for (size_t i = 0; i < slots; i++) {
        resona_known_entry *e = resona__known_slot(r->known, i);
        if (e && (e->flags & RESONA_KNOWN_IN_TABLE) && !(e->flags & RESONA_KNOWN_SEEN) &&
            (rc = push_entry_ids(&del, e)) < 0)
            goto done;
    }
    if (del.count > 0) {
        uint64_t n = 0;
        if ((rc = resona_table_delete(r->table, "id", del.v, del.count, &n)) < 0)
            goto done;
        if (n > 0)
            r->c.commits++;
        r->c.removed += n;
        for (size_t i = 0; i < slots; i++) {
            resona_known_entry *e = resona__known_slot(r->known, i);
            if (e && (e->flags & RESONA_KNOWN_IN_TABLE) && !(e->flags & RESONA_KNOWN_SEEN))
                entry_emptied(e);
        }
    }
done:
    resona__free(del.v);
    return rc;
}
