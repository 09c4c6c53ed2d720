/*
 * util/error.c - the thread-local last error.
 *
 * One fixed buffer per thread: setting an error never allocates, so an
 * out-of-memory failure can always be reported.
 */
#include "util/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define ERROR_MESSAGE_MAX 1024

static _Thread_local char last_message[ERROR_MESSAGE_MAX];
static _Thread_local int last_code;

const char *resona_error_message(void)
{
    return last_message;
}

int resona_error_code(void)
{
    return last_code;
}

void resona_error_clear(void)
{
    last_message[0] = '\0';
    last_code = RESONA_OK;
}

const char *resona_error_name(int code)
{
    switch (code) {
    case RESONA_OK: return "OK";
    case RESONA_ERROR: return "ERROR";
    case RESONA_ENOMEM: return "ENOMEM";
    case RESONA_EINVALID: return "EINVALID";
    case RESONA_EIO: return "EIO";
    case RESONA_ECORRUPT: return "ECORRUPT";
    case RESONA_ENOTFOUND: return "ENOTFOUND";
    case RESONA_EEXISTS: return "EEXISTS";
    case RESONA_EUNSUPPORTED: return "EUNSUPPORTED";
    case RESONA_EHTTP: return "EHTTP";
    case RESONA_ETIMEOUT: return "ETIMEOUT";
    case RESONA_ECONFLICT: return "ECONFLICT";
    case RESONA_EINTERRUPTED: return "EINTERRUPTED";
    default: return "EUNKNOWN";
    }
}

/* Append s to the message, cutting it where the buffer ends (never overflows). */
static void append_message(const char *s)
{
    size_t used = strlen(last_message);
    size_t room = sizeof(last_message) - 1 - used;
    size_t n = strlen(s);
    if (n > room)
        n = room;
    memcpy(last_message + used, s, n);
    last_message[used + n] = '\0';
}

static void set_v(int code, const char *fmt, va_list ap)
{
    int n = vsnprintf(last_message, sizeof(last_message), fmt, ap);
    if (n < 0)
        last_message[0] = '\0';
    last_code = code;
}

int resona__error_set(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_v(code, fmt, ap);
    va_end(ap);
    return code;
}

int resona__error_set_errno(int code, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_v(code, fmt, ap);
    va_end(ap);
    append_message(": ");
    append_message(strerror(errnum));
    return code;
}

int resona__error_wrap(const char *fmt, ...)
{
    char old[ERROR_MESSAGE_MAX];
    memcpy(old, last_message, sizeof(old));
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(last_message, sizeof(last_message), fmt, ap);
    va_end(ap);
    if (n < 0)
        last_message[0] = '\0';
    if (old[0] != '\0') {
        append_message(": ");
        append_message(old);
    }
    return last_code;
}
