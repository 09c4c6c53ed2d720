/*
 * pipeline/test_pipeline_run.c - the pipeline end to end with real parts:
 * real Lance tables on disk (resona/table.h), the real embedder talking to
 * the fake Ollama server over HTTP, and the server's request log as the
 * witness of what was (re-)embedded. The only fakes are the test hooks
 * where a failure or a slow flush must be injected (flush failures, slow
 * flushes, a commit that fails after its version is linked).
 *
 * Also the child mode of the kill -9 test: `test_pipeline_run --child
 * TABLE URL N` runs the pipeline over N items until it is killed.
 */
#include "support.h"

#include "fake_ollama.h"
#include "lance/table_int.h"
#include "pipeline/run.h"
#include "util/alloc.h"

#include <resona/embed.h>
#include <resona/pipeline.h>
#include <resona/table.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

/* ---- helpers ------------------------------------------------------------ */

typedef struct env {
    char *dir;
    char *table;
    char *log;
    ts_fake fake;
} env;

/* A copy of the running test's server, stopped by the teardown when an
 * assertion ends the test early (so no server outlives a failed test). A
 * copy, not a pointer: the test's env lives on a stack frame that a failed
 * assertion has already left. */
static ts_fake running_fake;

static int teardown(void **state)
{
    (void)state;
    if (running_fake.pid > 0)
        ts_fake_stop(&running_fake);
    memset(&running_fake, 0, sizeof(running_fake));
    resona__pipeline_fail_flushes(0);
    resona__pipeline_slow_flushes(0);
    resona__table_fail_after_commit(0);
    resona_pipeline_stop_clear();
    return 0;
}

static void env_start(env *e, const char *server_args)
{
    memset(e, 0, sizeof(*e));
    e->dir = ts_tmpdir("pipeline");
    assert_non_null(e->dir);
    e->table = ts_path(e->dir, "embeddings.lance");
    e->log = ts_path(e->dir, "requests.jsonl");
    char args[1024];
    snprintf(args, sizeof(args), "--log '%s' %s", e->log, server_args ? server_args : "--dim 8");
    assert_int_equal(ts_fake_start(args, &e->fake), 0);
    running_fake = e->fake;
}

static void env_stop(env *e)
{
    ts_fake_stop(&e->fake);
    e->fake.pid = 0;
    memset(&running_fake, 0, sizeof(running_fake));
    ts_rmtree(e->dir);
    free(e->dir);
    free(e->table);
    free(e->log);
}

static resona_embedder *embedder(const env *e, const char *model, size_t max_texts)
{
    resona_embedder_options o = RESONA_EMBEDDER_OPTIONS_INIT;
    const char *urls[1] = {e->fake.url};
    o.endpoints = urls;
    o.endpoint_count = 1;
    o.model = model;
    o.max_texts = max_texts;
    resona_embedder *em = NULL;
    int rc = resona_embedder_new(&o, &em);
    if (rc < 0)
        fprintf(stderr, "embedder: %s\n", resona_error_message());
    assert_int_equal(rc, 0);
    return em;
}

/* Inputs the server embedded (status 200), counted from its log; and requests. */
static size_t logged_inputs(const env *e, size_t *requests)
{
    size_t inputs = 0, reqs = 0;
    FILE *f = fopen(e->log, "r");
    if (f) {
        char line[1 << 16];
        while (fgets(line, sizeof(line), f)) {
            if (!strstr(line, "\"path\":\"/api/embed\"") || !strstr(line, "\"status\":200"))
                continue;
            const char *p = strstr(line, "\"inputs\":");
            if (p) {
                inputs += (size_t)strtoul(p + 9, NULL, 10);
                reqs++;
            }
        }
        fclose(f);
    }
    if (requests)
        *requests = reqs;
    return inputs;
}

/* Items "n<i>" with texts "<prefix> <i>". */
typedef struct items {
    resona_pipeline_item *v;
    char **strings;
    size_t count;
} items;

static void items_make(items *it, size_t count, const char *prefix, size_t first)
{
    it->count = count;
    it->v = calloc(count ? count : 1, sizeof(*it->v));
    it->strings = calloc(2 * (count ? count : 1), sizeof(char *));
    for (size_t i = 0; i < count; i++) {
        char buf[256];
        snprintf(buf, sizeof(buf), "n%zu", first + i);
        it->strings[2 * i] = strdup(buf);
        snprintf(buf, sizeof(buf), "%s %zu", prefix, first + i);
        it->strings[2 * i + 1] = strdup(buf);
        it->v[i].id = it->strings[2 * i];
        it->v[i].text = it->strings[2 * i + 1];
        it->v[i].metadata = "{\"ancestorId\":null}";
    }
}

static void items_free(items *it)
{
    for (size_t i = 0; i < 2 * it->count; i++)
        free(it->strings[i]);
    free(it->strings);
    free(it->v);
}

