/*
 * codec_util.h - small header-only helpers shared by the built-in codec
 * plugins (not part of the plugin ABI; third-party plugins need only
 * pgd_codec.h and pgd_wire.h).
 *
 * Conventions: helpers that fail record the message through
 * cx->host->error() and return -1 (ints) or NULL (objects), so callers can
 * `return cu_...(...)` straight from an error branch.
 */
#ifndef PGD_CODEC_UTIL_H
#define PGD_CODEC_UTIL_H

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgd_codec.h"
#include "pgd_wire.h"

#if defined(__GNUC__)
#define CU_COLD __attribute__((cold, noinline))
#define CU_UNUSED __attribute__((unused))
#else
#define CU_COLD
#define CU_UNUSED
#endif

/* Record an error; evaluates to -1. */
#define CU_ERR(cx, ...) ((cx)->host->error((cx)->h, __VA_ARGS__))
/* Record an error; evaluates to (pgd_obj *)NULL. */
#define CU_FAIL(cx, ...) (CU_ERR((cx), __VA_ARGS__), (pgd_obj *)NULL)

/* Name of a value kind, for "cannot encode <kind> as <type>" messages. */
static CU_UNUSED const char *cu_kind_name(uint32_t kind)
{
    static const char *const names[] = {
        "NULL", "bool", "int", "float", "str", "bytes", "decimal", "uuid",
        "date", "time", "datetime", "interval", "json", "list", "tuple", "dict",
        "object",
    };

    return kind < sizeof names / sizeof names[0] ? names[kind] : "unknown kind";
}

static CU_COLD CU_UNUSED int cu_wrong_kind(const pgd_cx *cx, const pgd_value *v,
                                           const char *type)
{
    if (v->kind == PGD_V_OBJECT && v->u.obj.type_name)
        return CU_ERR(cx, "cannot encode a %s value as %s", v->u.obj.type_name, type);
    return CU_ERR(cx, "cannot encode a %s value as %s", cu_kind_name(v->kind), type);
}

/* Decoders with a fixed wire size: check it before reading anything. */
static CU_COLD CU_UNUSED pgd_obj *cu_bad_len(const pgd_cx *cx, const char *type,
                                             size_t len, size_t want)
{
    return CU_FAIL(cx, "invalid %s field: %zu bytes, expected %zu", type, len, want);
}

/*
 * Append n bytes to out; NULL (error recorded) on out-of-memory.
 * For n == 0 the host is not asked at all (a host may answer NULL for a
 * zero-byte reserve on a buffer it has never allocated, which is not an
 * out-of-memory); the result is then a valid pointer to no bytes, which
 * callers must not write through.
 */
static inline char *cu_reserve(const pgd_cx *cx, pgd_wbuf *out, size_t n)
{
    static char none[1];
    char *p;

    if (n == 0)
        return none;
    p = cx->host->reserve(out, n);

    if (!p)
        CU_ERR(cx, "out of memory reserving %zu bytes", n);
    return p;
}

/* Append bytes; returns n or -1. */
static inline int cu_put_bytes(const pgd_cx *cx, pgd_wbuf *out, const void *src, size_t n)
{
    char *p;

    if (n > INT32_MAX)
        return CU_ERR(cx, "value of %zu bytes is too long", n);
    if (n == 0)
        return 0;
    p = cu_reserve(cx, out, n);
    if (!p)
        return -1;
    memcpy(p, src, n);
    return (int)n;
}

