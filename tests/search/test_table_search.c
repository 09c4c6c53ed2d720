/*
 * search/test_table_search.c - search over real Lance tables.
 *
 *  - Tables written with resona_table_append (many fragments, deletions,
 *    null vectors): resona_search_table must equal the in-memory search over
 *    the rows a full scan returns (with their _rowid), which test_search
 *    checks against brute force. Fragment-parallel scans,
 *    1 and 2 threads (a one-fragment table is searched by one thread).
 *  - The original tool's workspace (tests/fixtures/original-workspace, written
 *    by LanceDB 0.13): the searches of the golden files find the same ids
 *    with the same similarity (1 - distance, 3 decimals) as the original.
 */
#include "support.h"

#include <resona/search.h>
#include <resona/table.h>

#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 88172645463325252ULL;

static uint64_t next_u64(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static float next_float(void)
{
    return (float)((double)(next_u64() >> 40) / 8388608.0 - 1.0);
}

/* A table "<dir>/t.lance" with {id utf8, vector vector(dim)} written in `frags` appends. */
static resona_table *make_table(const char *dir, size_t dim, size_t frags, size_t rows_per_frag,
                                int with_nulls)
{
    char *path = ts_path(dir, "t.lance");
    resona_field fields[2] = {{"id", RESONA_TYPE_UTF8, 0, 1, 0, NULL},
                              {"vector", RESONA_TYPE_VECTOR, (uint32_t)dim, 1, 0, NULL}};
    resona_schema schema = {fields, 2};
    resona_table *t = NULL;
    if (resona_table_create(path, &schema, NULL, &t) < 0)
        fail_msg("create: %s", resona_error_message());
    size_t n = rows_per_frag;
    float *vec = malloc(n * dim * sizeof(float));
    uint64_t *off = malloc((n + 1) * sizeof(uint64_t));
    char *ids = malloc(n * 32);
    uint8_t *validity = calloc((n + 7) / 8, 1);
    for (size_t f = 0; f < frags; f++) {
        off[0] = 0;
        for (size_t r = 0; r < n; r++) {
            size_t g = f * n + r;
            int len;
            if (g % 3 == 0)
                len = snprintf(ids + off[r], 32, "node%zu", g % 97);
            else
                len = snprintf(ids + off[r], 32, "node%zu#%zu", g % 97, g);
            off[r + 1] = off[r] + (uint64_t)len;
            for (size_t i = 0; i < dim; i++)
                vec[r * dim + i] = next_float();
            int null_vec = with_nulls && g % 17 == 5;
            if (null_vec)
                validity[r / 8] &= (uint8_t) ~(1u << (r % 8));
            else
                validity[r / 8] |= (uint8_t)(1u << (r % 8));
        }
        resona_column cols[2] = {{"id", ids, off, NULL},
                                 {"vector", vec, NULL, with_nulls ? validity : NULL}};
        resona_batch b = {n, cols, 2};
        if (resona_table_append(t, &b, NULL) < 0)
            fail_msg("append: %s", resona_error_message());
    }
    free(validity);
    free(ids);
    free(off);
    free(vec);
    free(path);
    return t;
}

/* Everything a full scan returns (live, non-null rows), as a memory source. */
typedef struct scanned {
    size_t count, dim;
    float *vectors;
    uint64_t *row_ids;
    char **keys;
} scanned;

static void scan_all(resona_table *t, size_t dim, scanned *s)
{
    memset(s, 0, sizeof(*s));
    s->dim = dim;
    const char *cols[2] = {"vector", "id"};
    resona_scan_options so = RESONA_SCAN_OPTIONS_INIT;
    so.columns = cols;
    so.column_count = 2;
    resona_scan *scan = NULL;
    assert_int_equal(resona_table_scan(t, &so, &scan), 0);
    const resona_chunk *c;
    size_t cap = 0;
    while (resona_scan_next(scan, &c) == 1) {
        for (size_t r = 0; r < c->rows; r++) {
            const uint8_t *vv = c->columns[0].validity;
            if (vv && !(vv[r / 8] >> (r % 8) & 1))
                continue;
            if (s->count == cap) {
                cap = cap ? cap * 2 : 256;
                s->vectors = realloc(s->vectors, cap * dim * sizeof(float));
                s->row_ids = realloc(s->row_ids, cap * sizeof(uint64_t));
                s->keys = realloc(s->keys, cap * sizeof(char *));
            }
            memcpy(s->vectors + s->count * dim, (const float *)c->columns[0].values + r * dim,
                   dim * sizeof(float));
            s->row_ids[s->count] = c->row_ids[r];
            const uint64_t *o = c->columns[1].offsets;
            s->keys[s->count] =
                strndup((const char *)c->columns[1].values + o[r], (size_t)(o[r + 1] - o[r]));
            s->count++;
        }
    }
    resona_scan_free(scan);
}

static void scanned_free(scanned *s)
{
    for (size_t i = 0; i < s->count; i++)
        free(s->keys[i]);
    free(s->keys);
    free(s->row_ids);
    free(s->vectors);
}

static void expect_same(const resona_search_results *a, const resona_search_results *b, size_t nq)
{
    for (size_t q = 0; q < nq; q++) {
        size_t na, nb;
        const resona_search_hit *ha = resona_search_results_hits(a, q, &na);
        const resona_search_hit *hb = resona_search_results_hits(b, q, &nb);
        assert_int_equal(na, nb);
        for (size_t i = 0; i < na; i++) {
            if (ha[i].row_id != hb[i].row_id || memcmp(&ha[i].distance, &hb[i].distance, 4) != 0)
                fail_msg("query %zu rank %zu: row %llx %.9g vs %llx %.9g", q, i,
                         (unsigned long long)ha[i].row_id, (double)ha[i].distance,
                         (unsigned long long)hb[i].row_id, (double)hb[i].distance);
            assert_string_equal(ha[i].key, hb[i].key);
        }
    }
}

static void check_table(resona_table *t, size_t dim, size_t k)
{
    scanned s;
    scan_all(t, dim, &s);
    resona_search_memory mem = {s.count, dim, s.vectors, s.row_ids, (const char *const *)s.keys,
                                NULL,    100};
    resona_search_source src;
    resona_search_source_memory(&src, &mem);
    const size_t nq = 3;
    float q[3 * 64];
    for (size_t i = 0; i < nq * dim; i++)
        q[i] = next_float();
    for (resona_metric m = RESONA_METRIC_L2; m <= RESONA_METRIC_DOT; m++) {
        for (int collapse = 0; collapse <= 1; collapse++) {
            resona_search_options opt = RESONA_SEARCH_OPTIONS_INIT;
            opt.metric = m;
            opt.k = k;
            opt.collapse_chunks = collapse;
            opt.threads = 1;
            resona_search_results *want = NULL;
            assert_int_equal(resona_search_run(&src, q, nq, dim, &opt, &want), 0);
            for (unsigned threads = 1; threads <= 3; threads++) {
                opt.threads = threads;
                resona_search_results *got = NULL;
                if (resona_search_table(t, NULL, "id", q, nq, dim, &opt, &got) < 0)
                    fail_msg("search_table: %s", resona_error_message());
                expect_same(got, want, nq);
                resona_search_results_free(got);
            }
            resona_search_results_free(want);
        }
    }
    scanned_free(&s);
}

static void test_many_fragments_deletions_nulls(void **state)
{
    (void)state;
    char *dir = ts_tmpdir("search-frags");
    resona_table *t = make_table(dir, 24, 30, 40, 1);
    /* delete a few base ids (all their chunks) and one single chunk row */
    const char *gone[] = {"node3", "node3#3", "node10", "node5#102", "node50#147"};
    uint64_t deleted = 0;
    assert_int_equal(resona_table_delete(t, "id", gone, 5, &deleted), 0);
    assert_true(deleted >= 3);
    check_table(t, 24, 15);
    /* deleted ids never come back */
    float q[24];
    for (size_t i = 0; i < 24; i++)
        q[i] = next_float();
    resona_search_options opt = RESONA_SEARCH_OPTIONS_INIT;
    opt.k = 2000;
    resona_search_results *res = NULL;
    assert_int_equal(resona_search_table(t, "vector", "id", q, 1, 24, &opt, &res), 0);
    size_t n;
    const resona_search_hit *h = resona_search_results_hits(res, 0, &n);
    assert_int_equal(n, resona_search_results_rows_scanned(res));
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < 5; j++)
            assert_string_not_equal(h[i].key, gone[j]);
    }
    resona_search_results_free(res);
    resona_table_free(t);
    ts_rmtree(dir);
    free(dir);
}

