/*
 * search/search.c - the flat search driver: worker threads, one pass over
 * the data for all queries, per-worker top-k collectors merged at the end.
 *
 * Work is split by the source's parts (fragments or row ranges). Workers take
 * the next part from a shared counter, so a slow part does not hold the
 * others up. Each worker keeps its own top-k per query; nothing is shared on
 * the hot path. Merging sorts the union of the workers' entries by
 * (distance, row id), which is a total order, so the answer does not depend
 * on the thread count or on which worker read which part.
 *
 * For each row, the distances to all queries are computed while the row is
 * in L1 cache, so Q queries cost one read of the data, not Q.
 */
#include "search/kernels.h"
#include "search/topk.h"

#include "util/alloc.h"
#include "util/error.h"

#include <resona/search.h>

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

struct resona_search_results {
    size_t query_count;
    resona_search_hit **hits; /* per query, counts[q] hits */
    size_t *counts;
    uint64_t rows_scanned;
};

typedef struct search_job {
    const resona_search_source *source;
    const float *queries;
    float *norms;
    size_t query_count;
    size_t dim;
    resona_metric metric;
    size_t k;
    int collapse;
    atomic_size_t next_part;
    atomic_int stop;
    pthread_mutex_t lock; /* guards first_rc / first_msg */
    int first_rc;
    char first_msg[1024];
} search_job;

typedef struct worker {
    search_job *job;
    topk *tops;  /* query_count collectors */
    float *dist; /* query_count scratch distances */
    uint64_t rows;
    pthread_t thread;
    int started;
} worker;

int resona_metric_parse(const char *name, resona_metric *out)
{
    if (!name)
        return resona__error_set(RESONA_EINVALID, "metric: missing name");
    if (strcasecmp(name, "l2") == 0 || strcasecmp(name, "euclidean") == 0)
        *out = RESONA_METRIC_L2;
    else if (strcasecmp(name, "cosine") == 0)
        *out = RESONA_METRIC_COSINE;
    else if (strcasecmp(name, "dot") == 0)
        *out = RESONA_METRIC_DOT;
    else
        return resona__error_set(RESONA_EINVALID,
                                 "unknown metric \"%s\" (expected l2, cosine or dot)", name);
    return 0;
}

const char *resona_metric_name(resona_metric metric)
{
    switch (metric) {
    case RESONA_METRIC_COSINE:
        return "cosine";
    case RESONA_METRIC_DOT:
        return "dot";
    case RESONA_METRIC_L2:
    default:
        return "l2";
    }
}

size_t resona_search_base_id_len(const char *key)
{
    return resona__search_base_len(key, strlen(key));
}

/* Record the first failure of any worker (message from this thread's TLS). */
static void job_fail(search_job *job, int rc)
{
    pthread_mutex_lock(&job->lock);
    if (job->first_rc == 0) {
        job->first_rc = rc;
        snprintf(job->first_msg, sizeof(job->first_msg), "%s", resona_error_message());
    }
    pthread_mutex_unlock(&job->lock);
    atomic_store(&job->stop, 1);
}

