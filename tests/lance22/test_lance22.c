/*
 * lance22/test_lance22.c - the format 2.2 additions to the page decoders and
 * their failure modes: LZ4/zstd "general" buffers (both zstd framings, sizes
 * beyond the limit, wrong stated sizes, unknown schemes), RLE definition
 * levels in their block framing, the constant page's string value buffer,
 * corrupted pages of the real 2.2 fixtures (clean RESONA_ECORRUPT naming the
 * file and an offset, never a crash), and the 2.2 pages an append writes.
 */
#include "support.h"

#include "lance/reader.h"
#include "lance/table_int.h"
#include "lance/v21_decode.h"

#include <dirent.h>
#include <fcntl.h>
#include <lz4.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

static const v21_where W = {"mem.lance", 3, 0, 100};

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* ---- general compression ---- */

static void test_general(void **state)
{
    (void)state;
    char text[5000];
    for (size_t i = 0; i < sizeof(text); i++)
        text[i] = "Tana nodes résumé "[i % 18];
    uint8_t *out = NULL;
    size_t cap = 0, used = 0;

    /* LZ4: u32 size + block */
    uint8_t lz[8000];
    int zl = LZ4_compress_default(text, (char *)lz + 4, (int)sizeof(text), (int)sizeof(lz) - 4);
    assert_true(zl > 0);
    put32(lz, sizeof(text));
    assert_int_equal(
        resona__v22_general_decompress(&W, 1, lz, (size_t)zl + 4, 1 << 20, &out, &cap, &used), 0);
    assert_int_equal(used, sizeof(text));
    assert_memory_equal(out, text, sizeof(text));
    /* appends after what is there */
    assert_int_equal(
        resona__v22_general_decompress(&W, 1, lz, (size_t)zl + 4, 1 << 20, &out, &cap, &used), 0);
    assert_int_equal(used, 2 * sizeof(text));
    /* stated size beyond the limit, wrong stated size, truncated block, short prefix */
    used = 0;
    assert_int_equal(
        resona__v22_general_decompress(&W, 1, lz, (size_t)zl + 4, 100, &out, &cap, &used),
        RESONA_ECORRUPT);
    assert_non_null(strstr(resona_error_message(), "mem.lance"));
    assert_non_null(strstr(resona_error_message(), "offset 100"));
    put32(lz, sizeof(text) + 1);
    assert_int_equal(
        resona__v22_general_decompress(&W, 1, lz, (size_t)zl + 4, 1 << 20, &out, &cap, &used),
        RESONA_ECORRUPT);
    put32(lz, sizeof(text));
    assert_int_equal(
        resona__v22_general_decompress(&W, 1, lz, (size_t)zl / 2, 1 << 20, &out, &cap, &used),
        RESONA_ECORRUPT);
    assert_int_equal(resona__v22_general_decompress(&W, 1, lz, 3, 1 << 20, &out, &cap, &used),
                     RESONA_ECORRUPT);
    assert_int_equal(used, 0);

    /* zstd: u64 size + frame, and a bare frame */
    uint8_t zs[8000];
    size_t n = ZSTD_compress(zs + 8, sizeof(zs) - 8, text, sizeof(text), 3);
    assert_false(ZSTD_isError(n));
    put64(zs, sizeof(text));
    assert_int_equal(resona__v22_general_decompress(&W, 2, zs, n + 8, 1 << 20, &out, &cap, &used),
                     0);
    assert_int_equal(used, sizeof(text));
    assert_memory_equal(out, text, sizeof(text));
    used = 0;
    assert_int_equal(resona__v22_general_decompress(&W, 2, zs + 8, n, 1 << 20, &out, &cap, &used),
                     0);
    assert_int_equal(used, sizeof(text));
    assert_memory_equal(out, text, sizeof(text));
    used = 0;
    assert_int_equal(resona__v22_general_decompress(&W, 2, zs + 8, n, 100, &out, &cap, &used),
                     RESONA_ECORRUPT);
    put64(zs, (uint64_t)1 << 40);
    assert_int_equal(resona__v22_general_decompress(&W, 2, zs, n + 8, 1 << 20, &out, &cap, &used),
                     RESONA_ECORRUPT);
    put64(zs, sizeof(text) - 1);
    assert_int_equal(resona__v22_general_decompress(&W, 2, zs, n + 8, 1 << 20, &out, &cap, &used),
                     RESONA_ECORRUPT);
    put64(zs, sizeof(text));
    assert_int_equal(
        resona__v22_general_decompress(&W, 2, zs, n / 2 + 8, 1 << 20, &out, &cap, &used),
        RESONA_ECORRUPT);
    assert_int_equal(used, 0);
    /* an empty zstd buffer is an empty value */
    assert_int_equal(resona__v22_general_decompress(&W, 2, zs, 0, 1 << 20, &out, &cap, &used), 0);
    assert_int_equal(used, 0);
    /* schemes other than LZ4 and zstd */
    assert_int_equal(resona__v22_general_decompress(&W, 3, zs, n + 8, 1 << 20, &out, &cap, &used),
                     RESONA_EUNSUPPORTED);
    assert_int_equal(resona__v22_general_decompress(&W, 0, zs, n + 8, 1 << 20, &out, &cap, &used),
                     RESONA_EUNSUPPORTED);
    free(out);
}

