/*
 * embed/test_embed_parse.c - the float parser (correct float32 rounding on
 * hard cases, agreement with strtof on many random strings) and the
 * streaming reply parser (every chunk split, every error class, OpenAI
 * index order, error bodies).
 */
#include "support.h"

#include "embed/fparse.h"
#include "embed/reply.h"
#include "util/alloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static float parse(const char *s)
{
    float f = 12345.0f;
    if (resona__embed_parse_f32(s, strlen(s), &f) != 0)
        fail_msg("parse failed: %s", s);
    return f;
}

static uint32_t bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static void expect_same_as_strtof(const char *s)
{
    float want = strtof(s, NULL), got = parse(s);
    if (bits(want) != bits(got))
        fail_msg("%s: got %.9g (0x%08x), strtof %.9g (0x%08x)", s, got, bits(got), want,
                 bits(want));
}

static void test_fparse_hard_cases(void **state)
{
    (void)state;
    /* 1 + 1.5 * 2^-23 is the midpoint between 1+2^-23 and 1+2^-22. */
    assert_int_equal(bits(parse("1.000000178813934326171875")), bits(1.0f + 0x1p-22f)); /* tie: even */
    assert_int_equal(bits(parse("1.000000178813934326171874")), bits(1.0f + 0x1p-23f));
    assert_int_equal(bits(parse("1.000000178813934326171876")), bits(1.0f + 0x1p-22f));
    /* Double rounding: strtod then (float) gets this one wrong. */
    const char *dr = "1.00000017881393432617187499";
    assert_int_equal(bits(parse(dr)), bits(1.0f + 0x1p-23f));
    assert_int_not_equal(bits((float)strtod(dr, NULL)), bits(parse(dr)));
    const char *cases[] = {
        "0", "-0", "0.0", "1", "-1", "0.1", "0.5", "3.4028235e38", "3.4028236e38",
        "1.17549435e-38", "1.1754942e-38", "1e-45", "1.4e-45", "7e-46", "1e-50",
        "0.0100123450", "-0.0017", "-1.2345678e-05", "0.033465307", "123456789",
        "16777217", "16777216.5", "16777218.999999", "9007199254740993", "1e22", "1e23",
        "4.9406564584124654e-324", "0.30000001192092896", "0.30000001192092895",
        "2.98023223876953125e-8", "2.98023223876953124e-8", "2.98023223876953126e-8",
        "6.103515625e-05", "0.000000000000000000000000000000000000011754943508222875",
        "-0.000000000000000000000000000000000000011754942807573643",
        "8.5070592e+37", "1E+2", "1e-7", "4.2949673e9",
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_same_as_strtof(cases[i]);
    float f;
    const char *bad[] = {"", "-", "01", "1.", ".5", "1e", "1e+", "+1", "1.5x", "NaN", "inf",
                         "0x10", "1..2", "--1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (resona__embed_parse_f32(bad[i], strlen(bad[i]), &f) == 0)
            fail_msg("accepted %s", bad[i]);
    /* No NUL needed: only len bytes are read. */
    assert_int_equal(resona__embed_parse_f32("0.25xyz", 4, &f), 0);
    assert_true(f == 0.25f);
    /* Overflow gives infinity (the caller rejects it). */
    assert_int_equal(resona__embed_parse_f32("1e39", 4, &f), 0);
    assert_true(isinf(f));
}

static uint64_t rng_state = 88172645463325252ull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void test_fparse_random_vs_strtof(void **state)
{
    (void)state;
    char s[80];
    for (int i = 0; i < 300000; i++) {
        uint32_t u = (uint32_t)rnd();
        float f;
        memcpy(&f, &u, 4);
        if (!isfinite(f))
            continue;
        switch (i % 6) {
        case 0: snprintf(s, sizeof(s), "%.9g", f); break;
        case 1: snprintf(s, sizeof(s), "%.17g", (double)f); break;
        case 2: {
            /* Midpoints and their neighbours: the double-rounding traps. */
            float g = nextafterf(f, INFINITY);
            double mid = ((double)f + (double)g) / 2;
            double near = i % 12 == 2 ? nextafter(mid, 0) : nextafter(mid, INFINITY);
            snprintf(s, sizeof(s), "%.17g", i % 4 == 2 ? mid : near);
            break;
        }
        case 3: snprintf(s, sizeof(s), "%.6e", (double)f); break;
        case 4: snprintf(s, sizeof(s), "%.16g", (double)(rnd() % 2000000) / 1e6 - 1.0); break;
        default: snprintf(s, sizeof(s), "%.9g", (double)(int32_t)u / 2147483648.0); break;
        }
        /* JSON has no "inf"/"nan" and no leading '+'. */
        if (strchr(s, 'n') || strchr(s, 'i'))
            continue;
        char *p = strchr(s, 'e');
        if (p && p[1] == '+')
            memmove(p + 1, p + 2, strlen(p + 2) + 1);
        expect_same_as_strtof(s);
    }
}

/* ---- reply parser ---------------------------------------------------------------------- */

static int parse_reply(resona__reply_kind kind, const char *body, size_t expected, uint32_t dim,
                       size_t split, resona__reply *p)
{
    if (resona__reply_init(p, kind, expected, dim) < 0)
        return -1;
    size_t len = strlen(body);
    if (split > len)
        split = len;
    if (resona__reply_feed(p, body, split) < 0)
        return -1;
    if (resona__reply_feed(p, body + split, len - split) < 0)
        return -1;
    return resona__reply_finish(p);
}

static void test_reply_every_split(void **state)
{
    (void)state;
    const char *body = "{\"model\":\"m\",\"embeddings\":[[0.5,-0.25,1e-3],[1,2,3]],"
                       "\"total_duration\":14143917,\"x\":{\"y\":[1,[2]]}}";
    for (size_t split = 0; split <= strlen(body); split++) {
        resona__reply p;
        assert_int_equal(parse_reply(RESONA__REPLY_OLLAMA, body, 2, 0, split, &p), 0);
        assert_int_equal(p.dim, 3);
        float *v = resona__reply_take(&p);
        const float want[] = {0.5f, -0.25f, 1e-3f, 1, 2, 3};
        assert_memory_equal(v, want, sizeof(want));
        resona__free(v);
        resona__reply_free(&p);
    }
}

static void expect_reply_error(resona__reply_kind kind, const char *body, size_t expected,
                               uint32_t dim, resona__reply_error err, const char *msg_part)
{
    resona__reply p;
    if (parse_reply(kind, body, expected, dim, strlen(body) / 2, &p) == 0)
        fail_msg("accepted: %s", body);
    if (p.err != err || !strstr(p.msg, msg_part))
        fail_msg("%s: error %d \"%s\", expected %d \"%s\"", body, (int)p.err, p.msg, (int)err,
                 msg_part);
    resona__reply_free(&p);
}

static void test_reply_errors(void **state)
{
    (void)state;
    const resona__reply_kind O = RESONA__REPLY_OLLAMA;
    expect_reply_error(O, "{\"embeddings\":[[1,2],[3,4]]}", 3, 0, RESONA__REPLY_COUNT, "2 vectors for 3");
    expect_reply_error(O, "{\"embeddings\":[[1,2],[3,4],[5,6]]}", 2, 0, RESONA__REPLY_COUNT, "more than 2");
    expect_reply_error(O, "{\"embeddings\":[[1,2],[3,4,5]]}", 2, 0, RESONA__REPLY_DIM, "more than 2");
    expect_reply_error(O, "{\"embeddings\":[[1,2],[3]]}", 2, 0, RESONA__REPLY_DIM, "1 values, expected 2");
    expect_reply_error(O, "{\"embeddings\":[[1,2]]}", 1, 3, RESONA__REPLY_DIM, "expected 3");
    expect_reply_error(O, "{\"embeddings\":[[1,1e39]]}", 1, 0, RESONA__REPLY_NONFINITE, "not finite");
    expect_reply_error(O, "{\"embeddings\":[[1,null]]}", 1, 0, RESONA__REPLY_MALFORMED, "null");
    expect_reply_error(O, "{\"embeddings\":[[1,NaN]]}", 1, 0, RESONA__REPLY_MALFORMED, "invalid JSON");
    expect_reply_error(O, "{\"embeddings\":[[1,2]", 1, 0, RESONA__REPLY_MALFORMED, "invalid JSON");
    expect_reply_error(O, "{\"embeddings\":[[]]}", 1, 0, RESONA__REPLY_DIM, "empty");
    expect_reply_error(O, "{\"embeddings\":[1,2]}", 1, 0, RESONA__REPLY_MALFORMED, "list holds");
    expect_reply_error(O, "{\"embeddings\":[[[1]]]}", 1, 0, RESONA__REPLY_MALFORMED, "array");
    expect_reply_error(O, "{\"embeddings\":[[\"1\"]]}", 1, 0, RESONA__REPLY_MALFORMED, "string");
    expect_reply_error(O, "{\"embeddings\":[{}]}", 1, 0, RESONA__REPLY_MALFORMED, "object");
    expect_reply_error(O, "{\"model\":\"m\"}", 1, 0, RESONA__REPLY_MALFORMED, "no \"embeddings\"");
    expect_reply_error(O, "[[1]]", 1, 0, RESONA__REPLY_MALFORMED, "array");
    expect_reply_error(O, "", 1, 0, RESONA__REPLY_MALFORMED, "invalid JSON");
    expect_reply_error(O, "{\"embeddings\":[[1]],\"embeddings\":[[1]]}", 1, 0,
                       RESONA__REPLY_MALFORMED, "two");
    expect_reply_error(RESONA__REPLY_OPENAI,
                       "{\"data\":[{\"embedding\":\"AAAA\",\"index\":0}]}", 1, 0,
                       RESONA__REPLY_MALFORMED, "base64");
    expect_reply_error(RESONA__REPLY_OPENAI,
                       "{\"data\":[{\"embedding\":[1],\"index\":0},{\"embedding\":[2],\"index\":0}]}",
                       2, 0, RESONA__REPLY_MALFORMED, "twice");
    expect_reply_error(RESONA__REPLY_OPENAI, "{\"data\":[{\"embedding\":[1],\"index\":5}]}", 1, 0,
                       RESONA__REPLY_MALFORMED, "out of range");
    expect_reply_error(RESONA__REPLY_OPENAI, "{\"data\":[{\"index\":0}]}", 1, 0,
                       RESONA__REPLY_MALFORMED, "no embedding");
}

static void test_reply_openai_and_legacy(void **state)
{
    (void)state;
    resona__reply p;
    const char *body = "{\"object\":\"list\",\"data\":["
                       "{\"object\":\"embedding\",\"index\":2,\"embedding\":[3,3]},"
                       "{\"embedding\":[1,1],\"object\":\"embedding\",\"index\":0},"
                       "{\"object\":\"embedding\",\"embedding\":[2,2],\"index\":1}],"
                       "\"model\":\"m\",\"usage\":{\"prompt_tokens\":3,\"total_tokens\":3}}";
    for (size_t split = 0; split <= strlen(body); split += 7) {
        assert_int_equal(parse_reply(RESONA__REPLY_OPENAI, body, 3, 2, split, &p), 0);
        const float want[] = {1, 1, 2, 2, 3, 3};
        float *v = resona__reply_take(&p);
        assert_memory_equal(v, want, sizeof(want));
        resona__free(v);
        resona__reply_free(&p);
    }
    assert_int_equal(parse_reply(RESONA__REPLY_LEGACY, "{\"embedding\":[0.25,0.5]}", 1, 0, 5, &p), 0);
    assert_int_equal(p.dim, 2);
    assert_true(p.vecs[1] == 0.5f);
    resona__reply_free(&p);
}

static void test_error_bodies(void **state)
{
    (void)state;
    char m[64];
    const char *b1 = "{\"error\":\"the input length exceeds the context length\"}";
    resona__reply_error_message(b1, strlen(b1), m, sizeof(m));
    assert_string_equal(m, "the input length exceeds the context length");
    const char *b2 = "{\"error\":{\"message\":\"model 'x' not found\",\"type\":\"not_found_error\",\"param\":null}}";
    resona__reply_error_message(b2, strlen(b2), m, sizeof(m));
    assert_string_equal(m, "model 'x' not found");
    const char *b3 = "404 page not found\n";
    resona__reply_error_message(b3, strlen(b3), m, sizeof(m));
    assert_string_equal(m, "404 page not found");
    resona__reply_error_message("", 0, m, sizeof(m));
    assert_string_equal(m, "");
    char tiny[8];
    resona__reply_error_message(b1, strlen(b1), tiny, sizeof(tiny));
    assert_string_equal(tiny, "the inp");
}

/* Allocation failures during a reply are reported, never crash or leak. */
static void test_reply_alloc_failures(void **state)
{
    (void)state;
    const char *body = "{\"embeddings\":[[0.5,-0.25,1e-3],[1,2,3]]}";
    for (long n = 0; n < 20; n++) {
        resona__alloc_fail_after(n);
        resona__reply p;
        int rc = parse_reply(RESONA__REPLY_OLLAMA, body, 2, 0, 9, &p);
        resona__alloc_fail_after(-1);
        if (rc == 0)
            assert_int_equal(p.dim, 3);
        resona__reply_free(&p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fparse_hard_cases),
        cmocka_unit_test(test_fparse_random_vs_strtof),
        cmocka_unit_test(test_reply_every_split),
        cmocka_unit_test(test_reply_errors),
        cmocka_unit_test(test_reply_openai_and_legacy),
        cmocka_unit_test(test_error_bodies),
        cmocka_unit_test(test_reply_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
