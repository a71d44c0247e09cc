/* json (text bytes) and jsonb (version byte 1 + text). */
#include "harness.h"

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
    return th_finish();
}
