/*
 * lance/v21_decode.c - in-memory decoding of Lance 2.1 pages: the page plan,
 * mini-block chunks, dictionaries and full-zip records (lance-format.md 7).
 *
 * Mini-block page buffers: 0 = chunk metadata (one u16 word per chunk, u32
 * with has_large_chunk), 1 = the chunks, 2 = dictionary (if any). A chunk:
 *
 *   u16 num_levels                 items in the chunk when def levels exist
 *   [u16 rep_size] [u16 def_size]  when rep / def compression is set
 *   u16 size[num_buffers]          (u32 each with has_large_chunk)
 *   pad to 8 | [rep, pad 8] | [def, pad 8] | buffer 0, pad 8 | buffer 1 ...
 *
 * Values (per chunk, per value_compression):
 *   flat{bits}                     raw little-endian values; bits 1 = LSB-first bools
 *   inline_bitpacking{T}           [T-bit width W][1024*W/T FastLanes words]
 *   out_of_line_bitpacking{T, W}   full FastLanes blocks, tail raw or one padded block
 *   rle{values, run_lengths u8}    buffer 0 run values, buffer 1 run lengths
 *   fixed_size_list{d, values}     n*d items ([validity bitmap buffer first])
 *   constant{value}                every value the same
 *   variable{offsets flat 32|64}   (n+1) offsets from the buffer start, then bytes
 *   fsst{table, variable}          variable whose entries are FSST-compressed
 *   dictionary (page level)        values are 0-based indices into buffer 2
 * Definition levels: 0 = valid, otherwise null (flat levels or bit-packed).
 *
 * Full-zip records: [control word (rep << bits_def | def)][value], where the
 * value is bits_per_value/8 bytes, or a bits_per_offset/8-byte length plus
 * that many bytes; a null record is the control word alone.
 */
#include "lance/v21_decode.h"

#include "lance/io.h"
#include "lance/table_int.h"
#include "util/alloc.h"
#include "util/endian.h"
#include "util/error.h"

#include <inttypes.h>
#include <string.h>

#define MAX_CHUNK_VALUES 65536u /* 2^15 is the largest power a metadata word can state */
#define MAX_DICT_ITEMS ((uint64_t)1 << 26)
#define MAX_DICT_BLOCK ((size_t)256 << 20)  /* a decompressed dictionary (2.2) */
#define MAX_CHUNK_BUFFER ((size_t)16 << 20) /* a decompressed mini-block buffer (2.2) */
#define MAX_VALUE_BYTES ((size_t)1 << 30)   /* one decompressed full-zip value (2.2) */

static int bad(const v21_where *w, const char *what)
{
    return resona__error_set(RESONA_ECORRUPT, "%s: column %u page %zu: %s (offset %" PRIu64 ")",
                             w->path, w->col, w->page, what, w->off);
}

static int unsup(const v21_where *w, const char *what)
{
    return resona__error_set(RESONA_EUNSUPPORTED,
                             "%s: column %u page %zu: %s (format 2.1/2.2 page, offset %" PRIu64 ")",
                             w->path, w->col, w->page, what, w->off);
}


static size_t pad8(size_t x)
{
    return (x + 7) & ~(size_t)7;
}

void resona__v21_page_free(v21_page *p)
{
    if (!p)
        return;
    if (p->pl)
        l21__page_layout__free_unpacked(p->pl, &resona__pb_alloc);
    resona__free(p->dict_off);
    resona__free(p->dict_data);
    resona__free(p->chunk_pos);
    resona__free(p->chunk_row);
    resona__colbuf_free(&p->cache);
    resona__free(p->scratch);
    resona__free(p->gbuf);
    resona__free(p->const_null);
    resona__free(p->cstr);
    resona__free(p);
}

/* Depth-bounded check that an encoding only uses what the decoders know. */
static int check_ce(const v21_where *w, const L21__CompressiveEncoding *ce, int depth)
{
    if (!ce)
        return bad(w, "missing compressive encoding");
    if (depth > 8)
        return unsup(w, "compressive encodings nested too deeply");
    switch (ce->compression_case) {
    case L21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT:
        if (ce->flat->data && ce->flat->data->scheme)
            return unsup(w, "general (LZ4/zstd) buffer compression");
        return 0;
    case L21__COMPRESSIVE_ENCODING__COMPRESSION_VARIABLE:
        if (ce->variable->values && ce->variable->values->scheme)
            return unsup(w, "general (LZ4/zstd) buffer compression");
        return check_ce(w, ce->variable->offsets, depth + 1);
    case L21__COMPRESSIVE_ENCODING__COMPRESSION_CONSTANT:
        return 0;
    case L21__COMPRESSIVE_ENCODING__COMPRESSION_OUT_OF_LINE_BITPACKING:
        return check_ce(w, ce->out_of_line_bitpacking->values, depth + 1);
    case L21__COMPRESSIVE_ENCODING__COMPRESSION_INLINE_BITPACKING:
        if (ce->inline_bitpacking->values && ce->inline_bitpacking->values->scheme)
            return unsup(w, "general (LZ4/zstd) buffer compression");
        return 0;
    case L21__COMPRESSIVE_ENCODING__COMPRESSION_FSST:
        return check_ce(w, ce->fsst->values, depth + 1);
    case L21__COMPRESSIVE_ENCODING__COMPRESSION_RLE: {
        int rc = check_ce(w, ce->rle->values, depth + 1);
        return rc < 0 ? rc : check_ce(w, ce->rle->run_lengths, depth + 1);
    }
    case L21__COMPRESSIVE_ENCODING__COMPRESSION_FIXED_SIZE_LIST:
        return check_ce(w, ce->fixed_size_list->values, depth + 1);
    case L21__COMPRESSIVE_ENCODING__COMPRESSION_GENERAL: {
        /* 2.2: LZ4 or zstd around another encoding (v22_general.c) */
        const L21__General *g = ce->general;
        int rc = resona__v22_general_check(w, g->compression ? g->compression->scheme : 0);
        if (rc < 0)
            return rc;
        if (g->values &&
            g->values->compression_case == L21__COMPRESSIVE_ENCODING__COMPRESSION_GENERAL)
            return unsup(w, "general compression inside general compression");
        return check_ce(w, g->values, depth + 1);
    }
    case L21__COMPRESSIVE_ENCODING__COMPRESSION_BYTE_STREAM_SPLIT:
        return unsup(w, "byte-stream-split encoding");
    case L21__COMPRESSIVE_ENCODING__COMPRESSION_DICTIONARY:
        return unsup(w, "dictionary compressive encoding");
    case L21__COMPRESSIVE_ENCODING__COMPRESSION_PACKED_STRUCT:
        return unsup(w, "packed struct encoding");
    default:
        return unsup(w, "unknown compressive encoding");
    }
}

