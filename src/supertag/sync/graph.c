/*
 * sync/graph.c - reading docs into the compact graph, and resolving the
 * index, trash and parent maps (see graph.h; rules in supertag-behaviour.md
 * 4.2 and 4.3).
 */
#include "sync/graph.h"

#include "st_error.h"
#include "sync/jsnum.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SPILL_WINDOW (4u << 20)

static int nomem(void)
{
    return st_error_set(RESONA_ENOMEM, "out of memory while indexing the export");
}

static int grow(void **ptr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 1024;
    while (ncap < need)
        ncap *= 2;
    void *np = realloc(*ptr, ncap * elem);
    if (!np)
        return -1;
    *ptr = np;
    *cap = ncap;
    return 0;
}

static int ensure_syms(st_graph *g)
{
    size_t need = g->ids.count;
    if (need <= g->sym_cap)
        return 0;
    size_t ncap = g->sym_cap ? g->sym_cap : 4096;
    while (ncap < need)
        ncap *= 2;
    uint32_t *nl = realloc(g->latest, ncap * sizeof(uint32_t));
    if (!nl)
        return -1;
    g->latest = nl;
    for (size_t i = g->sym_cap; i < ncap; i++)
        g->latest[i] = ST_SYM_NONE;
    g->sym_cap = ncap;
    return 0;
}

static int intern(st_graph *g, const char *s, size_t len, uint32_t *out)
{
    if (st_symtab_intern(&g->ids, s, len, out) < 0 || ensure_syms(g) < 0)
        return nomem();
    return 0;
}

int st_graph_init(st_graph *g, const char *spill_dir)
{
    memset(g, 0, sizeof(*g));
    g->trash_children_rec = ST_SYM_NONE;
    size_t n = strlen(spill_dir) + 32;
    char *tmpl = malloc(n);
    if (!tmpl)
        return nomem();
    snprintf(tmpl, n, "%s/.supertag-spill.XXXXXX", spill_dir);
    int fd = mkstemp(tmpl);
    if (fd < 0) {
        int e = errno;
        free(tmpl);
        return st_error_set_errno(RESONA_EIO, e, "cannot create a temporary file in %s", spill_dir);
    }
    unlink(tmpl); /* gone when we exit, however we exit */
    free(tmpl);
    g->spill = fdopen(fd, "w+b");
    if (!g->spill) {
        close(fd);
        return nomem();
    }
    setvbuf(g->spill, NULL, _IOFBF, 1u << 20);
    if (intern(g, "SYS_A13", 7, &g->sym_a13) < 0 || intern(g, "SYS_T01", 7, &g->sym_t01) < 0 ||
        intern(g, "SYS_T02", 7, &g->sym_t02) < 0)
        return RESONA_ENOMEM;
    return 0;
}

void st_graph_free(st_graph *g)
{
    st_symtab_free(&g->ids);
    free(g->recs);
    free(g->children);
    free(g->pool);
    free(g->latest);
    free(g->parent);
    free(g->parent_all);
    free(g->trash);
    free(g->refs);
    free(g->cands);
    free(g->index);
    free(g->win);
    jt_out_free(&g->out);
    if (g->spill)
        fclose(g->spill);
    memset(g, 0, sizeof(*g));
}

static int pool_add(st_graph *g, const char *s, size_t len, st_str *out)
{
    if (len >= ST_STR_ABSENT)
        return st_error_set(RESONA_EINVALID, "string of %zu bytes is too long", len);
    size_t cap = (size_t)g->pool_cap;
    if (grow((void **)&g->pool, &cap, (size_t)g->pool_len + len + 1, 1) < 0)
        return nomem();
    g->pool_cap = cap;
    memcpy(g->pool + g->pool_len, s, len);
    g->pool[g->pool_len + len] = '\0';
    out->off = g->pool_len;
    out->len = (uint32_t)len;
    g->pool_len += len + 1;
    return 0;
}

static int bad(const st_export_doc *d, const char *what)
{
    const jt_val *id = jt_get(d->doc, "id");
    if (id && id->type == JT_STRING)
        return st_error_set(RESONA_EINVALID, "docs[%zu] (id \"%.60s\") at byte %llu: %s", d->index,
                            id->u.str.s, (unsigned long long)d->offset, what);
    return st_error_set(RESONA_EINVALID, "docs[%zu] at byte %llu: %s", d->index,
                        (unsigned long long)d->offset, what);
}

