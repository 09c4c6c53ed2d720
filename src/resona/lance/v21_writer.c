/*
 * lance/v21_writer.c - plain Lance 2.1 pages for appends to 2.1 tables
 * (lance-format.md 7.2 to 7.4; layouts listed in v21_writer.h).
 *
 * Mini-block page: buffer 0 = one u16 metadata word per chunk,
 *   ((chunk_bytes / 8 - 1) << 4) | log2(values), 0 in the low bits of the
 *   last chunk; buffer 1 = the chunks. A chunk (at most 32 KiB, a multiple of
 *   8 bytes; every chunk but the last holds a power of two of values):
 *
 *     u16 num_levels (values when def levels exist, else 0) [u16 def_size]
 *     u16 value_size, pad 0xFE to 8 | [def u16 × k, pad 8] | values, pad 8
 *
 *   utf8 values: (k+1) u32 offsets counted from the value buffer's start,
 *   then the bytes, padded to 4 with 'H'.
 * Full-zip page: buffer 0 = records [u8 control word (def: 1 = null) when the
 *   page has nulls][value]; fixed values are always present (zeros for a
 *   null), variable ones are [u32 length][bytes] and absent for a null;
 *   buffer 1 (variable only) = (n+1) offsets of the records, u32 or u64.
 */
#include "lance/v21_writer.h"

#include "encodings_v2_1.pb-c.h"
#include "lance/io.h"
#include "lance_file.pb-c.h"
#include "util/alloc.h"
#include "util/endian.h"
#include "util/error.h"

#include <string.h>

#define CHUNK_MAX 32768u
#define CHUNK_VALUES_MAX 4096u
#define MINIBLOCK_MAX_VALUE 256u

enum { LAYER_ALL_VALID_ITEM = 1, LAYER_NULLABLE_ITEM = 3 };

void resona__v21_wpage_free(v21_wpage *p)
{
    resona__buf_free(&p->buf[0]);
    resona__buf_free(&p->buf[1]);
    resona__free(p->enc);
    memset(p, 0, sizeof(*p));
}

static int valid(const resona_column *c, size_t r)
{
    return c && (!c->validity || (c->validity[r / 8] >> (r % 8) & 1));
}

static size_t pad8(size_t x)
{
    return (x + 7) & ~(size_t)7;
}

static size_t pad4(size_t x)
{
    return (x + 3) & ~(size_t)3;
}

static int pack_layout(const L21__PageLayout *pl, v21_wpage *out)
{
    size_t vl = l21__page_layout__get_packed_size(pl);
    uint8_t *v = resona__malloc(vl ? vl : 1);
    if (!v)
        return RESONA_ENOMEM;
    l21__page_layout__pack(pl, v);
    Lf__Any any = LF__ANY__INIT;
    any.type_url = (char *)"/lance.encodings21.PageLayout";
    any.has_value = 1;
    any.value.data = v;
    any.value.len = vl;
    out->enc_len = lf__any__get_packed_size(&any);
    out->enc = resona__malloc(out->enc_len ? out->enc_len : 1);
    if (out->enc)
        lf__any__pack(&any, out->enc);
    resona__free(v);
    return out->enc ? 0 : RESONA_ENOMEM;
}

/* Bytes of value i of a fixed column (bool: not used). */
static size_t fixed_width(const resona_field *f)
{
    switch (f->type) {
    case RESONA_TYPE_FLOAT32:
        return 4;
    case RESONA_TYPE_VECTOR:
        return (size_t)f->dim * 4;
    case RESONA_TYPE_BOOL:
        return 1;
    default:
        return 8;
    }
}

static size_t value_len(const resona_field *f, const resona_column *c, size_t r)
{
    if (f->type != RESONA_TYPE_UTF8)
        return fixed_width(f);
    return valid(c, r) ? (size_t)(c->offsets[r + 1] - c->offsets[r]) : 0;
}

/* Size of a mini-block chunk of rows [r, r+k). */
static size_t chunk_size(const resona_field *f, const resona_column *c, size_t r, size_t k,
                         int nulls)
{
    size_t s = pad8(nulls ? 6 : 4);
    if (nulls)
        s += pad8(2 * k);
    if (f->type == RESONA_TYPE_UTF8) {
        size_t b = 4 * (k + 1);
        for (size_t i = 0; i < k; i++)
            b += value_len(f, c, r + i);
        s += pad8(pad4(b));
    } else if (f->type == RESONA_TYPE_BOOL) {
        s += pad8((k + 7) / 8);
    } else {
        s += pad8(k * fixed_width(f));
    }
    return s;
}

