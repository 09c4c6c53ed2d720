/*
 * pipeline/journal.c - the crash journal (format and policy in journal.h).
 */
#include "pipeline/journal.h"

#include "util/alloc.h"
#include "util/endian.h"
#include "util/error.h"
#include "util/log.h"

#include <resona/pipeline.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define JOURNAL_MAGIC "RSNJRNL"
#define JOURNAL_HEADER 16
#define JOURNAL_VERSION 1
#define JOURNAL_MAX_RECORD (1u << 30)

/* One journal file. */
typedef struct jseg {
    int fd;
    char *path;
    uint64_t records;
    uint64_t end; /* file offset of the end of the last record */
} jseg;

struct resona_journal {
    jseg seg[2];        /* [0] = <table>.lance.journal (locked), [1] = <table>.lance.journal.1 */
    int cur;            /* the segment rows are added to */
    resona_buf pending; /* encoded records of seg[cur] not yet written */
};

char *resona_pipeline_journal_path(const char *table_path)
{
    resona_buf b = RESONA_BUF_INIT(0);
    if (resona__buf_printf(&b, "%s.journal", table_path) < 0)
        return NULL;
    return resona__buf_detach(&b, NULL);
}

/* ---- CRC-32C (reflected polynomial 0x82F63B78), table driven ----------- */

static uint32_t crc_table[256];
static int crc_ready;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        crc_table[i] = c;
    }
    crc_ready = 1;
}

uint32_t resona__crc32c(uint32_t crc, const void *data, size_t len)
{
    /* The table is built once; building it twice concurrently writes the
     * same values, so the race is benign, but keep it ordered anyway. */
    if (!__atomic_load_n(&crc_ready, __ATOMIC_ACQUIRE)) {
        crc_init();
        __atomic_store_n(&crc_ready, 1, __ATOMIC_RELEASE);
    }
    const uint8_t *p = data;
    crc = ~crc;
    for (size_t i = 0; i < len; i++)
        crc = crc_table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

/* ---- file helpers ------------------------------------------------------ */

static int write_all(jseg *j, const char *data, size_t len, uint64_t at)
{
    while (len > 0) {
        ssize_t n = pwrite(j->fd, data, len, (off_t)at);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return resona__error_set_errno(RESONA_EIO, errno, "writing journal %s at offset %llu",
                                           j->path, (unsigned long long)at);
        }
        data += n;
        len -= (size_t)n;
        at += (uint64_t)n;
    }
    return 0;
}

static int read_exact(int fd, void *buf, size_t len, uint64_t at, size_t *got)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(at + done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            break;
        done += (size_t)n;
    }
    *got = done;
    return 0;
}

static int write_header(jseg *j)
{
    char h[JOURNAL_HEADER];
    memset(h, 0, sizeof(h));
    memcpy(h, JOURNAL_MAGIC, 7);
    resona__put_le32(h + 8, JOURNAL_VERSION);
    if (ftruncate(j->fd, 0) < 0)
        return resona__error_set_errno(RESONA_EIO, errno, "truncating journal %s", j->path);
    int rc = write_all(j, h, sizeof(h), 0);
    if (rc < 0)
        return rc;
    j->end = JOURNAL_HEADER;
    j->records = 0;
    return 0;
}

/* mkdir -p of the directory part of path (the table's database directory
 * may not exist before the first flush creates the table). */
static int make_parents(const char *path)
{
    char *dir = resona__strdup(path);
    if (!dir)
        return RESONA_ENOMEM;
    int rc = 0;
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        for (char *p = dir + 1; rc == 0; p++) {
            if (*p != '/' && *p != '\0')
                continue;
            char c = *p;
            *p = '\0';
            if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                rc = resona__error_set_errno(RESONA_EIO, errno, "creating directory %s", dir);
            *p = c;
            if (c == '\0')
                break;
        }
    }
    resona__free(dir);
    return rc;
}

