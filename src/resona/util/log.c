/*
 * util/log.c - the process-wide log sink (see resona/common.h).
 */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>

static resona_log_fn log_fn;
static void *log_payload;
static resona_log_level log_max = RESONA_LOG_WARN;

void resona_log_set(resona_log_fn fn, resona_log_level max_level, void *payload)
{
    log_fn = fn;
    log_payload = payload;
    log_max = max_level;
}

int resona__log_enabled(resona_log_level level)
{
    return log_fn != NULL && level <= log_max;
}

void resona__log(resona_log_level level, const char *fmt, ...)
{
    if (!resona__log_enabled(level))
        return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_fn(level, msg, log_payload);
}

const char *resona_version(void)
{
    return RESONA_VERSION;
}
