/*
 * search/test_embed_maintain.c - `supertag embed maintain` on a table of
 * 1,000 one-append fragments: afterwards at most a few fragments remain and
 * exactly the same rows minus the stale ones (rows whose base id is no named
 * node), chunk rows of live nodes included; --dry-run changes nothing.
 */
#include "support.h"

#include "embed_cmds.h"

#include <resona/table.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FRAGS 1000

typedef struct row {
    char id[32];
    float v[4];
} row;

static int cmp_row(const void *a, const void *b)
{
    return strcmp(((const row *)a)->id, ((const row *)b)->id);
}

/* All rows of the table, sorted by id. */
static row *read_rows(const char *path, size_t *count, uint64_t *fragments, uint64_t *version)
{
    resona_table *t = NULL;
    assert_int_equal(resona_table_open(path, NULL, &t), 0);
    resona_table_stats st;
    assert_int_equal(resona_table_stats_get(t, &st), 0);
    *fragments = st.fragments;
    *version = st.version;
    const char *cols[2] = {"id", "vector"};
    resona_scan_options so = RESONA_SCAN_OPTIONS_INIT;
    so.columns = cols;
    so.column_count = 2;
    resona_scan *scan = NULL;
    assert_int_equal(resona_table_scan(t, &so, &scan), 0);
    row *rows = calloc(4 * FRAGS, sizeof(row));
    size_t n = 0;
    const resona_chunk *c;
    while (resona_scan_next(scan, &c) == 1) {
        const uint64_t *off = c->columns[0].offsets;
        for (size_t r = 0; r < c->rows; r++) {
            size_t len = (size_t)(off[r + 1] - off[r]);
            memcpy(rows[n].id, (const char *)c->columns[0].values + off[r], len);
            rows[n].id[len] = '\0';
            memcpy(rows[n].v, (const float *)c->columns[1].values + r * 4, sizeof(rows[n].v));
            n++;
        }
    }
    resona_scan_free(scan);
    resona_table_free(t);
    qsort(rows, n, sizeof(row), cmp_row);
    *count = n;
    return rows;
}

static int is_stale(const char *id)
{
    int node = atoi(id + 1); /* "n<k>" or "n<k>#<c>" */
    return node >= 400;      /* n400.. have no name or are not in the index */
}

