/*
 * lance/writer.c - the format 2.0 data file writer (lance-format.md 4, 6, 11).
 *
 * Page encodings written (exactly the 2.0 writer repertoire LanceDB reads):
 *
 *   type          page without nulls                     page with nulls (buffers)
 *   f64/f32/i64   nullable{no_nulls{flat{64|32}}}        some_nulls{validity flat 1 (0), values
 * flat (1)} bool          nullable{no_nulls{flat{1}}}            same, values bit-packed vector
 * nullable{no_nulls{fsl{d, items         some_nulls{row validity (0), fsl{d, items
 *                   nullable{no_nulls{flat 32}}}}}}        some_nulls{item validity (1), flat 32
 * (2)}}} utf8          binary{indices flat 64 (0), bytes flat 8 (1), null_adjustment = bytes + 1}
 *   any, all null nullable{all_nulls{}} (utf8: binary with every offset null-adjusted)
 *
 * Pages hold at most PAGE_BYTES of values so that readers that load whole
 * pages (LanceDB) stay bounded too.
 */
#include "lance/writer.h"

#include "lance/io.h"
#include "lance/v21_writer.h"
#include "lance_file.pb-c.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/endian.h"
#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define PAGE_BYTES ((size_t)8 << 20)
#define WBUF_BYTES ((size_t)1 << 20)

typedef struct wpage {
    uint64_t off[3], size[3];
    size_t nbuf;
    uint64_t rows;
    uint8_t *enc; /* packed Any */
    size_t enc_len;
} wpage;

typedef struct wcol {
    wpage *pages;
    size_t npages, cap;
} wcol;

struct lance_writer {
    const resona_table *t;
    int fd;
    char *path;
    char *rel;
    uint64_t pos;   /* bytes written so far (buffered included) */
    resona_buf out; /* write buffer */
    wcol *cols;
    size_t ncols;
    uint64_t rows;
    int32_t *field_ids, *col_idx;
    Lt__DataFile df;
    int finished;
    int v21;   /* the table's data format is 2.1 or 2.2: pages from v21_writer.c */
    int minor; /* with v21: 1 or 2, the footer's and the DataFile's minor version */
};

static int flush(lance_writer *w)
{
    if (w->out.len == 0)
        return 0;
    int rc = resona__io_write(w->fd, w->path, w->out.ptr, w->out.len);
    resona__buf_clear(&w->out);
    return rc;
}

static int emit(lance_writer *w, const void *data, size_t len)
{
    if (len >= WBUF_BYTES) {
        int rc = flush(w);
        if (rc < 0)
            return rc;
        rc = resona__io_write(w->fd, w->path, data, len);
        if (rc == 0)
            w->pos += len;
        return rc;
    }
    if (w->out.len + len > WBUF_BYTES) {
        int rc = flush(w);
        if (rc < 0)
            return rc;
    }
    if (resona__buf_append(&w->out, data, len) < 0)
        return RESONA_ENOMEM;
    w->pos += len;
    return 0;
}

static int align64(lance_writer *w)
{
    static const uint8_t zeros[64];
    size_t pad = (size_t)((64 - w->pos % 64) % 64);
    return pad ? emit(w, zeros, pad) : 0;
}

