/*
 * unit/test_util.c - the util layer: error convention, allocation failure
 * injection, the bounded buffer and the little-endian helpers.
 */
#include "support.h"

#include "util/alloc.h"
#include "util/buf.h"
#include "util/endian.h"
#include "util/error.h"
#include "util/log.h"

#include <errno.h>
#include <string.h>

static void test_error_set_and_wrap(void **state)
{
    (void)state;
    resona_error_clear();
    assert_string_equal(resona_error_message(), "");
    assert_int_equal(resona_error_code(), RESONA_OK);
    int rc = resona__error_set(RESONA_ECORRUPT, "bad page at offset %d", 42);
    assert_int_equal(rc, RESONA_ECORRUPT);
    assert_string_equal(resona_error_message(), "bad page at offset 42");
    rc = resona__error_wrap("reading %s", "x.lance");
    assert_int_equal(rc, RESONA_ECORRUPT);
    assert_string_equal(resona_error_message(), "reading x.lance: bad page at offset 42");
    assert_string_equal(resona_error_name(RESONA_ECORRUPT), "ECORRUPT");
    assert_string_equal(resona_error_name(-999), "EUNKNOWN");
    rc = resona__error_set_errno(RESONA_EIO, ENOENT, "open %s", "/nope");
    assert_int_equal(rc, RESONA_EIO);
    assert_string_equal(resona_error_message(), "open /nope: No such file or directory");
}

static void test_error_long_message_truncated(void **state)
{
    (void)state;
    char big[4000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    resona__error_set(RESONA_EINVALID, "%s", big);
    assert_true(strlen(resona_error_message()) < sizeof(big));
    assert_true(strlen(resona_error_message()) > 100);
}

static void test_alloc_injection(void **state)
{
    (void)state;
    resona__alloc_fail_after(1);
    void *a = resona__malloc(10);
    assert_non_null(a);
    void *b = resona__malloc(10);
    assert_null(b);
    assert_int_equal(resona_error_code(), RESONA_ENOMEM);
    resona__alloc_fail_after(-1);
    b = resona__malloc(10);
    assert_non_null(b);
    resona__free(a);
    resona__free(b);
    /* overflow is refused without allocating */
    assert_null(resona__calloc(SIZE_MAX / 2, 4));
    assert_null(resona__reallocarray(NULL, SIZE_MAX / 2, 4));
}

static void test_buf_bounded(void **state)
{
    (void)state;
    resona_buf b = RESONA_BUF_INIT(16);
    assert_int_equal(resona__buf_puts(&b, "hello"), 0);
    assert_int_equal(resona__buf_printf(&b, " %d", 12345), 0);
    assert_string_equal(b.ptr, "hello 12345");
    assert_int_equal(b.len, 11);
    assert_int_equal(resona__buf_puts(&b, " and more"), RESONA_ENOMEM);
    assert_string_equal(b.ptr, "hello 12345"); /* unchanged on failure */
    assert_int_equal(resona__buf_zeros(&b, 5), 0);
    assert_int_equal(b.len, 16);
    assert_int_equal(resona__buf_putc(&b, 'x'), RESONA_ENOMEM);
    size_t len = 0;
    char *p = resona__buf_detach(&b, &len);
    assert_int_equal(len, 16);
    assert_null(b.ptr);
    resona__free(p);

    resona_buf u = RESONA_BUF_INIT(0);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(resona__buf_putc(&u, 'z'), 0);
    assert_int_equal(u.len, 10000);
    resona__buf_clear(&u);
    assert_int_equal(u.len, 0);
    resona__buf_free(&u);
}

static void test_buf_oom(void **state)
{
    (void)state;
    resona_buf b = RESONA_BUF_INIT(0);
    resona__alloc_fail_after(0);
    assert_int_equal(resona__buf_puts(&b, "x"), RESONA_ENOMEM);
    resona__alloc_fail_after(-1);
    assert_null(b.ptr);
    resona__buf_free(&b);
}

static void test_endian(void **state)
{
    (void)state;
    uint8_t b[8];
    resona__put_le32(b, 0x11223344u);
    assert_int_equal(b[0], 0x44);
    assert_int_equal(b[3], 0x11);
    assert_int_equal(resona__le32(b), 0x11223344u);
    resona__put_le64(b, 0x0102030405060708ull);
    assert_int_equal(b[0], 8);
    assert_int_equal(b[7], 1);
    assert_true(resona__le64(b) == 0x0102030405060708ull);
    resona__put_le16(b, 0xBEEF);
    assert_int_equal(resona__le16(b), 0xBEEF);
    resona__put_lef32(b, 1.5f);
    assert_true(resona__lef32(b) == 1.5f);
    resona__put_lef64(b, -2.25);
    assert_true(resona__lef64(b) == -2.25);
}

static int log_calls;
static void sink(resona_log_level level, const char *message, void *payload)
{
    (void)level;
    (void)payload;
    assert_string_equal(message, "hello 7");
    log_calls++;
}

static void test_log_levels(void **state)
{
    (void)state;
    resona__log(RESONA_LOG_ERROR, "hello %d", 7); /* no sink: dropped */
    resona_log_set(sink, RESONA_LOG_INFO, NULL);
    RESONA_LOG(RESONA_LOG_INFO, "hello %d", 7);
    RESONA_LOG(RESONA_LOG_DEBUG, "hidden %d", 8);
    assert_int_equal(log_calls, 1);
    resona_log_set(NULL, RESONA_LOG_WARN, NULL);
    RESONA_LOG(RESONA_LOG_ERROR, "hello %d", 7);
    assert_int_equal(log_calls, 1);
    assert_string_equal(resona_version(), RESONA_VERSION);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_set_and_wrap),
        cmocka_unit_test(test_error_long_message_truncated),
        cmocka_unit_test(test_alloc_injection),
        cmocka_unit_test(test_buf_bounded),
        cmocka_unit_test(test_buf_oom),
        cmocka_unit_test(test_endian),
        cmocka_unit_test(test_log_levels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
