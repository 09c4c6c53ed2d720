/*
 * search/topk.h - a bounded top-k collector: a binary max-heap of the k best
 * rows seen so far, ordered by (distance, row id), worst at the root.
 *
 * A row is offered with its distance first (topk_would_take is one compare
 * against the cached root), so the common case - a row worse than the k-th
 * best - costs nothing more. Only rows that enter copy their key.
 *
 * With collapsing, the heap holds at most one row per base id (the key up to
 * a trailing "#<digits>"). A newcomer whose base id is already held replaces
 * that entry only if it is better; otherwise it is dropped. This is exact: a
 * base id evicted earlier had a distance above the current root, so any later
 * row of it that enters is better than the evicted one. Membership is a linear
 * scan over the heap, done only for rows that pass the threshold (about
 * k·ln(n/k) of n rows), which is cheap for the k a search asks for.
 */
#ifndef RESONA_SEARCH_TOPK_H
#define RESONA_SEARCH_TOPK_H

#include <stddef.h>
#include <stdint.h>

typedef struct topk_entry {
    float distance;
    uint64_t row_id;
    char *key;       /* owned copy, or NULL for a null key */
    size_t key_cap;  /* bytes allocated for key */
    size_t base_len; /* length of the base id within key */
    uint64_t base_hash;
} topk_entry;

typedef struct topk {
    size_t k;
    int collapse;
    size_t count;
    topk_entry *heap; /* k entries; heap[0] is the worst held */
} topk;

/** Prepare an empty collector for k rows. RESONA_ENOMEM. */
int resona__topk_init(topk *t, size_t k, int collapse);
void resona__topk_free(topk *t);

/** Nonzero if a row at (distance, row_id) would enter the collector. */
static inline int resona__topk_would_take(const topk *t, float distance, uint64_t row_id)
{
    if (t->count < t->k)
        return 1;
    const topk_entry *w = &t->heap[0];
    return distance < w->distance || (distance == w->distance && row_id < w->row_id);
}

/** Offer a row whose key is key[0..key_len) (key may be NULL). 0 or RESONA_ENOMEM. */
int resona__topk_offer(topk *t, float distance, uint64_t row_id, const char *key,
                       size_t key_len);

/** getBaseId on key[0..len): the length of the base id. */
size_t resona__search_base_len(const char *key, size_t len);

/** Order of two entries: negative if a is better (smaller distance, then row id). */
int resona__topk_cmp(const topk_entry *a, const topk_entry *b);

/** FNV-1a over len bytes. */
uint64_t resona__topk_hash(const char *s, size_t len);

#endif