typedef struct table_rows {
    size_t rows;
    size_t duplicates; /* rows whose id was seen before */
    char **ids;
    char **hashes;
    char **models;
    uint32_t dim;
} table_rows;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read (id, text_hash, model) of every live row. */
static void read_table(const char *path, table_rows *out)
{
    memset(out, 0, sizeof(*out));
    resona_table *t = NULL;
    int rc = resona_table_open(path, NULL, &t);
    if (rc < 0)
        fprintf(stderr, "open %s: %s\n", path, resona_error_message());
    assert_int_equal(rc, 0);
    int vi = resona_table_column_index(t, "vector");
    assert_true(vi >= 0);
    out->dim = resona_table_schema(t)->fields[vi].dim;
    const char *cols[3] = {"id", "text_hash", "model"};
    resona_scan_options so = RESONA_SCAN_OPTIONS_INIT;
    so.columns = cols;
    so.column_count = 3;
    resona_scan *s = NULL;
    assert_int_equal(resona_table_scan(t, &so, &s), 0);
    const resona_chunk *ch;
    size_t cap = 0;
    while ((rc = resona_scan_next(s, &ch)) == 1) {
        for (size_t r = 0; r < ch->rows; r++) {
            if (out->rows == cap) {
                cap = cap ? cap * 2 : 64;
                out->ids = realloc(out->ids, cap * sizeof(char *));
                out->hashes = realloc(out->hashes, cap * sizeof(char *));
                out->models = realloc(out->models, cap * sizeof(char *));
            }
            char **dst[3] = {&out->ids[out->rows], &out->hashes[out->rows],
                             &out->models[out->rows]};
            for (int c = 0; c < 3; c++) {
                const resona_column *col = &ch->columns[c];
                *dst[c] = strndup((const char *)col->values + col->offsets[r],
                                  (size_t)(col->offsets[r + 1] - col->offsets[r]));
            }
            out->rows++;
        }
    }
    assert_int_equal(rc, 0);
    resona_scan_free(s);
    resona_table_free(t);
    char **sorted = calloc(out->rows ? out->rows : 1, sizeof(char *));
    memcpy(sorted, out->ids, out->rows * sizeof(char *));
    qsort(sorted, out->rows, sizeof(char *), cmp_str);
    for (size_t i = 1; i < out->rows; i++)
        if (strcmp(sorted[i], sorted[i - 1]) == 0)
            out->duplicates++;
    free(sorted);
}

static const char *find_hash(const table_rows *t, const char *id)
{
    for (size_t i = 0; i < t->rows; i++)
        if (strcmp(t->ids[i], id) == 0)
            return t->hashes[i];
    return NULL;
}

static void table_rows_free(table_rows *t)
{
    for (size_t i = 0; i < t->rows; i++) {
        free(t->ids[i]);
        free(t->hashes[i]);
        free(t->models[i]);
    }
    free(t->ids);
    free(t->hashes);
    free(t->models);
}

