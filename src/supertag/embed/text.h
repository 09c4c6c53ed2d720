/*
 * embed/text.h - string helpers that make the C port produce the same bytes
 * as the original's JavaScript: UTF-16 code-unit counting and cutting,
 * JSON.stringify string escaping, String.prototype.trimStart, en-US digit
 * grouping, lowercase-hex SHA-256, plus a growable string and the supertag
 * embed side's error message.
 *
 * Why UTF-16: the original counts string lengths, slices and cuts in UTF-16
 * code units (JS semantics). Our strings are UTF-8 (as SQLite stores them);
 * these helpers translate "N units" into byte offsets. Cutting between the
 * two halves of a surrogate pair leaves a lone high surrogate in JS, which
 * UTF-8 encoding (hashing, storing) turns into U+FFFD; st_utf16_cut reports
 * that case so callers can append U+FFFD and stay byte-identical.
 *
 * Errors: functions of src/supertag/embed/ return 0 or a negative RESONA_E*
 * code and set one thread-local message with st_error_set() (st_error.h).
 */
#ifndef SUPERTAG_EMBED_TEXT_H
#define SUPERTAG_EMBED_TEXT_H

#include "st_error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define ST_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define ST_PRINTF(a, b)
#endif

/*
 * A growable NUL-terminated string. Zero-initialise ({0}). On allocation
 * failure the string becomes "failed" (sticky) and later appends do nothing;
 * check st_str_ok() once at the end instead of after every append.
 */
typedef struct st_str {
    char *ptr;
    size_t len;
    size_t cap;
    bool failed;
} st_str;

void st_str_append(st_str *s, const char *data, size_t len);
void st_str_puts(st_str *s, const char *text);
void st_str_putc(st_str *s, char c);
void st_str_printf(st_str *s, const char *fmt, ...) ST_PRINTF(2, 3);
void st_str_clear(st_str *s);
void st_str_free(st_str *s);
/** 0, or RESONA_ENOMEM (message set) if an append failed. */
int st_str_ok(const st_str *s);
/** The contents ("" when empty). Borrowed until the next append. */
const char *st_str_cstr(const st_str *s);

/** Length in UTF-16 code units of UTF-8 text (4-byte sequences count 2). */
size_t st_utf16_len(const char *s, size_t len);
/**
 * Byte length of the longest prefix of s holding at most `units` UTF-16
 * units. *split is set when the next character is a surrogate pair whose
 * first half would still fit (JS slice would keep a lone high surrogate).
 */
size_t st_utf16_cut(const char *s, size_t len, size_t units, bool *split);
/** Append JS s.slice(0, units) as UTF-8 (a split pair becomes U+FFFD). */
void st_str_append_utf16_prefix(st_str *out, const char *s, size_t len, size_t units);

/** Bytes of leading whitespace as JS trimStart() removes it. */
size_t st_js_space_prefix(const char *s, size_t len);
/** True when s is empty or whitespace only (JS s.trim() === ""). */
bool st_text_js_blank(const char *s, size_t len);

/** Append JSON.stringify(s) (with the quotes). NULL appends null. */
void st_str_append_json(st_str *out, const char *s);

/** JS toLowerCase() for ASCII and Latin-1; other characters unchanged. Caller frees. */
char *st_js_lower(const char *s);
/**
 * Append s with its first UTF-16 unit upper-cased as JS toUpperCase() does
 * for ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic basic letters;
 * other first characters are kept as they are.
 */
void st_str_append_capitalized(st_str *out, const char *s);

/** Format n with en-US grouping ("45,200") into buf; returns buf. */
char *st_group(char *buf, size_t cap, long long n);

/** Lowercase hex SHA-256 of data into hex[65]. 0 or RESONA_ERROR. */
int st_sha256_hex(const void *data, size_t len, char hex[65]);

#endif