static int optional_string(const st_export_doc *d, const jt_val *v, const char *what)
{
    if (v && v->type != JT_STRING) {
        char msg[96];
        snprintf(msg, sizeof(msg), "%s is not a string", what);
        return bad(d, msg);
    }
    return 0;
}

static int numbers_or_string(const st_export_doc *d, const jt_val *v, const char *what)
{
    if (!v || v->type == JT_STRING)
        return 0;
    if (v->type == JT_ARRAY) {
        for (size_t i = 0; i < v->u.arr.count; i++)
            if (v->u.arr.items[i]->type != JT_NUMBER)
                goto wrong;
        return 0;
    }
wrong:;
    char msg[96];
    snprintf(msg, sizeof(msg), "%s is not an array of numbers or a string", what);
    return bad(d, msg);
}

static const char *find_bytes(const char *hay, size_t hl, const char *needle, size_t nl);

static int contains(const char *s, size_t len, const char *needle)
{
    return find_bytes(s, len, needle, strlen(needle)) != NULL;
}

static const char *find_bytes(const char *hay, size_t hl, const char *needle, size_t nl)
{
    while (hl >= nl) {
        const char *p = memchr(hay, needle[0], hl - nl + 1);
        if (!p)
            return NULL;
        if (memcmp(p, needle, nl) == 0)
            return p;
        hl -= (size_t)(p - hay) + 1;
        hay = p + 1;
    }
    return NULL;
}

/* <span data-inlineref-node="([^"]*)"></span>, global, as the JS regex scans. */
static int collect_inline_refs(st_graph *g, uint32_t source, const char *s, size_t len)
{
    static const char open[] = "<span data-inlineref-node=\"";
    static const char close[] = "\"></span>";
    const size_t ol = sizeof(open) - 1, cl = sizeof(close) - 1;
    size_t i = 0;
    while (i + ol <= len) {
        const char *p = find_bytes(s + i, len - i, open, ol);
        if (!p)
            break;
        size_t start = (size_t)(p - s) + ol;
        const char *q = memchr(s + start, '"', len - start);
        if (q && (size_t)(s + len - q) >= cl && memcmp(q, close, cl) == 0) {
            uint32_t target;
            if (intern(g, s + start, (size_t)(q - (s + start)), &target) < 0)
                return RESONA_ENOMEM;
            if (grow((void **)&g->refs, &g->refs_cap, g->refs_len + 2, sizeof(uint32_t)) < 0)
                return nomem();
            g->refs[g->refs_len++] = source;
            g->refs[g->refs_len++] = target;
            i = (size_t)(q - s) + cl;
        } else {
            i = (size_t)(p - s) + 1;
        }
    }
    return 0;
}

static uint8_t doctype_of(const jt_val *v)
{
    if (!v)
        return DT_NONE;
    if (jt_streq(v, "tuple"))
        return DT_TUPLE;
    if (jt_streq(v, "tagDef"))
        return DT_TAGDEF;
    if (jt_streq(v, "metanode"))
        return DT_METANODE;
    if (jt_streq(v, "attrDef"))
        return DT_ATTRDEF;
    return DT_OTHER;
}

static int sym_of(st_graph *g, const jt_val *v, uint32_t *out)
{
    *out = ST_SYM_NONE;
    if (!v)
        return 0;
    return intern(g, v->u.str.s, v->u.str.len, out);
}

/* null in an optional field means "absent" to every rule of the original */
static const jt_val *opt(const jt_val *v)
{
    return (v && v->type == JT_NULL) ? NULL : v;
}

int st_graph_spill_doc(st_graph *g, const st_export_doc *d, jt_out *out, uint64_t *off,
                       uint32_t *len)
{
    out->len = 0;
    if (jt_write(out, d->doc, 0) < 0)
        return nomem();
    if (out->len >= UINT32_MAX)
        return bad(d, "doc is larger than 4 GiB as JSON");
    if (fwrite(out->ptr, 1, out->len, g->spill) != out->len)
        return st_error_set_errno(RESONA_EIO, errno, "writing the temporary spill file");
    *off = g->spill_len;
    *len = (uint32_t)out->len;
    g->spill_len += out->len;
    return 0;
}

int st_graph_add_doc(const st_export_doc *d, void *payload)
{
    return st_graph_add_doc_at(d, payload, 0, 0, 0);
}

