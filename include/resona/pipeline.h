/*
 * resona/pipeline.h - the buffered embedding pipeline: items in, rows of a
 * Lance `embeddings` table out, with change detection, chunking, large
 * batched commits and a crash journal.
 *
 *   items {id, text, metadata}          pulled from the caller (callback or array)
 *     -> change detection               lowercase hex SHA-256 of the text against the
 *                                       stored text_hash (and model) of the base id
 *     -> chunking                       long texts become rows "id#0", "id#1", ...
 *     -> the embedder                   batched, pipelined requests (resona/embed.h)
 *     -> buffer (+ journal on disk)     store_batch_size rows
 *     -> one flush                      delete the replaced rows, append the new ones,
 *                                       on a writer thread while the next buffer fills
 *
 * The table has the original supertag/resona layout, column for column, so
 * that the original tool (LanceDB JS 0.13) and current LanceDB read our rows:
 *
 *   id utf8 | text_hash utf8 | context_text utf8 | model utf8 | dimensions float64 |
 *   metadata utf8 | created_at float64 | updated_at float64 |
 *   vector fixed_size_list<float32, dim>          (every column nullable)
 *
 * Flushes overlap with embedding. A full buffer is handed to a writer
 * thread of the run, which commits it (delete + append, fsyncs, manifest)
 * while the next buffer fills, so the embedder keeps the model busy. At most
 * two buffers exist, the one being committed and the one filling, and
 * together they hold at most max_buffer_rows rows: by default 2 x
 * store_batch_size (the CLI's 2 x --lance-batch-size). When the bound is
 * reached the run waits for the commit. Buffers are committed in the order
 * they filled; `persisted` grows only after a commit.
 *
 * Memory. The pipeline never holds all texts: it pulls one item at a time,
 * keeps the texts of requests in flight (bounded by the embedder's window)
 * and at most max_buffer_rows rows (vector + chunk text + metadata) in its
 * two buffers (about 4 x dim bytes per row: 20 MB per 5,000 rows of 1024-d,
 * 40 MB for the default bound).
 * What grows with the table is the index of existing rows built by change
 * detection: one entry per base id (its id, binary hash and flags; about
 * 100-200 bytes), i.e. ~150 MB at 1M nodes; items new to the table get an
 * entry too (to refuse an id submitted twice).
 *
 * Nothing computed is lost. Every row the model returns is written to a
 * journal next to the table (`<table>.lance.journal` and, for the second
 * buffer, `<table>.lance.journal.1`: names LanceDB does not list as tables)
 * before it is counted as generated, and a buffer's journal file is emptied
 * only after its rows are committed. A run starts by committing what an
 * earlier, killed run left in the journal. A flush that fails is retried;
 * its rows stay in memory and in the journal. A commit that was made although
 * its call failed afterwards (e.g. reloading the table) is recognised
 * (resona_table_last_commit) and never repeated, so no row is appended twice.
 *
 * Thread safety: one run per table at a time (enforced with a lock on the
 * journal). resona_pipeline_stop() may be called from any thread and from a
 * signal handler. A run starts one writer thread of its own and joins it
 * before it returns; callbacks are called from the thread that runs the
 * pipeline, never from the writer.
 */
#ifndef RESONA_PIPELINE_H
#define RESONA_PIPELINE_H

#include <resona/common.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct resona_embedder;

/** One input item. All strings are borrowed (see the callback contract). */
typedef struct resona_pipeline_item {
    const char *id;       /**< node id; non-empty, UTF-8, NUL-terminated */
    const char *text;     /**< the text hashed, chunked and embedded (UTF-8) */
    const char *metadata; /**< stored verbatim in `metadata` (JSON text); NULL = "" */
} resona_pipeline_item;

/**
 * Pull callback: fill *out with the next item and return 1, return 0 at the
 * end, or a negative RESONA_E* code to abort the run (the run returns it).
 * The strings must stay valid until the next call of the callback (the
 * pipeline copies what it keeps).
 */