/* Open (create) one segment file and check or write its header. */
static int seg_open(jseg *g, const char *path, int lock)
{
    int rc = 0;
    if (!(g->path = resona__strdup(path)))
        return RESONA_ENOMEM;
    g->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (g->fd < 0)
        return resona__error_set_errno(RESONA_EIO, errno, "opening journal %s", path);
    if (lock && flock(g->fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno == EWOULDBLOCK)
            return resona__error_set(RESONA_ECONFLICT,
                                     "journal %s is locked: another embedding run is writing this "
                                     "table",
                                     path);
        return resona__error_set_errno(RESONA_EIO, errno, "locking journal %s", path);
    }
    char h[JOURNAL_HEADER];
    size_t got = 0;
    int e = read_exact(g->fd, h, sizeof(h), 0, &got);
    if (e < 0)
        return resona__error_set_errno(RESONA_EIO, -e, "reading journal %s", path);
    if (got == 0) {
        if ((rc = write_header(g)) < 0)
            return rc;
    } else if (got < JOURNAL_HEADER || memcmp(h, JOURNAL_MAGIC, 8) != 0) {
        return resona__error_set(RESONA_ECORRUPT,
                                 "%s is not a resona journal (bad header at offset 0); move it "
                                 "away to continue",
                                 path);
    } else if (resona__le32(h + 8) != JOURNAL_VERSION) {
        return resona__error_set(RESONA_EUNSUPPORTED,
                                 "journal %s: unsupported version %u at offset 8", path,
                                 resona__le32(h + 8));
    } else {
        g->end = JOURNAL_HEADER;
    }
    return 0;
}

int resona__journal_open(const char *path, resona_journal **out)
{
    *out = NULL;
    int rc = 0;
    char *path1 = NULL;
    resona_journal *j = resona__calloc(1, sizeof(*j));
    if (!j)
        return RESONA_ENOMEM;
    j->seg[0].fd = j->seg[1].fd = -1;
    j->pending = (resona_buf)RESONA_BUF_INIT(0);
    if ((rc = make_parents(path)) < 0)
        goto done;
    /* The lock on the first file covers both: the second is only opened,
     * read or written by the run that holds it. */
    if ((rc = seg_open(&j->seg[0], path, 1)) < 0)
        goto done;
    resona_buf b = RESONA_BUF_INIT(0);
    if ((rc = resona__buf_printf(&b, "%s.1", path)) < 0) {
        resona__buf_free(&b);
        goto done;
    }
    path1 = resona__buf_detach(&b, NULL);
    if ((rc = seg_open(&j->seg[1], path1, 0)) < 0)
        goto done;
    *out = j;
    j = NULL;
done:
    resona__free(path1);
    resona__journal_close(j);
    return rc;
}

/* ---- encoding ---------------------------------------------------------- */

static int put_u32(resona_buf *b, uint32_t v)
{
    char x[4];
    resona__put_le32(x, v);
    return resona__buf_append(b, x, 4);
}

static int put_str(resona_buf *b, const char *s, size_t len)
{
    int rc = put_u32(b, (uint32_t)len);
    return rc < 0 ? rc : resona__buf_append(b, s, len);
}

int resona__journal_add(resona_journal *j, const resona_prow *row)
{
    resona_buf *b = &j->pending;
    size_t mark = b->len;
    int rc;
    size_t payload = 4 + row->id_len + 64 + 4 + row->text_len + 4 + row->model_len + 4 +
                     row->metadata_len + 8 + 4 + (size_t)row->dim * 4;
    if (payload > JOURNAL_MAX_RECORD || row->id_len > UINT32_MAX || row->text_len > UINT32_MAX)
        return resona__error_set(RESONA_EINVALID, "row %.*s too large for the journal (%zu bytes)",
                                 (int)(row->id_len > 200 ? 200 : row->id_len), row->id, payload);
    if ((rc = resona__buf_reserve(b, 8 + payload)) < 0)
        return rc;
    b->len += 8; /* length + CRC, filled below */
    char f[8];
    if ((rc = put_str(b, row->id, row->id_len)) < 0 ||
        (rc = resona__buf_append(b, row->text_hash, 64)) < 0 ||
        (rc = put_str(b, row->text, row->text_len)) < 0 ||
        (rc = put_str(b, row->model, row->model_len)) < 0 ||
        (rc = put_str(b, row->metadata, row->metadata_len)) < 0)
        goto fail;
    resona__put_lef64(f, row->created_at);
    if ((rc = resona__buf_append(b, f, 8)) < 0 || (rc = put_u32(b, row->dim)) < 0)
        goto fail;
    for (uint32_t i = 0; i < row->dim; i++) {
        resona__put_lef32(b->ptr + b->len, row->vector[i]);
        b->len += 4;
    }
    b->ptr[b->len] = '\0';
    resona__put_le32(b->ptr + mark, (uint32_t)payload);
    resona__put_le32(b->ptr + mark + 4, resona__crc32c(0, b->ptr + mark + 8, payload));
    return 0;
fail:
    b->len = mark;
    return rc;
}

