/*
 * lance/deletion.c - reading and writing deletion vectors (see deletion.h).
 *
 * Arrow IPC file as lance writes it (lance-format.md 8.1):
 *
 *   "ARROW1\0\0"
 *   message: u32 0xFFFFFFFF, i32 metadata length M, Message flatbuffer (Schema)
 *   message: u32 0xFFFFFFFF, i32 M, Message flatbuffer (RecordBatch), body
 *   Footer flatbuffer (schema + Block{offset i64, metaDataLength i32, bodyLength i64}[])
 *   i32 footer length, "ARROW1"
 *
 * The record batch has one UInt32 column; body buffer 0 is the validity
 * bitmap (ignored), buffer 1 the row offsets. With BodyCompression each
 * buffer starts with an i64 uncompressed length, -1 meaning stored raw.
 *
 * Flatbuffers are read with bounds checks on every offset; we write them
 * front to back (a table, then the objects it points to, which is what
 * unsigned forward offsets require), with natural alignment.
 */
#include "lance/deletion.h"

#include "lance/io.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/endian.h"
#include "util/error.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <zstd.h>

#define MAX_DELETION_BYTES ((size_t)256 << 20)
/* lance writes Arrow deletion files below 5,000 rows (bitmaps above); we
 * accept far more but bound what a corrupt row count can make us allocate */
#define MAX_ARROW_ROWS ((uint64_t)1 << 24)

/* ---- flatbuffer reading ---- */

typedef struct fb {
    const uint8_t *b;
    size_t len;
} fb;

/* Locate field idx of the table at tpos: *pos = absolute position, 0 if absent. */
static int fb_field(const fb *f, size_t tpos, unsigned idx, size_t size, size_t *pos)
{
    *pos = 0;
    if (tpos > f->len || f->len - tpos < 4)
        return -1;
    int32_t so = (int32_t)resona__le32(f->b + tpos);
    int64_t vt = (int64_t)tpos - so;
    if (vt < 0 || (uint64_t)vt > f->len - 4)
        return -1;
    uint16_t vtlen = resona__le16(f->b + vt), tlen = resona__le16(f->b + vt + 2);
    if (vtlen < 4 || (uint64_t)vt + vtlen > f->len || tlen > f->len - tpos)
        return -1;
    if (4 + 2 * (size_t)idx + 2 > vtlen)
        return 0;
    uint16_t off = resona__le16(f->b + vt + 4 + 2 * idx);
    if (off == 0)
        return 0;
    if ((size_t)off + size > tlen)
        return -1;
    *pos = tpos + off;
    return 0;
}

/* Follow a uoffset at pos. */
static int fb_deref(const fb *f, size_t pos, size_t *out)
{
    if (pos > f->len || f->len - pos < 4)
        return -1;
    uint32_t o = resona__le32(f->b + pos);
    if (o > f->len - pos)
        return -1;
    *out = pos + o;
    return 0;
}

/* Vector at pos: count and element start, checked for count*elem bytes. */
static int fb_vector(const fb *f, size_t pos, size_t elem, size_t *count, size_t *start)
{
    if (pos > f->len || f->len - pos < 4)
        return -1;
    uint32_t n = resona__le32(f->b + pos);
    if ((uint64_t)n * elem > f->len - pos - 4)
        return -1;
    *count = n;
    *start = pos + 4;
    return 0;
}

static int arrow_bad(const char *name, size_t off, const char *what)
{
    return resona__error_set(RESONA_ECORRUPT, "%s: %s (offset %zu)", name, what, off);
}

