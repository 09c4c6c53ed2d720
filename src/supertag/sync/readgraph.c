/*
 * sync/readgraph.c - the export read on two threads (see readgraph.h).
 *
 * Slots: NSLOT batch slots, each an array of doc items plus, while the slot
 * is queued or free, the arena its docs live in. The reader thread fills
 * one slot while its docs are built in the reader's current arena; to hand
 * the slot over it takes a free slot, gives that slot's (empty) arena to
 * the export reader and puts the full arena into the outgoing slot. The
 * graph thread takes full slots in order, records their docs, resets the
 * arena and returns the slot. The last slot is handed over without a swap
 * (its docs stay in the reader's arena), so the reader is freed only after
 * the graph thread has finished.
 */
#include "sync/readgraph.h"

#include "st_error.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NSLOT 4
#define BATCH_DOCS 512
#define BATCH_BYTES ((size_t)2 << 20)

typedef struct doc_item {
    st_export_doc d;
    uint64_t off;
    uint32_t len;
} doc_item;

typedef struct slot {
    jt_arena *arena; /* NULL while the reader owns the docs' arena */
    doc_item *items;
    size_t n;
} slot;

typedef struct shared {
    st_graph *g;
    volatile sig_atomic_t *stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    slot slots[NSLOT];
    size_t full[NSLOT], full_head, full_count; /* queue of slot numbers */
    size_t free_[NSLOT], free_count;           /* stack of slot numbers */
    int eof;                                   /* no more full slots will come */
    atomic_int failed;                         /* the graph thread failed */
    int fail_code;
    char *fail_msg;

    /* reader thread only */
    size_t cur; /* slot being filled */
    jt_out out; /* print buffer for raw_data */
    size_t max_doc;
} shared;

static void push_full(shared *s, size_t k)
{
    pthread_mutex_lock(&s->mu);
    s->full[(s->full_head + s->full_count) % NSLOT] = k;
    s->full_count++;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static size_t pop_free(shared *s)
{
    pthread_mutex_lock(&s->mu);
    while (s->free_count == 0)
        pthread_cond_wait(&s->cv, &s->mu);
    size_t k = s->free_[--s->free_count];
    pthread_mutex_unlock(&s->mu);
    return k;
}

/* Record a failure of the graph thread (its message is thread-local). */
static void graph_failed(shared *s, int code)
{
    const char *m = st_error_message();
    s->fail_msg = strdup(m && *m ? m : "reading the export failed");
    s->fail_code = code;
    atomic_store(&s->failed, 1);
}

static void *graph_main(void *arg)
{
    shared *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (s->full_count == 0 && !s->eof)
            pthread_cond_wait(&s->cv, &s->mu);
        if (s->full_count == 0) { /* eof and drained */
            pthread_mutex_unlock(&s->mu);
            break;
        }
        size_t k = s->full[s->full_head];
        s->full_head = (s->full_head + 1) % NSLOT;
        s->full_count--;
        pthread_mutex_unlock(&s->mu);

        slot *sl = &s->slots[k];
        for (size_t i = 0; i < sl->n && !atomic_load(&s->failed); i++) {
            int rc = st_graph_add_doc_at(&sl->items[i].d, s->g, 1, sl->items[i].off,
                                         sl->items[i].len);
            if (rc < 0)
                graph_failed(s, rc);
        }
        sl->n = 0;
        if (sl->arena)
            jt_arena_reset(sl->arena);
        pthread_mutex_lock(&s->mu);
        if (sl->arena) /* the last slot (no arena) is not reused */
            s->free_[s->free_count++] = k;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
    }
    return NULL;
}

/* Reader thread: hand the current slot over and start filling a free one. */
static void hand_over(shared *s, st_export_reader *r)
{
    size_t k = pop_free(s);
    slot *next = &s->slots[k];
    s->slots[s->cur].arena = st_export_reader_swap_arena(r, next->arena);
    next->arena = NULL;
    push_full(s, s->cur);
    s->cur = k;
}