int resona__writer_open(const resona_table *t, lance_writer **out)
{
    *out = NULL;
    lance_writer *w = resona__calloc(1, sizeof(*w));
    if (!w)
        return RESONA_ENOMEM;
    w->fd = -1;
    w->t = t;
    w->v21 = t->format == LANCE_FMT_21 || t->format == LANCE_FMT_22;
    w->minor = t->format == LANCE_FMT_22 ? 2 : 1;
    w->out = (resona_buf)RESONA_BUF_INIT(0);
    int rc = 0;
    char uuid[37];
    if ((rc = resona__io_uuid(uuid)) < 0)
        goto fail;
    w->ncols = t->nfields;
    w->rel = resona__io_fmt("%s.lance", uuid);
    w->path = w->rel ? resona__io_fmt("%s/data/%s", t->path, w->rel) : NULL;
    w->cols = resona__calloc(w->ncols ? w->ncols : 1, sizeof(*w->cols));
    w->field_ids = resona__calloc(w->ncols ? w->ncols : 1, sizeof(int32_t));
    w->col_idx = resona__calloc(w->ncols ? w->ncols : 1, sizeof(int32_t));
    if (!w->rel || !w->path || !w->cols || !w->field_ids || !w->col_idx) {
        rc = RESONA_ENOMEM;
        goto fail;
    }
    char *ddir = resona__io_join(t->path, "data");
    if (!ddir) {
        rc = RESONA_ENOMEM;
        goto fail;
    }
    rc = resona__io_mkdirs(ddir);
    resona__free(ddir);
    if (rc < 0)
        goto fail;
    w->fd = open(w->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        rc = resona__error_set_errno(RESONA_EIO, errno, "%s: create", w->path);
        goto fail;
    }
    *out = w;
    return 0;
fail:
    resona__writer_free(w, 0);
    return rc;
}

void resona__writer_free(lance_writer *w, int keep)
{
    if (!w)
        return;
    if (w->fd >= 0)
        close(w->fd);
    if (!keep && w->path && w->fd >= 0)
        unlink(w->path);
    for (size_t i = 0; i < w->ncols && w->cols; i++) {
        for (size_t p = 0; p < w->cols[i].npages; p++)
            resona__free(w->cols[i].pages[p].enc);
        resona__free(w->cols[i].pages);
    }
    resona__free(w->cols);
    resona__free(w->field_ids);
    resona__free(w->col_idx);
    resona__free(w->path);
    resona__free(w->rel);
    resona__buf_free(&w->out);
    resona__free(w);
}

static int is_valid(const resona_column *c, size_t r)
{
    return !c || !c->validity ? c != NULL : (c->validity[r / 8] >> (r % 8) & 1);
}

int resona__column_check(const resona_field *f, const resona_column *c, size_t rows)
{
    if (!c->values && rows > 0 && f->type != RESONA_TYPE_UTF8)
        return resona__error_set(RESONA_EINVALID, "column \"%s\": no values", f->name);
    if (!f->nullable && c->validity)
        for (size_t r = 0; r < rows; r++)
            if (!(c->validity[r / 8] >> (r % 8) & 1))
                return resona__error_set(RESONA_EINVALID,
                                         "column \"%s\" is not nullable but row %zu is null",
                                         f->name, r);
    if (f->type == RESONA_TYPE_UTF8) {
        if (!c->offsets)
            return resona__error_set(RESONA_EINVALID, "column \"%s\": utf8 needs offsets", f->name);
        for (size_t r = 0; r < rows; r++)
            if (c->offsets[r + 1] < c->offsets[r])
                return resona__error_set(RESONA_EINVALID,
                                         "column \"%s\": offsets decrease at row %zu", f->name, r);
        if (rows && c->offsets[rows] > c->offsets[0] && !c->values)
            return resona__error_set(RESONA_EINVALID, "column \"%s\": no string bytes", f->name);
    }
    if (f->type == RESONA_TYPE_OTHER)
        return resona__error_set(RESONA_EUNSUPPORTED, "column \"%s\" (%s) cannot be written",
                                 f->name, f->logical_type);
    return 0;
}

/* ---- encoding descriptions ---- */

static int pack_any(const char *url, const ProtobufCMessage *msg, uint8_t **out, size_t *len)
{
    size_t vl = protobuf_c_message_get_packed_size(msg);
    uint8_t *v = resona__malloc(vl ? vl : 1);
    if (!v)
        return RESONA_ENOMEM;
    protobuf_c_message_pack(msg, v);
    Lf__Any any = LF__ANY__INIT;
    any.type_url = (char *)url;
    any.has_value = 1;
    any.value.data = v;
    any.value.len = vl;
    *len = lf__any__get_packed_size(&any);
    *out = resona__malloc(*len ? *len : 1);
    if (*out)
        lf__any__pack(&any, *out);
    resona__free(v);
    return *out ? 0 : RESONA_ENOMEM;
}

