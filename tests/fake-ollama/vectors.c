/*
 * fake-ollama/vectors.c - the deterministic "model".
 *
 * For a text t and a dimension d (tests/fixtures/README.md, "The vectors"):
 *   seed = SHA-256(UTF-8 bytes of t)
 *   raw  = SHAKE-256(seed) squeezed to 4*d bytes, read as d little-endian u32 u_i
 *   x_i  = u_i / 2^31 - 1                     (double)
 *   v_i  = (float)(x_i / sqrt(sum x_j^2))     (double, then rounded to float32)
 * This reproduces, bit for bit, the vectors stored by the original supertag in
 * tests/fixtures/original-workspace (checked by the tests of this directory).
 */
#include "fo_internal.h"

#include <math.h>
#include <stdlib.h>

#include <openssl/evp.h>

int fo_vector(const char *text, size_t len, uint32_t dim, float *out)
{
    unsigned char seed[32];
    unsigned int seed_len = 0;
    unsigned char *raw = NULL;
    double *x = NULL;
    EVP_MD_CTX *ctx = NULL;
    int rc = -1;

    if (dim == 0)
        return 0;
    raw = malloc((size_t)dim * 4);
    x = malloc((size_t)dim * sizeof(double));
    ctx = EVP_MD_CTX_new();
    if (!raw || !x || !ctx)
        goto done;
    if (EVP_Digest(text, len, seed, &seed_len, EVP_sha256(), NULL) != 1 || seed_len != 32)
        goto done;
    if (EVP_DigestInit_ex(ctx, EVP_shake256(), NULL) != 1 ||
        EVP_DigestUpdate(ctx, seed, sizeof seed) != 1 ||
        EVP_DigestFinalXOF(ctx, raw, (size_t)dim * 4) != 1)
        goto done;

    double sum = 0.0;
    for (uint32_t i = 0; i < dim; i++) {
        const unsigned char *p = raw + (size_t)i * 4;
        uint32_t u =
            (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        x[i] = (double)u / 2147483648.0 - 1.0;
        sum += x[i] * x[i];
    }
    double norm = sqrt(sum);
    for (uint32_t i = 0; i < dim; i++)
        out[i] = (float)(norm > 0.0 ? x[i] / norm : 0.0);
    rc = 0;
done:
    EVP_MD_CTX_free(ctx);
    free(x);
    free(raw);
    return rc;
}

void fo_vector_shorten(float *v, uint32_t keep)
{
    double sum = 0.0;
    for (uint32_t i = 0; i < keep; i++)
        sum += (double)v[i] * (double)v[i];
    double norm = sqrt(sum);
    if (norm < 1e-12)
        norm = 1e-12;
    for (uint32_t i = 0; i < keep; i++)
        v[i] = (float)((double)v[i] / norm);
}

size_t fo_utf8_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}

size_t fo_utf8_prefix(const char *s, size_t len, size_t chars)
{
    size_t seen = 0;
    for (size_t i = 0; i < len; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (seen == chars)
                return i;
            seen++;
        }
    }
    return len;
}

uint64_t fo_tokens(const char *s, size_t len)
{
    return 2 + (fo_utf8_chars(s, len) + 3) / 4;
}
