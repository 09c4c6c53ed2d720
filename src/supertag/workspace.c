/*
 * workspace.c - paths, config.json, workspace resolution and export
 * discovery (see workspace.h). config.json is held as a jtree (sync/jtree.h)
 * so that unknown keys and their order survive a rewrite.
 */
#include "workspace.h"

#include "st_error.h"
#include "sync/jtree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct st_config {
    jt_arena *arena;
    jt_val *root; /* always an object */
};

static char *join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *p = malloc(la + lb + 2);
    if (!p)
        return NULL;
    memcpy(p, a, la);
    p[la] = '/';
    memcpy(p + la + 1, b, lb + 1);
    return p;
}

static char *xdg_dir(const char *var, const char *home_rel)
{
    const char *v = getenv(var);
    if (v && v[0] == '/')
        return join(v, "supertag");
    const char *home = getenv("HOME");
    if (!home || home[0] != '/')
        return NULL;
    char *base = join(home, home_rel);
    char *d = base ? join(base, "supertag") : NULL;
    free(base);
    return d;
}

void st_paths_free(st_paths *p)
{
    free(p->config_dir);
    free(p->data_dir);
    free(p->cache_dir);
    free(p->config_file);
    free(p->workspaces_dir);
    free(p->exports_dir);
    memset(p, 0, sizeof(*p));
}

int st_paths_get(st_paths *out)
{
    memset(out, 0, sizeof(*out));
    out->config_dir = xdg_dir("XDG_CONFIG_HOME", ".config");
    out->data_dir = xdg_dir("XDG_DATA_HOME", ".local/share");
    out->cache_dir = xdg_dir("XDG_CACHE_HOME", ".cache");
    if (!out->config_dir || !out->data_dir || !out->cache_dir) {
        st_paths_free(out);
        return st_error_set(RESONA_EINVALID,
                            "cannot locate the configuration: set HOME (or XDG_CONFIG_HOME and "
                            "XDG_DATA_HOME) to an absolute directory");
    }
    out->config_file = join(out->config_dir, "config.json");
    out->workspaces_dir = join(out->data_dir, "workspaces");
    out->exports_dir = join(out->data_dir, "exports");
    if (!out->config_file || !out->workspaces_dir || !out->exports_dir) {
        st_paths_free(out);
        return st_error_set(RESONA_ENOMEM, "out of memory");
    }
    return 0;
}

/* mkdir -p with mode 0700 */
static int mkdirs(const char *path)
{
    char *p = strdup(path);
    if (!p)
        return st_error_set(RESONA_ENOMEM, "out of memory");
    int rc = 0;
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            if (mkdir(p, 0700) != 0 && errno != EEXIST) {
                rc = st_error_set_errno(RESONA_EIO, errno, "cannot create directory %s", p);
                break;
            }
            *s = c;
            if (c == '\0')
                break;
        }
    }
    free(p);
    return rc;
}

/* ---- config.json ------------------------------------------------------- */

void st_config_free(st_config *cfg)
{
    if (!cfg)
        return;
    jt_arena_free(cfg->arena);
    free(cfg);
}

