/*
 * lance21/test_lance21.c - the format 2.1 decoders and their failure modes:
 * FastLanes bit-unpacking against a reference packer, FSST decoding and its
 * bad inputs, corrupted and truncated pages of real 2.1 fixtures (clean
 * RESONA_ECORRUPT errors naming the file and an offset, never a crash), and
 * the 64-byte alignment and 2.1 layouts of every page an append writes.
 */
#include "support.h"

#include "lance/reader.h"
#include "lance/table_int.h"
#include "lance/v21_decode.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- bit-unpacking ---- */

static const unsigned order[8] = {0, 4, 2, 6, 1, 5, 3, 7};

/* Reference FastLanes packer (the inverse of the layout in v21_bitpack.c). */
static void ref_pack(const uint64_t *v, unsigned t, unsigned w, uint8_t *out)
{
    unsigned lanes = 1024 / t;
    size_t words = (size_t)1024 * w / t;
    memset(out, 0, words * (t / 8));
    for (unsigned row = 0; row < t; row++)
        for (unsigned lane = 0; lane < lanes; lane++) {
            uint64_t x = v[order[row / 8] * 16 + (row % 8) * 128 + lane];
            for (unsigned b = 0; b < w; b++) {
                if (!(x >> b & 1))
                    continue;
                unsigned bit = row * w + b; /* bit in the lane's stream */
                size_t word = (size_t)lanes * (bit / t) + lane;
                unsigned in = bit % t;
                out[word * (t / 8) + in / 8] |= (uint8_t)(1u << (in % 8));
            }
        }
}

static void test_bitunpack(void **state)
{
    (void)state;
    static const unsigned cases[][2] = {{8, 0},  {8, 3},   {8, 8},   {16, 1},  {16, 7},  {16, 16},
                                        {32, 5}, {32, 17}, {32, 32}, {64, 13}, {64, 33}, {64, 64}};
    uint64_t v[1024], got[1024];
    uint8_t *packed = malloc(8 * 1024);
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        unsigned t = cases[c][0], w = cases[c][1];
        uint64_t mask = w == 64 ? ~(uint64_t)0 : (((uint64_t)1 << w) - 1);
        for (size_t i = 0; i < 1024; i++) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            v[i] = seed & mask;
        }
        ref_pack(v, t, w, packed);
        resona__v21_fl_unpack(packed, t, w, got);
        for (size_t i = 0; i < 1024; i++)
            if (got[i] != v[i]) {
                fprintf(stderr, "T=%u W=%u value %zu: %llu != %llu\n", t, w, i,
                        (unsigned long long)got[i], (unsigned long long)v[i]);
                fail();
            }
    }
    free(packed);
}

/* ---- FSST ---- */

static void test_fsst(void **state)
{
    (void)state;
    uint8_t tab[8 + 2 * 8 + 2];
    memset(tab, 0, sizeof(tab));
    uint64_t h = ((uint64_t)0x46535354 << 32) | ((uint64_t)1 << 24) | 2;
    for (int i = 0; i < 8; i++)
        tab[i] = (uint8_t)(h >> (8 * i));
    memcpy(tab + 8, "ab", 2);
    memcpy(tab + 16, "hello", 5);
    tab[24] = 2;
    tab[25] = 5;
    v21_where w = {"mem.lance", 0, 0, 100};
    v21_fsst f;
    assert_int_equal(resona__v21_fsst_parse(&w, tab, sizeof(tab), &f), 0);
    uint8_t *buf = NULL;
    size_t cap = 0, used = 0;
    const uint8_t in[] = {0, 1, 255, 'x', 0};
    assert_int_equal(resona__v21_fsst_decode(&w, &f, in, sizeof(in), &buf, &cap, &used), 0);
    assert_int_equal(used, 10);
    assert_memory_equal(buf, "abhelloxab", 10);
    const uint8_t bad_code[] = {2};
    assert_int_equal(resona__v21_fsst_decode(&w, &f, bad_code, 1, &buf, &cap, &used),
                     RESONA_ECORRUPT);
    assert_non_null(strstr(resona_error_message(), "mem.lance"));
    assert_non_null(strstr(resona_error_message(), "offset 100"));
    const uint8_t bad_esc[] = {0, 255};
    assert_int_equal(resona__v21_fsst_decode(&w, &f, bad_esc, 2, &buf, &cap, &used),
                     RESONA_ECORRUPT);
    free(buf);
    /* a table shorter than its symbols, and one without the magic */
    assert_int_equal(resona__v21_fsst_parse(&w, tab, 20, &f), RESONA_ECORRUPT);
    tab[7] = 0;
    assert_int_equal(resona__v21_fsst_parse(&w, tab, sizeof(tab), &f), RESONA_ECORRUPT);
}

/* ---- corrupted pages of real fixtures ---- */

