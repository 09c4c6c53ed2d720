/*
 * lance/reader.h - reading Lance v2 data files of formats 2.0, 2.1 and 2.2
 * piecewise (2.1/2.2 pages: v21_decode.h).
 *
 * A lance_file is an open data file with its footer, column-metadata table
 * and schema (global buffer 0) checked against the file size. A column's
 * pages are decoded into plans (which page buffer holds what); rows are then
 * read in any range with pread, so memory is bounded by the range, never by
 * the page or the file. Every offset and length read from the file is checked
 * before use; failures name the file and the offset.
 */
#ifndef RESONA_LANCE_READER_H
#define RESONA_LANCE_READER_H

#include <resona/table.h>

#include "lance_file.pb-c.h"

#include <stddef.h>
#include <stdint.h>

typedef struct lance_page {
    uint64_t first_row; /* row number of the page's first row in the file */
    uint64_t rows;
    size_t nbuf;
    uint64_t *boff, *bsize;
    int kind;      /* PK_* in reader.c */
    int validity;  /* page buffer of the row validity bitmap, -1 none */
    int values;    /* fixed: values; binary: end offsets; dict: indices */
    int bytes;     /* binary: bytes */
    uint32_t bits; /* fixed: bits per value; dict: index bits */
    uint64_t null_adj;
    int dict_offsets, dict_bytes; /* dictionary items (binary) */
    uint64_t dict_null_adj;
    uint32_t dict_count;
    uint64_t *dict_off; /* loaded on first use: dict_count + 1 starts/ends */
    uint8_t *dict_data;
    size_t dict_len;
    struct v21_page *v21; /* format 2.1 pages: plan and lazy state (v21_read.c), else NULL */
} lance_page;

typedef struct lance_column {
    resona_type type;
    uint32_t dim;
    lance_page *pages;
    size_t npages;
    uint64_t rows;
} lance_column;

typedef struct lance_file {
    int fd;
    char *path;
    uint64_t size;
    uint16_t major, minor;
    uint32_t ncols;
    uint64_t *cmo;            /* ncols × (position, size) */
    Lf__FileDescriptor *desc; /* schema + length, may be NULL if absent */
    uint64_t rows;
} lance_file;

/** Destination of a read: one column of a chunk (grown as needed, reused). */
typedef struct lance_colbuf {
    resona_type type;
    uint32_t dim;
    size_t width;    /* bytes per value of fixed-width types */
    uint8_t *values; /* fixed: rows*width; utf8: bytes */
    size_t values_cap;
    size_t bytes_len;  /* utf8 bytes used */
    uint64_t *offsets; /* utf8: rows+1 */
    size_t offsets_cap;
    uint8_t *validity;
    size_t validity_cap;
    int has_nulls;
    size_t rows;
} lance_colbuf;

/** Open a data file; expect_size (0 = unknown) must match when given. */
int resona__lfile_open(const char *path, uint64_t expect_size, lance_file **out);
void resona__lfile_close(lance_file *f);
/** Decode column `col` as `type` (dim for vectors). Caller frees with _column_free. */
int resona__lfile_column(lance_file *f, uint32_t col, resona_type type, uint32_t dim,
                         lance_column *out);
void resona__lfile_column_free(lance_column *c);

/** Prepare dst for `rows` rows (capacity, validity all set, offsets[0]=0). */
/** Bytes per value of a fixed-width type (a vector: dim floats); 0 for utf8/other. */
size_t resona__type_width(resona_type type, uint32_t dim);
int resona__colbuf_reset(lance_colbuf *dst, resona_type type, uint32_t dim, size_t rows);
void resona__colbuf_free(lance_colbuf *dst);
/** Mark rows [d, d+n) null (values zeroed / empty strings). */
int resona__colbuf_nulls(lance_colbuf *dst, size_t d, size_t n);
/** Read rows [row, row+n) of column c into dst rows [d, d+n). */
int resona__lfile_read(lance_file *f, lance_column *c, uint64_t row, size_t n, lance_colbuf *dst,
                       size_t d);
/** Keep only rows where keep[r] != 0 (in order); dst->rows becomes the kept count. */
void resona__colbuf_compact(lance_colbuf *dst, const uint8_t *keep, size_t rows);

#endif