static uint64_t table_version(const char *path)
{
    resona_table *t = NULL;
    if (resona_table_open(path, NULL, &t) < 0)
        return 0;
    uint64_t v = resona_table_version(t);
    resona_table_free(t);
    return v;
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Neither journal segment is left behind. */
static int journal_exists(const char *table)
{
    char *j = resona_pipeline_journal_path(table);
    char j1[4096];
    snprintf(j1, sizeof(j1), "%s.1", j);
    int found = file_exists(j) || file_exists(j1);
    free(j);
    return found;
}

static uint64_t table_live_rows(const char *path)
{
    resona_table *t = NULL;
    if (resona_table_open(path, NULL, &t) < 0)
        return 0;
    resona_table_stats st;
    uint64_t n = resona_table_stats_get(t, &st) == 0 ? st.rows : 0;
    resona_table_free(t);
    return n;
}

static int run(const env *e, resona_embedder *em, const items *it, size_t batch,
               resona_pipeline_options *extra, resona_pipeline_result *res)
{
    resona_pipeline_options o = RESONA_PIPELINE_OPTIONS_INIT;
    if (extra)
        o = *extra;
    o.table_path = e->table;
    o.embedder = em;
    if (!o.model)
        o.model = "bge-m3";
    o.store_batch_size = batch;
    int rc = resona_pipeline_run_array(&o, it->v, it->count, res);
    if (rc < 0 && rc != RESONA_EINTERRUPTED)
        fprintf(stderr, "pipeline: %s\n", resona_error_message());
    return rc;
}

/* ---- buffer edge cases ------------------------------------------------------ */

static void test_zero_items(void **state)
{
    (void)state;
    env e;
    env_start(&e, NULL);
    resona_embedder *em = embedder(&e, "bge-m3", 4);
    items it;
    items_make(&it, 0, "x", 0);
    resona_pipeline_result res;
    assert_int_equal(run(&e, em, &it, 10, NULL, &res), 0);
    assert_int_equal(res.counters.commits, 0);
    assert_int_equal(res.counters.persisted, 0);
    assert_false(file_exists(e.table)); /* no empty table created */
    char *j = resona_pipeline_journal_path(e.table);
    assert_false(file_exists(j)); /* no journal left behind */
    free(j);
    assert_int_equal(logged_inputs(&e, NULL), 0);
    resona_pipeline_result_free(&res);
    items_free(&it);
    resona_embedder_free(em);
    env_stop(&e);
}

/* rows below, at and above the threshold; threshold 1. A new table costs one
 * extra version (the empty create), every flush exactly one append. */
static void check_counts(size_t n, size_t batch)
{
    env e;
    env_start(&e, NULL);
    resona_embedder *em = embedder(&e, "bge-m3", 4);
    items it;
    items_make(&it, n, "text", 0);
    resona_pipeline_result res;
    assert_int_equal(run(&e, em, &it, batch, NULL, &res), 0);
    size_t flushes = (n + batch - 1) / batch;
    assert_int_equal(res.counters.commits, flushes + 1);
    assert_int_equal(table_version(e.table), flushes + 1);
    assert_int_equal(res.counters.persisted, n);
    assert_int_equal(res.counters.generated, n);
    assert_int_equal(res.counters.buffered, 0);
    assert_int_equal(res.counters.errors, 0);
    table_rows t;
    read_table(e.table, &t);
    assert_int_equal(t.rows, n);
    assert_int_equal(t.duplicates, 0);
    assert_int_equal(t.dim, 8);
    char h[65];
    resona_pipeline_text_hash("text 0", 6, h);
    assert_string_equal(find_hash(&t, "n0"), h);
    table_rows_free(&t);
    assert_int_equal(logged_inputs(&e, NULL), n);
    resona_pipeline_result_free(&res);
    items_free(&it);
    resona_embedder_free(em);
    env_stop(&e);
}

static void test_fewer_than_threshold(void **state)
{
    (void)state;
    check_counts(7, 10);
}

static void test_exactly_threshold(void **state)
{
    (void)state;
    check_counts(10, 10);
}

static void test_threshold_one(void **state)
{
    (void)state;
    check_counts(5, 1);
}

static void test_several_flushes(void **state)
{
    (void)state;
    check_counts(25, 10);
}

/* ---- failures ------------------------------------------------------------------ */

/* A flush that fails every attempt keeps its rows; the next flush commits them. */
static void test_flush_fails_then_retried(void **state)
{
    (void)state;
    env e;
    env_start(&e, NULL);
    resona_embedder *em = embedder(&e, "bge-m3", 4);
    items it;
    items_make(&it, 30, "text", 0);
    resona_pipeline_options o = RESONA_PIPELINE_OPTIONS_INIT;
    o.flush_attempts = 2;
    o.max_buffer_rows = 100;
    resona__pipeline_fail_flushes(2); /* the whole first flush (2 attempts) fails */
    resona_pipeline_result res;
    assert_int_equal(run(&e, em, &it, 10, &o, &res), 0);
    resona__pipeline_fail_flushes(0);
    assert_int_equal(res.flush_failures, 2);
    assert_int_equal(res.counters.persisted, 30);
    assert_int_equal(res.counters.errors, 0);
    assert_true(res.sample_count >= 1);
    assert_non_null(strstr(res.samples[0], "injected"));
    table_rows t;
    read_table(e.table, &t);
    assert_int_equal(t.rows, 30);
    assert_int_equal(t.duplicates, 0);
    table_rows_free(&t);
    assert_int_equal(logged_inputs(&e, NULL), 30); /* nothing embedded twice */
    resona_pipeline_result_free(&res);
    items_free(&it);
    resona_embedder_free(em);
    env_stop(&e);
}

/* Flushes that keep failing: the run stops at the buffer cap with the error,
 * the rows stay in the journal, and the next run commits them without
 * embedding them again. */
static void test_flush_fails_past_cap_then_journal(void **state)
{
    (void)state;
    env e;
    env_start(&e, NULL);
    resona_embedder *em = embedder(&e, "bge-m3", 4);
    items it;
    items_make(&it, 40, "text", 0);
    resona_pipeline_options o = RESONA_PIPELINE_OPTIONS_INIT;
    o.flush_attempts = 1;
    o.max_buffer_rows = 20;
    resona__pipeline_fail_flushes(1000);
    resona_pipeline_result res;
    int rc = run(&e, em, &it, 10, &o, &res);
    resona__pipeline_fail_flushes(0);
    assert_int_equal(rc, RESONA_EIO);
    assert_int_equal(res.counters.persisted, 0);
    uint64_t kept = res.counters.buffered;
    assert_true(kept >= 20);
    assert_true(kept < 40);
    char *jpath = resona_pipeline_journal_path(e.table);
    assert_true(file_exists(jpath));
    resona_pipeline_result_free(&res);
    size_t before = logged_inputs(&e, NULL);
    assert_true(before >= kept); /* replies in flight at the stop are not kept */

    resona_embedder_free(em); /* a run that failed in its sink leaves the embedder unusable */
    em = embedder(&e, "bge-m3", 4);
    assert_int_equal(run(&e, em, &it, 10, NULL, &res), 0);
    assert_int_equal(res.counters.recovered, kept);
    assert_int_equal(res.counters.skipped, kept); /* recovered rows are not re-embedded */
    assert_int_equal(logged_inputs(&e, NULL), before + (40 - kept));
    table_rows t;
    read_table(e.table, &t);
    assert_int_equal(t.rows, 40);
    assert_int_equal(t.duplicates, 0);
    table_rows_free(&t);
    assert_false(file_exists(jpath));
    free(jpath);
    resona_pipeline_result_free(&res);
    items_free(&it);
    resona_embedder_free(em);
    env_stop(&e);
}

/* ---- interruption ---------------------------------------------------------------- */

static void stop_after(const resona_pipeline_progress *p, void *payload)
{
    uint64_t limit = *(const uint64_t *)payload;
    if (p->generated >= limit)
        raise(SIGINT); /* the handler calls resona_pipeline_stop() */
}

static void on_sigint(int sig)
{
    (void)sig;
    resona_pipeline_stop();
}

static void test_sigint_flushes(void **state)
{
    (void)state;
    env e;
    env_start(&e, "--dim 8 --latency-ms 5");
    resona_embedder *em = embedder(&e, "bge-m3", 4);
    items it;
    items_make(&it, 400, "text", 0);
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, &old);
    uint64_t limit = 40;
    resona_pipeline_options o = RESONA_PIPELINE_OPTIONS_INIT;
    o.progress = stop_after;
    o.progress_payload = &limit;
    o.progress_interval_s = 0.001;
    resona_pipeline_stop_clear();
    resona_pipeline_result res;
    int rc = run(&e, em, &it, 1000, &o, &res);
    sigaction(SIGINT, &old, NULL);
    resona_pipeline_stop_clear();
    assert_int_equal(rc, RESONA_EINTERRUPTED);
    /* everything generated was committed on the way out */
    assert_true(res.counters.generated >= 40);
    assert_true(res.counters.generated < 400);
    assert_int_equal(res.counters.persisted, res.counters.generated);
    assert_int_equal(res.counters.buffered, 0);
    uint64_t first = res.counters.persisted;
    table_rows t;
    read_table(e.table, &t);
    assert_int_equal(t.rows, first);
    table_rows_free(&t);
    resona_pipeline_result_free(&res);
    char *jpath = resona_pipeline_journal_path(e.table);
    assert_false(file_exists(jpath));
    free(jpath);
    /* what was embedded before the stop is not embedded again */
    size_t inputs_before = logged_inputs(&e, NULL);
    resona_embedder_free(em);
    em = embedder(&e, "bge-m3", 4);
    assert_int_equal(run(&e, em, &it, 1000, NULL, &res), 0);
    assert_int_equal(res.counters.skipped, first);
    read_table(e.table, &t);
    assert_int_equal(t.rows, 400);
    assert_int_equal(t.duplicates, 0);
    table_rows_free(&t);
    /* in-flight replies that arrived after the stop were kept, so the total
     * work is at most what was sent before plus the rest */
    assert_true(logged_inputs(&e, NULL) <= inputs_before + (400 - first));
    resona_pipeline_result_free(&res);
    items_free(&it);
    resona_embedder_free(em);
    env_stop(&e);
}

