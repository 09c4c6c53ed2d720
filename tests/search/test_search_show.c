/*
 * search/test_search_show.c - the --show contents rules on a hand-made index
 * (cases the sample export does not have: trashed and missing children,
 * tuples, unnamed children, id-like field values, inline node references,
 * empty value texts), the JSON writer, and --select parsing and projection.
 * The expected strings are written from the original's rules
 * (docs/search.md), not from our output.
 */
#include "support.h"

#include "search_show.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const schema =
    "CREATE TABLE nodes (id TEXT PRIMARY KEY, name TEXT, parent_id TEXT, node_type TEXT,"
    " created INTEGER, updated INTEGER, done_at INTEGER, raw_data TEXT);"
    "CREATE TABLE field_values (id INTEGER PRIMARY KEY AUTOINCREMENT, tuple_id TEXT NOT NULL,"
    " parent_id TEXT NOT NULL, field_def_id TEXT NOT NULL, field_name TEXT NOT NULL,"
    " value_node_id TEXT NOT NULL, value_text TEXT NOT NULL, value_order INTEGER DEFAULT 0,"
    " created INTEGER);"
    "CREATE TABLE tag_applications (id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " tuple_node_id TEXT NOT NULL, data_node_id TEXT NOT NULL, tag_id TEXT NOT NULL,"
    " tag_name TEXT NOT NULL);"
    "INSERT INTO nodes VALUES"
    " ('P', 'Parent', NULL, 'node', 86400000, 0, NULL,"
    "  '{\"children\":[\"c1\",\"t1\",\"missing\",\"c2\",\"c3\",\"c1\"]}'),"
    " ('c1', 'Child one', 'P', 'node', 0, 0, NULL, '{\"children\":[\"g1\"]}'),"
    " ('t1', NULL, 'P', 'node', 0, 0, NULL, '{\"props\":{\"_docType\":\"tuple\"}}'),"
    " ('c2', '', 'P', 'node', NULL, 0, NULL, '{}'),"
    " ('c3', 'Trashed child', 'P', 'trash', 0, 0, NULL, '{}'),"
    " ('g1', 'Grandchild', 'c1', 'node', 0, 0, NULL, '{}'),"
    " ('X', 'In the trash', NULL, 'trash', 0, 0, NULL, '{}');"
    /* inserted out of order: the output is ordered by field_name, value_order */
    "INSERT INTO field_values (tuple_id, parent_id, field_def_id, field_name, value_node_id,"
    " value_text, value_order) VALUES"
    " ('x', 'P', 'fS', 'Status', 'v1', 'Done', 0),"
    " ('x', 'P', 'fR', 'Ref', 'v2',"
    "  '<span data-inlineref-node=\"abcdefghijkl\"></span> and more', 0),"
    " ('x', 'P', 'fD', 'Date', 'v3',"
    "  '<span class=\"d\" data-inlineref-date=\"{&quot;dateTimeString&quot;:&quot;"
    "2024-05-06&quot;}\">6 May</span>', 0),"
    " ('x', 'P', 'fI', 'Ids', 'v5', 'short', 1),"
    " ('x', 'P', 'fI', 'Ids', 'ABCDEFGHIJKL', '', 0),"
    " ('x', 'P', 'fO', 'Only', 'v6', 'abcdefghijklmnop', 0),"
    " ('x', 'P', 'fY', 'Day', 'v7', '2024-01-01xyz', 0);"
    "INSERT INTO tag_applications (tuple_node_id, data_node_id, tag_id, tag_name) VALUES"
    " ('x', 'P', 'ta', 'alpha'), ('x', 'P', 'tb', 'beta');";

typedef struct fixture {
    sqlite3 *db;
    st_show show;
} fixture;

