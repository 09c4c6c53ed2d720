/*
 * sync/jsnum.h - numbers printed the way JavaScript prints them.
 *
 * The original stores JSON.stringify(doc) and builds checksums with template
 * strings, so every number we print must be JavaScript's Number::toString:
 * the shortest digits that read back to the same double, in plain notation
 * for exponents from -7 to 20 and "1e+21" style beyond. -0 prints "0".
 */
#ifndef SUPERTAG_SYNC_JSNUM_H
#define SUPERTAG_SYNC_JSNUM_H

#include <stddef.h>

/** Longest output of st_jsnum_format, with the NUL. */
#define ST_JSNUM_MAX 32

/**
 * Format v into out (at least ST_JSNUM_MAX bytes) as JavaScript's String(v):
 * "NaN", "Infinity" and "-Infinity" for non-finite values. Returns the length.
 */
size_t st_jsnum_format(double v, char *out);

/**
 * Like st_jsnum_format for a number parsed from JSON text `raw` (len bytes)
 * whose value is v: a short integer literal is its own JS form, so it is
 * copied without any floating-point work. Returns the length.
 */
size_t st_jsnum_format_raw(const char *raw, size_t len, double v, char *out);

#endif
