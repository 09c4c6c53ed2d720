/*
 * bench_search - query latency of resona's exact top-k search, next to the
 * memory-bandwidth bound of one scan over the same vectors.
 *
 *   bench_search [--rows N] [--dim D] [--queries Q] [--k K] [--threads T]
 *                [--reps R] [--metric l2|cosine|dot] [--vectors FILE.f32]
 *                [--query-file FILE.f32] [--write-vectors FILE.f32]
 *                [--write-queries FILE.f32] [--hits-json FILE] [--no-bandwidth]
 *                [--make-table DIR/NAME.lance [--frag-rows F]] [--table DIR/NAME.lance]
 *
 * Without --vectors, N x D random unit vectors are generated in memory (a
 * fixed xorshift seed, so runs are repeatable). With --vectors, a raw
 * little-endian float32 file of N x D is memory-mapped (file-backed, read
 * through the page cache). Queries are random unit vectors too, or come from
 * --query-file. --write-* save the generated data for the LanceDB side
 * (bench/search/lancedb_flat.mjs); --hits-json writes the top-k of every query
 * for comparison with LanceDB's.
 *
 * --make-table writes the vectors as a Lance table (format 2.0, columns id
 * "r<i>" and vector, one append = one fragment per F rows, default all) and
 * exits. --table searches that table with resona_search_table (streamed
 * pread scans, deletions respected) instead of the in-memory source.
 *
 * Bandwidth: "read" sums every float of the data with T threads (the access
 * pattern of a scan, no distance math); "memcpy" copies 256 MiB with one
 * thread (bytes moved counted once). The search's scan rate is reported as a
 * fraction of the read rate.
 */
#include <resona/search.h>
#include <resona/table.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng = 0x2545F4914F6CDD1DULL;

static uint64_t rng_next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void random_unit(float *v, size_t dim)
{
    double ss = 0;
    for (size_t i = 0; i < dim; i++) {
        float x = (float)((double)(rng_next() >> 40) / 8388608.0 - 1.0);
        v[i] = x;
        ss += (double)x * x;
    }
    float inv = (float)(1.0 / sqrt(ss > 0 ? ss : 1));
    for (size_t i = 0; i < dim; i++)
        v[i] *= inv;
}

static int write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "bench_search: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

static const float *map_file(const char *path, size_t expect_len)
{
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        fprintf(stderr, "bench_search: cannot open %s: %s\n", path, strerror(errno));
        exit(1);
    }
    if ((size_t)st.st_size < expect_len) {
        fprintf(stderr, "bench_search: %s has %lld bytes, expected at least %zu\n", path,
                (long long)st.st_size, expect_len);
        exit(1);
    }
    void *p = mmap(NULL, expect_len, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        fprintf(stderr, "bench_search: mmap %s: %s\n", path, strerror(errno));
        exit(1);
    }
    return p;
}

/* ---- bandwidth ------------------------------------------------------------- */

typedef struct sum_arg {
    const float *p;
    size_t n;
    float out;
} sum_arg;

