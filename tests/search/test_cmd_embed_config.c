/*
 * search/test_cmd_embed_config.c - `embed config`: defaults, show formats,
 * updates written to config.json without losing other keys.
 */
#include "support.h"

#include "embed_cmds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Run cmd_embed_config with stdout captured into a string (caller frees). */
static char *run(int argc, char **argv, int *rc)
{
    char tmpl[] = "/tmp/embed-config-out.XXXXXX";
    int fd = mkstemp(tmpl);
    assert_true(fd >= 0);
    fflush(stdout);
    int saved = dup(1);
    dup2(fd, 1);
    *rc = cmd_embed_config(argc, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    close(fd);
    char *out = ts_read_file(tmpl, NULL);
    unlink(tmpl);
    return out;
}

static void test_embed_config(void **state)
{
    (void)state;
    char *dir = ts_tmpdir("embed-config");
    setenv("XDG_CONFIG_HOME", dir, 1);
    setenv("XDG_DATA_HOME", dir, 1);
    int rc;
    char *show[] = {"config", NULL};
    char *out = run(1, show, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(out, "model\tbge-m3\ndimensions\t1024\nendpoint\thttp://localhost:11434\n");
    free(out);
    char *js[] = {"config", "--show", "--json", NULL};
    out = run(3, js, &rc);
    assert_string_equal(
        out, "{\n  \"model\": \"bge-m3\",\n  \"endpoint\": \"http://localhost:11434\"\n}\n");
    free(out);

    /* keep other keys */
    char *cfg = ts_path(dir, "supertag/config.json");
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s/supertag'", dir);
    assert_int_equal(ts_run(cmd, NULL), 0);
    const char *orig =
        "{\n  \"defaultWorkspace\": \"main\",\n  \"cleanup\": {\"keepCount\": 7}\n}\n";
    assert_int_equal(ts_write_file(cfg, orig, strlen(orig)), 0);
    char *set[] = {"config", "--model", "nomic-embed-text:v1.5", "-e", "http://127.0.0.1:9", NULL};
    out = run(5, set, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "✓ Endpoint: http://127.0.0.1:9"));
    assert_non_null(strstr(out, "✅ Configuration updated"));
    assert_non_null(strstr(out, "Model:       nomic-embed-text:v1.5"));
    free(out);
    char *written = ts_read_file(cfg, NULL);
    assert_non_null(strstr(written, "\"defaultWorkspace\": \"main\""));
    assert_non_null(strstr(written, "\"keepCount\": 7"));
    assert_non_null(strstr(written, "\"model\": \"nomic-embed-text:v1.5\""));
    free(written);
    out = run(1, show, &rc);
    assert_non_null(strstr(out, "model\tnomic-embed-text:v1.5\n"));
    assert_non_null(strstr(out, "endpoint\thttp://127.0.0.1:9\n"));
    free(out);

    char *unknown[] = {"config", "-m", "my-own-model", NULL};
    out = run(3, unknown, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "is not a known model"));
    assert_non_null(strstr(out, "Dimensions:  unknown"));
    free(out);
    char *pretty[] = {"config", "--pretty", NULL};
    out = run(2, pretty, &rc);
    assert_non_null(strstr(out, "   Dimensions: auto-detect\n"));
    free(out);
    char *bad[] = {"config", "--model", NULL};
    out = run(2, bad, &rc);
    assert_int_equal(rc, 2);
    free(out);
    free(cfg);
    ts_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_embed_config)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
