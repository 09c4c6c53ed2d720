/*
 * util/alloc.c - allocation wrappers with failure injection (see alloc.h).
 */
#include "util/alloc.h"

#include "util/error.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static atomic_long fail_after = -1;
static atomic_long alloc_counter;

void resona__alloc_fail_after(long n)
{
    atomic_store(&alloc_counter, 0);
    atomic_store(&fail_after, n);
}

long resona__alloc_count(void)
{
    return atomic_load(&alloc_counter);
}

/* True when this allocation must fail (injected). */
static int injected_failure(void)
{
    long limit = atomic_load(&fail_after);
    long n = atomic_fetch_add(&alloc_counter, 1);
    return limit >= 0 && n >= limit;
}

static void *oom(size_t len)
{
    resona__error_set(RESONA_ENOMEM, "out of memory (allocating %zu bytes)", len);
    return NULL;
}

void *resona__malloc(size_t len)
{
    if (injected_failure())
        return oom(len);
    void *p = malloc(len ? len : 1);
    return p ? p : oom(len);
}

void *resona__calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return oom(SIZE_MAX);
    if (injected_failure())
        return oom(count * size);
    void *p = calloc(count ? count : 1, size ? size : 1);
    return p ? p : oom(count * size);
}

void *resona__realloc(void *ptr, size_t len)
{
    if (injected_failure())
        return oom(len);
    void *p = realloc(ptr, len ? len : 1);
    return p ? p : oom(len);
}

void *resona__reallocarray(void *ptr, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return oom(SIZE_MAX);
    return resona__realloc(ptr, count * size);
}

char *resona__strndup(const char *s, size_t len)
{
    char *p = resona__malloc(len + 1);
    if (!p)
        return NULL;
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *resona__strdup(const char *s)
{
    return resona__strndup(s, strlen(s));
}

void resona__free(void *ptr)
{
    free(ptr);
}

int resona__grow(void **ptr, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 64;
    while (n < need) {
        if (n > SIZE_MAX / 2)
            return resona__error_set(RESONA_ENOMEM, "buffer of %zu bytes too large", need);
        n *= 2;
    }
    void *q = resona__realloc(*ptr, n);
    if (!q)
        return RESONA_ENOMEM;
    *ptr = q;
    *cap = n;
    return 0;
}