/* Decode one Arrow buffer (maybe compressed) of the body into exactly want bytes. */
static int arrow_buffer(const char *name, const uint8_t *body, size_t body_len, uint64_t off,
                        uint64_t len, int codec, uint8_t *dst, size_t want, size_t file_off)
{
    if (off > body_len || len > body_len - off)
        return arrow_bad(name, file_off, "record batch buffer past the body");
    const uint8_t *p = body + off;
    if (codec < 0) {
        if (len < want)
            return arrow_bad(name, file_off, "row_id buffer shorter than the row count");
        memcpy(dst, p, want);
        return 0;
    }
    if (len < 8)
        return arrow_bad(name, file_off, "compressed buffer without its length prefix");
    int64_t ulen = (int64_t)resona__le64(p);
    if (ulen == -1) {
        if (len - 8 < want)
            return arrow_bad(name, file_off, "row_id buffer shorter than the row count");
        memcpy(dst, p + 8, want);
        return 0;
    }
    if (ulen < 0 || (uint64_t)ulen != want)
        return arrow_bad(name, file_off, "row_id buffer length differs from the row count");
    if (codec != 1)
        return resona__error_set(RESONA_EUNSUPPORTED, "%s: LZ4 deletion files are not supported",
                                 name);
    if (want == 0)
        return 0;
    /* decompress straight into the destination: a frame that does not
     * produce exactly `want` bytes is corrupt, whatever its header says */
    size_t got = ZSTD_decompress(dst, want, p + 8, (size_t)(len - 8));
    if (ZSTD_isError(got) || got != want)
        return resona__error_set(RESONA_ECORRUPT, "%s: zstd: %s (offset %zu)", name,
                                 ZSTD_isError(got) ? ZSTD_getErrorName(got) : "short output",
                                 file_off);
    return 0;
}

static int decode_arrow(const uint8_t *b, size_t len, const char *name, roaring_bitmap_t **out)
{
    if (len < 18 || memcmp(b, "ARROW1", 6) != 0 || memcmp(b + len - 6, "ARROW1", 6) != 0)
        return arrow_bad(name, 0, "not an Arrow IPC file (ARROW1 magic)");
    uint32_t flen = resona__le32(b + len - 10);
    if (flen > len - 18)
        return arrow_bad(name, len - 10, "footer length past the file");
    fb foot = {b + len - 10 - flen, flen};
    size_t root, fld, vec, nb, start;
    if (fb_deref(&foot, 0, &root) < 0 || fb_field(&foot, root, 3, 4, &fld) < 0)
        return arrow_bad(name, len - 10 - flen, "bad footer flatbuffer");
    roaring_bitmap_t *r = roaring_bitmap_create();
    if (!r)
        return resona__error_set(RESONA_ENOMEM, "out of memory (roaring)");
    if (fld == 0) { /* no record batches: nothing deleted */
        *out = r;
        return 0;
    }
    int rc = 0;
    uint32_t *vals = NULL;
    if (fb_deref(&foot, fld, &vec) < 0 || fb_vector(&foot, vec, 24, &nb, &start) < 0) {
        rc = arrow_bad(name, len - 10 - flen, "bad record batch list in the footer");
        goto done;
    }
    for (size_t bi = 0; bi < nb; bi++) {
        const uint8_t *blk = foot.b + start + 24 * bi;
        uint64_t moff = resona__le64(blk);
        int32_t mlen = (int32_t)resona__le32(blk + 8);
        uint64_t blen = resona__le64(blk + 16);
        if (mlen < 8 || moff > len || (uint64_t)mlen > len - moff ||
            blen > len - moff - (uint64_t)mlen) {
            rc = arrow_bad(name, len - 10 - flen, "record batch block out of range");
            goto done;
        }
        size_t hdr = 8;
        if (resona__le32(b + moff) != 0xFFFFFFFFu)
            hdr = 4; /* pre-1.0 framing without the continuation marker */
        fb msg = {b + moff + hdr, (size_t)mlen - hdr};
        size_t mroot, ht, hp, rb, lp, bp, cp, ct, bv, bn, bs;
        if (fb_deref(&msg, 0, &mroot) < 0 || fb_field(&msg, mroot, 1, 1, &ht) < 0 ||
            fb_field(&msg, mroot, 2, 4, &hp) < 0 || ht == 0 || hp == 0 || msg.b[ht] != 3 ||
            fb_deref(&msg, hp, &rb) < 0 || fb_field(&msg, rb, 0, 8, &lp) < 0 ||
            fb_field(&msg, rb, 2, 4, &bp) < 0 || fb_field(&msg, rb, 3, 4, &cp) < 0 || bp == 0) {
            rc = arrow_bad(name, (size_t)moff, "bad record batch message");
            goto done;
        }
        int codec = -1;
        if (cp) {
            if (fb_deref(&msg, cp, &ct) < 0 || fb_field(&msg, ct, 0, 1, &cp) < 0) {
                rc = arrow_bad(name, (size_t)moff, "bad body compression");
                goto done;
            }
            codec = cp ? (int8_t)msg.b[cp] : 0;
        }
        uint64_t rows = lp ? resona__le64(msg.b + lp) : 0;
        if (fb_deref(&msg, bp, &bv) < 0 || fb_vector(&msg, bv, 16, &bn, &bs) < 0 || bn < 2) {
            rc = arrow_bad(name, (size_t)moff, "record batch without two buffers");
            goto done;
        }
        if (rows > MAX_ARROW_ROWS) {
            rc = arrow_bad(name, (size_t)moff, "row count larger than the body allows");
            goto done;
        }
        const uint8_t *body = b + moff + (uint64_t)mlen;
        uint64_t boff = resona__le64(msg.b + bs + 16), blen1 = resona__le64(msg.b + bs + 24);
        resona__free(vals);
        vals = resona__malloc(rows ? (size_t)rows * 4 : 1);
        if (!vals) {
            rc = RESONA_ENOMEM;
            goto done;
        }
        if ((rc = arrow_buffer(name, body, (size_t)blen, boff, blen1, codec, (uint8_t *)vals,
                               (size_t)rows * 4, (size_t)(moff + (uint64_t)mlen))) < 0)
            goto done;
        for (size_t i = 0; i < rows; i++)
            roaring_bitmap_add(r, resona__le32(&vals[i]));
    }
    *out = r;
    r = NULL;
done:
    resona__free(vals);
    if (r)
        roaring_bitmap_free(r);
    return rc;
}

