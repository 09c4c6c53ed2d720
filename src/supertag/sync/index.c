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
#include "sync/index_int.h"

#include "st_error.h"
#include "sync/jstext.h"
#include "sync/jsnum.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int st_index__sql_fail(sqlite3 *db, const char *what)
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

int st_index__prep(writer *w, const char *sql, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v2(w->db, sql, -1, st, NULL) != SQLITE_OK)
        return st_index__sql_fail(w->db, sql);
    return 0;
}

int st_index__step(writer *w, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        if (rc == SQLITE_INTERRUPT)
            return st_error_set(RESONA_EINTERRUPTED, "sync interrupted");
        return st_index__sql_fail(w->db, what);
    }
    return 0;
}

void st_index__bind_sym(writer *w, sqlite3_stmt *st, int i, uint32_t sym)
{
    size_t len;
    const char *s = st_graph_id(w->g, sym, &len);
    sqlite3_bind_text(st, i, s, (int)len, SQLITE_STATIC);
}

void st_index__bind_str(writer *w, sqlite3_stmt *st, int i, st_str s)
{
    if (s.len == ST_STR_ABSENT || s.len == 0)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_text(st, i, st_graph_str(w->g, s), (int)s.len, SQLITE_STATIC);
}

/* A JS number bound as Bun does: columns with INTEGER affinity store integral values as integers.
 */
void st_index__bind_num(sqlite3_stmt *st, int i, double v)
{
    sqlite3_bind_double(st, i, v);
}

int st_index__sym_is(writer *w, uint32_t sym, const char *lit)
{
    size_t len;
    const char *s = st_graph_id(w->g, sym, &len);
    return len == strlen(lit) && memcmp(s, lit, len) == 0;
}

int st_index__sym_prefix(writer *w, uint32_t sym, const char *lit)
{
    size_t len, n = strlen(lit);
    const char *s = st_graph_id(w->g, sym, &len);
    return len >= n && memcmp(s, lit, n) == 0;
}

int st_index__sym_contains(writer *w, uint32_t sym, const char *lit)
{
    size_t len, n = strlen(lit);
    const char *s = st_graph_id(w->g, sym, &len);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(s + i, lit, n) == 0)
            return 1;
    return 0;
}

int st_index__name_is(writer *w, const st_rec *r, const char *lit)
{
    return r && r->name.len != ST_STR_ABSENT && r->name.len == strlen(lit) &&
           memcmp(st_graph_str(w->g, r->name), lit, r->name.len) == 0;
}
/* ---- nodes + node_checksums -------------------------------------------- */

