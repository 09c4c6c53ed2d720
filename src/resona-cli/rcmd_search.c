/*
 * rcmd_search.c - `resona search`: exact (flat) nearest-neighbour search
 * with LanceDB's distance definitions (lance-format.md 10.4):
 *
 *   l2      squared euclidean distance  sum((x - q)^2)
 *   cosine  1 - x.q / (|x| |q|)
 *   dot     1 - x.q
 *
 * Results sort by _distance ascending, ties by LanceDB's _rowid
 * ((fragment id << 32) | row offset); rows with a null vector are skipped.
 * Two passes: the vector column alone to find the top k, then the output
 * columns for just those rows.
 */
#include "rcli.h"

#include <yajl/yajl_tree.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char search_help[] =
    "usage: resona search TABLE (--vector JSON | --vector-file FILE) [-k N]\n"
    "                     [--metric l2|cosine|dot] [--column NAME] [--columns a,b]\n"
    "\n"
    "Exact nearest-neighbour search over every live row. Prints up to N (default\n"
    "10) JSON lines, nearest first: the row's columns in schema order (all columns,\n"
    "or --columns) and then \"_distance\" (float32, %.9g), defined as LanceDB does:\n"
    "  l2 (default)  squared euclidean distance\n"
    "  cosine        1 - cos(x, q)\n"
    "  dot           1 - x.q\n"
    "Ties are ordered by LanceDB's _rowid ((fragment_id << 32) | row offset). Rows\n"
    "whose vector is null are skipped. --column picks the vector column; by default\n"
    "it is the only vector column whose dimension equals the query's.\n"
    "--vector takes a JSON array of numbers; --vector-file a file holding one.\n";

typedef struct hit {
    float dist;
    uint64_t row_id;
    char *out;
} hit;

static int better(float d, uint64_t id, const hit *h)
{
    if (isnan(h->dist))
        return !isnan(d) || id < h->row_id;
    if (isnan(d))
        return 0;
    return d < h->dist || (d == h->dist && id < h->row_id);
}