static int setup(void **state)
{
    setenv("TZ", "UTC", 1);
    tzset();
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_int_equal(sqlite3_open(":memory:", &f->db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(f->db, schema, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(st_show_open(&f->show, f->db), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    st_show_close(&f->show);
    sqlite3_close(f->db);
    free(f);
    return 0;
}

/* st_show_print into a string (caller frees). */
static char *printed(fixture *f, const char *id, int depth)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(out);
    assert_int_equal(st_show_print(&f->show, out, id, depth), 0);
    fclose(out);
    return buf;
}

static char *json_text(const st_jv *v, int indent)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(out);
    st_jv_write(out, v, indent);
    fclose(out);
    return buf;
}

static void test_show_text(void **state)
{
    fixture *f = *state;
    char *s = printed(f, "P", 0);
    assert_string_equal(s, "📄 Parent #alpha #beta\n"
                           "   Created: 1/2/1970\n"
                           "   Fields:\n"
                           "   - Date:: 2024-05-06\n"
                           "   - Day:: 2024-01-01xyz\n"
                           "   - Ids:: short\n"
                           "   - Ref:: [[abcdefghijkl]] and more\n"
                           "   - Status:: Done\n"
                           "   Children:\n"
                           "   - Child one\n"
                           "   - (unnamed)\n"
                           "   - Trashed child\n"
                           "   - Child one\n");
    free(s);
    /* the tree: no 📄, no Created, trashed children left out */
    s = printed(f, "P", 1);
    assert_string_equal(s, "Parent #alpha #beta\n"
                           "  Date:: 2024-05-06\n"
                           "  Day:: 2024-01-01xyz\n"
                           "  Ids:: short\n"
                           "  Ref:: [[abcdefghijkl]] and more\n"
                           "  Status:: Done\n"
                           "  Child one\n"
                           "    - Grandchild\n"
                           "  (unnamed)\n"
                           "  Child one\n"
                           "    - Grandchild\n");
    free(s);
    s = printed(f, "c1", 2);
    assert_string_equal(s, "Child one\n  Grandchild\n");
    free(s);
    /* trashed or missing: nothing */
    s = printed(f, "X", 0);
    assert_string_equal(s, "");
    free(s);
    s = printed(f, "nope", 3);
    assert_string_equal(s, "");
    free(s);
}

static void test_show_json(void **state)
{
    fixture *f = *state;
    st_jv *v = NULL;
    assert_int_equal(st_show_json(&f->show, "P", 0, &v), 0);
    assert_non_null(v);
    char *s = json_text(v, 0);
    assert_string_equal(
        s, "{\"id\":\"P\",\"name\":\"Parent\",\"created\":\"1970-01-02T00:00:00.000Z\","
           "\"fields\":[{\"fieldName\":\"Date\",\"fieldId\":\"fD\",\"value\":\"2024-05-06\","
           "\"valueId\":\"v3\"},{\"fieldName\":\"Day\",\"fieldId\":\"fY\",\"value\":"
           "\"2024-01-01xyz\",\"valueId\":\"v7\"},{\"fieldName\":\"Ids\",\"fieldId\":\"fI\","
           "\"value\":\"short\",\"valueId\":\"ABCDEFGHIJKL\"},{\"fieldName\":\"Ref\","
           "\"fieldId\":\"fR\",\"value\":\"[[abcdefghijkl]] and more\",\"valueId\":\"v2\"},"
           "{\"fieldName\":\"Status\",\"fieldId\":\"fS\",\"value\":\"Done\",\"valueId\":\"v1\"}],"
           "\"children\":[{\"id\":\"c1\",\"name\":\"Child one\",\"isContent\":true},"
           "{\"id\":\"c2\",\"name\":\"(unnamed)\",\"isContent\":true},"
           "{\"id\":\"c3\",\"name\":\"Trashed child\",\"isContent\":true},"
           "{\"id\":\"c1\",\"name\":\"Child one\",\"isContent\":true}],"
           "\"tags\":[\"alpha\",\"beta\"]}");
    free(s);
    st_jv_free(v);

    /* depth: {id, name, created, fields, tags, children}, [] at the last level */
    assert_int_equal(st_show_json(&f->show, "c1", 1, &v), 0);
    s = json_text(v, 2);
    assert_string_equal(s, "{\n"
                           "  \"id\": \"c1\",\n"
                           "  \"name\": \"Child one\",\n"
                           "  \"created\": null,\n"
                           "  \"fields\": [],\n"
                           "  \"tags\": [],\n"
                           "  \"children\": [\n"
                           "    {\n"
                           "      \"id\": \"g1\",\n"
                           "      \"name\": \"Grandchild\",\n"
                           "      \"created\": null,\n"
                           "      \"fields\": [],\n"
                           "      \"tags\": [],\n"
                           "      \"children\": []\n"
                           "    }\n"
                           "  ]\n"
                           "}");
    free(s);
    st_jv_free(v);
    assert_int_equal(st_show_json(&f->show, "X", 1, &v), 0);
    assert_null(v);
}

static void test_inline_refs(void **state)
{
    (void)state;
    char *s = st_format_inline_refs(
        "a <span data-inlineref-node=\"N1\">x</span> b <span data-inlineref-node=\"N2\"></span>");
    assert_string_equal(s, "a [[N1]] b [[N2]]");
    free(s);
    /* no dateTimeString: the span goes away; entities elsewhere stay */
    s = st_format_inline_refs("<span data-inlineref-date=\"{&quot;x&quot;:1}\"></span>&amp;");
    assert_string_equal(s, "&amp;");
    free(s);
    /* needs whitespace before the attribute, as the original's \s */
    s = st_format_inline_refs("<spandata-inlineref-node=\"N\"></span>");
    assert_string_equal(s, "<spandata-inlineref-node=\"N\"></span>");
    free(s);
}

static st_jv *sample_item(void)
{
    st_jv *item = st_jv_obj();
    st_jv_set(item, "id", st_jv_str("abc"));
    st_jv_set(item, "name", st_jv_str("A \"name\"\n"));
    st_jv_set(item, "tags", st_jv_str("x, y"));
    st_jv *c = st_jv_obj();
    st_jv *kids = st_jv_arr();
    st_jv *k0 = st_jv_obj();
    st_jv_set(k0, "name", st_jv_str("first"));
    st_jv_push(kids, k0);
    st_jv_set(c, "children", kids);
    st_jv *tags = st_jv_arr();
    st_jv_push(tags, st_jv_str("x"));
    st_jv_push(tags, st_jv_str("y"));
    st_jv_set(c, "tags", tags);
    st_jv_set(item, "contents", c);
    return item;
}

static void test_select(void **state)
{
    (void)state;
    st_select sel;
    /* usage errors */
    assert_int_equal(st_select_parse("id,foo", 1, ST_SELECT_JSON, &sel), -1);
    assert_int_equal(st_select_parse("id.x", 1, ST_SELECT_JSON, &sel), -1);
    assert_int_equal(st_select_parse("contents", 0, ST_SELECT_JSON, &sel), -1);
    assert_int_equal(st_select_parse("contents.bogus", 1, ST_SELECT_JSON, &sel), -1);
    assert_int_equal(st_select_parse("contents.", 1, ST_SELECT_JSON, &sel), -1);
    assert_int_equal(st_select_parse("name,contents", 1, ST_SELECT_COLUMNS, &sel), -1);
    /* empty entries dropped; nothing left: no projection */
    assert_int_equal(st_select_parse(" , ,", 0, ST_SELECT_JSON, &sel), 0);
    assert_int_equal(sel.count, 0);
    st_select_free(&sel);
    assert_int_equal(st_select_parse(" Name , similarity", 0, ST_SELECT_COLUMNS, &sel), 0);
    assert_int_equal(sel.count, 2);
    assert_string_equal(sel.paths[0], "Name");
    st_select_free(&sel);

    /* projection: keys as typed, case-insensitive lookup, indices, length, nulls;
     * index keys first in numeric order, as in a JavaScript object */
    assert_int_equal(st_select_parse("ID, contents . children.5.name,contents.tags.length,"
                                     "contents.children.0.NAME,contents.tags.1,ancestor",
                                     1, ST_SELECT_JSON, &sel),
                     0);
    st_jv *item = sample_item();
    st_jv *p = st_select_apply(&sel, item);
    char *s = json_text(p, 0);
    assert_string_equal(s, "{\"ID\":\"abc\",\"contents\":{\"children\":{\"0\":{\"NAME\":\"first\"},"
                           "\"5\":{\"name\":null}},\"tags\":{\"1\":\"y\",\"length\":2}},"
                           "\"ancestor\":null}");
    free(s);
    st_jv_free(p);
    st_select_free(&sel);

    /* a path under one already selected whole keeps the whole value */
    assert_int_equal(
        st_select_parse("contents.tags,contents.tags.0.x,name", 1, ST_SELECT_JSON, &sel), 0);
    p = st_select_apply(&sel, item);
    s = json_text(p, 2);
    assert_string_equal(s, "{\n  \"contents\": {\n    \"tags\": [\n      \"x\",\n      \"y\"\n"
                           "    ]\n  },\n  \"name\": \"A \\\"name\\\"\\n\"\n}");
    free(s);
    st_jv_free(p);
    st_select_free(&sel);
    /* and the other order replaces the partial object in place */
    assert_int_equal(st_select_parse("contents.tags.1,id,contents", 1, ST_SELECT_JSON, &sel), 0);
    p = st_select_apply(&sel, item);
    s = json_text(p, 0);
    assert_string_equal(
        s, "{\"contents\":{\"children\":[{\"name\":\"first\"}],\"tags\":[\"x\",\"y\"]},"
           "\"id\":\"abc\"}");
    free(s);
    st_jv_free(p);
    st_select_free(&sel);
    st_jv_free(item);
}

static void test_json_writer(void **state)
{
    (void)state;
    st_jv *a = st_jv_arr();
    st_jv_push(a, st_jv_obj());
    st_jv_push(a, st_jv_arr());
    st_jv_push(a, st_jv_str("\x01\t\xc3\xa9"));
    st_jv_push(a, st_jv_num(-3));
    st_jv_push(a, st_jv_bool(0));
    st_jv_push(a, st_jv_str(NULL));
    char *s = json_text(a, 0);
    assert_string_equal(s, "[{},[],\"\\u0001\\t\xc3\xa9\",-3,false,null]");
    free(s);
    s = json_text(a, 2);
    assert_string_equal(s,
                        "[\n  {},\n  [],\n  \"\\u0001\\t\xc3\xa9\",\n  -3,\n  false,\n  null\n]");
    free(s);
    st_jv_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_show_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_show_json, setup, teardown),
        cmocka_unit_test(test_inline_refs),
        cmocka_unit_test(test_select),
        cmocka_unit_test(test_json_writer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
