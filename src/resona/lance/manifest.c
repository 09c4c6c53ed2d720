/*
 * lance/manifest.c - finding versions, decoding manifest files, and the
 * atomic commit of a new version.
 *
 * Manifest file layout (lance-format.md 2.1):
 *
 *   offset        size  contents
 *   0             4+L1  [optional] u32 L1 + IndexSection message
 *   ...           4+L2  [optional] u32 L2 + Transaction message
 *   pos           4+L   u32 L + Manifest message          (L == file_size - pos - 20)
 *   end-16        8     u64 pos
 *   end-8         2     u16 major (0)
 *   end-6         2     u16 minor (1 from lance 0.19, 2 from lance 10; we write 2)
 *   end-4         4     "LANC"
 *
 * Commit protocol (lance-format.md 3): write the .txn file, write the
 * manifest under a temporary name that does not end in ".manifest", fsync,
 * link() it to the final name (EEXIST: another writer won -> ECONFLICT),
 * unlink the temporary name, fsync the directory.
 */
#include "lance/table_int.h"

#include "lance/io.h"
#include "util/alloc.h"
#include "util/endian.h"
#include "util/error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define V2_NAME_LEN 29 /* 20 digits + ".manifest" */

static int parse_u64(const char *s, size_t n, uint64_t *out)
{
    if (n == 0 || n > 20)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

void resona__versions_free(lance_version_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->count; i++)
        resona__free(l->names[i]);
    resona__free(l->names);
    resona__free(l->versions);
    memset(l, 0, sizeof(*l));
}

int resona__versions_list(const char *table_path, lance_version_list *out)
{
    memset(out, 0, sizeof(*out));
    out->naming = -1;
    char *dir = resona__io_join(table_path, "_versions");
    if (!dir)
        return RESONA_ENOMEM;
    int rc = 0;
    size_t cap = 0;
    DIR *d = opendir(dir);
    if (!d) {
        rc = resona__error_set_errno(errno == ENOENT ? RESONA_ENOTFOUND : RESONA_EIO, errno,
                                     "%s: not a Lance table (no _versions directory)", table_path);
        goto done;
    }
    int seen_v1 = 0, seen_v2 = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        static const char suffix[] = ".manifest";
        size_t sl = sizeof(suffix) - 1;
        if (n <= sl || memcmp(e->d_name + n - sl, suffix, sl) != 0)
            continue;
        uint64_t num, v;
        if (parse_u64(e->d_name, n - sl, &num) != 0)
            continue; /* detached (d...) or foreign names */
        if (n == V2_NAME_LEN) {
            if (num == UINT64_MAX)
                continue;
            v = UINT64_MAX - num;
            seen_v2 = 1;
        } else {
            v = num;
            seen_v1 = 1;
        }
        if (out->count == cap) {
            size_t nc = cap ? cap * 2 : 16;
            uint64_t *nv = resona__reallocarray(out->versions, nc, sizeof(*nv));
            if (!nv) {
                rc = RESONA_ENOMEM;
                goto done;
            }
            out->versions = nv;
            char **nn = resona__reallocarray(out->names, nc, sizeof(*nn));
            if (!nn) {
                rc = RESONA_ENOMEM;
                goto done;
            }
            out->names = nn;
            cap = nc;
        }
        out->names[out->count] = resona__strdup(e->d_name);
        if (!out->names[out->count]) {
            rc = RESONA_ENOMEM;
            goto done;
        }
        out->versions[out->count++] = v;
    }
    out->mixed = seen_v1 && seen_v2;
    out->naming = seen_v2 ? RESONA_NAMING_V2 : seen_v1 ? RESONA_NAMING_V1 : -1;
    /* insertion sort by version (lists are short after pruning; fine either way) */
    for (size_t i = 1; i < out->count; i++) {
        uint64_t v = out->versions[i];
        char *nm = out->names[i];
        size_t j = i;
        for (; j > 0 && out->versions[j - 1] > v; j--) {
            out->versions[j] = out->versions[j - 1];
            out->names[j] = out->names[j - 1];
        }
        out->versions[j] = v;
        out->names[j] = nm;
    }
done:
    if (d)
        closedir(d);
    resona__free(dir);
    if (rc < 0)
        resona__versions_free(out);
    return rc;
}

