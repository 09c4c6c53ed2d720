/*
 * lance/v21_fsst.c - FSST (Fast Static Symbol Table) string decompression
 * as Lance 2.1 stores it (lance-format.md 7.5 point 4).
 *
 * Symbol table (2312 bytes as written; only the used part is read):
 *
 *   offset       size      field
 *   0            8         u64 header: (0x46535354 "FSST" << 32) | decoder_switch << 24
 *                          | suffix_lim << 16 | terminator << 8 | n_symbols
 *   8            8*n       symbols, bytes in little-endian order
 *   8+8n         n         symbol lengths (1..8)
 *
 * Decoding: each code byte c < 255 emits the first len[c] bytes of symbol c;
 * 255 escapes the next byte, emitted literally. decoder_switch 0 = raw data.
 */
#include "lance/v21_decode.h"

#include "util/endian.h"
#include "util/alloc.h"
#include "util/error.h"

#include <inttypes.h>
#include <string.h>

static int bad(const v21_where *w, const char *what)
{
    return resona__error_set(RESONA_ECORRUPT, "%s: column %u page %zu: %s (offset %" PRIu64 ")",
                             w->path, w->col, w->page, what, w->off);
}

int resona__v21_fsst_parse(const v21_where *w, const uint8_t *tab, size_t len, v21_fsst *out)
{
    memset(out, 0, sizeof(*out));
    if (len < 8)
        return bad(w, "FSST symbol table shorter than its header");
    uint64_t h = resona__le64(tab);
    if ((h >> 32) != 0x46535354u)
        return bad(w, "FSST symbol table without its magic");
    out->raw = !((h >> 24) & 1);
    out->nsym = (unsigned)(h & 0xff);
    if (out->raw)
        return 0;
    if (len < 8 + 9 * (size_t)out->nsym)
        return bad(w, "FSST symbol table shorter than its symbols");
    for (unsigned i = 0; i < out->nsym; i++) {
        memcpy(out->sym[i], tab + 8 + 8 * (size_t)i, 8);
        out->len[i] = tab[8 + 8 * (size_t)out->nsym + i];
        if (out->len[i] == 0 || out->len[i] > 8)
            return bad(w, "FSST symbol length outside 1..8");
    }
    return 0;
}

int resona__v21_fsst_decode(const v21_where *w, const v21_fsst *t, const uint8_t *in, size_t len,
                            uint8_t **buf, size_t *cap, size_t *used)
{
    int rc;
    if (t->raw) {
        if ((rc = resona__grow((void **)buf, cap, *used + len + 1)) < 0)
            return rc;
        if (len)
            memcpy(*buf + *used, in, len);
        *used += len;
        return 0;
    }
    if (len > (SIZE_MAX - *used - 8) / 8)
        return bad(w, "FSST string too long");
    /* worst case every code expands to 8 bytes */
    if ((rc = resona__grow((void **)buf, cap, *used + len * 8 + 8)) < 0)
        return rc;
    uint8_t *o = *buf + *used;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = in[i];
        if (c == 255) {
            if (++i >= len)
                return bad(w, "FSST escape byte at the end of a string");
            *o++ = in[i];
        } else if (c < t->nsym) {
            memcpy(o, t->sym[c], 8); /* room for 8 was reserved */
            o += t->len[c];
        } else {
            return bad(w, "FSST code past the symbol table");
        }
    }
    *used = (size_t)(o - *buf);
    return 0;
}
