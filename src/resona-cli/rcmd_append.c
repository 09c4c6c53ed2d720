/*
 * rcmd_append.c - `resona append TABLE --jsonl F [--create]`: JSON lines in,
 * one fragment and one version out.
 *
 * Rows are parsed with yajl's tree API and gathered column by column (one
 * growing array per column, no allocation per value beyond yajl's own), then
 * handed to resona_table_append as one batch.
 */
#include "rcli.h"

#include <yajl/yajl_tree.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char append_help[] =
    "usage: resona append TABLE --jsonl FILE [--create] [--v1-names]\n"
    "\n"
    "Append the rows of FILE (JSON lines, one object per row; '-' = stdin) to the\n"
    "Lance table TABLE as ONE new fragment and ONE new version (data format 2.0).\n"
    "Keys name columns; missing keys and JSON null are nulls; unknown keys are an\n"
    "error. Values: strings for utf8, numbers for float64/float32/int64, true/false\n"
    "for bool, arrays of numbers (length = dim) for vector columns.\n"
    "  --create     create TABLE if it does not exist, inferring the schema as\n"
    "               LanceDB's JS client does: strings -> utf8, numbers -> float64,\n"
    "               booleans -> bool, a numeric array named 'vector' ->\n"
    "               fixed_size_list<float32, len>; all columns nullable; keys in\n"
    "               first-seen order\n"
    "  --v1-names   with --create: name manifests N.manifest (LanceDB 0.13 style)\n"
    "Prints {\"version\":N,\"rows\":N} on success.\n";

typedef struct colacc {
    char *name;
    resona_type type;
    uint32_t dim;
    unsigned char *values;
    size_t vlen, vcap;
    uint64_t *offsets;
    size_t ocap;
    uint8_t *validity;
    size_t bcap;
    int any_null;
} colacc;

static int grow(void *pp, size_t *cap, size_t need)
{
    void **p = pp;
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 256;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n);
    if (!q)
        return -1;
    *p = q;
    *cap = n;
    return 0;
}

static int put(colacc *c, const void *v, size_t len)
{
    if (len == 0) /* an empty string: nothing to copy (values may still be NULL) */
        return 0;
    if (grow(&c->values, &c->vcap, c->vlen + len) < 0)
        return -1;
    memcpy(c->values + c->vlen, v, len);
    c->vlen += len;
    return 0;
}

/* Add row `r` to column c from JSON value v (NULL = missing). 0, -1 error (message printed). */
static int add_value(colacc *c, size_t r, yajl_val v, size_t line)
{
    if (grow(&c->validity, &c->bcap, r / 8 + 1) < 0)
        return -1;
    if (r % 8 == 0)
        c->validity[r / 8] = 0;
    int valid = v && !YAJL_IS_NULL(v);
    if (valid)
        c->validity[r / 8] = (uint8_t)(c->validity[r / 8] | (1u << (r % 8)));
    else
        c->any_null = 1;
    switch (c->type) {
    case RESONA_TYPE_UTF8: {
        if (grow(&c->offsets, &c->ocap, (r + 2) * sizeof(uint64_t)) < 0)
            return -1;
        if (r == 0)
            c->offsets[0] = 0;
        if (valid) {
            if (!YAJL_IS_STRING(v)) {
                rcli_error("append: line %zu: column '%s' wants a string", line, c->name);
                return -1;
            }
            if (put(c, v->u.string, strlen(v->u.string)) < 0)
                return -1;
        }
        c->offsets[r + 1] = c->vlen;
        return 0;
    }
    case RESONA_TYPE_FLOAT64:
    case RESONA_TYPE_FLOAT32:
    case RESONA_TYPE_INT64: {
        if (valid && !YAJL_IS_NUMBER(v)) {
            rcli_error("append: line %zu: column '%s' wants a number", line, c->name);
            return -1;
        }
        if (c->type == RESONA_TYPE_INT64) {
            int64_t x = 0;
            if (valid) {
                if (!YAJL_IS_INTEGER(v)) {
                    rcli_error("append: line %zu: column '%s' wants an integer", line, c->name);
                    return -1;
                }
                x = (int64_t)YAJL_GET_INTEGER(v);
            }
            return put(c, &x, sizeof(x));
        }
        double d = valid ? YAJL_GET_DOUBLE(v) : 0.0;
        if (c->type == RESONA_TYPE_FLOAT32) {
            float f = (float)d;
            return put(c, &f, sizeof(f));
        }
        return put(c, &d, sizeof(d));
    }
    case RESONA_TYPE_BOOL: {
        if (valid && !YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v)) {
            rcli_error("append: line %zu: column '%s' wants true or false", line, c->name);
            return -1;
        }
        unsigned char b = valid && YAJL_IS_TRUE(v);
        return put(c, &b, 1);
    }
    case RESONA_TYPE_VECTOR: {
        size_t need = (size_t)c->dim * 4;
        if (grow(&c->values, &c->vcap, c->vlen + need) < 0)
            return -1;
        float *dst = (float *)(void *)(c->values + c->vlen);
        if (valid) {
            if (!YAJL_IS_ARRAY(v) || v->u.array.len != c->dim) {
                rcli_error("append: line %zu: column '%s' wants an array of %u numbers", line,
                           c->name, c->dim);
                return -1;
            }
            for (size_t i = 0; i < c->dim; i++) {
                yajl_val x = v->u.array.values[i];
                if (!YAJL_IS_NUMBER(x)) {
                    rcli_error("append: line %zu: column '%s' item %zu is not a number", line,
                               c->name, i);
                    return -1;
                }
                dst[i] = (float)YAJL_GET_DOUBLE(x);
            }
        } else {
            memset(dst, 0, need);
        }
        c->vlen += need;
        return 0;
    }
    case RESONA_TYPE_OTHER:
        break;
    }
    rcli_error("append: column '%s' has a type resona cannot write", c->name);
    return -1;
}

