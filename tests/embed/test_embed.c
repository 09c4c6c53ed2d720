/*
 * embed/test_embed.c - the embedding client against the fake Ollama server:
 * ordering under pipelining and with several servers, load spreading, a
 * server dying mid-run, every fault class with its specified outcome, the
 * legacy and OpenAI endpoints, stop, preflight, and the API key never
 * showing up in logs or errors.
 *
 * Every vector is compared bit for bit with the fixture definition of the
 * fake's vectors (embed_util.c), which proves both order and parsing.
 */
#include "support.h"

#include "embed/embedder.h"
#include "embed_util.h"
#include "fake_ollama.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DIM 16

/*
 * Fakes started by a test are tracked so that a failing test (cmocka jumps
 * out of it) does not leave a server running that holds ctest's output pipe.
 */
static pid_t live_fakes[32];

static int fake_start(const char *args, ts_fake *f)
{
    int rc = ts_fake_start(args, f);
    for (size_t i = 0; rc == 0 && i < 32; i++) {
        if (live_fakes[i] == 0) {
            live_fakes[i] = f->pid;
            break;
        }
    }
    return rc;
}

static int fake_stop(ts_fake *f)
{
    for (size_t i = 0; i < 32; i++)
        if (live_fakes[i] == f->pid)
            live_fakes[i] = 0;
    return ts_fake_stop(f);
}

static int kill_leftover_fakes(void **state)
{
    (void)state;
    for (size_t i = 0; i < 32; i++) {
        if (live_fakes[i] > 0) {
            kill(live_fakes[i], SIGKILL);
            waitpid(live_fakes[i], NULL, 0);
        }
        live_fakes[i] = 0;
    }
    return 0;
}

static char *text_of(size_t i)
{
    char *t = malloc(64);
    snprintf(t, 64, "text number %zu", i);
    return t;
}

/* A 200-character text, different for each seed. */
static const char *long_text_n(size_t seed)
{
    static char t[4][201];
    char *b = t[seed % 4];
    for (size_t i = 0; i < 200; i++)
        b[i] = (char)('a' + (i + seed) % 26);
    b[200] = '\0';
    return b;
}

static const char *long_text(void)
{
    return long_text_n(0);
}

/* Submit n texts "text number i" with tag 1000+i and drain; returns drain's code. */
static int run_texts(resona_embedder *e, eu_collect *c, size_t n)
{
    resona_embedder_set_sink(e, eu_sink, c);
    for (size_t i = 0; i < n; i++) {
        char *t = text_of(i);
        int rc = resona_embedder_submit(e, t, strlen(t), 1000 + i);
        free(t);
        if (rc < 0)
            return rc;
    }
    return resona_embedder_drain(e);
}

/* Every result in order, tagged, and equal to the reference (exact or within tol). */
static void check_all_exact(const eu_collect *c, size_t n, uint64_t base, float tol)
{
    assert_int_equal(c->count, n);
    for (size_t i = 0; i < n; i++) {
        const eu_result *r = &c->r[i];
        assert_int_equal(r->index, base + i);
        assert_int_equal(r->tag, 1000 + i);
        if (r->status != 0)
            fail_msg("input %zu failed: %s", i, r->reason ? r->reason : "?");
        assert_int_equal(r->dim, DIM);
        assert_int_equal(r->truncated, 0);
        char *t = text_of(i);
        float *want = eu_ref_vector(t, strlen(t), DIM);
        for (uint32_t j = 0; j < DIM; j++) {
            if (tol == 0 && memcmp(&want[j], &r->vector[j], sizeof(float)) != 0)
                fail_msg("input %zu value %u: %.9g != %.9g", i, j, r->vector[j], want[j]);
            if (tol > 0 && (r->vector[j] - want[j] > tol || want[j] - r->vector[j] > tol))
                fail_msg("input %zu value %u: %.9g != %.9g", i, j, r->vector[j], want[j]);
        }
        free(want);
        free(t);
    }
}

static resona_embedder *make(resona_embedder_options *o)
{
    resona_embedder *e = NULL;
    if (resona_embedder_new(o, &e) < 0)
        fail_msg("resona_embedder_new: %s", resona_error_message());
    return e;
}

static char *tmp_log(char **dir)
{
    *dir = ts_tmpdir("embed");
    return ts_path(*dir, "fake.jsonl");
}

/* ---- ordering, pipelining, several servers ------------------------------------ */

static void test_basic_order_and_batching(void **state)
{
    (void)state;
    char *dir, *log = tmp_log(&dir);
    char args[512];
    snprintf(args, sizeof(args), "--dim %d --latency-ms 1 --log %s", DIM, log);
    ts_fake f;
    assert_int_equal(fake_start(args, &f), 0);
    const char *urls[] = {f.url};
    resona_embedder_options o;
    eu_options(&o, urls, 1);
    o.max_texts = 7;
    resona_embedder *e = make(&o);
    assert_int_equal(resona_embedder_preflight(e), 0);
    eu_collect c = {0};
    assert_int_equal(run_texts(e, &c, 200), 0);
    check_all_exact(&c, 200, 0, 0);
    resona_embed_stats st;
    resona_embedder_stats(e, &st);
    assert_int_equal(st.requests, (200 + 6) / 7); /* every request full but the last */
    assert_int_equal(st.inputs_embedded, 200);
    assert_int_equal(st.retries, 0);
    assert_int_equal(resona_embedder_dim(e), DIM);
    assert_int_equal(resona_embedder_pending(e), 0);
    /* The fake saw exactly those requests. */
    assert_int_equal(eu_log_requests(log, 200), (200 + 6) / 7);
    /* A second stream continues the indexes. */
    eu_collect c2 = {0};
    resona_embedder_set_sink(e, eu_sink, &c2);
    assert_int_equal(resona_embedder_submit(e, "x", 1, 7), 0);
    assert_int_equal(resona_embedder_drain(e), 0);
    assert_int_equal(c2.count, 1);
    assert_int_equal(c2.r[0].index, 200);
    eu_collect_free(&c2);
    eu_collect_free(&c);
    resona_embedder_free(e);
    assert_int_equal(fake_stop(&f), 0);
    ts_rmtree(dir);
    free(dir);
    free(log);
}

