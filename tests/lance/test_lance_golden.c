/*
 * lance/test_lance_golden.c - the original tool's own table
 * (tests/fixtures/original-workspace: LanceDB 0.13, format 2.0, V1 names,
 * BTree index id_idx) read exactly: every golden row (id, text_hash,
 * context_text, model, dimensions, metadata) and every vector equal to the
 * fixtures' deterministic function of the context text. Then appending to a
 * copy keeps V1 names and the index, and reads back; compacting the copy
 * drops the index and keeps every row.
 */
#include "support.h"

#include <resona/table.h>

#include "lance/table_int.h"

#include <openssl/evp.h>
#include <yajl/yajl_tree.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TABLE_REL "original-workspace/tana-index.lance/embeddings.lance"

typedef struct golden {
    char *id, *text_hash, *context_text, *model, *metadata;
    double dimensions;
    int seen;
} golden;

static golden *rows;
static size_t nrows;

static char *dupstr(yajl_val v)
{
    const char *s = YAJL_GET_STRING(v);
    return s ? strdup(s) : NULL;
}

static void load_golden(void)
{
    if (rows)
        return;
    char *path = ts_fixture("golden/sample-embeddings.jsonl");
    size_t len;
    char *text = ts_read_file(path, &len);
    assert_non_null(text);
    size_t cap = 4096;
    rows = calloc(cap, sizeof(*rows));
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char err[128];
        yajl_val v = yajl_tree_parse(line, err, sizeof(err));
        assert_non_null(v);
        const char *k_id[] = {"id", NULL}, *k_th[] = {"text_hash", NULL},
                   *k_ct[] = {"context_text", NULL}, *k_m[] = {"model", NULL},
                   *k_md[] = {"metadata", NULL}, *k_d[] = {"dimensions", NULL};
        if (nrows == cap)
            rows = realloc(rows, (cap *= 2) * sizeof(*rows));
        golden *g = &rows[nrows++];
        memset(g, 0, sizeof(*g));
        g->id = dupstr(yajl_tree_get(v, k_id, yajl_t_string));
        g->text_hash = dupstr(yajl_tree_get(v, k_th, yajl_t_string));
        g->context_text = dupstr(yajl_tree_get(v, k_ct, yajl_t_string));
        g->model = dupstr(yajl_tree_get(v, k_m, yajl_t_string));
        g->metadata = dupstr(yajl_tree_get(v, k_md, yajl_t_string));
        yajl_val d = yajl_tree_get(v, k_d, yajl_t_number);
        g->dimensions = d ? YAJL_GET_DOUBLE(d) : NAN;
        yajl_tree_free(v);
    }
    free(text);
    free(path);
}

static int cmp_id(const void *key, const void *elem)
{
    return strcmp((const char *)key, ((const golden *)elem)->id);
}

/* The fixtures' deterministic embedding of text t (tests/fixtures/README.md). */
static void embed(const char *t, size_t len, float *out, size_t dim)
{
    unsigned char seed[32];
    unsigned int sl = 0;
    EVP_Digest(t, len, seed, &sl, EVP_sha256(), NULL);
    unsigned char *raw = malloc(4 * dim);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_shake256(), NULL);
    EVP_DigestUpdate(ctx, seed, sizeof(seed));
    EVP_DigestFinalXOF(ctx, raw, 4 * dim);
    EVP_MD_CTX_free(ctx);
    double *x = malloc(dim * sizeof(double)), n = 0;
    for (size_t i = 0; i < dim; i++) {
        uint32_t u = (uint32_t)raw[4 * i] | (uint32_t)raw[4 * i + 1] << 8 |
                     (uint32_t)raw[4 * i + 2] << 16 | (uint32_t)raw[4 * i + 3] << 24;
        x[i] = (double)u / 2147483648.0 - 1.0;
        n += x[i] * x[i];
    }
    n = sqrt(n);
    for (size_t i = 0; i < dim; i++)
        out[i] = (float)(x[i] / n);
    free(x);
    free(raw);
}

static int str_eq(const resona_column *c, size_t r, const char *want)
{
    if (c->validity && !(c->validity[r / 8] >> (r % 8) & 1))
        return want == NULL;
    size_t len = (size_t)(c->offsets[r + 1] - c->offsets[r]);
    return want && strlen(want) == len &&
           !memcmp((const char *)c->values + c->offsets[r], want, len);
}

