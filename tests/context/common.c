/*
 * tests/context/common.c - see common.h.
 */
#include "common.h"

#include <stdlib.h>
#include <string.h>

void db_fixture_open(struct db_fixture *f)
{
    memset(f, 0, sizeof(*f));
    f->dir = ts_tmpdir("context");
    assert_non_null(f->dir);
    char *src = ts_fixture("original-workspace/tana-index.db");
    size_t len = 0;
    char *data = ts_read_file(src, &len);
    assert_non_null(data);
    f->path = ts_path(f->dir, "tana-index.db");
    assert_int_equal(ts_write_file(f->path, data, len), 0);
    free(data);
    free(src);
    assert_int_equal(sqlite3_open(f->path, &f->db), SQLITE_OK);
}

void db_fixture_close(struct db_fixture *f)
{
    sqlite3_close(f->db);
    ts_rmtree(f->dir);
    free(f->dir);
    free(f->path);
}

long long db_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}
