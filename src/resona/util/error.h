/*
 * util/error.h - setting the thread-local error (see resona/common.h).
 *
 * resona__error_set() is called exactly once, where a failure is detected,
 * and returns the code so that the pattern is `return resona__error_set(...)`.
 * Callers above pass the code up unchanged and do not overwrite the message.
 */
#ifndef RESONA_UTIL_ERROR_H
#define RESONA_UTIL_ERROR_H

#include <resona/common.h>

#if defined(__GNUC__)
#define RESONA_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define RESONA_PRINTF(a, b)
#endif

/** Set the message (printf-style) and code; returns code. */
int resona__error_set(int code, const char *fmt, ...) RESONA_PRINTF(2, 3);

/** Like resona__error_set, appending ": strerror(errnum)". */
int resona__error_set_errno(int code, int errnum, const char *fmt, ...) RESONA_PRINTF(3, 4);

/** Prefix the current message with more context ("reading X: <old message>"). */
int resona__error_wrap(const char *fmt, ...) RESONA_PRINTF(1, 2);

#endif
