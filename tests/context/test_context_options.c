/*
 * test_context_options.c - every option that changes the selection or the
 * context text, on a private copy of the original's tana-index.db.
 *
 * Expectations come from the reference (§6, §7) checked with independent
 * sqlite3 queries in the test, not from recorded outputs. Where the sample
 * has no such nodes (timestamp artifacts, transcripts), the test inserts
 * some into its copy first.
 */
#include "common.h"

#include "embed/select.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct got {
    char **id, **text, **meta;
    int *kind;
    bool *enriched;
    size_t n;
    struct st_select_counts counts;
};

static void got_free(struct got *g)
{
    for (size_t i = 0; i < g->n; i++) {
        free(g->id[i]);
        free(g->text[i]);
        free(g->meta[i]);
    }
    free(g->id);
    free(g->text);
    free(g->meta);
    free(g->kind);
    free(g->enriched);
    memset(g, 0, sizeof(*g));
}

/* Run a selection; check each hash is SHA-256 of its text and the count matches. */
static void run(sqlite3 *db, const struct st_select_opts *o, struct got *g)
{
    memset(g, 0, sizeof(*g));
    long long expect = -1;
    assert_int_equal(st_select_count(db, o, &expect), 0);
    size_t cap = (size_t)expect + 1;
    g->id = calloc(cap, sizeof(char *));
    g->text = calloc(cap, sizeof(char *));
    g->meta = calloc(cap, sizeof(char *));
    g->kind = calloc(cap, sizeof(int));
    g->enriched = calloc(cap, sizeof(bool));
    st_select *c = NULL;
    if (st_select_open(db, o, &c) < 0)
        fail_msg("open: %s", st_error_message());
    struct st_item it;
    int rc;
    while ((rc = st_select_next(c, &it)) > 0) {
        assert_true(g->n < cap);
        char h[65];
        assert_int_equal(st_sha256_hex(it.text, it.text_len, h), 0);
        assert_string_equal(h, it.text_hash);
        g->id[g->n] = strdup(it.id);
        g->text[g->n] = strdup(it.text);
        g->meta[g->n] = strdup(it.metadata);
        g->kind[g->n] = (int)it.legacy_kind;
        g->enriched[g->n] = it.enriched;
        g->n++;
    }
    if (rc < 0)
        fail_msg("next: %s", st_error_message());
    assert_int_equal(g->n, (size_t)expect);
    st_select_counts(c, &g->counts);
    assert_int_equal(g->counts.total, expect);
    st_select_close(c);
}

static bool has(const struct got *g, const char *id)
{
    for (size_t i = 0; i < g->n; i++)
        if (!strcmp(g->id[i], id))
            return true;
    return false;
}

/* Prepared statements of q1, by SQL text (the checks run thousands of times). */
static struct {
    sqlite3 *db;
    const char *sql;
    sqlite3_stmt *st;
} cache[16];

static void cache_clear(void)
{
    for (size_t i = 0; i < sizeof(cache) / sizeof(cache[0]); i++) {
        sqlite3_finalize(cache[i].st);
        memset(&cache[i], 0, sizeof(cache[i]));
    }
}

static sqlite3_stmt *cached(sqlite3 *db, const char *sql);

/* A text from a query with one text parameter (NULL when no row or NULL); caller frees. */
static char *q1_text(sqlite3 *db, const char *sql, const char *arg)
{
    sqlite3_stmt *st = cached(db, sql);
    sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
    char *v = NULL;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        v = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    return v;
}

/* An integer from a query with one text parameter. */
static long long q1(sqlite3 *db, const char *sql, const char *arg)
{
    sqlite3_stmt *st = cached(db, sql);
    sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long v = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return v;
}

/* The prepared statement for sql on db, from the cache. */
static sqlite3_stmt *cached(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    size_t i = 0, n = sizeof(cache) / sizeof(cache[0]);
    for (; i < n && cache[i].st; i++)
        if (cache[i].db == db && !strcmp(cache[i].sql, sql))
            break;
    if (i < n && cache[i].st) {
        st = cache[i].st;
        sqlite3_reset(st);
    } else {
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
            fail_msg("%s: %s", sql, sqlite3_errmsg(db));
        assert_true(i < n);
        cache[i].db = db;
        cache[i].sql = sql;
        cache[i].st = st;
    }
    return st;
}

