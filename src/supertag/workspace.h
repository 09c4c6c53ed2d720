/*
 * workspace.h - where supertag keeps its files, and which workspace a
 * command works on. Every command that needs the index, the Lance table or
 * config.json goes through here, so the paths are the original tool's:
 *
 *   config dir      $XDG_CONFIG_HOME/supertag      (default ~/.config/supertag)
 *   data dir        $XDG_DATA_HOME/supertag        (default ~/.local/share/supertag)
 *   cache dir       $XDG_CACHE_HOME/supertag       (default ~/.cache/supertag)
 *   config file     <config dir>/config.json
 *   workspace dir   <data dir>/workspaces/<alias>/
 *   SQLite index    <workspace dir>/tana-index.db
 *   Lance database  <workspace dir>/tana-index.lance/       (the .db path, .db -> .lance)
 *   Lance table     <workspace dir>/tana-index.lance/embeddings.lance/   (table "embeddings")
 *   schema cache    <workspace dir>/schema-registry.json
 *   export dir      <data dir>/exports/<alias>/            (Linux layout)
 *
 * Only the environment decides the paths (XDG_CONFIG_HOME, XDG_DATA_HOME,
 * XDG_CACHE_HOME, HOME), so tests point them at a temporary directory and
 * never touch the real home. Directories are created with mode 0700.
 *
 * Workspace resolution (as the original's embed commands and search do):
 *   1. the target is -w/--workspace, else config "defaultWorkspace", else "main";
 *   2. config "workspaces"[target] if it exists;
 *   3. else the workspace whose "nodeid" or "rootFileId" equals the target;
 *   4. else RESONA_ENOTFOUND, message "Workspace not found: <target>" followed
 *      by "\nAvailable: a, b" or "\nNo workspaces configured.".
 *
 * config.json is read and rewritten as a whole (2-space indentation like the
 * original's JSON.stringify(config, null, 2)); keys this program does not
 * know are kept as they were, in their order.
 *
 * Errors: 0 or a negative RESONA_E* code, message in st_error_message()
 * (st_error.h). Nothing here prints. Not thread-safe against concurrent
 * writers of config.json (the last save wins), like the original.
 */
#ifndef SUPERTAG_WORKSPACE_H
#define SUPERTAG_WORKSPACE_H

#include <stddef.h>

/** File and directory names inside a workspace directory. */
#define ST_INDEX_DB_NAME "tana-index.db"
#define ST_LANCE_DIR_NAME "tana-index.lance"
#define ST_LANCE_TABLE_NAME "embeddings"
#define ST_SCHEMA_CACHE_NAME "schema-registry.json"
#define ST_DEFAULT_WORKSPACE "main"

/** The base directories, all absolute, owned by the struct (st_paths_free). */
typedef struct st_paths {
    char *config_dir;     /**< $XDG_CONFIG_HOME/supertag */
    char *data_dir;       /**< $XDG_DATA_HOME/supertag */
    char *cache_dir;      /**< $XDG_CACHE_HOME/supertag */
    char *config_file;    /**< <config dir>/config.json */
    char *workspaces_dir; /**< <data dir>/workspaces */
    char *exports_dir;    /**< <data dir>/exports */
} st_paths;

/**
 * Fill *out from the environment. RESONA_EINVALID when neither the XDG
 * variable nor HOME gives an absolute directory. Creates nothing.
 * On failure *out is left empty (safe to st_paths_free).
 */
int st_paths_get(st_paths *out);
void st_paths_free(st_paths *paths);

