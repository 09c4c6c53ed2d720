/*
 * support/fake_ollama.c - spawn/stop the fake Ollama server (see fake_ollama.h).
 */
#include "fake_ollama.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void reap(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

int ts_fake_start(const char *extra_args, ts_fake *out)
{
    const char *bin = getenv("FAKE_OLLAMA");
    char fallback[4096];
    if (!bin || !*bin) {
        snprintf(fallback, sizeof fallback, "%s/tests/fake-ollama/fake-ollama", RESONA_BINARY_DIR);
        bin = fallback;
    }
    size_t n = strlen(bin) + (extra_args ? strlen(extra_args) : 0) + 64;
    char *cmd = malloc(n);
    if (!cmd)
        return -1;
    snprintf(cmd, n, "exec '%s' --port 0 %s", bin, extra_args ? extra_args : "");

    int fds[2];
    if (pipe(fds) != 0) {
        free(cmd);
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        free(cmd);
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    free(cmd);
    close(fds[1]);

    /* Read up to the first newline, 10 s at most. */
    char line[256];
    size_t used = 0;
    double deadline = now_ms() + 10000.0;
    int ok = 0;
    while (used + 1 < sizeof line) {
        double left = deadline - now_ms();
        if (left <= 0)
            break;
        struct pollfd p = {.fd = fds[0], .events = POLLIN};
        int r = poll(&p, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        ssize_t got = read(fds[0], line + used, 1);
        if (got <= 0)
            break;
        used++;
        if (line[used - 1] == '\n') {
            ok = 1;
            break;
        }
    }
    close(fds[0]);
    line[used] = '\0';
    unsigned port = 0;
    if (!ok || sscanf(line, "listening 127.0.0.1:%u", &port) != 1 || port == 0 || port > 65535) {
        fprintf(stderr, "ts_fake_start: %s did not start (got '%s')\n", bin, line);
        reap(pid);
        return -1;
    }
    out->pid = pid;
    out->port = (int)port;
    snprintf(out->url, sizeof out->url, "http://127.0.0.1:%u", port);
    return 0;
}

int ts_fake_stop(ts_fake *f)
{
    int status = 0;
    if (f->pid <= 0)
        return -1;
    kill(f->pid, SIGTERM);
    pid_t r;
    do {
        r = waitpid(f->pid, &status, 0);
    } while (r < 0 && errno == EINTR);
    f->pid = 0;
    if (r < 0 || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}
