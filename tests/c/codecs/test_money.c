/* money: int64 cents (cash_send), 2 fraction digits assumed. */
#include "harness.h"

int main(void)
{
    th_init();

    /* binary decode, at the limits */
    DEC(MONEY, "000000000000007b", "Decimal('1.23')");
    DEC(MONEY, "0000000000000000", "Decimal('0.00')");
    DEC(MONEY, "ffffffffffffffff", "Decimal('-0.01')");
    DEC(MONEY, "fffffffffffffc18", "Decimal('-10.00')");
    DEC(MONEY, "7fffffffffffffff", "Decimal('92233720368547758.07')");
    DEC(MONEY, "8000000000000000", "Decimal('-92233720368547758.08')");

    /* text decode: the C locale's form */
    DECT(MONEY, "$1.23", "Decimal('1.23')");
    DECT(MONEY, "$0.00", "Decimal('0.00')");
    DECT(MONEY, "-$0.01", "Decimal('-0.01')");
    DECT(MONEY, "$1,000.00", "Decimal('1000.00')");
    DECT(MONEY, "$999.99", "Decimal('999.99')");
    DECT(MONEY, "$92,233,720,368,547,758.07", "Decimal('92233720368547758.07')");
    DECT(MONEY, "-$92,233,720,368,547,758.08", "Decimal('-92233720368547758.08')");
    DECT_ERR(MONEY, "$92,233,720,368,547,758.08", "only the form of lc_monetary C");
    DECT_ERR(MONEY, "-$92,233,720,368,547,758.09", "lc_monetary");
    DECT_ERR(MONEY, "$999,999,999,999,999,999,999.00", "lc_monetary");
    DECT_ERR(MONEY, "1,23 EUR", "lc_monetary");
    DECT_ERR(MONEY, "$1.2", "lc_monetary");
    DECT_ERR(MONEY, "$1.234", "lc_monetary");
    DECT_ERR(MONEY, "$1,23.00", "lc_monetary");
    DECT_ERR(MONEY, "$1234,567.00", "lc_monetary");
    DECT_ERR(MONEY, "$,123.00", "lc_monetary");
    DECT_ERR(MONEY, "$.12", "lc_monetary");
    DECT_ERR(MONEY, "($1.00)", "lc_monetary");
    DECT_ERR(MONEY, "", "lc_monetary");

    /* encode: whole units */
    ENC(MONEY, V_INT(5), "00000000000001f4");
    ENC(MONEY, V_INT(0), "0000000000000000");
    ENC(MONEY, V_INT(-1), "ffffffffffffff9c");
    ENC(MONEY, V_INT(92233720368547758), "7ffffffffffffff8");
    ENC(MONEY, V_INT(-92233720368547758), "8000000000000008");
    ENC_ERR(MONEY, V_INT(92233720368547759), "money value 92233720368547759 out of range");
    ENC_ERR(MONEY, V_INT(INT64_MIN), "out of range");

    /* encode: decimal text, exact to the cent */
    ENC(MONEY, V_DEC("1.23"), "000000000000007b");
    ENC(MONEY, V_DEC("1.5"), "0000000000000096");
    ENC(MONEY, V_DEC("1.500"), "0000000000000096");
    ENC(MONEY, V_DEC("-0.01"), "ffffffffffffffff");
    ENC(MONEY, V_DEC("-0"), "0000000000000000");
    ENC(MONEY, V_DEC("+3"), "000000000000012c");
    ENC(MONEY, V_DEC(".5"), "0000000000000032");
    ENC(MONEY, V_DEC("5."), "00000000000001f4");
    ENC(MONEY, V_DEC("1E+2"), "0000000000002710");
    ENC(MONEY, V_DEC("12345E-2"), "0000000000003039");
    ENC(MONEY, V_DEC("0.5e1"), "00000000000001f4");
    ENC(MONEY, V_DEC("1.2300E1"), "00000000000004ce");
    ENC(MONEY, V_DEC("0E+1000000000"), "0000000000000000");
    ENC(MONEY, V_DEC("0.000E-50"), "0000000000000000");
    ENC(MONEY, V_DEC("000000000000000000000000001.00"), "0000000000000064");
    ENC(MONEY, V_DEC("92233720368547758.07"), "7fffffffffffffff");
    ENC(MONEY, V_DEC("-92233720368547758.08"), "8000000000000000");
    ENC(MONEY, V_DEC("-9223372036854775808E-2"), "8000000000000000");
    ENC(MONEY, V_STR("1.23"), "000000000000007b");
    ENC(MONEY, V_STR("-100"), "ffffffffffffd8f0");
    RT(MONEY, "000000000000007b");
    RT(MONEY, "7fffffffffffffff");
    RT(MONEY, "8000000000000000");

    ENC_ERR(MONEY, V_DEC("92233720368547758.08"), "money value \"92233720368547758.08\" out of range");
    ENC_ERR(MONEY, V_DEC("-92233720368547758.09"), "out of range");
    ENC_ERR(MONEY, V_DEC("1e20"), "out of range");
    ENC_ERR(MONEY, V_DEC("1E+999999999999"), "out of range");
    ENC_ERR(MONEY, V_DEC("99999999999999999999999999"), "out of range");
    ENC_ERR(MONEY, V_DEC("1.005"), "has more than 2 fraction digits (it is not rounded)");
    ENC_ERR(MONEY, V_DEC("1E-3"), "more than 2 fraction digits");
    ENC_ERR(MONEY, V_DEC("1E-999999999999"), "more than 2 fraction digits");
    ENC_ERR(MONEY, V_DEC("NaN"), "money has no NaN or infinity");
    ENC_ERR(MONEY, V_DEC("Infinity"), "no NaN or infinity");
    ENC_ERR(MONEY, V_DEC("-Infinity"), "no NaN or infinity");
    ENC_ERR(MONEY, V_STR("$1.00"), "invalid money text \"$1.00\"");
    ENC_ERR(MONEY, V_STR("1,000.00"), "invalid money text");
    ENC_ERR(MONEY, V_STR(" 1"), "invalid money text");
    ENC_ERR(MONEY, V_STR(""), "invalid money text");
    ENC_ERR(MONEY, V_STR("1e"), "invalid money text");
    ENC_ERR(MONEY, V_FLOAT(1.5), "cannot encode a float value as money");
    ENC_ERR(MONEY, V_BOOL(1), "cannot encode a bool value as money");

    /* malformed wire */
    DEC_ERR(MONEY, "", "0 bytes, expected 8");
    DEC_ERR(MONEY, "00000000000000", "7 bytes, expected 8");
    DEC_ERR(MONEY, "000000000000000000", "9 bytes, expected 8");

    /* arrays */
    DEC(MONEY_ARR,
        "00000001 00000001 00000316 00000002 00000001 00000008 000000000000007b ffffffff",
        "[Decimal('1.23'), None]");
    ENC(MONEY_ARR, LIST(*V_INT(1), *V_DEC("0.01")),
        "00000001 00000000 00000316 00000002 00000001"
        " 00000008 0000000000000064 00000008 0000000000000001");
    DECT(MONEY_ARR, "{$1.23,NULL,\"-$1,000.00\"}",
         "[Decimal('1.23'), None, Decimal('-1000.00')]");
    return th_finish();
}