/* Close a fixture after dropping the cached statements on its connection. */
static void close_db(struct db_fixture *f)
{
    cache_clear();
    db_fixture_close(f);
}

/* A node counts as an entity (passes the minimum length) per reference §6. */
static bool is_entity(sqlite3 *db, const char *id)
{
    return q1(db,
              "SELECT COALESCE(json_extract(raw_data,'$.props._entityOverride') = 1, 0)"
              " OR (json_extract(raw_data,'$.props._entityOverride') IS NULL"
              "     AND COALESCE(json_extract(raw_data,'$.props._flags') % 2 = 1, 0))"
              " OR COALESCE(json_extract(raw_data,'$.props._ownerId') LIKE '%STASH', 0)"
              " OR EXISTS (SELECT 1 FROM tag_applications t WHERE t.data_node_id = nodes.id)"
              " FROM nodes WHERE id = ?",
              id) != 0;
}

static void exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s: %s", sql, err);
}

static void test_default_and_include_all(void **state)
{
    (void)state;
    struct db_fixture f;
    db_fixture_open(&f);
    struct st_select_opts o = ST_SELECT_OPTS_INIT;
    struct got def, all;
    run(f.db, &o, &def);
    assert_int_equal(def.n, 3623);
    /* default: length >= 15 or entity; never a system docType */
    for (size_t i = 0; i < def.n; i++) {
        long long len = q1(f.db, "SELECT LENGTH(name) FROM nodes WHERE id = ?", def.id[i]);
        if (len < 15)
            assert_true(is_entity(f.db, def.id[i]));
        assert_int_equal(q1(f.db,
                            "SELECT COALESCE(json_extract(raw_data,'$.props._docType') IN"
                            " ('tuple','metanode','viewDef','search','command','hotkey',"
                            "'tagDef','attrDef','associatedData','visual','journalPart',"
                            "'group','chatbot','workspace','transcript','transcriptLine'),0)"
                            " FROM nodes WHERE id = ?",
                            def.id[i]),
                         0);
    }
    /* --include-all: every named node */
    o.include_all = true;
    run(f.db, &o, &all);
    assert_int_equal(all.n, db_int(f.db, "SELECT COUNT(*) FROM nodes WHERE name IS NOT NULL"));
    long long named;
    assert_int_equal(st_select_named_count(f.db, &named), 0);
    assert_int_equal(named, (long long)all.n);
    for (size_t i = 0; i < def.n; i++)
        assert_true(has(&all, def.id[i]));
    got_free(&def);
    got_free(&all);
    close_db(&f);
}

static void test_min_length_and_limit(void **state)
{
    (void)state;
    struct db_fixture f;
    db_fixture_open(&f);
    struct st_select_opts o = ST_SELECT_OPTS_INIT;
    struct got def, m40, m0, lim;
    run(f.db, &o, &def);
    o.min_length = 40;
    run(f.db, &o, &m40);
    assert_true(m40.n < def.n);
    size_t expect40 = 0;
    for (size_t i = 0; i < def.n; i++) {
        bool keep = q1(f.db, "SELECT LENGTH(name) >= 40 FROM nodes WHERE id = ?", def.id[i]) ||
                    is_entity(f.db, def.id[i]);
        assert_int_equal(has(&m40, def.id[i]), keep);
        expect40 += keep;
    }
    assert_int_equal(m40.n, expect40);
    /* --min-length 0: no length condition, the other filters stay */
    o.min_length = 0;
    run(f.db, &o, &m0);
    assert_true(m0.n > def.n);
    assert_int_equal(m0.n, db_int(f.db, "SELECT COUNT(*) FROM nodes WHERE name IS NOT NULL AND"
                                        " COALESCE(json_extract(raw_data,'$.props._docType'),'')"
                                        " NOT IN ('tuple','metanode','viewDef','search','command',"
                                        "'hotkey','tagDef','attrDef','associatedData','visual',"
                                        "'journalPart','group','chatbot','workspace','transcript',"
                                        "'transcriptLine')"));
    /* -l 10: the first 10 of the same order */
    o.min_length = 15;
    o.limit = 10;
    run(f.db, &o, &lim);
    assert_int_equal(lim.n, 10);
    for (size_t i = 0; i < 10; i++)
        assert_string_equal(lim.id[i], def.id[i]);
    got_free(&def);
    got_free(&m40);
    got_free(&m0);
    got_free(&lim);
    close_db(&f);
}