/* Built like the search kernels (O3, AVX2 clone) so that it is limited by
 * memory, not by arithmetic. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
__attribute__((optimize("O3"), target_clones("avx2", "default")))
#endif
static float
sum_floats(const float *p, size_t n)
{
    float acc[32] = {0};
    size_t body = n - n % 32;
    for (size_t i = 0; i < body; i += 32) {
        for (size_t j = 0; j < 32; j++)
            acc[j] += p[i + j];
    }
    float s = 0;
    for (size_t j = 0; j < 32; j++)
        s += acc[j];
    return s;
}

static void *sum_main(void *arg)
{
    sum_arg *a = arg;
    a->out = sum_floats(a->p, a->n);
    return NULL;
}

static double read_bandwidth(const float *p, size_t n, unsigned threads, int reps)
{
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        pthread_t th[64];
        sum_arg args[64];
        size_t per = n / threads;
        double t0 = now_s();
        for (unsigned i = 0; i < threads; i++) {
            args[i].p = p + i * per;
            args[i].n = i + 1 == threads ? n - i * per : per;
            pthread_create(&th[i], NULL, sum_main, &args[i]);
        }
        volatile float sink = 0;
        for (unsigned i = 0; i < threads; i++) {
            pthread_join(th[i], NULL);
            sink += args[i].out;
        }
        double t = now_s() - t0;
        if (t < best)
            best = t;
    }
    return (double)n * sizeof(float) / best / 1e9;
}

static double memcpy_bandwidth(void)
{
    size_t len = (size_t)256 << 20;
    char *a = malloc(len), *b = malloc(len);
    if (!a || !b)
        return 0;
    memset(a, 1, len);
    memset(b, 2, len);
    double best = 1e30;
    for (int r = 0; r < 5; r++) {
        double t0 = now_s();
        memcpy(b, a, len);
        double t = now_s() - t0;
        if (t < best)
            best = t;
        a[r] = b[len - 1 - (size_t)r];
    }
    free(a);
    free(b);
    return (double)len / best / 1e9;
}

/* Write rows as a Lance table, frag_rows per append (one fragment each). */
static int write_table(const char *path, const float *data, size_t rows, size_t dim,
                       size_t frag_rows)
{
    resona_field fields[2] = {{"id", RESONA_TYPE_UTF8, 0, 1, 0, NULL},
                              {"vector", RESONA_TYPE_VECTOR, (uint32_t)dim, 1, 0, NULL}};
    resona_schema schema = {fields, 2};
    resona_table *t = NULL;
    if (resona_table_create(path, &schema, NULL, &t) < 0) {
        fprintf(stderr, "bench_search: %s\n", resona_error_message());
        return 1;
    }
    double t0 = now_s();
    for (size_t start = 0; start < rows;) {
        /* one append = one fragment */
        size_t n = rows - start < frag_rows ? rows - start : frag_rows;
        char *fid = malloc(n * 16);
        uint64_t *foff = malloc((n + 1) * sizeof(uint64_t));
        foff[0] = 0;
        for (size_t i = 0; i < n; i++)
            foff[i + 1] = foff[i] + (uint64_t)snprintf(fid + foff[i], 16, "r%zu", start + i);
        resona_column cols[2] = {{"id", fid, foff, NULL},
                                 {"vector", data + start * dim, NULL, NULL}};
        resona_batch b = {n, cols, 2};
        int rc = resona_table_append(t, &b, NULL);
        free(fid);
        free(foff);
        if (rc < 0) {
            fprintf(stderr, "bench_search: %s\n", resona_error_message());
            return 1;
        }
        start += n;
    }
    fprintf(stderr, "wrote %s: %zu rows in fragments of %zu, %.1f s\n", path, rows, frag_rows,
            now_s() - t0);
    resona_table_free(t);
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    size_t rows = 100000, dim = 1024, nq = 1, k = 10;
    unsigned threads = 0;
    int reps = 10, bandwidth = 1;
    const char *metric_name = "l2", *vec_file = NULL, *query_file = NULL;
    const char *write_vec = NULL, *write_q = NULL, *hits_json = NULL;
    const char *make_table = NULL, *table_path = NULL;
    size_t frag_rows = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--no-bandwidth") == 0) {
            bandwidth = 0;
            continue;
        }
        if (!v) {
            fprintf(stderr, "bench_search: %s needs a value\n", a);
            return 2;
        }
        i++;
        if (strcmp(a, "--rows") == 0)
            rows = strtoull(v, NULL, 10);
        else if (strcmp(a, "--dim") == 0)
            dim = strtoull(v, NULL, 10);
        else if (strcmp(a, "--queries") == 0)
            nq = strtoull(v, NULL, 10);
        else if (strcmp(a, "--k") == 0)
            k = strtoull(v, NULL, 10);
        else if (strcmp(a, "--threads") == 0)
            threads = (unsigned)strtoul(v, NULL, 10);
        else if (strcmp(a, "--reps") == 0)
            reps = atoi(v);
        else if (strcmp(a, "--metric") == 0)
            metric_name = v;
        else if (strcmp(a, "--vectors") == 0)
            vec_file = v;
        else if (strcmp(a, "--query-file") == 0)
            query_file = v;
        else if (strcmp(a, "--write-vectors") == 0)
            write_vec = v;
        else if (strcmp(a, "--write-queries") == 0)
            write_q = v;
        else if (strcmp(a, "--hits-json") == 0)
            hits_json = v;
        else if (strcmp(a, "--make-table") == 0)
            make_table = v;
        else if (strcmp(a, "--table") == 0)
            table_path = v;
        else if (strcmp(a, "--frag-rows") == 0)
            frag_rows = strtoull(v, NULL, 10);
        else {
            fprintf(stderr, "bench_search: unknown option %s\n", a);
            return 2;
        }
    }
    resona_metric metric;
    if (resona_metric_parse(metric_name, &metric) < 0) {
        fprintf(stderr, "bench_search: %s\n", resona_error_message());
        return 2;
    }
    size_t data_len = rows * dim * sizeof(float);
    const float *data;
    float *owned = NULL;
    double t0 = now_s();
    if (vec_file) {
        data = map_file(vec_file, data_len);
    } else {
        owned = malloc(data_len);
        if (!owned) {
            fprintf(stderr, "bench_search: out of memory for %zu bytes\n", data_len);
            return 1;
        }
        for (size_t r = 0; r < rows; r++)
            random_unit(owned + r * dim, dim);
        data = owned;
    }
    float *queries = malloc(nq * dim * sizeof(float));
    if (!queries) {
        fprintf(stderr, "bench_search: out of memory for the queries\n");
        free(owned);
        return 1;
    }
    if (query_file) {
        const float *qf = map_file(query_file, nq * dim * sizeof(float));
        memcpy(queries, qf, nq * dim * sizeof(float));
    } else {
        for (size_t q = 0; q < nq; q++)
            random_unit(queries + q * dim, dim);
    }
    fprintf(stderr, "data ready in %.1f s\n", now_s() - t0);
    if (write_vec || write_q || make_table) {
        /* data-preparation modes: write what was asked, free, and stop */
        int rc = 0;
        if (write_vec && write_file(write_vec, data, data_len) < 0)
            rc = 1;
        if (rc == 0 && write_q && write_file(write_q, queries, nq * dim * sizeof(float)) < 0)
            rc = 1;
        if (rc == 0 && make_table)
            rc = write_table(make_table, data, rows, dim, frag_rows ? frag_rows : rows);
        free(queries);
        free(owned);
        return rc;
    }

    unsigned cpus = (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
    unsigned t = threads ? threads : cpus;
    double read_gbs = 0, copy_gbs = 0;
    if (bandwidth) {
        read_gbs = read_bandwidth(data, rows * dim, t, 3);
        copy_gbs = memcpy_bandwidth();
    }

    resona_search_memory mem = {rows, dim, data, NULL, NULL, NULL, 4096};
    resona_search_source src;
    resona_search_source_memory(&src, &mem);
    resona_search_options opt = RESONA_SEARCH_OPTIONS_INIT;
    opt.metric = metric;
    opt.k = k;
    opt.threads = threads;
    double *times = calloc((size_t)reps, sizeof(double));
    resona_search_results *res = NULL;
    resona_table *table = NULL;
    if (table_path && resona_table_open(table_path, NULL, &table) < 0) {
        fprintf(stderr, "bench_search: %s\n", resona_error_message());
        return 1;
    }
    for (int r = -1; r < reps; r++) { /* one warm-up */
        resona_search_results_free(res);
        res = NULL;
        double s0 = now_s();
        int rc = table ? resona_search_table(table, NULL, "id", queries, nq, dim, &opt, &res)
                       : resona_search_run(&src, queries, nq, dim, &opt, &res);
        if (rc < 0) {
            fprintf(stderr, "bench_search: %s\n", resona_error_message());
            return 1;
        }
        if (r >= 0)
            times[r] = now_s() - s0;
    }
    qsort(times, (size_t)reps, sizeof(double), cmp_double);
    double med = times[reps / 2], best = times[0];
    double scan_gbs = (double)data_len / med / 1e9;
    printf("rows=%zu dim=%zu queries=%zu k=%zu metric=%s threads=%u source=%s\n", rows, dim, nq, k,
           resona_metric_name(metric), t,
           table      ? "lance-table"
           : vec_file ? "mmap-file"
                      : "memory");
    printf("search: median %.2f ms, best %.2f ms per scan (%.2f ms per query), scan %.2f GB/s\n",
           med * 1e3, best * 1e3, med * 1e3 / (double)nq, scan_gbs);
    if (bandwidth)
        printf("bandwidth: read(sum, %u threads) %.2f GB/s, memcpy(1 thread) %.2f GB/s; "
               "search reaches %.0f%% of read bandwidth\n",
               t, read_gbs, copy_gbs, 100.0 * scan_gbs / read_gbs);
    if (hits_json) {
        FILE *f = fopen(hits_json, "w");
        if (!f) {
            fprintf(stderr, "bench_search: cannot write %s\n", hits_json);
            return 1;
        }
        fprintf(f, "[");
        for (size_t q = 0; q < nq; q++) {
            size_t n;
            const resona_search_hit *h = resona_search_results_hits(res, q, &n);
            fprintf(f, "%s[", q ? ",\n" : "");
            for (size_t i = 0; i < n; i++)
                fprintf(f, "%s{\"row\":%llu,\"distance\":%.9g}", i ? "," : "",
                        (unsigned long long)h[i].row_id, (double)h[i].distance);
            fprintf(f, "]");
        }
        fprintf(f, "]\n");
        fclose(f);
    }
    resona_search_results_free(res);
    resona_table_free(table);
    free(times);
    free(queries);
    free(owned);
    return 0;
}
