/*
 * sync/jtree.h - a small JSON value tree in an arena, built from yajl events,
 * printed the way JavaScript's JSON.stringify prints it.
 *
 * Used for one export doc at a time (the arena is reset between docs, so
 * memory follows the largest doc, never the file) and for config.json.
 *
 * JavaScript semantics kept on purpose, because the original stores
 * JSON.stringify(JSON.parse(doc)):
 *   - a repeated key keeps its first position and takes the last value;
 *   - keys that are array indices ("0", "17", up to 4294967294) come first,
 *     in numeric order, then the other keys in insertion order;
 *   - numbers print as Number::toString (jsnum.h); non-finite ones as null;
 *   - strings escape ", \, \b \f \n \r \t and other control characters as
 *     \u00xx (lower-case hex); everything else is copied as UTF-8.
 * Not thread-safe per tree; separate trees are independent.
 */
#ifndef SUPERTAG_SYNC_JTREE_H
#define SUPERTAG_SYNC_JTREE_H

#include <stddef.h>
#include <stdint.h>

typedef enum jt_type {
    JT_NULL,
    JT_FALSE,
    JT_TRUE,
    JT_NUMBER,
    JT_STRING,
    JT_ARRAY,
    JT_OBJECT
} jt_type;

typedef struct jt_val jt_val;
typedef struct jt_member {
    const char *key;
    size_t key_len;
    jt_val *val;
} jt_member;

struct jt_val {
    jt_type type;
    union {
        struct {
            const char *raw; /* the JSON text of the number */
            size_t len;
            double d;
        } num;
        struct {
            const char *s; /* NUL-terminated, may contain NULs (len counts all) */
            size_t len;
        } str;
        struct {
            jt_val **items;
            size_t count;
        } arr;
        struct {
            jt_member *members; /* JS order, no duplicate keys */
            size_t count;
        } obj;
    } u;
};

/* ---- arena -------------------------------------------------------------- */

typedef struct jt_arena jt_arena;

/** An arena that refuses to grow past max_bytes (0 = unbounded). NULL on ENOMEM. */
jt_arena *jt_arena_new(size_t max_bytes);
/** Forget everything allocated, keep the first block for reuse. */
void jt_arena_reset(jt_arena *a);
void jt_arena_free(jt_arena *a);
/** 8-byte aligned memory, NULL when out of memory or over the cap. */
void *jt_arena_alloc(jt_arena *a, size_t len);
/** Copy of s[0..len) with a NUL, NULL on failure. */
char *jt_arena_strndup(jt_arena *a, const char *s, size_t len);
/** Bytes handed out since the last reset. */
size_t jt_arena_used(const jt_arena *a);

/* ---- building from events ---------------------------------------------- */

typedef struct jt_builder jt_builder;

/**
 * A builder whose values live in `arena` (borrowed). max_depth bounds nesting.
 * NULL on ENOMEM.
 */
jt_builder *jt_builder_new(jt_arena *arena, int max_depth);
void jt_builder_free(jt_builder *b);
/** Start a new value (forget any partial state). */
void jt_builder_reset(jt_builder *b);
/** Build the next values in `arena` (borrowed); call between values only. */
void jt_builder_set_arena(jt_builder *b, jt_arena *arena);

/*
 * Feed events. Each returns 0, or -1 on out-of-memory / over the arena cap,
 * -2 when nesting exceeds max_depth.
 */
int jt_builder_null(jt_builder *b);
int jt_builder_bool(jt_builder *b, int v);
int jt_builder_number(jt_builder *b, const char *raw, size_t len);
int jt_builder_string(jt_builder *b, const char *s, size_t len);
int jt_builder_key(jt_builder *b, const char *s, size_t len);
int jt_builder_start_map(jt_builder *b);
int jt_builder_end_map(jt_builder *b);
int jt_builder_start_array(jt_builder *b);
int jt_builder_end_array(jt_builder *b);
/** The finished root value, or NULL while incomplete. */
jt_val *jt_builder_root(const jt_builder *b);
/** Current nesting depth (0 at top level). */
int jt_builder_depth(const jt_builder *b);

/**
 * Parse a whole JSON text into a tree in `arena`. On failure returns -1 and
 * writes a message naming the byte offset to err (errlen bytes).
 */
int jt_parse(jt_arena *arena, const char *text, size_t len, int max_depth, jt_val **out, char *err,
             size_t errlen);

/* ---- access ------------------------------------------------------------- */

/** Member `key` of an object, or NULL (also when v is not an object). */
jt_val *jt_get(const jt_val *v, const char *key);
/** True if v is a string equal to s. */
int jt_streq(const jt_val *v, const char *s);
/** JavaScript truthiness of v ("" 0 null false are false). */
int jt_truthy(const jt_val *v);

/** New values in arena (NULL on ENOMEM). */
jt_val *jt_new_string(jt_arena *a, const char *s);
jt_val *jt_new_bool(jt_arena *a, int v);
jt_val *jt_new_object(jt_arena *a);
/** Set obj[key] = val, keeping the key's position or appending. -1 on ENOMEM. */
int jt_object_set(jt_arena *a, jt_val *obj, const char *key, jt_val *val);
/** Remove obj[key] if present. */
void jt_object_remove(jt_val *obj, const char *key);

/* ---- printing ----------------------------------------------------------- */

/** A growable output buffer (plain malloc; cap bounds it). */
typedef struct jt_out {
    char *ptr;
    size_t len, cap, max;
} jt_out;

int jt_out_reserve(jt_out *o, size_t extra);
int jt_out_append(jt_out *o, const void *data, size_t len);
void jt_out_free(jt_out *o);

/** Append a JSON string literal for s[0..len) (JSON.stringify escaping). -1 on ENOMEM. */
int jt_write_string(jt_out *o, const char *s, size_t len);
/**
 * Append v as JSON.stringify(v) (indent 0) or JSON.stringify(v, null, indent).
 * -1 on ENOMEM / over the cap.
 */
int jt_write(jt_out *o, const jt_val *v, int indent);

#endif
