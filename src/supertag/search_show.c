/*
 * search_show.c - node contents for `search --show [--depth N]`, the JSON
 * value tree they are written with, and the --select projection.
 *
 * The original (supertag-cli v2.5.11, src/commands/show.ts) builds a node's
 * contents from the SQLite index like this; we read the same tables:
 *
 *   node      SELECT id, name, created FROM nodes WHERE id = ? AND (node_type
 *             IS NULL OR node_type != 'trash')        -- missing/trash: nothing
 *   children  the ids of raw_data.children, in order; an id not in `nodes` is
 *             skipped, a child whose raw_data.props._docType is "tuple" is a
 *             field tuple and not a content child; name NULL/"" -> "(unnamed)"
 *   fields    field_values WHERE parent_id = ? ORDER BY field_name, value_order
 *             (we add ", id": ties in rowid order, see 15.15), grouped by
 *             field_name; each value is formatInlineRefs(value_text) (or the
 *             value_node_id when the text is empty); values that look like a
 *             bare node id (/^[A-Za-z0-9_-]{12,}$/, unless they start like a
 *             date or with "[[") are dropped; a group with no value left is
 *             dropped; the rest are joined with ", ". fieldId and valueId are
 *             those of the group's first row.
 *   tags      SELECT tag_name FROM tag_applications WHERE data_node_id = ?
 *             (no DISTINCT; we add ORDER BY id, the order SQLite used anyway)
 *   created   nodes.created (ms); 0/NULL -> none. Text: toLocaleDateString(),
 *             which is M/D/YYYY in local time for Bun's default en-US locale;
 *             JSON: toISOString(), YYYY-MM-DDTHH:MM:SS.mmmZ.
 *
 * Text layouts (formatNodeOutput at depth 0, formatNodeWithDepth otherwise)
 * and JSON shapes are documented at st_show_print / st_show_json below.
 */
#include "search_show.h"

#include "cli.h"
#include "sync/jtree.h"

#include <ctype.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- allocation (the CLI exits on out of memory) ----------------------------- */

static void *xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);
    if (!q) {
        cli_error("out of memory");
        exit(EXIT_RUNTIME);
    }
    return q;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s);
    char *p = xrealloc(NULL, n + 1);
    memcpy(p, s, n + 1);
    return p;
}

