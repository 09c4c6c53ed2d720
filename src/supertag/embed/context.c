/*
 * embed/context.c - graph-aware and legacy context text (see context.h).
 *
 * Lengths and cuts are in UTF-16 code units, as the original (JavaScript)
 * counts them, so that texts and their SHA-256 are byte-identical.
 */
#include "embed/context.h"

#include <resona/common.h>

#include <yajl/yajl_tree.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELD_VALUE_UNITS 50
#define MAX_ANCESTOR_DEPTH 50
#define ENRICH_FILE_MAX (16u << 20)

/* ---- embed-enrichment.json ------------------------------------------------ */

void st_enrich_config_defaults(struct st_enrich_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->include_tag_name = true;
    cfg->allowed_types =
        ST_TYPE_OPTIONS | ST_TYPE_REFERENCE | ST_TYPE_DATE; /* options, date, instance */
    cfg->max_fields_per_tag = 5;
}

void st_enrich_config_free(struct st_enrich_config *cfg)
{
    for (size_t i = 0; i < cfg->override_count; i++) {
        struct st_enrich_override *o = &cfg->overrides[i];
        free(o->key);
        for (size_t j = 0; j < o->include_count; j++)
            free(o->include_fields[j]);
        free(o->include_fields);
    }
    free(cfg->overrides);
    st_enrich_config_defaults(cfg);
}

/* JS truthiness of a JSON value. */
static bool truthy(yajl_val v)
{
    if (!v)
        return false;
    if (YAJL_IS_TRUE(v))
        return true;
    if (YAJL_IS_NUMBER(v))
        return YAJL_GET_DOUBLE(v) != 0 && !isnan(YAJL_GET_DOUBLE(v));
    if (YAJL_IS_STRING(v))
        return YAJL_GET_STRING(v)[0] != '\0';
    return YAJL_IS_OBJECT(v) || YAJL_IS_ARRAY(v);
}

static yajl_val member(yajl_val obj, const char *key)
{
    if (!YAJL_IS_OBJECT(obj))
        return NULL;
    /* Last duplicate wins, as in JSON.parse. */
    yajl_val found = NULL;
    for (size_t i = 0; i < obj->u.object.len; i++)
        if (!strcmp(obj->u.object.keys[i], key))
            found = obj->u.object.values[i];
    return found;
}

static unsigned field_type_bits(const char *name)
{
    if (!strcmp(name, "options"))
        return ST_TYPE_OPTIONS | ST_TYPE_REFERENCE;
    if (!strcmp(name, "date"))
        return ST_TYPE_DATE;
    if (!strcmp(name, "instance"))
        return ST_TYPE_REFERENCE;
    if (!strcmp(name, "text"))
        return ST_TYPE_TEXT;
    return 0;
}

static char *dup_warning(const char *head, const char *arg, const char *tail)
{
    st_str s = {0};
    st_str_puts(&s, head);
    st_str_puts(&s, arg);
    st_str_puts(&s, tail);
    if (s.failed) {
        st_str_free(&s);
        return NULL;
    }
    return s.ptr;
}

static int load_overrides(yajl_val ov, struct st_enrich_config *cfg)
{
    if (!YAJL_IS_OBJECT(ov) || ov->u.object.len == 0)
        return 0;
    cfg->overrides = calloc(ov->u.object.len, sizeof(*cfg->overrides));
    if (!cfg->overrides)
        return st_error_set(RESONA_ENOMEM, "out of memory loading the enrichment overrides");
    for (size_t i = 0; i < ov->u.object.len; i++) {
        yajl_val v = ov->u.object.values[i];
        struct st_enrich_override *o = &cfg->overrides[cfg->override_count++];
        o->key = strdup(ov->u.object.keys[i]);
        if (!o->key)
            return st_error_set(RESONA_ENOMEM, "out of memory loading the enrichment overrides");
        o->disabled = truthy(member(v, "disabled"));
        yajl_val mf = member(v, "maxFieldsPerTag");
        if (YAJL_IS_NUMBER(mf)) {
            o->has_max_fields = true;
            o->max_fields = YAJL_GET_DOUBLE(mf);
        }
        yajl_val inc = member(v, "includeFields");
        if (YAJL_IS_ARRAY(inc) && inc->u.array.len > 0) {
            o->include_fields = calloc(inc->u.array.len, sizeof(char *));
            if (!o->include_fields)
                return st_error_set(RESONA_ENOMEM,
                                    "out of memory loading the enrichment overrides");
            for (size_t j = 0; j < inc->u.array.len; j++) {
                yajl_val f = inc->u.array.values[j];
                if (!YAJL_IS_STRING(f))
                    continue;
                char *low = st_js_lower(YAJL_GET_STRING(f));
                if (!low)
                    return st_error_set(RESONA_ENOMEM,
                                        "out of memory loading the enrichment overrides");
                o->include_fields[o->include_count++] = low;
            }
        }
    }
    return 0;
}