char *resona__manifest_name(resona_manifest_naming naming, uint64_t version)
{
    if (naming == RESONA_NAMING_V2)
        return resona__io_fmt("%020" PRIu64 ".manifest", UINT64_MAX - version);
    return resona__io_fmt("%" PRIu64 ".manifest", version);
}

int resona__manifest_decode(const uint8_t *buf, size_t len, const char *name, Lt__Manifest **man,
                            uint8_t **index_raw, size_t *index_len)
{
    *man = NULL;
    *index_raw = NULL;
    *index_len = 0;
    if (len < 20)
        return resona__error_set(RESONA_ECORRUPT, "%s: %zu bytes is too short for a manifest", name,
                                 len);
    if (memcmp(buf + len - 4, "LANC", 4) != 0)
        return resona__error_set(RESONA_ECORRUPT, "%s: no LANC magic at offset %zu", name, len - 4);
    uint64_t pos = resona__le64(buf + len - 16);
    if (pos > len - 20)
        return resona__error_set(
            RESONA_ECORRUPT, "%s: manifest position %" PRIu64 " (at offset %zu) is past the end",
            name, pos, len - 16);
    uint32_t mlen = resona__le32(buf + pos);
    if ((uint64_t)mlen != len - pos - 20)
        return resona__error_set(RESONA_ECORRUPT,
                                 "%s: manifest length %u at offset %" PRIu64
                                 " does not match the file (%zu bytes)",
                                 name, mlen, pos, len);
    Lt__Manifest *m = lt__manifest__unpack(&resona__pb_alloc, mlen, buf + pos + 4);
    if (!m)
        return resona__pb_oom() ? RESONA_ENOMEM
                                : resona__error_set(RESONA_ECORRUPT,
                                                    "%s: cannot decode the Manifest message at "
                                                    "offset %" PRIu64,
                                                    name, pos + 4);
    if (m->has_index_section) {
        uint64_t ip = m->index_section;
        if (ip > pos || pos - ip < 4) {
            lt__manifest__free_unpacked(m, &resona__pb_alloc);
            return resona__error_set(
                RESONA_ECORRUPT, "%s: index section offset %" PRIu64 " is out of range", name, ip);
        }
        uint32_t il = resona__le32(buf + ip);
        if ((uint64_t)il > pos - ip - 4) {
            lt__manifest__free_unpacked(m, &resona__pb_alloc);
            return resona__error_set(RESONA_ECORRUPT,
                                     "%s: index section at offset %" PRIu64
                                     " has length %u past the manifest",
                                     name, ip, il);
        }
        uint8_t *raw = resona__malloc(il ? il : 1);
        if (!raw) {
            lt__manifest__free_unpacked(m, &resona__pb_alloc);
            return RESONA_ENOMEM;
        }
        memcpy(raw, buf + ip + 4, il);
        *index_raw = raw;
        *index_len = il;
    }
    *man = m;
    return 0;
}

resona_type resona__lance_type(const char *lt, uint32_t *dim)
{
    *dim = 0;
    if (!lt)
        return RESONA_TYPE_OTHER;
    if (!strcmp(lt, "string"))
        return RESONA_TYPE_UTF8;
    if (!strcmp(lt, "double"))
        return RESONA_TYPE_FLOAT64;
    if (!strcmp(lt, "float"))
        return RESONA_TYPE_FLOAT32;
    if (!strcmp(lt, "int64"))
        return RESONA_TYPE_INT64;
    if (!strcmp(lt, "bool"))
        return RESONA_TYPE_BOOL;
    static const char pre[] = "fixed_size_list:float:";
    if (!strncmp(lt, pre, sizeof(pre) - 1)) {
        uint64_t d;
        const char *s = lt + sizeof(pre) - 1;
        if (parse_u64(s, strlen(s), &d) == 0 && d >= 1 && d <= 65536) {
            *dim = (uint32_t)d;
            return RESONA_TYPE_VECTOR;
        }
    }
    return RESONA_TYPE_OTHER;
}

