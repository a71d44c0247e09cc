/* json (text bytes) and jsonb (version byte 1 + text); lists as JSON arrays. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* Encode v for json and for jsonb; both must give `text` (jsonb after its
 * version byte). */
static void enc_text(const char *f, int l, const pgd_value *v, const char *text)
{
    char *hex = th_hex(text, strlen(text));
    char *bhex = malloc(strlen(hex) + 3);

    strcpy(bhex, "01");
    strcat(bhex, hex);
    th_enc(f, l, JSON, v, hex);
    th_enc(f, l, JSONB, v, bhex);
    free(hex);
    free(bhex);
}

static void enc_both_err(const char *f, int l, const pgd_value *v, const char *sub)
{
    th_enc_err(f, l, JSON, v, sub);
    th_enc_err(f, l, JSONB, v, sub);
}

#define ENC_TEXT(v, text) enc_text(__FILE__, __LINE__, (v), (text))
#define ENC_BOTH_ERR(v, sub) enc_both_err(__FILE__, __LINE__, (v), (sub))

/* A list nested n deep around an empty list. */
static pgd_value *nested(int n)
{
    pgd_value *v = calloc((size_t)n + 1, sizeof *v);
    int i;

    for (i = 0; i < n; i++) {
        v[i].kind = PGD_V_LIST;
        v[i].u.list.items = &v[i + 1];
        v[i].u.list.n = 1;
    }
    v[n].kind = PGD_V_LIST;
    return v;
}

static void test_lists(void)
{
    pgd_value *deep;

    /* scalars inside a list, compact separators like json.dumps(separators=(",", ":")) */
    ENC_TEXT(EMPTY_LIST, "[]");
    ENC_TEXT(LIST(*V_INT(1), *V_INT(-9223372036854775807 - 1)), "[1,-9223372036854775808]");
    ENC_TEXT(LIST(*V_BOOL(1), *V_BOOL(0), *VAL(PGD_V_NULL)), "[true,false,null]");
    ENC_TEXT(LIST(*V_FLOAT(2.5), *V_FLOAT(0.1), *V_FLOAT(1.0), *V_FLOAT(-0.0)),
             "[2.5,0.1,1.0,-0.0]");
    ENC_TEXT(LIST(*V_FLOAT(1e16), *V_FLOAT(1e-5), *V_FLOAT(123456789.125)),
             "[1e+16,1e-05,123456789.125]");
    /* powers of two, where the nearest 16 digits do not read back: repr's digits */
    ENC_TEXT(LIST(*V_FLOAT(0x1p-24), *V_FLOAT(-0x1p-1017), *V_FLOAT(0x1p-10)),
             "[5.960464477539063e-08,-7.120236347223045e-307,0.0009765625]");
    ENC_TEXT(LIST(*V_DEC("1.50"), *V_DEC("-0.001"), *V_DEC("123456789012345678901234567890")),
             "[1.50,-0.001,123456789012345678901234567890]");
    ENC_TEXT(LIST(*V_DEC("+1.5E+3"), *V_DEC(".5"), *V_DEC("5."), *V_DEC("007"), *V_DEC("-00")),
             "[1.5E+3,0.5,5,7,-0]");
    ENC_TEXT(LIST(*V_DEC("1e-07"), *V_DEC("-.25e2")), "[1e-07,-0.25e2]");
    /* strings: quote, backslash, \n, \t short; other controls \u00XX; UTF-8 as is */
    ENC_TEXT(LIST(*V_STR("a\"b\\c")), "[\"a\\\"b\\\\c\"]");
    ENC_TEXT(LIST(*V_STR("l1\nl2\tx")), "[\"l1\\nl2\\tx\"]");
    ENC_TEXT(LIST(*V_STR("\x01\r\x1f\b\f\x7f")),
             "[\"\\u0001\\u000d\\u001f\\u0008\\u000c\x7f\"]");
    ENC_TEXT(LIST(*V_STRN(PGD_V_STR, "a\0b", 3)), "[\"a\\u0000b\"]");
    ENC_TEXT(LIST(*V_STR(""), *V_STR("\xc3\xa9\xe2\x82\xac/")),
             "[\"\",\"\xc3\xa9\xe2\x82\xac/\"]");
    /* JSON items (dicts serialized by the host) embedded verbatim */
    ENC_TEXT(LIST(*V_JSON("{\"k\": [1, {}]}"), *V_JSON("null"), *V_INT(3)),
             "[{\"k\": [1, {}]},null,3]");
    /* nesting, including empty sub-lists and ragged shapes (JSON has no shape rule) */
    ENC_TEXT(LIST(*LIST(*V_INT(1), *LIST(*V_STR("x"))), *EMPTY_LIST, *LIST(*VAL(PGD_V_NULL))),
             "[[1,[\"x\"]],[],[null]]");
    deep = nested(255);
    CHECK(deep != NULL);
    {
        char want[2 * 256 + 1];

        memset(want, '[', 256);
        memset(want + 256, ']', 256);
        want[512] = '\0';
        ENC_TEXT(deep, want);
    }
    free(deep);
    deep = nested(256);
    ENC_BOTH_ERR(deep, "nested more than 256 deep");
    free(deep);

    /* refusals */
    ENC_BOTH_ERR(LIST(*V_FLOAT(NAN)), "float nan is not valid JSON");
    ENC_BOTH_ERR(LIST(*V_INT(1), *V_FLOAT(INFINITY)), "float inf is not valid JSON");
    ENC_BOTH_ERR(LIST(*V_FLOAT(-INFINITY)), "float -inf is not valid JSON");
    ENC_BOTH_ERR(LIST(*V_DEC("NaN")), "decimal NaN is not valid JSON");
    ENC_BOTH_ERR(LIST(*V_DEC("-Infinity")), "decimal -Infinity is not valid JSON");
    ENC_BOTH_ERR(LIST(*V_DEC("sNaN")), "not valid JSON");
    ENC_BOTH_ERR(LIST(*V_DEC("1.2.3")), "invalid decimal text \"1.2.3\"");
    ENC_BOTH_ERR(LIST(*V_DEC(".")), "invalid decimal text");
    ENC_BOTH_ERR(LIST(*V_DEC("1e")), "invalid decimal text");
    ENC_BOTH_ERR(LIST(*V_DEC("")), "invalid decimal text");
    ENC_BOTH_ERR(LIST(*V_JSON("")), "empty JSON text");
    ENC_BOTH_ERR(LIST(*V_BYTES("ab")), "cannot encode a bytes value as JSON");
    ENC_BOTH_ERR(LIST(*VAL(PGD_V_UUID)), "cannot encode a uuid value as JSON");
    ENC_BOTH_ERR(LIST(*LIST(*VAL(PGD_V_DATE, .u.dt = {.year = 2000, .month = 1, .day = 1}))),
                 "cannot encode a date value as JSON");
    ENC_BOTH_ERR(LIST(*VAL(PGD_V_INTERVAL)), "cannot encode a interval value as JSON");
}

