/*
 * embed/fparse.h - decimal text to float32, correctly rounded.
 *
 * The reply parser's hot path: at 1024 dimensions a bulk run receives about
 * 10 KB of number text per vector. resona__embed_parse_f32 gives exactly the
 * float32 that strtof (round-to-nearest-even) gives, without needing a NUL
 * terminator or the C locale:
 *
 *  - Fast path (Clinger): when the digits fit in 53 bits and the power of ten
 *    is within 10^±22, one IEEE multiplication or division gives the
 *    correctly rounded double d. Rounding d again to float32 is exact unless
 *    d sits exactly on a float32 rounding boundary (a midpoint between two
 *    floats), because every such midpoint is itself a double: the decimal
 *    value and d are then on the same side of every boundary. So the fast
 *    path checks that d is not a midpoint (and is a normal float32); this is
 *    what avoids the double-rounding error of a plain (float)strtod().
 *  - Everything else (long digit strings, big exponents, midpoints,
 *    subnormals, overflow) goes to strtof_l in the C locale.
 */
#ifndef RESONA_EMBED_FPARSE_H
#define RESONA_EMBED_FPARSE_H

#include <stddef.h>

/**
 * Parse the JSON number s[0..len) (no NUL needed) into *out, rounded to
 * nearest float32 (ties to even). Returns 0, or -1 if s is not a complete
 * JSON number. Overflow gives ±inf (callers reject non-finite values).
 */
int resona__embed_parse_f32(const char *s, size_t len, float *out);

/** The slow path alone (strtof_l, C locale); for tests and the benchmark. */
int resona__embed_parse_f32_slow(const char *s, size_t len, float *out);

#endif
