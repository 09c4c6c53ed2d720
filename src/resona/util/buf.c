/*
 * util/buf.c - bounded growable buffer (see buf.h). Grows by doubling.
 */
#include "util/buf.h"

#include "util/alloc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

int resona__buf_reserve(resona_buf *buf, size_t extra)
{
    size_t limit = buf->max ? buf->max : SIZE_MAX - 1;
    if (extra > limit || buf->len > limit - extra)
        return resona__error_set(RESONA_ENOMEM, "buffer limit of %zu bytes exceeded", limit);
    size_t need = buf->len + extra + 1;
    if (need <= buf->cap)
        return 0;
    size_t cap = buf->cap ? buf->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = resona__realloc(buf->ptr, cap);
    if (!p)
        return RESONA_ENOMEM;
    buf->ptr = p;
    buf->cap = cap;
    return 0;
}

int resona__buf_append(resona_buf *buf, const void *data, size_t len)
{
    int rc = resona__buf_reserve(buf, len);
    if (rc < 0)
        return rc;
    if (len)
        memcpy(buf->ptr + buf->len, data, len);
    buf->len += len;
    buf->ptr[buf->len] = '\0';
    return 0;
}

int resona__buf_puts(resona_buf *buf, const char *s)
{
    return resona__buf_append(buf, s, strlen(s));
}

int resona__buf_putc(resona_buf *buf, char c)
{
    return resona__buf_append(buf, &c, 1);
}

int resona__buf_zeros(resona_buf *buf, size_t len)
{
    int rc = resona__buf_reserve(buf, len);
    if (rc < 0)
        return rc;
    memset(buf->ptr + buf->len, 0, len);
    buf->len += len;
    buf->ptr[buf->len] = '\0';
    return 0;
}

int resona__buf_printf(resona_buf *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return resona__error_set(RESONA_EINVALID, "bad format string");
    int rc = resona__buf_reserve(buf, (size_t)n);
    if (rc < 0)
        return rc;
    va_start(ap, fmt);
    vsnprintf(buf->ptr + buf->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    buf->len += (size_t)n;
    return 0;
}

void resona__buf_clear(resona_buf *buf)
{
    buf->len = 0;
    if (buf->ptr)
        buf->ptr[0] = '\0';
}

char *resona__buf_detach(resona_buf *buf, size_t *len_out)
{
    char *p = buf->ptr;
    if (len_out)
        *len_out = buf->len;
    buf->ptr = NULL;
    buf->len = buf->cap = 0;
    return p;
}

void resona__buf_free(resona_buf *buf)
{
    resona__free(buf->ptr);
    buf->ptr = NULL;
    buf->len = buf->cap = 0;
}
