/*
 * search/kernels.h - float32 distance kernels shaped like lance's.
 *
 * Each kernel sums in 16 interleaved float lanes (element i into lane
 * i mod 16), sums the tail past the last multiple of 16 first, adds the
 * lanes in order 0..15 and never fuses multiply and add. That is exactly
 * what lance's `l2_scalar::<f32, f32, 16>` and `dot_scalar::<f32, f32, 16>`
 * compute, so our L2 and dot distances equal LanceDB's bit for bit. The
 * shape is also what the compiler vectorises well (4 SSE or 2 AVX registers
 * of accumulators), so no intrinsics are needed.
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
void resona__search_row_distances(resona_metric metric, const float *queries,
                                  const float *norms, size_t query_count, const float *y,
                                  size_t dim, float *out);

#endif