/* Infer a column type from a JSON value as LanceDB's JS client does. */
static int infer(const char *key, yajl_val v, resona_type *type, uint32_t *dim)
{
    *dim = 0;
    if (YAJL_IS_STRING(v))
        *type = RESONA_TYPE_UTF8;
    else if (YAJL_IS_NUMBER(v))
        *type = RESONA_TYPE_FLOAT64;
    else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v))
        *type = RESONA_TYPE_BOOL;
    else if (YAJL_IS_ARRAY(v) && !strcmp(key, "vector") && v->u.array.len > 0 &&
             v->u.array.len <= 65536) {
        *type = RESONA_TYPE_VECTOR;
        *dim = (uint32_t)v->u.array.len;
    } else {
        return -1;
    }
    return 0;
}

typedef struct rowset {
    yajl_val *rows;
    size_t count, cap;
} rowset;

static void rowset_free(rowset *rs)
{
    for (size_t i = 0; i < rs->count; i++)
        yajl_tree_free(rs->rows[i]);
    free(rs->rows);
}

static int read_rows(const char *file, rowset *rs)
{
    FILE *in = strcmp(file, "-") ? fopen(file, "r") : stdin;
    if (!in) {
        rcli_error("append: %s: %s", file, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t lcap = 0;
    ssize_t n;
    size_t lineno = 0;
    int rc = 0;
    char err[256];
    while ((n = getline(&line, &lcap, in)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
            line[--n] = '\0';
        if (n == 0)
            continue;
        yajl_val v = yajl_tree_parse(line, err, sizeof(err));
        if (!v || !YAJL_IS_OBJECT(v)) {
            char *nl = strchr(err, '\n');
            if (nl)
                *nl = '\0';
            rcli_error("append: %s line %zu: not a JSON object%s%s", file, lineno, v ? "" : ": ",
                       v ? "" : err);
            yajl_tree_free(v);
            rc = -1;
            break;
        }
        if (rs->count == rs->cap) {
            size_t nc = rs->cap ? rs->cap * 2 : 1024;
            yajl_val *nr = realloc(rs->rows, nc * sizeof(*nr));
            if (!nr) {
                yajl_tree_free(v);
                rcli_error("out of memory");
                rc = -1;
                break;
            }
            rs->rows = nr;
            rs->cap = nc;
        }
        rs->rows[rs->count++] = v;
    }
    free(line);
    if (in != stdin)
        fclose(in);
    return rc;
}

int rcmd_append(int argc, char **argv)
{
    const char *path = NULL, *jsonl = NULL;
    int create = 0, v1 = 0;
    for (int i = 1; i < argc; i++) {
        int m;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(append_help, stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--create")) {
            create = 1;
            continue;
        }
        if (!strcmp(argv[i], "--v1-names")) {
            v1 = 1;
            continue;
        }
        if ((m = rcli_opt(argc, argv, &i, "--jsonl", &jsonl))) {
            if (m < 0)
                return 2;
            continue;
        }
        if ((argv[i][0] == '-' && argv[i][1]) || path) {
            rcli_error("append: unexpected argument '%s'", argv[i]);
            return 2;
        }
        path = argv[i];
    }
    if (!path || !jsonl) {
        fputs(append_help, stderr);
        return 2;
    }
    rowset rs = {0};
    colacc *cols = NULL;
    size_t ncols = 0;
    resona_field *fields = NULL;
    resona_column *views = NULL;
    resona_table *t = NULL;
    int rc = 1;
    if (read_rows(jsonl, &rs) < 0)
        goto done;
    if (resona_table_open(path, NULL, &t) < 0) {
        if (!create || resona_error_code() != RESONA_ENOTFOUND) {
            rcli_fail();
            goto done;
        }
        /* infer the schema: keys in first-seen order, type from the first non-null value */
        size_t cap = 0;
        for (size_t r = 0; r < rs.count; r++) {
            yajl_val o = rs.rows[r];
            for (size_t k = 0; k < o->u.object.len; k++) {
                const char *key = o->u.object.keys[k];
                size_t j;
                for (j = 0; j < ncols && strcmp(fields[j].name, key); j++)
                    ;
                yajl_val v = o->u.object.values[k];
                if (j == ncols) {
                    if (ncols == cap) {
                        cap = cap ? cap * 2 : 16;
                        resona_field *nf = realloc(fields, cap * sizeof(*nf));
                        if (!nf) {
                            rcli_error("out of memory");
                            goto done;
                        }
                        fields = nf;
                    }
                    memset(&fields[ncols], 0, sizeof(fields[ncols]));
                    fields[ncols].name = key;
                    fields[ncols].nullable = 1;
                    ncols++;
                }
                if (fields[j].type == RESONA_TYPE_OTHER && !YAJL_IS_NULL(v) &&
                    infer(key, v, &fields[j].type, &fields[j].dim) < 0) {
                    rcli_error("append: cannot infer a column type for '%s' (strings, numbers, "
                               "booleans and a numeric array named 'vector' are supported)",
                               key);
                    goto done;
                }
            }
        }
        for (size_t j = 0; j < ncols; j++)
            if (fields[j].type == RESONA_TYPE_OTHER)
                fields[j].type = RESONA_TYPE_UTF8; /* only nulls seen */
        if (ncols == 0) {
            rcli_error("append: no rows to infer a schema from");
            goto done;
        }
        resona_schema schema = {fields, ncols};
        resona_create_options co = RESONA_CREATE_OPTIONS_INIT;
        co.naming = v1 ? RESONA_NAMING_V1 : RESONA_NAMING_V2;
        if (resona_table_create(path, &schema, &co, &t) < 0) {
            rcli_fail();
            goto done;
        }
    }
    const resona_schema *s = resona_table_schema(t);
    ncols = s->count;
    cols = calloc(ncols ? ncols : 1, sizeof(*cols));
    views = calloc(ncols ? ncols : 1, sizeof(*views));
    if (!cols || !views) {
        rcli_error("out of memory");
        goto done;
    }
    for (size_t j = 0; j < ncols; j++) {
        cols[j].name = (char *)s->fields[j].name;
        cols[j].type = s->fields[j].type;
        cols[j].dim = s->fields[j].dim;
    }
    for (size_t r = 0; r < rs.count; r++) {
        yajl_val o = rs.rows[r];
        for (size_t k = 0; k < o->u.object.len; k++)
            if (resona_table_column_index(t, o->u.object.keys[k]) < 0) {
                rcli_error("append: line %zu: no column '%s' in %s", r + 1, o->u.object.keys[k],
                           path);
                goto done;
            }
        for (size_t j = 0; j < ncols; j++) {
            yajl_val v = NULL;
            for (size_t k = 0; k < o->u.object.len; k++)
                if (!strcmp(o->u.object.keys[k], cols[j].name))
                    v = o->u.object.values[k];
            if (add_value(&cols[j], r, v, r + 1) < 0)
                goto done;
        }
    }
    for (size_t j = 0; j < ncols; j++) {
        views[j].name = cols[j].name;
        views[j].values = cols[j].values ? (const void *)cols[j].values : (const void *)"";
        views[j].offsets = cols[j].offsets;
        views[j].validity = cols[j].any_null ? cols[j].validity : NULL;
    }
    resona_batch b = {rs.count, views, ncols};
    if (resona_table_append(t, &b, NULL) < 0) {
        rcli_fail();
        goto done;
    }
    printf("{\"version\":%llu,\"rows\":%zu}\n", (unsigned long long)resona_table_version(t),
           rs.count);
    rc = 0;
done:
    for (size_t j = 0; cols && j < ncols; j++) {
        free(cols[j].values);
        free(cols[j].offsets);
        free(cols[j].validity);
    }
    free(cols);
    free(views);
    free(fields);
    rowset_free(&rs);
    resona_table_free(t);
    return rc;
}
