/*
 * test_sync_readgraph.c - the two-thread export read gives exactly what the
 * one-thread read gives: the same records, ids, children and raw_data, and
 * for bad input the same (first in file order) error, whether the failure
 * is a bad doc seen by the graph thread or bad JSON seen by the reader, and
 * however many batches lie between them. Exports are big enough to span
 * many batches (512 docs / 2 MiB each).
 */
#include "support.h"

#include "st_error.h"
#include "sync/graph.h"
#include "sync/readgraph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/st_readgraph_XXXXXX";

/* An export of n docs; doc `bad_doc` (if < n) has a numeric name; when
 * cut > 0 the file is cut after `cut` bytes, or (garbage) doc number `cut`
 * starts with '@' instead of '{'. Returns the path. */
static char *write_export_g(const char *name, size_t n, size_t bad_doc, size_t big_every,
                            size_t cut, int garbage)
{
    size_t cap = 1 << 16, len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
#define PUT(...)                                                                                   \
    do {                                                                                           \
        char tmp[512];                                                                             \
        int put_n = snprintf(tmp, sizeof(tmp), __VA_ARGS__);                                           \
        while (len + (size_t)put_n + 1 > cap)                                                          \
            text = realloc(text, cap *= 2);                                                        \
        memcpy(text + len, tmp, (size_t)put_n + 1);                                                    \
        len += (size_t)put_n;                                                                        \
    } while (0)
    PUT("{\"formatVersion\":1,\"docs\":[");
    for (size_t i = 0; i < n; i++) {
        PUT("%s{\"id\":\"n%zu\",\"props\":{\"created\":%zu,", i ? "," : "", i, 1700000000000 + i);
        if (i == bad_doc)
            PUT("\"name\":17},");
        else
            PUT("\"name\":\"Node <b>%zu</b> \\u00e9\\n\"},", i);
        if (big_every && i % big_every == 0) { /* a long field: arenas fill by bytes too */
            PUT("\"touchCounts\":[");
            for (int k = 0; k < 2000; k++)
                PUT("%s%d", k ? "," : "", k);
            PUT("],");
        }
        PUT("\"children\":[\"n%zu\",\"n%zu\"],\"modifiedTs\":[%zu]}", (i * 7 + 1) % n,
            (i * 13 + 5) % n, i);
    }
    PUT("],\"editors\":[]}");
    if (garbage) { /* `cut` is a doc number: its '{' becomes '@' */
        char key[64];
        snprintf(key, sizeof(key), "{\"id\":\"n%zu\"", cut);
        char *at = strstr(text, key);
        assert_non_null(at);
        *at = '@';
    } else if (cut && cut < len) {
        len = cut;
    }
#undef PUT
    char *path = malloc(strlen(dir) + strlen(name) + 2);
    sprintf(path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
    free(text);
    return path;
}

static char *write_export(const char *name, size_t n, size_t bad_doc, size_t big_every,
                          size_t cut)
{
    return write_export_g(name, n, bad_doc, big_every, cut, 0);
}

typedef struct result {
    int rc;
    char msg[512];
    size_t recs, index_count, docs;
    jt_out dump; /* every record: id, name, children, raw_data */
} result;

static void read_with(const char *path, int threads, result *res)
{
    st_graph g;
    memset(res, 0, sizeof(*res));
    assert_int_equal(st_graph_init(&g, dir), 0);
    st_export_info info = {0};
    st_error_clear();
    res->rc = st_sync_read_graph(path, NULL, &g, NULL, threads, &info);
    snprintf(res->msg, sizeof(res->msg), "%s", st_error_message());
    if (res->rc == 0) {
        assert_int_equal(st_graph_resolve(&g), 0);
        res->recs = g.rec_count;
        res->index_count = g.index_count;
        res->docs = info.doc_count;
        jt_out raw = {0};
        for (size_t i = 0; i < g.index_count; i++) {
            const st_rec *r = &g.recs[g.index[i]];
            size_t l;
            const char *id = st_graph_id(&g, r->id, &l);
            jt_out_append(&res->dump, id, l);
            jt_out_append(&res->dump, "|", 1);
            if (r->name.len != ST_STR_ABSENT)
                jt_out_append(&res->dump, st_graph_str(&g, r->name), r->name.len);
            for (uint32_t k = 0; k < r->children_count; k++) {
                const char *c = st_graph_id(&g, st_graph_children(&g, r)[k], &l);
                jt_out_append(&res->dump, "|", 1);
                jt_out_append(&res->dump, c, l);
            }
            assert_int_equal(st_graph_read_raw(&g, r, &raw), 0);
            jt_out_append(&res->dump, "|", 1);
            jt_out_append(&res->dump, raw.ptr, raw.len);
            jt_out_append(&res->dump, "\n", 1);
        }
        jt_out_free(&raw);
    }
    st_graph_free(&g);
}

static void same(const char *path, int expect_ok, const char *needle)
{
    result a, b;
    read_with(path, 1, &a);
    read_with(path, 2, &b);
    if (expect_ok) {
        assert_int_equal(a.rc, 0);
        assert_true(a.docs > 0);
    } else {
        assert_int_not_equal(a.rc, 0);
        if (!strstr(a.msg, needle))
            fail_msg("one thread: '%s' lacks '%s'", a.msg, needle);
    }
    assert_int_equal(a.rc, b.rc);
    assert_string_equal(a.msg, b.msg);
    assert_int_equal(a.recs, b.recs);
    assert_int_equal(a.index_count, b.index_count);
    assert_int_equal(a.docs, b.docs);
    assert_int_equal(a.dump.len, b.dump.len);
    if (a.dump.len)
        assert_memory_equal(a.dump.ptr, b.dump.ptr, a.dump.len);
    jt_out_free(&a.dump);
    jt_out_free(&b.dump);
}

static void test_same_graph(void **state)
{
    (void)state;
    char *p = write_export("good.json", 5000, (size_t)-1, 97, 0);
    same(p, 1, NULL);
    free(p);
    p = write_export("one.json", 1, (size_t)-1, 0, 0); /* one doc: only the last batch */
    same(p, 1, NULL);
    free(p);
}

static void test_bad_doc_in_a_late_batch(void **state)
{
    (void)state;
    char *p = write_export("baddoc.json", 5000, 3100, 0, 0);
    same(p, 0, "docs[3100]");
    free(p);
}

static void test_first_failure_in_file_order(void **state)
{
    (void)state;
    /* a bad doc early, then the file is cut: the bad doc is reported */
    char *p = write_export("both.json", 3000, 700, 0, 300000);
    same(p, 0, "docs[700]");
    free(p);
    /* only the cut: the reader's truncation error */
    p = write_export("cut.json", 3000, (size_t)-1, 0, 300000);
    same(p, 0, "truncated");
    free(p);
    /* bad JSON in the middle, bad doc before it / after it */
    p = write_export_g("junk1.json", 3000, 500, 0, 2000, 1);
    same(p, 0, "docs[500]");
    free(p);
    p = write_export_g("junk2.json", 3000, 2900, 0, 2000, 1);
    same(p, 0, "invalid JSON at byte");
    free(p);
}

static void test_missing_file(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof(path), "%s/none.json", dir);
    same(path, 0, "none.json");
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_graph),
        cmocka_unit_test(test_bad_doc_in_a_late_batch),
        cmocka_unit_test(test_first_failure_in_file_order),
        cmocka_unit_test(test_missing_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
