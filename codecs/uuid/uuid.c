/*
 * uuid.c - the UUID codec.
 *
 * Server functions: uuid_recv/uuid_send (binary), uuid_in/uuid_out (text).
 *
 * Binary wire layout: exactly 16 bytes, the UUID in network (RFC 4122)
 * order.  Text form (uuid_out): 36 characters, lowercase hex in groups
 * 8-4-4-4-12 separated by '-'.
 * Special values: none.
 *
 * Encoding accepts PGD_V_UUID and PGD_V_STR holding the canonical form or
 * 32 bare hex digits, either case, optionally in braces.
 */
#include "codec_util.h"

/* Parse canonical (8-4-4-4-12) or 32-hex-digit text, optionally in {}.
 * Returns 0 on success, -1 if malformed. */
static int uuid_parse(const char *s, size_t n, uint8_t out[16])
{
    size_t i, k = 0;
    int dashes;

    if (n >= 2 && s[0] == '{' && s[n - 1] == '}') {
        s++;
        n -= 2;
    }
    if (n == 36)
        dashes = 1;
    else if (n == 32)
        dashes = 0;
    else
        return -1;
    for (i = 0; i < n;) {
        int hi, lo;

        if (dashes && (i == 8 || i == 13 || i == 18 || i == 23)) {
            if (s[i] != '-')
                return -1;
            i++;
            continue;
        }
        hi = cu_hex_val(s[i]);
        lo = cu_hex_val(s[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[k++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    return k == 16 ? 0 : -1;
}

static int uuid_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    uint8_t b[16];

    if (v->kind == PGD_V_UUID)
        return cu_put_bytes(cx, out, v->u.uuid, 16);
    if (v->kind != PGD_V_STR)
        return cu_wrong_kind(cx, v, "uuid");
    if (uuid_parse(v->u.s.p, v->u.s.n, b) < 0)
        return CU_ERR(cx, "invalid uuid text \"%.*s\"", (int)(v->u.s.n > 40 ? 40 : v->u.s.n),
                      v->u.s.p);
    return cu_put_bytes(cx, out, b, 16);
}

static pgd_obj *uuid_decode(const pgd_cx *cx, const char *data, size_t len)
{
    if (len != 16)
        return cu_bad_len(cx, "uuid", len, 16);
    return cx->host->make_uuid(cx->h, (const uint8_t *)data);
}

static pgd_obj *uuid_decode_text(const pgd_cx *cx, const char *data, size_t len)
{
    uint8_t b[16];

    /* The server prints exactly the 36-character form. */
    if (len != 36 || uuid_parse(data, len, b) < 0)
        return CU_FAIL(cx, "invalid uuid text \"%.*s\"", (int)(len > 40 ? 40 : len), data);
    return cx->host->make_uuid(cx->h, b);
}

static const pgd_codec codecs[] = {
    {"uuid", 2950, 2951, PGD_CODEC_BINARY | PGD_CODEC_TEXT, 0, uuid_encode, uuid_decode,
     uuid_decode_text, {0}},
};

static const pgd_codec_module module = PGD_CODEC_MODULE_INIT("uuid", "1.0.0", codecs);

PGD_CODEC_EXPORT const pgd_codec_module *pgd_codec_module_v1(void)
{
    return &module;
}
