/*
 * lance/reader.c - piecewise reader of Lance v2 data files, formats 2.0, 2.1
 * and 2.2 (lance-format.md sections 4, 6 and 7; docs/lance-2.2.md).
 *
 * File tail (40-byte footer):
 *
 *   offset    size  field
 *   end-40    8     column_meta_start
 *   end-32    8     cmo_table_start     ncols × (u64 pos, u64 size)
 *   end-24    8     gbo_table_start     nglobal × (u64 pos, u64 size)
 *   end-16    4     num_global_buffers  (>= 1; buffer 0 = FileDescriptor)
 *   end-12    4     num_columns
 *   end-8     2     major               0.3 or 2.0 = format 2.0, 2.1, 2.2
 *   end-6     2     minor
 *   end-4     4     "LANC"
 *
 * Page encodings accepted (the 2.0 writer's whole repertoire):
 *   fixed width   [nullable{no_nulls|some_nulls{validity flat 1}|all_nulls}] flat{bits}
 *   vector        ... fixed_size_list{dim, items: [nullable{...}] flat{32}}
 *   utf8          [nullable{...}] binary{indices flat 64, bytes flat 8, null_adjustment}
 *                 [nullable{...}] dictionary{indices flat 8|16|32 (1-based, 0 = null),
 *                                            items binary}
 * Pages of format 2.1 and 2.2 files (`/lance.encodings21.PageLayout`) are
 * planned and read by v21_read.c (lance_page.v21). Anything else (compression, other
 * encodings) is refused with RESONA_EUNSUPPORTED naming the file, column and page.
 */
#include "lance/reader.h"

#include "lance/io.h"
#include "lance/table_int.h"
#include "lance/v21_decode.h"
#include "util/alloc.h"
#include "util/endian.h"
#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { PK_ALLNULL = 1, PK_FIXED, PK_BINARY, PK_DICT };

#define MAX_ENCODING_BYTES 4096 /* bounds protobuf nesting depth */
#define MAX_DICT_BYTES ((size_t)256 << 20)

void resona__lfile_close(lance_file *f)
{
    if (!f)
        return;
    if (f->fd >= 0)
        close(f->fd);
    if (f->desc)
        lf__file_descriptor__free_unpacked(f->desc, &resona__pb_alloc);
    resona__free(f->cmo);
    resona__free(f->path);
    resona__free(f);
}

static int corrupt(const lance_file *f, uint64_t off, const char *what)
{
    return resona__error_set(RESONA_ECORRUPT, "%s: %s (offset %" PRIu64 ")", f->path, what, off);
}