static char *slurp(const char *file)
{
    FILE *f = fopen(file, "r");
    if (!f) {
        rcli_error("search: %s: %s", file, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *b = malloc(cap);
    size_t n;
    while (b && (n = fread(b + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (len + 1 == cap) {
            char *nb = realloc(b, cap *= 2);
            if (!nb) {
                free(b);
                b = NULL;
            }
            b = nb;
        }
    }
    fclose(f);
    if (b)
        b[len] = '\0';
    return b;
}

int rcmd_search(int argc, char **argv)
{
    const char *path = NULL, *vec = NULL, *vfile = NULL, *ks = NULL, *metric = "l2";
    const char *column = NULL, *cols = NULL;
    for (int i = 1; i < argc; i++) {
        int m;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(search_help, stdout);
            return 0;
        }
        if ((m = rcli_opt(argc, argv, &i, "--vector", &vec)) ||
            (m = rcli_opt(argc, argv, &i, "--vector-file", &vfile)) ||
            (m = rcli_opt(argc, argv, &i, "-k", &ks)) ||
            (m = rcli_opt(argc, argv, &i, "--metric", &metric)) ||
            (m = rcli_opt(argc, argv, &i, "--column", &column)) ||
            (m = rcli_opt(argc, argv, &i, "--columns", &cols))) {
            if (m < 0)
                return 2;
            continue;
        }
        if (argv[i][0] == '-' || path) {
            rcli_error("search: unexpected argument '%s'", argv[i]);
            return 2;
        }
        path = argv[i];
    }
    uint64_t k = 10;
    int mt = !strcmp(metric, "l2")       ? 0
             : !strcmp(metric, "cosine") ? 1
             : !strcmp(metric, "dot")    ? 2
                                         : -1;
    if (!path || (!vec == !vfile) ||
        (ks && (rcli_parse_u64(ks, &k) < 0 || k == 0 || k > 1000000)) || mt < 0) {
        rcli_error("search: bad arguments (see 'resona search --help')");
        return 2;
    }
    char *text = vfile ? slurp(vfile) : strdup(vec);
    if (!text)
        return 1;
    char err[256];
    yajl_val qv = yajl_tree_parse(text, err, sizeof(err));
    free(text);
    if (!YAJL_IS_ARRAY(qv) || qv->u.array.len == 0) {
        rcli_error("search: the query vector must be a non-empty JSON array of numbers");
        yajl_tree_free(qv);
        return 2;
    }
    size_t dim = qv->u.array.len;
    double *q = malloc(dim * sizeof(double));
    hit *hits = calloc(k, sizeof(*hits));
    const char **names = NULL;
    size_t nn = 0, nh = 0;
    int rc = 1;
    resona_table *t = NULL;
    resona_scan *s = NULL;
    const resona_field **fields = NULL;
    if (!q || !hits) {
        rcli_error("out of memory");
        goto done;
    }
    double qn = 0;
    for (size_t i = 0; i < dim; i++) {
        yajl_val x = qv->u.array.values[i];
        if (!YAJL_IS_NUMBER(x)) {
            rcli_error("search: query item %zu is not a number", i);
            rc = 2;
            goto done;
        }
        q[i] = (double)(float)YAJL_GET_DOUBLE(x); /* LanceDB queries are float32 */
        qn += q[i] * q[i];
    }
    if (resona_table_open(path, NULL, &t) < 0) {
        rcli_fail();
        goto done;
    }
    const resona_schema *sch = resona_table_schema(t);
    int vc = -1;
    if (column) {
        vc = resona_table_column_index(t, column);
        if (vc < 0 || sch->fields[vc].type != RESONA_TYPE_VECTOR) {
            rcli_error("search: '%s' is not a vector column of %s", column, path);
            goto done;
        }
        if (sch->fields[vc].dim != dim) {
            rcli_error("search: column '%s' has dimension %u, the query %zu", column,
                       sch->fields[vc].dim, dim);
            goto done;
        }
    } else {
        for (size_t i = 0; i < sch->count; i++)
            if (sch->fields[i].type == RESONA_TYPE_VECTOR && sch->fields[i].dim == dim) {
                if (vc >= 0) {
                    rcli_error("search: more than one vector column of dimension %zu; use --column",
                               dim);
                    goto done;
                }
                vc = (int)i;
            }
        if (vc < 0) {
            rcli_error("search: no vector column of dimension %zu in %s", dim, path);
            goto done;
        }
    }
    const char *vname = sch->fields[vc].name;
    resona_scan_options so = RESONA_SCAN_OPTIONS_INIT;
    so.columns = &vname;
    so.column_count = 1;
    if (resona_table_scan(t, &so, &s) < 0) {
        rcli_fail();
        goto done;
    }
    const resona_chunk *ch;
    int r;
    while ((r = resona_scan_next(s, &ch)) > 0) {
        const resona_column *c = &ch->columns[0];
        const float *v = c->values;
        for (size_t row = 0; row < ch->rows; row++) {
            if (c->validity && !(c->validity[row / 8] >> (row % 8) & 1))
                continue;
            const float *x = v + row * dim;
            double acc = 0, xn = 0;
            if (mt == 0) {
                for (size_t i = 0; i < dim; i++) {
                    double d = (double)x[i] - q[i];
                    acc += d * d;
                }
            } else {
                for (size_t i = 0; i < dim; i++) {
                    acc += (double)x[i] * q[i];
                    xn += (double)x[i] * x[i];
                }
                acc = mt == 2 ? 1.0 - acc : 1.0 - acc / (sqrt(xn) * sqrt(qn));
            }
            float dist = (float)acc;
            uint64_t id = ch->row_ids[row];
            if (nh == k && !better(dist, id, &hits[k - 1]))
                continue;
            size_t pos = nh < k ? nh++ : k - 1;
            while (pos > 0 && better(dist, id, &hits[pos - 1])) {
                hits[pos] = hits[pos - 1];
                pos--;
            }
            hits[pos].dist = dist;
            hits[pos].row_id = id;
        }
    }
    resona_scan_free(s);
    s = NULL;
    if (r < 0) {
        rcli_fail();
        goto done;
    }
    /* second pass: the output columns of the hits */
    if (rcli_columns(t, cols, &names, &nn) < 0)
        goto done;
    fields = calloc(nn ? nn : 1, sizeof(*fields));
    if (!fields) {
        rcli_error("out of memory");
        goto done;
    }
    for (size_t i = 0; i < nn; i++)
        fields[i] = &sch->fields[resona_table_column_index(t, names[i])];
    so.columns = names;
    so.column_count = nn;
    if (nh > 0 && nn > 0) {
        if (resona_table_scan(t, &so, &s) < 0) {
            rcli_fail();
            goto done;
        }
        while ((r = resona_scan_next(s, &ch)) > 0) {
            for (size_t row = 0; row < ch->rows; row++) {
                for (size_t h = 0; h < nh; h++) {
                    if (hits[h].row_id != ch->row_ids[row] || hits[h].out)
                        continue;
                    char *buf = NULL;
                    size_t blen = 0;
                    FILE *m = open_memstream(&buf, &blen);
                    if (!m) {
                        rcli_error("out of memory");
                        goto done;
                    }
                    for (size_t c = 0; c < nn; c++) {
                        rcli_json_string(m, names[c], strlen(names[c]));
                        fputc(':', m);
                        rcli_json_value(m, fields[c], &ch->columns[c], row);
                        fputc(',', m);
                    }
                    fclose(m);
                    hits[h].out = buf;
                }
            }
        }
        if (r < 0) {
            rcli_fail();
            goto done;
        }
    }
    for (size_t h = 0; h < nh; h++) {
        printf("{%s\"_distance\":", hits[h].out ? hits[h].out : "");
        rcli_json_f32(stdout, hits[h].dist);
        fputs("}\n", stdout);
    }
    rc = 0;
done:
    for (size_t h = 0; hits && h < nh; h++)
        free(hits[h].out);
    free(hits);
    free(q);
    free(fields);
    free(names);
    resona_scan_free(s);
    resona_table_free(t);
    yajl_tree_free(qv);
    return rc;
}
