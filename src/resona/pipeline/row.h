/*
 * pipeline/row.h - one row of the embeddings table while it waits in the
 * pipeline's buffer or in the journal.
 *
 * A row is a single allocation: the struct, then its strings and its vector,
 * so that the buffer frees it in one call and the journal writes it from one
 * place. Columns (supertag-behaviour.md section 9): id, text_hash,
 * context_text, model, dimensions (= dim, stored as float64), metadata,
 * created_at and updated_at (both created_at, ms since the epoch, float64),
 * vector.
 */
#ifndef RESONA_PIPELINE_ROW_H
#define RESONA_PIPELINE_ROW_H

#include <stddef.h>
#include <stdint.h>

typedef struct resona_prow {
    const char *id; /**< row id ("x" or "x#n") */
    size_t id_len;
    size_t base_len;       /**< length of the base id (a prefix of id) */
    const char *text_hash; /**< 64 lowercase hex characters */
    const char *text;      /**< the chunk text that was embedded */
    size_t text_len;
    const char *model;
    size_t model_len;
    const char *metadata; /**< JSON text or "" */
    size_t metadata_len;
    double created_at; /**< ms since the epoch */
    uint32_t dim;
    float *vector; /**< dim floats */
} resona_prow;

/**
 * Allocate a row holding copies of everything (vector may be NULL: zeros).
 * Returns NULL with RESONA_ENOMEM set.
 */
resona_prow *resona__prow_new(const char *id, size_t id_len, const char *text_hash,
                              const char *text, size_t text_len, const char *model,
                              size_t model_len, const char *metadata, size_t metadata_len,
                              double created_at, const float *vector, uint32_t dim);

/** Bytes a row occupies (for memory accounting). */
size_t resona__prow_size(const resona_prow *row);

void resona__prow_free(resona_prow *row);

#endif
