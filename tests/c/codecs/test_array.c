/*
 * The generic array handler: array_send/array_recv layout and array_out
 * text, over several element codecs.  Rows marked "server" are a
 * PostgreSQL 15 server's array_send() bytes and array_out() text.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"

typedef struct row {
    uint32_t oid;
    const char *hex;  /* server's binary form */
    const char *text; /* server's text form */
    const char *repr; /* what both decode to */
    int rt;           /* re-encoding gives the same bytes (lower bounds 1) */
} row;

static const row rows[] = {
    {INT4_ARR, "00000000 00000000 00000017", "{}", "[]", 1},
    {TEXT_ARR, "00000000 00000000 00000019", "{}", "[]", 1},
    {INT4_ARR,
     "00000001 00000000 00000017 00000003 00000001"
     " 00000004 00000001 00000004 00000002 00000004 00000003",
     "{1,2,3}", "[1, 2, 3]", 1},
    {INT4_ARR, "00000001 00000001 00000017 00000001 00000001 ffffffff", "{NULL}", "[None]", 1},
    {INT4_ARR,
     "00000002 00000001 00000017 00000002 00000001 00000002 00000001"
     " 00000004 00000001 ffffffff 00000004 00000003 00000004 00000004",
     "{{1,NULL},{3,4}}", "[[1, None], [3, 4]]", 1},
    {INT4_ARR,
     "00000001 00000000 00000017 00000002 00000000 00000004 00000001 00000004 00000002",
     "[0:1]={1,2}", "[1, 2]", 0},
    {INT4_ARR,
     "00000002 00000000 00000017 00000002 fffffffe 00000003 00000003"
     " 00000004 00000001 00000004 00000002 00000004 00000003"
     " 00000004 00000004 00000004 00000005 00000004 00000006",
     "[-2:-1][3:5]={{1,2,3},{4,5,6}}", "[[1, 2, 3], [4, 5, 6]]", 0},
    {INT4_ARR,
     "00000006 00000000 00000017 00000001 00000001 00000001 00000001 00000001 00000001"
     " 00000001 00000001 00000001 00000001 00000001 00000001 00000004 00000007",
     "{{{{{{7}}}}}}", "[[[[[[7]]]]]]", 1},
    {INT2_ARR, "00000001 00000000 00000015 00000002 00000001 00000002 8000 00000002 7fff",
     "{-32768,32767}", "[-32768, 32767]", 1},
    {INT8_ARR, "00000001 00000000 00000014 00000001 00000001 00000008 7fffffffffffffff",
     "{9223372036854775807}", "[9223372036854775807]", 1},
    {TEXT_ARR,
     "00000001 00000001 00000019 0000000b 00000001"
     " 00000003 612062 00000003 782279 00000000 ffffffff 00000004 4e554c4c"
     " 00000001 5c 00000002 c3a9 00000002 7b7d 00000005 206c656164"
     " 00000004 6e756c6c 00000003 612c62",
     "{\"a b\",\"x\\\"y\",\"\",NULL,\"NULL\",\"\\\\\",\xc3\xa9,\"{}\",\" lead\",\"null\",\"a,b\"}",
     "['a b', 'x\"y', '', None, 'NULL', '\\', '\xc3\xa9', '{}', ' lead', 'null', 'a,b']", 1},
    {BOOL_ARR, "00000001 00000001 00000010 00000003 00000001 00000001 01 00000001 00 ffffffff",
     "{t,f,NULL}", "[True, False, None]", 1},
    {FLOAT8_ARR,
     "00000001 00000000 000002bd 00000003 00000001 00000008 3ff8000000000000"
     " 00000008 7ff8000000000000 00000008 fff0000000000000",
     "{1.5,NaN,-Infinity}", "[1.5, nan, -inf]", 1},
    {BYTEA_ARR, "00000001 00000000 00000011 00000002 00000001 00000002 00ff 00000000",
     "{\"\\\\x00ff\",\"\\\\x\"}", "[b'\\x00\\xff', b'']", 1},
    {UUID_ARR,
     "00000001 00000000 00000b86 00000001 00000001 00000010 a0eebc999c0b4ef8bb6d6bb9bd380a11",
     "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}", "[UUID('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')]",
     1},
    {NUMERIC_ARR,
     "00000001 00000000 000006a4 00000003 00000001 0000000c 0002000000000002 00011388"
     " 00000008 00000000c0000000 0000000a 0001000040000000 0007",
     "{1.50,NaN,-7}", "[Decimal('1.50'), Decimal('NaN'), Decimal('-7')]", 1},
    {DATE_ARR,
     "00000001 00000000 0000043a 00000003 00000001 00000004 00000000 00000004 7fffffff"
     " 00000004 fff49d7b",
     "{2000-01-01,infinity,\"0044-03-15 BC\"}",
     "[date(2000-01-01), date(infinity), date(-043-03-15)]", 1},
    {JSONB_ARR,
     "00000001 00000001 00000eda 00000003 00000001 00000011 017b2261223a205b312c206e756c6c5d7d"
     " ffffffff 00000004 01227322",
     "{\"{\\\"a\\\": [1, null]}\",NULL,\"\\\"s\\\"\"}",
     "[json:{\"a\": [1, null]}, None, json:\"s\"]", 1},
};

