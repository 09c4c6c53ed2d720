/*
 * fake-ollama/json.c - small helpers over yajl_gen for the replies and the
 * request log. Floats go out as raw number text (the shortest decimal that
 * round-trips the float32, as Go/Ollama print them), which also lets the NaN
 * fault write the non-JSON literal `NaN` and a cached vector go out as one
 * piece of text (fo_json_raw).
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

/* Powers of ten; fo_format_f32 scales by 10^-38 .. 10^53. */
static const double POW10[] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22, 1e23, 1e24, 1e25, 1e26, 1e27, 1e28, 1e29, 1e30, 1e31,
    1e32, 1e33, 1e34, 1e35, 1e36, 1e37, 1e38, 1e39, 1e40, 1e41, 1e42, 1e43, 1e44, 1e45, 1e46, 1e47,
    1e48, 1e49, 1e50, 1e51, 1e52, 1e53, 1e54, 1e55, 1e56, 1e57, 1e58, 1e59, 1e60};

static const double NPOW10[] = {
    1e-0,  1e-1,  1e-2,  1e-3,  1e-4,  1e-5,  1e-6,  1e-7,  1e-8,  1e-9,  1e-10, 1e-11, 1e-12,
    1e-13, 1e-14, 1e-15, 1e-16, 1e-17, 1e-18, 1e-19, 1e-20, 1e-21, 1e-22, 1e-23, 1e-24, 1e-25,
    1e-26, 1e-27, 1e-28, 1e-29, 1e-30, 1e-31, 1e-32, 1e-33, 1e-34, 1e-35, 1e-36, 1e-37, 1e-38,
    1e-39, 1e-40, 1e-41, 1e-42, 1e-43, 1e-44, 1e-45, 1e-46, 1e-47, 1e-48, 1e-49, 1e-50};

/* x * 10^k, k in -50..60, within a few double ulps. */
static double scale10(double x, int k)
{
    return k >= 0 ? x * POW10[k] : x * NPOW10[-k];
}

/*
 * Is there a p-digit decimal m * 10^-k (k = p - 1 - e10) that parses back to
 * f? a = |f|, [lo, hi] its rounding interval. The candidates are the two
 * integers around a * 10^k, the nearer first (what Go prints among equally
 * short ones).
 */
static int shortest_try(float f, double a, double lo, double hi, int e10, int p, uint64_t *m_out,
                        int *k_out)
{
    int k = p - 1 - e10;
    double c = scale10(a, k), l = scale10(lo, k), h = scale10(hi, k);
    /* The scaled values are off by a few double ulps at most (inexact powers
     * of ten past 1e22, one rounding per multiply or divide). */
    double tol = c * 1e-14;
    double down = floor(c), up = down + 1.0;
    double cand[2];
    cand[0] = c - down <= up - c ? down : up;
    cand[1] = cand[0] == down ? up : down;
    for (int i = 0; i < 2; i++) {
        double m = cand[i];
        if (m < 1.0)
            continue;
        int ok;
        if (m - l > tol && h - m > tol) {
            ok = 1;
        } else if (m - l < -tol || h - m < -tol) {
            ok = 0;
        } else {
            /* Too close to a bound to tell in double: ask strtof (exact). */
            char buf[48];
            snprintf(buf, sizeof buf, "%llue%d", (unsigned long long)m, -k);
            ok = strtof(buf, NULL) == fabsf(f);
        }
        if (ok) {
            *m_out = (uint64_t)m;
            *k_out = k;
            return 1;
        }
    }
    return 0;
}

/*
 * The shortest decimal that parses back to the same float32, written the way
 * Go's encoding/json writes a float32 (which is what Ollama sends): plain
 * notation for 1e-6 <= |x| < 1e21 ("0.012345678", "12300"), otherwise
 * d.ddde-7 / d.ddde+21 (a negative exponent is not zero-padded).
 *
 * The search: a p-digit decimal parses back to f iff f's rounding interval
 * (half-way to each neighbour; exact in double, since a float32 has 24 bits)
 * holds one. Nine digits always suffice, and if p digits do then p + 1 do,
 * so the search tries eight, then goes down until it fails. No printf on the usual
 * path (it was most of the server's time on big replies); strtof only for a
 * candidate within rounding error of a bound. test_fake_format checks the
 * round trip and the minimality over millions of bit patterns.
 */
