/*
 * sync/sync.c - read, compare, build into a temporary database, rename
 * (see sync.h).
 */
#include "sync/sync.h"

#include "st_error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct read_ctx {
    st_graph *g;
    volatile sig_atomic_t *stop;
} read_ctx;

static int on_doc(const st_export_doc *doc, void *payload)
{
    read_ctx *c = payload;
    if (c->stop && *c->stop)
        return st_error_set(RESONA_EINTERRUPTED, "sync interrupted");
    return st_graph_add_doc(doc, c->g);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

static const char *base_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static char *str_concat(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *p = malloc(la + lb + 1);
    if (p) {
        memcpy(p, a, la);
        memcpy(p + la, b, lb + 1);
    }
    return p;
}

/* Sort the index by id bytes (node_checksums' PRIMARY KEY order). */
static const st_graph *sort_graph;
static int cmp_index_id(const void *a, const void *b)
{
    size_t la, lb;
    const char *sa = st_graph_id(sort_graph, sort_graph->recs[*(const uint32_t *)a].id, &la);
    const char *sb = st_graph_id(sort_graph, sort_graph->recs[*(const uint32_t *)b].id, &lb);
    int c = memcmp(sa, sb, la < lb ? la : lb);
    return c ? c : (la < lb ? -1 : (la > lb ? 1 : 0));
}

/*
 * Compare the export with an existing index by the original's checksums.
 * Sets *changed and the added/modified/deleted counts. A database that is
 * not a supertag index (or is unreadable) counts as changed.
 */
static int compare_existing(const char *db_path, st_graph *g, int *changed, st_sync_result *res)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    uint32_t *order = NULL;
    jt_out ck = {0};
    int rc = 0;
    *changed = 1;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        goto done; /* not openable: rebuild */
    sqlite3_busy_timeout(db, 5000);
    /* make sure the old WAL is folded into the file before we replace it */
    sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    if (sqlite3_prepare_v2(db, "SELECT (SELECT COUNT(*) FROM nodes), (SELECT COUNT(*) FROM "
                               "node_checksums)",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        goto done;
    sqlite3_int64 nodes = sqlite3_column_int64(st, 0), sums = sqlite3_column_int64(st, 1);
    sqlite3_finalize(st);
    st = NULL;
    if (nodes > 0 && sums == 0)
        goto done; /* the original's migration case: full re-index */
    order = malloc(g->index_count * sizeof(uint32_t) + 1);
    if (!order) {
        rc = st_error_set(RESONA_ENOMEM, "out of memory");
        goto done;
    }
    memcpy(order, g->index, g->index_count * sizeof(uint32_t));
    sort_graph = g;
    qsort(order, g->index_count, sizeof(uint32_t), cmp_index_id);
    if (sqlite3_prepare_v2(db, "SELECT node_id, checksum FROM node_checksums ORDER BY node_id", -1,
                           &st, NULL) != SQLITE_OK)
        goto done;
    size_t i = 0, added = 0, modified = 0, deleted = 0;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        size_t idl = (size_t)sqlite3_column_bytes(st, 0);
        for (;;) {
            if (i == g->index_count) {
                deleted++;
                break;
            }
            size_t ml;
            const st_rec *r = &g->recs[order[i]];
            const char *mine = st_graph_id(g, r->id, &ml);
            int c = memcmp(mine, id ? id : "", ml < idl ? ml : idl);
            if (c == 0)
                c = ml < idl ? -1 : (ml > idl ? 1 : 0);
            if (c < 0) {
                added++;
                i++;
                continue;
            }
            if (c > 0) {
                deleted++;
                break;
            }
            if ((rc = st_graph_checksum(g, r, &ck)) < 0)
                goto done;
            const void *theirs = sqlite3_column_blob(st, 1);
            size_t tl = (size_t)sqlite3_column_bytes(st, 1);
            if (tl != ck.len || (tl && memcmp(theirs, ck.ptr, tl) != 0))
                modified++;
            i++;
            break;
        }
    }
    if (s != SQLITE_DONE)
        goto done;
    added += g->index_count - i;
    res->added = added;
    res->modified = modified;
    res->deleted = deleted;
    *changed = (added + modified + deleted) > 0;
done:
    sqlite3_finalize(st);
    if (db)
        sqlite3_close(db);
    free(order);
    jt_out_free(&ck);
    return rc;
}

/* Field exclusions are user data: carry them over from the old index. */
static int carry_exclusions(sqlite3 *db, const char *old_path, st_symtab *names)
{
    struct stat sb;
    if (stat(old_path, &sb) != 0)
        return 0;
    sqlite3_stmt *st = NULL;
    int rc = 0;
    char *uri = sqlite3_mprintf("file:%s?mode=ro", old_path);
    char *sql = sqlite3_mprintf("ATTACH DATABASE %Q AS old", uri);
    if (!uri || !sql) {
        rc = st_error_set(RESONA_ENOMEM, "out of memory");
        goto done;
    }
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        goto done; /* unreadable old index: nothing to carry */
    if (sqlite3_prepare_v2(db, "SELECT id, field_name, reason FROM old.field_exclusions ORDER BY id",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_stmt *ins = NULL;
        if (sqlite3_prepare_v2(db, "INSERT INTO main.field_exclusions (id, field_name, reason) "
                                   "VALUES (?, ?, ?)",
                               -1, &ins, NULL) != SQLITE_OK) {
            rc = st_error_set(RESONA_EIO, "SQLite: %s", sqlite3_errmsg(db));
            goto done;
        }
        while (sqlite3_step(st) == SQLITE_ROW) {
            uint32_t sym;
            const char *n = (const char *)sqlite3_column_text(st, 1);
            size_t nl = (size_t)sqlite3_column_bytes(st, 1);
            if (!n)
                continue;
            for (int c = 0; c < 3; c++)
                sqlite3_bind_value(ins, c + 1, sqlite3_column_value(st, c));
            if (sqlite3_step(ins) != SQLITE_DONE) {
                rc = st_error_set(RESONA_EIO, "SQLite: copying field_exclusions: %s",
                                  sqlite3_errmsg(db));
                sqlite3_finalize(ins);
                goto done;
            }
            sqlite3_reset(ins);
            if (st_symtab_intern(names, n, nl, &sym) < 0) {
                rc = st_error_set(RESONA_ENOMEM, "out of memory");
                sqlite3_finalize(ins);
                goto done;
            }
        }
        sqlite3_finalize(ins);
    }
done:
    sqlite3_finalize(st);
    sqlite3_exec(db, "DETACH DATABASE old", NULL, NULL, NULL);
    sqlite3_free(uri);
    sqlite3_free(sql);
    return rc;
}

static int progress_stop(void *payload)
{
    volatile sig_atomic_t *stop = payload;
    return stop && *stop;
}

static int fsync_path(const char *path, int is_dir)
{
    int fd = open(path, (is_dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
    if (fd < 0)
        return st_error_set_errno(RESONA_EIO, errno, "cannot open %s", path);
    int rc = fsync(fd) == 0 ? 0 : st_error_set_errno(RESONA_EIO, errno, "fsync %s", path);
    close(fd);
    return rc;
}

/* Remove leftovers of syncs that died (their pid is gone). */
static void remove_stale_temps(const char *dir, const char *db_base)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    size_t bl = strlen(db_base);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, db_base, bl) != 0 || strncmp(e->d_name + bl, ".sync-", 6) != 0)
            continue;
        long pid = strtol(e->d_name + bl + 6, NULL, 10);
        if (pid > 0 && pid != (long)getpid() && kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
            char *p = malloc(strlen(dir) + strlen(e->d_name) + 2);
            if (p) {
                snprintf(p, strlen(dir) + strlen(e->d_name) + 2, "%s/%s", dir, e->d_name);
                unlink(p);
                free(p);
            }
        }
    }
    closedir(d);
}

