/*
 * pipeline/test_pipeline_parts.c - the parts of the pipeline that need no
 * server and no table: base ids, text hashes, the original's chunking
 * (counted in UTF-16 units), the known-rows index, the column buffer and
 * the journal (round trip, torn tail, corruption, lock).
 */
#include "support.h"

#include "pipeline/buffer.h"
#include "pipeline/chunk.h"
#include "pipeline/journal.h"
#include "pipeline/known.h"
#include "pipeline/row.h"
#include "util/alloc.h"

#include <resona/pipeline.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static size_t base_len(const char *id)
{
    return resona_pipeline_base_id_len(id, strlen(id));
}

static void test_base_id(void **state)
{
    (void)state;
    assert_int_equal(base_len("abc"), 3);
    assert_int_equal(base_len("abc#12"), 3);
    assert_int_equal(base_len("abc#0"), 3);
    assert_int_equal(base_len("abc#"), 4);   /* no digits after '#' */
    assert_int_equal(base_len("abc#1x"), 6); /* not only digits */
    assert_int_equal(base_len("a#b#3"), 3);  /* the LAST '#' */
    assert_int_equal(base_len("#5"), 0);     /* as the original: empty base */
    assert_int_equal(base_len(""), 0);
    assert_int_equal(base_len("x#-1"), 4);
}

static void test_text_hash(void **state)
{
    (void)state;
    char h[65];
    resona_pipeline_text_hash("", 0, h);
    assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    /* a row of the original's table (golden/sample-embeddings.jsonl) */
    resona_pipeline_text_hash("Wrapping up agendas", 19, h);
    assert_string_equal(h, "7121690f77685bc78cfeb732118d4e650dabf54a79eb4e628e497b3137430e7e");
}

static void test_default_chunk_size(void **state)
{
    (void)state;
    assert_int_equal(resona_pipeline_default_chunk_size("bge-m3"), 24576);
    assert_int_equal(resona_pipeline_default_chunk_size("bge-m3:latest"), 24576);
    assert_int_equal(resona_pipeline_default_chunk_size("nomic-embed-text"), 24576);
    assert_int_equal(resona_pipeline_default_chunk_size("mxbai-embed-large"), 1536);
    assert_int_equal(resona_pipeline_default_chunk_size("all-minilm"), 1536);
    assert_int_equal(resona_pipeline_default_chunk_size("something-else"), 1536);
    assert_int_equal(resona_pipeline_default_chunk_size(NULL), 1536);
}

static void expect_spans(size_t units, size_t size, size_t overlap, const size_t *want,
                         size_t want_count)
{
    resona_chunk_span *s = NULL;
    size_t n = 0;
    assert_int_equal(resona__chunk_spans(units, size, overlap, &s, &n), 0);
    assert_int_equal(n, want_count);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(s[i].start, want[2 * i]);
        assert_int_equal(s[i].end, want[2 * i + 1]);
    }
    resona__free(s);
}

static void test_chunk_spans(void **state)
{
    (void)state;
    /* resona's own test: 250 x "A", size 100, overlap 20 -> long-item#0..2 */
    const size_t a[] = {0, 100, 80, 180, 160, 250};
    expect_spans(250, 100, 20, a, 3);
    const size_t one[] = {0, 100};
    expect_spans(100, 100, 20, one, 1); /* len <= size: the text itself */
    const size_t empty[] = {0, 0};
    expect_spans(0, 100, 20, empty, 1);
    /* 175: after [80,175) the rest (15 < overlap) is covered: stop */
    const size_t b[] = {0, 100, 80, 175};
    expect_spans(175, 100, 20, b, 2);
    /* 180: the rest is exactly the overlap: the original still emits [160,180) */
    const size_t c[] = {0, 100, 80, 180, 160, 180};
    expect_spans(180, 100, 20, c, 3);
    /* defaults of bge-m3: 24576 / 500 */
    const size_t d[] = {0, 24576, 24076, 48652, 48152, 50000};
    expect_spans(50000, 24576, 500, d, 3);
    resona_chunk_span *s = NULL;
    size_t n = 0;
    assert_int_equal(resona__chunk_spans(10, 20, 20, &s, &n), RESONA_EINVALID);
    assert_int_equal(resona__chunk_spans(10, 0, 0, &s, &n), RESONA_EINVALID);
}

