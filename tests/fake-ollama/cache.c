/*
 * fake-ollama/cache.c - the encoded JSON text of recent vectors, so that a
 * text seen before costs the server a lookup and a copy instead of SHA-256,
 * SHAKE-256, a normalization and 1024 float printings.
 *
 * Key: the output dimension and the text's bytes (after any context-length
 * cut). The model name is not part of the key because the golden vector
 * function does not depend on it. Value: "[v0,v1,...]" exactly as
 * fo_format_f32 prints it, so a hit sends the same bytes as a miss.
 *
 * Bounded: the entries' key and value bytes stay under max_bytes; the oldest
 * entries are evicted first (insertion order). Chained hash table with a
 * power-of-two bucket count that doubles as entries grow. Not thread-safe:
 * the server only uses it under the model lock.
 */
#include "fo_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct entry {
    struct entry *next;  /* bucket chain */
    struct entry *older, *newer; /* insertion order */
    uint64_t hash;
    uint32_t dim;
    size_t text_len, json_len;
    char *text, *json;
} entry;

struct fo_cache {
    entry **buckets;
    size_t nbuckets, count;
    size_t bytes, max_bytes;
    entry *oldest, *newest;
};

static uint64_t hash_key(uint32_t dim, const char *text, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ dim; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)text[i];
        h *= 0x100000001b3ULL;
    }
    return h ^ (h >> 29);
}

static size_t entry_bytes(const entry *e)
{
    return sizeof *e + e->text_len + e->json_len;
}

fo_cache *fo_cache_new(size_t max_bytes)
{
    fo_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->max_bytes = max_bytes;
    c->nbuckets = 1024;
    c->buckets = calloc(c->nbuckets, sizeof *c->buckets);
    if (!c->buckets) {
        free(c);
        return NULL;
    }
    return c;
}

static void unlink_bucket(fo_cache *c, entry *e)
{
    entry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];
    while (*pp != e)
        pp = &(*pp)->next;
    *pp = e->next;
}

static void evict_oldest(fo_cache *c)
{
    entry *e = c->oldest;
    unlink_bucket(c, e);
    c->oldest = e->newer;
    if (c->oldest)
        c->oldest->older = NULL;
    else
        c->newest = NULL;
    c->bytes -= entry_bytes(e);
    c->count--;
    free(e->text);
    free(e->json);
    free(e);
}

void fo_cache_free(fo_cache *c)
{
    if (!c)
        return;
    while (c->oldest)
        evict_oldest(c);
    free(c->buckets);
    free(c);
}

const char *fo_cache_get(fo_cache *c, uint32_t dim, const char *text, size_t len, size_t *json_len)
{
    if (!c)
        return NULL;
    uint64_t h = hash_key(dim, text, len);
    for (entry *e = c->buckets[h & (c->nbuckets - 1)]; e; e = e->next) {
        if (e->hash == h && e->dim == dim && e->text_len == len &&
            memcmp(e->text, text, len) == 0) {
            *json_len = e->json_len;
            return e->json;
        }
    }
    return NULL;
}

static void grow(fo_cache *c)
{
    size_t n = c->nbuckets * 2;
    entry **b = calloc(n, sizeof *b);
    if (!b)
        return; /* longer chains, still correct */
    for (entry *e = c->oldest; e; e = e->newer) {
        size_t i = e->hash & (n - 1);
        e->next = b[i];
        b[i] = e;
    }
    free(c->buckets);
    c->buckets = b;
    c->nbuckets = n;
}

void fo_cache_put(fo_cache *c, uint32_t dim, const char *text, size_t len, const char *json,
                  size_t json_len)
{
    if (!c)
        return;
    size_t need = sizeof(entry) + len + json_len;
    if (need > c->max_bytes)
        return;
    size_t dummy;
    if (fo_cache_get(c, dim, text, len, &dummy))
        return;
    entry *e = calloc(1, sizeof *e);
    char *t = malloc(len ? len : 1);
    char *j = malloc(json_len);
    if (!e || !t || !j) {
        free(e);
        free(t);
        free(j);
        return;
    }
    while (c->oldest && c->bytes + need > c->max_bytes)
        evict_oldest(c);
    memcpy(t, text, len);
    memcpy(j, json, json_len);
    e->hash = hash_key(dim, text, len);
    e->dim = dim;
    e->text = t;
    e->text_len = len;
    e->json = j;
    e->json_len = json_len;
    if (c->count + 1 > c->nbuckets)
        grow(c);
    size_t i = e->hash & (c->nbuckets - 1);
    e->next = c->buckets[i];
    c->buckets[i] = e;
    e->older = c->newest;
    if (c->newest)
        c->newest->newer = e;
    else
        c->oldest = e;
    c->newest = e;
    c->bytes += need;
    c->count++;
}