/* max_bytes splits batches by text size; one oversized text still goes alone. */
static void test_batch_bytes(void **state)
{
    (void)state;
    ts_fake f;
    assert_int_equal(fake_start("--dim 16", &f), 0);
    const char *urls[] = {f.url};
    resona_embedder_options o;
    eu_options(&o, urls, 1);
    o.max_texts = 100;
    o.max_bytes = 40; /* texts of 13 and 14 bytes: 3 or 2 per request */
    resona_embedder *e = make(&o);
    eu_collect c = {0};
    assert_int_equal(run_texts(e, &c, 20), 0);
    check_all_exact(&c, 20, 0, 0);
    resona_embed_stats st;
    resona_embedder_stats(e, &st);
    /* Greedy packing: 0-2, 3-5, 6-8, 9-10 (13+14), 11-12, ..., 19 */
    size_t want = 0, bytes = 0, in = 0;
    for (size_t i = 0; i < 20; i++) {
        char *t = text_of(i);
        size_t len = strlen(t);
        free(t);
        if (in > 0 && bytes + len > 40) {
            want++;
            bytes = 0;
            in = 0;
        }
        bytes += len;
        in++;
    }
    want += in > 0;
    assert_int_equal(st.requests, want);
    assert_int_equal(want, 9);
    /* A text bigger than max_bytes goes alone. */
    eu_collect c2 = {0};
    resona_embedder_set_sink(e, eu_sink, &c2);
    assert_int_equal(resona_embedder_submit(e, long_text(), 200, 1), 0);
    assert_int_equal(resona_embedder_submit(e, "b", 1, 2), 0);
    assert_int_equal(resona_embedder_drain(e), 0);
    assert_int_equal(c2.count, 2);
    assert_int_equal(c2.r[0].status, 0);
    resona_embedder_stats(e, &st);
    assert_int_equal(st.requests, want + 2);
    eu_collect_free(&c2);
    eu_collect_free(&c);
    resona_embedder_free(e);
    fake_stop(&f);
}

static size_t lines_with(const char *path, const char *needle)
{
    char *data = ts_read_file(path, NULL);
    size_t n = 0;
    for (char *p = data; p && (p = strstr(p, needle)) != NULL; p++)
        n++;
    free(data);
    return n;
}

static void test_three_servers_order_and_spread(void **state)
{
    (void)state;
    char *dir = ts_tmpdir("embed3");
    ts_fake f[3];
    /* 7, 15 and 85 ms a request of 5 inputs: the fast/slow ratio (12x) stays
     * above the 2x asserted below even when a loaded machine adds tens of
     * milliseconds to every request of every server */
    const char *lat[3] = {"--latency-ms 2", "--latency-ms 10", "--latency-ms 80"};
    char *logs[3];
    const char *urls[3];
    for (int i = 0; i < 3; i++) {
        char name[32], args[512];
        snprintf(name, sizeof(name), "fake%d.jsonl", i);
        logs[i] = ts_path(dir, name);
        snprintf(args, sizeof(args), "--dim %d %s --per-input-ms 1 --log %s", DIM, lat[i],
                 logs[i]);
        assert_int_equal(fake_start(args, &f[i]), 0);
        urls[i] = f[i].url;
    }
    resona_embedder_options o;
    eu_options(&o, urls, 3);
    o.max_texts = 5;
    resona_embedder *e = make(&o);
    eu_collect c = {0};
    assert_int_equal(run_texts(e, &c, 400), 0);
    check_all_exact(&c, 400, 0, 0);
    resona_embed_server_stats ss[3];
    uint64_t total = 0;
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(resona_embedder_server_stats(e, i, &ss[i]), 0);
        /* The server's own log agrees with the client's count. */
        assert_int_equal(eu_log_requests(logs[i], 200), ss[i].requests_ok);
        assert_true(ss[i].requests > 0);
        total += ss[i].inputs_embedded;
    }
    assert_int_equal(total, 400);
    /* Spread by load: the fastest server did clearly more than the slowest. */
    assert_true(ss[0].requests > 2 * ss[2].requests);
    assert_int_equal(resona_embedder_server_stats(e, 3, &ss[0]), RESONA_EINVALID);
    /* Pipelining: each server had a second request queued (start(k+1) == end(k) mostly). */
    assert_true(lines_with(logs[0], "\"path\":\"/api/embed\"") > 10);
    eu_collect_free(&c);
    resona_embedder_free(e);
    for (int i = 0; i < 3; i++) {
        fake_stop(&f[i]);
        free(logs[i]);
    }
    ts_rmtree(dir);
    free(dir);
}

