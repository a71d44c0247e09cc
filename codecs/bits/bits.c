/*
 * bits.c - bit string codecs: bit (bit(n)) and varbit (bit varying(n)).
 *
 * Server functions: bit_recv/bit_send, varbit_recv/varbit_send (binary),
 * bit_in/bit_out, varbit_in/varbit_out (text).
 *
 * Binary wire layout (both types):
 *   int32  bitlen   number of bits, 0..VARBITMAXLEN (INT32_MAX - 7)
 *   bytes  ceil(bitlen / 8) bytes, the first bit in the high bit of the
 *          first byte; the bits after the last one (pad bits) are zero
 * bit_send sends the stored bytes, which are always zero-padded; bit_recv
 * silently clears nonzero pad bits (VARBIT_PAD).  Decoding here refuses
 * them, with a negative or too large length, and any byte count other
 * than ceil(bitlen / 8).
 * Text form: the bits as '0'/'1' characters ("B'101'" is only the SQL
 * literal; the output has no prefix).  Special values: none.
 *
 * Decoded to a string of '0' and '1'.  Encoding accepts PGD_V_STR made of
 * '0' and '1' only (possibly empty); bit(n)'s length check is the
 * server's (a parameter carries no typmod, so an assignment or a cast to
 * bit(n) checks it there).
 */
#include <stdlib.h>

#include "codec_util.h"

#define VARBITMAXLEN (INT32_MAX - 7)

static pgd_obj *bits_decode(const pgd_cx *cx, const char *data, size_t len)
{
    char stackbuf[256], *buf;
    const uint8_t *b;
    int32_t nbits;
    size_t nbytes, i;
    pgd_obj *o;

    if (len < 4)
        return CU_FAIL(cx, "invalid bit string field: %zu bytes, need at least 4", len);
    nbits = pgd_get_i32(data);
    b = (const uint8_t *)data + 4;
    if (nbits < 0 || nbits > VARBITMAXLEN)
        return CU_FAIL(cx, "invalid bit string field: length %d bits", (int)nbits);
    nbytes = ((size_t)nbits + 7) / 8;
    if (len - 4 != nbytes)
        return CU_FAIL(cx, "invalid bit string field: %zu data bytes for %d bits, expected %zu",
                       len - 4, (int)nbits, nbytes);
    if (nbits % 8 && (b[nbytes - 1] & (0xffu >> (nbits % 8))))
        return CU_FAIL(cx, "invalid bit string field: pad bits after bit %d are not zero",
                       (int)nbits);
    if (nbits == 0)
        return cx->host->make_str(cx->h, "", 0);
    buf = (size_t)nbits <= sizeof stackbuf ? stackbuf : malloc((size_t)nbits);
    if (!buf)
        return CU_FAIL(cx, "out of memory decoding %d bits", (int)nbits);
    for (i = 0; i < (size_t)nbits; i++)
        buf[i] = (char)('0' + ((b[i / 8] >> (7 - i % 8)) & 1));
    o = cx->host->make_str(cx->h, buf, (size_t)nbits);
    if (buf != stackbuf)
        free(buf);
    return o;
}

/* Index of the first character that is not '0' or '1', or n. */
static size_t bits_bad_at(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (s[i] != '0' && s[i] != '1')
            break;
    return i;
}

static pgd_obj *bits_decode_text(const pgd_cx *cx, const char *data, size_t len)
{
    size_t bad = bits_bad_at(data, len);

    if (bad < len)
        return CU_FAIL(cx, "invalid bit string text: byte %zu is not 0 or 1", bad);
    return cx->host->make_str(cx->h, data, len);
}

static int bits_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    const char *s;
    size_t n, nbytes, i, bad;
    char *p;

    if (v->kind != PGD_V_STR)
        return cu_wrong_kind(cx, v, cx->oid == 1560 ? "bit" : "varbit");
    s = v->u.s.p;
    n = v->u.s.n;
    bad = bits_bad_at(s, n);
    if (bad < n)
        return CU_ERR(cx, "invalid bit string: character %zu is '%c', not 0 or 1", bad,
                      s[bad] >= 0x20 && s[bad] < 0x7f ? s[bad] : '?');
    if (n > VARBITMAXLEN)
        return CU_ERR(cx, "bit string of %zu bits is too long", n);
    nbytes = (n + 7) / 8;
    p = cu_reserve(cx, out, 4 + nbytes);
    if (!p)
        return -1;
    pgd_put_i32(p, (int32_t)n);
    memset(p + 4, 0, nbytes);
    for (i = 0; i < n; i++)
        if (s[i] == '1')
            p[4 + i / 8] = (char)(p[4 + i / 8] | (0x80 >> (i % 8)));
    return (int)(4 + nbytes);
}

#define BOTH (PGD_CODEC_BINARY | PGD_CODEC_TEXT)

static const pgd_codec codecs[] = {
    {"bit", 1560, 1561, BOTH, 0, bits_encode, bits_decode, bits_decode_text, {0}},
    {"varbit", 1562, 1563, BOTH, 0, bits_encode, bits_decode, bits_decode_text, {0}},
};

static const pgd_codec_module module = PGD_CODEC_MODULE_INIT("bits", "1.0.0", codecs);

PGD_CODEC_EXPORT const pgd_codec_module *pgd_codec_module_v1(void)
{
    return &module;
}
