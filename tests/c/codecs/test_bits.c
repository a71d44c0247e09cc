/* bit, varbit: int32 bit count, then ceil(n/8) bytes, zero pad bits
 * (bit_send/varbit_send). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* A long bit string (the decoder's heap path) both ways. */
static void long_string(void)
{
    enum { N = 2001 };
    char bits[N + 1], err[512], want[N + 3], *hex, *wire, *r;
    pgd_value v = {.kind = PGD_V_STR};
    pgd_obj *o;
    size_t i, n;

    for (i = 0; i < N; i++)
        bits[i] = (char)('0' + (i % 3 == 0));
    bits[N] = '\0';
    v.u.s.p = bits;
    v.u.s.n = N;
    hex = th_encode_hex(VARBIT, &v, err, sizeof err);
    CHECK(hex != NULL);
    if (!hex)
        return;
    wire = th_unhex(hex, &n);
    CHECK(n == 4 + (N + 7) / 8);
    o = th_decode_obj(VARBIT, 1, wire, n, err, sizeof err);
    CHECK(o != NULL);
    snprintf(want, sizeof want, "'%s'", bits);
    r = o ? chost_repr(o) : NULL;
    CHECK(r && strcmp(r, want) == 0);
    free(r);
    chost_free(o);
    free(wire);
    free(hex);
}

int main(void)
{
    th_init();

    DEC(BIT, "00000003 a0", "'101'");
    DEC(BIT, "00000001 80", "'1'");
    DEC(VARBIT, "00000000", "''");
    DEC(VARBIT, "00000008 ff", "'11111111'");
    DEC(VARBIT, "00000009 ff80", "'111111111'");
    DEC(VARBIT, "0000000a aa80", "'1010101010'");
    DEC(VARBIT, "00000010 0001", "'0000000000000001'");
    DECT(BIT, "101", "'101'");
    DECT(VARBIT, "", "''");

    ENC(BIT, V_STR("101"), "00000003 a0");
    ENC(BIT, V_STR("0"), "00000001 00");
    ENC(VARBIT, V_STR(""), "00000000");
    ENC(VARBIT, V_STR("11111111"), "00000008 ff");
    ENC(VARBIT, V_STR("000000001"), "00000009 0080");
    RT(VARBIT, "0000000f fffe");
    RT(BIT, "00000011 123480");
    long_string();

    ENC_ERR(BIT, V_STR("10a1"), "character 2 is 'a', not 0 or 1");
    ENC_ERR(BIT, V_STR("B101"), "character 0 is 'B'");
    ENC_ERR(VARBIT, V_STR("1 0"), "character 1 is ' '");
    ENC_ERR(VARBIT, V_STRN(PGD_V_STR, "1\0", 2), "character 1 is '?'");
    ENC_ERR(BIT, V_INT(5), "cannot encode a int value as bit");
    ENC_ERR(VARBIT, V_BYTES("\x01"), "cannot encode a bytes value as varbit");
    ENC_ERR(VARBIT, VAL(PGD_V_BOOL, .u.b = 1), "cannot encode a bool value as varbit");

    DEC_ERR(BIT, "", "0 bytes, need at least 4");
    DEC_ERR(BIT, "000000", "3 bytes, need at least 4");
    DEC_ERR(BIT, "ffffffff", "length -1 bits");
    DEC_ERR(VARBIT, "80000000", "length -2147483648 bits");
    DEC_ERR(VARBIT, "7ffffff9", "length 2147483641 bits");
    DEC_ERR(VARBIT, "7ffffff8", "0 data bytes for 2147483640 bits, expected 268435455");
    DEC_ERR(BIT, "00000003", "0 data bytes for 3 bits, expected 1");
    DEC_ERR(BIT, "00000003 a000", "2 data bytes for 3 bits, expected 1");
    DEC_ERR(VARBIT, "00000000 00", "1 data bytes for 0 bits, expected 0");
    DEC_ERR(BIT, "00000003 a1", "pad bits after bit 3 are not zero");
    DEC_ERR(VARBIT, "0000000f 0001", "pad bits after bit 15 are not zero");
    DECT_ERR(BIT, "102", "byte 2 is not 0 or 1");

    DEC(VARBIT_ARR, "00000001 00000001 0000061a 00000002 00000001 00000005 00000003 a0 ffffffff",
        "['101', None]");
    ENC(BIT_ARR, LIST(*LIST(*V_STR("1")), *LIST(*V_STR("0"))),
        "00000002 00000000 00000618 00000002 00000001 00000001 00000001"
        " 00000005 00000001 80 00000005 00000001 00");
    DECT(VARBIT_ARR, "{101,NULL,\"\"}", "['101', None, '']");
    return th_finish();
}