static int emit_batch(const resona_search_batch *batch, void *payload)
{
    worker *w = payload;
    search_job *job = w->job;
    if (atomic_load_explicit(&job->stop, memory_order_relaxed))
        return resona__error_set(RESONA_EINTERRUPTED, "search stopped after another part failed");
    if (batch->count == 0)
        return 0;
    if (batch->dim != job->dim)
        return resona__error_set(RESONA_EINVALID,
                                 "search: rows have %zu dimensions, the query has %zu", batch->dim,
                                 job->dim);
    if (!batch->vectors || !batch->row_ids)
        return resona__error_set(RESONA_EINVALID, "search: batch without vectors or row ids");
    const size_t nq = job->query_count, dim = job->dim;
    for (size_t r = 0; r < batch->count; r++) {
        if (batch->valid && !batch->valid[r])
            continue;
        if (batch->vector_validity && !(batch->vector_validity[r / 8] >> (r % 8) & 1))
            continue;
        w->rows++;
        resona__search_row_distances(job->metric, job->queries, job->norms, nq,
                                     batch->vectors + r * dim, dim, w->dist);
        for (size_t q = 0; q < nq; q++) {
            float d = w->dist[q];
            if (isnan(d) || !resona__topk_would_take(&w->tops[q], d, batch->row_ids[r]))
                continue;
            const char *key = NULL;
            size_t key_len = 0;
            if (batch->keys) {
                key = batch->keys[r];
                key_len = key ? strlen(key) : 0;
            } else if (batch->key_offsets && batch->key_values &&
                       (!batch->key_validity || (batch->key_validity[r / 8] >> (r % 8) & 1))) {
                key = batch->key_values + batch->key_offsets[r];
                key_len = (size_t)(batch->key_offsets[r + 1] - batch->key_offsets[r]);
            }
            int rc = resona__topk_offer(&w->tops[q], d, batch->row_ids[r], key, key_len);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    search_job *job = w->job;
    const resona_search_source *src = job->source;
    for (;;) {
        if (atomic_load(&job->stop))
            break;
        size_t part = atomic_fetch_add(&job->next_part, 1);
        if (part >= src->part_count)
            break;
        int rc = src->read_part(part, emit_batch, w, src->payload);
        if (rc < 0) {
            job_fail(job, rc);
            break;
        }
    }
    return NULL;
}

static void worker_free(worker *w, size_t query_count)
{
    if (w->tops) {
        for (size_t q = 0; q < query_count; q++)
            resona__topk_free(&w->tops[q]);
    }
    resona__free(w->tops);
    resona__free(w->dist);
}

static int worker_init(worker *w, search_job *job)
{
    memset(w, 0, sizeof(*w));
    w->job = job;
    w->tops = resona__calloc(job->query_count, sizeof(topk));
    w->dist = resona__calloc(job->query_count, sizeof(float));
    if (!w->tops || !w->dist)
        return RESONA_ENOMEM;
    for (size_t q = 0; q < job->query_count; q++) {
        int rc = resona__topk_init(&w->tops[q], job->k, job->collapse);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int cmp_entry_ptr(const void *a, const void *b)
{
    const topk_entry *x = *(const topk_entry *const *)a;
    const topk_entry *y = *(const topk_entry *const *)b;
    return resona__topk_cmp(x, y);
}

static int same_base(const topk_entry *a, const topk_entry *b)
{
    return a->base_len != SIZE_MAX && a->base_len == b->base_len && a->base_hash == b->base_hash &&
           memcmp(a->key, b->key, a->base_len) == 0;
}

/* Merge query q over all workers into res->hits[q]. */
static int merge_query(resona_search_results *res, size_t q, worker *workers, size_t nworkers,
                       const search_job *job)
{
    size_t total = 0;
    for (size_t i = 0; i < nworkers; i++)
        total += workers[i].tops[q].count;
    if (total == 0)
        return 0;
    const topk_entry **all = resona__calloc(total, sizeof(*all));
    if (!all)
        return RESONA_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < nworkers; i++) {
        for (size_t j = 0; j < workers[i].tops[q].count; j++)
            all[n++] = &workers[i].tops[q].heap[j];
    }
    qsort(all, n, sizeof(*all), cmp_entry_ptr);
    /* Collapse across workers: keep the first (best) row of each base id. */
    size_t kept = 0;
    for (size_t i = 0; i < n && kept < job->k; i++) {
        int dup = 0;
        if (job->collapse) {
            for (size_t j = 0; j < kept && !dup; j++)
                dup = same_base(all[j], all[i]);
        }
        if (!dup)
            all[kept++] = all[i];
    }
    int rc = 0;
    resona_search_hit *hits = resona__calloc(kept, sizeof(*hits));
    if (!hits) {
        rc = RESONA_ENOMEM;
        goto done;
    }
    res->hits[q] = hits;
    for (size_t i = 0; i < kept; i++) {
        hits[i].distance = all[i]->distance;
        hits[i].row_id = all[i]->row_id;
        if (all[i]->base_len != SIZE_MAX) {
            char *key = resona__strdup(all[i]->key);
            if (!key) {
                rc = RESONA_ENOMEM;
                goto done;
            }
            hits[i].key = key;
        }
        res->counts[q] = i + 1;
    }
done:
    resona__free(all);
    return rc;
}

static unsigned online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1u : (unsigned)(n > 256 ? 256 : n);
}

int resona_search_run(const resona_search_source *source, const float *queries, size_t query_count,
                      size_t dim, const resona_search_options *options, resona_search_results **out)
{
    resona_search_options defaults = RESONA_SEARCH_OPTIONS_INIT;
    const resona_search_options *opt = options ? options : &defaults;
    resona_search_results *res = NULL;
    worker *workers = NULL;
    size_t nworkers = 0;
    search_job job;
    int rc = 0, lock_ready = 0;

    memset(&job, 0, sizeof(job));
    if (out)
        *out = NULL;
    if (!source || !source->read_part || !queries || !out)
        return resona__error_set(RESONA_EINVALID, "search: missing source, queries or out");
    if (dim == 0 || query_count == 0)
        return resona__error_set(RESONA_EINVALID, "search: %zu queries of dimension %zu",
                                 query_count, dim);
    if (opt->k == 0)
        return resona__error_set(RESONA_EINVALID, "search: k must be at least 1");
    if (opt->metric != RESONA_METRIC_L2 && opt->metric != RESONA_METRIC_COSINE &&
        opt->metric != RESONA_METRIC_DOT)
        return resona__error_set(RESONA_EINVALID, "search: unknown metric %d", (int)opt->metric);
    for (size_t q = 0; q < query_count; q++) {
        for (size_t i = 0; i < dim; i++) {
            if (!isfinite(queries[q * dim + i]))
                return resona__error_set(RESONA_EINVALID,
                                         "search: query %zu component %zu is not finite (%g)", q, i,
                                         (double)queries[q * dim + i]);
        }
    }

    job.source = source;
    job.queries = queries;
    job.query_count = query_count;
    job.dim = dim;
    job.metric = opt->metric;
    job.k = opt->k;
    job.collapse = opt->collapse_chunks != 0;
    atomic_init(&job.next_part, 0);
    atomic_init(&job.stop, 0);
    if (pthread_mutex_init(&job.lock, NULL) != 0)
        return resona__error_set(RESONA_ERROR, "search: pthread_mutex_init failed");
    lock_ready = 1;
    job.norms = resona__calloc(query_count, sizeof(float));
    if (!job.norms) {
        rc = RESONA_ENOMEM;
        goto done;
    }
    for (size_t q = 0; q < query_count; q++)
        job.norms[q] = resona__search_norm(queries + q * dim, dim);

    unsigned want = opt->threads ? opt->threads : online_cpus();
    nworkers = want;
    if (nworkers > source->part_count)
        nworkers = source->part_count;
    if (nworkers == 0)
        nworkers = 1;
    workers = resona__calloc(nworkers, sizeof(worker));
    if (!workers) {
        nworkers = 0;
        rc = RESONA_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < nworkers; i++) {
        rc = worker_init(&workers[i], &job);
        if (rc < 0)
            goto done;
    }
    if (nworkers == 1) {
        worker_main(&workers[0]);
    } else {
        for (size_t i = 0; i < nworkers; i++) {
            int err = pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]);
            if (err != 0) {
                /* run with the threads we have; the rest of the parts go to them */
                if (i == 0)
                    worker_main(&workers[0]);
                break;
            }
            workers[i].started = 1;
        }
        for (size_t i = 0; i < nworkers; i++) {
            if (workers[i].started)
                pthread_join(workers[i].thread, NULL);
        }
    }
    if (job.first_rc < 0) {
        rc = resona__error_set(job.first_rc, "%s", job.first_msg);
        goto done;
    }

    res = resona__calloc(1, sizeof(*res));
    if (!res) {
        rc = RESONA_ENOMEM;
        goto done;
    }
    res->query_count = query_count;
    res->hits = resona__calloc(query_count, sizeof(*res->hits));
    res->counts = resona__calloc(query_count, sizeof(*res->counts));
    if (!res->hits || !res->counts) {
        rc = RESONA_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < nworkers; i++)
        res->rows_scanned += workers[i].rows;
    for (size_t q = 0; q < query_count; q++) {
        rc = merge_query(res, q, workers, nworkers, &job);
        if (rc < 0)
            goto done;
    }
    *out = res;
    res = NULL;
done:
    resona_search_results_free(res);
    if (workers) {
        for (size_t i = 0; i < nworkers; i++)
            worker_free(&workers[i], query_count);
    }
    resona__free(workers);
    resona__free(job.norms);
    if (lock_ready)
        pthread_mutex_destroy(&job.lock);
    return rc;
}

