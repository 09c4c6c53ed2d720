/*
 * test_context_golden.c - the original's selection and graph-aware context
 * text on the sample workspace, against its own LanceDB rows.
 *
 * tests/fixtures/golden/sample-embeddings.jsonl holds, for each of the 3,623
 * rows the original wrote, id, text_hash, context_text and metadata. The
 * golden context_text is abbreviated there to 150 UTF-16 units +
 * "... [truncated]" when longer; the text_hash covers the full text, so an
 * equal hash proves the full text is byte-identical.
 */
#include "common.h"

#include "embed/select.h"

#include <yajl/yajl_tree.h>

#include <stdlib.h>
#include <string.h>

struct golden {
    char *id, *hash, *text, *metadata;
    int seen;
};

static struct golden *rows;
static size_t nrows;

static int by_id(const void *a, const void *b)
{
    return strcmp(((const struct golden *)a)->id, ((const struct golden *)b)->id);
}

static char *str_member(yajl_val obj, const char *key)
{
    const char *path[] = {key, NULL};
    yajl_val v = yajl_tree_get(obj, path, yajl_t_string);
    assert_non_null(v);
    const char *s = YAJL_GET_STRING(v);
    assert_non_null(s);
    return strdup(s ? s : "");
}

static void load_golden(void)
{
    char *path = ts_fixture("golden/sample-embeddings.jsonl");
    char *data = ts_read_file(path, NULL);
    assert_non_null(data);
    size_t cap = 4096;
    rows = calloc(cap, sizeof(*rows));
    for (char *line = strtok(data, "\n"); line; line = strtok(NULL, "\n")) {
        char err[256];
        yajl_val v = yajl_tree_parse(line, err, sizeof(err));
        assert_non_null(v);
        assert_true(nrows < cap);
        rows[nrows].id = str_member(v, "id");
        rows[nrows].hash = str_member(v, "text_hash");
        rows[nrows].text = str_member(v, "context_text");
        rows[nrows].metadata = str_member(v, "metadata");
        nrows++;
        yajl_tree_free(v);
    }
    qsort(rows, nrows, sizeof(*rows), by_id);
    free(data);
    free(path);
}

static void free_golden(void)
{
    for (size_t i = 0; i < nrows; i++) {
        free(rows[i].id);
        free(rows[i].hash);
        free(rows[i].text);
        free(rows[i].metadata);
    }
    free(rows);
    rows = NULL;
    nrows = 0;
}

static const char TRUNC[] = "... [truncated]";

static void check_text(const struct golden *g, const struct st_item *it)
{
    size_t glen = strlen(g->text), tl = strlen(TRUNC);
    if (glen > tl && !strcmp(g->text + glen - tl, TRUNC)) {
        size_t plen = glen - tl;
        assert_true(st_utf16_len(it->text, it->text_len) > 150);
        st_str p = {0};
        st_str_append_utf16_prefix(&p, it->text, it->text_len, 150);
        if (p.len != plen || memcmp(p.ptr, g->text, plen) != 0)
            fail_msg("%s: text prefix differs:\n ours:   %s\n golden: %s", g->id, p.ptr, g->text);
        st_str_free(&p);
    } else if (strcmp(g->text, it->text) != 0) {
        fail_msg("%s: text differs:\n ours:   %s\n golden: %s", g->id, it->text, g->text);
    }
}

static void test_golden_default_options(void **state)
{
    (void)state;
    struct db_fixture f;
    db_fixture_open(&f);
    load_golden();
    assert_int_equal(nrows, 3623);

    struct st_select_opts o = ST_SELECT_OPTS_INIT;
    long long expect = 0;
    assert_int_equal(st_select_count(f.db, &o, &expect), 0);
    assert_int_equal(expect, 3623);

    st_select *c = NULL;
    assert_int_equal(st_select_open(f.db, &o, &c), 0);
    struct st_item it;
    int rc;
    size_t n = 0, enriched = 0;
    while ((rc = st_select_next(c, &it)) > 0) {
        struct golden key = {.id = (char *)it.id};
        struct golden *g = bsearch(&key, rows, nrows, sizeof(*rows), by_id);
        if (!g)
            fail_msg("selected %s, which the original did not embed", it.id);
        assert_int_equal(g->seen, 0);
        g->seen = 1;
        check_text(g, &it);
        if (strcmp(g->hash, it.text_hash) != 0)
            fail_msg("%s: hash %s, golden %s (text: %s)", it.id, it.text_hash, g->hash, it.text);
        if (strcmp(g->metadata, it.metadata) != 0)
            fail_msg("%s: metadata %s, golden %s", it.id, it.metadata, g->metadata);
        enriched += it.enriched;
        n++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(n, 3623);
    assert_int_equal(enriched, 103);
    struct st_select_counts counts;
    st_select_counts(c, &counts);
    assert_int_equal(counts.total, 3623);
    assert_int_equal(counts.enriched, 103);
    assert_int_equal(counts.plain, 3520);
    st_select_close(c);

    /* The counts-only pass (used for the messages before the run) agrees. */
    o.counts_only = true;
    assert_int_equal(st_select_open(f.db, &o, &c), 0);
    while ((rc = st_select_next(c, &it)) > 0)
        assert_null(it.text);
    assert_int_equal(rc, 0);
    st_select_counts(c, &counts);
    assert_int_equal(counts.total, 3623);
    assert_int_equal(counts.enriched, 103);
    assert_int_equal(counts.plain, 3520);
    st_select_close(c);

    free_golden();
    db_fixture_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_default_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