int resona__lfile_open(const char *path, uint64_t expect_size, lance_file **out)
{
    *out = NULL;
    lance_file *f = resona__calloc(1, sizeof(*f));
    if (!f)
        return RESONA_ENOMEM;
    f->fd = -1;
    int rc = 0;
    uint8_t *gbo = NULL, *gb0 = NULL;
    if (!(f->path = resona__strdup(path))) {
        rc = RESONA_ENOMEM;
        goto done;
    }
    f->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (f->fd < 0) {
        rc = resona__error_set_errno(errno == ENOENT ? RESONA_ENOTFOUND : RESONA_EIO, errno,
                                     "data file %s", path);
        goto done;
    }
    struct stat st;
    if (fstat(f->fd, &st) != 0) {
        rc = resona__error_set_errno(RESONA_EIO, errno, "%s: stat", path);
        goto done;
    }
    f->size = (uint64_t)st.st_size;
    if (expect_size && expect_size != f->size) {
        rc = resona__error_set(RESONA_ECORRUPT,
                               "%s: file has %" PRIu64 " bytes, the manifest says %" PRIu64, path,
                               f->size, expect_size);
        goto done;
    }
    if (f->size < 40) {
        rc = corrupt(f, 0, "too short for a Lance file footer");
        goto done;
    }
    uint8_t ft[40];
    uint64_t fpos = f->size - 40;
    if ((rc = resona__io_pread(f->fd, path, fpos, ft, 40)) < 0)
        goto done;
    if (memcmp(ft + 36, "LANC", 4) != 0) {
        rc = corrupt(f, f->size - 4, "no LANC magic: not a Lance file");
        goto done;
    }
    uint64_t cms = resona__le64(ft), cmo = resona__le64(ft + 8), gbs = resona__le64(ft + 16);
    uint32_t ngb = resona__le32(ft + 24);
    f->ncols = resona__le32(ft + 28);
    f->major = resona__le16(ft + 32);
    f->minor = resona__le16(ft + 34);
    if (!((f->major == 0 && f->minor == 3) || (f->major == 2 && f->minor <= 2))) {
        if (f->major == 0 && f->minor < 3)
            rc =
                resona__error_set(RESONA_EUNSUPPORTED,
                                  "%s: legacy Lance file format v1 (footer %u.%u) is not supported",
                                  path, f->major, f->minor);
        else
            rc = resona__error_set(RESONA_EUNSUPPORTED,
                                   "%s: Lance file format %u.%u is not supported (resona reads "
                                   "2.0, 2.1 and 2.2)",
                                   path, f->major, f->minor);
        goto done;
    }
    if (cms > cmo || cmo > gbs || gbs > fpos || f->ncols > (gbs - cmo) / 16 ||
        (uint64_t)f->ncols * 16 != gbs - cmo || ngb == 0 || (uint64_t)ngb * 16 != fpos - gbs) {
        rc = corrupt(f, fpos, "inconsistent footer (metadata offsets or counts)");
        goto done;
    }
    size_t cmo_len = (size_t)f->ncols * 16;
    f->cmo = resona__malloc(cmo_len ? cmo_len : 1);
    gbo = resona__malloc(16);
    if (!f->cmo || !gbo) {
        rc = RESONA_ENOMEM;
        goto done;
    }
    if ((rc = resona__io_pread(f->fd, path, cmo, f->cmo, cmo_len)) < 0)
        goto done;
    for (uint32_t i = 0; i < f->ncols; i++) {
        uint64_t p = resona__le64((uint8_t *)f->cmo + 16 * i);
        uint64_t s = resona__le64((uint8_t *)f->cmo + 16 * i + 8);
        if (p > cmo || s > cmo - p || s > LANCE_MAX_META_BYTES) {
            rc = corrupt(f, cmo + 16 * (uint64_t)i, "column metadata entry out of range");
            goto done;
        }
        f->cmo[2 * i] = p;
        f->cmo[2 * i + 1] = s;
    }
    if ((rc = resona__io_pread(f->fd, path, gbs, gbo, 16)) < 0)
        goto done;
    uint64_t gp = resona__le64(gbo), gsz = resona__le64(gbo + 8);
    if (gp > fpos || gsz > fpos - gp || gsz > LANCE_MAX_META_BYTES) {
        rc = corrupt(f, gbs, "global buffer 0 out of range");
        goto done;
    }
    gb0 = resona__malloc(gsz ? gsz : 1);
    if (!gb0) {
        rc = RESONA_ENOMEM;
        goto done;
    }
    if ((rc = resona__io_pread(f->fd, path, gp, gb0, gsz)) < 0)
        goto done;
    f->desc = lf__file_descriptor__unpack(&resona__pb_alloc, gsz, gb0);
    if (!f->desc) {
        rc = resona__pb_oom()
                 ? RESONA_ENOMEM
                 : corrupt(f, gp, "cannot decode the FileDescriptor in global buffer 0");
        goto done;
    }
    f->rows = f->desc->length;
    *out = f;
    f = NULL;
done:
    resona__free(gbo);
    resona__free(gb0);
    resona__lfile_close(f);
    return rc;
}

void resona__lfile_column_free(lance_column *c)
{
    for (size_t i = 0; i < c->npages; i++) {
        resona__free(c->pages[i].boff);
        resona__free(c->pages[i].bsize);
        resona__free(c->pages[i].dict_off);
        resona__free(c->pages[i].dict_data);
        resona__v21_page_free(c->pages[i].v21);
    }
    resona__free(c->pages);
    memset(c, 0, sizeof(*c));
}

/* ---- encoding plans ---- */

typedef struct plan_ctx {
    const lance_file *f;
    uint32_t col;
    size_t page;
    lance_page *p;
} plan_ctx;

static int unsup(const plan_ctx *x, const char *what)
{
    return resona__error_set(RESONA_EUNSUPPORTED, "%s: column %u page %zu: %s", x->f->path, x->col,
                             x->page, what);
}

static int bad(const plan_ctx *x, const char *what)
{
    return resona__error_set(RESONA_ECORRUPT, "%s: column %u page %zu: %s", x->f->path, x->col,
                             x->page, what);
}

/* A flat buffer reference: returns the page buffer index. */
static int flat_buffer(const plan_ctx *x, const Lf__Flat *fl, uint64_t bits, int *buf)
{
    if (!fl)
        return bad(x, "missing flat encoding");
    if (fl->compression && fl->compression->scheme && fl->compression->scheme[0])
        return unsup(x, "compressed flat buffers");
    if (fl->bits_per_value != bits)
        return bad(x, "flat encoding has an unexpected bit width for the column type");
    uint32_t bi = fl->buffer ? fl->buffer->buffer_index : 0;
    if (fl->buffer && fl->buffer->buffer_type != 0)
        return unsup(x, "column or file buffers");
    if (bi >= x->p->nbuf)
        return bad(x, "buffer index past the page's buffers");
    *buf = (int)bi;
    return 0;
}