/* The encoding inside a general (LZ4/zstd) wrapper, or ce itself. */
static const L21__CompressiveEncoding *unwrap_general(const L21__CompressiveEncoding *ce)
{
    if (ce && ce->compression_case == L21__COMPRESSIVE_ENCODING__COMPRESSION_GENERAL)
        return ce->general->values;
    return ce;
}

static int general_scheme(const L21__CompressiveEncoding *ce)
{
    if (ce && ce->compression_case == L21__COMPRESSIVE_ENCODING__COMPRESSION_GENERAL &&
        ce->general->compression)
        return ce->general->compression->scheme;
    return 0;
}

static int check_levels_ce(const v21_where *w, const L21__CompressiveEncoding *ce)
{
    switch (ce->compression_case) {
    case L21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT:
        if (ce->flat->bits_per_value != 8 && ce->flat->bits_per_value != 16)
            return unsup(w, "definition levels flat with a width other than 8 or 16 bits");
        return check_ce(w, ce, 0);
    case L21__COMPRESSIVE_ENCODING__COMPRESSION_INLINE_BITPACKING:
        if (ce->inline_bitpacking->uncompressed_bits_per_value != 16)
            return unsup(w, "definition levels bit-packed from other than 16 bits");
        return check_ce(w, ce, 0);
    case L21__COMPRESSIVE_ENCODING__COMPRESSION_OUT_OF_LINE_BITPACKING: {
        const L21__OutOfLineBitpacking *o = ce->out_of_line_bitpacking;
        if (o->uncompressed_bits_per_value != 16 || !o->values ||
            o->values->compression_case != L21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT ||
            o->values->flat->bits_per_value > 16)
            return unsup(w, "definition levels out-of-line bit-packed other than 16 bits");
        return 0;
    }
    case L21__COMPRESSIVE_ENCODING__COMPRESSION_RLE: {
        /* 2.2: [u64 values size][u16 run values][run lengths] per chunk */
        const L21__Rle *r = ce->rle;
        if (!r->values ||
            r->values->compression_case != L21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT ||
            r->values->flat->bits_per_value != 16)
            return unsup(w, "definition levels run-length encoded other than as u16");
        return check_ce(w, ce, 0);
    }
    default:
        return unsup(w, "definition level encoding");
    }
}