int resona__deletion_decode(const uint8_t *buf, size_t len, int file_type, const char *name,
                            roaring_bitmap_t **out)
{
    *out = NULL;
    if (file_type == LANCE_DELETION_ARROW)
        return decode_arrow(buf, len, name, out);
    if (file_type != LANCE_DELETION_BITMAP)
        return resona__error_set(RESONA_EUNSUPPORTED, "%s: unknown deletion file type %d", name,
                                 file_type);
    /* Check the header ourselves first: CRoaring would try to allocate
     * whatever container count a corrupt header claims (and print). */
    if (len < 4)
        return resona__error_set(RESONA_ECORRUPT, "%s: roaring bitmap too short", name);
    uint32_t cookie = resona__le32(buf);
    uint64_t containers;
    if ((cookie & 0xFFFFu) == 12347u)
        containers = (cookie >> 16) + 1u;
    else if (cookie == 12346u && len >= 8)
        containers = resona__le32(buf + 4);
    else
        return resona__error_set(RESONA_ECORRUPT, "%s: bad roaring cookie 0x%08x at offset 0", name,
                                 cookie);
    if (containers > 65536 || containers * 4 > len)
        return resona__error_set(RESONA_ECORRUPT, "%s: roaring container count %llu is impossible",
                                 name, (unsigned long long)containers);
    size_t need = roaring_bitmap_portable_deserialize_size((const char *)buf, len);
    if (need == 0 || need > len)
        return resona__error_set(RESONA_ECORRUPT, "%s: not a valid portable roaring bitmap", name);
    roaring_bitmap_t *r = roaring_bitmap_portable_deserialize_safe((const char *)buf, len);
    if (!r)
        return resona__error_set(RESONA_ECORRUPT, "%s: not a valid portable roaring bitmap", name);
    *out = r;
    return 0;
}

char *resona__deletion_path(const char *table_path, uint64_t fragment_id,
                            const Lt__DeletionFile *df)
{
    return resona__io_fmt("%s/_deletions/%" PRIu64 "-%" PRIu64 "-%" PRIu64 ".%s", table_path,
                          fragment_id, df->read_version, df->id,
                          df->file_type == LANCE_DELETION_BITMAP ? "bin" : "arrow");
}

int resona__deletion_load(const char *table_path, const Lt__DataFragment *fr,
                          roaring_bitmap_t **out)
{
    *out = NULL;
    if (!fr->deletion_file)
        return 0;
    const Lt__DeletionFile *df = fr->deletion_file;
    if (df->has_base_id)
        return resona__error_set(RESONA_EUNSUPPORTED, "%s: deletion file with a base path",
                                 table_path);
    char *path = resona__deletion_path(table_path, fr->id, df);
    if (!path)
        return RESONA_ENOMEM;
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = resona__io_read_file(path, MAX_DELETION_BYTES, &buf, &len);
    if (rc == 0)
        rc = resona__deletion_decode(buf, len, (int)df->file_type, path, out);
    resona__free(buf);
    resona__free(path);
    return rc;
}

/* ---- flatbuffer writing ---- */

typedef struct fbw {
    resona_buf b;
} fbw;

