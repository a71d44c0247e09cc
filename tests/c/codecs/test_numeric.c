/*
 * numeric: numeric_send/numeric_recv layout (ndigits, weight, sign, dscale,
 * base-10000 digits) and numeric_out text.  The wire bytes in the tables
 * are what a PostgreSQL 15 server's numeric_send() returns for the text,
 * except where a comment says otherwise.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* Canonical text (numeric_out) and its binary form (numeric_send). */
static const struct {
    const char *text, *hex;
} canon[] = {
    {"0", "0000 0000 0000 0000"},
    {"0.00", "0000 0000 0000 0002"},
    {"1", "0001 0000 0000 0000 0001"},
    {"-1", "0001 0000 4000 0000 0001"},
    {"1.5", "0002 0000 0000 0001 0001 1388"},
    {"-1.5", "0002 0000 4000 0001 0001 1388"},
    {"1.50", "0002 0000 0000 0002 0001 1388"},
    {"2.0", "0001 0000 0000 0001 0002"},
    {"0.5", "0001 ffff 0000 0001 1388"},
    {"0.10", "0001 ffff 0000 0002 03e8"},
    {"12.34", "0002 0000 0000 0002 000c 0d48"},
    {"100", "0001 0000 0000 0000 0064"},
    {"9999", "0001 0000 0000 0000 270f"},
    {"10000", "0001 0001 0000 0000 0001"},
    {"99999999", "0002 0001 0000 0000 270f 270f"},
    {"100000000", "0001 0002 0000 0000 0001"},
    {"1000.0001", "0002 0000 0000 0004 03e8 0001"},
    {"0.0001", "0001 ffff 0000 0004 0001"},
    {"-0.0001", "0001 ffff 4000 0004 0001"},
    {"0.00001", "0001 fffe 0000 0005 03e8"},
    {"0.00000000000000000001", "0001 fffb 0000 0014 0001"},
    {"123456789.000000001", "0006 0002 0000 0009 0001 0929 1a85 0000 0000 03e8"},
    {"3.14159265358979323846264338327950288",
     "000a 0000 0000 0023 0003 0587 2431 0e05 1efc 0f06 0a53 0ef8 1f0e 0b40"},
    {"-12345678901234567890.12345678901234567890",
     "000a 0004 4000 0014 04d2 162e 2334 0d80 1ed2 04d2 162e 2334 0d80 1ed2"},
    {"-9223372036854775808", "0005 0004 4000 0000 039a 0d2c 0170 1565 16b0"},
    {"9223372036854775807", "0005 0004 0000 0000 039a 0d2c 0170 1565 16af"},
    {"0.3333333333333333", "0004 ffff 0000 0010 0d05 0d05 0d05 0d05"},
    {"1.0000000000000002", "0005 0000 0000 0010 0001 0000 0000 0000 0002"},
    {"NaN", "0000 0000 c000 0000"},
};

/* Decimal input as a user writes it (exponents, signs) and the server's
 * numeric_send() of numeric_in(text). */
static const struct {
    const char *in, *hex;
} inputs[] = {
    {"-0.00", "0000 0000 0000 0002"},
    {"+7", "0001 0000 0000 0000 0007"},
    {"1.5e5", "0001 0001 0000 0000 000f"},
    {"1E-3", "0001 ffff 0000 0003 000a"},
    {"12345.678e-2", "0003 0000 0000 0005 007b 11d7 1f40"},
    {"1e100", "0001 0019 0000 0000 0001"},
    {"1e+16", "0001 0004 0000 0000 0001"},
    {"1e-20", "0001 fffb 0000 0014 0001"},
    {".5", "0001 ffff 0000 0001 1388"},
    {"5.", "0001 0000 0000 0000 0005"},
    {"000123.4500", "0002 0000 0000 0004 007b 1194"},
    {"1e-16383", "0001 f000 0000 3fff 000a"},
    {"0.5e-16382", "0001 f000 0000 3fff 0032"},
    {"1e131071", "0001 7fff 0000 0000 03e8"},
    {"-9e131071", "0001 7fff 4000 0000 2328"},
    {"nan", "0000 0000 c000 0000"},
    {"-NaN", "0000 0000 c000 0000"}, /* numeric_in refuses it; NaN has no sign */
    {"Infinity", "0000 0000 d000 0000"}, /* dscale 0 (see test_specials) */
    {"inf", "0000 0000 d000 0000"},
    {"-infinity", "0000 0000 f000 0000"},
    {"-Infinity", "0000 0000 f000 0000"},
};