/* Scan all columns and check every row against the golden rows. Returns rows seen. */
static size_t check_table(resona_table *t, size_t max_rows_seen)
{
    load_golden();
    for (size_t i = 0; i < nrows; i++)
        rows[i].seen = 0;
    const char *cols[] = {"id",         "text_hash", "context_text", "model",
                          "dimensions", "metadata",  "vector"};
    resona_scan_options so = RESONA_SCAN_OPTIONS_INIT;
    so.columns = cols;
    so.column_count = 7;
    so.chunk_rows = 1000; /* chunks cross page and fragment boundaries */
    resona_scan *s = NULL;
    assert_int_equal(resona_table_scan(t, &so, &s), 0);
    const resona_chunk *ch;
    size_t total = 0;
    float *want = malloc(1024 * sizeof(float));
    int r;
    while ((r = resona_scan_next(s, &ch)) > 0) {
        for (size_t i = 0; i < ch->rows; i++, total++) {
            const resona_column *c = ch->columns;
            size_t len = (size_t)(c[0].offsets[i + 1] - c[0].offsets[i]);
            char id[64];
            assert_true(len < sizeof(id));
            memcpy(id, (const char *)c[0].values + c[0].offsets[i], len);
            id[len] = '\0';
            golden *g = bsearch(id, rows, nrows, sizeof(*rows), cmp_id);
            assert_non_null(g);
            g->seen++;
            assert_true(str_eq(&c[1], i, g->text_hash));
            assert_true(str_eq(&c[2], i, g->context_text));
            assert_true(str_eq(&c[3], i, g->model));
            assert_true(str_eq(&c[5], i, g->metadata));
            assert_true(((const double *)c[4].values)[i] == g->dimensions);
            embed(g->context_text, strlen(g->context_text), want, 1024);
            const float *got = (const float *)c[6].values + 1024 * i;
            for (size_t k = 0; k < 1024; k++)
                assert_true(fabsf(got[k] - want[k]) <= 1.2e-7f); /* <= 1 ulp below 1.0 */
        }
    }
    assert_int_equal(r, 0);
    free(want);
    resona_scan_free(s);
    for (size_t i = 0; i < nrows; i++)
        assert_true(rows[i].seen >= 1 && (size_t)rows[i].seen <= max_rows_seen);
    return total;
}

static void test_read_original(void **state)
{
    (void)state;
    char *path = ts_fixture(TABLE_REL);
    resona_table *t = NULL;
    assert_int_equal(resona_table_open(path, NULL, &t), 0);
    resona_table_stats st;
    assert_int_equal(resona_table_stats_get(t, &st), 0);
    assert_int_equal(st.version, 3);
    assert_int_equal(st.rows, 3623);
    assert_int_equal(st.fragments, 2);
    assert_int_equal(st.naming, RESONA_NAMING_V1);
    assert_string_equal(st.data_format, "2.0");
    assert_int_equal(st.index_count, 1);
    assert_string_equal(st.index_names[0], "id_idx");
    const resona_schema *sc = resona_table_schema(t);
    assert_int_equal(sc->count, 9);
    assert_int_equal(sc->fields[8].type, RESONA_TYPE_VECTOR);
    assert_int_equal(sc->fields[8].dim, 1024);
    assert_int_equal(check_table(t, 1), 3623);
    load_golden();
    for (size_t i = 0; i < nrows; i++)
        assert_int_equal(rows[i].seen, 1);
    assert_int_equal(nrows, 3623);
    resona_table_free(t);
    /* an older version: 1 row */
    resona_open_options oo = RESONA_OPEN_OPTIONS_INIT;
    oo.at_version = 1;
    assert_int_equal(resona_table_open(path, &oo, &t), 0);
    assert_int_equal(resona_table_stats_get(t, &st), 0);
    assert_int_equal(st.rows, 1);
    resona_table_free(t);
    free(path);
}

