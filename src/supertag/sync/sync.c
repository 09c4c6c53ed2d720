/*
 * sync/sync.c - read, compare, build into a temporary database, rename
 * (see sync.h).
 */
#include "sync/sync.h"

#include "st_error.h"
#include "sync/readgraph.h"
#include "sync/writeback.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

/*
 * Compare the export with an existing index by the original's checksums.
 * Sets *changed and the added/modified/deleted counts. A database that is
 * not a supertag index (or is unreadable) counts as changed.
 */
static int compare_existing(const char *db_path, st_graph *g, int *changed, st_sync_result *res)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    jt_out ck = {0};
    int rc = 0;
    *changed = 1;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        goto done; /* not openable: rebuild */
    sqlite3_busy_timeout(db, 5000);
    /* make sure the old WAL is folded into the file before we replace it */
    sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    if (sqlite3_prepare_v2(db,
                           "SELECT (SELECT COUNT(*) FROM nodes), (SELECT COUNT(*) FROM "
                           "node_checksums)",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        goto done;
    sqlite3_int64 nodes = sqlite3_column_int64(st, 0), sums = sqlite3_column_int64(st, 1);
    sqlite3_finalize(st);
    st = NULL;
    if (nodes > 0 && sums == 0)
        goto done; /* the original's migration case: full re-index */
    /* each stored checksum is looked up in the graph's id table (no sort) */
    if (sqlite3_prepare_v2(db, "SELECT node_id, checksum FROM node_checksums", -1, &st, NULL) !=
        SQLITE_OK)
        goto done;
    size_t matched = 0, modified = 0, deleted = 0;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_blob(st, 0);
        size_t idl = (size_t)sqlite3_column_bytes(st, 0);
        uint32_t sym = st_symtab_find(&g->ids, id ? id : "", idl);
        const st_rec *r = sym == ST_SYM_NONE ? NULL : st_graph_indexed(g, sym);
        if (!r) {
            deleted++;
            continue;
        }
        matched++;
        if ((rc = st_graph_checksum(g, r, &ck)) < 0)
            goto done;
        const void *theirs = sqlite3_column_blob(st, 1);
        size_t tl = (size_t)sqlite3_column_bytes(st, 1);
        if (tl != ck.len || (tl && memcmp(theirs, ck.ptr, tl) != 0))
            modified++;
    }
    if (s != SQLITE_DONE)
        goto done;
    size_t added = g->index_count > matched ? g->index_count - matched : 0;
    res->added = added;
    res->modified = modified;
    res->deleted = deleted;
    *changed = (added + modified + deleted) > 0;
done:
    sqlite3_finalize(st);
    if (db)
        sqlite3_close(db);
    jt_out_free(&ck);
    return rc;
}

/*
 * Field exclusions are user data: attach the old index so its
 * field_exclusions rows can be carried over, and read their names (they
 * filter field_values). Sets *attached when "old" is attached.
 */
static int attach_old(sqlite3 *db, const char *old_path, st_symtab *names, int *attached)
{
    struct stat sb;
    *attached = 0;
    if (stat(old_path, &sb) != 0)
        return 0;
    sqlite3_stmt *st = NULL;
    int rc = 0;
    /* not "?mode=ro": a read-only connection cannot open a WAL-mode index
     * (the original always leaves its index in WAL mode); we only read it */
    char *sql = sqlite3_mprintf("ATTACH DATABASE %Q AS old", old_path);
    if (!sql) {
        rc = st_error_set(RESONA_ENOMEM, "out of memory");
        goto done;
    }
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        goto done; /* unreadable old index: nothing to carry */
    if (sqlite3_prepare_v2(db, "SELECT field_name FROM old.field_exclusions", -1, &st, NULL) !=
        SQLITE_OK) {
        sqlite3_exec(db, "DETACH DATABASE old", NULL, NULL, NULL);
        goto done; /* not a supertag index */
    }
    *attached = 1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        uint32_t sym;
        const char *n = (const char *)sqlite3_column_blob(st, 0);
        size_t nl = (size_t)sqlite3_column_bytes(st, 0);
        if (st_symtab_intern(names, n ? n : "", nl, &sym) < 0) {
            rc = st_error_set(RESONA_ENOMEM, "out of memory");
            break;
        }
    }
done:
    sqlite3_finalize(st);
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
    st_writeback *wb = NULL;
    int rc = 0;
    unlink(tmp_path);
    if (sqlite3_open_v2(tmp_path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        rc = st_error_set(RESONA_EIO, "cannot create %s: %s", tmp_path,
                          db ? sqlite3_errmsg(db) : "out of memory");
        goto done;
    }
    if (o->stop)
        sqlite3_progress_handler(db, 10000, progress_stop, (void *)o->stop);
    /* the file exists once opened; the disk starts on it while we compute */
    wb = st_writeback_start(tmp_path, 40);
    /* Page cache: enough for the random-access index B-trees (~160 bytes a
     * node), bounded; the table pages themselves are written once, in order. */
    int cache_mb = o->cache_mb;
    if (cache_mb <= 0) {
        size_t want = g->index_count / 6000;
        cache_mb = want < 16 ? 16 : (want > 256 ? 256 : (int)want);
    }
    char pragmas[256];
    snprintf(pragmas, sizeof(pragmas),
             "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA locking_mode=EXCLUSIVE; "
             "PRAGMA cache_size=-%d; PRAGMA temp_store=FILE; PRAGMA threads=2;",
             cache_mb * 1024);
    int attached = 0;
    if ((rc = st_index_exec(db, pragmas)) < 0 ||
        (rc = attach_old(db, o->db_path, &excl, &attached)) < 0 ||
        (rc = st_index_exec(db, "BEGIN")) < 0)
        goto done;
    int64_t now = o->now_ms;
    if (!now) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    }
    if ((rc = st_index_write(db, g, base_of(o->export_path), now, excl.count ? &excl : NULL,
                             attached, &res->counts)) < 0 ||
        (rc = st_index_exec(db, "COMMIT")) < 0 || (rc = st_index_after_commit(db)) < 0 ||
        (attached && (rc = st_index_exec(db, "DETACH DATABASE old")) < 0) ||
        (rc = st_index_exec(db, "PRAGMA journal_mode=DELETE")) < 0)
        goto done;
done:
    if (db && sqlite3_close(db) != SQLITE_OK && rc == 0)
        rc = st_error_set(RESONA_EIO, "closing %s failed", tmp_path);
    st_writeback_stop(wb);
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
    st_export_info info;
    if ((rc = st_sync_read_graph(o->export_path, &o->parse, &g, o->stop, 2, &info)) < 0 ||
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
    if ((rc = build(o, &g, tmp, res)) < 0) {
        if (o->stop && *o->stop) /* SQLite reports the stop as its own error */
            rc = st_error_set(RESONA_EINTERRUPTED, "sync interrupted");
        goto done;
    }
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
