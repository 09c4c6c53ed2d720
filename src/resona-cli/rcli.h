/*
 * rcli.h - shared plumbing of the resona CLI. Each command is
 * rcmd_<name>(argc, argv) in rcmd_<name>.c; exit 0 on success, 1 on error
 * (with a one-line message "resona: ..."), 2 on usage errors.
 */
#ifndef RESONA_CLI_H
#define RESONA_CLI_H

#include <resona/table.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef int (*rcli_fn)(int argc, char **argv);

struct rcli_command {
    const char *name;
    rcli_fn fn;
    const char *summary;
};

/* Command declarations (rcmd_<name>.c). */
int rcmd_append(int argc, char **argv);
int rcmd_compact(int argc, char **argv);
int rcmd_delete(int argc, char **argv);
int rcmd_info(int argc, char **argv);
int rcmd_scan(int argc, char **argv);
int rcmd_search(int argc, char **argv);

/* Rows: {"name", rcmd_name, "summary"}; keep sorted. */
#define RESONA_CLI_COMMANDS                                                                        \
    {"append", rcmd_append, "append JSON-lines rows (one fragment, one version)"},                 \
        {"compact", rcmd_compact, "merge small fragments, drop deleted rows, prune old versions"}, \
        {"delete", rcmd_delete, "delete rows whose column value is in a list"},                    \
        {"info", rcmd_info, "table version, rows, fragments, format, schema, indices (JSON)"},     \
        {"scan", rcmd_scan, "print rows as JSON lines"},                                           \
        {"search", rcmd_search, "exact nearest-neighbour search (JSON lines with _distance)"},     \
    {                                                                                              \
        NULL, NULL, NULL                                                                           \
    }

/** Print "resona: <fmt>" to stderr. */
void rcli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** Print "resona: <resona_error_message()>", return 1. */
int rcli_fail(void);

/* rcli_out.c: JSON output and small parsers. */
void rcli_json_string(FILE *out, const char *s, size_t len);
void rcli_json_f32(FILE *out, float v);
void rcli_json_f64(FILE *out, double v);
/** Row r of column c (of field f) as a JSON value. */
void rcli_json_value(FILE *out, const resona_field *f, const resona_column *c, size_t r);
/** Split "a,b,c" in place into names (at most max). 0 or -1. */
int rcli_split_columns(char *list, const char **names, size_t max, size_t *count);
/**
 * Option with a value: matches "--name VALUE" or "--name=VALUE" at argv[*i]
 * (advancing *i past the value). 1 matched, 0 not this option, -1 value missing.
 */
int rcli_opt(int argc, char **argv, int *i, const char *name, const char **value);
/** Columns to read, in schema order, from an optional "a,b" list. Caller frees *out. */
int rcli_columns(const resona_table *t, const char *list, const char ***out, size_t *count);
/** Parse a decimal u64. 0 or -1. */
int rcli_parse_u64(const char *s, uint64_t *out);

#endif
