/* int2, int4, int8, oid: wire bytes per int2send/int4send/int8send/oidsend. */
#include "harness.h"

int main(void)
{
    th_init();

    /* binary decode */
    DEC(INT2, "0000", "0");
    DEC(INT2, "7fff", "32767");
    DEC(INT2, "8000", "-32768");
    DEC(INT2, "ffff", "-1");
    DEC(INT4, "0000002a", "42");
    DEC(INT4, "7fffffff", "2147483647");
    DEC(INT4, "80000000", "-2147483648");
    DEC(INT8, "7fffffffffffffff", "9223372036854775807");
    DEC(INT8, "8000000000000000", "-9223372036854775808");
    DEC(INT8, "00000001 00000000", "4294967296");
    DEC(OID, "ffffffff", "4294967295");
    DEC(OID, "00000000", "0");

    /* text decode */
    DECT(INT2, "-32768", "-32768");
    DECT(INT4, "2147483647", "2147483647");
    DECT(INT8, "-9223372036854775808", "-9223372036854775808");
    DECT(OID, "4294967295", "4294967295");

    /* encode */
    ENC(INT2, V_INT(-2), "fffe");
    ENC(INT2, V_INT(32767), "7fff");
    ENC(INT4, V_INT(-2147483647 - 1), "80000000");
    ENC(INT8, V_INT(INT64_MIN), "8000000000000000");
    ENC(INT8, V_INT(1), "0000000000000001");
    ENC(OID, V_INT(4294967295), "ffffffff");
    ENC(INT4, V_DEC("123"), "0000007b");
    ENC(INT8, V_DEC("-9223372036854775808"), "8000000000000000");

    /* round trips */
    RT(INT2, "8001");
    RT(INT4, "12345678");
    RT(INT8, "fedcba9876543210");
    RT(OID, "80000000");

    /* encode refusals */
    ENC_ERR(INT2, V_INT(70000), "value 70000 out of range for int2");
    ENC_ERR(INT2, V_INT(-32769), "out of range for int2");
    ENC_ERR(INT4, V_INT(2147483648), "value 2147483648 out of range for int4");
    ENC_ERR(OID, V_INT(-1), "out of range for oid");
    ENC_ERR(OID, V_INT(4294967296), "out of range for oid");
    ENC_ERR(INT8, V_DEC("9223372036854775808"), "out of range for int8");
    ENC_ERR(INT8, V_DEC("-99999999999999999999999"), "out of range for int8");
    ENC_ERR(INT4, V_DEC("1.5"), "not an integer");
    ENC_ERR(INT4, V_BOOL(1), "cannot encode a bool value as int4");
    ENC_ERR(INT8, V_FLOAT(1.0), "cannot encode a float value as int8");
    ENC_ERR(INT4, V_STR("1"), "cannot encode a str value as int4");

    /* malformed wire */
    DEC_ERR(INT2, "00", "1 bytes, expected 2");
    DEC_ERR(INT2, "000000", "3 bytes, expected 2");
    DEC_ERR(INT4, "", "0 bytes, expected 4");
    DEC_ERR(INT4, "0000000000", "5 bytes, expected 4");
    DEC_ERR(INT8, "00000000000000", "7 bytes, expected 8");
    DEC_ERR(OID, "000000", "3 bytes, expected 4");
    DECT_ERR(INT2, "32768", "out of range");
    DECT_ERR(INT4, "", "invalid int4 text");
    DECT_ERR(INT4, "12a", "invalid int4 text");
    DECT_ERR(INT4, " 12", "invalid int4 text");
    DECT_ERR(INT4, "-", "invalid int4 text");
    DECT_ERR(INT8, "9223372036854775808", "out of range");
    DECT_ERR(OID, "-1", "out of range");
    return th_finish();
}