typedef int (*resona_pipeline_next_fn)(resona_pipeline_item *out, void *payload);

/** Counters, as reported to the progress callback and in the result. */
typedef struct resona_pipeline_progress {
    uint64_t total;     /**< items expected (options.total_items or the array count; 0 = unknown) */
    uint64_t seen;      /**< items pulled so far */
    uint64_t skipped;   /**< items unchanged in the table (no request made) */
    uint64_t to_embed;  /**< items that need embedding (so far) */
    uint64_t generated; /**< vectors returned by the model (rows: chunks count one each) */
    uint64_t persisted; /**< rows committed to the table (journal recovery included) */
    uint64_t buffered;  /**< rows generated, not committed yet (being committed or filling) */
    uint64_t errors;    /**< inputs (chunks) that failed: provider errors, bad items */
    uint64_t items_done; /**< items whose vectors were all generated */
    uint64_t commits;    /**< table versions committed (appends + deletes) */
    uint64_t recovered;  /**< rows re-committed from an earlier run's journal */
    uint64_t removed;    /**< rows deleted because their item is gone (remove_missing) */
    double elapsed_s;    /**< since the run started */
    double rate;         /**< generated vectors per second since the first request */
    double eta_s;        /**< seconds to go, estimated from rate; < 0 when unknown */
    int final;           /**< 1 on the last callback of a run */
} resona_pipeline_progress;

/** Progress callback. Called from the thread that runs the pipeline. */
typedef void (*resona_pipeline_progress_fn)(const resona_pipeline_progress *progress,
                                            void *payload);

typedef struct resona_pipeline_options {
    /** Path of the table directory, e.g. ".../tana-index.lance/embeddings.lance".
     *  Created (format 2.0) by the first flush when absent. Required. */
    const char *table_path;
    /** The embedder; borrowed, must outlive the run. Required. */
    struct resona_embedder *embedder;
    /** Model name stored in the `model` column and compared for change
     *  detection. NULL = the embedder's model. */
    const char *model;
    /** Expected vector width; 0 = learn it from the first reply. Vectors of
     *  another width are refused (counted as errors), never mixed. */
    uint32_t dimensions;
    /** Rows per flush (one append commit each). Default 5000. Minimum 1. */
    size_t store_batch_size;
    /** Hard cap on the rows held in memory: the buffer being committed plus
     *  the one filling; 0 = 2 x store_batch_size (minimum store_batch_size,
     *  which leaves no room to fill a buffer during a commit). Reaching it
     *  makes the run wait for the commit; reached with a failing table, the
     *  run stops with that error and the rows stay in the journal for the
     *  next run. */
    size_t max_buffer_rows;
    /** Re-embed every item, even unchanged ones (rows are still replaced, never duplicated). */
    int force_all;
    /** At the end of a complete run (not interrupted, no pull error), delete
     *  the rows of base ids that were not among the submitted items. */
    int remove_missing;
    /** Chunk size in UTF-16 code units (as the original counts); 0 = from the
     *  model (context tokens x 3 for the known models, else 1536). */
    size_t chunk_size;
    /** Overlap between chunks in UTF-16 code units. Default 500. Must be < chunk_size. */
    size_t chunk_overlap;
    /** 1 (default): journal generated rows next to the table. 0: no journal
     *  (rows in the buffer are lost on a crash). */
    int journal;
    /** 1 (default): fsync the journal before a flush deletes replaced rows,
     *  and at the end of a run that leaves rows in it. */
    int journal_fsync;
    /** Flush attempts before a flush counts as failed (default 3), with a
     *  short backoff between attempts. A failed flush keeps its rows and is
     *  tried again when the next buffer is full, and finally at the end. */
    int flush_attempts;
    /** Items expected, for the percentage and the ETA (0 = unknown). */
    uint64_t total_items;
    /** Progress callback (may be NULL) and how often it fires at most, in
     *  seconds (default 0.2). It also fires after every flush and at the end. */
    resona_pipeline_progress_fn progress;
    void *progress_payload;
    double progress_interval_s;
} resona_pipeline_options;