static char *want_dec(const char *text)
{
    size_t n = strlen(text);
    char *w = malloc(n + sizeof "Decimal('')");

    if (!w)
        abort();
    sprintf(w, "Decimal('%s')", text);
    return w;
}

static void test_tables(void)
{
    size_t i;

    for (i = 0; i < sizeof canon / sizeof canon[0]; i++) {
        char *w = want_dec(canon[i].text);

        DEC(NUMERIC, canon[i].hex, w);
        DECT(NUMERIC, canon[i].text, w);
        ENC(NUMERIC, V_STRN(PGD_V_DECIMAL, canon[i].text, strlen(canon[i].text)),
            canon[i].hex);
        RT(NUMERIC, canon[i].hex);
        free(w);
    }
    for (i = 0; i < sizeof inputs / sizeof inputs[0]; i++)
        ENC(NUMERIC, V_STRN(PGD_V_DECIMAL, inputs[i].in, strlen(inputs[i].in)),
            inputs[i].hex);
}

/* Values thousands of digits long: the largest weight and scale. */
static void test_extremes(void)
{
    size_t n = 131072 + 16384;
    char *t = malloc(n), *w;

    /* 1e131071: "1" and 131071 zeros */
    t[0] = '1';
    memset(t + 1, '0', 131071);
    t[131072] = '\0';
    w = want_dec(t);
    DEC(NUMERIC, "0001 7fff 0000 0000 03e8", w);
    free(w);
    /* 1e-16383: the largest dscale */
    memcpy(t, "0.", 2);
    memset(t + 2, '0', 16382);
    memcpy(t + 2 + 16382, "1", 2);
    w = want_dec(t);
    DEC(NUMERIC, "0001 f000 0000 3fff 000a", w);
    free(w);
    /* digits far below the scale are cut, not read out of bounds */
    DEC(NUMERIC, "0001 8000 0000 0002 0001", "Decimal('0.00')");
    /* largest weight and largest scale at once */
    t[0] = '-';
    t[1] = '1';
    memset(t + 2, '0', 4 * 32767);
    t[2 + 4 * 32767] = '.';
    memset(t + 3 + 4 * 32767, '0', 16383);
    t[3 + 4 * 32767 + 16383] = '\0';
    w = want_dec(t);
    DEC(NUMERIC, "0001 7fff 4000 3fff 0001", w);
    free(w);
    free(t);
    ENC_ERR(NUMERIC, V_DEC("1e-16384"), "out of range for numeric (scale 16384 > 16383)");
    ENC_ERR(NUMERIC, V_DEC("0.5e-16383"), "out of range for numeric (scale 16384");
    ENC_ERR(NUMERIC, V_DEC("1e131072"), "out of range for numeric");
    ENC_ERR(NUMERIC, V_DEC("1e999999999999"), "out of range for numeric");
}

/* NaN and infinities carry no digits; the server's send leaves a dscale of
 * 32 in infinities, which numeric_recv ignores, and so do we. */
static void test_specials(void)
{
    DEC(NUMERIC, "0000 0000 d000 0020", "Decimal('Infinity')"); /* as the server sends it */
    DEC(NUMERIC, "0000 0000 f000 0020", "Decimal('-Infinity')");
    DEC(NUMERIC, "0000 0000 d000 0000", "Decimal('Infinity')");
    DEC(NUMERIC, "0000 0000 f000 0000", "Decimal('-Infinity')");
    DECT(NUMERIC, "Infinity", "Decimal('Infinity')");
    DECT(NUMERIC, "-Infinity", "Decimal('-Infinity')");
    RT(NUMERIC, "0000 0000 d000 0000");
    RT(NUMERIC, "0000 0000 f000 0000");
    ENC(NUMERIC, V_FLOAT(NAN), "0000 0000 c000 0000");
    ENC(NUMERIC, V_FLOAT(INFINITY), "0000 0000 d000 0000");
    ENC(NUMERIC, V_FLOAT(-INFINITY), "0000 0000 f000 0000");
    ENC_ERR(NUMERIC, V_DEC("sNaN"), "signaling NaN");
    ENC_ERR(NUMERIC, V_DEC("-snan"), "signaling NaN");
}

