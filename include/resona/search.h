/*
 * resona/search.h - exact top-k vector search, with LanceDB's distances.
 *
 * An exhaustive ("flat") k-nearest-neighbour search that returns what
 * LanceDB's `table.search(q).distanceType(m).limit(k)` returns on a table
 * without a vector index: the same row ids, the same `_distance` values and
 * the same order.
 *
 *   metric   _distance                      (x = query, y = row, float32)
 *   L2       sum_i (x_i - y_i)^2            squared Euclidean (LanceDB "l2")
 *   COSINE   1 - (x.y / |x|) / |y|          LanceDB "cosine"
 *   DOT      1 - x.y                        LanceDB "dot"
 *
 * Order: ascending distance, ties broken by ascending row id (LanceDB sorts
 * on [_distance, _rowid]). Rows whose distance is NaN are left out, as
 * LanceDB does: a row vector containing NaN, and under COSINE a zero row
 * vector (0/0). A zero query under COSINE therefore finds nothing.
 * Queries must be finite (RESONA_EINVALID names the query and component).
 *
 * Arithmetic: float32, accumulated in 16 interleaved lanes (element i goes to
 * lane i mod 16; the tail past the last multiple of 16 is summed first), the
 * lanes added in order 0..15, no fused multiply-add. That is the shape of
 * lance's f32 L2 and dot kernels, so L2 and DOT distances are bit-identical to
 * theirs; COSINE can differ from LanceDB's (which uses FMA on AVX2 builds) in
 * the last bits. See src/resona/search/kernels.c.
 *
 * Chunk collapsing. Rows keyed `<id>#<digits>` are chunks of `<id>`. With
 * collapse_chunks, the k results are k distinct base ids, each with its best
 * chunk row (smallest distance, then smallest row id), as the original
 * supertag does with its candidates.
 *
 * Data comes from a resona_search_source: the data is cut into "parts"
 * (fragments, or row ranges of them) that worker threads read in parallel;
 * each part is delivered as one or more batches of contiguous float32 rows.
 * Several queries are answered in one pass over the data. A Lance table
 * adapter (resona_table) provides such a source; resona_search_source_memory
 * wraps vectors already in memory.
 *
 * Thread safety: resona_search_run may be called from several threads at
 * once with distinct result objects. It starts its own worker threads
 * (pthreads) and joins them before returning.
 */
#ifndef RESONA_SEARCH_H
#define RESONA_SEARCH_H

#include <resona/common.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Distance metric, as LanceDB names them. */
typedef enum resona_metric {
    RESONA_METRIC_L2 = 0,     /**< squared Euclidean (LanceDB's default) */
    RESONA_METRIC_COSINE = 1, /**< 1 - cosine similarity */
    RESONA_METRIC_DOT = 2     /**< 1 - dot product */
} resona_metric;

/**
 * Parse "l2" | "cosine" | "dot" (LanceDB's names, case-insensitive; also
 * "euclidean"). RESONA_EINVALID for anything else.
 */
RESONA_EXTERN int resona_metric_parse(const char *name, resona_metric *out);

/** "l2", "cosine" or "dot". Static storage. */
RESONA_EXTERN const char *resona_metric_name(resona_metric metric);

/**
 * One batch of rows handed from a source to the search. All pointers are
 * borrowed for the duration of the emit call only.
 */
typedef struct resona_search_batch {
    size_t count;            /**< rows in this batch */
    size_t dim;              /**< floats per row; must equal the query dim */
    const float *vectors;    /**< count * dim floats, row-major */
    const uint64_t *row_ids; /**< count row ids (LanceDB _rowid); unique per search */
    const char *const *keys; /**< count NUL-terminated keys (the `id` column), or NULL;
                                  an entry may be NULL (null id) */
    const uint8_t *valid;    /**< NULL (all rows live) or count flags: 0 = deleted or
                                  null vector, skip the row */
    /* Alternatively (when keys is NULL), keys as an Arrow Utf8 column:
     * key i = key_values[key_offsets[i], key_offsets[i+1]), null where bit i
     * of key_validity (LSB first) is 0. And vector nulls as an Arrow bitmap. */
    const char *key_values;         /**< concatenated key bytes, or NULL */
    const uint64_t *key_offsets;    /**< count+1 offsets into key_values, or NULL */
    const uint8_t *key_validity;    /**< NULL = all keys valid */
    const uint8_t *vector_validity; /**< NULL = all vectors valid; bit 0 = null: skip */
} resona_search_batch;

/** Called by a source for each batch; returns 0 or a negative code to stop. */
typedef int (*resona_search_emit_fn)(const resona_search_batch *batch, void *emit_payload);

/**
 * A source of rows, cut into parts that can be read independently.
 * read_part(part, emit, emit_payload, payload) must deliver every row of that
 * part through emit (in any number of batches) and return 0, or return a
 * negative code with the message set (it must return emit's code unchanged
 * when emit fails). It is called from worker threads, concurrently for
 * distinct parts, so it must be thread-safe in that sense.
 */
