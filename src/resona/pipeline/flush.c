/*
 * pipeline/flush.c - committing buffers to the table, on a writer thread.
 *
 * One flush = at most two commits: a Delete of the rows the buffered items
 * replace (their plain row and chunk rows, found in the known-rows index),
 * then ONE Append of the buffered rows. New items need no delete, so a first
 * run makes exactly ceil(rows / store_batch_size) commits.
 *
 * Double buffering. A full buffer is handed to a writer thread (a swap of
 * two column buffers, nothing copied) and committed there while the next
 * buffer fills on the pipeline's thread, so that the embedder keeps the
 * model busy during the fsyncs and commits. At most two buffers exist: the
 * one being committed and the one filling; together they never hold more
 * than max_buffer_rows rows (default 2 x store_batch_size), and the
 * pipeline's thread waits for the writer rather than pass that bound. Each
 * buffer's rows are in their own journal segment (journal.h), which is
 * emptied when, and only when, those rows are committed.
 *
 * Who touches what. While the writer is BUSY it alone uses the job (rows,
 * delete list) and the table handle; the pipeline's thread keeps the known
 * index, the counters and the journal, and does what needs them before the
 * hand-off (create the table, list the ids to delete, switch the journal
 * segment) and after the outcome is collected (index update, counters,
 * empty the segment, progress). The outcome (code, message, commits) is
 * copied into the job, as error messages are thread-local.
 *
 * Why delete first, then append. The table API deletes by key value, so a
 * delete after the append would also remove the new rows of the same ids.
 * Delete-first is safe because the new rows are already durable in the
 * journal (fsynced just before the delete): if the process dies between the
 * two commits, the next run re-commits the journal first (delete + append
 * again, idempotent), so no row is lost - readers may just miss the items of
 * that one flush until then. Buffers are committed in the order they filled,
 * and an item's rows are in one buffer only.
 *
 * Retries. A failed attempt is retried (the delete, once committed, is not
 * repeated); after the last attempt the rows stay in memory and in the
 * journal and the job is retried when the next buffer is full, or
 * synchronously when the rows held reach max_buffer_rows (then a failure
 * stops the run). A commit that is linked but whose call then fails (the
 * fsync of _versions/ or the reload of the handle) is recognised with
 * resona_table_last_commit() and counts as done, so a retry never appends
 * the same rows twice.
 */
#include "pipeline/run.h"

#include "util/alloc.h"
#include "util/error.h"
#include "util/log.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static atomic_int inject_failures;
static atomic_int inject_delay_ms;
static atomic_int flushing;
static atomic_long failed_attempts;

void resona__pipeline_fail_flushes(int n)
{
    atomic_store(&inject_failures, n);
}

void resona__pipeline_slow_flushes(int ms)
{
    atomic_store(&inject_delay_ms, ms);
}

int resona__pipeline_flushing(void)
{
    return atomic_load(&flushing);
}

