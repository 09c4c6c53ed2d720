/*
 * lance/deletion.h - deletion vectors: `_deletions/{fragment}-{read_version}-{id}.arrow`
 * (Arrow IPC file, one UInt32 column `row_id`, ZSTD or raw body buffers) and
 * `.bin` (portable roaring bitmap). Both decode to a roaring bitmap of
 * deleted row offsets within one fragment (lance-format.md section 8).
 */
#ifndef RESONA_LANCE_DELETION_H
#define RESONA_LANCE_DELETION_H

#include "lance/table_int.h"

#include <roaring/roaring.h>

#include <stddef.h>
#include <stdint.h>

#define LANCE_DELETION_ARROW 0
#define LANCE_DELETION_BITMAP 1
/* lance switches from Arrow to bitmap at this many deleted rows */
#define LANCE_BITMAP_THRESHOLD 5000

/** Decode a deletion file image (pure; the fuzz target's entry). Caller frees *out. */
int resona__deletion_decode(const uint8_t *buf, size_t len, int file_type, const char *name,
                            roaring_bitmap_t **out);
/** Encode `rows` as an Arrow IPC file image (ZSTD bodies). Caller frees *out. */
int resona__deletion_encode_arrow(const roaring_bitmap_t *rows, uint8_t **out, size_t *len);
/** Path of a fragment's deletion file (caller frees), or NULL with an error set. */
char *resona__deletion_path(const char *table_path, uint64_t fragment_id,
                            const Lt__DeletionFile *df);
/** Load the deletion vector of a fragment (*out NULL when it has none). */
int resona__deletion_load(const char *table_path, const Lt__DataFragment *fr,
                          roaring_bitmap_t **out);
/**
 * Write a deletion file for fragment `fragment_id` holding `rows` (the
 * fragment's full set), choosing the kind by count like lance; fill *df.
 */
int resona__deletion_write(const char *table_path, uint64_t fragment_id, uint64_t read_version,
                           const roaring_bitmap_t *rows, Lt__DeletionFile *df);

#endif
