/*
 * pipeline/known.c - the per-base-id index of existing rows (see known.h).
 * Open addressing with linear probing over a power-of-two slot array; keys
 * and chunk-id lists live in an arena of 64 KiB blocks freed at once.
 */
#include "pipeline/known.h"

#include "util/alloc.h"
#include "util/error.h"

#include <resona/pipeline.h>

#include <string.h>

#define ARENA_BLOCK (64 * 1024)

typedef struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    char data[];
} arena_block;

struct resona_known {
    resona_known_entry *slots;
    size_t slot_count; /* power of two */
    size_t count;
    arena_block *arena;
    size_t arena_bytes;
};

static void *arena_alloc(resona_known *k, size_t len, size_t align)
{
    arena_block *b = k->arena;
    if (b) {
        size_t at = (b->used + align - 1) / align * align;
        if (at + len <= b->cap) {
            b->used = at + len;
            return b->data + at;
        }
    }
    size_t cap = len + align > ARENA_BLOCK ? len + align : ARENA_BLOCK;
    b = resona__malloc(sizeof(*b) + cap);
    if (!b)
        return NULL;
    b->next = k->arena;
    b->cap = cap;
    k->arena = b;
    k->arena_bytes += sizeof(*b) + cap;
    size_t at =
        ((size_t)(uintptr_t)b->data % align) ? align - (size_t)(uintptr_t)b->data % align : 0;
    b->used = at + len;
    return b->data + at;
}

static char *arena_str(resona_known *k, const char *s, size_t len)
{
    char *p = arena_alloc(k, len + 1, 1);
    if (p) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

/* FNV-1a, 64-bit: ids are short, this is fast and spreads well enough. */
static uint64_t hash_key(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (uint8_t)s[i];
        h *= 1099511628211ull;
    }
    return h ^ (h >> 29);
}

int resona__known_new(resona_known **out)
{
    *out = NULL;
    resona_known *k = resona__calloc(1, sizeof(*k));
    if (!k)
        return RESONA_ENOMEM;
    k->slot_count = 1024;
    k->slots = resona__calloc(k->slot_count, sizeof(*k->slots));
    if (!k->slots) {
        resona__free(k);
        return RESONA_ENOMEM;
    }
    *out = k;
    return 0;
}

void resona__known_free(resona_known *k)
{
    if (!k)
        return;
    arena_block *b = k->arena;
    while (b) {
        arena_block *next = b->next;
        resona__free(b);
        b = next;
    }
    resona__free(k->slots);
    resona__free(k);
}

static resona_known_entry *probe(const resona_known *k, const char *base, size_t len)
{
    size_t mask = k->slot_count - 1;
    size_t i = (size_t)hash_key(base, len) & mask;
    for (;;) {
        resona_known_entry *e = &k->slots[i];
        if (!e->base || (e->base_len == len && memcmp(e->base, base, len) == 0))
            return e;
        i = (i + 1) & mask;
    }
}

static int grow(resona_known *k)
{
    size_t n = k->slot_count * 2;
    resona_known_entry *old = k->slots;
    size_t old_n = k->slot_count;
    resona_known_entry *slots = resona__calloc(n, sizeof(*slots));
    if (!slots)
        return RESONA_ENOMEM;
    k->slots = slots;
    k->slot_count = n;
    for (size_t i = 0; i < old_n; i++)
        if (old[i].base)
            *probe(k, old[i].base, old[i].base_len) = old[i];
    resona__free(old);
    return 0;
}

resona_known_entry *resona__known_find(resona_known *k, const char *base, size_t base_len)
{
    resona_known_entry *e = probe(k, base, base_len);
    return e->base ? e : NULL;
}

resona_known_entry *resona__known_get(resona_known *k, const char *base, size_t base_len)
{
    if (base_len > UINT32_MAX) {
        resona__error_set(RESONA_EINVALID, "id of %zu bytes is too long", base_len);
        return NULL;
    }
    resona_known_entry *e = probe(k, base, base_len);
    if (e->base)
        return e;
    if ((k->count + 1) * 10 > k->slot_count * 7) { /* load factor 0.7 */
        if (grow(k) < 0)
            return NULL;
        e = probe(k, base, base_len);
    }
    char *key = arena_str(k, base, base_len);
    if (!key)
        return NULL;
    memset(e, 0, sizeof(*e));
    e->base = key;
    e->base_len = (uint32_t)base_len;
    k->count++;
    return e;
}

int resona__known_hex(const char *hex, size_t len, uint8_t out[32])
{
    if (len != 64)
        return -1;
    for (size_t i = 0; i < 64; i++) {
        char c = hex[i];
        int v;
        if (c >= '0' && c <= '9')
            v = c - '0';
        else if (c >= 'a' && c <= 'f')
            v = c - 'a' + 10;
        else
            return -1; /* uppercase never equals our lowercase hash */
        if (i % 2 == 0)
            out[i / 2] = (uint8_t)(v << 4);
        else
            out[i / 2] = (uint8_t)(out[i / 2] | v);
    }
    return 0;
}

int resona__known_add_row(resona_known *k, const char *id, size_t id_len, const char *hash_hex,
                          size_t hash_len, int model_ok, int dim_ok)
{
    size_t base_len = resona_pipeline_base_id_len(id, id_len);
    resona_known_entry *e = resona__known_get(k, id, base_len);
    if (!e)
        return resona_error_code() ? resona_error_code() : RESONA_ENOMEM;
    uint8_t h[32];
    int hash_ok = hash_hex && resona__known_hex(hash_hex, hash_len, h) == 0;
    if (e->rows == 0) {
        if (hash_ok)
            memcpy(e->hash, h, 32);
        else
            e->flags |= RESONA_KNOWN_STALE;
    } else if (!hash_ok || memcmp(e->hash, h, 32) != 0) {
        e->flags |= RESONA_KNOWN_STALE;
    }
    if (!model_ok || !dim_ok)
        e->flags |= RESONA_KNOWN_STALE;
    e->flags |= RESONA_KNOWN_IN_TABLE;
    e->rows++;
    if (base_len == id_len) {
        e->flags |= RESONA_KNOWN_PLAIN;
    } else {
        /* A chunk id: remember it once (duplicates of it are deleted by value anyway). */
        for (resona_known_extra *x = e->extra; x; x = x->next)
            if (strlen(x->id) == id_len && memcmp(x->id, id, id_len) == 0)
                return 0;
        resona_known_extra *x = arena_alloc(k, sizeof(*x), sizeof(void *));
        char *s = x ? arena_str(k, id, id_len) : NULL;
        if (!s)
            return RESONA_ENOMEM;
        x->id = s;
        x->next = e->extra;
        e->extra = x;
    }
    return 0;
}

size_t resona__known_count(const resona_known *k)
{
    return k->count;
}

size_t resona__known_slots(const resona_known *k)
{
    return k->slot_count;
}

resona_known_entry *resona__known_slot(resona_known *k, size_t i)
{
    return i < k->slot_count && k->slots[i].base ? &k->slots[i] : NULL;
}

size_t resona__known_bytes(const resona_known *k)
{
    return k->slot_count * sizeof(resona_known_entry) + k->arena_bytes;
}