int resona__v21_page_plan(const v21_where *w, const uint8_t *enc, size_t len, resona_type type,
                          uint32_t dim, uint64_t rows, size_t nbuf, v21_page **out)
{
    *out = NULL;
    int rc = 0;
    v21_page *p = resona__calloc(1, sizeof(*p));
    if (!p)
        return RESONA_ENOMEM;
    p->type = type;
    p->dim = dim;
    p->width = resona__type_width(type, dim);
    if (type == RESONA_TYPE_OTHER || (type == RESONA_TYPE_VECTOR && dim == 0)) {
        rc = unsup(w, "column type not supported");
        goto done;
    }
    p->pl = l21__page_layout__unpack(&resona__pb_alloc, len, enc);
    if (!p->pl) {
        rc = bad(w, "cannot decode the 2.1 PageLayout");
        goto done;
    }
    switch (p->pl->layout_case) {
    case L21__PAGE_LAYOUT__LAYOUT_ALL_NULL_LAYOUT: {
        /* 2.1 AllNullLayout; 2.2 ConstantLayout (same slot, more fields) */
        const L21__AllNullLayout *an = p->pl->all_null_layout;
        p->layout = V21_ALLNULL;
        /* a string value is not inline but in page buffer 0 (2.2) */
        p->value_buf = !an->has_inline_value && type == RESONA_TYPE_UTF8 && nbuf > 0;
        if (!an->has_inline_value && !p->value_buf)
            break; /* no value: every row is null, whatever levels say (flat columns) */
        if (an->rep_compression || an->num_rep_values)
            rc = unsup(w, "repetition levels (list columns)");
        else if (type == RESONA_TYPE_VECTOR || (type == RESONA_TYPE_UTF8 && !p->value_buf))
            rc = unsup(w, "constant page of a vector column or an inline string");
        else if (!p->value_buf &&
                 (an->inline_value.len != (type == RESONA_TYPE_BOOL ? 1 : p->width) ||
                  an->inline_value.len > V22_MAX_INLINE))
            rc = bad(w, "constant value's width differs from the column type");
        else if (an->n_layers != 1 || (an->layers[0] != 1 && an->layers[0] != 3))
            rc = unsup(w, "rep/def layers other than one item layer");
        else if (an->def_compression)
            rc = check_levels_ce(w, an->def_compression);
        if (rc < 0)
            goto done;
        p->layout = V22_CONSTANT;
        if (!p->value_buf)
            memcpy(p->inl, an->inline_value.data, an->inline_value.len);
        if (type == RESONA_TYPE_BOOL)
            p->inl[0] &= 1;
        p->has_levels = an->layers[0] == 3;
        p->const_def = an->def_compression;
        if (p->has_levels && nbuf < 2 + (size_t)p->value_buf) {
            rc = bad(w, "constant page with nulls lacks its definition levels buffer");
            goto done;
        }
        break;
    }
    case L21__PAGE_LAYOUT__LAYOUT_MINI_BLOCK_LAYOUT: {
        const L21__MiniBlockLayout *mb = p->mb = p->pl->mini_block_layout;
        p->layout = V21_MINIBLOCK;
        if (mb->rep_compression || mb->repetition_index_depth)
            rc = unsup(w, "repetition levels (list columns)");
        else if (mb->n_layers != 1 || (mb->layers[0] != 1 && mb->layers[0] != 3))
            rc = unsup(w, "rep/def layers other than one item layer");
        else if (mb->def_compression && (rc = check_levels_ce(w, mb->def_compression)) < 0)
            ;
        else if ((rc = check_ce(w, mb->value_compression, 0)) < 0)
            ;
        else if (mb->num_items != rows)
            rc = bad(w, "mini-block num_items differs from the page length");
        else if (mb->num_buffers < 1 || mb->num_buffers > 8)
            rc = bad(w, "mini-block num_buffers outside 1..8");
        else if (nbuf < 2 + (mb->dictionary != NULL))
            rc = bad(w, "mini-block page lacks its chunk, metadata or dictionary buffers");
        if (rc < 0)
            goto done;
        p->nbuf = (size_t)mb->num_buffers;
        p->large = mb->has_large_chunk;
        const L21__CompressiveEncoding *vc = mb->value_compression;
        if (mb->dictionary) {
            if ((rc = check_ce(w, mb->dictionary, 0)) < 0)
                goto done;
            if (mb->num_dictionary_items > MAX_DICT_ITEMS) {
                rc = bad(w, "dictionary item count too large");
                goto done;
            }
            p->has_dict = 1;
            p->dict_count = mb->num_dictionary_items;
            if (mb->dictionary->compression_case == L21__COMPRESSIVE_ENCODING__COMPRESSION_FSST)
                vc = mb->dictionary;
        }
        vc = unwrap_general(vc);
        if (vc->compression_case == L21__COMPRESSIVE_ENCODING__COMPRESSION_FSST) {
            const L21__Fsst *fs = vc->fsst;
            if (type != RESONA_TYPE_UTF8) {
                rc = bad(w, "FSST on a fixed-width column");
                goto done;
            }
            if ((rc = resona__v21_fsst_parse(w, fs->symbol_table.data, fs->symbol_table.len,
                                             &p->fsst)) < 0)
                goto done;
            p->has_fsst = 1;
        }
        break;
    }
    case L21__PAGE_LAYOUT__LAYOUT_FULL_ZIP_LAYOUT: {
        const L21__FullZipLayout *fz = p->fz = p->pl->full_zip_layout;
        p->layout = V21_FULLZIP;
        if (fz->bits_rep)
            rc = unsup(w, "repetition levels (list columns)");
        else if (fz->bits_def > 16)
            rc = unsup(w, "more than 16 definition bits");
        else if (fz->num_items != rows || fz->num_visible_items != rows)
            rc = bad(w, "full-zip item counts differ from the page length");
        else if ((rc = check_ce(w, fz->value_compression, 0)) < 0)
            ;
        else if (nbuf < 1)
            rc = bad(w, "full-zip page without buffers");
        if (rc < 0)
            goto done;
        p->bits_def = fz->bits_def;
        unsigned bits = fz->bits_def;
        p->ctl_bytes = bits == 0 ? 0 : bits <= 8 ? 1 : 2;
        if (fz->details_case == L21__FULL_ZIP_LAYOUT__DETAILS_BITS_PER_VALUE) {
            /* a vector whose items may be null carries an item validity bitmap first */
            const L21__CompressiveEncoding *vc = fz->value_compression;
            size_t skip = 0;
            if (vc->compression_case == L21__COMPRESSIVE_ENCODING__COMPRESSION_FIXED_SIZE_LIST &&
                vc->fixed_size_list->has_validity)
                skip = ((size_t)vc->fixed_size_list->items_per_value + 7) / 8;
            if (type == RESONA_TYPE_UTF8 || fz->bits_per_value % 8 ||
                fz->bits_per_value / 8 != p->width + skip) {
                rc = bad(w, "full-zip value width differs from the column type");
                goto done;
            }
            p->value_bytes = p->width + skip;
            p->value_skip = skip;
        } else if (fz->details_case == L21__FULL_ZIP_LAYOUT__DETAILS_BITS_PER_OFFSET) {
            if (type != RESONA_TYPE_UTF8 ||
                (fz->bits_per_offset != 32 && fz->bits_per_offset != 64)) {
                rc = bad(w, "full-zip variable width on a fixed column, or odd offset width");
                goto done;
            }
            p->off_bytes = fz->bits_per_offset / 8;
            const L21__CompressiveEncoding *vc = fz->value_compression;
            /* 2.2: general{zstd|lz4, variable}: each value compressed on its own */
            p->general = general_scheme(vc);
            vc = unwrap_general(vc);
            if (p->general &&
                vc->compression_case != L21__COMPRESSIVE_ENCODING__COMPRESSION_VARIABLE) {
                rc = unsup(w, "full-zip general compression around other than plain values");
                goto done;
            }
            if (vc->compression_case == L21__COMPRESSIVE_ENCODING__COMPRESSION_FSST) {
                if ((rc = resona__v21_fsst_parse(w, vc->fsst->symbol_table.data,
                                                 vc->fsst->symbol_table.len, &p->fsst)) < 0)
                    goto done;
                p->has_fsst = 1;
            } else if (vc->compression_case != L21__COMPRESSIVE_ENCODING__COMPRESSION_VARIABLE) {
                rc = unsup(w, "full-zip variable values other than plain or FSST");
                goto done;
            }
        } else {
            rc = bad(w, "full-zip layout without a value width");
            goto done;
        }
        if (p->value_bytes) {
            const L21__CompressiveEncoding *vc = fz->value_compression;
            if (vc->compression_case == L21__COMPRESSIVE_ENCODING__COMPRESSION_FIXED_SIZE_LIST)
                vc = vc->fixed_size_list->values;
            if (vc->compression_case != L21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT) {
                rc = unsup(w, "full-zip fixed values other than flat");
                goto done;
            }
        }
        break;
    }
    default:
        rc = unsup(w, "page layout other than mini-block, full-zip or all-null");
        goto done;
    }
    *out = p;
    p = NULL;
done:
    resona__v21_page_free(p);
    return rc;
}

