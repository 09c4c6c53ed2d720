/*
 * resona/table.h - native Lance tables: create, open, append, scan, delete,
 * compact, prune, stats.
 *
 * A table is a directory `<name>.lance` in the Lance format, readable and
 * writable by LanceDB (the original tool's JS 0.13 = lance 0.19, and current
 * LanceDB). libresona creates tables in data format 2.0, reads and writes
 * tables in formats 2.0, 2.1 and 2.2 (LanceDB 0.39's default) in the table's
 * own format, keeps the manifest
 * naming a table already uses (V1 `N.manifest` or V2), carries unknown
 * manifest fields, config and the index section forward, and commits every
 * change atomically as one new version (temp file + link(); a concurrent
 * writer that wins makes us reload the latest version and retry).
 *
 * Supported column types (schema of tables we create, and columns we scan):
 *
 *   RESONA_TYPE_UTF8     Arrow Utf8             logical_type "string"
 *   RESONA_TYPE_FLOAT64  Arrow Float64          "double"
 *   RESONA_TYPE_FLOAT32  Arrow Float32          "float"
 *   RESONA_TYPE_INT64    Arrow Int64            "int64"
 *   RESONA_TYPE_BOOL     Arrow Boolean          "bool"
 *   RESONA_TYPE_VECTOR   fixed_size_list<float32, dim>  "fixed_size_list:float:<dim>"
 *
 * Tables may hold other column types (written by LanceDB); they appear in the
 * schema as RESONA_TYPE_OTHER with their logical_type, are carried forward
 * on append (all null in our fragments, so they must be nullable) and cannot
 * be scanned (RESONA_EUNSUPPORTED naming the column).
 *
 * Column views. One layout serves both directions (a batch to append, a
 * chunk coming out of a scan); nothing is allocated or copied per value:
 *
 *   type     values                                   offsets
 *   UTF8     bytes of all strings, concatenated       count+1 uint64 offsets:
 *                                                     value i = values[off[i], off[i+1])
 *   FLOAT64  double[count]                            NULL
 *   FLOAT32  float[count]                             NULL
 *   INT64    int64_t[count]                           NULL
 *   BOOL     uint8_t[count], 0 or 1                   NULL
 *   VECTOR   float[count * dim], row-major            NULL
 *
 *   validity: NULL = every value valid; else an Arrow bitmap, bit i
 *   (LSB first in byte i/8) = 1 when value i is valid. A null's slot in
 *   `values` holds any bytes (a null string has offsets[i] == offsets[i+1]).
 *
 * Threads. A resona_table handle may be used by one thread at a time for
 * calls that change it (append, delete, compact, prune, refresh, free).
 * Several threads may scan the same handle at once, each with its own
 * resona_scan, as long as no thread changes or frees the handle meanwhile.
 * Different handles (also in different processes) on the same table are
 * independent: commits are atomic and conflicts are retried.
 *
 * Errors: negative RESONA_E* codes with the thread-local message naming the
 * file, byte offset or value at fault (see resona/common.h). Bad on-disk data
 * is RESONA_ECORRUPT; an unsupported format, feature flag or encoding is
 * RESONA_EUNSUPPORTED; a missing table, version, column or data file is
 * RESONA_ENOTFOUND.
 */
#ifndef RESONA_TABLE_H
#define RESONA_TABLE_H

#include <resona/common.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An open table at one version. Opaque; free with resona_table_free(). */
typedef struct resona_table resona_table;
/** A running scan. Opaque; free with resona_scan_free(). */
typedef struct resona_scan resona_scan;

/* ---- schema ------------------------------------------------------------ */

typedef enum resona_type {
    RESONA_TYPE_OTHER = 0, /**< a type we carry but cannot read or write */
    RESONA_TYPE_UTF8 = 1,
    RESONA_TYPE_FLOAT64 = 2,
    RESONA_TYPE_FLOAT32 = 3,
    RESONA_TYPE_INT64 = 4,
    RESONA_TYPE_BOOL = 5,
    RESONA_TYPE_VECTOR = 6 /**< fixed_size_list<float32, dim> */
} resona_type;

/** One top-level column. */
typedef struct resona_field {
    const char *name;
    resona_type type;
    uint32_t dim;             /**< vector width (RESONA_TYPE_VECTOR), else 0 */
    int nullable;             /**< 1 if the column may hold nulls */
    int32_t id;               /**< Lance field id; ignored by resona_table_create */
    const char *logical_type; /**< Lance logical type ("string", "double", ...);
                                   ignored by resona_table_create (may be NULL) */
} resona_field;

