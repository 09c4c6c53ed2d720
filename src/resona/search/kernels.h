/*
 * search/kernels.h - float32 distance kernels that reproduce LanceDB's
 * `_distance` bit for bit.
 *
 * The arithmetic was fitted to LanceDB 0.37.1 (Node, linux-x64, on an
 * AVX2+FMA CPU) by comparing every distance of small and 100k-row tables
 * (dims 7, 20, 1024, 1030; bench/search/, docs/benchmarks.md); LanceDB
 * 0.39.0 gives the same bits on the same tables:
 *
 *   body  = elements [0, dim - dim % 16): 16 float lanes, element i into lane
 *           i mod 16, each step acc = fma(a, b, acc) (one rounding);
 *   lanes reduced by halves: 16 -> 8 -> 4 -> 2 -> 1, lane j += lane j + n/2;
 *   tail  = the last dim % 16 elements summed in order, t += a*b (no fma);
 *   sum   = body + tail.
 *
 *   L2      sum over (x_i - y_i)^2             exact for every dim tested
 *   dot     1 - sum over x_i y_i               exact for every dim tested
 *   cosine  1 - (xy / sqrt(xx)) / sqrt(yy),    exact when dim % 16 == 0 (384,
 *           each a sum as above                768, 1024, ...); otherwise within
 *                                              a few ulp (LanceDB's cosine tail
 *                                              has a different shape)
 *
 * The loops are written so the compiler vectorises them (two 8-float FMA
 * registers of accumulators); see kernels.c for the build flags.
 */
#ifndef RESONA_SEARCH_KERNELS_H
#define RESONA_SEARCH_KERNELS_H

#include <resona/search.h>

#include <stddef.h>

/** Squared Euclidean distance. */
float resona__search_l2(const float *x, const float *y, size_t dim);
/** Dot product x.y. */
float resona__search_dot(const float *x, const float *y, size_t dim);
/** sqrt(x.x), computed with the dot kernel. */
float resona__search_norm(const float *x, size_t dim);
/** 1 - (x.y / x_norm) / sqrt(y.y); x.y and y.y in one pass. NaN for a zero y. */
float resona__search_cosine(const float *x, float x_norm, const float *y, size_t dim);

/**
 * Distances from one row y to `query_count` queries (row-major, dim each)
 * under `metric`, into out[query_count]. norms[q] = resona__search_norm of
 * query q (only read for COSINE).
 */
void resona__search_row_distances(resona_metric metric, const float *queries, const float *norms,
                                  size_t query_count, const float *y, size_t dim, float *out);

#endif
