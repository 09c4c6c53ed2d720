/*
 * bench_lance.c - C-only micro benchmarks of native Lance tables (run by
 * hand; the LanceDB side-by-side runs live with the interop harness).
 *
 *   bench_lance append DIR ROWS DIM BATCH   resona-style rows appended in batches:
 *                                           MB/s and seconds per append
 *   bench_lance scan DIR [COLUMNS]          full scan (default id,vector): MB/s and
 *                                           peak RSS of this process
 *   bench_lance frags DIR N                 N one-row appends; time of the 10th,
 *                                           100th, 1000th append
 * DIR/embeddings.lance is created (append/frags) or read (scan).
 */
#include <resona/table.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int die(const char *what)
{
    fprintf(stderr, "bench_lance: %s: %s\n", what, resona_error_message());
    return 1;
}

static resona_table *open_or_create(const char *dir, uint32_t dim)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/embeddings.lance", dir);
    resona_field f[] = {
        {"id", RESONA_TYPE_UTF8, 0, 1, 0, NULL},
        {"text_hash", RESONA_TYPE_UTF8, 0, 1, 0, NULL},
        {"context_text", RESONA_TYPE_UTF8, 0, 1, 0, NULL},
        {"model", RESONA_TYPE_UTF8, 0, 1, 0, NULL},
        {"dimensions", RESONA_TYPE_FLOAT64, 0, 1, 0, NULL},
        {"metadata", RESONA_TYPE_UTF8, 0, 1, 0, NULL},
        {"vector", RESONA_TYPE_VECTOR, dim, 1, 0, NULL},
    };
    resona_schema s = {f, 7};
    resona_create_options co = RESONA_CREATE_OPTIONS_INIT;
    co.exist_ok = 1;
    co.naming = RESONA_NAMING_V1;
    resona_table *t = NULL;
    if (resona_table_create(path, &s, &co, &t) < 0)
        return NULL;
    return t;
}

typedef struct strcol {
    char *data;
    uint64_t *off;
} strcol;

/* kind: 0 "<prefix><n>", 1 64 hex digits of n */
static void fill_str(strcol *c, size_t n, uint64_t first, int kind, const char *prefix, size_t pad)
{
    c->data = malloc(n * (pad + 96));
    c->off = malloc((n + 1) * 8);
    c->off[0] = 0;
    for (size_t i = 0; i < n; i++) {
        char *p = c->data + c->off[i];
        int m = kind ? snprintf(p, 80, "%064llx", (unsigned long long)(first + i))
                     : snprintf(p, 64, "%s%llu", prefix, (unsigned long long)(first + i));
        memset(p + m, 'x', pad);
        c->off[i + 1] = c->off[i] + (uint64_t)m + pad;
    }
}

/* Build n rows and append them; *secs receives the time of the append call alone. */
static int append_batch(resona_table *t, uint64_t first, size_t n, uint32_t dim, double *bytes,
                        double *secs)
{
    strcol id, th, ct, mo, md;
    fill_str(&id, n, first, 0, "node-", 0);
    fill_str(&th, n, first, 1, "", 0);
    fill_str(&ct, n, first, 0, "context of node ", 180);
    fill_str(&mo, n, 0, 0, "bge-m3 ", 0);
    fill_str(&md, n, first, 0, "{\"enriched\":false,\"n\":", 40);
    double *dims = malloc(n * sizeof(double));
    float *vec = malloc(n * dim * sizeof(float));
    for (size_t i = 0; i < n; i++)
        dims[i] = dim;
    uint32_t x = (uint32_t)first * 2654435761u + 1;
    for (size_t i = 0; i < n * dim; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        vec[i] = (float)x / 4294967296.0f - 0.5f;
    }
    resona_column cols[] = {
        {"id", id.data, id.off, NULL},
        {"text_hash", th.data, th.off, NULL},
        {"context_text", ct.data, ct.off, NULL},
        {"model", mo.data, mo.off, NULL},
        {"dimensions", dims, NULL, NULL},
        {"metadata", md.data, md.off, NULL},
        {"vector", vec, NULL, NULL},
    };
    resona_batch b = {n, cols, 7};
    double a = now();
    int rc = resona_table_append(t, &b, NULL);
    *secs = now() - a;
    *bytes +=
        (double)(n * dim * 4 + id.off[n] + th.off[n] + ct.off[n] + mo.off[n] + md.off[n] + n * 8);
    free(id.data), free(id.off), free(th.data), free(th.off), free(ct.data), free(ct.off);
    free(mo.data), free(mo.off), free(md.data), free(md.off), free(dims), free(vec);
    return rc;
}

