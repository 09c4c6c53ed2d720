/*
 * search/topk.c - the bounded max-heap behind a search (see topk.h).
 */
#include "search/topk.h"

#include "util/alloc.h"
#include "util/error.h"

#include <resona/search.h>

#include <string.h>

int resona__topk_init(topk *t, size_t k, int collapse)
{
    memset(t, 0, sizeof(*t));
    t->heap = resona__calloc(k, sizeof(topk_entry));
    if (!t->heap)
        return RESONA_ENOMEM;
    t->k = k;
    t->collapse = collapse;
    return 0;
}

void resona__topk_free(topk *t)
{
    if (!t->heap)
        return;
    for (size_t i = 0; i < t->k; i++)
        resona__free(t->heap[i].key);
    resona__free(t->heap);
    memset(t, 0, sizeof(*t));
}

int resona__topk_cmp(const topk_entry *a, const topk_entry *b)
{
    if (a->distance < b->distance)
        return -1;
    if (a->distance > b->distance)
        return 1;
    if (a->row_id < b->row_id)
        return -1;
    if (a->row_id > b->row_id)
        return 1;
    return 0;
}

uint64_t resona__topk_hash(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static void swap_entries(topk_entry *a, topk_entry *b)
{
    topk_entry tmp = *a;
    *a = *b;
    *b = tmp;
}

/* Max-heap: a parent is worse than (compares greater than) its children. */
static void sift_up(topk *t, size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (resona__topk_cmp(&t->heap[i], &t->heap[parent]) <= 0)
            break;
        swap_entries(&t->heap[i], &t->heap[parent]);
        i = parent;
    }
}

static void sift_down(topk *t, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, worst = i;
        if (l < t->count && resona__topk_cmp(&t->heap[l], &t->heap[worst]) > 0)
            worst = l;
        if (r < t->count && resona__topk_cmp(&t->heap[r], &t->heap[worst]) > 0)
            worst = r;
        if (worst == i)
            return;
        swap_entries(&t->heap[i], &t->heap[worst]);
        i = worst;
    }
}

/* Overwrite an entry's row, reusing its key buffer. */
static int set_entry(topk_entry *e, float distance, uint64_t row_id, const char *key, size_t len,
                     size_t base_len, uint64_t base_hash)
{
    if (key) {
        if (len + 1 > e->key_cap) {
            char *p = resona__realloc(e->key, len + 1);
            if (!p)
                return RESONA_ENOMEM;
            e->key = p;
            e->key_cap = len + 1;
        }
        memcpy(e->key, key, len);
        e->key[len] = '\0';
    }
    e->distance = distance;
    e->row_id = row_id;
    e->base_len = base_len;
    e->base_hash = base_hash;
    /* a NULL key is remembered as base_len SIZE_MAX: never equal to another */
    if (!key)
        e->base_len = SIZE_MAX;
    return 0;
}

int resona__topk_offer(topk *t, float distance, uint64_t row_id, const char *key, size_t key_len)
{
    if (t->k == 0 || !resona__topk_would_take(t, distance, row_id))
        return 0;
    size_t base_len = SIZE_MAX;
    uint64_t base_hash = 0;
    if (key) {
        base_len = t->collapse ? resona__search_base_len(key, key_len) : key_len;
        base_hash = t->collapse ? resona__topk_hash(key, base_len) : 0;
    }
    if (t->collapse && key) {
        for (size_t i = 0; i < t->count; i++) {
            topk_entry *e = &t->heap[i];
            if (e->base_hash != base_hash || e->base_len != base_len ||
                memcmp(e->key, key, base_len) != 0)
                continue;
            topk_entry probe = {distance, row_id, NULL, 0, 0, 0};
            if (resona__topk_cmp(&probe, e) >= 0)
                return 0; /* the held chunk of this base id is at least as good */
            int rc = set_entry(e, distance, row_id, key, key_len, base_len, base_hash);
            if (rc < 0)
                return rc;
            sift_down(t, i); /* it got better: it moves away from the root */
            return 0;
        }
    }
    if (t->count < t->k) {
        size_t i = t->count;
        int rc = set_entry(&t->heap[i], distance, row_id, key, key_len, base_len, base_hash);
        if (rc < 0)
            return rc;
        t->count++;
        sift_up(t, i);
        return 0;
    }
    int rc = set_entry(&t->heap[0], distance, row_id, key, key_len, base_len, base_hash);
    if (rc < 0)
        return rc;
    sift_down(t, 0);
    return 0;
}

size_t resona__search_base_len(const char *key, size_t len)
{
    size_t hash = len;
    while (hash > 0 && key[hash - 1] != '#')
        hash--;
    if (hash == 0 || hash == len)
        return len; /* no '#', or nothing after the last one */
    for (size_t i = hash; i < len; i++) {
        if (key[i] < '0' || key[i] > '9')
            return len;
    }
    return hash - 1;
}