static int build(const st_sync_opts *o, st_graph *g, const char *tmp_path, st_sync_result *res)
{
    sqlite3 *db = NULL;
    st_symtab excl;
    memset(&excl, 0, sizeof(excl));
    int rc = 0;
    unlink(tmp_path);
    if (sqlite3_open_v2(tmp_path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI,
                        NULL) != SQLITE_OK) {
        rc = st_error_set(RESONA_EIO, "cannot create %s: %s", tmp_path,
                          db ? sqlite3_errmsg(db) : "out of memory");
        goto done;
    }
    if (o->stop)
        sqlite3_progress_handler(db, 10000, progress_stop, (void *)o->stop);
    char pragmas[256];
    snprintf(pragmas, sizeof(pragmas),
             "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA locking_mode=EXCLUSIVE; "
             "PRAGMA cache_size=-%d; PRAGMA temp_store=FILE;",
             (o->cache_mb > 0 ? o->cache_mb : 64) * 1024);
    if ((rc = st_index_exec(db, pragmas)) < 0 || (rc = st_index_create_schema(db)) < 0 ||
        (rc = st_index_exec(db, "BEGIN")) < 0 ||
        (rc = carry_exclusions(db, o->db_path, &excl)) < 0)
        goto done;
    int64_t now = o->now_ms;
    if (!now) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    }
    if ((rc = st_index_write(db, g, base_of(o->export_path), now, excl.count ? &excl : NULL,
                             &res->counts)) < 0 ||
        (rc = st_index_exec(db, "COMMIT")) < 0 ||
        (rc = st_index_exec(db, "PRAGMA journal_mode=DELETE")) < 0)
        goto done;
