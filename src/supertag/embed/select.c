/*
 * embed/select.c - node selection and item streaming (see select.h).
 *
 * Flow of one chunk (at most CHUNK_IDS selected nodes):
 *
 *   selection statement ──step──> nodes[] {id, name}      (copied, owned)
 *   graph-aware:  tag_applications IN (ids) ORDER BY id   → tags per node
 *                 field_values IN (ids) ORDER BY value_order, id → rows per node
 *                 supertag_fields IN (names)              → type per field name
 *   legacy:       ancestor walk per node (context.c), and with
 *                 --include-fields field_values IN (ids) ORDER BY parent_id,
 *                 field_name, value_order
 *
 * Rows are grouped per node by a stable counting sort over the node index
 * found through a small open-addressing hash of the chunk's ids, so each
 * node keeps the query's row order. Items are built lazily, one per
 * st_select_next call; everything of a chunk is freed when the next one is
 * loaded.
 *
 * Orders: the original reads tags and field rows without a tie-breaking
 * ORDER BY (reference §15.15: effectively rowid order); we make that order
 * explicit with the rowid (`id`) so it cannot change with a query plan.
 */
#include "embed/select.h"

#include <resona/common.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_IDS 900
#define HASH_SLOTS 4096 /* power of two, > 2 x CHUNK_IDS */

static const char *const system_doc_types[] = {
    "tuple",   "metanode",  "viewDef",        "search",        "command",     "hotkey",
    "tagDef",  "attrDef",   "associatedData", "visual",        "journalPart", "group",
    "chatbot", "workspace", "transcript",     "transcriptLine"};

int st_select_sql(const struct st_select_opts *o, bool count, st_str *sql)
{
    if (count)
        st_str_puts(sql, "SELECT COUNT(*) FROM (");
    if (o->tag)
        st_str_puts(sql, "SELECT DISTINCT n.id, n.name FROM nodes n"
                         " JOIN tag_applications ta ON ta.data_node_id = n.id");
    else
        st_str_puts(sql, "SELECT n.id, n.name FROM nodes n");
    st_str_puts(sql, " WHERE n.name IS NOT NULL");
    if (!o->include_all) {
        if (o->min_length > 0) {
            st_str_printf(sql, " AND (LENGTH(n.name) >= %ld OR ", o->min_length);
            st_str_puts(sql, ST_ENTITY_FILTER_SQL ")");
        }
        if (!o->include_timestamps)
            st_str_puts(sql, " AND n.name NOT LIKE '1970-01-01%'");
        if (!o->include_system) {
            size_t ntypes = sizeof(system_doc_types) / sizeof(system_doc_types[0]);
            if (o->include_transcripts)
                ntypes -= 2;
            st_str_puts(sql, " AND (json_extract(n.raw_data, '$.props._docType') IS NULL"
                             " OR json_extract(n.raw_data, '$.props._docType') NOT IN (");
            for (size_t i = 0; i < ntypes; i++)
                st_str_printf(sql, "%s'%s'", i ? ", " : "", system_doc_types[i]);
            st_str_puts(sql, "))");
        }
    }
    if (o->tag)
        st_str_puts(sql, " AND ta.tag_name = ?");
    if (o->limit > 0)
        st_str_puts(sql, " LIMIT ?");
    if (count)
        st_str_puts(sql, ")");
    return st_str_ok(sql);
}

static void bind_selection(sqlite3_stmt *st, const struct st_select_opts *o)
{
    int i = 1;
    if (o->tag)
        sqlite3_bind_text(st, i++, o->tag, -1, SQLITE_TRANSIENT);
    if (o->limit > 0)
        sqlite3_bind_int64(st, i++, o->limit);
}

static int sql_err(sqlite3 *db, const char *what)
{
    return st_error_set(RESONA_ERROR, "%s: %s", what, sqlite3_errmsg(db));
}

/* One selected node of the current chunk. */
struct node {
    char *id;
    char *name;
    size_t tag_first, tag_count;     /* into chunk tags[] */
    size_t field_first, field_count; /* into chunk fields[] */
};

