/*
 * cmd_sync.c - `supertag sync [index]`: index a Tana export into the
 * workspace's SQLite index (sync/sync.h does the work).
 *
 *   supertag sync [index] [-w ALIAS] [--export FILE | --export-dir DIR]
 *                 [--db-path FILE] [--force]
 *
 * Without --export, the newest *@YYYY-MM-DD.json in the export directory
 * (--export-dir, else <data dir>/exports/<alias>) is used.
 */
#include "cli.h"
#include "commands.h"
#include "st_error.h"
#include "sync/sync.h"
#include "workspace.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: supertag sync [index] [-w ALIAS] [--export FILE | --export-dir DIR]\n"
            "                     [--db-path FILE] [--force]\n\n"
            "Index a Tana JSON export into the workspace's SQLite index (tana-index.db).\n"
            "The index is rebuilt in a temporary file and renamed into place, so a failed\n"
            "or interrupted sync keeps the previous index. An unchanged export is a no-op.\n\n"
            "options:\n"
            "  -w, --workspace ALIAS  workspace alias, nodeid or rootFileId (default: the\n"
            "                         configured default, else \"main\")\n"
            "  --export FILE          the export to index (default: the newest\n"
            "                         *@YYYY-MM-DD.json in the export directory)\n"
            "  --export-dir DIR       where to look for exports (default:\n"
            "                         <data dir>/exports/<alias>)\n"
            "  --db-path FILE         write this index instead of the workspace's\n"
            "  --force                rebuild even when nothing changed\n"
            "  -h, --help             this help\n");
}

static const char *arg_value(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        cli_error("option '%s' needs a value", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

int cmd_sync(int argc, char **argv)
{
    const char *ws_name = NULL, *export_file = NULL, *export_dir = NULL, *db_path = NULL;
    int force = 0;
    int i = 1;
    if (i < argc && strcmp(argv[i], "index") == 0)
        i++;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return EXIT_OK;
        } else if (!strcmp(a, "-w") || !strcmp(a, "--workspace")) {
            if (!(ws_name = arg_value(argc, argv, &i)))
                return EXIT_USAGE;
        } else if (!strcmp(a, "--export")) {
            if (!(export_file = arg_value(argc, argv, &i)))
                return EXIT_USAGE;
        } else if (!strcmp(a, "--export-dir")) {
            if (!(export_dir = arg_value(argc, argv, &i)))
                return EXIT_USAGE;
        } else if (!strcmp(a, "--db-path")) {
            if (!(db_path = arg_value(argc, argv, &i)))
                return EXIT_USAGE;
        } else if (!strcmp(a, "--force")) {
            force = 1;
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            cli_verbosity++;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            cli_verbosity = -1;
        } else {
            cli_error("unknown option '%s' (see 'supertag sync --help')", a);
            return EXIT_USAGE;
        }
    }
    if (export_file && export_dir) {
        cli_error("--export and --export-dir exclude each other");
        return EXIT_USAGE;
    }

    int ret = EXIT_RUNTIME;
    st_paths paths = {0};
    st_workspace ws = {0};
    char *found = NULL;
    const char *target_db = db_path;
    if (!db_path || (!export_file && !export_dir)) {
        if (st_paths_get(&paths) < 0 || st_workspace_resolve(&paths, ws_name, &ws) < 0) {
            cli_error("%s", st_error_message());
            goto done;
        }
        if (!db_path) {
            if (st_workspace_ensure_dir(&ws) < 0) {
                cli_error("%s", st_error_message());
                goto done;
            }
            target_db = ws.db_path;
        }
    }
    if (!export_file) {
        if (st_export_find_latest(export_dir ? export_dir : ws.export_dir, &found) < 0) {
            cli_error("%s", st_error_message());
            goto done;
        }
        export_file = found;
    }

    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    st_sync_opts opts = ST_SYNC_OPTS_INIT;
    opts.export_path = export_file;
    opts.db_path = target_db;
    opts.force = force;
    opts.stop = &stop_requested;
    st_sync_result res;
    int rc = st_sync_run(&opts, &res);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (rc == RESONA_EINTERRUPTED) {
        cli_error("interrupted; the previous index is unchanged");
        ret = EXIT_INTERRUPTED;
        goto done;
    }
    if (rc < 0) {
        cli_error("%s", st_error_message());
        cli_error("sync failed; the previous index (if any) is unchanged");
        goto done;
    }
    if (res.unchanged) {
        if (cli_verbosity >= 0)
            printf("Index is up to date: %zu nodes unchanged (%s)\n", res.counts.nodes, target_db);
    } else if (cli_verbosity >= 0) {
        printf("Indexed %s\n", export_file);
        printf("  database:         %s\n", target_db);
        printf("  nodes:            %zu (%zu added, %zu modified, %zu deleted)\n",
               res.counts.nodes, res.added, res.modified, res.deleted);
        printf("  supertags:        %zu\n", res.counts.supertags);
        printf("  fields:           %zu\n", res.counts.fields);
        printf("  references:       %zu\n", res.counts.references);
        printf("  tag applications: %zu\n", res.counts.tag_applications);
        printf("  field values:     %zu\n", res.counts.field_values);
        printf("  time:             %.2f s (read %.2f s, write %.2f s)\n",
               res.parse_seconds + res.write_seconds, res.parse_seconds, res.write_seconds);
    }
    ret = EXIT_OK;
done:
    free(found);
    st_workspace_free(&ws);
    st_paths_free(&paths);
    return ret;
}
