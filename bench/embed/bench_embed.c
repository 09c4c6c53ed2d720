/*
 * bench/embed/bench_embed.c - how fast the embedding client is.
 *
 *   bench_embed parse [--vectors N] [--dim D]
 *       The reply parser alone: N vectors of D values (printed with %.9g,
 *       ~9 % longer than the shortest text Ollama and the fake send), fed in
 *       16 KiB chunks. Reports MB/s of JSON for the
 *       parser as shipped (fast path + strtof fallback), for the same parser
 *       with every number through strtof_l only, and for yajl with no-op
 *       callbacks (the lexer's own ceiling).
 *
 *   bench_embed run [--servers K] [--batch B] [--texts N] [--window W]
 *                   [--latency-ms A] [--per-input-ms P] [--dim D] [--pool T]
 *       K fake-ollama servers with the one-at-a-time latency model (A ms +
 *       P ms per input per request). Reports texts/s, the theoretical
 *       maximum K * B / (A + P*B) texts/s, the measured server busy fraction
 *       (from the fake's request log: sum of end-start over the span of the
 *       run) and the client's CPU time per embedding (getrusage of this
 *       process; the servers are separate processes). With --pool T > 0 the
 *       texts cycle through T distinct texts, and before the clock starts
 *       each server sees all T once, so that the fake serves every timed
 *       request from its vector cache: its own CPU per request becomes a
 *       copy, small next to the model time, whatever the dimension. --pool 0
 *       (the default of run) sends N distinct texts. Also reports the
 *       fake's own work per request (work_ms in its log) against the
 *       model time.
 *
 *   bench_embed sweep [--dim D] [--pool T] [--seconds S]
 *                       The table in docs/benchmarks.md: run for K = 1, 2, 4
 *                       at B = 32, and for B = 1, 10, 32, 64 at K = 1;
 *                       --pool 512 by default.
 */
#include <resona/embed.h>

#include "embed/fparse.h"
#include "embed/reply.h"
#include "fake_ollama.h"
#include "util/alloc.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_parse.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static long arg_long(int argc, char **argv, const char *name, long def)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return strtol(argv[i + 1], NULL, 10);
    return def;
}

/* ---- parse ------------------------------------------------------------------------------ */

static uint64_t rs = 0x243f6a8885a308d3ull;

static double rnd_unit(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (double)(rs >> 11) / 9007199254740992.0;
}

/* One reply of `count` vectors of `dim` unit-length values. */
static char *make_reply(size_t count, uint32_t dim, size_t *len)
{
    size_t cap = count * dim * 20 + 64, used = 0;
    char *b = malloc(cap);
    used += (size_t)snprintf(b + used, cap - used, "{\"model\":\"bge-m3\",\"embeddings\":[");
    float *v = malloc(dim * sizeof(float));
    for (size_t i = 0; i < count; i++) {
        double sum = 0;
        for (uint32_t j = 0; j < dim; j++) {
            v[j] = (float)(rnd_unit() * 2 - 1);
            sum += (double)v[j] * v[j];
        }
        b[used++] = i ? ',' : '[';
        if (i)
            b[used++] = '[';
        for (uint32_t j = 0; j < dim; j++)
            used += (size_t)snprintf(b + used, cap - used, "%s%.9g", j ? "," : "",
                                     (double)(float)(v[j] / sqrt(sum)));
        b[used++] = ']';
    }
    used += (size_t)snprintf(b + used, cap - used,
                             "],\"total_duration\":14143917,\"prompt_eval_count\":8}");
    free(v);
    *len = used;
    return b;
}

static int noop_number(void *ctx, const char *s, size_t l)
{
    (void)ctx;
    (void)s;
    (void)l;
    return 1;
}

static int noop(void *ctx)
{
    (void)ctx;
    return 1;
}

static int noop_key(void *ctx, const unsigned char *k, size_t l)
{
    (void)ctx;
    (void)k;
    (void)l;
    return 1;
}

static const yajl_callbacks noop_callbacks = {noop, NULL, NULL, NULL, noop_number, noop_key,
                                              noop, noop_key, noop, noop, noop};