/* Encodings are built on the stack: a tree of at most a dozen small messages. */
typedef struct enc_nodes {
    Lf__ArrayEncoding ae[8];
    Lf__Nullable nl[3];
    Lf__NoNull nn[3];
    Lf__SomeNull sn[3];
    Lf__AllNull an;
    Lf__Flat fl[4];
    Lf__Buffer bf[4];
    Lf__FixedSizeList fsl;
    Lf__Binary bin;
    int nae, nnl, nnn, nsn, nfl;
} enc_nodes;

static Lf__ArrayEncoding *flat(enc_nodes *e, uint64_t bits, uint32_t buf)
{
    Lf__Flat *f = &e->fl[e->nfl];
    Lf__Buffer *b = &e->bf[e->nfl++];
    lf__flat__init(f);
    lf__buffer__init(b);
    if (buf) {
        b->has_buffer_index = 1;
        b->buffer_index = buf;
    }
    f->has_bits_per_value = 1;
    f->bits_per_value = bits;
    f->buffer = b;
    Lf__ArrayEncoding *a = &e->ae[e->nae++];
    lf__array_encoding__init(a);
    a->array_encoding_case = LF__ARRAY_ENCODING__ARRAY_ENCODING_FLAT;
    a->flat = f;
    return a;
}

/* nullable{no_nulls{v}} or nullable{some_nulls{validity, v}} */
static Lf__ArrayEncoding *nullable(enc_nodes *e, Lf__ArrayEncoding *validity, Lf__ArrayEncoding *v)
{
    Lf__Nullable *n = &e->nl[e->nnl++];
    lf__nullable__init(n);
    if (validity) {
        Lf__SomeNull *s = &e->sn[e->nsn++];
        lf__some_null__init(s);
        s->validity = validity;
        s->values = v;
        n->nullability_case = LF__NULLABLE__NULLABILITY_SOME_NULLS;
        n->some_nulls = s;
    } else {
        Lf__NoNull *s = &e->nn[e->nnn++];
        lf__no_null__init(s);
        s->values = v;
        n->nullability_case = LF__NULLABLE__NULLABILITY_NO_NULLS;
        n->no_nulls = s;
    }
    Lf__ArrayEncoding *a = &e->ae[e->nae++];
    lf__array_encoding__init(a);
    a->array_encoding_case = LF__ARRAY_ENCODING__ARRAY_ENCODING_NULLABLE;
    a->nullable = n;
    return a;
}

static int page_encoding(const resona_field *f, int kind, uint8_t **out, size_t *len)
{
    /* kind: 0 no nulls, 1 some nulls, 2 all null (utf8 pages use utf8_encoding) */
    enc_nodes e;
    memset(&e, 0, sizeof(e));
    Lf__ArrayEncoding *root = NULL;
    if (kind == 2) {
        Lf__Nullable *n = &e.nl[e.nnl++];
        lf__nullable__init(n);
        lf__all_null__init(&e.an);
        n->nullability_case = LF__NULLABLE__NULLABILITY_ALL_NULLS;
        n->all_nulls = &e.an;
        root = &e.ae[e.nae++];
        lf__array_encoding__init(root);
        root->array_encoding_case = LF__ARRAY_ENCODING__ARRAY_ENCODING_NULLABLE;
        root->nullable = n;
    } else if (f->type == RESONA_TYPE_VECTOR) {
        lf__fixed_size_list__init(&e.fsl);
        e.fsl.has_dimension = 1;
        e.fsl.dimension = f->dim;
        if (kind == 0) {
            e.fsl.items = nullable(&e, NULL, flat(&e, 32, 0));
        } else {
            e.fsl.items = nullable(&e, flat(&e, 1, 1), flat(&e, 32, 2));
        }
        Lf__ArrayEncoding *l = &e.ae[e.nae++];
        lf__array_encoding__init(l);
        l->array_encoding_case = LF__ARRAY_ENCODING__ARRAY_ENCODING_FIXED_SIZE_LIST;
        l->fixed_size_list = &e.fsl;
        root = nullable(&e, kind ? flat(&e, 1, 0) : NULL, l);
    } else {
        uint64_t bits = f->type == RESONA_TYPE_FLOAT32 ? 32 : f->type == RESONA_TYPE_BOOL ? 1 : 64;
        root = kind ? nullable(&e, flat(&e, 1, 0), flat(&e, bits, 1))
                    : nullable(&e, NULL, flat(&e, bits, 0));
    }
    return pack_any("/lance.encodings.ArrayEncoding", &root->base, out, len);
}

