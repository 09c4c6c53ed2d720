/*
 * lance/test_lance_table.c - create/append/scan round trips of every type
 * with nulls, many pages, several fragments, time travel, deletions of both
 * kinds, compaction keeping every row in order, pruning, and refusals
 * (bad batches, format 2.2, legacy 0.1, unknown feature flags).
 */
#include "support.h"

#include "lt_gen.h"

#include "lance/table_int.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static resona_table *make_table(const char *dir, uint32_t dim, resona_manifest_naming naming)
{
    char *path = ts_path(dir, "t.lance");
    resona_schema sc;
    lt_schema(&sc, dim);
    resona_create_options co = RESONA_CREATE_OPTIONS_INIT;
    co.naming = naming;
    resona_table *t = NULL;
    assert_int_equal(resona_table_create(path, &sc, &co, &t), 0);
    free(path);
    return t;
}

static void append_rows(resona_table *t, uint64_t first, size_t n, uint32_t dim)
{
    lt_batch b;
    lt_batch_make(&b, first, n, dim);
    int rc = resona_table_append(t, &b.batch, NULL);
    if (rc)
        fprintf(stderr, "append: %s\n", resona_error_message());
    assert_int_equal(rc, 0);
    lt_batch_free(&b);
}

static size_t count_files(const char *dir, const char *sub, const char *suffix)
{
    char *p = ts_path(dir, sub);
    DIR *d = opendir(p);
    free(p);
    if (!d)
        return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name), sl = strlen(suffix);
        if (e->d_name[0] != '.' && l >= sl && !strcmp(e->d_name + l - sl, suffix))
            n++;
    }
    closedir(d);
    return n;
}

static void test_roundtrip_types(void **state)
{
    (void)state;
    char *dir = ts_tmpdir("lance-rt");
    resona_table *t = make_table(dir, 16, RESONA_NAMING_V2);
    assert_int_equal(resona_table_version(t), 1);
    append_rows(t, 0, 100, 16);
    append_rows(t, 100, 1, 16);
    append_rows(t, 101, 5000, 16);
    assert_int_equal(resona_table_version(t), 4);
    unsigned *seen = calloc(6000, sizeof(unsigned));
    assert_int_equal(lt_check(t, 16, seen, 6000, 333, 1), 5101);
    for (int k = 0; k < 5101; k++)
        assert_int_equal(seen[k], 1);
    resona_table_stats st;
    assert_int_equal(resona_table_stats_get(t, &st), 0);
    assert_int_equal(st.rows, 5101);
    assert_int_equal(st.fragments, 3);
    assert_int_equal(st.versions, 4);
    assert_int_equal(st.naming, RESONA_NAMING_V2);
    assert_string_equal(st.data_format, "2.0");
    resona_table_free(t);
    /* time travel: version 2 has the first batch only */
    char *path = ts_path(dir, "t.lance");
    resona_open_options oo = RESONA_OPEN_OPTIONS_INIT;
    oo.at_version = 2;
    assert_int_equal(resona_table_open(path, &oo, &t), 0);
    memset(seen, 0, 6000 * sizeof(unsigned));
    assert_int_equal(lt_check(t, 16, seen, 6000, 8192, 1), 100);
    resona_table_free(t);
    oo.at_version = 9;
    assert_int_equal(resona_table_open(path, &oo, &t), RESONA_ENOTFOUND);
    /* a fragment range */
    assert_int_equal(resona_table_open(path, NULL, &t), 0);
    resona_scan_options so = RESONA_SCAN_OPTIONS_INIT;
    const char *cols[] = {"id"};
    so.columns = cols;
    so.column_count = 1;
    so.fragment_first = 1;
    so.fragment_count = 1;
    resona_scan *s = NULL;
    assert_int_equal(resona_table_scan(t, &so, &s), 0);
    const resona_chunk *ch;
    assert_int_equal(resona_scan_next(s, &ch), 1);
    assert_int_equal(ch->rows, 1);
    assert_int_equal(ch->fragment_id, 1);
    assert_int_equal(ch->row_ids[0], (uint64_t)1 << 32);
    assert_int_equal(resona_scan_next(s, &ch), 0);
    resona_scan_free(s);
    resona_table_free(t);
    free(path);
    free(seen);
    assert_int_equal(ts_rmtree(dir), 0);
    free(dir);
}

