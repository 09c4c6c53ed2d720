/*
 * tests/context/common.h - helpers shared by the context tests: a private
 * copy of the original's tana-index.db, opened read-write in a temp dir.
 */
#ifndef TEST_CONTEXT_COMMON_H
#define TEST_CONTEXT_COMMON_H

#include "support.h"

#include <sqlite3.h>

struct db_fixture {
    char *dir;
    char *path;
    sqlite3 *db;
};

/** Copy tests/fixtures/original-workspace/tana-index.db to a temp dir and open it. */
void db_fixture_open(struct db_fixture *f);
void db_fixture_close(struct db_fixture *f);
/** One integer from a query (fails the test on error). */
long long db_int(sqlite3 *db, const char *sql);

#endif