size_t fo_format_f32(char *out, float f)
{
    double a = fabs((double)f);
    char *p = out;
    if (a == 0.0) {
        memcpy(out, signbit(f) ? "-0" : "0", signbit(f) ? 3 : 2);
        return signbit(f) ? 2 : 1;
    }
    if (isinf(f)) {
        memcpy(out, f < 0 ? "-1e999" : "1e999", f < 0 ? 7 : 6);
        return f < 0 ? 6 : 5;
    }
    if (f < 0)
        *p++ = '-';

    /* Neighbours from the bit pattern (no float32 NaN or infinity here). */
    float af = fabsf(f), belowf, abovef;
    uint32_t u;
    memcpy(&u, &af, 4);
    uint32_t ub = u - 1, ua = u + 1;
    memcpy(&belowf, &ub, 4);
    memcpy(&abovef, &ua, 4);
    double below = (double)belowf;
    double lo = (a + below) / 2.0;
    double hi = isinf(abovef) ? a + (a - below) / 2.0 : (a + (double)abovef) / 2.0;

    /* e10 = floor(log10(a)): estimate from the binary exponent, then fix. */
    int e2;
    (void)frexp(a, &e2); /* a = [0.5, 1) * 2^e2 */
    int e10 = (int)floor((double)(e2 - 1) * 0.30102999566398120);
    if (scale10(a, -(e10 + 1)) >= 1.0)
        e10++;

    /* Eight digits first (most values need eight or nine). */
    uint64_t m = 0;
    int k = 0;
    int eight = shortest_try(f, a, lo, hi, e10, 8, &m, &k);
    if (!eight && !shortest_try(f, a, lo, hi, e10, 9, &m, &k)) {
        /* Not reached (nine digits always fit); stay correct anyway. */
        int n = snprintf(p, 24, "%.9g", a);
        return (size_t)(p - out) + (size_t)n;
    }
    for (int digits = 7; eight && digits >= 1; digits--) {
        uint64_t m2;
        int k2;
        if (!shortest_try(f, a, lo, hi, e10, digits, &m2, &k2))
            break;
        m = m2;
        k = k2;
    }
    while (m % 10 == 0) {
        m /= 10;
        k--;
    }
    char digits[24] = {0};
    int nd = 0;
    for (uint64_t t = m; t; t /= 10)
        nd++;
    for (int i = nd - 1; i >= 0; i--, m /= 10)
        digits[i] = (char)('0' + m % 10);
    int x = nd - 1 - k; /* decimal exponent of the first digit */

    if (af < 1e-6f || af >= 1e21f) {
        *p++ = digits[0];
        if (nd > 1) {
            *p++ = '.';
            memcpy(p, digits + 1, (size_t)(nd - 1));
            p += nd - 1;
        }
        p += snprintf(p, 8, x < 0 ? "e-%d" : "e+%02d", x < 0 ? -x : x);
    } else if (x >= 0) {
        for (int i = 0; i < nd || i <= x; i++) {
            if (i == x + 1)
                *p++ = '.';
            *p++ = i < nd ? digits[i] : '0';
        }
    } else {
        *p++ = '0';
        *p++ = '.';
        for (int i = -1; i > x; i--)
            *p++ = '0';
        memcpy(p, digits, (size_t)nd);
        p += nd;
    }
    *p = '\0';
    return (size_t)(p - out);
}

void fo_json_raw(yajl_gen g, const char *text, size_t len)
{
    /* yajl_gen_number writes its text as given, with the separators. */
    yajl_gen_number(g, text, len);
}

static void outbuf_print(void *ctx, const char *str, size_t len)
{
    fo_outbuf *o = ctx;
    if (o->oom)
        return;
    if (o->len + len + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 4096;
        while (cap < o->len + len + 1)
            cap *= 2;
        char *p = realloc(o->buf, cap);
        if (!p) {
            o->oom = 1;
            return;
        }
        o->buf = p;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, str, len);
    o->len += len;
    o->buf[o->len] = '\0';
}

yajl_gen fo_json_new_into(fo_outbuf *o, size_t cap_hint)
{
    memset(o, 0, sizeof *o);
    o->buf = malloc(cap_hint + 1);
    if (o->buf) {
        o->cap = cap_hint + 1;
        o->buf[0] = '\0';
    }
    yajl_gen g = yajl_gen_alloc(NULL);
    if (g)
        yajl_gen_config(g, yajl_gen_print_callback, outbuf_print, o);
    return g;
}

char *fo_json_finish_into(yajl_gen g, fo_outbuf *o, size_t *len)
{
    yajl_gen_free(g);
    if (o->oom || !o->buf) {
        free(o->buf);
        *len = 0;
        return NULL;
    }
    *len = o->len;
    return o->buf;
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