/* Peel nullable{...}: sets validity / all-null; returns the inner values encoding. */
static int peel_nullable(const plan_ctx *x, const Lf__ArrayEncoding *e, int *validity, int *allnull,
                         const Lf__ArrayEncoding **inner)
{
    *validity = -1;
    *allnull = 0;
    *inner = e;
    if (e->array_encoding_case != LF__ARRAY_ENCODING__ARRAY_ENCODING_NULLABLE)
        return 0;
    const Lf__Nullable *n = e->nullable;
    switch (n->nullability_case) {
    case LF__NULLABLE__NULLABILITY_NO_NULLS:
        *inner = n->no_nulls->values;
        break;
    case LF__NULLABLE__NULLABILITY_SOME_NULLS: {
        const Lf__ArrayEncoding *v = n->some_nulls->validity;
        if (!v || v->array_encoding_case != LF__ARRAY_ENCODING__ARRAY_ENCODING_FLAT)
            return unsup(x, "validity encoding other than flat bitmap");
        int rc = flat_buffer(x, v->flat, 1, validity);
        if (rc < 0)
            return rc;
        *inner = n->some_nulls->values;
        break;
    }
    case LF__NULLABLE__NULLABILITY_ALL_NULLS:
        *allnull = 1;
        *inner = NULL;
        return 0;
    default:
        return bad(x, "nullable encoding without a case");
    }
    if (!*inner)
        return bad(x, "nullable encoding without values");
    return 0;
}

static int plan_binary(const plan_ctx *x, const Lf__Binary *b, int *offs, int *bytes, uint64_t *adj)
{
    if (!b->indices || !b->bytes)
        return bad(x, "binary encoding without indices or bytes");
    int v, an;
    const Lf__ArrayEncoding *in;
    int rc = peel_nullable(x, b->indices, &v, &an, &in);
    if (rc < 0)
        return rc;
    if (an || v >= 0 || in->array_encoding_case != LF__ARRAY_ENCODING__ARRAY_ENCODING_FLAT)
        return unsup(x, "binary offsets other than flat 64-bit");
    if ((rc = flat_buffer(x, in->flat, 64, offs)) < 0)
        return rc;
    if (b->bytes->array_encoding_case != LF__ARRAY_ENCODING__ARRAY_ENCODING_FLAT)
        return unsup(x, "binary bytes other than flat");
    if ((rc = flat_buffer(x, b->bytes->flat, 8, bytes)) < 0)
        return rc;
    *adj = b->null_adjustment;
    return 0;
}