typedef struct resona_schema {
    const resona_field *fields;
    size_t count;
} resona_schema;

/** Name of a type ("utf8", "float64", "float32", "int64", "bool", "vector", "other"). */
RESONA_EXTERN const char *resona_type_name(resona_type type);

/* ---- create / open / refresh / free ------------------------------------ */

typedef enum resona_manifest_naming {
    RESONA_NAMING_V2 = 0, /**< _versions/{u64::MAX - v, 20 digits}.manifest (current LanceDB) */
    RESONA_NAMING_V1 = 1  /**< _versions/{v}.manifest (LanceDB 0.13, the original tool) */
} resona_manifest_naming;

typedef struct resona_create_options {
    unsigned int version;          /**< struct version, RESONA_CREATE_OPTIONS_VERSION */
    resona_manifest_naming naming; /**< default V2 */
    int exist_ok; /**< 1: if the table exists, open it instead (schema unchecked) */
} resona_create_options;
#define RESONA_CREATE_OPTIONS_VERSION 1
#define RESONA_CREATE_OPTIONS_INIT                                                                 \
    {                                                                                              \
        RESONA_CREATE_OPTIONS_VERSION, RESONA_NAMING_V2, 0                                         \
    }

/**
 * Create an empty table at `path` (the `<name>.lance` directory; parent
 * directories are created) with `schema`, data format 2.0, and commit
 * version 1 (an Overwrite with no fragments). Field ids are assigned 0..n-1.
 * Column names must be unique and non-empty; vector dim 1..65536.
 * opts may be NULL. On success *out is an open handle the caller frees.
 * Errors: RESONA_EEXISTS if a table is already there (unless exist_ok),
 * RESONA_EINVALID for a bad schema, RESONA_EIO.
 */
RESONA_EXTERN int resona_table_create(const char *path, const resona_schema *schema,
                                      const resona_create_options *opts, resona_table **out);

typedef struct resona_open_options {
    unsigned int version; /**< struct version, RESONA_OPEN_OPTIONS_VERSION */
    uint64_t at_version;  /**< 0 = latest; else open exactly this version (read-only use) */
} resona_open_options;
#define RESONA_OPEN_OPTIONS_VERSION 1
#define RESONA_OPEN_OPTIONS_INIT                                                                   \
    {                                                                                              \
        RESONA_OPEN_OPTIONS_VERSION, 0                                                             \
    }

/**
 * Open the table at `path` at its latest version (or opts->at_version).
 * Reads and validates the manifest only; data files are opened by scans.
 * Refuses legacy data format 0.1, unknown data formats and unknown reader
 * feature flags with RESONA_EUNSUPPORTED naming them; formats 2.0, 2.1 and
 * 2.2 open, scan and append. opts may be NULL. Caller frees *out.
 */
RESONA_EXTERN int resona_table_open(const char *path, const resona_open_options *opts,
                                    resona_table **out);

/**
 * Move the handle to the latest committed version (other writers' commits
 * become visible). Invalidates the borrowed schema and stats pointers.
 */
RESONA_EXTERN int resona_table_refresh(resona_table *table);

/** Close the handle. NULL is a no-op. No scan of it may still be running. */
RESONA_EXTERN void resona_table_free(resona_table *table);

/** The version the handle is at. */
RESONA_EXTERN uint64_t resona_table_version(const resona_table *table);

/**
 * The version that the last write call on this handle (resona_table_append,
 * resona_table_delete, resona_table_compact) committed, or 0 when it
 * committed nothing. It is set as soon as the new version's manifest is
 * linked, so it also answers for a call that then returned an error (fsync
 * of _versions/ or reloading the handle failed; the handle then stays at the
 * version before): a non-zero value means the change IS in the table and
 * must not be made again. Use it before retrying a failed append, so that
 * the rows are never appended twice. Each write call resets it when it
 * starts. Not thread-safe with a write on the same handle.
 */
RESONA_EXTERN uint64_t resona_table_last_commit(const resona_table *table);

/** The table directory (borrowed, lives as long as the handle). */
RESONA_EXTERN const char *resona_table_path(const resona_table *table);

/**
 * The schema at the handle's version. Borrowed: valid until the handle is
 * refreshed, changed (append/delete/compact) or freed.
 */
RESONA_EXTERN const resona_schema *resona_table_schema(const resona_table *table);

/** Index of the column named `name` in the schema, or -1. */
RESONA_EXTERN int resona_table_column_index(const resona_table *table, const char *name);

/* ---- column views, batches and appends --------------------------------- */

