/*
 * search/kernels.c - the distance kernels (see kernels.h for the shape and
 * why it is the shape).
 *
 * Floating-point contraction must stay off here: with a fused multiply-add
 * the sums would no longer equal lance's. GCC in ISO C mode (-std=c11, which
 * the build uses) defaults to -ffp-contract=off; the pragma makes it explicit
 * for compilers that honour it. On x86-64 with GCC the kernels are built twice
 * (AVX2 and baseline SSE2) and the loader picks one (target_clones); the
 * arithmetic is the same in both, only the register width differs.
 *
 * Each kernel is written so that -O2 -ftree-vectorize turns the 16-lane loop
 * into packed operations; check with -fopt-info-vec (docs/benchmarks.md).
 */
#include "search/kernels.h"

#include <math.h>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3", "fp-contract=off")
#endif
#if defined(__clang__)
#pragma clang fp contract(off)
#endif

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) &&        \
    !defined(RESONA_NO_CLONES)
#define KERNEL __attribute__((target_clones("avx2", "default")))
#else
#define KERNEL
#endif

#define LANES 16

KERNEL float resona__search_l2(const float *x, const float *y, size_t dim)
{
    size_t body = dim - dim % LANES;
    float tail = 0.0f;
    for (size_t i = body; i < dim; i++) {
        float d = x[i] - y[i];
        tail += d * d;
    }
    float acc[LANES] = {0};
    for (size_t i = 0; i < body; i += LANES) {
        for (size_t j = 0; j < LANES; j++) {
            float d = x[i + j] - y[i + j];
            acc[j] += d * d;
        }
    }
    float sum = 0.0f;
    for (size_t j = 0; j < LANES; j++)
        sum += acc[j];
    return tail + sum;
}

KERNEL float resona__search_dot(const float *x, const float *y, size_t dim)
{
    size_t body = dim - dim % LANES;
    float tail = 0.0f;
    for (size_t i = body; i < dim; i++)
        tail += x[i] * y[i];
    float acc[LANES] = {0};
    for (size_t i = 0; i < body; i += LANES) {
        for (size_t j = 0; j < LANES; j++)
            acc[j] += x[i + j] * y[i + j];
    }
    float sum = 0.0f;
    for (size_t j = 0; j < LANES; j++)
        sum += acc[j];
    return tail + sum;
}

float resona__search_norm(const float *x, size_t dim)
{
    return sqrtf(resona__search_dot(x, x, dim));
}

KERNEL float resona__search_cosine(const float *x, float x_norm, const float *y, size_t dim)
{
    size_t body = dim - dim % LANES;
    float tail_xy = 0.0f, tail_yy = 0.0f;
    for (size_t i = body; i < dim; i++) {
        tail_xy += x[i] * y[i];
        tail_yy += y[i] * y[i];
    }
    float xy[LANES] = {0};
    float yy[LANES] = {0};
    for (size_t i = 0; i < body; i += LANES) {
        for (size_t j = 0; j < LANES; j++) {
            xy[j] += x[i + j] * y[i + j];
            yy[j] += y[i + j] * y[i + j];
        }
    }
    float sxy = 0.0f, syy = 0.0f;
    for (size_t j = 0; j < LANES; j++) {
        sxy += xy[j];
        syy += yy[j];
    }
    sxy += tail_xy;
    syy += tail_yy;
    /* lance: 1 - xy / x_norm / sqrt(y_sq), evaluated left to right */
    return 1.0f - sxy / x_norm / sqrtf(syy);
}

void resona__search_row_distances(resona_metric metric, const float *queries,
                                  const float *norms, size_t query_count, const float *y,
                                  size_t dim, float *out)
{
    switch (metric) {
    case RESONA_METRIC_COSINE:
        for (size_t q = 0; q < query_count; q++)
            out[q] = resona__search_cosine(queries + q * dim, norms[q], y, dim);
        break;
    case RESONA_METRIC_DOT:
        for (size_t q = 0; q < query_count; q++)
            out[q] = 1.0f - resona__search_dot(queries + q * dim, y, dim);
        break;
    case RESONA_METRIC_L2:
    default:
        for (size_t q = 0; q < query_count; q++)
            out[q] = resona__search_l2(queries + q * dim, y, dim);
        break;
    }
}
