/*
 * search/test_search.c - exact top-k search against brute force.
 *
 * Two references:
 *  - "lance shape": LanceDB 0.37.1's float32 arithmetic (fitted to its
 *    output, see search/kernels.h: 16 FMA lanes reduced by halves, plain
 *    tail) written as plain scalar loops. The search must match it bit for
 *    bit: that proves the vectorised, cloned kernels compute exactly that
 *    formula. Distances taken from LanceDB itself are checked in
 *    test_lancedb_golden below.
 *  - float64: the mathematically exact distances (to double precision). The
 *    float32 results must be within the standard summation error bound
 *    (n * FLT_EPSILON * sum of |terms|, n = dim) of them, and the selected
 *    rows must be the true top-k up to that tolerance.
 */
#include "support.h"

#include "search/kernels.h"
#include "util/alloc.h"
#include "util/error.h"

#include <resona/search.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- deterministic random data ------------------------------------------ */

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rng_next(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rng_state = x;
    return x;
}

static float rng_float(void)
{
    return (float)((double)(rng_next() >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static float *random_vectors(size_t n, size_t dim)
{
    float *v = malloc(n * dim * sizeof(float));
    assert_non_null(v);
    for (size_t i = 0; i < n * dim; i++)
        v[i] = rng_float();
    return v;
}

/* ---- references ----------------------------------------------------------- */

/* LanceDB 0.37.1's arithmetic as plain scalar code (see search/kernels.h). */
static float halves16(float *t)
{
    for (size_t n = 16; n > 1; n /= 2)
        for (size_t j = 0; j < n / 2; j++)
            t[j] = t[j] + t[j + n / 2];
    return t[0];
}

static float lance_sum(int sq_diff, const float *x, const float *y, size_t dim)
{
    size_t body = dim - dim % 16;
    float acc[16] = {0}, tail = 0.0f;
    for (size_t i = 0; i < body; i++) {
        float a = x[i], b = y[i];
        if (sq_diff)
            a = b = x[i] - y[i];
        acc[i % 16] = fmaf(a, b, acc[i % 16]);
    }
    for (size_t i = body; i < dim; i++) {
        float a = x[i], b = y[i];
        if (sq_diff)
            a = b = x[i] - y[i];
        float p = a * b;
        tail = tail + p;
    }
    return halves16(acc) + tail;
}

static float lance_shape(resona_metric m, const float *x, const float *y, size_t dim)
{
    if (m == RESONA_METRIC_L2)
        return lance_sum(1, x, y, dim);
    if (m == RESONA_METRIC_DOT)
        return 1.0f - lance_sum(0, x, y, dim);
    float xn = sqrtf(lance_sum(0, x, x, dim));
    float xy = lance_sum(0, x, y, dim), yy = lance_sum(0, y, y, dim);
    return 1.0f - xy / xn / sqrtf(yy);
}

/* float64 distance and its error bound for float32 accumulation. */
static double exact(resona_metric m, const float *x, const float *y, size_t dim, double *bound)
{
    double s = 0, abs_s = 0, xx = 0, yy = 0;
    for (size_t i = 0; i < dim; i++) {
        double a = x[i], b = y[i];
        if (m == RESONA_METRIC_L2) {
            s += (a - b) * (a - b);
            abs_s += (a - b) * (a - b);
        } else {
            s += a * b;
            abs_s += fabs(a * b);
        }
        xx += a * a;
        yy += b * b;
    }
    double n = (double)dim + 2.0;
    if (m == RESONA_METRIC_L2) {
        *bound = n * FLT_EPSILON * abs_s + 1e-30;
        return s;
    }
    if (m == RESONA_METRIC_DOT) {
        *bound = n * FLT_EPSILON * abs_s + 2 * FLT_EPSILON;
        return 1.0 - s;
    }
    double nx = sqrt(xx), ny = sqrt(yy);
    *bound = n * FLT_EPSILON * (abs_s / (nx * ny) + 2.0) + 4 * FLT_EPSILON;
    return 1.0 - s / nx / ny;
}

typedef struct ref_row {
    float d;
    uint64_t id;
    size_t index;
} ref_row;

static int cmp_ref(const void *a, const void *b)
{
    const ref_row *x = a, *y = b;
    if (x->d != y->d)
        return x->d < y->d ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * Brute force with the lance-shape arithmetic: all live rows with a non-NaN
 * distance, sorted by (distance, row id), collapsed by base id if asked.
 * Returns how many (up to k) were written to out.
 */
static size_t brute(resona_metric m, const float *q, const resona_search_memory *mem, size_t k,
                    int collapse, ref_row *out)
{
    ref_row *all = malloc((mem->count + 1) * sizeof(ref_row));
    assert_non_null(all);
    size_t n = 0;
    for (size_t i = 0; i < mem->count; i++) {
        if (mem->valid && !mem->valid[i])
            continue;
        float d = lance_shape(m, q, mem->vectors + i * mem->dim, mem->dim);
        if (isnan(d))
            continue;
        all[n].d = d;
        all[n].id = mem->row_ids ? mem->row_ids[i] : i;
        all[n].index = i;
        n++;
    }
    qsort(all, n, sizeof(ref_row), cmp_ref);
    size_t kept = 0;
    for (size_t i = 0; i < n && kept < k; i++) {
        int dup = 0;
        if (collapse && mem->keys && mem->keys[all[i].index]) {
            const char *a = mem->keys[all[i].index];
            size_t la = resona_search_base_id_len(a);
            for (size_t j = 0; j < kept && !dup; j++) {
                const char *b = mem->keys[out[j].index];
                dup = b && resona_search_base_id_len(b) == la && memcmp(a, b, la) == 0;
            }
        }
        if (!dup)
            out[kept++] = all[i];
    }
    free(all);
    return kept;
}

static resona_search_results *run(const resona_search_memory *mem, const float *q, size_t nq,
                                  resona_metric m, size_t k, int collapse, unsigned threads)
{
    resona_search_source src;
    resona_search_source_memory(&src, mem);
    resona_search_options opt = RESONA_SEARCH_OPTIONS_INIT;
    opt.metric = m;
    opt.k = k;
    opt.collapse_chunks = collapse;
    opt.threads = threads;
    resona_search_results *res = NULL;
    int rc = resona_search_run(&src, q, nq, mem->dim, &opt, &res);
    if (rc < 0)
        fail_msg("search failed: %s", resona_error_message());
    return res;
}

/* The results of query qi equal brute force exactly (ids, bits of distances, keys). */
static void expect_brute(const resona_search_results *res, size_t qi, resona_metric m,
                         const float *q, const resona_search_memory *mem, size_t k, int collapse)
{
    ref_row *want = malloc((k + 1) * sizeof(ref_row));
    assert_non_null(want);
    size_t nwant = brute(m, q, mem, k, collapse, want);
    size_t n = 0;
    const resona_search_hit *hits = resona_search_results_hits(res, qi, &n);
    assert_int_equal(n, nwant);
    for (size_t i = 0; i < n; i++) {
        if (hits[i].row_id != want[i].id || memcmp(&hits[i].distance, &want[i].d, 4) != 0)
            fail_msg("query %zu rank %zu: got row %llu d=%.9g, want row %llu d=%.9g", qi, i,
                     (unsigned long long)hits[i].row_id, (double)hits[i].distance,
                     (unsigned long long)want[i].id, (double)want[i].d);
        if (mem->keys) {
            const char *wk = mem->keys[want[i].index];
            if (wk)
                assert_string_equal(hits[i].key, wk);
            else
                assert_null(hits[i].key);
        }
    }
    free(want);
}

/* ---- tests ------------------------------------------------------------------ */

static void test_base_id(void **state)
{
    (void)state;
    assert_int_equal(resona_search_base_id_len("abc#0"), 3);
    assert_int_equal(resona_search_base_id_len("abc#12"), 3);
    assert_int_equal(resona_search_base_id_len("a#b#3"), 3);
    assert_int_equal(resona_search_base_id_len("abc#"), 4);
    assert_int_equal(resona_search_base_id_len("abc#1x"), 6);
    assert_int_equal(resona_search_base_id_len("abc"), 3);
    assert_int_equal(resona_search_base_id_len("#7"), 0);
    assert_int_equal(resona_search_base_id_len(""), 0);
}

static void test_metric_names(void **state)
{
    (void)state;
    resona_metric m;
    assert_int_equal(resona_metric_parse("L2", &m), 0);
    assert_int_equal(m, RESONA_METRIC_L2);
    assert_int_equal(resona_metric_parse("cosine", &m), 0);
    assert_int_equal(m, RESONA_METRIC_COSINE);
    assert_int_equal(resona_metric_parse("dot", &m), 0);
    assert_int_equal(m, RESONA_METRIC_DOT);
    assert_int_equal(resona_metric_parse("hamming", &m), RESONA_EINVALID);
    assert_non_null(strstr(resona_error_message(), "hamming"));
    assert_string_equal(resona_metric_name(RESONA_METRIC_DOT), "dot");
}

/* LanceDB's own values for row [1, 2] and query [3, 4] (lance-format.md 10.4). */
static void test_lancedb_definitions(void **state)
{
    (void)state;
    const float row[2] = {1, 2}, q[2] = {3, 4};
    float d;
    resona__search_row_distances(RESONA_METRIC_L2, q, NULL, 1, row, 2, &d);
    assert_true(d == 8.0f);
    resona__search_row_distances(RESONA_METRIC_DOT, q, NULL, 1, row, 2, &d);
    assert_true(d == -10.0f);
    float n = resona__search_norm(q, 2);
    resona__search_row_distances(RESONA_METRIC_COSINE, q, &n, 1, row, 2, &d);
    assert_true(fabs(d - 0.01613) < 1e-5);
}

/* Kernels equal the lance-shape scalar loops bit for bit, and float64 within the bound. */
static void test_kernels_exact(void **state)
{
    (void)state;
    const size_t dims[] = {1, 3, 15, 16, 17, 31, 64, 100, 1024, 1030};
    for (size_t di = 0; di < sizeof(dims) / sizeof(dims[0]); di++) {
        size_t dim = dims[di];
        float *v = random_vectors(20, dim);
        for (resona_metric m = RESONA_METRIC_L2; m <= RESONA_METRIC_DOT; m++) {
            float qn = resona__search_norm(v, dim);
            for (size_t r = 1; r < 20; r++) {
                float got;
                resona__search_row_distances(m, v, &qn, 1, v + r * dim, dim, &got);
                float want = lance_shape(m, v, v + r * dim, dim);
                if (memcmp(&got, &want, 4) != 0)
                    fail_msg("dim %zu metric %d row %zu: %.9g != %.9g", dim, (int)m, r, (double)got,
                             (double)want);
                double bound;
                double e = exact(m, v, v + r * dim, dim, &bound);
                if (fabs((double)got - e) > bound)
                    fail_msg("dim %zu metric %d: %.9g vs exact %.12g (bound %g)", dim, (int)m,
                             (double)got, e, bound);
            }
        }
        free(v);
    }
}

/* Random data, all metrics, several k, deletions, odd dims: equal to brute force. */
static void test_random_against_brute(void **state)
{
    (void)state;
    const size_t n = 2000;
    const size_t dims[] = {7, 64, 129};
    for (size_t di = 0; di < 3; di++) {
        size_t dim = dims[di];
        float *v = random_vectors(n, dim);
        float *q = random_vectors(3, dim);
        uint8_t *valid = malloc(n);
        for (size_t i = 0; i < n; i++)
            valid[i] = (rng_next() % 5) != 0; /* ~20 % deleted */
        resona_search_memory mem = {n, dim, v, NULL, NULL, valid, 97};
        const size_t ks[] = {1, 10, 50};
        for (resona_metric m = RESONA_METRIC_L2; m <= RESONA_METRIC_DOT; m++) {
            for (size_t ki = 0; ki < 3; ki++) {
                resona_search_results *res = run(&mem, q, 3, m, ks[ki], 0, 2);
                for (size_t qi = 0; qi < 3; qi++)
                    expect_brute(res, qi, m, q + qi * dim, &mem, ks[ki], 0);
                /* deleted rows never appear */
                size_t cnt;
                const resona_search_hit *h = resona_search_results_hits(res, 0, &cnt);
                for (size_t i = 0; i < cnt; i++)
                    assert_true(valid[h[i].row_id]);
                resona_search_results_free(res);
            }
        }
        free(valid);
        free(q);
        free(v);
    }
}

/* The top-k is the true top-k in float64, up to the float32 error bound. */
static void test_against_float64(void **state)
{
    (void)state;
    const size_t n = 3000, dim = 256, k = 20;
    float *v = random_vectors(n, dim);
    float *q = random_vectors(1, dim);
    resona_search_memory mem = {n, dim, v, NULL, NULL, NULL, 500};
    for (resona_metric m = RESONA_METRIC_L2; m <= RESONA_METRIC_DOT; m++) {
        resona_search_results *res = run(&mem, q, 1, m, k, 0, 2);
        size_t cnt;
        const resona_search_hit *h = resona_search_results_hits(res, 0, &cnt);
        assert_int_equal(cnt, k);
        double worst_hit = -INFINITY, max_bound = 0;
        uint8_t *taken = calloc(n, 1);
        for (size_t i = 0; i < cnt; i++) {
            double bound;
            double e = exact(m, q, v + h[i].row_id * dim, dim, &bound);
            assert_true(fabs((double)h[i].distance - e) <= bound);
            if (e > worst_hit)
                worst_hit = e;
            if (bound > max_bound)
                max_bound = bound;
            taken[h[i].row_id] = 1;
        }
        /* no row left out is clearly better than the worst row taken */
        for (size_t r = 0; r < n; r++) {
            if (taken[r])
                continue;
            double bound;
            double e = exact(m, q, v + r * dim, dim, &bound);
            if (e < worst_hit - 2 * (bound + max_bound))
                fail_msg("metric %d: row %zu (%.12g) beats taken worst %.12g", (int)m, r, e,
                         worst_hit);
        }
        free(taken);
        resona_search_results_free(res);
    }
    free(q);
    free(v);
}

/* Equal distances are ordered by row id, whatever the storage order and threads. */
static void test_ties(void **state)
{
    (void)state;
    const size_t n = 600, dim = 16;
    float *v = malloc(n * dim * sizeof(float));
    uint64_t *ids = malloc(n * sizeof(uint64_t));
    /* only 4 distinct vectors: massive ties */
    float *base = random_vectors(4, dim);
    for (size_t i = 0; i < n; i++) {
        memcpy(v + i * dim, base + (i % 4) * dim, dim * sizeof(float));
        ids[i] =
            (uint64_t)((i * 7919) % n) + ((uint64_t)(i % 3) << 32); /* shuffled, fragment-like */
    }
    resona_search_memory mem = {n, dim, v, ids, NULL, NULL, 13};
    for (unsigned threads = 1; threads <= 2; threads++) {
        for (resona_metric m = RESONA_METRIC_L2; m <= RESONA_METRIC_DOT; m++) {
            resona_search_results *res = run(&mem, base + dim, 1, m, 40, 0, threads);
            expect_brute(res, 0, m, base + dim, &mem, 40, 0);
            size_t cnt;
            const resona_search_hit *h = resona_search_results_hits(res, 0, &cnt);
            for (size_t i = 1; i < cnt; i++) {
                assert_true(h[i - 1].distance <= h[i].distance);
                if (h[i - 1].distance == h[i].distance)
                    assert_true(h[i - 1].row_id < h[i].row_id);
            }
            resona_search_results_free(res);
        }
    }
    free(base);
    free(ids);
    free(v);
}

/* Many tiny parts ("fragments") and 1 vs 2 threads give identical answers. */
static void test_many_parts_and_threads(void **state)
{
    (void)state;
    const size_t n = 5000, dim = 32, nq = 4, k = 25;
    float *v = random_vectors(n, dim);
    float *q = random_vectors(nq, dim);
    resona_search_memory one = {n, dim, v, NULL, NULL, NULL, n};
    resona_search_memory many = {n, dim, v, NULL, NULL, NULL, 5}; /* 1000 parts */
    resona_search_results *a = run(&one, q, nq, RESONA_METRIC_L2, k, 0, 1);
    resona_search_results *b = run(&many, q, nq, RESONA_METRIC_L2, k, 0, 2);
    resona_search_results *c = run(&many, q, nq, RESONA_METRIC_L2, k, 0, 0);
    assert_int_equal(resona_search_results_rows_scanned(a), n);
    assert_int_equal(resona_search_results_rows_scanned(b), n);
    for (size_t qi = 0; qi < nq; qi++) {
        size_t na, nb, nc;
        const resona_search_hit *ha = resona_search_results_hits(a, qi, &na);
        const resona_search_hit *hb = resona_search_results_hits(b, qi, &nb);
        const resona_search_hit *hc = resona_search_results_hits(c, qi, &nc);
        assert_int_equal(na, k);
        assert_int_equal(nb, k);
        assert_int_equal(nc, k);
        for (size_t i = 0; i < k; i++) {
            assert_true(ha[i].row_id == hb[i].row_id && ha[i].row_id == hc[i].row_id);
            assert_memory_equal(&ha[i].distance, &hb[i].distance, 4);
            assert_memory_equal(&ha[i].distance, &hc[i].distance, 4);
        }
        expect_brute(b, qi, RESONA_METRIC_L2, q + qi * dim, &many, k, 0);
    }
    resona_search_results_free(a);
    resona_search_results_free(b);
    resona_search_results_free(c);
    free(q);
    free(v);
}

/* A batch of queries gives what each query gives alone. */
static void test_multi_query_equals_single(void **state)
{
    (void)state;
    const size_t n = 1500, dim = 48, nq = 6, k = 12;
    float *v = random_vectors(n, dim);
    float *q = random_vectors(nq, dim);
    resona_search_memory mem = {n, dim, v, NULL, NULL, NULL, 100};
    for (resona_metric m = RESONA_METRIC_L2; m <= RESONA_METRIC_DOT; m++) {
        resona_search_results *all = run(&mem, q, nq, m, k, 0, 2);
        assert_int_equal(resona_search_results_query_count(all), nq);
        for (size_t qi = 0; qi < nq; qi++) {
            resona_search_results *one = run(&mem, q + qi * dim, 1, m, k, 0, 1);
            size_t n1, n2;
            const resona_search_hit *h1 = resona_search_results_hits(one, 0, &n1);
            const resona_search_hit *h2 = resona_search_results_hits(all, qi, &n2);
            assert_int_equal(n1, n2);
            for (size_t i = 0; i < n1; i++) {
                assert_true(h1[i].row_id == h2[i].row_id);
                assert_memory_equal(&h1[i].distance, &h2[i].distance, 4);
            }
            resona_search_results_free(one);
        }
        resona_search_results_free(all);
    }
    free(q);
    free(v);
}

/* k larger than the live rows returns them all, sorted. */
static void test_k_larger_than_rows(void **state)
{
    (void)state;
    const size_t n = 9, dim = 5;
    float *v = random_vectors(n, dim);
    uint8_t valid[9] = {1, 0, 1, 1, 0, 1, 1, 1, 1};
    resona_search_memory mem = {n, dim, v, NULL, NULL, valid, 2};
    resona_search_results *res = run(&mem, v, 1, RESONA_METRIC_L2, 100, 0, 2);
    size_t cnt;
    const resona_search_hit *h = resona_search_results_hits(res, 0, &cnt);
    assert_int_equal(cnt, 7);
    assert_int_equal(h[0].row_id, 0);
    assert_true(h[0].distance == 0.0f);
    expect_brute(res, 0, RESONA_METRIC_L2, v, &mem, 100, 0);
    resona_search_results_free(res);
    /* out-of-range query index */
    assert_null(
        resona_search_results_hits(res = run(&mem, v, 1, RESONA_METRIC_L2, 3, 0, 1), 5, &cnt));
    assert_int_equal(cnt, 0);
    resona_search_results_free(res);
    free(v);
}

/* Zero vectors: cosine leaves them out (NaN, as LanceDB), L2 and dot keep them. */
static void test_zero_vectors(void **state)
{
    (void)state;
    const size_t n = 6, dim = 20;
    float *v = random_vectors(n, dim);
    memset(v + 2 * dim, 0, dim * sizeof(float));
    memset(v + 4 * dim, 0, dim * sizeof(float));
    resona_search_memory mem = {n, dim, v, NULL, NULL, NULL, 4};
    size_t cnt;
    resona_search_results *res = run(&mem, v, 1, RESONA_METRIC_COSINE, 10, 0, 2);
    const resona_search_hit *h = resona_search_results_hits(res, 0, &cnt);
    assert_int_equal(cnt, 4);
    for (size_t i = 0; i < cnt; i++)
        assert_true(h[i].row_id != 2 && h[i].row_id != 4);
    resona_search_results_free(res);

    res = run(&mem, v, 1, RESONA_METRIC_L2, 10, 0, 2);
    resona_search_results_hits(res, 0, &cnt);
    assert_int_equal(cnt, 6);
    expect_brute(res, 0, RESONA_METRIC_L2, v, &mem, 10, 0);
    resona_search_results_free(res);

    res = run(&mem, v, 1, RESONA_METRIC_DOT, 10, 0, 1);
    h = resona_search_results_hits(res, 0, &cnt);
    assert_int_equal(cnt, 6);
    for (size_t i = 0; i < cnt; i++) {
        if (h[i].row_id == 2 || h[i].row_id == 4)
            assert_true(h[i].distance == 1.0f);
    }
    resona_search_results_free(res);

    /* a zero query under cosine matches nothing */
    float zq[20] = {0};
    res = run(&mem, zq, 1, RESONA_METRIC_COSINE, 10, 0, 1);
    assert_null(resona_search_results_hits(res, 0, &cnt));
    assert_int_equal(cnt, 0);
    resona_search_results_free(res);
    free(v);
}

/* Non-finite queries are refused; NaN rows are skipped. */
static void test_nan(void **state)
{
    (void)state;
    const size_t n = 10, dim = 8;
    float *v = random_vectors(n, dim);
    v[3 * dim + 5] = NAN;
    resona_search_memory mem = {n, dim, v, NULL, NULL, NULL, 3};
    resona_search_source src;
    resona_search_source_memory(&src, &mem);
    resona_search_options opt = RESONA_SEARCH_OPTIONS_INIT;
    opt.k = 20;
    float q[16];
    memcpy(q, v, dim * sizeof(float));
    memcpy(q + dim, v + dim, dim * sizeof(float));
    q[dim + 6] = NAN;
    resona_search_results *res = (resona_search_results *)1;
    assert_int_equal(resona_search_run(&src, q, 2, dim, &opt, &res), RESONA_EINVALID);
    assert_null(res);
    assert_non_null(strstr(resona_error_message(), "query 1 component 6"));
    q[dim + 6] = INFINITY;
    assert_int_equal(resona_search_run(&src, q, 2, dim, &opt, &res), RESONA_EINVALID);

    for (resona_metric m = RESONA_METRIC_L2; m <= RESONA_METRIC_DOT; m++) {
        res = run(&mem, q, 1, m, 20, 0, 2);
        size_t cnt;
        const resona_search_hit *h = resona_search_results_hits(res, 0, &cnt);
        assert_int_equal(cnt, n - 1);
        for (size_t i = 0; i < cnt; i++)
            assert_true(h[i].row_id != 3);
        resona_search_results_free(res);
    }
    free(v);
}

/* Chunk rows collapse to their base id; the best chunk wins. */
static void test_collapse_chunks(void **state)
{
    (void)state;
    const size_t n = 3000, dim = 24;
    float *v = random_vectors(n, dim);
    float *q = random_vectors(2, dim);
    char **keys = malloc(n * sizeof(char *));
    uint8_t *valid = malloc(n);
    for (size_t i = 0; i < n; i++) {
        char buf[64];
        size_t base = rng_next() % 400; /* ~7 rows per base id */
        unsigned kind = (unsigned)(rng_next() % 4);
        if (kind == 0)
            snprintf(buf, sizeof(buf), "node%zu", base);
        else if (kind == 3)
            snprintf(buf, sizeof(buf), "node%zu#x%zu", base, i); /* not a chunk id */
        else
            snprintf(buf, sizeof(buf), "node%zu#%zu", base, i);
        keys[i] = strdup(buf);
        valid[i] = (i % 11) != 0;
    }
    free(keys[17]);
    keys[17] = NULL; /* a null id never collapses */
    resona_search_memory mem = {n, dim, v, NULL, (const char *const *)keys, valid, 64};
    for (resona_metric m = RESONA_METRIC_L2; m <= RESONA_METRIC_DOT; m++) {
        for (unsigned threads = 1; threads <= 2; threads++) {
            resona_search_results *res = run(&mem, q, 2, m, 30, 1, threads);
            expect_brute(res, 0, m, q, &mem, 30, 1);
            expect_brute(res, 1, m, q + dim, &mem, 30, 1);
            resona_search_results_free(res);
        }
        /* without collapsing, the plain top-k */
        resona_search_results *res = run(&mem, q, 1, m, 30, 0, 2);
        expect_brute(res, 0, m, q, &mem, 30, 0);
        resona_search_results_free(res);
    }
    /* a query equal to a chunk row finds that chunk first, under its full key */
    size_t target = 1234;
    while (!valid[target] || !keys[target] || !strchr(keys[target], '#') ||
           strstr(keys[target], "#x"))
        target++;
    resona_search_results *res = run(&mem, v + target * dim, 1, RESONA_METRIC_L2, 5, 1, 2);
    size_t cnt;
    const resona_search_hit *h = resona_search_results_hits(res, 0, &cnt);
    assert_int_equal(h[0].row_id, target);
    assert_string_equal(h[0].key, keys[target]);
    resona_search_results_free(res);
    for (size_t i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
    free(valid);
    free(q);
    free(v);
}

/* ---- LanceDB's own results ---------------------------------------------------- */

/* bench_search's generator (bench/search/bench_search.c), reproduced exactly. */
static uint64_t bench_rng;

static uint64_t bench_next(void)
{
    bench_rng ^= bench_rng << 13;
    bench_rng ^= bench_rng >> 7;
    bench_rng ^= bench_rng << 17;
    return bench_rng;
}

static void bench_unit(float *v, size_t dim)
{
    double ss = 0;
    for (size_t i = 0; i < dim; i++) {
        float x = (float)((double)(bench_next() >> 40) / 8388608.0 - 1.0);
        v[i] = x;
        ss += (double)x * x;
    }
    float inv = (float)(1.0 / sqrt(ss > 0 ? ss : 1));
    for (size_t i = 0; i < dim; i++)
        v[i] *= inv;
}

static int32_t ulp_diff(float a, float b)
{
    int32_t ia, ib;
    memcpy(&ia, &a, 4);
    memcpy(&ib, &b, 4);
    return ia > ib ? ia - ib : ib - ia;
}

/*
 * tests/search/data/lancedb-flat.txt holds LanceDB 0.37.1's flat-search output
 * (bench/search/make_lancedb_golden.sh) for 60 rows x {7, 20, 1024, 1030} dims
 * with a zero row (5) and a duplicate row (9 = 3). L2 and dot must be equal
 * bit for bit, rows in the same order; cosine too when dim % 16 == 0, and
 * within 8 ulp (same rows) otherwise (kernels.h explains why).
 */
static void test_lancedb_golden(void **state)
{
    (void)state;
    char *path = ts_path(RESONA_SOURCE_DIR, "tests/search/data/lancedb-flat.txt");
    char *text = ts_read_file(path, NULL);
    assert_non_null(text);
    const size_t dims[] = {7, 20, 1024, 1030};
    size_t checked = 0, exact_count = 0;
    for (size_t di = 0; di < 4; di++) {
        size_t dim = dims[di], rows = 60;
        float *v = malloc((rows + 2) * dim * sizeof(float));
        bench_rng = 0x2545F4914F6CDD1DULL;
        for (size_t r = 0; r < rows + 2; r++)
            bench_unit(v + r * dim, dim);
        memset(v + 5 * dim, 0, dim * sizeof(float));
        memcpy(v + 9 * dim, v + 3 * dim, dim * sizeof(float));
        const float *q = v + rows * dim;
        resona_search_memory mem = {rows, dim, v, NULL, NULL, NULL, 7};
        const char *metrics[] = {"l2", "cosine", "dot"};
        for (size_t mi = 0; mi < 3; mi++) {
            resona_metric m;
            assert_int_equal(resona_metric_parse(metrics[mi], &m), 0);
            resona_search_results *res = run(&mem, q, 2, m, rows, 0, 2);
            size_t per_query[2] = {0, 0};
            for (char *line = text; line && *line;
                 line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
                char mname[16];
                size_t ldim, qi, rank;
                unsigned long long row;
                unsigned bits;
                if (sscanf(line, "%15s %zu %zu %zu %llu %x", mname, &ldim, &qi, &rank, &row,
                           &bits) != 6)
                    continue;
                if (strcmp(mname, metrics[mi]) != 0 || ldim != dim)
                    continue;
                float want;
                memcpy(&want, &bits, 4);
                size_t n;
                const resona_search_hit *h = resona_search_results_hits(res, qi, &n);
                assert_true(rank < n);
                per_query[qi]++;
                int exact_case = m != RESONA_METRIC_COSINE || dim % 16 == 0;
                if (exact_case) {
                    if (h[rank].row_id != row || memcmp(&h[rank].distance, &want, 4) != 0)
                        fail_msg(
                            "%s dim %zu q %zu rank %zu: got row %llu %.9g, LanceDB row %llu %.9g",
                            metrics[mi], dim, qi, rank, (unsigned long long)h[rank].row_id,
                            (double)h[rank].distance, row, (double)want);
                    exact_count++;
                } else {
                    /* same distance within 8 ulp for LanceDB's row */
                    int found = 0;
                    for (size_t i = 0; i < n && !found; i++) {
                        if (h[i].row_id == row) {
                            found = 1;
                            if (ulp_diff(h[i].distance, want) > 8)
                                fail_msg("cosine dim %zu row %llu: %.9g vs %.9g", dim, row,
                                         (double)h[i].distance, (double)want);
                        }
                    }
                    assert_true(found);
                }
                checked++;
            }
            for (size_t qi = 0; qi < 2; qi++) {
                size_t n;
                resona_search_results_hits(res, qi, &n);
                assert_int_equal(n, per_query[qi]); /* same count: the zero row is out for cosine */
            }
            resona_search_results_free(res);
        }
        free(v);
    }
    assert_int_equal(checked, 1432);
    assert_true(exact_count >= 1432 - 3 * 118);
    free(text);
    free(path);
}

/* ---- errors ----------------------------------------------------------------- */

static int failing_part(size_t part, resona_search_emit_fn emit, void *emit_payload, void *payload)
{
    const resona_search_memory *mem = payload;
    if (part == 3)
        return resona__error_set(RESONA_ECORRUPT, "page 3 of frag.lance: bad checksum");
    uint64_t ids[4];
    for (size_t i = 0; i < 4; i++)
        ids[i] = part * 4 + i;
    resona_search_batch b = {
        .count = 4, .dim = mem->dim, .vectors = mem->vectors + part * 4 * mem->dim, .row_ids = ids};
    return emit(&b, emit_payload);
}

static int wrong_dim_part(size_t part, resona_search_emit_fn emit, void *emit_payload,
                          void *payload)
{
    (void)part;
    const resona_search_memory *mem = payload;
    uint64_t id = 0;
    resona_search_batch b = {
        .count = 1, .dim = mem->dim - 1, .vectors = mem->vectors, .row_ids = &id};
    return emit(&b, emit_payload);
}

static void test_source_errors(void **state)
{
    (void)state;
    const size_t dim = 8;
    float *v = random_vectors(40, dim);
    resona_search_memory mem = {40, dim, v, NULL, NULL, NULL, 4};
    resona_search_source src = {10, failing_part, &mem};
    resona_search_options opt = RESONA_SEARCH_OPTIONS_INIT;
    for (unsigned threads = 1; threads <= 2; threads++) {
        opt.threads = threads;
        resona_search_results *res = NULL;
        resona_error_clear();
        assert_int_equal(resona_search_run(&src, v, 1, dim, &opt, &res), RESONA_ECORRUPT);
        assert_null(res);
        assert_string_equal(resona_error_message(), "page 3 of frag.lance: bad checksum");
    }
    src.read_part = wrong_dim_part;
    resona_search_results *res = NULL;
    assert_int_equal(resona_search_run(&src, v, 1, dim, &opt, &res), RESONA_EINVALID);
    assert_non_null(strstr(resona_error_message(), "7 dimensions"));
    opt.k = 0;
    assert_int_equal(resona_search_run(&src, v, 1, dim, &opt, &res), RESONA_EINVALID);
    free(v);
}

/* Every allocation failure is reported cleanly (ASan checks for leaks). */
static void test_alloc_failures(void **state)
{
    (void)state;
    const size_t n = 300, dim = 16;
    float *v = random_vectors(n, dim);
    char **keys = malloc(n * sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        char buf[32];
        snprintf(buf, sizeof(buf), "k%zu#%zu", i % 50, i);
        keys[i] = strdup(buf);
    }
    resona_search_memory mem = {n, dim, v, NULL, (const char *const *)keys, NULL, 50};
    resona_search_source src;
    resona_search_source_memory(&src, &mem);
    resona_search_options opt = RESONA_SEARCH_OPTIONS_INIT;
    opt.collapse_chunks = 1;
    opt.k = 8;
    int ok = 0;
    for (long fail = 0; fail < 2000 && !ok; fail++) {
        for (unsigned threads = 1; threads <= 2; threads++) {
            opt.threads = threads;
            resona_search_results *res = NULL;
            resona__alloc_fail_after(fail);
            int rc = resona_search_run(&src, v, 2, dim, &opt, &res);
            resona__alloc_fail_after(-1);
            if (rc == 0) {
                assert_non_null(res);
                resona_search_results_free(res);
                if (threads == 2)
                    ok = 1;
            } else {
                assert_int_equal(rc, RESONA_ENOMEM);
                assert_null(res);
            }
        }
    }
    assert_true(ok);
    for (size_t i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base_id),
        cmocka_unit_test(test_metric_names),
        cmocka_unit_test(test_lancedb_definitions),
        cmocka_unit_test(test_kernels_exact),
        cmocka_unit_test(test_random_against_brute),
        cmocka_unit_test(test_against_float64),
        cmocka_unit_test(test_ties),
        cmocka_unit_test(test_many_parts_and_threads),
        cmocka_unit_test(test_multi_query_equals_single),
        cmocka_unit_test(test_k_larger_than_rows),
        cmocka_unit_test(test_zero_vectors),
        cmocka_unit_test(test_nan),
        cmocka_unit_test(test_collapse_chunks),
        cmocka_unit_test(test_lancedb_golden),
        cmocka_unit_test(test_source_errors),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
