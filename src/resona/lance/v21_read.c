/*
 * lance/v21_read.c - reading rows of Lance 2.1 pages from a data file.
 *
 * Pages are decoded lazily and piecewise, with the same bounded memory as
 * the 2.0 reader:
 *   mini-block  the chunk table (page buffer 0, a few bytes per chunk) and the
 *               dictionary (buffer 2) are read on first use; a read of rows
 *               [a, a+n) reads and decodes only the chunks covering them (at
 *               most 32 KiB each), and keeps the last decoded chunk so that
 *               consecutive reads do not decode it twice;
 *   full-zip    fixed-width records without control words are read in place;
 *               otherwise the repetition index (buffer 1, one offset per row)
 *               gives the byte range of the rows, which alone is read;
 *   all-null    no I/O;
 *   constant    (2.2) no I/O when no row is null; otherwise the definition
 *               levels (buffer 1, 2 bytes a row raw) are read once per page and
 *               kept as a null bitmap (1 bit a row).
 */
#include "lance/v21_decode.h"

#include "lance/io.h"
#include "lance/table_int.h"
#include "util/alloc.h"
#include "util/endian.h"
#include "util/error.h"

#include <inttypes.h>
#include <string.h>

#define MAX_DICT_BYTES ((uint64_t)256 << 20)

int resona__v21_plan(lance_file *f, uint32_t col, size_t pageno, lance_page *p, const uint8_t *enc,
                     size_t len, resona_type type, uint32_t dim)
{
    v21_where w = {f->path, col, pageno, p->nbuf ? p->boff[0] : 0};
    v21_page *v = NULL;
    int rc = resona__v21_page_plan(&w, enc, len, type, dim, p->rows, p->nbuf, &v);
    if (rc < 0)
        return rc;
    v->col = col;
    v->pageno = pageno;
    if (v->layout == V22_CONSTANT && v->value_buf) {
        /* the constant string (2.2): small, read once with the plan */
        w.off = p->boff[0];
        if (p->bsize[0] > LANCE_MAX_META_BYTES) {
            resona__v21_page_free(v);
            return resona__error_set(RESONA_EUNSUPPORTED,
                                     "%s: column %u page %zu: constant value of %" PRIu64
                                     " bytes too large",
                                     f->path, col, pageno, p->bsize[0]);
        }
        size_t blen = (size_t)p->bsize[0];
        uint8_t *b = resona__malloc(blen ? blen : 1);
        rc = b ? resona__io_pread(f->fd, f->path, p->boff[0], b, blen) : RESONA_ENOMEM;
        if (rc == 0)
            rc = resona__v22_const_string(&w, v, b, blen);
        resona__free(b);
        if (rc < 0) {
            resona__v21_page_free(v);
            return rc;
        }
    }
    if (v->layout == V21_FULLZIP && v->value_bytes &&
        p->bsize[0] / (v->value_bytes + v->ctl_bytes) < p->rows) {
        resona__v21_page_free(v);
        return resona__error_set(RESONA_ECORRUPT,
                                 "%s: column %u page %zu: full-zip values buffer at offset %" PRIu64
                                 " shorter than the page",
                                 f->path, col, pageno, p->boff[0]);
    }
    p->v21 = v;
    return 0;
}