static char *slice(const char *text, size_t start, size_t end)
{
    resona_buf b = RESONA_BUF_INIT(0);
    assert_int_equal(resona__chunk_slice(text, strlen(text), start, end, &b), 0);
    assert_int_equal(resona__buf_putc(&b, '\0'), 0);
    return resona__buf_detach(&b, NULL);
}

static void test_chunk_utf16(void **state)
{
    (void)state;
    /* "a😀é€b": a=1, 😀=2 (a surrogate pair), é=1, €=1, b=1 UTF-16 units */
    const char *t = "a\xF0\x9F\x98\x80\xC3\xA9\xE2\x82\xAC"
                    "b";
    assert_int_equal(resona__chunk_utf16_len(t, strlen(t)), 6);
    char *s = slice(t, 1, 3);
    assert_string_equal(s, "\xF0\x9F\x98\x80");
    resona__free(s);
    /* a bound inside the pair: JS keeps a lone surrogate, UTF-8 makes it U+FFFD */
    s = slice(t, 0, 2);
    assert_string_equal(s, "a\xEF\xBF\xBD");
    resona__free(s);
    s = slice(t, 2, 6);
    assert_string_equal(s, "\xEF\xBF\xBD\xC3\xA9\xE2\x82\xAC"
                           "b");
    resona__free(s);
    s = slice(t, 3, 5);
    assert_string_equal(s, "\xC3\xA9\xE2\x82\xAC");
    resona__free(s);
    /* invalid UTF-8 bytes count one unit each and are copied as they are */
    assert_int_equal(resona__chunk_utf16_len("a\xFF"
                                             "b",
                                             3),
                     3);
    /* a 250-character text chunked as resona does */
    char big[251];
    memset(big, 'A', 250);
    big[250] = '\0';
    s = slice(big, 160, 250);
    assert_int_equal(strlen(s), 90);
    resona__free(s);
}

static void test_known(void **state)
{
    (void)state;
    resona_known *k = NULL;
    assert_int_equal(resona__known_new(&k), 0);
    char h1[65], h2[65];
    resona_pipeline_text_hash("one", 3, h1);
    resona_pipeline_text_hash("two", 3, h2);
    assert_int_equal(resona__known_add_row(k, "a", 1, h1, 64, 1, 1), 0);
    assert_int_equal(resona__known_add_row(k, "b#0", 3, h2, 64, 1, 1), 0);
    assert_int_equal(resona__known_add_row(k, "b#1", 3, h2, 64, 1, 1), 0);
    assert_int_equal(resona__known_add_row(k, "c#0", 3, h1, 64, 1, 1), 0);
    assert_int_equal(resona__known_add_row(k, "c#1", 3, h2, 64, 1, 1), 0); /* disagree */
    assert_int_equal(resona__known_add_row(k, "d", 1, h1, 64, 0, 1), 0);   /* other model */
    assert_int_equal(resona__known_add_row(k, "e", 1, "XYZ", 3, 1, 1), 0); /* not a hash */
    resona_known_entry *e = resona__known_find(k, "a", 1);
    assert_non_null(e);
    assert_int_equal(e->flags, RESONA_KNOWN_IN_TABLE | RESONA_KNOWN_PLAIN);
    e = resona__known_find(k, "b", 1);
    assert_non_null(e);
    assert_int_equal(e->rows, 2);
    assert_int_equal(e->flags, RESONA_KNOWN_IN_TABLE);
    int extras = 0;
    for (resona_known_extra *x = e->extra; x; x = x->next)
        extras++;
    assert_int_equal(extras, 2);
    assert_true(resona__known_find(k, "c", 1)->flags & RESONA_KNOWN_STALE);
    assert_true(resona__known_find(k, "d", 1)->flags & RESONA_KNOWN_STALE);
    assert_true(resona__known_find(k, "e", 1)->flags & RESONA_KNOWN_STALE);
    assert_null(resona__known_find(k, "zz", 2));
    /* growth past the initial slots keeps every entry */
    char id[32];
    for (int i = 0; i < 20000; i++) {
        int n = snprintf(id, sizeof(id), "node-%d", i);
        assert_int_equal(resona__known_add_row(k, id, (size_t)n, h1, 64, 1, 1), 0);
    }
    assert_int_equal(resona__known_count(k), 20005);
    for (int i = 0; i < 20000; i += 997) {
        int n = snprintf(id, sizeof(id), "node-%d", i);
        assert_non_null(resona__known_find(k, id, (size_t)n));
    }
    resona__known_free(k);
}