int resona__journal_write(resona_journal *j)
{
    if (j->pending.len == 0)
        return 0;
    jseg *g = &j->seg[j->cur];
    int rc = write_all(g, j->pending.ptr, j->pending.len, g->end);
    if (rc < 0)
        return rc;
    /* Count the records just written: walk the lengths. */
    size_t off = 0;
    while (off + 8 <= j->pending.len) {
        off += 8 + resona__le32(j->pending.ptr + off);
        g->records++;
    }
    g->end += j->pending.len;
    resona__buf_clear(&j->pending);
    return 0;
}

int resona__journal_fsync(const resona_journal *j, int seg)
{
    const jseg *g = &j->seg[seg & 1];
    if (fsync(g->fd) < 0)
        return resona__error_set_errno(RESONA_EIO, errno, "fsync of journal %s", g->path);
    return 0;
}

int resona__journal_sync(resona_journal *j)
{
    int rc = resona__journal_write(j);
    for (int s = 0; s < 2 && rc == 0; s++)
        if (j->seg[s].records > 0 || s == j->cur)
            rc = resona__journal_fsync(j, s);
    return rc;
}

int resona__journal_segment(const resona_journal *j)
{
    return j->cur;
}

int resona__journal_switch(resona_journal *j, int *closed_out)
{
    int rc = resona__journal_write(j);
    if (rc < 0)
        return rc;
    int next = !j->cur;
    if (j->seg[next].records > 0 || j->seg[next].end > JOURNAL_HEADER)
        return resona__error_set(RESONA_ERROR,
                                 "journal %s still holds %llu uncommitted rows (internal error)",
                                 j->seg[next].path, (unsigned long long)j->seg[next].records);
    *closed_out = j->cur;
    j->cur = next;
    return 0;
}

int resona__journal_reset_segment(resona_journal *j, int seg)
{
    jseg *g = &j->seg[seg & 1];
    if (seg == j->cur)
        resona__buf_clear(&j->pending);
    if (g->end == JOURNAL_HEADER && g->records == 0)
        return 0;
    return write_header(g);
}

int resona__journal_reset(resona_journal *j)
{
    int rc = resona__journal_reset_segment(j, 0);
    return rc < 0 ? rc : resona__journal_reset_segment(j, 1);
}

uint64_t resona__journal_records(const resona_journal *j)
{
    return j->seg[0].records + j->seg[1].records;
}

uint64_t resona__journal_segment_records(const resona_journal *j, int seg)
{
    return j->seg[seg & 1].records;
}

/* ---- recovery ---------------------------------------------------------- */

typedef struct reader {
    const uint8_t *p;
    size_t left;
} reader;

static int rd_u32(reader *r, uint32_t *v)
{
    if (r->left < 4)
        return -1;
    *v = resona__le32(r->p);
    r->p += 4;
    r->left -= 4;
    return 0;
}

static int rd_bytes(reader *r, size_t n, const char **s)
{
    if (r->left < n)
        return -1;
    *s = (const char *)r->p;
    r->p += n;
    r->left -= n;
    return 0;
}

static int rd_str(reader *r, const char **s, uint32_t *len)
{
    return rd_u32(r, len) < 0 ? -1 : rd_bytes(r, *len, s);
}

/* Decode a payload whose CRC matched; NULL + ECORRUPT when its fields do not
 * add up (a writer bug, not a torn write). */
static resona_prow *decode(const jseg *j, uint64_t at, const uint8_t *payload, size_t len)
{
    reader r = {payload, len};
    const char *id, *hash, *text, *model, *meta, *f64, *vec;
    uint32_t id_len, text_len, model_len, meta_len, dim;
    if (rd_str(&r, &id, &id_len) < 0 || rd_bytes(&r, 64, &hash) < 0 ||
        rd_str(&r, &text, &text_len) < 0 || rd_str(&r, &model, &model_len) < 0 ||
        rd_str(&r, &meta, &meta_len) < 0 || rd_bytes(&r, 8, &f64) < 0 || rd_u32(&r, &dim) < 0 ||
        (size_t)dim > r.left / 4 || rd_bytes(&r, (size_t)dim * 4, &vec) < 0 || r.left != 0) {
        resona__error_set(RESONA_ECORRUPT, "journal %s: malformed record at offset %llu", j->path,
                          (unsigned long long)at);
        return NULL;
    }
    resona_prow *row = resona__prow_new(id, id_len, hash, text, text_len, model, model_len, meta,
                                        meta_len, resona__lef64(f64), NULL, dim);
    if (!row)
        return NULL;
    for (uint32_t i = 0; i < dim; i++)
        row->vector[i] = resona__lef32(vec + 4 * (size_t)i);
    return row;
}

