/*
 * embed/text.c - JS-compatible string helpers (see text.h).
 */
#include "embed/text.h"

#include <resona/common.h>

#include <openssl/evp.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- growable string ---------------------------------------------------- */

static bool str_reserve(st_str *s, size_t extra)
{
    if (s->failed)
        return false;
    if (extra > SIZE_MAX - s->len - 1) {
        s->failed = true;
        return false;
    }
    size_t need = s->len + extra + 1;
    if (need <= s->cap)
        return true;
    size_t cap = s->cap ? s->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(s->ptr, cap);
    if (!p) {
        s->failed = true;
        return false;
    }
    s->ptr = p;
    s->cap = cap;
    return true;
}

void st_str_append(st_str *s, const char *data, size_t len)
{
    if (!str_reserve(s, len))
        return;
    if (len)
        memcpy(s->ptr + s->len, data, len);
    s->len += len;
    s->ptr[s->len] = '\0';
}

void st_str_puts(st_str *s, const char *text)
{
    st_str_append(s, text, strlen(text));
}

void st_str_putc(st_str *s, char c)
{
    st_str_append(s, &c, 1);
}

void st_str_printf(st_str *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !str_reserve(s, (size_t)n)) {
        s->failed = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(s->ptr + s->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    s->len += (size_t)n;
}

void st_str_clear(st_str *s)
{
    s->len = 0;
    s->failed = false;
    if (s->ptr)
        s->ptr[0] = '\0';
}

void st_str_free(st_str *s)
{
    free(s->ptr);
    memset(s, 0, sizeof(*s));
}

int st_str_ok(const st_str *s)
{
    if (s->failed)
        return st_error_set(RESONA_ENOMEM, "out of memory building a string of %zu bytes", s->len);
    return 0;
}

const char *st_str_cstr(const st_str *s)
{
    return s->ptr ? s->ptr : "";
}

/* ---- UTF-8 / UTF-16 ------------------------------------------------------ */

/* Length of the UTF-8 sequence starting with byte c (1 for invalid bytes). */
static size_t seq_len(unsigned char c)
{
    if (c >= 0xF0 && c < 0xF8)
        return 4;
    if (c >= 0xE0)
        return c < 0xF0 ? 3 : 1;
    if (c >= 0xC0)
        return 2;
    return 1;
}

/* Decode one character at s (len > 0); *n gets its byte length. */
static uint32_t decode(const char *s, size_t len, size_t *n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t k = seq_len(u[0]);
    if (k > len)
        k = 1;
    *n = k;
    switch (k) {
    case 2:
        return ((uint32_t)(u[0] & 0x1F) << 6) | (u[1] & 0x3F);
    case 3:
        return ((uint32_t)(u[0] & 0x0F) << 12) | ((uint32_t)(u[1] & 0x3F) << 6) | (u[2] & 0x3F);
    case 4:
        return ((uint32_t)(u[0] & 0x07) << 18) | ((uint32_t)(u[1] & 0x3F) << 12) |
               ((uint32_t)(u[2] & 0x3F) << 6) | (u[3] & 0x3F);
    default:
        return u[0];
    }
}

static void encode(st_str *out, uint32_t cp)
{
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (char)(0xF0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    st_str_append(out, b, n);
}

size_t st_utf16_len(const char *s, size_t len)
{
    size_t units = 0;
    for (size_t i = 0; i < len;) {
        size_t k = seq_len((unsigned char)s[i]);
        if (k > len - i)
            k = 1;
        units += k == 4 ? 2 : 1;
        i += k;
    }
    return units;
}

size_t st_utf16_cut(const char *s, size_t len, size_t units, bool *split)
{
    size_t used = 0, i = 0;
    *split = false;
    while (i < len) {
        size_t k = seq_len((unsigned char)s[i]);
        if (k > len - i)
            k = 1;
        size_t w = k == 4 ? 2 : 1;
        if (used + w > units) {
            if (w == 2 && used + 1 == units)
                *split = true;
            break;
        }
        used += w;
        i += k;
    }
    return i;
}

void st_str_append_utf16_prefix(st_str *out, const char *s, size_t len, size_t units)
{
    bool split;
    size_t n = st_utf16_cut(s, len, units, &split);
    st_str_append(out, s, n);
    if (split)
        st_str_puts(out, "\xEF\xBF\xBD"); /* a lone high surrogate, UTF-8 encoded */
}

static bool js_space(uint32_t c)
{
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000 || c == 0xFEFF;
}

size_t st_js_space_prefix(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t n;
        uint32_t c = decode(s + i, len - i, &n);
        if (!js_space(c))
            break;
        i += n;
    }
    return i;
}

bool st_text_js_blank(const char *s, size_t len)
{
    return st_js_space_prefix(s, len) == len;
}

void st_str_append_json(st_str *out, const char *s)
{
    if (!s) {
        st_str_puts(out, "null");
        return;
    }
    st_str_putc(out, '"');
    const char *run = s;
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        const char *esc = NULL;
        char ubuf[8];
        switch (c) {
        case '"':
            esc = "\\\"";
            break;
        case '\\':
            esc = "\\\\";
            break;
        case '\b':
            esc = "\\b";
            break;
        case '\f':
            esc = "\\f";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\t':
            esc = "\\t";
            break;
        default:
            if (c < 0x20) {
                snprintf(ubuf, sizeof(ubuf), "\\u%04x", c);
                esc = ubuf;
            }
        }
        if (esc) {
            st_str_append(out, run, (size_t)(p - run));
            st_str_puts(out, esc);
            run = p + 1;
        }
    }
    st_str_puts(out, run);
    st_str_putc(out, '"');
}