static void test_append_to_copy(void **state)
{
    (void)state;
    char *dir = ts_tmpdir("lance-golden");
    char *src = ts_fixture(TABLE_REL);
    assert_int_equal(ts_runf(NULL, "cp -r '%s' '%s/embeddings.lance'", src, dir), 0);
    char *path = ts_path(dir, "embeddings.lance");
    resona_table *t = NULL;
    assert_int_equal(resona_table_open(path, NULL, &t), 0);
    load_golden();
    /* append 10 golden rows again (same ids, like `embed generate --all`) */
    enum { N = 10 };
    char *bytes[6];
    uint64_t off[6][N + 1];
    const char *names[] = {"id", "text_hash", "context_text", "model", "metadata"};
    for (int c = 0; c < 5; c++) {
        size_t total = 0;
        for (int i = 0; i < N; i++) {
            const golden *g = &rows[i * 300];
            const char *v = c == 0   ? g->id
                            : c == 1 ? g->text_hash
                            : c == 2 ? g->context_text
                            : c == 3 ? g->model
                                     : g->metadata;
            total += strlen(v);
        }
        bytes[c] = malloc(total + 1);
        off[c][0] = 0;
        for (int i = 0; i < N; i++) {
            const golden *g = &rows[i * 300];
            const char *v = c == 0   ? g->id
                            : c == 1 ? g->text_hash
                            : c == 2 ? g->context_text
                            : c == 3 ? g->model
                                     : g->metadata;
            memcpy(bytes[c] + off[c][i], v, strlen(v));
            off[c][i + 1] = off[c][i] + strlen(v);
        }
    }
    double dims[N];
    float *vec = malloc(N * 1024 * sizeof(float));
    for (int i = 0; i < N; i++) {
        dims[i] = 1024;
        embed(rows[i * 300].context_text, strlen(rows[i * 300].context_text), vec + 1024 * i, 1024);
    }
    resona_column cols[7];
    memset(cols, 0, sizeof(cols));
    for (int c = 0; c < 5; c++) {
        cols[c].name = names[c];
        cols[c].values = bytes[c];
        cols[c].offsets = off[c];
    }
    cols[5].name = "dimensions";
    cols[5].values = dims;
    cols[6].name = "vector";
    cols[6].values = vec;
    resona_batch b = {N, cols, 7};
    assert_int_equal(resona_table_append(t, &b, NULL), 0);
    assert_int_equal(resona_table_version(t), 4);
    resona_table_stats st;
    assert_int_equal(resona_table_stats_get(t, &st), 0);
    assert_int_equal(st.naming, RESONA_NAMING_V1);
    assert_int_equal(st.index_count, 1);
    assert_string_equal(st.index_names[0], "id_idx");
    assert_int_equal(st.rows, 3623 + N);
    char *m4 = ts_path(path, "_versions/4.manifest");
    char *m4v2 = ts_path(path, "_versions/18446744073709551611.manifest");
    size_t l;
    char *x = ts_read_file(m4, &l);
    assert_non_null(x);
    /* unknown fields carried forward: lance 0.19's Field #11 "default"
     * (tag 0x5a, 7 bytes) on each of the 9 fields, as in version 3 */
    static const char f11[] = "\x5a\x07"
                              "default";
    size_t n11 = 0;
    for (size_t i = 0; i + 9 <= l; i++)
        n11 += !memcmp(x + i, f11, 9);
    assert_int_equal(n11, 9);
    /* the inline transaction equals the _transactions/ file the manifest names */
    uint64_t pos = 0;
    for (int i = 0; i < 8; i++)
        pos |= (uint64_t)(uint8_t)x[l - 16 + (size_t)i] << (8 * i);
    assert_true(pos < l);
    resona_table *t4 = NULL;
    assert_int_equal(resona_table_open(path, NULL, &t4), 0);
    assert_true(t4->man->has_transaction_section && t4->man->transaction_file);
    uint64_t ts = t4->man->transaction_section;
    uint32_t tl = (uint32_t)(uint8_t)x[ts] | (uint32_t)(uint8_t)x[ts + 1] << 8 |
                  (uint32_t)(uint8_t)x[ts + 2] << 16 | (uint32_t)(uint8_t)x[ts + 3] << 24;
    char *tdir = ts_path(path, "_transactions");
    char *tfile = ts_path(tdir, t4->man->transaction_file);
    size_t tlen;
    char *txn = ts_read_file(tfile, &tlen);
    assert_non_null(txn);
    assert_int_equal(tlen, tl);
    assert_memory_equal(txn, x + ts + 4, tl);
    assert_true(t4->man->has_index_section); /* id_idx carried forward */
    free(txn);
    free(tfile);
    free(tdir);
    resona_table_free(t4);
    free(x);
    assert_null(ts_read_file(m4v2, &l));
    resona_table_free(t);
    /* a fresh handle sees the same, and every row checks out */
    assert_int_equal(resona_table_open(path, NULL, &t), 0);
    assert_int_equal(check_table(t, 2), 3623 + N);
    /* compaction merges both small... the 3622-row fragment is below target too */
    resona_compact_stats cs;
    assert_int_equal(resona_table_compact(t, NULL, &cs), 0);
    assert_int_equal(cs.fragments_removed, 3);
    assert_int_equal(cs.fragments_added, 1);
    assert_int_equal(resona_table_stats_get(t, &st), 0);
    assert_int_equal(st.index_count, 0); /* id_idx covered rewritten fragments */
    assert_int_equal(st.naming, RESONA_NAMING_V1);
    assert_int_equal(st.fragments, 1);
    assert_int_equal(check_table(t, 2), 3623 + N);
    resona_table_free(t);
    for (int c = 0; c < 5; c++)
        free(bytes[c]);
    free(vec);
    free(m4);
    free(m4v2);
    free(path);
    free(src);
    assert_int_equal(ts_rmtree(dir), 0);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_original),
        cmocka_unit_test(test_append_to_copy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
