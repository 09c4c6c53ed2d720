/*
 * embed/test_embed_short.c - a short client run for valgrind (ctest
 * embed_valgrind): two servers, pipelining, a 500 retry, a malformed reply,
 * a context-length bisection with truncation, a stop, and freeing with
 * requests still in flight. valgrind fails the test on any memory error or
 * definite leak.
 */
#include "support.h"

#include "embed_util.h"
#include "fake_ollama.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_short_run(void **state)
{
    (void)state;
    ts_fake a, b;
    assert_int_equal(ts_fake_start("--dim 32 --latency-ms 2 --fail-nth 2:500 --malformed-nth 4 "
                                   "--max-input-chars 40",
                                   &a),
                     0);
    assert_int_equal(ts_fake_start("--dim 32 --latency-ms 3 --max-input-chars 40", &b), 0);
    const char *urls[] = {a.url, b.url};
    resona_embedder_options o;
    eu_options(&o, urls, 2);
    o.max_texts = 4;
    resona_embedder *e = NULL;
    assert_int_equal(resona_embedder_new(&o, &e), 0);
    assert_int_equal(resona_embedder_preflight(e), 0);
    eu_collect c = {0};
    resona_embedder_set_sink(e, eu_sink, &c);
    for (int i = 0; i < 60; i++) {
        char t[128];
        if (i % 17 == 5)
            snprintf(t, sizeof(t), "a long text number %d that is well over forty characters", i);
        else
            snprintf(t, sizeof(t), "short %d", i);
        assert_int_equal(resona_embedder_submit(e, t, strlen(t), (uint64_t)i), 0);
    }
    assert_int_equal(resona_embedder_drain(e), 0);
    assert_int_equal(c.count, 60);
    for (size_t i = 0; i < 60; i++) {
        assert_int_equal(c.r[i].status, 0);
        assert_int_equal(c.r[i].truncated, i % 17 == 5);
    }
    /* Free with requests in flight: nothing leaks. */
    for (int i = 0; i < 10; i++)
        assert_int_equal(resona_embedder_submit(e, "pending", 7, 0), 0);
    assert_true(resona_embedder_poll(e, 0) >= 0);
    resona_embedder_free(e);

    /* Stop. */
    assert_int_equal(resona_embedder_new(&o, &e), 0);
    resona_embedder_set_sink(e, eu_sink, &c);
    for (int i = 0; i < 20; i++)
        assert_int_equal(resona_embedder_submit(e, "x", 1, 0), 0);
    resona_embedder_stop(e);
    assert_int_equal(resona_embedder_drain(e), RESONA_EINTERRUPTED);
    resona_embedder_free(e);
    eu_collect_free(&c);
    ts_fake_stop(&a);
    ts_fake_stop(&b);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_short_run)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