/** A view of count values of one column (layout in the file comment). Borrowed. */
typedef struct resona_column {
    const char *name;        /**< column name (batches: required; scans: set) */
    const void *values;      /**< see the table at the top of this file */
    const uint64_t *offsets; /**< UTF8 only: count+1 offsets into values */
    const uint8_t *validity; /**< NULL = all valid, else bitmap (1 = valid) */
} resona_column;

/**
 * Rows to append, column-oriented. Every column of `columns` names a schema
 * column; schema columns the batch does not name are written as all-null
 * (they must be nullable). Nothing is copied per value: the append reads
 * the caller's arrays directly while it writes the data file.
 */
typedef struct resona_batch {
    size_t rows;
    const resona_column *columns;
    size_t column_count;
} resona_batch;

typedef struct resona_append_options {
    unsigned int version;     /**< RESONA_APPEND_OPTIONS_VERSION */
    unsigned int max_retries; /**< commit conflicts retried (default 100) */
} resona_append_options;
#define RESONA_APPEND_OPTIONS_VERSION 1
#define RESONA_APPEND_OPTIONS_INIT                                                                 \
    {                                                                                              \
        RESONA_APPEND_OPTIONS_VERSION, 100                                                         \
    }

/**
 * Append `batch` as ONE new fragment (one data file in the table's format
 * 2.0, 2.1 or 2.2, fsynced) and ONE new
 * version (an Append transaction, inline and as _transactions/<v>-<uuid>.txn). If
 * another writer committed meanwhile, the handle reloads the latest version
 * and retries the commit (the data file is reused). On success the handle is
 * at the new version. Nulls in a non-nullable column, a vector column whose
 * dim does not match, or an unknown column name: RESONA_EINVALID. A table
 * whose data format is not 2.0, 2.1 or 2.2: RESONA_EUNSUPPORTED naming it.
 * A batch of 0 rows commits nothing and returns 0. opts may be NULL.
 * In the rare case that the version was committed but reloading the handle
 * then failed (e.g. RESONA_ENOMEM), the error is returned although the rows
 * are in the table: resona_table_last_commit() then returns the new version,
 * so check it before retrying (a retry would append the rows twice).
 */
RESONA_EXTERN int resona_table_append(resona_table *table, const resona_batch *batch,
                                      const resona_append_options *opts);

/* ---- scans ------------------------------------------------------------- */

typedef struct resona_scan_options {
    unsigned int version;       /**< RESONA_SCAN_OPTIONS_VERSION */
    const char *const *columns; /**< column names to read; NULL = all columns */
    size_t column_count;
    size_t chunk_rows;     /**< max rows per chunk (default 8192) */
    size_t fragment_first; /**< first fragment (index into the version's list) */
    size_t fragment_count; /**< 0 = all from fragment_first */
    /* version 2: */
    size_t part_index; /**< this scan's share of each fragment, see part_count */
    size_t part_count; /**< 0 or 1 = every chunk; n > 1 = only the chunks whose number within
                            their fragment is part_index modulo n, so n scans with part_index
                            0..n-1 split even a single fragment between n threads (rows stay
                            in order within each scan; other parts' chunks are not read) */
} resona_scan_options;
#define RESONA_SCAN_OPTIONS_VERSION 2
#define RESONA_SCAN_OPTIONS_INIT                                                                   \
    {                                                                                              \
        RESONA_SCAN_OPTIONS_VERSION, NULL, 0, 8192, 0, 0, 0, 1                                     \
    }

/**
 * A chunk of consecutive live rows of one fragment. Borrowed from the scan:
 * valid until the next resona_scan_next() or resona_scan_free().
 * columns[i] is the i-th requested column (`name` set); for vectors,
 * values is a contiguous float[rows * dim] buffer.
 * row_ids[r] is LanceDB's _rowid of row r: (fragment_id << 32) | offset.
 */
typedef struct resona_chunk {
    size_t rows;
    const resona_column *columns;
    size_t column_count;
    uint64_t fragment_id;
    const uint64_t *row_ids;
} resona_chunk;

/**
 * Start a scan of the handle's version: fragments in table order, rows in
 * file order, deleted rows skipped. Memory is bounded by the chunk size
 * (pages are read piecewise with pread, never whole files). opts may be NULL.
 * Errors: RESONA_ENOTFOUND for an unknown column, RESONA_EUNSUPPORTED for a
 * column of type OTHER or a table not in format 2.0, 2.1 or 2.2 (a page
 * encoding resona does not implement fails the read with RESONA_EUNSUPPORTED
 * naming file, column and page). Caller frees *out.
 */
