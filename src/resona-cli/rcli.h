/*
 * rcli.h - shared plumbing of the resona CLI. Each command is
 * rcmd_<name>(argc, argv) in rcmd_<name>.c; exit 0 on success, 1 on error
 * (with a one-line message "resona: ..."), 2 on usage errors.
 */
#ifndef RESONA_CLI_H
#define RESONA_CLI_H

typedef int (*rcli_fn)(int argc, char **argv);

struct rcli_command {
    const char *name;
    rcli_fn fn;
    const char *summary;
};

/* Command declarations (rcmd_<name>.c). */

/* Rows: {"name", rcmd_name, "summary"}; keep sorted. */
#define RESONA_CLI_COMMANDS                                                                        \
    {NULL, NULL, NULL}

/** Print "resona: <fmt>" to stderr. */
void rcli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** Print "resona: <resona_error_message()>", return 1. */
int rcli_fail(void);

#endif
