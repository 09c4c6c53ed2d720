/*
 * test_fake_support.c - ts_fake_start / ts_fake_stop (tests/support/fake_ollama.h)
 * start the fake server, report a usable port and URL, and stop it cleanly.
 */
#include "support.h"
#include "fake_ollama.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* One HTTP/1.0 exchange over a plain socket; returns the whole reply (caller frees). */
static char *http_exchange(int port, const char *request)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    size_t len = strlen(request);
    assert_int_equal(write(fd, request, len), (ssize_t)len);
    size_t cap = 1 << 16, used = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    ssize_t got;
    while ((got = read(fd, buf + used, cap - used - 1)) > 0)
        used += (size_t)got;
    buf[used] = '\0';
    close(fd);
    return buf;
}

static void test_start_tags_embed_stop(void **state)
{
    (void)state;
    ts_fake f;
    assert_int_equal(ts_fake_start("--dim 4 --model nomic-embed-text", &f), 0);
    assert_true(f.port > 0 && f.port < 65536);
    assert_true(f.pid > 0);
    char want[64];
    snprintf(want, sizeof want, "http://127.0.0.1:%d", f.port);
    assert_string_equal(f.url, want);

    char *reply = http_exchange(f.port, "GET /api/tags HTTP/1.0\r\n\r\n");
    assert_non_null(strstr(reply, "200 OK"));
    assert_non_null(strstr(reply, "\"name\":\"nomic-embed-text:latest\""));
    free(reply);

    const char *body = "{\"model\":\"nomic-embed-text\",\"input\":\"hello\"}";
    char req[512];
    snprintf(req, sizeof req,
             "POST /api/embed HTTP/1.0\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\n\r\n%s",
             strlen(body), body);
    reply = http_exchange(f.port, req);
    /* The reference vector of "hello" with d = 4 (see test_fake_ollama.py), each value
     * the shortest decimal that reads back as the same float32 (0.946142793 ...). */
    assert_non_null(strstr(reply, "[[0.9461428,0.22555761,-0.23098673,0.024139825]]"));
    free(reply);

    pid_t pid = f.pid;
    assert_int_equal(ts_fake_stop(&f), 0);
    assert_int_equal(f.pid, 0);
    assert_int_equal(kill(pid, 0), -1); /* gone and reaped */
}

static void test_two_servers_get_different_ports(void **state)
{
    (void)state;
    ts_fake a, b;
    assert_int_equal(ts_fake_start(NULL, &a), 0);
    assert_int_equal(ts_fake_start("", &b), 0);
    assert_int_not_equal(a.port, b.port);
    assert_int_equal(ts_fake_stop(&a), 0);
    assert_int_equal(ts_fake_stop(&b), 0);
}

static void test_start_failure_is_reported(void **state)
{
    (void)state;
    ts_fake f;
    memset(&f, 0, sizeof f);
    assert_int_equal(ts_fake_start("--host 0.0.0.0", &f), -1);
    assert_int_equal(ts_fake_start("--no-such-flag", &f), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_start_tags_embed_stop),
        cmocka_unit_test(test_two_servers_get_different_ports),
        cmocka_unit_test(test_start_failure_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