static uint32_t lower_cp(uint32_t c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 0xC0 && c <= 0xDE && c != 0xD7))
        return c + 0x20;
    if ((c >= 0x391 && c <= 0x3A9 && c != 0x3A2) || (c >= 0x410 && c <= 0x42F))
        return c + 0x20;
    if (c >= 0x400 && c <= 0x40F)
        return c + 0x50;
    return c;
}

char *st_js_lower(const char *s)
{
    st_str out = {0};
    size_t len = strlen(s);
    for (size_t i = 0; i < len;) {
        size_t n;
        uint32_t c = decode(s + i, len - i, &n);
        if (n == 1 && (unsigned char)s[i] >= 0x80)
            st_str_append(&out, s + i, 1); /* invalid byte: keep as is */
        else
            encode(&out, lower_cp(c));
        i += n;
    }
    if (out.failed) {
        st_str_free(&out);
        return NULL;
    }
    if (!out.ptr) {
        char *e = malloc(1);
        if (e)
            e[0] = '\0';
        return e;
    }
    return out.ptr;
}

void st_str_append_capitalized(st_str *out, const char *s)
{
    size_t len = strlen(s);
    if (len == 0)
        return;
    size_t n;
    uint32_t c = decode(s, len, &n);
    uint32_t u = c;
    if (n == 1 && c >= 0x80) {
        st_str_append(out, s, len);
        return;
    }
    if ((c >= 'a' && c <= 'z') || (c >= 0xE0 && c <= 0xFE && c != 0xF7))
        u = c - 0x20;
    else if (c == 0xDF) {
        st_str_puts(out, "SS");
        st_str_puts(out, s + n);
        return;
    } else if (c == 0xFF)
        u = 0x178;
    else if (c == 0xB5)
        u = 0x39C;
    else if (c >= 0x100 && c <= 0x17F) {
        /* Latin Extended-A: mostly upper/lower pairs; the odd ones out. */
        if (c == 0x131)
            u = 'I';
        else if (c == 0x17F)
            u = 'S';
        else if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
            u = (c % 2 == 0) ? c - 1 : c;
        else if (c != 0x138 && c != 0x149)
            u = (c % 2 == 1) ? c - 1 : c;
    } else if (c >= 0x3B1 && c <= 0x3C9)
        u = c == 0x3C2 ? 0x3A3 : c - 0x20;
    else if (c >= 0x430 && c <= 0x44F)
        u = c - 0x20;
    else if (c >= 0x450 && c <= 0x45F)
        u = c - 0x50;
    encode(out, u);
    st_str_puts(out, s + n);
}

char *st_group(char *buf, size_t cap, long long n)
{
    char digits[32];
    unsigned long long v = n < 0 ? 0ULL - (unsigned long long)n : (unsigned long long)n;
    int len = snprintf(digits, sizeof(digits), "%llu", v);
    size_t o = 0;
    if (cap == 0)
        return buf;
    if (n < 0 && o + 1 < cap)
        buf[o++] = '-';
    for (int i = 0; i < len && o + 1 < cap; i++) {
        if (i > 0 && (len - i) % 3 == 0 && o + 2 < cap)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

int st_sha256_hex(const void *data, size_t len, char hex[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
        return st_error_set(RESONA_ERROR, "SHA-256 failed (libcrypto)");
    static const char xd[] = "0123456789abcdef";
    for (unsigned i = 0; i < 32; i++) {
        hex[2 * i] = xd[md[i] >> 4];
        hex[2 * i + 1] = xd[md[i] & 15];
    }
    hex[64] = '\0';
    return 0;
}
