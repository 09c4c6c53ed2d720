/*
 * c_bench.c - the C side of the LanceDB-vs-resona benchmark (bench/lance-vs-lancedb).
 *
 * Three measurements, each printed as one JSON line, with the same rows and the same
 * method as lancedb_bench.mjs so that run.sh can put them side by side:
 *
 *   append TABLE ROWS DIM BATCH     create TABLE, then append ROWS rows in batches of BATCH
 *                                   (one resona_table_append each); only the appends are
 *                                   timed, the batches are built in memory beforehand
 *   fragments TABLE DIM ROWS AT REPS  append batches of ROWS rows until the table has each
 *                                   fragment count in AT (e.g. 10,100,1000), and there time
 *                                   REPS further appends (median and each)
 *   scan TABLE                      read every column of every live row (resona_table_scan),
 *                                   touching every value; payload MB/s
 *
 * Rows follow the original supertag's schema (id, text_hash, context_text, model, metadata:
 * utf8; dimensions, created_at, updated_at: float64; vector: fixed_size_list<float32, DIM>),
 * deterministic in the row number (the formulas are in row_*() and repeated in the .mjs).
 * "Payload bytes" = string bytes + 3 x 8 + 4 x DIM per row, the same count on both sides.
 *
 * A benchmark, not a library file: it uses malloc directly and exits on the first error.
 */
