/*
 * sync/index.h - writing the SQLite index from a resolved graph.
 *
 * st_index_write fills an empty database (schema included) with every table
 * of the original's full re-index (supertag-behaviour.md 4.3-4.7) inside one
 * transaction, with prepared statements. The caller owns the database handle
 * and chooses where it lives (sync.c builds into a temporary file).
 */
#ifndef SUPERTAG_SYNC_INDEX_H
#define SUPERTAG_SYNC_INDEX_H

#include "sync/graph.h"

#include <sqlite3.h>
#include <stdint.h>

/** The schema statements in creation order, NULL-terminated. */
extern const char *const st_index_schema_sql[];

/** Row counts written. */
typedef struct st_index_counts {
    size_t nodes, supertags, fields, references, tag_applications, field_names;
    size_t field_values, supertag_metadata, supertag_fields, supertag_parents;
    size_t system_field_sources;
} st_index_counts;

/**
 * Create the schema in `db` (empty, inside the caller's transaction) and
 * write every table. `export_name` is the file name stored in
 * sync_metadata, `now_ms` the timestamp, `exclusions` (may be NULL) the
 * names of excluded fields; when `old_attached`, the previous index is
 * attached as "old" and its field_exclusions rows are carried over.
 * RESONA_EIO with SQLite's message, or RESONA_EINTERRUPTED when a progress
 * handler stopped SQLite.
 *
 * node_checksums is written on a second thread into a side database
 * ("<main file>-sums", unlinked once copied) that stays attached as "sums"
 * until the caller's COMMIT; call st_index_after_commit then.
 */
int st_index_write(sqlite3 *db, st_graph *g, const char *export_name, int64_t now_ms,
                   const st_symtab *exclusions, int old_attached, st_index_counts *counts);

/** After the COMMIT of st_index_write's transaction: detach its side database. */
int st_index_after_commit(sqlite3 *db);

/** Run one SQL text, mapping failure to RESONA_EIO with the SQLite message. */
int st_index_exec(sqlite3 *db, const char *sql);

/** Create the schema only. */
int st_index_create_schema(sqlite3 *db);

#endif
