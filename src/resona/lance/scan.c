/*
 * lance/scan.c - streaming scans: fragments in manifest order, rows in file
 * order, deleted rows skipped, chunks of bounded size (see resona/table.h).
 *
 * Per fragment, the scan opens only the data files that hold the requested
 * columns and decodes only their column metadata; per chunk it reads each
 * column's row range with pread into buffers reused from chunk to chunk.
 * Memory is therefore O(chunk), whatever the page or file size.
 */
#include "lance/deletion.h"
#include "lance/io.h"
#include "lance/reader.h"
#include "lance/table_int.h"
#include "util/alloc.h"
#include "util/error.h"

#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#define CHUNK_BYTES_MAX ((size_t)16 << 20) /* per vector column */

struct resona_scan {
    resona_table *t;
    size_t ncol;
    size_t *schema_idx;
    lance_colbuf *bufs;
    resona_column *cols;
    size_t chunk_rows;
    size_t frag_i, frag_end;
    /* current fragment */
    int open;
    lance_file **files; /* per DataFile of the fragment, opened on demand */
    size_t nfiles;
    lance_column *lcols;
    int *col_file; /* -1: column absent from the fragment (all null) */
    uint64_t frag_rows, next_row, frag_id;
    size_t chunk_no;               /* chunks cut from the current fragment so far */
    size_t part_index, part_count; /* this scan's share of each fragment's chunks */
    roaring_bitmap_t *del;
    uint8_t *keep;
    uint64_t *row_ids;
    resona_chunk chunk;
};

static void close_fragment(resona_scan *s)
{
    for (size_t i = 0; i < s->ncol && s->lcols; i++)
        resona__lfile_column_free(&s->lcols[i]);
    for (size_t i = 0; i < s->nfiles; i++)
        resona__lfile_close(s->files[i]);
    resona__free(s->files);
    s->files = NULL;
    s->nfiles = 0;
    if (s->del)
        roaring_bitmap_free(s->del);
    s->del = NULL;
    s->open = 0;
}

void resona_scan_free(resona_scan *s)
{
    if (!s)
        return;
    close_fragment(s);
    for (size_t i = 0; i < s->ncol && s->bufs; i++)
        resona__colbuf_free(&s->bufs[i]);
    resona__free(s->bufs);
    resona__free(s->cols);
    resona__free(s->lcols);
    resona__free(s->col_file);
    resona__free(s->schema_idx);
    resona__free(s->keep);
    resona__free(s->row_ids);
    resona__free(s);
}