static void test_maintain_1000_fragments(void **state)
{
    (void)state;
    char *dir = ts_tmpdir("maintain");
    char *cfg_dir = ts_path(dir, "config"), *data_dir = ts_path(dir, "data");
    setenv("XDG_CONFIG_HOME", cfg_dir, 1);
    setenv("XDG_DATA_HOME", data_dir, 1);
    setenv("HOME", dir, 1);
    char *ws = ts_path(data_dir, "supertag/workspaces/main");
    char cmd[4096];
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s' '%s/supertag'", ws, cfg_dir);
    assert_int_equal(ts_run(cmd, NULL), 0);
    char *cfg = ts_path(cfg_dir, "supertag/config.json");
    const char *json = "{\"workspaces\": {\"main\": {\"rootFileId\": \"r\"}}, "
                       "\"defaultWorkspace\": \"main\"}\n";
    assert_int_equal(ts_write_file(cfg, json, strlen(json)), 0);

    /* the index: n0..n399 named, n400..n449 unnamed, n450.. absent */
    char *db_path = ts_path(ws, "tana-index.db");
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE nodes (id TEXT PRIMARY KEY, name TEXT, parent_id "
                                  "TEXT); BEGIN;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    for (int k = 0; k < 450; k++) {
        char sql[128];
        snprintf(sql, sizeof(sql), "INSERT INTO nodes VALUES ('n%d', %s, NULL)", k,
                 k < 400 ? "'a name'" : "NULL");
        assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    }
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    /* the table: 1,000 appends (one fragment each) of a node's 1-2 rows */
    char *table = ts_path(ws, "tana-index.lance/embeddings.lance");
    resona_field fields[2] = {{"id", RESONA_TYPE_UTF8, 0, 1, 0, NULL},
                              {"vector", RESONA_TYPE_VECTOR, 4, 1, 0, NULL}};
    resona_schema schema = {fields, 2};
    resona_create_options co = RESONA_CREATE_OPTIONS_INIT;
    co.naming = RESONA_NAMING_V1; /* like the original's tables */
    resona_table *t = NULL;
    assert_int_equal(resona_table_create(table, &schema, &co, &t), 0);
    for (int f = 0; f < FRAGS; f++) {
        char ids[64];
        uint64_t off[3] = {0, 0, 0};
        int k = f % 500, rows = f % 3 == 0 ? 2 : 1;
        if (rows == 2) {
            off[1] = (uint64_t)snprintf(ids, 32, "n%d#%d", k, f);
            off[2] = off[1] + (uint64_t)snprintf(ids + off[1], 32, "n%d#%d", k, f + 1);
        } else {
            off[1] = (uint64_t)snprintf(ids, 32, "n%d", f);
        }
        float v[8];
        for (int i = 0; i < 8; i++)
            v[i] = (float)(f * 8 + i);
        resona_column cols[2] = {{"id", ids, off, NULL}, {"vector", v, NULL, NULL}};
        resona_batch b = {(size_t)rows, cols, 2};
        assert_int_equal(resona_table_append(t, &b, NULL), 0);
    }
    resona_table_free(t);

    size_t n0, n1, n2;
    uint64_t frags0, frags1, frags2, ver0, ver1, ver2;
    row *before = read_rows(table, &n0, &frags0, &ver0);
    assert_int_equal(frags0, FRAGS);
    size_t stale = 0;
    for (size_t i = 0; i < n0; i++)
        stale += (size_t)is_stale(before[i].id);
    assert_true(stale > 0 && stale < n0);

    /* --dry-run changes nothing */
    char *dry_argv[] = {"maintain", "--dry-run", NULL};
    assert_int_equal(cmd_embed_maintain(2, dry_argv), 0);
    row *same = read_rows(table, &n1, &frags1, &ver1);
    assert_int_equal(n1, n0);
    assert_int_equal(frags1, frags0);
    assert_int_equal(ver1, ver0);
    free(same);

    char *argv[] = {"maintain", "--retention-days", "0", NULL};
    assert_int_equal(cmd_embed_maintain(3, argv), 0);
    row *after = read_rows(table, &n2, &frags2, &ver2);
    assert_true(frags2 <= 2);
    assert_int_equal(n2, n0 - stale);
    /* exactly the live rows, vectors unchanged (chunk rows of live nodes kept) */
    size_t j = 0, chunks = 0;
    for (size_t i = 0; i < n0; i++) {
        if (is_stale(before[i].id))
            continue;
        assert_string_equal(after[j].id, before[i].id);
        assert_memory_equal(after[j].v, before[i].v, sizeof(after[j].v));
        chunks += strchr(after[j].id, (int)0x23) ? 1u : 0u;
        j++;
    }
    assert_int_equal(j, n2);
    assert_true(chunks > 100);

    /* a second run finds nothing stale and keeps everything */
    assert_int_equal(cmd_embed_maintain(1, argv), 0);
    row *again = read_rows(table, &n1, &frags1, &ver1);
    assert_int_equal(n1, n2);
    assert_true(frags1 <= 2);
    free(again);

    free(after);
    free(before);
    free(table);
    free(db_path);
    free(cfg);
    free(ws);
    free(cfg_dir);
    free(data_dir);
    ts_rmtree(dir);
    free(dir);
}

static void test_maintain_no_embeddings(void **state)
{
    (void)state;
    char *dir = ts_tmpdir("maintain-none");
    setenv("XDG_CONFIG_HOME", dir, 1);
    setenv("XDG_DATA_HOME", dir, 1);
    char *cfg = ts_path(dir, "supertag/config.json");
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s/supertag/workspaces/main'", dir);
    assert_int_equal(ts_run(cmd, NULL), 0);
    const char *json = "{\"workspaces\": {\"main\": {\"rootFileId\": \"r\"}}}\n";
    assert_int_equal(ts_write_file(cfg, json, strlen(json)), 0);
    char *argv[] = {"maintain", NULL};
    assert_int_equal(cmd_embed_maintain(1, argv), 1);
    char *bad[] = {"maintain", "--bogus", NULL};
    assert_int_equal(cmd_embed_maintain(2, bad), 2);
    free(cfg);
    ts_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_maintain_1000_fragments),
        cmocka_unit_test(test_maintain_no_embeddings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