static int utf8_encoding(uint64_t adj, uint8_t **out, size_t *len)
{
    enc_nodes e;
    memset(&e, 0, sizeof(e));
    lf__binary__init(&e.bin);
    e.bin.indices = nullable(&e, NULL, flat(&e, 64, 0));
    e.bin.bytes = flat(&e, 8, 1);
    e.bin.has_null_adjustment = 1;
    e.bin.null_adjustment = adj;
    Lf__ArrayEncoding root = LF__ARRAY_ENCODING__INIT;
    root.array_encoding_case = LF__ARRAY_ENCODING__ARRAY_ENCODING_BINARY;
    root.binary = &e.bin;
    return pack_any("/lance.encodings.ArrayEncoding", &root.base, out, len);
}

/* ---- pages ---- */

static int add_page(lance_writer *w, size_t col, wpage *pg)
{
    wcol *c = &w->cols[col];
    if (c->npages == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 8;
        wpage *np = resona__reallocarray(c->pages, nc, sizeof(*np));
        if (!np) {
            resona__free(pg->enc);
            return RESONA_ENOMEM;
        }
        c->pages = np;
        c->cap = nc;
    }
    c->pages[c->npages++] = *pg;
    return 0;
}

/* Begin a page buffer: align, note its offset. */
static int buf_begin(lance_writer *w, wpage *pg)
{
    int rc = align64(w);
    if (rc < 0)
        return rc;
    pg->off[pg->nbuf] = w->pos;
    return 0;
}

static void buf_end(lance_writer *w, wpage *pg)
{
    pg->size[pg->nbuf] = w->pos - pg->off[pg->nbuf];
    pg->nbuf++;
}

/* Emit a bitmap of rows [a, a+n) of a validity (or value) test. */
static int emit_bits(lance_writer *w, const resona_column *c, size_t a, size_t n, int values_bool,
                     uint32_t repeat)
{
    uint8_t block[4096];
    size_t bit = 0;
    memset(block, 0, sizeof(block));
    size_t total = n * repeat;
    for (size_t i = 0; i < total; i++) {
        size_t r = a + i / repeat;
        int v =
            values_bool ? (is_valid(c, r) && ((const uint8_t *)c->values)[r] != 0) : is_valid(c, r);
        if (v)
            block[bit / 8] = (uint8_t)(block[bit / 8] | (1u << (bit % 8)));
        if (++bit == sizeof(block) * 8) {
            int rc = emit(w, block, sizeof(block));
            if (rc < 0)
                return rc;
            memset(block, 0, sizeof(block));
            bit = 0;
        }
    }
    return bit ? emit(w, block, (bit + 7) / 8) : 0;
}

static int write_fixed_page(lance_writer *w, size_t col, const resona_field *f,
                            const resona_column *c, size_t a, size_t n)
{
    wpage pg;
    memset(&pg, 0, sizeof(pg));
    pg.rows = n;
    int kind = 0;
    if (!c) {
        kind = 2;
    } else if (c->validity) {
        size_t nulls = 0;
        for (size_t r = a; r < a + n; r++)
            nulls += !is_valid(c, r);
        kind = nulls == 0 ? 0 : nulls == n ? 2 : 1;
    }
    int rc;
    size_t width = f->type == RESONA_TYPE_FLOAT32  ? 4
                   : f->type == RESONA_TYPE_VECTOR ? (size_t)f->dim * 4
                                                   : 8;
    if (kind == 1) {
        if ((rc = buf_begin(w, &pg)) < 0 || (rc = emit_bits(w, c, a, n, 0, 1)) < 0)
            return rc;
        buf_end(w, &pg);
        if (f->type == RESONA_TYPE_VECTOR) {
            if ((rc = buf_begin(w, &pg)) < 0 || (rc = emit_bits(w, c, a, n, 0, f->dim)) < 0)
                return rc;
            buf_end(w, &pg);
        }
    }
    if (kind != 2) {
        if ((rc = buf_begin(w, &pg)) < 0)
            return rc;
        if (f->type == RESONA_TYPE_BOOL)
            rc = emit_bits(w, c, a, n, 1, 1);
        else
            rc = emit(w, (const uint8_t *)c->values + a * width, n * width);
        if (rc < 0)
            return rc;
        buf_end(w, &pg);
    }
    if ((rc = page_encoding(f, kind, &pg.enc, &pg.enc_len)) < 0)
        return rc;
    return add_page(w, col, &pg);
}

