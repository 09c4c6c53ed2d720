/*
 * search/kernels.c - the distance kernels (kernels.h says what they compute
 * and why in exactly this order).
 *
 * Build notes. The fused multiply-adds are explicit fmaf() calls, and the
 * compiler must not fuse anything else (the tail's a*b + t is rounded twice
 * in LanceDB too): GCC in ISO C mode (-std=c11, as the build uses) defaults
 * to -ffp-contract=off, and the pragma says so explicitly. On x86-64 Linux
 * with GCC each kernel is cloned for FMA (AVX + FMA3, 8-float registers) and
 * a baseline; the loader picks the FMA clone on any CPU since 2013. The
 * baseline clone gets the same bits through libm's fmaf, only slower.
 * -O3 lets GCC vectorise the 16-lane loops; check with
 *   gcc -std=c11 -O2 -Iinclude -Isrc/resona -fopt-info-vec-optimized -c kernels.c
 */
#include "search/kernels.h"

#include <math.h>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3", "fp-contract=off")
#endif
#if defined(__clang__)
#pragma clang fp contract(off)
#endif

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) &&       \
    !defined(RESONA_NO_CLONES)
#define KERNEL static __attribute__((target_clones("fma", "default")))
#else
#define KERNEL static
#endif

#define LANES 16

/* Lanes added by halves: 16 -> 8 -> 4 -> 2 -> 1 (the order of a SIMD horizontal sum). */
static inline float reduce_halves(float *acc)
{
    for (size_t n = LANES; n > 1; n /= 2) {
        for (size_t j = 0; j < n / 2; j++)
            acc[j] += acc[j + n / 2];
    }
    return acc[0];
}

KERNEL float l2_kernel(const float *x, const float *y, size_t dim)
{
    size_t body = dim - dim % LANES;
    float acc[LANES] = {0};
    for (size_t i = 0; i < body; i += LANES) {
        for (size_t j = 0; j < LANES; j++) {
            float d = x[i + j] - y[i + j];
            acc[j] = fmaf(d, d, acc[j]);
        }
    }
    float tail = 0.0f;
    for (size_t i = body; i < dim; i++) {
        float d = x[i] - y[i];
        tail += d * d;
    }
    return reduce_halves(acc) + tail;
}

KERNEL float dot_kernel(const float *x, const float *y, size_t dim)
{
    size_t body = dim - dim % LANES;
    float acc[LANES] = {0};
    for (size_t i = 0; i < body; i += LANES) {
        for (size_t j = 0; j < LANES; j++)
            acc[j] = fmaf(x[i + j], y[i + j], acc[j]);
    }
    float tail = 0.0f;
    for (size_t i = body; i < dim; i++)
        tail += x[i] * y[i];
    return reduce_halves(acc) + tail;
}

KERNEL float cosine_kernel(const float *x, float x_norm, const float *y, size_t dim)
{
    size_t body = dim - dim % LANES;
    float xy[LANES] = {0};
    float yy[LANES] = {0};
    for (size_t i = 0; i < body; i += LANES) {
        for (size_t j = 0; j < LANES; j++) {
            xy[j] = fmaf(x[i + j], y[i + j], xy[j]);
            yy[j] = fmaf(y[i + j], y[i + j], yy[j]);
        }
    }
    float txy = 0.0f, tyy = 0.0f;
    for (size_t i = body; i < dim; i++) {
        txy += x[i] * y[i];
        tyy += y[i] * y[i];
    }
    float sxy = reduce_halves(xy) + txy;
    float syy = reduce_halves(yy) + tyy;
    return 1.0f - sxy / x_norm / sqrtf(syy);
}

/*
 * The clones are static: GCC gives the ifunc of an extern cloned function
 * default visibility, which would export it from the shared library.
 */
float resona__search_l2(const float *x, const float *y, size_t dim)
{
    return l2_kernel(x, y, dim);
}

float resona__search_dot(const float *x, const float *y, size_t dim)
{
    return dot_kernel(x, y, dim);
}

float resona__search_cosine(const float *x, float x_norm, const float *y, size_t dim)
{
    return cosine_kernel(x, x_norm, y, dim);
}

float resona__search_norm(const float *x, size_t dim)
{
    return sqrtf(dot_kernel(x, x, dim));
}

void resona__search_row_distances(resona_metric metric, const float *queries, const float *norms,
                                  size_t query_count, const float *y, size_t dim, float *out)
{
    switch (metric) {
    case RESONA_METRIC_COSINE:
        for (size_t q = 0; q < query_count; q++)
            out[q] = cosine_kernel(queries + q * dim, norms[q], y, dim);
        break;
    case RESONA_METRIC_DOT:
        for (size_t q = 0; q < query_count; q++)
            out[q] = 1.0f - dot_kernel(queries + q * dim, y, dim);
        break;
    case RESONA_METRIC_L2:
    default:
        for (size_t q = 0; q < query_count; q++)
            out[q] = l2_kernel(queries + q * dim, y, dim);
        break;
    }
}