int st_enrich_config_load(const char *path, struct st_enrich_config *cfg, char **warning)
{
    int rc = 0;
    char *data = NULL;
    yajl_val root = NULL;
    FILE *f = NULL;
    st_enrich_config_defaults(cfg);
    *warning = NULL;

    f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        return st_error_set(RESONA_EIO, "cannot open %s: %s", path, strerror(errno));
    }
    st_str buf = {0};
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        st_str_append(&buf, chunk, n);
        if (buf.len > ENRICH_FILE_MAX) {
            rc = st_error_set(RESONA_EINVALID, "%s: larger than %u bytes", path, ENRICH_FILE_MAX);
            goto done;
        }
    }
    if (ferror(f)) {
        rc = st_error_set(RESONA_EIO, "cannot read %s", path);
        goto done;
    }
    if ((rc = st_str_ok(&buf)) < 0)
        goto done;
    data = buf.ptr ? buf.ptr : strdup("");
    buf.ptr = NULL;
    if (!data) {
        rc = st_error_set(RESONA_ENOMEM, "out of memory reading %s", path);
        goto done;
    }

    char errbuf[512];
    errbuf[0] = '\0';
    root = yajl_tree_parse(data, errbuf, sizeof(errbuf));
    if (!root) {
        /* yajl's message spans lines; keep the first. */
        char *nl = strchr(errbuf, '\n');
        if (nl)
            *nl = '\0';
        *warning = dup_warning("⚠️  Failed to parse enrichment config: ",
                               errbuf[0] ? errbuf : "invalid JSON", ", using defaults");
        goto done;
    }
    if (!YAJL_IS_OBJECT(root) && !YAJL_IS_ARRAY(root)) {
        /* JS: !parsed || typeof parsed !== "object" (an array is an object). */
        *warning = dup_warning("⚠️  Invalid enrichment config: expected object, using defaults",
                               "", "");
        goto done;
    }
    yajl_val defs = member(root, "defaults");
    yajl_val v = member(defs, "includeTagName");
    if (v && !YAJL_IS_NULL(v))
        cfg->include_tag_name = truthy(v);
    v = member(defs, "includeFields");
    if (YAJL_IS_ARRAY(v)) {
        cfg->allowed_types = 0;
        for (size_t i = 0; i < v->u.array.len; i++)
            if (YAJL_IS_STRING(v->u.array.values[i]))
                cfg->allowed_types |= field_type_bits(YAJL_GET_STRING(v->u.array.values[i]));
    }
    v = member(defs, "maxFieldsPerTag");
    if (YAJL_IS_NUMBER(v))
        cfg->max_fields_per_tag = YAJL_GET_DOUBLE(v);
    rc = load_overrides(member(root, "overrides"), cfg);

done:
    if (rc < 0)
        st_enrich_config_free(cfg);
    if (root)
        yajl_tree_free(root);
    st_str_free(&buf);
    free(data);
    if (f)
        fclose(f);
    return rc;
}

const struct st_enrich_override *st_enrich_override_for(const struct st_enrich_config *cfg,
                                                        const char *tag)
{
    if (cfg->override_count == 0)
        return NULL;
    char *low = st_js_lower(tag);
    if (!low)
        return NULL;
    const struct st_enrich_override *found = NULL;
    for (size_t i = 0; i < cfg->override_count; i++)
        if (!strcmp(cfg->overrides[i].key, low))
            found = &cfg->overrides[i]; /* last duplicate key wins, as in JSON.parse */
    free(low);
    return found;
}

/* ---- graph-aware ------------------------------------------------------------ */

static unsigned data_type_bit(const char *type)
{
    if (!strcmp(type, "options"))
        return ST_TYPE_OPTIONS;
    if (!strcmp(type, "reference"))
        return ST_TYPE_REFERENCE;
    if (!strcmp(type, "date"))
        return ST_TYPE_DATE;
    if (!strcmp(type, "text"))
        return ST_TYPE_TEXT;
    return 0;
}

