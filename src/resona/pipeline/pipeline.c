/*
 * pipeline/pipeline.c - the run loop of the embedding pipeline
 * (resona/pipeline.h): recovery of an earlier run's journal, change
 * detection against one scan of the table, chunking, streaming the chunks
 * through the embedder, and assembling its in-order results into rows.
 *
 * Flow of one run:
 *   1. lock + read the journal (rows an earlier run generated, not committed)
 *   2. open the table (if any) and scan (id, text_hash, model, dimensions)
 *      into the known-rows index
 *   3. commit the journal's rows (upserts), then empty the journal
 *   4. for each item pulled: hash, compare, chunk, submit every chunk; the
 *      embedder calls on_result() in submission order (from inside submit,
 *      so the loop paces itself to the embedder's window); a completed item
 *      goes to the journal and the buffer, and a full buffer is flushed
 *      right there (flush.c)
 *   5. drain the embedder, final flush, remove rows of items not submitted
 *      (remove_missing), empty and remove the journal.
 *
 * An item's chunks are submitted consecutively, so they are delivered
 * consecutively: the item is complete when its last chunk arrives, and its
 * rows enter the buffer together or not at all (one failed chunk drops the
 * item, which keeps its old rows and is retried by the next run).
 */
#include "pipeline/chunk.h"
#include "pipeline/run.h"

#include "util/alloc.h"
#include "util/error.h"
#include "util/log.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static atomic_int stop_flag;
static _Atomic(resona_embedder *) active_embedder;

void resona_pipeline_stop(void)
{
    atomic_store(&stop_flag, 1);
    resona_embedder *e = atomic_load(&active_embedder);
    if (e)
        resona_embedder_stop(e);
}

void resona_pipeline_stop_clear(void)
{
    atomic_store(&stop_flag, 0);
}

void resona_pipeline_result_free(resona_pipeline_result *result)
{
    if (!result)
        return;
    for (size_t i = 0; i < result->sample_count && i < RESONA_PIPELINE_MAX_SAMPLES; i++)
        resona__free(result->samples[i]);
    result->sample_count = 0;
}