static int plan_page(const plan_ctx *x, const Lf__ArrayEncoding *e, resona_type type, uint32_t dim)
{
    lance_page *p = x->p;
    int allnull, rc;
    const Lf__ArrayEncoding *in;
    if ((rc = peel_nullable(x, e, &p->validity, &allnull, &in)) < 0)
        return rc;
    if (allnull) {
        p->kind = PK_ALLNULL;
        return 0;
    }
    switch (type) {
    case RESONA_TYPE_FLOAT64:
    case RESONA_TYPE_INT64:
    case RESONA_TYPE_FLOAT32:
    case RESONA_TYPE_BOOL: {
        uint64_t bits = type == RESONA_TYPE_FLOAT32 ? 32 : type == RESONA_TYPE_BOOL ? 1 : 64;
        if (in->array_encoding_case != LF__ARRAY_ENCODING__ARRAY_ENCODING_FLAT)
            return unsup(x, "fixed-width encoding other than flat");
        p->kind = PK_FIXED;
        p->bits = (uint32_t)bits;
        return flat_buffer(x, in->flat, bits, &p->values);
    }
    case RESONA_TYPE_VECTOR: {
        if (in->array_encoding_case != LF__ARRAY_ENCODING__ARRAY_ENCODING_FIXED_SIZE_LIST)
            return unsup(x, "vector encoding other than fixed_size_list");
        const Lf__FixedSizeList *l = in->fixed_size_list;
        if (l->dimension != dim)
            return bad(x, "fixed_size_list dimension differs from the schema");
        if (!l->items)
            return bad(x, "fixed_size_list without items");
        int iv, ian;
        const Lf__ArrayEncoding *items;
        if ((rc = peel_nullable(x, l->items, &iv, &ian, &items)) < 0)
            return rc;
        if (ian) {
            p->kind = PK_ALLNULL; /* every item null: treat rows as null */
            return 0;
        }
        if (items->array_encoding_case != LF__ARRAY_ENCODING__ARRAY_ENCODING_FLAT)
            return unsup(x, "vector items other than flat float32");
        p->kind = PK_FIXED;
        p->bits = 32 * dim;
        return flat_buffer(x, items->flat, 32, &p->values);
    }
    case RESONA_TYPE_UTF8:
        if (in->array_encoding_case == LF__ARRAY_ENCODING__ARRAY_ENCODING_BINARY) {
            p->kind = PK_BINARY;
            return plan_binary(x, in->binary, &p->values, &p->bytes, &p->null_adj);
        }
        if (in->array_encoding_case == LF__ARRAY_ENCODING__ARRAY_ENCODING_DICTIONARY) {
            const Lf__Dictionary *d = in->dictionary;
            if (!d->indices || !d->items)
                return bad(x, "dictionary without indices or items");
            int iv, ian;
            const Lf__ArrayEncoding *ix;
            if ((rc = peel_nullable(x, d->indices, &iv, &ian, &ix)) < 0)
                return rc;
            if (ian || iv >= 0 ||
                ix->array_encoding_case != LF__ARRAY_ENCODING__ARRAY_ENCODING_FLAT)
                return unsup(x, "dictionary indices other than flat");
            uint64_t ib = ix->flat ? ix->flat->bits_per_value : 0;
            if (ib != 8 && ib != 16 && ib != 32)
                return unsup(x, "dictionary index width other than 8, 16 or 32 bits");
            if ((rc = flat_buffer(x, ix->flat, ib, &p->values)) < 0)
                return rc;
            if (d->items->array_encoding_case != LF__ARRAY_ENCODING__ARRAY_ENCODING_BINARY)
                return unsup(x, "dictionary items other than binary");
            if ((rc = plan_binary(x, d->items->binary, &p->dict_offsets, &p->dict_bytes,
                                  &p->dict_null_adj)) < 0)
                return rc;
            p->kind = PK_DICT;
            p->bits = (uint32_t)ib;
            p->dict_count = d->num_dictionary_items;
            return 0;
        }
        return unsup(x, "string encoding other than binary or dictionary");
    case RESONA_TYPE_OTHER:
        break;
    }
    return unsup(x, "column type not supported");
}

