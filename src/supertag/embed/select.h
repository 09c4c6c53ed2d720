/*
 * embed/select.h - which nodes are embedded, and their items, streamed.
 *
 * The original's node selection SQL (reference §6: minimum name length with
 * the entity bypass, timestamp artifacts, system docTypes, transcripts, tag,
 * limit) over the SQLite index, followed by a context-text builder
 * (graph-aware or legacy, context.h), yielding items
 * {id, text, metadata, text_hash} one at a time.
 *
 * Memory is bounded: the cursor holds one chunk of at most 900 selected
 * nodes (the original's SQLite variable chunk) with their tag and field
 * rows, whatever the size of the index. The selection statement stays open
 * while the chunk queries run on the same connection (read-only use).
 *
 *   struct st_select_opts o = ST_SELECT_OPTS_INIT;
 *   st_select *c;
 *   if (st_select_open(db, &o, &c) < 0) ... st_error_message()
 *   struct st_item it;
 *   while ((rc = st_select_next(c, &it)) > 0) use(it.id, it.text, it.metadata);
 *   st_select_close(c);
 *
 * Not thread-safe: one cursor per thread, on a connection no other thread
 * uses meanwhile.
 */
#ifndef SUPERTAG_EMBED_SELECT_H
#define SUPERTAG_EMBED_SELECT_H

#include "embed/context.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

/** Selection and context options (embed generate's command line). */
struct st_select_opts {
    const char *tag;          /**< -t: exact tag_name, NULL = any */
    long min_length;          /**< --min-length (15); <= 0 = no length condition */
    long limit;               /**< -l: SQL LIMIT; <= 0 = none */
    bool include_all;         /**< --include-all: no content filter at all */
    bool include_timestamps;  /**< --include-timestamps */
    bool include_system;      /**< --include-system */
    bool include_transcripts; /**< --include-transcripts */
    bool include_fields;      /**< --include-fields (legacy builder only) */
    bool graph_aware;         /**< default true; --no-graph-aware = legacy */
    bool counts_only;         /**< classify only: no text, no hash (for the counts pass) */
    const struct st_enrich_config *enrich; /**< NULL = built-in defaults; borrowed */
};

/*
 * The original's entity test over `nodes n` (an explicit override, the export's
 * _flags bit 0, a stash owner, or a supertag applied), shared by the selection
 * and by `embed stats`.
 */
#define ST_ENTITY_FILTER_SQL                                                                          \
    "(json_extract(n.raw_data, '$.props._entityOverride') = 1"                                     \
    " OR (json_extract(n.raw_data, '$.props._entityOverride') IS NULL"                             \
    " AND json_extract(n.raw_data, '$.props._flags') IS NOT NULL"                                  \
    " AND (json_extract(n.raw_data, '$.props._flags') % 2) = 1)"                                   \
    " OR (json_extract(n.raw_data, '$.props._ownerId') LIKE '%_STASH')"                            \
    " OR (EXISTS (SELECT 1 FROM tag_applications WHERE data_node_id = n.id)))"

#define ST_SELECT_OPTS_INIT                                                                        \
    {                                                                                              \
        NULL, 15, 0, false, false, false, false, false, true, false, NULL                          \
    }

/** One item. Every pointer is borrowed until the next st_select_next / close. */
struct st_item {
    const char *id;
    const char *name;     /**< the raw node name */
    const char *text;     /**< contextText, what is embedded and hashed (NULL if counts_only) */
    size_t text_len;      /**< bytes */
    const char *metadata; /**< JSON.stringify of the metadata object (NULL if counts_only) */
    char text_hash[65];   /**< lowercase hex SHA-256 of text ("" if counts_only) */
    bool enriched;        /**< graph-aware: enriched with tags */
    enum st_legacy_kind legacy_kind; /**< legacy: which context applied */
};

/** Counters of the items yielded so far (complete after the last item). */
struct st_select_counts {
    long long total;
    long long enriched, plain;                    /**< graph-aware */
    long long with_ancestor, own_tag, no_context; /**< legacy */
};

typedef struct st_select st_select;

/**
 * Build the selection SQL for opts into *sql (for tests and -v output).
 * `count` wraps it as SELECT COUNT(*). Returns 0 or RESONA_ENOMEM.
 */
int st_select_sql(const struct st_select_opts *opts, bool count, st_str *sql);

/** Open a cursor over db. Returns 0 or a negative code (message: st_error_message()). */
int st_select_open(sqlite3 *db, const struct st_select_opts *opts, st_select **out);
/** Next item: 1 with *item filled, 0 at the end, negative on error. */
int st_select_next(st_select *c, struct st_item *item);
/** Counts of the items yielded so far. */
void st_select_counts(const st_select *c, struct st_select_counts *out);
void st_select_close(st_select *c);

/** Number of rows the selection returns (SELECT COUNT(*) over the same SQL). */
int st_select_count(sqlite3 *db, const struct st_select_opts *opts, long long *out);

/** SELECT COUNT(*) FROM nodes WHERE name IS NOT NULL (the -v "Total named nodes"). */
int st_select_named_count(sqlite3 *db, long long *out);

/** What --enrichment-preview shows for one node (graph-aware builder). */
struct st_preview {
    bool found;    /**< the id exists in nodes */
    char *name;    /**< raw name ("" when NULL) */
    st_str tags;   /**< "#a, #b" ("" = none) */
    st_str fields; /**< "Name: value, ..." of the kept rows ("" = none) */
    st_str raw;    /**< text before truncation */
    st_str text;   /**< final text (truncated to 2,048 units when enriched) */
    bool enriched;
};

/**
 * Build the preview of node `id` with the graph-aware builder, whatever the
 * selection filters say. found = false when the id is not in nodes. Free
 * with st_preview_free. Returns 0 or a negative code.
 */
int st_select_preview(sqlite3 *db, const struct st_enrich_config *cfg, const char *id,
                      struct st_preview *out);
void st_preview_free(struct st_preview *p);

#endif