/* ---- RLE definition levels (block framing) ---- */

static void test_rle_levels(void **state)
{
    (void)state;
    L21__Flat vf = L21__FLAT__INIT, lf = L21__FLAT__INIT;
    vf.has_bits_per_value = lf.has_bits_per_value = 1;
    vf.bits_per_value = 16;
    lf.bits_per_value = 8;
    L21__CompressiveEncoding vce = L21__COMPRESSIVE_ENCODING__INIT;
    L21__CompressiveEncoding lce = L21__COMPRESSIVE_ENCODING__INIT;
    vce.compression_case = L21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT;
    vce.flat = &vf;
    lce.compression_case = L21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT;
    lce.flat = &lf;
    L21__Rle rle = L21__RLE__INIT;
    rle.values = &vce;
    rle.run_lengths = &lce;
    L21__CompressiveEncoding ce = L21__COMPRESSIVE_ENCODING__INIT;
    ce.compression_case = L21__COMPRESSIVE_ENCODING__COMPRESSION_RLE;
    ce.rle = &rle;
    /* the observed frame: u64 values size 6 | u16 1,0,1 | u8 runs 1,10,2 */
    const uint8_t frame[] = {6, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 10, 2};
    uint16_t lev[13 + 1024];
    assert_int_equal(resona__v21_levels_decode(&W, &ce, frame, sizeof(frame), 13, lev), 0);
    assert_int_equal(lev[0], 1);
    for (int i = 1; i < 11; i++)
        assert_int_equal(lev[i], 0);
    assert_int_equal(lev[11], 1);
    assert_int_equal(lev[12], 1);
    /* runs covering too few levels; a values size past the buffer; too short */
    assert_int_equal(resona__v21_levels_decode(&W, &ce, frame, sizeof(frame), 14, lev),
                     RESONA_ECORRUPT);
    uint8_t bad[sizeof(frame)];
    memcpy(bad, frame, sizeof(frame));
    bad[0] = 200;
    assert_int_equal(resona__v21_levels_decode(&W, &ce, bad, sizeof(bad), 13, lev),
                     RESONA_ECORRUPT);
    assert_non_null(strstr(resona_error_message(), "mem.lance"));
    assert_int_equal(resona__v21_levels_decode(&W, &ce, frame, 5, 13, lev), RESONA_ECORRUPT);
    /* values and run lengths of different counts */
    bad[0] = 4;
    assert_int_equal(resona__v21_levels_decode(&W, &ce, bad, sizeof(bad), 13, lev),
                     RESONA_ECORRUPT);
    /* raw u16 levels (no compression) */
    const uint8_t raw[] = {0, 0, 1, 0, 0, 0};
    assert_int_equal(resona__v21_levels_decode(&W, NULL, raw, sizeof(raw), 3, lev), 0);
    assert_int_equal(lev[1], 1);
    assert_int_equal(resona__v21_levels_decode(&W, NULL, raw, sizeof(raw), 4, lev),
                     RESONA_ECORRUPT);
}

/* ---- the constant page's string value ---- */