done:
    if (db && sqlite3_close(db) != SQLITE_OK && rc == 0)
        rc = st_error_set(RESONA_EIO, "closing %s failed", tmp_path);
    st_symtab_free(&excl);
    return rc;
}

int st_sync_run(const st_sync_opts *o, st_sync_result *res)
{
    st_graph g;
    int graph_ok = 0, rc;
    char *dir = NULL, *tmp = NULL;
    memset(res, 0, sizeof(*res));
    dir = dir_of(o->db_path);
    if (!dir)
        return st_error_set(RESONA_ENOMEM, "out of memory");
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        rc = st_error_set(RESONA_ENOTFOUND, "directory %s does not exist", dir);
        goto done;
    }
    remove_stale_temps(dir, base_of(o->db_path));
    if ((rc = st_graph_init(&g, dir)) < 0)
        goto done;
    graph_ok = 1;
    double t0 = now_seconds();
    read_ctx rctx = {&g, o->stop};
    st_export_info info;
    if ((rc = st_export_read_file(o->export_path, &o->parse, on_doc, &rctx, &info)) < 0 ||
        (rc = st_graph_resolve(&g)) < 0)
        goto done;
    res->docs = info.doc_count;
    res->counts.nodes = g.index_count;
    double t1 = now_seconds();
    res->parse_seconds = t1 - t0;

    int changed = 1;
    if (stat(o->db_path, &sb) == 0) {
        if ((rc = compare_existing(o->db_path, &g, &changed, res)) < 0)
            goto done;
    } else {
        res->added = g.index_count;
    }
    if (!changed && !o->force) {
        res->unchanged = 1;
        goto done;
    }
    char suffix[40];
    snprintf(suffix, sizeof(suffix), ".sync-%ld", (long)getpid());
    tmp = str_concat(o->db_path, suffix);
    if (!tmp) {
        rc = st_error_set(RESONA_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = build(o, &g, tmp, res)) < 0)
        goto done;
    if (o->stop && *o->stop) {
        rc = st_error_set(RESONA_EINTERRUPTED, "sync interrupted");
        goto done;
    }
    if ((rc = fsync_path(tmp, 0)) < 0)
        goto done;
    if (rename(tmp, o->db_path) != 0) {
        rc = st_error_set_errno(RESONA_EIO, errno, "cannot rename %s to %s", tmp, o->db_path);
        goto done;
    }
    /* an old WAL/shared-memory file must not be applied to the new file */
    char *wal = str_concat(o->db_path, "-wal"), *shm = str_concat(o->db_path, "-shm");
    if (wal)
        unlink(wal);
    if (shm)
        unlink(shm);
    free(wal);
    free(shm);
    fsync_path(dir, 1);
    res->rebuilt = 1;
    res->write_seconds = now_seconds() - t1;
done:
    if (tmp) {
        unlink(tmp); /* no-op after a successful rename */
        char *j = str_concat(tmp, "-journal");
        if (j)
            unlink(j);
        free(j);
    }
    if (graph_ok)
        st_graph_free(&g);
    free(tmp);
    free(dir);
    return rc;
}