static void test_tag(void **state)
{
    (void)state;
    struct db_fixture f;
    db_fixture_open(&f);
    struct st_select_opts o = ST_SELECT_OPTS_INIT;
    struct got def, ch, none, lim;
    run(f.db, &o, &def);
    o.tag = "chapter";
    run(f.db, &o, &ch);
    size_t expect = 0;
    for (size_t i = 0; i < def.n; i++) {
        bool tagged = q1(f.db,
                         "SELECT EXISTS(SELECT 1 FROM tag_applications WHERE"
                         " data_node_id = ? AND tag_name = 'chapter')",
                         def.id[i]) != 0;
        assert_int_equal(has(&ch, def.id[i]), tagged);
        expect += tagged;
    }
    assert_int_equal(ch.n, expect);
    assert_int_equal(ch.n, db_int(f.db, "SELECT COUNT(DISTINCT data_node_id) FROM tag_applications"
                                        " WHERE tag_name = 'chapter'"));
    for (size_t i = 0; i < ch.n; i++)
        assert_true(ch.enriched[i]);
    /* exact and case-sensitive */
    o.tag = "Chapter";
    run(f.db, &o, &none);
    assert_int_equal(none.n, 0);
    o.tag = "chapter";
    o.limit = 5;
    run(f.db, &o, &lim);
    assert_int_equal(lim.n, 5);
    got_free(&def);
    got_free(&ch);
    got_free(&none);
    got_free(&lim);
    close_db(&f);
}

static void test_timestamps_system_transcripts(void **state)
{
    (void)state;
    struct db_fixture f;
    db_fixture_open(&f);
    exec(f.db, "INSERT INTO nodes(id, name, raw_data) VALUES"
               " ('ts1', '1970-01-01T00:00:00.000Z a timestamp artifact', '{\"props\":{}}'),"
               " ('tr1', 'A transcript of a long meeting about things', "
               "   '{\"props\":{\"_docType\":\"transcript\"}}'),"
               " ('tl1', 'Speaker one said something rather long here', "
               "   '{\"props\":{\"_docType\":\"transcriptLine\"}}'),"
               " ('sh1', 'short', '{\"props\":{\"_flags\":1}}'),"
               " ('sh2', 'short too', '{\"props\":{\"_flags\":1,\"_entityOverride\":0}}'),"
               " ('sh3', 'short 3', '{\"props\":{\"_ownerId\":\"abc_STASH\"}}')");
    struct st_select_opts o = ST_SELECT_OPTS_INIT;
    struct got def, ts, sys, tr;
    run(f.db, &o, &def);
    assert_false(has(&def, "ts1"));
    assert_false(has(&def, "tr1"));
    assert_false(has(&def, "tl1"));
    assert_true(has(&def, "sh1"));  /* _flags odd: an entity, passes the length */
    assert_false(has(&def, "sh2")); /* _entityOverride present and not 1 */
    assert_true(has(&def, "sh3"));  /* owner ..._STASH */
    assert_int_equal(def.n, 3623 + 2);

    o.include_timestamps = true;
    run(f.db, &o, &ts);
    assert_int_equal(ts.n, def.n + 1);
    assert_true(has(&ts, "ts1"));

    o.include_timestamps = false;
    o.include_transcripts = true;
    run(f.db, &o, &tr);
    assert_int_equal(tr.n, def.n + 2);
    assert_true(has(&tr, "tr1") && has(&tr, "tl1"));

    o.include_transcripts = false;
    o.include_system = true;
    run(f.db, &o, &sys);
    /* system docTypes (transcripts included) now pass the other conditions */
    long long sys_extra =
        db_int(f.db, "SELECT COUNT(*) FROM nodes n WHERE n.name IS NOT NULL AND n.name NOT LIKE"
                     " '1970-01-01%' AND json_extract(n.raw_data,'$.props._docType') IN ('tuple',"
                     "'metanode','viewDef','search','command','hotkey','tagDef','attrDef',"
                     "'associatedData','visual','journalPart','group','chatbot','workspace',"
                     "'transcript','transcriptLine') AND (LENGTH(n.name) >= 15 OR"
                     " EXISTS (SELECT 1 FROM tag_applications t WHERE t.data_node_id = n.id) OR"
                     " COALESCE(json_extract(n.raw_data,'$.props._flags') % 2 = 1, 0))");
    assert_true(sys_extra > 2);
    assert_int_equal(sys.n, def.n + (size_t)sys_extra);
    got_free(&def);
    got_free(&ts);
    got_free(&sys);
    got_free(&tr);
    close_db(&f);
}