static int load_meta(lance_file *f, lance_page *p, v21_page *v)
{
    int rc;
    if (!v->chunks_loaded) {
        v21_where w = {f->path, v->col, v->pageno, p->boff[0]};
        if (p->bsize[0] > LANCE_MAX_META_BYTES)
            return resona__error_set(RESONA_EUNSUPPORTED,
                                     "%s: column %u page %zu: chunk table of %" PRIu64
                                     " bytes too large",
                                     f->path, v->col, v->pageno, p->bsize[0]);
        size_t len = (size_t)p->bsize[0];
        uint8_t *m = resona__malloc(len ? len : 1);
        if (!m)
            return RESONA_ENOMEM;
        rc = resona__io_pread(f->fd, f->path, p->boff[0], m, len);
        if (rc == 0)
            rc = resona__v21_chunks_load(&w, v, m, len, p->bsize[1], p->rows);
        resona__free(m);
        if (rc < 0)
            return rc;
    }
    if (v->has_dict && !v->dict_data) {
        v21_where w = {f->path, v->col, v->pageno, p->boff[2]};
        if (p->bsize[2] > MAX_DICT_BYTES)
            return resona__error_set(RESONA_EUNSUPPORTED,
                                     "%s: column %u page %zu: dictionary of %" PRIu64
                                     " bytes too large",
                                     f->path, v->col, v->pageno, p->bsize[2]);
        size_t len = (size_t)p->bsize[2];
        uint8_t *m = resona__malloc(len ? len : 1);
        if (!m)
            return RESONA_ENOMEM;
        rc = resona__io_pread(f->fd, f->path, p->boff[2], m, len);
        if (rc == 0)
            rc = resona__v21_dict_load(&w, v, m, len);
        resona__free(m);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Copy rows [s, s+n) of src into dst rows [at, at+n). */
static int copy_rows(const lance_colbuf *src, size_t s, size_t n, lance_colbuf *d, size_t at)
{
    if (d->type == RESONA_TYPE_UTF8) {
        size_t b0 = (size_t)src->offsets[s], b1 = (size_t)src->offsets[s + n];
        int rc =
            resona__grow((void **)&d->values, &d->values_cap, d->bytes_len + (b1 - b0) + 1);
        if (rc < 0)
            return rc;
        memcpy(d->values + d->bytes_len, src->values + b0, b1 - b0);
        for (size_t i = 0; i < n; i++)
            d->offsets[at + i + 1] = d->bytes_len + (size_t)(src->offsets[s + i + 1] - b0);
        d->bytes_len += b1 - b0;
    } else {
        memcpy(d->values + at * d->width, src->values + s * src->width, n * d->width);
    }
    if (src->has_nulls)
        for (size_t i = 0; i < n; i++)
            if (!(src->validity[(s + i) / 8] >> ((s + i) % 8) & 1)) {
                size_t r = at + i;
                d->validity[r / 8] = (uint8_t)(d->validity[r / 8] & ~(1u << (r % 8)));
                d->has_nulls = 1;
            }
    return 0;
}

static int read_miniblock(lance_file *f, lance_page *p, v21_page *v, uint64_t a, size_t n,
                          lance_colbuf *d, size_t at)
{
    int rc = load_meta(f, p, v);
    if (rc < 0)
        return rc;
    while (n > 0) {
        /* binary search: last chunk whose first row <= a */
        size_t lo = 0, hi = v->nchunks;
        while (hi - lo > 1) {
            size_t mid = lo + (hi - lo) / 2;
            if (v->chunk_row[mid] <= a)
                lo = mid;
            else
                hi = mid;
        }
        size_t c = lo;
        size_t cnt = (size_t)(v->chunk_row[c + 1] - v->chunk_row[c]);
        if (v->cached != c + 1) {
            uint64_t off = p->boff[1] + v->chunk_pos[c];
            size_t len = (size_t)(v->chunk_pos[c + 1] - v->chunk_pos[c]);
            if ((rc = resona__grow((void **)&v->scratch, &v->scratch_cap, len + 1)) < 0)
                return rc;
            if ((rc = resona__io_pread(f->fd, f->path, off, v->scratch, len)) < 0)
                return rc;
            v21_where w = {f->path, v->col, v->pageno, off};
            if ((rc = resona__v21_chunk_decode(&w, v, v->scratch, len, cnt)) < 0)
                return rc;
            v->cached = c + 1;
        }
        size_t s = (size_t)(a - v->chunk_row[c]);
        size_t take = cnt - s < n ? cnt - s : n;
        if ((rc = copy_rows(&v->cache, s, take, d, at)) < 0)
            return rc;
        a += take;
        at += take;
        n -= take;
    }
    return 0;
}

static int read_fullzip(lance_file *f, lance_page *p, v21_page *v, uint64_t a, size_t n,
                        lance_colbuf *d, size_t at)
{
    int rc;
    if (v->value_bytes && !v->ctl_bytes && !v->value_skip)
        return resona__io_pread(f->fd, f->path, p->boff[0] + a * v->value_bytes,
                                d->values + at * d->width, n * v->value_bytes);
    if (v->value_bytes) {
        /* fixed-size records [control word][item validity][value], nulls included */
        size_t rs = v->ctl_bytes + v->value_bytes;
        uint8_t *data = resona__malloc(n * rs + 1);
        if (!data)
            return RESONA_ENOMEM;
        rc = resona__io_pread(f->fd, f->path, p->boff[0] + a * rs, data, n * rs);
        v21_where w = {f->path, v->col, v->pageno, p->boff[0] + a * rs};
        if (rc == 0)
            rc = resona__v21_fullzip_decode(&w, v, data, n * rs, n, d, at);
        resona__free(data);
        return rc;
    }
    if (p->nbuf < 2)
        return resona__error_set(RESONA_ECORRUPT,
                                 "%s: column %u page %zu: full-zip page at offset %" PRIu64
                                 " lacks its repetition index",
                                 f->path, v->col, v->pageno, p->boff[0]);
    uint64_t isz = p->bsize[1];
    uint64_t rw = p->rows + 1 ? isz / (p->rows + 1) : 0;
    if ((rw != 1 && rw != 2 && rw != 4 && rw != 8) || rw * (p->rows + 1) != isz)
        return resona__error_set(RESONA_ECORRUPT,
                                 "%s: column %u page %zu: repetition index at offset %" PRIu64
                                 " of %" PRIu64 " bytes does not fit %" PRIu64 " rows",
                                 f->path, v->col, v->pageno, p->boff[1], isz, p->rows);
    size_t ilen = (n + 1) * (size_t)rw;
    uint8_t *ix = resona__malloc(ilen);
    uint8_t *data = NULL;
    if (!ix)
        return RESONA_ENOMEM;
    if ((rc = resona__io_pread(f->fd, f->path, p->boff[1] + a * rw, ix, ilen)) < 0)
        goto done;
    uint64_t s, e;
    switch (rw) {
    case 1:
        s = ix[0];
        e = ix[n];
        break;
    case 2:
        s = resona__le16(ix);
        e = resona__le16(ix + 2 * n);
        break;
    case 4:
        s = resona__le32(ix);
        e = resona__le32(ix + 4 * n);
        break;
    default:
        s = resona__le64(ix);
        e = resona__le64(ix + 8 * n);
        break;
    }
    if (s > e || e > p->bsize[0]) {
        rc = resona__error_set(RESONA_ECORRUPT,
                               "%s: column %u page %zu: repetition index entry at offset %" PRIu64
                               " points past the %" PRIu64 "-byte records buffer",
                               f->path, v->col, v->pageno, p->boff[1] + a * rw, p->bsize[0]);
        goto done;
    }
    size_t len = (size_t)(e - s);
    if (!(data = resona__malloc(len ? len : 1))) {
        rc = RESONA_ENOMEM;
        goto done;
    }
    if ((rc = resona__io_pread(f->fd, f->path, p->boff[0] + s, data, len)) < 0)
        goto done;
    v21_where w = {f->path, v->col, v->pageno, p->boff[0] + s};
    rc = resona__v21_fullzip_decode(&w, v, data, len, n, d, at);
done:
    resona__free(ix);
    resona__free(data);
    return rc;
}

static int load_const_nulls(lance_file *f, lance_page *p, v21_page *v)
{
    size_t lb = v->value_buf ? 2 : 1; /* [value,] repetition levels, definition levels */
    v21_where w = {f->path, v->col, v->pageno, p->boff[lb]};
    if (p->bsize[lb] > MAX_DICT_BYTES || p->rows > MAX_DICT_BYTES / 2)
        return resona__error_set(RESONA_EUNSUPPORTED,
                                 "%s: column %u page %zu: definition levels of %" PRIu64
                                 " bytes for %" PRIu64 " rows too large",
                                 f->path, v->col, v->pageno, p->bsize[lb], p->rows);
    size_t len = (size_t)p->bsize[lb], rows = (size_t)p->rows;
    uint8_t *raw = resona__malloc(len ? len : 1);
    uint16_t *lev = resona__malloc((rows + 1024) * sizeof(uint16_t));
    uint8_t *nulls = resona__calloc(rows / 8 + 1, 1);
    int rc = 0;
    if (!raw || !lev || !nulls) {
        rc = RESONA_ENOMEM;
        goto done;
    }
    if ((rc = resona__io_pread(f->fd, f->path, p->boff[lb], raw, len)) < 0)
        goto done;
    if ((rc = resona__v21_levels_decode(&w, v->const_def, raw, len, rows, lev)) < 0)
        goto done;
    for (size_t i = 0; i < rows; i++)
        if (lev[i])
            nulls[i / 8] = (uint8_t)(nulls[i / 8] | 1u << (i % 8));
    v->const_null = nulls;
    nulls = NULL;
done:
    resona__free(raw);
    resona__free(lev);
    resona__free(nulls);
    return rc;
}

/* A 2.2 constant page: the inline value in every row, nulls from the levels. */
static int read_constant(lance_file *f, lance_page *p, v21_page *v, uint64_t a, size_t n,
                         lance_colbuf *d, size_t at)
{
    int rc;
    if (v->has_levels && !v->const_null && (rc = load_const_nulls(f, p, v)) < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        uint64_t r = a + i;
        if (v->const_null && (v->const_null[r / 8] >> (r % 8) & 1)) {
            if ((rc = resona__colbuf_nulls(d, at + i, 1)) < 0)
                return rc;
            continue;
        }
        if (d->type == RESONA_TYPE_UTF8) {
            if ((rc = resona__grow((void **)&d->values, &d->values_cap,
                                   d->bytes_len + v->cstr_len + 1)) < 0)
                return rc;
            memcpy(d->values + d->bytes_len, v->cstr, v->cstr_len);
            d->bytes_len += v->cstr_len;
            d->offsets[at + i + 1] = d->bytes_len;
        } else {
            memcpy(d->values + (at + i) * d->width, v->inl, d->width);
        }
    }
    return 0;
}

int resona__v21_read(lance_file *f, lance_page *p, uint64_t a, size_t n, lance_colbuf *d, size_t at)
{
    v21_page *v = p->v21;
    switch (v->layout) {
    case V21_ALLNULL:
        return resona__colbuf_nulls(d, at, n);
    case V21_MINIBLOCK:
        return read_miniblock(f, p, v, a, n, d, at);
    case V22_CONSTANT:
        return read_constant(f, p, v, a, n, d, at);
    default:
        return read_fullzip(f, p, v, a, n, d, at);
    }
}