/* Ints and floats: the decimal a Python user means (float repr, not %.17g). */
static void test_other_kinds(void)
{
    ENC(NUMERIC, V_INT(0), "0000 0000 0000 0000");
    ENC(NUMERIC, V_INT(-1), "0001 0000 4000 0000 0001");
    ENC(NUMERIC, V_INT(10000), "0001 0001 0000 0000 0001");
    ENC(NUMERIC, V_INT(INT64_MIN), "0005 0004 4000 0000 039a 0d2c 0170 1565 16b0");
    ENC(NUMERIC, V_INT(INT64_MAX), "0005 0004 0000 0000 039a 0d2c 0170 1565 16af");
    ENC(NUMERIC, V_FLOAT(0.1), "0001 ffff 0000 0001 03e8");           /* 0.1 */
    ENC(NUMERIC, V_FLOAT(2.0), "0001 0000 0000 0001 0002");           /* 2.0 */
    ENC(NUMERIC, V_FLOAT(-1.5), "0002 0000 4000 0001 0001 1388");     /* -1.5 */
    ENC(NUMERIC, V_FLOAT(1e16), "0001 0004 0000 0000 0001");          /* 1e+16 */
    ENC(NUMERIC, V_FLOAT(1e300), "0001 004b 0000 0000 0001");         /* 1e+300 */
    ENC(NUMERIC, V_FLOAT(5e-324), "0001 ffaf 0000 0144 0005");        /* 5e-324 */
    ENC(NUMERIC, V_FLOAT(1.0 / 3), "0004 ffff 0000 0010 0d05 0d05 0d05 0d05");
    ENC(NUMERIC, V_FLOAT(1.0000000000000002), "0005 0000 0000 0010 0001 0000 0000 0000 0002");
    ENC(NUMERIC, V_FLOAT(-0.0), "0000 0000 0000 0001");               /* -0.0 -> 0.0 */
    /* 2^-24: repr's 5.960464477539063e-08, not 5.9604644775390625e-08 */
    ENC(NUMERIC, V_FLOAT(0x1p-24), "0005 fffe 0000 0017 0005 2584 192f 1d73 0276");

    ENC_ERR(NUMERIC, V_DEC(""), "invalid decimal text");
    ENC_ERR(NUMERIC, V_DEC("abc"), "invalid decimal text \"abc\" for numeric");
    ENC_ERR(NUMERIC, V_DEC("."), "invalid decimal text");
    ENC_ERR(NUMERIC, V_DEC("-"), "invalid decimal text");
    ENC_ERR(NUMERIC, V_DEC("1e"), "invalid decimal text");
    ENC_ERR(NUMERIC, V_DEC("1e+"), "invalid decimal text");
    ENC_ERR(NUMERIC, V_DEC("1.2.3"), "invalid decimal text");
    ENC_ERR(NUMERIC, V_DEC("1 "), "invalid decimal text");
    ENC_ERR(NUMERIC, V_DEC("--1"), "invalid decimal text");
    ENC_ERR(NUMERIC, V_DEC("0x10"), "invalid decimal text");
    ENC_ERR(NUMERIC, V_STR("1.5"), "cannot encode a str value as numeric");
    ENC_ERR(NUMERIC, V_BOOL(1), "cannot encode a bool value as numeric");
    ENC_ERR(NUMERIC, V_BYTES("1"), "cannot encode a bytes value as numeric");
}

/* Not what the server sends, but readable: leading/trailing zero digits,
 * negative zero, more digits than dscale shows. */
