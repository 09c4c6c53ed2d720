/*
 * embed/context.h - the text that is embedded and hashed for a node: the
 * original's two builders, byte for byte.
 *
 *  - Graph-aware (default): "[Type: #t1, #t2] [Field: value] ... name" for
 *    nodes with a supertag, the plain name otherwise; field rows filtered
 *    by embed-enrichment.json (types or names), values cut to 50 UTF-16
 *    units + "…", the whole text cut to 2,048 units by the original's
 *    segment-aware truncation. Metadata
 *    {"ancestorId":null,"ancestorName":null,"ancestorTags":[…],"enriched":…,"enrichmentVersion":1}.
 *  - Legacy (--no-graph-aware): "<Tag>: <name>", "<Tag>: <ancestor> | <name>"
 *    or "<name>", from the nearest tagged ancestor (depth ≤ 50, cycles end
 *    the walk), optionally with "\n[Field]: value" lines (--include-fields).
 *
 * The graph-aware builder is a pure function over rows the caller fetched
 * (select.c fetches them 900 ids at a time); the legacy builder owns two
 * prepared statements on the caller's connection. Neither prints. Not
 * thread-safe per object; separate objects may be used on separate threads
 * with separate connections.
 */
#ifndef SUPERTAG_EMBED_CONTEXT_H
#define SUPERTAG_EMBED_CONTEXT_H

#include "embed/text.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

/** Data types a defaults.includeFields entry allows (bit set). */
enum {
    ST_TYPE_OPTIONS = 1u << 0,
    ST_TYPE_REFERENCE = 1u << 1,
    ST_TYPE_DATE = 1u << 2,
    ST_TYPE_TEXT = 1u << 3
};

/** One entry of embed-enrichment.json "overrides" (key lower-case as in the file). */
struct st_enrich_override {
    char *key;
    char **include_fields; /**< names, compared case-insensitively; NULL/0 = none */
    size_t include_count;
    bool has_max_fields;
    double max_fields; /**< kept rows stop at this count (JS `>=` compare) */
    bool disabled;
};

/** The graph-aware enrichment configuration (defaults when no file). */
struct st_enrich_config {
    bool include_tag_name;     /**< default true */
    unsigned allowed_types;    /**< from defaults.includeFields; default options|date|instance */
    double max_fields_per_tag; /**< default 5 */
    struct st_enrich_override *overrides;
    size_t override_count;
};

/** Fill *cfg with the built-in defaults (no allocation). */
void st_enrich_config_defaults(struct st_enrich_config *cfg);

/**
 * Load embed-enrichment.json from path into *cfg. A missing file gives the
 * defaults and returns 0 with *warning NULL. A file that does not parse or
 * is not an object gives the defaults and sets *warning to the original's
 * message ("⚠️  Failed to parse enrichment config: <msg>, using defaults" /
 * "⚠️  Invalid enrichment config: expected object, using defaults"); the
 * caller prints it and frees it. Returns RESONA_EIO when the file exists but
 * cannot be read, RESONA_ENOMEM on allocation failure. Free with
 * st_enrich_config_free.
 */
int st_enrich_config_load(const char *path, struct st_enrich_config *cfg, char **warning);
void st_enrich_config_free(struct st_enrich_config *cfg);

/**
 * The override for a tag name (looked up lower-cased), or NULL. Borrowed.
 */
const struct st_enrich_override *st_enrich_override_for(const struct st_enrich_config *cfg,
                                                        const char *tag);

/** One field_values row of a node, with its inferred type (NULL = unknown). */
struct st_field_row {
    const char *name;
    const char *value;
    const char *type;
};

/** Inputs of the graph-aware builder for one node. */
struct st_graph_node {
    const char *name;        /**< node name (raw) */
    const char *const *tags; /**< distinct tag names, first-seen first */
    size_t tag_count;
    const struct st_field_row *fields; /**< rows in (value_order, rowid) order */
    size_t field_count;
};

/**
 * Build the graph-aware text and metadata of one node, appending to *text
 * and *metadata (which the caller clears). *enriched tells whether the node
 * was enriched. fields_shown, if not NULL, receives "Name: value, ..." of
 * the kept rows (for --enrichment-preview); raw, if not NULL, receives the
 * text before truncation. Returns 0 or RESONA_ENOMEM.
 */
int st_context_graph(const struct st_enrich_config *cfg, const struct st_graph_node *node,
                     st_str *text, st_str *metadata, bool *enriched, st_str *fields_shown,
                     st_str *raw);

/** Max UTF-16 units of an enriched text: 512 tokens x 4. */
#define ST_ENRICHED_MAX_UNITS 2048

/**
 * The original's truncateEnrichedText(text, max_units) appended to *out.
 */
void st_context_truncate(const char *text, size_t len, size_t max_units, st_str *out);

/** Kinds of legacy context, for the "With ancestor context" counts. */
enum st_legacy_kind { ST_LEGACY_NONE = 0, ST_LEGACY_OWN_TAG = 1, ST_LEGACY_ANCESTOR = 2 };

typedef struct st_legacy st_legacy;

/** Prepare the legacy builder's statements on db. Free with st_legacy_free. */
int st_legacy_open(sqlite3 *db, st_legacy **out);
void st_legacy_free(st_legacy *l);

/**
 * Legacy text and metadata of one node (id, name), appended to *text and
 * *metadata; *kind says which case applied. Returns 0 or a negative code.
 */
int st_legacy_build(st_legacy *l, const char *id, const char *name, st_str *text, st_str *metadata,
                    enum st_legacy_kind *kind);

#endif
