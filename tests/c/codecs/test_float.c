/* float4, float8: IEEE-754 bits, big-endian (float4send/float8send). */
#include <math.h>
#include <stdlib.h>

#include "harness.h"

int main(void)
{
    th_init();

    DEC(FLOAT4, "3fc00000", "1.5");
    DEC(FLOAT4, "7fc00000", "nan");
    DEC(FLOAT4, "7f800000", "inf");
    DEC(FLOAT4, "ff800000", "-inf");
    DEC(FLOAT4, "3dcccccd", "0.10000000149011612"); /* nearest float to 0.1 */
    DEC(FLOAT4, "80000000", "-0");
    DEC(FLOAT8, "3ff8000000000000", "1.5");
    DEC(FLOAT8, "3fb999999999999a", "0.10000000000000001");
    DEC(FLOAT8, "7ff8000000000000", "nan");
    DEC(FLOAT8, "fff0000000000000", "-inf");
    DEC(FLOAT8, "7fefffffffffffff", "1.7976931348623157e+308");
    DEC(FLOAT8, "0000000000000001", "4.9406564584124654e-324");

    DECT(FLOAT8, "1.5", "1.5");
    DECT(FLOAT8, "0.1", "0.10000000000000001");
    DECT(FLOAT8, "-1e+100", "-1e+100");
    DECT(FLOAT8, "NaN", "nan");
    DECT(FLOAT8, "Infinity", "inf");
    DECT(FLOAT8, "-Infinity", "-inf");
    DECT(FLOAT8, "-0", "-0");
    DECT(FLOAT8, "1.7976931348623157e+308", "1.7976931348623157e+308");
    DECT(FLOAT4, "0.1", "0.10000000149011612");
    DECT(FLOAT4, "3.4028235e+38", "3.4028234663852886e+38");
    DECT(FLOAT4, "1.2345679e-05", "1.2345679351710714e-05");

    ENC(FLOAT8, V_FLOAT(1.5), "3ff8000000000000");
    ENC(FLOAT8, V_FLOAT(-INFINITY), "fff0000000000000");
    ENC(FLOAT8, V_INT(3), "4008000000000000");
    ENC(FLOAT4, V_FLOAT(1.5), "3fc00000");
    ENC(FLOAT4, V_FLOAT(INFINITY), "7f800000");
    ENC(FLOAT4, V_INT(-2), "c0000000");
    {
        char err[256];
        char *hex = th_encode_hex(FLOAT8, V_FLOAT(NAN), err, sizeof err);

        /* any NaN bit pattern: exponent all ones, mantissa non-zero */
        CHECK(hex && (hex[0] == '7' || hex[0] == 'f') && hex[1] == 'f' && hex[2] >= '8');
        free(hex);
    }
    RT(FLOAT8, "400921fb54442d18");
    RT(FLOAT4, "40490fdb");
    RT(FLOAT8, "8000000000000000");

    ENC_ERR(FLOAT4, V_FLOAT(1e39), "out of range for float4 (overflow)");
    ENC_ERR(FLOAT4, V_FLOAT(1e-50), "out of range for float4 (underflow)");
    ENC_ERR(FLOAT8, V_STR("1.5"), "cannot encode a str value as float8");
    ENC_ERR(FLOAT8, V_DEC("1.5"), "cannot encode a decimal value as float8");

    DEC_ERR(FLOAT4, "3fc000", "3 bytes, expected 4");
    DEC_ERR(FLOAT8, "3ff80000000000000000", "10 bytes, expected 8");
    DEC_ERR(FLOAT8, "", "0 bytes, expected 8");
    DECT_ERR(FLOAT8, "", "invalid float8 text");
    DECT_ERR(FLOAT8, "inf", "invalid float8 text");
    DECT_ERR(FLOAT8, "0x1p3", "invalid float8 text");
    DECT_ERR(FLOAT8, " 1.5", "invalid float8 text");
    DECT_ERR(FLOAT8, "1.5 ", "invalid float8 text");
    DECT_ERR(FLOAT8, "1e", "invalid float8 text");
    DECT_ERR(FLOAT8, "+1.5", "invalid float8 text"); /* float8out never writes '+' */
    DECT_ERR(FLOAT8, "-", "invalid float8 text");
    DECT_ERR(FLOAT8, ".", "invalid float8 text");
    DECT_ERR(FLOAT8, "1.5.", "invalid float8 text");
    DECT_ERR(FLOAT8, "1e+", "invalid float8 text");
    DECT_ERR(FLOAT8, "1e999", "out of range");
    DECT_ERR(FLOAT4, "1e39", "out of range");
    DECT_ERR(FLOAT8, "1.00000000000000000000000000000000000000000000000000000000000000000", "invalid");
    return th_finish();
}