static void table_clear_version(resona_table *t)
{
    if (t->man)
        lt__manifest__free_unpacked(t->man, &resona__pb_alloc);
    if (t->index)
        lt__index_section__free_unpacked(t->index, &resona__pb_alloc);
    resona__free(t->index_raw);
    resona__free(t->index_names);
    resona__free(t->fields);
    resona__free(t->field_pb);
    t->man = NULL;
    t->index = NULL;
    t->index_raw = NULL;
    t->index_names = NULL;
    t->fields = NULL;
    t->field_pb = NULL;
    t->index_len = t->index_count = t->nfields = 0;
}

/* Fill the derived members of a handle from its manifest; validate. */
static int table_derive(resona_table *t, const char *mname)
{
    Lt__Manifest *m = t->man;
    if (m->reader_feature_flags &
        ~(uint64_t)(LANCE_FLAG_DELETION_FILES | LANCE_FLAG_STABLE_ROW_IDS))
        return resona__error_set(RESONA_EUNSUPPORTED,
                                 "%s: unsupported reader feature flags 0x%" PRIx64
                                 " (resona reads 0x1 deletion files and 0x2 stable row ids)",
                                 mname, m->reader_feature_flags);
    /* Data format: #15, else inferred from the data files. */
    t->format = LANCE_FMT_UNKNOWN;
    t->format_str = "unknown";
    if (m->data_format && m->data_format->version) {
        const char *v = m->data_format->version;
        t->format_str = v;
        if (!strcmp(v, "2.0") || !strcmp(v, "0.3"))
            t->format = LANCE_FMT_20;
        else if (!strcmp(v, "2.1"))
            t->format = LANCE_FMT_21;
        else if (!strcmp(v, "2.2"))
            t->format = LANCE_FMT_22;
        else if (!strcmp(v, "0.1") || !strcmp(v, "legacy"))
            t->format = LANCE_FMT_LEGACY;
    } else {
        for (size_t i = 0; i < m->n_fragments && t->format == LANCE_FMT_UNKNOWN; i++)
            for (size_t j = 0; j < m->fragments[i]->n_files; j++) {
                Lt__DataFile *f = m->fragments[i]->files[j];
                if (f->file_major_version == 2 && f->file_minor_version == 0) {
                    t->format = LANCE_FMT_20;
                    t->format_str = "2.0";
                } else if (f->file_major_version == 2 && f->file_minor_version == 1) {
                    t->format = LANCE_FMT_21;
                    t->format_str = "2.1";
                } else if (f->file_major_version == 2 && f->file_minor_version == 2) {
                    t->format = LANCE_FMT_22;
                    t->format_str = "2.2";
                } else if (f->file_major_version == 0) {
                    t->format = LANCE_FMT_LEGACY;
                    t->format_str = "0.1";
                }
                break;
            }
        if (m->n_fragments == 0) {
            t->format = LANCE_FMT_20;
            t->format_str = "2.0";
        }
    }
    if (t->format == LANCE_FMT_LEGACY)
        return resona__error_set(RESONA_EUNSUPPORTED,
                                 "%s: legacy Lance data format 0.1 is not supported (migrate it "
                                 "with LanceDB to 2.0)",
                                 mname);
    if (t->format == LANCE_FMT_UNKNOWN)
        return resona__error_set(RESONA_EUNSUPPORTED, "%s: unsupported Lance data format \"%s\"",
                                 mname, t->format_str);
    /* Schema: top-level fields, in manifest order. */
    t->fields = resona__calloc(m->n_fields ? m->n_fields : 1, sizeof(*t->fields));
    t->field_pb = resona__calloc(m->n_fields ? m->n_fields : 1, sizeof(*t->field_pb));
    if (!t->fields || !t->field_pb)
        return RESONA_ENOMEM;
    t->nested = 0;
    for (size_t i = 0; i < m->n_fields; i++) {
        Lt__Field *f = m->fields[i];
        if (!f->name || !f->name[0])
            return resona__error_set(RESONA_ECORRUPT, "%s: field %zu has no name", mname, i);
        if (f->has_parent_id && f->parent_id != -1) {
            t->nested = 1;
            continue;
        }
        resona_field *rf = &t->fields[t->nfields];
        rf->name = f->name;
        rf->logical_type = f->logical_type ? f->logical_type : "";
        rf->type = resona__lance_type(f->logical_type, &rf->dim);
        rf->nullable = f->nullable ? 1 : 0;
        rf->id = f->id;
        t->field_pb[t->nfields++] = i;
    }
    t->schema.fields = t->fields;
    t->schema.count = t->nfields;
    /* Fragments: sanity of paths (never escape the table directory). */
    for (size_t i = 0; i < m->n_fragments; i++) {
        Lt__DataFragment *fr = m->fragments[i];
        for (size_t j = 0; j < fr->n_files; j++) {
            const char *p = fr->files[j]->path;
            if (!p || !resona__io_safe_relpath(p, strlen(p)))
                return resona__error_set(RESONA_ECORRUPT,
                                         "%s: fragment %" PRIu64
                                         " names data file \"%s\" outside the table's data/",
                                         mname, fr->id, p ? p : "(none)");
            if (fr->files[j]->has_base_id)
                return resona__error_set(RESONA_EUNSUPPORTED,
                                         "%s: data file %s uses base paths (not supported)", mname,
                                         p);
        }
    }
    /* Index names. */
    if (t->index_raw) {
        t->index = lt__index_section__unpack(&resona__pb_alloc, t->index_len, t->index_raw);
        if (!t->index)
            return resona__pb_oom()
                       ? RESONA_ENOMEM
                       : resona__error_set(RESONA_ECORRUPT, "%s: cannot decode the index section",
                                           mname);
        t->index_names =
            resona__calloc(t->index->n_indices ? t->index->n_indices : 1, sizeof(char *));
        if (!t->index_names)
            return RESONA_ENOMEM;
        for (size_t i = 0; i < t->index->n_indices; i++)
            t->index_names[i] =
                t->index->indices[i]->name ? t->index->indices[i]->name : (char *)"";
        t->index_count = t->index->n_indices;
    }
    return 0;
}

