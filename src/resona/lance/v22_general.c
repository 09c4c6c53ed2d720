/*
 * lance/v22_general.c - "general" (LZ4 / zstd) buffer compression of Lance
 * file format 2.2 pages (docs/lance-2.2.md section 4).
 *
 * LanceDB 0.39 (format 2.2) compresses by default: full-zip string values of
 * 32 KiB and more one by one with zstd, and dictionary items with LZ4. A
 * compressed buffer is framed so that its decompressed size is known first:
 *
 *   LZ4    u32 LE decompressed size | LZ4 block (no frame)
 *   zstd   u64 LE decompressed size | zstd frame
 *          or, as older lance wrote it, a bare zstd frame: magic 28 b5 2f fd
 *          and the reserved bit 0x10 of the frame header descriptor clear
 *
 * The stated size is checked before anything is allocated against the
 * caller's bound and against what the input could possibly expand to (LZ4:
 * at most 255 bytes out per byte in; zstd: every block has a 3-byte header
 * and yields at most 128 KiB), and the decompressor must produce exactly that
 * many bytes: a corrupt or hostile page cannot make resona allocate more.
 */
#include "lance/v21_decode.h"

#include "util/alloc.h"
#include "util/endian.h"
#include "util/error.h"

#include <inttypes.h>
#include <lz4.h>
#include <string.h>
#include <zstd.h>

#define ZSTD_MAGIC 0xFD2FB528u
#define ZSTD_BLOCK_MAX ((uint64_t)128 << 10)

/* The most a zstd frame of `len` bytes can decompress to. */
static uint64_t zstd_most(size_t len)
{
    return ((uint64_t)len / 3 + 1) * ZSTD_BLOCK_MAX;
}

static int bad(const v21_where *w, const char *what, uint64_t value)
{
    return resona__error_set(RESONA_ECORRUPT,
                             "%s: column %u page %zu: %s (value %" PRIu64 ", offset %" PRIu64 ")",
                             w->path, w->col, w->page, what, value, w->off);
}

int resona__v22_general_check(const v21_where *w, int32_t scheme)
{
    if (scheme == 1 || scheme == 2)
        return 0;
    return resona__error_set(RESONA_EUNSUPPORTED,
                             "%s: column %u page %zu: general compression scheme %d (resona "
                             "reads 1 LZ4 and 2 zstd; format 2.2 page, offset %" PRIu64 ")",
                             w->path, w->col, w->page, (int)scheme, w->off);
}

/* A bare zstd frame (no size prefix): decompress by streaming, at most `max` bytes. */
static int zstd_stream(const v21_where *w, const uint8_t *in, size_t len, size_t max,
                       uint8_t **buf, size_t *cap, size_t *used)
{
    unsigned long long fs = ZSTD_getFrameContentSize(in, len);
    if (fs == ZSTD_CONTENTSIZE_ERROR)
        return bad(w, "zstd frame header is corrupt", len);
    if (fs != ZSTD_CONTENTSIZE_UNKNOWN) {
        if (fs > max || fs > zstd_most(len))
            return bad(w, "zstd frame states a size beyond the limit", fs);
        int rc = resona__grow((void **)buf, cap, *used + (size_t)fs + 1);
        if (rc < 0)
            return rc;
        size_t got = ZSTD_decompress(*buf + *used, (size_t)fs, in, len);
        if (ZSTD_isError(got) || got != fs)
            return bad(w, "zstd frame does not decompress to its stated size", fs);
        *used += got;
        return 0;
    }
    ZSTD_DStream *z = ZSTD_createDStream();
    if (!z)
        return RESONA_ENOMEM;
    ZSTD_inBuffer ib = {in, len, 0};
    size_t start = *used;
    int rc = 0;
    for (;;) {
        if ((rc = resona__grow((void **)buf, cap, *used + 65536)) < 0)
            break;
        ZSTD_outBuffer ob = {*buf + *used, *cap - *used - 1, 0};
        size_t r = ZSTD_decompressStream(z, &ob, &ib);
        if (ZSTD_isError(r)) {
            rc = bad(w, "zstd frame is corrupt", len);
            break;
        }
        *used += ob.pos;
        if (*used - start > max) {
            rc = bad(w, "zstd frame decompresses beyond the limit", *used - start);
            break;
        }
        if (r == 0)
            break;
        if (ib.pos == ib.size && ob.pos == 0) {
            rc = bad(w, "zstd frame is truncated", len);
            break;
        }
    }
    ZSTD_freeDStream(z);
    return rc;
}

int resona__v22_general_decompress(const v21_where *w, int32_t scheme, const uint8_t *in,
                                   size_t len, size_t max, uint8_t **buf, size_t *cap,
                                   size_t *used)
{
    int rc = resona__v22_general_check(w, scheme);
    if (rc < 0)
        return rc;
    if (scheme == 1) { /* LZ4 */
        if (len < 4)
            return bad(w, "LZ4 buffer shorter than its size prefix", len);
        uint32_t n = resona__le32(in);
        if (n > max || n > (uint32_t)LZ4_MAX_INPUT_SIZE || (uint64_t)n > ((uint64_t)len + 1) * 255)
            return bad(w, "LZ4 buffer states a size beyond the limit", n);
        if (len - 4 > (size_t)INT32_MAX)
            return bad(w, "LZ4 buffer too large", len);
        if ((rc = resona__grow((void **)buf, cap, *used + n + 1)) < 0)
            return rc;
        int got = n ? LZ4_decompress_safe((const char *)in + 4, (char *)*buf + *used,
                                          (int)(len - 4), (int)n)
                    : 0;
        if (got < 0 || (uint32_t)got != n)
            return bad(w, "LZ4 block does not decompress to its stated size", n);
        *used += n;
        return 0;
    }
    /* zstd */
    if (len == 0)
        return 0;
    if (len >= 5 && resona__le32(in) == ZSTD_MAGIC && !(in[4] & 0x10))
        return zstd_stream(w, in, len, max, buf, cap, used);
    if (len < 8)
        return bad(w, "zstd buffer shorter than its size prefix", len);
    uint64_t n = resona__le64(in);
    if (n > max || n > zstd_most(len - 8))
        return bad(w, "zstd buffer states a size beyond the limit", n);
    if ((rc = resona__grow((void **)buf, cap, *used + (size_t)n + 1)) < 0)
        return rc;
    size_t got = ZSTD_decompress(*buf + *used, (size_t)n, in + 8, len - 8);
    if (ZSTD_isError(got) || got != n)
        return bad(w, "zstd frame does not decompress to its stated size", n);
    *used += got;
    return 0;
}