/* A server killed mid-run: its work is redone on the other one. */
typedef struct kill_ctx {
    ts_fake *victim;
    size_t after;
    int done;
} kill_ctx;

static int kill_hook(eu_collect *c, const resona_embed_result *r)
{
    (void)r;
    kill_ctx *k = c->hook_data;
    if (!k->done && c->count >= k->after) {
        kill(k->victim->pid, SIGKILL);
        fake_stop(k->victim);
        k->done = 1;
    }
    return 0;
}

static void test_server_dies_mid_run(void **state)
{
    (void)state;
    ts_fake a, b;
    assert_int_equal(fake_start("--dim 16 --latency-ms 5", &a), 0);
    assert_int_equal(fake_start("--dim 16 --latency-ms 5", &b), 0);
    const char *urls[] = {a.url, b.url};
    resona_embedder_options o;
    eu_options(&o, urls, 2);
    o.max_texts = 4;
    resona_embedder *e = make(&o);
    eu_collect c = {0};
    kill_ctx k = {&b, 20, 0};
    c.hook = kill_hook;
    c.hook_data = &k;
    assert_int_equal(run_texts(e, &c, 300), 0);
    assert_true(k.done);
    check_all_exact(&c, 300, 0, 0);
    resona_embed_server_stats sa, sb;
    resona_embedder_server_stats(e, 0, &sa);
    resona_embedder_server_stats(e, 1, &sb);
    assert_int_equal(sb.up, 0);
    assert_true(sa.inputs_embedded > sb.inputs_embedded);
    assert_int_equal(sa.inputs_embedded + sb.inputs_embedded, 300);
    resona_embed_stats st;
    resona_embedder_stats(e, &st);
    assert_true(st.probes >= 1);
    eu_collect_free(&c);
    resona_embedder_free(e);
    fake_stop(&a);
}

/* ---- transient faults ------------------------------------------------------------ */

static void run_fault(const char *fault_args, size_t n, size_t max_texts, unsigned window,
                      resona_embed_stats *st_out, eu_collect *c, int expect_rc)
{
    char args[512];
    snprintf(args, sizeof(args), "--dim %d %s", DIM, fault_args);
    ts_fake f;
    assert_int_equal(fake_start(args, &f), 0);
    const char *urls[] = {f.url};
    resona_embedder_options o;
    eu_options(&o, urls, 1);
    o.max_texts = max_texts;
    o.inflight_per_server = window;
    o.request_timeout_ms = 400;
    o.per_input_timeout_ms = 1;
    o.max_retries = 3;
    resona_embedder *e = make(&o);
    int rc = run_texts(e, c, n);
    if (rc != expect_rc)
        fail_msg("drain returned %d, expected %d: %s", rc, expect_rc, resona_error_message());
    resona_embedder_stats(e, st_out);
    resona_embedder_free(e);
    fake_stop(&f);
}

static void test_retry_5xx_and_503(void **state)
{
    (void)state;
    resona_embed_stats st;
    eu_collect c = {0};
    run_fault("--fail-nth 2:500 --fail-nth 4:503 --fail-nth 5:429", 40, 4, 2, &st, &c, 0);
    check_all_exact(&c, 40, 0, 0);
    assert_int_equal(st.retries, 3);
    assert_int_equal(st.http_errors, 3);
    assert_int_equal(st.inputs_failed, 0);
    eu_collect_free(&c);
}

static void test_burst_503_backoff(void **state)
{
    (void)state;
    resona_embed_stats st;
    eu_collect c = {0};
    run_fault("--burst-503 2:3", 30, 5, 1, &st, &c, 0);
    check_all_exact(&c, 30, 0, 0);
    assert_int_equal(st.retries, 3);
    assert_true(st.probes >= 3); /* the server left the rotation and was re-probed each time */
    eu_collect_free(&c);
}

static void test_retries_bounded(void **state)
{
    (void)state;
    resona_embed_stats st;
    eu_collect c = {0};
    /* Every request fails: each batch is tried 1 + max_retries times, then its inputs fail. */
    run_fault("--fail-rate 1.0:500", 8, 4, 1, &st, &c, 0);
    assert_int_equal(c.count, 8);
    for (size_t i = 0; i < 8; i++) {
        assert_int_equal(c.r[i].status, RESONA_EHTTP);
        assert_non_null(strstr(c.r[i].reason, "HTTP 500"));
        assert_non_null(strstr(c.r[i].reason, "gave up after 4 attempts"));
    }
    assert_int_equal(st.requests, 8);
    assert_int_equal(st.inputs_failed, 8);
    eu_collect_free(&c);
}

static void test_read_timeout(void **state)
{
    (void)state;
    resona_embed_stats st;
    eu_collect c = {0};
    run_fault("--delay-nth 1:1500", 12, 4, 1, &st, &c, 0);
    check_all_exact(&c, 12, 0, 0);
    assert_true(st.timeouts >= 1);
    assert_true(st.retries >= 1);
    eu_collect_free(&c);
}

static void test_truncated_body_retried(void **state)
{
    (void)state;
    resona_embed_stats st;
    eu_collect c = {0};
    run_fault("--truncate-nth 2", 16, 4, 2, &st, &c, 0);
    check_all_exact(&c, 16, 0, 0);
    assert_int_equal(st.retries, 1);
    eu_collect_free(&c);
}