static int bench_parse(int argc, char **argv)
{
    size_t vectors = (size_t)arg_long(argc, argv, "--vectors", 20000);
    uint32_t dim = (uint32_t)arg_long(argc, argv, "--dim", 1024);
    const size_t per_reply = 32, chunk = 16384;
    size_t len;
    char *body = make_reply(per_reply, dim, &len);
    size_t replies = (vectors + per_reply - 1) / per_reply;
    double mb = (double)len * (double)replies / 1e6;
    printf("parse: %zu replies of %zu x %u-d vectors, %.1f KB each, %.1f MB of JSON in total\n",
           replies, per_reply, dim, (double)len / 1e3, mb);

    /* yajl with no-op callbacks: the lexer's ceiling. */
    double t0 = now_s();
    for (size_t r = 0; r < replies; r++) {
        yajl_handle h = yajl_alloc(&noop_callbacks, NULL, NULL);
        for (size_t off = 0; off < len; off += chunk)
            yajl_parse(h, (const unsigned char *)body + off, len - off < chunk ? len - off : chunk);
        yajl_complete_parse(h);
        yajl_free(h);
    }
    double t_yajl = now_s() - t0;

    /* The reply parser as shipped. */
    t0 = now_s();
    for (size_t r = 0; r < replies; r++) {
        resona__reply p;
        if (resona__reply_init(&p, RESONA__REPLY_OLLAMA, per_reply, dim) < 0)
            return 1;
        for (size_t off = 0; off < len; off += chunk)
            resona__reply_feed(&p, body + off, len - off < chunk ? len - off : chunk);
        if (resona__reply_finish(&p) < 0) {
            fprintf(stderr, "parse failed: %s\n", p.msg);
            return 1;
        }
        resona__reply_free(&p);
    }
    double t_reply = now_s() - t0;

    /* Number conversion alone: fast path vs strtof_l on every number of one reply. */
    size_t nums = 0;
    double t_fast = 0, t_slow = 0;
    for (int pass = 0; pass < 2; pass++) {
        t0 = now_s();
        float sink = 0;
        for (size_t r = 0; r < replies; r++) {
            const char *p = strstr(body, "[[") + 2;
            const char *end = strstr(body, "]]");
            while (p < end) {
                while (*p == '[' || *p == ']' || *p == ',')
                    p++;
                const char *q = p;
                while (q < end && *q != ',' && *q != ']')
                    q++;
                float f;
                if (pass == 0)
                    resona__embed_parse_f32(p, (size_t)(q - p), &f);
                else
                    resona__embed_parse_f32_slow(p, (size_t)(q - p), &f);
                sink += f;
                nums += pass == 0 && r == 0;
                p = q + 1;
            }
        }
        if (pass == 0)
            t_fast = now_s() - t0;
        else
            t_slow = now_s() - t0;
        if (sink == 12345.0f)
            puts("");
    }
    printf("  yajl, no-op callbacks:        %8.1f MB/s\n", mb / t_yajl);
    printf("  reply parser (as shipped):    %8.1f MB/s  (%.2f us per %u-d vector)\n",
           mb / t_reply, t_reply * 1e6 / (double)(replies * per_reply), dim);
    printf("  numbers only, fast path:      %8.1f MB/s  (%.1f ns per number)\n",
           mb / t_fast, t_fast * 1e9 / (double)(nums * replies));
    printf("  numbers only, strtof_l:       %8.1f MB/s  (%.1f ns per number)\n",
           mb / t_slow, t_slow * 1e9 / (double)(nums * replies));
    printf("  => 100k x %u-d replies (%.2f GB) parse in %.1f s of client CPU\n", dim,
           (double)len / (double)per_reply * 1e5 / 1e9,
           t_reply / (double)(replies * per_reply) * 1e5);
    free(body);
    return 0;
}

/* ---- run -------------------------------------------------------------------------------- */

typedef struct run_result {
    double wall, cpu, texts_per_s, max_per_s, busy, busy_wall, starved;
    double work_mean_ms, work_max_ms; /* the fakes' own work per request */
    double hold_mean_ms;              /* end - start per request (model time + oversleep) */
    uint64_t requests, failed;
} run_result;