/* A fetched row before grouping. */
struct raw_row {
    size_t node;
    char *a, *b; /* tag: a = tag; field: a = name, b = value */
};

struct st_select {
    sqlite3 *db;
    struct st_select_opts opts;
    struct st_enrich_config default_cfg;
    sqlite3_stmt *sel;
    bool sel_done;
    st_legacy *legacy;

    struct node nodes[CHUNK_IDS];
    size_t count, pos;
    int32_t slots[HASH_SLOTS]; /* node index + 1, 0 = empty */

    /* grouped rows of the chunk */
    char **tags; /* borrowed from tag_rows */
    struct st_field_row *fields;
    struct raw_row *tag_rows, *field_rows;
    size_t ntag_rows, nfield_rows;
    /* field name -> type, for the chunk */
    char **type_names, **type_values;
    size_t ntypes;

    st_str text, metadata;
    struct st_select_counts counts;
};

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static long find_node(const st_select *c, const char *id)
{
    for (uint32_t h = hash_str(id) & (HASH_SLOTS - 1);; h = (h + 1) & (HASH_SLOTS - 1)) {
        int32_t v = c->slots[h];
        if (v == 0)
            return -1;
        if (!strcmp(c->nodes[v - 1].id, id))
            return v - 1;
    }
}

static void free_rows(struct raw_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(rows[i].a);
        free(rows[i].b);
    }
    free(rows);
}

static void chunk_free(st_select *c)
{
    for (size_t i = 0; i < c->count; i++) {
        free(c->nodes[i].id);
        free(c->nodes[i].name);
    }
    free_rows(c->tag_rows, c->ntag_rows);
    free_rows(c->field_rows, c->nfield_rows);
    for (size_t i = 0; i < c->ntypes; i++) {
        free(c->type_names[i]);
        free(c->type_values[i]);
    }
    free(c->type_names);
    free(c->type_values);
    free(c->tags);
    free(c->fields);
    c->tag_rows = c->field_rows = NULL;
    c->type_names = c->type_values = NULL;
    c->tags = NULL;
    c->fields = NULL;
    c->ntag_rows = c->nfield_rows = c->ntypes = 0;
    c->count = c->pos = 0;
    memset(c->slots, 0, sizeof(c->slots));
}

/* "SELECT ... IN (?,?,...)<tail>" for n placeholders. */
static int prepare_in(sqlite3 *db, const char *head, size_t n, const char *tail, sqlite3_stmt **out)
{
    st_str sql = {0};
    st_str_puts(&sql, head);
    st_str_puts(&sql, " IN (");
    for (size_t i = 0; i < n; i++)
        st_str_puts(&sql, i ? ",?" : "?");
    st_str_putc(&sql, ')');
    st_str_puts(&sql, tail);
    int rc = st_str_ok(&sql);
    if (rc == 0 && sqlite3_prepare_v2(db, sql.ptr, -1, out, NULL) != SQLITE_OK)
        rc = sql_err(db, "preparing a chunk query");
    st_str_free(&sql);
    return rc;
}

static char *col_dup(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return strdup(t ? (const char *)t : "");
}

/*
 * Run `head IN (chunk ids) tail`, collecting (node, col1, col2?) rows. Column
 * 0 must be the node id.
 */
