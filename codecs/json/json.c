/*
 * json.c - JSON codecs: json, jsonb.
 *
 * Server functions: json_recv/json_send, jsonb_recv/jsonb_send (binary);
 * json_in/json_out, jsonb_in/jsonb_out (text).
 *
 * Binary wire layout: json is the JSON text itself (UTF-8, no length
 * prefix).  jsonb is one version byte, currently always 1, followed by the
 * JSON text; any other version is refused (a future format we cannot read).
 * Text form: the JSON text (jsonb's is normalized by the server: keys sorted
 * and deduplicated, ", " and ": " separators).
 * Special values: the JSON literal null is a value, not SQL NULL.
 *
 * Decoding hands the text to the host's make_json, which parses it.
 * Encoding accepts PGD_V_JSON (serialized JSON text) and PGD_V_STR (taken as
 * JSON text as-is); the server validates it.
 */
#include "codec_util.h"

#define JSONB_VERSION 1

static int json_text_input(const pgd_cx *cx, const pgd_value *v, const char *type)
{
    if (v->kind != PGD_V_JSON && v->kind != PGD_V_STR)
        return cu_wrong_kind(cx, v, type);
    if (v->u.s.n > INT32_MAX - 1)
        return CU_ERR(cx, "%s value of %zu bytes is too long", type, v->u.s.n);
    return 0;
}

static int json_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    if (json_text_input(cx, v, "json") < 0)
        return -1;
    return cu_put_bytes(cx, out, v->u.s.p, v->u.s.n);
}

static int jsonb_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    char *p;

    if (json_text_input(cx, v, "jsonb") < 0)
        return -1;
    p = cu_reserve(cx, out, v->u.s.n + 1);
    if (!p)
        return -1;
    p[0] = JSONB_VERSION;
    if (v->u.s.n)
        memcpy(p + 1, v->u.s.p, v->u.s.n);
    return (int)(v->u.s.n + 1);
}

static pgd_obj *json_decode(const pgd_cx *cx, const char *data, size_t len)
{
    return cx->host->make_json(cx->h, data, len);
}

static pgd_obj *jsonb_decode(const pgd_cx *cx, const char *data, size_t len)
{
    if (len < 1)
        return CU_FAIL(cx, "invalid jsonb field: empty (no version byte)");
    if (data[0] != JSONB_VERSION)
        return CU_FAIL(cx, "unsupported jsonb version %u (expected %d)",
                       (unsigned)(unsigned char)data[0], JSONB_VERSION);
    return cx->host->make_json(cx->h, data + 1, len - 1);
}

#define BOTH (PGD_CODEC_BINARY | PGD_CODEC_TEXT)

static const pgd_codec codecs[] = {
    {"json", 114, 199, BOTH, 0, json_encode, json_decode, json_decode, {0}},
    {"jsonb", 3802, 3807, BOTH, 0, jsonb_encode, jsonb_decode, json_decode, {0}},
};

static const pgd_codec_module module = PGD_CODEC_MODULE_INIT("json", "1.0.0", codecs);

PGD_CODEC_EXPORT const pgd_codec_module *pgd_codec_module_v1(void)
{
    return &module;
}