static int fbw_pad(fbw *w, size_t align)
{
    while (w->b.len % align)
        if (resona__buf_putc(&w->b, 0) < 0)
            return RESONA_ENOMEM;
    return 0;
}

/*
 * Emit a vtable with `n` field offsets and a zeroed table of tsize bytes
 * (8-aligned start). Returns the table position or (size_t)-1.
 */
static size_t fbw_table(fbw *w, unsigned n, const uint16_t *offs, uint16_t tsize)
{
    if (fbw_pad(w, 2) < 0)
        return (size_t)-1;
    size_t vt = w->b.len;
    uint8_t v[64];
    resona__put_le16(v, (uint16_t)(4 + 2 * n));
    resona__put_le16(v + 2, tsize);
    for (unsigned i = 0; i < n; i++)
        resona__put_le16(v + 4 + 2 * i, offs[i]);
    if (resona__buf_append(&w->b, v, 4 + 2 * n) < 0 || fbw_pad(w, 8) < 0)
        return (size_t)-1;
    size_t t = w->b.len;
    if (resona__buf_zeros(&w->b, tsize) < 0)
        return (size_t)-1;
    resona__put_le32(w->b.ptr + t, (uint32_t)(t - vt));
    return t;
}

static void fbw_ref(fbw *w, size_t at, size_t target)
{
    resona__put_le32(w->b.ptr + at, (uint32_t)(target - at));
}

/* A vector header so that elements start aligned to `align`; returns its position. */
static size_t fbw_vector(fbw *w, uint32_t count, const void *elems, size_t elen, size_t align)
{
    while ((w->b.len + 4) % align)
        if (resona__buf_putc(&w->b, 0) < 0)
            return (size_t)-1;
    size_t pos = w->b.len;
    uint8_t n[4];
    resona__put_le32(n, count);
    if (resona__buf_append(&w->b, n, 4) < 0 || (elen && resona__buf_append(&w->b, elems, elen) < 0))
        return (size_t)-1;
    return pos;
}

#define FBW_CHECK(x)                                                                               \
    do {                                                                                           \
        if ((x) == (size_t)-1)                                                                     \
            return RESONA_ENOMEM;                                                                  \
    } while (0)

/* Schema { fields: [Field{name "row_id", nullable false, type Int{32, unsigned}}] } */
static int fbw_schema(fbw *w, size_t *schema_pos)
{
    static const uint16_t so[] = {0, 4}; /* endianness absent, fields */
    size_t s = fbw_table(w, 2, so, 8);
    FBW_CHECK(s);
    size_t fv = fbw_vector(w, 1, "\0\0\0\0", 4, 4);
    FBW_CHECK(fv);
    fbw_ref(w, s + 4, fv);
    /* Field: name 4, type 8, children 12, type_type 16 (u8), nullable 17 (u8) */
    static const uint16_t fo[] = {4, 17, 16, 8, 0, 12};
    size_t fld = fbw_table(w, 6, fo, 20);
    FBW_CHECK(fld);
    fbw_ref(w, fv + 4, fld);
    ((uint8_t *)w->b.ptr)[fld + 16] = 2; /* Type.Int */
    ((uint8_t *)w->b.ptr)[fld + 17] = 0;
    size_t nm = fbw_vector(w, 6, "row_id\0", 7, 4);
    FBW_CHECK(nm);
    fbw_ref(w, fld + 4, nm);
    static const uint16_t io[] = {4, 8}; /* bitWidth, is_signed */
    size_t it = fbw_table(w, 2, io, 12);
    FBW_CHECK(it);
    resona__put_le32(w->b.ptr + it + 4, 32);
    fbw_ref(w, fld + 8, it);
    size_t ch = fbw_vector(w, 0, NULL, 0, 4);
    FBW_CHECK(ch);
    fbw_ref(w, fld + 12, ch);
    *schema_pos = s;
    return 0;
}

/* Message{version V5, header_type, header, bodyLength}; returns header field pos. */
static int fbw_message(fbw *w, uint8_t type, uint64_t body_len, size_t *header_field)
{
    if (resona__buf_zeros(&w->b, 4) < 0) /* root offset */
        return RESONA_ENOMEM;
    /* version 16 (i16), header_type 18 (u8), header 4, bodyLength 8 */
    static const uint16_t mo[] = {16, 18, 4, 8};
    size_t m = fbw_table(w, 4, mo, 24);
    FBW_CHECK(m);
    fbw_ref(w, 0, m);
    resona__put_le16(w->b.ptr + m + 16, 4);
    ((uint8_t *)w->b.ptr)[m + 18] = type;
    resona__put_le64(w->b.ptr + m + 8, body_len);
    *header_field = m + 4;
    return 0;
}

