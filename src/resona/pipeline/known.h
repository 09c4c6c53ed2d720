/*
 * pipeline/known.h - what the table already holds, per base id: the state
 * change detection compares items against, and the row ids a flush must
 * delete to replace an item (its plain row and its chunk rows).
 *
 * Built from one scan of (id, text_hash, model, dimensions). An entry is
 * "current" when every row of the base id carries the same text_hash, the
 * run's model and the run's dimension; only then can an item with that hash
 * be skipped. (The original lets the first chunk row it sees decide, and
 * ignores the model; a table it wrote is current under this rule as long as
 * the model did not change.)
 *
 * Memory: an open-addressing table of 64-byte slots (load factor <= 0.7,
 * doubling) plus the base ids (and chunk ids, which are rare) in an arena:
 * about 100-200 bytes per base id, e.g. ~150 MB at 1M nodes.
 *
 * The set doubles as the set of ids embedded in this run (flag EMBEDDED), so
 * that an id submitted twice is refused instead of stored twice.
 */
#ifndef RESONA_PIPELINE_KNOWN_H
#define RESONA_PIPELINE_KNOWN_H

#include <stddef.h>
#include <stdint.h>

enum {
    RESONA_KNOWN_IN_TABLE = 1,  /**< rows of this base id exist in the table */
    RESONA_KNOWN_PLAIN = 2,     /**< a row whose id is the base id itself exists */
    RESONA_KNOWN_STALE = 4,     /**< rows disagree (hash), or another model/dimension */
    RESONA_KNOWN_SEEN = 8,      /**< submitted in this run */
    RESONA_KNOWN_EMBEDDED = 16, /**< queued for embedding in this run */
    RESONA_KNOWN_REPLACED = 32  /**< its old rows were deleted by a flush of this run */
};

typedef struct resona_known_extra {
    struct resona_known_extra *next;
    const char *id; /**< a chunk row id "base#n" */
} resona_known_extra;

typedef struct resona_known_entry {
    const char *base; /**< NUL-terminated, in the arena */
    uint32_t base_len;
    uint32_t flags;
    uint64_t rows;             /**< rows in the table */
    uint8_t hash[32];          /**< text_hash (binary) of the first row seen */
    resona_known_extra *extra; /**< chunk row ids */
} resona_known_entry;

typedef struct resona_known resona_known;

int resona__known_new(resona_known **out);
void resona__known_free(resona_known *k);

/**
 * Record one table row. model_ok / dim_ok: the row's model and dimension are
 * the run's. hash_hex: 64 hex characters (anything else marks the entry stale).
 */
int resona__known_add_row(resona_known *k, const char *id, size_t id_len, const char *hash_hex,
                          size_t hash_len, int model_ok, int dim_ok);

/** The entry of a base id, or NULL. */
resona_known_entry *resona__known_find(resona_known *k, const char *base, size_t base_len);

/** The entry of a base id, created (flags 0) when absent. NULL on ENOMEM. */
resona_known_entry *resona__known_get(resona_known *k, const char *base, size_t base_len);

/** Decode 64 hex characters into 32 bytes; -1 if not hex. */
int resona__known_hex(const char *hex, size_t len, uint8_t out[32]);

/** Number of entries; iteration by index (0 .. slots-1; empty slots give NULL). */
size_t resona__known_count(const resona_known *k);
size_t resona__known_slots(const resona_known *k);
resona_known_entry *resona__known_slot(resona_known *k, size_t i);

/** Bytes held (for memory reports). */
size_t resona__known_bytes(const resona_known *k);

#endif