/* Walk parent_id from id up (depth <= 50) and return the first tagged node's id. */
static char *tagged_ancestor(sqlite3 *db, const char *id, int *depth)
{
    char *cur = strdup(id);
    for (int d = 0; cur && d <= 50; d++) {
        if (q1(db, "SELECT COUNT(*) FROM tag_applications WHERE data_node_id = ?", cur) > 0) {
            *depth = d;
            return cur;
        }
        char *next = q1_text(db, "SELECT parent_id FROM nodes WHERE id = ?", cur);
        free(cur);
        cur = next;
    }
    free(cur);
    return NULL;
}

static void test_legacy_and_fields(void **state)
{
    (void)state;
    struct db_fixture f;
    db_fixture_open(&f);
    struct st_select_opts o = ST_SELECT_OPTS_INIT;
    o.graph_aware = false;
    struct got leg, fld;
    run(f.db, &o, &leg);
    assert_int_equal(leg.n, 3623);
    size_t own = 0, anc = 0, none = 0;
    for (size_t i = 0; i < leg.n; i++) {
        int depth = -1;
        char *a = tagged_ancestor(f.db, leg.id[i], &depth);
        const char *name_sql = "SELECT name FROM nodes WHERE id = ?";
        (void)name_sql;
        if (!a) {
            assert_int_equal(leg.kind[i], ST_LEGACY_NONE);
            assert_string_equal(leg.meta[i],
                                "{\"ancestorId\":null,\"ancestorName\":null,\"ancestorTags\":[]}");
            none++;
        } else if (depth == 0) {
            assert_int_equal(leg.kind[i], ST_LEGACY_OWN_TAG);
            assert_null(strstr(leg.text[i], " | "));
            assert_non_null(strstr(leg.meta[i], "\"ancestorId\":null"));
            own++;
        } else {
            assert_int_equal(leg.kind[i], ST_LEGACY_ANCESTOR);
            char key[256];
            snprintf(key, sizeof(key), "\"ancestorId\":\"%s\"", a);
            assert_non_null(strstr(leg.meta[i], key));
            assert_non_null(strstr(leg.text[i], " | "));
            anc++;
        }
        /* "<Tag>: " starts with an upper-case ASCII letter for this sample's tags */
        if (a)
            assert_true(leg.text[i][0] >= 'A' && leg.text[i][0] <= 'Z');
        free(a);
        assert_null(strstr(leg.meta[i], "enriched"));
    }
    assert_int_equal(leg.counts.own_tag, own);
    assert_int_equal(leg.counts.with_ancestor, anc);
    assert_int_equal(leg.counts.no_context, none);
    assert_int_equal(own, 103);
    assert_true(anc > 0);

    /* --include-fields: one "\n[Field]: value" line per field_values row */
    o.include_fields = true;
    run(f.db, &o, &fld);
    size_t with_lines = 0;
    for (size_t i = 0; i < fld.n; i++) {
        assert_string_equal(fld.id[i], leg.id[i]);
        long long rows =
            q1(f.db, "SELECT COUNT(*) FROM field_values WHERE parent_id = ?", fld.id[i]);
        size_t lines = 0;
        for (const char *p = fld.text[i]; (p = strstr(p, "\n[")) != NULL; p++)
            lines++;
        assert_int_equal(lines, (size_t)rows - (rows > 0 && leg.text[i][0] == '\0'));
        assert_int_equal(strncmp(fld.text[i], leg.text[i], strlen(leg.text[i])), 0);
        with_lines += rows > 0;
    }
    assert_true(with_lines > 0);
    /* graph-aware ignores --include-fields (legacy only) */
    struct got g1, g2;
    o.graph_aware = true;
    run(f.db, &o, &g1);
    o.include_fields = false;
    run(f.db, &o, &g2);
    for (size_t i = 0; i < g1.n; i++)
        assert_string_equal(g1.text[i], g2.text[i]);
    got_free(&g1);
    got_free(&g2);
    got_free(&leg);
    got_free(&fld);
    close_db(&f);
}

