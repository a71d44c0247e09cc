/*
 * int.c - integer codecs: int2, int4, int8, oid.
 *
 * Server functions: int2recv/int2send, int4recv/int4send, int8recv/int8send,
 * oidrecv/oidsend (binary); int2in/int2out, int4in/int4out, int8in/int8out,
 * oidin/oidout (text).
 *
 * Binary wire layout: a big-endian two's-complement integer of exactly 2
 * (int2), 4 (int4) or 8 (int8) bytes; oid is a big-endian unsigned 32-bit
 * integer.  Text form: "[-]digits" in base 10 (oid: unsigned, 0..4294967295).
 * Special values: none (no NaN or infinity; SQL NULL never reaches a codec).
 *
 * Encoding accepts PGD_V_INT (range-checked against the column type) and
 * PGD_V_DECIMAL holding a plain integer (how hosts hand over integers too
 * big for int64: always out of range here).  Anything else, including
 * bools and floats, is refused.
 */
#include <inttypes.h>

#include "codec_util.h"

typedef struct int_type {
    const char *name;
    size_t size; /* bytes on the wire */
    int64_t lo, hi;
} int_type;

static const int_type T_INT2 = {"int2", 2, INT16_MIN, INT16_MAX};
static const int_type T_INT4 = {"int4", 4, INT32_MIN, INT32_MAX};
static const int_type T_INT8 = {"int8", 8, INT64_MIN, INT64_MAX};
static const int_type T_OID = {"oid", 4, 0, UINT32_MAX};

/* ---- encode ------------------------------------------------------------ */

static int int_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out,
                      const int_type *t)
{
    int64_t x;
    char *p;

    switch (v->kind) {
    case PGD_V_INT:
        x = v->u.i;
        if (x < t->lo || x > t->hi)
            return CU_ERR(cx, "value %" PRId64 " out of range for %s", x, t->name);
        break;
    case PGD_V_DECIMAL: {
        int rc = cu_parse_int(v->u.s.p, v->u.s.n, t->lo, t->hi, &x);
        int shown = v->u.s.n > 40 ? 40 : (int)v->u.s.n;

        if (rc < 0)
            return CU_ERR(cx, "decimal %.*s%s is not an integer, cannot encode as %s",
                          shown, v->u.s.p, shown < (int)v->u.s.n ? "..." : "", t->name);
        if (rc > 0)
            return CU_ERR(cx, "value %.*s%s out of range for %s", shown, v->u.s.p,
                          shown < (int)v->u.s.n ? "..." : "", t->name);
        break;
    }
    default:
        return cu_wrong_kind(cx, v, t->name);
    }
    p = cu_reserve(cx, out, t->size);
    if (!p)
        return -1;
    switch (t->size) {
    case 2:
        pgd_put_i16(p, (int16_t)x);
        break;
    case 4:
        pgd_put_u32(p, (uint32_t)x); /* int4 and oid: same 32 bits */
        break;
    default:
        pgd_put_i64(p, x);
        break;
    }
    return (int)t->size;
}

static int int2_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    return int_encode(cx, v, out, &T_INT2);
}

static int int4_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    return int_encode(cx, v, out, &T_INT4);
}

static int int8_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    return int_encode(cx, v, out, &T_INT8);
}

static int oid_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    return int_encode(cx, v, out, &T_OID);
}

/* ---- decode ------------------------------------------------------------ */

static pgd_obj *int2_decode(const pgd_cx *cx, const char *data, size_t len)
{
    if (len != 2)
        return cu_bad_len(cx, "int2", len, 2);
    return cx->host->make_int(cx->h, pgd_get_i16(data));
}

static pgd_obj *int4_decode(const pgd_cx *cx, const char *data, size_t len)
{
    if (len != 4)
        return cu_bad_len(cx, "int4", len, 4);
    return cx->host->make_int(cx->h, pgd_get_i32(data));
}

static pgd_obj *int8_decode(const pgd_cx *cx, const char *data, size_t len)
{
    if (len != 8)
        return cu_bad_len(cx, "int8", len, 8);
    return cx->host->make_int(cx->h, pgd_get_i64(data));
}

static pgd_obj *oid_decode(const pgd_cx *cx, const char *data, size_t len)
{
    if (len != 4)
        return cu_bad_len(cx, "oid", len, 4);
    return cx->host->make_int(cx->h, (int64_t)pgd_get_u32(data));
}

static pgd_obj *int_decode_text(const pgd_cx *cx, const char *data, size_t len,
                                const int_type *t)
{
    int64_t x;
    int rc = cu_parse_int(data, len, t->lo, t->hi, &x);

    if (rc != 0) {
        int shown = len > 40 ? 40 : (int)len;

        return CU_FAIL(cx, "invalid %s text \"%.*s\"%s", t->name, shown, data,
                       rc > 0 ? ": out of range" : "");
    }
    return cx->host->make_int(cx->h, x);
}

static pgd_obj *int2_decode_text(const pgd_cx *cx, const char *data, size_t len)
{
    return int_decode_text(cx, data, len, &T_INT2);
}

static pgd_obj *int4_decode_text(const pgd_cx *cx, const char *data, size_t len)
{
    return int_decode_text(cx, data, len, &T_INT4);
}

static pgd_obj *int8_decode_text(const pgd_cx *cx, const char *data, size_t len)
{
    return int_decode_text(cx, data, len, &T_INT8);
}

static pgd_obj *oid_decode_text(const pgd_cx *cx, const char *data, size_t len)
{
    return int_decode_text(cx, data, len, &T_OID);
}

#define BOTH (PGD_CODEC_BINARY | PGD_CODEC_TEXT)

static const pgd_codec codecs[] = {
    {"int2", 21, 1005, BOTH, 0, int2_encode, int2_decode, int2_decode_text, {0}},
    {"int4", 23, 1007, BOTH, 0, int4_encode, int4_decode, int4_decode_text, {0}},
    {"int8", 20, 1016, BOTH, 0, int8_encode, int8_decode, int8_decode_text, {0}},
    {"oid", 26, 1028, BOTH, 0, oid_encode, oid_decode, oid_decode_text, {0}},
};

static const pgd_codec_module module = PGD_CODEC_MODULE_INIT("int", "1.0.0", codecs);

PGD_CODEC_EXPORT const pgd_codec_module *pgd_codec_module_v1(void)
{
    return &module;
}
