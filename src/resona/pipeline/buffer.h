/*
 * pipeline/buffer.h - the rows waiting for the next flush, kept column by
 * column in exactly the layout resona_table_append reads (resona/table.h),
 * so a flush hands the buffer to the table without copying a value.
 *
 *   id, text_hash, context_text, model, metadata   concatenated bytes + count+1 offsets
 *   dimensions, created_at, updated_at             double[count]
 *   vector                                         float[count * dim]
 *
 * Memory is what the rows need (vector bytes dominate: 4 x dim per row)
 * plus geometric slack; resona__rowbuf_clear keeps the allocations for the
 * next batch, so a run allocates the buffer once.
 */
#ifndef RESONA_PIPELINE_BUFFER_H
#define RESONA_PIPELINE_BUFFER_H

#include "pipeline/row.h"
#include "util/buf.h"

#include <resona/table.h>

#include <stddef.h>
#include <stdint.h>

enum { RB_ID, RB_HASH, RB_TEXT, RB_MODEL, RB_META, RB_STRCOLS };

typedef struct resona_rowbuf {
    size_t rows;
    size_t cap;   /* rows the numeric arrays can hold */
    uint32_t dim; /* 0 until the first row */
    resona_buf str[RB_STRCOLS];
    uint64_t *off[RB_STRCOLS]; /* cap + 1 each */
    double *dims;
    double *created;
    float *vec;
    /* the batch handed to the table (views of the arrays above) */
    resona_column cols[9];
} resona_rowbuf;

/** Add a copy of a row. RESONA_EINVALID if its dim differs from the buffer's. */
int resona__rowbuf_add(resona_rowbuf *b, const resona_prow *row);

/** Row i's id (not NUL-terminated) and its length. */
const char *resona__rowbuf_id(const resona_rowbuf *b, size_t i, size_t *len);

/** Row i's text hash (64 characters). */
const char *resona__rowbuf_hash(const resona_rowbuf *b, size_t i);

/** Fill *out with a batch viewing the buffer (valid until the buffer changes). */
void resona__rowbuf_batch(resona_rowbuf *b, resona_batch *out);

/** Forget the rows, keep the allocations. */
void resona__rowbuf_clear(resona_rowbuf *b);

/** Bytes allocated. */
size_t resona__rowbuf_bytes(const resona_rowbuf *b);

void resona__rowbuf_free(resona_rowbuf *b);

/** The schema of the embeddings table for a dimension (static names; fields[9]). */
void resona__embeddings_schema(uint32_t dim, resona_field fields[9], resona_schema *out);

#endif
