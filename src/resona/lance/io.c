/*
 * lance/io.c - file helpers for the Lance module (see io.h).
 */
#include "lance/io.h"

#include "util/alloc.h"
#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/*
 * RESONA_UNSAFE_NO_FSYNC=1 skips fsync (files and directories). Only for
 * tests that kill processes (the page cache survives a killed process, so
 * the commit protocol is still exercised) on a busy disk; never in use.
 */
static int sync_enabled(void)
{
    const char *e = getenv("RESONA_UNSAFE_NO_FSYNC");
    return !(e && e[0] == '1');
}

int resona__io_fsync(int fd, const char *name)
{
    if (sync_enabled() && fsync(fd) != 0)
        return resona__error_set_errno(RESONA_EIO, errno, "%s: fsync", name);
    return 0;
}

int resona__io_pread(int fd, const char *name, uint64_t off, void *buf, size_t len)
{
    uint8_t *p = buf;
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, p + done, len - done, (off_t)(off + done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return resona__error_set_errno(RESONA_EIO, errno,
                                           "%s: read of %zu bytes at offset %llu", name, len,
                                           (unsigned long long)off);
        }
        if (n == 0)
            return resona__error_set(RESONA_ECORRUPT,
                                     "%s: truncated: %zu bytes expected at offset %llu, file ends "
                                     "after %llu",
                                     name, len, (unsigned long long)off,
                                     (unsigned long long)(off + done));
        done += (size_t)n;
    }
    return 0;
}

int resona__io_write(int fd, const char *name, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return resona__error_set_errno(RESONA_EIO, errno, "%s: write", name);
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int resona__io_read_file(const char *path, size_t max, uint8_t **out, size_t *len_out)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return resona__error_set_errno(errno == ENOENT ? RESONA_ENOTFOUND : RESONA_EIO, errno, "%s",
                                       path);
    int rc = 0;
    uint8_t *buf = NULL;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = resona__error_set_errno(RESONA_EIO, errno, "%s: stat", path);
        goto done;
    }
    if (st.st_size < 0 || (uint64_t)st.st_size > max) {
        rc = resona__error_set(RESONA_ECORRUPT, "%s: file of %lld bytes exceeds the limit of %zu",
                               path, (long long)st.st_size, max);
        goto done;
    }
    size_t len = (size_t)st.st_size;
    buf = resona__malloc(len + 1);
    if (!buf) {
        rc = RESONA_ENOMEM;
        goto done;
    }
    if ((rc = resona__io_pread(fd, path, 0, buf, len)) < 0)
        goto done;
    buf[len] = 0;
    *out = buf;
    buf = NULL;
    *len_out = len;
done:
    resona__free(buf);
    close(fd);
    return rc;
}

int resona__io_write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return resona__error_set_errno(RESONA_EIO, errno, "%s: create", path);
    int rc = resona__io_write(fd, path, data, len);
    if (rc == 0)
        rc = resona__io_fsync(fd, path);
    if (close(fd) != 0 && rc == 0)
        rc = resona__error_set_errno(RESONA_EIO, errno, "%s: close", path);
    return rc;
}

int resona__io_fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return resona__error_set_errno(RESONA_EIO, errno, "%s: open directory", path);
    int rc = 0;
    if (sync_enabled() && fsync(fd) != 0 && errno != EINVAL)
        rc = resona__error_set_errno(RESONA_EIO, errno, "%s: fsync directory", path);
    close(fd);
    return rc;
}

int resona__io_mkdirs(const char *path)
{
    char *p = resona__strdup(path);
    if (!p)
        return RESONA_ENOMEM;
    int rc = 0;
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            if (mkdir(p, 0755) != 0 && errno != EEXIST) {
                rc = resona__error_set_errno(RESONA_EIO, errno, "%s: mkdir", p);
                break;
            }
            *s = c;
            if (c == '\0')
                break;
        }
    }
    resona__free(p);
    return rc;
}

int resona__io_random_u64(uint64_t *out)
{
    size_t got = 0;
    uint8_t b[8];
    while (got < sizeof(b)) {
        ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return resona__error_set_errno(RESONA_EIO, errno, "getrandom");
        }
        got += (size_t)n;
    }
    memcpy(out, b, sizeof(*out));
    return 0;
}

int resona__io_uuid(char out[37])
{
    uint64_t a = 0, b = 0; /* set on success; initialised for -O3's flow analysis */
    int rc;
    if ((rc = resona__io_random_u64(&a)) < 0 || (rc = resona__io_random_u64(&b)) < 0)
        return rc;
    uint8_t u[16];
    for (int i = 0; i < 8; i++) {
        u[i] = (uint8_t)(a >> (8 * i));
        u[8 + i] = (uint8_t)(b >> (8 * i));
    }
    u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
    u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[u[i] >> 4];
        out[o++] = hex[u[i] & 15];
    }
    out[o] = '\0';
    return 0;
}

char *resona__io_fmt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        resona__error_set(RESONA_EINVALID, "bad format");
        return NULL;
    }
    char *s = resona__malloc((size_t)n + 1);
    if (!s)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

char *resona__io_join(const char *a, const char *b)
{
    return resona__io_fmt("%s/%s", a, b);
}

int resona__io_safe_relpath(const char *rel, size_t len)
{
    if (len == 0 || rel[0] == '/')
        return 0;
    if (memchr(rel, '\0', len))
        return 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || rel[i] == '/') {
            size_t n = i - start;
            if (n == 0 || (n == 2 && rel[start] == '.' && rel[start + 1] == '.') ||
                (n == 1 && rel[start] == '.'))
                return 0;
            start = i + 1;
        }
    }
    return 1;
}

/* Set when an allocation inside protobuf-c failed, so that a NULL from
 * unpack can be told apart (ENOMEM) from malformed input (ECORRUPT). */
static _Thread_local int pb_oom;

static void *pb_alloc(void *data, size_t size)
{
    (void)data;
    void *p = resona__malloc(size);
    if (!p)
        pb_oom = 1;
    return p;
}

int resona__pb_oom(void)
{
    int o = pb_oom;
    pb_oom = 0;
    return o;
}

static void pb_free(void *data, void *ptr)
{
    (void)data;
    resona__free(ptr);
}

ProtobufCAllocator resona__pb_alloc = {pb_alloc, pb_free, NULL};

int resona__io_fsync_subdir(const char *dir, const char *name)
{
    char *path = resona__io_join(dir, name);
    if (!path)
        return RESONA_ENOMEM;
    int rc = resona__io_fsync_dir(path);
    resona__free(path);
    return rc;
}
