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
    resona_rowbuf buf;

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
    int fatal;            /* a fatal error code seen in a callback */
    int recovering;       /* committing an earlier run's journal */
    size_t next_flush_at; /* buffered rows that trigger the next flush */

    double t_start, t_first, t_progress;
} resona_run;

/* ---- flush.c ---- */

/**
 * Commit the buffer: fsync the journal, delete the replaced rows of the
 * buffered base ids, append the rows (creating the table at the first flush),
 * then empty the journal (unless recovering). Retries up to flush_attempts.
 * On failure the rows stay in the buffer and the journal.
 */
int resona__run_flush(resona_run *r);

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

#endif
