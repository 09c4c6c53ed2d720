/*
 * util/buf.h - a growable byte buffer with a hard cap.
 *
 * Anything that input can grow (an HTTP reply, a JSON string, a page) is read
 * into a resona_buf with a cap, so no input can make us allocate without
 * limit. The contents are always NUL-terminated (the NUL is not counted in
 * len), so text can be used as a C string. A zeroed struct is an empty,
 * uncapped buffer; RESONA_BUF_INIT(max) sets a cap.
 *
 *   resona_buf b = RESONA_BUF_INIT(1 << 20);
 *   if ((rc = resona__buf_append(&b, data, n)) < 0) goto done;
 *   ...
 *   resona__buf_free(&b);
 */
#ifndef RESONA_UTIL_BUF_H
#define RESONA_UTIL_BUF_H

#include "util/error.h"

#include <stddef.h>

typedef struct resona_buf {
    char *ptr;  /**< contents, NUL-terminated when cap > 0 */
    size_t len; /**< bytes used */
    size_t cap; /**< bytes allocated */
    size_t max; /**< hard cap on len (0 = SIZE_MAX) */
} resona_buf;

#define RESONA_BUF_INIT(max_len) {NULL, 0, 0, (max_len)}

/** Ensure room for `extra` more bytes (plus the NUL). RESONA_ENOMEM past the cap. */
int resona__buf_reserve(resona_buf *buf, size_t extra);
int resona__buf_append(resona_buf *buf, const void *data, size_t len);
int resona__buf_puts(resona_buf *buf, const char *s);
int resona__buf_putc(resona_buf *buf, char c);
int resona__buf_printf(resona_buf *buf, const char *fmt, ...) RESONA_PRINTF(2, 3);
/** Append len zero bytes. */
int resona__buf_zeros(resona_buf *buf, size_t len);
/** Forget the contents, keep the allocation. */
void resona__buf_clear(resona_buf *buf);
/** Hand the allocation to the caller (who frees it with resona__free); buf becomes empty. */
char *resona__buf_detach(resona_buf *buf, size_t *len_out);
void resona__buf_free(resona_buf *buf);

#endif