static void test_many_pages(void **state)
{
    (void)state;
    char *dir = ts_tmpdir("lance-pages");
    /* 3000 x 1024-d = 12 MB of vectors: two pages of <= 8 MiB each */
    resona_table *t = make_table(dir, 1024, RESONA_NAMING_V1);
    append_rows(t, 0, 3000, 1024);
    /* long strings: 2500 x 4 KiB = 10 MB in one column -> two pages */
    resona_field f[] = {{"id", RESONA_TYPE_UTF8, 0, 1, 0, NULL}};
    resona_schema sc = {f, 1};
    char *p2 = ts_path(dir, "s.lance");
    resona_table *t2 = NULL;
    assert_int_equal(resona_table_create(p2, &sc, NULL, &t2), 0);
    size_t n = 2500, w = 4096;
    char *data = malloc(n * w);
    uint64_t *off = malloc((n + 1) * 8);
    off[0] = 0;
    for (size_t i = 0; i < n; i++) {
        memset(data + i * w, 'a' + (int)(i % 26), w);
        off[i + 1] = (i + 1) * w;
    }
    resona_column c = {"id", data, off, NULL};
    resona_batch b = {n, &c, 1};
    assert_int_equal(resona_table_append(t2, &b, NULL), 0);
    resona_scan_options so = RESONA_SCAN_OPTIONS_INIT;
    so.chunk_rows = 777;
    resona_scan *s = NULL;
    assert_int_equal(resona_table_scan(t2, &so, &s), 0);
    const resona_chunk *ch;
    size_t row = 0;
    while (resona_scan_next(s, &ch) > 0)
        for (size_t i = 0; i < ch->rows; i++, row++) {
            assert_int_equal(ch->columns[0].offsets[i + 1] - ch->columns[0].offsets[i], w);
            assert_int_equal(((const char *)ch->columns[0].values)[ch->columns[0].offsets[i]],
                             'a' + (int)(row % 26));
        }
    assert_int_equal(row, n);
    resona_scan_free(s);
    /* the data files really have several pages per column */
    resona_table_free(t2);
    free(p2);
    free(data);
    free(off);
    unsigned *seen = calloc(3000, sizeof(unsigned));
    assert_int_equal(lt_check(t, 1024, seen, 3000, 1000, 1), 3000);
    resona_table_free(t);
    free(seen);
    assert_int_equal(ts_rmtree(dir), 0);
    free(dir);
}

static void delete_keys(resona_table *t, uint64_t from, uint64_t to, uint64_t step, uint64_t expect)
{
    size_t n = (size_t)((to - from + step - 1) / step);
    char **v = calloc(n + 1, sizeof(char *));
    size_t i = 0;
    for (uint64_t k = from; k < to; k += step) {
        v[i] = malloc(32);
        snprintf(v[i], 32, "id%llu", (unsigned long long)k);
        i++;
    }
    uint64_t got = 0;
    int rc = resona_table_delete(t, "id", (const char *const *)v, i, &got);
    if (rc)
        fprintf(stderr, "delete: %s\n", resona_error_message());
    assert_int_equal(rc, 0);
    assert_int_equal(got, expect);
    for (size_t j = 0; j < i; j++)
        free(v[j]);
    free(v);
}