int resona_table_scan(resona_table *t, const resona_scan_options *opts, resona_scan **out)
{
    *out = NULL;
    resona_scan_options o = RESONA_SCAN_OPTIONS_INIT;
    if (opts) {
        /* a version-1 struct ends before part_index: copy only what the caller has */
        if (opts->version >= 2)
            o = *opts;
        else
            memcpy(&o, opts, offsetof(resona_scan_options, part_index));
    }
    if (o.part_count > 1 && o.part_index >= o.part_count)
        return resona__error_set(RESONA_EINVALID,
                                 "scan: part_index %zu is not below part_count %zu", o.part_index,
                                 o.part_count);
    if (t->format != LANCE_FMT_20 && t->format != LANCE_FMT_21 && t->format != LANCE_FMT_22)
        return resona__error_set(RESONA_EUNSUPPORTED,
                                 "%s: scanning data format %s is not supported (2.0, 2.1 and 2.2 "
                                 "are)",
                                 t->path, t->format_str);
    resona_scan *s = resona__calloc(1, sizeof(*s));
    if (!s)
        return RESONA_ENOMEM;
    int rc = 0;
    s->t = t;
    s->ncol = o.columns ? o.column_count : t->nfields;
    size_t n = s->ncol ? s->ncol : 1;
    s->schema_idx = resona__calloc(n, sizeof(size_t));
    s->bufs = resona__calloc(n, sizeof(*s->bufs));
    s->cols = resona__calloc(n, sizeof(*s->cols));
    s->lcols = resona__calloc(n, sizeof(*s->lcols));
    s->col_file = resona__calloc(n, sizeof(int));
    if (!s->schema_idx || !s->bufs || !s->cols || !s->lcols || !s->col_file) {
        rc = RESONA_ENOMEM;
        goto done;
    }
    s->chunk_rows = o.chunk_rows ? o.chunk_rows : 8192;
    s->part_index = o.part_count > 1 ? o.part_index : 0;
    s->part_count = o.part_count > 1 ? o.part_count : 1;
    for (size_t i = 0; i < s->ncol; i++) {
        size_t k = i;
        if (o.columns) {
            int c = o.columns[i] ? resona_table_column_index(t, o.columns[i]) : -1;
            if (c < 0) {
                rc = resona__error_set(RESONA_ENOTFOUND, "%s: no column \"%s\"", t->path,
                                       o.columns[i] ? o.columns[i] : "(null)");
                goto done;
            }
            k = (size_t)c;
        }
        const resona_field *f = &t->fields[k];
        if (f->type == RESONA_TYPE_OTHER) {
            rc = resona__error_set(RESONA_EUNSUPPORTED,
                                   "%s: column \"%s\" has type %s, which resona cannot read",
                                   t->path, f->name, f->logical_type);
            goto done;
        }
        s->schema_idx[i] = k;
        s->cols[i].name = f->name;
        if (f->type == RESONA_TYPE_VECTOR) {
            size_t lim = CHUNK_BYTES_MAX / ((size_t)f->dim * 4);
            if (lim < 1)
                lim = 1;
            if (s->chunk_rows > lim)
                s->chunk_rows = lim;
        }
    }
    s->keep = resona__malloc(s->chunk_rows);
    s->row_ids = resona__malloc(s->chunk_rows * sizeof(uint64_t));
    if (!s->keep || !s->row_ids) {
        rc = RESONA_ENOMEM;
        goto done;
    }
    size_t nf = t->man->n_fragments;
    s->frag_i = o.fragment_first < nf ? o.fragment_first : nf;
    s->frag_end = nf;
    if (o.fragment_count && o.fragment_count < nf - s->frag_i)
        s->frag_end = s->frag_i + o.fragment_count;
    s->chunk.columns = s->cols;
    s->chunk.column_count = s->ncol;
    s->chunk.row_ids = s->row_ids;
    *out = s;
    s = NULL;
done:
    resona_scan_free(s);
    return rc;
}