int resona__deletion_encode_arrow(const roaring_bitmap_t *rows, uint8_t **out, size_t *len_out)
{
    *out = NULL;
    uint64_t n = roaring_bitmap_get_cardinality(rows);
    size_t raw_len = (size_t)n * 4;
    uint32_t *vals = resona__malloc(raw_len ? raw_len : 1);
    uint8_t *z = NULL;
    resona_buf file = RESONA_BUF_INIT(0);
    fbw w = {RESONA_BUF_INIT(0)};
    int rc = 0;
    if (!vals) {
        rc = RESONA_ENOMEM;
        goto done;
    }
    roaring_bitmap_to_uint32_array(rows, vals);
    for (size_t i = 0; i < n; i++)
        resona__put_le32(&vals[i], vals[i]);
    /* Body buffer 1: i64 uncompressed length + zstd frame, or -1 + raw when smaller. */
    size_t zcap = ZSTD_compressBound(raw_len);
    z = resona__malloc(zcap + 8);
    if (!z) {
        rc = RESONA_ENOMEM;
        goto done;
    }
    size_t zl = ZSTD_compress(z + 8, zcap, vals, raw_len, 3);
    size_t buf1;
    if (!ZSTD_isError(zl) && zl < raw_len) {
        resona__put_le64(z, (uint64_t)raw_len);
        buf1 = zl + 8;
    } else {
        resona__put_le64(z, UINT64_MAX);
        memcpy(z + 8, vals, raw_len);
        buf1 = raw_len + 8;
    }
    size_t body_len = (buf1 + 63) / 64 * 64;

    if (resona__buf_append(&file, "ARROW1\0\0", 8) < 0) {
        rc = RESONA_ENOMEM;
        goto done;
    }
    /* Schema message */
    size_t hf, sp;
    if ((rc = fbw_message(&w, 1, 0, &hf)) < 0 || (rc = fbw_schema(&w, &sp)) < 0)
        goto done;
    fbw_ref(&w, hf, sp);
    if ((rc = fbw_pad(&w, 8)) < 0)
        goto done;
    uint8_t pre[8];
    resona__put_le32(pre, 0xFFFFFFFFu);
    resona__put_le32(pre + 4, (uint32_t)w.b.len);
    if (resona__buf_append(&file, pre, 8) < 0 || resona__buf_append(&file, w.b.ptr, w.b.len) < 0) {
        rc = RESONA_ENOMEM;
        goto done;
    }
    /* RecordBatch message */
    resona__buf_clear(&w.b);
    size_t rb_off = file.len;
    if ((rc = fbw_message(&w, 3, body_len, &hf)) < 0)
        goto done;
    /* RecordBatch: nodes 4, length 8 (i64), buffers 16, compression 20 */
    static const uint16_t ro[] = {8, 4, 16, 20};
    size_t rb = fbw_table(&w, 4, ro, 24);
    if (rb == (size_t)-1) {
        rc = RESONA_ENOMEM;
        goto done;
    }
    fbw_ref(&w, hf, rb);
    resona__put_le64(w.b.ptr + rb + 8, n);
    uint8_t node[16];
    resona__put_le64(node, n);
    resona__put_le64(node + 8, 0);
    size_t nv = fbw_vector(&w, 1, node, 16, 8);
    uint8_t bufs[32];
    resona__put_le64(bufs, 0);
    resona__put_le64(bufs + 8, 0);
    resona__put_le64(bufs + 16, 0);
    resona__put_le64(bufs + 24, buf1);
    size_t bv = nv == (size_t)-1 ? nv : fbw_vector(&w, 2, bufs, 32, 8);
    static const uint16_t co[] = {4, 0}; /* codec (i8) */
    size_t ct = bv == (size_t)-1 ? bv : fbw_table(&w, 2, co, 8);
    if (ct == (size_t)-1) {
        rc = RESONA_ENOMEM;
        goto done;
    }
    fbw_ref(&w, rb + 4, nv);
    fbw_ref(&w, rb + 16, bv);
    fbw_ref(&w, rb + 20, ct);
    ((uint8_t *)w.b.ptr)[ct + 4] = 1; /* ZSTD */
    if ((rc = fbw_pad(&w, 8)) < 0)
        goto done;
    resona__put_le32(pre + 4, (uint32_t)w.b.len);
    size_t rb_meta = 8 + w.b.len;
    if (resona__buf_append(&file, pre, 8) < 0 || resona__buf_append(&file, w.b.ptr, w.b.len) < 0 ||
        resona__buf_append(&file, z, buf1) < 0 || resona__buf_zeros(&file, body_len - buf1) < 0) {
        rc = RESONA_ENOMEM;
        goto done;
    }
    /* Footer: version 12 (i16), schema 4, recordBatches 8 */
    resona__buf_clear(&w.b);
    if (resona__buf_zeros(&w.b, 4) < 0) {
        rc = RESONA_ENOMEM;
        goto done;
    }
    static const uint16_t fo[] = {12, 4, 0, 8};
    size_t ft = fbw_table(&w, 4, fo, 16);
    if (ft == (size_t)-1) {
        rc = RESONA_ENOMEM;
        goto done;
    }
    fbw_ref(&w, 0, ft);
    resona__put_le16(w.b.ptr + ft + 12, 4);
    uint8_t blk[24];
    memset(blk, 0, sizeof(blk));
    resona__put_le64(blk, rb_off);
    resona__put_le32(blk + 8, (uint32_t)rb_meta);
    resona__put_le64(blk + 16, body_len);
    size_t bl = fbw_vector(&w, 1, blk, 24, 8);
    if (bl == (size_t)-1) {
        rc = RESONA_ENOMEM;
        goto done;
    }
    fbw_ref(&w, ft + 8, bl);
    if ((rc = fbw_schema(&w, &sp)) < 0)
        goto done;
    fbw_ref(&w, ft + 4, sp);
    uint8_t tail[4];
    resona__put_le32(tail, (uint32_t)w.b.len);
    if (resona__buf_append(&file, w.b.ptr, w.b.len) < 0 || resona__buf_append(&file, tail, 4) < 0 ||
        resona__buf_append(&file, "ARROW1", 6) < 0) {
        rc = RESONA_ENOMEM;
        goto done;
    }
    *out = (uint8_t *)resona__buf_detach(&file, len_out);
done:
    resona__free(vals);
    resona__free(z);
    resona__buf_free(&file);
    resona__buf_free(&w.b);
    return rc;
}