static int seg_recover(jseg *j, resona_journal_row_fn fn, void *payload, int *torn_out)
{
    int rc = 0;
    uint8_t *buf = NULL;
    size_t buf_cap = 0;
    uint64_t at = JOURNAL_HEADER;
    int torn = 0;
    j->records = 0;
    for (;;) {
        uint8_t head[8];
        size_t got = 0;
        int e = read_exact(j->fd, head, 8, at, &got);
        if (e < 0) {
            rc = resona__error_set_errno(RESONA_EIO, -e, "reading journal %s at offset %llu",
                                         j->path, (unsigned long long)at);
            goto done;
        }
        if (got == 0)
            break;
        uint32_t len = got == 8 ? resona__le32(head) : 0;
        if (got < 8 || len == 0 || len > JOURNAL_MAX_RECORD) {
            torn = 1;
            break;
        }
        if (len > buf_cap) {
            uint8_t *nb = resona__realloc(buf, len);
            if (!nb) {
                rc = RESONA_ENOMEM;
                goto done;
            }
            buf = nb;
            buf_cap = len;
        }
        if ((e = read_exact(j->fd, buf, len, at + 8, &got)) < 0) {
            rc = resona__error_set_errno(RESONA_EIO, -e, "reading journal %s at offset %llu",
                                         j->path, (unsigned long long)at + 8);
            goto done;
        }
        if (got < len || resona__crc32c(0, buf, len) != resona__le32(head + 4)) {
            torn = 1;
            break;
        }
        resona_prow *row = decode(j, at, buf, len);
        if (!row) {
            rc = resona_error_code();
            goto done;
        }
        j->records++;
        at += 8 + (uint64_t)len;
        if ((rc = fn(row, payload)) < 0)
            goto done;
    }
    if (torn) {
        RESONA_LOG(RESONA_LOG_WARN, "journal %s: cutting a torn record at offset %llu", j->path,
                   (unsigned long long)at);
        if (ftruncate(j->fd, (off_t)at) < 0) {
            rc = resona__error_set_errno(RESONA_EIO, errno, "truncating journal %s", j->path);
            goto done;
        }
    }
    j->end = at;
done:
    if (torn)
        *torn_out = 1;
    resona__free(buf);
    return rc;
}

int resona__journal_recover(resona_journal *j, resona_journal_row_fn fn, void *payload,
                            int *torn_out)
{
    int torn = 0;
    int rc = seg_recover(&j->seg[0], fn, payload, &torn);
    if (rc == 0)
        rc = seg_recover(&j->seg[1], fn, payload, &torn);
    if (torn_out)
        *torn_out = torn;
    return rc;
}

/* Close a segment; remove its file when asked and it holds no record.
 * Returns 1 when the file was removed (or never opened). */
static int seg_close(jseg *g, int may_remove)
{
    int removed = g->fd < 0;
    if (g->fd >= 0) {
        struct stat st;
        if (may_remove && g->path && g->records == 0 && fstat(g->fd, &st) == 0 &&
            st.st_size <= JOURNAL_HEADER && unlink(g->path) == 0)
            removed = 1; /* empty: nothing to recover, leave no litter */
        close(g->fd);
    }
    resona__free(g->path);
    return removed;
}

void resona__journal_close(resona_journal *j)
{
    if (!j)
        return;
    /* The second file first: the first one's lock covers it until the end,
     * and the first one stays (as the journal's name) while the second
     * holds rows. */
    int gone1 = seg_close(&j->seg[1], j->cur != 1 || j->pending.len == 0);
    seg_close(&j->seg[0], gone1 && (j->cur != 0 || j->pending.len == 0));
    resona__buf_free(&j->pending);
    resona__free(j);
}
