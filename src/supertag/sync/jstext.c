/*
 * sync/jstext.c - JavaScript string semantics the original relies on (see
 * jstext.h). toLowerCase matters only where it can produce ASCII: U+0130
 * (lower-cases to "i" + U+0307) and U+212A KELVIN SIGN (to "k"); every other
 * non-ASCII character stays non-ASCII and so never matches an ASCII test.
 */
#include "sync/jstext.h"

#include <stdint.h>
#include <string.h>

/* Decode one UTF-8 sequence at s[*i]; invalid bytes decode as themselves. */
static uint32_t next_cp(const char *s, size_t len, size_t *i)
{
    const unsigned char *u = (const unsigned char *)s;
    uint32_t c = u[*i];
    size_t n = 0;
    if (c >= 0xf0 && c < 0xf8)
        n = 3, c &= 0x07;
    else if (c >= 0xe0)
        n = 2, c &= 0x0f;
    else if (c >= 0xc0)
        n = 1, c &= 0x1f;
    if (*i + n >= len + (n ? 0 : 1) && n) {
        (*i)++;
        return u[*i - 1];
    }
    (*i)++;
    for (size_t k = 0; k < n; k++)
        c = (c << 6) | (u[(*i)++] & 0x3f);
    return c;
}

static int js_space(uint32_t c)
{
    return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0xa0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
           c == 0x205f || c == 0x3000 || c == 0xfeff;
}

int st_js_blank(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len)
        if (!js_space(next_cp(s, len, &i)))
            return 0;
    return 1;
}

/* toLowerCase restricted to what can become ASCII; non-ASCII as 0x80 marker. */
static size_t lower_ascii(const char *s, size_t len, char *out, size_t cap)
{
    size_t i = 0, n = 0;
    while (i < len && n + 2 < cap) {
        uint32_t c = next_cp(s, len, &i);
        if (c < 0x80)
            out[n++] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
        else if (c == 0x130) {
            out[n++] = 'i';
            out[n++] = (char)0x80;
        } else if (c == 0x212a)
            out[n++] = 'k';
        else if (js_space(c))
            out[n++] = ' ';
        else
            out[n++] = (char)0x80;
    }
    out[n] = '\0';
    return n;
}

int st_js_normalize_name(const char *s, size_t len, jt_out *out)
{
    size_t i = 0;
    while (i < len) {
        uint32_t c = next_cp(s, len, &i);
        char ch = 0;
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
            ch = (char)c;
        else if (c >= 'A' && c <= 'Z')
            ch = (char)(c + 32);
        else if (c == 0x130)
            ch = 'i';
        else if (c == 0x212a)
            ch = 'k';
        if (ch && jt_out_append(out, &ch, 1) < 0)
            return -1;
    }
    return jt_out_reserve(out, 0);
}

static int has(const char *s, const char *needle)
{
    return strstr(s, needle) != NULL;
}

/* ^(is|has)($|[<letters>\s\-_]) on a lowered (or original) copy. */
static int is_has_prefix(const char *l, int upper)
{
    size_t p;
    if (strncmp(l, "is", 2) == 0)
        p = 2;
    else if (strncmp(l, "has", 3) == 0)
        p = 3;
    else
        return 0;
    char c = l[p];
    if (c == '\0' || c == ' ' || c == '-' || c == '_')
        return 1;
    return upper ? (c >= 'A' && c <= 'Z') : (c >= 'a' && c <= 'z');
}

const char *st_js_infer_type(const char *s, size_t len)
{
    char buf[1024];
    size_t n = lower_ascii(s, len, buf, sizeof(buf));
    (void)n;
    if (has(buf, "date") || has(buf, "time") || has(buf, "scheduled") || has(buf, "deadline") ||
        has(buf, "expir") || strcmp(buf, "when") == 0)
        return "date";
    if (has(buf, "url") || has(buf, "link"))
        return "url";
    if (has(buf, "phone"))
        return "text";
    if (has(buf, "count") || has(buf, "number") || has(buf, "amount"))
        return "number";
    if (has(buf, "status") || has(buf, "type") || has(buf, "category"))
        return "reference";
    /* the original's first test runs on the name as written */
    char orig[1024];
    size_t k = 0, i = 0;
    while (i < len && k + 2 < sizeof(orig)) {
        uint32_t c = next_cp(s, len, &i);
        orig[k++] = c < 0x80 ? (char)c : (js_space(c) ? ' ' : (char)0x80);
    }
    orig[k] = '\0';
    if (is_has_prefix(orig, 1) || is_has_prefix(buf, 0))
        return "checkbox";
    if (has(buf, "enabled") || has(buf, "completed"))
        return "checkbox";
    return "text";
}