static int fetch_rows(st_select *c, const char *head, const char *tail, int ncols,
                      struct raw_row **out, size_t *nout)
{
    sqlite3_stmt *st = NULL;
    struct raw_row *rows = NULL;
    size_t n = 0, cap = 0;
    int rc = prepare_in(c->db, head, c->count, tail, &st);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < c->count; i++)
        sqlite3_bind_text(st, (int)i + 1, c->nodes[i].id, -1, SQLITE_STATIC);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        const char *pid = (const char *)sqlite3_column_text(st, 0);
        long idx = pid ? find_node(c, pid) : -1;
        if (idx < 0)
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 256;
            struct raw_row *p = realloc(rows, ncap * sizeof(*p));
            if (!p) {
                rc = st_error_set(RESONA_ENOMEM, "out of memory reading chunk rows");
                goto done;
            }
            rows = p;
            cap = ncap;
        }
        rows[n].node = (size_t)idx;
        rows[n].a = col_dup(st, 1);
        rows[n].b = ncols > 2 ? col_dup(st, 2) : NULL;
        n++;
        if (!rows[n - 1].a || (ncols > 2 && !rows[n - 1].b)) {
            rc = st_error_set(RESONA_ENOMEM, "out of memory reading chunk rows");
            goto done;
        }
    }
    if (s != SQLITE_DONE)
        rc = sql_err(c->db, "reading chunk rows");
done:
    sqlite3_finalize(st);
    if (rc < 0) {
        free_rows(rows, n);
        return rc;
    }
    *out = rows;
    *nout = n;
    return 0;
}

/*
 * Stable grouping: order[] lists row indexes grouped by node in row order;
 * first/count per node are written through the setters.
 */