static int dict_parse(const v21_where *w, v21_page *p, const L21__CompressiveEncoding *ce,
                      const uint8_t *buf, size_t len)
{
    uint64_t k = p->dict_count;
    if (p->type != RESONA_TYPE_UTF8) {
        if (ce->compression_case != L21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT ||
            ce->flat->bits_per_value != p->width * 8)
            return unsup(w, "fixed-width dictionary other than flat");
        if (len / p->width < k)
            return bad(w, "dictionary buffer shorter than its items");
        p->dict_data = resona__malloc(k ? (size_t)k * p->width : 1);
        if (!p->dict_data)
            return RESONA_ENOMEM;
        if (k)
            memcpy(p->dict_data, buf, (size_t)k * p->width);
        p->dict_len = (size_t)k * p->width;
        return 0;
    }
    /* block format: u32|u64 bits_per_offset, bytes_start, (k+1) offsets from 0, bytes */
    if (len < 8)
        return bad(w, "dictionary buffer shorter than its header");
    uint64_t bpo = resona__le32(buf);
    size_t ow = bpo == 64 ? 8 : bpo == 32 ? 4 : 0;
    if (!ow)
        return bad(w, "dictionary offsets neither 32 nor 64 bits");
    if (len < 2 * ow)
        return bad(w, "dictionary buffer shorter than its header");
    uint64_t start = ow == 8 ? resona__le64(buf + 8) : resona__le32(buf + 4);
    if (k + 1 > (len - 2 * ow) / ow || start > len || start < 2 * ow + (k + 1) * ow)
        return bad(w, "dictionary offsets past the dictionary buffer");
    p->dict_off = resona__malloc((size_t)(k + 1) * sizeof(uint64_t));
    size_t blen = len - (size_t)start;
    p->dict_data = resona__malloc(blen ? blen : 1);
    if (!p->dict_off || !p->dict_data)
        return RESONA_ENOMEM;
    memcpy(p->dict_data, buf + start, blen);
    p->dict_len = blen;
    const uint8_t *o = buf + 2 * ow;
    for (uint64_t i = 0; i <= k; i++) {
        uint64_t v = ow == 8 ? resona__le64(o + 8 * i) : resona__le32(o + 4 * i);
        if (v > blen || (i > 0 && v < p->dict_off[i - 1]))
            return bad(w, "dictionary offset out of order or past its bytes");
        p->dict_off[i] = v;
    }
    return 0;
}

int resona__v22_const_string(const v21_where *w, v21_page *p, const uint8_t *buf, size_t len)
{
    if (len < 12 || resona__le32(buf) != 2)
        return bad(w, "constant string value is not two buffers");
    uint64_t l0 = resona__le32(buf + 4), l1 = resona__le32(buf + 8);
    if ((l0 != 8 && l0 != 16) || l0 > len - 12 || l1 != len - 12 - l0)
        return bad(w, "constant string value's buffer lengths do not fit");
    const uint8_t *o = buf + 12;
    uint64_t s = l0 == 8 ? resona__le32(o) : resona__le64(o);
    uint64_t e = l0 == 8 ? resona__le32(o + 4) : resona__le64(o + 8);
    if (s > e || e > l1)
        return bad(w, "constant string value's offsets past its bytes");
    p->cstr_len = (size_t)(e - s);
    if (!(p->cstr = resona__malloc(p->cstr_len + 1)))
        return RESONA_ENOMEM;
    memcpy(p->cstr, o + l0 + s, p->cstr_len);
    return 0;
}

int resona__v21_dict_load(const v21_where *w, v21_page *p, const uint8_t *buf, size_t len)
{
    const L21__CompressiveEncoding *ce = p->mb->dictionary;
    int32_t scheme = general_scheme(ce);
    if (!scheme)
        return dict_parse(w, p, ce, buf, len);
    /* 2.2: the dictionary block is LZ4- (by default) or zstd-compressed as a whole */
    uint8_t *raw = NULL;
    size_t cap = 0, used = 0;
    int rc = resona__v22_general_decompress(w, scheme, buf, len, MAX_DICT_BLOCK, &raw, &cap, &used);
    if (rc == 0)
        rc = dict_parse(w, p, unwrap_general(ce), raw ? raw : (const uint8_t *)"", used);
    resona__free(raw);
    return rc;
}

