/*
 * sync/graph.h - the compact per-doc state a sync keeps, and the original's
 * graph rules over it (supertag-behaviour.md section 4).
 *
 * One st_rec per doc, in file order, with ids interned as symbols, names in
 * one byte pool and children as symbol arrays. The doc's JSON (the nodes.
 * raw_data column) is not kept in memory: it is printed once, when the doc
 * is read, into a spill file and read back when the nodes table is written.
 *
 * JavaScript Map semantics are kept: a repeated id keeps its first position
 * in the index and takes the last doc's contents; loops over "docs" (the
 * original's docs-order passes) see every record, repeats included.
 */
#ifndef SUPERTAG_SYNC_GRAPH_H
#define SUPERTAG_SYNC_GRAPH_H

#include "sync/export.h"
#include "sync/symtab.h"

#include <stdint.h>
#include <stdio.h>

/* A string in the graph's byte pool; len == ST_STR_ABSENT when missing. */
#define ST_STR_ABSENT UINT32_MAX
typedef struct st_str {
    uint64_t off;
    uint32_t len;
} st_str;

enum st_doctype { DT_NONE, DT_TUPLE, DT_TAGDEF, DT_METANODE, DT_ATTRDEF, DT_OTHER };
enum st_kind { K_ABSENT, K_NUMBER, K_TRUE, K_FALSE, K_STRING, K_ARRAY_EMPTY, K_ARRAY, K_OTHERKIND };

/* st_rec.flags */
#define RF_TRASHDOC 0x01     /* id contains "TRASH": not indexed */
#define RF_FIRST 0x02        /* first doc with this id */
#define RF_HAS_CHILDREN 0x04 /* "children" present */
#define RF_SRC_SUPERTAG 0x08 /* props.description == "Selected source supertag" */
#define RF_METANODE_STR 0x10 /* props._metaNodeId is a string */

typedef struct st_rec {
    uint32_t id;                  /* symbol */
    uint32_t owner, meta, source; /* props._ownerId, _metaNodeId, _sourceId (symbols or NONE) */
    uint64_t children_off;        /* into g->children */
    uint32_t children_count;
    st_str name;                /* props.name */
    st_str color;               /* doc "color" */
    st_str tag_desc, tag_color; /* props._description / _color of tagDefs */
    double created, updated, done;
    uint64_t raw_off; /* JSON in the spill file */
    uint32_t raw_len;
    uint8_t flags, doctype, created_kind, updated_kind, done_kind;
} st_rec;

typedef struct st_graph {
    st_symtab ids;
    st_rec *recs;
    size_t rec_count, rec_cap;
    uint32_t *children;
    uint64_t children_len, children_cap;
    char *pool;
    uint64_t pool_len, pool_cap;

    /* per symbol, sized ids.count after st_graph_resolve */
    uint32_t *latest;     /* latest record of the id, or NONE */
    uint32_t *parent;     /* parent symbol by the index rule, or NONE */
    uint32_t *parent_all; /* parent symbol over all docs (docs order), or NONE */
    uint8_t *trash;       /* 1 if in the original's trash map */
    size_t sym_cap;

    /* deferred while reading */
    uint32_t *refs; /* pairs (source symbol, target symbol) */
    size_t refs_len, refs_cap;
    uint32_t *cands; /* records with SYS_A13 among children (+ flags in high bits) */
    size_t cands_len, cands_cap;
    uint32_t trash_children_rec; /* last TRASH record with children, or NONE */

    /* the index: latest record of each non-trash id, in first-appearance order */
    uint32_t *index;
    size_t index_count;

    /* raw_data spill */
    FILE *spill;
    uint64_t spill_len;
    jt_out out; /* reused print buffer */
    char *win;  /* read-back window over the spill */
    uint64_t win_off;
    size_t win_len, win_cap;

    uint32_t sym_a13, sym_t01, sym_t02; /* pre-interned system ids */
} st_graph;

/** Initialise; the spill file is created (and unlinked) in `spill_dir`. */
int st_graph_init(st_graph *g, const char *spill_dir);
void st_graph_free(st_graph *g);

/** The export reader callback: validate one doc and record it. payload = st_graph. */
int st_graph_add_doc(const st_export_doc *doc, void *payload);

/*
 * The same work in two halves, for two threads: st_graph_spill_doc prints a
 * doc's raw_data into the spill file (it touches only the spill, and uses
 * `out` as its print buffer); st_graph_add_doc_at validates and records the
 * doc, taking its spill position from the first half when `spilled` is set
 * (it then never touches the spill). Docs must reach each half in file
 * order. Trashed docs are printed too but never read back.
 */
int st_graph_spill_doc(st_graph *g, const st_export_doc *doc, jt_out *out, uint64_t *off,
                       uint32_t *len);
int st_graph_add_doc_at(const st_export_doc *doc, st_graph *g, int spilled, uint64_t raw_off,
                        uint32_t raw_len);

/** After the last doc: index order, trash marks, parent maps. */
int st_graph_resolve(st_graph *g);

/** Helpers for the writers. */
static inline const char *st_graph_str(const st_graph *g, st_str s)
{
    return g->pool + s.off;
}
static inline const uint32_t *st_graph_children(const st_graph *g, const st_rec *r)
{
    return g->children + r->children_off;
}
const char *st_graph_id(const st_graph *g, uint32_t sym, size_t *len);
/** The indexed record of a symbol (index.get), or NULL. */
const st_rec *st_graph_indexed(const st_graph *g, uint32_t sym);
/** The record of a symbol over all docs (docsById.get), or NULL. */
const st_rec *st_graph_any(const st_graph *g, uint32_t sym);
/** JS truthiness of props.name. */
static inline int st_rec_named(const st_rec *r)
{
    return r && r->name.len != ST_STR_ABSENT && r->name.len > 0;
}
/** Read a record's raw JSON from the spill into buf (grown as needed). */
int st_graph_read_raw(st_graph *g, const st_rec *r, jt_out *buf);

/** The original's checksum string of a record (into out, reset first). */
int st_graph_checksum(const st_graph *g, const st_rec *r, jt_out *out);

#endif