/* Backoff: doubles per failure from base, capped, jittered uniformly in [d/2, d]. */
static void test_backoff_bounds(void **state)
{
    (void)state;
    const char *urls[] = {"http://127.0.0.1:1"};
    resona_embedder_options o;
    eu_options(&o, urls, 1);
    o.backoff_base_ms = 100;
    o.backoff_max_ms = 1000;
    resona_embedder *e = make(&o);
    for (unsigned n = 1; n <= 8; n++) {
        long d = 100L << (n - 1);
        if (d > 1000)
            d = 1000;
        long lo = d, hi = 0;
        for (int k = 0; k < 400; k++) {
            long b = resona__embed_backoff(e, n);
            assert_true(b >= d / 2 && b <= d);
            lo = b < lo ? b : lo;
            hi = b > hi ? b : hi;
        }
        assert_true(hi - lo > d / 4); /* jittered, not constant */
    }
    resona_embedder_free(e);
}

/* The total retry time bounds a batch even with a generous retry count. */
static void test_retry_total_time_bounded(void **state)
{
    (void)state;
    ts_fake f;
    assert_int_equal(fake_start("--dim 16 --fail-rate 1.0:503", &f), 0);
    const char *urls[] = {f.url};
    resona_embedder_options o;
    eu_options(&o, urls, 1);
    o.max_retries = 1000;
    o.retry_total_ms = 300;
    o.backoff_base_ms = 20;
    o.backoff_max_ms = 40;
    resona_embedder *e = make(&o);
    eu_collect c = {0};
    time_t t0 = time(NULL);
    assert_int_equal(run_texts(e, &c, 4), 0);
    assert_true(time(NULL) - t0 < 5);
    assert_int_equal(c.count, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(c.r[i].status, RESONA_EHTTP);
        assert_non_null(strstr(c.r[i].reason, "HTTP 503"));
        assert_non_null(strstr(c.r[i].reason, "server busy"));
        assert_non_null(strstr(c.r[i].reason, "gave up after"));
    }
    resona_embed_stats st;
    resona_embedder_stats(e, &st);
    if (!(st.retries >= 1 && st.retries < 100))
        fail_msg("retries %llu", (unsigned long long)st.retries);
    eu_collect_free(&c);
    resona_embedder_free(e);
    fake_stop(&f);
}

/* Connect timeout: a listening socket whose accept queue is full drops SYNs. */
static void test_connect_timeout(void **state)
{
    (void)state;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(lfd, 0), 0);
    socklen_t sl = sizeof(sa);
    getsockname(lfd, (struct sockaddr *)&sa, &sl);
    int fill[4];
    for (int i = 0; i < 4; i++) {
        fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(fill[i], (struct sockaddr *)&sa, sizeof(sa));
    }
    usleep(100000);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(sa.sin_port));
    const char *urls[] = {url};
    resona_embedder_options o;
    eu_options(&o, urls, 1);
    o.connect_timeout_ms = 300;
    resona_embedder *e = make(&o);
    int64_t t0 = (int64_t)time(NULL);
    int rc = resona_embedder_preflight(e);
    assert_int_equal(rc, RESONA_EHTTP);
    assert_non_null(strstr(resona_error_message(), "cannot reach Ollama at http://127.0.0.1:"));
    assert_true((int64_t)time(NULL) - t0 < 5);
    resona_embedder_free(e);
    for (int i = 0; i < 4; i++)
        close(fill[i]);
    close(lfd);
}

/* ---- replies that are wrong: retried once, then the inputs fail ---------------------- */

static void test_bad_replies_retried_once(void **state)
{
    (void)state;
    const char *faults[] = {"--malformed-nth 2", "--wrong-count-nth 2", "--wrong-dim-nth 3",
                            "--nan-nth 2", "--nan-nth 2 --nan-literal null"};
    for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
        resona_embed_stats st;
        eu_collect c = {0};
        run_fault(faults[i], 20, 4, 1, &st, &c, 0);
        check_all_exact(&c, 20, 0, 0);
        if (st.bad_replies != 1 || st.retries != 1)
            fail_msg("%s: bad_replies %llu retries %llu", faults[i],
                     (unsigned long long)st.bad_replies, (unsigned long long)st.retries);
        eu_collect_free(&c);
    }
}

static void test_bad_reply_twice_fails_inputs(void **state)
{
    (void)state;
    resona_embed_stats st;
    eu_collect c = {0};
    /* Window 1: request 2 is batch 2, request 3 its retry: both malformed. */
    run_fault("--malformed-nth 2 --malformed-nth 3", 12, 4, 1, &st, &c, 0);
    assert_int_equal(c.count, 12);
    for (size_t i = 0; i < 12; i++) {
        int in_bad = i >= 4 && i < 8;
        assert_int_equal(c.r[i].status, in_bad ? RESONA_ECORRUPT : 0);
        if (in_bad)
            assert_non_null(strstr(c.r[i].reason, "bad reply"));
    }
    assert_int_equal(st.inputs_failed, 4);
    eu_collect_free(&c);
}

/* ---- context length: bisect, truncate, never retry a 400 unchanged ------------------- */


static int same_field(const char *a, const char *b, const char *key)
{
    const char *x = strstr(a, key), *y = strstr(b, key);
    return x && y && atol(x + strlen(key)) == atol(y + strlen(key));
}