static void test_delete_compact_prune(void **state)
{
    (void)state;
    char *dir = ts_tmpdir("lance-del");
    char *path = ts_path(dir, "t.lance");
    resona_table *t = make_table(dir, 4, RESONA_NAMING_V1);
    append_rows(t, 0, 6000, 4);   /* fragment 0 */
    append_rows(t, 6000, 100, 4); /* fragment 1 */
    append_rows(t, 6100, 50, 4);  /* fragment 2 */
    /* 5500 rows of fragment 0 -> bitmap; 3 of fragment 1 -> Arrow IPC */
    delete_keys(t, 0, 5500, 1, 5500);
    delete_keys(t, 6000, 6003, 1, 3);
    assert_int_equal(count_files(path, "_deletions", ".bin"), 1);
    assert_int_equal(count_files(path, "_deletions", ".arrow"), 1);
    /* again in fragment 1: a new file holds old and new offsets */
    delete_keys(t, 6010, 6020, 2, 5);
    /* unknown keys delete nothing and commit nothing */
    uint64_t v0 = resona_table_version(t);
    delete_keys(t, 900000, 900003, 1, 0);
    assert_int_equal(resona_table_version(t), v0);
    /* every row of fragment 2 -> the fragment is dropped */
    delete_keys(t, 6100, 6150, 1, 50);
    resona_table_stats st;
    assert_int_equal(resona_table_stats_get(t, &st), 0);
    assert_int_equal(st.fragments, 2);
    assert_int_equal(st.rows, 6150 - 5500 - 3 - 5 - 50);
    assert_int_equal(st.deleted_rows, 5500 + 8);
    assert_int_equal(st.reader_flags & 1, 1);
    resona_table_free(t);
    assert_int_equal(resona_table_open(path, NULL, &t), 0);
    unsigned *seen = calloc(7000, sizeof(unsigned));
    assert_int_equal(lt_check(t, 4, seen, 7000, 1000, 1), 592);
    for (uint64_t k = 0; k < 6150; k++) {
        int deleted = k < 5500 || (k >= 6000 && k < 6003) ||
                      (k >= 6010 && k < 6020 && k % 2 == 0) || k >= 6100;
        assert_int_equal(seen[k], deleted ? 0 : 1);
    }
    /* compaction: both fragments small and/or heavily deleted -> one fragment, same rows, same
     * order */
    resona_compact_stats cs;
    assert_int_equal(resona_table_compact(t, NULL, &cs), 0);
    assert_int_equal(cs.fragments_removed, 2);
    assert_int_equal(cs.fragments_added, 1);
    assert_int_equal(resona_table_stats_get(t, &st), 0);
    assert_int_equal(st.fragments, 1);
    assert_int_equal(st.deleted_rows, 0);
    assert_int_equal(st.reader_flags & 1, 0);
    uint64_t vc = st.version;
    unsigned *seen2 = calloc(7000, sizeof(unsigned));
    assert_int_equal(lt_check(t, 4, seen2, 7000, 100, 1), 592);
    assert_memory_equal(seen, seen2, 7000 * sizeof(unsigned));
    /* nothing left to do: no new version */
    assert_int_equal(resona_table_compact(t, NULL, &cs), 0);
    assert_int_equal(resona_table_version(t), vc);
    /* target smaller than the data: several fragments */
    append_rows(t, 6200, 300, 4);
    resona_compact_options co = RESONA_COMPACT_OPTIONS_INIT;
    co.target_rows = 250;
    assert_int_equal(resona_table_compact(t, &co, &cs), 0);
    memset(seen2, 0, 7000 * sizeof(unsigned));
    assert_int_equal(lt_check(t, 4, seen2, 7000, 64, 1), 892);
    /* prune: everything older than now, after a pause so the files are older */
    sleep(1);
    resona_prune_stats ps;
    assert_int_equal(resona_table_prune(t, 0, &ps), 0);
    assert_true(ps.versions_removed >= 5);
    assert_true(ps.files_removed > ps.versions_removed);
    assert_int_equal(resona_table_stats_get(t, &st), 0);
    assert_int_equal(st.versions, 1);
    assert_int_equal(count_files(path, "_deletions", ""), 0);
    assert_int_equal(count_files(path, "data", ".lance"), st.fragments);
    memset(seen2, 0, 7000 * sizeof(unsigned));
    assert_int_equal(lt_check(t, 4, seen2, 7000, 8192, 1), 892);
    resona_table_free(t);
    resona_open_options oo = RESONA_OPEN_OPTIONS_INIT;
    oo.at_version = 2;
    assert_int_equal(resona_table_open(path, &oo, &t), RESONA_ENOTFOUND);
    free(seen);
    free(seen2);
    free(path);
    assert_int_equal(ts_rmtree(dir), 0);
    free(dir);
}

