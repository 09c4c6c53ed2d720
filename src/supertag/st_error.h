/*
 * st_error.h - the last error of supertag's own (non-libresona) code.
 *
 * supertag_core follows libresona's convention (see resona/common.h): a
 * fallible function returns 0 or a negative RESONA_E* code and sets one
 * thread-local message, once, where the failure is found, naming the file,
 * byte offset or value at fault. libresona's own setter is internal to the
 * library, so supertag code sets its messages here; commands print them with
 * st_error_message().
 */
#ifndef SUPERTAG_ST_ERROR_H
#define SUPERTAG_ST_ERROR_H

#include <resona/common.h>

/** Set the message (printf-style) and code; returns code. */
int st_error_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** Like st_error_set, appending ": strerror(errnum)". */
int st_error_set_errno(int code, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** Prefix the current message with more context ("reading X: <old>"); returns the code. */
int st_error_wrap(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** The last message on this thread ("" when none). Borrowed until the next failure. */
const char *st_error_message(void);

/** The last code on this thread (RESONA_OK when none). */
int st_error_code(void);

/** Forget the last failure. */
void st_error_clear(void);

#endif