int resona__deletion_write(const char *table_path, uint64_t fragment_id, uint64_t read_version,
                           const roaring_bitmap_t *rows, Lt__DeletionFile *df)
{
    uint64_t n = roaring_bitmap_get_cardinality(rows);
    uint64_t id;
    int rc = resona__io_random_u64(&id);
    if (rc < 0)
        return rc;
    lt__deletion_file__init(df);
    df->has_file_type = 1;
    df->file_type = n >= LANCE_BITMAP_THRESHOLD ? LANCE_DELETION_BITMAP : LANCE_DELETION_ARROW;
    df->has_read_version = df->has_id = df->has_num_deleted_rows = 1;
    df->read_version = read_version;
    df->id = id;
    df->num_deleted_rows = n;
    char *dir = resona__io_join(table_path, "_deletions");
    char *path = resona__deletion_path(table_path, fragment_id, df);
    uint8_t *img = NULL;
    size_t len = 0;
    if (!dir || !path) {
        rc = RESONA_ENOMEM;
        goto done;
    }
    if (df->file_type == LANCE_DELETION_BITMAP) {
        roaring_bitmap_t *copy = roaring_bitmap_copy(rows);
        if (!copy) {
            rc = resona__error_set(RESONA_ENOMEM, "out of memory (roaring)");
            goto done;
        }
        len = roaring_bitmap_portable_size_in_bytes(copy);
        img = resona__malloc(len);
        if (img)
            roaring_bitmap_portable_serialize(copy, (char *)img);
        roaring_bitmap_free(copy);
        if (!img) {
            rc = RESONA_ENOMEM;
            goto done;
        }
    } else if ((rc = resona__deletion_encode_arrow(rows, &img, &len)) < 0) {
        goto done;
    }
    if ((rc = resona__io_mkdirs(dir)) < 0 || (rc = resona__io_write_file(path, img, len)) < 0)
        goto done;
    rc = resona__io_fsync_dir(dir);
done:
    resona__free(img);
    resona__free(dir);
    resona__free(path);
    return rc;
}