static resona_prow *mkrow(const char *id, const char *text, uint32_t dim, float seed)
{
    char h[65];
    resona_pipeline_text_hash(text, strlen(text), h);
    float v[8];
    for (uint32_t i = 0; i < dim && i < 8; i++)
        v[i] = seed + (float)i;
    return resona__prow_new(id, strlen(id), h, text, strlen(text), "bge-m3", 6, "{\"a\":1}", 7,
                            1700000000123.0, v, dim);
}

static void test_rowbuf(void **state)
{
    (void)state;
    resona_rowbuf b = {0};
    for (int i = 0; i < 100; i++) {
        char id[16];
        snprintf(id, sizeof(id), "n%d", i);
        resona_prow *r = mkrow(id, "text", 4, (float)i);
        assert_int_equal(resona__rowbuf_add(&b, r), 0);
        resona__prow_free(r);
    }
    resona_prow *wrong = mkrow("w", "t", 3, 0);
    assert_int_equal(resona__rowbuf_add(&b, wrong), RESONA_EINVALID);
    resona__prow_free(wrong);
    resona_batch batch;
    resona__rowbuf_batch(&b, &batch);
    assert_int_equal(batch.rows, 100);
    assert_int_equal(batch.column_count, 9);
    assert_string_equal(batch.columns[0].name, "id");
    assert_string_equal(batch.columns[4].name, "dimensions");
    assert_string_equal(batch.columns[8].name, "vector");
    size_t len;
    const char *id = resona__rowbuf_id(&b, 42, &len);
    assert_int_equal(len, 3);
    assert_memory_equal(id, "n42", 3);
    assert_true(((const double *)batch.columns[4].values)[42] == 4.0);
    assert_true(((const float *)batch.columns[8].values)[42 * 4 + 1] == 43.0f);
    assert_true(((const double *)batch.columns[7].values)[0] == 1700000000123.0);
    const uint64_t *off = batch.columns[5].offsets;
    assert_int_equal(off[100] - off[99], 7);
    resona__rowbuf_clear(&b);
    /* the first row of a new batch may set another width */
    resona_prow *r3 = mkrow("x", "t", 3, 0);
    assert_int_equal(resona__rowbuf_add(&b, r3), 0);
    resona__prow_free(r3);
    resona__rowbuf_free(&b);
}

typedef struct collected {
    resona_prow *rows[16];
    size_t count;
} collected;

static int collect(resona_prow *row, void *payload)
{
    collected *c = payload;
    if (c->count == 16) {
        resona__prow_free(row);
        return -1;
    }
    c->rows[c->count++] = row;
    return 0;
}

static void collected_free(collected *c)
{
    for (size_t i = 0; i < c->count; i++)
        resona__prow_free(c->rows[i]);
    c->count = 0;
}