int resona__lfile_column(lance_file *f, uint32_t col, resona_type type, uint32_t dim,
                         lance_column *out)
{
    memset(out, 0, sizeof(*out));
    out->type = type;
    out->dim = dim;
    if (col >= f->ncols)
        return resona__error_set(RESONA_ECORRUPT, "%s: column %u does not exist (%u columns)",
                                 f->path, col, f->ncols);
    uint64_t pos = f->cmo[2 * col], len = f->cmo[2 * col + 1];
    uint8_t *buf = resona__malloc(len ? (size_t)len : 1);
    if (!buf)
        return RESONA_ENOMEM;
    int rc = resona__io_pread(f->fd, f->path, pos, buf, (size_t)len);
    Lf__ColumnMetadata *cm = NULL;
    Lf__Any *any = NULL;
    Lf__ArrayEncoding *ae = NULL;
    if (rc < 0)
        goto done;
    cm = lf__column_metadata__unpack(&resona__pb_alloc, (size_t)len, buf);
    if (!cm) {
        rc = resona__pb_oom() ? RESONA_ENOMEM : corrupt(f, pos, "cannot decode column metadata");
        goto done;
    }
    if (cm->n_pages > 0) {
        out->pages = resona__calloc(cm->n_pages, sizeof(*out->pages));
        if (!out->pages) {
            rc = RESONA_ENOMEM;
            goto done;
        }
    }
    uint64_t row = 0;
    for (size_t i = 0; i < cm->n_pages; i++) {
        const Lf__Page *pg = cm->pages[i];
        lance_page *p = &out->pages[i];
        out->npages = i + 1;
        p->validity = p->values = p->bytes = p->dict_offsets = p->dict_bytes = -1;
        plan_ctx x = {f, col, i, p};
        if (pg->n_buffer_offsets != pg->n_buffer_sizes) {
            rc = bad(&x, "buffer offsets and sizes differ in number");
            goto done;
        }
        p->nbuf = pg->n_buffer_offsets;
        p->boff = resona__calloc(p->nbuf ? p->nbuf : 1, sizeof(uint64_t));
        p->bsize = resona__calloc(p->nbuf ? p->nbuf : 1, sizeof(uint64_t));
        if (!p->boff || !p->bsize) {
            rc = RESONA_ENOMEM;
            goto done;
        }
        for (size_t b = 0; b < p->nbuf; b++) {
            uint64_t o = pg->buffer_offsets[b], s = pg->buffer_sizes[b];
            if (o > f->size || s > f->size - o) {
                rc = resona__error_set(RESONA_ECORRUPT,
                                       "%s: column %u page %zu: buffer %zu at offset %" PRIu64
                                       " with %" PRIu64 " bytes runs past the end of the file",
                                       f->path, col, i, b, o, s);
                goto done;
            }
            p->boff[b] = o;
            p->bsize[b] = s;
        }
        p->first_row = row;
        p->rows = pg->length;
        if (p->rows > UINT64_MAX - row) {
            rc = bad(&x, "page row counts overflow");
            goto done;
        }
        row += p->rows;
        if (!pg->encoding || pg->encoding->location_case != LF__ENCODING__LOCATION_DIRECT ||
            !pg->encoding->direct->has_encoding) {
            rc = unsup(&x, "page encoding is not direct");
            goto done;
        }
        ProtobufCBinaryData enc = pg->encoding->direct->encoding;
        if (enc.len > MAX_ENCODING_BYTES) {
            rc = unsup(&x, "page encoding description too large");
            goto done;
        }
        any = lf__any__unpack(&resona__pb_alloc, enc.len, enc.data);
        if (!any || !any->type_url || !any->has_value) {
            rc = !any && resona__pb_oom() ? RESONA_ENOMEM
                                          : bad(&x, "cannot decode the page encoding (Any)");
            goto done;
        }
        const char *tu = any->type_url;
        size_t tl = strlen(tu);
        static const char want21[] = "lance.encodings21.PageLayout";
        if (f->major == 2 && (f->minor == 1 || f->minor == 2) && tl >= sizeof(want21) - 1 &&
            strcmp(tu + tl - (sizeof(want21) - 1), want21) == 0) {
            /* format 2.1 structural layouts: planned and read by v21_read.c */
            if ((rc = resona__v21_plan(f, col, i, p, any->value.data, any->value.len, type,
                                       dim)) < 0)
                goto done;
            lf__any__free_unpacked(any, &resona__pb_alloc);
            any = NULL;
            continue;
        }
        static const char want[] = "lance.encodings.ArrayEncoding";
        if (tl < sizeof(want) - 1 || strcmp(tu + tl - (sizeof(want) - 1), want) != 0) {
            rc = resona__error_set(RESONA_EUNSUPPORTED,
                                   "%s: column %u page %zu: unsupported page encoding \"%s\"",
                                   f->path, col, i, tu);
            goto done;
        }
        ae = lf__array_encoding__unpack(&resona__pb_alloc, any->value.len, any->value.data);
        if (!ae) {
            rc = resona__pb_oom() ? RESONA_ENOMEM : bad(&x, "cannot decode the ArrayEncoding");
            goto done;
        }
        if ((rc = plan_page(&x, ae, type, dim)) < 0)
            goto done;
        /* Size checks that do not depend on the range read later. */
        uint64_t n = p->rows;
        if (p->validity >= 0 && p->bsize[p->validity] < (n + 7) / 8) {
            rc = bad(&x, "validity bitmap shorter than the page");
            goto done;
        }
        if (p->kind == PK_FIXED) {
            uint64_t need = p->bits == 1 ? (n + 7) / 8 : n * (p->bits / 8);
            if (n > UINT64_MAX / 8 / ((uint64_t)dim + 1) || p->bsize[p->values] < need) {
                rc = bad(&x, "values buffer shorter than the page");
                goto done;
            }
        } else if (p->kind == PK_BINARY) {
            if (p->bsize[p->values] < n * 8 || n > UINT64_MAX / 8) {
                rc = bad(&x, "string offsets buffer shorter than the page");
                goto done;
            }
        } else if (p->kind == PK_DICT) {
            if (n > UINT64_MAX / 4 || p->bsize[p->values] < n * (p->bits / 8)) {
                rc = bad(&x, "dictionary indices buffer shorter than the page");
                goto done;
            }
            if (p->bsize[p->dict_offsets] < (uint64_t)p->dict_count * 8) {
                rc = bad(&x, "dictionary offsets buffer shorter than the dictionary");
                goto done;
            }
        }
        lf__array_encoding__free_unpacked(ae, &resona__pb_alloc);
        ae = NULL;
        lf__any__free_unpacked(any, &resona__pb_alloc);
        any = NULL;
    }
    out->rows = row;
    if (f->desc && f->desc->has_length && row != f->rows) {
        rc = resona__error_set(RESONA_ECORRUPT,
                               "%s: column %u has %" PRIu64 " rows, the file %" PRIu64, f->path,
                               col, row, f->rows);
        goto done;
    }
done:
    if (ae)
        lf__array_encoding__free_unpacked(ae, &resona__pb_alloc);
    if (any)
        lf__any__free_unpacked(any, &resona__pb_alloc);
    if (cm)
        lf__column_metadata__free_unpacked(cm, &resona__pb_alloc);
    resona__free(buf);
    if (rc < 0)
        resona__lfile_column_free(out);
    return rc;
}