static bool name_listed(const struct st_enrich_override *o, const char *name)
{
    char *low = st_js_lower(name);
    if (!low)
        return false;
    bool hit = false;
    for (size_t i = 0; i < o->include_count && !hit; i++)
        hit = !strcmp(o->include_fields[i], low);
    free(low);
    return hit;
}

static void append_value(st_str *out, const char *value)
{
    size_t len = strlen(value);
    if (st_utf16_len(value, len) > MAX_FIELD_VALUE_UNITS) {
        st_str_append_utf16_prefix(out, value, len, MAX_FIELD_VALUE_UNITS);
        st_str_puts(out, "\xE2\x80\xA6"); /* … */
    } else {
        st_str_append(out, value, len);
    }
}

static void graph_metadata(st_str *metadata, const char *const *tags, size_t count, bool enriched)
{
    st_str_puts(metadata, "{\"ancestorId\":null,\"ancestorName\":null,\"ancestorTags\":[");
    for (size_t i = 0; i < count; i++) {
        if (i)
            st_str_putc(metadata, ',');
        st_str_append_json(metadata, tags[i]);
    }
    st_str_puts(metadata, enriched ? "],\"enriched\":true,\"enrichmentVersion\":1}"
                                   : "],\"enriched\":false,\"enrichmentVersion\":1}");
}

int st_context_graph(const struct st_enrich_config *cfg, const struct st_graph_node *node,
                     st_str *text, st_str *metadata, bool *enriched, st_str *fields_shown,
                     st_str *raw)
{
    const struct st_enrich_override *o = NULL;
    *enriched = false;
    if (node->tag_count > 0) {
        o = st_enrich_override_for(cfg, node->tags[0]);
        *enriched = !(o && o->disabled);
    }
    if (!*enriched) {
        st_str_puts(text, node->name);
        if (raw)
            st_str_puts(raw, node->name);
        graph_metadata(metadata, NULL, 0, false);
        int rc = st_str_ok(text);
        return rc < 0 ? rc : st_str_ok(metadata);
    }

    double max_fields = o && o->has_max_fields ? o->max_fields : cfg->max_fields_per_tag;
    bool by_name = o && o->include_count > 0;
    st_str full = {0};
    if (cfg->include_tag_name) {
        st_str_puts(&full, "[Type: ");
        for (size_t i = 0; i < node->tag_count; i++) {
            if (i)
                st_str_puts(&full, ", ");
            st_str_putc(&full, '#');
            st_str_puts(&full, node->tags[i]);
        }
        st_str_putc(&full, ']');
    }
    size_t kept = 0;
    for (size_t i = 0; i < node->field_count; i++) {
        if ((double)kept >= max_fields)
            break;
        const struct st_field_row *r = &node->fields[i];
        if (by_name) {
            if (!name_listed(o, r->name))
                continue;
        } else if (r->type && r->type[0] && !(data_type_bit(r->type) & cfg->allowed_types)) {
            continue;
        }
        if (full.len > 0 || kept > 0)
            st_str_putc(&full, ' ');
        st_str_putc(&full, '[');
        st_str_puts(&full, r->name);
        st_str_puts(&full, ": ");
        append_value(&full, r->value);
        st_str_putc(&full, ']');
        if (fields_shown) {
            if (kept)
                st_str_puts(fields_shown, ", ");
            st_str_puts(fields_shown, r->name);
            st_str_puts(fields_shown, ": ");
            append_value(fields_shown, r->value);
        }
        kept++;
    }
    if (full.len > 0 || kept > 0)
        st_str_putc(&full, ' ');
    st_str_puts(&full, node->name);
    int rc = st_str_ok(&full);
    if (rc == 0) {
        if (raw)
            st_str_append(raw, st_str_cstr(&full), full.len);
        st_context_truncate(st_str_cstr(&full), full.len, ST_ENRICHED_MAX_UNITS, text);
        graph_metadata(metadata, node->tags, node->tag_count, true);
        if ((rc = st_str_ok(text)) == 0)
            rc = st_str_ok(metadata);
    }
    st_str_free(&full);
    return rc;
}

/* ---- truncation ------------------------------------------------------------- */

/* Length of a "[<one or more non-]>]" segment at s, or 0. */
static size_t bracket_segment(const char *s, size_t len)
{
    if (len < 3 || s[0] != '[' || s[1] == ']')
        return 0;
    const char *close = memchr(s + 1, ']', len - 1);
    return close ? (size_t)(close - s) + 1 : 0;
}

struct segment {
    size_t off, len, units;
};