static inline int cu_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Value of a hex digit, or -1. */
static inline int cu_hex_val(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * The parts of decimal number text "[+-]digits[.digits][(e|E)[+-]digits]",
 * with at least one digit before the exponent (either side of the point may
 * be empty: ".5", "5.").  Offsets are into the scanned text.
 */
typedef struct cu_decimal {
    char sign;                /* '+', '-' or 0 */
    size_t int_at, int_len;   /* digits before the point */
    size_t frac_at, frac_len; /* digits after it (0 when there are none) */
    size_t exp_at;            /* the 'e' or 'E', or the text's length if none */
} cu_decimal;

/* 0 when p[0..n) is exactly such a number, -1 when it is not. */
static inline int cu_scan_decimal(const char *p, size_t n, cu_decimal *d)
{
    size_t i = 0, start;

    d->sign = 0;
    if (i < n && (p[i] == '+' || p[i] == '-'))
        d->sign = p[i++];
    d->int_at = i;
    while (i < n && cu_is_digit(p[i]))
        i++;
    d->int_len = i - d->int_at;
    d->frac_at = i;
    if (i < n && p[i] == '.') {
        d->frac_at = ++i;
        while (i < n && cu_is_digit(p[i]))
            i++;
    }
    d->frac_len = i - d->frac_at;
    if (d->int_len + d->frac_len == 0)
        return -1;
    d->exp_at = i;
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        start = i;
        while (i < n && cu_is_digit(p[i]))
            i++;
        if (i == start)
            return -1;
    }
    return i == n ? 0 : -1;
}

/*
 * A double from number text p[0..n): "[-]digits[.digits][(e|E)[+-]digits]"
 * (the server's float text, Python's str() of a Decimal) or one of the
 * words "NaN", "Infinity", "-Infinity".  Rounded once, to float precision
 * when `single`.  Only the characters of a plain decimal number reach the
 * C library (strtod would also take hex floats, "inf", blanks, a locale's
 * comma), on a copy: on the stack, or malloc'd past 63 bytes.
 * Returns 0 with *out set; -1 when the text is not such a number or is
 * longer than `max`; 1 when a finite number overflows the type or a
 * non-zero one underflows to zero.
 */
static CU_UNUSED int cu_text_to_double(const char *p, size_t n, size_t max, int single,
                                       double *out)
{
    char small[64], *buf = small, *end, *dot;
    cu_decimal d;
    int rc = 0;

    if (n == 3 && memcmp(p, "NaN", 3) == 0) {
        *out = NAN;
        return 0;
    }
    if ((n == 8 && memcmp(p, "Infinity", 8) == 0) ||
        (n == 9 && memcmp(p, "-Infinity", 9) == 0)) {
        *out = p[0] == '-' ? -INFINITY : INFINITY;
        return 0;
    }
    if (n == 0 || n > max || cu_scan_decimal(p, n, &d) < 0 || d.sign == '+')
        return -1;
    if (n >= sizeof small && !(buf = malloc(n + 1)))
        return -1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    /* the C library's decimal point may be a comma in some locales: the
     * text was validated above, so swap the point for the locale's */
    dot = memchr(buf, '.', n);
    if (dot && strtod("1.5", NULL) != 1.5)
        *dot = ',';
    errno = 0;
    *out = single ? (double)strtof(buf, &end) : strtod(buf, &end);
    if (end != buf + n)
        rc = -1;
    else if (isinf(*out) || (errno == ERANGE && *out == 0))
        rc = 1;
    if (buf != small)
        free(buf);
    return rc;
}

/*
 * Parse a whole decimal integer "[-]digits" of exactly n bytes (no blanks,
 * no '+').  Returns 0 and stores it, 1 when it is a well-formed integer that
 * does not fit [lo, hi], -1 when it is not an integer at all.
 */
static inline int cu_parse_int(const char *p, size_t n, int64_t lo, int64_t hi, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    uint64_t acc = 0, lim;
    int over = 0;

    if (n && p[0] == '-') {
        neg = 1;
        i = 1;
    }
    if (i == n)
        return -1;
    lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < n; i++) {
        if (!cu_is_digit(p[i]))
            return -1;
        if (!over) {
            unsigned d = (unsigned)(p[i] - '0');

            if (acc > (lim - d) / 10)
                over = 1;
            else
                acc = acc * 10 + d;
        }
    }
    if (over)
        return 1;
    {
        int64_t v = !neg ? (int64_t)acc
                    : acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc;

        if (v < lo || v > hi)
            return 1;
        *out = v;
    }
    return 0;
}

/*
 * Add one unit in the last mantissa digit of "[-]d.ddde+XX" in place.
 * 0 (nothing changed) when every mantissa digit is 9: the carry would need
 * another exponent, and that value has fewer digits, tried before.
 */
