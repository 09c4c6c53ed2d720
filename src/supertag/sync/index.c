/*
 * sync/index.c - the original's full re-index, table by table, from the
 * compact graph (supertag-behaviour.md 4.2-4.7; the original's indexer,
 * field-value, supertag-metadata, system-field and type-inference passes).
 *
 * Everything runs in one transaction with prepared statements. Rows are
 * inserted in the original's order, so AUTOINCREMENT ids and
 * sqlite_sequence come out the same. Two defects are not copied: a cycle of
 * tuple parents ends the upward walk instead of hanging, and nothing here
 * depends on a previous index (a sync always rebuilds).
 */
#include "sync/index.h"

#include "st_error.h"
#include "sync/jstext.h"
#include "sync/jsnum.h"

#include <stdlib.h>
#include <string.h>

typedef struct writer {
    sqlite3 *db;
    st_graph *g;
    const st_symtab *exclusions;
    st_index_counts *counts;
    jt_out tmp, tmp2;
} writer;

static int sql_fail(sqlite3 *db, const char *what)
{
    return st_error_set(RESONA_EIO, "SQLite: %s: %s", what, sqlite3_errmsg(db));
}

int st_index_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = st_error_set(RESONA_EIO, "SQLite: %s (in: %.80s)", msg ? msg : "error", sql);
        sqlite3_free(msg);
        return rc;
    }
    return 0;
}

int st_index_create_schema(sqlite3 *db)
{
    for (const char *const *s = st_index_schema_sql; *s; s++) {
        int rc = st_index_exec(db, *s);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int prep(writer *w, const char *sql, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v2(w->db, sql, -1, st, NULL) != SQLITE_OK)
        return sql_fail(w->db, sql);
    return 0;
}

static int step(writer *w, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        if (rc == SQLITE_INTERRUPT)
            return st_error_set(RESONA_EINTERRUPTED, "sync interrupted");
        return sql_fail(w->db, what);
    }
    return 0;
}

static void bind_sym(writer *w, sqlite3_stmt *st, int i, uint32_t sym)
{
    size_t len;
    const char *s = st_graph_id(w->g, sym, &len);
    sqlite3_bind_text(st, i, s, (int)len, SQLITE_STATIC);
}

static void bind_str(writer *w, sqlite3_stmt *st, int i, st_str s)
{
    if (s.len == ST_STR_ABSENT || s.len == 0)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_text(st, i, st_graph_str(w->g, s), (int)s.len, SQLITE_STATIC);
}

/* A JS number bound as Bun does: columns with INTEGER affinity store integral values as integers. */
static void bind_num(sqlite3_stmt *st, int i, double v)
{
    sqlite3_bind_double(st, i, v);
}

static int sym_is(writer *w, uint32_t sym, const char *lit)
{
    size_t len;
    const char *s = st_graph_id(w->g, sym, &len);
    return len == strlen(lit) && memcmp(s, lit, len) == 0;
}

static int sym_prefix(writer *w, uint32_t sym, const char *lit)
{
    size_t len, n = strlen(lit);
    const char *s = st_graph_id(w->g, sym, &len);
    return len >= n && memcmp(s, lit, n) == 0;
}

static int sym_contains(writer *w, uint32_t sym, const char *lit)
{
    size_t len, n = strlen(lit);
    const char *s = st_graph_id(w->g, sym, &len);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(s + i, lit, n) == 0)
            return 1;
    return 0;
}

static int name_is(writer *w, const st_rec *r, const char *lit)
{
    return r && r->name.len != ST_STR_ABSENT && r->name.len == strlen(lit) &&
           memcmp(st_graph_str(w->g, r->name), lit, r->name.len) == 0;
}

/* ---- nodes + node_checksums -------------------------------------------- */