RESONA_EXTERN int resona_table_scan(resona_table *table, const resona_scan_options *opts,
                                    resona_scan **out);

/**
 * Next chunk: returns 1 and sets *out, 0 at the end (*out = NULL), or a
 * negative code (bad data: RESONA_ECORRUPT naming the file and offset).
 */
RESONA_EXTERN int resona_scan_next(resona_scan *scan, const resona_chunk **out);

/** Free a scan. NULL is a no-op. */
RESONA_EXTERN void resona_scan_free(resona_scan *scan);

/* ---- delete, compact, prune --------------------------------------------- */

/**
 * Delete every row whose UTF8 column `column` equals one of the `count`
 * NUL-terminated strings in `values`. Writes one deletion file per affected
 * fragment (Arrow IPC for < 5000 deleted rows in a fragment, roaring bitmap
 * otherwise, as lance does), drops fragments that become empty, and commits
 * ONE version (a Delete transaction) — or nothing when no row matches.
 * Retries on commit conflicts (re-evaluating the delete). *deleted_out (may
 * be NULL) receives the number of rows deleted (also when the version was
 * committed and the call then failed: see resona_table_last_commit).
 */
RESONA_EXTERN int resona_table_delete(resona_table *table, const char *column,
                                      const char *const *values, size_t count,
                                      uint64_t *deleted_out);

typedef struct resona_compact_options {
    unsigned int version; /**< RESONA_COMPACT_OPTIONS_VERSION */
    uint64_t target_rows; /**< target rows per fragment (default 1,048,576) */
    double deleted_ratio; /**< also rewrite fragments with more deleted rows (default 0.1) */
} resona_compact_options;
#define RESONA_COMPACT_OPTIONS_VERSION 1
#define RESONA_COMPACT_OPTIONS_INIT                                                                \
    {                                                                                              \
        RESONA_COMPACT_OPTIONS_VERSION, 1048576, 0.1                                               \
    }

typedef struct resona_compact_stats {
    uint64_t fragments_removed;
    uint64_t fragments_added;
    uint64_t files_removed; /**< data + deletion files no longer referenced */
    uint64_t files_added;
} resona_compact_stats;

/**
 * Merge runs of adjacent fragments smaller than target_rows (and rewrite
 * fragments with more than deleted_ratio of their rows deleted), dropping
 * deleted rows, into new fragments of at most target_rows rows; commit ONE
 * version (a Rewrite transaction). Row order is kept. Indices covering a
 * rewritten fragment are removed from the index section (LanceDB and the
 * original tool then scan; the original re-creates its id index). Commits
 * nothing if there is nothing to do; a concurrent commit makes it plan and
 * write again (up to 5 times, then RESONA_ECONFLICT). stats_out may be NULL.
 */
RESONA_EXTERN int resona_table_compact(resona_table *table, const resona_compact_options *opts,
                                       resona_compact_stats *stats_out);

typedef struct resona_prune_stats {
    uint64_t versions_removed;
    uint64_t files_removed;
    uint64_t bytes_removed;
} resona_prune_stats;

/**
 * Remove manifests of versions committed more than `older_than_seconds`
 * ago (never the latest version), and data, deletion, transaction and index
 * files that no remaining version references and that are themselves older
 * than the retention (so files of a commit in progress are never touched).
 * stats_out may be NULL.
 */
RESONA_EXTERN int resona_table_prune(resona_table *table, int64_t older_than_seconds,
                                     resona_prune_stats *stats_out);

/* ---- stats -------------------------------------------------------------- */

typedef struct resona_table_stats {
    uint64_t version;
    uint64_t rows; /**< live rows */
    uint64_t deleted_rows;
    uint64_t fragments;
    uint64_t versions;       /**< manifests present in _versions/ */
    uint64_t bytes;          /**< bytes of all files under the table directory */
    const char *data_format; /**< e.g. "2.0", "2.1", "2.2", "0.1" (borrowed) */
    resona_manifest_naming naming;
    uint64_t reader_flags;
    uint64_t writer_flags;
    const char *const *index_names; /**< index names in the index section (borrowed) */
    size_t index_count;
} resona_table_stats;

/**
 * Fill *out for the handle's version. Lists _versions/ and walks the
 * directory for `versions` and `bytes`. Borrowed strings live until the
 * handle is refreshed, changed or freed.
 */
RESONA_EXTERN int resona_table_stats_get(resona_table *table, resona_table_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* RESONA_TABLE_H */
