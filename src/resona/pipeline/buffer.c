/*
 * pipeline/buffer.c - the column-oriented row buffer (see buffer.h).
 */
#include "pipeline/buffer.h"

#include "util/alloc.h"
#include "util/error.h"

#include <string.h>

/* Column names and order of the original's table (supertag-behaviour.md 9). */
static const char *const col_names[9] = {"id",         "text_hash",  "context_text",
                                         "model",      "dimensions", "metadata",
                                         "created_at", "updated_at", "vector"};

void resona__embeddings_schema(uint32_t dim, resona_field fields[9], resona_schema *out)
{
    static const resona_type types[9] = {
        RESONA_TYPE_UTF8,    RESONA_TYPE_UTF8,    RESONA_TYPE_UTF8,
        RESONA_TYPE_UTF8,    RESONA_TYPE_FLOAT64, RESONA_TYPE_UTF8,
        RESONA_TYPE_FLOAT64, RESONA_TYPE_FLOAT64, RESONA_TYPE_VECTOR};
    for (int i = 0; i < 9; i++) {
        memset(&fields[i], 0, sizeof(fields[i]));
        fields[i].name = col_names[i];
        fields[i].type = types[i];
        fields[i].dim = types[i] == RESONA_TYPE_VECTOR ? dim : 0;
        fields[i].nullable = 1;
        fields[i].id = i;
    }
    out->fields = fields;
    out->count = 9;
}

static int grow(resona_rowbuf *b, size_t need)
{
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    for (int c = 0; c < RB_STRCOLS; c++) {
        uint64_t *o = resona__reallocarray(b->off[c], cap + 1, sizeof(uint64_t));
        if (!o)
            return RESONA_ENOMEM;
        if (!b->off[c])
            o[0] = 0;
        b->off[c] = o;
    }
    double *d = resona__reallocarray(b->dims, cap, sizeof(double));
    if (!d)
        return RESONA_ENOMEM;
    b->dims = d;
    d = resona__reallocarray(b->created, cap, sizeof(double));
    if (!d)
        return RESONA_ENOMEM;
    b->created = d;
    if (b->dim) {
        if ((size_t)b->dim > SIZE_MAX / sizeof(float) / cap)
            return resona__error_set(RESONA_ENOMEM, "row buffer of %zu x %u floats is too large",
                                     cap, b->dim);
        float *v = resona__reallocarray(b->vec, cap * b->dim, sizeof(float));
        if (!v)
            return RESONA_ENOMEM;
        b->vec = v;
    }
    b->cap = cap;
    return 0;
}

int resona__rowbuf_add(resona_rowbuf *b, const resona_prow *row)
{
    int rc;
    if (b->rows == 0 && b->dim != row->dim) {
        /* The width is fixed by the first row of a batch. */
        resona__free(b->vec);
        b->vec = NULL;
        b->dim = row->dim;
        if (b->cap && row->dim) {
            if ((size_t)row->dim > SIZE_MAX / sizeof(float) / b->cap)
                return resona__error_set(RESONA_ENOMEM, "row buffer too large");
            if (!(b->vec = resona__reallocarray(NULL, b->cap * row->dim, sizeof(float))))
                return RESONA_ENOMEM;
        }
    }
    if (row->dim != b->dim)
        return resona__error_set(
            RESONA_EINVALID, "row %.*s has a %u-dimensional vector, the batch has %u",
            (int)(row->id_len > 200 ? 200 : row->id_len), row->id, row->dim, b->dim);
    if ((rc = grow(b, b->rows + 1)) < 0)
        return rc;
    const char *s[RB_STRCOLS] = {row->id, row->text_hash, row->text, row->model, row->metadata};
    size_t l[RB_STRCOLS] = {row->id_len, 64, row->text_len, row->model_len, row->metadata_len};
    size_t c;
    for (c = 0; c < RB_STRCOLS; c++) {
        if ((rc = resona__buf_append(&b->str[c], s[c], l[c])) < 0)
            goto undo;
        b->off[c][b->rows + 1] = b->str[c].len;
    }
    size_t i = b->rows;
    b->dims[i] = (double)row->dim;
    b->created[i] = row->created_at;
    if (row->dim)
        memcpy(b->vec + i * row->dim, row->vector, (size_t)row->dim * sizeof(float));
    b->rows++;
    return 0;
undo:
    for (size_t u = 0; u < c; u++)
        b->str[u].len = (size_t)b->off[u][b->rows];
    return rc;
}

const char *resona__rowbuf_id(const resona_rowbuf *b, size_t i, size_t *len)
{
    *len = (size_t)(b->off[RB_ID][i + 1] - b->off[RB_ID][i]);
    return b->str[RB_ID].ptr + b->off[RB_ID][i];
}

const char *resona__rowbuf_hash(const resona_rowbuf *b, size_t i)
{
    return b->str[RB_HASH].ptr + b->off[RB_HASH][i];
}

void resona__rowbuf_batch(resona_rowbuf *b, resona_batch *out)
{
    static const int str_of_col[9] = {RB_ID, RB_HASH, RB_TEXT, RB_MODEL, -1, RB_META, -1, -1, -1};
    for (int c = 0; c < 9; c++) {
        resona_column *col = &b->cols[c];
        memset(col, 0, sizeof(*col));
        col->name = col_names[c];
        int s = str_of_col[c];
        if (s >= 0) {
            col->values = b->str[s].ptr ? b->str[s].ptr : "";
            col->offsets = b->off[s];
        }
    }
    b->cols[4].values = b->dims;
    b->cols[6].values = b->created;
    b->cols[7].values = b->created; /* updated_at == created_at: rows are never updated */
    b->cols[8].values = b->vec;
    out->rows = b->rows;
    out->columns = b->cols;
    out->column_count = 9;
}

void resona__rowbuf_clear(resona_rowbuf *b)
{
    for (int c = 0; c < RB_STRCOLS; c++)
        resona__buf_clear(&b->str[c]);
    b->rows = 0;
}

size_t resona__rowbuf_bytes(const resona_rowbuf *b)
{
    size_t n = b->cap * (RB_STRCOLS * sizeof(uint64_t) + 2 * sizeof(double) +
                         (size_t)b->dim * sizeof(float));
    for (int c = 0; c < RB_STRCOLS; c++)
        n += b->str[c].cap;
    return n;
}

void resona__rowbuf_free(resona_rowbuf *b)
{
    for (int c = 0; c < RB_STRCOLS; c++) {
        resona__buf_free(&b->str[c]);
        resona__free(b->off[c]);
    }
    resona__free(b->dims);
    resona__free(b->created);
    resona__free(b->vec);
    memset(b, 0, sizeof(*b));
}
