/*
 * sync/jsnum.c - JavaScript's Number::toString (radix 10) in C.
 *
 * The shortest round-trip digits are found by asking printf for 1..17
 * significant digits and keeping the first that strtod reads back exactly;
 * ECMA-262 (Number::toString) then decides between plain and exponent form.
 * Integer literals of up to 15 digits (all Tana timestamps) skip all of it.
 */
#include "sync/jsnum.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t st_jsnum_format(double v, char *out)
{
    if (isnan(v)) {
        memcpy(out, "NaN", 4);
        return 3;
    }
    if (isinf(v)) {
        const char *s = v < 0 ? "-Infinity" : "Infinity";
        size_t n = strlen(s);
        memcpy(out, s, n + 1);
        return n;
    }
    if (v == 0) {
        memcpy(out, "0", 2);
        return 1;
    }
    size_t pos = 0;
    if (v < 0) {
        out[pos++] = '-';
        v = -v;
    }
    /* Shortest digits: d.ddddde[+-]x from printf. */
    char buf[40];
    int prec;
    for (prec = 0; prec < 17; prec++) {
        snprintf(buf, sizeof(buf), "%.*e", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    if (prec == 17)
        snprintf(buf, sizeof(buf), "%.*e", 16, v);
    char digits[24];
    size_t k = 0;
    const char *p = buf;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9')
            digits[k++] = *p;
    while (k > 1 && digits[k - 1] == '0')
        k--;
    int e10 = atoi(p + 1); /* exponent of the first digit */
    int n = e10 + 1;       /* position of the decimal point */
    int ik = (int)k;
    if (ik <= n && n <= 21) {
        memcpy(out + pos, digits, k);
        pos += k;
        for (int i = 0; i < n - ik; i++)
            out[pos++] = '0';
    } else if (0 < n && n <= 21) {
        memcpy(out + pos, digits, (size_t)n);
        pos += (size_t)n;
        out[pos++] = '.';
        memcpy(out + pos, digits + n, k - (size_t)n);
        pos += k - (size_t)n;
    } else if (-6 < n && n <= 0) {
        out[pos++] = '0';
        out[pos++] = '.';
        for (int i = 0; i < -n; i++)
            out[pos++] = '0';
        memcpy(out + pos, digits, k);
        pos += k;
    } else {
        out[pos++] = digits[0];
        if (k > 1) {
            out[pos++] = '.';
            memcpy(out + pos, digits + 1, k - 1);
            pos += k - 1;
        }
        pos += (size_t)snprintf(out + pos, ST_JSNUM_MAX - pos, "e%c%d", n - 1 < 0 ? '-' : '+',
                                abs(n - 1));
    }
    out[pos] = '\0';
    return pos;
}

size_t st_jsnum_format_raw(const char *raw, size_t len, double v, char *out)
{
    size_t i = (len > 0 && raw[0] == '-') ? 1 : 0;
    size_t ndig = len - i;
    if (ndig >= 1 && ndig <= 15) {
        size_t j = i;
        while (j < len && raw[j] >= '0' && raw[j] <= '9')
            j++;
        if (j == len) {
            if (v == 0) {
                memcpy(out, "0", 2);
                return 1;
            }
            memcpy(out, raw, len);
            out[len] = '\0';
            return len;
        }
    }
    return st_jsnum_format(v, out);
}
