/*
 * fake-ollama/server.c - the HTTP side: libmicrohttpd with one thread per
 * connection, so that concurrent clients really connect, send and then queue
 * on the one "model" (a FIFO ticket lock, see fo_model_acquire), the way
 * Ollama serves an embedding model with parallelism 1.
 *
 * It owns the server state: the model lock, the request counters, the
 * request log, and shutdown on SIGTERM/SIGINT (sleeps wake up early, then
 * MHD_stop_daemon joins the connection threads).
 */
#include "fo_internal.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

/* Per-connection request state: the body as it arrives (bounded). */
typedef struct fo_conn {
    char *body;
    size_t len, cap;
    int too_big;
    double recv_ms;
} fo_conn;

/* A reply that stops after send_len bytes and then drops the connection. */
typedef struct fo_cut {
    char *body;
    size_t send_len;
} fo_cut;

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double fo_now_ms(const fo_server *s)
{
    return (mono_s() - s->t0) * 1000.0;
}

void fo_deadline(struct timespec *dl, uint64_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, dl);
    dl->tv_sec += (time_t)(ms / 1000);
    dl->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (dl->tv_nsec >= 1000000000L) {
        dl->tv_sec++;
        dl->tv_nsec -= 1000000000L;
    }
}

void fo_sleep_until_locked(fo_server *s, const struct timespec *dl)
{
    while (!s->stopping) {
        int rc = pthread_cond_timedwait(&s->stop_cond, &s->model_lock, dl);
        if (rc == ETIMEDOUT)
            break;
    }
}

void fo_sleep_locked(fo_server *s, uint64_t ms)
{
    struct timespec dl;
    fo_deadline(&dl, ms);
    fo_sleep_until_locked(s, &dl);
}

uint64_t fo_model_acquire(fo_server *s)
{
    pthread_mutex_lock(&s->model_lock);
    uint64_t ticket = s->next_ticket++;
    while (s->serving != ticket)
        pthread_cond_wait(&s->model_cond, &s->model_lock);
    return ++s->embed_count;
}

void fo_model_release(fo_server *s)
{
    s->serving++;
    pthread_cond_broadcast(&s->model_cond);
    pthread_mutex_unlock(&s->model_lock);
}

uint64_t fo_next_seq(fo_server *s)
{
    return __atomic_add_fetch(&s->seq, 1, __ATOMIC_SEQ_CST);
}

void fo_log_line(fo_server *s, const char *line, size_t len)
{
    if (!s->log)
        return;
    pthread_mutex_lock(&s->log_lock);
    fwrite(line, 1, len, s->log);
    fputc('\n', s->log);
    fflush(s->log);
    pthread_mutex_unlock(&s->log_lock);
}

static ssize_t cut_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    fo_cut *cut = cls;
    if (pos >= cut->send_len)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    size_t n = cut->send_len - (size_t)pos;
    if (n > max)
        n = max;
    memcpy(buf, cut->body + pos, n);
    return (ssize_t)n;
}

static void cut_free(void *cls)
{
    fo_cut *cut = cls;
    free(cut->body);
    free(cut);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    fo_server *s = cls;
    fo_conn *st = *con_cls;
    (void)version;

    if (!st) {
        st = calloc(1, sizeof *st);
        if (!st)
            return MHD_NO;
        st->recv_ms = fo_now_ms(s);
        *con_cls = st;
        return MHD_YES;
    }
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (st->too_big || st->len + n > s->cfg->max_body) {
            st->too_big = 1;
            return MHD_YES;
        }
        if (st->len + n + 1 > st->cap) {
            size_t cap = st->cap ? st->cap : 4096;
            while (cap < st->len + n + 1)
                cap *= 2;
            char *p = realloc(st->body, cap);
            if (!p)
                return MHD_NO;
            st->body = p;
            st->cap = cap;
        }
        memcpy(st->body + st->len, upload_data, n);
        st->len += n;
        st->body[st->len] = '\0';
        return MHD_YES;
    }

    fo_request req = {
        .method = method,
        .url = url,
        .auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
        .body = st->body ? st->body : "",
        .body_len = st->len,
        .body_too_big = st->too_big,
        .recv_ms = st->recv_ms,
        .fd = -1,
    };
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci)
        req.fd = ci->connect_fd;
    fo_response resp = {0};
    fo_handle(s, &req, &resp);
    if (!resp.body)
        return MHD_NO;

    struct MHD_Response *r;
    if (resp.send_len < resp.body_len) {
        fo_cut *cut = malloc(sizeof *cut);
        if (!cut) {
            free(resp.body);
            return MHD_NO;
        }
        cut->body = resp.body;
        cut->send_len = resp.send_len;
        r = MHD_create_response_from_callback(resp.body_len, 4096, cut_reader, cut, cut_free);
        if (!r)
            cut_free(cut);
    } else {
        r = MHD_create_response_from_buffer(resp.body_len, resp.body, MHD_RESPMEM_MUST_FREE);
        if (!r)
            free(resp.body);
    }
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            resp.content_type ? resp.content_type
                                              : "application/json; charset=utf-8");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned int)resp.status, r);
    MHD_destroy_response(r);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    fo_conn *st = *con_cls;
    if (st) {
        free(st->body);
        free(st);
        *con_cls = NULL;
    }
}

int fo_server_run(const fo_config *cfg, int listen_fd, uint16_t port)
{
    fo_server s;
    memset(&s, 0, sizeof s);
    s.cfg = cfg;
    s.t0 = mono_s();
    pthread_mutex_init(&s.log_lock, NULL);
    pthread_mutex_init(&s.model_lock, NULL);
    pthread_cond_init(&s.model_cond, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s.stop_cond, &ca);
    pthread_condattr_destroy(&ca);

    if (cfg->cache_bytes) {
        s.cache = fo_cache_new(cfg->cache_bytes);
        if (!s.cache)
            fprintf(stderr, "fake-ollama: no memory for the vector cache; running without\n");
    }
    if (cfg->log_path) {
        s.log = fopen(cfg->log_path, "a");
        if (!s.log) {
            fprintf(stderr, "fake-ollama: cannot open log %s: %s\n", cfg->log_path,
                    strerror(errno));
            fo_cache_free(s.cache);
            return 1;
        }
    }

    /* Signals go to sigwait() below: block them before MHD starts its threads. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct MHD_Daemon *d =
        MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                             MHD_USE_POLL | MHD_USE_ITC,
                         0, NULL, NULL, on_request, &s, MHD_OPTION_LISTEN_SOCKET, listen_fd,
                         MHD_OPTION_NOTIFY_COMPLETED, on_completed, &s,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)0, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "fake-ollama: MHD_start_daemon failed\n");
        if (s.log)
            fclose(s.log);
        fo_cache_free(s.cache);
        return 1;
    }

    printf("listening %s:%u\n", cfg->host, (unsigned)port);
    fflush(stdout);

    int sig = 0;
    sigwait(&set, &sig);

    pthread_mutex_lock(&s.model_lock);
    s.stopping = 1;
    pthread_cond_broadcast(&s.stop_cond);
    pthread_mutex_unlock(&s.model_lock);
    MHD_stop_daemon(d);

    if (s.log)
        fclose(s.log);
    fo_cache_free(s.cache);
    pthread_cond_destroy(&s.stop_cond);
    pthread_cond_destroy(&s.model_cond);
    pthread_mutex_destroy(&s.model_lock);
    pthread_mutex_destroy(&s.log_lock);
    return 0;
}