static int sink_count(const resona_embed_result *r, void *payload)
{
    uint64_t *failed = payload;
    if (r->status != 0)
        (*failed)++;
    return 0;
}

/* Busy fraction of one server from its log: sum(end - start) / (max end - min start). */
/*
 * Also *starved_ms: time the server sat idle because the client had not sent
 * the next request yet (sum over k of max(0, recv(k+1) - end(k)), in serving
 * order). Idle time while a request was already waiting is the server's own
 * scheduling, not the client's.
 */
typedef struct log_stats {
    double busy_ms, starved_ms, span_ms;
    double work_sum_ms, work_max_ms;
    uint64_t requests;
} log_stats;
/* (busy_ms / requests is the mean time a request held the model.) */

static double busy_fraction(const char *path, uint64_t skip_n, log_stats *ls)
{
    FILE *f = fopen(path, "r");
    memset(ls, 0, sizeof *ls);
    if (!f)
        return 0;
    char *line = NULL;
    size_t cap = 0;
    double busy = 0, first = -1, last = 0, prev_end = -1, starved = 0;
    while (getline(&line, &cap, f) > 0) {
        char *np = strstr(line, "\"n\":");
        unsigned long long n = np ? strtoull(np + 4, NULL, 10) : 0;
        if (n == 0 || n <= skip_n) /* other requests; the warm-up */
            continue;
        char *s = strstr(line, "\"start_ms\":"), *e = strstr(line, "\"end_ms\":");
        if (!s || !e)
            continue;
        double st = strtod(s + 11, NULL), en = strtod(e + 9, NULL);
        char *rv = strstr(line, "\"recv_ms\":");
        double recv = rv ? strtod(rv + 10, NULL) : st;
        char *wk = strstr(line, "\"work_ms\":");
        double work = wk ? strtod(wk + 10, NULL) : 0;
        ls->work_sum_ms += work;
        if (work > ls->work_max_ms)
            ls->work_max_ms = work;
        ls->requests++;
        if (prev_end >= 0 && recv > prev_end)
            starved += recv - prev_end;
        prev_end = en;
        busy += en - st;
        if (first < 0 || st < first)
            first = st;
        if (en > last)
            last = en;
    }
    free(line);
    fclose(f);
    ls->busy_ms = busy;
    ls->starved_ms = starved;
    ls->span_ms = last > first ? last - first : 0;
    return last > first ? busy / (last - first) : 0;
}

static void text_of(long i, long pool, char *text, size_t cap, int *n)
{
    *n = snprintf(text, cap, "benchmark text number %ld about something", pool > 0 ? i % pool : i);
}

/* Every pool text once through server `url` (32 per request), so that the
 * timed run finds them in its vector cache. Returns the requests it took. */
static int warm_up(const char *url, long pool, uint64_t *requests)
{
    resona_embedder_options o = RESONA_EMBEDDER_OPTIONS_INIT;
    o.endpoints = &url;
    o.endpoint_count = 1;
    o.model = "bge-m3";
    o.max_texts = 32;
    resona_embedder *e = NULL;
    char text[128];
    int n;
    if (resona_embedder_new(&o, &e) < 0 || resona_embedder_preflight(e) < 0)
        goto fail;
    for (long i = 0; i < pool; i++) {
        text_of(i, pool, text, sizeof text, &n);
        if (resona_embedder_submit(e, text, (size_t)n, (uint64_t)i) < 0)
            goto fail;
    }
    if (resona_embedder_drain(e) < 0)
        goto fail;
    resona_embed_stats st;
    resona_embedder_stats(e, &st);
    *requests = st.requests;
    resona_embedder_free(e);
    return 0;
fail:
    fprintf(stderr, "bench: warm-up: %s\n", resona_error_message());
    resona_embedder_free(e);
    return 1;
}