static int put_u16(resona_buf *b, uint16_t v)
{
    uint8_t x[2];
    resona__put_le16(x, v);
    return resona__buf_append(b, x, 2);
}

static int pad_to(resona_buf *b, size_t start, size_t mult, uint8_t byte)
{
    int rc = 0;
    while (rc == 0 && (b->len - start) % mult)
        rc = resona__buf_append(b, &byte, 1);
    return rc;
}

static int put_u32(resona_buf *b, uint32_t v)
{
    uint8_t x[4];
    resona__put_le32(x, v);
    return resona__buf_append(b, x, 4);
}

/* large (format 2.2): the chunk's buffer size is a u32 (the level sizes stay u16) */
static int write_chunk(const resona_field *f, const resona_column *c, size_t r, size_t k, int nulls,
                       int large, resona_buf *b)
{
    size_t start = b->len;
    size_t vsize;
    if (f->type == RESONA_TYPE_UTF8) {
        size_t bytes = 0;
        for (size_t i = 0; i < k; i++)
            bytes += value_len(f, c, r + i);
        vsize = pad4(4 * (k + 1) + bytes);
    } else if (f->type == RESONA_TYPE_BOOL) {
        vsize = (k + 7) / 8;
    } else {
        vsize = k * fixed_width(f);
    }
    int rc = put_u16(b, (uint16_t)(nulls ? k : 0));
    if (rc == 0 && nulls)
        rc = put_u16(b, (uint16_t)(2 * k));
    if (rc == 0)
        rc = large ? put_u32(b, (uint32_t)vsize) : put_u16(b, (uint16_t)vsize);
    if (rc == 0)
        rc = pad_to(b, start, 8, 0xFE);
    for (size_t i = 0; rc == 0 && nulls && i < k; i++)
        rc = put_u16(b, valid(c, r + i) ? 0 : 1);
    if (rc == 0 && nulls)
        rc = pad_to(b, start, 8, 0xFE);
    if (rc < 0)
        return rc;
    size_t vstart = b->len;
    if (f->type == RESONA_TYPE_UTF8) {
        uint8_t x[4];
        uint32_t o = (uint32_t)(4 * (k + 1));
        resona__put_le32(x, o);
        rc = resona__buf_append(b, x, 4);
        for (size_t i = 0; rc == 0 && i < k; i++) {
            o += (uint32_t)value_len(f, c, r + i);
            resona__put_le32(x, o);
            rc = resona__buf_append(b, x, 4);
        }
        for (size_t i = 0; rc == 0 && i < k; i++) {
            size_t l = value_len(f, c, r + i);
            if (l)
                rc = resona__buf_append(b, (const char *)c->values + c->offsets[r + i], l);
        }
        if (rc == 0)
            rc = pad_to(b, vstart, 4, 'H');
    } else if (f->type == RESONA_TYPE_BOOL) {
        uint8_t byte = 0;
        for (size_t i = 0; rc == 0 && i < k; i++) {
            if (valid(c, r + i) && ((const uint8_t *)c->values)[r + i])
                byte = (uint8_t)(byte | (1u << (i % 8)));
            if (i % 8 == 7 || i + 1 == k) {
                rc = resona__buf_append(b, &byte, 1);
                byte = 0;
            }
        }
    } else {
        size_t w = fixed_width(f);
        for (size_t i = 0; rc == 0 && i < k; i++) {
            if (valid(c, r + i))
                rc = resona__buf_append(b, (const uint8_t *)c->values + (r + i) * w, w);
            else
                rc = resona__buf_zeros(b, w);
        }
    }
    if (rc == 0)
        rc = pad_to(b, start, 8, 0xFE);
    return rc;
}