static void test_rows(void)
{
    size_t i;

    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const row *r = &rows[i];

        th_dec(__FILE__, __LINE__, r->oid, r->hex, r->repr);
        th_dect(__FILE__, __LINE__, r->oid, r->text, r->repr);
        if (r->rt)
            th_rt(__FILE__, __LINE__, r->oid, r->hex);
    }
}

/* Text the server accepts though array_out never writes it that way. */
static void test_text_forms(void)
{
    DECT(INT4_ARR, "{ 1 , 2 }", "[1, 2]");
    DECT(INT4_ARR, " {1,2} ", "[1, 2]");
    DECT(INT4_ARR, "{\"1\",\"2\"}", "[1, 2]");
    DECT(INT4_ARR, "{null,Null,NULL}", "[None, None, None]");
    DECT(INT4_ARR, "{{1},{2}}", "[[1], [2]]");
    DECT(INT4_ARR, "{ { 1 , 2 } , { 3 , 4 } }", "[[1, 2], [3, 4]]");
    DECT(INT4_ARR, "[1:2][1:1]={{1},{2}}", "[[1], [2]]");
    DECT(INT4_ARR, "[5]={1,2,3,4,5}", "[1, 2, 3, 4, 5]"); /* [ub] means [1:ub] */
    DECT(INT4_ARR, "[-3:-3]={7}", "[7]");
    DECT(INT4_ARR, "[+1:+1]={7}", "[7]");
    DECT(TEXT_ARR, "{\"NULL\",\\NULL,NUL\\L,nulls}", "['NULL', 'NULL', 'NULL', 'nulls']");
    DECT(TEXT_ARR, "{a b, c }", "['a b', 'c']");
    DECT(TEXT_ARR, "{a\\ ,\\ b}", "['a ', ' b']"); /* an escaped blank is kept */
    DECT(TEXT_ARR, "{a\\,b,a\\\"b,a\\\\b,a\\{b}", "['a,b', 'a\"b', 'a\\b', 'a{b']");
    DECT(TEXT_ARR, "{\"a,b\",\"{x}\",\"\\a\"}", "['a,b', '{x}', 'a']");
    DECT(TEXT_ARR, "{\"\"}", "['']");
    DECT(TEXT_ARR, "{\" \"}", "[' ']");
    DECT(TEXT_ARR, "{{a,b},{\"\",NULL}}", "[['a', 'b'], ['', None]]");
    DECT(BOOL_ARR, "{t,f}", "[True, False]");
    DECT(DATE_ARR, "{-infinity}", "[date(-infinity)]");
    /* an element codec without a text decoder: the elements' text, as a
     * column of that type in a text result */
    DECT(REGCLASS_ARR, "{pg_class,NULL,\"a b\"}", "['pg_class', None, 'a b']");
}

#define NUL VAL(PGD_V_NULL)

