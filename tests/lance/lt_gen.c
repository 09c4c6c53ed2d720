/*
 * lance/lt_gen.c - deterministic test rows (see lt_gen.h).
 */
#include "lt_gen.h"

#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const resona_field lt_fields[] = {
    {"k", RESONA_TYPE_INT64, 0, 0, 0, NULL},     {"id", RESONA_TYPE_UTF8, 0, 0, 0, NULL},
    {"s", RESONA_TYPE_UTF8, 0, 1, 0, NULL},      {"f64", RESONA_TYPE_FLOAT64, 0, 1, 0, NULL},
    {"f32", RESONA_TYPE_FLOAT32, 0, 1, 0, NULL}, {"b", RESONA_TYPE_BOOL, 0, 1, 0, NULL},
    {"v", RESONA_TYPE_VECTOR, 0, 1, 0, NULL},
};
static resona_field lt_fields_dim[7];

void lt_schema(resona_schema *out, uint32_t dim)
{
    memcpy(lt_fields_dim, lt_fields, sizeof(lt_fields));
    lt_fields_dim[6].dim = dim;
    out->fields = lt_fields_dim;
    out->count = 7;
}

static size_t s_len(uint64_t k)
{
    if (k % 5 == 0 || k % 7 == 0)
        return 0;
    char tmp[32];
    int n = snprintf(tmp, sizeof(tmp), "s%llu", (unsigned long long)k);
    return (size_t)n * (k % 13 + 1);
}

static void s_put(uint64_t k, char *dst)
{
    if (s_len(k) == 0)
        return;
    char tmp[32];
    int n = snprintf(tmp, sizeof(tmp), "s%llu", (unsigned long long)k);
    for (uint64_t i = 0; i < k % 13 + 1; i++)
        memcpy(dst + i * (size_t)n, tmp, (size_t)n);
}

static void setbit(uint8_t *bm, size_t i, int v)
{
    if (v)
        bm[i / 8] = (uint8_t)(bm[i / 8] | (1u << (i % 8)));
}

void lt_batch_make(lt_batch *b, uint64_t first, size_t n, uint32_t dim)
{
    memset(b, 0, sizeof(*b));
    size_t vb = (n + 7) / 8 + 1;
    b->k = calloc(n + 1, 8);
    b->id_off = calloc(n + 1, 8);
    b->s_off = calloc(n + 1, 8);
    b->f64 = calloc(n + 1, 8);
    b->f32 = calloc(n + 1, 4);
    b->b = calloc(n + 1, 1);
    b->v = calloc((n + 1) * dim, 4);
    b->val_s = calloc(vb, 1);
    b->val_f64 = calloc(vb, 1);
    b->val_f32 = calloc(vb, 1);
    b->val_b = calloc(vb, 1);
    b->val_v = calloc(vb, 1);
    size_t id_total = 0, s_total = 0;
    for (size_t i = 0; i < n; i++) {
        id_total += 24;
        s_total += s_len(first + i);
    }
    b->id = calloc(id_total + 1, 1);
    b->s = calloc(s_total + 1, 1);
    for (size_t i = 0; i < n; i++) {
        uint64_t k = first + i;
        b->k[i] = (int64_t)k;
        int m = snprintf(b->id + b->id_off[i], 24, "id%llu", (unsigned long long)k);
        b->id_off[i + 1] = b->id_off[i] + (uint64_t)m;
        s_put(k, b->s + b->s_off[i]);
        b->s_off[i + 1] = b->s_off[i] + s_len(k);
        setbit(b->val_s, i, k % 5 != 0);
        b->f64[i] = k % 3 ? (double)k * 1.25 : 0;
        setbit(b->val_f64, i, k % 3 != 0);
        b->f32[i] = k % 4 ? (float)k * 0.5f : 0;
        setbit(b->val_f32, i, k % 4 != 0);
        b->b[i] = (uint8_t)(k % 2);
        setbit(b->val_b, i, k % 6 != 0);
        for (uint32_t d = 0; d < dim; d++)
            b->v[i * dim + d] = k % 9 ? (float)k + (float)d * 0.25f : 0;
        setbit(b->val_v, i, k % 9 != 0);
    }
    const char *names[] = {"k", "id", "s", "f64", "f32", "b", "v"};
    for (int c = 0; c < 7; c++)
        b->cols[c].name = names[c];
    b->cols[0].values = b->k;
    b->cols[1].values = b->id;
    b->cols[1].offsets = b->id_off;
    b->cols[2].values = b->s;
    b->cols[2].offsets = b->s_off;
    b->cols[2].validity = b->val_s;
    b->cols[3].values = b->f64;
    b->cols[3].validity = b->val_f64;
    b->cols[4].values = b->f32;
    b->cols[4].validity = b->val_f32;
    b->cols[5].values = b->b;
    b->cols[5].validity = b->val_b;
    b->cols[6].values = b->v;
    b->cols[6].validity = b->val_v;
    b->batch.rows = n;
    b->batch.columns = b->cols;
    b->batch.column_count = 7;
}