int resona__v21_chunks_load(const v21_where *w, v21_page *p, const uint8_t *meta, size_t len,
                            uint64_t data_len, uint64_t rows)
{
    size_t ws = p->large ? 4 : 2;
    size_t n = len / ws;
    if (len % ws || (n == 0 && rows > 0))
        return bad(w, "chunk metadata size is not a whole number of words");
    p->chunk_pos = resona__malloc((n + 1) * sizeof(uint64_t));
    p->chunk_row = resona__malloc((n + 1) * sizeof(uint64_t));
    if (!p->chunk_pos || !p->chunk_row)
        return RESONA_ENOMEM;
    uint64_t pos = 0, row = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t word = ws == 4 ? resona__le32(meta + 4 * i) : resona__le16(meta + 2 * i);
        uint64_t bytes = ((uint64_t)(word >> 4) + 1) * 8;
        unsigned lg = word & 0xf;
        p->chunk_pos[i] = pos;
        p->chunk_row[i] = row;
        if (bytes > data_len - pos)
            return bad(w, "chunk runs past the page's chunk buffer");
        pos += bytes;
        if (i + 1 < n) {
            row += (uint64_t)1 << lg;
            if (row > rows)
                return bad(w, "chunks hold more values than the page");
        } else {
            if (lg != 0 || row >= rows || rows - row > MAX_CHUNK_VALUES)
                return bad(w, "last chunk's value count is inconsistent with the page");
            row = rows;
        }
    }
    p->chunk_pos[n] = pos;
    p->chunk_row[n] = row;
    if (row != rows)
        return bad(w, "chunks hold fewer values than the page");
    p->nchunks = n;
    p->chunks_loaded = 1;
    return 0;
}

/* ---- fixed-width values ---- */

typedef struct cbuf {
    const uint8_t *p;
    size_t len;
} cbuf;

static void put_word(uint8_t *dst, size_t width, uint64_t v)
{
    switch (width) {
    case 1:
        dst[0] = (uint8_t)v;
        break;
    case 2:
        resona__put_le16(dst, (uint16_t)v);
        break;
    case 4:
        resona__put_le32(dst, (uint32_t)v);
        break;
    default:
        resona__put_le64(dst, v);
        break;
    }
}

/* Unpack `count` T-bit values stored in FastLanes blocks (out-of-line layout). */
static int unpack_blocks(const v21_where *w, const uint8_t *buf, size_t len, unsigned t,
                         unsigned bw, size_t count, uint8_t *out, size_t width, uint64_t *tmp)
{
    size_t tb = t / 8;
    size_t words = len / tb;
    size_t wpc = ((size_t)1024 * bw + t - 1) / t;
    size_t full = count / 1024, tail = count % 1024;
    if (bw > t)
        return bad(w, "bit-packed width larger than the value width");
    if (full > 0 && wpc > 0 && words / wpc < full)
        return bad(w, "bit-packed buffer shorter than its blocks");
    for (size_t c = 0; c < full; c++) {
        resona__v21_fl_unpack(buf + c * wpc * tb, t, bw, tmp);
        for (size_t i = 0; i < 1024; i++)
            put_word(out + (c * 1024 + i) * width, width, tmp[i]);
    }
    if (!tail)
        return 0;
    size_t rest = words - full * wpc;
    const uint8_t *r = buf + full * wpc * tb;
    if (rest == tail && !(rest == wpc && tail == 1024)) {
        for (size_t i = 0; i < tail; i++) {
            uint64_t v = t == 8    ? r[i]
                         : t == 16 ? resona__le16(r + 2 * i)
                         : t == 32 ? resona__le32(r + 4 * i)
                                   : resona__le64(r + 8 * i);
            put_word(out + (full * 1024 + i) * width, width, v);
        }
        return 0;
    }
    if (rest < wpc)
        return bad(w, "bit-packed tail block shorter than a block");
    resona__v21_fl_unpack(r, t, bw, tmp);
    for (size_t i = 0; i < tail; i++)
        put_word(out + (full * 1024 + i) * width, width, tmp[i]);
    return 0;
}

/*
 * Decode `count` fixed-width values of `width` bytes (bool: 1 byte 0/1) from
 * the chunk buffers bufs[0..nb) into out.
 */
