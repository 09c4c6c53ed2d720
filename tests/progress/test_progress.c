/*
 * test_progress.c - progress display formats and modes.
 */
#include "support.h"

#include "embed/progress.h"
#include "embed/text.h"

#include <yajl/yajl_tree.h>

#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void test_fixed_like_js(void **state)
{
    (void)state;
    char b[64];
    assert_string_equal(st_fmt_fixed(b, sizeof(b), 0.25, 1), "0.3"); /* printf gives 0.2 */
    assert_string_equal(st_fmt_fixed(b, sizeof(b), 0.75, 1), "0.8");
    assert_string_equal(st_fmt_fixed(b, sizeof(b), 2.5, 0), "3");
    assert_string_equal(st_fmt_fixed(b, sizeof(b), 0.35, 1), "0.3"); /* 0.34999… in binary */
    assert_string_equal(st_fmt_fixed(b, sizeof(b), 125.26, 1), "125.3");
    assert_string_equal(st_fmt_fixed(b, sizeof(b), 9.96, 1), "10.0");
    assert_string_equal(st_fmt_fixed(b, sizeof(b), 99.95, 1), "100.0"); /* 99.9500000000000028… */
    assert_string_equal(st_fmt_fixed(b, sizeof(b), 0, 1), "0.0");
    assert_string_equal(st_fmt_fixed(b, sizeof(b), 3.4, 1), "3.4");
}

static void test_group_and_eta(void **state)
{
    (void)state;
    char b[64];
    assert_string_equal(st_group(b, sizeof(b), 0), "0");
    assert_string_equal(st_group(b, sizeof(b), 999), "999");
    assert_string_equal(st_group(b, sizeof(b), 1000), "1,000");
    assert_string_equal(st_group(b, sizeof(b), 45200), "45,200");
    assert_string_equal(st_group(b, sizeof(b), 1234567), "1,234,567");
    assert_string_equal(st_group(b, sizeof(b), -1234), "-1,234");
    assert_string_equal(st_fmt_eta(b, sizeof(b), 0), "");
    assert_string_equal(st_fmt_eta(b, sizeof(b), 45), "45s");
    assert_string_equal(st_fmt_eta(b, sizeof(b), 60), "1m0s");
    assert_string_equal(st_fmt_eta(b, sizeof(b), 135), "2m15s");
    assert_string_equal(st_fmt_eta(b, sizeof(b), 3599), "59m59s");
    assert_string_equal(st_fmt_eta(b, sizeof(b), 3720), "1h02m");
    assert_string_equal(st_fmt_eta(b, sizeof(b), 36000 + 59 * 60 + 59), "10h59m");
}

static void test_line(void **state)
{
    (void)state;
    char b[512];
    struct st_progress_counters c = {
        .generated = 45200, .persisted = 40000, .total = 100000, .rate = 125.3};
    /* 54,800 left / 125.3 per s = 437.35 s -> 438 s */
    assert_string_equal(st_fmt_progress_line(b, sizeof(b), &c),
                        "⏳ 45.2% | Ollama: 45,200 | LanceDB: 40,000 | 125.3/s | ETA: 7m18s");
    c.eta_seconds = 135;
    assert_string_equal(st_fmt_progress_line(b, sizeof(b), &c),
                        "⏳ 45.2% | Ollama: 45,200 | LanceDB: 40,000 | 125.3/s | ETA: 2m15s");
    c.buffered = 5200;
    c.errors = 1234;
    assert_string_equal(st_fmt_progress_line(b, sizeof(b), &c),
                        "⏳ 46.4% | Ollama: 45,200 | LanceDB: 40,000 | Buffer: 5,200 | "
                        "Err: 1,234 | 125.3/s | ETA: 2m15s");
    struct st_progress_counters z = {.total = 10};
    assert_string_equal(st_fmt_progress_line(b, sizeof(b), &z),
                        "⏳ 0.0% | Ollama: 0 | LanceDB: 0 | ...");
    /* done: no ETA, percentage capped at 100 */
    struct st_progress_counters d = {
        .generated = 12, .skipped = 3, .total = 10, .rate = 4.25, .persisted = 12};
    assert_string_equal(st_fmt_progress_line(b, sizeof(b), &d),
                        "⏳ 100.0% | Ollama: 12 | LanceDB: 12 | 4.3/s");
    /* by items (the pipeline's counters: generated counts chunk rows) */
    struct st_progress_counters it = {.generated = 900,
                                      .persisted = 0,
                                      .buffered = 900,
                                      .skipped = 100,
                                      .items_done = 400,
                                      .total = 1000,
                                      .rate = 300,
                                      .by_items = true,
                                      .eta_seconds = 1.5};
    assert_string_equal(st_fmt_progress_line(b, sizeof(b), &it),
                        "⏳ 50.0% | Ollama: 900 | LanceDB: 0 | Buffer: 900 | 300.0/s | ETA: 2s");
    it.eta_seconds = -1; /* unknown: no ETA, not one computed from a chunk rate */
    assert_string_equal(st_fmt_progress_line(b, sizeof(b), &it),
                        "⏳ 50.0% | Ollama: 900 | LanceDB: 0 | Buffer: 900 | 300.0/s");
}

