/*
 * cli.h - what every supertag command shares: the command table entry type,
 * global verbosity, and error printing in the form "supertag: <message>".
 *
 * Each command is one function cmd_<name>(argc, argv) in cmd_<name>.c,
 * receiving argv[0] = the command name. It returns the process exit code:
 * 0 success, 1 runtime failure, 2 usage error, 130 interrupted.
 */
#ifndef SUPERTAG_CLI_H
#define SUPERTAG_CLI_H

#include <stdio.h>

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_INTERRUPTED = 130 };

/** -q = -1, default 0, each -v adds 1. Set by main and by commands' own -v. */
extern int cli_verbosity;

/** Print "supertag: <fmt>\n" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** Print "supertag: warning: <fmt>\n" to stderr unless -q. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** Print "supertag: <resona_error_message()>" with a prefix; returns EXIT_RUNTIME. */
int cli_fail_lib(const char *what);
/** Route libresona's log to stderr according to cli_verbosity. */
void cli_install_log(void);

/** The original's formatBytes: "0 B", else one decimal and B/KB/MB/GB/TB (powers of 1024). */
void cli_format_bytes(unsigned long long bytes, char *out, size_t len);

/** Parse a non-negative integer option value strictly; -1 on error (message printed). */
long cli_parse_long(const char *option, const char *value, long min, long max);

#endif