static void test_journal_roundtrip_and_torn_tail(void **state)
{
    (void)state;
    char *dir = ts_tmpdir("journal");
    char *path = ts_path(dir, "embeddings.lance.journal");
    resona_journal *j = NULL;
    assert_int_equal(resona__journal_open(path, &j), 0);
    collected c = {0};
    int torn = -1;
    assert_int_equal(resona__journal_recover(j, collect, &c, &torn), 0);
    assert_int_equal(c.count, 0);
    assert_int_equal(torn, 0);
    const char *ids[3] = {"a", "b#0", "b#1"};
    for (int i = 0; i < 3; i++) {
        resona_prow *r = mkrow(ids[i], i == 0 ? "alpha" : "beta", 8, (float)i);
        assert_int_equal(resona__journal_add(j, r), 0);
        resona__prow_free(r);
    }
    assert_int_equal(resona__journal_sync(j), 0);
    assert_int_equal(resona__journal_records(j), 3);
    /* a second run on the same table is refused while the first holds the lock */
    resona_journal *j2 = NULL;
    assert_int_equal(resona__journal_open(path, &j2), RESONA_ECONFLICT);
    resona__journal_close(j); /* not emptied: kept */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    off_t full = st.st_size;

    assert_int_equal(resona__journal_open(path, &j), 0);
    assert_int_equal(resona__journal_recover(j, collect, &c, &torn), 0);
    assert_int_equal(c.count, 3);
    assert_int_equal(torn, 0);
    assert_string_equal(c.rows[1]->id, "b#0");
    assert_int_equal(c.rows[1]->base_len, 1);
    assert_string_equal(c.rows[2]->text, "beta");
    assert_string_equal(c.rows[0]->model, "bge-m3");
    assert_string_equal(c.rows[0]->metadata, "{\"a\":1}");
    assert_true(c.rows[2]->vector[7] == 9.0f);
    assert_true(c.rows[0]->created_at == 1700000000123.0);
    char h[65];
    resona_pipeline_text_hash("alpha", 5, h);
    assert_memory_equal(c.rows[0]->text_hash, h, 64);
    collected_free(&c);
    resona__journal_close(j);

    /* kill -9 in the middle of a write: the last record is cut short */
    assert_int_equal(truncate(path, full - 5), 0);
    assert_int_equal(resona__journal_open(path, &j), 0);
    assert_int_equal(resona__journal_recover(j, collect, &c, &torn), 0);
    assert_int_equal(c.count, 2);
    assert_int_equal(torn, 1);
    collected_free(&c);
    /* appending after the cut works, and the file is consistent again */
    resona_prow *r = mkrow("c", "gamma", 8, 5);
    assert_int_equal(resona__journal_add(j, r), 0);
    resona__prow_free(r);
    assert_int_equal(resona__journal_sync(j), 0);
    resona__journal_close(j);
    assert_int_equal(resona__journal_open(path, &j), 0);
    assert_int_equal(resona__journal_recover(j, collect, &c, &torn), 0);
    assert_int_equal(c.count, 3);
    assert_int_equal(torn, 0);
    assert_string_equal(c.rows[2]->id, "c");
    collected_free(&c);

    /* reset empties it; closing an empty journal removes the file */
    assert_int_equal(resona__journal_reset(j), 0);
    resona__journal_close(j);
    assert_int_equal(stat(path, &st), -1);
    free(path);
    ts_rmtree(dir);
    free(dir);
}

/* Two segments: rows of the buffer being committed stay in the closed
 * segment, rows of the next buffer go to the other one; emptying one leaves
 * the other intact; recovery reads both; switching onto a segment that still
 * holds rows is refused. */
static void test_journal_segments(void **state)
{
    (void)state;
    char *dir = ts_tmpdir("journal");
    char *path = ts_path(dir, "t.lance.journal");
    char *path1 = ts_path(dir, "t.lance.journal.1");
    resona_journal *j = NULL;
    collected c = {0};
    int torn = 0, closed = -1;
    assert_int_equal(resona__journal_open(path, &j), 0);
    assert_int_equal(resona__journal_recover(j, collect, &c, &torn), 0);
    assert_int_equal(resona__journal_segment(j), 0);
    resona_prow *r = mkrow("a", "alpha", 8, 1);
    assert_int_equal(resona__journal_add(j, r), 0); /* pending: written by the switch */
    resona__prow_free(r);
    assert_int_equal(resona__journal_switch(j, &closed), 0);
    assert_int_equal(closed, 0);
    assert_int_equal(resona__journal_segment(j), 1);
    assert_int_equal(resona__journal_segment_records(j, 0), 1);
    for (int i = 0; i < 2; i++) {
        r = mkrow(i ? "c" : "b", "beta", 8, 2);
        assert_int_equal(resona__journal_add(j, r), 0);
        resona__prow_free(r);
    }
    assert_int_equal(resona__journal_write(j), 0);
    assert_int_equal(resona__journal_segment_records(j, 1), 2);
    assert_int_equal(resona__journal_fsync(j, 0), 0);
    /* segment 0 still holds "a": switching back onto it is refused */
    assert_int_equal(resona__journal_switch(j, &closed), RESONA_ERROR);
    assert_int_equal(resona__journal_segment(j), 1);
    resona__journal_close(j); /* both kept: they hold rows */

    assert_int_equal(resona__journal_open(path, &j), 0);
    assert_int_equal(resona__journal_recover(j, collect, &c, &torn), 0);
    assert_int_equal(c.count, 3);
    assert_string_equal(c.rows[0]->id, "a");
    assert_string_equal(c.rows[2]->id, "c");
    collected_free(&c);
    assert_int_equal(resona__journal_records(j), 3);
    /* "a" committed: only its segment is emptied */
    assert_int_equal(resona__journal_reset_segment(j, 0), 0);
    resona__journal_close(j);
    struct stat st;
    assert_int_equal(stat(path, &st), 0); /* the lock file stays while .1 holds rows */
    assert_int_equal(stat(path1, &st), 0);
    assert_int_equal(resona__journal_open(path, &j), 0);
    assert_int_equal(resona__journal_recover(j, collect, &c, &torn), 0);
    assert_int_equal(c.count, 2);
    assert_string_equal(c.rows[0]->id, "b");
    collected_free(&c);
    assert_int_equal(resona__journal_reset(j), 0);
    resona__journal_close(j);
    assert_int_equal(stat(path1, &st), -1); /* empty: both removed */
    assert_int_equal(stat(path, &st), -1);
    free(path);
    free(path1);
    ts_rmtree(dir);
    free(dir);
}