/** A resolved workspace: every string owned by the struct (st_workspace_free). */
typedef struct st_workspace {
    char *alias;        /**< the key in config "workspaces" */
    char *root_file_id; /**< "rootFileId", NULL if absent */
    char *nodeid;       /**< "nodeid", NULL if absent */
    char *name;         /**< "name", NULL if absent */
    int enabled;        /**< "enabled" (default 1) */
    int is_default;     /**< alias == config "defaultWorkspace" */
    char *dir;          /**< <data dir>/workspaces/<alias> */
    char *db_path;      /**< <dir>/tana-index.db */
    char *lance_path;   /**< <dir>/tana-index.lance (LanceDB database directory) */
    char *lance_table;  /**< "embeddings" (table name inside lance_path) */
    char *schema_path;  /**< <dir>/schema-registry.json */
    char *export_dir;   /**< <data dir>/exports/<alias> */
} st_workspace;

/**
 * Resolve `target` (the -w/--workspace value, or NULL for the default) with
 * the rules above, reading config.json from `paths` (a missing file is an
 * empty config). RESONA_ENOTFOUND with the original's message when no
 * workspace matches; RESONA_ECORRUPT when config.json is not valid JSON.
 * On failure *out is left empty.
 */
int st_workspace_resolve(const st_paths *paths, const char *target, st_workspace *out);
void st_workspace_free(st_workspace *ws);

/**
 * Create <dir> (and parents) with mode 0700 if missing. For commands that
 * write into a workspace (sync, embed generate).
 */
int st_workspace_ensure_dir(const st_workspace *ws);

/** An alias is 1-64 characters of [A-Za-z0-9_.-], not starting with '.'. */
int st_workspace_alias_valid(const char *alias);

/* ---- config.json ------------------------------------------------------- */

/** config.json in memory (opaque). */
typedef struct st_config st_config;

/**
 * Read config.json at `path`. A missing file gives an empty object
 * (RESONA_OK); invalid JSON or a top level that is not an object gives
 * RESONA_ECORRUPT naming the file and byte offset. Caller frees with
 * st_config_free.
 */
int st_config_load(const char *path, st_config **out);
void st_config_free(st_config *cfg);

/**
 * The string at a key path, e.g. {"embeddings", "model", NULL}; NULL when a
 * key is missing or the value is not a string. Borrowed from cfg.
 */
const char *st_config_get_string(const st_config *cfg, const char *const *keys);

/**
 * Set the string at a key path, creating intermediate objects (replacing
 * non-object values on the way). Keeps the key's position if it exists,
 * else appends it. RESONA_ENOMEM.
 */
int st_config_set_string(st_config *cfg, const char *const *keys, const char *value);

/** Set a boolean at a key path (same rules as st_config_set_string). */
int st_config_set_bool(st_config *cfg, const char *const *keys, int value);

/** Remove the key at a key path if present (0 either way). */
int st_config_remove(st_config *cfg, const char *const *keys);

/**
 * Write cfg to `path` atomically (temporary file + rename), 2-space
 * indentation, mode 0600, creating the directory (0700) if needed.
 */
int st_config_save(const st_config *cfg, const char *path);

/**
 * Add or replace workspace `alias` in cfg (the original's `workspace add`):
 * {"rootFileId", "nodeid"?, "name"?, "enabled"}; the first workspace added
 * becomes "defaultWorkspace" when none is set. Does not save.
 */
int st_config_add_workspace(st_config *cfg, const char *alias, const char *root_file_id,
                            const char *nodeid, const char *name, int enabled);

/** Number of workspaces in cfg and the alias of the i-th (config order). */
size_t st_config_workspace_count(const st_config *cfg);
const char *st_config_workspace_alias(const st_config *cfg, size_t i);

/* ---- exports ------------------------------------------------------------ */

/**
 * The newest export in `dir`: among the files whose name ends in
 * "@YYYY-MM-DD.json", the greatest name in byte order (the original sorts the
 * names in reverse and takes the first). *out is "<dir>/<name>", caller
 * frees with free(). RESONA_ENOTFOUND when the directory is missing or has no
 * such file (message names the directory).
 */
int st_export_find_latest(const char *dir, char **out);

/** True if `name` (a file name, not a path) matches "*@YYYY-MM-DD.json". */
int st_export_name_matches(const char *name);

#endif