static char *copy_fixture(const char *dir, const char *name)
{
    char *dst = ts_path(dir, name);
    int rc =
        ts_runf(NULL, "cp -r '%s/tests/lance21/fixtures/%s' '%s'", RESONA_SOURCE_DIR, name, dst);
    assert_int_equal(rc, 0);
    return dst;
}

/* The largest data file of a table (caller frees). */
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

/* Scan the whole table; return the first failure code (0 if none). */
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

static void poke(const char *file, uint64_t off, const void *bytes, size_t n)
{
    int fd = open(file, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, bytes, n, (off_t)off), (ssize_t)n);
    close(fd);
}

/* Page 0 of column col of a data file: its buffer offsets (and sizes). */
static void page_buffers(const char *file, uint32_t col, resona_type type, uint32_t dim,
                         uint64_t *off, uint64_t *size, size_t *nbuf)
{
    lance_file *f = NULL;
    assert_int_equal(resona__lfile_open(file, 0, &f), 0);
    lance_column c;
    assert_int_equal(resona__lfile_column(f, col, type, dim, &c), 0);
    assert_non_null(c.pages[0].v21);
    *nbuf = c.pages[0].nbuf;
    for (size_t b = 0; b < *nbuf && b < 3; b++) {
        off[b] = c.pages[0].boff[b];
        size[b] = c.pages[0].bsize[b];
    }
    resona__lfile_column_free(&c);
    resona__lfile_close(f);
}

static void expect_corrupt(const char *table, const char *file)
{
    int rc = scan_all(table);
    if (rc != RESONA_ECORRUPT)
        fprintf(stderr, "scan: %d %s\n", rc, resona_error_message());
    assert_int_equal(rc, RESONA_ECORRUPT);
    const char *base = strrchr(file, '/') + 1;
    assert_non_null(strstr(resona_error_message(), base));
    assert_non_null(strstr(resona_error_message(), "offset"));
}

static void test_corrupt_miniblock(void **state)
{
    (void)state;
    char *dir = ts_tmpdir("lance21-bad");
    char *t = copy_fixture(dir, "deletes21.lance");
    assert_int_equal(scan_all(t), 0);
    char *file = largest_data_file(t);
    uint64_t off[3], size[3];
    size_t nbuf;
    /* column 0: id strings, FSST mini-block chunks */
    page_buffers(file, 0, RESONA_TYPE_UTF8, 0, off, size, &nbuf);
    assert_true(nbuf >= 2);
    char *orig = ts_read_file(file, NULL);
    size_t flen;
    free(ts_read_file(file, &flen));
    /* 1. a chunk's buffer size far past the chunk */
    const uint8_t big[2] = {0xff, 0x7f};
    poke(file, off[1] + 2, big, 2);
    expect_corrupt(t, file);
    assert_int_equal(ts_write_file(file, orig, flen), 0);
    /* 2. a chunk metadata word saying the chunk is 32 KiB: past the chunk buffer */
    const uint8_t word[2] = {0xf0, 0xff};
    poke(file, off[0], word, 2);
    expect_corrupt(t, file);
    assert_int_equal(ts_write_file(file, orig, flen), 0);
    /* 3. string offsets garbled inside the first chunk */
    uint8_t junk[64];
    memset(junk, 0xee, sizeof(junk));
    poke(file, off[1] + 8, junk, sizeof(junk));
    expect_corrupt(t, file);
    assert_int_equal(ts_write_file(file, orig, flen), 0);
    /* 4. column 1: n, bit-packed; a width word larger than 64 bits */
    page_buffers(file, 1, RESONA_TYPE_INT64, 0, off, size, &nbuf);
    const uint8_t wide[8] = {65, 0, 0, 0, 0, 0, 0, 0};
    poke(file, off[1] + 8, wide, 8);
    expect_corrupt(t, file);
    assert_int_equal(ts_write_file(file, orig, flen), 0);
    assert_int_equal(scan_all(t), 0);
    /* 5. truncated: the manifest's size no longer matches; a truncated copy read directly */
    assert_int_equal(truncate(file, (off_t)(flen / 2)), 0);
    assert_int_equal(scan_all(t), RESONA_ECORRUPT);
    assert_non_null(strstr(resona_error_message(), strrchr(file, '/') + 1));
    lance_file *lf = NULL;
    assert_int_equal(resona__lfile_open(file, 0, &lf), RESONA_ECORRUPT);
    free(orig);
    free(file);
    free(t);
    assert_int_equal(ts_rmtree(dir), 0);
    free(dir);
}

