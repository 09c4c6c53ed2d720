/*
 * lance21/fuzz_v21_page.c - libFuzzer target for the format 2.1 and 2.2 page
 * decoders (v21_decode.c, v21_bitpack.c, v21_fsst.c, v22_general.c), in memory.
 *
 * Input layout (all little-endian; short inputs are padded with nothing):
 *   u8   column type selector: 0 utf8, 1 int64, 2 float32, 3 float64, 4 bool,
 *        5 vector of 8, 6 vector of 384, 7 vector of 1024 floats
 *   u16  length L of the PageLayout message, then L bytes of it
 *   u16  rows in the page
 *   up to 3 × (u32 length, bytes): page buffers 0, 1, 2
 * The page is planned, then decoded the way v21_read.c does it: mini-block
 * chunk table, dictionary and every chunk; full-zip records of every row.
 * 2.2 constant pages: the string value buffer and the definition levels.
 * Seeds (fuzz_corpus/) are real pages of the 2.1 and 2.2 fixtures (make_seeds.py).
 */
#include "lance/v21_decode.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t rd(const uint8_t **p, size_t *left, size_t n, uint64_t *v)
{
    if (*left < n)
        return 0;
    *v = 0;
    for (size_t i = 0; i < n; i++)
        *v |= (uint64_t)(*p)[i] << (8 * i);
    *p += n;
    *left -= n;
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const resona_type types[] = {RESONA_TYPE_UTF8,    RESONA_TYPE_INT64, RESONA_TYPE_FLOAT32,
                                        RESONA_TYPE_FLOAT64, RESONA_TYPE_BOOL,  RESONA_TYPE_VECTOR,
                                        RESONA_TYPE_VECTOR,  RESONA_TYPE_VECTOR};
    const uint8_t *p = data;
    size_t left = size;
    uint64_t sel, elen, rows;
    if (!rd(&p, &left, 1, &sel) || !rd(&p, &left, 2, &elen) || elen > left)
        return 0;
    const uint8_t *enc = p;
    p += elen;
    left -= (size_t)elen;
    if (!rd(&p, &left, 2, &rows))
        return 0;
    const uint8_t *buf[3] = {NULL, NULL, NULL};
    size_t blen[3] = {0, 0, 0}, nbuf = 0;
    for (; nbuf < 3; nbuf++) {
        uint64_t l;
        if (!rd(&p, &left, 4, &l))
            break;
        if (l > left)
            l = left;
        buf[nbuf] = p;
        blen[nbuf] = (size_t)l;
        p += l;
        left -= (size_t)l;
    }
    resona_type type = types[sel % 8];
    uint32_t dim = sel % 8 == 5 ? 8 : sel % 8 == 6 ? 384 : sel % 8 == 7 ? 1024 : 0;
    v21_where w = {"fuzz.lance", 0, 0, 0};
    v21_page *pg = NULL;
    if (resona__v21_page_plan(&w, enc, (size_t)elen, type, dim, rows, nbuf, &pg) < 0)
        return 0;
    if (pg->layout == V22_CONSTANT) {
        size_t lb = pg->value_buf ? 2 : 1;
        if (pg->value_buf && resona__v22_const_string(&w, pg, buf[0], blen[0]) < 0)
            goto done;
        if (pg->has_levels && lb < nbuf) {
            uint16_t *lev = malloc(((size_t)rows + 1024) * sizeof(uint16_t));
            if (lev)
                resona__v21_levels_decode(&w, pg->const_def, buf[lb], blen[lb], (size_t)rows, lev);
            free(lev);
        }
    } else if (pg->layout == V21_MINIBLOCK) {
        if (resona__v21_chunks_load(&w, pg, buf[0], blen[0], blen[1], rows) < 0)
            goto done;
        if (pg->has_dict && resona__v21_dict_load(&w, pg, buf[2], blen[2]) < 0)
            goto done;
        for (size_t c = 0; c < pg->nchunks; c++) {
            size_t off = (size_t)pg->chunk_pos[c];
            size_t len = (size_t)(pg->chunk_pos[c + 1] - pg->chunk_pos[c]);
            size_t cnt = (size_t)(pg->chunk_row[c + 1] - pg->chunk_row[c]);
            if (resona__v21_chunk_decode(&w, pg, buf[1] + off, len, cnt) < 0)
                break;
        }
    } else if (pg->layout == V21_FULLZIP && (pg->ctl_bytes || pg->value_skip || !pg->value_bytes)) {
        lance_colbuf d;
        memset(&d, 0, sizeof(d));
        if (resona__colbuf_reset(&d, type, dim, (size_t)rows) == 0) {
            size_t len = blen[0];
            if (pg->value_bytes) {
                size_t rs = pg->ctl_bytes + pg->value_bytes;
                if (len / rs >= rows)
                    resona__v21_fullzip_decode(&w, pg, buf[0], (size_t)rows * rs, (size_t)rows, &d,
                                               0);
            } else {
                resona__v21_fullzip_decode(&w, pg, buf[0], len, (size_t)rows, &d, 0);
            }
        }
        resona__colbuf_free(&d);
    }
done:
    resona__v21_page_free(pg);
    return 0;
}