int st_graph_add_doc_at(const st_export_doc *d, st_graph *g, int spilled, uint64_t raw_off,
                        uint32_t raw_len)
{
    const jt_val *doc = d->doc;
    const jt_val *id = jt_get(doc, "id");
    const jt_val *props = jt_get(doc, "props");
    const jt_val *children = opt(jt_get(doc, "children"));
    const jt_val *mts = opt(jt_get(doc, "modifiedTs"));
    const jt_val *color = opt(jt_get(doc, "color"));
    int rc;

    if (!id || id->type != JT_STRING)
        return bad(d, "\"id\" is missing or not a string");
    if (!props || props->type != JT_OBJECT)
        return bad(d, "\"props\" is missing or not an object");
    if (children) {
        if (children->type != JT_ARRAY)
            return bad(d, "\"children\" is not an array");
        for (size_t i = 0; i < children->u.arr.count; i++)
            if (children->u.arr.items[i]->type != JT_STRING)
                return bad(d, "\"children\" holds a value that is not a string");
    }
    if ((rc = numbers_or_string(d, mts, "\"modifiedTs\"")) < 0 ||
        (rc = numbers_or_string(d, opt(jt_get(doc, "touchCounts")), "\"touchCounts\"")) < 0 ||
        (rc = optional_string(d, color, "\"color\"")) < 0)
        return rc;
    const jt_val *amap = opt(jt_get(doc, "associationMap"));
    if (amap) {
        if (amap->type != JT_OBJECT)
            return bad(d, "\"associationMap\" is not an object");
        for (size_t i = 0; i < amap->u.obj.count; i++)
            if (amap->u.obj.members[i].val->type != JT_STRING)
                return bad(d, "\"associationMap\" holds a value that is not a string");
    }
    const jt_val *name = opt(jt_get(props, "name"));
    const jt_val *created = opt(jt_get(props, "created"));
    const jt_val *owner = opt(jt_get(props, "_ownerId"));
    const jt_val *meta = opt(jt_get(props, "_metaNodeId"));
    const jt_val *dtype = opt(jt_get(props, "_docType"));
    const jt_val *source = opt(jt_get(props, "_sourceId"));
    const jt_val *descr = opt(jt_get(props, "description"));
    const jt_val *done = opt(jt_get(props, "_done"));
    if ((rc = optional_string(d, name, "\"props.name\"")) < 0 ||
        (rc = optional_string(d, owner, "\"props._ownerId\"")) < 0 ||
        (rc = optional_string(d, meta, "\"props._metaNodeId\"")) < 0 ||
        (rc = optional_string(d, dtype, "\"props._docType\"")) < 0 ||
        (rc = optional_string(d, source, "\"props._sourceId\"")) < 0 ||
        (rc = optional_string(d, descr, "\"props.description\"")) < 0)
        return rc;
    if (created && created->type != JT_NUMBER)
        return bad(d, "\"props.created\" is not a number");
    if (done && done->type != JT_NUMBER && done->type != JT_TRUE && done->type != JT_FALSE)
        return bad(d, "\"props._done\" is not a number or a boolean");

    if (grow((void **)&g->recs, &g->rec_cap, g->rec_count + 1, sizeof(st_rec)) < 0)
        return nomem();
    if (g->rec_count >= ST_SYM_NONE - 1)
        return bad(d, "too many docs");
    uint32_t ri = (uint32_t)g->rec_count;
    st_rec *r = &g->recs[ri];
    memset(r, 0, sizeof(*r));
    r->name.len = r->color.len = r->tag_desc.len = r->tag_color.len = ST_STR_ABSENT;

    if ((rc = intern(g, id->u.str.s, id->u.str.len, &r->id)) < 0)
        return rc;
    if ((rc = sym_of(g, owner, &r->owner)) < 0 || (rc = sym_of(g, meta, &r->meta)) < 0 ||
        (rc = sym_of(g, source, &r->source)) < 0)
        return rc;
    if (meta)
        r->flags |= RF_METANODE_STR;
    const char *ids = id->u.str.s;
    size_t idl = id->u.str.len;
    if (contains(ids, idl, "TRASH"))
        r->flags |= RF_TRASHDOC;
    if (g->latest[r->id] == ST_SYM_NONE)
        r->flags |= RF_FIRST;
    r->doctype = doctype_of(dtype);
    if (jt_streq(descr, "Selected source supertag"))
        r->flags |= RF_SRC_SUPERTAG;
    if (name && (rc = pool_add(g, name->u.str.s, name->u.str.len, &r->name)) < 0)
        return rc;
    if (color && (rc = pool_add(g, color->u.str.s, color->u.str.len, &r->color)) < 0)
        return rc;
    if (r->doctype == DT_TAGDEF) {
        const jt_val *td = jt_get(props, "_description"), *tc = jt_get(props, "_color");
        if (td && td->type == JT_STRING &&
            (rc = pool_add(g, td->u.str.s, td->u.str.len, &r->tag_desc)) < 0)
            return rc;
        if (tc && tc->type == JT_STRING &&
            (rc = pool_add(g, tc->u.str.s, tc->u.str.len, &r->tag_color)) < 0)
            return rc;
    }
    if (created) {
        r->created_kind = K_NUMBER;
        r->created = created->u.num.d;
    }
    if (mts && mts->type == JT_ARRAY) {
        r->updated_kind = mts->u.arr.count ? K_ARRAY : K_ARRAY_EMPTY;
        if (mts->u.arr.count)
            r->updated = mts->u.arr.items[0]->u.num.d;
    } else if (mts) {
        r->updated_kind = K_STRING;
    }
    if (done) {
        r->done_kind =
            done->type == JT_NUMBER ? K_NUMBER : (done->type == JT_TRUE ? K_TRUE : K_FALSE);
        if (done->type == JT_NUMBER)
            r->done = done->u.num.d;
    }
    if (children) {
        size_t n = children->u.arr.count;
        r->flags |= RF_HAS_CHILDREN;
        size_t cap = (size_t)g->children_cap;
        if (n > UINT32_MAX - 1 ||
            grow((void **)&g->children, &cap, (size_t)g->children_len + n, sizeof(uint32_t)) < 0)
            return nomem();
        g->children_cap = cap;
        r->children_off = g->children_len;
        r->children_count = (uint32_t)n;
        int a13 = 0, t01 = 0, t02 = 0;
        for (size_t i = 0; i < n; i++) {
            const jt_val *c = children->u.arr.items[i];
            uint32_t s;
            if ((rc = intern(g, c->u.str.s, c->u.str.len, &s)) < 0)
                return rc;
            g->children[g->children_len + i] = s;
            a13 |= s == g->sym_a13;
            t01 |= s == g->sym_t01;
            t02 |= s == g->sym_t02;
        }
        g->children_len += n;
        if (!(r->flags & RF_TRASHDOC) && a13 && !contains(ids, idl, "SYS")) {
            if (grow((void **)&g->cands, &g->cands_cap, g->cands_len + 2, sizeof(uint32_t)) < 0)
                return nomem();
            g->cands[g->cands_len++] = ri;
            g->cands[g->cands_len++] = (uint32_t)(t01 | (t02 << 1));
        }
        if (r->flags & RF_TRASHDOC)
            g->trash_children_rec = ri;
    }
    g->latest[r->id] = ri;
    g->rec_count++;

    if (r->flags & RF_TRASHDOC)
        return 0;
    if (name && contains(name->u.str.s, name->u.str.len, "data-inlineref-node") &&
        (rc = collect_inline_refs(g, r->id, name->u.str.s, name->u.str.len)) < 0)
        return rc;

    /* raw_data: the doc as JSON.stringify prints it, in the spill file */
    if (!spilled && (rc = st_graph_spill_doc(g, d, &g->out, &raw_off, &raw_len)) < 0)
        return rc;
    r->raw_off = raw_off;
    r->raw_len = raw_len;
    return 0;
}