/* A fake clock the test moves by hand. */
static double fake_now;
static double fake_clock(void *payload)
{
    (void)payload;
    return fake_now;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void test_plain_is_throttled(void **state)
{
    (void)state;
    char *mem = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);
    struct st_progress_opts o = ST_PROGRESS_OPTS_INIT;
    o.out = f;
    o.clock = fake_clock;
    o.plain_interval = 5.0;
    st_progress *p = st_progress_new(&o);
    assert_int_equal(st_progress_mode_of(p), ST_PROGRESS_PLAIN); /* a memstream is no TTY */
    fake_now = 100.0;
    struct st_progress_counters c = {.total = 100000, .rate = 1000};
    /* 10,000 events over 20 s of fake time: one line at most every 5 s */
    for (int i = 1; i <= 10000; i++) {
        c.generated = i * 10;
        c.persisted = (i / 500) * 5000;
        c.buffered = c.generated - c.persisted;
        fake_now = 100.0 + i * 0.002;
        st_progress_update(p, &c);
    }
    fflush(f);
    size_t lines = count_lines(mem);
    assert_in_range(lines, 4, 5); /* t = 100.002, 105.002, 110.002, 115.002 (+ none at 120) */
    assert_null(strchr(mem, '\r'));
    st_progress_finish(p); /* the last state, not printed yet, is printed once */
    fflush(f);
    assert_int_equal(count_lines(mem), lines + 1);
    assert_non_null(strstr(mem, "Ollama: 100,000 | LanceDB: 100,000"));
    st_progress_finish(p); /* idempotent */
    fflush(f);
    assert_int_equal(count_lines(mem), lines + 1);
    st_progress_free(p);
    fclose(f);
    free(mem);
}