static void test_journal_corruption(void **state)
{
    (void)state;
    char *dir = ts_tmpdir("journal");
    char *path = ts_path(dir, "t.lance.journal");
    resona_journal *j = NULL;
    assert_int_equal(resona__journal_open(path, &j), 0);
    for (int i = 0; i < 3; i++) {
        char id[8];
        snprintf(id, sizeof(id), "r%d", i);
        resona_prow *r = mkrow(id, "some text", 8, (float)i);
        assert_int_equal(resona__journal_add(j, r), 0);
        resona__prow_free(r);
    }
    assert_int_equal(resona__journal_sync(j), 0);
    resona__journal_close(j);
    /* flip a byte inside the second record's payload: its CRC fails and
     * everything from there on is treated as a torn tail */
    size_t len = 0;
    char *data = ts_read_file(path, &len);
    assert_non_null(data);
    size_t rec = (len - 16) / 3;
    data[16 + rec + 20] ^= 0x40;
    assert_int_equal(ts_write_file(path, data, len), 0);
    free(data);
    collected c = {0};
    int torn = 0;
    assert_int_equal(resona__journal_open(path, &j), 0);
    assert_int_equal(resona__journal_recover(j, collect, &c, &torn), 0);
    assert_int_equal(c.count, 1);
    assert_int_equal(torn, 1);
    collected_free(&c);
    resona__journal_close(j);
    /* a file that is not a journal is refused, never overwritten */
    assert_int_equal(ts_write_file(path, "hello world, not a journal", 26), 0);
    assert_int_equal(resona__journal_open(path, &j), RESONA_ECORRUPT);
    assert_non_null(strstr(resona_error_message(), "not a resona journal"));
    free(path);
    ts_rmtree(dir);
    free(dir);
}

static void test_crc32c(void **state)
{
    (void)state;
    /* the standard check value of CRC-32C */
    assert_int_equal(resona__crc32c(0, "123456789", 9), 0xE3069283u);
}

static void test_journal_path(void **state)
{
    (void)state;
    char *p = resona_pipeline_journal_path("/x/tana-index.lance/embeddings.lance");
    assert_string_equal(p, "/x/tana-index.lance/embeddings.lance.journal");
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base_id),
        cmocka_unit_test(test_text_hash),
        cmocka_unit_test(test_default_chunk_size),
        cmocka_unit_test(test_chunk_spans),
        cmocka_unit_test(test_chunk_utf16),
        cmocka_unit_test(test_known),
        cmocka_unit_test(test_rowbuf),
        cmocka_unit_test(test_crc32c),
        cmocka_unit_test(test_journal_roundtrip_and_torn_tail),
        cmocka_unit_test(test_journal_segments),
        cmocka_unit_test(test_journal_corruption),
        cmocka_unit_test(test_journal_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