/* No request body that got a 400 is ever sent again unchanged (same texts, same size). */
static void check_no_repeated_400(const char *log)
{
    char *data = ts_read_file(log, NULL);
    assert_non_null(data);
    char *line = data;
    while (line && *line) {
        char *end = strchr(line, '\n');
        if (end)
            *end = '\0';
        if (strstr(line, "\"status\":400,")) {
            char *texts = strstr(line, "\"texts\":");
            assert_non_null(texts);
            /* Later lines must not carry the same texts with the same truncate setting. */
            for (char *later = end ? end + 1 : NULL; later && *later;) {
                char *lend = strchr(later, '\n');
                if (lend)
                    *lend = '\0';
                char *lt = strstr(later, "\"texts\":");
                if (lt && strcmp(lt, texts) == 0 && same_field(line, later, "\"bytes_in\":"))
                    fail_msg("400 request repeated unchanged:\n%s\n%s", line, later);
                if (lend)
                    *lend = '\n';
                later = lend ? lend + 1 : NULL;
            }
        }
        line = end ? end + 1 : NULL;
    }
    free(data);
}

static void run_context(const char *extra, resona_embed_truncate mode, eu_collect *c,
                        resona_embed_stats *st, const char *log)
{
    char args[512];
    snprintf(args, sizeof(args), "--dim %d --max-input-chars 50 --log %s %s", DIM, log, extra);
    ts_fake f;
    assert_int_equal(fake_start(args, &f), 0);
    const char *urls[] = {f.url};
    resona_embedder_options o;
    eu_options(&o, urls, 1);
    o.max_texts = 8;
    o.truncate = mode;
    resona_embedder *e = make(&o);
    resona_embedder_set_sink(e, eu_sink, c);
    for (size_t i = 0; i < 20; i++) {
        char *t = text_of(i);
        const char *send = i == 3 || i == 11 ? long_text_n(i) : t;
        assert_int_equal(resona_embedder_submit(e, send, strlen(send), 1000 + i), 0);
        free(t);
    }
    assert_int_equal(resona_embedder_drain(e), 0);
    resona_embedder_stats(e, st);
    resona_embedder_free(e);
    fake_stop(&f);
}

static void check_context_results(const eu_collect *c, size_t cut)
{
    assert_int_equal(c->count, 20);
    for (size_t i = 0; i < 20; i++) {
        const eu_result *r = &c->r[i];
        assert_int_equal(r->index, i);
        int is_long = i == 3 || i == 11;
        if (r->status != 0)
            fail_msg("input %zu failed: %s", i, r->reason);
        assert_int_equal(r->truncated, is_long);
        char *t = text_of(i);
        float *want = is_long ? eu_ref_vector(long_text_n(i), cut, DIM)
                              : eu_ref_vector(t, strlen(t), DIM);
        assert_memory_equal(want, r->vector, DIM * sizeof(float));
        free(want);
        free(t);
    }
}

static void test_context_bisect_then_truncate(void **state)
{
    (void)state;
    char *dir, *log = tmp_log(&dir);
    eu_collect c = {0};
    resona_embed_stats st;
    run_context("", RESONA_EMBED_TRUNCATE_RETRY, &c, &st, log);
    check_context_results(&c, 50); /* the server cut it to 50 characters */
    assert_true(st.bisections >= 2);
    assert_int_equal(st.inputs_truncated, 2);
    assert_int_equal(st.inputs_failed, 0);
    check_no_repeated_400(log);
    eu_collect_free(&c);
    ts_rmtree(dir);
    free(dir);
    free(log);
}

static void test_context_client_cut(void **state)
{
    (void)state;
    char *dir, *log = tmp_log(&dir);
    eu_collect c = {0};
    resona_embed_stats st;
    /* ollama#14186: truncate has no effect; the client halves the text: 200 -> 100 -> 50. */
    run_context("--ignore-truncate", RESONA_EMBED_TRUNCATE_RETRY, &c, &st, log);
    check_context_results(&c, 50);
    assert_int_equal(st.inputs_truncated, 2);
    check_no_repeated_400(log);
    eu_collect_free(&c);
    ts_rmtree(dir);
    free(dir);
    free(log);
}

static void test_context_never_records_failure(void **state)
{
    (void)state;
    char *dir, *log = tmp_log(&dir);
    eu_collect c = {0};
    resona_embed_stats st;
    run_context("", RESONA_EMBED_TRUNCATE_NEVER, &c, &st, log);
    assert_int_equal(c.count, 20);
    for (size_t i = 0; i < 20; i++) {
        int is_long = i == 3 || i == 11;
        assert_int_equal(c.r[i].status, is_long ? RESONA_EINVALID : 0);
        if (is_long) {
            char want[32];
            snprintf(want, sizeof(want), "input %zu:", i);
            assert_non_null(strstr(c.r[i].reason, want));
            assert_non_null(strstr(c.r[i].reason, "exceeds the context length"));
        }
    }
    assert_int_equal(st.inputs_failed, 2);
    check_no_repeated_400(log);
    eu_collect_free(&c);
    ts_rmtree(dir);
    free(dir);
    free(log);
}

/* ---- model checks ---------------------------------------------------------------------- */