size_t resona_search_results_query_count(const resona_search_results *results)
{
    return results ? results->query_count : 0;
}

const resona_search_hit *resona_search_results_hits(const resona_search_results *results,
                                                    size_t query, size_t *count)
{
    if (count)
        *count = 0;
    if (!results || query >= results->query_count || results->counts[query] == 0)
        return NULL;
    if (count)
        *count = results->counts[query];
    return results->hits[query];
}

uint64_t resona_search_results_rows_scanned(const resona_search_results *results)
{
    return results ? results->rows_scanned : 0;
}

void resona_search_results_free(resona_search_results *results)
{
    if (!results)
        return;
    if (results->hits) {
        for (size_t q = 0; q < results->query_count; q++) {
            if (!results->hits[q])
                continue;
            for (size_t i = 0; i < results->counts[q]; i++)
                resona__free((void *)results->hits[q][i].key);
            resona__free(results->hits[q]);
        }
    }
    resona__free(results->hits);
    resona__free(results->counts);
    resona__free(results);
}

/* ---- the in-memory source ------------------------------------------------ */

static int memory_read_part(size_t part, resona_search_emit_fn emit, void *emit_payload,
                            void *payload)
{
    const resona_search_memory *mem = payload;
    size_t rpp = mem->rows_per_part ? mem->rows_per_part : 8192;
    size_t start = part * rpp;
    if (start >= mem->count)
        return 0;
    size_t n = mem->count - start < rpp ? mem->count - start : rpp;
    uint64_t ids[256];
    resona_search_batch b;
    memset(&b, 0, sizeof(b));
    b.dim = mem->dim;
    if (mem->row_ids) {
        b.count = n;
        b.vectors = mem->vectors + start * mem->dim;
        b.row_ids = mem->row_ids + start;
        b.keys = mem->keys ? mem->keys + start : NULL;
        b.valid = mem->valid ? mem->valid + start : NULL;
        return emit(&b, emit_payload);
    }
    /* implicit row ids: hand the rows over in slices with a local id array */
    for (size_t off = 0; off < n; off += 256) {
        size_t m = n - off < 256 ? n - off : 256;
        for (size_t i = 0; i < m; i++)
            ids[i] = (uint64_t)(start + off + i);
        b.count = m;
        b.vectors = mem->vectors + (start + off) * mem->dim;
        b.row_ids = ids;
        b.keys = mem->keys ? mem->keys + start + off : NULL;
        b.valid = mem->valid ? mem->valid + start + off : NULL;
        int rc = emit(&b, emit_payload);
        if (rc < 0)
            return rc;
    }
    return 0;
}

void resona_search_source_memory(resona_search_source *out, const resona_search_memory *mem)
{
    size_t rpp = mem->rows_per_part ? mem->rows_per_part : 8192;
    out->part_count = (mem->count + rpp - 1) / rpp;
    out->read_part = memory_read_part;
    out->payload = (void *)mem;
}
