/*
 * rcmd_delete.c - `resona delete TABLE --column id --values-file F`.
 */
#include "rcli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char delete_help[] =
    "usage: resona delete TABLE --column NAME --values-file FILE\n"
    "\n"
    "Delete every row of TABLE whose utf8 column NAME equals one of the values in\n"
    "FILE (one value per line, '-' = stdin; a trailing \\r is ignored, empty lines\n"
    "are skipped). Writes deletion files and commits ONE version (nothing when no\n"
    "row matches). Prints {\"version\":N,\"deleted\":N}.\n";

int rcmd_delete(int argc, char **argv)
{
    const char *path = NULL, *column = NULL, *file = NULL;
    for (int i = 1; i < argc; i++) {
        int m;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(delete_help, stdout);
            return 0;
        }
        if ((m = rcli_opt(argc, argv, &i, "--column", &column)) ||
            (m = rcli_opt(argc, argv, &i, "--values-file", &file))) {
            if (m < 0)
                return 2;
            continue;
        }
        if (argv[i][0] == '-' || path) {
            rcli_error("delete: unexpected argument '%s'", argv[i]);
            return 2;
        }
        path = argv[i];
    }
    if (!path || !column || !file) {
        fputs(delete_help, stderr);
        return 2;
    }
    FILE *in = strcmp(file, "-") ? fopen(file, "r") : stdin;
    if (!in) {
        rcli_error("delete: %s: %s", file, strerror(errno));
        return 1;
    }
    char **vals = NULL;
    size_t n = 0, cap = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    int rc = 1;
    resona_table *t = NULL;
    while ((len = getline(&line, &lcap, in)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            char **nv = realloc(vals, cap * sizeof(*nv));
            if (!nv)
                goto oom;
            vals = nv;
        }
        if (!(vals[n] = strdup(line)))
            goto oom;
        n++;
    }
    if (resona_table_open(path, NULL, &t) < 0) {
        rcli_fail();
        goto done;
    }
    uint64_t deleted = 0;
    if (resona_table_delete(t, column, (const char *const *)vals, n, &deleted) < 0) {
        rcli_fail();
        goto done;
    }
    printf("{\"version\":%llu,\"deleted\":%llu}\n", (unsigned long long)resona_table_version(t),
           (unsigned long long)deleted);
    rc = 0;
    goto done;
oom:
    rcli_error("out of memory");
done:
    if (in != stdin)
        fclose(in);
    free(line);
    for (size_t i = 0; i < n; i++)
        free(vals[i]);
    free(vals);
    resona_table_free(t);
    return rc;
}
