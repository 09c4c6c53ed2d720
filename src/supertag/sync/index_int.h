/*
 * sync/index_int.h - what the two halves of the index writer share:
 * index.c (nodes, checksums, supertags, fields, references, tag
 * applications, field names, field values, and the order of it all) and
 * index_meta.c (supertag metadata, system field sources, field types and
 * target supertags). Internal to sync/.
 */
#ifndef SUPERTAG_SYNC_INDEX_INT_H
#define SUPERTAG_SYNC_INDEX_INT_H

#include "sync/index.h"

typedef struct writer {
    sqlite3 *db;
    st_graph *g;
    const st_symtab *exclusions;
    st_index_counts *counts;
} writer;

/** Failure with SQLite's message: RESONA_EIO. */
int st_index__sql_fail(sqlite3 *db, const char *what);
int st_index__prep(writer *w, const char *sql, sqlite3_stmt **st);
/** Step a write statement, reset it; RESONA_EIO / RESONA_EINTERRUPTED. */
int st_index__step(writer *w, sqlite3_stmt *st, const char *what);
/** Bind a symbol's bytes, a pool string (NULL when absent or ""), a JS number. */
void st_index__bind_sym(writer *w, sqlite3_stmt *st, int i, uint32_t sym);
void st_index__bind_str(writer *w, sqlite3_stmt *st, int i, st_str s);
void st_index__bind_num(sqlite3_stmt *st, int i, double v);
/** Symbol equals / starts with / contains a literal. */
int st_index__sym_is(writer *w, uint32_t sym, const char *lit);
int st_index__sym_prefix(writer *w, uint32_t sym, const char *lit);
int st_index__sym_contains(writer *w, uint32_t sym, const char *lit);
/** props.name of r equals lit. */
int st_index__name_is(writer *w, const st_rec *r, const char *lit);

/* index_meta.c: the passes after field values, in the original's order */
int st_index__write_supertag_metadata(writer *w);
int st_index__write_system_field_sources(writer *w);
int st_index__write_explicit_types(writer *w);
int st_index__write_target_supertags(writer *w);
int st_index__write_value_types(writer *w);

#endif