static int dec_fixed(const v21_where *w, const L21__CompressiveEncoding *ce, const cbuf *bufs,
                     size_t nb, size_t count, size_t width, int is_bool, uint8_t *out,
                     uint64_t *tmp, int depth)
{
    if (depth > 8)
        return unsup(w, "compressive encodings nested too deeply");
    if (!ce)
        return bad(w, "missing value encoding");
    switch (ce->compression_case) {
    case L21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT: {
        uint64_t bits = ce->flat->bits_per_value;
        if (nb < 1)
            return bad(w, "flat values without a buffer");
        if (is_bool && bits == 1) {
            if (bufs[0].len < (count + 7) / 8)
                return bad(w, "boolean bitmap shorter than its values");
            for (size_t i = 0; i < count; i++)
                out[i] = (uint8_t)(bufs[0].p[i / 8] >> (i % 8) & 1);
            return 0;
        }
        if (bits != width * 8)
            return bad(w, "flat value width differs from the column type");
        if (width && bufs[0].len / width < count)
            return bad(w, "flat values buffer shorter than its values");
        if (count)
            memcpy(out, bufs[0].p, count * width);
        return 0;
    }
    case L21__COMPRESSIVE_ENCODING__COMPRESSION_CONSTANT: {
        const L21__Constant *c = ce->constant;
        if (!c->has_value || c->value.len != width)
            return bad(w, "constant value of the wrong width");
        for (size_t i = 0; i < count; i++)
            memcpy(out + i * width, c->value.data, width);
        return 0;
    }
    case L21__COMPRESSIVE_ENCODING__COMPRESSION_INLINE_BITPACKING: {
        uint64_t t = ce->inline_bitpacking->uncompressed_bits_per_value;
        if (t != width * 8 || (t != 8 && t != 16 && t != 32 && t != 64))
            return bad(w, "bit-packed value width differs from the column type");
        if (nb < 1)
            return bad(w, "bit-packed values without a buffer");
        size_t tb = (size_t)t / 8, done = 0;
        const uint8_t *b = bufs[0].p;
        size_t left = bufs[0].len;
        /* one or more blocks of [T-bit width][1024*W/T words] */
        while (done < count) {
            if (left < tb)
                return bad(w, "bit-packed block without its width word");
            uint64_t bw = t == 8    ? b[0]
                          : t == 16 ? resona__le16(b)
                          : t == 32 ? resona__le32(b)
                                    : resona__le64(b);
            if (bw > t)
                return bad(w, "bit-packed width larger than the value width");
            size_t need = (size_t)(1024 * bw / t) * tb;
            b += tb;
            left -= tb;
            if (left < need)
                return bad(w, "bit-packed block shorter than its width says");
            resona__v21_fl_unpack(b, (unsigned)t, (unsigned)bw, tmp);
            size_t take = count - done < 1024 ? count - done : 1024;
            for (size_t i = 0; i < take; i++)
                put_word(out + (done + i) * width, width, tmp[i]);
            done += take;
            b += need;
            left -= need;
        }
        return 0;
    }
    case L21__COMPRESSIVE_ENCODING__COMPRESSION_OUT_OF_LINE_BITPACKING: {
        const L21__OutOfLineBitpacking *o = ce->out_of_line_bitpacking;
        uint64_t t = o->uncompressed_bits_per_value;
        if (t != width * 8 || (t != 8 && t != 16 && t != 32 && t != 64) || !o->values ||
            o->values->compression_case != L21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT)
            return unsup(w, "out-of-line bit-packing of this shape");
        if (nb < 1)
            return bad(w, "bit-packed values without a buffer");
        return unpack_blocks(w, bufs[0].p, bufs[0].len, (unsigned)t,
                             (unsigned)o->values->flat->bits_per_value, count, out, width, tmp);
    }
    case L21__COMPRESSIVE_ENCODING__COMPRESSION_RLE: {
        const L21__Rle *r = ce->rle;
        if (nb < 2)
            return bad(w, "run-length values without their two buffers");
        uint64_t lb = r->run_lengths &&
                              r->run_lengths->compression_case ==
                                  L21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT
                          ? r->run_lengths->flat->bits_per_value
                          : 0;
        if (lb != 8 && lb != 16 && lb != 32 && lb != 64)
            return unsup(w, "run lengths other than flat u8, u16, u32 or u64");
        size_t lw = (size_t)lb / 8;
        size_t runs = bufs[1].len / lw;
        if (bufs[1].len % lw || (width && bufs[0].len / width < runs))
            return bad(w, "run values and run lengths disagree in number");
        uint8_t *vals = resona__malloc(runs * width + 1);
        if (!vals)
            return RESONA_ENOMEM;
        int rc = dec_fixed(w, r->values, bufs, 1, runs, width, is_bool, vals, tmp, depth + 1);
        size_t o = 0;
        for (size_t i = 0; rc == 0 && i < runs && o < count; i++) {
            const uint8_t *q = bufs[1].p + i * lw;
            uint64_t l = lw == 1 ? q[0]
                         : lw == 2 ? resona__le16(q)
                         : lw == 4 ? resona__le32(q)
                                   : resona__le64(q);
            if (l > count - o)
                l = count - o;
            for (uint64_t j = 0; j < l; j++, o++)
                memcpy(out + o * width, vals + i * width, width);
        }
        resona__free(vals);
        if (rc == 0 && o < count)
            rc = bad(w, "runs cover fewer values than the chunk");
        return rc;
    }
    case L21__COMPRESSIVE_ENCODING__COMPRESSION_FIXED_SIZE_LIST: {
        const L21__FixedSizeList *l = ce->fixed_size_list;
        uint64_t d = l->items_per_value;
        if (d == 0 || width % d != 0 || is_bool)
            return bad(w, "fixed_size_list dimension differs from the column type");
        size_t skip = l->has_validity ? 1 : 0;
        if (nb < skip + 1)
            return bad(w, "fixed_size_list without its buffers");
        if (count > SIZE_MAX / d)
            return bad(w, "fixed_size_list too large");
        /* item validity (null items inside a vector) is not representable; items read as stored */
        return dec_fixed(w, l->values, bufs + skip, nb - skip, count * (size_t)d, width / (size_t)d,
                         0, out, tmp, depth + 1);
    }
    default:
        return unsup(w, "fixed-width value encoding");
    }
}

/* ---- variable-width values (utf8) ---- */

/* Append `count` strings of a variable-format buffer to dst rows [at, at+count). */
static int dec_variable(const v21_where *w, const L21__CompressiveEncoding *ce, const cbuf *b,
                        const v21_fsst *fsst, size_t count, lance_colbuf *dst, size_t at)
{
    const L21__Variable *v = ce->variable;
    if (!v->offsets || v->offsets->compression_case != L21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT)
        return unsup(w, "string offsets other than flat");
    uint64_t ob = v->offsets->flat->bits_per_value;
    if (ob != 32 && ob != 64)
        return unsup(w, "string offsets other than 32 or 64 bits");
    size_t ow = (size_t)ob / 8;
    if (b->len / ow < count + 1)
        return bad(w, "string offsets shorter than the chunk's values");
    int rc;
    uint64_t prev = ow == 4 ? resona__le32(b->p) : resona__le64(b->p);
    for (size_t i = 0; i < count; i++) {
        const uint8_t *q = b->p + (i + 1) * ow;
        uint64_t e = ow == 4 ? resona__le32(q) : resona__le64(q);
        if (e < prev || e > b->len)
            return bad(w, "string offset out of order or past its buffer");
        if (fsst) {
            if ((rc = resona__v21_fsst_decode(w, fsst, b->p + prev, (size_t)(e - prev),
                                              &dst->values, &dst->values_cap, &dst->bytes_len)) < 0)
                return rc;
        } else {
            size_t l = (size_t)(e - prev);
            if ((rc = resona__grow((void **)&dst->values, &dst->values_cap,
                                       dst->bytes_len + l + 1)) < 0)
                return rc;
            if (l)
                memcpy(dst->values + dst->bytes_len, b->p + prev, l);
            dst->bytes_len += l;
        }
        dst->offsets[at + i + 1] = dst->bytes_len;
        prev = e;
    }
    return 0;
}