void st_context_truncate(const char *text, size_t len, size_t max_units, st_str *out)
{
    size_t total = st_utf16_len(text, len);
    if (total <= max_units) {
        st_str_append(out, text, len);
        return;
    }
    /* ^\[Type: [^\]]+\] */
    size_t type_len = 0;
    if (len > 7 && !memcmp(text, "[Type: ", 7) && text[7] != ']') {
        const char *close = memchr(text + 7, ']', len - 7);
        if (close)
            type_len = (size_t)(close - text) + 1;
    }
    if (type_len == 0) {
        st_str_append_utf16_prefix(out, text, len, max_units);
        return;
    }
    size_t type_units = st_utf16_len(text, type_len);

    /* Field segments, each followed by optional whitespace; the rest is the name. */
    struct segment *fields = NULL;
    size_t nfields = 0, cap = 0;
    size_t pos = type_len;
    pos += st_js_space_prefix(text + pos, len - pos);
    for (;;) {
        size_t seg = bracket_segment(text + pos, len - pos);
        if (seg == 0)
            break;
        if (nfields == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct segment *p = realloc(fields, ncap * sizeof(*p));
            if (!p) {
                out->failed = true;
                free(fields);
                return;
            }
            fields = p;
            cap = ncap;
        }
        fields[nfields].off = pos;
        fields[nfields].len = seg;
        fields[nfields].units = st_utf16_len(text + pos, seg);
        nfields++;
        pos += seg;
        pos += st_js_space_prefix(text + pos, len - pos);
    }
    const char *name = text + pos;
    size_t name_len = len - pos;
    size_t name_units = st_utf16_len(name, name_len);

    /* Keep fields from the front while type + kept + name (space-joined) fits. */
    size_t kept = 0, kept_units = 0; /* kept_units includes one space per field */
    for (size_t i = 0; i < nfields; i++) {
        size_t cand = type_units + kept_units + 1 + fields[i].units + 1 + name_units;
        if (cand > max_units)
            break;
        kept_units += 1 + fields[i].units;
        kept++;
    }
    size_t prefix_units = type_units + kept_units;
    if (prefix_units + 1 + name_units <= max_units ||
        (long long)max_units - (long long)prefix_units - 1 > 10) {
        st_str_append(out, text, type_len);
        for (size_t i = 0; i < kept; i++) {
            st_str_putc(out, ' ');
            st_str_append(out, text + fields[i].off, fields[i].len);
        }
        st_str_putc(out, ' ');
        if (prefix_units + 1 + name_units <= max_units)
            st_str_append(out, name, name_len);
        else
            st_str_append_utf16_prefix(out, name, name_len, max_units - prefix_units - 1);
    } else if (type_units <= max_units) {
        st_str_append(out, text, type_len);
    } else {
        st_str_append_utf16_prefix(out, text, len, max_units);
    }
    free(fields);
}

/* ---- legacy ----------------------------------------------------------------- */

struct st_legacy {
    sqlite3 *db;
    sqlite3_stmt *node;
    sqlite3_stmt *tags;
};

int st_legacy_open(sqlite3 *db, st_legacy **out)
{
    st_legacy *l = calloc(1, sizeof(*l));
    if (!l)
        return st_error_set(RESONA_ENOMEM, "out of memory");
    l->db = db;
    if (sqlite3_prepare_v2(db, "SELECT id, name, parent_id FROM nodes WHERE id = ?", -1, &l->node,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "SELECT DISTINCT tag_name as name FROM tag_applications "
                           "WHERE data_node_id = ?",
                           -1, &l->tags, NULL) != SQLITE_OK) {
        int rc =
            st_error_set(RESONA_ERROR, "preparing the ancestor queries: %s", sqlite3_errmsg(db));
        st_legacy_free(l);
        return rc;
    }
    *out = l;
    return 0;
}

void st_legacy_free(st_legacy *l)
{
    if (!l)
        return;
    sqlite3_finalize(l->node);
    sqlite3_finalize(l->tags);
    free(l);
}

/* A growable list of strings, owned. */
struct strlist {
    char **v;
    size_t n, cap;
};

static void strlist_clear(struct strlist *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    s->n = 0;
}

static int strlist_push(struct strlist *s, const char *text)
{
    if (s->n == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 8;
        char **p = realloc(s->v, ncap * sizeof(*p));
        if (!p)
            return st_error_set(RESONA_ENOMEM, "out of memory");
        s->v = p;
        s->cap = ncap;
    }
    if (!(s->v[s->n] = strdup(text)))
        return st_error_set(RESONA_ENOMEM, "out of memory");
    s->n++;
    return 0;
}