/* ---- column buffers ---- */

size_t resona__type_width(resona_type type, uint32_t dim)
{
    switch (type) {
    case RESONA_TYPE_FLOAT64:
    case RESONA_TYPE_INT64:
        return 8;
    case RESONA_TYPE_FLOAT32:
        return 4;
    case RESONA_TYPE_BOOL:
        return 1;
    case RESONA_TYPE_VECTOR:
        return (size_t)dim * 4;
    default:
        return 0;
    }
}

int resona__colbuf_reset(lance_colbuf *d, resona_type type, uint32_t dim, size_t rows)
{
    d->type = type;
    d->dim = dim;
    d->width = resona__type_width(type, dim);
    d->rows = rows;
    d->has_nulls = 0;
    d->bytes_len = 0;
    int rc;
    size_t vb = (rows + 7) / 8;
    if ((rc = resona__grow((void **)&d->validity, &d->validity_cap, vb ? vb : 1)) < 0)
        return rc;
    memset(d->validity, 0xff, vb);
    if (type == RESONA_TYPE_UTF8) {
        if ((rc = resona__grow((void **)&d->offsets, &d->offsets_cap, (rows + 1) * sizeof(uint64_t))) < 0)
            return rc;
        d->offsets[0] = 0;
        if ((rc = resona__grow((void **)&d->values, &d->values_cap, 1)) < 0)
            return rc;
    } else {
        if (d->width && rows > SIZE_MAX / d->width)
            return resona__error_set(RESONA_ENOMEM, "chunk too large");
        if ((rc = resona__grow((void **)&d->values, &d->values_cap, rows * d->width + 1)) < 0)
            return rc;
    }
    return 0;
}

void resona__colbuf_free(lance_colbuf *d)
{
    resona__free(d->values);
    resona__free(d->offsets);
    resona__free(d->validity);
    memset(d, 0, sizeof(*d));
}

static void set_null(lance_colbuf *d, size_t r)
{
    d->validity[r / 8] = (uint8_t)(d->validity[r / 8] & ~(1u << (r % 8)));
    d->has_nulls = 1;
}

int resona__colbuf_nulls(lance_colbuf *d, size_t at, size_t n)
{
    for (size_t i = 0; i < n; i++)
        set_null(d, at + i);
    if (d->type == RESONA_TYPE_UTF8) {
        for (size_t i = 0; i < n; i++)
            d->offsets[at + i + 1] = d->bytes_len;
    } else {
        memset(d->values + at * d->width, 0, n * d->width);
    }
    return 0;
}

/* Copy validity bits [a, a+n) of a page bitmap into dst rows [at, at+n). */
static int read_validity(lance_file *f, const lance_page *p, uint64_t a, size_t n, lance_colbuf *d,
                         size_t at)
{
    uint64_t first = a / 8, last = (a + n + 7) / 8;
    uint8_t stackbuf[512];
    uint8_t *bits = stackbuf;
    size_t len = (size_t)(last - first);
    if (len > sizeof(stackbuf) && !(bits = resona__malloc(len)))
        return RESONA_ENOMEM;
    int rc = resona__io_pread(f->fd, f->path, p->boff[p->validity] + first, bits, len);
    if (rc == 0)
        for (size_t i = 0; i < n; i++) {
            uint64_t b = a + i - first * 8;
            if (!(bits[b / 8] >> (b % 8) & 1))
                set_null(d, at + i);
        }
    if (bits != stackbuf)
        resona__free(bits);
    return rc;
}

/* End offset of binary value i (page-local), decoding the null adjustment. */
static uint64_t bin_end(uint64_t o, uint64_t adj, int *isnull)
{
    if (adj && o >= adj) {
        *isnull = 1;
        return o - adj;
    }
    *isnull = 0;
    return o;
}