static int write_utf8_page(lance_writer *w, size_t col, const resona_column *c, size_t a, size_t n)
{
    wpage pg;
    memset(&pg, 0, sizeof(pg));
    pg.rows = n;
    uint64_t total = 0;
    for (size_t r = a; r < a + n; r++)
        if (is_valid(c, r))
            total += c->offsets[r + 1] - c->offsets[r];
    uint64_t adj = total + 1;
    int rc;
    if ((rc = buf_begin(w, &pg)) < 0)
        return rc;
    uint8_t block[4096];
    size_t bl = 0;
    uint64_t end = 0;
    for (size_t r = a; r < a + n; r++) {
        uint64_t o;
        if (is_valid(c, r)) {
            end += c->offsets[r + 1] - c->offsets[r];
            o = end;
        } else {
            o = end + adj;
        }
        resona__put_le64(block + bl, o);
        bl += 8;
        if (bl == sizeof(block)) {
            if ((rc = emit(w, block, bl)) < 0)
                return rc;
            bl = 0;
        }
    }
    if (bl && (rc = emit(w, block, bl)) < 0)
        return rc;
    buf_end(w, &pg);
    if ((rc = buf_begin(w, &pg)) < 0)
        return rc;
    /* bytes: contiguous runs of valid values, written without copying */
    size_t r = a;
    while (c && r < a + n) {
        if (!is_valid(c, r)) {
            r++;
            continue;
        }
        size_t s = r;
        while (r < a + n && is_valid(c, r))
            r++;
        uint64_t from = c->offsets[s], to = c->offsets[r];
        if (to > from && (rc = emit(w, (const char *)c->values + from, (size_t)(to - from))) < 0)
            return rc;
    }
    buf_end(w, &pg);
    if ((rc = utf8_encoding(adj, &pg.enc, &pg.enc_len)) < 0)
        return rc;
    return add_page(w, col, &pg);
}

/* A format 2.1 page (v21_writer.c builds it; its buffers are written 64-byte aligned here). */
static int write_v21_page(lance_writer *w, size_t col, const resona_field *f,
                          const resona_column *c, size_t a, size_t n)
{
    v21_wpage vp;
    int rc = resona__v21_page_build(f, c, a, n, w->minor == 2, &vp);
    if (rc < 0)
        return rc;
    wpage pg;
    memset(&pg, 0, sizeof(pg));
    pg.rows = n;
    for (size_t b = 0; rc == 0 && b < vp.nbuf; b++) {
        if ((rc = buf_begin(w, &pg)) == 0 && vp.buf[b].len)
            rc = emit(w, vp.buf[b].ptr, vp.buf[b].len);
        if (rc == 0)
            buf_end(w, &pg);
    }
    if (rc == 0) {
        pg.enc = vp.enc;
        pg.enc_len = vp.enc_len;
        vp.enc = NULL;
        rc = add_page(w, col, &pg);
    }
    resona__v21_wpage_free(&vp);
    return rc;
}

