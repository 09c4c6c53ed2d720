/*
 * fake-ollama/json.c - small helpers over yajl_gen for the replies and the
 * request log. Floats go out as raw number text (nine significant digits,
 * which round-trip float32),
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

/* Powers of ten; a float32's decimal exponent needs 10^-30 .. 10^53. */
static const double POW10[] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22, 1e23, 1e24, 1e25, 1e26, 1e27, 1e28, 1e29, 1e30, 1e31,
    1e32, 1e33, 1e34, 1e35, 1e36, 1e37, 1e38, 1e39, 1e40, 1e41, 1e42, 1e43, 1e44, 1e45, 1e46, 1e47,
    1e48, 1e49, 1e50, 1e51, 1e52, 1e53, 1e54, 1e55, 1e56, 1e57, 1e58, 1e59, 1e60};

/*
 * Nine significant digits of a finite float32, without printf (printf's %.9g
 * was most of the server's time on big replies). Nine digits need no exact
 * decimal rounding to round-trip: their spacing (1e-9 relative) is far below
 * half a float32 ulp (3e-8 relative), so an error of one unit in the ninth
 * digit from the double arithmetic still parses back to the same float. The
 * test test_fake_format checks the round trip over many bit patterns.
 */
size_t fo_format_f32(char *out, float f)
{
    double a = (double)f;
    char *p = out;
    if (a == 0.0) {
        memcpy(out, signbit(a) ? "-0" : "0", signbit(a) ? 3 : 2);
        return signbit(a) ? 2 : 1;
    }
    if (isinf(a)) {
        memcpy(out, a < 0 ? "-1e999" : "1e999", a < 0 ? 7 : 6);
        return a < 0 ? 6 : 5;
    }
    if (a < 0) {
        *p++ = '-';
        a = -a;
    }
    int e10 = (int)floor(log10(a));
    /* m = a * 10^(8 - e10), in [1e8, 1e9) up to rounding. */
    int k = 8 - e10;
    double scaled = k >= 0 ? a * POW10[k] : a / POW10[-k];
    uint64_t m = (uint64_t)llround(scaled);
    if (m >= 1000000000ULL) {
        m = (m + 5) / 10;
        e10++;
    } else if (m < 100000000ULL) {
        m *= 10;
        e10--;
    }
    char digits[9];
    for (int i = 8; i >= 0; i--) {
        digits[i] = (char)('0' + m % 10);
        m /= 10;
    }
    int nd = 9;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    if (e10 >= -5 && e10 < 0) {
        /* 0.000ddd */
        *p++ = '0';
        *p++ = '.';
        for (int i = -1; i > e10; i--)
            *p++ = '0';
        memcpy(p, digits, (size_t)nd);
        p += nd;
    } else if (e10 >= 0 && e10 < 9) {
        /* ddd.ddd */
        for (int i = 0; i < nd || i <= e10; i++) {
            if (i == e10 + 1)
                *p++ = '.';
            *p++ = i < nd ? digits[i] : '0';
        }
    } else {
        /* d.ddde-XX */
        *p++ = digits[0];
        if (nd > 1) {
            *p++ = '.';
            memcpy(p, digits + 1, (size_t)(nd - 1));
            p += nd - 1;
        }
        p += snprintf(p, 8, "e%+03d", e10);
    }
    *p = '\0';
    return (size_t)(p - out);
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
    size_t n = fo_format_f32(num, f);
    yajl_gen_number(g, num, n);
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