static int build_miniblock(const resona_field *f, const resona_column *c, size_t a, size_t n,
                           int nulls, int large, v21_wpage *out)
{
    resona_buf *meta = &out->buf[0], *data = &out->buf[1];
    out->nbuf = 2;
    size_t r = a;
    int rc = 0;
    while (rc == 0 && r < a + n) {
        size_t rem = a + n - r;
        size_t k = 1;
        unsigned lg = 0;
        while (k * 2 <= rem && k * 2 <= CHUNK_VALUES_MAX &&
               chunk_size(f, c, r, k * 2, nulls) <= CHUNK_MAX) {
            k *= 2;
            lg++;
        }
        if (chunk_size(f, c, r, k, nulls) > CHUNK_MAX)
            return resona__error_set(RESONA_EINVALID,
                                     "column \"%s\": row %zu does not fit a "
                                     "2.1 mini-block chunk",
                                     f->name, r);
        size_t before = data->len;
        if ((rc = write_chunk(f, c, r, k, nulls, large, data)) < 0)
            return rc;
        size_t bytes = data->len - before;
        int last = r + k == a + n;
        uint32_t word = (uint32_t)(((bytes / 8 - 1) << 4) | (last ? 0 : lg));
        rc = large ? put_u32(meta, word) : put_u16(meta, (uint16_t)word);
        r += k;
    }
    if (rc < 0)
        return rc;
    L21__Flat fl = L21__FLAT__INIT, fl32 = L21__FLAT__INIT, fdef = L21__FLAT__INIT;
    L21__Variable var = L21__VARIABLE__INIT;
    L21__FixedSizeList fsl = L21__FIXED_SIZE_LIST__INIT;
    L21__CompressiveEncoding vc = L21__COMPRESSIVE_ENCODING__INIT,
                             inner = L21__COMPRESSIVE_ENCODING__INIT,
                             dc = L21__COMPRESSIVE_ENCODING__INIT;
    fl32.has_bits_per_value = 1;
    fl32.bits_per_value = 32;
    if (f->type == RESONA_TYPE_UTF8) {
        inner.compression_case = L21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT;
        inner.flat = &fl32;
        var.offsets = &inner;
        vc.compression_case = L21__COMPRESSIVE_ENCODING__COMPRESSION_VARIABLE;
        vc.variable = &var;
    } else if (f->type == RESONA_TYPE_VECTOR) {
        inner.compression_case = L21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT;
        inner.flat = &fl32;
        fsl.has_items_per_value = 1;
        fsl.items_per_value = f->dim;
        fsl.values = &inner;
        vc.compression_case = L21__COMPRESSIVE_ENCODING__COMPRESSION_FIXED_SIZE_LIST;
        vc.fixed_size_list = &fsl;
    } else {
        fl.has_bits_per_value = 1;
        fl.bits_per_value = f->type == RESONA_TYPE_BOOL ? 1 : fixed_width(f) * 8;
        vc.compression_case = L21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT;
        vc.flat = &fl;
    }
    L21__MiniBlockLayout mb = L21__MINI_BLOCK_LAYOUT__INIT;
    int32_t layer = nulls ? LAYER_NULLABLE_ITEM : LAYER_ALL_VALID_ITEM;
    mb.value_compression = &vc;
    if (nulls) {
        fdef.has_bits_per_value = 1;
        fdef.bits_per_value = 16;
        dc.compression_case = L21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT;
        dc.flat = &fdef;
        mb.def_compression = &dc;
    }
    mb.n_layers = 1;
    mb.layers = &layer;
    mb.has_num_buffers = 1;
    mb.num_buffers = 1;
    mb.has_num_items = 1;
    mb.num_items = n;
    /* 2.2 readers require the u32 chunk grammar on every mini-block page */
    mb.has_has_large_chunk = large;
    mb.has_large_chunk = large;
    L21__PageLayout pl = L21__PAGE_LAYOUT__INIT;
    pl.layout_case = L21__PAGE_LAYOUT__LAYOUT_MINI_BLOCK_LAYOUT;
    pl.mini_block_layout = &mb;
    return pack_layout(&pl, out);
}

