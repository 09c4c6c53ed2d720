/*
 * pipeline/row.c - single-allocation rows (see row.h).
 */
#include "pipeline/row.h"

#include "util/alloc.h"
#include "util/error.h"

#include <resona/pipeline.h>

#include <stdalign.h>
#include <string.h>

/* Layout of the block: struct | vector (aligned) | id NUL | hash NUL | text NUL |
 * model NUL | metadata NUL. */
resona_prow *resona__prow_new(const char *id, size_t id_len, const char *text_hash,
                              const char *text, size_t text_len, const char *model,
                              size_t model_len, const char *metadata, size_t metadata_len,
                              double created_at, const float *vector, uint32_t dim)
{
    size_t head = (sizeof(resona_prow) + alignof(float) - 1) / alignof(float) * alignof(float);
    size_t vec_len = (size_t)dim * sizeof(float);
    size_t total = head + vec_len;
    size_t parts[5] = {id_len, 64, text_len, model_len, metadata_len};
    for (size_t i = 0; i < 5; i++) {
        if (parts[i] > SIZE_MAX - total - 1) {
            resona__error_set(RESONA_ENOMEM, "row too large (%zu bytes)", parts[i]);
            return NULL;
        }
        total += parts[i] + 1;
    }
    char *block = resona__malloc(total);
    if (!block)
        return NULL;
    resona_prow *row = (resona_prow *)(void *)block;
    memset(row, 0, sizeof(*row));
    row->vector = (float *)(void *)(block + head);
    if (vector && vec_len)
        memcpy(row->vector, vector, vec_len);
    else if (vec_len)
        memset(row->vector, 0, vec_len);
    char *p = block + head + vec_len;
    const char *src[5] = {id, text_hash, text, model, metadata};
    const char **dst[5] = {&row->id, &row->text_hash, &row->text, &row->model, &row->metadata};
    for (size_t i = 0; i < 5; i++) {
        if (parts[i])
            memcpy(p, src[i], parts[i]);
        p[parts[i]] = '\0';
        *dst[i] = p;
        p += parts[i] + 1;
    }
    row->id_len = id_len;
    row->text_len = text_len;
    row->model_len = model_len;
    row->metadata_len = metadata_len;
    row->created_at = created_at;
    row->dim = dim;
    row->base_len = resona_pipeline_base_id_len(row->id, id_len);
    return row;
}

size_t resona__prow_size(const resona_prow *row)
{
    return sizeof(*row) + (size_t)row->dim * sizeof(float) + row->id_len + 64 + row->text_len +
           row->model_len + row->metadata_len + 5;
}

void resona__prow_free(resona_prow *row)
{
    resona__free(row);
}
