/*
 * lance/lt_gen.h - deterministic test rows for the Lance tests.
 *
 * Row k (a global row number) has:
 *   k    int64 not null     = k
 *   id   utf8 not null      = "id<k>"
 *   s    utf8 nullable      null if k%5==0, "" if k%7==0, else "s<k>" repeated (k%13)+1 times
 *   f64  float64 nullable   null if k%3==0, else k*1.25
 *   f32  float32 nullable   null if k%4==0, else k*0.5
 *   b    bool nullable      null if k%6==0, else k%2
 *   v    vector<dim> null.  null if k%9==0, else v[i] = k + i*0.25
 * A batch holds rows [first, first+n) with every array owned by the batch.
 */
#ifndef LT_GEN_H
#define LT_GEN_H

#include <resona/table.h>

#include <stddef.h>
#include <stdint.h>

typedef struct lt_batch {
    resona_batch batch;
    resona_column cols[7];
    int64_t *k;
    char *id, *s;
    uint64_t *id_off, *s_off;
    double *f64;
    float *f32, *v;
    uint8_t *b;
    uint8_t *val_s, *val_f64, *val_f32, *val_b, *val_v;
} lt_batch;

void lt_schema(resona_schema *out, uint32_t dim);
void lt_batch_make(lt_batch *b, uint64_t first, size_t n, uint32_t dim);
void lt_batch_free(lt_batch *b);
/**
 * Scan all of t and check every row against the generator; seen[k] counts
 * rows with key k (caller sizes it max_k). Returns the rows scanned. Also
 * checks that keys come in increasing order when `ordered`.
 */
size_t lt_check(resona_table *t, uint32_t dim, unsigned *seen, uint64_t max_k, size_t chunk_rows,
                int ordered);

#endif