static int on_doc_mt(const st_export_doc *d, void *payload)
{
    shared *s = payload;
    if (s->stop && *s->stop)
        return st_error_set(RESONA_EINTERRUPTED, "sync interrupted");
    if (atomic_load(&s->failed))
        return RESONA_EINTERRUPTED; /* the graph thread's error is reported */
    slot *sl = &s->slots[s->cur];
    doc_item *it = &sl->items[sl->n];
    int rc = st_graph_spill_doc(s->g, d, &s->out, &it->off, &it->len);
    if (rc < 0)
        return rc;
    it->d = *d;
    sl->n++;
    if (sl->n == BATCH_DOCS || st_export_reader_arena_used(d->reader) >= BATCH_BYTES)
        hand_over(s, d->reader);
    return 0;
}

typedef struct seq_ctx {
    st_graph *g;
    volatile sig_atomic_t *stop;
} seq_ctx;

static int on_doc_seq(const st_export_doc *d, void *payload)
{
    seq_ctx *c = payload;
    if (c->stop && *c->stop)
        return st_error_set(RESONA_EINTERRUPTED, "sync interrupted");
    return st_graph_add_doc(d, c->g);
}

static int read_seq(const char *path, const st_export_opts *opts, st_graph *g,
                    volatile sig_atomic_t *stop, st_export_info *info)
{
    seq_ctx c = {g, stop};
    return st_export_read_file(path, opts, on_doc_seq, &c, info);
}

int st_sync_read_graph(const char *path, const st_export_opts *opts, st_graph *g,
                       volatile sig_atomic_t *stop, int threads, st_export_info *info)
{
    static const st_export_opts defaults = ST_EXPORT_OPTS_INIT;
    if (threads < 2)
        return read_seq(path, opts, g, stop, info);
    st_export_opts o = opts ? *opts : defaults;
    o.keep_docs = 1;

    shared *s = calloc(1, sizeof(*s));
    if (!s)
        return st_error_set(RESONA_ENOMEM, "out of memory");
    s->g = g;
    s->stop = stop;
    int rc = 0;
    pthread_t th;
    st_export_reader *r = NULL;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    for (size_t k = 0; k < NSLOT; k++) {
        s->slots[k].items = malloc(BATCH_DOCS * sizeof(doc_item));
        if (!s->slots[k].items) {
            rc = st_error_set(RESONA_ENOMEM, "out of memory");
            goto done;
        }
        if (k == 0)
            continue; /* slot 0 is filled first, in the reader's own arena */
        s->slots[k].arena = jt_arena_new(o.max_doc + ST_EXPORT_KEEP_SLACK);
        if (!s->slots[k].arena) {
            rc = st_error_set(RESONA_ENOMEM, "out of memory");
            goto done;
        }
        s->free_[s->free_count++] = k;
    }
    s->cur = 0;
    if ((rc = st_export_reader_new(path, &o, on_doc_mt, s, &r)) < 0)
        goto done;
    if (pthread_create(&th, NULL, graph_main, s) != 0) {
        /* no second thread: the plain reader does the same work */
        st_export_reader_free(r);
        r = NULL;
        rc = read_seq(path, opts, g, stop, info);
        goto done;
    }
    int read_rc = st_export_reader_feed_file(r, path);
    /* the docs read so far go to the graph thread even after a failure: an
     * invalid doc before the failing byte is the first failure in file order */
    push_full(s, s->cur);
    pthread_mutex_lock(&s->mu);
    s->eof = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(th, NULL);
    if (atomic_load(&s->failed)) {
        rc = st_error_set(s->fail_code, "%s", s->fail_msg ? s->fail_msg : "out of memory");
        goto done;
    }
    if ((rc = read_rc) < 0)
        goto done;
    rc = st_export_reader_finish(r, info);
done:
    st_export_reader_free(r);
    for (size_t k = 0; k < NSLOT; k++) {
        free(s->slots[k].items);
        jt_arena_free(s->slots[k].arena);
    }
    jt_out_free(&s->out);
    free(s->fail_msg);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
    return rc;
}
