/*
 * embed_cmds.h - the `embed` subcommands stats, filter-stats, maintain and
 * config, dispatched by cmd_embed.c. Each receives argv[0] = the subcommand
 * name and returns the exit code (cli.h).
 */
#ifndef SUPERTAG_EMBED_CMDS_H
#define SUPERTAG_EMBED_CMDS_H

/** `embed maintain`: stale-row removal, compaction, version pruning (embed_maintain.c). */
int cmd_embed_maintain(int argc, char **argv);

/** `embed config`: show or set model and endpoint in config.json (embed_config.c). */
int cmd_embed_config(int argc, char **argv);

/** `embed stats`: coverage, filter and entity counts, table health (embed_stats.c). */
int cmd_embed_stats(int argc, char **argv);

/** `embed filter-stats`: default content filter and docType counts (embed_stats.c). */
int cmd_embed_filter_stats(int argc, char **argv);

#endif
