/*
 * embed_maintain.c - `supertag embed maintain`: keep the embeddings table
 * small and fast. Options as the original's (supertag-behaviour.md 12.3):
 *
 *   embed maintain [-w ALIAS] [--dry-run] [--stale] [--skip-compact]
 *                  [--skip-cleanup] [--skip-index] [--retention-days N (7)] [-v]
 *
 * Steps: (1) stale rows: every row whose BASE id (the id without a "#<n>"
 * chunk suffix) is no longer a named node of the SQLite index, removed in
 * ONE delete commit; (2) unless --stale: compaction of small fragments
 * (libresona's resona_table_compact: one Rewrite commit) and (3) pruning of
 * versions older than the retention (resona_table_prune).
 *
 * Fixed defects of the original (15.2, 15.6, 15.13): chunk rows of live
 * nodes are not stale; stale rows go in one commit, not one per id;
 * "Fragments" counts the manifest's fragments instead of subdirectories.
 * No ANN index is built: search is exact and fast without one, so
 * --skip-index is accepted and has nothing to skip.
 */
#include "cli.h"
#include "embed_cmds.h"
#include "st_error.h"
#include "workspace.h"

#include <resona/search.h>
#include <resona/table.h>

#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: supertag embed maintain [-w ALIAS] [--dry-run] [--stale] [--skip-compact]\n"
            "                               [--skip-cleanup] [--skip-index]\n"
            "                               [--retention-days N] [-v]\n\n"
            "Remove embeddings of nodes gone from the index, compact the table's\n"
            "fragments and prune versions older than the retention (default 7 days).\n");
}