static double wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    /* Date.now(): whole milliseconds */
    return (double)((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* ---- progress ------------------------------------------------------------ */

void resona__run_progress(resona_run *r, int final)
{
    double now = resona__run_now();
    r->c.elapsed_s = now - r->t_start;
    double busy = r->t_first > 0 ? now - r->t_first : 0;
    r->c.rate = busy > 0 ? (double)r->c.generated / busy : 0;
    r->c.eta_s = -1;
    if (r->c.total > 0 && busy > 0 && r->c.items_done > 0) {
        uint64_t handled = r->c.skipped + r->c.items_done;
        double item_rate = (double)r->c.items_done / busy;
        r->c.eta_s = r->c.total > handled ? (double)(r->c.total - handled) / item_rate : 0;
    }
    r->c.final = final;
    r->t_progress = now;
    if (r->opt.progress)
        r->opt.progress(&r->c, r->opt.progress_payload);
}

static void maybe_progress(resona_run *r)
{
    if (r->opt.progress && resona__run_now() - r->t_progress >= r->opt.progress_interval_s)
        resona__run_progress(r, 0);
}

/* ---- pending FIFO ---------------------------------------------------------- */

static int fifo_push(resona_run *r, resona_pending *p)
{
    if (r->fifo_count == r->fifo_cap) {
        size_t cap = r->fifo_cap ? r->fifo_cap * 2 : 256;
        resona_pending **f = resona__calloc(cap, sizeof(*f));
        if (!f)
            return RESONA_ENOMEM;
        for (size_t i = 0; i < r->fifo_count; i++)
            f[i] = r->fifo[(r->fifo_head + i) % r->fifo_cap];
        resona__free(r->fifo);
        r->fifo = f;
        r->fifo_cap = cap;
        r->fifo_head = 0;
    }
    r->fifo[(r->fifo_head + r->fifo_count) % r->fifo_cap] = p;
    r->fifo_count++;
    return 0;
}

static resona_pending *fifo_pop(resona_run *r)
{
    if (r->fifo_count == 0)
        return NULL;
    resona_pending *p = r->fifo[r->fifo_head];
    r->fifo_head = (r->fifo_head + 1) % r->fifo_cap;
    r->fifo_count--;
    return p;
}

/* Copy src[0..len) and a NUL to *at, advance *at past them; the copy. */
static char *put_str(char **at, const char *src, size_t len)
{
    char *s = *at;
    if (len)
        memcpy(s, src, len);
    s[len] = '\0';
    *at = s + len + 1;
    return s;
}

static resona_pending *pending_new(uint64_t seq, const char *id, size_t id_len, const char *text,
                                   size_t text_len, const char *meta, size_t meta_len,
                                   const char *hash)
{
    size_t total = sizeof(resona_pending) + id_len + 1 + text_len + 1 + meta_len + 1;
    char *block = resona__malloc(total);
    if (!block)
        return NULL;
    resona_pending *p = (resona_pending *)(void *)block;
    memset(p, 0, sizeof(*p));
    char *s = block + sizeof(*p);
    p->id = put_str(&s, id, id_len);
    p->id_len = id_len;
    p->text = put_str(&s, text, text_len);
    p->text_len = text_len;
    p->metadata = put_str(&s, meta, meta_len);
    p->metadata_len = meta_len;
    memcpy(p->hash, hash, 65);
    p->seq = seq;
    return p;
}

static int dimension_conflict(resona_run *r, uint32_t dim);

/* ---- results ----------------------------------------------------------------- */

static void item_rows_drop(resona_run *r)
{
    for (size_t i = 0; i < r->item_rows_count; i++)
        resona__prow_free(r->item_rows[i]);
    r->item_rows_count = 0;
    r->item_failed = 0;
}

/* The last chunk of an item arrived: journal + buffer its rows, flush if full. */
static int item_complete(resona_run *r)
{
    int rc = 0;
    if (r->item_failed || r->item_rows_count == 0) {
        item_rows_drop(r);
        return 0;
    }
    for (size_t i = 0; i < r->item_rows_count; i++) {
        if (r->journal && (rc = resona__journal_add(r->journal, r->item_rows[i])) < 0)
            return rc;
        if ((rc = resona__rowbuf_add(&r->buf, r->item_rows[i])) < 0)
            return rc;
    }
    /* One write per item: once the model's reply is in the journal, a kill -9
     * cannot lose it (the page cache outlives the process). */
    if (r->journal && (rc = resona__journal_write(r->journal)) < 0)
        return rc;
    r->c.generated += r->item_rows_count;
    r->c.buffered += r->item_rows_count;
    r->c.items_done++;
    item_rows_drop(r);
    /* Hands a full buffer to the writer thread, collects its outcome, and
     * waits for it only when the rows in memory reach max_buffer_rows. */
    return resona__run_flush_async(r);
}

static int on_result(const resona_embed_result *res, void *payload)
{
    resona_run *r = payload;
    int rc = 0;
    resona_pending *p = fifo_pop(r);
    /* Entries before this tag were never queued (their submit failed): drop
     * them, and the item they belonged to. */
    while (p && p->seq < res->tag) {
        r->item_failed = 1;
        resona__free(p);
        p = fifo_pop(r);
    }
    if (!p || p->seq != res->tag) {
        resona__free(p);
        return r->fatal =
                   resona__error_set(RESONA_ERROR, "embedder delivered result %llu out of order",
                                     (unsigned long long)res->tag);
    }
    if (p->chunk_index == 0)
        item_rows_drop(r);
    if (res->status == RESONA_EINTERRUPTED) {
        r->item_failed = 1; /* not an error: the item is simply not done */
    } else if (res->status < 0) {
        r->c.errors++;
        r->item_failed = 1;
        resona__run_sample(r, p->id, p->id_len, res->reason ? res->reason : "embedding failed");
    } else if (r->table && res->dim != r->table_dim && (rc = dimension_conflict(r, res->dim)) < 0) {
        goto done;
    } else if (r->want_dim && res->dim != r->want_dim) {
        char msg[160];
        snprintf(msg, sizeof(msg), "the model returned a %u-dimensional vector, expected %u",
                 res->dim, r->want_dim);
        r->c.errors++;
        r->item_failed = 1;
        resona__run_sample(r, p->id, p->id_len, msg);
    } else {
        if (r->item_rows_count == r->item_rows_cap) {
            size_t cap = r->item_rows_cap ? r->item_rows_cap * 2 : 4;
            resona_prow **v = resona__reallocarray(r->item_rows, cap, sizeof(*v));
            if (!v) {
                rc = RESONA_ENOMEM;
                goto done;
            }
            r->item_rows = v;
            r->item_rows_cap = cap;
        }
        resona_prow *row = resona__prow_new(p->id, p->id_len, p->hash, p->text, p->text_len,
                                            r->model, r->model_len, p->metadata, p->metadata_len,
                                            wall_ms(), res->vector, res->dim);
        if (!row) {
            rc = RESONA_ENOMEM;
            goto done;
        }
        if (!r->want_dim)
            r->want_dim = res->dim;
        r->item_rows[r->item_rows_count++] = row;
    }
    if (p->chunk_index + 1 == p->chunk_count)
        rc = item_complete(r);
done:
    resona__free(p);
    if (rc < 0)
        r->fatal = rc;
    else
        maybe_progress(r);
    return rc;
}

/* ---- setup: journal, table, scan, recovery ------------------------------------- */

typedef struct recovered {
    resona_prow **v;
    size_t count, cap;
} recovered;

static int on_recovered(resona_prow *row, void *payload)
{
    recovered *l = payload;
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        resona_prow **v = resona__reallocarray(l->v, cap, sizeof(*v));
        if (!v) {
            resona__prow_free(row);
            return RESONA_ENOMEM;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->count++] = row;
    return 0;
}

static int scan_table(resona_run *r)
{
    int rc;
    resona_scan *scan = NULL;
    const resona_schema *s = resona_table_schema(r->table);
    const char *need[2] = {"id", "text_hash"};
    for (int i = 0; i < 2; i++) {
        int ci = resona_table_column_index(r->table, need[i]);
        if (ci < 0 || s->fields[ci].type != RESONA_TYPE_UTF8)
            return resona__error_set(RESONA_EINVALID,
                                     "table %s is not an embeddings table: no utf8 column %s",
                                     r->opt.table_path, need[i]);
    }
    int vi = resona_table_column_index(r->table, "vector");
    if (vi < 0 || s->fields[vi].type != RESONA_TYPE_VECTOR)
        return resona__error_set(RESONA_EINVALID,
                                 "table %s is not an embeddings table: no vector column",
                                 r->opt.table_path);
    r->table_dim = s->fields[vi].dim;
    int mi = resona_table_column_index(r->table, "model");
    int di = resona_table_column_index(r->table, "dimensions");
    int has_model = mi >= 0 && s->fields[mi].type == RESONA_TYPE_UTF8;
    int has_dims = di >= 0 && s->fields[di].type == RESONA_TYPE_FLOAT64;
    const char *cols[4] = {"id", "text_hash", NULL, NULL};
    size_t ncols = 2;
    int model_col = -1, dims_col = -1;
    if (has_model) {
        model_col = (int)ncols;
        cols[ncols++] = "model";
    }
    if (has_dims) {
        dims_col = (int)ncols;
        cols[ncols++] = "dimensions";
    }
    resona_scan_options so = RESONA_SCAN_OPTIONS_INIT;
    so.columns = cols;
    so.column_count = ncols;
    if ((rc = resona_table_scan(r->table, &so, &scan)) < 0)
        return rc;
    const resona_chunk *ch;
    while ((rc = resona_scan_next(scan, &ch)) == 1) {
        const resona_column *idc = &ch->columns[0], *hc = &ch->columns[1];
        const char *ids = idc->values, *hashes = hc->values;
        for (size_t i = 0; i < ch->rows; i++) {
            if (idc->validity && !(idc->validity[i / 8] >> (i % 8) & 1))
                continue; /* a row without id cannot be addressed: ignore it */
            const char *id = ids + idc->offsets[i];
            size_t id_len = (size_t)(idc->offsets[i + 1] - idc->offsets[i]);
            const char *h = NULL;
            size_t h_len = 0;
            if (!hc->validity || (hc->validity[i / 8] >> (i % 8) & 1)) {
                h = hashes + hc->offsets[i];
                h_len = (size_t)(hc->offsets[i + 1] - hc->offsets[i]);
            }
            int model_ok = 1, dim_ok = 1;
            if (model_col >= 0) {
                const resona_column *mc = &ch->columns[model_col];
                size_t ml = (size_t)(mc->offsets[i + 1] - mc->offsets[i]);
                int valid = !mc->validity || (mc->validity[i / 8] >> (i % 8) & 1);
                model_ok = valid && ml == r->model_len &&
                           memcmp((const char *)mc->values + mc->offsets[i], r->model, ml) == 0;
            }
            if (dims_col >= 0) {
                const resona_column *dc = &ch->columns[dims_col];
                int valid = !dc->validity || (dc->validity[i / 8] >> (i % 8) & 1);
                double d = ((const double *)dc->values)[i];
                dim_ok = valid && d == (double)r->table_dim;
            }
            if ((rc = resona__known_add_row(r->known, id, id_len, h, h_len, model_ok, dim_ok)) < 0)
                goto done;
        }
    }
done:
    resona_scan_free(scan);
    return rc < 0 ? rc : 0;
}

static int open_table(resona_run *r)
{
    int rc = resona_table_open(r->opt.table_path, NULL, &r->table);
    if (rc == RESONA_ENOTFOUND) {
        resona_error_clear();
        r->table = NULL;
        return 0;
    }
    if (rc < 0)
        return rc;
    return scan_table(r);
}

/* A dimension change with force_all: set the old table aside (kept, not
 * deleted: `<table>.replaced-<unix time>`, a name LanceDB does not list) and
 * start a new one at the first flush. */
static int set_table_aside(resona_run *r)
{
    char aside[4096];
    int n = snprintf(aside, sizeof(aside), "%s.replaced-%lld", r->opt.table_path,
                     (long long)time(NULL));
    if (n < 0 || (size_t)n >= sizeof(aside))
        return resona__error_set(RESONA_EINVALID, "table path too long: %s", r->opt.table_path);
    resona_table_free(r->table);
    r->table = NULL;
    if (rename(r->opt.table_path, aside) < 0)
        return resona__error_set_errno(RESONA_EIO, errno, "moving %s aside to %s",
                                       r->opt.table_path, aside);
    RESONA_LOG(RESONA_LOG_WARN, "vector width changed: old table kept as %s", aside);
    r->table_dim = 0;
    /* Nothing of the old table is in the new one; keep the SEEN marks. */
    size_t slots = resona__known_slots(r->known);
    for (size_t i = 0; i < slots; i++) {
        resona_known_entry *e = resona__known_slot(r->known, i);
        if (e) {
            e->flags &=
                ~(uint32_t)(RESONA_KNOWN_IN_TABLE | RESONA_KNOWN_PLAIN | RESONA_KNOWN_STALE);
            e->extra = NULL;
            e->rows = 0;
        }
    }
    return 0;
}

/* The model's vectors do not fit the table's vector column. With force_all
 * and nothing kept from the table yet, rebuild; else refuse (never mix). */
static int dimension_conflict(resona_run *r, uint32_t dim)
{
    if (r->opt.force_all && r->c.skipped == 0 && r->c.persisted == 0 && r->handoffs == 0) {
        int rc = set_table_aside(r);
        return rc < 0 ? rc : 0;
    }
    return resona__error_set(RESONA_EINVALID,
                             "model %s returns %u-dimensional vectors but table %s holds "
                             "%u-dimensional ones: re-embed everything (force_all / --all) to "
                             "rebuild the table",
                             r->model, dim, r->opt.table_path, r->table_dim);
}

static int recover(resona_run *r, recovered *rec)
{
    int rc = 0;
    if (rec->count == 0)
        return 0;
    RESONA_LOG(RESONA_LOG_INFO, "committing %zu rows left in the journal by an earlier run",
               rec->count);
    r->recovering = 1;
    for (size_t i = 0; i < rec->count; i++) {
        if (r->table_dim && rec->v[i]->dim != r->table_dim) {
            rc = resona__error_set(RESONA_ECONFLICT,
                                   "journal row %s has %u dimensions, table %s has %u: move the "
                                   "journal away to continue",
                                   rec->v[i]->id, rec->v[i]->dim, r->opt.table_path, r->table_dim);
            goto done;
        }
        /* The base id of a recovered row must not be re-embedded for nothing. */
        if ((rc = resona__rowbuf_add(&r->buf, rec->v[i])) < 0)
            goto done;
        r->c.buffered++;
        if (r->buf.rows >= r->opt.store_batch_size && (rc = resona__run_flush(r)) < 0)
            goto done;
    }
    if ((rc = resona__run_flush(r)) < 0)
        goto done;
    r->recovering = 0;
    rc = resona__journal_reset(r->journal);
done:
    r->recovering = 0;
    return rc;
}

/* ---- the run ------------------------------------------------------------------ */

static int submit_item(resona_run *r, const resona_pipeline_item *it, size_t id_len,
                       size_t text_len, const char *hash)
{
    int rc = 0;
    resona_chunk_span *spans = NULL;
    size_t nspans = 0;
    resona_buf slice = RESONA_BUF_INIT(0);
    resona_buf rowid = RESONA_BUF_INIT(0);
    const char *meta = it->metadata ? it->metadata : "";
    size_t meta_len = strlen(meta);
    size_t units = resona__chunk_utf16_len(it->text, text_len);
    if ((rc = resona__chunk_spans(units, r->opt.chunk_size, r->opt.chunk_overlap, &spans,
                                  &nspans)) < 0)
        goto done;
    for (size_t k = 0; k < nspans; k++) {
        const char *text = it->text, *id = it->id;
        size_t tl = text_len, il = id_len;
        if (nspans > 1) {
            resona__buf_clear(&slice);
            resona__buf_clear(&rowid);
            if ((rc = resona__chunk_slice(it->text, text_len, spans[k].start, spans[k].end,
                                          &slice)) < 0 ||
                (rc = resona__buf_printf(&rowid, "%s#%zu", it->id, k)) < 0)
                goto done;
            text = slice.ptr;
            tl = slice.len;
            id = rowid.ptr;
            il = rowid.len;
        }
        resona_pending *p = pending_new(r->next_seq, id, il, text, tl, meta, meta_len, hash);
        if (!p) {
            rc = RESONA_ENOMEM;
            goto done;
        }
        p->chunk_index = (uint32_t)k;
        p->chunk_count = (uint32_t)nspans;
        if ((rc = fifo_push(r, p)) < 0) {
            resona__free(p);
            goto done;
        }
        if (r->t_first == 0)
            r->t_first = resona__run_now();
        uint64_t seq = r->next_seq++;
        /* The text is sent as it is: chunks are at most chunk_size units, the
         * embedder handles anything still too long for the model. */
        rc = resona_embedder_submit(r->opt.embedder, p->text, p->text_len, seq);
        if (rc < 0)
            goto done; /* p stays in the FIFO: skipped by on_result or freed at the end */
        if (r->fatal) {
            rc = r->fatal;
            goto done;
        }
    }
done:
    resona__free(spans);
    resona__buf_free(&slice);
    resona__buf_free(&rowid);
    return rc;
}

static int validate(resona_run *r, const resona_pipeline_options *o)
{
    if (!o || !o->table_path || !*o->table_path)
        return resona__error_set(RESONA_EINVALID, "pipeline: table_path is required");
    if (!o->embedder)
        return resona__error_set(RESONA_EINVALID, "pipeline: embedder is required");
    if (!r->next_fn)
        return resona__error_set(RESONA_EINVALID, "pipeline: the item callback is required");
    if (!o->model || !*o->model)
        return resona__error_set(RESONA_EINVALID, "pipeline: model is required");
    r->opt = *o;
    if (r->opt.store_batch_size == 0)
        return resona__error_set(RESONA_EINVALID, "pipeline: store_batch_size must be at least 1");
    if (r->opt.max_buffer_rows == 0)
        r->opt.max_buffer_rows = r->opt.store_batch_size * 2;
    if (r->opt.max_buffer_rows < r->opt.store_batch_size)
        r->opt.max_buffer_rows = r->opt.store_batch_size;
    if (r->opt.chunk_size == 0)
        r->opt.chunk_size = resona_pipeline_default_chunk_size(o->model);
    if (r->opt.chunk_overlap >= r->opt.chunk_size)
        return resona__error_set(RESONA_EINVALID,
                                 "pipeline: chunk_overlap %zu must be smaller than chunk_size %zu",
                                 r->opt.chunk_overlap, r->opt.chunk_size);
    if (r->opt.progress_interval_s <= 0)
        r->opt.progress_interval_s = 0.2;
    r->model = o->model;
    r->model_len = strlen(o->model);
    r->want_dim = o->dimensions ? o->dimensions : resona_embedder_dim(o->embedder);
    r->next_flush_at = r->opt.store_batch_size;
    return 0;
}

int resona_pipeline_run(const resona_pipeline_options *options, resona_pipeline_next_fn next,
                        void *next_payload, resona_pipeline_result *result)
{
    int rc = 0, pull_rc = 0, interrupted = 0, embed_failed = 0, wrc;
    char *jpath = NULL;
    recovered rec = {0};
    resona_run *r = resona__calloc(1, sizeof(*r));
    if (result)
        memset(result, 0, sizeof(*result));
    if (!r)
        return RESONA_ENOMEM;
    r->t_start = resona__run_now();
    r->next_fn = next;
    if ((rc = validate(r, options)) < 0)
        goto done;
    r->c.total = r->opt.total_items;
    if ((rc = resona__known_new(&r->known)) < 0)
        goto done;

    /* 1. journal */
    if (r->opt.journal) {
        if (!(jpath = resona_pipeline_journal_path(r->opt.table_path))) {
            rc = RESONA_ENOMEM;
            goto done;
        }
        if ((rc = resona__journal_open(jpath, &r->journal)) < 0)
            goto done;
        int torn = 0;
        if ((rc = resona__journal_recover(r->journal, on_recovered, &rec, &torn)) < 0)
            goto done;
    }
    /* 2. table + scan */
    if ((rc = open_table(r)) < 0)
        goto done;
    /* 3. what an earlier run left behind */
    if ((rc = recover(r, &rec)) < 0)
        goto done;
    for (size_t i = 0; i < rec.count; i++)
        resona__prow_free(rec.v[i]);
    rec.count = 0;

    /* 4. items (full buffers are committed by the writer thread) */
    if ((rc = resona__run_writer_start(r)) < 0)
        goto done;
    atomic_store(&active_embedder, r->opt.embedder);
    resona_embedder_set_sink(r->opt.embedder, on_result, r);
    if (atomic_load(&stop_flag))
        resona_embedder_stop(r->opt.embedder);
    resona__run_progress(r, 0);
    for (;;) {
        if (atomic_load(&stop_flag)) {
            interrupted = 1;
            break;
        }
        if (r->fatal) {
            rc = r->fatal;
            break;
        }
        resona_pipeline_item it = {0};
        int n = next(&it, next_payload);
        if (n == 0)
            break;
        if (n < 0) {
            pull_rc = rc = n;
            break;
        }
        r->c.seen++;
        if (!it.id || !*it.id || !it.text) {
            r->c.errors++;
            resona__run_sample(r, it.id, it.id ? strlen(it.id) : 0,
                               !it.id || !*it.id ? "item without an id" : "item without text");
            continue;
        }
        size_t id_len = strlen(it.id), text_len = strlen(it.text);
        size_t base_len = resona_pipeline_base_id_len(it.id, id_len);
        resona_known_entry *e = resona__known_get(r->known, it.id, base_len);
        if (!e) {
            rc = RESONA_ENOMEM;
            break;
        }
        if (e->flags & RESONA_KNOWN_SEEN) {
            r->c.errors++;
            resona__run_sample(r, it.id, id_len, "duplicate id in the input: later copy ignored");
            continue;
        }
        e->flags |= RESONA_KNOWN_SEEN;
        char hash[65];
        resona_pipeline_text_hash(it.text, text_len, hash);
        uint8_t bin[32];
        (void)resona__known_hex(hash, 64, bin);
        if (!r->opt.force_all && (e->flags & RESONA_KNOWN_IN_TABLE) &&
            !(e->flags & RESONA_KNOWN_STALE) && memcmp(e->hash, bin, 32) == 0) {
            r->c.skipped++;
            maybe_progress(r);
            continue;
        }
        e->flags |= RESONA_KNOWN_EMBEDDED;
        r->c.to_embed++;
        rc = submit_item(r, &it, id_len, text_len, hash);
        if (rc == RESONA_EINTERRUPTED) {
            interrupted = 1;
            rc = 0;
            break;
        }
        if (rc < 0) {
            embed_failed = r->fatal == 0;
            break;
        }
        maybe_progress(r);
    }
    /* 5. finish what is in flight (also after a stop: the in-flight replies
     *    are waited for and kept), then flush. */
    if (!embed_failed && !r->fatal) {
        if (interrupted)
            resona_embedder_stop(r->opt.embedder);
        int drc = resona_embedder_drain(r->opt.embedder);
        if (drc == RESONA_EINTERRUPTED)
            interrupted = 1;
        else if (drc < 0 && rc == 0)
            rc = drc;
    }
    if (r->fatal && rc == 0)
        rc = r->fatal;
    resona_embedder_set_sink(r->opt.embedder, NULL, NULL);
    atomic_store(&active_embedder, NULL);
    if (atomic_load(&stop_flag))
        interrupted = 1;
    {
        int frc = resona__run_flush(r);
        if (frc < 0 && rc == 0)
            rc = frc;
    }
    if (rc == 0 && !interrupted && pull_rc == 0 && r->opt.remove_missing)
        rc = resona__run_remove_missing(r);
    if (rc == 0 && interrupted)
        rc = resona__error_set(RESONA_EINTERRUPTED,
                               "interrupted: %llu rows committed, the rest will be embedded by "
                               "the next run",
                               (unsigned long long)r->c.persisted);
done:
    /* A flush still running is finished and counted. */
    if ((wrc = resona__run_writer_stop(r)) < 0 && rc == 0)
        rc = wrc;
    if (r->journal && resona__run_rows_held(r) > 0)
        (void)resona__journal_sync(r->journal); /* rows kept for the next run */
    r->c.buffered = resona__run_rows_held(r);
    if (r->known) /* counters are final even on failure */
        resona__run_progress(r, 1);
    if (result) {
        result->counters = r->c;
        result->duration_s = resona__run_now() - r->t_start;
        result->flush_failures = r->flush_failures;
        result->deleted = r->deleted;
        result->sample_count = r->sample_count;
        for (size_t i = 0; i < r->sample_count; i++) {
            result->samples[i] = r->samples[i];
            r->samples[i] = NULL;
        }
    }
    for (size_t i = 0; i < r->sample_count; i++)
        resona__free(r->samples[i]);
    for (size_t i = 0; i < rec.count; i++)
        resona__prow_free(rec.v[i]);
    resona__free(rec.v);
    while (r->fifo_count > 0)
        resona__free(fifo_pop(r));
    resona__free(r->fifo);
    item_rows_drop(r);
    resona__free(r->item_rows);
    resona__rowbuf_free(&r->buf);
    resona__rowbuf_free(&r->job.buf);
    resona__free(r->job.del);
    resona__journal_close(r->journal);
    resona_table_free(r->table);
    resona__known_free(r->known);
    resona__free(jpath);
    resona__free(r);
    return rc;
}

/* ---- array convenience ---------------------------------------------------------- */

typedef struct array_src {
    const resona_pipeline_item *items;
    size_t count, at;
} array_src;

static int array_next(resona_pipeline_item *out, void *payload)
{
    array_src *s = payload;
    if (s->at >= s->count)
        return 0;
    *out = s->items[s->at++];
    return 1;
}

int resona_pipeline_run_array(const resona_pipeline_options *options,
                              const resona_pipeline_item *items, size_t count,
                              resona_pipeline_result *result)
{
    array_src s = {items, count, 0};
    resona_pipeline_options o;
    if (!options)
        return resona__error_set(RESONA_EINVALID, "pipeline: options are required");
    o = *options;
    if (o.total_items == 0)
        o.total_items = count;
    return resona_pipeline_run(&o, array_next, &s, result);
}