static int read_binary(lance_file *f, const lance_page *p, int offs, int bytes, uint64_t adj,
                       uint64_t a, size_t n, lance_colbuf *d, size_t at)
{
    size_t cnt = n + (a > 0);
    uint64_t *o = resona__malloc(cnt * 8);
    if (!o)
        return RESONA_ENOMEM;
    int rc = resona__io_pread(f->fd, f->path, p->boff[offs] + (a - (a > 0)) * 8, o, cnt * 8);
    if (rc < 0)
        goto done;
    for (size_t i = 0; i < cnt; i++)
        o[i] = resona__le64(&o[i]);
    int isnull;
    uint64_t start = a > 0 ? bin_end(o[0], adj, &isnull) : 0;
    const uint64_t *e = o + (a > 0);
    uint64_t prev = start;
    uint64_t bsz = p->bsize[bytes];
    for (size_t i = 0; i < n; i++) {
        uint64_t end = bin_end(e[i], adj, &isnull);
        if (end < prev || end > bsz) {
            rc = resona__error_set(RESONA_ECORRUPT,
                                   "%s: string offset %" PRIu64 " at offset %" PRIu64
                                   " is out of order or past its %" PRIu64 "-byte buffer",
                                   f->path, end, p->boff[offs] + (a + i) * 8, bsz);
            goto done;
        }
        if (isnull)
            set_null(d, at + i);
        prev = end;
    }
    uint64_t total = prev - start;
    if ((rc = resona__grow((void **)&d->values, &d->values_cap, d->bytes_len + (size_t)total + 1)) < 0)
        goto done;
    if ((rc = resona__io_pread(f->fd, f->path, p->boff[bytes] + start, d->values + d->bytes_len,
                               (size_t)total)) < 0)
        goto done;
    size_t base = d->bytes_len;
    for (size_t i = 0; i < n; i++) {
        uint64_t end = bin_end(e[i], adj, &isnull);
        d->offsets[at + i + 1] = base + (size_t)(end - start);
    }
    d->bytes_len = base + (size_t)total;
done:
    resona__free(o);
    return rc;
}

static int load_dict(lance_file *f, lance_page *p)
{
    if (p->dict_off)
        return 0;
    size_t k = p->dict_count;
    uint64_t bsz = p->bsize[p->dict_bytes];
    if (bsz > MAX_DICT_BYTES)
        return resona__error_set(RESONA_EUNSUPPORTED,
                                 "%s: dictionary of %" PRIu64 " bytes too large", f->path, bsz);
    uint64_t *o = resona__malloc((k + 1) * 8);
    uint8_t *data = resona__malloc(bsz ? (size_t)bsz : 1);
    int rc = 0;
    if (!o || !data) {
        rc = RESONA_ENOMEM;
        goto done;
    }
    if (k && (rc = resona__io_pread(f->fd, f->path, p->boff[p->dict_offsets], o + 1, k * 8)) < 0)
        goto done;
    if ((rc = resona__io_pread(f->fd, f->path, p->boff[p->dict_bytes], data, (size_t)bsz)) < 0)
        goto done;
    o[0] = 0;
    for (size_t i = 1; i <= k; i++) {
        int isnull;
        o[i] = bin_end(resona__le64(&o[i]), p->dict_null_adj, &isnull);
        if (o[i] < o[i - 1] || o[i] > bsz) {
            rc = resona__error_set(
                RESONA_ECORRUPT, "%s: dictionary offset %zu at offset %" PRIu64 " is out of range",
                f->path, i - 1, p->boff[p->dict_offsets] + (i - 1) * 8);
            goto done;
        }
    }
    p->dict_off = o;
    p->dict_data = data;
    p->dict_len = (size_t)bsz;
    o = NULL;
    data = NULL;
done:
    resona__free(o);
    resona__free(data);
    return rc;
}

static int read_dict(lance_file *f, lance_page *p, uint64_t a, size_t n, lance_colbuf *d, size_t at)
{
    int rc = load_dict(f, p);
    if (rc < 0)
        return rc;
    size_t w = p->bits / 8;
    size_t ixlen = n * w;
    uint8_t *ix = resona__malloc(ixlen > 0 ? ixlen : 1);
    if (!ix)
        return RESONA_ENOMEM;
    if ((rc = resona__io_pread(f->fd, f->path, p->boff[p->values] + a * w, ix, n * w)) < 0)
        goto done;
    for (size_t i = 0; i < n; i++) {
        uint32_t v = w == 1 ? ix[i] : w == 2 ? resona__le16(ix + 2 * i) : resona__le32(ix + 4 * i);
        if (v == 0) {
            set_null(d, at + i);
            d->offsets[at + i + 1] = d->bytes_len;
            continue;
        }
        if (v > p->dict_count) {
            rc = resona__error_set(RESONA_ECORRUPT,
                                   "%s: dictionary index %u at offset %" PRIu64
                                   " exceeds the %u items",
                                   f->path, v, p->boff[p->values] + (a + i) * w, p->dict_count);
            goto done;
        }
        size_t s = (size_t)p->dict_off[v - 1], e = (size_t)p->dict_off[v];
        if ((rc = resona__grow((void **)&d->values, &d->values_cap, d->bytes_len + (e - s) + 1)) < 0)
            goto done;
        memcpy(d->values + d->bytes_len, p->dict_data + s, e - s);
        d->bytes_len += e - s;
        d->offsets[at + i + 1] = d->bytes_len;
    }
done:
    resona__free(ix);
    return rc;
}