int resona__table_load(resona_table *t, uint64_t version)
{
    lance_version_list vl;
    int rc = resona__versions_list(t->path, &vl);
    if (rc < 0)
        return rc;
    char *mpath = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    resona_table nt;
    memset(&nt, 0, sizeof(nt));
    nt.path = t->path;
    if (vl.mixed) {
        rc = resona__error_set(RESONA_ECORRUPT,
                               "%s/_versions: both V1 and V2 manifest names are present (LanceDB "
                               "cannot open such a table)",
                               t->path);
        goto done;
    }
    if (vl.count == 0) {
        rc = resona__error_set(RESONA_ENOTFOUND, "%s: no versions in _versions/", t->path);
        goto done;
    }
    size_t k = vl.count - 1;
    if (version) {
        for (k = 0; k < vl.count && vl.versions[k] != version; k++)
            ;
        if (k == vl.count) {
            rc = resona__error_set(RESONA_ENOTFOUND, "%s: version %" PRIu64 " not found", t->path,
                                   version);
            goto done;
        }
    }
    char *dir = resona__io_join(t->path, "_versions");
    mpath = dir ? resona__io_join(dir, vl.names[k]) : NULL;
    resona__free(dir);
    if (!mpath) {
        rc = RESONA_ENOMEM;
        goto done;
    }
    if ((rc = resona__io_read_file(mpath, LANCE_MAX_MANIFEST_BYTES, &buf, &len)) < 0)
        goto done;
    if ((rc = resona__manifest_decode(buf, len, mpath, &nt.man, &nt.index_raw, &nt.index_len)) < 0)
        goto done;
    if (nt.man->version != vl.versions[k]) {
        rc = resona__error_set(RESONA_ECORRUPT, "%s: manifest says version %" PRIu64, mpath,
                               nt.man->version);
        goto done;
    }
    nt.version = vl.versions[k];
    nt.naming = (resona_manifest_naming)vl.naming;
    if ((rc = table_derive(&nt, mpath)) < 0)
        goto done;
    /* success: swap in */
    table_clear_version(t);
    nt.path = t->path;
    nt.committed = t->committed;
    nt.last_commit = t->last_commit;
    *t = nt;
    memset(&nt, 0, sizeof(nt));
done:
    table_clear_version(&nt);
    resona__free(mpath);
    resona__free(buf);
    resona__versions_free(&vl);
    return rc;
}

void resona__table_release(resona_table *t);
void resona__table_release(resona_table *t)
{
    table_clear_version(t);
}