typedef struct resona_search_source {
    size_t part_count;
    int (*read_part)(size_t part, resona_search_emit_fn emit, void *emit_payload, void *payload);
    void *payload;
} resona_search_source;

/**
 * A source over vectors already in memory: `count` rows of `dim` floats.
 * row_ids NULL means row i has id i; keys and valid may be NULL (see
 * resona_search_batch). Rows are cut into parts of `rows_per_part` (0: 8192).
 * Everything is borrowed: the arrays must outlive the search. The memory
 * struct holds the state the source points to; it must outlive the source.
 */
typedef struct resona_search_memory {
    size_t count;
    size_t dim;
    const float *vectors;
    const uint64_t *row_ids;
    const char *const *keys;
    const uint8_t *valid;
    size_t rows_per_part;
} resona_search_memory;

RESONA_EXTERN void resona_search_source_memory(resona_search_source *out,
                                               const resona_search_memory *mem);

/** Search options. Initialise with RESONA_SEARCH_OPTIONS_INIT. */
typedef struct resona_search_options {
    resona_metric metric; /**< default RESONA_METRIC_L2 */
    size_t k;             /**< results per query (default 10); more than rows is fine */
    int collapse_chunks;  /**< nonzero: `<id>#<digits>` rows count as `<id>` (default 0) */
    unsigned threads;     /**< worker threads; 0 = online CPUs (default), 1 = caller's thread */
} resona_search_options;

#define RESONA_SEARCH_OPTIONS_INIT                                                                 \
    {                                                                                              \
        RESONA_METRIC_L2, 10, 0, 0                                                                 \
    }

/** One result row. */
typedef struct resona_search_hit {
    const char *key; /**< the row's key (full key, e.g. "abc#2"), or NULL; owned by the results */
    uint64_t row_id; /**< the row's id as given by the source */
    float distance;  /**< LanceDB's _distance */
} resona_search_hit;

/** The results of one search: per query, up to k hits, best first. Opaque. */
typedef struct resona_search_results resona_search_results;

/**
 * Search `query_count` queries of `dim` floats each (row-major in `queries`)
 * over every row of `source`, in one pass over the data.
 * On success *out holds the results (free with resona_search_results_free).
 * Errors: RESONA_EINVALID (dim 0, k 0, non-finite query component, a batch
 * whose dim differs), RESONA_ENOMEM, or whatever the source returned (its
 * message is kept). On error *out is NULL.
 */
RESONA_EXTERN int resona_search_run(const resona_search_source *source, const float *queries,
                                    size_t query_count, size_t dim,
                                    const resona_search_options *options,
                                    resona_search_results **out);

/** Number of queries the results are for. */
RESONA_EXTERN size_t resona_search_results_query_count(const resona_search_results *results);

/**
 * The hits of query `query` (0-based), best first; *count receives how many.
 * Borrowed: valid until resona_search_results_free. NULL with *count 0 when
 * the query index is out of range or nothing was found.
 */
RESONA_EXTERN const resona_search_hit *
resona_search_results_hits(const resona_search_results *results, size_t query, size_t *count);

/** Total rows the search looked at (live rows, all queries counted once). */
RESONA_EXTERN uint64_t resona_search_results_rows_scanned(const resona_search_results *results);

/** Free the results and every string in them. NULL is a no-op. */
RESONA_EXTERN void resona_search_results_free(resona_search_results *results);

/**
 * Exact top-k over every live row of a Lance table (all fragments, deletions
 * respected, null vectors skipped): LanceDB's flat search.
 *   vector_column: the vector column, or NULL to pick, as LanceDB does, the
 *     single vector column whose dimension equals `dim` (RESONA_EINVALID
 *     "No vector column found to match with the query vector dimension: <d>"
 *     or "More than one vector column found ..." otherwise);
 *   key_column: a Utf8 column whose values become the hits' keys (and the
 *     base ids for collapse_chunks), e.g. "id"; NULL for none (then
 *     collapse_chunks is RESONA_EINVALID).
 * Fragments are read by worker threads in parallel; with fewer fragments than
 * threads, each fragment's chunks are split between the threads (a table of
 * one fragment still uses every core). Memory is
 * bounded by the scan chunk size (1024 rows) per thread. The table handle must not be changed or
 * freed during the call (concurrent scans of it are fine).
 */
struct resona_table;
RESONA_EXTERN int resona_search_table(struct resona_table *table, const char *vector_column,
                                      const char *key_column, const float *queries,
                                      size_t query_count, size_t dim,
                                      const resona_search_options *options,
                                      resona_search_results **out);

/**
 * The length of the base id of `key` (getBaseId of the original): if the key
 * contains '#' and everything after the last '#' is one or more ASCII digits,
 * the length of the part before it; otherwise strlen(key).
 */
RESONA_EXTERN size_t resona_search_base_id_len(const char *key);

#ifdef __cplusplus
}
#endif

#endif /* RESONA_SEARCH_H */