static int write_nodes(writer *w, int64_t now_ms)
{
    st_graph *g = w->g;
    sqlite3_stmt *ins = NULL, *sum = NULL;
    jt_out raw = {0}, ck = {0};
    int rc;
    if ((rc = prep(w, "INSERT INTO nodes (id, name, parent_id, node_type, created, updated, "
                      "done_at, raw_data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   &ins)) < 0 ||
        (rc = prep(w, "INSERT INTO node_checksums (node_id, checksum, last_seen) VALUES (?, ?, ?)",
                   &sum)) < 0)
        goto done;
    for (size_t i = 0; i < g->index_count; i++) {
        const st_rec *r = &g->recs[g->index[i]];
        if ((rc = st_graph_read_raw(g, r, &raw)) < 0 || (rc = st_graph_checksum(g, r, &ck)) < 0)
            goto done;
        bind_sym(w, ins, 1, r->id);
        bind_str(w, ins, 2, r->name);
        uint32_t p = g->parent[r->id];
        size_t plen = 0;
        if (p != ST_SYM_NONE)
            st_graph_id(g, p, &plen);
        if (p != ST_SYM_NONE && plen > 0)
            bind_sym(w, ins, 3, p);
        else
            sqlite3_bind_null(ins, 3);
        sqlite3_bind_text(ins, 4, "node", 4, SQLITE_STATIC);
        bind_num(ins, 5, r->created_kind == K_NUMBER ? r->created : 0);
        if (r->updated_kind == K_ARRAY)
            bind_num(ins, 6, r->updated);
        else
            sqlite3_bind_null(ins, 6);
        if (r->done_kind == K_NUMBER)
            bind_num(ins, 7, r->done);
        else
            sqlite3_bind_null(ins, 7);
        sqlite3_bind_text(ins, 8, raw.ptr, (int)raw.len, SQLITE_STATIC);
        if ((rc = step(w, ins, "inserting into nodes")) < 0)
            goto done;
        bind_sym(w, sum, 1, r->id);
        sqlite3_bind_text(sum, 2, ck.ptr ? ck.ptr : "", (int)ck.len, SQLITE_STATIC);
        sqlite3_bind_int64(sum, 3, now_ms);
        if ((rc = step(w, sum, "inserting into node_checksums")) < 0)
            goto done;
    }
    w->counts->nodes = g->index_count;
done:
    sqlite3_finalize(ins);
    sqlite3_finalize(sum);
    jt_out_free(&raw);
    jt_out_free(&ck);
    return rc;
}

/* ---- supertags, fields, references, tag applications (4.2) -------------- */

typedef struct named_slot {
    uint32_t tuple, def; /* tuple symbol, tagDef/attrDef symbol */
    st_str color;        /* tuple color */
} named_slot;

typedef struct graph_maps {
    st_symtab tag_names; /* supertags map keys, insertion order */
    named_slot *tags;
    st_symtab field_names;
    named_slot *fields;
} graph_maps;

static int map_set(st_symtab *keys, named_slot **slots, const char *name, size_t len,
                   named_slot v)
{
    uint32_t k;
    uint32_t before = keys->count;
    if (st_symtab_intern(keys, name, len, &k) < 0)
        return st_error_set(RESONA_ENOMEM, "out of memory");
    if (keys->count != before) {
        named_slot *ns = realloc(*slots, (size_t)keys->count * sizeof(named_slot));
        if (!ns)
            return st_error_set(RESONA_ENOMEM, "out of memory");
        *slots = ns;
    }
    (*slots)[k] = v;
    return 0;
}

static int trashed(const st_graph *g, uint32_t sym)
{
    return sym != ST_SYM_NONE && g->trash[sym];
}

static int resolve_tuples(writer *w, graph_maps *m, sqlite3_stmt *ta)
{
    st_graph *g = w->g;
    int rc;
    for (size_t c = 0; c < g->cands_len; c += 2) {
        const st_rec *node = &g->recs[g->cands[c]];
        uint32_t fl = g->cands[c + 1];
        uint32_t owner = node->owner;
        size_t olen = 0;
        if (owner != ST_SYM_NONE)
            st_graph_id(g, owner, &olen);
        if (owner == ST_SYM_NONE || olen == 0 || trashed(g, owner))
            continue;
        const st_rec *meta = st_graph_indexed(g, owner);
        if (!meta)
            continue;
        uint32_t target = meta->owner;
        size_t tlen = 0;
        if (target != ST_SYM_NONE)
            st_graph_id(g, target, &tlen);
        const uint32_t *ch = st_graph_children(g, node);
        if (fl & 1) { /* SYS_T01: supertag definition */
            if (target == ST_SYM_NONE || tlen == 0 || trashed(g, target))
                continue;
            const st_rec *tag = st_graph_indexed(g, target);
            if (!st_rec_named(tag))
                continue;
            named_slot v = {node->id, target, node->color};
            if ((rc = map_set(&m->tag_names, &m->tags, st_graph_str(g, tag->name), tag->name.len,
                              v)) < 0)
                return rc;
        } else if (fl & 2) { /* SYS_T02: field definition */
            if (target == ST_SYM_NONE || tlen == 0 || trashed(g, target))
                continue;
            const st_rec *field = st_graph_indexed(g, target);
            if (!st_rec_named(field))
                continue;
            named_slot v = {node->id, target, {0, ST_STR_ABSENT}};
            if ((rc = map_set(&m->field_names, &m->fields, st_graph_str(g, field->name),
                              field->name.len, v)) < 0)
                return rc;
        } else if (!trashed(g, node->id)) { /* tag application */
            if (target == ST_SYM_NONE || tlen == 0 || trashed(g, target) ||
                !st_graph_indexed(g, target))
                continue;
            for (uint32_t k = 0; k < node->children_count; k++) {
                uint32_t cs = ch[k];
                if (sym_contains(w, cs, "SYS") || trashed(g, cs))
                    continue;
                const st_rec *tag = st_graph_indexed(g, cs);
                if (!st_rec_named(tag))
                    continue;
                bind_sym(w, ta, 1, node->id);
                bind_sym(w, ta, 2, target);
                bind_sym(w, ta, 3, cs);
                bind_str(w, ta, 4, tag->name);
                if ((rc = step(w, ta, "inserting into tag_applications")) < 0)
                    return rc;
                w->counts->tag_applications++;
            }
        }
    }
    return 0;
}

/* field_names: field id -> name + JSON array of supertag names (indexer.extractFieldNames) */
static int write_field_names(writer *w, graph_maps *m)
{
    st_graph *g = w->g;
    sqlite3_stmt *ins = NULL;
    uint32_t *slot_of = NULL; /* symbol -> field slot + 1 */
    uint32_t *order = NULL;   /* field symbols in insertion order */
    jt_out *lists = NULL;     /* JSON arrays being built */
    size_t nf = 0, cap = 0;
    int rc = prep(w, "INSERT INTO field_names (field_id, field_name, supertags) VALUES (?, ?, ?)",
                  &ins);
    if (rc < 0)
        goto done;
    slot_of = calloc(g->ids.count + 1, sizeof(uint32_t));
    if (!slot_of) {
        rc = st_error_set(RESONA_ENOMEM, "out of memory");
        goto done;
    }
    for (uint32_t t = 0; t < m->tag_names.count; t++) {
        size_t tnl;
        const char *tname = st_symtab_str(&m->tag_names, t, &tnl);
        const st_rec *tag = st_graph_indexed(g, m->tags[t].def);
        if (!tag || !(tag->flags & RF_HAS_CHILDREN))
            continue;
        const uint32_t *ch = st_graph_children(g, tag);
        for (uint32_t k = 0; k < tag->children_count; k++) {
            const st_rec *child = st_graph_indexed(g, ch[k]);
            if (!child || child->doctype != DT_TUPLE || !(child->flags & RF_HAS_CHILDREN) ||
                child->children_count < 1)
                continue;
            uint32_t fid = st_graph_children(g, child)[0];
            const st_rec *fnode = st_graph_indexed(g, fid);
            if (!st_rec_named(fnode))
                continue;
            if (!slot_of[fid]) {
                if (nf == cap) {
                    size_t nc = cap ? cap * 2 : 16;
                    uint32_t *no = realloc(order, nc * sizeof(uint32_t));
                    jt_out *nl = no ? realloc(lists, nc * sizeof(jt_out)) : NULL;
                    if (no)
                        order = no;
                    if (!nl) {
                        rc = st_error_set(RESONA_ENOMEM, "out of memory");
                        goto done;
                    }
                    lists = nl;
                    cap = nc;
                }
                order[nf] = fid;
                memset(&lists[nf], 0, sizeof(jt_out));
                slot_of[fid] = (uint32_t)++nf;
            }
            jt_out *l = &lists[slot_of[fid] - 1];
            if (jt_out_append(l, l->len ? "," : "[", 1) < 0 || jt_write_string(l, tname, tnl) < 0) {
                rc = st_error_set(RESONA_ENOMEM, "out of memory");
                goto done;
            }
        }
    }
    for (size_t i = 0; i < nf; i++) {
        const st_rec *fnode = st_graph_indexed(g, order[i]);
        if (jt_out_append(&lists[i], "]", 1) < 0) {
            rc = st_error_set(RESONA_ENOMEM, "out of memory");
            goto done;
        }
        bind_sym(w, ins, 1, order[i]);
        bind_str(w, ins, 2, fnode->name);
        sqlite3_bind_text(ins, 3, lists[i].ptr, (int)lists[i].len, SQLITE_STATIC);
        if ((rc = step(w, ins, "inserting into field_names")) < 0)
            goto done;
        w->counts->field_names++;
    }
    static const char *const sys[][2] = {{"SYS_A13", "Tag"},      {"SYS_A61", "Due date"},
                                         {"SYS_A90", "Date"},     {"SYS_A142", "Attendees"},
                                         {"SYS_T01", "Supertag"}, {"SYS_T02", "Field"}};
    for (size_t i = 0; i < sizeof(sys) / sizeof(sys[0]); i++) {
        uint32_t s = st_symtab_find(&g->ids, sys[i][0], strlen(sys[i][0]));
        if (s != ST_SYM_NONE && slot_of[s])
            continue;
        sqlite3_bind_text(ins, 1, sys[i][0], -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 2, sys[i][1], -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 3, "[\"system\"]", -1, SQLITE_STATIC);
        if ((rc = step(w, ins, "inserting into field_names")) < 0)
            goto done;
        w->counts->field_names++;
    }
done:
    for (size_t i = 0; i < nf; i++)
        jt_out_free(&lists[i]);
    free(lists);
    free(order);
    free(slot_of);
    sqlite3_finalize(ins);
    return rc;
}

static int write_graph_tables(writer *w)
{
    st_graph *g = w->g;
    graph_maps m;
    memset(&m, 0, sizeof(m));
    sqlite3_stmt *st = NULL, *fi = NULL, *rf = NULL, *ta = NULL;
    int rc;
    if ((rc = prep(w, "INSERT INTO supertags (node_id, tag_name, tag_id, color) VALUES (?, ?, ?, ?)",
                   &st)) < 0 ||
        (rc = prep(w, "INSERT INTO fields (node_id, field_name, field_id) VALUES (?, ?, ?)", &fi)) <
            0 ||
        (rc = prep(w, "INSERT INTO \"references\" (from_node, to_node, reference_type) VALUES (?, "
                      "?, ?)",
                   &rf)) < 0 ||
        (rc = prep(w, "INSERT INTO tag_applications (tuple_node_id, data_node_id, tag_id, "
                      "tag_name) VALUES (?, ?, ?, ?)",
                   &ta)) < 0)
        goto done;
    /* The original inserts supertags, fields, references, then tag
     * applications; tag applications are found while resolving tuples, so
     * they are collected first into a temporary table and copied after. */
    if ((rc = st_index_exec(w->db, "CREATE TEMP TABLE ta_pending (tuple_node_id, data_node_id, "
                                   "tag_id, tag_name)")) < 0)
        goto done;
    sqlite3_finalize(ta);
    ta = NULL;
    if ((rc = prep(w, "INSERT INTO temp.ta_pending VALUES (?, ?, ?, ?)", &ta)) < 0)
        goto done;
    if ((rc = resolve_tuples(w, &m, ta)) < 0)
        goto done;
    for (uint32_t t = 0; t < m.tag_names.count; t++) {
        size_t len;
        const char *name = st_symtab_str(&m.tag_names, t, &len);
        bind_sym(w, st, 1, m.tags[t].tuple);
        sqlite3_bind_text(st, 2, name, (int)len, SQLITE_STATIC);
        bind_sym(w, st, 3, m.tags[t].def);
        bind_str(w, st, 4, m.tags[t].color);
        if ((rc = step(w, st, "inserting into supertags")) < 0)
            goto done;
        w->counts->supertags++;
    }
    for (uint32_t f = 0; f < m.field_names.count; f++) {
        size_t len;
        const char *name = st_symtab_str(&m.field_names, f, &len);
        bind_sym(w, fi, 1, m.fields[f].tuple);
        sqlite3_bind_text(fi, 2, name, (int)len, SQLITE_STATIC);
        bind_sym(w, fi, 3, m.fields[f].def);
        if ((rc = step(w, fi, "inserting into fields")) < 0)
            goto done;
        w->counts->fields++;
    }
    for (size_t i = 0; i < g->refs_len; i += 2) {
        if (!st_graph_indexed(g, g->refs[i + 1]))
            continue;
        bind_sym(w, rf, 1, g->refs[i]);
        bind_sym(w, rf, 2, g->refs[i + 1]);
        sqlite3_bind_text(rf, 3, "inline_ref", -1, SQLITE_STATIC);
        if ((rc = step(w, rf, "inserting into references")) < 0)
            goto done;
        w->counts->references++;
    }
    if ((rc = st_index_exec(w->db, "INSERT INTO tag_applications (tuple_node_id, data_node_id, "
                                   "tag_id, tag_name) SELECT * FROM temp.ta_pending ORDER BY "
                                   "rowid")) < 0 ||
        (rc = st_index_exec(w->db, "DROP TABLE temp.ta_pending")) < 0)
        goto done;
    if ((rc = write_field_names(w, &m)) < 0)
        goto done;
done:
    sqlite3_finalize(st);
    sqlite3_finalize(fi);
    sqlite3_finalize(rf);
    sqlite3_finalize(ta);
    st_symtab_free(&m.tag_names);
    st_symtab_free(&m.field_names);
    free(m.tags);
    free(m.fields);
    return rc;
}

/* ---- field values (4.6) -------------------------------------------------- */

static const char *system_field_name(writer *w, uint32_t sym)
{
    static const char *const names[][2] = {
        {"SYS_A13", "Tag"},          {"SYS_A61", "Due date"},          {"SYS_A90", "Date"},
        {"SYS_A142", "Attendees"},   {"SYS_T01", "Supertag"},          {"SYS_T02", "Field"},
        {"SYS_T03", "Option value"}, {"SYS_A15", "Search expression"}, {"SYS_A144", "Search title"},
        {"SYS_A130", "Entity type"}, {"SYS_A150", "Speaker"},          {"SYS_A199", "Transcript"},
        {"SYS_A252", "Transcript speaker"}, {"SYS_A253", "Start time"}, {"SYS_A254", "End time"},
        {"SYS_A12", "System reference"},    {"SYS_A16", "Default value"},
        {"SYS_A20", "Field reference"}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (sym_is(w, sym, names[i][0]))
            return names[i][1];
    return NULL;
}

static int label_ok(writer *w, const st_rec *label)
{
    if (!st_rec_named(label))
        return 0;
    const char *n = st_graph_str(w->g, label->name);
    size_t len = label->name.len;
    if (len >= 4 && memcmp(n, "  - ", 4) == 0)
        return 0;
    if (len >= 6 && memcmp(n, "    - ", 6) == 0)
        return 0;
    return 1;
}

static uint32_t tuple_parent(const st_graph *g, uint32_t id)
{
    uint32_t cur = id, p = g->parent[cur];
    size_t steps = 0;
    while (p != ST_SYM_NONE) {
        size_t len;
        st_graph_id(g, p, &len);
        if (len == 0)
            return ST_SYM_NONE; /* "" is falsy */
        const st_rec *pn = st_graph_indexed(g, p);
        if (!pn || pn->doctype != DT_TUPLE)
            return p;
        if (++steps > g->index_count)
            return ST_SYM_NONE; /* a cycle of tuples: the original loops forever */
        cur = p;
        p = g->parent[cur];
    }
    return ST_SYM_NONE;
}

static int write_field_values(writer *w)
{
    st_graph *g = w->g;
    sqlite3_stmt *ins = NULL;
    int rc = prep(w, "INSERT INTO field_values (tuple_id, parent_id, field_def_id, field_name, "
                     "value_node_id, value_text, value_order, created) VALUES (?, ?, ?, ?, ?, ?, "
                     "?, ?)",
                  &ins);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < g->index_count; i++) {
        const st_rec *t = &g->recs[g->index[i]];
        if (t->doctype != DT_TUPLE || t->children_count < 2 || t->children_count > 50)
            continue;
        const uint32_t *ch = st_graph_children(g, t);
        const char *fname;
        size_t flen;
        if (sym_prefix(w, ch[0], "SYS_")) {
            fname = system_field_name(w, ch[0]);
            if (!fname)
                continue;
            flen = strlen(fname);
        } else {
            const st_rec *label = st_graph_indexed(g, ch[0]);
            if (!label_ok(w, label))
                continue;
            fname = st_graph_str(g, label->name);
            flen = label->name.len;
        }
        if (w->exclusions && st_symtab_find(w->exclusions, fname, flen) != ST_SYM_NONE)
            continue;
        uint32_t parent = tuple_parent(g, t->id);
        if (parent == ST_SYM_NONE)
            continue;
        const st_rec *prec = st_graph_indexed(g, parent);
        int order = 0;
        for (uint32_t k = 1; k < t->children_count; k++) {
            const st_rec *v = st_graph_indexed(g, ch[k]);
            if (!v || !st_rec_named(v))
                continue;
            const char *text = st_graph_str(g, v->name);
            if (st_js_blank(text, v->name.len))
                continue;
            bind_sym(w, ins, 1, t->id);
            bind_sym(w, ins, 2, parent);
            size_t slen = 0;
            if (t->source != ST_SYM_NONE)
                st_graph_id(g, t->source, &slen);
            if (slen)
                bind_sym(w, ins, 3, t->source);
            else
                sqlite3_bind_text(ins, 3, "", 0, SQLITE_STATIC);
            sqlite3_bind_text(ins, 4, fname, (int)flen, SQLITE_STATIC);
            bind_sym(w, ins, 5, ch[k]);
            sqlite3_bind_text(ins, 6, text, (int)v->name.len, SQLITE_STATIC);
            sqlite3_bind_int(ins, 7, order++);
            if (prec && prec->created_kind == K_NUMBER)
                bind_num(ins, 8, prec->created);
            else
                sqlite3_bind_null(ins, 8);
            if ((rc = step(w, ins, "inserting into field_values")) < 0)
                goto done;
            w->counts->field_values++;
        }
    }
done:
    sqlite3_finalize(ins);
    return rc;
}

/* ---- supertag metadata, fields and parents (4.7) ------------------------ */

static int in_trash_by_owner(const st_graph *g, const st_rec *r)
{
    const st_rec *cur = r;
    for (int depth = 0; cur && depth < 20; depth++) {
        uint32_t o = cur->owner;
        size_t len = 0;
        if (o != ST_SYM_NONE)
            st_graph_id(g, o, &len);
        if (o == ST_SYM_NONE || len == 0)
            break;
        const char *s = st_graph_id(g, o, &len);
        for (size_t i = 0; i + 5 <= len; i++)
            if (memcmp(s + i, "TRASH", 5) == 0)
                return 1;
        cur = st_graph_indexed(g, o);
    }
    return 0;
}

/* extractOptionValuesFromField: JSON array of unique option names, or len 0. */
static int option_values(writer *w, uint32_t label, jt_out *out)
{
    st_graph *g = w->g;
    out->len = 0;
    if (sym_prefix(w, label, "SYS_"))
        return 0;
    const st_rec *field = st_graph_indexed(g, label);
    if (!field || field->children_count == 0)
        return 0;
    const st_rec *values = NULL;
    const uint32_t *ch = st_graph_children(g, field);
    for (uint32_t k = 0; k < field->children_count && !values; k++) {
        const st_rec *c = st_graph_indexed(g, ch[k]);
        if (c && c->doctype == DT_TUPLE && name_is(w, c, "Values"))
            values = c;
    }
    if (!values || values->children_count == 0)
        return 0;
    /* collect names, dropping repeats (first occurrence kept) */
    st_symtab seen;
    memset(&seen, 0, sizeof(seen));
    int rc = 0;
    const uint32_t *vc = st_graph_children(g, values);
    for (uint32_t k = 0; k < values->children_count && rc == 0; k++) {
        if (sym_prefix(w, vc[k], "SYS_"))
            continue;
        const st_rec *c = st_graph_indexed(g, vc[k]);
        if (!c)
            continue;
        const st_rec *cand[2] = {NULL, NULL};
        const uint32_t *gc = st_graph_children(g, c);
        for (uint32_t j = 0; j <= c->children_count && rc == 0; j++) {
            const st_rec *n;
            if (j < c->children_count) {
                if (sym_prefix(w, gc[j], "SYS_"))
                    continue;
                n = st_graph_indexed(g, gc[j]);
            } else {
                n = c;
            }
            (void)cand;
            if (!st_rec_named(n))
                continue;
            uint32_t before = seen.count, s;
            if (st_symtab_intern(&seen, st_graph_str(g, n->name), n->name.len, &s) < 0) {
                rc = st_error_set(RESONA_ENOMEM, "out of memory");
                break;
            }
            if (seen.count == before)
                continue;
            if (jt_out_append(out, out->len ? "," : "[", 1) < 0 ||
                jt_write_string(out, st_graph_str(g, n->name), n->name.len) < 0)
                rc = st_error_set(RESONA_ENOMEM, "out of memory");
        }
    }
    if (rc == 0 && out->len && jt_out_append(out, "]", 1) < 0)
        rc = st_error_set(RESONA_ENOMEM, "out of memory");
    st_symtab_free(&seen);
    return rc;
}

static int write_supertag_metadata(writer *w)
{
    st_graph *g = w->g;
    sqlite3_stmt *md = NULL, *sf = NULL, *sp = NULL;
    jt_out norm = {0}, opts = {0};
    int rc;
    if ((rc = prep(w, "INSERT INTO supertag_fields (tag_id, tag_name, field_name, field_label_id, "
                      "field_order, normalized_name, inferred_data_type, default_value_id, "
                      "default_value_text, option_values) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                      "ON CONFLICT(tag_id, field_name) DO UPDATE SET tag_name = "
                      "excluded.tag_name, field_label_id = excluded.field_label_id, field_order "
                      "= excluded.field_order, normalized_name = excluded.normalized_name, "
                      "inferred_data_type = excluded.inferred_data_type, default_value_id = "
                      "excluded.default_value_id, default_value_text = "
                      "excluded.default_value_text, option_values = excluded.option_values",
                   &sf)) < 0 ||
        (rc = prep(w, "INSERT INTO supertag_parents (child_tag_id, parent_tag_id) VALUES (?, ?) "
                      "ON CONFLICT(child_tag_id, parent_tag_id) DO NOTHING",
                   &sp)) < 0 ||
        (rc = prep(w, "INSERT INTO supertag_metadata (tag_id, tag_name, normalized_name, "
                      "description, color) VALUES (?, ?, ?, ?, ?) ON CONFLICT(tag_id) DO UPDATE "
                      "SET tag_name = excluded.tag_name, normalized_name = "
                      "excluded.normalized_name, description = excluded.description, color = "
                      "excluded.color",
                   &md)) < 0)
        goto done;
    for (size_t i = 0; i < g->index_count; i++) {
        const st_rec *td = &g->recs[g->index[i]];
        if (td->doctype != DT_TAGDEF || in_trash_by_owner(g, td))
            continue;
        const char *tname = st_rec_named(td) ? st_graph_str(g, td->name) : "";
        size_t tlen = st_rec_named(td) ? td->name.len : 0;
        norm.len = 0;
        if (st_js_normalize_name(tname, tlen, &norm) < 0) {
            rc = st_error_set(RESONA_ENOMEM, "out of memory");
            goto done;
        }
        bind_sym(w, md, 1, td->id);
        sqlite3_bind_text(md, 2, tname, (int)tlen, SQLITE_STATIC);
        sqlite3_bind_text(md, 3, norm.ptr, (int)norm.len, SQLITE_STATIC);
        bind_str(w, md, 4, td->tag_desc);
        bind_str(w, md, 5, td->tag_color);
        if ((rc = step(w, md, "inserting into supertag_metadata")) < 0)
            goto done;
        w->counts->supertag_metadata++;

        /* template fields */
        int order = 0;
        const uint32_t *ch = st_graph_children(g, td);
        for (uint32_t k = 0; k < td->children_count; k++) {
            const st_rec *tup = st_graph_indexed(g, ch[k]);
            if (!tup || tup->doctype != DT_TUPLE || tup->children_count < 1)
                continue;
            const uint32_t *tc = st_graph_children(g, tup);
            uint32_t label = tc[0];
            const st_rec *lnode = st_graph_indexed(g, label);
            const char *fname = NULL;
            size_t flen = 0;
            if (!lnode && (sym_is(w, label, "SYS_A90") || sym_is(w, label, "SYS_A61") ||
                           sym_is(w, label, "Mp2A7_2PQw"))) {
                fname = sym_is(w, label, "SYS_A90")   ? "Date"
                        : sym_is(w, label, "SYS_A61") ? "Due Date"
                                                      : "Attendees";
                flen = strlen(fname);
            } else if (st_rec_named(lnode)) {
                fname = st_graph_str(g, lnode->name);
                flen = lnode->name.len;
            } else {
                continue;
            }
            const st_rec *def = tup->children_count >= 2 ? st_graph_indexed(g, tc[1]) : NULL;
            norm.len = 0;
            if (st_js_normalize_name(fname, flen, &norm) < 0) {
                rc = st_error_set(RESONA_ENOMEM, "out of memory");
                goto done;
            }
            if ((rc = option_values(w, label, &opts)) < 0)
                goto done;
            bind_sym(w, sf, 1, td->id);
            sqlite3_bind_text(sf, 2, tname, (int)tlen, SQLITE_STATIC);
            sqlite3_bind_text(sf, 3, fname, (int)flen, SQLITE_STATIC);
            bind_sym(w, sf, 4, label);
            sqlite3_bind_int(sf, 5, order++);
            sqlite3_bind_text(sf, 6, norm.ptr, (int)norm.len, SQLITE_STATIC);
            sqlite3_bind_text(sf, 7, st_js_infer_type(fname, flen), -1, SQLITE_STATIC);
            if (st_rec_named(def)) {
                bind_sym(w, sf, 8, tc[1]);
                bind_str(w, sf, 9, def->name);
            } else {
                sqlite3_bind_null(sf, 8);
                sqlite3_bind_null(sf, 9);
            }
            if (opts.len)
                sqlite3_bind_text(sf, 10, opts.ptr, (int)opts.len, SQLITE_STATIC);
            else
                sqlite3_bind_null(sf, 10);
            if ((rc = step(w, sf, "inserting into supertag_fields")) < 0)
                goto done;
            w->counts->supertag_fields++;
        }

        /* parents from the tagDef's metanode tuple [SYS_A13, ...parent tagDefs] */
        size_t mlen = 0;
        if (td->meta != ST_SYM_NONE)
            st_graph_id(g, td->meta, &mlen);
        if (!(td->flags & RF_METANODE_STR) || mlen == 0)
            continue;
        const st_rec *meta = st_graph_indexed(g, td->meta);
        if (!meta || !(meta->flags & RF_HAS_CHILDREN))
            continue;
        const uint32_t *mc = st_graph_children(g, meta);
        for (uint32_t k = 0; k < meta->children_count; k++) {
            const st_rec *tup = st_graph_indexed(g, mc[k]);
            if (!tup || tup->doctype != DT_TUPLE || tup->children_count < 2)
                continue;
            const uint32_t *tc = st_graph_children(g, tup);
            if (!(tc[0] == g->sym_a13 || name_is(w, st_graph_indexed(g, tc[0]), "SYS_A13")))
                continue;
            for (uint32_t j = 1; j < tup->children_count; j++) {
                const st_rec *p = st_graph_indexed(g, tc[j]);
                if (!p || p->doctype != DT_TAGDEF)
                    continue;
                bind_sym(w, sp, 1, td->id);
                bind_sym(w, sp, 2, tc[j]);
                if ((rc = step(w, sp, "inserting into supertag_parents")) < 0)
                    goto done;
                w->counts->supertag_parents += (size_t)sqlite3_changes(w->db);
            }
            break;
        }
    }
done:
    sqlite3_finalize(md);
    sqlite3_finalize(sf);
    sqlite3_finalize(sp);
    jt_out_free(&norm);
    jt_out_free(&opts);
    return rc;
}

/* ---- system field sources, explicit types, target supertags ------------- */

static int write_system_field_sources(writer *w)
{
    st_graph *g = w->g;
    static const char *const sysf[] = {"SYS_A90", "SYS_A61", "SYS_A142"};
    uint32_t fsym[3];
    for (int i = 0; i < 3; i++)
        fsym[i] = st_symtab_find(&g->ids, sysf[i], strlen(sysf[i]));
    /* pairs (field index, tag symbol), field groups in first-seen order */
    uint32_t *pairs = NULL;
    size_t np = 0, cap = 0;
    int first_seen[3] = {-1, -1, -1}, nseen = 0, rc = 0;
    for (size_t i = 0; i < g->rec_count; i++) {
        const st_rec *r = &g->recs[i];
        if (r->doctype != DT_TAGDEF || !(r->flags & RF_HAS_CHILDREN))
            continue;
        const uint32_t *ch = st_graph_children(g, r);
        for (uint32_t k = 0; k < r->children_count; k++) {
            const st_rec *c = st_graph_any(g, ch[k]);
            if (!c || c->doctype != DT_TUPLE || c->children_count == 0)
                continue;
            uint32_t fid = st_graph_children(g, c)[0];
            int fi = -1;
            for (int j = 0; j < 3; j++)
                if (fsym[j] != ST_SYM_NONE && fid == fsym[j])
                    fi = j;
            if (fi < 0)
                continue;
            if (first_seen[fi] < 0)
                first_seen[fi] = nseen++;
            int dup = 0;
            for (size_t q = 0; q < np && !dup; q += 2)
                dup = pairs[q] == (uint32_t)fi && pairs[q + 1] == r->id;
            if (dup)
                continue;
            if (np + 2 > cap) {
                cap = cap ? cap * 2 : 32;
                uint32_t *npairs = realloc(pairs, cap * sizeof(uint32_t));
                if (!npairs) {
                    free(pairs);
                    return st_error_set(RESONA_ENOMEM, "out of memory");
                }
                pairs = npairs;
            }
            pairs[np++] = (uint32_t)fi;
            pairs[np++] = r->id;
        }
    }
    sqlite3_stmt *ins = NULL;
    if (np && (rc = prep(w, "INSERT INTO system_field_sources (field_id, tag_id) VALUES (?, ?)",
                         &ins)) == 0) {
        for (int rank = 0; rank < nseen && rc == 0; rank++)
            for (size_t q = 0; q < np && rc == 0; q += 2) {
                if (first_seen[pairs[q]] != rank)
                    continue;
                sqlite3_bind_text(ins, 1, sysf[pairs[q]], -1, SQLITE_STATIC);
                bind_sym(w, ins, 2, pairs[q + 1]);
                rc = step(w, ins, "inserting into system_field_sources");
                w->counts->system_field_sources++;
            }
    }
    sqlite3_finalize(ins);
    free(pairs);
    return rc;
}

static const char *sys_d_type(writer *w, uint32_t sym)
{
    static const char *const map[][2] = {{"SYS_D01", "checkbox"}, {"SYS_D03", "date"},
                                         {"SYS_D05", "reference"}, {"SYS_D06", "text"},
                                         {"SYS_D08", "number"},   {"SYS_D10", "url"},
                                         {"SYS_D11", "email"},    {"SYS_D12", "options"},
                                         {"SYS_D13", "reference"}};
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (sym_is(w, sym, map[i][0]))
            return map[i][1];
    return NULL;
}

static int write_explicit_types(writer *w)
{
    st_graph *g = w->g;
    uint32_t a02 = st_symtab_find(&g->ids, "SYS_A02", 7);
    if (a02 == ST_SYM_NONE)
        return 0;
    sqlite3_stmt *up = NULL;
    int rc = prep(w, "UPDATE supertag_fields SET inferred_data_type = ? WHERE field_label_id = ? "
                     "AND inferred_data_type != ?",
                  &up);
    /* typeChoice docs (few), with their type and parent; the last one of a
     * parent wins, as in the original's Map */
    uint32_t *tc = NULL;
    const char **tt = NULL;
    size_t ntc = 0, cap = 0;
    for (size_t i = 0; i < g->rec_count && rc == 0; i++) {
        const st_rec *r = &g->recs[i];
        if (r->source != a02 || !name_is(w, r, "typeChoice"))
            continue;
        const uint32_t *ch = st_graph_children(g, r);
        const char *type = NULL;
        for (uint32_t k = 0; k < r->children_count; k++)
            if (sym_prefix(w, ch[k], "SYS_D")) {
                type = sys_d_type(w, ch[k]);
                break;
            }
        uint32_t parent = g->parent_all[r->id];
        if (!type || parent == ST_SYM_NONE)
            continue;
        if (ntc == cap) {
            cap = cap ? cap * 2 : 16;
            uint32_t *ntcv = realloc(tc, cap * sizeof(uint32_t));
            const char **nttv = ntcv ? realloc(tt, cap * sizeof(char *)) : NULL;
            if (ntcv)
                tc = ntcv;
            if (!nttv) {
                rc = st_error_set(RESONA_ENOMEM, "out of memory");
                break;
            }
            tt = nttv;
        }
        tc[ntc] = parent;
        tt[ntc++] = type;
    }
    for (size_t i = 0; i < ntc && rc == 0; i++) {
        int later = 0;
        for (size_t j = i + 1; j < ntc && !later; j++)
            later = tc[j] == tc[i];
        if (later)
            continue;
        sqlite3_bind_text(up, 1, tt[i], -1, SQLITE_STATIC);
        bind_sym(w, up, 2, tc[i]);
        sqlite3_bind_text(up, 3, tt[i], -1, SQLITE_STATIC);
        rc = step(w, up, "updating supertag_fields types");
    }
    free(tc);
    free(tt);
    sqlite3_finalize(up);
    return rc;
}

static int is_source_tuple(const st_graph *g, uint32_t sym)
{
    const st_rec *c = st_graph_any(g, sym);
    return c && c->doctype == DT_TUPLE && (c->flags & RF_SRC_SUPERTAG);
}

static int write_target_supertags(writer *w)
{
    st_graph *g = w->g;
    sqlite3_stmt *up = NULL;
    int rc = 0;
    for (size_t i = 0; i < g->rec_count && rc == 0; i++) {
        const st_rec *r = &g->recs[i];
        if (!(r->flags & RF_FIRST) || r->children_count == 0)
            continue;
        const st_rec *field = st_graph_any(g, r->id); /* docsById.get(id): the latest doc */
        const uint32_t *ch = st_graph_children(g, field);
        const st_rec *src = NULL;
        for (uint32_t k = 0; k < field->children_count && !src; k++)
            if (is_source_tuple(g, ch[k]))
                src = st_graph_any(g, ch[k]);
        if (!src)
            continue;
        const uint32_t *sc = st_graph_children(g, src);
        uint32_t tagdef = ST_SYM_NONE;
        for (uint32_t k = 0; k < src->children_count; k++)
            if (!sym_prefix(w, sc[k], "SYS_")) {
                tagdef = sc[k];
                break;
            }
        const st_rec *tnode = st_graph_any(g, tagdef);
        if (!st_rec_named(tnode))
            continue;
        if (!up && (rc = prep(w, "UPDATE supertag_fields SET target_supertag_id = ?, "
                                 "target_supertag_name = ? WHERE field_label_id = ?",
                              &up)) < 0)
            break;
        bind_sym(w, up, 1, tagdef);
        bind_str(w, up, 2, tnode->name);
        bind_sym(w, up, 3, r->id);
        rc = step(w, up, "updating supertag_fields targets");
    }
    sqlite3_finalize(up);
    return rc;
}

/* ---- value-based type inference (value-type-inference) ------------------ */

static int digits(const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static const char *value_vote(const unsigned char *text, int len, int meta_truthy)
{
    const char *s = (const char *)text;
    if (meta_truthy)
        return "reference";
    if ((len == 4 && memcmp(s, "true", 4) == 0) || (len == 5 && memcmp(s, "false", 5) == 0))
        return "checkbox";
    if (len >= 10 && digits(s, 4) && s[4] == '-' && digits(s + 5, 2) && s[7] == '-' &&
        digits(s + 8, 2))
        return "date";
    if (len >= 6 && memcmp(s, "PARENT", 6) == 0) {
        if (len == 6)
            return "date";
        if ((s[6] == '+' || s[6] == '-') && len > 7 && digits(s + 7, len - 7))
            return "date";
    }
    for (int i = 0; i + 19 <= len; i++)
        if (memcmp(s + i, "data-inlineref-date", 19) == 0)
            return "date";
    return NULL;
}

static int column_truthy(sqlite3_stmt *st, int col)
{
    switch (sqlite3_column_type(st, col)) {
    case SQLITE_NULL: return 0;
    case SQLITE_INTEGER: return sqlite3_column_int64(st, col) != 0;
    case SQLITE_FLOAT: return sqlite3_column_double(st, col) != 0;
    default: return sqlite3_column_bytes(st, col) > 0;
    }
}

static int write_value_types(writer *w)
{
    sqlite3_stmt *list = NULL, *q1 = NULL, *q2 = NULL, *up = NULL;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc;
    if ((rc = prep(w, "SELECT DISTINCT field_name, field_label_id FROM supertag_fields WHERE "
                      "inferred_data_type = 'text' OR inferred_data_type IS NULL",
                   &list)) < 0)
        goto done;
    int s;
    while ((s = sqlite3_step(list)) == SQLITE_ROW) {
        if (n + 2 > cap) {
            cap = cap ? cap * 2 : 32;
            char **nn = realloc(names, cap * sizeof(char *));
            if (!nn) {
                rc = st_error_set(RESONA_ENOMEM, "out of memory");
                goto done;
            }
            names = nn;
        }
        const char *a = (const char *)sqlite3_column_text(list, 0);
        const char *b = (const char *)sqlite3_column_text(list, 1);
        names[n] = strdup(a ? a : "");
        names[n + 1] = strdup(b ? b : "");
        n += 2;
        if (!names[n - 2] || !names[n - 1]) {
            rc = st_error_set(RESONA_ENOMEM, "out of memory");
            goto done;
        }
    }
    if (s != SQLITE_DONE) {
        rc = sql_fail(w->db, "listing supertag_fields");
        goto done;
    }
    if ((rc = prep(w, "SELECT fv.value_text, json_extract(n.raw_data, '$.props._metaNodeId') FROM "
                      "field_values fv JOIN nodes n ON fv.value_node_id = n.id WHERE "
                      "fv.field_name = ? AND ( fv.field_def_id = ? OR EXISTS ( SELECT 1 FROM "
                      "nodes tuple WHERE tuple.id = fv.field_def_id AND "
                      "json_extract(tuple.raw_data, '$.children') LIKE '%' || ? || '%' ) ) "
                      "LIMIT 10",
                   &q1)) < 0 ||
        (rc = prep(w, "SELECT fv.value_text, json_extract(n.raw_data, '$.props._metaNodeId') FROM "
                      "field_values fv JOIN nodes n ON fv.value_node_id = n.id WHERE "
                      "fv.field_name = ? LIMIT 10",
                   &q2)) < 0 ||
        (rc = prep(w, "UPDATE supertag_fields SET inferred_data_type = ? WHERE field_name = ? AND "
                      "field_label_id = ?",
                   &up)) < 0)
        goto done;
    for (size_t i = 0; i < n; i += 2) {
        sqlite3_stmt *q = names[i + 1][0] ? q1 : q2;
        sqlite3_bind_text(q, 1, names[i], -1, SQLITE_STATIC);
        if (q == q1) {
            sqlite3_bind_text(q, 2, names[i + 1], -1, SQLITE_STATIC);
            sqlite3_bind_text(q, 3, names[i + 1], -1, SQLITE_STATIC);
        }
        static const char *const types[] = {"reference", "checkbox", "date"};
        int counts[3] = {0, 0, 0}, first[3] = {-1, -1, -1}, seen = 0;
        while ((s = sqlite3_step(q)) == SQLITE_ROW) {
            const char *v = value_vote(sqlite3_column_text(q, 0), sqlite3_column_bytes(q, 0),
                                       column_truthy(q, 1));
            for (int t = 0; v && t < 3; t++)
                if (strcmp(v, types[t]) == 0) {
                    if (first[t] < 0)
                        first[t] = seen++;
                    counts[t]++;
                }
        }
        sqlite3_reset(q);
        sqlite3_clear_bindings(q);
        if (s != SQLITE_DONE) {
            rc = sql_fail(w->db, "sampling field values");
            goto done;
        }
        /* most votes wins; ties go to the type seen first (Object.entries order) */
        int best = -1;
        for (int rank = 0; rank < seen; rank++)
            for (int t = 0; t < 3; t++)
                if (first[t] == rank && (best < 0 || counts[t] > counts[best]))
                    best = t;
        if (best < 0)
            continue;
        sqlite3_bind_text(up, 1, types[best], -1, SQLITE_STATIC);
        sqlite3_bind_text(up, 2, names[i], -1, SQLITE_STATIC);
        sqlite3_bind_text(up, 3, names[i + 1], -1, SQLITE_STATIC);
        if ((rc = step(w, up, "updating supertag_fields types")) < 0)
            goto done;
    }
done:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    sqlite3_finalize(list);
    sqlite3_finalize(q1);
    sqlite3_finalize(q2);
    sqlite3_finalize(up);
    return rc;
}

/* ---- all of it ----------------------------------------------------------- */

int st_index_write(sqlite3 *db, st_graph *g, const char *export_name, int64_t now_ms,
                   const st_symtab *exclusions, st_index_counts *counts)
{
    writer w = {db, g, exclusions, counts, {0}, {0}};
    memset(counts, 0, sizeof(*counts));
    int rc;
    if ((rc = write_nodes(&w, now_ms)) < 0 || (rc = write_graph_tables(&w)) < 0 ||
        (rc = write_field_values(&w)) < 0 || (rc = write_supertag_metadata(&w)) < 0 ||
        (rc = write_system_field_sources(&w)) < 0 || (rc = write_explicit_types(&w)) < 0 ||
        (rc = write_target_supertags(&w)) < 0 || (rc = write_value_types(&w)) < 0)
        goto done;
    sqlite3_stmt *md = NULL;
    if ((rc = prep(&w, "INSERT OR REPLACE INTO sync_metadata (id, last_export_file, "
                       "last_sync_timestamp, total_nodes) VALUES (1, ?, ?, ?)",
                   &md)) < 0)
        goto done;
    sqlite3_bind_text(md, 1, export_name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(md, 2, now_ms);
    sqlite3_bind_int64(md, 3, (sqlite3_int64)g->index_count);
    rc = step(&w, md, "writing sync_metadata");
    sqlite3_finalize(md);
done:
    jt_out_free(&w.tmp);
    jt_out_free(&w.tmp2);
    return rc;
}
