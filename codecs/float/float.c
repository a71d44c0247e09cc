/*
 * float.c - floating-point codecs: float4 (real), float8 (double precision).
 *
 * Server functions: float4recv/float4send, float8recv/float8send (binary);
 * float4in/float4out, float8in/float8out (text).
 *
 * Binary wire layout: the IEEE-754 bits of the value as a big-endian 32-bit
 * (float4) or 64-bit (float8) integer.  Special values travel as their IEEE
 * bit patterns: NaN, +Infinity, -Infinity, -0.
 * Text form (extra_float_digits >= 1, the default since PostgreSQL 12): the
 * shortest text that reads back exactly, e.g. "1.5", "1e+100",
 * "1.2345679e-05", "-0", and the words "NaN", "Infinity", "-Infinity".
 *
 * Encoding accepts PGD_V_FLOAT and PGD_V_INT (an int is converted to the
 * nearest float; exactness is not required).  float4 refuses finite values
 * that overflow to infinity or underflow from non-zero to zero, as the
 * server's float4in does.
 */
#include <float.h>
#include <math.h>

#include "codec_util.h"

/* The double to encode, or -1 after an error. */
static int float_input(const pgd_cx *cx, const pgd_value *v, const char *type, double *out)
{
    if (v->kind == PGD_V_FLOAT)
        *out = v->u.f;
    else if (v->kind == PGD_V_INT)
        *out = (double)v->u.i;
    else
        return cu_wrong_kind(cx, v, type);
    return 0;
}

static int float4_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    double d = 0;
    float f;
    char *p;

    if (float_input(cx, v, "float4", &d) < 0)
        return -1;
    f = (float)d;
    if (isinf(f) && !isinf(d))
        return CU_ERR(cx, "value %g out of range for float4 (overflow)", d);
    if (f == 0.0f && d != 0.0)
        return CU_ERR(cx, "value %g out of range for float4 (underflow)", d);
    p = cu_reserve(cx, out, 4);
    if (!p)
        return -1;
    pgd_put_f32(p, f);
    return 4;
}

static int float8_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    double d = 0;
    char *p;

    if (float_input(cx, v, "float8", &d) < 0)
        return -1;
    p = cu_reserve(cx, out, 8);
    if (!p)
        return -1;
    pgd_put_f64(p, d);
    return 8;
}

static pgd_obj *float4_decode(const pgd_cx *cx, const char *data, size_t len)
{
    if (len != 4)
        return cu_bad_len(cx, "float4", len, 4);
    return cx->host->make_float(cx->h, (double)pgd_get_f32(data));
}

static pgd_obj *float8_decode(const pgd_cx *cx, const char *data, size_t len)
{
    if (len != 8)
        return cu_bad_len(cx, "float8", len, 8);
    return cx->host->make_float(cx->h, pgd_get_f64(data));
}

/*
 * Parse the server's text form (cu_text_to_double: plain decimal numbers
 * and the words NaN, Infinity, -Infinity, at most FLOAT_TEXT_MAX bytes).
 * Returns 0 and the value, or -1 after an error.
 */
#define FLOAT_TEXT_MAX 64

static int float_parse_text(const pgd_cx *cx, const char *data, size_t len, int single,
                            double *out)
{
    const char *type = single ? "float4" : "float8";
    int rc = cu_text_to_double(data, len, FLOAT_TEXT_MAX, single, out);

    /* The server never prints a finite value that overflows its type. */
    if (rc > 0)
        return CU_ERR(cx, "%s text \"%.*s\" is out of range", type, (int)len, data);
    if (rc < 0)
        return CU_ERR(cx, "invalid %s text \"%.*s\"", type, (int)(len > 40 ? 40 : len),
                      data);
    return 0;
}

static pgd_obj *float4_decode_text(const pgd_cx *cx, const char *data, size_t len)
{
    double d = 0;

    if (float_parse_text(cx, data, len, 1, &d) < 0)
        return NULL;
    return cx->host->make_float(cx->h, d);
}

static pgd_obj *float8_decode_text(const pgd_cx *cx, const char *data, size_t len)
{
    double d = 0;

    if (float_parse_text(cx, data, len, 0, &d) < 0)
        return NULL;
    return cx->host->make_float(cx->h, d);
}

#define BOTH (PGD_CODEC_BINARY | PGD_CODEC_TEXT)

static const pgd_codec codecs[] = {
    {"float4", 700, 1021, BOTH, 0, float4_encode, float4_decode, float4_decode_text, {0}},
    {"float8", 701, 1022, BOTH, 0, float8_encode, float8_decode, float8_decode_text, {0}},
};

static const pgd_codec_module module = PGD_CODEC_MODULE_INIT("float", "1.0.0", codecs);

PGD_CODEC_EXPORT const pgd_codec_module *pgd_codec_module_v1(void)
{
    return &module;
}
