/*
 * test_context_builders.c - the graph-aware builder and the truncation on
 * hand-made inputs (reference §7.1), and the JS-compatible string helpers
 * they rely on.
 */
#include "support.h"

#include "embed/context.h"
#include "embed/text.h"

#include <stdlib.h>
#include <string.h>

static void test_utf16_helpers(void **state)
{
    (void)state;
    const char *s = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80z"; /* a é € 😀 z */
    assert_int_equal(st_utf16_len(s, strlen(s)), 6);
    bool split;
    assert_int_equal(st_utf16_cut(s, strlen(s), 3, &split), 6);
    assert_false(split);
    assert_int_equal(st_utf16_cut(s, strlen(s), 4, &split), 6); /* inside the pair */
    assert_true(split);
    st_str o = {0};
    st_str_append_utf16_prefix(&o, s, strlen(s), 4);
    assert_string_equal(o.ptr, "a\xC3\xA9\xE2\x82\xAC\xEF\xBF\xBD"); /* lone surrogate -> U+FFFD */
    st_str_clear(&o);
    st_str_append_json(&o, "q\"b\\n\n\t\x01\xC3\xA9");
    assert_string_equal(o.ptr, "\"q\\\"b\\\\n\\n\\t\\u0001\xC3\xA9\"");
    st_str_clear(&o);
    st_str_append_capitalized(&o, "book");
    st_str_append_capitalized(&o, "\xC3\xA9t\xC3\xA9"); /* été -> Été */
    st_str_append_capitalized(&o, "\xC3\x9F");          /* ß -> SS */
    st_str_append_capitalized(&o, "1x");
    assert_string_equal(o.ptr, "Book\xC3\x89t\xC3\xA9SS1x");
    st_str_free(&o);
    char *low = st_js_lower("Ab\xC3\x89");
    assert_string_equal(low, "ab\xC3\xA9");
    free(low);
    assert_int_equal(st_js_space_prefix(" \t\xC2\xA0x", 5), 4);
    assert_true(st_text_js_blank("  \n", 3));
    assert_false(st_text_js_blank(" a", 2));
}

static char *build(const struct st_enrich_config *cfg, const char *name, const char *const *tags,
                   size_t ntags, const struct st_field_row *f, size_t nf, bool *enriched,
                   char **meta)
{
    st_str t = {0}, m = {0};
    assert_int_equal(st_context_graph(cfg, &(struct st_graph_node){name, tags, ntags, f, nf}, &t,
                                      &m, enriched, NULL, NULL),
                     0);
    *meta = m.ptr;
    return t.ptr;
}

static void test_graph_builder(void **state)
{
    (void)state;
    struct st_enrich_config cfg;
    st_enrich_config_defaults(&cfg);
    bool enr;
    char *meta;
    char *t = build(&cfg, "Plain", NULL, 0, NULL, 0, &enr, &meta);
    assert_string_equal(t, "Plain");
    assert_false(enr);
    assert_string_equal(meta, "{\"ancestorId\":null,\"ancestorName\":null,\"ancestorTags\":[],"
                              "\"enriched\":false,\"enrichmentVersion\":1}");
    free(t);
    free(meta);

    const char *tags[] = {"book", "my \"tag\""};
    char longv[80];
    memset(longv, 'x', 60);
    longv[60] = '\0';
    struct st_field_row rows[] = {
        {"Author", "Robert Louis Stevenson", "text"}, /* text: not allowed by default */
        {"Status", "Done", "options"},
        {"Due", "2025-01-01", "date"},
        {"Misc", longv, NULL}, /* unknown type: kept, cut to 50 + … */
        {"Owner", "Ann", "reference"},
        {"Count", "3", "number"}, /* not allowed */
        {"More", "m", NULL},
        {"Over", "limit", NULL}, /* the 6th kept row: beyond maxFieldsPerTag 5 */
    };
    t = build(&cfg, "Name", tags, 2, rows, 8, &enr, &meta);
    assert_true(enr);
    assert_string_equal(t, "[Type: #book, #my \"tag\"] [Status: Done] [Due: 2025-01-01] "
                           "[Misc: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…] "
                           "[Owner: Ann] [More: m] Name");
    assert_string_equal(meta, "{\"ancestorId\":null,\"ancestorName\":null,\"ancestorTags\":"
                              "[\"book\",\"my \\\"tag\\\"\"],\"enriched\":true,"
                              "\"enrichmentVersion\":1}");
    free(t);
    free(meta);

    /* includeTagName false: no type prefix, fields then name */
    cfg.include_tag_name = false;
    cfg.max_fields_per_tag = 1;
    t = build(&cfg, "Name", tags, 1, rows, 8, &enr, &meta);
    assert_string_equal(t, "[Status: Done] Name");
    free(t);
    free(meta);
    cfg.max_fields_per_tag = 0;
    t = build(&cfg, "Name", tags, 1, rows, 8, &enr, &meta);
    assert_string_equal(t, "Name");
    assert_true(enr);
    free(t);
    free(meta);
}