/* kill -9 of a run: the child embeds with a huge store batch (nothing is
 * flushed), the parent kills it once rows are in its journal, then re-runs:
 * every journaled row is committed without a new request, every item is in
 * the table once, and what is embedded again is at most the requests that
 * were in flight (2 requests x 4 texts) plus what the child had not reached. */
static int child_main(const char *table, const char *url, size_t n)
{
    resona_embedder_options eo = RESONA_EMBEDDER_OPTIONS_INIT;
    const char *urls[1] = {url};
    eo.endpoints = urls;
    eo.endpoint_count = 1;
    eo.model = "bge-m3";
    eo.max_texts = 4;
    resona_embedder *em = NULL;
    if (resona_embedder_new(&eo, &em) < 0)
        return 3;
    items it;
    items_make(&it, n, "text", 0);
    resona_pipeline_options o = RESONA_PIPELINE_OPTIONS_INIT;
    o.table_path = table;
    o.embedder = em;
    o.model = "bge-m3";
    o.store_batch_size = 100000;
    int rc = resona_pipeline_run_array(&o, it.v, it.count, NULL);
    items_free(&it);
    resona_embedder_free(em);
    return rc == 0 ? 0 : 4;
}

static void test_kill9_then_journal_recovery(void **state)
{
    (void)state;
    env e;
    env_start(&e, "--dim 8 --latency-ms 20");
    const size_t n = 400;
    char *jpath = resona_pipeline_journal_path(e.table);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char self[4096];
        ssize_t l = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (l <= 0)
            _exit(5);
        self[l] = '\0';
        char nbuf[32];
        snprintf(nbuf, sizeof(nbuf), "%zu", n);
        execl(self, self, "--child", e.table, e.fake.url, nbuf, (char *)NULL);
        _exit(6);
    }
    /* wait until the child has journaled some rows (the file grows) */
    struct stat st;
    for (int i = 0; i < 1000; i++) {
        if (stat(jpath, &st) == 0 && st.st_size > 16 + 40 * 100)
            break;
        usleep(10000);
    }
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    assert_true(WIFSIGNALED(status));
    usleep(300000); /* the server finishes (and logs) the requests the child left in flight */
    size_t before = logged_inputs(&e, NULL);
    assert_true(before > 0 && before < n);
    assert_true(file_exists(jpath));
    assert_false(file_exists(e.table)); /* nothing was committed */

    resona_embedder *em = embedder(&e, "bge-m3", 4);
    items it;
    items_make(&it, n, "text", 0);
    resona_pipeline_result res;
    assert_int_equal(run(&e, em, &it, 50, NULL, &res), 0);
    assert_true(res.counters.recovered > 0);
    assert_int_equal(res.counters.skipped, res.counters.recovered);
    /* the replies lost with the process: at most the requests in flight */
    assert_true(before - res.counters.recovered <= 2 * 4);
    table_rows t;
    read_table(e.table, &t);
    assert_int_equal(t.rows, n);
    assert_int_equal(t.duplicates, 0);
    table_rows_free(&t);
    assert_int_equal(logged_inputs(&e, NULL), before + (n - res.counters.recovered));
    assert_false(file_exists(jpath));
    free(jpath);
    resona_pipeline_result_free(&res);
    items_free(&it);
    resona_embedder_free(em);
    env_stop(&e);
}

/* ---- the writer thread ------------------------------------------------------------ */

typedef struct stop_probe {
    int stopped; /* stop requested while a flush ran in the background */
    uint64_t generated, persisted;
} stop_probe;

static void stop_while_flushing(const resona_pipeline_progress *p, void *payload)
{
    stop_probe *s = payload;
    if (!s->stopped && resona__pipeline_flushing() > 0) {
        s->stopped = 1;
        s->generated = p->generated;
        s->persisted = p->persisted;
        resona_pipeline_stop();
    }
}

/* A stop that arrives while the writer thread commits a buffer: the run
 * waits for that commit, commits what is still buffered (and the replies in
 * flight), and returns EINTERRUPTED with nothing lost and the journal gone. */
static void test_stop_during_background_flush(void **state)
{
    (void)state;
    env e;
    env_start(&e, "--dim 8 --latency-ms 5");
    resona_embedder *em = embedder(&e, "bge-m3", 4);
    items it;
    items_make(&it, 400, "text", 0);
    resona__pipeline_slow_flushes(300); /* the first flush is still running at the stop */
    stop_probe probe = {0};
    resona_pipeline_options o = RESONA_PIPELINE_OPTIONS_INIT;
    o.progress = stop_while_flushing;
    o.progress_payload = &probe;
    o.progress_interval_s = 0.001;
    resona_pipeline_stop_clear();
    resona_pipeline_result res;
    int rc = run(&e, em, &it, 20, &o, &res);
    resona__pipeline_slow_flushes(0);
    resona_pipeline_stop_clear();
    assert_int_equal(rc, RESONA_EINTERRUPTED);
    assert_true(probe.stopped);
    assert_int_equal(probe.persisted, 0); /* the first flush had not committed yet */
    assert_true(probe.generated >= 20);
    assert_true(res.counters.generated >= probe.generated);
    assert_true(res.counters.generated < 400);
    assert_int_equal(res.counters.persisted, res.counters.generated);
    assert_int_equal(res.counters.buffered, 0);
    assert_int_equal(resona__pipeline_flushing(), 0);
    table_rows t;
    read_table(e.table, &t);
    assert_int_equal(t.rows, res.counters.persisted);
    assert_int_equal(t.duplicates, 0);
    table_rows_free(&t);
    assert_false(journal_exists(e.table));
    resona_pipeline_result_free(&res);
    items_free(&it);
    resona_embedder_free(em);
    env_stop(&e);
}

