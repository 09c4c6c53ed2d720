/*
 * fuzz_lance_manifest.c - libFuzzer target: a manifest file image through
 * the manifest decoder (footer, Manifest message, index section) and the
 * index section decoder.
 */
#include "lance/io.h"
#include "lance/table_int.h"
#include "util/alloc.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Lt__Manifest *m = NULL;
    uint8_t *ix = NULL;
    size_t il = 0;
    if (resona__manifest_decode(data, size, "fuzz.manifest", &m, &ix, &il) == 0) {
        if (ix) {
            Lt__IndexSection *s = lt__index_section__unpack(&resona__pb_alloc, il, ix);
            if (s)
                lt__index_section__free_unpacked(s, &resona__pb_alloc);
        }
        /* re-pack what we would carry forward */
        size_t n = lt__manifest__get_packed_size(m);
        uint8_t *out = resona__malloc(n ? n : 1);
        if (out) {
            lt__manifest__pack(m, out);
            resona__free(out);
        }
        lt__manifest__free_unpacked(m, &resona__pb_alloc);
    }
    resona__free(ix);
    return 0;
}
