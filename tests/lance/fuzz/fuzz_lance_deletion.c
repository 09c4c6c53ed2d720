/*
 * fuzz_lance_deletion.c - libFuzzer target: a deletion file image through
 * the Arrow IPC (zstd) and roaring decoders. The first byte chooses the
 * kind (even: Arrow IPC, odd: roaring bitmap); the rest is the file.
 */
#include "lance/deletion.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    roaring_bitmap_t *r = NULL;
    int kind = data[0] & 1 ? LANCE_DELETION_BITMAP : LANCE_DELETION_ARROW;
    if (resona__deletion_decode(data + 1, size - 1, kind, "fuzz.deletion", &r) == 0) {
        (void)roaring_bitmap_get_cardinality(r);
        roaring_bitmap_free(r);
    }
    return 0;
}