typedef struct io_fault {
    char *txn_dir, *txn_keep;
    long failures_before;
    int restored;
} io_fault;

static void restore_after_failure(const resona_pipeline_progress *p, void *payload)
{
    (void)p;
    io_fault *f = payload;
    if (!f->restored && resona__pipeline_failed_attempts() > f->failures_before) {
        assert_int_equal(unlink(f->txn_dir), 0);
        assert_int_equal(rename(f->txn_keep, f->txn_dir), 0);
        f->restored = 1;
    }
}

/* A real I/O failure in a background flush (the table's _transactions
 * directory replaced by a file, so the commit cannot write its transaction
 * file; root is not exempt): the rows are kept, the run goes on embedding,
 * the flush is retried once the directory is back, and every row is
 * committed exactly once, nothing embedded twice. */
static void test_background_flush_io_failure_retried(void **state)
{
    (void)state;
    env e;
    env_start(&e, "--dim 8 --latency-ms 20");
    resona_embedder *em = embedder(&e, "bge-m3", 4);
    items it;
    items_make(&it, 110, "text", 0); /* 100 new ones: >= 500 ms of requests after the
                                        failure, for the callback to repair the table */
    items first = it;
    first.count = 10;
    resona_pipeline_result res;
    assert_int_equal(run(&e, em, &first, 10, NULL, &res), 0);
    resona_pipeline_result_free(&res);

    io_fault f = {0};
    f.txn_dir = ts_path(e.table, "_transactions");
    f.txn_keep = ts_path(e.dir, "transactions.keep");
    assert_int_equal(rename(f.txn_dir, f.txn_keep), 0);
    assert_int_equal(ts_write_file(f.txn_dir, "x", 1), 0);
    f.failures_before = resona__pipeline_failed_attempts();
    resona_pipeline_options o = RESONA_PIPELINE_OPTIONS_INIT;
    o.flush_attempts = 1;
    o.max_buffer_rows = 100;
    o.progress = restore_after_failure;
    o.progress_payload = &f;
    o.progress_interval_s = 0.001;
    assert_int_equal(run(&e, em, &it, 10, &o, &res), 0);
    assert_true(f.restored);
    assert_true(res.flush_failures >= 1);
    assert_true(res.sample_count >= 1);
    assert_non_null(strstr(res.samples[0], "flush of 10 rows"));
    assert_int_equal(res.counters.skipped, 10);
    assert_int_equal(res.counters.persisted, 100);
    assert_int_equal(res.counters.buffered, 0);
    table_rows t;
    read_table(e.table, &t);
    assert_int_equal(t.rows, 110);
    assert_int_equal(t.duplicates, 0);
    table_rows_free(&t);
    assert_int_equal(logged_inputs(&e, NULL), 110);
    assert_false(journal_exists(e.table));
    free(f.txn_dir);
    free(f.txn_keep);
    resona_pipeline_result_free(&res);
    items_free(&it);
    resona_embedder_free(em);
    env_stop(&e);
}

/* The delete and then the append of one flush are committed, but each call
 * fails after its version is linked (as when reloading the handle fails).
 * The flush sees the commits (resona_table_last_commit) and does not repeat
 * them: no row twice, the upserts replaced, the commit count exact. */
static void test_commit_then_failure_no_double_append(void **state)
{
    (void)state;
    env e;
    env_start(&e, NULL);
    resona_embedder *em = embedder(&e, "bge-m3", 4);
    items it, it2;
    items_make(&it, 10, "text", 0);
    resona_pipeline_result res;
    assert_int_equal(run(&e, em, &it, 10, NULL, &res), 0);
    resona_pipeline_result_free(&res);
    assert_int_equal(table_version(e.table), 2);
    items_make(&it2, 30, "new", 0); /* n0..n9 changed, n10..n29 new */
    resona__table_fail_after_commit(2);
    assert_int_equal(run(&e, em, &it2, 10, NULL, &res), 0);
    resona__table_fail_after_commit(0);
    table_rows t;
    read_table(e.table, &t);
    assert_int_equal(t.rows, 30); /* a repeated append would make 40 */
    assert_int_equal(t.duplicates, 0);
    char h[65];
    resona_pipeline_text_hash("new 3", 5, h);
    assert_string_equal(find_hash(&t, "n3"), h);
    table_rows_free(&t);
    assert_int_equal(res.flush_failures, 1); /* the delete's attempt; the append's is not one */
    assert_int_equal(res.counters.persisted, 30);
    assert_int_equal(res.deleted, 10);
    assert_int_equal(res.counters.commits, 1 + 3); /* one delete, three appends */
    assert_int_equal(table_version(e.table), 2 + 4);
    assert_int_equal(logged_inputs(&e, NULL), 10 + 30);
    assert_false(journal_exists(e.table));
    resona_pipeline_result_free(&res);
    items_free(&it);
    items_free(&it2);
    resona_embedder_free(em);
    env_stop(&e);
}

typedef struct count_probe {
    const char *table;
    size_t batch, cap;
    uint64_t last_persisted, calls;
    int bad_sum, bad_table, bad_bound, bad_step, bad_order, overlap;
} count_probe;

static void check_progress(const resona_pipeline_progress *p, void *payload)
{
    count_probe *c = payload;
    c->calls++;
    if (p->persisted + p->buffered != p->generated)
        c->bad_sum++;
    if (p->buffered > c->cap)
        c->bad_bound++;
    if (p->persisted < c->last_persisted)
        c->bad_order++;
    if (!p->final && p->persisted % c->batch != 0)
        c->bad_step++;
    if (p->persisted != c->last_persisted && table_live_rows(c->table) < p->persisted)
        c->bad_table++; /* reported persisted before the commit */
    if (p->buffered > c->batch)
        c->overlap++; /* a full buffer in the writer and the next one filling */
    c->last_persisted = p->persisted;
}