void lt_batch_free(lt_batch *b)
{
    free(b->k);
    free(b->id);
    free(b->s);
    free(b->id_off);
    free(b->s_off);
    free(b->f64);
    free(b->f32);
    free(b->v);
    free(b->b);
    free(b->val_s);
    free(b->val_f64);
    free(b->val_f32);
    free(b->val_b);
    free(b->val_v);
}

static int valid(const resona_column *c, size_t r)
{
    return !c->validity || (c->validity[r / 8] >> (r % 8) & 1);
}

size_t lt_check(resona_table *t, uint32_t dim, unsigned *seen, uint64_t max_k, size_t chunk_rows,
                int ordered)
{
    resona_scan_options so = RESONA_SCAN_OPTIONS_INIT;
    so.chunk_rows = chunk_rows;
    resona_scan *sc = NULL;
    assert_int_equal(resona_table_scan(t, &so, &sc), 0);
    const resona_chunk *ch;
    size_t total = 0;
    int64_t prev = -1;
    int r;
    char want[1024];
    while ((r = resona_scan_next(sc, &ch)) > 0) {
        assert_int_equal(ch->column_count, 7);
        const resona_column *c = ch->columns;
        for (size_t i = 0; i < ch->rows; i++, total++) {
            assert_true(valid(&c[0], i));
            int64_t k = ((const int64_t *)c[0].values)[i];
            assert_true(k >= 0 && (uint64_t)k < max_k);
            if (ordered)
                assert_true(k > prev);
            prev = k;
            seen[k]++;
            uint64_t uk = (uint64_t)k;
            int n = snprintf(want, sizeof(want), "id%lld", (long long)k);
            assert_int_equal(c[1].offsets[i + 1] - c[1].offsets[i], (uint64_t)n);
            assert_memory_equal((const char *)c[1].values + c[1].offsets[i], want, (size_t)n);
            assert_int_equal(valid(&c[2], i), uk % 5 != 0);
            if (uk % 5) {
                size_t l = s_len(uk);
                assert_true(l < sizeof(want));
                s_put(uk, want);
                assert_int_equal(c[2].offsets[i + 1] - c[2].offsets[i], l);
                assert_memory_equal((const char *)c[2].values + c[2].offsets[i], want, l);
            }
            assert_int_equal(valid(&c[3], i), uk % 3 != 0);
            if (uk % 3)
                assert_true(((const double *)c[3].values)[i] == (double)k * 1.25);
            assert_int_equal(valid(&c[4], i), uk % 4 != 0);
            if (uk % 4)
                assert_true(((const float *)c[4].values)[i] == (float)k * 0.5f);
            assert_int_equal(valid(&c[5], i), uk % 6 != 0);
            if (uk % 6)
                assert_int_equal(((const uint8_t *)c[5].values)[i], uk % 2);
            assert_int_equal(valid(&c[6], i), uk % 9 != 0);
            if (uk % 9)
                for (uint32_t d = 0; d < dim; d++)
                    assert_true(((const float *)c[6].values)[i * dim + d] ==
                                (float)k + (float)d * 0.25f);
            assert_int_equal(ch->row_ids[i] >> 32, ch->fragment_id);
        }
    }
    assert_int_equal(r, 0);
    resona_scan_free(sc);
    return total;
}
