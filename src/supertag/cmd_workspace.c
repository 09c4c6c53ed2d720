/*
 * cmd_workspace.c - `supertag workspace add|list`: the workspaces in
 * config.json, as the original's `workspace` command manages them.
 *
 *   supertag workspace add <rootFileId> [-a|--alias A] [-n|--name N] [--nodeid ID] [--disabled]
 *   supertag workspace list [--json]
 */
#include "cli.h"
#include "commands.h"
#include "st_error.h"
#include "workspace.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void usage(FILE *out)
{
    fprintf(out, "usage: supertag workspace add <rootFileId> [-a|--alias ALIAS] [-n|--name NAME]\n"
                 "                              [--nodeid ID] [--disabled]\n"
                 "       supertag workspace list [--json]\n\n"
                 "Manage the workspaces in config.json. Each workspace keeps its index in\n"
                 "<data dir>/workspaces/<alias>/tana-index.db.\n");
}

static int ws_add(int argc, char **argv, const st_paths *paths)
{
    const char *root = NULL, *alias = NULL, *name = NULL, *nodeid = NULL;
    int enabled = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((!strcmp(a, "-a") || !strcmp(a, "--alias") || !strcmp(a, "-n") ||
             !strcmp(a, "--name") || !strcmp(a, "--nodeid")) &&
            i + 1 >= argc) {
            cli_error("option '%s' needs a value", a);
            return EXIT_USAGE;
        }
        if (!strcmp(a, "-a") || !strcmp(a, "--alias"))
            alias = argv[++i];
        else if (!strcmp(a, "-n") || !strcmp(a, "--name"))
            name = argv[++i];
        else if (!strcmp(a, "--nodeid"))
            nodeid = argv[++i];
        else if (!strcmp(a, "--disabled"))
            enabled = 0;
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return EXIT_OK;
        } else if (a[0] == '-') {
            cli_error("unknown option '%s' (see 'supertag workspace --help')", a);
            return EXIT_USAGE;
        } else if (!root)
            root = a;
        else {
            cli_error("unexpected argument '%s'", a);
            return EXIT_USAGE;
        }
    }
    if (!root) {
        cli_error("workspace add needs a rootFileId");
        return EXIT_USAGE;
    }
    if (!alias)
        alias = root;
    if (!st_workspace_alias_valid(alias)) {
        cli_error("invalid alias '%s' (use 1-64 characters of A-Z a-z 0-9 _ . -)", alias);
        return EXIT_USAGE;
    }
    st_config *cfg = NULL;
    const char *const dkey[] = {"defaultWorkspace", NULL};
    if (st_config_load(paths->config_file, &cfg) < 0) {
        cli_error("%s", st_error_message());
        return EXIT_RUNTIME;
    }
    int had_default = st_config_get_string(cfg, dkey) != NULL;
    if (st_config_add_workspace(cfg, alias, root, nodeid, name, enabled) < 0 ||
        st_config_save(cfg, paths->config_file) < 0) {
        cli_error("%s", st_error_message());
        st_config_free(cfg);
        return EXIT_RUNTIME;
    }
    st_config_free(cfg);
    printf("Added workspace \"%s\"\n", alias);
    printf("  rootFileId: %s\n", root);
    if (nodeid)
        printf("  nodeid: %s\n", nodeid);
    if (name)
        printf("  name: %s\n", name);
    printf("  enabled: %s\n", enabled ? "true" : "false");
    printf("  data dir: %s/%s\n", paths->workspaces_dir, alias);
    if (!had_default)
        printf("\nSet as default workspace\n");
    return EXIT_OK;
}

static int ws_list(int argc, char **argv, const st_paths *paths)
{
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return EXIT_OK;
        } else {
            cli_error("unknown option '%s' (see 'supertag workspace --help')", argv[i]);
            return EXIT_USAGE;
        }
    }
    st_config *cfg = NULL;
    if (st_config_load(paths->config_file, &cfg) < 0) {
        cli_error("%s", st_error_message());
        return EXIT_RUNTIME;
    }
    size_t n = st_config_workspace_count(cfg);
    if (n == 0 && !json) {
        printf("No workspaces configured.\n\nAdd one:\n  supertag workspace add <rootFileId> "
               "--alias <name>\n");
        st_config_free(cfg);
        return EXIT_OK;
    }
    if (json)
        printf("[");
    else
        printf("Configured workspaces:\n\n");
    for (size_t i = 0; i < n; i++) {
        st_workspace ws;
        if (st_workspace_resolve(paths, st_config_workspace_alias(cfg, i), &ws) < 0) {
            cli_warn("%s", st_error_message());
            continue;
        }
        struct stat sb;
        int exists = stat(ws.db_path, &sb) == 0;
        if (json) {
            printf("%s\n  {\"alias\": \"%s\", \"rootFileId\": \"%s\", \"enabled\": %s, "
                   "\"isDefault\": %s, \"database\": \"%s\", \"synced\": %s}",
                   i ? "," : "", ws.alias, ws.root_file_id ? ws.root_file_id : "",
                   ws.enabled ? "true" : "false", ws.is_default ? "true" : "false", ws.db_path,
                   exists ? "true" : "false");
        } else {
            printf("  %s %s%s%s%s%s\n", ws.enabled ? "●" : "○", ws.alias, ws.name ? " (" : "",
                   ws.name ? ws.name : "", ws.name ? ")" : "", ws.is_default ? " [default]" : "");
            printf("      rootFileId: %s\n", ws.root_file_id ? ws.root_file_id : "");
            if (ws.nodeid)
                printf("      nodeid: %s\n", ws.nodeid);
            printf("      database: %s\n\n", exists ? "exists" : "not synced");
        }
        st_workspace_free(&ws);
    }
    if (json)
        printf("\n]\n");
    st_config_free(cfg);
    return EXIT_OK;
}

int cmd_workspace(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    st_paths paths;
    if (st_paths_get(&paths) < 0) {
        cli_error("%s", st_error_message());
        return EXIT_RUNTIME;
    }
    int rc;
    if (!strcmp(argv[1], "add"))
        rc = ws_add(argc - 1, argv + 1, &paths);
    else if (!strcmp(argv[1], "list"))
        rc = ws_list(argc - 1, argv + 1, &paths);
    else {
        cli_error("unknown workspace command '%s' (add, list)", argv[1]);
        rc = EXIT_USAGE;
    }
    st_paths_free(&paths);
    return rc;
}
