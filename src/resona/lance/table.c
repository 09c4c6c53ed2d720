/*
 * lance/table.c - the resona_table handle: create, open, refresh, free,
 * schema and stats (see resona/table.h). Reading rows is in scan.c,
 * changes in append.c, delete.c and compact.c.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include "lance/table_int.h"

#include "lance/io.h"
#include "util/alloc.h"
#include "util/error.h"

#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

void resona__table_release(resona_table *t);

const char *resona_type_name(resona_type type)
{
    switch (type) {
    case RESONA_TYPE_UTF8:
        return "utf8";
    case RESONA_TYPE_FLOAT64:
        return "float64";
    case RESONA_TYPE_FLOAT32:
        return "float32";
    case RESONA_TYPE_INT64:
        return "int64";
    case RESONA_TYPE_BOOL:
        return "bool";
    case RESONA_TYPE_VECTOR:
        return "vector";
    case RESONA_TYPE_OTHER:
        break;
    }
    return "other";
}

static resona_table *table_new(const char *path)
{
    resona_table *t = resona__calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    t->path = resona__strndup(path, n);
    if (!t->path) {
        resona__free(t);
        return NULL;
    }
    return t;
}

void resona_table_free(resona_table *t)
{
    if (!t)
        return;
    resona__table_release(t);
    resona__free(t->path);
    resona__free(t);
}

int resona_table_open(const char *path, const resona_open_options *opts, resona_table **out)
{
    *out = NULL;
    if (!path || !*path)
        return resona__error_set(RESONA_EINVALID, "table path is empty");
    resona_table *t = table_new(path);
    if (!t)
        return RESONA_ENOMEM;
    int rc = resona__table_load(t, opts ? opts->at_version : 0);
    if (rc < 0) {
        resona_table_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

int resona_table_refresh(resona_table *t)
{
    return resona__table_load(t, 0);
}

uint64_t resona_table_version(const resona_table *t)
{
    return t->version;
}

uint64_t resona_table_last_commit(const resona_table *t)
{
    return t->last_commit;
}

const char *resona_table_path(const resona_table *t)
{
    return t->path;
}

const resona_schema *resona_table_schema(const resona_table *t)
{
    return &t->schema;
}

int resona_table_column_index(const resona_table *t, const char *name)
{
    for (size_t i = 0; i < t->nfields; i++)
        if (!strcmp(t->fields[i].name, name))
            return (int)i;
    return -1;
}

static const char *logical_type_of(const resona_field *f, char *buf, size_t len)
{
    switch (f->type) {
    case RESONA_TYPE_UTF8:
        return "string";
    case RESONA_TYPE_FLOAT64:
        return "double";
    case RESONA_TYPE_FLOAT32:
        return "float";
    case RESONA_TYPE_INT64:
        return "int64";
    case RESONA_TYPE_BOOL:
        return "bool";
    case RESONA_TYPE_VECTOR:
        snprintf(buf, len, "fixed_size_list:float:%u", f->dim);
        return buf;
    case RESONA_TYPE_OTHER:
        break;
    }
    return NULL;
}

int resona_table_create(const char *path, const resona_schema *schema,
                        const resona_create_options *opts, resona_table **out)
{
    *out = NULL;
    resona_create_options o = RESONA_CREATE_OPTIONS_INIT;
    if (opts)
        o = *opts;
    if (!path || !*path || !schema || schema->count == 0)
        return resona__error_set(RESONA_EINVALID, "create: a path and at least one column needed");
    if (schema->count > 100000)
        return resona__error_set(RESONA_EINVALID, "create: too many columns");
    for (size_t i = 0; i < schema->count; i++) {
        const resona_field *f = &schema->fields[i];
        if (!f->name || !*f->name)
            return resona__error_set(RESONA_EINVALID, "create: column %zu has no name", i);
        if (f->type < RESONA_TYPE_UTF8 || f->type > RESONA_TYPE_VECTOR)
            return resona__error_set(RESONA_EINVALID,
                                     "create: column \"%s\" has an unsupported type", f->name);
        if (f->type == RESONA_TYPE_VECTOR && (f->dim < 1 || f->dim > 65536))
            return resona__error_set(RESONA_EINVALID, "create: column \"%s\": bad dimension %u",
                                     f->name, f->dim);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(schema->fields[j].name, f->name))
                return resona__error_set(RESONA_EINVALID, "create: duplicate column \"%s\"",
                                         f->name);
    }
    resona_table *t = table_new(path);
    if (!t)
        return RESONA_ENOMEM;
    int rc = 0;
    char *vdir = NULL, *ddir = NULL;
    Lt__Field *pf = NULL, **pfp = NULL;
    char(*lts)[48] = NULL;

    lance_version_list vl;
    if (resona__versions_list(t->path, &vl) == 0) {
        size_t n = vl.count;
        resona__versions_free(&vl);
        if (n > 0) {
            if (o.exist_ok) {
                rc = resona__table_load(t, 0);
                goto done;
            }
            rc = resona__error_set(RESONA_EEXISTS, "%s: a table already exists", t->path);
            goto done;
        }
    }
    resona_error_clear();
    vdir = resona__io_join(t->path, "_versions");
    ddir = resona__io_join(t->path, "data");
    if (!vdir || !ddir) {
        rc = RESONA_ENOMEM;
        goto done;
    }
    if ((rc = resona__io_mkdirs(vdir)) < 0 || (rc = resona__io_mkdirs(ddir)) < 0)
        goto done;
    pf = resona__calloc(schema->count, sizeof(*pf));
    pfp = resona__calloc(schema->count, sizeof(*pfp));
    lts = resona__calloc(schema->count, sizeof(*lts));
    if (!pf || !pfp || !lts) {
        rc = RESONA_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < schema->count; i++) {
        const resona_field *f = &schema->fields[i];
        lt__field__init(&pf[i]);
        pf[i].name = (char *)f->name;
        pf[i].has_id = i != 0;
        pf[i].id = (int32_t)i;
        pf[i].has_parent_id = 1;
        pf[i].parent_id = -1;
        pf[i].logical_type = (char *)logical_type_of(f, lts[i], sizeof(lts[i]));
        pf[i].has_nullable = f->nullable != 0;
        pf[i].nullable = f->nullable != 0;
        pf[i].has_encoding = 1;
        pf[i].encoding = f->type == RESONA_TYPE_UTF8 ? 2 : 1; /* VAR_BINARY : PLAIN */
        pfp[i] = &pf[i];
    }
    Lt__Manifest m = LT__MANIFEST__INIT;
    m.n_fields = schema->count;
    m.fields = pfp;
    Lt__DataStorageFormat df = LT__DATA_STORAGE_FORMAT__INIT;
    df.file_format = (char *)"lance";
    df.version = (char *)"2.0";
    m.data_format = &df;
    Lt__Transaction txn = LT__TRANSACTION__INIT;
    Lt__Transaction__Overwrite ow = LT__TRANSACTION__OVERWRITE__INIT;
    ow.n_schema = schema->count;
    ow.schema = pfp;
    txn.operation_case = LT__TRANSACTION__OPERATION_OVERWRITE;
    txn.overwrite = &ow;
    t->version = 0;
    t->naming = o.naming;
    rc = resona__manifest_commit(t, &m, &txn, NULL, 0);
    if (rc == RESONA_ECONFLICT)
        rc = resona__error_set(RESONA_EEXISTS, "%s: a table was created concurrently", t->path);