int st_graph_resolve(st_graph *g)
{
    size_t n = g->ids.count;
    if (ensure_syms(g) < 0)
        return nomem();
    g->parent = malloc(n * sizeof(uint32_t) + 1);
    g->parent_all = malloc(n * sizeof(uint32_t) + 1);
    g->trash = calloc(n + 1, 1);
    g->index = malloc(g->rec_count * sizeof(uint32_t) + 1);
    if (!g->parent || !g->parent_all || !g->trash || !g->index)
        return nomem();
    for (size_t i = 0; i < n; i++)
        g->parent[i] = g->parent_all[i] = ST_SYM_NONE;
    g->index_count = 0;
    for (size_t i = 0; i < g->rec_count; i++) {
        const st_rec *r = &g->recs[i];
        if (r->flags & RF_TRASHDOC)
            g->trash[r->id] = 1;
        else if (r->flags & RF_FIRST)
            g->index[g->index_count++] = g->latest[r->id];
        const uint32_t *ch = st_graph_children(g, r);
        for (uint32_t k = 0; k < r->children_count; k++)
            g->parent_all[ch[k]] = r->id;
    }
    if (g->trash_children_rec != ST_SYM_NONE) {
        const st_rec *t = &g->recs[g->trash_children_rec];
        const uint32_t *ch = st_graph_children(g, t);
        for (uint32_t k = 0; k < t->children_count; k++)
            if (st_graph_indexed(g, ch[k]))
                g->trash[ch[k]] = 1;
    }
    for (size_t i = 0; i < g->index_count; i++) {
        const st_rec *r = &g->recs[g->index[i]];
        const uint32_t *ch = st_graph_children(g, r);
        for (uint32_t k = 0; k < r->children_count; k++)
            g->parent[ch[k]] = r->id;
    }
    if (fflush(g->spill) != 0)
        return st_error_set_errno(RESONA_EIO, errno, "writing the temporary spill file");
    return 0;
}

