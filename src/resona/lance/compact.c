/*
 * lance/compact.c - resona_table_compact: merge runs of small fragments
 * (and rewrite fragments with many deleted rows) into new fragments of up to
 * target_rows live rows, in row order, as ONE Rewrite version.
 *
 * Indices address rows by (fragment id, offset); we never rewrite index
 * files, so an index whose fragment_bitmap covers a rewritten fragment is
 * dropped from the index section (lance-compat.md 5: the original tool
 * re-creates its id index on its next start). Other indices are kept as is.
 */
#include "lance/deletion.h"
#include "lance/io.h"
#include "lance/table_int.h"
#include "lance/writer.h"
#include "util/alloc.h"
#include "util/error.h"

#include <roaring/roaring.h>

#include <inttypes.h>
#include <string.h>

typedef struct group {
    size_t first, count; /* fragments [first, first+count) of the manifest */
    uint64_t live;
} group;

static uint64_t live_rows(const Lt__DataFragment *f)
{
    uint64_t del = f->deletion_file ? f->deletion_file->num_deleted_rows : 0;
    return f->physical_rows > del ? f->physical_rows - del : 0;
}

/* Plan groups of adjacent candidate fragments. */
static size_t plan(const resona_table *t, uint64_t target, double ratio, group *g)
{
    size_t ng = 0;
    const Lt__Manifest *m = t->man;
    size_t i = 0;
    while (i < m->n_fragments) {
        const Lt__DataFragment *f = m->fragments[i];
        uint64_t live = live_rows(f);
        uint64_t del = f->physical_rows - live;
        int many_deleted = f->physical_rows && (double)del > ratio * (double)f->physical_rows;
        if (live >= target && !many_deleted) {
            i++;
            continue;
        }
        group cur = {i, 1, live};
        int needs = many_deleted || live == 0;
        i++;
        while (i < m->n_fragments) {
            const Lt__DataFragment *n = m->fragments[i];
            uint64_t nl = live_rows(n);
            int nmany = n->physical_rows &&
                        (double)(n->physical_rows - nl) > ratio * (double)n->physical_rows;
            if ((nl >= target && !nmany) || cur.live + nl > target)
                break;
            cur.count++;
            cur.live += nl;
            needs |= nmany;
            i++;
        }
        if (cur.count > 1 || needs)
            g[ng++] = cur;
    }
    return ng;
}

/* Drop indices covering any of the removed fragment ids; returns new section bytes. */
static int filter_indices(const resona_table *t, const roaring_bitmap_t *removed, uint8_t **out,
                          size_t *len)
{
    *out = NULL;
    *len = 0;
    if (!t->index)
        return 0;
    Lt__IndexSection sec = *t->index;
    Lt__IndexMetadata **keep = resona__calloc(sec.n_indices ? sec.n_indices : 1, sizeof(*keep));
    if (!keep)
        return RESONA_ENOMEM;
    size_t nk = 0;
    for (size_t i = 0; i < sec.n_indices; i++) {
        Lt__IndexMetadata *im = sec.indices[i];
        int drop = 1; /* unknown coverage: drop to be safe */
        if (im->has_fragment_bitmap) {
            roaring_bitmap_t *b = roaring_bitmap_portable_deserialize_safe(
                (const char *)im->fragment_bitmap.data, im->fragment_bitmap.len);
            if (b) {
                drop = roaring_bitmap_intersect(b, removed);
                roaring_bitmap_free(b);
            }
        }
        if (!drop)
            keep[nk++] = im;
    }
    if (nk == 0) {
        resona__free(keep);
        return 0;
    }
    sec.indices = keep;
    sec.n_indices = nk;
    *len = lt__index_section__get_packed_size(&sec);
    *out = resona__malloc(*len ? *len : 1);
    if (*out)
        lt__index_section__pack(&sec, *out);
    resona__free(keep);
    return *out ? 0 : RESONA_ENOMEM;
}

typedef struct outfrag {
    lance_writer *w;
    Lt__DataFragment frag;
    Lt__DataFile *dfs[1];
} outfrag;