static void test_json_events(void **state)
{
    (void)state;
    char *mem = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);
    struct st_progress_opts o = ST_PROGRESS_OPTS_INIT;
    o.out = f;
    o.mode = ST_PROGRESS_JSON;
    st_progress *p = st_progress_new(&o);
    struct st_progress_counters c = {.generated = 50,
                                     .persisted = 0,
                                     .buffered = 50,
                                     .skipped = 10,
                                     .errors = 2,
                                     .total = 200,
                                     .rate = 12.25};
    st_progress_update(p, &c);
    c.generated = 190;
    c.persisted = 190;
    c.buffered = 0;
    st_progress_update(p, &c);
    const char *samples[] = {"Batch error: \"quoted\"", "b", "c", "d", "e", "f"};
    struct st_progress_summary s = {.processed = 188,
                                    .skipped = 10,
                                    .errors = 2,
                                    .error_samples = samples,
                                    .sample_count = 6,
                                    .duration_s = 3.4,
                                    .commits = 1,
                                    .total_rows = 3623};
    st_progress_summary(p, &s);
    fclose(f);
    assert_int_equal(count_lines(mem), 3);
    char *save = NULL;
    int i = 0;
    for (char *line = strtok_r(mem, "\n", &save); line; line = strtok_r(NULL, "\n", &save), i++) {
        char err[256];
        yajl_val v = yajl_tree_parse(line, err, sizeof(err));
        if (!v)
            fail_msg("not JSON: %s (%s)", line, err);
        const char *ev[] = {"event", NULL};
        const char *gen[] = {"generated", NULL};
        const char *pct[] = {"percent", NULL};
        const char *smp[] = {"error_samples", NULL};
        const char *rows[] = {"total_rows", NULL};
        yajl_val e = yajl_tree_get(v, ev, yajl_t_string);
        assert_non_null(e);
        if (i < 2) {
            assert_string_equal(YAJL_GET_STRING(e), "progress");
            assert_int_equal(YAJL_GET_INTEGER(yajl_tree_get(v, gen, yajl_t_number)),
                             i == 0 ? 50 : 190);
            if (i == 0)
                assert_true(YAJL_GET_DOUBLE(yajl_tree_get(v, pct, yajl_t_number)) == 31.0);
        } else {
            assert_string_equal(YAJL_GET_STRING(e), "summary");
            yajl_val a = yajl_tree_get(v, smp, yajl_t_array);
            assert_non_null(a);
            assert_int_equal(a->u.array.len, 5); /* at most 5 samples */
            assert_string_equal(YAJL_GET_STRING(a->u.array.values[0]), "Batch error: \"quoted\"");
            assert_int_equal(YAJL_GET_INTEGER(yajl_tree_get(v, rows, yajl_t_number)), 3623);
        }
        yajl_tree_free(v);
    }
    assert_int_equal(i, 3);
    st_progress_free(p);
    free(mem);
}

static void test_summary_text(void **state)
{
    (void)state;
    char *mem = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);
    struct st_progress_opts o = ST_PROGRESS_OPTS_INIT;
    o.out = f;
    o.mode = ST_PROGRESS_QUIET;
    st_progress *p = st_progress_new(&o);
    struct st_progress_summary s = {
        .processed = 3623, .skipped = 0, .duration_s = 3.35, .commits = 1, .total_rows = 3623};
    st_progress_summary(p, &s);
    fflush(f);
    /* The original's wording (tests/fixtures/golden/sample-embed-generate.txt) plus commits. */
    assert_string_equal(mem, "✅ Embedding complete\n"
                             "   Processed: 3,623\n"
                             "   Skipped: 0 (unchanged)\n"
                             "   Duration: 3.4s\n"
                             "   LanceDB commits: 1\n"
                             "   Total embeddings: 3,623\n");
    rewind(f);
    const char *samples[] = {"Batch error: Ollama embed failed: 500 boom", "x", "y", "z", "w", "v"};
    struct st_progress_summary e = {.processed = 10,
                                    .skipped = 1234,
                                    .errors = 1500,
                                    .error_samples = samples,
                                    .sample_count = 6,
                                    .duration_s = 65.04,
                                    .commits = 3,
                                    .total_rows = -1};
    st_progress_free(p);
    p = st_progress_new(&o);
    st_progress_summary(p, &e);
    fflush(f);
    assert_non_null(strstr(mem, "   Skipped: 1,234 (unchanged)\n   Errors: 1500\n"
                                "   Error samples:\n"
                                "     - Batch error: Ollama embed failed: 500 boom\n"));
    assert_non_null(strstr(mem, "     - w\n   Duration: 65.0s\n"));
    assert_null(strstr(mem, "     - v\n"));
    assert_null(strstr(mem, "Total embeddings"));
    st_progress_free(p);
    fclose(f);
    free(mem);
}