uint64_t resona__table_next_fragment_id(const resona_table *t)
{
    uint64_t next = 0;
    const Lt__Manifest *m = t->man;
    if (m->has_max_fragment_id)
        next = (uint64_t)m->max_fragment_id + 1;
    for (size_t i = 0; i < m->n_fragments; i++)
        if (m->fragments[i]->id + 1 > next)
            next = m->fragments[i]->id + 1;
    return next;
}

int resona__table_check_writable(const resona_table *t)
{
    if (t->format != LANCE_FMT_20 && t->format != LANCE_FMT_21 && t->format != LANCE_FMT_22)
        return resona__error_set(RESONA_EUNSUPPORTED,
                                 "%s: table data format is %s; resona writes 2.0, 2.1 and 2.2 and "
                                 "never mixes formats in one table",
                                 t->path, t->format_str);
    uint64_t wf = t->man->writer_feature_flags;
    if (wf & ~(uint64_t)(LANCE_FLAG_DELETION_FILES | LANCE_FLAG_TABLE_CONFIG))
        return resona__error_set(RESONA_EUNSUPPORTED,
                                 "%s: unsupported writer feature flags 0x%" PRIx64
                                 " (e.g. 0x2 stable row ids)",
                                 t->path, wf);
    if (t->nested)
        return resona__error_set(RESONA_EUNSUPPORTED, "%s: nested columns are not supported",
                                 t->path);
    return 0;
}

/* Append u32 length + message to b. */
static int put_section(uint8_t *dst, size_t *pos, const uint8_t *data, size_t len)
{
    resona__put_le32(dst + *pos, (uint32_t)len);
    memcpy(dst + *pos + 4, data, len);
    *pos += 4 + len;
    return 0;
}

static atomic_int fail_after_commit;

void resona__table_fail_after_commit(int n)
{
    atomic_store(&fail_after_commit, n);
}

