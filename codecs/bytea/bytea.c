/*
 * bytea.c - the binary string codec.
 *
 * Server functions: bytearecv/byteasend (binary), byteain/byteaout (text).
 *
 * Binary wire layout: the raw bytes, no length prefix (the field length is
 * the value's length); an empty bytea is a zero-length field (not NULL).
 * Text form: with bytea_output = 'hex' (the default) "\x" followed by two
 * hex digits per byte; with 'escape' (legacy) printable ASCII bytes as
 * themselves, a backslash as "\\" and every other byte as "\ooo" (three
 * octal digits).  Both forms are decoded.
 * Special values: none.
 *
 * Encoding accepts PGD_V_BYTES only.
 */
#include <stdlib.h>

#include "codec_util.h"

static int bytea_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    if (v->kind != PGD_V_BYTES)
        return cu_wrong_kind(cx, v, "bytea");
    return cu_put_bytes(cx, out, v->u.s.p, v->u.s.n);
}

static pgd_obj *bytea_decode(const pgd_cx *cx, const char *data, size_t len)
{
    return cx->host->make_bytes(cx->h, data, len);
}

static int is_octal(char c)
{
    return c >= '0' && c <= '7';
}

/* Decode hex or escape text into dst (at least len bytes); returns the
 * decoded length, or -1 after an error. */
static long bytea_unescape(const pgd_cx *cx, const char *s, size_t len, char *dst)
{
    size_t i, n = 0;

    if (len >= 2 && s[0] == '\\' && s[1] == 'x') {
        if ((len - 2) % 2)
            return CU_ERR(cx, "invalid bytea hex text: odd number of digits");
        for (i = 2; i < len; i += 2) {
            int hi = cu_hex_val(s[i]), lo = cu_hex_val(s[i + 1]);

            if (hi < 0 || lo < 0)
                return CU_ERR(cx, "invalid bytea hex digit at offset %zu", i);
            dst[n++] = (char)(hi << 4 | lo);
        }
        return (long)n;
    }
    for (i = 0; i < len;) {
        if (s[i] != '\\') {
            dst[n++] = s[i++];
        } else if (i + 1 < len && s[i + 1] == '\\') {
            dst[n++] = '\\';
            i += 2;
        } else if (i + 3 < len && s[i + 1] >= '0' && s[i + 1] <= '3' &&
                   is_octal(s[i + 2]) && is_octal(s[i + 3])) {
            dst[n++] = (char)((s[i + 1] - '0') << 6 | (s[i + 2] - '0') << 3 | (s[i + 3] - '0'));
            i += 4;
        } else {
            return CU_ERR(cx, "invalid bytea escape at offset %zu", i);
        }
    }
    return (long)n;
}

static pgd_obj *bytea_decode_text(const pgd_cx *cx, const char *data, size_t len)
{
    char stackbuf[256];
    char *buf = len <= sizeof stackbuf ? stackbuf : malloc(len);
    pgd_obj *o = NULL;
    long n;

    if (!buf)
        return CU_FAIL(cx, "out of memory decoding bytea text");
    n = bytea_unescape(cx, data, len, buf);
    if (n >= 0)
        o = cx->host->make_bytes(cx->h, buf, (size_t)n);
    if (buf != stackbuf)
        free(buf);
    return o;
}

static const pgd_codec codecs[] = {
    {"bytea", 17, 1001, PGD_CODEC_BINARY | PGD_CODEC_TEXT, 0, bytea_encode, bytea_decode,
     bytea_decode_text, {0}},
};

static const pgd_codec_module module = PGD_CODEC_MODULE_INIT("bytea", "1.0.0", codecs);

PGD_CODEC_EXPORT const pgd_codec_module *pgd_codec_module_v1(void)
{
    return &module;
}