static void test_encode(void)
{
    /* empty arrays in any shape are ndim 0 */
    ENC(INT4_ARR, EMPTY_LIST, "00000000 00000000 00000017");
    ENC(INT4_ARR, LIST(*EMPTY_LIST, *EMPTY_LIST), "00000000 00000000 00000017");
    ENC(TEXT_ARR, LIST(*LIST(*EMPTY_LIST)), "00000000 00000000 00000019");
    ENC(INT4_ARR, LIST(*V_INT(1), *NUL, *V_INT(3)),
        "00000001 00000001 00000017 00000003 00000001"
        " 00000004 00000001 ffffffff 00000004 00000003");
    ENC(INT4_ARR, LIST(*NUL), "00000001 00000001 00000017 00000001 00000001 ffffffff");
    ENC(INT8_ARR, LIST(*LIST(*V_INT(1)), *LIST(*V_INT(2))),
        "00000002 00000000 00000014 00000002 00000001 00000001 00000001"
        " 00000008 0000000000000001 00000008 0000000000000002");
    /* zero-length elements */
    ENC(TEXT_ARR, LIST(*V_STR(""), *V_STR("")),
        "00000001 00000000 00000019 00000002 00000001 00000000 00000000");
    ENC(BYTEA_ARR, LIST(*V_BYTES("")), "00000001 00000000 00000011 00000001 00000001 00000000");
    /* elements in any kind the element codec takes */
    ENC(NUMERIC_ARR, LIST(*V_INT(-7), *V_DEC("1.50")),
        "00000001 00000000 000006a4 00000002 00000001 0000000a 0001000040000000 0007"
        " 0000000c 0002000000000002 00011388");
    ENC(INT4_ARR, LIST(*LIST(*LIST(*LIST(*LIST(*LIST(*V_INT(7))))))),
        "00000006 00000000 00000017 00000001 00000001 00000001 00000001 00000001 00000001"
        " 00000001 00000001 00000001 00000001 00000001 00000001 00000004 00000007");

    ENC_ERR(INT4_ARR, LIST(*LIST(*LIST(*LIST(*LIST(*LIST(*LIST(*V_INT(7)))))))),
            "more than 6 dimensions");
    ENC_ERR(INT4_ARR, LIST(*LIST(*V_INT(1), *V_INT(2)), *LIST(*V_INT(3))),
            "sub-lists must have equal lengths");
    ENC_ERR(INT4_ARR, LIST(*LIST(*V_INT(1)), *V_INT(2)), "sub-lists must have equal lengths");
    ENC_ERR(INT4_ARR, LIST(*V_INT(1), *LIST(*V_INT(2))), "sub-lists must have equal lengths");
    ENC_ERR(INT4_ARR, LIST(*LIST(*V_INT(1)), *EMPTY_LIST), "sub-lists must have equal lengths");
    ENC_ERR(INT4_ARR, LIST(*EMPTY_LIST, *LIST(*V_INT(1))), "sub-lists must have equal lengths");
    ENC_ERR(INT4_ARR, LIST(*LIST(*NUL), *NUL), "sub-lists must have equal lengths");
    ENC_ERR(INT2_ARR, LIST(*V_INT(1), *V_INT(70000)), "value 70000 out of range for int2");
    ENC_ERR(INT4_ARR, LIST(*V_STR("1")), "cannot encode a str value as int4");
    ENC_ERR(INT4_ARR, V_INT(1), "cannot encode a int value as an array");
    ENC_ERR(INT4_ARR, V_STR("{1}"), "cannot encode a str value as an array");
}

/* An array whose element type has no codec: text decodes to strings,
 * binary is refused both ways. */