const char *st_graph_id(const st_graph *g, uint32_t sym, size_t *len)
{
    return st_symtab_str(&g->ids, sym, len);
}

const st_rec *st_graph_any(const st_graph *g, uint32_t sym)
{
    if (sym == ST_SYM_NONE || sym >= g->ids.count)
        return NULL;
    uint32_t ri = g->latest[sym];
    return ri == ST_SYM_NONE ? NULL : &g->recs[ri];
}

const st_rec *st_graph_indexed(const st_graph *g, uint32_t sym)
{
    const st_rec *r = st_graph_any(g, sym);
    return (r && !(r->flags & RF_TRASHDOC)) ? r : NULL;
}

int st_graph_read_raw(st_graph *g, const st_rec *r, jt_out *buf)
{
    uint64_t off = r->raw_off;
    size_t len = r->raw_len;
    if (!(off >= g->win_off && off + len <= g->win_off + g->win_len)) {
        size_t want = len > SPILL_WINDOW ? len : SPILL_WINDOW;
        if (g->win_cap < want) {
            char *nw = realloc(g->win, want);
            if (!nw)
                return nomem();
            g->win = nw;
            g->win_cap = want;
        }
        size_t got = 0;
        int fd = fileno(g->spill);
        while (got < want) {
            ssize_t k = pread(fd, g->win + got, want - got, (off_t)(off + got));
            if (k < 0) {
                if (errno == EINTR)
                    continue;
                return st_error_set_errno(RESONA_EIO, errno, "reading the temporary spill file");
            }
            if (k == 0)
                break;
            got += (size_t)k;
        }
        if (got < len)
            return st_error_set(RESONA_EIO, "temporary spill file is short");
        g->win_off = off;
        g->win_len = got;
    }
    buf->len = 0;
    return jt_out_append(buf, g->win + (off - g->win_off), len) < 0 ? nomem() : 0;
}

static int put_num(jt_out *o, double v)
{
    char b[ST_JSNUM_MAX];
    size_t n = st_jsnum_format(v, b);
    return jt_out_append(o, b, n);
}

int st_graph_checksum(const st_graph *g, const st_rec *r, jt_out *o)
{
    int rc = 0;
    o->len = 0;
    if (st_rec_named(r))
        rc |= jt_out_append(o, st_graph_str(g, r->name), r->name.len);
    rc |= jt_out_append(o, "\t", 1);
    rc |= put_num(o, r->created_kind == K_NUMBER ? r->created : 0);
    rc |= jt_out_append(o, "\t", 1);
    if (r->updated_kind == K_ARRAY)
        rc |= put_num(o, r->updated);
    else if (r->updated_kind == K_ARRAY_EMPTY)
        rc |= jt_out_append(o, "undefined", 9);
    else
        rc |= jt_out_append(o, "0", 1);
    rc |= jt_out_append(o, "\t", 1);
    if (r->done_kind == K_TRUE)
        rc |= jt_out_append(o, "true", 4);
    else if (r->done_kind == K_NUMBER)
        rc |= put_num(o, r->done);
    else
        rc |= jt_out_append(o, "0", 1);
    rc |= jt_out_append(o, "\t", 1);
    rc |= put_num(o, (double)r->children_count);
    rc |= jt_out_append(o, "\t", 1);
    const uint32_t *ch = st_graph_children(g, r);
    size_t len;
    if (r->children_count >= 1) {
        const char *s = st_graph_id(g, ch[0], &len);
        rc |= jt_out_append(o, s, len);
    }
    rc |= jt_out_append(o, "\t", 1);
    if (r->children_count > 1) {
        const char *s = st_graph_id(g, ch[r->children_count - 1], &len);
        rc |= jt_out_append(o, s, len);
    }
    if (o->len == 0)
        rc |= jt_out_append(o, "", 0);
    return rc ? nomem() : 0;
}