static int cmd_append(const char *dir, uint64_t rows, uint32_t dim, size_t batch)
{
    resona_table *t = open_or_create(dir, dim);
    if (!t)
        return die("create");
    double bytes = 0, t0 = now(), append_time = 0;
    size_t appends = 0;
    for (uint64_t r = 0; r < rows; r += batch) {
        size_t n = rows - r < batch ? (size_t)(rows - r) : batch;
        double secs = 0;
        if (append_batch(t, r, n, dim, &bytes, &secs) < 0)
            return die("append");
        append_time += secs;
        appends++;
    }
    double el = now() - t0;
    printf("{\"op\":\"append\",\"rows\":%" PRIu64 ",\"dim\":%u,\"batch\":%zu,\"seconds\":%.3f,"
           "\"append_seconds\":%.3f,\"MB_per_s\":%.1f,\"seconds_per_append\":%.4f}\n",
           rows, dim, batch, el, append_time, bytes / 1e6 / append_time,
           append_time / (double)appends);
    resona_table_free(t);
    return 0;
}

static int cmd_scan(const char *dir, const char *cols_arg)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/embeddings.lance", dir);
    resona_table *t = NULL;
    if (resona_table_open(path, NULL, &t) < 0)
        return die("open");
    const char *cols[16];
    size_t nc = 0;
    char *copy = strdup(cols_arg ? cols_arg : "id,vector"), *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok && nc < 16; tok = strtok_r(NULL, ",", &save))
        cols[nc++] = tok;
    resona_scan_options so = RESONA_SCAN_OPTIONS_INIT;
    so.columns = cols;
    so.column_count = nc;
    resona_scan *s = NULL;
    double t0 = now(), bytes = 0, checksum = 0;
    uint64_t rows = 0;
    if (resona_table_scan(t, &so, &s) < 0)
        return die("scan");
    const resona_schema *sc = resona_table_schema(t);
    const resona_chunk *ch;
    int r;
    while ((r = resona_scan_next(s, &ch)) > 0) {
        rows += ch->rows;
        for (size_t c = 0; c < nc; c++) {
            const resona_field *f = &sc->fields[resona_table_column_index(t, cols[c])];
            if (f->type == RESONA_TYPE_UTF8)
                bytes += (double)(ch->columns[c].offsets[ch->rows] - ch->columns[c].offsets[0]);
            else if (f->type == RESONA_TYPE_VECTOR) {
                bytes += (double)ch->rows * f->dim * 4;
                checksum += ((const float *)ch->columns[c].values)[0];
            } else
                bytes += (double)ch->rows * 8;
        }
    }
    if (r < 0)
        return die("scan");
    double el = now() - t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"op\":\"scan\",\"rows\":%" PRIu64 ",\"columns\":\"%s\",\"seconds\":%.3f,"
           "\"MB_per_s\":%.1f,\"max_rss_MB\":%.1f,\"checksum\":%g}\n",
           rows, cols_arg ? cols_arg : "id,vector", el, bytes / 1e6 / el,
           (double)ru.ru_maxrss / 1024.0, checksum);
    resona_scan_free(s);
    resona_table_free(t);
    free(copy);
    return 0;
}

static int cmd_frags(const char *dir, unsigned n)
{
    resona_table *t = open_or_create(dir, 1024);
    if (!t)
        return die("create");
    double bytes = 0;
    printf("{\"op\":\"frags\"");
    for (unsigned i = 1; i <= n; i++) {
        double secs = 0;
        if (append_batch(t, i, 1, 1024, &bytes, &secs) < 0)
            return die("append");
        if (i == 11 || i == 101 || i == 1001)
            printf(",\"append_after_%u_ms\":%.2f", i - 1, secs * 1e3);
    }
    printf("}\n");
    resona_table_free(t);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 6 && !strcmp(argv[1], "append"))
        return cmd_append(argv[2], strtoull(argv[3], NULL, 10), (uint32_t)atoi(argv[4]),
                          (size_t)atoi(argv[5]));
    if (argc >= 3 && !strcmp(argv[1], "scan"))
        return cmd_scan(argv[2], argc >= 4 ? argv[3] : NULL);
    if (argc >= 4 && !strcmp(argv[1], "frags"))
        return cmd_frags(argv[2], (unsigned)atoi(argv[3]));
    fprintf(stderr,
            "usage: bench_lance append DIR ROWS DIM BATCH | scan DIR [COLS] | frags DIR N\n");
    return 2;
}
