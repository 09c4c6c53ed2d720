/*
 * test_sync_parse.c - the export reader, the JS-compatible printing and the
 * graph rules, in isolation: every kind of bad input fails with a message
 * naming the byte offset, good input in any chunking gives the same docs.
 */
#include "support.h"

#include "st_error.h"
#include "sync/export.h"
#include "sync/graph.h"
#include "sync/jsnum.h"
#include "sync/jtree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct collect {
    size_t docs;
    jt_out json; /* docs printed back, one per line */
} collect;

static int on_doc(const st_export_doc *d, void *payload)
{
    collect *c = payload;
    c->docs++;
    jt_write(&c->json, d->doc, 0);
    jt_out_append(&c->json, "\n", 1);
    return 0;
}

/* Parse text fed in chunks of `chunk` bytes; returns the code. */
static int parse(const char *text, size_t chunk, const st_export_opts *opts, collect *c)
{
    st_export_reader *r = NULL;
    int rc = st_export_reader_new("input.json", opts, on_doc, c, &r);
    assert_int_equal(rc, 0);
    size_t len = strlen(text);
    for (size_t off = 0; off < len && rc == 0; off += chunk)
        rc = st_export_reader_feed(r, text + off, len - off < chunk ? len - off : chunk);
    if (rc == 0)
        rc = st_export_reader_finish(r, NULL);
    st_export_reader_free(r);
    return rc;
}

static void expect_error(const char *text, const char *needle)
{
    for (size_t chunk = 1; chunk <= 4096; chunk *= 8) {
        collect c = {0};
        int rc = parse(text, chunk, NULL, &c);
        if (rc != RESONA_EINVALID || !strstr(st_error_message(), needle))
            fail_msg("input %.60s (chunk %zu): rc %d, message '%s', expected '%s'", text, chunk,
                     rc, st_error_message(), needle);
        jt_out_free(&c.json);
    }
}

static const char *good =
    "{\"formatVersion\":1,\"editors\":[[\"a\",0]],\"workspaces\":{\"w\":\"{}\"},\"refIndex\":{\"x\":"
    "[\"y\"]},\"docs\":[{\"id\":\"a\",\"props\":{\"name\":\"A\",\"created\":1765617400512,\"2\":"
    "true,\"1\":null,\"z\":1.50,\"z\":2e21},\"children\":[\"b\"]},{\"id\":\"b\",\"props\":{\"name\":"
    "\"tab\\there \\u0001 \\u00e9\"}}]}";

static void test_good_any_chunking(void **state)
{
    (void)state;
    for (size_t chunk = 1; chunk <= 1024; chunk *= 2) {
        collect c = {0};
        assert_int_equal(parse(good, chunk, NULL, &c), 0);
        assert_int_equal(c.docs, 2);
        /* JS key order (index keys first), duplicate key keeps first slot, JS numbers */
        assert_string_equal(c.json.ptr,
                            "{\"id\":\"a\",\"props\":{\"1\":null,\"2\":true,\"name\":\"A\","
                            "\"created\":1765617400512,\"z\":2e+21},\"children\":[\"b\"]}\n"
                            "{\"id\":\"b\",\"props\":{\"name\":\"tab\\there \\u0001 \xc3\xa9\"}}\n");
        jt_out_free(&c.json);
    }
}

static void test_wrapper(void **state)
{
    (void)state;
    collect c = {0};
    const char *w = "{\"storeData\":{\"formatVersion\":1,\"docs\":[{\"id\":\"a\",\"props\":{}}],"
                    "\"editors\":[],\"workspaces\":{}},\"other\":[1,2]}";
    assert_int_equal(parse(w, 7, NULL, &c), 0);
    assert_int_equal(c.docs, 1);
    jt_out_free(&c.json);
    c = (collect){0};
    /* storeData: null means the top level is the export */
    const char *n = "{\"storeData\":null,\"formatVersion\":1,\"docs\":[]}";
    assert_int_equal(parse(n, 3, NULL, &c), 0);
    jt_out_free(&c.json);
}

static void test_bad_inputs(void **state)
{
    (void)state;
    expect_error("{\"formatVersion\":1,\"docs\":[{\"id\":\"a\",\"props\":{}}", "truncated JSON");
    expect_error("{\"formatVersion\":1,\"docs\":[{\"id\":\"a\",\"pro", "truncated JSON");
    expect_error("", "empty file");
    expect_error("[1,2]", "top level is not an object");
    expect_error("{\"formatVersion\":1}", "no \"docs\" array");
    expect_error("{\"docs\":[]}", "no numeric \"formatVersion\"");
    expect_error("{\"formatVersion\":\"1\",\"docs\":[]}", "\"formatVersion\" is not a number at byte 20");
    expect_error("{\"formatVersion\":1,\"docs\":{}}", "\"docs\" is not an array at byte 27");
    expect_error("{\"formatVersion\":1,\"docs\":[1]}", "an element of \"docs\" is not an object at byte 28");
    expect_error("{\"formatVersion\":1,\"editors\":{},\"docs\":[]}", "\"editors\" is not an array");
    expect_error("{\"formatVersion\":1,\"docs\":[]} x", "invalid JSON at byte");
    expect_error("{\"formatVersion\":1,\"docs\":[],}", "invalid JSON at byte");
    expect_error("{\"formatVersion\":1,\"docs\":[{\"id\":\"\xff\xfe\",\"props\":{}}]}",
                 "invalid JSON at byte");
    expect_error("{\"formatVersion\":1,\"docs\":[{\"id\":\"a\",\"props\":{}}],"
                 "\"storeData\":{\"formatVersion\":1,\"docs\":[]}}",
                 "both top-level \"docs\" and \"storeData\"");
    /* deep nesting: bounded by max_depth, never a stack or memory blow-up */
    size_t depth = 100000;
    char *deep = malloc(depth * 2 + 64);
    assert_non_null(deep);
    strcpy(deep, "{\"formatVersion\":1,\"docs\":[{\"id\":\"a\",\"props\":{},\"x\":");
    size_t p = strlen(deep);
    for (size_t i = 0; i < depth; i++)
        deep[p++] = '[';
    deep[p] = '\0';
    expect_error(deep, "nested deeper than 256 levels at byte");
    free(deep);
}