/* ---- levels ---- */

static int dec_levels(const v21_where *w, const L21__CompressiveEncoding *ce, const uint8_t *b,
                      size_t len, size_t n, uint16_t *out, uint64_t *tmp)
{
    switch (ce->compression_case) {
    case L21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT: {
        size_t lw = ce->flat->bits_per_value == 8 ? 1 : 2;
        if (len / lw < n)
            return bad(w, "definition levels shorter than the chunk");
        for (size_t i = 0; i < n; i++)
            out[i] = lw == 1 ? b[i] : resona__le16(b + 2 * i);
        return 0;
    }
    case L21__COMPRESSIVE_ENCODING__COMPRESSION_INLINE_BITPACKING:
    case L21__COMPRESSIVE_ENCODING__COMPRESSION_OUT_OF_LINE_BITPACKING: {
        cbuf c = {b, len};
        uint8_t *raw = (uint8_t *)out; /* decoded as LE u16, converted in place below */
        int rc = dec_fixed(w, ce, &c, 1, n, 2, 0, raw, tmp, 0);
        if (rc < 0)
            return rc;
        for (size_t i = 0; i < n; i++)
            out[i] = resona__le16(raw + 2 * i);
        return 0;
    }
    case L21__COMPRESSIVE_ENCODING__COMPRESSION_RLE: {
        /* block framing (2.2): u64 byte size of the run values, the values, the run lengths */
        if (len < 8)
            return bad(w, "run-length definition levels shorter than their header");
        uint64_t vs = resona__le64(b);
        if (vs > len - 8)
            return bad(w, "run-length definition levels' value size past the chunk's levels");
        cbuf c[2] = {{b + 8, (size_t)vs}, {b + 8 + vs, len - 8 - (size_t)vs}};
        uint8_t *raw = (uint8_t *)out;
        int rc = dec_fixed(w, ce, c, 2, n, 2, 0, raw, tmp, 0);
        if (rc < 0)
            return rc;
        for (size_t i = 0; i < n; i++)
            out[i] = resona__le16(raw + 2 * i);
        return 0;
    }
    default:
        return unsup(w, "definition level encoding");
    }
}

int resona__v21_levels_decode(const v21_where *w, const L21__CompressiveEncoding *ce,
                              const uint8_t *b, size_t len, size_t n, uint16_t *out)
{
    if (!ce) {
        if (len / 2 < n)
            return bad(w, "definition levels shorter than the page");
        for (size_t i = 0; i < n; i++)
            out[i] = resona__le16(b + 2 * i);
        return 0;
    }
    uint64_t *tmp = resona__malloc(1024 * sizeof(uint64_t));
    if (!tmp)
        return RESONA_ENOMEM;
    int rc = dec_levels(w, ce, b, len, n, out, tmp);
    resona__free(tmp);
    return rc;
}

/* ---- one mini-block chunk ---- */

int resona__v21_chunk_decode(const v21_where *w, v21_page *p, const uint8_t *chunk, size_t len,
                             size_t count)
{
    const L21__MiniBlockLayout *mb = p->mb;
    lance_colbuf *d = &p->cache;
    p->cached = 0;
    int rc = resona__colbuf_reset(d, p->type, p->dim, count);
    if (rc < 0)
        return rc;
    uint64_t *tmp = NULL;
    uint16_t *levels = NULL;
    uint8_t *idx = NULL;
    cbuf bufs[8];
    size_t sz = p->large ? 4 : 2;
    size_t hdr = (mb->def_compression ? 4u : 2u) + p->nbuf * sz;
    if (len < hdr) {
        rc = bad(w, "chunk shorter than its header");
        goto done;
    }
    size_t nlev = resona__le16(chunk);
    size_t o = 2, def_size = 0;
    if (mb->def_compression) {
        def_size = resona__le16(chunk + o);
        o += 2;
    }
    size_t sizes[8];
    for (size_t i = 0; i < p->nbuf; i++, o += sz)
        sizes[i] = sz == 4 ? resona__le32(chunk + o) : resona__le16(chunk + o);
    o = pad8(o);
    if (!(tmp = resona__malloc(1024 * sizeof(uint64_t)))) {
        rc = RESONA_ENOMEM;
        goto done;
    }
    if (mb->def_compression) {
        if (nlev != count) {
            rc = bad(w, "chunk's level count differs from its value count");
            goto done;
        }
        if (o > len || def_size > len - o) {
            rc = bad(w, "definition levels run past the chunk");
            goto done;
        }
        /* room for a whole bit-packed block of u16 */
        if (!(levels = resona__malloc((count + 1024) * sizeof(uint16_t)))) {
            rc = RESONA_ENOMEM;
            goto done;
        }
        if ((rc = dec_levels(w, mb->def_compression, chunk + o, def_size, count, levels, tmp)) < 0)
            goto done;
        o = pad8(o + def_size);
    }
    for (size_t i = 0; i < p->nbuf; i++) {
        if (o > len || sizes[i] > len - o) {
            rc = bad(w, "chunk buffer runs past the chunk");
            goto done;
        }
        bufs[i].p = chunk + o;
        bufs[i].len = sizes[i];
        o = pad8(o + sizes[i]);
    }
    const L21__CompressiveEncoding *vc = mb->value_compression;
    int32_t scheme = general_scheme(vc);
    if (scheme) {
        /* 2.2 general compression of a mini-block: buffer 0 of each chunk alone */
        size_t used = 0;
        if ((rc = resona__v22_general_decompress(w, scheme, bufs[0].p, bufs[0].len,
                                                 MAX_CHUNK_BUFFER, &p->gbuf, &p->gbuf_cap,
                                                 &used)) < 0)
            goto done;
        bufs[0].p = p->gbuf ? p->gbuf : chunk;
        bufs[0].len = used;
        vc = unwrap_general(vc);
    }
    if (p->has_dict) {
        /* values are 0-based i32 indices into the dictionary */
        if (!(idx = resona__malloc(count * 4 + 1))) {
            rc = RESONA_ENOMEM;
            goto done;
        }
        if ((rc = dec_fixed(w, vc, bufs, p->nbuf, count, 4, 0, idx, tmp, 0)) < 0)
            goto done;
        for (size_t i = 0; i < count; i++) {
            uint32_t k = resona__le32(idx + 4 * i);
            int isnull = levels && levels[i] != 0;
            if (isnull) {
                k = 0;
                if (p->type == RESONA_TYPE_UTF8) {
                    d->offsets[i + 1] = d->bytes_len;
                    continue;
                }
            }
            if (k >= p->dict_count) {
                rc = bad(w, "dictionary index past the dictionary");
                goto done;
            }
            if (p->type == RESONA_TYPE_UTF8) {
                size_t s = (size_t)p->dict_off[k], e = (size_t)p->dict_off[k + 1];
                if (p->has_fsst) {
                    if ((rc = resona__v21_fsst_decode(w, &p->fsst, p->dict_data + s, e - s,
                                                      &d->values, &d->values_cap, &d->bytes_len)) <
                        0)
                        goto done;
                } else {
                    if ((rc = resona__grow((void **)&d->values, &d->values_cap,
                                               d->bytes_len + (e - s) + 1)) < 0)
                        goto done;
                    memcpy(d->values + d->bytes_len, p->dict_data + s, e - s);
                    d->bytes_len += e - s;
                }
                d->offsets[i + 1] = d->bytes_len;
            } else {
                memcpy(d->values + i * d->width, p->dict_data + (size_t)k * p->width, p->width);
            }
        }
    } else if (p->type == RESONA_TYPE_UTF8) {
        const v21_fsst *fs = NULL;
        if (vc->compression_case == L21__COMPRESSIVE_ENCODING__COMPRESSION_FSST) {
            fs = &p->fsst;
            vc = vc->fsst->values;
        }
        if (vc->compression_case != L21__COMPRESSIVE_ENCODING__COMPRESSION_VARIABLE) {
            rc = unsup(w, "string values other than variable or FSST");
            goto done;
        }
        if ((rc = dec_variable(w, vc, &bufs[0], fs, count, d, 0)) < 0)
            goto done;
    } else {
        if ((rc = dec_fixed(w, vc, bufs, p->nbuf, count, d->width, p->type == RESONA_TYPE_BOOL,
                            d->values, tmp, 0)) < 0)
            goto done;
    }
    if (levels)
        for (size_t i = 0; i < count; i++)
            if (levels[i] != 0) {
                d->validity[i / 8] = (uint8_t)(d->validity[i / 8] & ~(1u << (i % 8)));
                d->has_nulls = 1;
                if (p->type != RESONA_TYPE_UTF8)
                    memset(d->values + i * d->width, 0, d->width);
            }
done:
    resona__free(tmp);
    resona__free(levels);
    resona__free(idx);
    return rc;
}