static size_t *group_rows(st_select *c, const struct raw_row *rows, size_t n, bool tags)
{
    size_t *order = malloc((n ? n : 1) * sizeof(size_t));
    size_t *start = calloc(c->count + 1, sizeof(size_t));
    if (!order || !start) {
        free(order);
        free(start);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        start[rows[i].node + 1]++;
    for (size_t k = 0; k < c->count; k++)
        start[k + 1] += start[k];
    for (size_t k = 0; k < c->count; k++) {
        if (tags) {
            c->nodes[k].tag_first = start[k];
            c->nodes[k].tag_count = 0;
        } else {
            c->nodes[k].field_first = start[k];
            c->nodes[k].field_count = 0;
        }
    }
    for (size_t i = 0; i < n; i++) {
        struct node *nd = &c->nodes[rows[i].node];
        if (tags)
            order[nd->tag_first + nd->tag_count++] = i;
        else
            order[nd->field_first + nd->field_count++] = i;
    }
    free(start);
    return order;
}

static const char *type_of(const st_select *c, const char *name)
{
    for (size_t i = 0; i < c->ntypes; i++)
        if (!strcmp(c->type_names[i], name))
            return c->type_values[i];
    return NULL;
}

/* supertag_fields types for the chunk's distinct field names (last row wins). */
static int load_types(st_select *c)
{
    size_t nnames = 0;
    const char **names = malloc((c->nfield_rows ? c->nfield_rows : 1) * sizeof(char *));
    int rc = 0;
    if (!names)
        return st_error_set(RESONA_ENOMEM, "out of memory");
    /* distinct names, first seen first (a chunk has few distinct field names) */
    for (size_t i = 0; i < c->nfield_rows; i++) {
        bool seen = false;
        for (size_t j = 0; j < nnames && !seen; j++)
            seen = !strcmp(names[j], c->field_rows[i].a);
        if (!seen)
            names[nnames++] = c->field_rows[i].a;
    }
    size_t cap = 0;
    for (size_t off = 0; off < nnames && rc == 0; off += CHUNK_IDS) {
        size_t n = nnames - off < CHUNK_IDS ? nnames - off : CHUNK_IDS;
        sqlite3_stmt *st = NULL;
        rc = prepare_in(c->db,
                        "SELECT DISTINCT field_name, inferred_data_type FROM supertag_fields"
                        " WHERE field_name",
                        n, " AND inferred_data_type IS NOT NULL", &st);
        if (rc < 0)
            break;
        for (size_t i = 0; i < n; i++)
            sqlite3_bind_text(st, (int)i + 1, names[off + i], -1, SQLITE_STATIC);
        int s;
        while (rc == 0 && (s = sqlite3_step(st)) == SQLITE_ROW) {
            const char *fname = (const char *)sqlite3_column_text(st, 0);
            const char *ftype = (const char *)sqlite3_column_text(st, 1);
            if (!fname || !ftype)
                continue;
            size_t k = 0;
            while (k < c->ntypes && strcmp(c->type_names[k], fname))
                k++;
            char *v = strdup(ftype);
            if (!v) {
                rc = st_error_set(RESONA_ENOMEM, "out of memory");
                break;
            }
            if (k < c->ntypes) { /* Map.set: the last row read wins */
                free(c->type_values[k]);
                c->type_values[k] = v;
                continue;
            }
            if (c->ntypes == cap) {
                size_t ncap = cap ? cap * 2 : 32;
                char **a = realloc(c->type_names, ncap * sizeof(char *));
                if (a)
                    c->type_names = a;
                char **b = a ? realloc(c->type_values, ncap * sizeof(char *)) : NULL;
                if (b)
                    c->type_values = b;
                if (!a || !b) {
                    free(v);
                    rc = st_error_set(RESONA_ENOMEM, "out of memory");
                    break;
                }
                cap = ncap;
            }
            c->type_names[c->ntypes] = strdup(fname);
            c->type_values[c->ntypes] = v;
            c->ntypes++;
            if (!c->type_names[c->ntypes - 1])
                rc = st_error_set(RESONA_ENOMEM, "out of memory");
        }
        if (rc == 0 && s != SQLITE_DONE)
            rc = sql_err(c->db, "reading field types");
        sqlite3_finalize(st);
    }
    free(names);
    return rc;
}

static int load_chunk(st_select *c)
{
    int rc = 0;
    chunk_free(c);
    while (!c->sel_done && c->count < CHUNK_IDS) {
        int s = sqlite3_step(c->sel);
        if (s == SQLITE_DONE) {
            c->sel_done = true;
            break;
        }
        if (s != SQLITE_ROW)
            return sql_err(c->db, "running the node selection");
        struct node *nd = &c->nodes[c->count];
        memset(nd, 0, sizeof(*nd));
        nd->id = col_dup(c->sel, 0);
        nd->name = col_dup(c->sel, 1);
        c->count++;
        if (!nd->id || !nd->name)
            return st_error_set(RESONA_ENOMEM, "out of memory");
        uint32_t h = hash_str(nd->id) & (HASH_SLOTS - 1);
        while (c->slots[h] != 0 && strcmp(c->nodes[c->slots[h] - 1].id, nd->id))
            h = (h + 1) & (HASH_SLOTS - 1);
        if (c->slots[h] == 0) /* a repeated id keeps its first row's slot */
            c->slots[h] = (int32_t)c->count;
    }
    if (c->count == 0)
        return 0;

    bool graph = c->opts.graph_aware;
    bool want_fields =
        graph ? !c->opts.counts_only : c->opts.include_fields && !c->opts.counts_only;
    if (graph) {
        rc = fetch_rows(c, "SELECT data_node_id, tag_name FROM tag_applications WHERE data_node_id",
                        " ORDER BY id", 2, &c->tag_rows, &c->ntag_rows);
        if (rc < 0)
            return rc;
        size_t *order = group_rows(c, c->tag_rows, c->ntag_rows, true);
        c->tags = malloc((c->ntag_rows ? c->ntag_rows : 1) * sizeof(char *));
        if (!order || !c->tags) {
            free(order);
            return st_error_set(RESONA_ENOMEM, "out of memory");
        }
        /* dedupe each node's tags, first seen first */
        for (size_t k = 0; k < c->count; k++) {
            struct node *nd = &c->nodes[k];
            size_t kept = 0;
            for (size_t j = 0; j < nd->tag_count; j++) {
                const char *t = c->tag_rows[order[nd->tag_first + j]].a;
                bool dup = false;
                for (size_t q = 0; q < kept && !dup; q++)
                    dup = !strcmp(c->tags[nd->tag_first + q], t);
                if (!dup)
                    c->tags[nd->tag_first + kept++] = (char *)t;
            }
            nd->tag_count = kept;
        }
        free(order);
    }
    if (want_fields) {
        if (graph)
            rc =
                fetch_rows(c,
                           "SELECT parent_id, field_name, value_text FROM field_values"
                           " WHERE parent_id",
                           " ORDER BY value_order ASC, id ASC", 3, &c->field_rows, &c->nfield_rows);
        else
            rc = fetch_rows(c,
                            "SELECT parent_id, field_name, value_text FROM field_values"
                            " WHERE parent_id",
                            " ORDER BY parent_id, field_name, value_order, id", 3, &c->field_rows,
                            &c->nfield_rows);
        if (rc < 0)
            return rc;
        if (graph && (rc = load_types(c)) < 0)
            return rc;
        size_t *order = group_rows(c, c->field_rows, c->nfield_rows, false);
        c->fields = malloc((c->nfield_rows ? c->nfield_rows : 1) * sizeof(*c->fields));
        if (!order || !c->fields) {
            free(order);
            return st_error_set(RESONA_ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < c->nfield_rows; i++) {
            const struct raw_row *r = &c->field_rows[order[i]];
            c->fields[i].name = r->a;
            c->fields[i].value = r->b;
            c->fields[i].type = graph ? type_of(c, r->a) : NULL;
        }
        free(order);
    }
    return 0;
}

int st_select_open(sqlite3 *db, const struct st_select_opts *opts, st_select **out)
{
    int rc;
    st_str sql = {0};
    st_select *c = calloc(1, sizeof(*c));
    if (!c)
        return st_error_set(RESONA_ENOMEM, "out of memory");
    c->db = db;
    c->opts = *opts;
    st_enrich_config_defaults(&c->default_cfg);
    if (!c->opts.enrich)
        c->opts.enrich = &c->default_cfg;
    if ((rc = st_select_sql(opts, false, &sql)) < 0)
        goto fail;
    if (sqlite3_prepare_v2(db, sql.ptr, -1, &c->sel, NULL) != SQLITE_OK) {
        rc = sql_err(db, "preparing the node selection");
        goto fail;
    }
    bind_selection(c->sel, opts);
    if (!opts->graph_aware && (rc = st_legacy_open(db, &c->legacy)) < 0)
        goto fail;
    st_str_free(&sql);
    *out = c;
    return 0;
fail:
    st_str_free(&sql);
    st_select_close(c);
    return rc;
}

static int build_item(st_select *c, const struct node *nd, struct st_item *item)
{
    int rc = 0;
    memset(item, 0, sizeof(*item));
    item->id = nd->id;
    item->name = nd->name;
    st_str_clear(&c->text);
    st_str_clear(&c->metadata);
    if (c->opts.graph_aware) {
        struct st_graph_node g = {nd->name, (const char *const *)(c->tags + nd->tag_first),
                                  nd->tag_count, c->fields ? c->fields + nd->field_first : NULL,
                                  c->fields ? nd->field_count : 0};
        if (c->opts.counts_only) {
            item->enriched = nd->tag_count > 0;
            if (item->enriched) {
                const struct st_enrich_override *o = st_enrich_override_for(
                    c->opts.enrich, nd->tag_count ? c->tags[nd->tag_first] : "");
                item->enriched = !(o && o->disabled);
            }
        } else {
            rc = st_context_graph(c->opts.enrich, &g, &c->text, &c->metadata, &item->enriched, NULL,
                                  NULL);
        }
        if (item->enriched)
            c->counts.enriched++;
        else
            c->counts.plain++;
    } else {
        rc = st_legacy_build(c->legacy, nd->id, nd->name, &c->text, &c->metadata,
                             &item->legacy_kind);
        if (rc == 0 && c->fields && nd->field_count > 0) {
            /* "[Field]: value" lines; they replace a blank context text */
            bool blank = st_text_js_blank(st_str_cstr(&c->text), c->text.len);
            if (blank)
                st_str_clear(&c->text);
            for (size_t i = 0; i < nd->field_count; i++) {
                const struct st_field_row *f = &c->fields[nd->field_first + i];
                if (i > 0 || !blank)
                    st_str_putc(&c->text, '\n');
                st_str_printf(&c->text, "[%s]: %s", f->name, f->value);
            }
            rc = st_str_ok(&c->text);
        }
        if (item->legacy_kind == ST_LEGACY_ANCESTOR)
            c->counts.with_ancestor++;
        else if (item->legacy_kind == ST_LEGACY_OWN_TAG)
            c->counts.own_tag++;
        else
            c->counts.no_context++;
    }
    if (rc < 0)
        return rc;
    c->counts.total++;
    if (c->opts.counts_only)
        return 0;
    /* contextText || text: an empty context text falls back to the name */
    if (c->text.len == 0) {
        st_str_puts(&c->text, nd->name);
        if ((rc = st_str_ok(&c->text)) < 0)
            return rc;
    }
    item->text = st_str_cstr(&c->text);
    item->text_len = c->text.len;
    item->metadata = st_str_cstr(&c->metadata);
    return st_sha256_hex(item->text, item->text_len, item->text_hash);
}

int st_select_next(st_select *c, struct st_item *item)
{
    if (c->pos >= c->count) {
        int rc = load_chunk(c);
        if (rc < 0)
            return rc;
        if (c->count == 0)
            return 0;
    }
    int rc = build_item(c, &c->nodes[c->pos++], item);
    return rc < 0 ? rc : 1;
}

void st_select_counts(const st_select *c, struct st_select_counts *out)
{
    *out = c->counts;
}

void st_select_close(st_select *c)
{
    if (!c)
        return;
    chunk_free(c);
    sqlite3_finalize(c->sel);
    st_legacy_free(c->legacy);
    st_str_free(&c->text);
    st_str_free(&c->metadata);
    free(c);
}

static int count_query(sqlite3 *db, const char *sql, const struct st_select_opts *o, long long *out)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return sql_err(db, "preparing a count");
    if (o)
        bind_selection(st, o);
    int rc = 0;
    if (sqlite3_step(st) == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    else
        rc = sql_err(db, "counting nodes");
    sqlite3_finalize(st);
    return rc;
}

int st_select_count(sqlite3 *db, const struct st_select_opts *opts, long long *out)
{
    st_str sql = {0};
    int rc = st_select_sql(opts, true, &sql);
    if (rc == 0)
        rc = count_query(db, sql.ptr, opts, out);
    st_str_free(&sql);
    return rc;
}

int st_select_named_count(sqlite3 *db, long long *out)
{
    return count_query(db, "SELECT COUNT(*) FROM nodes WHERE name IS NOT NULL", NULL, out);
}

/* ---- --enrichment-preview ---------------------------------------------------- */

void st_preview_free(struct st_preview *p)
{
    free(p->name);
    st_str_free(&p->tags);
    st_str_free(&p->fields);
    st_str_free(&p->raw);
    st_str_free(&p->text);
    memset(p, 0, sizeof(*p));
}

int st_select_preview(sqlite3 *db, const struct st_enrich_config *cfg, const char *id,
                      struct st_preview *out)
{
    int rc = 0;
    sqlite3_stmt *st = NULL;
    struct raw_row *rows = NULL;
    char **tags = NULL;
    struct st_field_row *fields = NULL;
    size_t ntags = 0, nrows = 0, cap = 0;
    struct st_enrich_config defaults;
    st_str meta = {0};
    memset(out, 0, sizeof(*out));
    if (!cfg) {
        st_enrich_config_defaults(&defaults);
        cfg = &defaults;
    }

    if (sqlite3_prepare_v2(db, "SELECT name FROM nodes WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
        return sql_err(db, "preparing the node query");
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        out->found = true;
        out->name = col_dup(st, 0);
        if (!out->name)
            rc = st_error_set(RESONA_ENOMEM, "out of memory");
    } else if (s != SQLITE_DONE) {
        rc = sql_err(db, "reading the node");
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc < 0 || !out->found)
        goto done;

    /* tags, deduplicated, first seen first */
    if (sqlite3_prepare_v2(db,
                           "SELECT tag_name FROM tag_applications WHERE data_node_id = ?"
                           " ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = sql_err(db, "preparing the tag query");
        goto done;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        t = t ? t : "";
        bool dup = false;
        for (size_t i = 0; i < ntags && !dup; i++)
            dup = !strcmp(tags[i], t);
        if (dup)
            continue;
        char **p = realloc(tags, (ntags + 1) * sizeof(char *));
        if (!p || !(p[ntags] = strdup(t))) {
            if (p)
                tags = p;
            rc = st_error_set(RESONA_ENOMEM, "out of memory");
            goto done;
        }
        tags = p;
        ntags++;
    }
    sqlite3_finalize(st);
    st = NULL;

    /* field rows in (value_order, rowid) order, with their types */
    if (sqlite3_prepare_v2(db,
                           "SELECT field_name, value_text FROM field_values WHERE parent_id = ?"
                           " ORDER BY value_order ASC, id ASC",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = sql_err(db, "preparing the field query");
        goto done;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (nrows == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct raw_row *p = realloc(rows, ncap * sizeof(*p));
            if (!p) {
                rc = st_error_set(RESONA_ENOMEM, "out of memory");
                goto done;
            }
            rows = p;
            cap = ncap;
        }
        rows[nrows].node = 0;
        rows[nrows].a = col_dup(st, 0);
        rows[nrows].b = col_dup(st, 1);
        nrows++;
        if (!rows[nrows - 1].a || !rows[nrows - 1].b) {
            rc = st_error_set(RESONA_ENOMEM, "out of memory");
            goto done;
        }
    }
    sqlite3_finalize(st);
    st = NULL;
    fields = calloc(nrows ? nrows : 1, sizeof(*fields));
    if (!fields) {
        rc = st_error_set(RESONA_ENOMEM, "out of memory");
        goto done;
    }
    if (sqlite3_prepare_v2(db,
                           "SELECT DISTINCT field_name, inferred_data_type FROM supertag_fields"
                           " WHERE field_name = ? AND inferred_data_type IS NOT NULL",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = sql_err(db, "preparing the field type query");
        goto done;
    }
    for (size_t i = 0; i < nrows; i++) {
        fields[i].name = rows[i].a;
        fields[i].value = rows[i].b;
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, rows[i].a, -1, SQLITE_STATIC);
        while (sqlite3_step(st) == SQLITE_ROW) { /* the last row read wins */
            const char *t = (const char *)sqlite3_column_text(st, 1);
            if (t) {
                char *copy = strdup(t);
                if (!copy) {
                    rc = st_error_set(RESONA_ENOMEM, "out of memory");
                    goto done;
                }
                free((char *)fields[i].type);
                fields[i].type = copy;
            }
        }
    }
    sqlite3_finalize(st);
    st = NULL;

    for (size_t i = 0; i < ntags; i++) {
        if (i)
            st_str_puts(&out->tags, ", ");
        st_str_putc(&out->tags, '#');
        st_str_puts(&out->tags, tags[i]);
    }
    struct st_graph_node g = {out->name, (const char *const *)tags, ntags, fields, nrows};
    rc = st_context_graph(cfg, &g, &out->text, &meta, &out->enriched, &out->fields, &out->raw);
    if (rc == 0 && (rc = st_str_ok(&out->tags)) == 0 && (rc = st_str_ok(&out->fields)) == 0)
        rc = st_str_ok(&out->raw);
done:
    sqlite3_finalize(st);
    if (fields)
        for (size_t i = 0; i < nrows; i++)
            free((char *)fields[i].type);
    free(fields);
    free_rows(rows, nrows);
    for (size_t i = 0; i < ntags; i++)
        free(tags[i]);
    free(tags);
    st_str_free(&meta);
    if (rc < 0)
        st_preview_free(out);
    return rc;
}
