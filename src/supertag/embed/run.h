/*
 * embed/run.h - one embedding run of `embed generate`: the selected items,
 * streamed from the SQLite cursor, through the libresona pipeline into the
 * workspace's Lance table, with the progress display.
 *
 * The cursor feeds the pipeline's pull callback directly, so no list of all
 * texts is ever built. SIGINT/SIGTERM during the run ask the pipeline to
 * stop (requests in flight finish, the buffer is committed), and the run
 * reports interrupted. Not reentrant: one run at a time per process (the
 * signal handlers are process-wide).
 */
#ifndef SUPERTAG_EMBED_RUN_H
#define SUPERTAG_EMBED_RUN_H

#include "embed/progress.h"
#include "embed/select.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

struct st_run_opts {
    const char *table_path;       /**< .../tana-index.lance/embeddings.lance */
    const char *const *endpoints; /**< Ollama base URLs */
    size_t endpoint_count;
    const char *model;
    size_t batch_size;                /**< texts per request; 0 = embedder default */
    unsigned parallel;                /**< requests in flight per server; 0 = default */
    size_t store_batch_size;          /**< rows per Lance commit */
    bool force_all;                   /**< -a: re-embed unchanged items too */
    bool remove_missing;              /**< delete rows of nodes not selected (full runs) */
    const struct st_select_opts *sel; /**< what to select and how to build the text */
    long long total;                  /**< selected items (for % and ETA) */
    st_progress *progress;            /**< the display; borrowed */
    uint64_t compact_after;           /**< compact after a successful run when the table has
                                           more fragments than this; 0 = never */
};

/** Outcome of a preflight check, for the original's messages. */
enum st_preflight {
    ST_PREFLIGHT_OK,
    ST_PREFLIGHT_NO_SERVER,
    ST_PREFLIGHT_NO_MODEL,
    ST_PREFLIGHT_ERROR
};

/**
 * Check that a server answers and has the model (GET /api/tags). Returns the
 * outcome; the detail is in st_error_message().
 */
enum st_preflight st_run_preflight(const struct st_run_opts *o);

/**
 * Run. Fills *summary (the caller owns summary->error_samples: free each and
 * the array with st_run_summary_free). Returns 0, RESONA_EINTERRUPTED after
 * a stop request (everything generated was committed), or another negative
 * code with st_error_message() set.
 */
int st_run(sqlite3 *db, const struct st_run_opts *o, struct st_progress_summary *summary);
void st_run_summary_free(struct st_progress_summary *summary);

#endif