static void test_one_big_fragment(void **state)
{
    (void)state;
    char *dir = ts_tmpdir("search-one");
    resona_table *t = make_table(dir, 40, 1, 3000, 0); /* 3 scan chunks of 1024 */
    check_table(t, 40, 30); /* 2 and 3 threads split the one fragment by chunks */
    const char *gone[] = {"node4#4", "node8#1075", "node22#2059"};
    uint64_t deleted = 0;
    assert_int_equal(resona_table_delete(t, "id", gone, 3, &deleted), 0);
    assert_int_equal(deleted, 3);
    check_table(t, 40, 30);
    resona_table_free(t);
    ts_rmtree(dir);
    free(dir);
}

static void test_column_errors(void **state)
{
    (void)state;
    char *dir = ts_tmpdir("search-err");
    resona_table *t = make_table(dir, 8, 1, 10, 0);
    float q[9] = {0};
    resona_search_results *res = NULL;
    assert_int_equal(resona_search_table(t, NULL, "id", q, 1, 9, NULL, &res), RESONA_EINVALID);
    assert_non_null(strstr(resona_error_message(), "No vector column found"));
    assert_int_equal(resona_search_table(t, "nope", "id", q, 1, 8, NULL, &res), RESONA_ENOTFOUND);
    assert_int_equal(resona_search_table(t, "id", "id", q, 1, 8, NULL, &res), RESONA_EINVALID);
    assert_int_equal(resona_search_table(t, NULL, "vector", q, 1, 8, NULL, &res), RESONA_EINVALID);
    resona_search_options opt = RESONA_SEARCH_OPTIONS_INIT;
    opt.collapse_chunks = 1;
    assert_int_equal(resona_search_table(t, NULL, NULL, q, 1, 8, &opt, &res), RESONA_EINVALID);
    assert_null(res);
    resona_table_free(t);
    ts_rmtree(dir);
    free(dir);
}

