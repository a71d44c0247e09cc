/* reg* (oidsend), xid, cid (uint32), xid8 (uint64), tid (uint32 block +
 * uint16 offset), pg_lsn (uint64). */
#include "harness.h"

#ifndef TUPLE
#define TUPLE(...)                                                                       \
    VAL(PGD_V_TUPLE, .u.list = {(const pgd_value[]){__VA_ARGS__},                        \
                                sizeof((const pgd_value[]){__VA_ARGS__}) / sizeof(pgd_value)})
#endif

static void test_reg(void)
{
    static const uint32_t regs[] = {REGPROC,      REGPROCEDURE,  REGOPER,      REGOPERATOR,
                                    REGCLASS,     REGTYPE,       REGCONFIG,    REGDICTIONARY,
                                    REGNAMESPACE, REGROLE,       REGCOLLATION};
    size_t i;

    for (i = 0; i < sizeof regs / sizeof regs[0]; i++) {
        DEC(regs[i], "000004eb", "1259");
        DEC(regs[i], "00000000", "0");
        DEC(regs[i], "ffffffff", "4294967295");
        ENC(regs[i], V_INT(4294967295), "ffffffff");
        ENC(regs[i], V_INT(0), "00000000");
        DEC_ERR(regs[i], "000004", "3 bytes, expected 4");
        DEC_ERR(regs[i], "000004eb00", "5 bytes, expected 4");
        /* the text form is a name: no text decoder */
        DECT_ERR(regs[i], "pg_class", "no text decoder");
    }
    ENC(REGTYPE, V_INT(23), "00000017");
    RT(REGCLASS, "000004eb");
    ENC_ERR(REGCLASS, V_STR("pg_class"),
            "cannot encode a str value as regclass: pass the OID as an int (to look a name "
            "up, write $1::text::regclass)");
    ENC_ERR(REGPROC, V_INT(-1), "value -1 out of range for regproc");
    ENC_ERR(REGROLE, V_INT(4294967296), "value 4294967296 out of range for regrole");
    ENC_ERR(REGTYPE, V_DEC("99999999999999999999"), "out of range for regtype");
    ENC_ERR(REGTYPE, V_DEC("1.5"), "decimal 1.5 is not an integer, cannot encode as regtype");
    ENC_ERR(REGCLASS, V_FLOAT(1259.0), "cannot encode a float value as regclass");
    ENC_ERR(REGNAMESPACE, V_BOOL(1), "cannot encode a bool value as regnamespace");
    DEC(REGCLASS_ARR, "00000001 00000001 0000089d 00000002 00000001 00000004 000004eb ffffffff",
        "[1259, None]");
    ENC(REGTYPE_ARR, LIST(*V_INT(23), *V_INT(25)),
        "00000001 00000000 0000089e 00000002 00000001 00000004 00000017 00000004 00000019");
}

