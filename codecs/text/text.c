/*
 * text.c - character codecs: text, varchar, bpchar, name, "char", unknown.
 *
 * Server functions: textrecv/textsend, varcharrecv/varcharsend,
 * bpcharrecv/bpcharsend, namerecv/namesend, charrecv/charsend,
 * unknownrecv/unknownsend (binary); textin/textout, varcharin/varcharout,
 * bpcharin/bpcharout, namein/nameout, charin/charout, unknownin/unknownout
 * (text).
 *
 * Binary wire layout: the string's bytes in the client encoding (UTF-8 for
 * this driver), no terminator, no length prefix (the field length is the
 * string length).  The text form is the same bytes.  bpchar keeps its blank
 * padding.  Strings never contain NUL bytes (the server refuses them), so
 * the encoder refuses them too; name is at most 63 bytes.  Invalid UTF-8 from the wire is refused by
 * the host's make_str.
 *
 * "char" (OID 18) is a single byte on the wire (charsend).  Its text form
 * (charout) is the character itself for 1..127, the empty string for 0,
 * and a backslash plus three octal digits for 128..255.  Both decoders
 * return that text form, so binary and text results agree; the encoder
 * takes "" (byte 0), one ASCII byte, or "\ooo" (as charin does).
 *
 * Special values: none.  Encoding accepts PGD_V_STR only.
 */
#include "codec_util.h"

static int text_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    if (v->kind != PGD_V_STR)
        return cu_wrong_kind(cx, v, "text");
    if (v->u.s.n && memchr(v->u.s.p, '\0', v->u.s.n))
        return CU_ERR(cx, "text values cannot contain NUL bytes");
    return cu_put_bytes(cx, out, v->u.s.p, v->u.s.n);
}

/* name is limited to NAMEDATALEN - 1 = 63 bytes (namerecv refuses more). */
static int name_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    if (v->kind == PGD_V_STR && v->u.s.n > 63)
        return CU_ERR(cx, "name of %zu bytes is too long (at most 63)", v->u.s.n);
    return text_encode(cx, v, out);
}

/* Binary and text forms are the same bytes. */
static pgd_obj *text_decode(const pgd_cx *cx, const char *data, size_t len)
{
    return cx->host->make_str(cx->h, data, len);
}

/* "char": the byte's text form, see the header comment. */
static pgd_obj *char_make(const pgd_cx *cx, unsigned char c)
{
    char buf[4];

    if (c == 0)
        return cx->host->make_str(cx->h, "", 0);
    if (c < 128) {
        buf[0] = (char)c;
        return cx->host->make_str(cx->h, buf, 1);
    }
    buf[0] = '\\';
    buf[1] = (char)('0' + (c >> 6));
    buf[2] = (char)('0' + ((c >> 3) & 7));
    buf[3] = (char)('0' + (c & 7));
    return cx->host->make_str(cx->h, buf, 4);
}

/* Byte value of a "char" text form, or -1 if it is not one. */
static int char_parse(const char *p, size_t n)
{
    if (n == 0)
        return 0;
    if (n == 1 && (unsigned char)p[0] < 128)
        return (unsigned char)p[0];
    if (n == 4 && p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' &&
        p[2] <= '7' && p[3] >= '0' && p[3] <= '7')
        return ((p[1] - '0') << 6) | ((p[2] - '0') << 3) | (p[3] - '0');
    return -1;
}

static int char_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    char *p;
    int c;

    if (v->kind != PGD_V_STR)
        return cu_wrong_kind(cx, v, "\"char\"");
    c = char_parse(v->u.s.p, v->u.s.n);
    if (c < 0)
        return CU_ERR(cx, "\"char\" takes one ASCII character, \"\" or \\ooo, not %zu bytes",
                      v->u.s.n);
    p = cu_reserve(cx, out, 1);
    if (!p)
        return -1;
    *p = (char)c;
    return 1;
}

static pgd_obj *char_decode(const pgd_cx *cx, const char *data, size_t len)
{
    if (len != 1)
        return cu_bad_len(cx, "\"char\"", len, 1);
    return char_make(cx, (unsigned char)data[0]);
}

static pgd_obj *char_decode_text(const pgd_cx *cx, const char *data, size_t len)
{
    int c = char_parse(data, len);

    if (c < 0)
        return CU_FAIL(cx, "invalid \"char\" text of %zu bytes", len);
    return char_make(cx, (unsigned char)c);
}

#define BOTH (PGD_CODEC_BINARY | PGD_CODEC_TEXT)

static const pgd_codec codecs[] = {
    {"text", 25, 1009, BOTH, 0, text_encode, text_decode, text_decode, {0}},
    {"varchar", 1043, 1015, BOTH, 0, text_encode, text_decode, text_decode, {0}},
    {"bpchar", 1042, 1014, BOTH, 0, text_encode, text_decode, text_decode, {0}},
    {"name", 19, 1003, BOTH, 0, name_encode, text_decode, text_decode, {0}},
    {"char", 18, 1002, BOTH, 0, char_encode, char_decode, char_decode_text, {0}},
    {"unknown", 705, 0, BOTH, 0, text_encode, text_decode, text_decode, {0}},
};

static const pgd_codec_module module = PGD_CODEC_MODULE_INIT("text", "1.0.0", codecs);

PGD_CODEC_EXPORT const pgd_codec_module *pgd_codec_module_v1(void)
{
    return &module;
}