/* 1234567 -> "1,234,567" (en-US toLocaleString). */
static void format_count(uint64_t n, char *out, size_t len)
{
    char digits[32];
    snprintf(digits, sizeof(digits), "%llu", (unsigned long long)n);
    size_t nd = strlen(digits), o = 0;
    for (size_t i = 0; i < nd && o + 2 < len; i++) {
        if (i && (nd - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The ids of named nodes, sorted (for bsearch). */
typedef struct id_set {
    char **ids;
    size_t count;
} id_set;

static void id_set_free(id_set *s)
{
    for (size_t i = 0; i < s->count; i++)
        free(s->ids[i]);
    free(s->ids);
    memset(s, 0, sizeof(*s));
}

static int load_node_ids(const char *db_path, id_set *out)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc = 0;
    memset(out, 0, sizeof(*out));
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT id FROM nodes WHERE name IS NOT NULL", -1, &st, NULL) !=
            SQLITE_OK) {
        cli_error("%s: %s", db_path, db ? sqlite3_errmsg(db) : "cannot open");
        rc = -1;
        goto done;
    }
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        if (!id)
            continue;
        if (out->count == cap) {
            cap = cap ? cap * 2 : 1024;
            char **p = realloc(out->ids, cap * sizeof(char *));
            if (!p) {
                cli_error("out of memory");
                rc = -1;
                goto done;
            }
            out->ids = p;
        }
        if (!(out->ids[out->count] = strdup(id))) {
            cli_error("out of memory");
            rc = -1;
            goto done;
        }
        out->count++;
    }
    if (step != SQLITE_DONE) {
        cli_error("%s: %s", db_path, sqlite3_errmsg(db));
        rc = -1;
        goto done;
    }
    if (out->count > 1)
        qsort(out->ids, out->count, sizeof(char *), cmp_cstr);
done:
    sqlite3_finalize(st);
    sqlite3_close(db);
    if (rc < 0)
        id_set_free(out);
    return rc;
}

/* Row ids (full keys, chunks included) whose base id is not in `live`. */
static int find_stale(resona_table *t, const id_set *live, id_set *stale)
{
    memset(stale, 0, sizeof(*stale));
    const char *cols[1] = {"id"};
    resona_scan_options so = RESONA_SCAN_OPTIONS_INIT;
    so.columns = cols;
    so.column_count = 1;
    resona_scan *scan = NULL;
    if (resona_table_scan(t, &so, &scan) < 0)
        return cli_fail_lib("scanning the embeddings table");
    const resona_chunk *c;
    size_t cap = 0;
    int rc;
    char *key = NULL;
    size_t key_cap = 0;
    while ((rc = resona_scan_next(scan, &c)) == 1) {
        const char *values = c->columns[0].values;
        const uint64_t *off = c->columns[0].offsets;
        const uint8_t *valid = c->columns[0].validity;
        for (size_t r = 0; r < c->rows; r++) {
            if (valid && !(valid[r / 8] >> (r % 8) & 1))
                continue; /* a null id is nobody's row; leave it */
            size_t len = (size_t)(off[r + 1] - off[r]);
            if (len + 1 > key_cap) {
                key_cap = len + 64;
                char *p = realloc(key, key_cap);
                if (!p) {
                    rc = -1;
                    break;
                }
                key = p;
            }
            if (len)
                memcpy(key, values + off[r], len);
            key[len] = '\0';
            size_t base_len = resona_search_base_id_len(key);
            char saved = key[base_len];
            key[base_len] = '\0';
            const char *probe = key;
            int alive = live->count > 0 &&
                        bsearch(&probe, live->ids, live->count, sizeof(char *), cmp_cstr) != NULL;
            key[base_len] = saved;
            if (alive)
                continue;
            if (stale->count == cap) {
                cap = cap ? cap * 2 : 256;
                char **p = realloc(stale->ids, cap * sizeof(char *));
                if (!p) {
                    rc = -1;
                    break;
                }
                stale->ids = p;
            }
            if (!(stale->ids[stale->count] = strdup(key))) {
                rc = -1;
                break;
            }
            stale->count++;
        }
        if (rc < 0)
            break;
    }
    free(key);
    resona_scan_free(scan);
    if (rc == -1) {
        cli_error("out of memory");
        id_set_free(stale);
        return EXIT_RUNTIME;
    }
    if (rc < 0) {
        id_set_free(stale);
        return cli_fail_lib("scanning the embeddings table");
    }
    return 0;
}

static void print_state(const char *title, const resona_table_stats *st, long long stale,
                        int with_pct)
{
    char rows[32], size[32];
    format_count(st->rows, rows, sizeof(rows));
    cli_format_bytes(st->bytes, size, sizeof(size));
    printf("%s:\n", title);
    printf("  Rows:        %s\n", rows);
    printf("  Disk Size:   %s\n", size);
    printf("  Fragments:   %llu\n", (unsigned long long)st->fragments);
    if (stale >= 0) {
        if (with_pct)
            printf("  Stale:       %lld (%.1f%%)\n", stale,
                   st->rows ? (double)stale * 100.0 / (double)st->rows : 0.0);
        else
            printf("  Stale:       %lld\n", stale);
    }
}

int cmd_embed_maintain(int argc, char **argv)
{
    const char *alias = NULL;
    int dry = 0, stale_only = 0, skip_compact = 0, skip_cleanup = 0;
    long retention_days = 7;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((!strcmp(a, "-w") || !strcmp(a, "--workspace") || !strcmp(a, "--retention-days")) &&
            i + 1 >= argc) {
            cli_error("option '%s' needs a value", a);
            return EXIT_USAGE;
        }
        if (!strcmp(a, "-w") || !strcmp(a, "--workspace"))
            alias = argv[++i];
        else if (!strcmp(a, "--retention-days")) {
            retention_days = cli_parse_long(a, argv[++i], 0, 100000);
            if (retention_days < 0)
                return EXIT_USAGE;
        } else if (!strcmp(a, "--dry-run"))
            dry = 1;
        else if (!strcmp(a, "--stale"))
            stale_only = 1;
        else if (!strcmp(a, "--skip-compact"))
            skip_compact = 1;
        else if (!strcmp(a, "--skip-cleanup"))
            skip_cleanup = 1;
        else if (!strcmp(a, "--skip-index"))
            ; /* no ANN index is built (exact search): nothing to skip */
        else if (!strcmp(a, "-v") || !strcmp(a, "--verbose"))
            cli_verbosity++;
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return EXIT_OK;
        } else {
            cli_error("unknown option '%s' (see 'supertag embed maintain --help')", a);
            return EXIT_USAGE;
        }
    }

    st_paths paths;
    st_workspace ws;
    memset(&paths, 0, sizeof(paths));
    memset(&ws, 0, sizeof(ws));
    resona_table *t = NULL;
    id_set live, stale;
    memset(&live, 0, sizeof(live));
    memset(&stale, 0, sizeof(stale));
    char *table_path = NULL;
    int rc = EXIT_OK;
    struct stat sb;

    if (st_paths_get(&paths) < 0 || st_workspace_resolve(&paths, alias, &ws) < 0) {
        cli_error("%s", st_error_message());
        rc = EXIT_RUNTIME;
        goto done;
    }
    printf("🔧 %sRunning maintenance [%s]\n\n", dry ? "[DRY RUN] " : "", ws.alias);
    if (stat(ws.lance_path, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        printf("❌ No embeddings found for workspace \"%s\".\n\n"
               "Run 'supertag embed generate' first to create embeddings.\n",
               ws.alias);
        rc = EXIT_RUNTIME;
        goto done;
    }
    size_t len = strlen(ws.lance_path) + strlen(ws.lance_table) + 16;
    table_path = malloc(len);
    if (!table_path) {
        cli_error("out of memory");
        rc = EXIT_RUNTIME;
        goto done;
    }
    snprintf(table_path, len, "%s/%s.lance", ws.lance_path, ws.lance_table);
    if (resona_table_open(table_path, NULL, &t) < 0) {
        rc = cli_fail_lib("opening the embeddings table");
        goto done;
    }
    resona_table_stats before;
    if (resona_table_stats_get(t, &before) < 0) {
        rc = cli_fail_lib("reading table statistics");
        goto done;
    }
    int have_db = stat(ws.db_path, &sb) == 0 && S_ISREG(sb.st_mode);
    if (have_db) {
        if (load_node_ids(ws.db_path, &live) < 0) {
            rc = EXIT_RUNTIME;
            goto done;
        }
        if ((rc = find_stale(t, &live, &stale)) != 0)
            goto done;
    }
    print_state("Before", &before, have_db ? (long long)stale.count : -1, 1);
    printf("\n");

    if (have_db) {
        if (stale.count == 0) {
            printf("   No stale embeddings found\n");
        } else if (dry) {
            printf("   Would remove %zu stale embeddings\n", stale.count);
        } else {
            printf("   Removing stale embeddings... (%zu to remove)\n", stale.count);
            uint64_t deleted = 0;
            if (resona_table_delete(t, "id", (const char *const *)stale.ids, stale.count,
                                    &deleted) < 0) {
                rc = cli_fail_lib("removing stale embeddings");
                goto done;
            }
            printf("   ✓ Removed %llu stale embeddings\n", (unsigned long long)deleted);
        }
    }
    if (!stale_only) {
        if (!skip_compact) {
            if (dry) {
                printf("   Would compact %llu fragments\n", (unsigned long long)before.fragments);
            } else {
                printf("   Compacting database fragments...\n");
                resona_compact_stats cs;
                memset(&cs, 0, sizeof(cs));
                if (resona_table_compact(t, NULL, &cs) < 0) {
                    rc = cli_fail_lib("compacting");
                    goto done;
                }
                printf("   ✓ Compaction complete (%llu fragments merged)\n",
                       (unsigned long long)cs.fragments_removed);
            }
        }
        if (!skip_cleanup) {
            if (dry) {
                printf("   Would clean old versions (retention: %ld days)\n", retention_days);
            } else {
                printf("   Cleaning up old versions...\n");
                resona_prune_stats ps;
                memset(&ps, 0, sizeof(ps));
                if (resona_table_prune(t, (int64_t)retention_days * 86400, &ps) < 0) {
                    rc = cli_fail_lib("pruning old versions");
                    goto done;
                }
                printf("   ✓ Cleanup complete (%llu versions removed)\n",
                       (unsigned long long)ps.versions_removed);
            }
        }
    }
    printf("\n");
    if (!dry) {
        resona_table_stats after;
        if (resona_table_stats_get(t, &after) < 0) {
            rc = cli_fail_lib("reading table statistics");
            goto done;
        }
        id_set stale_after;
        memset(&stale_after, 0, sizeof(stale_after));
        if (have_db && (rc = find_stale(t, &live, &stale_after)) != 0)
            goto done;
        print_state("After", &after, have_db ? (long long)stale_after.count : -1, 0);
        id_set_free(&stale_after);
        if (after.bytes < before.bytes) {
            char saved[32];
            cli_format_bytes(before.bytes - after.bytes, saved, sizeof(saved));
            printf("  Saved:       %s\n", saved);
        }
        printf("\n");
    }
    printf("✅ %sMaintenance complete\n", dry ? "[DRY RUN] " : "");

done:
    id_set_free(&live);
    id_set_free(&stale);
    resona_table_free(t);
    free(table_path);
    st_workspace_free(&ws);
    st_paths_free(&paths);
    return rc;
}
