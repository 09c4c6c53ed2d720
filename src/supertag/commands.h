/*
 * commands.h - the supertag command table. One row per command; each
 * command lives in cmd_<name>.c. Add a command by adding its declaration
 * and its row here (keep rows sorted by name).
 */
#ifndef SUPERTAG_COMMANDS_H
#define SUPERTAG_COMMANDS_H

typedef int (*command_fn)(int argc, char **argv);

struct command {
    const char *name;
    command_fn fn;
    const char *summary;
};

/* Declarations of the commands (cmd_<name>.c). */
int cmd_embed(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_sync(int argc, char **argv);
int cmd_workspace(int argc, char **argv);

/* Rows: {"name", cmd_name, "one-line summary"}. NULL-terminated. */
/* clang-format off */
#define SUPERTAG_COMMANDS                                                                          \
    {"embed", cmd_embed, "embeddings: generate, stats, maintain, config (see 'supertag embed --help')"}, \
    {"search", cmd_search, "semantic search over the workspace's embeddings (--semantic)"},        \
    {"sync", cmd_sync, "index a Tana export into the workspace's SQLite index"},                    \
    {"workspace", cmd_workspace, "add or list workspaces (config.json)"},                         \
    {NULL, NULL, NULL}
/* clang-format on */

#endif