/* ---- full-zip records ---- */

int resona__v21_fullzip_decode(const v21_where *w, const v21_page *p, const uint8_t *data,
                               size_t len, size_t n, lance_colbuf *d, size_t at)
{
    size_t o = 0;
    int rc;
    for (size_t i = 0; i < n; i++) {
        uint32_t ctl = 0;
        if (p->ctl_bytes) {
            if (len - o < p->ctl_bytes)
                return bad(w, "full-zip record runs past its range");
            ctl = p->ctl_bytes == 1 ? data[o] : resona__le16(data + o);
            o += p->ctl_bytes;
        }
        uint32_t def = p->bits_def ? ctl & ((1u << p->bits_def) - 1) : 0;
        if (def) {
            if (p->value_bytes) { /* fixed-width records keep their (zero) value bytes */
                if (len - o < p->value_bytes)
                    return bad(w, "full-zip value runs past its range");
                o += p->value_bytes;
            }
            d->validity[(at + i) / 8] =
                (uint8_t)(d->validity[(at + i) / 8] & ~(1u << ((at + i) % 8)));
            d->has_nulls = 1;
            if (p->type == RESONA_TYPE_UTF8)
                d->offsets[at + i + 1] = d->bytes_len;
            else
                memset(d->values + (at + i) * d->width, 0, d->width);
            continue;
        }
        if (p->value_bytes) {
            if (len - o < p->value_bytes)
                return bad(w, "full-zip value runs past its range");
            memcpy(d->values + (at + i) * d->width, data + o + p->value_skip, d->width);
            o += p->value_bytes;
            continue;
        }
        if (len - o < p->off_bytes)
            return bad(w, "full-zip value length runs past its range");
        uint64_t l = p->off_bytes == 4 ? resona__le32(data + o) : resona__le64(data + o);
        o += p->off_bytes;
        if (l > len - o)
            return bad(w, "full-zip value runs past its range");
        if (p->general) {
            if ((rc = resona__v22_general_decompress(w, p->general, data + o, (size_t)l,
                                                     MAX_VALUE_BYTES, &d->values, &d->values_cap,
                                                     &d->bytes_len)) < 0)
                return rc;
        } else if (p->has_fsst) {
            if ((rc = resona__v21_fsst_decode(w, &p->fsst, data + o, (size_t)l, &d->values,
                                              &d->values_cap, &d->bytes_len)) < 0)
                return rc;
        } else {
            if ((rc = resona__grow((void **)&d->values, &d->values_cap,
                                       d->bytes_len + (size_t)l + 1)) < 0)
                return rc;
            memcpy(d->values + d->bytes_len, data + o, (size_t)l);
            d->bytes_len += (size_t)l;
        }
        o += (size_t)l;
        d->offsets[at + i + 1] = d->bytes_len;
    }
    if (o != len)
        return bad(w, "full-zip records do not fill their range");
    return 0;
}
