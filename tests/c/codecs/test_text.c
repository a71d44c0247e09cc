/* text family: the bytes themselves; "char" a single byte. */
#include "harness.h"

int main(void)
{
    static const uint32_t strs[] = {TEXT, VARCHAR, BPCHAR, NAME, UNKNOWN};
    size_t i;

    th_init();

    for (i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        DEC(strs[i], "68656c6c6f", "'hello'");
        DEC(strs[i], "", "''");
        DECT(strs[i], "hello", "'hello'");
        ENC(strs[i], V_STR("hello"), "68656c6c6f");
        ENC(strs[i], V_STR(""), "");
        RT(strs[i], "c3a9e282ac");
        ENC_ERR(strs[i], V_BYTES("x"), "cannot encode a bytes value");
        ENC_ERR(strs[i], V_INT(1), "cannot encode a int value");
        ENC_ERR(strs[i], V_STR("a\0b"), "NUL");
        DEC_ERR(strs[i], "ff", "invalid UTF-8");
        DEC_ERR(strs[i], "c3", "invalid UTF-8");       /* truncated sequence */
        DEC_ERR(strs[i], "eda080", "invalid UTF-8");   /* surrogate */
        DEC_ERR(strs[i], "c0af", "invalid UTF-8");     /* overlong '/' */
    }
    /* unicode: e-acute, euro sign, U+1F600 */
    DEC(TEXT, "c3a9 e282ac f09f9880", "'\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80'");
    ENC(TEXT, V_STR("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"), "c3a9e282acf09f9880");
    DEC(BPCHAR, "61202020", "'a   '"); /* padding kept */
    ENC(NAME, V_STR("012345678901234567890123456789012345678901234567890123456789012"),
        "303132333435363738393031323334353637383930313233343536373839303132333435363738"
        "393031323334353637383930313233343536373839303132");
    ENC_ERR(NAME, V_STR("0123456789012345678901234567890123456789012345678901234567890123"),
            "too long");

    /* "char" */
    DEC(CHAR, "61", "'a'");
    DEC(CHAR, "00", "''");
    DEC(CHAR, "e9", "'\\351'");
    DECT(CHAR, "a", "'a'");
    DECT(CHAR, "", "''");
    DECT(CHAR, "\\351", "'\\351'");
    ENC(CHAR, V_STR("a"), "61");
    ENC(CHAR, V_STR(""), "00");
    ENC(CHAR, V_STR("\\351"), "e9");
    RT(CHAR, "7a");
    RT(CHAR, "80");
    ENC_ERR(CHAR, V_STR("ab"), "\"char\" takes one ASCII character");
    ENC_ERR(CHAR, V_STR("\xc3\xa9"), "\"char\" takes one ASCII character");
    DEC_ERR(CHAR, "", "0 bytes, expected 1");
    DEC_ERR(CHAR, "6162", "2 bytes, expected 1");
    DECT_ERR(CHAR, "ab", "invalid \"char\" text");
    DECT_ERR(CHAR, "\\400", "invalid \"char\" text");
    return th_finish();
}