#include <resona/table.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("c_bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void check(int rc, const char *what)
{
    if (rc < 0)
        die("%s: %s (%s)", what, resona_error_message(), resona_error_name(rc));
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *xmalloc(size_t len)
{
    void *p = malloc(len ? len : 1);
    if (!p)
        die("out of memory (%zu bytes)", len);
    return p;
}

static unsigned long parse_ulong(const char *s, const char *what)
{
    char *end = NULL;
    unsigned long v = strtoul(s, &end, 10);
    if (!*s || *end)
        die("%s: not a number: '%s'", what, s);
    return v;
}

/* ---- the rows (same formulas as lancedb_bench.mjs) ---------------------- */

static const char LOREM[] =
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
    "incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud "
    "exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure";

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static float row_component(uint64_t i, uint32_t j)
{
    uint32_t u = (uint32_t)i * 1315423911u + j * 2654435761u;
    u ^= u >> 15;
    u *= 2246822519u;
    u ^= u >> 13;
    return (float)((double)u / 4294967296.0 * 2.0 - 1.0);
}

enum { COL_ID, COL_HASH, COL_TEXT, COL_MODEL, COL_META, NSTR };

/* Writes string column c of row i into out (at least 512 bytes); returns its length. */
static size_t row_string(int c, uint64_t i, char *out)
{
    int n = 0;
    switch (c) {
    case COL_ID:
        n = snprintf(out, 512, "node-%08" PRIu64, i);
        break;
    case COL_HASH:
        for (int k = 0; k < 4; k++)
            snprintf(out + 16 * k, 17, "%016" PRIx64, splitmix64(i * 4 + (uint64_t)k));
        n = 64;
        break;
    case COL_TEXT:
        n = snprintf(out, 512, "Context of node %" PRIu64 ": %.*s", i, (int)(100 + i % 100), LOREM);
        break;
    case COL_MODEL:
        n = snprintf(out, 512, "bge-m3");
        break;
    default:
        n = snprintf(out, 512, "{\"name\":\"node %" PRIu64 "\",\"tags\":[\"bench\"]}", i);
        break;
    }
    return (size_t)n;
}

static const char *const STR_NAMES[NSTR] = {"id", "text_hash", "context_text", "model", "metadata"};
static const char *const F64_NAMES[3] = {"dimensions", "created_at", "updated_at"};

/* One batch in memory, column-oriented. */
struct batch {
    size_t rows;
    char *str[NSTR];
    uint64_t *off[NSTR];
    double *f64[3];
    float *vec;
    resona_column cols[NSTR + 4];
    resona_batch b;
    uint64_t payload; /* bytes, as defined at the top */
};

static void batch_build(struct batch *bt, uint64_t first, size_t rows, uint32_t dim)
{
    char tmp[512];
    memset(bt, 0, sizeof *bt);
    bt->rows = rows;
    for (int c = 0; c < NSTR; c++) {
        bt->off[c] = xmalloc((rows + 1) * sizeof(uint64_t));
        bt->str[c] = xmalloc(rows * 512);
        uint64_t at = 0;
        bt->off[c][0] = 0;
        for (size_t r = 0; r < rows; r++) {
            size_t len = row_string(c, first + r, tmp);
            memcpy(bt->str[c] + at, tmp, len);
            at += len;
            bt->off[c][r + 1] = at;
        }
        bt->payload += at;
        bt->cols[c] = (resona_column){STR_NAMES[c], bt->str[c], bt->off[c], NULL};
    }
    for (int c = 0; c < 3; c++) {
        bt->f64[c] = xmalloc(rows * sizeof(double));
        for (size_t r = 0; r < rows; r++)
            bt->f64[c][r] = c == 0 ? (double)dim : 1732400000000.0 + (double)(first + r);
        bt->cols[NSTR + c] = (resona_column){F64_NAMES[c], bt->f64[c], NULL, NULL};
    }
    bt->vec = xmalloc(rows * dim * sizeof(float));
    for (size_t r = 0; r < rows; r++)
        for (uint32_t j = 0; j < dim; j++)
            bt->vec[r * dim + j] = row_component(first + r, j);
    bt->cols[NSTR + 3] = (resona_column){"vector", bt->vec, NULL, NULL};
    bt->payload += (uint64_t)rows * (3 * 8 + 4 * (uint64_t)dim);
    bt->b = (resona_batch){rows, bt->cols, NSTR + 4};
}

static void batch_free(struct batch *bt)
{
    for (int c = 0; c < NSTR; c++) {
        free(bt->str[c]);
        free(bt->off[c]);
    }
    for (int c = 0; c < 3; c++)
        free(bt->f64[c]);
    free(bt->vec);
}

static resona_table *create_table(const char *path, uint32_t dim)
{
    resona_field f[NSTR + 4];
    for (int c = 0; c < NSTR; c++)
        f[c] = (resona_field){STR_NAMES[c], RESONA_TYPE_UTF8, 0, 1, 0, NULL};
    for (int c = 0; c < 3; c++)
        f[NSTR + c] = (resona_field){F64_NAMES[c], RESONA_TYPE_FLOAT64, 0, 1, 0, NULL};
    f[NSTR + 3] = (resona_field){"vector", RESONA_TYPE_VECTOR, dim, 1, 0, NULL};
    resona_schema schema = {f, NSTR + 4};
    resona_table *t = NULL;
    check(resona_table_create(path, &schema, NULL, &t), "create");
    return t;
}

/* ---- commands ------------------------------------------------------------ */

static int cmd_append(const char *path, size_t rows, uint32_t dim, size_t batch)
{
    resona_table *t = create_table(path, dim);
    size_t nb = (rows + batch - 1) / batch;
    struct batch *b = xmalloc(nb * sizeof *b);
    uint64_t payload = 0;
    for (size_t k = 0; k < nb; k++) {
        size_t n = k + 1 < nb ? batch : rows - k * batch;
        batch_build(&b[k], k * batch, n, dim);
        payload += b[k].payload;
    }
    double t0 = now(), worst = 0;
    for (size_t k = 0; k < nb; k++) {
        double s = now();
        check(resona_table_append(t, &b[k].b, NULL), "append");
        if (now() - s > worst)
            worst = now() - s;
    }
    double secs = now() - t0;
    printf("{\"side\":\"resona\",\"what\":\"append\",\"rows\":%zu,\"dim\":%u,\"batch\":%zu,"
           "\"commits\":%zu,\"payload_bytes\":%" PRIu64 ",\"seconds\":%.4f,\"mb_per_s\":%.1f,"
           "\"slowest_commit_s\":%.4f}\n",
           rows, dim, batch, nb, payload, secs, (double)payload / 1e6 / secs, worst);
    for (size_t k = 0; k < nb; k++)
        batch_free(&b[k]);
    free(b);
    resona_table_free(t);
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cmd_fragments(const char *path, uint32_t dim, size_t rows, const char *at_list,
                         size_t reps)
{
    resona_table *t = create_table(path, dim);
    struct batch b;
    batch_build(&b, 0, rows, dim);
    size_t frags = 0;
    double *times = xmalloc(reps * sizeof(double));
    char *list = xmalloc(strlen(at_list) + 1);
    memcpy(list, at_list, strlen(at_list) + 1);
    printf("{\"side\":\"resona\",\"what\":\"fragments\",\"rows_per_append\":%zu,\"dim\":%u,"
           "\"points\":[",
           rows, dim);
    int first = 1;
    for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
        size_t target = parse_ulong(tok, "fragment count");
        for (; frags < target; frags++)
            check(resona_table_append(t, &b.b, NULL), "append");
        for (size_t r = 0; r < reps; r++) {
            double s = now();
            check(resona_table_append(t, &b.b, NULL), "append");
            times[r] = now() - s;
            frags++;
        }
        qsort(times, reps, sizeof(double), cmp_double);
        printf("%s{\"fragments\":%zu,\"median_ms\":%.2f,\"min_ms\":%.2f,\"max_ms\":%.2f}",
               first ? "" : ",", target, 1e3 * times[reps / 2], 1e3 * times[0],
               1e3 * times[reps - 1]);
        first = 0;
        fflush(stdout);
    }
    printf("]}\n");
    free(list);
    free(times);
    batch_free(&b);
    resona_table_free(t);
    return 0;
}

static int cmd_scan(const char *path)
{
    resona_table *t = NULL;
    check(resona_table_open(path, NULL, &t), "open");
    const resona_schema *s = resona_table_schema(t);
    double t0 = now();
    resona_scan *sc = NULL;
    check(resona_table_scan(t, NULL, &sc), "scan");
    const resona_chunk *ch = NULL;
    uint64_t rows = 0, payload = 0;
    double sum = 0, other = 0; /* vector components (compared with LanceDB's), the rest */
    int rc;
    while ((rc = resona_scan_next(sc, &ch)) == 1) {
        rows += ch->rows;
        for (size_t c = 0; c < ch->column_count; c++) {
            const resona_column *col = &ch->columns[c];
            const resona_field *f = &s->fields[resona_table_column_index(t, col->name)];
            switch (f->type) {
            case RESONA_TYPE_UTF8:
                payload += col->offsets[ch->rows] - col->offsets[0];
                for (size_t r = 0; r < ch->rows; r++)
                    other += ((const unsigned char *)col->values)[col->offsets[r]];
                break;
            case RESONA_TYPE_FLOAT64:
                payload += 8 * ch->rows;
                for (size_t r = 0; r < ch->rows; r++)
                    other += ((const double *)col->values)[r];
                break;
            case RESONA_TYPE_VECTOR: {
                const float *v = col->values;
                payload += 4 * (uint64_t)f->dim * ch->rows;
                for (size_t k = 0; k < (size_t)f->dim * ch->rows; k++)
                    sum += v[k];
                break;
            }
            default:
                payload += 8 * ch->rows;
                break;
            }
        }
    }
    check(rc, "scan_next");
    double secs = now() - t0;
    printf("{\"side\":\"resona\",\"what\":\"scan\",\"rows\":%" PRIu64 ",\"payload_bytes\":%" PRIu64
           ",\"seconds\":%.4f,\"mb_per_s\":%.1f,\"checksum\":%.6g,\"other\":%.6g}\n",
           rows, payload, secs, (double)payload / 1e6 / secs, sum, other);
    resona_scan_free(sc);
    resona_table_free(t);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 6 && !strcmp(argv[1], "append"))
        return cmd_append(argv[2], parse_ulong(argv[3], "rows"),
                          (uint32_t)parse_ulong(argv[4], "dim"), parse_ulong(argv[5], "batch"));
    if (argc == 7 && !strcmp(argv[1], "fragments"))
        return cmd_fragments(argv[2], (uint32_t)parse_ulong(argv[3], "dim"),
                             parse_ulong(argv[4], "rows"), argv[5], parse_ulong(argv[6], "reps"));
    if (argc == 3 && !strcmp(argv[1], "scan"))
        return cmd_scan(argv[2]);
    fprintf(stderr, "usage: c_bench append TABLE ROWS DIM BATCH\n"
                    "       c_bench fragments TABLE DIM ROWS AT_LIST REPS\n"
                    "       c_bench scan TABLE\n");
    return 2;
}
