/*
 * embed/run.c - the embedding run (see run.h): SQLite cursor -> libresona
 * pipeline -> Lance table, progress mapped onto embed/progress.h.
 */
#include "embed/run.h"

#include <resona/embed.h>
#include <resona/pipeline.h>
#include <resona/table.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>

static int make_embedder(const struct st_run_opts *o, resona_embedder **out)
{
    resona_embedder_options eo = RESONA_EMBEDDER_OPTIONS_INIT;
    eo.endpoints = o->endpoints;
    eo.endpoint_count = o->endpoint_count;
    eo.model = o->model;
    eo.max_texts = o->batch_size;
    eo.inflight_per_server = o->parallel;
    int rc = resona_embedder_new(&eo, out);
    if (rc < 0)
        return st_error_set(rc, "%s", resona_error_message());
    return 0;
}

enum st_preflight st_run_preflight(const struct st_run_opts *o)
{
    resona_embedder *e = NULL;
    if (make_embedder(o, &e) < 0)
        return ST_PREFLIGHT_ERROR;
    int rc = resona_embedder_preflight(e);
    enum st_preflight r = ST_PREFLIGHT_OK;
    if (rc < 0) {
        st_error_set(rc, "%s", resona_error_message());
        r = rc == RESONA_ENOTFOUND                          ? ST_PREFLIGHT_NO_MODEL
            : (rc == RESONA_EHTTP || rc == RESONA_ETIMEOUT) ? ST_PREFLIGHT_NO_SERVER
                                                            : ST_PREFLIGHT_ERROR;
    }
    resona_embedder_free(e);
    return r;
}

/* Pull callback: the next item from the SQLite cursor. */
static int next_item(resona_pipeline_item *out, void *payload)
{
    st_select *cur = payload;
    struct st_item it;
    int rc = st_select_next(cur, &it);
    if (rc <= 0) {
        if (rc < 0)
            return st_error_code() < 0 ? st_error_code() : RESONA_ERROR;
        return 0;
    }
    out->id = it.id;
    out->text = it.text;
    out->metadata = it.metadata;
    return 1;
}

static void to_counters(const resona_pipeline_progress *p, struct st_progress_counters *c)
{
    memset(c, 0, sizeof(*c));
    c->generated = (long long)p->generated;
    c->persisted = (long long)p->persisted;
    c->buffered = (long long)p->buffered;
    c->skipped = (long long)p->skipped;
    c->errors = (long long)p->errors;
    c->total = (long long)p->total;
    c->rate = p->rate;
    c->eta_seconds = p->eta_s;
    c->by_items = true;
    c->items_done = (long long)p->items_done;
}

static void on_progress(const resona_pipeline_progress *p, void *payload)
{
    struct st_progress_counters c;
    to_counters(p, &c);
    st_progress_update(payload, &c);
}

static void on_signal(int sig)
{
    (void)sig;
    resona_pipeline_stop(); /* async-signal-safe: one atomic store */
}

/*
 * Many small fragments slow every scan (the original's author reached 29,275
 * of them because nothing compacted). After a successful run, compact when the
 * table has more fragments than the threshold. A failure here is only a
 * warning: the run's rows are committed either way.
 */
static void auto_compact(resona_table *t, const struct st_run_opts *o, uint64_t fragments,
                         struct st_progress_summary *summary)
{
    if (o->compact_after == 0 || fragments <= o->compact_after)
        return;
    resona_compact_options co = RESONA_COMPACT_OPTIONS_INIT;
    resona_compact_stats cs;
    if (resona_table_compact(t, &co, &cs) < 0) {
        fprintf(stderr, "supertag: warning: automatic compaction failed: %s\n",
                resona_error_message());
        return;
    }
    resona_table_stats after;
    if (resona_table_stats_get(t, &after) == 0) {
        summary->compacted_from = (long long)fragments;
        summary->compacted_to = (long long)after.fragments;
    }
}

int st_run(sqlite3 *db, const struct st_run_opts *o, struct st_progress_summary *summary)
{
    int rc;
    resona_embedder *e = NULL;
    st_select *cur = NULL;
    resona_pipeline_result res;
    memset(&res, 0, sizeof(res));
    memset(summary, 0, sizeof(*summary));
    summary->total_rows = -1;

    st_error_clear();
    if ((rc = make_embedder(o, &e)) < 0)
        return rc;
    if ((rc = st_select_open(db, o->sel, &cur)) < 0)
        goto done;

    resona_pipeline_options po = RESONA_PIPELINE_OPTIONS_INIT;
    po.table_path = o->table_path;
    po.embedder = e;
    po.model = o->model;
    po.store_batch_size = o->store_batch_size;
    po.force_all = o->force_all;
    po.remove_missing = o->remove_missing;
    po.total_items = o->total > 0 ? (uint64_t)o->total : 0;
    po.progress = on_progress;
    po.progress_payload = o->progress;

    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    resona_pipeline_stop_clear();
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    rc = resona_pipeline_run(&po, next_item, cur, &res);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (rc < 0 && rc != RESONA_EINTERRUPTED) {
        /* the pull callback's own message (SQLite) stays; else the library's */
        if (!(rc == st_error_code() && st_error_message()[0]))
            st_error_set(rc, "%s", resona_error_message());
    }

    const resona_pipeline_progress *f = &res.counters;
    summary->processed = (long long)f->items_done;
    summary->skipped = (long long)f->skipped;
    summary->errors = (long long)f->errors;
    summary->duration_s = res.duration_s;
    summary->commits = (long long)f->commits;
    summary->interrupted = rc == RESONA_EINTERRUPTED;
    if (res.sample_count > 0) {
        char **s = calloc(res.sample_count, sizeof(char *));
        if (s) {
            for (size_t i = 0; i < res.sample_count; i++)
                s[i] = strdup(res.samples[i] ? res.samples[i] : "");
            summary->error_samples = (const char *const *)s;
            summary->sample_count = res.sample_count;
        }
    }
    resona_table *t = NULL;
    if (resona_table_open(o->table_path, NULL, &t) == 0) {
        resona_table_stats st;
        if (resona_table_stats_get(t, &st) == 0) {
            summary->total_rows = (long long)st.rows;
            if (rc == 0)
                auto_compact(t, o, st.fragments, summary);
        }
        resona_table_free(t);
    }
done:
    resona_pipeline_result_free(&res);
    st_select_close(cur);
    resona_embedder_free(e);
    return rc;
}

void st_run_summary_free(struct st_progress_summary *summary)
{
    if (summary->error_samples) {
        for (size_t i = 0; i < summary->sample_count; i++)
            free((char *)summary->error_samples[i]);
        free((void *)summary->error_samples);
    }
    summary->error_samples = NULL;
    summary->sample_count = 0;
}
