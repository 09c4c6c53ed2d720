/*
 * lance/test_lance_alloc.c - allocation failure injection ("torture"): the
 * allocations of open, append, scan, delete and compact fail in turn (every
 * one of the first 64, then a growing stride). Each
 * call must return an error (never crash, never leak under ASan), and the
 * table must still open at a committed version with every committed row.
 */
#include "support.h"

#include "lt_gen.h"

#include "util/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*op_fn)(const char *path, int i);

static int op_open_scan(const char *path, int i)
{
    (void)i;
    resona_table *t = NULL;
    int rc = resona_table_open(path, NULL, &t);
    if (rc < 0)
        return rc;
    resona_scan *s = NULL;
    rc = resona_table_scan(t, NULL, &s);
    const resona_chunk *ch;
    while (rc == 0 && (rc = resona_scan_next(s, &ch)) > 0)
        rc = 0;
    resona_scan_free(s);
    resona_table_free(t);
    return rc;
}

static int op_append(const char *path, int i)
{
    resona_table *t = NULL;
    resona__alloc_fail_after(-1);
    int rc = resona_table_open(path, NULL, &t);
    if (rc < 0)
        return rc;
    lt_batch b;
    lt_batch_make(&b, 1000 + (uint64_t)i * 10, 10, 4);
    resona__alloc_fail_after(i);
    rc = resona_table_append(t, &b.batch, NULL);
    resona__alloc_fail_after(-1);
    lt_batch_free(&b);
    resona_table_free(t);
    return rc;
}

static int op_delete(const char *path, int i)
{
    resona_table *t = NULL;
    resona__alloc_fail_after(-1);
    int rc = resona_table_open(path, NULL, &t);
    if (rc < 0)
        return rc;
    char key[32];
    snprintf(key, sizeof(key), "id%d", i % 20);
    const char *v[] = {key};
    resona__alloc_fail_after(i);
    rc = resona_table_delete(t, "id", v, 1, NULL);
    resona__alloc_fail_after(-1);
    resona_table_free(t);
    return rc;
}

static int op_compact(const char *path, int i)
{
    resona_table *t = NULL;
    resona__alloc_fail_after(-1);
    int rc = resona_table_open(path, NULL, &t);
    if (rc < 0)
        return rc;
    resona__alloc_fail_after(i);
    rc = resona_table_compact(t, NULL, NULL);
    resona__alloc_fail_after(-1);
    resona_table_free(t);
    return rc;
}

/*
 * Fail allocation i of op until the op succeeds untouched: every i up to 64,
 * then a growing stride (an operation makes thousands of allocations; each
 * failure is followed by a full open + scan, so every i would take minutes
 * under ASan).
 */
static void torture(const char *path, op_fn op, int inject_inside)
{
    for (int i = 0; i < 200000; i += i < 64 ? 1 : 1 + i / 24) {
        if (!inject_inside)
            resona__alloc_fail_after(i);
        int rc = op(path, i);
        resona__alloc_fail_after(-1);
        if (rc != 0 && rc != RESONA_ENOMEM)
            fail_msg("allocation %d: rc %d: %s", i, rc, resona_error_message());
        /* whatever happened, the table opens and scans */
        assert_int_equal(op_open_scan(path, 0), 0);
        if (rc == 0)
            return;
    }
    fail_msg("operation never succeeded");
}

static void test_alloc_failures(void **state)
{
    (void)state;
    char *dir = ts_tmpdir("lance-alloc");
    char *path = ts_path(dir, "t.lance");
    resona_schema sc;
    lt_schema(&sc, 4);
    resona_table *t = NULL;
    assert_int_equal(resona_table_create(path, &sc, NULL, &t), 0);
    lt_batch b;
    lt_batch_make(&b, 0, 20, 4);
    assert_int_equal(resona_table_append(t, &b.batch, NULL), 0);
    assert_int_equal(resona_table_append(t, &b.batch, NULL), 0);
    lt_batch_free(&b);
    resona_table_free(t);
    torture(path, op_open_scan, 0);
    torture(path, op_append, 1);
    torture(path, op_delete, 1);
    torture(path, op_compact, 1);
    free(path);
    assert_int_equal(ts_rmtree(dir), 0);
    free(dir);
}

int main(void)
{
    setenv("RESONA_UNSAFE_NO_FSYNC", "1", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
