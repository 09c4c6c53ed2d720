/*
 * bench/pipeline/bench_pipeline.c - the embedding pipeline over N synthetic
 * items against a running (fake) Ollama server, into a fresh Lance table.
 *
 *   bench_pipeline --url http://127.0.0.1:PORT --table DIR/embeddings.lance
 *                  [--items 100000] [--store-batch 5000] [--model bge-m3]
 *                  [--max-texts 32] [--inflight 2] [--text-len 160]
 *
 * Prints one JSON line: items, rows persisted, commits, wall seconds, peak
 * RSS (getrusage ru_maxrss) and the embedder's request count. Items are
 * streamed from a generator (never all in memory), as a 1M-node run would.
 */
#include <resona/embed.h>
#include <resona/pipeline.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

typedef struct gen {
    size_t count, at, text_len;
    char id[32];
    char text[4096];
} gen;

static int next_item(resona_pipeline_item *out, void *payload)
{
    gen *g = payload;
    if (g->at >= g->count)
        return 0;
    size_t i = g->at++;
    snprintf(g->id, sizeof(g->id), "node-%08zu", i);
    /* a node-like text: a name plus some context, different for every item */
    int n = snprintf(g->text, sizeof(g->text), "Node %zu: meeting notes about project %zu, ", i,
                     i % 977);
    size_t len = n > 0 ? (size_t)n : 0;
    static const char *words[] = {"review",   "agenda",   "weekly", "follow-up", "draft",
                                  "decision", "customer", "budget", "roadmap",   "retro"};
    size_t k = i;
    while (len + 12 < g->text_len && len + 12 < sizeof(g->text)) {
        const char *w = words[k % 10];
        k = k * 2654435761u + 7;
        size_t wl = strlen(w);
        memcpy(g->text + len, w, wl);
        len += wl;
        g->text[len++] = ' ';
    }
    g->text[len] = '\0';
    out->id = g->id;
    out->text = g->text;
    out->metadata = "{\"ancestorId\":null,\"ancestorName\":null,\"ancestorTags\":[]}";
    return 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    const char *url = NULL, *table = NULL, *model = "bge-m3";
    size_t items = 100000, store_batch = 5000, max_texts = 32, text_len = 160;
    unsigned inflight = 2;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (strcmp(k, "--url") == 0)
            url = v;
        else if (strcmp(k, "--table") == 0)
            table = v;
        else if (strcmp(k, "--model") == 0)
            model = v;
        else if (strcmp(k, "--items") == 0)
            items = strtoul(v, NULL, 10);
        else if (strcmp(k, "--store-batch") == 0)
            store_batch = strtoul(v, NULL, 10);
        else if (strcmp(k, "--max-texts") == 0)
            max_texts = strtoul(v, NULL, 10);
        else if (strcmp(k, "--inflight") == 0)
            inflight = (unsigned)strtoul(v, NULL, 10);
        else if (strcmp(k, "--text-len") == 0)
            text_len = strtoul(v, NULL, 10);
        else {
            fprintf(stderr, "bench_pipeline: unknown option %s\n", k);
            return 2;
        }
    }
    if (!url || !table) {
        fprintf(stderr, "usage: bench_pipeline --url URL --table DIR [options]\n");
        return 2;
    }
    resona_embedder_options eo = RESONA_EMBEDDER_OPTIONS_INIT;
    const char *urls[1] = {url};
    eo.endpoints = urls;
    eo.endpoint_count = 1;
    eo.model = model;
    eo.max_texts = max_texts;
    eo.inflight_per_server = inflight;
    resona_embedder *em = NULL;
    if (resona_embedder_new(&eo, &em) < 0) {
        fprintf(stderr, "bench_pipeline: %s\n", resona_error_message());
        return 1;
    }
    gen *g = calloc(1, sizeof(*g));
    g->count = items;
    g->text_len = text_len;
    resona_pipeline_options o = RESONA_PIPELINE_OPTIONS_INIT;
    o.table_path = table;
    o.embedder = em;
    o.model = model;
    o.store_batch_size = store_batch;
    o.total_items = items;
    resona_pipeline_result res;
    double t0 = now_s();
    int rc = resona_pipeline_run(&o, next_item, g, &res);
    double wall = now_s() - t0;
    if (rc < 0)
        fprintf(stderr, "bench_pipeline: %s\n", resona_error_message());
    resona_embed_stats st;
    resona_embedder_stats(em, &st);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"items\":%zu,\"store_batch\":%zu,\"persisted\":%llu,\"commits\":%llu,"
           "\"wall_s\":%.3f,\"peak_rss_mb\":%.1f,\"requests\":%llu,\"errors\":%llu,"
           "\"user_s\":%.3f,\"sys_s\":%.3f}\n",
           items, store_batch, (unsigned long long)res.counters.persisted,
           (unsigned long long)res.counters.commits, wall, (double)ru.ru_maxrss / 1024.0,
           (unsigned long long)st.requests, (unsigned long long)res.counters.errors,
           (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
    resona_pipeline_result_free(&res);
    resona_embedder_free(em);
    free(g);
    return rc < 0 ? 1 : 0;
}