static void test_const_string(void **state)
{
    (void)state;
    v21_page p;
    memset(&p, 0, sizeof(p));
    /* as LanceDB 0.39 writes "bge-m3": 2 buffers of 8 and 6 bytes, i32 offsets [0, 6] */
    const uint8_t ok[] = {2, 0, 0, 0, 8, 0, 0, 0, 6, 0, 0, 0, 0,   0,   0,   0,   6,  0,
                          0, 0, 'b', 'g', 'e', '-', 'm', '3'};
    assert_int_equal(resona__v22_const_string(&W, &p, ok, sizeof(ok)), 0);
    assert_int_equal(p.cstr_len, 6);
    assert_memory_equal(p.cstr, "bge-m3", 6);
    free(p.cstr);
    p.cstr = NULL;
    uint8_t bad[sizeof(ok)];
    memcpy(bad, ok, sizeof(ok));
    bad[0] = 3; /* three buffers */
    assert_int_equal(resona__v22_const_string(&W, &p, bad, sizeof(bad)), RESONA_ECORRUPT);
    memcpy(bad, ok, sizeof(ok));
    bad[8] = 7; /* bytes length disagrees with the buffer */
    assert_int_equal(resona__v22_const_string(&W, &p, bad, sizeof(bad)), RESONA_ECORRUPT);
    memcpy(bad, ok, sizeof(ok));
    bad[16] = 9; /* end offset past the bytes */
    assert_int_equal(resona__v22_const_string(&W, &p, bad, sizeof(bad)), RESONA_ECORRUPT);
    memcpy(bad, ok, sizeof(ok));
    bad[12] = 7; /* start after end */
    assert_int_equal(resona__v22_const_string(&W, &p, bad, sizeof(bad)), RESONA_ECORRUPT);
    assert_int_equal(resona__v22_const_string(&W, &p, ok, 11), RESONA_ECORRUPT);
    assert_null(p.cstr);
}

/* ---- corrupted pages of the real 2.2 fixtures ---- */

static int scan_all(const char *path)
{
    resona_table *t = NULL;
    int rc = resona_table_open(path, NULL, &t);
    if (rc < 0)
        return rc;
    resona_scan *s = NULL;
    if ((rc = resona_table_scan(t, NULL, &s)) == 0) {
        const resona_chunk *ch;
        while ((rc = resona_scan_next(s, &ch)) > 0)
            ;
        resona_scan_free(s);
    }
    resona_table_free(t);
    return rc;
}

static char *copy_fixture(const char *dir, const char *name)
{
    char *dst = ts_path(dir, name);
    int rc =
        ts_runf(NULL, "cp -r '%s/tests/lance22/fixtures/%s' '%s'", RESONA_SOURCE_DIR, name, dst);
    assert_int_equal(rc, 0);
    return dst;
}

static char *largest_data_file(const char *table)
{
    char *ddir = ts_path(table, "data");
    DIR *d = opendir(ddir);
    assert_non_null(d);
    char *best = NULL;
    off_t bsz = -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *p = ts_path(ddir, e->d_name);
        struct stat st;
        assert_int_equal(stat(p, &st), 0);
        if (st.st_size > bsz) {
            bsz = st.st_size;
            free(best);
            best = p;
        } else {
            free(p);
        }
    }
    closedir(d);
    free(ddir);
    return best;
}

static void poke(const char *file, uint64_t off, const void *bytes, size_t n)
{
    int fd = open(file, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, bytes, n, (off_t)off), (ssize_t)n);
    close(fd);
}

/* Page 0 of column col: its layout and buffer offsets/sizes. */
static int page_buffers(const char *file, uint32_t col, resona_type type, uint64_t *off,
                        uint64_t *size, size_t *nbuf)
{
    lance_file *f = NULL;
    assert_int_equal(resona__lfile_open(file, 0, &f), 0);
    lance_column c;
    assert_int_equal(resona__lfile_column(f, col, type, 0, &c), 0);
    assert_non_null(c.pages[0].v21);
    int layout = c.pages[0].v21->layout;
    *nbuf = c.pages[0].nbuf;
    for (size_t b = 0; b < *nbuf && b < 3; b++) {
        off[b] = c.pages[0].boff[b];
        size[b] = c.pages[0].bsize[b];
    }
    resona__lfile_column_free(&c);
    resona__lfile_close(f);
    return layout;
}

static void expect_corrupt(const char *table, const char *file)
{
    int rc = scan_all(table);
    if (rc != RESONA_ECORRUPT)
        fprintf(stderr, "scan: %d %s\n", rc, resona_error_message());
    assert_int_equal(rc, RESONA_ECORRUPT);
    assert_non_null(strstr(resona_error_message(), strrchr(file, '/') + 1));
    assert_non_null(strstr(resona_error_message(), "offset"));
}