static int read_page(lance_file *f, lance_page *p, uint64_t a, size_t n, lance_colbuf *d, size_t at)
{
    int rc = 0;
    if (p->v21)
        return resona__v21_read(f, p, a, n, d, at);
    if (p->kind == PK_ALLNULL)
        return resona__colbuf_nulls(d, at, n);
    if (p->validity >= 0 && (rc = read_validity(f, p, a, n, d, at)) < 0)
        return rc;
    switch (p->kind) {
    case PK_FIXED:
        if (p->bits == 1) {
            uint64_t first = a / 8, last = (a + n + 7) / 8;
            uint8_t *bits = resona__malloc((size_t)(last - first));
            if (!bits)
                return RESONA_ENOMEM;
            rc = resona__io_pread(f->fd, f->path, p->boff[p->values] + first, bits,
                                  (size_t)(last - first));
            for (size_t i = 0; rc == 0 && i < n; i++) {
                uint64_t b = a + i - first * 8;
                d->values[at + i] = (uint8_t)(bits[b / 8] >> (b % 8) & 1);
            }
            resona__free(bits);
            return rc;
        }
        rc = resona__io_pread(f->fd, f->path, p->boff[p->values] + a * d->width,
                              d->values + at * d->width, n * d->width);
        if (rc == 0 && p->validity >= 0) /* nulls' slots are zeros on disk; keep them so */
            return 0;
        return rc;
    case PK_BINARY:
        return read_binary(f, p, p->values, p->bytes, p->null_adj, a, n, d, at);
    case PK_DICT:
        return read_dict(f, p, a, n, d, at);
    default:
        return resona__error_set(RESONA_ECORRUPT, "%s: page without a plan", f->path);
    }
}

int resona__lfile_read(lance_file *f, lance_column *c, uint64_t row, size_t n, lance_colbuf *d,
                       size_t at)
{
    if (row > c->rows || n > c->rows - row)
        return resona__error_set(RESONA_ECORRUPT,
                                 "%s: rows %" PRIu64 "..%" PRIu64 " past the column's %" PRIu64,
                                 f->path, row, row + n, c->rows);
    size_t pi = 0;
    /* pages are few; a linear search from the start is fine */
    while (n > 0) {
        while (pi < c->npages && c->pages[pi].first_row + c->pages[pi].rows <= row)
            pi++;
        if (pi == c->npages)
            return resona__error_set(RESONA_ECORRUPT, "%s: row %" PRIu64 " not in any page",
                                     f->path, row);
        lance_page *p = &c->pages[pi];
        uint64_t a = row - p->first_row;
        size_t take = (size_t)(p->rows - a < n ? p->rows - a : n);
        int rc = read_page(f, p, a, take, d, at);
        if (rc < 0)
            return rc;
        row += take;
        at += take;
        n -= take;
    }
    return 0;
}

void resona__colbuf_compact(lance_colbuf *d, const uint8_t *keep, size_t rows)
{
    size_t w = 0;
    size_t bytes_w = 0;
    for (size_t r = 0; r < rows; r++) {
        if (!keep[r])
            continue;
        int valid = d->validity[r / 8] >> (r % 8) & 1;
        if (d->type == RESONA_TYPE_UTF8) {
            size_t s = (size_t)d->offsets[r], e = (size_t)d->offsets[r + 1];
            if (bytes_w != s)
                memmove(d->values + bytes_w, d->values + s, e - s);
            d->offsets[w] = bytes_w; /* start; fixed below */
            bytes_w += e - s;
            d->offsets[w + 1] = bytes_w;
        } else if (w != r) {
            memmove(d->values + w * d->width, d->values + r * d->width, d->width);
        }
        if (valid)
            d->validity[w / 8] = (uint8_t)(d->validity[w / 8] | (1u << (w % 8)));
        else
            d->validity[w / 8] = (uint8_t)(d->validity[w / 8] & ~(1u << (w % 8)));
        w++;
    }
    if (d->type == RESONA_TYPE_UTF8)
        d->bytes_len = bytes_w;
    d->rows = w;
}
