/*
 * sync/symtab.c - string interning (see symtab.h).
 */
#include "sync/symtab.h"

#include <stdlib.h>
#include <string.h>

static uint32_t hash_bytes(const char *s, size_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h ^ (h >> 15);
}

static int grow_slots(st_symtab *t)
{
    uint32_t n = t->nslots ? t->nslots * 2 : 1024;
    uint32_t *slots = calloc(n, sizeof(uint32_t));
    if (!slots)
        return -1;
    for (uint32_t s = 0; s < t->count; s++) {
        uint32_t i = t->hashes[s] & (n - 1);
        while (slots[i])
            i = (i + 1) & (n - 1);
        slots[i] = s + 1;
    }
    free(t->slots);
    t->slots = slots;
    t->nslots = n;
    return 0;
}

static int eq(const st_symtab *t, uint32_t sym, const char *s, size_t len)
{
    uint64_t e = t->entries[sym];
    return (size_t)(e & 0xffffff) == len && memcmp(t->pool + (e >> 24), s, len) == 0;
}

uint32_t st_symtab_find(const st_symtab *t, const char *s, size_t len)
{
    if (!t->nslots)
        return ST_SYM_NONE;
    uint32_t h = hash_bytes(s, len);
    uint32_t i = h & (t->nslots - 1);
    while (t->slots[i]) {
        uint32_t sym = t->slots[i] - 1;
        if (t->hashes[sym] == h && eq(t, sym, s, len))
            return sym;
        i = (i + 1) & (t->nslots - 1);
    }
    return ST_SYM_NONE;
}

int st_symtab_intern(st_symtab *t, const char *s, size_t len, uint32_t *out)
{
    if (len >= (1u << 24))
        return -1;
    uint32_t h = hash_bytes(s, len);
    if (t->nslots) {
        uint32_t i = h & (t->nslots - 1);
        while (t->slots[i]) {
            uint32_t sym = t->slots[i] - 1;
            if (t->hashes[sym] == h && eq(t, sym, s, len)) {
                *out = sym;
                return 0;
            }
            i = (i + 1) & (t->nslots - 1);
        }
    }
    if (t->count == UINT32_MAX - 1)
        return -1;
    if (t->count == t->cap) {
        uint32_t ncap = t->cap ? t->cap * 2 : 1024;
        uint64_t *ne = realloc(t->entries, (size_t)ncap * sizeof(uint64_t));
        if (!ne)
            return -1;
        t->entries = ne;
        uint32_t *nh = realloc(t->hashes, (size_t)ncap * sizeof(uint32_t));
        if (!nh)
            return -1;
        t->hashes = nh;
        t->cap = ncap;
    }
    if (t->pool_cap - t->pool_len < len) {
        size_t ncap = t->pool_cap ? t->pool_cap : 65536;
        while (ncap - t->pool_len < len)
            ncap *= 2;
        if (ncap >= ((size_t)1 << 40))
            return -1;
        char *np = realloc(t->pool, ncap);
        if (!np)
            return -1;
        t->pool = np;
        t->pool_cap = ncap;
    }
    memcpy(t->pool + t->pool_len, s, len);
    uint32_t sym = t->count++;
    t->entries[sym] = ((uint64_t)t->pool_len << 24) | len;
    t->hashes[sym] = h;
    t->pool_len += len;
    if ((uint64_t)t->count * 2 > t->nslots) {
        if (grow_slots(t) < 0) {
            t->count--;
            return -1;
        }
    } else {
        uint32_t i = h & (t->nslots - 1);
        while (t->slots[i])
            i = (i + 1) & (t->nslots - 1);
        t->slots[i] = sym + 1;
    }
    *out = sym;
    return 0;
}

const char *st_symtab_str(const st_symtab *t, uint32_t sym, size_t *len)
{
    uint64_t e = t->entries[sym];
    *len = (size_t)(e & 0xffffff);
    return t->pool + (e >> 24);
}

void st_symtab_free(st_symtab *t)
{
    free(t->pool);
    free(t->entries);
    free(t->slots);
    free(t->hashes);
    memset(t, 0, sizeof(*t));
}