done:
    resona__free(pf);
    resona__free(pfp);
    resona__free(lts);
    resona__free(vdir);
    resona__free(ddir);
    if (rc < 0) {
        resona_table_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

/* nftw has no payload argument: the byte count lives in a thread-local. */
static _Thread_local uint64_t walk_bytes;

static int walk_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)p;
    (void)ftw;
    if (flag == FTW_F && st->st_size > 0)
        walk_bytes += (uint64_t)st->st_size;
    return 0;
}

int resona_table_stats_get(resona_table *t, resona_table_stats *out)
{
    memset(out, 0, sizeof(*out));
    out->version = t->version;
    for (size_t i = 0; i < t->man->n_fragments; i++) {
        Lt__DataFragment *f = t->man->fragments[i];
        uint64_t del = f->deletion_file ? f->deletion_file->num_deleted_rows : 0;
        if (del > f->physical_rows)
            del = f->physical_rows;
        out->rows += f->physical_rows - del;
        out->deleted_rows += del;
    }
    out->fragments = t->man->n_fragments;
    lance_version_list vl;
    int rc = resona__versions_list(t->path, &vl);
    if (rc < 0)
        return rc;
    out->versions = vl.count;
    resona__versions_free(&vl);
    walk_bytes = 0;
    if (nftw(t->path, walk_cb, 16, FTW_PHYS) != 0)
        return resona__error_set_errno(RESONA_EIO, errno, "%s: walking the table directory",
                                       t->path);
    out->bytes = walk_bytes;
    out->data_format = t->format_str;
    out->naming = t->naming;
    out->reader_flags = t->man->reader_feature_flags;
    out->writer_flags = t->man->writer_feature_flags;
    out->index_names = (const char *const *)t->index_names;
    out->index_count = t->index_count;
    return 0;
}
