/*
 * lance/prune.c - resona_table_prune: remove old versions and the files no
 * remaining version references (lance's cleanup_old_versions, simplified).
 *
 * A version is removed when its manifest's timestamp is older than the
 * retention and it is not the latest. A file under data/, _deletions/,
 * _transactions/ or _indices/ is removed when no kept version references it
 * AND its own mtime is older than the retention, so the files of a commit in
 * progress (written, not yet committed) are never touched. Stale temporary
 * manifests (`_versions/.*.tmp`) older than the retention go too.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include "lance/deletion.h"
#include "lance/io.h"
#include "lance/table_int.h"
#include "util/alloc.h"
#include "util/error.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct strset {
    char **v;
    size_t n, cap;
} strset;

static int set_add(strset *s, char *str)
{
    if (!str)
        return RESONA_ENOMEM;
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 64;
        char **nv = resona__reallocarray(s->v, nc, sizeof(*nv));
        if (!nv) {
            resona__free(str);
            return RESONA_ENOMEM;
        }
        s->v = nv;
        s->cap = nc;
    }
    s->v[s->n++] = str;
    return 0;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int set_has(const strset *s, const char *str)
{
    return bsearch(&str, s->v, s->n, sizeof(char *), cmp) != NULL;
}

static void set_free(strset *s)
{
    for (size_t i = 0; i < s->n; i++)
        resona__free(s->v[i]);
    resona__free(s->v);
    memset(s, 0, sizeof(*s));
}

/* Record every file a manifest references (relative to the table root). */
static int add_refs(strset *s, const Lt__Manifest *m, const Lt__IndexSection *ix)
{
    int rc = 0;
    for (size_t i = 0; i < m->n_fragments && rc == 0; i++) {
        const Lt__DataFragment *f = m->fragments[i];
        for (size_t j = 0; j < f->n_files && rc == 0; j++)
            rc = set_add(s, resona__io_fmt("data/%s", f->files[j]->path));
        if (f->deletion_file && rc == 0) {
            char *p = resona__deletion_path("", f->id, f->deletion_file);
            rc = set_add(s, p ? resona__strdup(p + 1) : NULL); /* drop the leading '/' */
            resona__free(p);
        }
    }
    if (m->transaction_file && rc == 0)
        rc = set_add(s, resona__io_fmt("_transactions/%s", m->transaction_file));
    for (size_t i = 0; ix && i < ix->n_indices && rc == 0; i++) {
        const Lt__IndexMetadata *im = ix->indices[i];
        if (!im->uuid || !im->uuid->has_uuid || im->uuid->uuid.len != 16)
            continue;
        const uint8_t *u = im->uuid->uuid.data;
        rc = set_add(s, resona__io_fmt("_indices/%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                                       "%02x%02x%02x%02x%02x%02x",
                                       u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
                                       u[10], u[11], u[12], u[13], u[14], u[15]));
    }
    return rc;
}

static _Thread_local const char *rm_root;
static _Thread_local uint64_t rm_bytes, rm_files;

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)ftw;
    if (flag == FTW_F || flag == FTW_SL) {
        if (unlink(p) == 0) {
            rm_bytes += (uint64_t)st->st_size;
            rm_files++;
        }
    } else if (flag == FTW_DP) {
        rmdir(p);
    }
    return 0;
}

static int sweep_dir(const char *root, const char *sub, const strset *refs, time_t cutoff,
                     resona_prune_stats *st)
{
    char *dir = resona__io_join(root, sub);
    if (!dir)
        return RESONA_ENOMEM;
    DIR *d = opendir(dir);
    if (!d) {
        resona__free(dir);
        return 0; /* absent directory: nothing to do */
    }
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *rel = resona__io_fmt("%s/%s", sub, e->d_name);
        char *abs = rel ? resona__io_join(root, rel) : NULL;
        if (!abs) {
            resona__free(rel);
            rc = RESONA_ENOMEM;
            break;
        }
        struct stat sb;
        if (!set_has(refs, rel) && lstat(abs, &sb) == 0 && sb.st_mtime < cutoff) {
            rm_root = root;
            rm_bytes = rm_files = 0;
            nftw(abs, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
            st->files_removed += rm_files;
            st->bytes_removed += rm_bytes;
        }
        resona__free(rel);
        resona__free(abs);
    }
    closedir(d);
    resona__free(dir);
    return rc;
}

