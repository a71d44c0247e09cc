/* xml (its text, xml_send), jsonpath (version byte 1, then its text,
 * jsonpath_send), tsvector and tsquery (text only). */
#include "harness.h"

int main(void)
{
    const pgd_codec *c;

    th_init();

    /* xml */
    DEC(XML, "3c613e783c2f613e", "'<a>x</a>'");
    DEC(XML, "", "''");
    DEC(XML, "3cc3a92f3e", "'<\xc3\xa9/>'");
    DECT(XML, "<a>x</a>", "'<a>x</a>'");
    ENC(XML, V_STR("<a>x</a>"), "3c613e783c2f613e");
    ENC(XML, V_STR(""), "");
    RT(XML, "3c6220633d2231222f3e");
    ENC_ERR(XML, V_INT(1), "cannot encode a int value as xml");
    ENC_ERR(XML, V_BYTES("<a/>"), "cannot encode a bytes value as xml");
    DEC_ERR(XML, "3cff2f3e", "invalid UTF-8 at byte 1");
    DEC(XML_ARR, "00000001 00000001 0000008e 00000002 00000001 00000004 3c612f3e ffffffff",
        "['<a/>', None]");

    /* jsonpath */
    DEC(JSONPATH, "01 242e2261225b2a5d3f2840203e203129", "'$.\"a\"[*]?(@ > 1)'");
    DEC(JSONPATH, "01 24", "'$'");
    DECT(JSONPATH, "$.\"a\"", "'$.\"a\"'");
    ENC(JSONPATH, V_STR("$.a"), "01 242e61");
    ENC(JSONPATH, V_STR(""), "01");
    RT(JSONPATH, "01 242e2261225b2a5d3f2840203e203129");
    ENC_ERR(JSONPATH, V_INT(1), "cannot encode a int value as jsonpath");
    DEC_ERR(JSONPATH, "", "invalid jsonpath field: 0 bytes, no version byte");
    DEC_ERR(JSONPATH, "02 242e61", "unsupported jsonpath version number: 2");
    DEC_ERR(JSONPATH, "00", "unsupported jsonpath version number: 0");
    DEC_ERR(JSONPATH, "01 24ff", "invalid UTF-8 at byte 1");
    ENC(JSONPATH_ARR, LIST(*V_STR("$"), *VAL(PGD_V_NULL)),
        "00000001 00000001 00000fe8 00000002 00000001 00000002 0124 ffffffff");

    /* tsvector, tsquery: text only, decoded to the server's text */
    c = th_find(TSVECTOR, NULL, NULL);
    CHECK(c && c->flags == PGD_CODEC_TEXT && !c->decode_binary && !c->encode_binary);
    c = th_find(TSQUERY, NULL, NULL);
    CHECK(c && c->flags == PGD_CODEC_TEXT && !c->decode_binary && !c->encode_binary);
    DECT(TSVECTOR, "'a' 'b':1,3A", "''a' 'b':1,3A'");
    DECT(TSVECTOR, "", "''");
    DECT(TSQUERY, "'a' & !'b'", "''a' & !'b''");
    DECT_ERR(TSQUERY, "'\xff'", "invalid UTF-8");
    DEC_ERR(TSVECTOR, "00000000", "codec has no binary decoder");
    DECT(TSVECTOR_ARR, "{\"'a' 'b'\",NULL,''}", "[''a' 'b'', None, '''']");
    DECT(TSQUERY_ARR, "{\"'x' | 'y'\"}", "[''x' | 'y'']");
    return th_finish();
}
