/*
 * st_error.c - the thread-local last error of supertag's own code (st_error.h).
 *
 * One fixed buffer per thread, so setting an error never allocates and an
 * out-of-memory failure can always be reported.
 */
#include "st_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define ST_ERROR_MAX 1024

static _Thread_local char last_message[ST_ERROR_MAX];
static _Thread_local int last_code;

const char *st_error_message(void)
{
    return last_message;
}

int st_error_code(void)
{
    return last_code;
}

void st_error_clear(void)
{
    last_message[0] = '\0';
    last_code = RESONA_OK;
}

int st_error_set(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_message, sizeof(last_message), fmt, ap);
    va_end(ap);
    last_code = code;
    return code;
}

int st_error_set_errno(int code, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_message, sizeof(last_message), fmt, ap);
    va_end(ap);
    size_t used = strlen(last_message);
    snprintf(last_message + used, sizeof(last_message) - used, ": %s", strerror(errnum));
    last_code = code;
    return code;
}

int st_error_wrap(const char *fmt, ...)
{
    char old[ST_ERROR_MAX];
    memcpy(old, last_message, sizeof(old));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_message, sizeof(last_message), fmt, ap);
    va_end(ap);
    size_t used = strlen(last_message);
    if (used + 2 < sizeof(last_message)) {
        last_message[used++] = ':';
        last_message[used++] = ' ';
        size_t room = sizeof(last_message) - 1 - used;
        size_t n = strlen(old);
        if (n > room)
            n = room;
        memcpy(last_message + used, old, n);
        last_message[used + n] = '\0';
    }
    return last_code;
}
