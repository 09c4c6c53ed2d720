/*
 * search_show.h - what `supertag search --semantic` needs beyond the hit
 * list: a small JSON value tree (for --show contents and --select
 * projections, written the way JavaScript's JSON.stringify writes them), the
 * node contents of the original's "show" helpers read from the SQLite index,
 * and the --select field projection.
 *
 * The behaviour reproduced here, and where we deliberately differ, is written
 * down in docs/search.md ("--show, --depth and --select").
 *
 * Not thread-safe: one st_show per thread (it holds prepared statements).
 */
#ifndef SUPERTAG_SEARCH_SHOW_H
#define SUPERTAG_SEARCH_SHOW_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdio.h>

/* ---- JSON values ------------------------------------------------------------ */

typedef enum st_jv_type {
    ST_JV_NULL,
    ST_JV_BOOL,
    ST_JV_NUM,
    ST_JV_STR,
    ST_JV_ARR,
    ST_JV_OBJ
} st_jv_type;

/*
 * A JSON value. Arrays and objects own their items; object keys keep their
 * insertion order (as JavaScript objects with string keys do). `made` marks
 * an object created by a --select projection (an intermediate level), as
 * opposed to one copied from the source.
 */
typedef struct st_jv {
    st_jv_type type;
    int boolean;
    int made;
    long long num;
    char *str;
    size_t count, cap;
    char **keys; /* objects only */
    struct st_jv **items;
} st_jv;

/* Constructors: never return NULL (out of memory exits the CLI). */
st_jv *st_jv_null(void);
st_jv *st_jv_bool(int b);
st_jv *st_jv_num(long long n);
st_jv *st_jv_str(const char *s); /* NULL s: JSON null */
st_jv *st_jv_arr(void);
st_jv *st_jv_obj(void);
/** Append v to array a (takes ownership). */
void st_jv_push(st_jv *a, st_jv *v);
/** Set key in object o to v (takes ownership); an existing key keeps its position. */
void st_jv_set(st_jv *o, const char *key, st_jv *v);
/** The value of key (exact match) in object o, or NULL. Borrowed. */
st_jv *st_jv_get(const st_jv *o, const char *key);
/** A deep copy. */
st_jv *st_jv_clone(const st_jv *v);
void st_jv_free(st_jv *v);

/** Write v as JSON.stringify(v) (indent 0) or JSON.stringify(v, null, indent). */
void st_jv_write(FILE *out, const st_jv *v, int indent);
/** Write s as a JSON string literal, escaped as JSON.stringify does. */
void st_json_string(FILE *out, const char *s);

/* ---- node contents (the original's getNodeContents & co.) ------------------ */

typedef struct st_show {
    sqlite3 *db; /* borrowed */
    sqlite3_stmt *node, *children, *fields, *tags;
    int has_field_values;
} st_show;

/**
 * Prepare the statements on an open index. 0, or -1 with the message printed
 * ("supertag: <db>: <sqlite error>").
 */
int st_show_open(st_show *s, sqlite3 *db);
void st_show_close(st_show *s);

/**
 * Print the contents of node `id` as the original's table --show does: the
 * "📄 name #tags / Created / Fields / Children" block when depth is 0, else the
 * indented tree expanded `depth` levels. Prints nothing for a missing or
 * trashed node. 0, or -1 on an SQLite error (message printed).
 */
int st_show_print(st_show *s, FILE *out, const char *id, int depth);

/**
 * The contents object of node `id` for the JSON formats (depth 0: children as
 * {id, name, isContent}; depth > 0: children as nested contents, `depth`
 * levels deep). *out = NULL for a missing or trashed node. 0 or -1 (printed).
 */
int st_show_json(st_show *s, const char *id, int depth, st_jv **out);

/** The original's formatInlineRefs(value, fallback): dates and node references. Caller frees. */
char *st_format_inline_refs(const char *value);

/* ---- --select ---------------------------------------------------------------- */

typedef struct st_select {
    size_t count;
    char **paths; /* as typed (trimmed) */
    char ***segs; /* dot-separated segments, trimmed */
    size_t *nseg;
} st_select;

enum st_select_target { ST_SELECT_JSON, ST_SELECT_COLUMNS };

/**
 * Parse and check a --select value ("id,name,contents.fields"). Empty entries
 * are dropped; an empty list leaves out->count == 0 (no projection, as in the
 * original). Top-level names are id, name, tags, similarity, ancestor and,
 * with --show, contents (case-insensitive); below contents the names of the
 * contents object; deeper paths resolve as in the original (missing: null).
 * ST_SELECT_COLUMNS allows only the five top-level scalar fields.
 * 0, or -1 after printing a usage error naming the value.
 */
int st_select_parse(const char *spec, int show, enum st_select_target target, st_select *out);
void st_select_free(st_select *sel);
/** The projection of item (an object) as the original's applyProjection builds it. */
st_jv *st_select_apply(const st_select *sel, const st_jv *item);

#endif
