/*
 * pipeline/chunk.c - base ids, text hashes and chunking (see chunk.h).
 */
#include "pipeline/chunk.h"

#include "util/alloc.h"
#include "util/error.h"

#include <resona/pipeline.h>

#include <openssl/evp.h>
#include <string.h>

size_t resona_pipeline_base_id_len(const char *id, size_t id_len)
{
    size_t i = id_len;
    while (i > 0 && id[i - 1] >= '0' && id[i - 1] <= '9')
        i--;
    if (i == id_len || i == 0 || id[i - 1] != '#')
        return id_len;
    return i - 1;
}

void resona_pipeline_text_hash(const char *text, size_t len, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[32];
    unsigned int md_len = 0;
    /* EVP_Digest with SHA-256 cannot fail short of a broken libcrypto; on
     * failure the digest stays zero and no stored hash can match it. */
    memset(md, 0, sizeof(md));
    (void)EVP_Digest(text, len, md, &md_len, EVP_sha256(), NULL);
    for (size_t i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

/* The known Ollama models of the original (context tokens), maxChars = tokens x 3. */
size_t resona_pipeline_default_chunk_size(const char *model)
{
    static const struct {
        const char *name;
        size_t tokens;
    } known[] = {
        {"nomic-embed-text", 8192}, {"mxbai-embed-large", 512},      {"all-minilm", 512},
        {"bge-m3", 8192},           {"snowflake-arctic-embed", 512},
    };
    if (model) {
        size_t n = strlen(model);
        /* "bge-m3:latest" is the same model as "bge-m3" to Ollama. */
        const char *colon = strchr(model, ':');
        if (colon && strcmp(colon, ":latest") == 0)
            n = (size_t)(colon - model);
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
            if (strlen(known[i].name) == n && memcmp(known[i].name, model, n) == 0)
                return known[i].tokens * 3;
    }
    return 512 * 3;
}

/* Decode one UTF-8 sequence at p (n bytes left): its byte length and its
 * UTF-16 width (1 or 2). Invalid bytes are one byte, one unit. */
static void utf8_step(const unsigned char *p, size_t n, size_t *bytes, size_t *units)
{
    unsigned char c = p[0];
    size_t need = 0;
    if (c < 0x80)
        need = 1;
    else if (c >= 0xC2 && c <= 0xDF)
        need = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        need = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        need = 4;
    if (need == 0 || need > n) {
        *bytes = 1;
        *units = 1;
        return;
    }
    for (size_t i = 1; i < need; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            *bytes = 1;
            *units = 1;
            return;
        }
    }
    *bytes = need;
    *units = need == 4 ? 2 : 1;
}

size_t resona__chunk_utf16_len(const char *text, size_t len)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t units = 0;
    size_t i = 0;
    while (i < len) {
        if (p[i] < 0x80) { /* fast path for ASCII */
            i++;
            units++;
            continue;
        }
        size_t b, u;
        utf8_step(p + i, len - i, &b, &u);
        i += b;
        units += u;
    }
    return units;
}

int resona__chunk_spans(size_t units, size_t size, size_t overlap, resona_chunk_span **out,
                        size_t *count_out)
{
    *out = NULL;
    *count_out = 0;
    if (size == 0 || overlap >= size)
        return resona__error_set(RESONA_EINVALID,
                                 "chunk overlap %zu must be smaller than the chunk size %zu",
                                 overlap, size);
    size_t step = size - overlap;
    size_t cap = units <= size ? 1 : (units - 1) / step + 2;
    resona_chunk_span *spans = resona__calloc(cap, sizeof(*spans));
    if (!spans)
        return RESONA_ENOMEM;
    size_t n = 0;
    if (units <= size) {
        spans[n].start = 0;
        spans[n].end = units;
        n++;
    } else {
        size_t start = 0;
        while (start < units && n < cap) {
            spans[n].start = start;
            spans[n].end = start + size < units ? start + size : units;
            n++;
            start += step;
            if (start < units && units - start < overlap)
                break;
        }
    }
    *out = spans;
    *count_out = n;
    return 0;
}

int resona__chunk_slice(const char *text, size_t len, size_t start, size_t end, resona_buf *out)
{
    static const char replacement[] = "\xEF\xBF\xBD";
    const unsigned char *p = (const unsigned char *)text;
    size_t unit = 0;
    size_t i = 0;
    int rc = 0;
    /* Skip to `start`; a pair split by `start` contributes its low half. */
    while (i < len && unit < start) {
        size_t b, u;
        utf8_step(p + i, len - i, &b, &u);
        if (unit + u > start) { /* start falls inside a surrogate pair */
            if (end > start && (rc = resona__buf_append(out, replacement, 3)) < 0)
                return rc;
            unit += u;
            i += b;
            break;
        }
        unit += u;
        i += b;
    }
    size_t from = i;
    while (i < len && unit < end) {
        size_t b, u;
        utf8_step(p + i, len - i, &b, &u);
        if (unit + u > end) { /* end splits a pair: the high half alone */
            if ((rc = resona__buf_append(out, text + from, i - from)) < 0)
                return rc;
            return resona__buf_append(out, replacement, 3);
        }
        unit += u;
        i += b;
    }
    return resona__buf_append(out, text + from, i - from);
}