static void test_corrupt_emb22(void **state)
{
    (void)state;
    char *dir = ts_tmpdir("lance22-bad");
    char *t = copy_fixture(dir, "emb22.lance");
    assert_int_equal(scan_all(t), 0);
    char *file = largest_data_file(t);
    size_t flen;
    char *orig = ts_read_file(file, &flen);
    uint64_t off[3], size[3];
    size_t nbuf;

    /* column 3: model, a dictionary whose items are LZ4-compressed (page buffer 2) */
    assert_int_equal(page_buffers(file, 3, RESONA_TYPE_UTF8, off, size, &nbuf), V21_MINIBLOCK);
    assert_int_equal(nbuf, 3);
    uint32_t stated = (uint32_t)((uint8_t)orig[off[2]] | (uint8_t)orig[off[2] + 1] << 8);
    uint8_t w4[4];
    put32(w4, stated + 1); /* the block decompresses to fewer bytes than stated */
    poke(file, off[2], w4, 4);
    expect_corrupt(t, file);
    put32(w4, 0xffffffffu); /* beyond any limit */
    poke(file, off[2], w4, 4);
    expect_corrupt(t, file);
    assert_int_equal(ts_write_file(file, orig, flen), 0);

    /* column 2: context_text, full-zip records [def u8][u32 len][zstd: u64 size | frame] */
    assert_int_equal(page_buffers(file, 2, RESONA_TYPE_UTF8, off, size, &nbuf), V21_FULLZIP);
    const uint8_t *r = (const uint8_t *)orig + off[0];
    size_t o = 0, zpos = 0;
    while (o < size[0]) {
        if (r[o] & 1) { /* null */
            o++;
            continue;
        }
        uint32_t l = (uint32_t)r[o + 1] | (uint32_t)r[o + 2] << 8 | (uint32_t)r[o + 3] << 16 |
                     (uint32_t)r[o + 4] << 24;
        if (l >= 12 && !zpos)
            zpos = off[0] + o + 5; /* the first value: every one is compressed on its own */
        o += 5 + l;
    }
    assert_true(zpos > 0);
    uint8_t w8[8];
    put64(w8, (uint64_t)1 << 50);
    poke(file, zpos, w8, 8);
    expect_corrupt(t, file);
    uint64_t real = 0;
    for (int i = 7; i >= 0; i--)
        real = real << 8 | (uint8_t)orig[zpos + (uint64_t)i];
    put64(w8, real + 3);
    poke(file, zpos, w8, 8);
    expect_corrupt(t, file);
    assert_int_equal(ts_write_file(file, orig, flen), 0);
    assert_int_equal(scan_all(t), 0);
    free(orig);
    free(file);
    free(t);
    assert_int_equal(ts_rmtree(dir), 0);
    free(dir);
}

static void test_corrupt_constant(void **state)
{
    (void)state;
    char *dir = ts_tmpdir("lance22-badconst");
    char *t = copy_fixture(dir, "kinds22.lance");
    assert_int_equal(scan_all(t), 0);
    char *file = largest_data_file(t);
    size_t flen;
    char *orig = ts_read_file(file, &flen);
    uint64_t off[3], size[3];
    size_t nbuf;
    /* column 9: model_n, a constant string (buffer 0) with definition levels (buffer 2) */
    assert_int_equal(page_buffers(file, 9, RESONA_TYPE_UTF8, off, size, &nbuf), V22_CONSTANT);
    assert_int_equal(nbuf, 3);
    uint8_t w4[4];
    put32(w4, 1000); /* the value's byte count past its buffer */
    poke(file, off[0] + 8, w4, 4);
    expect_corrupt(t, file);
    assert_int_equal(ts_write_file(file, orig, flen), 0);
    /* 3 buffers instead of the 2 a string value has */
    put32(w4, 3);
    poke(file, off[0], w4, 4);
    expect_corrupt(t, file);
    assert_int_equal(ts_write_file(file, orig, flen), 0);
    /* column 1: dim_nulls, an inline constant with raw u16 levels (one per row) */
    assert_int_equal(page_buffers(file, 1, RESONA_TYPE_FLOAT64, off, size, &nbuf), V22_CONSTANT);
    assert_int_equal(size[1], 240);
    assert_int_equal(scan_all(t), 0);
    free(orig);
    free(file);
    free(t);
    assert_int_equal(ts_rmtree(dir), 0);
    free(dir);
}

