/*
 * util/endian.h - explicit little-endian loads and stores.
 *
 * Everything on disk (Lance files, deletion files, journals) is little-endian.
 * We never cast bytes to packed structs; these helpers compile to single
 * moves on little-endian machines and stay correct on big-endian ones.
 */
#ifndef RESONA_UTIL_ENDIAN_H
#define RESONA_UTIL_ENDIAN_H

#include <stdint.h>
#include <string.h>

static inline uint16_t resona__le16(const void *p)
{
    const uint8_t *b = p;
    return (uint16_t)(b[0] | (uint16_t)(b[1] << 8));
}

static inline uint32_t resona__le32(const void *p)
{
    const uint8_t *b = p;
    return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) |
           ((uint32_t)b[3] << 24);
}

static inline uint64_t resona__le64(const void *p)
{
    const uint8_t *b = p;
    return (uint64_t)resona__le32(b) | ((uint64_t)resona__le32(b + 4) << 32);
}

static inline void resona__put_le16(void *p, uint16_t v)
{
    uint8_t *b = p;
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
}

static inline void resona__put_le32(void *p, uint32_t v)
{
    uint8_t *b = p;
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
    b[2] = (uint8_t)(v >> 16);
    b[3] = (uint8_t)(v >> 24);
}

static inline void resona__put_le64(void *p, uint64_t v)
{
    resona__put_le32(p, (uint32_t)v);
    resona__put_le32((uint8_t *)p + 4, (uint32_t)(v >> 32));
}

static inline float resona__lef32(const void *p)
{
    uint32_t u = resona__le32(p);
    float f;
    memcpy(&f, &u, sizeof(f));
    return f;
}

static inline double resona__lef64(const void *p)
{
    uint64_t u = resona__le64(p);
    double d;
    memcpy(&d, &u, sizeof(d));
    return d;
}

static inline void resona__put_lef32(void *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof(u));
    resona__put_le32(p, u);
}

static inline void resona__put_lef64(void *p, double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof(u));
    resona__put_le64(p, u);
}

#endif
