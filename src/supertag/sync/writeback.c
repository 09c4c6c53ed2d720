/*
 * sync/writeback.c - background writeback of a growing file (see
 * writeback.h).
 */
#define _GNU_SOURCE /* sync_file_range */
#include "sync/writeback.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

struct st_writeback {
    int fd;
    int interval_ms;
    int stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
};

static void deadline_after(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_nsec += (long)ms * 1000000L;
    while (ts->tv_nsec >= 1000000000L) {
        ts->tv_nsec -= 1000000000L;
        ts->tv_sec++;
    }
}

static void *writeback_main(void *arg)
{
    st_writeback *wb = arg;
    pthread_mutex_lock(&wb->mu);
    while (!wb->stop) {
        struct timespec ts;
        deadline_after(&ts, wb->interval_ms);
        int rc = 0;
        while (!wb->stop && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&wb->cv, &wb->mu, &ts);
        if (wb->stop)
            break;
        pthread_mutex_unlock(&wb->mu);
#ifdef SYNC_FILE_RANGE_WRITE
        /* failures are harmless: the final fsync reports real I/O errors */
        (void)sync_file_range(wb->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
#endif
        pthread_mutex_lock(&wb->mu);
    }
    pthread_mutex_unlock(&wb->mu);
    return NULL;
}

st_writeback *st_writeback_start(const char *path, int interval_ms)
{
#ifndef SYNC_FILE_RANGE_WRITE
    (void)path;
    (void)interval_ms;
    return NULL;
#else
    st_writeback *wb = calloc(1, sizeof(*wb));
    if (!wb)
        return NULL;
    wb->fd = open(path, O_RDONLY | O_CLOEXEC);
    wb->interval_ms = interval_ms > 0 ? interval_ms : 50;
    if (wb->fd < 0) {
        free(wb);
        return NULL;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&wb->mu, NULL);
    pthread_cond_init(&wb->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&wb->thread, NULL, writeback_main, wb) != 0) {
        pthread_cond_destroy(&wb->cv);
        pthread_mutex_destroy(&wb->mu);
        close(wb->fd);
        free(wb);
        return NULL;
    }
    return wb;
#endif
}

void st_writeback_stop(st_writeback *wb)
{
    if (!wb)
        return;
    pthread_mutex_lock(&wb->mu);
    wb->stop = 1;
    pthread_cond_signal(&wb->cv);
    pthread_mutex_unlock(&wb->mu);
    pthread_join(wb->thread, NULL);
    pthread_cond_destroy(&wb->cv);
    pthread_mutex_destroy(&wb->mu);
    close(wb->fd);
    free(wb);
}
