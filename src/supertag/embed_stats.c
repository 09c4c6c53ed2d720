/*
 * embed_stats.c - `supertag embed stats` and `supertag embed filter-stats`
 * (supertag-behaviour.md 12.2 and 12.4): what is embedded, how much of the
 * index that covers, how the default content filters and the entity
 * detection count, and the health of the Lance table.
 *
 * The filter numbers use the original's DEFAULT_FILTER_OPTIONS (minimum name
 * length 3, no 1970-01-01 timestamps, no system docTypes, no [[...]]
 * references; entities bypass the length) - not embed generate's options.
 *
 * Fixed defects (15.13 and 12.4): "Fragments" is the manifest's fragment
 * count (the original counted subdirectories of data/, always 0), and
 * filter-stats prints the minimum length the numbers use (3, not 15).
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include "cli.h"
#include "embed/select.h"
#include "embed_cmds.h"
#include "st_error.h"
#include "workspace.h"

#include <resona/embed.h>
#include <resona/table.h>

#include <ftw.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SYSTEM_DOC_TYPES                                                                           \
    "'tuple', 'metanode', 'viewDef', 'search', 'command', 'hotkey', 'tagDef', 'attrDef', "         \
    "'associatedData', 'visual', 'journalPart', 'group', 'chatbot', 'workspace', 'transcript', "   \
    "'transcriptLine'"

/* DEFAULT_FILTER_OPTIONS as SQL conditions (section 6). */
#define DEFAULT_FILTER_SQL                                                                         \
    "n.name IS NOT NULL AND (LENGTH(n.name) >= 3 OR " ST_ENTITY_FILTER_SQL ")"                        \
    " AND n.name NOT LIKE '1970-01-01%' AND n.name NOT LIKE '%[[%]]%'"                             \
    " AND (json_extract(n.raw_data, '$.props._docType') IS NULL"                                   \
    "  OR json_extract(n.raw_data, '$.props._docType') NOT IN (" SYSTEM_DOC_TYPES "))"

static const char *const excluded_types[] = {
    "tuple",   "metanode",       "viewDef", "search",      "command", "hotkey",  "tagDef",
    "attrDef", "associatedData", "visual",  "journalPart", "group",   "chatbot", "workspace"};