int st_config_load(const char *path, st_config **out)
{
    st_config *cfg = calloc(1, sizeof(*cfg));
    char *text = NULL;
    int rc = 0;
    if (!cfg || !(cfg->arena = jt_arena_new(64u << 20))) {
        rc = st_error_set(RESONA_ENOMEM, "out of memory");
        goto done;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno != ENOENT) {
            rc = st_error_set_errno(RESONA_EIO, errno, "cannot read %s", path);
            goto done;
        }
        cfg->root = jt_new_object(cfg->arena);
        if (!cfg->root)
            rc = st_error_set(RESONA_ENOMEM, "out of memory");
        goto done;
    }
    size_t len = 0, cap = 0;
    for (;;) {
        if (cap - len < 65536) {
            if (cap > (16u << 20)) {
                fclose(f);
                rc = st_error_set(RESONA_EINVALID, "%s is larger than 16 MiB", path);
                goto done;
            }
            cap = cap ? cap * 2 : 65536 * 2;
            char *nt = realloc(text, cap);
            if (!nt) {
                fclose(f);
                rc = st_error_set(RESONA_ENOMEM, "out of memory");
                goto done;
            }
            text = nt;
        }
        size_t n = fread(text + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    fclose(f);
    char err[256];
    if (jt_parse(cfg->arena, text, len, 64, &cfg->root, err, sizeof(err)) < 0) {
        rc = st_error_set(RESONA_ECORRUPT, "%s: %s", path, err);
        goto done;
    }
    if (cfg->root->type != JT_OBJECT)
        rc = st_error_set(RESONA_ECORRUPT, "%s: the top level is not a JSON object", path);
done:
    free(text);
    if (rc < 0) {
        st_config_free(cfg);
        cfg = NULL;
    }
    *out = cfg;
    return rc;
}

static jt_val *lookup(const st_config *cfg, const char *const *keys)
{
    jt_val *v = cfg->root;
    for (; v && *keys; keys++)
        v = jt_get(v, *keys);
    return v;
}

const char *st_config_get_string(const st_config *cfg, const char *const *keys)
{
    jt_val *v = lookup(cfg, keys);
    return (v && v->type == JT_STRING) ? v->u.str.s : NULL;
}

static int set_value(st_config *cfg, const char *const *keys, jt_val *val)
{
    if (!val)
        return st_error_set(RESONA_ENOMEM, "out of memory");
    jt_val *obj = cfg->root;
    for (; keys[1]; keys++) {
        jt_val *next = jt_get(obj, keys[0]);
        if (!next || next->type != JT_OBJECT) {
            next = jt_new_object(cfg->arena);
            if (!next || jt_object_set(cfg->arena, obj, keys[0], next) < 0)
                return st_error_set(RESONA_ENOMEM, "out of memory");
        }
        obj = next;
    }
    if (jt_object_set(cfg->arena, obj, keys[0], val) < 0)
        return st_error_set(RESONA_ENOMEM, "out of memory");
    return 0;
}

int st_config_set_string(st_config *cfg, const char *const *keys, const char *value)
{
    return set_value(cfg, keys, jt_new_string(cfg->arena, value));
}

int st_config_set_bool(st_config *cfg, const char *const *keys, int value)
{
    return set_value(cfg, keys, jt_new_bool(cfg->arena, value));
}

int st_config_remove(st_config *cfg, const char *const *keys)
{
    jt_val *obj = cfg->root;
    for (; obj && keys[1]; keys++)
        obj = jt_get(obj, keys[0]);
    if (obj && obj->type == JT_OBJECT)
        jt_object_remove(obj, keys[0]);
    return 0;
}

int st_config_save(const st_config *cfg, const char *path)
{
    jt_out out = {0};
    char *dir = strdup(path), *tmp = NULL;
    int rc = 0, fd = -1;
    if (!dir) {
        rc = st_error_set(RESONA_ENOMEM, "out of memory");
        goto done;
    }
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if ((rc = mkdirs(dir)) < 0)
            goto done;
    }
    if (jt_write(&out, cfg->root, 2) < 0) {
        rc = st_error_set(RESONA_ENOMEM, "out of memory");
        goto done;
    }
    size_t tl = strlen(path) + 16;
    tmp = malloc(tl);
    if (!tmp) {
        rc = st_error_set(RESONA_ENOMEM, "out of memory");
        goto done;
    }
    snprintf(tmp, tl, "%s.tmp.%ld", path, (long)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = st_error_set_errno(RESONA_EIO, errno, "cannot write %s", tmp);
        goto done;
    }
    size_t off = 0;
    while (off < out.len) {
        ssize_t n = write(fd, out.ptr + off, out.len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = st_error_set_errno(RESONA_EIO, errno, "cannot write %s", tmp);
            goto done;
        }
        off += (size_t)n;
    }
    if (fsync(fd) != 0) {
        rc = st_error_set_errno(RESONA_EIO, errno, "cannot write %s", tmp);
        goto done;
    }
    close(fd);
    fd = -1;
    if (rename(tmp, path) != 0)
        rc = st_error_set_errno(RESONA_EIO, errno, "cannot replace %s", path);
done:
    if (fd >= 0)
        close(fd);
    if (rc < 0 && tmp)
        unlink(tmp);
    free(tmp);
    free(dir);
    jt_out_free(&out);
    return rc;
}