static CU_UNUSED int cu_bump_mantissa(char *buf)
{
    char *c, *e = strchr(buf, 'e');

    if (!e)
        return 0;
    for (c = e; c-- > buf;)
        if (*c >= '0' && *c <= '8')
            break;
    if (c < buf)
        return 0;
    for (c = e; c-- > buf;) {
        if (*c < '0' || *c > '9')
            continue; /* the sign, the decimal point */
        if (*c != '9') {
            (*c)++;
            return 1;
        }
        *c = '0';
    }
    return 1;
}

/*
 * Python's repr() of a finite double: the fewest significant digits that
 * read back as the same value (of two such, the nearer), fixed notation
 * with at least one fraction digit when the decimal exponent is in
 * [-4, 16), else "d.ddde+XX".
 * Returns the length written to buf (size >= 40).
 */
static CU_UNUSED int cu_float_repr(double d, char *buf, size_t size)
{
    char digits[20], *c;
    int prec, n = 0, e, nd = 0, i;

    for (prec = 0; prec <= 16; prec++) {
        n = snprintf(buf, size, "%.*e", prec, d);
        if (strtod(buf, NULL) == d) /* same locale both ways */
            break;
        /* Below a power of two the doubles are twice as dense as above it,
         * so the nearest prec + 1 digits can fall just short of the values
         * that read back as d while the next decimal up reads back as d:
         * 2^-24 is 5.960464477539063e-08, %.15e writes 5.960464477539062e-08. */
        if (fabs(strtod(buf, NULL)) < fabs(d) && cu_bump_mantissa(buf) &&
            strtod(buf, NULL) == d)
            break;
    }
    if (prec > 16)
        n = snprintf(buf, size, "%.16e", d);
    c = strchr(buf, 'e');
    e = c ? atoi(c + 1) : 0;
    if (e >= -4 && e < 16) { /* the same digits in fixed notation */
        for (c = buf; *c && *c != 'e'; c++)
            if (*c >= '0' && *c <= '9' && nd < (int)sizeof digits)
                digits[nd++] = *c;
        n = signbit(d) ? 1 : 0; /* buf[0] is '-' then */
        if (e < 0) {
            buf[n++] = '0';
            buf[n++] = '.';
            for (i = -1; i > e; i--)
                buf[n++] = '0';
        }
        for (i = 0; i < nd || i <= e; i++) {
            buf[n++] = i < nd ? digits[i] : '0';
            if (i == e)
                buf[n++] = '.';
        }
        if (buf[n - 1] == '.')
            buf[n++] = '0';
        buf[n] = '\0';
    }
    for (c = buf; *c; c++) /* a locale's decimal comma */
        if (*c == ',')
            *c = '.';
    return n;
}

/*
 * ctor(str) through the host's make_call (minor 1), str being p[0..n) as a
 * string: how a codec builds a host object from its text (ipaddress
 * objects, a Python int beyond int64).  `ctor` ("module:attribute") must
 * have static storage.  A host without make_call gets the string itself.
 * Returns a new object, or NULL after an error.
 */
static CU_UNUSED pgd_obj *cu_call_str(const pgd_cx *cx, const char *ctor, const char *p,
                                      size_t n)
{
    const pgd_host *H = cx->host;
    pgd_obj *s = H->make_str(cx->h, p, n), *args;

    if (!s || !PGD_HOST_HAS(H, make_call) || !PGD_HOST_HAS(H, make_tuple) ||
        !PGD_HOST_HAS(H, tuple_set))
        return s;
    args = H->make_tuple(cx->h, 1);
    if (!args) {
        H->release(cx->h, s);
        return NULL;
    }
    if (H->tuple_set(cx->h, args, 0, s) < 0) { /* s is stolen either way */
        H->release(cx->h, args);
        return NULL;
    }
    return H->make_call(cx->h, ctor, args);
}

/* Per-element context for the array handler. */
static inline pgd_cx cu_elem_cx(const pgd_cx *cx)
{
    pgd_cx e = *cx;

    e.oid = cx->elem_oid;
    e.elem_oid = 0;
    e.elem = NULL;
    e.type = cx->host->abi_minor >= 1 ? cx->elem_type : NULL;
    e.elem_type = NULL;
    return e;
}

#endif /* PGD_CODEC_UTIL_H */