static void test_bad_batches(void **state)
{
    (void)state;
    char *dir = ts_tmpdir("lance-bad");
    resona_table *t = make_table(dir, 4, RESONA_NAMING_V2);
    lt_batch b;
    lt_batch_make(&b, 0, 10, 4);
    /* null in a non-nullable column */
    uint8_t none[2] = {0xfe, 0xff};
    b.cols[1].validity = none;
    assert_int_equal(resona_table_append(t, &b.batch, NULL), RESONA_EINVALID);
    assert_non_null(strstr(resona_error_message(), "\"id\""));
    b.cols[1].validity = NULL;
    /* unknown column */
    b.cols[2].name = "nope";
    assert_int_equal(resona_table_append(t, &b.batch, NULL), RESONA_EINVALID);
    assert_non_null(strstr(resona_error_message(), "nope"));
    /* a batch without the non-nullable k */
    b.cols[2].name = "s";
    b.batch.columns = b.cols + 1;
    b.batch.column_count = 6;
    assert_int_equal(resona_table_append(t, &b.batch, NULL), RESONA_EINVALID);
    /* a batch with only some nullable columns: the others are null */
    b.batch.columns = b.cols;
    b.batch.column_count = 2;
    assert_int_equal(resona_table_append(t, &b.batch, NULL), 0);
    assert_int_equal(resona_table_version(t), 2);
    resona_scan *s = NULL;
    const resona_chunk *ch;
    assert_int_equal(resona_table_scan(t, NULL, &s), 0);
    assert_int_equal(resona_scan_next(s, &ch), 1);
    assert_int_equal(ch->rows, 10);
    for (int c = 2; c < 7; c++) {
        assert_non_null(ch->columns[c].validity);
        assert_int_equal(ch->columns[c].validity[0], 0);
    }
    resona_scan_free(s);
    lt_batch_free(&b);
    /* create over an existing table */
    char *path = ts_path(dir, "t.lance");
    resona_schema sc;
    lt_schema(&sc, 4);
    resona_table *t2 = NULL;
    assert_int_equal(resona_table_create(path, &sc, NULL, &t2), RESONA_EEXISTS);
    /* scan of an unknown column */
    const char *cols[] = {"zz"};
    resona_scan_options so = RESONA_SCAN_OPTIONS_INIT;
    so.columns = cols;
    so.column_count = 1;
    assert_int_equal(resona_table_scan(t, &so, &s), RESONA_ENOTFOUND);
    resona_table_free(t);
    free(path);
    assert_int_equal(ts_rmtree(dir), 0);
    free(dir);
}

/* Commit a manifest that differs in data format / flags, through the internal commit. */
static int commit_variant(resona_table *t, const char *format, uint64_t reader_flags)
{
    Lt__Manifest next = *t->man;
    Lt__DataStorageFormat df = LT__DATA_STORAGE_FORMAT__INIT;
    df.file_format = (char *)"lance";
    df.version = (char *)format;
    next.data_format = &df;
    next.has_reader_feature_flags = reader_flags != 0;
    next.reader_feature_flags = reader_flags;
    Lt__Transaction__Append ap = LT__TRANSACTION__APPEND__INIT;
    Lt__Transaction txn = LT__TRANSACTION__INIT;
    txn.operation_case = LT__TRANSACTION__OPERATION_APPEND;
    txn.append = &ap;
    return resona__manifest_commit(t, &next, &txn, NULL, 0);
}

static void test_format_refusals(void **state)
{
    (void)state;
    char *dir = ts_tmpdir("lance-fmt");
    char *path = ts_path(dir, "t.lance");
    resona_table *t = make_table(dir, 4, RESONA_NAMING_V2);
    append_rows(t, 0, 5, 4);
    /* a data format resona does not implement (2.3, lance's unstable "next"; 2.1 and 2.2
       are read since issue 8 and the 2.2 work): refused */
    {
        char *sub22 = ts_path(dir, "f22");
        resona_table *t22 = make_table(sub22, 4, RESONA_NAMING_V2);
        append_rows(t22, 0, 5, 4);
        assert_int_equal(commit_variant(t22, "2.3", 0), RESONA_EUNSUPPORTED);
        resona_table_free(t22);
        char *p22 = ts_path(sub22, "t.lance");
        assert_int_equal(resona_table_open(p22, NULL, &t22), RESONA_EUNSUPPORTED);
        assert_non_null(strstr(resona_error_message(), "2.3"));
        free(p22);
        free(sub22);
    }
    /* legacy 0.1: refused at open */
    assert_int_equal(commit_variant(t, "0.1", 0), RESONA_EUNSUPPORTED);
    resona_table_free(t);
    assert_int_equal(resona_table_open(path, NULL, &t), RESONA_EUNSUPPORTED);
    assert_non_null(strstr(resona_error_message(), "0.1"));
    /* an unknown reader feature flag (4: deprecated, not implemented here) */
    char *sub = ts_path(dir, "f");
    t = make_table(sub, 4, RESONA_NAMING_V2);
    assert_int_equal(commit_variant(t, "2.0", 4), RESONA_EUNSUPPORTED);
    resona_table_free(t);
    char *p2 = ts_path(sub, "t.lance");
    assert_int_equal(resona_table_open(p2, NULL, &t), RESONA_EUNSUPPORTED);
    assert_non_null(strstr(resona_error_message(), "feature flags"));
    free(p2);
    free(sub);
    free(path);
    assert_int_equal(ts_rmtree(dir), 0);
    free(dir);
}