int resona__manifest_commit(resona_table *t, Lt__Manifest *next, Lt__Transaction *txn,
                            const uint8_t *index_raw, size_t index_len)
{
    int rc = 0;
    char uuid[37];
    char *txn_name = NULL, *txn_path = NULL, *vdir = NULL, *final_name = NULL;
    char *final_path = NULL, *tmp_path = NULL, *tdir = NULL;
    uint8_t *txn_buf = NULL, *man_buf = NULL, *file = NULL;
    int linked = 0, txn_written = 0;

    t->committed = 0;
    if ((rc = resona__io_uuid(uuid)) < 0)
        return rc;
    uint64_t newv = t->version + 1;
    txn->has_read_version = 1;
    txn->read_version = t->version;
    txn->uuid = uuid;
    size_t txn_len = lt__transaction__get_packed_size(txn);
    txn_buf = resona__malloc(txn_len ? txn_len : 1);
    if (!txn_buf) {
        rc = RESONA_ENOMEM;
        goto done;
    }
    lt__transaction__pack(txn, txn_buf);

    txn_name = resona__io_fmt("%" PRIu64 "-%s.txn", t->version, uuid);
    tdir = resona__io_join(t->path, "_transactions");
    vdir = resona__io_join(t->path, "_versions");
    final_name = resona__manifest_name(t->naming, newv);
    if (!txn_name || !tdir || !vdir || !final_name) {
        rc = RESONA_ENOMEM;
        goto done;
    }
    txn_path = resona__io_join(tdir, txn_name);
    final_path = resona__io_join(vdir, final_name);
    tmp_path = resona__io_fmt("%s/.%s-%s.tmp", vdir, final_name, uuid);
    if (!txn_path || !final_path || !tmp_path) {
        rc = RESONA_ENOMEM;
        goto done;
    }
    if ((rc = resona__io_mkdirs(tdir)) < 0)
        goto done;
    if ((rc = resona__io_write_file(txn_path, txn_buf, txn_len)) < 0)
        goto done;
    txn_written = 1;

    /* Fill the version-specific members. */
    Lt__Timestamp ts = LT__TIMESTAMP__INIT;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    ts.has_seconds = ts.has_nanos = 1;
    ts.seconds = now.tv_sec;
    ts.nanos = (int32_t)now.tv_nsec;
    Lt__WriterVersion wv = LT__WRITER_VERSION__INIT;
    wv.library = (char *)"resona";
    wv.version = (char *)RESONA_VERSION;
    next->has_version = 1;
    next->version = newv;
    next->timestamp = &ts;
    next->writer_version = &wv;
    next->transaction_file = txn_name;
    /* Feature flags: recompute the deletion bit; keep the others. */
    int any_del = 0;
    for (size_t i = 0; i < next->n_fragments; i++)
        if (next->fragments[i]->deletion_file)
            any_del = 1;
    next->reader_feature_flags &= ~(uint64_t)LANCE_FLAG_DELETION_FILES;
    next->writer_feature_flags &= ~(uint64_t)LANCE_FLAG_DELETION_FILES;
    if (any_del) {
        next->reader_feature_flags |= LANCE_FLAG_DELETION_FILES;
        next->writer_feature_flags |= LANCE_FLAG_DELETION_FILES;
    }
    next->has_reader_feature_flags = next->reader_feature_flags != 0;
    next->has_writer_feature_flags = next->writer_feature_flags != 0;
    size_t pos = 0;
    if (index_raw) {
        next->has_index_section = 1;
        next->index_section = 0;
        pos += 4 + index_len;
    } else {
        next->has_index_section = 0;
    }
    next->has_transaction_section = 1;
    next->transaction_section = pos;
    pos += 4 + txn_len;
    size_t man_len = lt__manifest__get_packed_size(next);
    size_t total = pos + 4 + man_len + 16;
    file = resona__malloc(total);
    if (!file) {
        rc = RESONA_ENOMEM;
        goto done;
    }
    size_t w = 0;
    if (index_raw)
        put_section(file, &w, index_raw, index_len);
    put_section(file, &w, txn_buf, txn_len);
    uint64_t man_pos = w;
    resona__put_le32(file + w, (uint32_t)man_len);
    lt__manifest__pack(next, file + w + 4);
    w += 4 + man_len;
    resona__put_le64(file + w, man_pos);
    resona__put_le16(file + w + 8, 0);
    resona__put_le16(file + w + 10, 2);
    memcpy(file + w + 12, "LANC", 4);
    next->timestamp = NULL;
    next->writer_version = NULL;
    next->transaction_file = NULL;

    if ((rc = resona__io_write_file(tmp_path, file, total)) < 0)
        goto done;
    if (link(tmp_path, final_path) != 0) {
        int e = errno;
        unlink(tmp_path);
        if (e == EEXIST)
            rc = resona__error_set(RESONA_ECONFLICT,
                                   "%s: version %" PRIu64 " was committed by another writer",
                                   t->path, newv);
        else
            rc = resona__error_set_errno(RESONA_EIO, e, "%s: link", final_path);
        goto done;
    }
    linked = 1;
    t->committed = 1;
    t->last_commit = newv;
    unlink(tmp_path);
    if (atomic_load(&fail_after_commit) > 0) {
        atomic_fetch_sub(&fail_after_commit, 1);
        rc = resona__error_set(
            RESONA_EIO, "%s: injected failure after committing version %" PRIu64 " (test hook)",
            t->path, newv);
        goto done;
    }
    if ((rc = resona__io_fsync_dir(vdir)) < 0)
        goto done;
    /* Optional hint file: only refreshed when it exists (lance 10 writes it). */
    char *hint = resona__io_join(vdir, "latest_version_hint.json");
    if (hint && access(hint, F_OK) == 0) {
        char body[64];
        int n = snprintf(body, sizeof(body), "{\"version\":%" PRIu64 "}", newv);
        char *htmp = resona__io_fmt("%s.%s.tmp", hint, uuid);
        if (htmp && resona__io_write_file(htmp, body, (size_t)n) == 0)
            rename(htmp, hint);
        resona__free(htmp);
    }
    resona__free(hint);
    rc = resona__table_load(t, newv);
done:
    if (rc < 0 && !linked && txn_written && txn_path)
        unlink(txn_path);
    txn->uuid = NULL;
    resona__free(txn_name);
    resona__free(txn_path);
    resona__free(tdir);
    resona__free(vdir);
    resona__free(final_name);
    resona__free(final_path);
    resona__free(tmp_path);
    resona__free(txn_buf);
    resona__free(man_buf);
    resona__free(file);
    return rc;
}
