/*
 * embed/json.c - JSON string escaping for request bodies.
 *
 * Texts are copied in runs: only '"', '\\' and control bytes need escapes, so
 * the common case is one memcpy per text. Bytes >= 0x80 pass through (Ollama
 * decodes with Go, which turns invalid UTF-8 into U+FFFD).
 */
#include "embed/embedder.h"

int resona__json_put_string(resona_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    int rc = resona__buf_reserve(b, len + 2);
    if (rc < 0)
        return rc;
    b->ptr[b->len++] = '"';
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if ((rc = resona__buf_append(b, s + run, i - run)) < 0)
            return rc;
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t n = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
        }
        if ((rc = resona__buf_append(b, esc, n)) < 0)
            return rc;
        run = i + 1;
    }
    if ((rc = resona__buf_append(b, s + run, len - run)) < 0)
        return rc;
    return resona__buf_putc(b, '"');
}