/* Progress counts while flushes overlap with embedding: generated =
 * persisted + buffered at every callback, persisted only grows, by whole
 * flushes, and never runs ahead of the rows in the table; at most
 * max_buffer_rows rows are held. */
static void test_counts_consistent_with_writer(void **state)
{
    (void)state;
    env e;
    env_start(&e, "--dim 8 --latency-ms 2");
    resona_embedder *em = embedder(&e, "bge-m3", 4);
    items it;
    items_make(&it, 120, "text", 0);
    resona__pipeline_slow_flushes(40); /* the next buffer fills during a flush */
    count_probe c = {0};
    c.table = e.table;
    c.batch = 10;
    c.cap = 20; /* the default max_buffer_rows: 2 x store_batch_size */
    resona_pipeline_options o = RESONA_PIPELINE_OPTIONS_INIT;
    o.progress = check_progress;
    o.progress_payload = &c;
    o.progress_interval_s = 0.001;
    resona_pipeline_result res;
    assert_int_equal(run(&e, em, &it, 10, &o, &res), 0);
    resona__pipeline_slow_flushes(0);
    assert_true(c.calls > 12);
    assert_int_equal(c.bad_sum, 0);
    assert_int_equal(c.bad_bound, 0);
    assert_int_equal(c.bad_order, 0);
    assert_int_equal(c.bad_step, 0);
    assert_int_equal(c.bad_table, 0);
    assert_true(c.overlap > 0);
    assert_int_equal(res.counters.generated, 120);
    assert_int_equal(res.counters.persisted, 120);
    assert_int_equal(res.counters.buffered, 0);
    assert_int_equal(res.counters.commits, 1 + 12);
    table_rows t;
    read_table(e.table, &t);
    assert_int_equal(t.rows, 120);
    assert_int_equal(t.duplicates, 0);
    table_rows_free(&t);
    assert_false(journal_exists(e.table));
    resona_pipeline_result_free(&res);
    items_free(&it);
    resona_embedder_free(em);
    env_stop(&e);
}

/* ---- upserts ----------------------------------------------------------------------- */

static void test_force_all_no_duplicates(void **state)
{
    (void)state;
    env e;
    env_start(&e, NULL);
    resona_embedder *em = embedder(&e, "bge-m3", 4);
    items it;
    items_make(&it, 25, "text", 0);
    resona_pipeline_result res;
    assert_int_equal(run(&e, em, &it, 10, NULL, &res), 0);
    resona_pipeline_result_free(&res);
    /* unchanged: nothing to do, no commit */
    uint64_t v = table_version(e.table);
    assert_int_equal(run(&e, em, &it, 10, NULL, &res), 0);
    assert_int_equal(res.counters.skipped, 25);
    assert_int_equal(res.counters.commits, 0);
    assert_int_equal(table_version(e.table), v);
    resona_pipeline_result_free(&res);
    /* force_all: everything re-embedded and replaced */
    resona_pipeline_options o = RESONA_PIPELINE_OPTIONS_INIT;
    o.force_all = 1;
    assert_int_equal(run(&e, em, &it, 10, &o, &res), 0);
    assert_int_equal(res.counters.skipped, 0);
    assert_int_equal(res.counters.persisted, 25);
    assert_int_equal(res.deleted, 25);
    /* per flush: one delete + one append */
    assert_int_equal(res.counters.commits, 2 * 3);
    table_rows t;
    read_table(e.table, &t);
    assert_int_equal(t.rows, 25);
    assert_int_equal(t.duplicates, 0);
    table_rows_free(&t);
    assert_int_equal(logged_inputs(&e, NULL), 50);
    resona_pipeline_result_free(&res);
    items_free(&it);
    resona_embedder_free(em);
    env_stop(&e);
}

static void test_changed_and_removed(void **state)
{
    (void)state;
    env e;
    env_start(&e, NULL);
    resona_embedder *em = embedder(&e, "bge-m3", 4);
    items it;
    items_make(&it, 20, "text", 0);
    resona_pipeline_result res;
    assert_int_equal(run(&e, em, &it, 100, NULL, &res), 0);
    resona_pipeline_result_free(&res);
    /* second run: n0..n4 changed, n15..n19 gone, n20..n22 new */
    items it2;
    items_make(&it2, 18, "text", 5); /* n5..n22 */
    char *changed[5];
    resona_pipeline_item all[23];
    size_t count = 0;
    for (size_t i = 0; i < 5; i++) {
        changed[i] = malloc(32);
        snprintf(changed[i], 32, "changed %zu", i);
        all[count].id = it.v[i].id;
        all[count].text = changed[i];
        all[count].metadata = NULL;
        count++;
    }
    for (size_t i = 0; i < 10; i++) /* n5..n14 unchanged */
        all[count++] = it2.v[i];
    for (size_t i = 15; i < 18; i++) /* n20..n22 */
        all[count++] = it2.v[i];
    resona_pipeline_options o = RESONA_PIPELINE_OPTIONS_INIT;
    o.table_path = e.table;
    o.embedder = em;
    o.model = "bge-m3";
    o.store_batch_size = 100;
    o.remove_missing = 1;
    assert_int_equal(resona_pipeline_run_array(&o, all, count, &res), 0);
    assert_int_equal(res.counters.skipped, 10);
    assert_int_equal(res.counters.persisted, 8);
    assert_int_equal(res.counters.removed, 5);
    assert_int_equal(res.deleted, 5);
    table_rows t;
    read_table(e.table, &t);
    assert_int_equal(t.rows, 18);
    assert_int_equal(t.duplicates, 0);
    char h[65];
    resona_pipeline_text_hash("changed 3", 9, h);
    assert_string_equal(find_hash(&t, "n3"), h);
    assert_null(find_hash(&t, "n17"));
    assert_non_null(find_hash(&t, "n21"));
    table_rows_free(&t);
    assert_int_equal(logged_inputs(&e, NULL), 20 + 8);
    for (size_t i = 0; i < 5; i++)
        free(changed[i]);
    resona_pipeline_result_free(&res);
    items_free(&it);
    items_free(&it2);
    resona_embedder_free(em);
    env_stop(&e);
}

