/*
 * rcli_out.c - JSON output shared by the resona commands: strings escaped
 * per RFC 8259, float32 printed with %.9g (round-trips exactly), float64
 * with %.17g, non-finite numbers as null, and one row of a chunk as an
 * object with keys in the order given.
 */
#include "rcli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rcli_json_string(FILE *out, const char *s, size_t len)
{
    fputc('"', out);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':
            fputs("\\\"", out);
            break;
        case '\\':
            fputs("\\\\", out);
            break;
        case '\n':
            fputs("\\n", out);
            break;
        case '\r':
            fputs("\\r", out);
            break;
        case '\t':
            fputs("\\t", out);
            break;
        case '\b':
            fputs("\\b", out);
            break;
        case '\f':
            fputs("\\f", out);
            break;
        default:
            if (c < 0x20)
                fprintf(out, "\\u%04x", c);
            else
                fputc((int)c, out);
        }
    }
    fputc('"', out);
}

void rcli_json_f32(FILE *out, float v)
{
    if (!isfinite(v))
        fputs("null", out);
    else
        fprintf(out, "%.9g", (double)v);
}

void rcli_json_f64(FILE *out, double v)
{
    if (!isfinite(v))
        fputs("null", out);
    else
        fprintf(out, "%.17g", v);
}

void rcli_json_value(FILE *out, const resona_field *f, const resona_column *c, size_t r)
{
    if (c->validity && !(c->validity[r / 8] >> (r % 8) & 1)) {
        fputs("null", out);
        return;
    }
    switch (f->type) {
    case RESONA_TYPE_UTF8:
        rcli_json_string(out, (const char *)c->values + c->offsets[r],
                         (size_t)(c->offsets[r + 1] - c->offsets[r]));
        break;
    case RESONA_TYPE_FLOAT64:
        rcli_json_f64(out, ((const double *)c->values)[r]);
        break;
    case RESONA_TYPE_FLOAT32:
        rcli_json_f32(out, ((const float *)c->values)[r]);
        break;
    case RESONA_TYPE_INT64:
        fprintf(out, "%lld", (long long)((const int64_t *)c->values)[r]);
        break;
    case RESONA_TYPE_BOOL:
        fputs(((const uint8_t *)c->values)[r] ? "true" : "false", out);
        break;
    case RESONA_TYPE_VECTOR: {
        const float *v = (const float *)c->values + (size_t)f->dim * r;
        fputc('[', out);
        for (uint32_t i = 0; i < f->dim; i++) {
            if (i)
                fputc(',', out);
            rcli_json_f32(out, v[i]);
        }
        fputc(']', out);
        break;
    }
    case RESONA_TYPE_OTHER:
        fputs("null", out);
        break;
    }
}

int rcli_split_columns(char *list, const char **names, size_t max, size_t *count)
{
    size_t n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (n == max)
            return -1;
        names[n++] = tok;
    }
    *count = n;
    return n ? 0 : -1;
}

int rcli_parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s)
        return -1;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int rcli_opt(int argc, char **argv, int *i, const char *name, const char **value)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *value = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        rcli_error("option %s needs a value", name);
        return -1;
    }
    *value = argv[++*i];
    return 1;
}

int rcli_columns(const resona_table *t, const char *list, const char ***out, size_t *count)
{
    const resona_schema *s = resona_table_schema(t);
    const char **names = calloc(s->count ? s->count : 1, sizeof(*names));
    if (!names) {
        rcli_error("out of memory");
        return -1;
    }
    size_t n = 0;
    if (!list) {
        for (size_t i = 0; i < s->count; i++)
            names[n++] = s->fields[i].name;
    } else {
        /* keep schema order; check every requested name exists */
        char *copy = strdup(list);
        const char *want[1024];
        size_t nw = 0;
        if (!copy || rcli_split_columns(copy, want, 1024, &nw) < 0) {
            rcli_error("bad --columns list '%s'", list);
            free(copy);
            free(names);
            return -1;
        }
        for (size_t j = 0; j < nw; j++)
            if (resona_table_column_index(t, want[j]) < 0) {
                rcli_error("no column '%s' in %s", want[j], resona_table_path(t));
                free(copy);
                free(names);
                return -1;
            }
        for (size_t i = 0; i < s->count; i++)
            for (size_t j = 0; j < nw; j++)
                if (!strcmp(want[j], s->fields[i].name)) {
                    names[n++] = s->fields[i].name;
                    break;
                }
        free(copy);
    }
    *out = names;
    *count = n;
    return 0;
}
