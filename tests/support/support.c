/*
 * support/support.c - test helpers (see support.h). Tests may use plain libc.
 */
#include "support.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

char *ts_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    assert_non_null(p);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

char *ts_tmpdir(const char *prefix)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    size_t n = strlen(base) + strlen(prefix) + 16;
    char *p = malloc(n);
    assert_non_null(p);
    snprintf(p, n, "%s/%s.XXXXXX", base, prefix);
    assert_non_null(mkdtemp(p));
    return p;
}

int ts_rmtree(const char *path)
{
    char *cmd = NULL;
    size_t n = strlen(path) + 32;
    cmd = malloc(n);
    if (!cmd)
        return -1;
    snprintf(cmd, n, "rm -rf '%s'", path);
    int rc = system(cmd);
    free(cmd);
    return rc == 0 ? 0 : -1;
}

char *ts_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, used = 0, got;
    char *data = malloc(cap);
    while (data && (got = fread(data + used, 1, cap - used - 1, f)) > 0) {
        used += got;
        if (used + 1 == cap) {
            char *p = realloc(data, cap * 2);
            if (!p) {
                free(data);
                data = NULL;
                break;
            }
            data = p;
            cap *= 2;
        }
    }
    fclose(f);
    if (!data)
        return NULL;
    data[used] = '\0';
    if (len)
        *len = used;
    return data;
}

int ts_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t put = fwrite(data, 1, len, f);
    int rc = fclose(f);
    return put == len && rc == 0 ? 0 : -1;
}

int ts_run(const char *cmdline, char **out)
{
    FILE *p = popen(cmdline, "r");
    if (!p)
        return -1;
    size_t cap = 4096, used = 0, got;
    char *data = malloc(cap);
    char scratch[4096];
    while ((got = fread(data ? data + used : scratch, 1, data ? cap - used - 1 : sizeof scratch,
                        p)) > 0) {
        if (!data)
            continue;
        used += got;
        if (used + 1 == cap) {
            char *q = realloc(data, cap * 2);
            if (!q) {
                free(data);
                data = NULL;
                continue;
            }
            data = q;
            cap *= 2;
        }
    }
    int status = pclose(p);
    if (data)
        data[used] = '\0';
    if (out)
        *out = data;
    else
        free(data);
    if (status == -1 || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

int ts_runf(char **out, const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof(cmd));
    return ts_run(cmd, out);
}

char *ts_fixture(const char *relpath)
{
    return ts_path(RESONA_FIXTURES_DIR, relpath);
}

const char *ts_env(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}
