/*
 * main.c - the resona CLI: inspect, scan, search, append, delete and compact
 * Lance tables with libresona.
 */
#include "rcli.h"

#include <resona/common.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct rcli_command commands[] = {RESONA_CLI_COMMANDS};

void rcli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("resona: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int rcli_fail(void)
{
    rcli_error("%s", resona_error_message());
    return 1;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: resona <command> [options]\n\n"
                 "Inspect, scan, search, append to, delete from and compact Lance tables.\n\n"
                 "commands:\n");
    for (const struct rcli_command *c = commands; c->name; c++)
        fprintf(out, "  %-10s %s\n", c->name, c->summary);
    fprintf(out, "\n'resona <command> --help' for a command's options; -V for the version.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
        printf("resona %s\n", resona_version());
        return 0;
    }
    for (const struct rcli_command *c = commands; c->name; c++)
        if (!strcmp(c->name, argv[1]))
            return c->fn(argc - 1, argv + 1);
    rcli_error("unknown command '%s' (see 'resona --help')", argv[1]);
    return 2;
}
