/*
 * pipeline/run.h - the state of one pipeline run, shared by the files of
 * src/resona/pipeline/ (pipeline.c drives items and results, flush.c commits
 * the buffer to the table).
 */
#ifndef RESONA_PIPELINE_RUN_H
#define RESONA_PIPELINE_RUN_H

#include "pipeline/buffer.h"
#include "pipeline/journal.h"
#include "pipeline/known.h"
#include "pipeline/row.h"

#include <resona/embed.h>
#include <resona/pipeline.h>
#include <resona/table.h>

#include <pthread.h>

/* A chunk submitted to the embedder, waiting for its result (FIFO order =
 * submission order = delivery order). One allocation. */
typedef struct resona_pending {
    uint64_t seq;
    uint32_t chunk_index;
    uint32_t chunk_count;
    const char *id; /* row id */
    size_t id_len;
    const char *text;
    size_t text_len;
    const char *metadata;
    size_t metadata_len;
    char hash[65];
} resona_pending;

/* Writer states (resona_writer.state). */
enum {
    RESONA_W_IDLE = 0, /* no job: job.buf is empty */
    RESONA_W_BUSY,     /* the writer thread is committing job */
    RESONA_W_DONE,     /* finished, outcome not yet collected by the pipeline's thread */
    RESONA_W_HELD      /* failed and collected: rows kept in job.buf, retried later */
};

/* One buffer being committed: the rows, the journal segment that holds
 * them, the ids its delete removes, and the outcome. While the writer is
 * BUSY it alone touches the job and the table handle; the pipeline's thread
 * reads only job.buf.rows. */
typedef struct resona_flush_job {
    resona_rowbuf buf;
    int seg;          /* journal segment of the rows; -1 = none or every segment */
    const char **del; /* ids to delete (borrowed from the known index's arena) */
    size_t del_count, del_cap;
    int delete_done; /* the delete is committed: a retry must not repeat it */
    /* outcome of the last run of the job (writer side) */
    int rc;
    char message[1024];
    uint64_t commits, deleted, failures, late_commits;
} resona_flush_job;

typedef struct resona_writer {
    pthread_t thread;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int state; /* RESONA_W_*, under mu */
    int quit;  /* under mu */
} resona_writer;

typedef struct resona_run {
    resona_pipeline_options opt;
    resona_pipeline_next_fn next_fn;
    const char *model;
    size_t model_len;
    uint32_t want_dim;  /* expected width, 0 = unknown until the first vector */
    uint32_t table_dim; /* the table's vector width, 0 = no table yet */

    resona_table *table;
    resona_known *known;
    resona_journal *journal;
    resona_rowbuf buf;    /* the buffer filling (journal segment: the current one) */
    resona_flush_job job; /* the buffer committed by the writer thread */
    resona_writer w;

    /* FIFO of pending chunks (ring) */
    resona_pending **fifo;
    size_t fifo_cap, fifo_head, fifo_count;
    uint64_t next_seq;

    /* rows of the item being assembled (its chunks arrive consecutively) */
    resona_prow **item_rows;
    size_t item_rows_count, item_rows_cap;
    int item_failed;

    resona_pipeline_progress c; /* counters */
    uint64_t flush_failures;
    uint64_t deleted;
    char *samples[RESONA_PIPELINE_MAX_SAMPLES];
    size_t sample_count;
    int failing;          /* last flush failed: rows kept, retried later */
    uint64_t handoffs;    /* buffers handed to the writer */
    int fatal;            /* a fatal error code seen in a callback */
    int recovering;       /* committing an earlier run's journal */
    size_t next_flush_at; /* buffered rows that trigger the next flush */

    double t_start, t_first, t_progress;
} resona_run;

/* ---- flush.c ---- */

/** Start the writer thread. */
int resona__run_writer_start(resona_run *r);

/**
 * Wait for the writer, collect its outcome and end the thread (safe when it
 * never started). Returns the outcome of a job it was still committing (0
 * when there was none or it succeeded).
 */
int resona__run_writer_stop(resona_run *r);

/**
 * Commit everything now, on the calling thread: wait for the writer's job,
 * retry it if it failed, then commit the filling buffer. Each commit deletes
 * the replaced rows of its base ids (journal fsynced first), appends the rows
 * (creating the table at the first flush), then empties their journal
 * segment (unless recovering). Retries up to flush_attempts. On failure the
 * rows stay in memory and in the journal.
 */
int resona__run_flush(resona_run *r);

/**
 * The filling buffer reached its threshold (or the rows held reached
 * max_buffer_rows): hand it to the writer thread when that is idle, wait
 * for it when the rows in memory would pass max_buffer_rows, retry a failed
 * job. Returns < 0 only when the rows cannot be kept any more (a flush that
 * keeps failing at the cap) or on a fatal error.
 */
int resona__run_flush_async(resona_run *r);

/** Collect a finished background flush, if any (never waits). */
int resona__run_collect(resona_run *r);

/** Rows in memory: the filling buffer plus the writer's. */
size_t resona__run_rows_held(const resona_run *r);

/** Delete the rows of base ids present in the table and not seen in this run. */
int resona__run_remove_missing(resona_run *r);

/** Record an error sample "what: message" (at most RESONA_PIPELINE_MAX_SAMPLES). */
void resona__run_sample(resona_run *r, const char *what, size_t what_len, const char *message);

/** Wall clock in seconds (monotonic). */
double resona__run_now(void);

/** Fire the progress callback now. */
void resona__run_progress(resona_run *r, int final);

/** Test hook: make the next n flush attempts fail with RESONA_EIO. */
void resona__pipeline_fail_flushes(int n);

/** Test hook: every flush attempt first sleeps ms milliseconds (0 = off). */
void resona__pipeline_slow_flushes(int ms);

/** Test hook: flushes running on a writer thread right now (0 or 1 per run). */
int resona__pipeline_flushing(void);

/** Test hook: flush attempts that failed since the process started. */
long resona__pipeline_failed_attempts(void);

#endif