static void test_huge_string_bounded(void **state)
{
    (void)state;
    st_export_opts o = ST_EXPORT_OPTS_INIT;
    o.max_string = 1000;
    size_t n = 200000;
    char *big = malloc(n + 128);
    assert_non_null(big);
    strcpy(big, "{\"formatVersion\":1,\"docs\":[{\"id\":\"a\",\"props\":{\"name\":\"");
    size_t p = strlen(big);
    memset(big + p, 'x', n);
    strcpy(big + p + n, "\"}}]}");
    for (size_t chunk = 64; chunk <= 65536; chunk *= 32) {
        collect c = {0};
        assert_int_equal(parse(big, chunk, &o, &c), RESONA_EINVALID);
        assert_non_null(strstr(st_error_message(), "string at byte 53 is longer than 1000 bytes"));
        jt_out_free(&c.json);
    }
    /* escapes are counted, and a string just under the limit passes */
    o.max_string = 1u << 20;
    collect c = {0};
    assert_int_equal(parse(big, 4096, &o, &c), 0);
    jt_out_free(&c.json);
    free(big);
}

static void test_jsnum(void **state)
{
    (void)state;
    static const struct {
        double v;
        const char *s;
    } cases[] = {{0, "0"},           {-0.0, "0"},          {1, "1"},
                 {1.5, "1.5"},       {0.1, "0.1"},         {1e21, "1e+21"},
                 {1e20, "100000000000000000000"},          {123e-20, "1.23e-18"},
                 {0.000001, "0.000001"}, {1e-7, "1e-7"},   {-2.5e-8, "-2.5e-8"},
                 {1765617400512.0, "1765617400512"},       {0.30000000000000004, "0.30000000000000004"},
                 {5e-324, "5e-324"}, {1.7976931348623157e308, "1.7976931348623157e+308"},
                 {123456789012345680000.0, "123456789012345680000"}};
    char buf[ST_JSNUM_MAX];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        st_jsnum_format(cases[i].v, buf);
        assert_string_equal(buf, cases[i].s);
    }
    st_jsnum_format_raw("-0", 2, -0.0, buf);
    assert_string_equal(buf, "0");
    st_jsnum_format_raw("10", 2, 10, buf);
    assert_string_equal(buf, "10");
    st_jsnum_format_raw("1.0", 3, 1, buf);
    assert_string_equal(buf, "1");
}

static const char *graph_doc_error(const char *doc)
{
    static char msg[512];
    char *dir = ts_tmpdir("sync-graph");
    st_graph g;
    assert_int_equal(st_graph_init(&g, dir), 0);
    char text[1024];
    snprintf(text, sizeof(text), "{\"formatVersion\":1,\"docs\":[%s]}", doc);
    st_export_reader *r = NULL;
    assert_int_equal(st_export_reader_new("e.json", NULL, st_graph_add_doc, &g, &r), 0);
    int rc = st_export_reader_feed(r, text, strlen(text));
    if (rc == 0)
        rc = st_export_reader_finish(r, NULL);
    st_export_reader_free(r);
    st_graph_free(&g);
    ts_rmtree(dir);
    free(dir);
    snprintf(msg, sizeof(msg), "%s", rc == 0 ? "" : st_error_message());
    return msg;
}

static void test_doc_types(void **state)
{
    (void)state;
    assert_string_equal(graph_doc_error("{\"id\":\"a\",\"props\":{}}"), "");
    assert_non_null(strstr(graph_doc_error("{\"props\":{}}"), "docs[0] at byte 27: \"id\" is missing"));
    assert_non_null(strstr(graph_doc_error("{\"id\":5,\"props\":{}}"), "\"id\" is missing or not a string"));
    assert_non_null(strstr(graph_doc_error("{\"id\":\"a\"}"), "\"props\" is missing"));
    assert_non_null(strstr(graph_doc_error("{\"id\":\"a\",\"props\":{},\"children\":[1]}"),
                           "(id \"a\") at byte 27: \"children\" holds a value"));
    assert_non_null(strstr(graph_doc_error("{\"id\":\"a\",\"props\":{\"name\":1}}"),
                           "\"props.name\" is not a string"));
    assert_non_null(strstr(graph_doc_error("{\"id\":\"a\",\"props\":{\"created\":\"x\"}}"),
                           "\"props.created\" is not a number"));
    assert_non_null(strstr(graph_doc_error("{\"id\":\"a\",\"props\":{},\"modifiedTs\":[\"x\"]}"),
                           "\"modifiedTs\" is not an array of numbers"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_any_chunking), cmocka_unit_test(test_wrapper),
        cmocka_unit_test(test_bad_inputs),        cmocka_unit_test(test_huge_string_bounded),
        cmocka_unit_test(test_jsnum),             cmocka_unit_test(test_doc_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