int main(void)
{
    th_init();

    DEC(JSON, "7b2261223a20317d", "json:{\"a\": 1}");
    DEC(JSONB, "01 7b2261223a20317d", "json:{\"a\": 1}");
    DEC(JSONB, "01 6e756c6c", "json:null");
    DEC(JSONB, "01 22c3a922", "json:\"\xc3\xa9\"");
    DECT(JSON, "[1, 2.5, \"x\"]", "json:[1, 2.5, \"x\"]");
    DECT(JSONB, "{\"a\": [true, null]}", "json:{\"a\": [true, null]}");
    ENC(JSON, V_JSON("{\"a\":1}"), "7b2261223a317d");
    ENC(JSONB, V_JSON("{\"a\":1}"), "01 7b2261223a317d");
    ENC(JSONB, V_STR("[]"), "01 5b5d");
    ENC(JSON, V_STR("3"), "33");
    RT(JSONB, "01 5b312c20325d");
    RT(JSON, "7b7d");

    ENC_ERR(JSONB, V_INT(1), "cannot encode a int value as jsonb");
    ENC_ERR(JSON, V_BYTES("{}"), "cannot encode a bytes value as json");
    DEC_ERR(JSONB, "", "empty (no version byte)");
    DEC_ERR(JSONB, "02 7b7d", "unsupported jsonb version 2");
    DEC_ERR(JSONB, "00 7b7d", "unsupported jsonb version 0");
    DEC_ERR(JSONB, "01", "invalid JSON");          /* version byte, no text */
    DEC_ERR(JSONB, "01 7b2261", "invalid JSON");   /* truncated text */
    DEC_ERR(JSON, "7b7d7d", "invalid JSON");       /* trailing byte */
    DEC_ERR(JSON, "22ff22", "invalid UTF-8");

    /* an empty value still encodes (into a never-allocated buffer as well) */
    ENC(JSON, V_STR(""), "");
    ENC(JSONB, V_JSON(""), "01");

    test_lists();
    return th_finish();
}