int st_config_add_workspace(st_config *cfg, const char *alias, const char *root_file_id,
                            const char *nodeid, const char *name, int enabled)
{
    jt_val *ws = jt_new_object(cfg->arena);
    if (!ws)
        return st_error_set(RESONA_ENOMEM, "out of memory");
    int rc = 0;
    jt_val *v;
    if ((v = jt_new_string(cfg->arena, root_file_id)) == NULL ||
        jt_object_set(cfg->arena, ws, "rootFileId", v) < 0)
        rc = -1;
    if (!rc && nodeid &&
        ((v = jt_new_string(cfg->arena, nodeid)) == NULL ||
         jt_object_set(cfg->arena, ws, "nodeid", v) < 0))
        rc = -1;
    if (!rc && name &&
        ((v = jt_new_string(cfg->arena, name)) == NULL ||
         jt_object_set(cfg->arena, ws, "name", v) < 0))
        rc = -1;
    if (!rc && ((v = jt_new_bool(cfg->arena, enabled)) == NULL ||
                jt_object_set(cfg->arena, ws, "enabled", v) < 0))
        rc = -1;
    if (rc)
        return st_error_set(RESONA_ENOMEM, "out of memory");
    const char *const wkeys[] = {"workspaces", alias, NULL};
    if ((rc = set_value(cfg, wkeys, ws)) < 0)
        return rc;
    const char *const dkey[] = {"defaultWorkspace", NULL};
    if (!st_config_get_string(cfg, dkey))
        return st_config_set_string(cfg, dkey, alias);
    return 0;
}

size_t st_config_workspace_count(const st_config *cfg)
{
    jt_val *w = jt_get(cfg->root, "workspaces");
    return (w && w->type == JT_OBJECT) ? w->u.obj.count : 0;
}

const char *st_config_workspace_alias(const st_config *cfg, size_t i)
{
    jt_val *w = jt_get(cfg->root, "workspaces");
    if (!w || w->type != JT_OBJECT || i >= w->u.obj.count)
        return NULL;
    return w->u.obj.members[i].key;
}

/* ---- workspaces -------------------------------------------------------- */