/*
 * part_index/part_count: n scans of one fragment (with deleted rows) take its
 * chunks round-robin; together they return every live row exactly once, each
 * in row order, and a version-1 options struct still scans everything.
 */
static void test_scan_parts(void **state)
{
    (void)state;
    char *dir = ts_tmpdir("lance-parts");
    resona_table *t = make_table(dir, 4, RESONA_NAMING_V2);
    append_rows(t, 0, 2500, 4);
    const char *gone[] = {"id0", "id1", "id700", "id701", "id2499"};
    uint64_t deleted = 0;
    assert_int_equal(resona_table_delete(t, "id", gone, 5, &deleted), 0);
    assert_int_equal(deleted, 5);
    const char *cols[] = {"k"};
    for (size_t parts = 1; parts <= 4; parts++) {
        unsigned *seen = calloc(2500, sizeof(unsigned));
        size_t total = 0;
        for (size_t p = 0; p < parts; p++) {
            resona_scan_options so = RESONA_SCAN_OPTIONS_INIT;
            so.columns = cols;
            so.column_count = 1;
            so.chunk_rows = 300;
            so.part_index = p;
            so.part_count = parts;
            resona_scan *sc = NULL;
            assert_int_equal(resona_table_scan(t, &so, &sc), 0);
            const resona_chunk *c;
            int64_t last = -1;
            int rc;
            while ((rc = resona_scan_next(sc, &c)) == 1) {
                const int64_t *k = c->columns[0].values;
                for (size_t r = 0; r < c->rows; r++) {
                    assert_true(k[r] > last); /* in row order within a part */
                    last = k[r];
                    assert_true(k[r] >= 0 && k[r] < 2500);
                    seen[k[r]]++;
                    /* chunk number within the fragment is (row offset / chunk_rows) */
                    assert_int_equal(((uint64_t)k[r] / 300) % parts, p);
                }
                total += c->rows;
            }
            assert_int_equal(rc, 0);
            resona_scan_free(sc);
        }
        assert_int_equal(total, 2495);
        for (int k = 0; k < 2500; k++)
            assert_int_equal(seen[k], (k == 0 || k == 1 || k == 700 || k == 701 || k == 2499) ? 0 : 1);
        free(seen);
    }
    /* a part index outside the count is refused */
    resona_scan_options bad = RESONA_SCAN_OPTIONS_INIT;
    bad.part_index = 3;
    bad.part_count = 3;
    resona_scan *sc = NULL;
    assert_int_equal(resona_table_scan(t, &bad, &sc), RESONA_EINVALID);
    assert_null(sc);
    /* a version-1 struct (no part fields) scans every row */
    resona_scan_options v1 = RESONA_SCAN_OPTIONS_INIT;
    v1.version = 1;
    v1.part_index = 7; /* beyond a v1 struct: must be ignored */
    v1.part_count = 2;
    assert_int_equal(resona_table_scan(t, &v1, &sc), 0);
    const resona_chunk *c;
    size_t rows = 0;
    while (resona_scan_next(sc, &c) == 1)
        rows += c->rows;
    assert_int_equal(rows, 2495);
    resona_scan_free(sc);
    resona_table_free(t);
    ts_rmtree(dir);
    free(dir);
}

int main(void)
{
    /* fsync is exercised by test_lance_golden; here it would only add minutes
     * on a busy disk (no test here power-cycles the machine) */
    setenv("RESONA_UNSAFE_NO_FSYNC", "1", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_types),      cmocka_unit_test(test_many_pages),
        cmocka_unit_test(test_delete_compact_prune), cmocka_unit_test(test_bad_batches),
        cmocka_unit_test(test_format_refusals), cmocka_unit_test(test_scan_parts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
