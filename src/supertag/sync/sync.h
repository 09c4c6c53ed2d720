/*
 * sync/sync.h - `supertag sync`: a Tana export becomes the SQLite index.
 *
 * The new index is built into a temporary database next to the target
 * (<db>.sync-<pid>), then fsync'ed and renamed over it; a stale -wal/-shm of
 * the old file is removed after the rename. A failure or an interruption at
 * any point leaves the previous index as it was. When the export's nodes
 * have the same checksums (the original's rule) as the existing index, the
 * index is not touched at all.
 *
 * Memory: the compact graph (graph.h) plus SQLite's page cache; the JSON
 * text is streamed and each doc's JSON is spilled to an unlinked temporary
 * file in the target directory.
 */
#ifndef SUPERTAG_SYNC_SYNC_H
#define SUPERTAG_SYNC_SYNC_H

#include "sync/export.h"
#include "sync/index.h"

#include <signal.h>
#include <stdint.h>

typedef struct st_sync_opts {
    const char *export_path; /**< the export file */
    const char *db_path;     /**< the index to create or replace */
    int force;               /**< rebuild even when nothing changed */
    int64_t now_ms;          /**< timestamp to store (0 = the clock) */
    int cache_mb;            /**< SQLite page cache for the build (0 = default 64) */
    st_export_opts parse;
    volatile sig_atomic_t *stop; /**< set non-zero (e.g. by SIGINT) to abort cleanly */
} st_sync_opts;

#define ST_SYNC_OPTS_INIT {NULL, NULL, 0, 0, 0, ST_EXPORT_OPTS_INIT, NULL}

typedef struct st_sync_result {
    int unchanged;  /**< nothing written: same checksums as the existing index */
    int rebuilt;    /**< a new index was written */
    size_t docs;    /**< docs in the export */
    size_t added, modified, deleted; /**< node changes against the previous index */
    st_index_counts counts;
    double parse_seconds, write_seconds;
} st_sync_result;

/**
 * Run a sync. RESONA_EINVALID for bad input (message names the file and
 * byte offset), RESONA_ENOTFOUND for a missing export, RESONA_EIO for file
 * system or SQLite failures, RESONA_EINTERRUPTED when *stop was set.
 */
int st_sync_run(const st_sync_opts *opts, st_sync_result *out);

#endif