int resona__writer_write(lance_writer *w, const resona_column *const *cols, size_t rows)
{
    for (size_t i = 0; i < w->ncols; i++) {
        const resona_field *f = &w->t->fields[i];
        const resona_column *c = cols[i];
        size_t a = 0;
        while (a < rows) {
            size_t n = rows - a;
            int rc;
            if (f->type == RESONA_TYPE_UTF8) {
                /* bound the page by its bytes (and rows, for the offsets) */
                size_t lim = PAGE_BYTES / 8;
                if (n > lim)
                    n = lim;
                if (c) {
                    size_t k = 1;
                    while (k < n && c->offsets[a + k + 1] - c->offsets[a] <= PAGE_BYTES)
                        k++;
                    n = k;
                }
                rc = w->v21 ? write_v21_page(w, i, f, c, a, n) : write_utf8_page(w, i, c, a, n);
            } else {
                size_t width = f->type == RESONA_TYPE_VECTOR ? (size_t)f->dim * 4 : 8;
                size_t lim = PAGE_BYTES / width;
                if (lim < 1)
                    lim = 1;
                if (n > lim)
                    n = lim;
                rc = w->v21 ? write_v21_page(w, i, f, c, a, n)
                            : write_fixed_page(w, i, f, c, a, n);
            }
            if (rc < 0)
                return rc;
            a += n;
        }
    }
    w->rows += rows;
    return 0;
}