int resona_table_prune(resona_table *t, int64_t older_than_seconds, resona_prune_stats *out)
{
    resona_prune_stats st;
    memset(&st, 0, sizeof(st));
    if (out)
        *out = st;
    if (older_than_seconds < 0)
        return resona__error_set(RESONA_EINVALID, "prune: negative retention");
    lance_version_list vl;
    int rc = resona__versions_list(t->path, &vl);
    if (rc < 0)
        return rc;
    strset refs = {0};
    char *vdir = resona__io_join(t->path, "_versions");
    time_t cutoff = time(NULL) - (time_t)older_than_seconds;
    uint8_t *remove = resona__calloc(vl.count ? vl.count : 1, 1);
    if (!vdir || !remove) {
        rc = RESONA_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < vl.count; i++) {
        char *p = resona__io_join(vdir, vl.names[i]);
        uint8_t *buf = NULL;
        size_t len = 0;
        Lt__Manifest *m = NULL;
        uint8_t *ir = NULL;
        size_t il = 0;
        if (!p) {
            rc = RESONA_ENOMEM;
            goto done;
        }
        rc = resona__io_read_file(p, LANCE_MAX_MANIFEST_BYTES, &buf, &len);
        if (rc == 0)
            rc = resona__manifest_decode(buf, len, p, &m, &ir, &il);
        resona__free(buf);
        resona__free(p);
        if (rc < 0) {
            resona__free(ir);
            goto done;
        }
        int is_latest = i + 1 == vl.count;
        int64_t ts = m->timestamp ? m->timestamp->seconds : 0;
        if (!is_latest && ts < (int64_t)cutoff) {
            remove[i] = 1;
        } else {
            Lt__IndexSection *ix = ir ? lt__index_section__unpack(&resona__pb_alloc, il, ir) : NULL;
            if (ir && !ix && resona__pb_oom()) {
                rc = RESONA_ENOMEM;
                lt__manifest__free_unpacked(m, &resona__pb_alloc);
                resona__free(ir);
                goto done;
            }
            rc = add_refs(&refs, m, ix);
            if (ix)
                lt__index_section__free_unpacked(ix, &resona__pb_alloc);
        }
        lt__manifest__free_unpacked(m, &resona__pb_alloc);
        resona__free(ir);
        if (rc < 0)
            goto done;
    }
    qsort(refs.v, refs.n, sizeof(char *), cmp);
    for (size_t i = 0; i < vl.count; i++) {
        if (!remove[i])
            continue;
        char *p = resona__io_join(vdir, vl.names[i]);
        if (!p) {
            rc = RESONA_ENOMEM;
            goto done;
        }
        struct stat sb;
        if (stat(p, &sb) == 0 && unlink(p) == 0) {
            st.versions_removed++;
            st.files_removed++;
            st.bytes_removed += (uint64_t)sb.st_size;
        }
        resona__free(p);
    }
    static const char *const subs[] = {"data", "_deletions", "_transactions", "_indices"};
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]) && rc == 0; i++)
        rc = sweep_dir(t->path, subs[i], &refs, cutoff, &st);
    /* stale temporary manifests of crashed commits */
    DIR *d = opendir(vdir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            size_t n = strlen(e->d_name);
            if (e->d_name[0] != '.' || n < 5 || strcmp(e->d_name + n - 4, ".tmp") != 0)
                continue;
            char *p = resona__io_join(vdir, e->d_name);
            struct stat sb;
            if (p && stat(p, &sb) == 0 && sb.st_mtime < cutoff && unlink(p) == 0)
                st.files_removed++;
            resona__free(p);
        }
        closedir(d);
    }
    if (rc == 0)
        rc = resona__io_fsync_dir(vdir);
    if (rc == 0 && out)
        *out = st;
done:
    set_free(&refs);
    resona__free(remove);
    resona__free(vdir);
    resona__versions_free(&vl);
    return rc;
}