static int build_fullzip(const resona_field *f, const resona_column *c, size_t a, size_t n,
                         int nulls, v21_wpage *out)
{
    resona_buf *rec = &out->buf[0], *idx = &out->buf[1];
    int utf8 = f->type == RESONA_TYPE_UTF8;
    out->nbuf = utf8 ? 2 : 1;
    int rc = 0;
    uint64_t total = 0;
    if (utf8) {
        for (size_t r = a; r < a + n; r++)
            total += (nulls ? 1 : 0) + (valid(c, r) ? 4 + value_len(f, c, r) : 0);
    }
    size_t iw = total > UINT32_MAX ? 8 : 4;
    uint8_t x[8];
    for (size_t r = a; rc == 0 && r < a + n; r++) {
        if (utf8) {
            if (iw == 4)
                resona__put_le32(x, (uint32_t)rec->len);
            else
                resona__put_le64(x, (uint64_t)rec->len);
            if ((rc = resona__buf_append(idx, x, iw)) < 0)
                break;
        }
        int ok = valid(c, r);
        if (nulls) {
            uint8_t ctl = ok ? 0 : 1;
            if ((rc = resona__buf_append(rec, &ctl, 1)) < 0)
                break;
        }
        if (utf8) {
            if (!ok)
                continue;
            size_t l = value_len(f, c, r);
            resona__put_le32(x, (uint32_t)l);
            if ((rc = resona__buf_append(rec, x, 4)) == 0 && l)
                rc = resona__buf_append(rec, (const char *)c->values + c->offsets[r], l);
        } else {
            size_t w = fixed_width(f);
            rc = ok ? resona__buf_append(rec, (const uint8_t *)c->values + r * w, w)
                    : resona__buf_zeros(rec, w);
        }
    }
    if (rc == 0 && utf8) {
        if (iw == 4)
            resona__put_le32(x, (uint32_t)rec->len);
        else
            resona__put_le64(x, (uint64_t)rec->len);
        rc = resona__buf_append(idx, x, iw);
    }
    if (rc < 0)
        return rc;
    L21__Flat fl32 = L21__FLAT__INIT;
    L21__Variable var = L21__VARIABLE__INIT;
    L21__FixedSizeList fsl = L21__FIXED_SIZE_LIST__INIT;
    L21__CompressiveEncoding vc = L21__COMPRESSIVE_ENCODING__INIT,
                             inner = L21__COMPRESSIVE_ENCODING__INIT;
    fl32.has_bits_per_value = 1;
    fl32.bits_per_value = 32;
    inner.compression_case = L21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT;
    inner.flat = &fl32;
    L21__FullZipLayout fz = L21__FULL_ZIP_LAYOUT__INIT;
    if (utf8) {
        var.offsets = &inner;
        vc.compression_case = L21__COMPRESSIVE_ENCODING__COMPRESSION_VARIABLE;
        vc.variable = &var;
        fz.details_case = L21__FULL_ZIP_LAYOUT__DETAILS_BITS_PER_OFFSET;
        fz.bits_per_offset = 32;
    } else if (f->type == RESONA_TYPE_VECTOR) {
        fsl.has_items_per_value = 1;
        fsl.items_per_value = f->dim;
        fsl.values = &inner;
        vc.compression_case = L21__COMPRESSIVE_ENCODING__COMPRESSION_FIXED_SIZE_LIST;
        vc.fixed_size_list = &fsl;
        fz.details_case = L21__FULL_ZIP_LAYOUT__DETAILS_BITS_PER_VALUE;
        fz.bits_per_value = f->dim * 32;
    } else {
        return resona__error_set(RESONA_EINVALID,
                                 "column \"%s\": no full-zip layout for its "
                                 "type",
                                 f->name);
    }
    int32_t layer = nulls ? LAYER_NULLABLE_ITEM : LAYER_ALL_VALID_ITEM;
    fz.has_bits_def = nulls;
    fz.bits_def = nulls ? 1 : 0;
    fz.has_num_items = fz.has_num_visible_items = 1;
    fz.num_items = fz.num_visible_items = (uint32_t)n;
    fz.value_compression = &vc;
    fz.n_layers = 1;
    fz.layers = &layer;
    L21__PageLayout pl = L21__PAGE_LAYOUT__INIT;
    pl.layout_case = L21__PAGE_LAYOUT__LAYOUT_FULL_ZIP_LAYOUT;
    pl.full_zip_layout = &fz;
    return pack_layout(&pl, out);
}

int resona__v21_page_build(const resona_field *f, const resona_column *c, size_t a, size_t n,
                           int large, v21_wpage *out)
{
    memset(out, 0, sizeof(*out));
    if (n > UINT32_MAX)
        return resona__error_set(RESONA_EINVALID, "2.1 page of %zu rows too large", n);
    size_t nulls = 0, maxlen = 0;
    for (size_t r = a; r < a + n; r++) {
        nulls += !valid(c, r);
        size_t l = value_len(f, c, r);
        if (l > maxlen)
            maxlen = l;
    }
    int rc;
    if (nulls == n && n > 0) {
        L21__AllNullLayout an = L21__ALL_NULL_LAYOUT__INIT;
        int32_t layer = LAYER_NULLABLE_ITEM;
        an.n_layers = 1;
        an.layers = &layer;
        L21__PageLayout pl = L21__PAGE_LAYOUT__INIT;
        pl.layout_case = L21__PAGE_LAYOUT__LAYOUT_ALL_NULL_LAYOUT;
        pl.all_null_layout = &an;
        rc = pack_layout(&pl, out);
    } else if (maxlen < MINIBLOCK_MAX_VALUE) {
        rc = build_miniblock(f, c, a, n, nulls > 0, large, out);
    } else {
        rc = build_fullzip(f, c, a, n, nulls > 0, out);
    }
    if (rc < 0)
        resona__v21_wpage_free(out);
    return rc;
}