/* Long texts become id#N rows; when the text shrinks its old chunks go. */
static void test_chunks_replaced(void **state)
{
    (void)state;
    env e;
    env_start(&e, NULL);
    resona_embedder *em = embedder(&e, "bge-m3", 4);
    char longtext[251];
    memset(longtext, 'A', 250);
    longtext[250] = '\0';
    resona_pipeline_item item = {"long-item", longtext, "{}"};
    resona_pipeline_options o = RESONA_PIPELINE_OPTIONS_INIT;
    o.table_path = e.table;
    o.embedder = em;
    o.model = "bge-m3";
    o.chunk_size = 100;
    o.chunk_overlap = 20;
    resona_pipeline_result res;
    assert_int_equal(resona_pipeline_run_array(&o, &item, 1, &res), 0);
    assert_int_equal(res.counters.persisted, 3);
    resona_pipeline_result_free(&res);
    table_rows t;
    read_table(e.table, &t);
    assert_int_equal(t.rows, 3);
    assert_non_null(find_hash(&t, "long-item#0"));
    assert_non_null(find_hash(&t, "long-item#2"));
    table_rows_free(&t);
    /* unchanged long text: skipped by its base id */
    assert_int_equal(resona_pipeline_run_array(&o, &item, 1, &res), 0);
    assert_int_equal(res.counters.skipped, 1);
    resona_pipeline_result_free(&res);
    longtext[50] = '\0';
    assert_int_equal(resona_pipeline_run_array(&o, &item, 1, &res), 0);
    assert_int_equal(res.deleted, 3);
    resona_pipeline_result_free(&res);
    read_table(e.table, &t);
    assert_int_equal(t.rows, 1);
    assert_string_equal(t.ids[0], "long-item");
    table_rows_free(&t);
    resona_embedder_free(em);
    env_stop(&e);
}

/* A model change re-embeds the rows of the other model (same width). */
static void test_model_change(void **state)
{
    (void)state;
    env e;
    env_start(&e, "--dim 8 --model bge-m3 --model nomic-embed-text");
    resona_embedder *em = embedder(&e, "bge-m3", 4);
    items it;
    items_make(&it, 12, "text", 0);
    resona_pipeline_result res;
    assert_int_equal(run(&e, em, &it, 100, NULL, &res), 0);
    resona_pipeline_result_free(&res);
    resona_embedder_free(em);
    em = embedder(&e, "nomic-embed-text", 4);
    resona_pipeline_options o = RESONA_PIPELINE_OPTIONS_INIT;
    o.model = "nomic-embed-text";
    assert_int_equal(run(&e, em, &it, 100, &o, &res), 0);
    assert_int_equal(res.counters.skipped, 0);
    assert_int_equal(res.counters.persisted, 12);
    resona_pipeline_result_free(&res);
    table_rows t;
    read_table(e.table, &t);
    assert_int_equal(t.rows, 12);
    assert_int_equal(t.duplicates, 0);
    for (size_t i = 0; i < t.rows; i++)
        assert_string_equal(t.models[i], "nomic-embed-text");
    table_rows_free(&t);
    /* and the same model again: nothing to do */
    assert_int_equal(run(&e, em, &it, 100, &o, &res), 0);
    assert_int_equal(res.counters.skipped, 12);
    resona_pipeline_result_free(&res);
    items_free(&it);
    resona_embedder_free(em);
    env_stop(&e);
}

/* A model of another width: refused without force_all (no mixing), and with
 * force_all the old table is set aside and a new one built. */
static void test_dimension_change(void **state)
{
    (void)state;
    env e;
    env_start(&e, NULL); /* dim 8 */
    resona_embedder *em = embedder(&e, "bge-m3", 4);
    items it;
    items_make(&it, 6, "text", 0);
    resona_pipeline_result res;
    assert_int_equal(run(&e, em, &it, 100, NULL, &res), 0);
    resona_pipeline_result_free(&res);
    resona_embedder_free(em);
    ts_fake_stop(&e.fake);
    running_fake.pid = 0;
    char args[1024];
    snprintf(args, sizeof(args), "--log '%s' --dim 16", e.log);
    assert_int_equal(ts_fake_start(args, &e.fake), 0);
    running_fake = e.fake;
    em = embedder(&e, "bge-m3", 4);
    items it2;
    items_make(&it2, 6, "other", 0);
    int rc = run(&e, em, &it2, 100, NULL, &res);
    assert_int_equal(rc, RESONA_EINVALID);
    assert_non_null(strstr(resona_error_message(), "16-dimensional"));
    resona_pipeline_result_free(&res);
    table_rows t;
    read_table(e.table, &t);
    assert_int_equal(t.dim, 8);
    assert_int_equal(t.rows, 6);
    table_rows_free(&t);
    resona_embedder_free(em);
    em = embedder(&e, "bge-m3", 4);
    resona_pipeline_options o = RESONA_PIPELINE_OPTIONS_INIT;
    o.force_all = 1;
    assert_int_equal(run(&e, em, &it2, 100, &o, &res), 0);
    resona_pipeline_result_free(&res);
    read_table(e.table, &t);
    assert_int_equal(t.dim, 16);
    assert_int_equal(t.rows, 6);
    table_rows_free(&t);
    items_free(&it);
    items_free(&it2);
    resona_embedder_free(em);
    env_stop(&e);
}