static void test_model_not_found_stops(void **state)
{
    (void)state;
    ts_fake f;
    assert_int_equal(fake_start("--dim 16 --model other-model", &f), 0);
    const char *urls[] = {f.url};
    resona_embedder_options o;
    eu_options(&o, urls, 1);
    resona_embedder *e = make(&o);
    assert_int_equal(resona_embedder_preflight(e), RESONA_ENOTFOUND);
    assert_non_null(strstr(resona_error_message(),
                           "model bge-m3 is not pulled: run `ollama pull bge-m3`"));
    eu_collect c = {0};
    int rc = run_texts(e, &c, 10);
    assert_int_equal(rc, RESONA_ENOTFOUND);
    assert_non_null(strstr(resona_error_message(), "run `ollama pull bge-m3`"));
    /* Stays stopped. */
    assert_int_equal(resona_embedder_submit(e, "x", 1, 0), RESONA_ENOTFOUND);
    eu_collect_free(&c);
    resona_embedder_free(e);
    fake_stop(&f);

    /* An injected 404 "model not found" in the middle of a run also stops it. */
    assert_int_equal(fake_start("--dim 16 --fail-nth 3:404", &f), 0);
    urls[0] = f.url;
    eu_options(&o, urls, 1);
    o.max_texts = 2;
    o.inflight_per_server = 1;
    e = make(&o);
    rc = run_texts(e, &c, 20);
    assert_int_equal(rc, RESONA_ENOTFOUND);
    assert_true(c.count <= 4);
    eu_collect_free(&c);
    resona_embedder_free(e);
    fake_stop(&f);
}

static int preflight_for(const char *fake_model, const char *model)
{
    char args[256];
    snprintf(args, sizeof(args), "--dim 16 --model %s", fake_model);
    ts_fake f;
    assert_int_equal(fake_start(args, &f), 0);
    const char *urls[] = {f.url};
    resona_embedder_options o;
    eu_options(&o, urls, 1);
    o.model = model;
    resona_embedder *e = make(&o);
    int rc = resona_embedder_preflight(e);
    resona_embedder_free(e);
    fake_stop(&f);
    return rc;
}

static void test_preflight_tag_rule(void **state)
{
    (void)state;
    assert_int_equal(preflight_for("bge-m3", "bge-m3"), 0);
    assert_int_equal(preflight_for("bge-m3", "bge-m3:latest"), 0);
    assert_int_equal(preflight_for("bge-m3", "BGE-M3"), 0);
    assert_int_equal(preflight_for("bge-m3:567m", "bge-m3:567m"), 0);
    /* The original's prefix rule would accept this; Ollama resolves bge-m3 to :latest. */
    assert_int_equal(preflight_for("bge-m3:567m", "bge-m3"), RESONA_ENOTFOUND);
    assert_int_equal(preflight_for("bge-m3", "bge"), RESONA_ENOTFOUND);
    assert_int_equal(preflight_for("library/nomic:v1.5", "library/nomic:v1.5"), 0);
}

static void test_preflight_unreachable(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    socklen_t sl = sizeof(sa);
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    close(fd); /* nothing listens there now */
    char url[64], want[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(sa.sin_port));
    snprintf(want, sizeof(want), "cannot reach Ollama at %s", url);
    const char *urls[] = {url};
    resona_embedder_options o;
    eu_options(&o, urls, 1);
    resona_embedder *e = make(&o);
    assert_int_equal(resona_embedder_preflight(e), RESONA_EHTTP);
    assert_non_null(strstr(resona_error_message(), want));
    /* Streaming against it: retries, then the run stops (every server down). */
    eu_collect c = {0};
    resona_embedder_free(e);
    o.retry_total_ms = 300;
    e = make(&o);
    int rc = run_texts(e, &c, 5);
    assert_int_equal(rc, RESONA_EHTTP);
    assert_non_null(strstr(resona_error_message(), "cannot reach"));
    eu_collect_free(&c);
    resona_embedder_free(e);

    /* Ignoring a failed preflight: the servers are down before any request; bounded too. */
    e = make(&o);
    assert_int_equal(resona_embedder_preflight(e), RESONA_EHTTP);
    rc = run_texts(e, &c, 5);
    assert_int_equal(rc, RESONA_EHTTP);
    assert_non_null(strstr(resona_error_message(), "cannot reach any server"));
    eu_collect_free(&c);
    resona_embedder_free(e);

    /* One of two servers unreachable: preflight passes, the other does the work. */
    ts_fake f;
    assert_int_equal(fake_start("--dim 16", &f), 0);
    const char *two[] = {url, f.url};
    eu_options(&o, two, 2);
    e = make(&o);
    assert_int_equal(resona_embedder_preflight(e), 0);
    assert_int_equal(run_texts(e, &c, 30), 0);
    check_all_exact(&c, 30, 0, 0);
    eu_collect_free(&c);
    resona_embedder_free(e);
    fake_stop(&f);
}

/* ---- endpoints ------------------------------------------------------------------------- */

static void test_legacy_fallback(void **state)
{
    (void)state;
    ts_fake f;
    assert_int_equal(fake_start("--dim 16 --no-embed-endpoint", &f), 0);
    const char *urls[] = {f.url};
    resona_embedder_options o;
    eu_options(&o, urls, 1);
    resona_embedder *e = make(&o);
    eu_collect c = {0};
    assert_int_equal(run_texts(e, &c, 25), 0);
    check_all_exact(&c, 25, 0, 2e-7f); /* re-normalized client-side */
    resona_embed_server_stats ss;
    resona_embedder_server_stats(e, 0, &ss);
    assert_int_equal(ss.legacy, 1);
    assert_int_equal(ss.requests_ok, 25); /* one text per request */
    eu_collect_free(&c);
    resona_embedder_free(e);
    fake_stop(&f);
}