static char *cut_text(const char *text, size_t max)
{
    st_str o = {0};
    st_context_truncate(text, strlen(text), max, &o);
    return o.ptr ? o.ptr : strdup("");
}

static void test_truncation(void **state)
{
    (void)state;
    char *t;
    /* fits: unchanged */
    t = cut_text("[Type: #a] [F: v] name", 22);
    assert_string_equal(t, "[Type: #a] [F: v] name");
    free(t);
    /* not enriched format: hard cut */
    t = cut_text("plain text that is long", 10);
    assert_string_equal(t, "plain text");
    free(t);
    /* drop fields from the back while the name fits */
    t = cut_text("[Type: #a] [F1: v1] [F2: v2] name", 26);
    assert_string_equal(t, "[Type: #a] [F1: v1] name");
    free(t);
    t = cut_text("[Type: #a] [F1: v1] [F2: v2] name", 20);
    assert_string_equal(t, "[Type: #a] name");
    free(t);
    /* the name is too long: fields are kept only while the FULL name still
     * fits, then the name is cut when more than 10 units remain */
    t = cut_text("[Type: #a] [F1: v1] a-very-long-node-name-indeed", 32);
    assert_string_equal(t, "[Type: #a] a-very-long-node-name"); /* 32-10-1 = 21 units */
    free(t);
    t = cut_text("[Type: #a] [F1: v1] name-of-twenty-units", 40);
    assert_string_equal(t, "[Type: #a] [F1: v1] name-of-twenty-units");
    free(t);
    t = cut_text("[Type: #a] [F1: v1]   [F2: v2]name-of-twenty-units", 40);
    assert_string_equal(t, "[Type: #a] [F1: v1] name-of-twenty-units");
    free(t);
    t = cut_text("[Type: #a] [F1: v1] a-very-long-node-name-indeed", 22);
    assert_string_equal(t, "[Type: #a] a-very-long"); /* 22-10-1 = 11 > 10 */
    free(t);
    /* 10 or fewer: the type prefix alone */
    t = cut_text("[Type: #a] a-very-long-node-name-indeed", 21);
    assert_string_equal(t, "[Type: #a]");
    free(t);
    /* even the type prefix is too long: hard cut */
    t = cut_text("[Type: #abcdefghijklmnop] name", 8);
    assert_string_equal(t, "[Type: #");
    free(t);
    /* a surrogate pair cut in half by the name cut becomes U+FFFD */
    t = cut_text("[Type: #a] 0123456789\xF0\x9F\x98\x80zzzz", 22);
    assert_string_equal(t, "[Type: #a] 0123456789\xEF\xBF\xBD");
    free(t);
    /* lengths are UTF-16 units: 2,048 é fit, 2,049 do not */
    size_t n = 2049;
    char *big = malloc(8 + 2 * n + 1);
    memcpy(big, "[Type: #", 8);
    size_t o = 8;
    for (size_t i = 0; i < n; i++) {
        big[o++] = '\xC3';
        big[o++] = '\xA9';
    }
    big[o] = '\0';
    t = cut_text(big, 2048);
    assert_int_equal(st_utf16_len(t, strlen(t)), 2048);
    free(t);
    free(big);
}

static void test_graph_truncates_enriched_only(void **state)
{
    (void)state;
    struct st_enrich_config cfg;
    st_enrich_config_defaults(&cfg);
    size_t n = 3000;
    char *name = malloc(n + 1);
    memset(name, 'n', n);
    name[n] = '\0';
    const char *tags[] = {"t"};
    bool enr;
    char *meta;
    char *plain = build(&cfg, name, NULL, 0, NULL, 0, &enr, &meta);
    assert_int_equal(strlen(plain), n); /* plain names are never cut here */
    free(plain);
    free(meta);
    char *t = build(&cfg, name, tags, 1, NULL, 0, &enr, &meta);
    assert_int_equal(strlen(t), ST_ENRICHED_MAX_UNITS);
    assert_int_equal(strncmp(t, "[Type: #t] nnn", 14), 0);
    free(t);
    free(meta);
    free(name);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf16_helpers),
        cmocka_unit_test(test_graph_builder),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_graph_truncates_enriched_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