/* ---- the original's table ----------------------------------------------------------- */

typedef struct golden {
    resona_pipeline_item *v;
    size_t count;
    yajl_val *docs;
} golden;

static void golden_load(golden *g)
{
    char *path = ts_fixture("golden/sample-embeddings.jsonl");
    size_t len = 0;
    char *data = ts_read_file(path, &len);
    assert_non_null(data);
    free(path);
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += data[i] == '\n';
    g->v = calloc(lines + 1, sizeof(*g->v));
    g->docs = calloc(lines + 1, sizeof(*g->docs));
    g->count = 0;
    char *save = NULL;
    for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char err[256];
        yajl_val doc = yajl_tree_parse(line, err, sizeof(err));
        assert_non_null(doc);
        const char *p_id[] = {"id", NULL}, *p_text[] = {"context_text", NULL},
                   *p_meta[] = {"metadata", NULL};
        g->v[g->count].id = YAJL_GET_STRING(yajl_tree_get(doc, p_id, yajl_t_string));
        g->v[g->count].text = YAJL_GET_STRING(yajl_tree_get(doc, p_text, yajl_t_string));
        g->v[g->count].metadata = YAJL_GET_STRING(yajl_tree_get(doc, p_meta, yajl_t_string));
        assert_non_null(g->v[g->count].id);
        assert_non_null(g->v[g->count].text);
        g->docs[g->count++] = doc;
    }
    free(data);
}

static void golden_free(golden *g)
{
    for (size_t i = 0; i < g->count; i++)
        yajl_tree_free(g->docs[i]);
    free(g->docs);
    free(g->v);
}

static void test_original_table_reused(void **state)
{
    (void)state;
    env e;
    env_start(&e, "--dim 1024");
    char *src = ts_fixture("original-workspace/tana-index.lance/embeddings.lance");
    char *out = NULL;
    assert_int_equal(ts_runf(&out, "cp -r '%s' '%s'", src, e.table), 0);
    free(out);
    free(src);
    uint64_t v0 = table_version(e.table);
    assert_int_equal(v0, 3);
    golden g;
    golden_load(&g);
    assert_int_equal(g.count, 3623);
    resona_embedder *em = embedder(&e, "bge-m3", 32);
    resona_pipeline_options o = RESONA_PIPELINE_OPTIONS_INIT;
    o.table_path = e.table;
    o.embedder = em;
    o.model = "bge-m3";
    o.remove_missing = 1;
    resona_pipeline_result res;
    int rc = resona_pipeline_run_array(&o, g.v, g.count, &res);
    if (rc < 0)
        fprintf(stderr, "%s\n", resona_error_message());
    assert_int_equal(rc, 0);
    assert_int_equal(res.counters.skipped, 3623);
    assert_int_equal(res.counters.to_embed, 0);
    assert_int_equal(res.counters.commits, 0);
    assert_int_equal(res.counters.removed, 0);
    size_t requests = 99;
    assert_int_equal(logged_inputs(&e, &requests), 0);
    assert_int_equal(requests, 0); /* zero embedding requests, not even a probe */
    assert_int_equal(table_version(e.table), v0);
    resona_pipeline_result_free(&res);
    /* one changed node: exactly one input embedded, one row replaced */
    const char *old_text = g.v[1].text;
    g.v[1].text = "Wrapping up agendas, changed";
    assert_int_equal(resona_pipeline_run_array(&o, g.v, g.count, &res), 0);
    g.v[1].text = old_text;
    assert_int_equal(res.counters.skipped, 3622);
    assert_int_equal(res.counters.persisted, 1);
    assert_int_equal(res.deleted, 1);
    assert_int_equal(logged_inputs(&e, &requests), 1);
    resona_pipeline_result_free(&res);
    table_rows t;
    read_table(e.table, &t);
    assert_int_equal(t.rows, 3623);
    assert_int_equal(t.duplicates, 0);
    assert_int_equal(t.dim, 1024);
    table_rows_free(&t);
    golden_free(&g);
    resona_embedder_free(em);
    env_stop(&e);
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "--child") == 0)
        return child_main(argv[2], argv[3], (size_t)strtoul(argv[4], NULL, 10));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_zero_items, teardown),
        cmocka_unit_test_teardown(test_fewer_than_threshold, teardown),
        cmocka_unit_test_teardown(test_exactly_threshold, teardown),
        cmocka_unit_test_teardown(test_threshold_one, teardown),
        cmocka_unit_test_teardown(test_several_flushes, teardown),
        cmocka_unit_test_teardown(test_flush_fails_then_retried, teardown),
        cmocka_unit_test_teardown(test_flush_fails_past_cap_then_journal, teardown),
        cmocka_unit_test_teardown(test_sigint_flushes, teardown),
        cmocka_unit_test_teardown(test_kill9_then_journal_recovery, teardown),
        cmocka_unit_test_teardown(test_stop_during_background_flush, teardown),
        cmocka_unit_test_teardown(test_background_flush_io_failure_retried, teardown),
        cmocka_unit_test_teardown(test_commit_then_failure_no_double_append, teardown),
        cmocka_unit_test_teardown(test_counts_consistent_with_writer, teardown),
        cmocka_unit_test_teardown(test_force_all_no_duplicates, teardown),
        cmocka_unit_test_teardown(test_changed_and_removed, teardown),
        cmocka_unit_test_teardown(test_chunks_replaced, teardown),
        cmocka_unit_test_teardown(test_model_change, teardown),
        cmocka_unit_test_teardown(test_dimension_change, teardown),
        cmocka_unit_test_teardown(test_original_table_reused, teardown),
    };
    if (getenv("PIPELINE_TEST")) /* run one test by hand: PIPELINE_TEST=test_x */
        cmocka_set_test_filter(getenv("PIPELINE_TEST"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
