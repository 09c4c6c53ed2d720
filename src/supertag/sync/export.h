/*
 * sync/export.h - a streaming reader of Tana JSON exports.
 *
 * The export is fed to yajl's callback parser in chunks; only the doc being
 * read is held in memory (as a jtree in an arena that is reset between
 * docs), so memory never grows with the file. Each complete doc is handed to
 * a callback in file order.
 *
 * Accepted shapes: the export object itself ({"formatVersion": 1, "docs":
 * [...], "editors": [...], "workspaces": {...}, ...}) or the API wrapper
 * {"storeData": {...the same...}} (storeData wins when present and not null,
 * as in the original). "formatVersion" must be a number and "docs" an array
 * of objects; "editors" and "workspaces", when present, an array and an
 * object. Other top-level keys are skipped without being stored.
 *
 * Bad input stops the parse with RESONA_EINVALID and a message naming the
 * file and the byte offset: invalid JSON or UTF-8 (yajl's diagnosis),
 * truncation, wrong types, nesting deeper than max_depth, a string longer
 * than max_string bytes (checked on the raw bytes before yajl buffers them)
 * or a doc larger than max_doc bytes in memory.
 */
#ifndef SUPERTAG_SYNC_EXPORT_H
#define SUPERTAG_SYNC_EXPORT_H

#include "sync/jtree.h"

#include <stddef.h>
#include <stdint.h>

typedef struct st_export_opts {
    size_t max_string; /**< longest JSON string in bytes (escaped form) */
    size_t max_doc;    /**< most arena bytes one doc may take */
    int max_depth;     /**< deepest nesting of arrays/objects, whole file */
    /**
     * 0: the arena is reset before each doc (a doc lives only during its
     * callback). 1: docs accumulate in the current arena until the callback
     * swaps in another one with st_export_reader_swap_arena(), so docs can
     * be handed to another thread. The caller swaps before
     * ST_EXPORT_KEEP_SLACK bytes accumulate; arenas it passes in have a cap
     * of max_doc + ST_EXPORT_KEEP_SLACK, like the reader's first one.
     */
    int keep_docs;
} st_export_opts;

#define ST_EXPORT_KEEP_SLACK ((size_t)64 << 20)

#define ST_EXPORT_OPTS_INIT                                                                        \
    {                                                                                              \
        64u << 20, 512u << 20, 256, 0                                                              \
    }

typedef struct st_export_reader st_export_reader;

/** One doc, valid only during the callback (keep_docs: until its arena is reset). */
typedef struct st_export_doc {
    const jt_val *doc;         /**< the doc object */
    size_t index;              /**< position in "docs" */
    uint64_t offset;           /**< byte offset of its '{' in the file */
    st_export_reader *reader;  /**< the reader calling back */
} st_export_doc;

/**
 * Called for each doc in file order. Return 0 to go on, or a negative
 * RESONA_E* code (with st_error_set) to stop; the parse returns that code.
 */
typedef int (*st_export_doc_fn)(const st_export_doc *doc, void *payload);

/** What the export said besides its docs. */
typedef struct st_export_info {
    double format_version;
    size_t doc_count;
    int wrapped; /**< docs came from "storeData" */
} st_export_info;

/**
 * A reader for input named `name` (used in messages). opts NULL = defaults.
 * RESONA_ENOMEM.
 */
int st_export_reader_new(const char *name, const st_export_opts *opts, st_export_doc_fn fn,
                         void *payload, st_export_reader **out);
/** Feed the next bytes. 0, or the code that stopped the parse. */
int st_export_reader_feed(st_export_reader *r, const void *data, size_t len);
/** End of input: checks completeness and the required keys; fills *info. */
int st_export_reader_finish(st_export_reader *r, st_export_info *info);
void st_export_reader_free(st_export_reader *r);

/**
 * keep_docs mode, from inside the doc callback: build the following docs in
 * `fresh` (reset here; it now belongs to the reader, which frees it) and
 * return the arena holding the docs so far (it now belongs to the caller).
 */
jt_arena *st_export_reader_swap_arena(st_export_reader *r, jt_arena *fresh);

/**
 * Feed the whole file at `path` to r (1 MiB chunks), without finishing:
 * the caller calls st_export_reader_finish and frees r.
 */
int st_export_reader_feed_file(st_export_reader *r, const char *path);

/** Bytes in use in the reader's current arena (keep_docs: the docs so far). */
size_t st_export_reader_arena_used(const st_export_reader *r);

/** Read the whole file at `path` through a reader (1 MiB chunks). */
int st_export_read_file(const char *path, const st_export_opts *opts, st_export_doc_fn fn,
                        void *payload, st_export_info *info);

#endif
