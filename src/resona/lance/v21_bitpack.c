/*
 * lance/v21_bitpack.c - FastLanes bit-unpacking as Lance 2.1 writes it
 * (lance-format.md 7.5 point 6).
 *
 * A block is 1024 values of T bits (T = 8, 16, 32 or 64) packed at W bits.
 * The packed words are laid out in LANES = 1024/T interleaved lanes: word w of
 * lane l is packed[LANES*w + l]. Inside a lane, "row" r (0..T-1) occupies bits
 * [r*W, r*W+W) of the lane's bit stream, and holds the value whose index is
 *
 *     FL_ORDER[r/8]*16 + (r%8)*128 + lane,   FL_ORDER = 0 4 2 6 1 5 3 7
 *
 * (the transposed order that lets SIMD unpack 1024 values at once). W = 0
 * means all zeros; W = T is a plain copy in the same order.
 */
#include "lance/v21_decode.h"

#include "util/endian.h"

static const unsigned fl_order[8] = {0, 4, 2, 6, 1, 5, 3, 7};

static uint64_t word_at(const uint8_t *p, unsigned t, size_t i)
{
    switch (t) {
    case 8:
        return p[i];
    case 16:
        return resona__le16(p + 2 * i);
    case 32:
        return resona__le32(p + 4 * i);
    default:
        return resona__le64(p + 8 * i);
    }
}

void resona__v21_fl_unpack(const uint8_t *packed, unsigned t, unsigned w, uint64_t out[1024])
{
    unsigned lanes = 1024 / t;
    if (w == 0 || w > t) {
        for (size_t i = 0; i < 1024; i++)
            out[i] = 0;
        return;
    }
    uint64_t mask = w == 64 ? ~(uint64_t)0 : (((uint64_t)1 << w) - 1);
    for (unsigned row = 0; row < t; row++) {
        unsigned start = row * w;
        unsigned wi = start / t, sh = start % t, got = t - sh;
        unsigned base = fl_order[row / 8] * 16 + (row % 8) * 128;
        for (unsigned lane = 0; lane < lanes; lane++) {
            uint64_t v = word_at(packed, t, (size_t)lanes * wi + lane) >> sh;
            if (got < w)
                v |= word_at(packed, t, (size_t)lanes * (wi + 1) + lane) << got;
            out[base + lane] = v & mask;
        }
    }
}