static int open_fragment(resona_scan *s)
{
    resona_table *t = s->t;
    const Lt__DataFragment *fr = t->man->fragments[s->frag_i];
    int rc = 0;
    s->frag_id = fr->id;
    s->files = resona__calloc(fr->n_files ? fr->n_files : 1, sizeof(*s->files));
    if (!s->files)
        return RESONA_ENOMEM;
    s->nfiles = fr->n_files;
    s->open = 1;
    uint64_t rows = fr->physical_rows;
    int rows_known = fr->physical_rows > 0;
    for (size_t i = 0; i < s->ncol; i++) {
        const resona_field *f = &t->fields[s->schema_idx[i]];
        s->col_file[i] = -1;
        memset(&s->lcols[i], 0, sizeof(s->lcols[i]));
        for (size_t j = 0; j < fr->n_files && s->col_file[i] < 0; j++) {
            const Lt__DataFile *df = fr->files[j];
            for (size_t k = 0; k < df->n_fields; k++) {
                if (df->fields[k] != f->id)
                    continue;
                if (k >= df->n_column_indices || df->column_indices[k] < 0)
                    break;
                if (df->file_major_version != 2 || df->file_minor_version > 2) {
                    return resona__error_set(RESONA_EUNSUPPORTED,
                                             "%s: data file %s has format %u.%u (resona reads "
                                             "2.0, 2.1 and 2.2)",
                                             t->path, df->path, df->file_major_version,
                                             df->file_minor_version);
                }
                if (!s->files[j]) {
                    char *p = resona__io_fmt("%s/data/%s", t->path, df->path);
                    if (!p)
                        return RESONA_ENOMEM;
                    rc = resona__lfile_open(p, df->has_file_size_bytes ? df->file_size_bytes : 0,
                                            &s->files[j]);
                    resona__free(p);
                    if (rc < 0)
                        return rc;
                }
                lance_file *lf = s->files[j];
                if ((rc = resona__lfile_column(lf, (uint32_t)df->column_indices[k], f->type, f->dim,
                                               &s->lcols[i])) < 0)
                    return rc;
                if (!rows_known) {
                    rows = s->lcols[i].rows;
                    rows_known = 1;
                }
                if (s->lcols[i].rows != rows)
                    return resona__error_set(RESONA_ECORRUPT,
                                             "%s: fragment %" PRIu64 " has %" PRIu64
                                             " rows but data file %s has %" PRIu64,
                                             t->path, fr->id, rows, lf->path, s->lcols[i].rows);
                s->col_file[i] = (int)j;
                break;
            }
        }
    }
    if (!rows_known && fr->n_files > 0) {
        /* no requested column in any file and no physical_rows: ask the first file */
        char *p = resona__io_fmt("%s/data/%s", t->path, fr->files[0]->path);
        if (!p)
            return RESONA_ENOMEM;
        lance_file *lf = NULL;
        rc = resona__lfile_open(p, 0, &lf);
        resona__free(p);
        if (rc < 0)
            return rc;
        rows = lf->rows;
        resona__lfile_close(lf);
    }
    s->frag_rows = rows;
    s->next_row = 0;
    s->chunk_no = 0;
    if ((rc = resona__deletion_load(t->path, fr, &s->del)) < 0)
        return rc;
    return 0;
}

int resona_scan_next(resona_scan *s, const resona_chunk **out)
{
    *out = NULL;
    int rc;
    for (;;) {
        if (!s->open) {
            if (s->frag_i >= s->frag_end)
                return 0;
            if ((rc = open_fragment(s)) < 0) {
                close_fragment(s);
                s->frag_i = s->frag_end; /* a failed scan stays failed */
                return rc;
            }
        }
        if (s->next_row >= s->frag_rows) {
            close_fragment(s);
            s->frag_i++;
            continue;
        }
        uint64_t left = s->frag_rows - s->next_row;
        size_t n = left < s->chunk_rows ? (size_t)left : s->chunk_rows;
        uint64_t row = s->next_row;
        s->next_row += n;
        if (s->chunk_no++ % s->part_count != s->part_index)
            continue; /* another part's chunk: not read at all */
        size_t kept = n;
        if (s->del) {
            kept = 0;
            for (size_t r = 0; r < n; r++) {
                uint64_t off = row + r;
                s->keep[r] = !(off <= UINT32_MAX && roaring_bitmap_contains(s->del, (uint32_t)off));
                kept += s->keep[r];
            }
            if (kept == 0)
                continue;
        }
        for (size_t i = 0; i < s->ncol; i++) {
            const resona_field *f = &s->t->fields[s->schema_idx[i]];
            lance_colbuf *b = &s->bufs[i];
            if ((rc = resona__colbuf_reset(b, f->type, f->dim, n)) < 0)
                return rc;
            if (s->col_file[i] < 0)
                rc = resona__colbuf_nulls(b, 0, n);
            else
                rc = resona__lfile_read(s->files[s->col_file[i]], &s->lcols[i], row, n, b, 0);
            if (rc < 0)
                return rc;
            if (kept != n)
                resona__colbuf_compact(b, s->keep, n);
            s->cols[i].values = b->values;
            s->cols[i].offsets = f->type == RESONA_TYPE_UTF8 ? b->offsets : NULL;
            s->cols[i].validity = b->has_nulls ? b->validity : NULL;
        }
        size_t k = 0;
        for (size_t r = 0; r < n; r++)
            if (kept == n || s->keep[r])
                s->row_ids[k++] = (s->frag_id << 32) | (row + r);
        s->chunk.rows = kept;
        s->chunk.fragment_id = s->frag_id;
        *out = &s->chunk;
        return 1;
    }
}