/* 1234567 -> "1,234,567". */
static void fmt_count(long long n, char *out, size_t len)
{
    char digits[32];
    snprintf(digits, sizeof(digits), "%lld", n < 0 ? -n : n);
    size_t nd = strlen(digits), o = 0;
    if (n < 0 && o + 1 < len)
        out[o++] = '-';
    for (size_t i = 0; i < nd && o + 2 < len; i++) {
        if (i && (nd - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
}

static uint64_t tree_bytes;

static int add_size(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)path;
    (void)ftw;
    if (type == FTW_F && S_ISREG(sb->st_mode))
        tree_bytes += (uint64_t)sb->st_size;
    return 0;
}

/* Recursive sum of regular file sizes under dir (the original's Disk Size). */
static uint64_t dir_bytes(const char *dir)
{
    tree_bytes = 0;
    nftw(dir, add_size, 16, FTW_PHYS);
    return tree_bytes;
}

static int count_sql(sqlite3 *db, const char *sql, long long *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return 0;
    }
    cli_error("counting: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return -1;
}

typedef struct filter_counts {
    long long named, filtered;
    long long total_nodes, override, automatic, tagged, library;
    long long entities_filtered;
} filter_counts;

static int get_counts(sqlite3 *db, filter_counts *c)
{
    sqlite3_stmt *st = NULL;
    const char *entity_sql =
        "SELECT"
        " (SELECT COUNT(*) FROM nodes WHERE name IS NOT NULL) as total_nodes,"
        " (SELECT COUNT(*) FROM nodes WHERE name IS NOT NULL"
        "   AND json_extract(raw_data, '$.props._entityOverride') = 1) as entities_override,"
        " (SELECT COUNT(*) FROM nodes WHERE name IS NOT NULL"
        "   AND json_extract(raw_data, '$.props._entityOverride') IS NULL"
        "   AND json_extract(raw_data, '$.props._flags') IS NOT NULL"
        "   AND (json_extract(raw_data, '$.props._flags') % 2) = 1) as entities_auto,"
        " (SELECT COUNT(DISTINCT data_node_id) FROM tag_applications"
        "   WHERE data_node_id IN (SELECT id FROM nodes WHERE name IS NOT NULL)) as "
        "entities_tagged,"
        " (SELECT COUNT(*) FROM nodes WHERE name IS NOT NULL"
        "   AND json_extract(raw_data, '$.props._ownerId') LIKE '%_STASH') as entities_library";
    if (count_sql(db, "SELECT COUNT(*) FROM nodes WHERE name IS NOT NULL", &c->named) < 0 ||
        count_sql(db, "SELECT COUNT(*) FROM nodes n WHERE " DEFAULT_FILTER_SQL, &c->filtered) < 0 ||
        count_sql(
            db, "SELECT COUNT(*) FROM nodes n WHERE " DEFAULT_FILTER_SQL " AND " ST_ENTITY_FILTER_SQL,
            &c->entities_filtered) < 0)
        return -1;
    if (sqlite3_prepare_v2(db, entity_sql, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        cli_error("entity statistics: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return -1;
    }
    c->total_nodes = sqlite3_column_int64(st, 0);
    c->override = sqlite3_column_int64(st, 1);
    c->automatic = sqlite3_column_int64(st, 2);
    c->tagged = sqlite3_column_int64(st, 3);
    c->library = sqlite3_column_int64(st, 4);
    sqlite3_finalize(st);
    return 0;
}

static void pct(long long part, long long whole, char *out, size_t len)
{
    snprintf(out, len, "%.1f", whole ? (double)part * 100.0 / (double)whole : 0.0);
}

static void print_entities(const filter_counts *c)
{
    char a[32], b[32], d[32], e[32], f[32], g[32];
    int flags = c->override + c->automatic > 0;
    long long total = c->override + c->automatic +
                      (c->override == 0 && c->automatic == 0 ? c->tagged + c->library : 0);
    printf("Entity Detection (%s):\n", flags ? "_flags from export" : "inferred from tags/library");
    fmt_count(c->override, a, sizeof(a));
    fmt_count(c->automatic, b, sizeof(b));
    fmt_count(c->tagged, d, sizeof(d));
    fmt_count(c->library, e, sizeof(e));
    fmt_count(total, f, sizeof(f));
    fmt_count(c->entities_filtered, g, sizeof(g));
    if (flags) {
        printf("  With override:     %s\n", a);
        printf("  Automatic (_flags): %s\n", b);
    }
    printf("  Tagged items:      %s\n", d);
    printf("  Library items:     %s\n", e);
    if (c->total_nodes > 0) {
        char p[32];
        pct(total, c->total_nodes, p, sizeof(p));
        printf("  Total entities:    %s (%s%% of nodes)\n", f, p);
    } else {
        printf("  Total entities:    %s (0%% of nodes)\n", f);
    }
    printf("  Entities + filters: %s\n", g);
}

/* The workspace and its open SQLite index; prints the original's errors. */
static int open_workspace(const char *alias, st_paths *paths, st_workspace *ws, sqlite3 **db)
{
    struct stat sb;
    if (st_paths_get(paths) < 0 || st_workspace_resolve(paths, alias, ws) < 0) {
        cli_error("%s", st_error_message());
        return EXIT_RUNTIME;
    }
    if (stat(ws->db_path, &sb) != 0) {
        printf("❌ Database not found: %s\n\nRun 'supertag sync' first to index the workspace.\n",
               ws->db_path);
        return EXIT_RUNTIME;
    }
    if (sqlite3_open_v2(ws->db_path, db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        cli_error("%s: %s", ws->db_path, *db ? sqlite3_errmsg(*db) : "cannot open");
        return EXIT_RUNTIME;
    }
    return 0;
}

static int parse_alias(int argc, char **argv, const char **alias, const char *name)
{
    for (int i = 1; i < argc; i++) {
        if ((!strcmp(argv[i], "-w") || !strcmp(argv[i], "--workspace")) && i + 1 < argc) {
            *alias = argv[++i];
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: supertag embed %s [-w ALIAS]\n", name);
            return -1;
        } else {
            cli_error("unexpected argument '%s' (see 'supertag embed %s --help')", argv[i], name);
            return EXIT_USAGE;
        }
    }
    return 0;
}

int cmd_embed_stats(int argc, char **argv)
{
    const char *alias = NULL;
    int rc = parse_alias(argc, argv, &alias, "stats");
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    st_paths paths;
    st_workspace ws;
    memset(&paths, 0, sizeof(paths));
    memset(&ws, 0, sizeof(ws));
    sqlite3 *db = NULL;
    st_config *cfg = NULL;
    resona_table *t = NULL;
    char *table_path = NULL;
    if ((rc = open_workspace(alias, &paths, &ws, &db)) != 0)
        goto done;
    if (st_config_load(paths.config_file, &cfg) < 0) {
        cli_error("%s", st_error_message());
        rc = EXIT_RUNTIME;
        goto done;
    }
    const char *model_keys[] = {"embeddings", "model", NULL};
    const char *model = st_config_get_string(cfg, model_keys);
    model = model ? model : "bge-m3";
    uint32_t dim = resona_embed_known_dim(model);
    char dims[16];
    if (dim)
        snprintf(dims, sizeof(dims), "%u", (unsigned)dim);
    else
        snprintf(dims, sizeof(dims), "auto-detect");
    printf("📊 Embedding Statistics [%s]\n\n", ws.alias);
    printf("Workspace:    %s\nDatabase:     %s\nStorage:      LanceDB (via resona)\n"
           "Model:        %s\nDimensions:   %s\n\n",
           ws.alias, ws.db_path, model, dims);
    struct stat sb;
    if (stat(ws.lance_path, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        printf("Status:       No embeddings generated yet\n\n"
               "Run 'supertag embed generate' to create embeddings.\n");
        goto done;
    }
    size_t len = strlen(ws.lance_path) + strlen(ws.lance_table) + 16;
    if (!(table_path = malloc(len))) {
        cli_error("out of memory");
        rc = EXIT_RUNTIME;
        goto done;
    }
    snprintf(table_path, len, "%s/%s.lance", ws.lance_path, ws.lance_table);
    resona_table_stats ts;
    if (resona_table_open(table_path, NULL, &t) < 0 || resona_table_stats_get(t, &ts) < 0) {
        rc = cli_fail_lib("reading the embeddings table");
        goto done;
    }
    filter_counts c;
    if (get_counts(db, &c) < 0) {
        rc = EXIT_RUNTIME;
        goto done;
    }
    char rows[32], named[32], filtered[32], p[32], size[32], version[32];
    fmt_count((long long)ts.rows, rows, sizeof(rows));
    fmt_count(c.named, named, sizeof(named));
    fmt_count(c.filtered, filtered, sizeof(filtered));
    printf("Total:        %s\n\n", rows);
    pct((long long)ts.rows, c.named, p, sizeof(p));
    printf("Coverage:     %llu/%lld (%s%%)\n\n", (unsigned long long)ts.rows, c.named, p);
    pct(c.named - c.filtered, c.named, p, sizeof(p));
    printf("Content Filter Stats:\n  All named nodes:   %s\n  After filtering:   %s\n"
           "  Reduction:         %s%%\n\n",
           named, filtered, p);
    print_entities(&c);
    cli_format_bytes(dir_bytes(ws.lance_path), size, sizeof(size));
    fmt_count((long long)ts.version, version, sizeof(version));
    int vector_index = 0;
    for (size_t i = 0; i < ts.index_count; i++)
        vector_index |= strstr(ts.index_names[i], "vector") != NULL;
    printf("\nDatabase Health:\n  Rows:          %s\n  Disk Size:     %s\n  Version:       %s\n"
           "  Fragments:     %llu\n  Index:         %s\n",
           rows, size, version, (unsigned long long)ts.fragments,
           vector_index ? "present (not used: search is exact)" : "not created");
done:
    resona_table_free(t);
    free(table_path);
    st_config_free(cfg);
    sqlite3_close(db);
    st_workspace_free(&ws);
    st_paths_free(&paths);
    return rc;
}

int cmd_embed_filter_stats(int argc, char **argv)
{
    const char *alias = NULL;
    int rc = parse_alias(argc, argv, &alias, "filter-stats");
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    st_paths paths;
    st_workspace ws;
    memset(&paths, 0, sizeof(paths));
    memset(&ws, 0, sizeof(ws));
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    if ((rc = open_workspace(alias, &paths, &ws, &db)) != 0)
        goto done;
    filter_counts c;
    if (get_counts(db, &c) < 0) {
        rc = EXIT_RUNTIME;
        goto done;
    }
    char named[32], filtered[32], p[32];
    fmt_count(c.named, named, sizeof(named));
    fmt_count(c.filtered, filtered, sizeof(filtered));
    pct(c.named - c.filtered, c.named, p, sizeof(p));
    printf("📋 Content Filter Statistics [%s]\n\n", ws.alias);
    printf("Workspace:             %s\nTotal named nodes:     %s\nAfter default filters: %s\n"
           "Reduction:             %s%%\n\n",
           ws.alias, named, filtered, p);
    printf("Default filters applied:\n  - Minimum length: 3 characters\n"
           "  - Exclude timestamp artifacts (1970-01-01...)\n"
           "  - Exclude system docTypes (tuple, metanode, etc.)\n\n");
    printf("Node counts by docType:\n\n");
    if (sqlite3_prepare_v2(db,
                           "SELECT json_extract(raw_data, '$.props._docType') as docType, "
                           "COUNT(*) as count FROM nodes WHERE name IS NOT NULL "
                           "GROUP BY docType ORDER BY count DESC LIMIT 20",
                           -1, &st, NULL) != SQLITE_OK) {
        cli_error("docType counts: %s", sqlite3_errmsg(db));
        rc = EXIT_RUNTIME;
        goto done;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(st, 0);
        char count[32];
        fmt_count(sqlite3_column_int64(st, 1), count, sizeof(count));
        int excluded = 0;
        for (size_t i = 0; type && i < sizeof(excluded_types) / sizeof(excluded_types[0]); i++)
            excluded |= strcmp(type, excluded_types[i]) == 0;
        printf("  %-20s %10s%s\n", type ? type : "(no docType)", count,
               excluded ? " [excluded]" : "");
    }
    printf("\n");
    print_entities(&c);
done:
    sqlite3_finalize(st);
    sqlite3_close(db);
    st_workspace_free(&ws);
    st_paths_free(&paths);
    return rc;
}
