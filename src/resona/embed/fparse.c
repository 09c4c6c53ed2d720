/*
 * embed/fparse.c - correctly rounded decimal -> float32 (see fparse.h).
 */
#define _GNU_SOURCE 1 /* strtof_l, newlocale: locale-independent parsing */
#include "embed/fparse.h"

#include "util/alloc.h"

#include <locale.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void)
{
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/* Validate the JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int json_number_valid(const char *s, size_t len)
{
    size_t i = 0;
    if (i < len && s[i] == '-')
        i++;
    if (i >= len)
        return 0;
    if (s[i] == '0') {
        i++;
    } else if (s[i] >= '1' && s[i] <= '9') {
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
    } else {
        return 0;
    }
    if (i < len && s[i] == '.') {
        i++;
        size_t start = i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start)
            return 0;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t start = i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start)
            return 0;
    }
    return i == len;
}

int resona__embed_parse_f32_slow(const char *s, size_t len, float *out)
{
    if (!json_number_valid(s, len))
        return -1;
    pthread_once(&c_locale_once, c_locale_init);
    char small[128];
    char *tmp = small;
    if (len >= sizeof(small)) {
        tmp = resona__malloc(len + 1);
        if (!tmp)
            return -1;
    }
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    float f = c_locale ? strtof_l(tmp, NULL, c_locale) : strtof(tmp, NULL);
    if (tmp != small)
        resona__free(tmp);
    *out = f;
    return 0;
}

int resona__embed_parse_f32(const char *s, size_t len, float *out)
{
    size_t i = 0;
    int neg = 0;
    if (i < len && s[i] == '-') {
        neg = 1;
        i++;
    }
    uint64_t mant = 0;
    int digits = 0;   /* significant digits accumulated in mant */
    int exp10 = 0;    /* value = mant * 10^exp10 */
    size_t int_start = i;
    while (i < len && (unsigned)(s[i] - '0') <= 9) {
        if (digits < 19) {
            mant = mant * 10 + (uint64_t)(s[i] - '0');
            if (mant)
                digits++;
        } else {
            return resona__embed_parse_f32_slow(s, len, out);
        }
        i++;
    }
    size_t int_len = i - int_start;
    if (int_len == 0 || (int_len > 1 && s[int_start] == '0'))
        return -1;
    if (i < len && s[i] == '.') {
        i++;
        size_t frac_start = i;
        while (i < len && (unsigned)(s[i] - '0') <= 9) {
            if (digits >= 19)
                return resona__embed_parse_f32_slow(s, len, out);
            mant = mant * 10 + (uint64_t)(s[i] - '0');
            if (mant)
                digits++;
            exp10--;
            i++;
        }
        if (i == frac_start)
            return -1;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        int eneg = 0;
        if (i < len && (s[i] == '+' || s[i] == '-')) {
            eneg = s[i] == '-';
            i++;
        }
        size_t exp_start = i;
        int e = 0;
        while (i < len && (unsigned)(s[i] - '0') <= 9) {
            if (e < 100000)
                e = e * 10 + (s[i] - '0');
            i++;
        }
        if (i == exp_start)
            return -1;
        exp10 += eneg ? -e : e;
    }
    if (i != len)
        return -1;
    if (mant == 0) {
        *out = neg ? -0.0f : 0.0f;
        return 0;
    }
    if (mant > (UINT64_C(1) << 53) || exp10 < -22 || exp10 > 22)
        return resona__embed_parse_f32_slow(s, len, out);
    double d = (double)mant;
    d = exp10 < 0 ? d / pow10_exact[-exp10] : d * pow10_exact[exp10];
    uint64_t bits;
    memcpy(&bits, &d, sizeof(bits));
    unsigned bexp = (unsigned)(bits >> 52) & 0x7ffu;
    /* Normal float32 range only: 2^-126 <= d < 2^127 (biased 897..1150). */
    if (bexp < 1023 - 126 || bexp > 1023 + 126)
        return resona__embed_parse_f32_slow(s, len, out);
    /* The 29 mantissa bits below float32 precision: exactly 1000..0 = midpoint. */
    if ((bits & ((UINT64_C(1) << 29) - 1)) == (UINT64_C(1) << 28))
        return resona__embed_parse_f32_slow(s, len, out);
    float f = (float)d;
    *out = neg ? -f : f;
    return 0;
}