static void test_lenient_wire(void)
{
    DEC(NUMERIC, "0002 0001 0000 0000 0000 0001", "Decimal('1')");
    DEC(NUMERIC, "0002 0000 0000 0000 0001 0000", "Decimal('1')");
    DEC(NUMERIC, "0003 0001 0000 0001 0000 0000 0000", "Decimal('0.0')");
    DEC(NUMERIC, "0000 0000 4000 0002", "Decimal('0.00')");
    DEC(NUMERIC, "0002 0000 0000 0001 0001 1388", "Decimal('1.5')");
    DEC(NUMERIC, "0002 0000 0000 0000 0001 1388", "Decimal('1')");
    DEC(NUMERIC, "0001 0005 4000 0000 0000", "Decimal('0')");
    DEC(NUMERIC, "0001 ffff 4000 0000 1388", "Decimal('0')"); /* -0.5 cut to dscale 0 */
    DEC(NUMERIC, "0001 fffe 4000 0004 0001", "Decimal('0.0000')");
    DECT(NUMERIC, "-0.00", "Decimal('0.00')"); /* numeric_in reads it as zero */
}

/* Malformed wire and text: errors, never a crash or an over-read. */
static void test_malformed(void)
{
    DEC_ERR(NUMERIC, "", "0 bytes, header needs 8");
    DEC_ERR(NUMERIC, "0001 0000 00", "5 bytes, header needs 8");
    DEC_ERR(NUMERIC, "0001 0000 0000 0000", "8 bytes for 1 digits");       /* truncated */
    DEC_ERR(NUMERIC, "0001 0000 0000 0000 00", "9 bytes for 1 digits");
    DEC_ERR(NUMERIC, "0001 0000 0000 0000 0001 00", "11 bytes for 1 digits"); /* trailing */
    DEC_ERR(NUMERIC, "0000 0000 0000 0000 0000", "10 bytes for 0 digits");
    DEC_ERR(NUMERIC, "ffff 0000 0000 0000 0001", "for 65535 digits");     /* absurd count */
    DEC_ERR(NUMERIC, "0001 0000 8000 0000 0001", "invalid numeric sign 0x8000");
    DEC_ERR(NUMERIC, "0001 0000 1234 0000 0001", "invalid numeric sign 0x1234");
    DEC_ERR(NUMERIC, "0000 0000 e000 0000", "invalid numeric sign 0xe000");
    DEC_ERR(NUMERIC, "0001 0000 0000 0000 2710", "invalid numeric digit 10000");
    DEC_ERR(NUMERIC, "0002 0000 4000 0000 0001 ffff", "invalid numeric digit 65535");
    DEC_ERR(NUMERIC, "0000 0000 0000 4000", "invalid numeric dscale 16384");
    DEC_ERR(NUMERIC, "0000 0000 0000 ffff", "invalid numeric dscale 65535");
    DEC_ERR(NUMERIC, "0001 0000 c000 0000 0001", "special value with digits");
    DEC_ERR(NUMERIC, "0001 0000 d000 0000 0001", "special value with digits");

    /* numeric_out never writes exponents, '+', leading zeros or bare points */
    DECT_ERR(NUMERIC, "", "invalid numeric text");
    DECT_ERR(NUMERIC, "-", "invalid numeric text");
    DECT_ERR(NUMERIC, "1e5", "invalid numeric text \"1e5\"");
    DECT_ERR(NUMERIC, "+1", "invalid numeric text");
    DECT_ERR(NUMERIC, "01", "invalid numeric text");
    DECT_ERR(NUMERIC, "1.", "invalid numeric text");
    DECT_ERR(NUMERIC, ".5", "invalid numeric text");
    DECT_ERR(NUMERIC, "1.5 ", "invalid numeric text");
    DECT_ERR(NUMERIC, "nan", "invalid numeric text");
    DECT_ERR(NUMERIC, "--1", "invalid numeric text");
    th_dect_err_n(__FILE__, __LINE__, NUMERIC, "12\0003", 4, "invalid numeric text");
}

int main(void)
{
    th_init();
    test_tables();
    test_extremes();
    test_specials();
    test_other_kinds();
    test_lenient_wire();
    test_malformed();
    return th_finish();
}