static void test_unknown_element(void)
{
    const pgd_codec *arr = th_find(INT4_ARR, NULL, NULL);
    chost_ctx ctx;
    pgd_cx cx;
    struct pgd_wbuf b;
    pgd_obj *o;
    char *r;
    static const char text[] = "{\"(1,2)\",NULL,(3\\,4)}";
    static const char bin[] = "\0\0\0\1\0\0\0\0\0\0\2\x58\0\0\0\1\0\0\0\1\0\0\0\0";

    th_cx(&cx, &ctx, INT4_ARR);
    cx.oid = 1017; /* point[] */
    cx.elem_oid = 600;
    cx.elem = NULL;
    o = arr->decode_text(&cx, text, sizeof text - 1);
    r = o ? chost_repr(o) : NULL;
    CHECK(r && strcmp(r, "['(1,2)', None, '(3,4)']") == 0);
    free(r);
    chost_free(o);

    chost_ctx_init(&ctx);
    o = arr->decode_binary(&cx, bin, sizeof bin - 1);
    CHECK(o == NULL && strstr(ctx.err, "no binary decoder for array element type 600"));

    chost_ctx_init(&ctx);
    chost_wbuf_init(&b);
    CHECK(arr->encode_binary(&cx, LIST(*V_STR("(1,2)")), &b) < 0 &&
          strstr(ctx.err, "no binary encoder for array element type 600"));
    chost_wbuf_free(&b);
}