int resona__writer_finish(lance_writer *w, Lt__DataFile **dfo, uint64_t *rows)
{
    int rc = 0;
    uint8_t *tmp = NULL;
    uint8_t *col_any = NULL;
    size_t col_any_len = 0;
    uint64_t *cmo = NULL;
    Lf__Page *pages = NULL;
    Lf__Page **pp = NULL;
    Lf__Encoding *pe = NULL;
    Lf__DirectEncoding *pd = NULL;
    /* global buffer 0: FileDescriptor */
    if ((rc = align64(w)) < 0)
        goto done;
    Lf__Schema sch = LF__SCHEMA__INIT;
    const Lt__Manifest *m = w->t->man;
    sch.n_fields = m->n_fields;
    sch.fields = m->fields;
    sch.n_metadata = m->n_schema_metadata;
    sch.metadata = m->schema_metadata;
    Lf__FileDescriptor fd = LF__FILE_DESCRIPTOR__INIT;
    fd.schema = &sch;
    fd.has_length = 1;
    fd.length = w->rows;
    size_t fdl = lf__file_descriptor__get_packed_size(&fd);
    tmp = resona__malloc(fdl ? fdl : 1);
    if (!tmp) {
        rc = RESONA_ENOMEM;
        goto done;
    }
    lf__file_descriptor__pack(&fd, tmp);
    uint64_t gb0 = w->pos;
    if ((rc = emit(w, tmp, fdl)) < 0)
        goto done;
    resona__free(tmp);
    tmp = NULL;
    /* column metadata */
    static const uint8_t empty_values[] = {0x0a, 0x00};
    Lf__Any ca = LF__ANY__INIT;
    ca.type_url = (char *)"/lance.encodings.ColumnEncoding";
    ca.has_value = 1;
    ca.value.data = (uint8_t *)empty_values;
    ca.value.len = sizeof(empty_values);
    col_any_len = lf__any__get_packed_size(&ca);
    col_any = resona__malloc(col_any_len);
    cmo = resona__calloc(w->ncols ? w->ncols * 2 : 1, sizeof(uint64_t));
    if (!col_any || !cmo) {
        rc = RESONA_ENOMEM;
        goto done;
    }
    lf__any__pack(&ca, col_any);
    Lf__DirectEncoding cde = LF__DIRECT_ENCODING__INIT;
    cde.has_encoding = 1;
    cde.encoding.data = col_any;
    cde.encoding.len = col_any_len;
    Lf__Encoding ce = LF__ENCODING__INIT;
    ce.location_case = LF__ENCODING__LOCATION_DIRECT;
    ce.direct = &cde;
    uint64_t cms = w->pos;
    for (size_t i = 0; i < w->ncols; i++) {
        wcol *c = &w->cols[i];
        size_t np = c->npages ? c->npages : 1;
        pages = resona__calloc(np, sizeof(*pages));
        pp = resona__calloc(np, sizeof(*pp));
        pe = resona__calloc(np, sizeof(*pe));
        pd = resona__calloc(np, sizeof(*pd));
        if (!pages || !pp || !pe || !pd) {
            rc = RESONA_ENOMEM;
            goto done;
        }
        for (size_t p = 0; p < c->npages; p++) {
            wpage *wp = &c->pages[p];
            lf__page__init(&pages[p]);
            lf__encoding__init(&pe[p]);
            lf__direct_encoding__init(&pd[p]);
            pages[p].n_buffer_offsets = pages[p].n_buffer_sizes = wp->nbuf;
            pages[p].buffer_offsets = wp->off;
            pages[p].buffer_sizes = wp->size;
            pages[p].has_length = 1;
            pages[p].length = wp->rows;
            pd[p].has_encoding = 1;
            pd[p].encoding.data = wp->enc;
            pd[p].encoding.len = wp->enc_len;
            pe[p].location_case = LF__ENCODING__LOCATION_DIRECT;
            pe[p].direct = &pd[p];
            pages[p].encoding = &pe[p];
            pp[p] = &pages[p];
        }
        Lf__ColumnMetadata cm = LF__COLUMN_METADATA__INIT;
        cm.encoding = &ce;
        cm.n_pages = c->npages;
        cm.pages = pp;
        size_t cl = lf__column_metadata__get_packed_size(&cm);
        tmp = resona__malloc(cl ? cl : 1);
        if (!tmp) {
            rc = RESONA_ENOMEM;
            goto done;
        }
        lf__column_metadata__pack(&cm, tmp);
        cmo[2 * i] = w->pos;
        cmo[2 * i + 1] = cl;
        if ((rc = emit(w, tmp, cl)) < 0)
            goto done;
        resona__free(tmp);
        tmp = NULL;
        resona__free(pages);
        resona__free(pp);
        resona__free(pe);
        resona__free(pd);
        pages = NULL;
        pp = NULL;
        pe = NULL;
        pd = NULL;
    }
    uint64_t cmo_start = w->pos;
    for (size_t i = 0; i < 2 * w->ncols; i++) {
        uint8_t b[8];
        resona__put_le64(b, cmo[i]);
        if ((rc = emit(w, b, 8)) < 0)
            goto done;
    }
    uint64_t gbo_start = w->pos;
    uint8_t tail[16 + 40];
    resona__put_le64(tail, gb0);
    resona__put_le64(tail + 8, fdl);
    resona__put_le64(tail + 16, w->ncols ? cms : cmo_start);
    resona__put_le64(tail + 24, cmo_start);
    resona__put_le64(tail + 32, gbo_start);
    resona__put_le32(tail + 40, 1);
    resona__put_le32(tail + 44, (uint32_t)w->ncols);
    resona__put_le16(tail + 48, w->v21 ? 2 : 0); /* footer 2.1 / 2.2, or 0.3 = format 2.0 */
    resona__put_le16(tail + 50, (uint16_t)(w->v21 ? w->minor : 3));
    memcpy(tail + 52, "LANC", 4);
    if ((rc = emit(w, tail, sizeof(tail))) < 0 || (rc = flush(w)) < 0)
        goto done;
    if ((rc = resona__io_fsync(w->fd, w->path)) < 0)
        goto done;
    /* DataFile */
    lt__data_file__init(&w->df);
    w->df.path = w->rel;
    for (size_t i = 0; i < w->ncols; i++) {
        w->field_ids[i] = w->t->fields[i].id;
        w->col_idx[i] = (int32_t)i;
    }
    w->df.n_fields = w->df.n_column_indices = w->ncols;
    w->df.fields = w->field_ids;
    w->df.column_indices = w->col_idx;
    w->df.has_file_major_version = 1;
    w->df.file_major_version = 2;
    w->df.has_file_minor_version = w->v21;
    w->df.file_minor_version = w->v21 ? (uint32_t)w->minor : 0;
    w->df.has_file_size_bytes = 1;
    w->df.file_size_bytes = w->pos;
    w->finished = 1;
    *dfo = &w->df;
    *rows = w->rows;
done:
    resona__free(tmp);
    resona__free(col_any);
    resona__free(cmo);
    resona__free(pages);
    resona__free(pp);
    resona__free(pe);
    resona__free(pd);
    return rc;
}
