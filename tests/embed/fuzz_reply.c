/*
 * embed/fuzz_reply.c - libFuzzer target for the embedding reply parser.
 *
 * Input layout: byte 0 picks the reply kind (low 2 bits) and where the body
 * is split into two chunks (high 6 bits); byte 1 the expected vector count
 * (0..7); byte 2 the expected dimension (0 = learn, else 1..15); the rest is
 * the reply body. A second pass parses the body as an error body.
 */
#include "embed/reply.h"
#include "util/alloc.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    resona__reply_kind kind = (resona__reply_kind)(data[0] & 3);
    if (kind > RESONA__REPLY_OPENAI)
        kind = RESONA__REPLY_OLLAMA;
    size_t expected = data[1] & 7;
    uint32_t dim = data[2] & 15;
    const char *body = (const char *)data + 3;
    size_t len = size - 3;
    size_t split = len ? ((size_t)(data[0] >> 2) * len) / 63 : 0;
    if (split > len)
        split = len;
    resona__reply p;
    if (resona__reply_init(&p, kind, expected, dim) == 0) {
        if (resona__reply_feed(&p, body, split) == 0 &&
            resona__reply_feed(&p, body + split, len - split) == 0 &&
            resona__reply_finish(&p) == 0) {
            /* A valid reply has exactly expected * dim floats, all finite. */
            float *v = resona__reply_take(&p);
            for (size_t i = 0; i < expected * p.dim; i++)
                if (!isfinite(v[i]))
                    __builtin_trap();
            resona__free(v);
        }
        resona__reply_free(&p);
    }
    char msg[64];
    resona__reply_error_message(body, len, msg, sizeof(msg));
    if (strlen(msg) >= sizeof(msg))
        __builtin_trap();
    return 0;
}
