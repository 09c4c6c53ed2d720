/*
 * util/alloc.h - the only place libresona calls malloc and friends.
 *
 * Every allocation goes through these wrappers so that a test can make the
 * n-th allocation fail ("torture" testing, as curl does) and check that each
 * error path is clean. On failure they set RESONA_ENOMEM with a message and
 * return NULL; callers just return RESONA_ENOMEM.
 *
 * resona__free(NULL) is a no-op. Sizes are overflow-checked.
 */
#ifndef RESONA_UTIL_ALLOC_H
#define RESONA_UTIL_ALLOC_H

#include <stddef.h>

void *resona__malloc(size_t len);
void *resona__calloc(size_t count, size_t size);
void *resona__realloc(void *ptr, size_t len);
/** realloc of count elements of size bytes, with overflow check. */
void *resona__reallocarray(void *ptr, size_t count, size_t size);
char *resona__strdup(const char *s);
/**
 * Make *ptr (of *cap bytes) hold at least need bytes, doubling from 64 so
 * that repeated growth is amortised O(1). Contents are kept. RESONA_ENOMEM
 * (message set) when the size would overflow or allocation fails; *ptr and
 * *cap are then unchanged.
 */
int resona__grow(void **ptr, size_t *cap, size_t need);
char *resona__strndup(const char *s, size_t len);
void resona__free(void *ptr);

/*
 * Failure injection for tests. After resona__alloc_fail_after(n), the
 * allocations numbered n, n+1, ... (0-based, counted from this call) fail
 * until resona__alloc_fail_after(-1). Thread-safe counters.
 */
void resona__alloc_fail_after(long n);
/** Allocations made since the last resona__alloc_fail_after call. */
long resona__alloc_count(void);

#endif
