/*
 * rcmd_compact.c - `resona compact TABLE [--target-rows N] [--prune-days D]`.
 */
#include "rcli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char compact_help[] =
    "usage: resona compact TABLE [--target-rows N] [--prune-days D]\n"
    "\n"
    "Merge adjacent fragments smaller than N rows (default 1048576, like LanceDB)\n"
    "and rewrite fragments with more than 10% deleted rows, dropping deleted rows,\n"
    "as ONE new version (a Rewrite). Indices covering rewritten fragments are\n"
    "removed from the table's index section (LanceDB then scans; the original\n"
    "tool re-creates its id index). With --prune-days D, then remove versions older\n"
    "than D days (never the latest) and files no remaining version references\n"
    "(D may be fractional; 0 = everything but the latest version).\n"
    "Prints {\"version\":N,\"fragments_removed\":N,\"fragments_added\":N,\n"
    "        \"files_removed\":N,\"files_added\":N,\"versions_pruned\":N,\n"
    "        \"files_pruned\":N,\"bytes_pruned\":N}.\n";

int rcmd_compact(int argc, char **argv)
{
    const char *path = NULL, *target = NULL, *days = NULL;
    for (int i = 1; i < argc; i++) {
        int m;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(compact_help, stdout);
            return 0;
        }
        if ((m = rcli_opt(argc, argv, &i, "--target-rows", &target)) ||
            (m = rcli_opt(argc, argv, &i, "--prune-days", &days))) {
            if (m < 0)
                return 2;
            continue;
        }
        if (argv[i][0] == '-' || path) {
            rcli_error("compact: unexpected argument '%s'", argv[i]);
            return 2;
        }
        path = argv[i];
    }
    resona_compact_options co = RESONA_COMPACT_OPTIONS_INIT;
    double d = -1;
    if (!path || (target && (rcli_parse_u64(target, &co.target_rows) < 0 || !co.target_rows))) {
        rcli_error("compact: bad arguments (see 'resona compact --help')");
        return 2;
    }
    if (days) {
        char *end = NULL;
        d = strtod(days, &end);
        if (!end || *end || d < 0 || d > 1e6) {
            rcli_error("compact: bad --prune-days '%s'", days);
            return 2;
        }
    }
    resona_table *t = NULL;
    if (resona_table_open(path, NULL, &t) < 0)
        return rcli_fail();
    resona_compact_stats cs;
    resona_prune_stats ps;
    memset(&ps, 0, sizeof(ps));
    if (resona_table_compact(t, &co, &cs) < 0 ||
        (d >= 0 && resona_table_prune(t, (int64_t)(d * 86400.0), &ps) < 0)) {
        resona_table_free(t);
        return rcli_fail();
    }
    printf("{\"version\":%llu,\"fragments_removed\":%llu,\"fragments_added\":%llu,"
           "\"files_removed\":%llu,\"files_added\":%llu,\"versions_pruned\":%llu,"
           "\"files_pruned\":%llu,\"bytes_pruned\":%llu}\n",
           (unsigned long long)resona_table_version(t), (unsigned long long)cs.fragments_removed,
           (unsigned long long)cs.fragments_added, (unsigned long long)cs.files_removed,
           (unsigned long long)cs.files_added, (unsigned long long)ps.versions_removed,
           (unsigned long long)ps.files_removed, (unsigned long long)ps.bytes_removed);
    resona_table_free(t);
    return 0;
}