static void strlist_free(struct strlist *s)
{
    strlist_clear(s);
    free(s->v);
}

static int sql_fail(sqlite3 *db, const char *what, const char *id)
{
    return st_error_set(RESONA_ERROR, "%s for node %s: %s", what, id, sqlite3_errmsg(db));
}

int st_legacy_build(st_legacy *l, const char *id, const char *name, st_str *text, st_str *metadata,
                    enum st_legacy_kind *kind)
{
    int rc = 0;
    struct strlist visited = {0}, tags = {0};
    char *cur = strdup(id);
    char *anc_id = NULL, *anc_name = NULL;
    bool anc_name_null = false, found = false;
    int depth = 0, found_depth = 0;
    if (!cur)
        return st_error_set(RESONA_ENOMEM, "out of memory");

    while (cur && cur[0] && depth <= MAX_ANCESTOR_DEPTH) {
        bool seen = false;
        for (size_t i = 0; i < visited.n && !seen; i++)
            seen = !strcmp(visited.v[i], cur);
        if (seen)
            break;
        if ((rc = strlist_push(&visited, cur)) < 0)
            goto done;

        sqlite3_reset(l->node);
        sqlite3_bind_text(l->node, 1, cur, -1, SQLITE_STATIC);
        int s = sqlite3_step(l->node);
        if (s == SQLITE_DONE)
            break;
        if (s != SQLITE_ROW) {
            rc = sql_fail(l->db, "reading the ancestor chain", id);
            goto done;
        }
        sqlite3_reset(l->tags);
        sqlite3_bind_text(l->tags, 1, cur, -1, SQLITE_STATIC);
        strlist_clear(&tags);
        while ((s = sqlite3_step(l->tags)) == SQLITE_ROW) {
            const char *t = (const char *)sqlite3_column_text(l->tags, 0);
            if ((rc = strlist_push(&tags, t ? t : "")) < 0)
                goto done;
        }
        if (s != SQLITE_DONE) {
            rc = sql_fail(l->db, "reading tags", id);
            goto done;
        }
        if (tags.n > 0) {
            const char *nid = (const char *)sqlite3_column_text(l->node, 0);
            const char *nname = (const char *)sqlite3_column_text(l->node, 1);
            anc_id = strdup(nid ? nid : "");
            anc_name_null = nname == NULL;
            anc_name = strdup(nname ? nname : "null");
            if (!anc_id || !anc_name) {
                rc = st_error_set(RESONA_ENOMEM, "out of memory");
                goto done;
            }
            found = true;
            found_depth = depth;
            break;
        }
        const char *parent = (const char *)sqlite3_column_text(l->node, 2);
        char *next = parent ? strdup(parent) : NULL;
        if (parent && !next) {
            rc = st_error_set(RESONA_ENOMEM, "out of memory");
            goto done;
        }
        free(cur);
        cur = next;
        depth++;
    }

    if (!found) {
        *kind = ST_LEGACY_NONE;
        st_str_puts(text, name);
        st_str_puts(metadata, "{\"ancestorId\":null,\"ancestorName\":null,\"ancestorTags\":[]}");
    } else {
        const char *t = tags.v[0];
        if (t[0] == '#')
            t++;
        st_str_append_capitalized(text, t);
        st_str_puts(text, ": ");
        if (found_depth == 0) {
            *kind = ST_LEGACY_OWN_TAG;
            st_str_puts(text, name);
            st_str_puts(metadata, "{\"ancestorId\":null,\"ancestorName\":null,\"ancestorTags\":[");
        } else {
            *kind = ST_LEGACY_ANCESTOR;
            st_str_puts(text, anc_name);
            st_str_puts(text, " | ");
            st_str_puts(text, name);
            st_str_puts(metadata, "{\"ancestorId\":");
            st_str_append_json(metadata, anc_id);
            st_str_puts(metadata, ",\"ancestorName\":");
            st_str_append_json(metadata, anc_name_null ? NULL : anc_name);
            st_str_puts(metadata, ",\"ancestorTags\":[");
        }
        for (size_t i = 0; i < tags.n; i++) {
            if (i)
                st_str_putc(metadata, ',');
            st_str_append_json(metadata, tags.v[i]);
        }
        st_str_puts(metadata, "]}");
    }
    if ((rc = st_str_ok(text)) == 0)
        rc = st_str_ok(metadata);
done:
    sqlite3_reset(l->node);
    sqlite3_reset(l->tags);
    strlist_free(&visited);
    strlist_free(&tags);
    free(cur);
    free(anc_id);
    free(anc_name);
    return rc;
}