#define SECRET "sk-test-7f3a9c1e5b2d4680SECRET"

static void test_openai_key_never_leaks(void **state)
{
    (void)state;
    char *dir, *log = tmp_log(&dir);
    char args[512];
    snprintf(args, sizeof(args), "--dim 16 --api-key %s --log %s --fail-nth 2:500", SECRET, log);
    ts_fake f;
    assert_int_equal(fake_start(args, &f), 0);
    const char *urls[] = {f.url};
    eu_log_capture_start();
    setenv("RESONA_TEST_EMBED_KEY", SECRET, 1);
    setenv("RESONA_TEST_EMBED_BADKEY", "sk-wrong-key-0123456789", 1);
    resona_embedder_options o;
    eu_options(&o, urls, 1);
    o.provider = RESONA_EMBED_OPENAI;
    o.api_key_env = "RESONA_TEST_EMBED_KEY";
    o.max_texts = 4;
    resona_embedder *e = make(&o);
    assert_int_equal(resona_embedder_preflight(e), 0);
    eu_collect c = {0};
    assert_int_equal(run_texts(e, &c, 20), 0);
    check_all_exact(&c, 20, 0, 2e-7f);
    resona_embed_stats st;
    resona_embedder_stats(e, &st);
    assert_int_equal(st.retries, 1);
    char all[70000];
    snprintf(all, sizeof(all), "%s", resona_error_message());
    resona_embedder_free(e);

    /* A wrong key: the run stops with a message naming the variable, not the key. */
    o.api_key_env = "RESONA_TEST_EMBED_BADKEY";
    e = make(&o);
    assert_int_equal(resona_embedder_preflight(e), RESONA_EHTTP);
    assert_non_null(strstr(resona_error_message(), "$RESONA_TEST_EMBED_BADKEY"));
    size_t used = strlen(all);
    snprintf(all + used, sizeof(all) - used, "\n%s", resona_error_message());
    eu_collect c2 = {0};
    assert_int_equal(run_texts(e, &c2, 3), RESONA_EHTTP);
    assert_non_null(strstr(resona_error_message(), "authentication failed"));
    used = strlen(all);
    snprintf(all + used, sizeof(all) - used, "\n%s\n%s", resona_error_message(), c2.reasons);
    resona_embedder_free(e);

    /* An unset variable is an error naming it. */
    o.api_key_env = "RESONA_TEST_EMBED_UNSET_VAR";
    assert_int_equal(resona_embedder_new(&o, &e), RESONA_EINVALID);
    assert_non_null(strstr(resona_error_message(), "RESONA_TEST_EMBED_UNSET_VAR"));

    const char *logs = eu_log_captured();
    assert_true(strlen(logs) > 0); /* the retry and the failure were logged */
    assert_null(strstr(logs, SECRET));
    assert_null(strstr(logs, "sk-wrong-key"));
    assert_null(strstr(all, SECRET));
    assert_null(strstr(all, "sk-wrong-key"));
    assert_null(strstr(c.reasons, SECRET));
    char *fake_log = ts_read_file(log, NULL);
    assert_non_null(fake_log);
    assert_null(strstr(fake_log, SECRET));
    free(fake_log);
    eu_log_capture_stop();
    eu_collect_free(&c);
    eu_collect_free(&c2);
    fake_stop(&f);
    ts_rmtree(dir);
    free(dir);
    free(log);
}

/* ---- stop, sync calls ---------------------------------------------------------------------- */

static uint64_t requests_at_stop;

static int stop_hook(eu_collect *c, const resona_embed_result *r)
{
    (void)r;
    if (c->count == 1) {
        resona_embedder_stop(c->hook_data);
        resona_embed_stats st;
        resona_embedder_stats(c->hook_data, &st);
        requests_at_stop = st.requests;
    }
    return 0;
}

static void test_stop_finishes_in_flight(void **state)
{
    (void)state;
    char *dir, *log = tmp_log(&dir);
    char args[512];
    snprintf(args, sizeof(args), "--dim 16 --latency-ms 30 --log %s", log);
    ts_fake f;
    assert_int_equal(fake_start(args, &f), 0);
    const char *urls[] = {f.url};
    resona_embedder_options o;
    eu_options(&o, urls, 1);
    o.max_texts = 10;
    resona_embedder *e = make(&o);
    eu_collect c = {0};
    c.hook = stop_hook;
    c.hook_data = e;
    int rc = run_texts(e, &c, 100);
    assert_int_equal(rc, RESONA_EINTERRUPTED);
    assert_int_equal(c.count, 100); /* everything delivered: embedded or interrupted */
    size_t ok = 0;
    for (size_t i = 0; i < 100; i++) {
        assert_int_equal(c.r[i].index, i);
        if (c.r[i].status == 0)
            ok++;
        else
            assert_int_equal(c.r[i].status, RESONA_EINTERRUPTED);
    }
    /* The requests in flight at the stop finished and were delivered; nothing more was
     * sent (window 2: usually requests 2 and 3 were in flight). */
    size_t sent = eu_log_requests(log, -1);
    assert_int_equal(sent, requests_at_stop);
    assert_true(sent >= 2 && sent < 10);
    assert_int_equal(ok, 10 * sent);
    assert_int_equal(resona_embedder_submit(e, "x", 1, 0), RESONA_EINTERRUPTED);
    eu_collect_free(&c);
    resona_embedder_free(e);
    fake_stop(&f);
    ts_rmtree(dir);
    free(dir);
    free(log);
}