static int compact_once(resona_table *t, const resona_compact_options *opts,
                        resona_compact_stats *stats)
{
    resona_compact_options o = RESONA_COMPACT_OPTIONS_INIT;
    if (opts)
        o = *opts;
    if (o.target_rows == 0)
        o.target_rows = 1048576;
    if (stats)
        memset(stats, 0, sizeof(*stats));
    int rc = resona__table_check_writable(t);
    if (rc < 0)
        return rc;
    size_t nf = t->man->n_fragments;
    group *g = resona__calloc(nf ? nf : 1, sizeof(*g));
    outfrag *outs = NULL;
    size_t nout = 0, outcap = 0;
    Lt__DataFragment **frags = NULL, **newp = NULL, **oldp = NULL;
    Lt__Transaction__RewriteGroup *rg = NULL, **rgp = NULL;
    const resona_column **cols = NULL;
    resona_scan *s = NULL;
    roaring_bitmap_t *removed = roaring_bitmap_create();
    uint8_t *idx = NULL;
    size_t idx_len = 0;
    int committed = 0;
    size_t *gout_first = NULL, *gout_count = NULL;
    if (!g || !removed) {
        rc = RESONA_ENOMEM;
        goto done;
    }
    size_t ng = plan(t, o.target_rows, o.deleted_ratio, g);
    if (ng == 0)
        goto done;
    cols = resona__calloc(t->nfields ? t->nfields : 1, sizeof(*cols));
    gout_first = resona__calloc(ng, sizeof(size_t));
    gout_count = resona__calloc(ng, sizeof(size_t));
    if (!cols || !gout_first || !gout_count) {
        rc = RESONA_ENOMEM;
        goto done;
    }
    uint64_t next_id = resona__table_next_fragment_id(t);
    for (size_t gi = 0; gi < ng; gi++) {
        gout_first[gi] = nout;
        for (size_t k = 0; k < g[gi].count; k++)
            roaring_bitmap_add(removed, (uint32_t)t->man->fragments[g[gi].first + k]->id);
        resona_scan_options so = RESONA_SCAN_OPTIONS_INIT;
        so.fragment_first = g[gi].first;
        so.fragment_count = g[gi].count;
        if ((rc = resona_table_scan(t, &so, &s)) < 0)
            goto done;
        const resona_chunk *ch;
        uint64_t in_cur = 0;
        outfrag *cur = NULL;
        while ((rc = resona_scan_next(s, &ch)) > 0) {
            size_t done_rows = 0;
            while (done_rows < ch->rows) {
                if (!cur || in_cur >= o.target_rows) {
                    if (nout == outcap) {
                        size_t nc = outcap ? outcap * 2 : 4;
                        outfrag *no = resona__reallocarray(outs, nc, sizeof(*no));
                        if (!no) {
                            rc = RESONA_ENOMEM;
                            goto done;
                        }
                        outs = no;
                        outcap = nc;
                    }
                    cur = &outs[nout++];
                    memset(cur, 0, sizeof(*cur));
                    if ((rc = resona__writer_open(t, &cur->w)) < 0)
                        goto done;
                    in_cur = 0;
                }
                size_t take = ch->rows - done_rows;
                if (take > o.target_rows - in_cur)
                    take = (size_t)(o.target_rows - in_cur);
                for (size_t c = 0; c < t->nfields; c++)
                    cols[c] = &ch->columns[c];
                if (done_rows == 0 && take == ch->rows) {
                    rc = resona__writer_write(cur->w, cols, take);
                } else {
                    /* build sliced views for [done_rows, done_rows + take) */
                    resona_column *sl = resona__calloc(t->nfields, sizeof(*sl));
                    uint8_t **vb = resona__calloc(t->nfields, sizeof(*vb));
                    const resona_column **sp = resona__calloc(t->nfields, sizeof(*sp));
                    rc = (!sl || !vb || !sp) ? RESONA_ENOMEM : 0;
                    for (size_t c = 0; rc == 0 && c < t->nfields; c++) {
                        const resona_field *f = &t->fields[c];
                        const resona_column *src = &ch->columns[c];
                        sl[c] = *src;
                        size_t w = f->type == RESONA_TYPE_VECTOR    ? (size_t)f->dim * 4
                                   : f->type == RESONA_TYPE_FLOAT32 ? 4
                                   : f->type == RESONA_TYPE_BOOL    ? 1
                                                                    : 8;
                        if (f->type == RESONA_TYPE_UTF8)
                            sl[c].offsets = src->offsets + done_rows;
                        else
                            sl[c].values = (const uint8_t *)src->values + done_rows * w;
                        if (src->validity) {
                            vb[c] = resona__calloc((take + 7) / 8, 1);
                            if (!vb[c]) {
                                rc = RESONA_ENOMEM;
                                break;
                            }
                            for (size_t r = 0; r < take; r++)
                                if (src->validity[(done_rows + r) / 8] >> ((done_rows + r) % 8) & 1)
                                    vb[c][r / 8] = (uint8_t)(vb[c][r / 8] | (1u << (r % 8)));
                            sl[c].validity = vb[c];
                        }
                        sp[c] = &sl[c];
                    }
                    if (rc == 0)
                        rc = resona__writer_write(cur->w, sp, take);
                    for (size_t c = 0; vb && c < t->nfields; c++)
                        resona__free(vb[c]);
                    resona__free(vb);
                    resona__free(sl);
                    resona__free(sp);
                }
                if (rc < 0)
                    goto done;
                in_cur += take;
                done_rows += take;
            }
        }
        resona_scan_free(s);
        s = NULL;
        if (rc < 0)
            goto done;
        gout_count[gi] = nout - gout_first[gi];
    }
    /* finish the new files */
    for (size_t i = 0; i < nout; i++) {
        Lt__DataFile *df = NULL;
        uint64_t rows = 0;
        if ((rc = resona__writer_finish(outs[i].w, &df, &rows)) < 0)
            goto done;
        lt__data_fragment__init(&outs[i].frag);
        outs[i].dfs[0] = df;
        outs[i].frag.n_files = 1;
        outs[i].frag.files = outs[i].dfs;
        outs[i].frag.has_physical_rows = 1;
        outs[i].frag.physical_rows = rows;
        outs[i].frag.has_id = 1;
        outs[i].frag.id = next_id++;
    }
    if ((rc = resona__io_fsync_subdir(t->path, "data")) < 0)
        goto done;
    /* new fragment list: groups replaced in place */
    frags = resona__calloc(nf + nout + 1, sizeof(*frags));
    newp = resona__calloc(nout + 1, sizeof(*newp));
    oldp = resona__calloc(nf + 1, sizeof(*oldp));
    rg = resona__calloc(ng, sizeof(*rg));
    rgp = resona__calloc(ng, sizeof(*rgp));
    if (!frags || !newp || !oldp || !rg || !rgp) {
        rc = RESONA_ENOMEM;
        goto done;
    }
    size_t nn = 0, gi = 0, no = 0;
    for (size_t i = 0; i < nf;) {
        if (gi < ng && g[gi].first == i) {
            lt__transaction__rewrite_group__init(&rg[gi]);
            rg[gi].old_fragments = oldp + no;
            rg[gi].n_old_fragments = g[gi].count;
            for (size_t k = 0; k < g[gi].count; k++)
                oldp[no++] = t->man->fragments[i + k];
            rg[gi].new_fragments = newp + gout_first[gi];
            rg[gi].n_new_fragments = gout_count[gi];
            for (size_t k = 0; k < gout_count[gi]; k++) {
                newp[gout_first[gi] + k] = &outs[gout_first[gi] + k].frag;
                frags[nn++] = &outs[gout_first[gi] + k].frag;
            }
            rgp[gi] = &rg[gi];
            i += g[gi].count;
            gi++;
        } else {
            frags[nn++] = t->man->fragments[i++];
        }
    }
    if ((rc = filter_indices(t, removed, &idx, &idx_len)) < 0)
        goto done;
    Lt__Transaction__Rewrite rw = LT__TRANSACTION__REWRITE__INIT;
    rw.n_groups = ng;
    rw.groups = rgp;
    Lt__Transaction txn = LT__TRANSACTION__INIT;
    txn.operation_case = LT__TRANSACTION__OPERATION_REWRITE;
    txn.rewrite = &rw;
    Lt__Manifest next = *t->man;
    next.fragments = frags;
    next.n_fragments = nn;
    next.has_max_fragment_id = 1;
    next.max_fragment_id = (uint32_t)(next_id ? next_id - 1 : 0);
    if (stats) {
        stats->fragments_removed = no;
        stats->fragments_added = nout;
        stats->files_added = nout;
        for (size_t k = 0; k < no; k++)
            stats->files_removed += oldp[k]->n_files + (oldp[k]->deletion_file != NULL);
    }
    rc = resona__manifest_commit(t, &next, &txn, idx, idx_len);
    committed = t->committed;
done:
    resona_scan_free(s);
    for (size_t i = 0; i < nout; i++)
        resona__writer_free(outs[i].w, committed);
    resona__free(outs);
    resona__free(g);
    resona__free(frags);
    resona__free(newp);
    resona__free(oldp);
    resona__free(rg);
    resona__free(rgp);
    resona__free(cols);
    resona__free(gout_first);
    resona__free(gout_count);
    resona__free(idx);
    if (removed)
        roaring_bitmap_free(removed);
    if (rc < 0 && stats)
        memset(stats, 0, sizeof(*stats));
    return rc;
}

int resona_table_compact(resona_table *t, const resona_compact_options *opts,
                         resona_compact_stats *stats)
{
    /* A concurrent commit makes ours fail with ECONFLICT before anything is
     * visible; the new files are removed, so planning again is safe. */
    t->last_commit = 0;
    for (int attempt = 0;; attempt++) {
        int rc = compact_once(t, opts, stats);
        if (rc != RESONA_ECONFLICT || attempt >= 5)
            return rc;
        if ((rc = resona__table_load(t, 0)) < 0)
            return rc;
    }
}