static void test_xid(void)
{
    DEC(XID, "ffffffff", "4294967295");
    DEC(XID, "00000003", "3");
    DEC(CID, "00000000", "0");
    DEC(CID, "80000000", "2147483648");
    DECT(XID, "4294967295", "4294967295");
    DECT(CID, "0", "0");
    ENC(XID, V_INT(0), "00000000");
    ENC(CID, V_INT(4294967295), "ffffffff");
    RT(XID, "deadbeef");
    ENC_ERR(XID, V_INT(-1), "value -1 out of range for xid");
    ENC_ERR(CID, V_INT(4294967296), "out of range for cid");
    ENC_ERR(XID, V_STR("1"), "cannot encode a str value as xid");
    DEC_ERR(XID, "", "0 bytes, expected 4");
    DEC_ERR(CID, "0000000000", "5 bytes, expected 4");
    DECT_ERR(XID, "-1", "invalid xid text \"-1\"");
    DECT_ERR(XID, "-0", "invalid xid text");
    DECT_ERR(XID, "4294967296", "invalid xid text");
    DECT_ERR(CID, "", "invalid cid text");
    DECT_ERR(CID, "1a", "invalid cid text");
    DEC(XID_ARR, "00000001 00000000 0000001c 00000001 00000001 00000004 00000007", "[7]");

    DEC(XID8, "0000000000000000", "0");
    DEC(XID8, "7fffffffffffffff", "9223372036854775807");
    /* beyond int64: the host's int from the decimal text */
    DEC(XID8, "8000000000000000", "builtins:int('9223372036854775808')");
    DEC(XID8, "ffffffffffffffff", "builtins:int('18446744073709551615')");
    DECT(XID8, "18446744073709551615", "builtins:int('18446744073709551615')");
    DECT(XID8, "42", "42");
    ENC(XID8, V_INT(INT64_MAX), "7fffffffffffffff");
    ENC(XID8, V_DEC("18446744073709551615"), "ffffffffffffffff");
    ENC(XID8, V_DEC("9223372036854775808"), "8000000000000000");
    RT(XID8, "ffffffffffffffff");
    RT(XID8, "0000000100000002");
    ENC_ERR(XID8, V_DEC("18446744073709551616"), "value 18446744073709551616 out of range for xid8");
    ENC_ERR(XID8, V_DEC("-9223372036854775809"), "out of range for xid8");
    ENC_ERR(XID8, V_INT(-1), "value -1 out of range for xid8");
    ENC_ERR(XID8, V_STR("5"), "cannot encode a str value as xid8");
    DEC_ERR(XID8, "00000000000000", "7 bytes, expected 8");
    DECT_ERR(XID8, "18446744073709551616", "invalid xid8 text");
    DECT_ERR(XID8, "-1", "invalid xid8 text");
    DEC(XID8_ARR,
        "00000001 00000001 000013cd 00000002 00000001 00000008 ffffffffffffffff ffffffff",
        "[builtins:int('18446744073709551615'), None]");
}

static void test_tid(void)
{
    DEC(TID, "00000001 0002", "(1, 2)");
    DEC(TID, "00000000 0000", "(0, 0)");
    DEC(TID, "ffffffff ffff", "(4294967295, 65535)");
    DECT(TID, "(1,2)", "(1, 2)");
    DECT(TID, "(4294967295,65535)", "(4294967295, 65535)");
    ENC(TID, TUPLE(*V_INT(1), *V_INT(2)), "00000001 0002");
    ENC(TID, LIST(*V_INT(4294967295), *V_INT(65535)), "ffffffff ffff");
    RT(TID, "00001234 0007");
    ENC_ERR(TID, TUPLE(*V_INT(1)), "a tid is a (block, offset) pair of ints, got a tuple of 1 items");
    ENC_ERR(TID, LIST(*V_INT(1), *V_INT(2), *V_INT(3)), "got a list of 3 items");
    ENC_ERR(TID, TUPLE(*V_INT(1), *V_STR("2")), "pair of ints");
    ENC_ERR(TID, TUPLE(*V_INT(-1), *V_INT(0)), "tid block -1 out of range 0..4294967295");
    ENC_ERR(TID, TUPLE(*V_INT(4294967296), *V_INT(0)), "tid block 4294967296 out of range");
    ENC_ERR(TID, TUPLE(*V_INT(0), *V_INT(65536)), "tid offset 65536 out of range 0..65535");
    ENC_ERR(TID, TUPLE(*V_INT(0), *V_INT(-1)), "tid offset -1 out of range");
    ENC_ERR(TID, V_INT(1), "cannot encode a int value as tid");
    ENC_ERR(TID, V_STR("(1,2)"), "cannot encode a str value as tid");
    DEC_ERR(TID, "00000001 00", "5 bytes, expected 6");
    DEC_ERR(TID, "00000001 000200", "7 bytes, expected 6");
    DECT_ERR(TID, "(1,2", "invalid tid text");
    DECT_ERR(TID, "1,2)", "invalid tid text");
    DECT_ERR(TID, "(1;2)", "invalid tid text");
    DECT_ERR(TID, "(-1,2)", "invalid tid text");
    DECT_ERR(TID, "(1,-0)", "invalid tid text");
    DECT_ERR(TID, "(1,65536)", "invalid tid text");
    DECT_ERR(TID, "(4294967296,1)", "invalid tid text");
    DECT_ERR(TID, "()", "invalid tid text");
    DECT_ERR(TID, "(,)", "invalid tid text");
    DECT_ERR(TID, "(1,2,3)", "invalid tid text");
    DECT_ERR(TID, "(1,2)x", "invalid tid text");
    /* tid is COMPOUND: in an array a tuple is one element */
    ENC(TID_ARR, LIST(*TUPLE(*V_INT(0), *V_INT(1)), *VAL(PGD_V_NULL)),
        "00000001 00000001 0000001b 00000002 00000001 00000006 00000000 0001 ffffffff");
    ENC(TID_ARR, LIST(*LIST(*TUPLE(*V_INT(0), *V_INT(1))), *LIST(*TUPLE(*V_INT(2), *V_INT(3)))),
        "00000002 00000000 0000001b 00000002 00000001 00000001 00000001"
        " 00000006 00000000 0001 00000006 00000002 0003");
    DEC(TID_ARR, "00000001 00000001 0000001b 00000002 00000001 00000006 00000000 0001 ffffffff",
        "[(0, 1), None]");
    DECT(TID_ARR, "{\"(0,1)\",NULL}", "[(0, 1), None]");
    RT(TID_ARR, "00000001 00000000 0000001b 00000001 00000001 00000006 00000005 0006");
}