long resona__pipeline_failed_attempts(void)
{
    return atomic_load(&failed_attempts);
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

/* A list of NUL-terminated id pointers (borrowed from the known index's
 * arena, whose strings never move). */
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

/* ---- the job (either thread) ------------------------------------------- */

/* One attempt. Touches only the job, the table handle and the journal's
 * fsync (thread-safe against the other segment's writes). */
static int job_once(resona_run *r, resona_flush_job *job)
{
    int rc;
    int delay = atomic_load(&inject_delay_ms);
    if (delay > 0)
        sleep_ms(delay);
    if (atomic_load(&inject_failures) > 0) {
        atomic_fetch_sub(&inject_failures, 1);
        return resona__error_set(RESONA_EIO, "injected flush failure (test hook)");
    }
    if (job->del_count > 0 && !job->delete_done) {
        uint64_t n = 0;
        /* The journal must be durable before old rows are deleted: it is then
         * the only copy of the items until the append commits. */
        if (r->journal && r->opt.journal_fsync) {
            for (int s = 0; s < 2; s++)
                if ((job->seg < 0 || job->seg == s) &&
                    (rc = resona__journal_fsync(r->journal, s)) < 0)
                    return rc;
        }
        rc = resona_table_delete(r->table, "id", job->del, job->del_count, &n);
        if (rc < 0 && resona_table_last_commit(r->table) == 0)
            return rc;
        /* Committed (if rc < 0: linked, then the reload failed; the retry
         * must not count on the handle's version, it reloads it). */
        job->delete_done = 1;
        job->commits++;
        job->deleted += n;
        if (rc < 0) {
            job->late_commits++;
            return rc;
        }
    }
    resona_batch batch;
    resona__rowbuf_batch(&job->buf, &batch);
    rc = resona_table_append(r->table, &batch, NULL);
    if (rc < 0 && resona_table_last_commit(r->table) != 0) {
        /* The rows are in the table; only what follows the commit failed.
         * Done: appending them again would duplicate them. The handle is
         * brought up to date now or by the next commit (which reloads on
         * a version conflict). */
        job->late_commits++;
        (void)resona_table_refresh(r->table);
        rc = 0;
    }
    if (rc < 0)
        return rc;
    job->commits++;
    return 0;
}

/* All attempts of a job; the outcome goes into the job. */
static void job_run(resona_run *r, resona_flush_job *job)
{
    int rc = 0;
    int attempts = r->opt.flush_attempts > 0 ? r->opt.flush_attempts : 1;
    job->message[0] = '\0';
    for (int a = 0; a < attempts; a++) {
        rc = job_once(r, job);
        if (rc == 0)
            break;
        job->failures++;
        atomic_fetch_add(&failed_attempts, 1);
        snprintf(job->message, sizeof(job->message), "%s", resona_error_message());
        (void)resona_table_refresh(r->table); /* reload the latest version before retrying */
        if (a + 1 < attempts)
            sleep_ms(50L << (a < 6 ? a : 6));
    }
    job->rc = rc;
}

static void *writer_main(void *arg)
{
    resona_run *r = arg;
    pthread_mutex_lock(&r->w.mu);
    for (;;) {
        while (!r->w.quit && r->w.state != RESONA_W_BUSY)
            pthread_cond_wait(&r->w.cv, &r->w.mu);
        if (r->w.state != RESONA_W_BUSY)
            break; /* quit */
        pthread_mutex_unlock(&r->w.mu);
        atomic_fetch_add(&flushing, 1);
        job_run(r, &r->job);
        atomic_fetch_sub(&flushing, 1);
        pthread_mutex_lock(&r->w.mu);
        r->w.state = RESONA_W_DONE;
        pthread_cond_broadcast(&r->w.cv);
    }
    pthread_mutex_unlock(&r->w.mu);
    return NULL;
}

/* ---- the pipeline's side ------------------------------------------------- */

static int writer_state(resona_run *r)
{
    if (!r->w.started)
        return r->w.state;
    pthread_mutex_lock(&r->w.mu);
    int s = r->w.state;
    pthread_mutex_unlock(&r->w.mu);
    return s;
}

static void writer_wait(resona_run *r)
{
    if (!r->w.started)
        return;
    pthread_mutex_lock(&r->w.mu);
    while (r->w.state == RESONA_W_BUSY)
        pthread_cond_wait(&r->w.cv, &r->w.mu);
    pthread_mutex_unlock(&r->w.mu);
}

static void writer_set(resona_run *r, int state)
{
    if (r->w.started)
        pthread_mutex_lock(&r->w.mu);
    r->w.state = state;
    if (r->w.started) {
        pthread_cond_broadcast(&r->w.cv);
        pthread_mutex_unlock(&r->w.mu);
    }
}

int resona__run_writer_start(resona_run *r)
{
    if (pthread_mutex_init(&r->w.mu, NULL) != 0)
        return resona__error_set(RESONA_ERROR, "pipeline: cannot create a mutex");
    if (pthread_cond_init(&r->w.cv, NULL) != 0) {
        pthread_mutex_destroy(&r->w.mu);
        return resona__error_set(RESONA_ERROR, "pipeline: cannot create a condition variable");
    }
    int e = pthread_create(&r->w.thread, NULL, writer_main, r);
    if (e != 0) {
        pthread_cond_destroy(&r->w.cv);
        pthread_mutex_destroy(&r->w.mu);
        return resona__error_set_errno(RESONA_ERROR, e, "pipeline: cannot start the writer thread");
    }
    r->w.started = 1;
    return 0;
}

size_t resona__run_rows_held(const resona_run *r)
{
    return r->buf.rows + r->job.buf.rows;
}

/* Take a finished job's outcome (pipeline's thread, writer not BUSY). */
static int collect(resona_run *r)
{
    resona_flush_job *job = &r->job;
    int rc = 0;
    r->flush_failures += job->failures;
    r->c.commits += job->commits;
    r->deleted += job->deleted;
    if (job->failures > 0 && job->rc == 0)
        RESONA_LOG(RESONA_LOG_WARN,
                   "flush of %zu rows to %s: %llu failed attempts before it "
                   "committed (last: %s)",
                   job->buf.rows, r->opt.table_path, (unsigned long long)job->failures,
                   job->message);
    if (job->late_commits > 0)
        RESONA_LOG(RESONA_LOG_WARN,
                   "flush of %zu rows to %s: a commit was made but its call then "
                   "failed; counted as committed, not repeated",
                   job->buf.rows, r->opt.table_path);
    job->failures = job->commits = job->deleted = job->late_commits = 0;
    if (job->rc < 0) {
        rc = job->rc;
        r->failing = 1;
        writer_set(r, RESONA_W_HELD);
        RESONA_LOG(RESONA_LOG_WARN, "flush of %zu rows to %s failed: %s", job->buf.rows,
                   r->opt.table_path, job->message);
        char what[64];
        int n = snprintf(what, sizeof(what), "flush of %zu rows", job->buf.rows);
        resona__run_sample(r, what, n > 0 ? (size_t)n : 0, job->message);
        return resona__error_set(rc, "%s", job->message);
    }
    /* Committed. The index now describes the new rows: the old rows of the
     * replaced entries are gone, the new ones are there. */
    const char *prev = NULL;
    size_t prev_len = 0;
    for (size_t i = 0; i < job->buf.rows && job->del_count > 0; i++) {
        size_t len;
        const char *id = resona__rowbuf_id(&job->buf, i, &len);
        size_t base_len = resona_pipeline_base_id_len(id, len);
        if (prev && prev_len == base_len && memcmp(prev, id, base_len) == 0)
            continue;
        prev = id;
        prev_len = base_len;
        resona_known_entry *e = resona__known_find(r->known, id, base_len);
        if (e && (e->flags & RESONA_KNOWN_IN_TABLE))
            entry_emptied(e);
    }
    for (size_t i = 0; i < job->buf.rows; i++) {
        size_t len;
        const char *id = resona__rowbuf_id(&job->buf, i, &len);
        size_t base_len = resona_pipeline_base_id_len(id, len);
        resona_known_entry *e = resona__known_get(r->known, id, base_len);
        if (!e)
            return RESONA_ENOMEM;
        e->flags &= ~(uint32_t)RESONA_KNOWN_REPLACED;
        size_t mlen = (size_t)(job->buf.off[RB_MODEL][i + 1] - job->buf.off[RB_MODEL][i]);
        int model_ok =
            mlen == r->model_len &&
            memcmp(job->buf.str[RB_MODEL].ptr + job->buf.off[RB_MODEL][i], r->model, mlen) == 0;
        if ((rc = resona__known_add_row(r->known, id, len, resona__rowbuf_hash(&job->buf, i), 64,
                                        model_ok, 1)) < 0)
            return rc;
    }
    r->failing = 0;
    size_t rows = job->buf.rows;
    r->c.persisted += rows;
    if (r->recovering)
        r->c.recovered += rows;
    r->c.buffered -= rows < r->c.buffered ? rows : r->c.buffered;
    resona__rowbuf_clear(&job->buf);
    job->del_count = 0;
    job->delete_done = 0;
    int seg = job->seg;
    job->seg = -1;
    writer_set(r, RESONA_W_IDLE);
    /* Only now may the journal forget these rows. */
    if (r->journal && !r->recovering && seg >= 0 &&
        (rc = resona__journal_reset_segment(r->journal, seg)) < 0)
        return rc;
    resona__run_progress(r, 0);
    return 0;
}

int resona__run_collect(resona_run *r)
{
    return writer_state(r) == RESONA_W_DONE ? collect(r) : 0;
}

/* Make the filling buffer the job (writer IDLE): create the table at the
 * first flush, list the ids to delete, close its journal segment, swap. */
static int prepare(resona_run *r)
{
    int rc;
    resona_flush_job *job = &r->job;
    if ((rc = ensure_table(r)) < 0)
        return rc;
    idlist del = {job->del, 0, job->del_cap};
    const char *prev = NULL;
    size_t prev_len = 0;
    for (size_t i = 0; i < r->buf.rows; i++) {
        size_t len;
        const char *id = resona__rowbuf_id(&r->buf, i, &len);
        size_t base_len = resona_pipeline_base_id_len(id, len);
        if (prev && prev_len == base_len && memcmp(prev, id, base_len) == 0)
            continue; /* chunks of one item are adjacent */
        prev = id;
        prev_len = base_len;
        resona_known_entry *e = resona__known_find(r->known, id, base_len);
        if (e && (e->flags & RESONA_KNOWN_IN_TABLE) && (rc = push_entry_ids(&del, e)) < 0)
            break;
    }
    job->del = del.v;
    job->del_cap = del.cap;
    if (rc < 0)
        return rc;
    job->del_count = del.count;
    job->delete_done = 0;
    job->seg = -1;
    /* Written (not fsynced): enough for kill -9. A flush without deletes
     * needs no fsync: if power fails first, only model work is lost, never
     * a row of the table. While recovering, the rows are already in the
     * journal (in either segment). */
    if (r->journal && !r->recovering && (rc = resona__journal_switch(r->journal, &job->seg)) < 0)
        return rc;
    resona_rowbuf t = job->buf;
    job->buf = r->buf;
    r->buf = t;
    resona__rowbuf_clear(&r->buf);
    r->handoffs++;
    return 0;
}

/* Run the job on this thread (writer not BUSY) and collect it. */
static int run_here(resona_run *r)
{
    job_run(r, &r->job);
    writer_set(r, RESONA_W_DONE);
    return collect(r);
}

int resona__run_flush(resona_run *r)
{
    int rc = 0;
    writer_wait(r);
    if (writer_state(r) == RESONA_W_DONE && (rc = collect(r)) < 0 &&
        writer_state(r) != RESONA_W_HELD)
        return rc; /* not a flush failure: fatal */
    if (writer_state(r) == RESONA_W_HELD && (rc = run_here(r)) < 0)
        return rc;
    if (r->buf.rows == 0)
        return 0;
    if (r->journal && (rc = resona__journal_write(r->journal)) < 0)
        return rc; /* the rows stay in memory; a journal that cannot be written is fatal */
    if ((rc = prepare(r)) < 0)
        return rc;
    return run_here(r);
}

/* A failed table creation (before any hand-off) is a failed flush too. */
static int prepare_failed(resona_run *r, int rc)
{
    if (rc == RESONA_ENOMEM || r->table)
        return rc;
    r->flush_failures++;
    r->failing = 1;
    char what[64];
    int n = snprintf(what, sizeof(what), "flush of %zu rows", r->buf.rows);
    resona__run_sample(r, what, n > 0 ? (size_t)n : 0, resona_error_message());
    if (resona__run_rows_held(r) >= r->opt.max_buffer_rows)
        return rc;
    size_t next = r->buf.rows + r->opt.store_batch_size;
    r->next_flush_at = next < r->opt.max_buffer_rows ? next : r->opt.max_buffer_rows;
    return 0;
}

int resona__run_flush_async(resona_run *r)
{
    int rc;
    size_t cap = r->opt.max_buffer_rows;
    int st = writer_state(r);
    if (st == RESONA_W_DONE) {
        if ((rc = collect(r)) < 0 && writer_state(r) != RESONA_W_HELD)
            return rc;
        st = writer_state(r);
    }
    if (st == RESONA_W_BUSY) {
        if (resona__run_rows_held(r) < cap)
            return 0; /* keep filling; checked again at the next item */
        writer_wait(r);
        if ((rc = collect(r)) < 0 && writer_state(r) != RESONA_W_HELD)
            return rc;
        st = writer_state(r);
    }
    if (st == RESONA_W_HELD) {
        /* A failed flush: retry it once the next buffer is full, in the
         * background while there is room, else here - and a failure then
         * ends the run (the rows are in the journal for the next run). */
        if (r->buf.rows < r->next_flush_at && resona__run_rows_held(r) < cap)
            return 0;
        if (resona__run_rows_held(r) < cap && r->w.started) {
            resona_error_clear();
            writer_set(r, RESONA_W_BUSY);
            return 0;
        }
        if ((rc = run_here(r)) < 0)
            return rc;
    }
    if (r->buf.rows < r->next_flush_at)
        return 0;
    if (r->journal && (rc = resona__journal_write(r->journal)) < 0)
        return rc;
    if ((rc = prepare(r)) < 0)
        return prepare_failed(r, rc);
    r->next_flush_at = r->opt.store_batch_size;
    if (!r->w.started)
        return run_here(r);
    writer_set(r, RESONA_W_BUSY);
    return 0;
}

int resona__run_writer_stop(resona_run *r)
{
    int rc = 0;
    if (!r->w.started)
        return 0;
    writer_wait(r);
    if (writer_state(r) == RESONA_W_DONE)
        rc = collect(r);
    pthread_mutex_lock(&r->w.mu);
    r->w.quit = 1;
    pthread_cond_broadcast(&r->w.cv);
    pthread_mutex_unlock(&r->w.mu);
    pthread_join(r->w.thread, NULL);
    pthread_cond_destroy(&r->w.cv);
    pthread_mutex_destroy(&r->w.mu);
    r->w.started = 0;
    return rc;
}

int resona__run_remove_missing(resona_run *r)
{
    int rc = 0;
    idlist del = {0};
    writer_wait(r);
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