/* ---- appends write 2.2 pages: u32 chunk grammar, footer 2.2 ---- */

static void test_append_layouts(void **state)
{
    (void)state;
    char *dir = ts_tmpdir("lance22-append");
    char *t = copy_fixture(dir, "emb22.lance");
    /* rows: nulls, long strings (full-zip), an all-null column (text_hash) */
    char *jl = ts_path(dir, "add.jsonl");
    FILE *f = fopen(jl, "w");
    assert_non_null(f);
    for (int i = 0; i < 300; i++)
        fprintf(f,
                "{\"id\":\"a%d\",\"text_hash\":null,\"context_text\":\"%0*d\","
                "\"model\":%s,\"dimensions\":8,\"metadata\":\"\",\"created_at\":%d,"
                "\"updated_at\":%d,\"vector\":%s}\n",
                i, i % 2 ? 300 + i : 5, i, i % 3 ? "\"bge-m3\"" : "null", i, i,
                i % 5 ? "[1,2,3,4,5,6,7,8]" : "null");
    fclose(f);
    char *out = NULL;
    int rc = ts_runf(&out, "'%s' append '%s' --jsonl '%s' 2>&1",
                     ts_env("RESONA", RESONA_BINARY_DIR "/src/resona-cli/resona"), t, jl);
    if (rc)
        fprintf(stderr, "%s\n", out ? out : "");
    assert_int_equal(rc, 0);
    free(out);
    char *ddir = ts_path(t, "data");
    DIR *d = opendir(ddir);
    char *newf = NULL;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *fix =
            ts_path(RESONA_SOURCE_DIR "/tests/lance22/fixtures/emb22.lance/data", e->d_name);
        if (access(fix, F_OK) != 0)
            newf = ts_path(ddir, e->d_name);
        free(fix);
    }
    closedir(d);
    assert_non_null(newf);
    lance_file *lf = NULL;
    assert_int_equal(resona__lfile_open(newf, 0, &lf), 0);
    assert_int_equal(lf->major, 2);
    assert_int_equal(lf->minor, 2);
    static const resona_type types[] = {RESONA_TYPE_UTF8,    RESONA_TYPE_UTF8,
                                        RESONA_TYPE_UTF8,    RESONA_TYPE_UTF8,
                                        RESONA_TYPE_FLOAT64, RESONA_TYPE_UTF8,
                                        RESONA_TYPE_FLOAT64, RESONA_TYPE_FLOAT64,
                                        RESONA_TYPE_VECTOR};
    int seen[5] = {0, 0, 0, 0, 0};
    assert_int_equal(lf->ncols, 9);
    for (uint32_t c = 0; c < lf->ncols; c++) {
        lance_column col;
        assert_int_equal(resona__lfile_column(lf, c, types[c], c == 8 ? 8 : 0, &col), 0);
        for (size_t p = 0; p < col.npages; p++) {
            const v21_page *v = col.pages[p].v21;
            assert_non_null(v);
            seen[v->layout]++;
            if (v->layout == V21_MINIBLOCK)
                assert_int_equal(v->large, 1); /* 2.2 readers require the u32 grammar */
            for (size_t b = 0; b < col.pages[p].nbuf; b++)
                assert_int_equal(col.pages[p].boff[b] % 64, 0);
        }
        resona__lfile_column_free(&col);
    }
    resona__lfile_close(lf);
    assert_true(seen[V21_MINIBLOCK] > 0);
    assert_true(seen[V21_FULLZIP] > 0); /* context_text: 300+ bytes */
    assert_true(seen[V21_ALLNULL] > 0); /* text_hash */
    assert_int_equal(scan_all(t), 0);
    free(newf);
    free(ddir);
    free(jl);
    free(t);
    assert_int_equal(ts_rmtree(dir), 0);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_general),       cmocka_unit_test(test_rle_levels),
        cmocka_unit_test(test_const_string),  cmocka_unit_test(test_corrupt_emb22),
        cmocka_unit_test(test_corrupt_constant), cmocka_unit_test(test_append_layouts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
