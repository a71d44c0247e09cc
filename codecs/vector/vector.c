/*
 * vector.c - the pgvector extension's `vector` type.
 *
 * Server functions: vector_recv/vector_send (binary), vector_in/vector_out
 * (text).  `vector` is an extension type whose OID differs per database, so
 * the codec is registered by name (oid 0): a connection that meets a type
 * named "vector" uses it, and the array handler for vector[].
 *
 * Binary wire layout:
 *   int16 dim       number of elements, 1 .. 16000
 *   int16 unused    always 0
 *   dim x float4    the elements, big-endian IEEE 754 single precision
 *
 * Decoding gives a list of floats: each float4 widened to a double, so
 * 0.1 stored comes back as 0.10000000149011612, the value the server holds.
 * Text (vector_out) is "[1,2.5,-3]": decode_text reads that form.
 *
 * Encoding takes a list or tuple of numbers (int, float, Decimal): each is
 * rounded to float4, and one that is not finite there (NaN, an infinity, or
 * a magnitude past float4's range) is refused, as vector_recv would refuse
 * it.  A str goes in text format for the server to parse
 * (PGD_CODEC_STR_TEXT), which is how extra_types.PgVector is sent.  In
 * an array parameter (vector[]) a tuple is one vector (PGD_CODEC_COMPOUND).  The
 * dimension limits are the server's to check (its message names the
 * column's declared dimension too).
 */
#include <math.h>

#include "codec_util.h"

#define VECTOR_MAX_DIM 16000 /* pgvector's VECTOR_MAX_DIM */

/* ---- decode ------------------------------------------------------------ */

static pgd_obj *vector_build(const pgd_cx *cx, const float *vals, size_t n)
{
    const pgd_host *H = cx->host;
    pgd_obj *list = H->make_list(cx->h, n), *f;

    if (!list)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        f = H->make_float(cx->h, (double)vals[i]);
        if (!f || H->list_set(cx->h, list, i, f) < 0) {
            H->release(cx->h, list);
            return NULL;
        }
    }
    return list;
}

static pgd_obj *vector_decode(const pgd_cx *cx, const char *data, size_t len)
{
    const pgd_host *H = cx->host;
    pgd_obj *list, *f;
    int16_t dim;
    size_t n;

    if (len < 4)
        return CU_FAIL(cx, "invalid vector: %zu bytes, expected at least 4", len);
    dim = pgd_get_i16(data);
    if (dim < 0)
        return CU_FAIL(cx, "invalid vector: dimension %d", (int)dim);
    n = (size_t)dim;
    if (len != 4 + 4 * n)
        return CU_FAIL(cx, "invalid vector: %zu bytes for %zu dimensions, expected %zu", len,
                       n, 4 + 4 * n);
    list = H->make_list(cx->h, n);
    if (!list)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        f = H->make_float(cx->h, (double)pgd_get_f32(data + 4 + 4 * i));
        if (!f || H->list_set(cx->h, list, i, f) < 0) {
            H->release(cx->h, list);
            return NULL;
        }
    }
    return list;
}

/* "[1,2.5,-3]", as vector_out writes it (blanks around elements allowed,
 * as vector_in allows them). */
static pgd_obj *vector_decode_text(const pgd_cx *cx, const char *data, size_t len)
{
    float small[64], *vals = small;
    size_t cap = sizeof small / sizeof small[0], n = 0, i = 0, start, end;
    pgd_obj *out = NULL;
    double d;

    while (i < len && (data[i] == ' ' || data[i] == '\t'))
        i++;
    if (i == len || data[i] != '[')
        goto bad;
    i++;
    for (;;) {
        while (i < len && data[i] == ' ')
            i++;
        start = i;
        while (i < len && data[i] != ',' && data[i] != ']' && data[i] != ' ')
            i++;
        end = i;
        while (i < len && data[i] == ' ')
            i++;
        if (i == len || cu_text_to_double(data + start, end - start, 64, 1, &d) != 0)
            goto bad;
        if (n == cap) {
            float *grown = malloc(2 * cap * sizeof *grown);
            if (!grown) {
                CU_ERR(cx, "out of memory");
                goto done;
            }
            memcpy(grown, vals, n * sizeof *vals);
            if (vals != small)
                free(vals);
            vals = grown;
            cap *= 2;
        }
        vals[n++] = (float)d;
        if (data[i++] == ']')
            break;
    }
    while (i < len && (data[i] == ' ' || data[i] == '\t'))
        i++;
    if (i != len)
        goto bad;
    out = vector_build(cx, vals, n);
    goto done;
bad:
    CU_ERR(cx, "invalid vector text \"%.*s\"", (int)(len > 60 ? 60 : len), data);
done:
    if (vals != small)
        free(vals);
    return out;
}

/* ---- encode ------------------------------------------------------------ */

static int element(const pgd_cx *cx, const pgd_value *e, size_t i, float *out)
{
    double d;

    switch (e->kind) {
    case PGD_V_INT:
        d = (double)e->u.i;
        break;
    case PGD_V_FLOAT:
        d = e->u.f;
        break;
    case PGD_V_DECIMAL:
        if (cu_text_to_double(e->u.s.p, e->u.s.n, 400, 0, &d) < 0)
            return CU_ERR(cx, "vector element %zu: invalid number \"%.*s\"", i,
                          (int)(e->u.s.n > 60 ? 60 : e->u.s.n), e->u.s.p);
        break;
    case PGD_V_NULL:
        return CU_ERR(cx, "vector element %zu is None: a vector has no NULL elements", i);
    default:
        return CU_ERR(cx, "vector element %zu must be a number, not %s", i,
                      cu_kind_name(e->kind));
    }
    *out = (float)d;
    if (!isfinite(*out))
        return CU_ERR(cx, "vector element %zu (%g) is not a finite float4", i, d);
    return 0;
}

static int vector_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    size_t n, i;
    float f = 0;
    char *p;

    if (v->kind != PGD_V_LIST && v->kind != PGD_V_TUPLE)
        return cu_wrong_kind(cx, v, "vector");
    n = v->u.list.n;
    if (n > VECTOR_MAX_DIM)
        return CU_ERR(cx, "vector of %zu dimensions: at most %d", n, VECTOR_MAX_DIM);
    p = cu_reserve(cx, out, 4 + 4 * n);
    if (!p)
        return -1;
    pgd_put_u16(p, (uint16_t)n);
    pgd_put_u16(p + 2, 0);
    for (i = 0; i < n; i++) {
        if (element(cx, &v->u.list.items[i], i, &f) < 0)
            return -1;
        pgd_put_f32(p + 4 + 4 * i, f);
    }
    return (int)(4 + 4 * n);
}

static const pgd_codec codecs[] = {
    {"vector", 0, 0, PGD_CODEC_BINARY | PGD_CODEC_TEXT | PGD_CODEC_STR_TEXT | PGD_CODEC_COMPOUND,
     0, vector_encode,
     vector_decode, vector_decode_text, {0}},
};

static const pgd_codec_module module = PGD_CODEC_MODULE_INIT("vector", "1.0.0", codecs);

PGD_CODEC_EXPORT const pgd_codec_module *pgd_codec_module_v1(void)
{
    return &module;
}
