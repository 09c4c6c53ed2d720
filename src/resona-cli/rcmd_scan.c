/*
 * rcmd_scan.c - `resona scan TABLE`: rows as JSON lines.
 */
#include "rcli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char scan_help[] =
    "usage: resona scan TABLE [--columns a,b] [--version N] [--limit N]\n"
    "\n"
    "Print the live rows of TABLE (deleted rows skipped) as JSON lines, one object\n"
    "per row, fragments in table order and rows in file order. Keys follow the\n"
    "schema order (also with --columns). Values: utf8 as JSON strings, float64 with\n"
    "%.17g, float32 with %.9g (both round-trip exactly), int64 as integers, bool as\n"
    "true/false, vectors as arrays of %.9g numbers, null as null (non-finite\n"
    "numbers also print as null).\n"
    "  --columns a,b   only these columns\n"
    "  --version N     read version N instead of the latest\n"
    "  --limit N       stop after N rows\n";

int rcmd_scan(int argc, char **argv)
{
    const char *path = NULL, *cols = NULL, *ver = NULL, *lim = NULL;
    for (int i = 1; i < argc; i++) {
        int m;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(scan_help, stdout);
            return 0;
        }
        if ((m = rcli_opt(argc, argv, &i, "--columns", &cols)) ||
            (m = rcli_opt(argc, argv, &i, "--version", &ver)) ||
            (m = rcli_opt(argc, argv, &i, "--limit", &lim))) {
            if (m < 0)
                return 2;
            continue;
        }
        if (argv[i][0] == '-' || path) {
            rcli_error("scan: unexpected argument '%s'", argv[i]);
            return 2;
        }
        path = argv[i];
    }
    uint64_t version = 0, limit = UINT64_MAX;
    if (!path || (ver && rcli_parse_u64(ver, &version) < 0) ||
        (lim && rcli_parse_u64(lim, &limit) < 0)) {
        rcli_error("scan: bad arguments (see 'resona scan --help')");
        return 2;
    }
    resona_open_options oo = RESONA_OPEN_OPTIONS_INIT;
    oo.at_version = version;
    resona_table *t = NULL;
    if (resona_table_open(path, &oo, &t) < 0)
        return rcli_fail();
    const char **names = NULL;
    size_t n = 0;
    if (rcli_columns(t, cols, &names, &n) < 0) {
        resona_table_free(t);
        return 1;
    }
    int rc = 0;
    resona_scan_options so = RESONA_SCAN_OPTIONS_INIT;
    so.columns = names;
    so.column_count = n;
    resona_scan *sc = NULL;
    const resona_schema *schema = resona_table_schema(t);
    const resona_field **fields = calloc(n ? n : 1, sizeof(*fields));
    if (!fields) {
        rcli_error("out of memory");
        rc = 1;
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        fields[i] = &schema->fields[resona_table_column_index(t, names[i])];
    if (resona_table_scan(t, &so, &sc) < 0) {
        rc = rcli_fail();
        goto done;
    }
    const resona_chunk *ch;
    uint64_t printed = 0;
    int r;
    while (printed < limit && (r = resona_scan_next(sc, &ch)) > 0) {
        for (size_t row = 0; row < ch->rows && printed < limit; row++, printed++) {
            putchar('{');
            for (size_t c = 0; c < n; c++) {
                if (c)
                    putchar(',');
                rcli_json_string(stdout, names[c], strlen(names[c]));
                putchar(':');
                rcli_json_value(stdout, fields[c], &ch->columns[c], row);
            }
            fputs("}\n", stdout);
        }
    }
    if (printed < limit && r < 0)
        rc = rcli_fail();
done:
    if (fflush(stdout) != 0 && rc == 0) {
        rcli_error("write error on standard output");
        rc = 1;
    }
    resona_scan_free(sc);
    free(fields);
    free(names);
    resona_table_free(t);
    return rc;
}