#define RESONA_PIPELINE_OPTIONS_INIT                                                               \
    {                                                                                              \
        NULL, NULL, NULL, 0, 5000, 0, 0, 0, 0, 500, 1, 1, 3, 0, NULL, NULL, 0.2                    \
    }

/** Error samples kept in a result. */
#define RESONA_PIPELINE_MAX_SAMPLES 5

/** What a run did. Filled also when the run fails or is interrupted. */
typedef struct resona_pipeline_result {
    resona_pipeline_progress counters; /**< final counters (final = 1) */
    double duration_s;
    uint64_t flush_failures; /**< flush attempts that failed (then retried) */
    uint64_t deleted;        /**< old rows replaced (chunk rows included) */
    size_t sample_count;
    char *samples[RESONA_PIPELINE_MAX_SAMPLES]; /**< "id: message"; owned, see _free */
} resona_pipeline_result;

/**
 * Run the pipeline over the items from `next` (called until it returns 0).
 *
 * Returns 0 when every item was handled (per-item failures are counted in
 * errors and sampled, they do not fail the run); RESONA_EINTERRUPTED when
 * resona_pipeline_stop() was called (requests in flight were finished and
 * everything generated was committed before returning); another negative
 * code for a fatal failure (table unreadable, journal locked by another run
 * (RESONA_ECONFLICT), model not found, flushes failing past max_buffer_rows).
 * On every return the rows generated and not committed are in the journal.
 *
 * `result` may be NULL; when given, it is filled (also on failure) and must
 * be released with resona_pipeline_result_free().
 */
RESONA_EXTERN int resona_pipeline_run(const resona_pipeline_options *options,
                                      resona_pipeline_next_fn next, void *next_payload,
                                      resona_pipeline_result *result);

/** Convenience: run over an array of `count` items (borrowed for the call). */
RESONA_EXTERN int resona_pipeline_run_array(const resona_pipeline_options *options,
                                            const resona_pipeline_item *items, size_t count,
                                            resona_pipeline_result *result);

/**
 * Ask running pipelines to stop: no new requests are sent, requests in
 * flight are finished, the buffer is flushed, and the run returns
 * RESONA_EINTERRUPTED. Async-signal-safe and thread-safe (one atomic store):
 * call it from a SIGINT/SIGTERM handler. The request stays set until
 * resona_pipeline_stop_clear().
 */
RESONA_EXTERN void resona_pipeline_stop(void);

/** Forget a stop request (call before a new run in the same process). */
RESONA_EXTERN void resona_pipeline_stop_clear(void);

/** Release what a result owns (the samples). Safe on a zeroed result. */
RESONA_EXTERN void resona_pipeline_result_free(resona_pipeline_result *result);

/**
 * The base id of a row id: the part before the last '#' when everything
 * after it is one or more ASCII digits, else the whole id (as the original).
 * Returns the length in bytes of the base id (a prefix of id). Thread-safe.
 */
RESONA_EXTERN size_t resona_pipeline_base_id_len(const char *id, size_t id_len);

/**
 * Lowercase hex SHA-256 of `len` bytes (the `text_hash` column). `out` gets
 * 64 characters and a NUL.
 */
RESONA_EXTERN void resona_pipeline_text_hash(const char *text, size_t len, char out[65]);

/** Default chunk size for a model name (UTF-16 units), as described for chunk_size. */
RESONA_EXTERN size_t resona_pipeline_default_chunk_size(const char *model);

/** Name of the journal file of a table path (caller frees with free()). NULL on ENOMEM. */
RESONA_EXTERN char *resona_pipeline_journal_path(const char *table_path);

#ifdef __cplusplus
}
#endif

#endif /* RESONA_PIPELINE_H */
