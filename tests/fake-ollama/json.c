/*
 * fake-ollama/json.c - small helpers over yajl_gen for the replies and the
 * request log. Floats go out as raw number text (%.9g round-trips float32),
 * which also lets the NaN fault write the non-JSON literal `NaN`.
 */
#include "fo_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

yajl_gen fo_json_new(void)
{
    return yajl_gen_alloc(NULL);
}

void fo_json_strn(yajl_gen g, const char *s, size_t len)
{
    yajl_gen_string(g, (const unsigned char *)s, len);
}

void fo_json_str(yajl_gen g, const char *s)
{
    fo_json_strn(g, s, strlen(s));
}

void fo_json_key_str(yajl_gen g, const char *key, const char *s)
{
    fo_json_str(g, key);
    if (s)
        fo_json_str(g, s);
    else
        yajl_gen_null(g);
}

void fo_json_key_int(yajl_gen g, const char *key, long long v)
{
    fo_json_str(g, key);
    yajl_gen_integer(g, v);
}

void fo_json_key_ms(yajl_gen g, const char *key, double ms)
{
    char num[64];
    int n = snprintf(num, sizeof num, "%.3f", ms);
    fo_json_str(g, key);
    yajl_gen_number(g, num, (size_t)n);
}

void fo_json_float(yajl_gen g, float f, int nan_null)
{
    char num[32];
    if (isnan(f)) {
        if (nan_null)
            yajl_gen_null(g);
        else
            yajl_gen_number(g, "NaN", 3);
        return;
    }
    int n = snprintf(num, sizeof num, "%.9g", (double)f);
    yajl_gen_number(g, num, (size_t)n);
}

char *fo_json_finish(yajl_gen g, size_t *len)
{
    const unsigned char *buf = NULL;
    size_t n = 0;
    char *out = NULL;
    if (yajl_gen_get_buf(g, &buf, &n) == yajl_gen_status_ok) {
        out = malloc(n + 1);
        if (out) {
            memcpy(out, buf, n);
            out[n] = '\0';
        }
    }
    yajl_gen_free(g);
    *len = out ? n : 0;
    return out;
}