static char *xstrndup(const char *s, size_t n)
{
    char *p = xrealloc(NULL, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* A growable string. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static void sb_addn(sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->p = xrealloc(b->p, cap);
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_add(sbuf *b, const char *s)
{
    sb_addn(b, s, strlen(s));
}

static char *sb_take(sbuf *b)
{
    if (!b->p)
        return xstrdup("");
    char *p = b->p;
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

/* ---- JSON values -------------------------------------------------------------- */

static st_jv *jv_new(st_jv_type t)
{
    st_jv *v = xrealloc(NULL, sizeof(*v));
    memset(v, 0, sizeof(*v));
    v->type = t;
    return v;
}

st_jv *st_jv_null(void)
{
    return jv_new(ST_JV_NULL);
}

st_jv *st_jv_bool(int b)
{
    st_jv *v = jv_new(ST_JV_BOOL);
    v->boolean = b != 0;
    return v;
}

st_jv *st_jv_num(long long n)
{
    st_jv *v = jv_new(ST_JV_NUM);
    v->num = n;
    return v;
}

st_jv *st_jv_str(const char *s)
{
    if (!s)
        return st_jv_null();
    st_jv *v = jv_new(ST_JV_STR);
    v->str = xstrdup(s);
    return v;
}

st_jv *st_jv_arr(void)
{
    return jv_new(ST_JV_ARR);
}

st_jv *st_jv_obj(void)
{
    return jv_new(ST_JV_OBJ);
}

static void jv_grow(st_jv *c)
{
    if (c->count < c->cap)
        return;
    c->cap = c->cap ? c->cap * 2 : 4;
    c->items = xrealloc(c->items, c->cap * sizeof(*c->items));
    if (c->type == ST_JV_OBJ)
        c->keys = xrealloc(c->keys, c->cap * sizeof(*c->keys));
}

void st_jv_push(st_jv *a, st_jv *v)
{
    jv_grow(a);
    a->items[a->count++] = v;
}

/* A JavaScript array index ("0", "17"; canonical, below 2^32 - 1) as a number, or -1. */
static long long js_index(const char *k)
{
    if (!*k || (k[0] == '0' && k[1]) || strlen(k) > 10)
        return -1;
    long long v = 0;
    for (const char *p = k; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (*p - '0');
    }
    return v < 4294967295LL ? v : -1;
}

/*
 * JavaScript objects list array-index keys first, in numeric order, then the
 * other keys in insertion order; JSON.stringify writes them so. A new key
 * goes where JavaScript would list it.
 */
void st_jv_set(st_jv *o, const char *key, st_jv *v)
{
    for (size_t i = 0; i < o->count; i++) {
        if (strcmp(o->keys[i], key) == 0) {
            st_jv_free(o->items[i]);
            o->items[i] = v;
            return;
        }
    }
    jv_grow(o);
    size_t at = o->count;
    long long idx = js_index(key);
    if (idx >= 0) {
        at = 0;
        while (at < o->count && js_index(o->keys[at]) >= 0 && js_index(o->keys[at]) < idx)
            at++;
        memmove(o->keys + at + 1, o->keys + at, (o->count - at) * sizeof(*o->keys));
        memmove(o->items + at + 1, o->items + at, (o->count - at) * sizeof(*o->items));
    }
    o->keys[at] = xstrdup(key);
    o->items[at] = v;
    o->count++;
}

st_jv *st_jv_get(const st_jv *o, const char *key)
{
    if (!o || o->type != ST_JV_OBJ)
        return NULL;
    for (size_t i = 0; i < o->count; i++)
        if (strcmp(o->keys[i], key) == 0)
            return o->items[i];
    return NULL;
}

st_jv *st_jv_clone(const st_jv *v)
{
    st_jv *c = jv_new(v->type);
    c->boolean = v->boolean;
    c->num = v->num;
    if (v->str)
        c->str = xstrdup(v->str);
    for (size_t i = 0; i < v->count; i++) {
        if (v->type == ST_JV_OBJ)
            st_jv_set(c, v->keys[i], st_jv_clone(v->items[i]));
        else
            st_jv_push(c, st_jv_clone(v->items[i]));
    }
    return c;
}

void st_jv_free(st_jv *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->count; i++) {
        st_jv_free(v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->str);
    free(v);
}

void st_json_string(FILE *out, const char *s)
{
    /* the same escaping as the sync's raw_data printer (jtree.c) */
    jt_out o = {0};
    if (jt_write_string(&o, s, strlen(s)) == 0) {
        fwrite(o.ptr, 1, o.len, out);
    } else { /* out of memory: the string unescaped is no longer JSON */
        cli_error("out of memory writing JSON");
        exit(EXIT_RUNTIME);
    }
    jt_out_free(&o);
}

static void newline_indent(FILE *out, int indent, int level)
{
    fputc('\n', out);
    for (int i = 0; i < indent * level; i++)
        fputc(' ', out);
}

/*
 * JSON.stringify layout: compact without indent; with indent, every array
 * item and object member on its own line, "key": value, and empty
 * containers as [] and {}.
 */
static void jv_write(FILE *out, const st_jv *v, int indent, int level)
{
    switch (v->type) {
    case ST_JV_NULL:
        fputs("null", out);
        return;
    case ST_JV_BOOL:
        fputs(v->boolean ? "true" : "false", out);
        return;
    case ST_JV_NUM:
        fprintf(out, "%lld", v->num);
        return;
    case ST_JV_STR:
        st_json_string(out, v->str);
        return;
    case ST_JV_ARR:
    case ST_JV_OBJ:
        break;
    }
    int obj = v->type == ST_JV_OBJ;
    fputc(obj ? '{' : '[', out);
    for (size_t i = 0; i < v->count; i++) {
        if (i)
            fputc(',', out);
        if (indent)
            newline_indent(out, indent, level + 1);
        if (obj) {
            st_json_string(out, v->keys[i]);
            fputs(indent ? ": " : ":", out);
        }
        jv_write(out, v->items[i], indent, level + 1);
    }
    if (indent && v->count)
        newline_indent(out, indent, level);
    fputc(obj ? '}' : ']', out);
}

void st_jv_write(FILE *out, const st_jv *v, int indent)
{
    jv_write(out, v, indent, 0);
}

/* ---- formatInlineRefs --------------------------------------------------------------- */

/*
 * The original's regular expressions (global replace, dates first):
 *   /<span[^>]*\sdata-inlineref-date="([^"]+)"[^>]*>([^<]*)<\/span>/  -> the
 *       attribute, &quot; &amp; &lt; &gt; decoded in that order, matched with
 *       /dateTimeString":\s*"([^"]+)"/ -> that string, else ""
 *   /<span[^>]*\sdata-inlineref-node="([^"]+)"[^>]*>([^<]*)<\/span>/ -> [[id]]
 * Neither pattern can cross a '>', '"' or '<' where it matters, so POSIX
 * leftmost-longest matching finds the same matches as JavaScript's.
 */
static regex_t re_date, re_node, re_dts;
static int re_ready;

static void compile_regexes(void)
{
    if (re_ready)
        return;
    if (regcomp(&re_date,
                "<span[^>]*[[:space:]]data-inlineref-date=\"([^\"]+)\"[^>]*>([^<]*)</span>",
                REG_EXTENDED) != 0 ||
        regcomp(&re_node,
                "<span[^>]*[[:space:]]data-inlineref-node=\"([^\"]+)\"[^>]*>([^<]*)</span>",
                REG_EXTENDED) != 0 ||
        regcomp(&re_dts, "dateTimeString\":[[:space:]]*\"([^\"]+)\"", REG_EXTENDED) != 0) {
        cli_error("internal error: cannot compile the inline-reference patterns");
        exit(EXIT_RUNTIME);
    }
    re_ready = 1;
}

static char *replace_all(const char *s, const char *needle, const char *with)
{
    sbuf b = {0};
    size_t nl = strlen(needle);
    const char *p = s;
    for (const char *hit; (hit = strstr(p, needle)) != NULL; p = hit + nl) {
        sb_addn(&b, p, (size_t)(hit - p));
        sb_add(&b, with);
    }
    sb_add(&b, p);
    return sb_take(&b);
}

static char *date_replacement(const char *attr, size_t len)
{
    char *a = xstrndup(attr, len);
    static const char *const ent[][2] = {
        {"&quot;", "\""}, {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}};
    for (size_t i = 0; i < 4; i++) {
        char *next = replace_all(a, ent[i][0], ent[i][1]);
        free(a);
        a = next;
    }
    regmatch_t m[2];
    char *r;
    if (regexec(&re_dts, a, 2, m, 0) == 0)
        r = xstrndup(a + m[1].rm_so, (size_t)(m[1].rm_eo - m[1].rm_so));
    else
        r = xstrdup("");
    free(a);
    return r;
}

static char *replace_pattern(const char *s, regex_t *re, int date)
{
    sbuf b = {0};
    const char *p = s;
    regmatch_t m[3];
    while (*p && regexec(re, p, 3, m, 0) == 0) {
        sb_addn(&b, p, (size_t)m[0].rm_so);
        const char *g = p + m[1].rm_so;
        size_t glen = (size_t)(m[1].rm_eo - m[1].rm_so);
        if (date) {
            char *r = date_replacement(g, glen);
            sb_add(&b, r);
            free(r);
        } else {
            sb_add(&b, "[[");
            sb_addn(&b, g, glen);
            sb_add(&b, "]]");
        }
        if (m[0].rm_eo == 0) { /* cannot happen (the patterns are never empty) */
            sb_addn(&b, p, 1);
            p++;
        } else {
            p += m[0].rm_eo;
        }
    }
    sb_add(&b, p);
    return sb_take(&b);
}

char *st_format_inline_refs(const char *value)
{
    compile_regexes();
    char *r = xstrdup(value);
    if (strstr(r, "data-inlineref-date")) {
        char *n = replace_pattern(r, &re_date, 1);
        free(r);
        r = n;
    }
    if (strstr(r, "data-inlineref-node")) {
        char *n = replace_pattern(r, &re_node, 0);
        free(r);
        r = n;
    }
    return r;
}

/* ASCII classes, as JavaScript's \d and [a-zA-Z0-9] (whatever the C locale). */
static int ascii_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int id_char(char c)
{
    return ascii_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           c == '-';
}

/*
 * The original's "meaningful value" test for a field value: kept when it
 * starts like a date (/^\d{4}-\d{2}-\d{2}/) or with "[[", dropped when it looks
 * like a bare node id (/^[a-zA-Z0-9_-]{12,}$/), else kept.
 */
static int meaningful_value(const char *v)
{
    static const char date[] = "dddd-dd-dd";
    size_t i = 0;
    while (date[i] && (date[i] == 'd' ? ascii_digit(v[i]) : v[i] == date[i]))
        i++;
    if (!date[i])
        return 1;
    if (v[0] == '[' && v[1] == '[')
        return 1;
    size_t n = 0;
    for (; v[n]; n++)
        if (!id_char(v[n]))
            return 1;
    return n < 12;
}

/* ---- node contents -------------------------------------------------------------- */

typedef struct show_field {
    char *name, *field_id, *value, *value_id;
} show_field;

typedef struct show_child {
    char *id, *name;
} show_child;

typedef struct show_node {
    char *id, *name;
    long long created; /* ms since the epoch; 0 = none */
    show_field *fields;
    size_t field_count;
    show_child *children;
    size_t child_count;
    char **tags;
    size_t tag_count;
} show_node;

static void show_node_free(show_node *n)
{
    free(n->id);
    free(n->name);
    for (size_t i = 0; i < n->field_count; i++) {
        free(n->fields[i].name);
        free(n->fields[i].field_id);
        free(n->fields[i].value);
        free(n->fields[i].value_id);
    }
    free(n->fields);
    for (size_t i = 0; i < n->child_count; i++) {
        free(n->children[i].id);
        free(n->children[i].name);
    }
    free(n->children);
    for (size_t i = 0; i < n->tag_count; i++)
        free(n->tags[i]);
    free(n->tags);
    memset(n, 0, sizeof(*n));
}

int st_show_open(st_show *s, sqlite3 *db)
{
    memset(s, 0, sizeof(*s));
    s->db = db;
    sqlite3_stmt *t = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                           "name = 'field_values'",
                           -1, &t, NULL) != SQLITE_OK)
        goto fail;
    s->has_field_values = sqlite3_step(t) == SQLITE_ROW;
    sqlite3_finalize(t);
    if (sqlite3_prepare_v2(db,
                           "SELECT name, created FROM nodes WHERE id = ?1 AND "
                           "(node_type IS NULL OR node_type != 'trash')",
                           -1, &s->node, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "SELECT c.value, n.name, json_extract(n.raw_data, '$.props._docType') "
                           "FROM nodes p, json_each(p.raw_data, '$.children') c "
                           "JOIN nodes n ON n.id = c.value WHERE p.id = ?1 ORDER BY c.key",
                           -1, &s->children, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "SELECT tag_name FROM tag_applications WHERE data_node_id = ?1 "
                           "ORDER BY id",
                           -1, &s->tags, NULL) != SQLITE_OK)
        goto fail;
    if (s->has_field_values &&
        sqlite3_prepare_v2(db,
                           "SELECT field_name, field_def_id, value_text, value_node_id "
                           "FROM field_values WHERE parent_id = ?1 "
                           "ORDER BY field_name, value_order, id",
                           -1, &s->fields, NULL) != SQLITE_OK)
        goto fail;
    return 0;
fail:
    cli_error("%s: %s", sqlite3_db_filename(db, "main"), sqlite3_errmsg(db));
    st_show_close(s);
    return -1;
}

void st_show_close(st_show *s)
{
    sqlite3_finalize(s->node);
    sqlite3_finalize(s->children);
    sqlite3_finalize(s->fields);
    sqlite3_finalize(s->tags);
    s->node = s->children = s->fields = s->tags = NULL;
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    return t ? t : "";
}

static int step_error(st_show *s, const char *id)
{
    cli_error("%s: reading node %s: %s", sqlite3_db_filename(s->db, "main"), id,
              sqlite3_errmsg(s->db));
    return -1;
}

/* Add a field group's values (already filtered) to n. */
/* The rows of one field, while load_fields reads them. */
typedef struct field_group {
    char *name, *field_id, *value_id;
    sbuf values; /* meaningful values joined with ", " */
    size_t nvalues;
} field_group;

/* End a group: it becomes a field of n (which takes its strings) when it
 * has a meaningful value, else it is dropped; g is empty afterwards. */
static void end_group(show_node *n, field_group *g)
{
    if (g->name && g->nvalues) {
        n->fields = xrealloc(n->fields, (n->field_count + 1) * sizeof(*n->fields));
        show_field *f = &n->fields[n->field_count++];
        f->name = g->name;
        f->field_id = g->field_id;
        f->value_id = g->value_id;
        f->value = sb_take(&g->values);
    } else {
        free(g->name);
        free(g->field_id);
        free(g->value_id);
        free(sb_take(&g->values));
    }
    memset(g, 0, sizeof(*g));
}

static int load_fields(st_show *s, const char *id, show_node *n)
{
    if (!s->has_field_values)
        return 0;
    sqlite3_stmt *st = s->fields;
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    field_group g;
    memset(&g, 0, sizeof(g));
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = col_text(st, 0);
        if (!g.name || strcmp(g.name, name) != 0) {
            end_group(n, &g);
            g.name = xstrdup(name);
            g.field_id = xstrdup(col_text(st, 1));
            g.value_id = xstrdup(col_text(st, 3));
        }
        const char *text = col_text(st, 2);
        char *v = st_format_inline_refs(*text ? text : col_text(st, 3));
        if (meaningful_value(v)) {
            if (g.nvalues++)
                sb_add(&g.values, ", ");
            sb_add(&g.values, v);
        }
        free(v);
    }
    end_group(n, &g);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : step_error(s, id);
}

/* 1 found, 0 missing or trashed, -1 error (printed). */
static int load_node(st_show *s, const char *id, show_node *n)
{
    memset(n, 0, sizeof(*n));
    sqlite3_reset(s->node);
    sqlite3_bind_text(s->node, 1, id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(s->node);
    if (rc == SQLITE_DONE) {
        sqlite3_reset(s->node);
        return 0;
    }
    if (rc != SQLITE_ROW)
        return step_error(s, id);
    const char *name = col_text(s->node, 0);
    n->id = xstrdup(id);
    n->name = xstrdup(*name ? name : "(unnamed)");
    n->created = sqlite3_column_int64(s->node, 1);
    sqlite3_reset(s->node);

    sqlite3_stmt *st = s->children;
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *doc_type = (const char *)sqlite3_column_text(st, 2);
        if (doc_type && strcmp(doc_type, "tuple") == 0)
            continue;
        const char *cname = col_text(st, 1);
        n->children = xrealloc(n->children, (n->child_count + 1) * sizeof(*n->children));
        n->children[n->child_count].id = xstrdup(col_text(st, 0));
        n->children[n->child_count].name = xstrdup(*cname ? cname : "(unnamed)");
        n->child_count++;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        goto fail;

    st = s->tags;
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        n->tags = xrealloc(n->tags, (n->tag_count + 1) * sizeof(*n->tags));
        n->tags[n->tag_count++] = xstrdup(col_text(st, 0));
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        goto fail;
    if (load_fields(s, id, n) < 0) {
        show_node_free(n);
        return -1;
    }
    return 1;
fail:
    step_error(s, id);
    show_node_free(n);
    return -1;
}

static void print_tags(FILE *out, const show_node *n)
{
    for (size_t i = 0; i < n->tag_count; i++)
        fprintf(out, " #%s", n->tags[i]);
}

/*
 * formatNodeWithDepth: "<indent><name> #t1 #t2", then "<indent>  <field>:: <value>"
 * per field, then per content child either its own block one level deeper
 * (indent + 2 spaces) while cur < max, or "<indent>  - <child name>".
 */
static int print_tree(st_show *s, FILE *out, const char *id, int cur, int max, int indent)
{
    show_node n;
    int rc = load_node(s, id, &n);
    if (rc <= 0)
        return rc;
    fprintf(out, "%*s%s", indent, "", n.name);
    print_tags(out, &n);
    fputc('\n', out);
    for (size_t i = 0; i < n.field_count; i++)
        fprintf(out, "%*s  %s:: %s\n", indent, "", n.fields[i].name, n.fields[i].value);
    for (size_t i = 0; i < n.child_count && rc >= 0; i++) {
        if (cur < max)
            rc = print_tree(s, out, n.children[i].id, cur + 1, max, indent + 2);
        else
            fprintf(out, "%*s  - %s\n", indent, "", n.children[i].name);
    }
    show_node_free(&n);
    return rc < 0 ? -1 : 0;
}

int st_show_print(st_show *s, FILE *out, const char *id, int depth)
{
    if (depth > 0)
        return print_tree(s, out, id, 0, depth, 0);
    /* formatNodeOutput */
    show_node n;
    int rc = load_node(s, id, &n);
    if (rc <= 0)
        return rc;
    fprintf(out, "📄 %s", n.name);
    print_tags(out, &n);
    fputc('\n', out);
    if (n.created) {
        time_t t = (time_t)(n.created / 1000 - (n.created % 1000 < 0 ? 1 : 0));
        struct tm tm;
        if (localtime_r(&t, &tm))
            fprintf(out, "   Created: %d/%d/%d\n", tm.tm_mon + 1, tm.tm_mday, tm.tm_year + 1900);
    }
    if (n.field_count) {
        fputs("   Fields:\n", out);
        for (size_t i = 0; i < n.field_count; i++)
            fprintf(out, "   - %s:: %s\n", n.fields[i].name, n.fields[i].value);
    }
    if (n.child_count) {
        fputs("   Children:\n", out);
        for (size_t i = 0; i < n.child_count; i++)
            fprintf(out, "   - %s\n", n.children[i].name);
    }
    show_node_free(&n);
    return 0;
}

/* Date.prototype.toISOString of a millisecond time. */
static st_jv *iso_date(long long ms)
{
    if (!ms)
        return st_jv_null();
    long long secs = ms / 1000, rem = ms % 1000;
    if (rem < 0) {
        rem += 1000;
        secs--;
    }
    time_t t = (time_t)secs;
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return st_jv_null();
    char buf[64];
    snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, rem);
    return st_jv_str(buf);
}

static st_jv *fields_json(const show_node *n)
{
    st_jv *a = st_jv_arr();
    for (size_t i = 0; i < n->field_count; i++) {
        st_jv *f = st_jv_obj();
        st_jv_set(f, "fieldName", st_jv_str(n->fields[i].name));
        st_jv_set(f, "fieldId", st_jv_str(n->fields[i].field_id));
        st_jv_set(f, "value", st_jv_str(n->fields[i].value));
        st_jv_set(f, "valueId", st_jv_str(n->fields[i].value_id));
        st_jv_push(a, f);
    }
    return a;
}

static st_jv *tags_json(const show_node *n)
{
    st_jv *a = st_jv_arr();
    for (size_t i = 0; i < n->tag_count; i++)
        st_jv_push(a, st_jv_str(n->tags[i]));
    return a;
}

/* {id, name, created, fields}: the members both contents objects start with */
static st_jv *head_json(const show_node *n)
{
    st_jv *o = st_jv_obj();
    st_jv_set(o, "id", st_jv_str(n->id));
    st_jv_set(o, "name", st_jv_str(n->name));
    st_jv_set(o, "created", iso_date(n->created));
    st_jv_set(o, "fields", fields_json(n));
    return o;
}

/* getNodeContentsWithDepth: {id, name, created, fields, tags, children: [...]} */
static int tree_json(st_show *s, const char *id, int cur, int max, st_jv **out)
{
    *out = NULL;
    show_node n;
    int rc = load_node(s, id, &n);
    if (rc <= 0)
        return rc;
    st_jv *o = head_json(&n);
    st_jv_set(o, "tags", tags_json(&n));
    st_jv *children = st_jv_arr();
    st_jv_set(o, "children", children);
    rc = 0;
    if (cur < max) {
        for (size_t i = 0; i < n.child_count && rc == 0; i++) {
            st_jv *c = NULL;
            rc = tree_json(s, n.children[i].id, cur + 1, max, &c);
            if (c)
                st_jv_push(children, c);
        }
    }
    show_node_free(&n);
    if (rc < 0) {
        st_jv_free(o);
        return -1;
    }
    *out = o;
    return 0;
}

int st_show_json(st_show *s, const char *id, int depth, st_jv **out)
{
    *out = NULL;
    if (depth > 0)
        return tree_json(s, id, 0, depth, out);
    /* getNodeContents: {id, name, created, fields, children: [{id, name, isContent}], tags} */
    show_node n;
    int rc = load_node(s, id, &n);
    if (rc <= 0)
        return rc;
    st_jv *o = head_json(&n);
    st_jv *children = st_jv_arr();
    for (size_t i = 0; i < n.child_count; i++) {
        st_jv *c = st_jv_obj();
        st_jv_set(c, "id", st_jv_str(n.children[i].id));
        st_jv_set(c, "name", st_jv_str(n.children[i].name));
        st_jv_set(c, "isContent", st_jv_bool(1));
        st_jv_push(children, c);
    }
    st_jv_set(o, "children", children);
    st_jv_set(o, "tags", tags_json(&n));
    show_node_free(&n);
    *out = o;
    return 0;
}

/* ---- --select ------------------------------------------------------------------------ */

static const char *const top_fields[] = {"id",         "name",     "tags",
                                         "similarity", "ancestor", "contents"};
static const char *const content_fields[] = {"id", "name", "created", "fields", "children", "tags"};

static int in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(s, list[i]) == 0)
            return 1;
    return 0;
}

