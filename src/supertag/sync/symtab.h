/*
 * sync/symtab.h - interned byte strings (node ids, names) as dense uint32
 * numbers. Open addressing with linear probing; the bytes live in one
 * growable pool. Memory: about 16 bytes per symbol plus the bytes.
 */
#ifndef SUPERTAG_SYNC_SYMTAB_H
#define SUPERTAG_SYNC_SYMTAB_H

#include <stddef.h>
#include <stdint.h>

#define ST_SYM_NONE UINT32_MAX

typedef struct st_symtab {
    char *pool;
    size_t pool_len, pool_cap;
    uint64_t *entries; /* per symbol: pool offset << 24 | length (len < 16M) */
    uint32_t count, cap;
    uint32_t *slots; /* hash slots: symbol + 1, 0 = empty */
    uint32_t *hashes;
    uint32_t nslots;
} st_symtab;

/** Intern s[0..len); *out is its symbol. -1 on ENOMEM or len >= 16 MiB. */
int st_symtab_intern(st_symtab *t, const char *s, size_t len, uint32_t *out);
/** The symbol of s, or ST_SYM_NONE. */
uint32_t st_symtab_find(const st_symtab *t, const char *s, size_t len);
/** The bytes of a symbol (not NUL-terminated) and their length. */
const char *st_symtab_str(const st_symtab *t, uint32_t sym, size_t *len);
void st_symtab_free(st_symtab *t);

#endif
