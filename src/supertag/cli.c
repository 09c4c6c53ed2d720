/*
 * cli.c - shared CLI plumbing (see cli.h).
 */
#include "cli.h"

#include <resona/common.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>

int cli_verbosity;

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("supertag: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void cli_warn(const char *fmt, ...)
{
    if (cli_verbosity < 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("supertag: warning: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_fail_lib(const char *what)
{
    if (what && *what)
        cli_error("%s: %s", what, resona_error_message());
    else
        cli_error("%s", resona_error_message());
    return EXIT_RUNTIME;
}

static void log_sink(resona_log_level level, const char *message, void *payload)
{
    (void)payload;
    static const char *names[] = {"error", "warning", "info", "debug", "trace"};
    fprintf(stderr, "supertag: %s: %s\n", names[level], message);
}

void cli_install_log(void)
{
    resona_log_level max = RESONA_LOG_WARN;
    if (cli_verbosity < 0)
        max = RESONA_LOG_ERROR;
    else if (cli_verbosity == 1)
        max = RESONA_LOG_INFO;
    else if (cli_verbosity == 2)
        max = RESONA_LOG_DEBUG;
    else if (cli_verbosity > 2)
        max = RESONA_LOG_TRACE;
    resona_log_set(log_sink, max, NULL);
}

long cli_parse_long(const char *option, const char *value, long min, long max)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno != 0 || end == value || *end != '\0' || v < min || v > max) {
        cli_error("invalid value for %s: '%s' (expected an integer from %ld to %ld)", option,
                  value, min, max);
        return -1;
    }
    return v;
}

void cli_format_bytes(unsigned long long bytes, char *out, size_t len)
{
    static const char *units[] = {"B", "KB", "MB", "GB", "TB"};
    if (bytes == 0) {
        snprintf(out, len, "0 B");
        return;
    }
    double v = (double)bytes;
    size_t u = 0;
    while (v >= 1024.0 && u < 4) {
        v /= 1024.0;
        u++;
    }
    snprintf(out, len, "%.1f %s", v, units[u]);
}
