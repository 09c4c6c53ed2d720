/*
 * cmd_embed.h - `supertag embed <subcommand>`: the subcommand table.
 *
 * Each subcommand is one function embed_<name>(argc, argv) receiving
 * argv[0] = the subcommand name, returning the exit code (cli.h). Add a
 * subcommand by declaring it here and adding its row to
 * SUPERTAG_EMBED_SUBCOMMANDS (rows sorted by name); cmd_embed.c dispatches
 * and lists them in `supertag embed --help`.
 */
#ifndef SUPERTAG_CMD_EMBED_H
#define SUPERTAG_CMD_EMBED_H

#include "embed_cmds.h"

/** `supertag embed ...` (the command of commands.h). */
int cmd_embed(int argc, char **argv);

/** `embed generate` (cmd_embed_generate.c). */
int embed_generate(int argc, char **argv);
/* stats, filter-stats, maintain, config: embed_cmds.h (embed_*.c). */

struct embed_subcommand {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

/* Rows: {"name", embed_name, "one-line summary"}. NULL-terminated. */
#define SUPERTAG_EMBED_SUBCOMMANDS                                                                 \
    {"config", cmd_embed_config, "show or set the embedding model and endpoint (config.json)"},    \
    {"filter-stats", cmd_embed_filter_stats, "what the node selection filters keep and drop"},     \
    {"generate", embed_generate, "embed the selected nodes into the workspace's Lance table"},     \
    {"maintain", cmd_embed_maintain, "compact the table, prune old versions, remove stale rows"},  \
    {"stats", cmd_embed_stats, "rows, coverage, fragments, versions, disk size, model, format"},   \
    {                                                                                              \
        NULL, NULL, NULL                                                                           \
    }

#endif