static int run_one(int servers, long batch, long texts, long window, long lat, long per,
                   long dim, long pool, run_result *out)
{
    uint64_t warm[16] = {0};
    ts_fake f[16];
    char *logs[16];
    const char *urls[16];
    char dir[] = "/tmp/bench-embed.XXXXXX";
    if (servers < 1 || servers > 16 || !mkdtemp(dir))
        return 1;
    for (int i = 0; i < servers; i++) {
        char args[512];
        logs[i] = malloc(strlen(dir) + 32);
        snprintf(logs[i], strlen(dir) + 32, "%s/fake%d.jsonl", dir, i);
        snprintf(args, sizeof(args),
                 "--dim %ld --latency-ms %ld --per-input-ms %ld --log-no-texts --log %s", dim,
                 lat, per, logs[i]);
        if (ts_fake_start(args, &f[i]) != 0)
            return 1;
        urls[i] = f[i].url;
        if (pool > 0 && warm_up(f[i].url, pool, &warm[i]) != 0)
            return 1;
    }
    resona_embedder_options o = RESONA_EMBEDDER_OPTIONS_INIT;
    o.endpoints = urls;
    o.endpoint_count = (size_t)servers;
    o.model = "bge-m3";
    o.max_texts = (size_t)batch;
    o.inflight_per_server = (unsigned)window;
    resona_embedder *e = NULL;
    if (resona_embedder_new(&o, &e) < 0 || resona_embedder_preflight(e) < 0) {
        fprintf(stderr, "bench: %s\n", resona_error_message());
        return 1;
    }
    uint64_t failed = 0;
    resona_embedder_set_sink(e, sink_count, &failed);
    double c0 = cpu_s(), t0 = now_s();
    char text[128];
    for (long i = 0; i < texts; i++) {
        int n;
        text_of(i, pool, text, sizeof text, &n);
        if (resona_embedder_submit(e, text, (size_t)n, (uint64_t)i) < 0) {
            fprintf(stderr, "bench: %s\n", resona_error_message());
            return 1;
        }
    }
    if (resona_embedder_drain(e) < 0) {
        fprintf(stderr, "bench: %s\n", resona_error_message());
        return 1;
    }
    out->wall = now_s() - t0;
    out->cpu = cpu_s() - c0;
    resona_embed_stats st;
    resona_embedder_stats(e, &st);
    out->requests = st.requests;
    out->failed = failed;
    out->texts_per_s = (double)texts / out->wall;
    out->max_per_s = servers * (double)batch * 1000.0 / (double)(lat + per * batch);
    resona_embedder_free(e);
    out->busy = 0;
    out->busy_wall = 0;
    out->starved = 0;
    out->work_max_ms = 0;
    double work_sum = 0, hold_sum = 0;
    uint64_t work_n = 0;
    for (int i = 0; i < servers; i++) {
        ts_fake_stop(&f[i]);
        log_stats ls;
        out->busy += busy_fraction(logs[i], warm[i], &ls) / servers;
        out->starved += ls.span_ms > 0 ? ls.starved_ms / ls.span_ms / servers : 0;
        out->busy_wall += ls.busy_ms / 1000.0 / out->wall / servers;
        work_sum += ls.work_sum_ms;
        hold_sum += ls.busy_ms;
        work_n += ls.requests;
        if (ls.work_max_ms > out->work_max_ms)
            out->work_max_ms = ls.work_max_ms;
        if (getenv("BENCH_KEEP_LOGS"))
            fprintf(stderr, "log kept: %s\n", logs[i]);
        else
            unlink(logs[i]);
        free(logs[i]);
    }
    if (!getenv("BENCH_KEEP_LOGS"))
        rmdir(dir);
    out->work_mean_ms = work_n ? work_sum / (double)work_n : 0;
    out->hold_mean_ms = work_n ? hold_sum / (double)work_n : 0;
    return 0;
}

static void print_run(int servers, long batch, long texts, long window, long lat, long per,
                      const run_result *r)
{
    printf("servers %d  batch %3ld  window %ld  texts %6ld  %7.1f texts/s  max %7.1f  "
           "%5.1f%% of model max | servers busy %5.1f%% of the run, %5.1f%% between first and "
           "last request, idle for want of a request %4.1f%% | model held %.2f ms per request "
           "(model time %ld ms), server work %.2f ms mean, %.2f max | client CPU %6.1f "
           "us/embedding "
           "(%llu req, %llu failed)\n",
           servers, batch, window, texts, r->texts_per_s, r->max_per_s,
           100 * r->texts_per_s / r->max_per_s, 100 * r->busy_wall, 100 * r->busy,
           100 * r->starved, r->hold_mean_ms, lat + per * batch, r->work_mean_ms, r->work_max_ms,
           r->cpu * 1e6 / (double)texts,
           (unsigned long long)r->requests, (unsigned long long)r->failed);
    fflush(stdout);
}