static void test_corrupt_fullzip(void **state)
{
    (void)state;
    char *dir = ts_tmpdir("lance21-badfz");
    char *t = copy_fixture(dir, "mixed21.lance");
    assert_int_equal(scan_all(t), 0);
    char *file = largest_data_file(t);
    size_t flen;
    char *orig = ts_read_file(file, &flen);
    uint64_t off[3], size[3];
    size_t nbuf;
    /* column 4: doc, full-zip FSST records with a repetition index */
    page_buffers(file, 4, RESONA_TYPE_UTF8, 0, off, size, &nbuf);
    assert_int_equal(nbuf, 2);
    uint8_t ff[8];
    memset(ff, 0xff, sizeof(ff));
    poke(file, off[1] + size[1] - 2, ff, 2); /* last index entry past the records */
    expect_corrupt(t, file);
    assert_int_equal(ts_write_file(file, orig, flen), 0);
    poke(file, off[0] + 1, ff, 4); /* a record length past its range */
    expect_corrupt(t, file);
    assert_int_equal(ts_write_file(file, orig, flen), 0);
    assert_int_equal(scan_all(t), 0);
    free(orig);
    free(file);
    free(t);
    assert_int_equal(ts_rmtree(dir), 0);
    free(dir);
}

/* ---- appends write aligned 2.1 pages ---- */

static void test_append_layouts(void **state)
{
    (void)state;
    char *dir = ts_tmpdir("lance21-append");
    char *t = copy_fixture(dir, "mixed21.lance");
    char *before = largest_data_file(t);
    /* rows: nulls, a long string (full-zip), an all-null column */
    char *jl = ts_path(dir, "add.jsonl");
    FILE *f = fopen(jl, "w");
    assert_non_null(f);
    for (int i = 0; i < 300; i++) {
        fprintf(f,
                "{\"id\":\"a%d\",\"text\":%s,\"category\":\"c%d\",\"short\":\"s\","
                "\"doc\":\"%0*d\",\"n\":%d,\"runs\":%d,\"f32\":0.5,\"f64\":%d.25,"
                "\"flag\":%s,\"vector\":%s}\n",
                i, i % 3 ? "\"x\"" : "null", i % 4, 300 + i % 7, i, i, i / 10, i,
                i % 2 ? "true" : "false", i % 5 ? "[1,2,3,4,5,6,7,8]" : "null");
    }
    fclose(f);
    char *out = NULL;
    int rc = ts_runf(&out, "'%s' append '%s' --jsonl '%s' 2>&1",
                     ts_env("RESONA", RESONA_BINARY_DIR "/src/resona-cli/resona"), t, jl);
    if (rc)
        fprintf(stderr, "%s\n", out ? out : "");
    assert_int_equal(rc, 0);
    free(out);
    /* the new data file: the only one not in the fixture */
    char *ddir = ts_path(t, "data");
    DIR *d = opendir(ddir);
    char *newf = NULL;
    struct dirent *e;
    while ((e = readdir(d))) {
        char *fx = NULL;
        if (e->d_name[0] == '.')
            continue;
        char *fix =
            ts_path(RESONA_SOURCE_DIR "/tests/lance21/fixtures/mixed21.lance/data", e->d_name);
        if (access(fix, F_OK) != 0)
            newf = ts_path(ddir, e->d_name);
        free(fix);
        free(fx);
    }
    closedir(d);
    assert_non_null(newf);
    lance_file *lf = NULL;
    assert_int_equal(resona__lfile_open(newf, 0, &lf), 0);
    assert_int_equal(lf->major, 2);
    assert_int_equal(lf->minor, 1);
    static const resona_type types[] = {RESONA_TYPE_UTF8,  RESONA_TYPE_UTF8,    RESONA_TYPE_UTF8,
                                        RESONA_TYPE_UTF8,  RESONA_TYPE_UTF8,    RESONA_TYPE_INT64,
                                        RESONA_TYPE_INT64, RESONA_TYPE_FLOAT32, RESONA_TYPE_FLOAT64,
                                        RESONA_TYPE_BOOL,  RESONA_TYPE_UTF8,    RESONA_TYPE_VECTOR};
    int seen[4] = {0, 0, 0, 0};
    for (uint32_t c = 0; c < lf->ncols; c++) {
        lance_column col;
        assert_int_equal(resona__lfile_column(lf, c, types[c], c == 11 ? 8 : 0, &col), 0);
        for (size_t p = 0; p < col.npages; p++) {
            assert_non_null(col.pages[p].v21);
            seen[col.pages[p].v21->layout]++;
            for (size_t b = 0; b < col.pages[p].nbuf; b++)
                assert_int_equal(col.pages[p].boff[b] % 64, 0);
        }
        resona__lfile_column_free(&col);
    }
    resona__lfile_close(lf);
    assert_true(seen[V21_MINIBLOCK] > 0);
    assert_true(seen[V21_FULLZIP] > 0); /* doc: 300+ bytes */
    assert_true(seen[V21_ALLNULL] > 0); /* nothing */
    assert_int_equal(scan_all(t), 0);
    free(newf);
    free(ddir);
    free(jl);
    free(before);
    free(t);
    assert_int_equal(ts_rmtree(dir), 0);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bitunpack),         cmocka_unit_test(test_fsst),
        cmocka_unit_test(test_corrupt_miniblock), cmocka_unit_test(test_corrupt_fullzip),
        cmocka_unit_test(test_append_layouts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