static void test_sync_embed_and_probe(void **state)
{
    (void)state;
    ts_fake f;
    assert_int_equal(fake_start("--dim 16 --max-input-chars 50", &f), 0);
    const char *urls[] = {f.url};
    resona_embedder_options o;
    eu_options(&o, urls, 1);
    resona_embedder *e = make(&o);
    uint32_t dim = 0;
    assert_int_equal(resona_embedder_dim(e), 0);
    assert_int_equal(resona_embedder_probe(e, &dim), 0);
    assert_int_equal(dim, DIM);
    const char *texts[] = {"alpha", "beta", "gamma \"quoted\"\n\ttabbed \\ back", "δέλτα ✓"};
    float *v = NULL;
    assert_int_equal(resona_embedder_embed(e, texts, 4, &v, &dim), 0);
    for (int i = 0; i < 4; i++) {
        float *want = eu_ref_vector(texts[i], strlen(texts[i]), DIM);
        assert_memory_equal(want, v + i * DIM, DIM * sizeof(float));
        free(want);
    }
    resona_embedder_vectors_free(v);
    /* All or nothing: a failing input fails the call, naming it. */
    resona_embedder_free(e);
    o.truncate = RESONA_EMBED_TRUNCATE_NEVER;
    e = make(&o);
    const char *bad[] = {"ok", long_text()};
    assert_int_equal(resona_embedder_embed(e, bad, 2, &v, &dim), RESONA_EINVALID);
    assert_null(v);
    assert_non_null(strstr(resona_error_message(), "input 1:"));
    resona_embedder_free(e);
    fake_stop(&f);
    assert_int_equal(resona_embed_known_dim("bge-m3:latest"), 1024);
    assert_int_equal(resona_embed_known_dim("nomic-embed-text"), 768);
    assert_int_equal(resona_embed_known_dim("no-such-model"), 0);
}

static void test_bad_options(void **state)
{
    (void)state;
    resona_embedder *e = NULL;
    const char *urls[] = {"ftp://x"};
    resona_embedder_options o;
    eu_options(&o, urls, 1);
    assert_int_equal(resona_embedder_new(&o, &e), RESONA_EINVALID);
    assert_non_null(strstr(resona_error_message(), "ftp://x"));
    urls[0] = "http://127.0.0.1:1";
    o.model = NULL;
    assert_int_equal(resona_embedder_new(&o, &e), RESONA_EINVALID);
    o.model = "m";
    o.endpoint_count = 0;
    assert_int_equal(resona_embedder_new(&o, &e), RESONA_EINVALID);
    assert_null(e);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_basic_order_and_batching, kill_leftover_fakes),
        cmocka_unit_test_teardown(test_batch_bytes, kill_leftover_fakes),
        cmocka_unit_test_teardown(test_three_servers_order_and_spread, kill_leftover_fakes),
        cmocka_unit_test_teardown(test_server_dies_mid_run, kill_leftover_fakes),
        cmocka_unit_test_teardown(test_retry_5xx_and_503, kill_leftover_fakes),
        cmocka_unit_test_teardown(test_burst_503_backoff, kill_leftover_fakes),
        cmocka_unit_test_teardown(test_retries_bounded, kill_leftover_fakes),
        cmocka_unit_test_teardown(test_read_timeout, kill_leftover_fakes),
        cmocka_unit_test_teardown(test_truncated_body_retried, kill_leftover_fakes),
        cmocka_unit_test_teardown(test_connect_timeout, kill_leftover_fakes),
        cmocka_unit_test_teardown(test_backoff_bounds, kill_leftover_fakes),
        cmocka_unit_test_teardown(test_retry_total_time_bounded, kill_leftover_fakes),
        cmocka_unit_test_teardown(test_bad_replies_retried_once, kill_leftover_fakes),
        cmocka_unit_test_teardown(test_bad_reply_twice_fails_inputs, kill_leftover_fakes),
        cmocka_unit_test_teardown(test_context_bisect_then_truncate, kill_leftover_fakes),
        cmocka_unit_test_teardown(test_context_client_cut, kill_leftover_fakes),
        cmocka_unit_test_teardown(test_context_never_records_failure, kill_leftover_fakes),
        cmocka_unit_test_teardown(test_model_not_found_stops, kill_leftover_fakes),
        cmocka_unit_test_teardown(test_preflight_tag_rule, kill_leftover_fakes),
        cmocka_unit_test_teardown(test_preflight_unreachable, kill_leftover_fakes),
        cmocka_unit_test_teardown(test_legacy_fallback, kill_leftover_fakes),
        cmocka_unit_test_teardown(test_openai_key_never_leaks, kill_leftover_fakes),
        cmocka_unit_test_teardown(test_stop_finishes_in_flight, kill_leftover_fakes),
        cmocka_unit_test_teardown(test_sync_embed_and_probe, kill_leftover_fakes),
        cmocka_unit_test_teardown(test_bad_options, kill_leftover_fakes),
    };
    if (getenv("EMBED_TEST"))
        cmocka_set_test_filter(getenv("EMBED_TEST"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