static char *trimmed(const char *s, size_t n)
{
    while (n && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    return xstrndup(s, n);
}

void st_select_free(st_select *sel)
{
    for (size_t i = 0; i < sel->count; i++) {
        for (size_t j = 0; j < sel->nseg[i]; j++)
            free(sel->segs[i][j]);
        free(sel->segs[i]);
        free(sel->paths[i]);
    }
    free(sel->paths);
    free(sel->segs);
    free(sel->nseg);
    memset(sel, 0, sizeof(*sel));
}

static int check_path(const st_select *sel, size_t i, int show, enum st_select_target target)
{
    const char *path = sel->paths[i];
    char **seg = sel->segs[i];
    size_t n = sel->nseg[i];
    if (!in_list(seg[0], top_fields, 6)) {
        cli_error("--select: unknown field '%s' (fields: id, name, tags, similarity, ancestor, "
                  "and contents with --show)",
                  path);
        return -1;
    }
    int contents = strcasecmp(seg[0], "contents") == 0;
    if (target == ST_SELECT_COLUMNS && (contents || n > 1)) {
        cli_error("--select: '%s' is not a column of the table and csv formats (columns: id, "
                  "name, tags, similarity, ancestor; use --format json for contents)",
                  path);
        return -1;
    }
    if (!contents && n > 1) {
        cli_error("--select: unknown field '%s' (%s has no sub-fields)", path, seg[0]);
        return -1;
    }
    if (contents && !show) {
        cli_error("--select: '%s' needs --show (contents are only read with --show)", path);
        return -1;
    }
    if (contents && n > 1 && !in_list(seg[1], content_fields, 6)) {
        cli_error("--select: unknown field '%s' (contents fields: id, name, created, fields, "
                  "children, tags)",
                  path);
        return -1;
    }
    return 0;
}

int st_select_parse(const char *spec, int show, enum st_select_target target, st_select *out)
{
    memset(out, 0, sizeof(*out));
    const char *p = spec;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char *path = trimmed(p, len);
        if (*path) {
            size_t i = out->count++;
            out->paths = xrealloc(out->paths, out->count * sizeof(*out->paths));
            out->segs = xrealloc(out->segs, out->count * sizeof(*out->segs));
            out->nseg = xrealloc(out->nseg, out->count * sizeof(*out->nseg));
            out->paths[i] = path;
            out->segs[i] = NULL;
            out->nseg[i] = 0;
            const char *q = path;
            for (;;) {
                const char *dot = strchr(q, '.');
                size_t sl = dot ? (size_t)(dot - q) : strlen(q);
                out->segs[i] = xrealloc(out->segs[i], (out->nseg[i] + 1) * sizeof(char *));
                out->segs[i][out->nseg[i]++] = trimmed(q, sl);
                if (!dot)
                    break;
                q = dot + 1;
            }
            if (check_path(out, i, show, target) < 0) {
                st_select_free(out);
                return -1;
            }
        } else {
            free(path);
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    return 0;
}

/* A canonical array index ("0", "17"; no sign, no leading zero) below count, or -1. */
static long array_index(const char *s, size_t count)
{
    if (!*s || (s[0] == '0' && s[1]) || strlen(s) > 9)
        return -1;
    long v = 0;
    for (const char *p = s; *p; p++) {
        if (!ascii_digit(*p))
            return -1;
        v = v * 10 + (*p - '0');
    }
    return (size_t)v < count ? v : -1;
}

/*
 * getNestedValue: per segment, an object's exact key, else its first key equal
 * ignoring case; an array's element by index, or its "length"; anything else
 * ends as null. Returns a new value.
 */
static st_jv *get_path(const st_jv *item, char **seg, size_t n)
{
    const st_jv *cur = item;
    for (size_t i = 0; i < n && cur; i++) {
        if (cur->type == ST_JV_OBJ) {
            const st_jv *next = st_jv_get(cur, seg[i]);
            for (size_t k = 0; !next && k < cur->count; k++)
                if (strcasecmp(cur->keys[k], seg[i]) == 0)
                    next = cur->items[k];
            cur = next;
        } else if (cur->type == ST_JV_ARR) {
            if (strcmp(seg[i], "length") == 0) {
                if (i + 1 == n)
                    return st_jv_num((long long)cur->count);
                return st_jv_null(); /* a number has no properties */
            }
            long k = array_index(seg[i], cur->count);
            cur = k >= 0 ? cur->items[k] : NULL;
        } else {
            return st_jv_null();
        }
    }
    return cur ? st_jv_clone(cur) : st_jv_null();
}

/*
 * setNestedValue, with one difference: where the original would walk into a
 * value it had already copied whole for a shorter path (and, for a string,
 * throw), that value already holds what the longer path selects, so it is
 * left as it is.
 */
static void set_path(st_jv *result, char **seg, size_t n, st_jv *value)
{
    st_jv *cur = result;
    for (size_t i = 0; i + 1 < n; i++) {
        st_jv *next = st_jv_get(cur, seg[i]);
        if (!next) {
            next = st_jv_obj();
            next->made = 1;
            st_jv_set(cur, seg[i], next);
        } else if (!next->made) {
            st_jv_free(value);
            return;
        }
        cur = next;
    }
    st_jv_set(cur, seg[n - 1], value);
}

st_jv *st_select_apply(const st_select *sel, const st_jv *item)
{
    st_jv *r = st_jv_obj();
    for (size_t i = 0; i < sel->count; i++)
        set_path(r, sel->segs[i], sel->nseg[i], get_path(item, sel->segs[i], sel->nseg[i]));
    return r;
}