static void test_malformed_binary(void)
{
    /* header */
    DEC_ERR(INT4_ARR, "", "0 bytes, header needs 12");
    DEC_ERR(INT4_ARR, "00000001 00000000 000000", "11 bytes, header needs 12");
    DEC_ERR(INT4_ARR, "00000007 00000000 00000017", "7 dimensions (at most 6)");
    DEC_ERR(INT4_ARR, "7fffffff 00000000 00000017", "2147483647 dimensions");
    DEC_ERR(INT4_ARR, "ffffffff 00000000 00000017", "-1 dimensions");
    DEC_ERR(INT4_ARR, "00000000 00000002 00000017", "invalid array flags 2");
    DEC_ERR(INT4_ARR, "00000000 ffffffff 00000017", "invalid array flags -1");
    DEC_ERR(INT4_ARR, "00000000 00000000 00000014", "element type 20 on the wire, expected 23");
    DEC_ERR(INT4_ARR, "00000001 00000000 00000014 00000001 00000001 00000008 0000000000000001",
            "element type 20 on the wire");
    DEC_ERR(TEXT_ARR, "00000000 00000000 00000017", "element type 23 on the wire, expected 25");
    /* dimensions */
    DEC_ERR(INT4_ARR, "00000002 00000000 00000017 00000001 00000001",
            "truncated in the dimensions");
    DEC_ERR(INT4_ARR, "00000001 00000000 00000017 00000001", "truncated in the dimensions");
    DEC_ERR(INT4_ARR, "00000001 00000000 00000017 ffffffff 00000001",
            "invalid array dimension -1");
    DEC_ERR(INT4_ARR, "00000002 00000000 00000017 00000001 00000001 80000000 00000001",
            "invalid array dimension -2147483648");
    DEC_ERR(INT4_ARR, "00000001 00000000 00000017 80000000 00000001",
            "invalid array dimension -2147483648");
    /* dim + lower bound must fit int32, as array_recv checks */
    DEC_ERR(INT4_ARR, "00000001 00000000 00000017 00000002 7fffffff 00000004 00000001",
            "lower bound 2147483647 + 2 overflows");
    DEC_ERR(INT4_ARR, "00000001 00000000 00000017 7fffffff 00000001 00000004 00000001",
            "lower bound 1 + 2147483647 overflows");
    /* element counts the field cannot hold */
    DEC_ERR(INT4_ARR, "00000001 00000000 00000017 00000001 00000001",
            "1-dimension size exceeds the 20-byte field");
    DEC_ERR(INT4_ARR, "00000001 00000000 00000017 7fffffff 00000000 00000004 00000001",
            "1-dimension size exceeds the 28-byte field");
    DEC_ERR(INT4_ARR, "00000001 00000000 00000017 7fffffff 80000000 00000004 00000001",
            "exceeds the");
    DEC_ERR(INT4_ARR,
            "00000002 00000000 00000017 00000001 00000001 00000002 00000001 00000004",
            "2-dimension size exceeds the 32-byte field");
    DEC_ERR(INT4_ARR,
            "00000006 00000000 00000017 7fffffff 00000000 7fffffff 00000000 7fffffff 00000000"
            " 7fffffff 00000000 7fffffff 00000000 7fffffff 00000000 00000000",
            "exceeds the");
    DEC_ERR(INT4_ARR,
            "00000006 00000000 00000017 00000001 00000001 00000001 00000001 00000001 00000001"
            " 00000001 00000001 00000001 00000001 00010000 00000001 00000000",
            "6-dimension size exceeds");
    /* elements */
    DEC_ERR(INT4_ARR, "00000001 00000000 00000017 00000002 00000001 00000004 00000001 00000004",
            "invalid array element length 4 (0 bytes left)");
    DEC_ERR(INT4_ARR, "00000001 00000000 00000017 00000002 00000001 00000004 00000001 000000",
            "truncated at element length");
    DEC_ERR(TEXT_ARR,
            "00000001 00000000 00000019 00000003 00000001 00000001 61 00000001 62 000000",
            "truncated at element length");
    DEC_ERR(INT4_ARR, "00000001 00000000 00000017 00000001 00000001 7fffffff",
            "invalid array element length 2147483647 (0 bytes left)");
    DEC_ERR(INT4_ARR, "00000001 00000000 00000017 00000001 00000001 fffffffe",
            "invalid array element length -2");
    DEC_ERR(INT4_ARR, "00000001 00000000 00000017 00000001 00000001 80000000",
            "invalid array element length -2147483648");
    DEC_ERR(INT4_ARR, "00000001 00000000 00000017 00000001 00000001 00000003 000001",
            "3 bytes, expected 4");
    DEC_ERR(INT4_ARR, "00000001 00000000 00000017 00000001 00000001 00000005 0000000100",
            "5 bytes, expected 4");
    DEC_ERR(NUMERIC_ARR, "00000001 00000000 000006a4 00000001 00000001 00000008 0000000080000000",
            "invalid numeric sign 0x8000");
    DEC_ERR(JSONB_ARR, "00000001 00000000 00000eda 00000001 00000001 00000003 027b7d",
            "unsupported jsonb version 2");
    DEC_ERR(TEXT_ARR, "00000001 00000000 00000019 00000001 00000001 00000001 ff",
            "invalid UTF-8");
    /* trailing bytes */
    DEC_ERR(INT4_ARR, "00000001 00000000 00000017 00000001 00000001 00000004 00000001 00",
            "1 trailing bytes");
    DEC_ERR(INT4_ARR, "00000000 00000000 00000017 00000000",
            "4 trailing bytes after an empty array");
    DEC_ERR(INT4_ARR, "00000001 00000000 00000017 00000000 00000001 ffffffff",
            "4 trailing bytes after an empty array");
    /* a zero-length dimension is an empty array, whatever the others say */
    DEC(INT4_ARR, "00000001 00000000 00000017 00000000 00000001", "[]");
    DEC(INT4_ARR, "00000002 00000000 00000017 00000003 00000001 00000000 00000001", "[]");
    DEC(INT4_ARR, "00000002 00000000 00000017 00000000 00000001 00000003 00000001", "[]");
    DEC(INT4_ARR,
        "00000003 00000000 00000017 7fffffff 00000000 7fffffff 00000000 00000000 00000001",
        "[]");
}