/* ---- the original's workspace ------------------------------------------------ */

/* The fixture's deterministic "embedding" (tests/fixtures/README.md). */
static void fixture_vector(const char *text, float *v, size_t dim)
{
    unsigned char seed[32];
    unsigned int len = 0;
    assert_int_equal(EVP_Digest(text, strlen(text), seed, &len, EVP_sha256(), NULL), 1);
    unsigned char *raw = malloc(4 * dim);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestInit_ex(ctx, EVP_shake256(), NULL), 1);
    assert_int_equal(EVP_DigestUpdate(ctx, seed, 32), 1);
    assert_int_equal(EVP_DigestFinalXOF(ctx, raw, 4 * dim), 1);
    EVP_MD_CTX_free(ctx);
    double *x = malloc(dim * sizeof(double)), ss = 0;
    for (size_t i = 0; i < dim; i++) {
        uint32_t u = (uint32_t)raw[4 * i] | (uint32_t)raw[4 * i + 1] << 8 |
                     (uint32_t)raw[4 * i + 2] << 16 | (uint32_t)raw[4 * i + 3] << 24;
        x[i] = (double)u / 2147483648.0 - 1.0;
        ss += x[i] * x[i];
    }
    for (size_t i = 0; i < dim; i++)
        v[i] = (float)(x[i] / sqrt(ss));
    free(x);
    free(raw);
}

static void check_golden(resona_table *t, const char *query, const char *golden_name)
{
    float v[1024];
    fixture_vector(query, v, 1024);
    resona_search_options opt = RESONA_SEARCH_OPTIONS_INIT;
    opt.k = 60; /* the original's candidate count for --limit 20 */
    opt.collapse_chunks = 1;
    resona_search_results *res = NULL;
    if (resona_search_table(t, NULL, "id", v, 1, 1024, &opt, &res) < 0)
        fail_msg("search: %s", resona_error_message());
    size_t n;
    const resona_search_hit *h = resona_search_results_hits(res, 0, &n);
    assert_int_equal(n, 60);
    char *gpath = ts_fixture(golden_name);
    char *golden = ts_read_file(gpath, NULL);
    assert_non_null(golden);
    size_t matched = 0;
    for (char *p = strstr(golden, "{\"id\":\""); p; p = strstr(p + 1, "{\"id\":\"")) {
        char id[64], sim[16];
        if (sscanf(p, "{\"id\":\"%63[^\"]", id) != 1)
            continue;
        char *s = strstr(p, "\"similarity\":\"");
        assert_non_null(s);
        assert_int_equal(sscanf(s, "\"similarity\":\"%15[^\"]", sim), 1);
        int found = 0;
        for (size_t i = 0; i < n && !found; i++) {
            size_t bl = resona_search_base_id_len(h[i].key);
            if (bl == strlen(id) && strncmp(h[i].key, id, bl) == 0) {
                char mine[32];
                snprintf(mine, sizeof(mine), "%.3f", 1.0 - (double)h[i].distance);
                if (strcmp(mine, sim) != 0)
                    fail_msg("%s: %s similarity %s, original %s", query, id, mine, sim);
                found = 1;
            }
        }
        if (!found)
            fail_msg("%s: original's hit %s not among our 60 candidates", query, id);
        matched++;
    }
    assert_true(matched >= 5);
    free(golden);
    free(gpath);
    resona_search_results_free(res);
}

static void test_original_workspace_golden(void **state)
{
    (void)state;
    char *path = ts_fixture("original-workspace/tana-index.lance/embeddings.lance");
    resona_table *t = NULL;
    if (resona_table_open(path, NULL, &t) < 0)
        fail_msg("open %s: %s", path, resona_error_message());
    check_golden(t, "Wrapping up agendas", "golden/sample-search-wrapping-up-agendas.json");
    check_golden(t, "how to run a weekly review", "golden/sample-search-weekly-review.json");
    /* the exact row: "Wrapping up agendas" embeds to itself, distance 0 */
    float v[1024];
    fixture_vector("Wrapping up agendas", v, 1024);
    resona_search_results *res = NULL;
    assert_int_equal(resona_search_table(t, NULL, "id", v, 1, 1024, NULL, &res), 0);
    size_t n;
    const resona_search_hit *h = resona_search_results_hits(res, 0, &n);
    assert_int_equal(n, 10);
    assert_true(h[0].distance < 1e-6f);
    resona_search_results_free(res);
    resona_table_free(t);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many_fragments_deletions_nulls),
        cmocka_unit_test(test_one_big_fragment),
        cmocka_unit_test(test_column_errors),
        cmocka_unit_test(test_original_workspace_golden),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
