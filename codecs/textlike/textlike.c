/*
 * textlike.c - types whose value is text: xml, jsonpath, tsvector, tsquery.
 *
 * Server functions:
 *   xml:      xml_recv/xml_send (binary), xml_in/xml_out (text)
 *   jsonpath: jsonpath_recv/jsonpath_send, jsonpath_in/jsonpath_out
 *   tsvector: tsvectorin/tsvectorout (text only here)
 *   tsquery:  tsqueryin/tsqueryout (text only here)
 *
 * Binary wire layouts:
 *   xml       the document's text in the client encoding (the driver's
 *             sessions use UTF8), no length prefix or terminator: the
 *             field length is the text's.  xml_recv parses it and honours
 *             an encoding declaration in it (<?xml ... encoding="..."?>),
 *             so a document declaring another encoding should not be sent
 *             as a str carrying non-ASCII text.
 *   jsonpath  uint8 version (1), then the path's text (jsonpath_out's
 *             normalized form, e.g. $."a"[*]?(@ > 1)).  Another version is
 *             refused, as jsonpath_recv refuses it.
 * Both decode to a string (the host checks UTF-8); decode_text is the same
 * without the version byte.  Encoding accepts PGD_V_STR; the server
 * validates the document or path (a malformed one is its error).
 *
 * tsvector and tsquery are registered with PGD_CODEC_TEXT only (their
 * binary forms are sorted lexeme/operator structures with no Python
 * counterpart): a statement with such a column has its results sent in
 * text format, and the value decodes to the server's text as a string,
 * also as an array element.  As parameters they go as text (a str only;
 * an array of them has no binary encoder, so a list cannot be sent).
 * Special values: none.
 */
#include "codec_util.h"

#define JSONPATH_VERSION 1

static int xml_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    if (v->kind != PGD_V_STR)
        return cu_wrong_kind(cx, v, "xml");
    return cu_put_bytes(cx, out, v->u.s.p, v->u.s.n);
}

static pgd_obj *text_decode(const pgd_cx *cx, const char *data, size_t len)
{
    return cx->host->make_str(cx->h, data, len);
}

static int jsonpath_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    char *p;

    if (v->kind != PGD_V_STR)
        return cu_wrong_kind(cx, v, "jsonpath");
    if (v->u.s.n > INT32_MAX - 1)
        return CU_ERR(cx, "jsonpath of %zu bytes is too long", v->u.s.n);
    p = cu_reserve(cx, out, 1 + v->u.s.n);
    if (!p)
        return -1;
    p[0] = JSONPATH_VERSION;
    memcpy(p + 1, v->u.s.p, v->u.s.n);
    return (int)(1 + v->u.s.n);
}

static pgd_obj *jsonpath_decode(const pgd_cx *cx, const char *data, size_t len)
{
    if (len == 0)
        return CU_FAIL(cx, "invalid jsonpath field: 0 bytes, no version byte");
    if (data[0] != JSONPATH_VERSION)
        return CU_FAIL(cx, "unsupported jsonpath version number: %u", (unsigned char)data[0]);
    return cx->host->make_str(cx->h, data + 1, len - 1);
}

#define BOTH (PGD_CODEC_BINARY | PGD_CODEC_TEXT)

static const pgd_codec codecs[] = {
    {"xml", 142, 143, BOTH, 0, xml_encode, text_decode, text_decode, {0}},
    {"jsonpath", 4072, 4073, BOTH, 0, jsonpath_encode, jsonpath_decode, text_decode, {0}},
    {"tsvector", 3614, 3643, PGD_CODEC_TEXT, 0, NULL, NULL, text_decode, {0}},
    {"tsquery", 3615, 3645, PGD_CODEC_TEXT, 0, NULL, NULL, text_decode, {0}},
};

static const pgd_codec_module module = PGD_CODEC_MODULE_INIT("textlike", "1.0.0", codecs);

PGD_CODEC_EXPORT const pgd_codec_module *pgd_codec_module_v1(void)
{
    return &module;
}
