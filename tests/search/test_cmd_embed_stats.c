/*
 * search/test_cmd_embed_stats.c - `embed stats` and `embed filter-stats` on
 * the original's workspace equal the original's golden output, except the
 * two lines where the original is wrong (15.13: Fragments counted as 0;
 * 12.4: "Minimum length: 15" while the numbers use 3).
 */
#include "support.h"

#include "embed_cmds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *capture(int (*fn)(int, char **), int argc, char **argv, int *rc)
{
    char tmpl[] = "/tmp/embed-stats-out.XXXXXX";
    int fd = mkstemp(tmpl);
    assert_true(fd >= 0);
    fflush(stdout);
    int saved = dup(1);
    dup2(fd, 1);
    *rc = fn(argc, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    close(fd);
    char *out = ts_read_file(tmpl, NULL);
    unlink(tmpl);
    return out;
}

/* Replace every occurrence of `from` in s by `to` (to shorter than from). */
static void replace_all(char *s, const char *from, const char *to)
{
    size_t fl = strlen(from), tl = strlen(to);
    char *p;
    while ((p = strstr(s, from))) {
        memcpy(p, to, tl);
        memmove(p + tl, p + fl, strlen(p + fl) + 1);
    }
}

static void test_golden(void **state)
{
    (void)state;
    char *dir = ts_tmpdir("embed-stats");
    unsetenv("XDG_CONFIG_HOME");
    unsetenv("XDG_DATA_HOME");
    unsetenv("XDG_CACHE_HOME");
    setenv("HOME", dir, 1);
    char *src = ts_fixture("original-workspace");
    char cmd[4096];
    snprintf(cmd, sizeof(cmd),
             "mkdir -p '%s/.local/share/supertag/workspaces/main' '%s/.config/supertag' && "
             "cp -r '%s/.' '%s/.local/share/supertag/workspaces/main/' && "
             "printf '{\"workspaces\": {\"main\": {\"rootFileId\": \"r\"}}}' "
             "> '%s/.config/supertag/config.json'",
             dir, dir, src, dir, dir);
    assert_int_equal(ts_run(cmd, NULL), 0);
    int rc;
    char *argv[] = {"stats", NULL};
    char *out = capture(cmd_embed_stats, 1, argv, &rc);
    assert_int_equal(rc, 0);
    replace_all(out, dir, "~");
    char *gpath = ts_fixture("golden/sample-embed-stats.txt");
    char *golden = ts_read_file(gpath, NULL);
    replace_all(golden, "  Fragments:     0\n", "  Fragments:     2\n");
    assert_string_equal(out, golden);
    free(out);
    free(golden);
    free(gpath);

    char *fargv[] = {"filter-stats", NULL};
    out = capture(cmd_embed_filter_stats, 1, fargv, &rc);
    assert_int_equal(rc, 0);
    gpath = ts_fixture("golden/sample-embed-filter-stats.txt");
    golden = ts_read_file(gpath, NULL);
    replace_all(golden, "Minimum length: 15 characters", "Minimum length: 3 characters");
    assert_string_equal(out, golden);
    free(out);
    free(golden);
    free(gpath);

    /* no embeddings yet */
    snprintf(cmd, sizeof(cmd), "rm -rf '%s/.local/share/supertag/workspaces/main/tana-index.lance'",
             dir);
    assert_int_equal(ts_run(cmd, NULL), 0);
    out = capture(cmd_embed_stats, 1, argv, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "Status:       No embeddings generated yet"));
    free(out);
    char *bad[] = {"stats", "--nope", NULL};
    out = capture(cmd_embed_stats, 2, bad, &rc);
    assert_int_equal(rc, 2);
    free(out);
    free(src);
    ts_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_golden)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
