/*
 * cmd_embed.c - `supertag embed <subcommand>`: dispatch through the table in
 * cmd_embed.h.
 */
#include "cmd_embed.h"

#include "cli.h"

#include <stdio.h>
#include <string.h>

static const struct embed_subcommand subcommands[] = {SUPERTAG_EMBED_SUBCOMMANDS};

static void usage(FILE *out)
{
    fputs("usage: supertag embed <subcommand> [options]\n\nsubcommands:\n", out);
    for (const struct embed_subcommand *s = subcommands; s->name; s++)
        fprintf(out, "  %-14s %s\n", s->name, s->summary);
    fputs("\n'supertag embed <subcommand> --help' for its options.\n", out);
}

int cmd_embed(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return EXIT_OK;
    }
    for (const struct embed_subcommand *s = subcommands; s->name; s++)
        if (!strcmp(s->name, argv[1]))
            return s->fn(argc - 1, argv + 1);
    cli_error("unknown embed subcommand '%s' (see 'supertag embed --help')", argv[1]);
    return EXIT_USAGE;
}
