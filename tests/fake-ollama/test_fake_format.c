/*
 * test_fake_format.c - the fake server's float printer (fo_format_f32 in
 * json.c) writes, for every float32, the shortest decimal that parses back
 * (strtof, correctly rounded) to the same bits, in Go's encoding/json
 * notation (what Ollama sends). Checked over special values, every power of
 * two, and millions of pseudo-random bit patterns and unit-vector-sized
 * values: the round trip is exact, and no decimal with one digit fewer
 * (neither neighbour of the exact value at that length) would round-trip.
 */
#include "support.h"
#include "fo_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint32_t bits_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* Significant digits of a printed number: from the first to the last non-zero
 * digit before any exponent. */
static int sig_digits(const char *s)
{
    int first = -1, last = -1, i = 0;
    for (; *s && *s != 'e'; s++) {
        if (*s < '0' || *s > '9')
            continue;
        if (*s != '0') {
            if (first < 0)
                first = i;
            last = i;
        }
        i++;
    }
    return first < 0 ? 0 : last - first + 1;
}

/* Does some decimal with `digits` significant digits parse back to f? Both
 * neighbours of the exact value at that length are tried; the exact value's
 * digits come from glibc's printf, which prints binary values exactly. */
static int fits_in(float f, int digits)
{
    char exact[96], cand[64];
    snprintf(exact, sizeof exact, "%.60e", fabs((double)f));
    /* exact = "d.dddd...e±XX" */
    const char *e = strchr(exact, 'e');
    int exp10 = atoi(e + 1);
    char d[16];
    d[0] = exact[0];
    memcpy(d + 1, exact + 2, (size_t)(digits - 1));
    d[digits] = '\0';
    unsigned long long down = strtoull(d, NULL, 10);
    for (int up = 0; up < 2; up++) {
        snprintf(cand, sizeof cand, "%llue%d", down + (unsigned long long)up,
                 exp10 - (digits - 1));
        if (bits_of(strtof(cand, NULL)) == bits_of(fabsf(f)))
            return 1;
    }
    return 0;
}

static void check(float f)
{
    char buf[32];
    size_t n = fo_format_f32(buf, f);
    assert_int_equal(n, strlen(buf));
    assert_true(n < 24);
    char *end = NULL;
    float back = strtof(buf, &end);
    assert_true(*end == '\0');
    if (bits_of(back) != bits_of(f)) {
        fprintf(stderr, "round trip failed: %.9g (0x%08x) -> '%s' -> 0x%08x\n", (double)f,
                bits_of(f), buf, bits_of(back));
        fail();
    }
    int nd = sig_digits(buf);
    if (f != 0.0f && nd > 1 && fits_in(f, nd - 1)) {
        fprintf(stderr, "not the shortest: %.9g (0x%08x) -> '%s'\n", (double)f, bits_of(f), buf);
        fail();
    }
    /* Go's notation: an exponent only outside [1e-6, 1e21). */
    float a = fabsf(f);
    int has_exp = strchr(buf, 'e') != NULL;
    assert_int_equal(has_exp, a != 0.0f && (a < 1e-6f || a >= 1e21f));
}

static void expect(float f, const char *want)
{
    char buf[32];
    fo_format_f32(buf, f);
    assert_string_equal(buf, want);
    check(f);
}

static void test_special_values(void **state)
{
    (void)state;
    /* What Go's json.Marshal writes for these float32 values. */
    expect(0.0f, "0");
    expect(-0.0f, "-0");
    expect(0.5f, "0.5");
    expect(-0.25f, "-0.25");
    expect(0.1f, "0.1");
    expect(1.0f / 3.0f, "0.33333334");
    expect(12300.0f, "12300");
    expect(123456789.0f, "123456790");
    expect(16777216.0f, "16777216");
    expect(1e-6f, "0.000001");
    expect(1e-7f, "1e-7");
    expect(ldexpf(1.0f, -23), "1.1920929e-7");
    expect(1e21f, "1e+21");
    expect(3.4028235e38f, "3.4028235e+38");
    expect(-3.4028235e38f, "-3.4028235e+38");
    expect(1.4e-45f, "1e-45");
    expect(1.17549435e-38f, "1.1754944e-38");
    expect(0.946142793f, "0.9461428");
    expect(0.0241398253f, "0.024139825");
    const float v[] = {1.0f, -1.0f, 1e-5f, 9.99999e-6f, 1e9f, -1.4e-45f, 100.0f, 99999999.0f,
                       1e20f, 9.999999e20f, 1.0000001e-6f, 9.999999e-7f};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        check(v[i]);
}

static void test_powers_of_two(void **state)
{
    (void)state;
    for (int e = -149; e <= 127; e++) {
        check(ldexpf(1.0f, e));
        check(-ldexpf(1.0f, e));
        check(nextafterf(ldexpf(1.0f, e), 0.0f));
        check(nextafterf(ldexpf(1.0f, e), INFINITY));
    }
}

static void test_powers_of_ten(void **state)
{
    (void)state;
    for (int e = -45; e <= 38; e++) {
        float f = strtof("1", NULL) * (float)pow(10.0, e);
        if (isinf(f))
            continue;
        check(f);
        check(nextafterf(f, 0.0f));
        check(nextafterf(f, INFINITY));
    }
}

static void test_random_bit_patterns(void **state)
{
    (void)state;
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    for (int i = 0; i < 500000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint32_t u = (uint32_t)(x >> 16);
        float f;
        memcpy(&f, &u, 4);
        if (isnan(f) || isinf(f))
            continue;
        check(f);
        /* values the size of unit-vector components */
        check((float)((double)(u % 2000001u) / 1000000.0 - 1.0) / 32.0f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_special_values),
        cmocka_unit_test(test_powers_of_two),
        cmocka_unit_test(test_powers_of_ten),
        cmocka_unit_test(test_random_bit_patterns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