int st_workspace_alias_valid(const char *alias)
{
    size_t n = strlen(alias);
    if (n == 0 || n > 64 || alias[0] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = alias[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return 0;
    }
    return 1;
}

void st_workspace_free(st_workspace *ws)
{
    free(ws->alias);
    free(ws->root_file_id);
    free(ws->nodeid);
    free(ws->name);
    free(ws->dir);
    free(ws->db_path);
    free(ws->lance_path);
    free(ws->lance_table);
    free(ws->schema_path);
    free(ws->export_dir);
    memset(ws, 0, sizeof(*ws));
}

static char *dup_str(const jt_val *v)
{
    return (v && v->type == JT_STRING) ? strdup(v->u.str.s) : NULL;
}

int st_workspace_resolve(const st_paths *paths, const char *target, st_workspace *out)
{
    st_config *cfg = NULL;
    memset(out, 0, sizeof(*out));
    int rc = st_config_load(paths->config_file, &cfg);
    if (rc < 0)
        return rc;
    const char *const dkey[] = {"defaultWorkspace", NULL};
    const char *def = st_config_get_string(cfg, dkey);
    if (!target)
        target = def ? def : ST_DEFAULT_WORKSPACE;
    jt_val *wss = jt_get(cfg->root, "workspaces");
    const char *alias = NULL;
    jt_val *ws = NULL;
    if (wss && wss->type == JT_OBJECT) {
        ws = jt_get(wss, target);
        if (ws)
            alias = target;
        for (size_t i = 0; !ws && i < wss->u.obj.count; i++) {
            jt_val *w = wss->u.obj.members[i].val;
            if (jt_streq(jt_get(w, "nodeid"), target) || jt_streq(jt_get(w, "rootFileId"), target)) {
                ws = w;
                alias = wss->u.obj.members[i].key;
            }
        }
    }
    if (!ws) {
        char avail[512] = "";
        size_t n = st_config_workspace_count(cfg), used = 0;
        for (size_t i = 0; i < n && used + 2 < sizeof(avail); i++)
            used += (size_t)snprintf(avail + used, sizeof(avail) - used, "%s%s", i ? ", " : "",
                                     st_config_workspace_alias(cfg, i));
        if (n)
            rc = st_error_set(RESONA_ENOTFOUND, "Workspace not found: %s\nAvailable: %s", target,
                              avail);
        else
            rc = st_error_set(RESONA_ENOTFOUND, "Workspace not found: %s\nNo workspaces configured.",
                              target);
        goto done;
    }
    if (!st_workspace_alias_valid(alias)) {
        rc = st_error_set(RESONA_EINVALID, "workspace alias '%s' cannot be used as a directory name",
                          alias);
        goto done;
    }
    out->alias = strdup(alias);
    out->root_file_id = dup_str(jt_get(ws, "rootFileId"));
    out->nodeid = dup_str(jt_get(ws, "nodeid"));
    out->name = dup_str(jt_get(ws, "name"));
    jt_val *en = jt_get(ws, "enabled");
    out->enabled = !(en && en->type == JT_FALSE);
    out->is_default = def && strcmp(def, alias) == 0;
    out->dir = join(paths->workspaces_dir, alias);
    out->db_path = out->dir ? join(out->dir, ST_INDEX_DB_NAME) : NULL;
    out->lance_path = out->dir ? join(out->dir, ST_LANCE_DIR_NAME) : NULL;
    out->lance_table = strdup(ST_LANCE_TABLE_NAME);
    out->schema_path = out->dir ? join(out->dir, ST_SCHEMA_CACHE_NAME) : NULL;
    out->export_dir = join(paths->exports_dir, alias);
    if (!out->alias || !out->dir || !out->db_path || !out->lance_path || !out->lance_table ||
        !out->schema_path || !out->export_dir)
        rc = st_error_set(RESONA_ENOMEM, "out of memory");
done:
    if (rc < 0)
        st_workspace_free(out);
    st_config_free(cfg);
    return rc;
}

int st_workspace_ensure_dir(const st_workspace *ws)
{
    return mkdirs(ws->dir);
}

/* ---- exports ----------------------------------------------------------- */

int st_export_name_matches(const char *name)
{
    /* "@YYYY-MM-DD.json" at the end */
    size_t n = strlen(name);
    if (n < 16)
        return 0;
    const char *s = name + n - 16;
    static const char pat[] = "@dddd-dd-dd.json";
    for (size_t i = 0; i < 16; i++) {
        if (pat[i] == 'd') {
            if (s[i] < '0' || s[i] > '9')
                return 0;
        } else if (s[i] != pat[i]) {
            return 0;
        }
    }
    return 1;
}

int st_export_find_latest(const char *dir, char **out)
{
    *out = NULL;
    DIR *d = opendir(dir);
    if (!d)
        return st_error_set_errno(RESONA_ENOTFOUND, errno, "no export directory %s", dir);
    char *best = NULL;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d))) {
        if (!st_export_name_matches(e->d_name))
            continue;
        if (!best || strcmp(e->d_name, best) > 0) {
            char *nb = strdup(e->d_name);
            if (!nb) {
                rc = st_error_set(RESONA_ENOMEM, "out of memory");
                break;
            }
            free(best);
            best = nb;
        }
    }
    closedir(d);
    if (rc == 0 && !best)
        rc = st_error_set(RESONA_ENOTFOUND, "no export (*@YYYY-MM-DD.json) in %s", dir);
    if (rc == 0) {
        *out = join(dir, best);
        if (!*out)
            rc = st_error_set(RESONA_ENOMEM, "out of memory");
    }
    free(best);
    return rc;
}