/* Read everything the child writes to the pty until it exits. */
static char *read_pty(int fd)
{
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        struct pollfd pfd = {fd, POLLIN, 0};
        int r = poll(&pfd, 1, 5000);
        if (r <= 0)
            break;
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n <= 0)
            break; /* EIO once the child has closed the pty */
        len += (size_t)n;
        if (len + 1 >= cap)
            break;
    }
    buf[len] = '\0';
    return buf;
}

static void test_tty_redraws_in_place(void **state)
{
    (void)state;
    int master = -1;
    pid_t pid = forkpty(&master, NULL, NULL, NULL);
    assert_true(pid >= 0);
    if (pid == 0) {
        struct st_progress_opts o = ST_PROGRESS_OPTS_INIT; /* AUTO on stdout = the pty */
        st_progress *p = st_progress_new(&o);
        if (st_progress_mode_of(p) != ST_PROGRESS_TTY)
            _exit(3);
        struct st_progress_counters c = {.total = 3000, .rate = 125.3};
        for (int i = 1; i <= 3; i++) {
            c.generated = i * 1000;
            c.persisted = (i - 1) * 1000;
            c.buffered = c.generated - c.persisted;
            st_progress_update(p, &c);
        }
        st_progress_finish(p);
        fputs("END\n", stdout);
        fflush(stdout);
        st_progress_free(p);
        _exit(0);
    }
    char *out = read_pty(master);
    int status = 0;
    waitpid(pid, &status, 0);
    close(master);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    /* three redraws, each starting with \r, no newline before the END line */
    const char *first =
        strstr(out, "\r⏳ 33.3% | Ollama: 1,000 | LanceDB: 0 | Buffer: 1,000 | 125.3/s | ETA: 16s");
    const char *second = strstr(
        out, "\r⏳ 66.7% | Ollama: 2,000 | LanceDB: 1,000 | Buffer: 1,000 | 125.3/s | ETA: 8s");
    const char *third =
        strstr(out, "\r⏳ 100.0% | Ollama: 3,000 | LanceDB: 2,000 | Buffer: 1,000 | 125.3/s");
    if (!first || !second || !third)
        fail_msg("unexpected TTY output: %s", out);
    assert_true(first < second && second < third);
    const char *end = strstr(out, "END");
    assert_non_null(end);
    for (const char *q = first; q < end; q++)
        assert_true(*q != '\n');
    /* the line is cleared before the next output: \r + spaces + \r */
    assert_true(end[-1] == '\r' && end[-2] == ' ');
    free(out);
}

/* On a 40-column terminal the line is cut to 39 columns instead of wrapping. */
static void test_tty_narrow_terminal(void **state)
{
    (void)state;
    int master = -1;
    struct winsize ws = {.ws_row = 24, .ws_col = 40};
    pid_t pid = forkpty(&master, NULL, NULL, &ws);
    assert_true(pid >= 0);
    if (pid == 0) {
        struct st_progress_opts o = ST_PROGRESS_OPTS_INIT;
        st_progress *p = st_progress_new(&o);
        struct st_progress_counters c = {.generated = 45200,
                                         .persisted = 40000,
                                         .total = 100000,
                                         .rate = 125.3,
                                         .eta_seconds = 135};
        st_progress_update(p, &c);
        fputs("\nEND\n", stdout);
        fflush(stdout);
        st_progress_free(p);
        _exit(0);
    }
    char *out = read_pty(master);
    int status = 0;
    waitpid(pid, &status, 0);
    close(master);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* ⏳ (2 columns) + 37 ASCII columns = 39 */
    if (!strstr(out, "\r⏳ 45.2% | Ollama: 45,200 | LanceDB: 40\r\n"))
        fail_msg("line not cut to the terminal: %s", out);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed_like_js),
        cmocka_unit_test(test_group_and_eta),
        cmocka_unit_test(test_line),
        cmocka_unit_test(test_plain_is_throttled),
        cmocka_unit_test(test_json_events),
        cmocka_unit_test(test_summary_text),
        cmocka_unit_test(test_tty_redraws_in_place),
        cmocka_unit_test(test_tty_narrow_terminal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