static void test_malformed_text(void)
{
    DECT_ERR(INT4_ARR, "", "must start with '{'");
    DECT_ERR(INT4_ARR, "1,2", "must start with '{'");
    DECT_ERR(INT4_ARR, "[1:2]=", "must start with '{'");
    DECT_ERR(INT4_ARR, "{", "unexpected end");
    DECT_ERR(INT4_ARR, "{1,2", "expected ',' or '}'");
    DECT_ERR(INT4_ARR, "{1,", "unexpected end");
    DECT_ERR(INT4_ARR, "{{1}", "expected ',' or '}'");
    DECT_ERR(INT4_ARR, "{1,2}}", "junk after the closing '}'");
    DECT_ERR(INT4_ARR, "{1} x", "junk after the closing '}'");
    DECT_ERR(INT4_ARR, "{1,,2}", "empty unquoted element");
    DECT_ERR(INT4_ARR, "{,}", "empty unquoted element");
    DECT_ERR(INT4_ARR, "{1 2}", "invalid int4 text");
    DECT_ERR(INT4_ARR, "{1,x}", "invalid int4 text");
    DECT_ERR(INT4_ARR, "{\"\"}", "invalid int4 text");
    DECT_ERR(INT4_ARR, "{{1,2},{3}}", "sub-lists must have equal lengths");
    DECT_ERR(INT4_ARR, "{{1},{2,3}}", "sub-lists must have equal lengths");
    DECT_ERR(INT4_ARR, "{{1},2}", "sub-lists must have equal lengths");
    DECT_ERR(INT4_ARR, "{1,{2}}", "sub-lists must have equal lengths");
    DECT_ERR(INT4_ARR, "{{1},{{2}}}", "sub-lists must have equal lengths");
    DECT_ERR(INT4_ARR, "{{}}", "empty sub-array");
    DECT_ERR(INT4_ARR, "{{{{{{{1}}}}}}}", "more than 6 dimensions");
    DECT_ERR(INT4_ARR, "{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{", "more than 6 dimensions");
    DECT_ERR(TEXT_ARR, "{\"abc}", "unterminated quoted element");
    DECT_ERR(TEXT_ARR, "{\"abc", "unterminated quoted element");
    DECT_ERR(TEXT_ARR, "{\"a\\", "backslash at the end");
    DECT_ERR(TEXT_ARR, "{abc\\", "backslash at the end");
    DECT_ERR(TEXT_ARR, "{a\"b\"}", "unexpected '\"' in an element");
    DECT_ERR(TEXT_ARR, "{a{b}", "unexpected '{' in an element");
    DECT_ERR(TEXT_ARR, "{\"a\"b}", "expected ',' or '}'");
    DECT_ERR(TEXT_ARR, "{\"a\" \"b\"}", "expected ',' or '}'");
    DECT_ERR(TEXT_ARR, "{\xff}", "invalid UTF-8");
    /* dimension decoration */
    DECT_ERR(INT4_ARR, "[0:2]={1,2}", "bounds do not match dimension 1");
    DECT_ERR(INT4_ARR, "[1:2][1:2]={{1},{2}}", "bounds do not match dimension 2");
    DECT_ERR(INT4_ARR, "[1:2][1:1]={1,2}", "2 bounds for 1 dimensions");
    DECT_ERR(INT4_ARR, "[1:2]={{1},{2}}", "1 bounds for 2 dimensions");
    DECT_ERR(INT4_ARR, "[1:1]={}", "1 bounds for 0 dimensions");
    DECT_ERR(INT4_ARR, "[1:2={1,2}", "bad dimension decoration");
    DECT_ERR(INT4_ARR, "[1:2]{1,2}", "bad dimension decoration");
    DECT_ERR(INT4_ARR, "[a]={1}", "bad dimension decoration");
    DECT_ERR(INT4_ARR, "[]={1}", "bad dimension decoration");
    DECT_ERR(INT4_ARR, "[1:]={1}", "bad dimension decoration");
    DECT_ERR(INT4_ARR, "[3:1]={1}", "bad dimension decoration");
    DECT_ERR(INT4_ARR, "[99999999999:1]={1}", "bad dimension decoration");
    DECT_ERR(INT4_ARR, "[1:2147483648]={1}", "bad dimension decoration");
    DECT_ERR(INT4_ARR, "[1][1][1][1][1][1][1]={{{{{{{1}}}}}}}", "bad dimension decoration");
    DECT_ERR(INT4_ARR, "[1", "bad dimension decoration");
    DECT_ERR(INT4_ARR, "[", "bad dimension decoration");
}

int main(void)
{
    th_init();
    test_rows();
    test_text_forms();
    test_encode();
    test_unknown_element();
    test_malformed_binary();
    test_malformed_text();
    return th_finish();
}
