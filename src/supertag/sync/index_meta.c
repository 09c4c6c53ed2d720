/*
 * sync/index_meta.c - the index passes after field values (supertag-
 * behaviour.md 4.7, and the original's supertag-metadata, system-field,
 * explicit-type and value-type-inference passes): supertag_metadata,
 * supertag_fields, supertag_parents, system_field_sources, and the
 * inferred_data_type / target_supertag columns.
 */
#include "sync/index_int.h"

#include "st_error.h"
#include "sync/jstext.h"

#include <stdlib.h>
#include <string.h>

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
    if (st_index__sym_prefix(w, label, "SYS_"))
        return 0;
    const st_rec *field = st_graph_indexed(g, label);
    if (!field || field->children_count == 0)
        return 0;
    const st_rec *values = NULL;
    const uint32_t *ch = st_graph_children(g, field);
    for (uint32_t k = 0; k < field->children_count && !values; k++) {
        const st_rec *c = st_graph_indexed(g, ch[k]);
        if (c && c->doctype == DT_TUPLE && st_index__name_is(w, c, "Values"))
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
        if (st_index__sym_prefix(w, vc[k], "SYS_"))
            continue;
        const st_rec *c = st_graph_indexed(g, vc[k]);
        if (!c)
            continue;
        const uint32_t *gc = st_graph_children(g, c);
        for (uint32_t j = 0; j <= c->children_count && rc == 0; j++) {
            const st_rec *n;
            if (j < c->children_count) {
                if (st_index__sym_prefix(w, gc[j], "SYS_"))
                    continue;
                n = st_graph_indexed(g, gc[j]);
            } else {
                n = c;
            }
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

int st_index__write_supertag_metadata(writer *w)
{
    st_graph *g = w->g;
    sqlite3_stmt *md = NULL, *sf = NULL, *sp = NULL;
    jt_out norm = {0}, opts = {0};
    int rc;
    if ((rc = st_index__prep(
             w,
             "INSERT INTO supertag_fields (tag_id, tag_name, field_name, field_label_id, "
             "field_order, normalized_name, inferred_data_type, default_value_id, "
             "default_value_text, option_values) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
             "ON CONFLICT(tag_id, field_name) DO UPDATE SET tag_name = "
             "excluded.tag_name, field_label_id = excluded.field_label_id, field_order "
             "= excluded.field_order, normalized_name = excluded.normalized_name, "
             "inferred_data_type = excluded.inferred_data_type, default_value_id = "
             "excluded.default_value_id, default_value_text = "
             "excluded.default_value_text, option_values = excluded.option_values",
             &sf)) < 0 ||
        (rc = st_index__prep(
             w,
             "INSERT INTO supertag_parents (child_tag_id, parent_tag_id) VALUES (?, ?) "
             "ON CONFLICT(child_tag_id, parent_tag_id) DO NOTHING",
             &sp)) < 0 ||
        (rc = st_index__prep(
             w,
             "INSERT INTO supertag_metadata (tag_id, tag_name, normalized_name, "
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
        st_index__bind_sym(w, md, 1, td->id);
        sqlite3_bind_text(md, 2, tname, (int)tlen, SQLITE_STATIC);
        sqlite3_bind_text(md, 3, norm.ptr, (int)norm.len, SQLITE_STATIC);
        st_index__bind_str(w, md, 4, td->tag_desc);
        st_index__bind_str(w, md, 5, td->tag_color);
        if ((rc = st_index__step(w, md, "inserting into supertag_metadata")) < 0)
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
            if (!lnode &&
                (st_index__sym_is(w, label, "SYS_A90") || st_index__sym_is(w, label, "SYS_A61") ||
                 st_index__sym_is(w, label, "Mp2A7_2PQw"))) {
                fname = st_index__sym_is(w, label, "SYS_A90")   ? "Date"
                        : st_index__sym_is(w, label, "SYS_A61") ? "Due Date"
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
            st_index__bind_sym(w, sf, 1, td->id);
            sqlite3_bind_text(sf, 2, tname, (int)tlen, SQLITE_STATIC);
            sqlite3_bind_text(sf, 3, fname, (int)flen, SQLITE_STATIC);
            st_index__bind_sym(w, sf, 4, label);
            sqlite3_bind_int(sf, 5, order++);
            sqlite3_bind_text(sf, 6, norm.ptr, (int)norm.len, SQLITE_STATIC);
            sqlite3_bind_text(sf, 7, st_js_infer_type(fname, flen), -1, SQLITE_STATIC);
            if (st_rec_named(def)) {
                st_index__bind_sym(w, sf, 8, tc[1]);
                st_index__bind_str(w, sf, 9, def->name);
            } else {
                sqlite3_bind_null(sf, 8);
                sqlite3_bind_null(sf, 9);
            }
            if (opts.len)
                sqlite3_bind_text(sf, 10, opts.ptr, (int)opts.len, SQLITE_STATIC);
            else
                sqlite3_bind_null(sf, 10);
            if ((rc = st_index__step(w, sf, "inserting into supertag_fields")) < 0)
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
            if (!(tc[0] == g->sym_a13 ||
                  st_index__name_is(w, st_graph_indexed(g, tc[0]), "SYS_A13")))
                continue;
            for (uint32_t j = 1; j < tup->children_count; j++) {
                const st_rec *p = st_graph_indexed(g, tc[j]);
                if (!p || p->doctype != DT_TAGDEF)
                    continue;
                st_index__bind_sym(w, sp, 1, td->id);
                st_index__bind_sym(w, sp, 2, tc[j]);
                if ((rc = st_index__step(w, sp, "inserting into supertag_parents")) < 0)
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

int st_index__write_system_field_sources(writer *w)
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
    if (np &&
        (rc = st_index__prep(w, "INSERT INTO system_field_sources (field_id, tag_id) VALUES (?, ?)",
                             &ins)) == 0) {
        for (int rank = 0; rank < nseen && rc == 0; rank++)
            for (size_t q = 0; q < np && rc == 0; q += 2) {
                if (first_seen[pairs[q]] != rank)
                    continue;
                sqlite3_bind_text(ins, 1, sysf[pairs[q]], -1, SQLITE_STATIC);
                st_index__bind_sym(w, ins, 2, pairs[q + 1]);
                rc = st_index__step(w, ins, "inserting into system_field_sources");
                w->counts->system_field_sources++;
            }
    }
    sqlite3_finalize(ins);
    free(pairs);
    return rc;
}

static const char *sys_d_type(writer *w, uint32_t sym)
{
    static const char *const map[][2] = {
        {"SYS_D01", "checkbox"}, {"SYS_D03", "date"},    {"SYS_D05", "reference"},
        {"SYS_D06", "text"},     {"SYS_D08", "number"},  {"SYS_D10", "url"},
        {"SYS_D11", "email"},    {"SYS_D12", "options"}, {"SYS_D13", "reference"}};
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (st_index__sym_is(w, sym, map[i][0]))
            return map[i][1];
    return NULL;
}

int st_index__write_explicit_types(writer *w)
{
    st_graph *g = w->g;
    uint32_t a02 = st_symtab_find(&g->ids, "SYS_A02", 7);
    if (a02 == ST_SYM_NONE)
        return 0;
    sqlite3_stmt *up = NULL;
    int rc =
        st_index__prep(w,
                       "UPDATE supertag_fields SET inferred_data_type = ? WHERE field_label_id = ? "
                       "AND inferred_data_type != ?",
                       &up);
    /* typeChoice docs (few), with their type and parent; the last one of a
     * parent wins, as in the original's Map */
    uint32_t *tc = NULL;
    const char **tt = NULL;
    size_t ntc = 0, cap = 0;
    for (size_t i = 0; i < g->rec_count && rc == 0; i++) {
        const st_rec *r = &g->recs[i];
        if (r->source != a02 || !st_index__name_is(w, r, "typeChoice"))
            continue;
        const uint32_t *ch = st_graph_children(g, r);
        const char *type = NULL;
        for (uint32_t k = 0; k < r->children_count; k++)
            if (st_index__sym_prefix(w, ch[k], "SYS_D")) {
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
        st_index__bind_sym(w, up, 2, tc[i]);
        sqlite3_bind_text(up, 3, tt[i], -1, SQLITE_STATIC);
        rc = st_index__step(w, up, "updating supertag_fields types");
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

int st_index__write_target_supertags(writer *w)
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
            if (!st_index__sym_prefix(w, sc[k], "SYS_")) {
                tagdef = sc[k];
                break;
            }
        const st_rec *tnode = st_graph_any(g, tagdef);
        if (!st_rec_named(tnode))
            continue;
        if (!up && (rc = st_index__prep(w,
                                        "UPDATE supertag_fields SET target_supertag_id = ?, "
                                        "target_supertag_name = ? WHERE field_label_id = ?",
                                        &up)) < 0)
            break;
        st_index__bind_sym(w, up, 1, tagdef);
        st_index__bind_str(w, up, 2, tnode->name);
        st_index__bind_sym(w, up, 3, r->id);
        rc = st_index__step(w, up, "updating supertag_fields targets");
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
    case SQLITE_NULL:
        return 0;
    case SQLITE_INTEGER:
        return sqlite3_column_int64(st, col) != 0;
    case SQLITE_FLOAT:
        return sqlite3_column_double(st, col) != 0;
    default:
        return sqlite3_column_bytes(st, col) > 0;
    }
}

int st_index__write_value_types(writer *w)
{
    sqlite3_stmt *list = NULL, *q1 = NULL, *q2 = NULL, *up = NULL;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc;
    if ((rc =
             st_index__prep(w,
                            "SELECT DISTINCT field_name, field_label_id FROM supertag_fields WHERE "
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
        rc = st_index__sql_fail(w->db, "listing supertag_fields");
        goto done;
    }
    if ((rc = st_index__prep(
             w,
             "SELECT fv.value_text, json_extract(n.raw_data, '$.props._metaNodeId') FROM "
             "field_values fv JOIN nodes n ON fv.value_node_id = n.id WHERE "
             "fv.field_name = ? AND ( fv.field_def_id = ? OR EXISTS ( SELECT 1 FROM "
             "nodes tuple WHERE tuple.id = fv.field_def_id AND "
             "json_extract(tuple.raw_data, '$.children') LIKE '%' || ? || '%' ) ) "
             "LIMIT 10",
             &q1)) < 0 ||
        (rc = st_index__prep(
             w,
             "SELECT fv.value_text, json_extract(n.raw_data, '$.props._metaNodeId') FROM "
             "field_values fv JOIN nodes n ON fv.value_node_id = n.id WHERE "
             "fv.field_name = ? LIMIT 10",
             &q2)) < 0 ||
        (rc = st_index__prep(
             w,
             "UPDATE supertag_fields SET inferred_data_type = ? WHERE field_name = ? AND "
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
            rc = st_index__sql_fail(w->db, "sampling field values");
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
        if ((rc = st_index__step(w, up, "updating supertag_fields types")) < 0)
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