static int bench_run(int argc, char **argv)
{
    int servers = (int)arg_long(argc, argv, "--servers", 1);
    long batch = arg_long(argc, argv, "--batch", 32);
    long texts = arg_long(argc, argv, "--texts", 2000);
    long window = arg_long(argc, argv, "--window", 2);
    long lat = arg_long(argc, argv, "--latency-ms", 10);
    long per = arg_long(argc, argv, "--per-input-ms", 3);
    long dim = arg_long(argc, argv, "--dim", 1024);
    long pool = arg_long(argc, argv, "--pool", 0);
    run_result r;
    if (run_one(servers, batch, texts, window, lat, per, dim, pool, &r) != 0)
        return 1;
    print_run(servers, batch, texts, window, lat, per, &r);
    return 0;
}

static int bench_sweep(int argc, char **argv)
{
    long secs = arg_long(argc, argv, "--seconds", 6);
    long lat = 10, per = 3, dim = arg_long(argc, argv, "--dim", 1024);
    long pool = arg_long(argc, argv, "--pool", 512);
    printf("latency model: %ld ms + %ld ms per input per request, one request at a time per "
           "server; %ld-d vectors; ~%ld s per row; %s\n", lat, per, dim, secs,
           pool > 0 ? "texts from a pool, cached by the servers before the clock starts"
                    : "all texts distinct");
    if (pool > 0)
        printf("pool: %ld texts\n", pool);
    const int ks[] = {1, 2, 4};
    double base = 0;
    for (size_t i = 0; i < 3; i++) {
        long batch = 32;
        double max = ks[i] * (double)batch * 1000.0 / (double)(lat + per * batch);
        long texts = (long)(max * (double)secs);
        run_result r;
        if (run_one(ks[i], batch, texts, 2, lat, per, dim, pool, &r) != 0)
            return 1;
        print_run(ks[i], batch, texts, 2, lat, per, &r);
        if (i == 0)
            base = r.texts_per_s;
        else
            printf("  -> %.2fx the 1-server rate with %d servers\n", r.texts_per_s / base, ks[i]);
    }
    const long bs[] = {1, 10, 32, 64};
    double rate[4];
    for (size_t i = 0; i < 4; i++) {
        double max = (double)bs[i] * 1000.0 / (double)(lat + per * bs[i]);
        long texts = (long)(max * (double)secs);
        run_result r;
        if (run_one(1, bs[i], texts, 2, lat, per, dim, pool, &r) != 0)
            return 1;
        print_run(1, bs[i], texts, 2, lat, per, &r);
        rate[i] = r.texts_per_s;
    }
    printf("batch speed-ups (rows over columns):\n       ");
    for (size_t j = 0; j < 4; j++)
        printf("  B=%-4ld", bs[j]);
    printf("\n");
    for (size_t i = 0; i < 4; i++) {
        printf("B=%-4ld ", bs[i]);
        for (size_t j = 0; j < 4; j++)
            printf("  %5.2fx", rate[i] / rate[j]);
        printf("\n");
    }
    /* The window: 1 request in flight leaves the server idle during each round trip. */
    run_result r;
    long texts = (long)(32.0 * 1000.0 / (double)(lat + per * 32) * (double)secs);
    if (run_one(1, 32, texts, 1, lat, per, dim, pool, &r) != 0)
        return 1;
    print_run(1, 32, texts, 1, lat, per, &r);
    return 0;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc >= 2 && strcmp(argv[1], "parse") == 0)
        return bench_parse(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "run") == 0)
        return bench_run(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "sweep") == 0)
        return bench_sweep(argc, argv);
    fprintf(stderr, "usage: bench_embed parse|run|sweep [options] (see the source header)\n");
    return 2;
}
