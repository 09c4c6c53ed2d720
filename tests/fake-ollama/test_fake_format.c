/*
 * test_fake_format.c - the fake server's float printer (fo_format_f32 in
 * json.c) round-trips float32 exactly: every printed value parses back
 * (strtof) to the same bits, over special values, every power of two, and
 * a few million pseudo-random bit patterns and unit-vector-sized values.
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

static void check(float f)
{
    char buf[32];
    size_t n = fo_format_f32(buf, f);
    assert_int_equal(n, strlen(buf));
    assert_true(n < 20);
    char *end = NULL;
    float back = strtof(buf, &end);
    assert_true(*end == '\0');
    if (bits_of(back) != bits_of(f)) {
        fprintf(stderr, "round trip failed: %.9g (0x%08x) -> '%s' -> 0x%08x\n", (double)f,
                bits_of(f), buf, bits_of(back));
        fail();
    }
}

static void test_special_values(void **state)
{
    (void)state;
    const float v[] = {0.0f,       -0.0f,         1.0f,           -1.0f,           0.1f,
                       0.5f,       1e-5f,         9.99999e-6f,    1e-6f,           123456789.0f,
                       1e9f,       3.4028235e38f, -3.4028235e38f, 1.17549435e-38f, 1.4e-45f,
                       -1.4e-45f,  0.946142793f,  0.0241398253f,  100.0f,          12300.0f,
                       99999999.0f};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        check(v[i]);
    char buf[32];
    fo_format_f32(buf, 0.5f);
    assert_string_equal(buf, "0.5");
    fo_format_f32(buf, -0.25f);
    assert_string_equal(buf, "-0.25");
    fo_format_f32(buf, 12300.0f);
    assert_string_equal(buf, "12300");
    fo_format_f32(buf, ldexpf(1.0f, -23)); /* 1.1920928955078125e-07 */
    assert_string_equal(buf, "1.1920929e-07");
    fo_format_f32(buf, 0.0f);
    assert_string_equal(buf, "0");
}

static void test_powers_of_two(void **state)
{
    (void)state;
    for (int e = -149; e <= 127; e++) {
        check(ldexpf(1.0f, e));
        check(-ldexpf(1.0f, e));
        check(nextafterf(ldexpf(1.0f, e), 0.0f));
    }
}

static void test_random_bit_patterns(void **state)
{
    (void)state;
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    for (int i = 0; i < 2000000; i++) {
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
        cmocka_unit_test(test_random_bit_patterns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
