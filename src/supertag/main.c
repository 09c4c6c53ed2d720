/*
 * main.c - the supertag entry point: global options, then dispatch to
 * cmd_<name>() for the command named first on the command line.
 */
#include "cli.h"
#include "commands.h"

#include <resona/common.h>

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

static const struct command commands[] = {SUPERTAG_COMMANDS};

static void usage(FILE *out)
{
    fprintf(out, "usage: supertag [-v|-q] <command> [options]\n\n"
                 "Tana export -> SQLite index -> local embeddings (Ollama) -> semantic search.\n\n"
                 "commands:\n");
    for (const struct command *c = commands; c->name; c++)
        fprintf(out, "  %-12s %s\n", c->name, c->summary);
    fprintf(out, "\nglobal options:\n"
                 "  -v, --verbose   more output (repeat for more)\n"
                 "  -q, --quiet     only errors\n"
                 "  -h, --help      this help; 'supertag <command> --help' for a command\n"
                 "  -V, --version   print the version\n");
}

int main(int argc, char **argv)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-v") || !strcmp(a, "--verbose"))
            cli_verbosity++;
        else if (!strcmp(a, "-q") || !strcmp(a, "--quiet"))
            cli_verbosity = -1;
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return EXIT_OK;
        } else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
            printf("supertag %s (libresona %s)\n", RESONA_VERSION, resona_version());
            return EXIT_OK;
        } else {
            cli_error("unknown option '%s' (see 'supertag --help')", a);
            return EXIT_USAGE;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    cli_install_log();
    /*
     * SQLite, before its first use: no connection is ever used by two
     * threads at once (sync writes node_checksums on a second connection
     * of its own), so the per-connection mutexes of the default serialized
     * mode are not needed, and without memory statistics sqlite3_malloc
     * takes no global mutex, which two writing threads would contend.
     */
    sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    for (const struct command *c = commands; c->name; c++)
        if (!strcmp(c->name, argv[i]))
            return c->fn(argc - i, argv + i);
    if (!strcmp(argv[i], "help")) {
        usage(stdout);
        return EXIT_OK;
    }
    cli_error("unknown command '%s' (see 'supertag --help')", argv[i]);
    return EXIT_USAGE;
}