static void test_enrichment_config(void **state)
{
    (void)state;
    struct db_fixture f;
    db_fixture_open(&f);
    char *path = ts_path(f.dir, "embed-enrichment.json");
    const char *json = "{\"defaults\":{\"maxFieldsPerTag\":1},"
                       " \"overrides\":{\"category\":{\"disabled\":true},"
                       "                \"chapter\":{\"includeFields\":[\"BOOK\"]}}}";
    assert_int_equal(ts_write_file(path, json, strlen(json)), 0);
    struct st_enrich_config cfg;
    char *warn = NULL;
    assert_int_equal(st_enrich_config_load(path, &cfg, &warn), 0);
    assert_null(warn);
    struct st_select_opts o = ST_SELECT_OPTS_INIT;
    o.enrich = &cfg;
    struct got g;
    run(f.db, &o, &g);
    size_t chapters = 0;
    for (size_t i = 0; i < g.n; i++) {
        bool cat = q1(f.db,
                      "SELECT COALESCE((SELECT tag_name = 'category' FROM tag_applications"
                      " WHERE data_node_id = ? ORDER BY id LIMIT 1), 0)",
                      g.id[i]) != 0;
        if (cat) {
            assert_false(g.enriched[i]); /* disabled: the plain name */
            assert_null(strstr(g.text[i], "[Type:"));
        }
        if (!strncmp(g.text[i], "[Type: #chapter]", 16)) {
            chapters++;
            /* only the Book field (case-insensitive), at most one */
            const char *p = g.text[i] + 16;
            if (*p == ' ' && p[1] == '[')
                assert_int_equal(strncmp(p, " [Book: ", 8), 0);
            assert_null(strstr(g.text[i], "[Chapter number:"));
        }
    }
    assert_int_equal(g.counts.enriched + g.counts.plain, (long long)g.n);
    assert_int_equal(g.counts.enriched, 103 - 16); /* 16 categories disabled */
    assert_true(chapters > 0);
    got_free(&g);
    st_enrich_config_free(&cfg);

    /* unparsable / non-object files: defaults and the original's warnings */
    assert_int_equal(ts_write_file(path, "{nope", 5), 0);
    assert_int_equal(st_enrich_config_load(path, &cfg, &warn), 0);
    assert_non_null(warn);
    assert_int_equal(strncmp(warn, "⚠️  Failed to parse enrichment config: ", 41), 0);
    assert_non_null(strstr(warn, ", using defaults"));
    assert_true(cfg.include_tag_name && cfg.max_fields_per_tag == 5);
    free(warn);
    st_enrich_config_free(&cfg);
    assert_int_equal(ts_write_file(path, "42", 2), 0);
    assert_int_equal(st_enrich_config_load(path, &cfg, &warn), 0);
    assert_string_equal(warn, "⚠️  Invalid enrichment config: expected object, using defaults");
    free(warn);
    st_enrich_config_free(&cfg);
    char *missing = ts_path(f.dir, "absent.json");
    assert_int_equal(st_enrich_config_load(missing, &cfg, &warn), 0);
    assert_null(warn);
    st_enrich_config_free(&cfg);
    free(missing);
    free(path);
    close_db(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_and_include_all),
        cmocka_unit_test(test_min_length_and_limit),
        cmocka_unit_test(test_tag),
        cmocka_unit_test(test_timestamps_system_transcripts),
        cmocka_unit_test(test_legacy_and_fields),
        cmocka_unit_test(test_enrichment_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
