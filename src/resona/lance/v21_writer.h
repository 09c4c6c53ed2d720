/*
 * lance/v21_writer.h - building Lance file format 2.1 and 2.2 pages (plain
 * values), for appends to tables whose data format is 2.1 or 2.2
 * (lance-format.md 7, docs/lance-2.2.md).
 *
 * A page is built in memory (the 2.0 writer bounds a page to 8 MiB of
 * values, so this stays bounded) as up to three page buffers plus the
 * packed `/lance.encodings21.PageLayout` Any; writer.c writes the buffers
 * 64-byte aligned, as 2.1 readers require.
 */
#ifndef RESONA_LANCE_V21_WRITER_H
#define RESONA_LANCE_V21_WRITER_H

#include "lance/table_int.h"
#include "util/buf.h"

typedef struct v21_wpage {
    resona_buf buf[2]; /* page buffers, in order */
    size_t nbuf;
    uint8_t *enc; /* packed google.protobuf.Any */
    size_t enc_len;
} v21_wpage;

/**
 * Build the 2.1 page for rows [a, a+n) of column c (NULL = all null) of field
 * f. Layouts written:
 *   all rows null                       all_null_layout
 *   fixed values under 256 bytes        mini-block, flat{bits} (bool: 1 bit;
 *   (numbers, bool, vectors d < 64)     vectors fixed_size_list{d, flat 32}),
 *                                       def levels flat{16} when the page has nulls
 *   utf8, every value under 256 bytes   mini-block, variable{offsets flat 32}
 *   wider values (vectors d >= 64,      full-zip: fixed records (nulls keep zeroed
 *   long strings)                       values) or [ctl][u32 length][bytes] records
 *                                       with a repetition index
 * `large` (format 2.2): mini-block pages say has_large_chunk and use u32 chunk
 * metadata words and u32 chunk buffer sizes; nothing else differs.
 * On failure out is left empty. Free with resona__v21_wpage_free.
 */
int resona__v21_page_build(const resona_field *f, const resona_column *c, size_t a, size_t n,
                           int large, v21_wpage *out);
void resona__v21_wpage_free(v21_wpage *p);

#endif