static int write_nodes(writer *w)
{
    st_graph *g = w->g;
    sqlite3_stmt *ins = NULL;
    jt_out raw = {0};
    int rc;
    if ((rc = st_index__prep(w,
                             "INSERT INTO nodes (id, name, parent_id, node_type, created, updated, "
                             "done_at, raw_data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             &ins)) < 0)
        goto done;
    for (size_t i = 0; i < g->index_count; i++) {
        const st_rec *r = &g->recs[g->index[i]];
        if ((rc = st_graph_read_raw(g, r, &raw)) < 0)
            goto done;
        st_index__bind_sym(w, ins, 1, r->id);
        st_index__bind_str(w, ins, 2, r->name);
        uint32_t p = g->parent[r->id];
        size_t plen = 0;
        if (p != ST_SYM_NONE)
            st_graph_id(g, p, &plen);
        if (p != ST_SYM_NONE && plen > 0)
            st_index__bind_sym(w, ins, 3, p);
        else
            sqlite3_bind_null(ins, 3);
        sqlite3_bind_text(ins, 4, "node", 4, SQLITE_STATIC);
        st_index__bind_num(ins, 5, r->created_kind == K_NUMBER ? r->created : 0);
        if (r->updated_kind == K_ARRAY)
            st_index__bind_num(ins, 6, r->updated);
        else
            sqlite3_bind_null(ins, 6);
        if (r->done_kind == K_NUMBER)
            st_index__bind_num(ins, 7, r->done);
        else
            sqlite3_bind_null(ins, 7);
        sqlite3_bind_text(ins, 8, raw.ptr, (int)raw.len, SQLITE_STATIC);
        if ((rc = st_index__step(w, ins, "inserting into nodes")) < 0)
            goto done;
    }
    w->counts->nodes = g->index_count;
done:
    sqlite3_finalize(ins);
    jt_out_free(&raw);
    return rc;
}

static int write_checksums(writer *w, int64_t now_ms)
{
    st_graph *g = w->g;
    sqlite3_stmt *sum = NULL;
    jt_out ck = {0};
    int rc = st_index__prep(
        w, "INSERT INTO node_checksums (node_id, checksum, last_seen) VALUES (?, ?, ?)", &sum);
    for (size_t i = 0; rc == 0 && i < g->index_count; i++) {
        const st_rec *r = &g->recs[g->index[i]];
        if ((rc = st_graph_checksum(g, r, &ck)) < 0)
            break;
        st_index__bind_sym(w, sum, 1, r->id);
        sqlite3_bind_text(sum, 2, ck.ptr ? ck.ptr : "", (int)ck.len, SQLITE_STATIC);
        sqlite3_bind_int64(sum, 3, now_ms);
        rc = st_index__step(w, sum, "inserting into node_checksums");
    }
    sqlite3_finalize(sum);
    jt_out_free(&ck);
    return rc;
}

/*
 * node_checksums on a second thread. SQLite writes one database on one
 * thread, so while the main connection fills `nodes` and builds its
 * indexes, a second connection fills node_checksums (same DDL, same rows,
 * same order) in a side file next to the new index. When the main thread
 * reaches that table it copies it over with INSERT ... SELECT *, which
 * SQLite's transfer optimisation turns into a raw copy of records and
 * primary-key entries in order, several times cheaper than the inserts.
 */
typedef struct sums_job {
    st_graph *g;
    int64_t now_ms;
    char *path; /* the side database */
    pthread_t thread;
    atomic_int cancel;
    int rc;
    char *msg;
} sums_job;

static const char *checksums_ddl(void)
{
    static const char prefix[] = "CREATE TABLE node_checksums ";
    for (const char *const *s = st_index_schema_sql; *s; s++)
        if (strncmp(*s, prefix, sizeof(prefix) - 1) == 0)
            return *s;
    return NULL;
}

static int sums_cancelled(void *payload)
{
    return atomic_load(&((sums_job *)payload)->cancel);
}

static void *sums_main(void *arg)
{
    sums_job *j = arg;
    sqlite3 *side = NULL;
    st_index_counts counts;
    writer w = {NULL, j->g, NULL, &counts};
    int rc;
    unlink(j->path);
    if (sqlite3_open_v2(j->path, &side, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        rc = st_error_set(RESONA_EIO, "cannot create %s: %s", j->path,
                          side ? sqlite3_errmsg(side) : "out of memory");
        goto done;
    }
    sqlite3_progress_handler(side, 10000, sums_cancelled, j);
    w.db = side;
    if ((rc = st_index_exec(side, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; "
                                  "PRAGMA locking_mode=EXCLUSIVE; PRAGMA cache_size=-16384; "
                                  "BEGIN")) < 0 ||
        (rc = st_index_exec(side, checksums_ddl())) < 0 ||
        (rc = write_checksums(&w, j->now_ms)) < 0 || (rc = st_index_exec(side, "COMMIT")) < 0)
        goto done;
done:
    if (side && sqlite3_close(side) != SQLITE_OK && rc == 0)
        rc = st_error_set(RESONA_EIO, "closing %s failed", j->path);
    if (rc < 0) {
        j->msg = strdup(st_error_message());
        j->rc = rc;
    }
    return NULL;
}

/* 1 when the job runs; 0 when it could not start (the caller writes inline). */
static int sums_start(sums_job *j, sqlite3 *db, st_graph *g, int64_t now_ms)
{
    memset(j, 0, sizeof(*j));
    const char *main_path = sqlite3_db_filename(db, "main");
    if (!main_path || !*main_path || !checksums_ddl())
        return 0;
    size_t n = strlen(main_path) + sizeof("-sums");
    j->path = malloc(n);
    if (!j->path)
        return 0;
    snprintf(j->path, n, "%s-sums", main_path);
    j->g = g;
    j->now_ms = now_ms;
    if (pthread_create(&j->thread, NULL, sums_main, j) != 0) {
        free(j->path);
        j->path = NULL;
        return 0;
    }
    return 1;
}

static void sums_cleanup(sums_job *j)
{
    unlink(j->path);
    free(j->path);
    free(j->msg);
    j->path = j->msg = NULL;
}

/* Wait for the job and copy its table into main.node_checksums. */
static int sums_finish(sums_job *j, sqlite3 *db)
{
    pthread_join(j->thread, NULL);
    int rc = j->rc;
    if (rc < 0) {
        rc = st_error_set(rc, "%s", j->msg ? j->msg : "writing node_checksums failed");
        goto done;
    }
    char *sql = sqlite3_mprintf("ATTACH DATABASE %Q AS sums", j->path);
    if (!sql) {
        rc = st_error_set(RESONA_ENOMEM, "out of memory");
        goto done;
    }
    rc = st_index_exec(db, sql);
    sqlite3_free(sql);
    if (rc < 0)
        goto done;
    /* detached by st_index_after_commit: DETACH is refused inside the
     * transaction; the file itself is unlinked now (the connection keeps it
     * open until then) */
    rc = st_index_exec(db, "INSERT INTO main.node_checksums SELECT * FROM sums.node_checksums");
done:
    sums_cleanup(j);
    return rc;
}

/* After a failure elsewhere: stop the job early and remove its file. */
static void sums_abandon(sums_job *j)
{
    atomic_store(&j->cancel, 1);
    pthread_join(j->thread, NULL);
    sums_cleanup(j);
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

static int map_set(st_symtab *keys, named_slot **slots, const char *name, size_t len, named_slot v)
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
                if (st_index__sym_contains(w, cs, "SYS") || trashed(g, cs))
                    continue;
                const st_rec *tag = st_graph_indexed(g, cs);
                if (!st_rec_named(tag))
                    continue;
                st_index__bind_sym(w, ta, 1, node->id);
                st_index__bind_sym(w, ta, 2, target);
                st_index__bind_sym(w, ta, 3, cs);
                st_index__bind_str(w, ta, 4, tag->name);
                if ((rc = st_index__step(w, ta, "inserting into tag_applications")) < 0)
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
    int rc = st_index__prep(
        w, "INSERT INTO field_names (field_id, field_name, supertags) VALUES (?, ?, ?)", &ins);
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
        st_index__bind_sym(w, ins, 1, order[i]);
        st_index__bind_str(w, ins, 2, fnode->name);
        sqlite3_bind_text(ins, 3, lists[i].ptr, (int)lists[i].len, SQLITE_STATIC);
        if ((rc = st_index__step(w, ins, "inserting into field_names")) < 0)
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
        if ((rc = st_index__step(w, ins, "inserting into field_names")) < 0)
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
    if ((rc = st_index__prep(
             w, "INSERT INTO supertags (node_id, tag_name, tag_id, color) VALUES (?, ?, ?, ?)",
             &st)) < 0 ||
        (rc = st_index__prep(
             w, "INSERT INTO fields (node_id, field_name, field_id) VALUES (?, ?, ?)", &fi)) < 0 ||
        (rc = st_index__prep(
             w,
             "INSERT INTO \"references\" (from_node, to_node, reference_type) VALUES (?, "
             "?, ?)",
             &rf)) < 0 ||
        (rc = st_index__prep(w,
                             "INSERT INTO tag_applications (tuple_node_id, data_node_id, tag_id, "
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
    if ((rc = st_index__prep(w, "INSERT INTO temp.ta_pending VALUES (?, ?, ?, ?)", &ta)) < 0)
        goto done;
    if ((rc = resolve_tuples(w, &m, ta)) < 0)
        goto done;
    for (uint32_t t = 0; t < m.tag_names.count; t++) {
        size_t len;
        const char *name = st_symtab_str(&m.tag_names, t, &len);
        st_index__bind_sym(w, st, 1, m.tags[t].tuple);
        sqlite3_bind_text(st, 2, name, (int)len, SQLITE_STATIC);
        st_index__bind_sym(w, st, 3, m.tags[t].def);
        st_index__bind_str(w, st, 4, m.tags[t].color);
        if ((rc = st_index__step(w, st, "inserting into supertags")) < 0)
            goto done;
        w->counts->supertags++;
    }
    for (uint32_t f = 0; f < m.field_names.count; f++) {
        size_t len;
        const char *name = st_symtab_str(&m.field_names, f, &len);
        st_index__bind_sym(w, fi, 1, m.fields[f].tuple);
        sqlite3_bind_text(fi, 2, name, (int)len, SQLITE_STATIC);
        st_index__bind_sym(w, fi, 3, m.fields[f].def);
        if ((rc = st_index__step(w, fi, "inserting into fields")) < 0)
            goto done;
        w->counts->fields++;
    }
    for (size_t i = 0; i < g->refs_len; i += 2) {
        if (!st_graph_indexed(g, g->refs[i + 1]))
            continue;
        st_index__bind_sym(w, rf, 1, g->refs[i]);
        st_index__bind_sym(w, rf, 2, g->refs[i + 1]);
        sqlite3_bind_text(rf, 3, "inline_ref", -1, SQLITE_STATIC);
        if ((rc = st_index__step(w, rf, "inserting into references")) < 0)
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
    static const char *const names[][2] = {{"SYS_A13", "Tag"},
                                           {"SYS_A61", "Due date"},
                                           {"SYS_A90", "Date"},
                                           {"SYS_A142", "Attendees"},
                                           {"SYS_T01", "Supertag"},
                                           {"SYS_T02", "Field"},
                                           {"SYS_T03", "Option value"},
                                           {"SYS_A15", "Search expression"},
                                           {"SYS_A144", "Search title"},
                                           {"SYS_A130", "Entity type"},
                                           {"SYS_A150", "Speaker"},
                                           {"SYS_A199", "Transcript"},
                                           {"SYS_A252", "Transcript speaker"},
                                           {"SYS_A253", "Start time"},
                                           {"SYS_A254", "End time"},
                                           {"SYS_A12", "System reference"},
                                           {"SYS_A16", "Default value"},
                                           {"SYS_A20", "Field reference"}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (st_index__sym_is(w, sym, names[i][0]))
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
    int rc =
        st_index__prep(w,
                       "INSERT INTO field_values (tuple_id, parent_id, field_def_id, field_name, "
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
        if (st_index__sym_prefix(w, ch[0], "SYS_")) {
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
            st_index__bind_sym(w, ins, 1, t->id);
            st_index__bind_sym(w, ins, 2, parent);
            size_t slen = 0;
            if (t->source != ST_SYM_NONE)
                st_graph_id(g, t->source, &slen);
            if (slen)
                st_index__bind_sym(w, ins, 3, t->source);
            else
                sqlite3_bind_text(ins, 3, "", 0, SQLITE_STATIC);
            sqlite3_bind_text(ins, 4, fname, (int)flen, SQLITE_STATIC);
            st_index__bind_sym(w, ins, 5, ch[k]);
            sqlite3_bind_text(ins, 6, text, (int)v->name.len, SQLITE_STATIC);
            sqlite3_bind_int(ins, 7, order++);
            if (prec && prec->created_kind == K_NUMBER)
                st_index__bind_num(ins, 8, prec->created);
            else
                sqlite3_bind_null(ins, 8);
            if ((rc = st_index__step(w, ins, "inserting into field_values")) < 0)
                goto done;
            w->counts->field_values++;
        }
    }
done:
    sqlite3_finalize(ins);
    return rc;
}

/* ---- all of it ----------------------------------------------------------- */

/*
 * The schema statements run in the original's order, and each big table is
 * filled right after its CREATE TABLE and before its CREATE INDEX: SQLite then
 * builds those indexes by sorting instead of by one random B-tree insert per
 * row, and sqlite_master comes out exactly as the original's. field_values'
 * full-text index is built by one 'rebuild' (the same content the triggers
 * would have written) before the triggers are created.
 */
typedef enum load_step {
    L_NONE,
    L_NODES,
    L_GRAPH,
    L_CHECKSUMS,
    L_FIELD_VALUES,
    L_FTS,
    L_EXCLUSIONS
} load_step;

static load_step step_after(const char *ddl)
{
    static const struct {
        const char *prefix;
        load_step step;
    } hooks[] = {{"CREATE TABLE nodes ", L_NODES},
                 {"CREATE INDEX idx_field_names_fieldid ", L_GRAPH},
                 {"CREATE TABLE node_checksums ", L_CHECKSUMS},
                 {"CREATE TABLE field_values ", L_FIELD_VALUES},
                 {"CREATE VIRTUAL TABLE field_values_fts ", L_FTS},
                 {"CREATE TABLE field_exclusions ", L_EXCLUSIONS}};
    for (size_t i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++)
        if (strncmp(ddl, hooks[i].prefix, strlen(hooks[i].prefix)) == 0)
            return hooks[i].step;
    return L_NONE;
}

/*
 * CREATE INDEX sorts its keys with SQLite's external sorter, which cuts the
 * input into runs of the page cache's size and, with PRAGMA threads, sorts
 * each run on a helper thread while the table scan goes on. With the large
 * cache the inserts want, the whole index is one run sorted at the end on
 * one core; a 2 MiB cache while the nodes indexes are built overlaps scan
 * and sort and keeps the peak memory down (1M nodes: 477 MB instead of
 * 563 MB; the time is about the same on 2 cores). Other indexes keep the
 * big cache: node_checksums(last_seen), one value for every row, took 0.11 s
 * instead of 0.03 s with the small one. The cache goes back to its size for
 * the inserts.
 */
#define INDEX_CACHE_KIB 2048

static int set_cache(sqlite3 *db, int kib)
{
    char sql[64];
    snprintf(sql, sizeof(sql), "PRAGMA cache_size=-%d", kib);
    return st_index_exec(db, sql);
}

static int current_cache_kib(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int kib = 0;
    if (sqlite3_prepare_v2(db, "PRAGMA cache_size", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        sqlite3_int64 v = sqlite3_column_int64(st, 0);
        /* negative: KiB; positive: pages of 4 KiB (our page size) */
        kib = v < 0 ? (int)-v : (int)(v * 4);
    }
    sqlite3_finalize(st);
    return kib;
}

int st_index_after_commit(sqlite3 *db)
{
    if (!sqlite3_db_filename(db, "sums"))
        return 0;
    return st_index_exec(db, "DETACH DATABASE sums");
}

int st_index_write(sqlite3 *db, st_graph *g, const char *export_name, int64_t now_ms,
                   const st_symtab *exclusions, int old_attached, st_index_counts *counts)
{
    writer w = {db, g, exclusions, counts};
    memset(counts, 0, sizeof(*counts));
    int rc = 0;
    int insert_kib = current_cache_kib(db), small = 0;
    sums_job sums;
    int sums_running = sums_start(&sums, db, g, now_ms);
    for (const char *const *ddl = st_index_schema_sql; *ddl && rc == 0; ddl++) {
        int is_index = strncmp(*ddl, "CREATE INDEX idx_nodes_", 23) == 0;
        if (insert_kib > INDEX_CACHE_KIB && is_index != small) {
            if ((rc = set_cache(db, is_index ? INDEX_CACHE_KIB : insert_kib)) < 0)
                break;
            small = is_index;
        }
        if ((rc = st_index_exec(db, *ddl)) < 0)
            break;
        switch (step_after(*ddl)) {
        case L_NODES:
            rc = write_nodes(&w);
            break;
        case L_GRAPH:
            rc = write_graph_tables(&w);
            break;
        case L_CHECKSUMS:
            if (sums_running) {
                sums_running = 0;
                rc = sums_finish(&sums, db);
            } else {
                rc = write_checksums(&w, now_ms);
            }
            break;
        case L_FIELD_VALUES:
            rc = write_field_values(&w);
            break;
        case L_FTS:
            rc = st_index_exec(db,
                               "INSERT INTO field_values_fts(field_values_fts) VALUES('rebuild')");
            break;
        case L_EXCLUSIONS:
            if (old_attached)
                rc = st_index_exec(db, "INSERT INTO main.field_exclusions (id, field_name, reason) "
                                       "SELECT id, field_name, reason FROM old.field_exclusions "
                                       "ORDER BY id");
            break;
        case L_NONE:
            break;
        }
    }
    if (rc < 0)
        goto done;
    if (small && (rc = set_cache(db, insert_kib)) < 0)
        goto done;
    if ((rc = st_index__write_supertag_metadata(&w)) < 0 ||
        (rc = st_index__write_system_field_sources(&w)) < 0 ||
        (rc = st_index__write_explicit_types(&w)) < 0 ||
        (rc = st_index__write_target_supertags(&w)) < 0 ||
        (rc = st_index__write_value_types(&w)) < 0)
        goto done;
    sqlite3_stmt *md = NULL;
    if ((rc = st_index__prep(&w,
                             "INSERT OR REPLACE INTO sync_metadata (id, last_export_file, "
                             "last_sync_timestamp, total_nodes) VALUES (1, ?, ?, ?)",
                             &md)) < 0)
        goto done;
    sqlite3_bind_text(md, 1, export_name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(md, 2, now_ms);
    sqlite3_bind_int64(md, 3, (sqlite3_int64)g->index_count);
    rc = st_index__step(&w, md, "writing sync_metadata");
    sqlite3_finalize(md);
done:
    if (sums_running)
        sums_abandon(&sums);
    return rc;
}