static void test_lsn(void)
{
    DEC(PG_LSN, "00000016 b374d848", "'16/B374D848'");
    DEC(PG_LSN, "00000000 00000000", "'0/0'");
    DEC(PG_LSN, "ffffffff ffffffff", "'FFFFFFFF/FFFFFFFF'");
    DEC(PG_LSN, "00000001 0000000a", "'1/A'");
    DECT(PG_LSN, "16/B374D848", "'16/B374D848'");
    DECT(PG_LSN, "0/0", "'0/0'");
    ENC(PG_LSN, V_STR("16/B374D848"), "00000016 b374d848");
    ENC(PG_LSN, V_STR("16/b374d848"), "00000016 b374d848");
    ENC(PG_LSN, V_STR("0/0"), "00000000 00000000");
    ENC(PG_LSN, V_STR("ffffffff/FFFFFFFF"), "ffffffff ffffffff");
    ENC(PG_LSN, V_STR("00000016/00000001"), "00000016 00000001");
    ENC(PG_LSN, V_INT(1), "00000000 00000001");
    ENC(PG_LSN, V_INT(INT64_MAX), "7fffffff ffffffff");
    /* the upper half of the range comes as decimal text, an int beyond int64 */
    ENC(PG_LSN, V_DEC("9223372036854775808"), "80000000 00000000");
    ENC(PG_LSN, V_DEC("18446744073709551615"), "ffffffff ffffffff");
    ENC_ERR(PG_LSN, V_DEC("18446744073709551616"), "out of range for pg_lsn");
    ENC_ERR(PG_LSN, V_DEC("1.5"), "not an integer, cannot encode as pg_lsn");
    RT(PG_LSN, "00000016 b374d848");
    ENC_ERR(PG_LSN, V_STR("16B374D848"), "invalid pg_lsn text \"16B374D848\"");
    ENC_ERR(PG_LSN, V_STR("/1"), "invalid pg_lsn text");
    ENC_ERR(PG_LSN, V_STR("1/"), "invalid pg_lsn text");
    ENC_ERR(PG_LSN, V_STR("123456789/0"), "invalid pg_lsn text");
    ENC_ERR(PG_LSN, V_STR("0/123456789"), "invalid pg_lsn text");
    ENC_ERR(PG_LSN, V_STR("1/2/3"), "invalid pg_lsn text");
    ENC_ERR(PG_LSN, V_STR("1/g"), "invalid pg_lsn text");
    ENC_ERR(PG_LSN, V_STR(" 1/2"), "invalid pg_lsn text");
    ENC_ERR(PG_LSN, V_STR(""), "invalid pg_lsn text");
    ENC_ERR(PG_LSN, V_INT(-1), "value -1 out of range for pg_lsn");
    ENC_ERR(PG_LSN, V_FLOAT(1.0), "cannot encode a float value as pg_lsn");
    DEC_ERR(PG_LSN, "00000016b374d8", "7 bytes, expected 8");
    DEC_ERR(PG_LSN, "00000016b374d84800", "9 bytes, expected 8");
    DECT_ERR(PG_LSN, "16-B374D848", "invalid pg_lsn text");
    DEC(PG_LSN_ARR, "00000001 00000001 00000c94 00000002 00000001 00000008 00000016b374d848 ffffffff",
        "['16/B374D848', None]");
}

int main(void)
{
    th_init();
    test_reg();
    test_xid();
    test_tid();
    test_lsn();
    return th_finish();
}
