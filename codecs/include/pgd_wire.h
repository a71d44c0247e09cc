/*
 * pgd_wire.h - byte-order helpers for PostgreSQL's binary wire format.
 *
 * Every multi-byte integer on the wire is big-endian (network order).
 * All reads and writes go through memcpy plus a byte swap: never cast a
 * pointer into the wire buffer to a wider type (alignment, aliasing).
 * Floats travel as the big-endian bytes of their IEEE-754 representation.
 *
 * Header-only; usable from the driver, codec plugins, tests and benchmarks.
 */
#ifndef PGD_WIRE_H
#define PGD_WIRE_H

#include <stdint.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define pgd_be16(x) (x)
#define pgd_be32(x) (x)
#define pgd_be64(x) (x)
#else
#define pgd_be16(x) __builtin_bswap16(x)
#define pgd_be32(x) __builtin_bswap32(x)
#define pgd_be64(x) __builtin_bswap64(x)
#endif

static inline uint16_t pgd_get_u16(const char *p)
{
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return pgd_be16(v);
}

static inline uint32_t pgd_get_u32(const char *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return pgd_be32(v);
}

static inline uint64_t pgd_get_u64(const char *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return pgd_be64(v);
}

static inline int16_t pgd_get_i16(const char *p) { return (int16_t)pgd_get_u16(p); }
static inline int32_t pgd_get_i32(const char *p) { return (int32_t)pgd_get_u32(p); }
static inline int64_t pgd_get_i64(const char *p) { return (int64_t)pgd_get_u64(p); }

static inline float pgd_get_f32(const char *p)
{
    uint32_t u = pgd_get_u32(p);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline double pgd_get_f64(const char *p)
{
    uint64_t u = pgd_get_u64(p);
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static inline void pgd_put_u16(char *p, uint16_t v)
{
    v = pgd_be16(v);
    memcpy(p, &v, sizeof v);
}

static inline void pgd_put_u32(char *p, uint32_t v)
{
    v = pgd_be32(v);
    memcpy(p, &v, sizeof v);
}

static inline void pgd_put_u64(char *p, uint64_t v)
{
    v = pgd_be64(v);
    memcpy(p, &v, sizeof v);
}

static inline void pgd_put_i16(char *p, int16_t v) { pgd_put_u16(p, (uint16_t)v); }
static inline void pgd_put_i32(char *p, int32_t v) { pgd_put_u32(p, (uint32_t)v); }
static inline void pgd_put_i64(char *p, int64_t v) { pgd_put_u64(p, (uint64_t)v); }

static inline void pgd_put_f32(char *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    pgd_put_u32(p, u);
}

static inline void pgd_put_f64(char *p, double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    pgd_put_u64(p, u);
}

#endif /* PGD_WIRE_H */
