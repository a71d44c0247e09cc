/*
 * bool.c - the boolean codec.
 *
 * Server functions: boolrecv/boolsend (binary), boolin/boolout (text).
 *
 * Binary wire layout: one byte, 1 = true, 0 = false.  (boolrecv takes any
 * non-zero byte as true; boolsend only ever sends 0 or 1, so anything else
 * on the wire is refused here as a corrupt field.)
 * Text form: "t" or "f".
 * Special values: none.
 *
 * Encoding accepts PGD_V_BOOL only.
 */
#include "codec_util.h"

static int bool_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    char *p;

    if (v->kind != PGD_V_BOOL)
        return cu_wrong_kind(cx, v, "bool");
    p = cu_reserve(cx, out, 1);
    if (!p)
        return -1;
    *p = v->u.b ? 1 : 0;
    return 1;
}

static pgd_obj *bool_decode(const pgd_cx *cx, const char *data, size_t len)
{
    if (len != 1)
        return cu_bad_len(cx, "bool", len, 1);
    if (data[0] != 0 && data[0] != 1)
        return CU_FAIL(cx, "invalid bool byte 0x%02x", (unsigned)(unsigned char)data[0]);
    return cx->host->make_bool(cx->h, data[0]);
}

static pgd_obj *bool_decode_text(const pgd_cx *cx, const char *data, size_t len)
{
    if (len == 1 && (data[0] == 't' || data[0] == 'f'))
        return cx->host->make_bool(cx->h, data[0] == 't');
    return CU_FAIL(cx, "invalid bool text \"%.*s\"", (int)(len > 40 ? 40 : len), data);
}

static const pgd_codec codecs[] = {
    {"bool", 16, 1000, PGD_CODEC_BINARY | PGD_CODEC_TEXT, 0, bool_encode, bool_decode,
     bool_decode_text, {0}},
};

static const pgd_codec_module module = PGD_CODEC_MODULE_INIT("bool", "1.0.0", codecs);

PGD_CODEC_EXPORT const pgd_codec_module *pgd_codec_module_v1(void)
{
    return &module;
}
