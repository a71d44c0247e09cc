/* inet, cidr (network_send: family, bits, is_cidr, nb, address), macaddr (6
 * bytes), macaddr8 (8 bytes). */
#include "harness.h"

#define IFACE(t) "ipaddress:ip_interface('" t "')"
#define NET(t) "ipaddress:ip_network('" t "')"

static void test_inet_cidr(void)
{
    /* binary decode: the server's text, /bits left out at the maximum */
    DEC(INET, "02080004 0a010203", IFACE("10.1.2.3/8"));
    DEC(INET, "02200004 c0a80001", IFACE("192.168.0.1"));
    DEC(INET, "02000004 00000000", IFACE("0.0.0.0/0"));
    DEC(INET, "02200004 ffffffff", IFACE("255.255.255.255"));
    DEC(INET, "03800010 00000000000000000000000000000001", IFACE("::1"));
    DEC(INET, "03800010 00000000000000000000000000000000", IFACE("::"));
    DEC(INET, "03400010 20010db8000000000000000000000001", IFACE("2001:db8::1/64"));
    DEC(INET, "03800010 00000000000000000000ffff01020304", IFACE("::ffff:1.2.3.4"));
    DEC(INET, "03800010 00000000000000000000000001020304", IFACE("::1.2.3.4"));
    DEC(INET, "03800010 00000000000000000000000000000002", IFACE("::2"));
    /* the first of two equally long zero runs is compressed; a single
     * zero group never is */
    DEC(INET, "03800010 00010000000000010000000000000001", IFACE("1:0:0:1::1"));
    DEC(INET, "03800010 00010000000200000003000000040000", IFACE("1:0:2:0:3:0:4:0"));
    DEC(INET, "03800010 00000000000100000000000000000000", IFACE("0:0:1::"));
    DEC(INET, "03800010 ffffffffffffffffffffffffffffffff",
        IFACE("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
    DEC(INET, "03000010 fe800000000000000000000000000001", IFACE("fe80::1/0"));
    DEC(CIDR, "02080104 0a000000", NET("10.0.0.0/8"));
    DEC(CIDR, "02200104 01020304", NET("1.2.3.4/32"));
    DEC(CIDR, "02000104 00000000", NET("0.0.0.0/0"));
    DEC(CIDR, "030a0110 fe800000000000000000000000000000", NET("fe80::/10"));
    DEC(CIDR, "03600110 00000000000000000000ffff00000000", NET("::ffff:0.0.0.0/96"));
    DEC(CIDR, "03800110 00000000000000000000000000000001", NET("::1/128"));

    /* text decode: parsed and printed the same way */
    DECT(INET, "10.1.2.3/8", IFACE("10.1.2.3/8"));
    DECT(INET, "::ffff:1.2.3.4", IFACE("::ffff:1.2.3.4"));
    DECT(CIDR, "::ffff:0.0.0.0/96", NET("::ffff:0.0.0.0/96"));
    DECT(CIDR, "1.2.3.4/32", NET("1.2.3.4/32"));

    /* encode from text (what ipaddress objects send) */
    ENC(INET, V_STR("10.1.2.3/8"), "02080004 0a010203");
    ENC(INET, V_STR("10.1.2.3"), "02200004 0a010203");
    ENC(INET, V_STR("1.2.3.4/0"), "02000004 01020304");
    ENC(INET, V_STR("::1"), "03800010 00000000000000000000000000000001");
    ENC(INET, V_STR("2001:DB8::1/64"), "03400010 20010db8000000000000000000000001");
    ENC(INET, V_STR("::ffff:1.2.3.4/120"), "03780010 00000000000000000000ffff01020304");
    ENC(CIDR, V_STR("10.0.0.0/8"), "02080104 0a000000");
    ENC(CIDR, V_STR("1.2.3.4"), "02200104 01020304");
    ENC(CIDR, V_STR("0.0.0.0/0"), "02000104 00000000");
    ENC(CIDR, V_STR("fe80::/10"), "030a0110 fe800000000000000000000000000000");
    ENC(CIDR, V_STR("::/0"), "03000110 00000000000000000000000000000000");
    RT(INET, "02180004 c0a80101");
    RT(INET, "03800010 20010db8000000000000000000000001");
    RT(CIDR, "03300110 20010db8000000000000000000000000");
    RT(CIDR, "02170104 c0a80000");

    /* encode refusals */
    ENC_ERR(INET, V_STR("garbage"), "invalid inet text \"garbage\"");
    ENC_ERR(INET, V_STR(""), "invalid inet text");
    ENC_ERR(INET, V_STR("1.2.3"), "invalid inet text");
    ENC_ERR(INET, V_STR("1.2.3.256"), "invalid inet text");
    ENC_ERR(INET, V_STR(" 1.2.3.4"), "invalid inet text");
    ENC_ERR(INET, V_STR("1.2.3.4 "), "invalid inet text");
    ENC_ERR(INET, V_STR("1.2.3.4/"), "invalid inet text");
    ENC_ERR(INET, V_STR("1.2.3.4/-1"), "invalid inet text");
    ENC_ERR(INET, V_STR("1.2.3.4/0008"), "invalid inet text");
    ENC_ERR(INET, V_STR("1.2.3.4/8/8"), "invalid inet text");
    ENC_ERR(INET, V_STR("/8"), "invalid inet text");
    ENC_ERR(INET, V_STR("1.2.3.4/33"), "/33 is more than the 32 bits of an IPv4 address");
    ENC_ERR(INET, V_STR("::1/129"), "/129 is more than the 128 bits of an IPv6 address");
    ENC_ERR(INET, V_STR("fe80::1%eth0"), "invalid inet text");
    ENC_ERR(INET, V_STR("1:2:3:4:5:6:7:8:9"), "invalid inet text");
    ENC_ERR(INET, V_STRN(PGD_V_STR, "1.2.3.4\0", 8), "invalid inet text");
    ENC_ERR(CIDR, V_STR("10/8"), "invalid cidr text");
    ENC_ERR(CIDR, V_STR("10.1.2.3/8"), "bits are set to the right of the /8 mask");
    ENC_ERR(CIDR, V_STR("0.0.0.1/0"), "bits are set to the right of the /0 mask");
    ENC_ERR(CIDR, V_STR("2001:db8::1/64"), "bits are set to the right of the /64 mask");
    ENC_ERR(INET, V_INT(1), "cannot encode a int value as inet");
    ENC_ERR(CIDR, V_BYTES("\x0a\0\0\0"), "cannot encode a bytes value as cidr");

    /* malformed wire */
    DEC_ERR(INET, "", "0 bytes, need at least 4");
    DEC_ERR(INET, "020800", "3 bytes, need at least 4");
    DEC_ERR(INET, "01080004 0a010203", "address family 1");
    DEC_ERR(INET, "0a800010 00000000000000000000000000000001", "address family 10");
    DEC_ERR(INET, "00000000", "address family 0");
    DEC_ERR(INET, "02210004 0a010203", "33 bits");
    DEC_ERR(INET, "03810010 00000000000000000000000000000001", "129 bits");
    DEC_ERR(INET, "02ff0004 0a010203", "255 bits");
    DEC_ERR(INET, "02080104 0a000000", "is_cidr flag 1, expected 0");
    DEC_ERR(INET, "02080204 0a000000", "is_cidr flag 2, expected 0");
    DEC_ERR(CIDR, "02080004 0a000000", "is_cidr flag 0, expected 1");
    DEC_ERR(INET, "02080010 0a010203", "16 address bytes, the family has 4");
    DEC_ERR(INET, "03800004 00000001", "4 address bytes, the family has 16");
    DEC_ERR(INET, "02080000", "0 address bytes");
    DEC_ERR(INET, "02080004", "4 bytes, expected 8");
    DEC_ERR(INET, "02080004 0a0102", "7 bytes, expected 8");
    DEC_ERR(INET, "02080004 0a01020300", "9 bytes, expected 8");
    DEC_ERR(INET, "03800010 000000000000000000000000000000", "19 bytes, expected 20");
    DEC_ERR(CIDR, "02080104 0a010000", "bits are set to the right of the /8 mask");
    DEC_ERR(CIDR, "02000104 00000001", "bits are set to the right of the /0 mask");
    DEC_ERR(CIDR, "021f0104 00000001", "bits are set to the right of the /31 mask");
    DEC_ERR(CIDR, "03400110 00000000000000008000000000000000", "right of the /64 mask");
    DECT_ERR(INET, "x", "invalid inet text");
    DECT_ERR(CIDR, "10.0.0.1/8", "bits are set to the right");

    /* arrays through the generic handler */
    DEC(INET_ARR,
        "00000001 00000001 00000365 00000002 00000001"
        " 00000008 02200004 0a000001 ffffffff",
        "[" IFACE("10.0.0.1") ", None]");
    ENC(INET_ARR, LIST(*V_STR("10.0.0.1"), *VAL(PGD_V_NULL)),
        "00000001 00000001 00000365 00000002 00000001"
        " 00000008 02200004 0a000001 ffffffff");
    ENC(CIDR_ARR, LIST(*LIST(*V_STR("10.0.0.0/8")), *LIST(*V_STR("::/0"))),
        "00000002 00000000 0000028a 00000002 00000001 00000001 00000001"
        " 00000008 02080104 0a000000 00000014 03000110 00000000000000000000000000000000");
    RT(CIDR_ARR, "00000001 00000000 0000028a 00000001 00000001 00000008 02080104 0a000000");
    DECT(INET_ARR, "{10.0.0.1,NULL,::1/64}",
         "[" IFACE("10.0.0.1") ", None, " IFACE("::1/64") "]");
    ENC_ERR(INET_ARR, LIST(*V_STR("10.0.0.1"), *V_STR("nope")), "invalid inet text \"nope\"");
}

static void test_macaddr(void)
{
    DEC(MACADDR, "08002b010203", "'08:00:2b:01:02:03'");
    DEC(MACADDR, "000000000000", "'00:00:00:00:00:00'");
    DEC(MACADDR, "ffffffffffff", "'ff:ff:ff:ff:ff:ff'");
    DEC(MACADDR8, "08002b0102030405", "'08:00:2b:01:02:03:04:05'");
    DEC(MACADDR8, "08002bfffe010203", "'08:00:2b:ff:fe:01:02:03'");
    DECT(MACADDR, "08:00:2b:01:02:03", "'08:00:2b:01:02:03'");
    DECT(MACADDR8, "08:00:2b:01:02:03:04:05", "'08:00:2b:01:02:03:04:05'");

    /* every form macaddr_in accepts */
    ENC(MACADDR, V_STR("08:00:2b:01:02:03"), "08002b010203");
    ENC(MACADDR, V_STR("08-00-2b-01-02-03"), "08002b010203");
    ENC(MACADDR, V_STR("08002b:010203"), "08002b010203");
    ENC(MACADDR, V_STR("08002b-010203"), "08002b010203");
    ENC(MACADDR, V_STR("0800.2b01.0203"), "08002b010203");
    ENC(MACADDR, V_STR("0800-2b01-0203"), "08002b010203");
    ENC(MACADDR, V_STR("08002b010203"), "08002b010203");
    ENC(MACADDR, V_STR("08:00:2B:01:02:0A"), "08002b01020a");
    RT(MACADDR, "a1b2c3d4e5f6");

    ENC_ERR(MACADDR, V_STR("08:00:2b:01:02"), "invalid macaddr text \"08:00:2b:01:02\"");
    ENC_ERR(MACADDR, V_STR("08:00:2b:01:02:03:04"), "invalid macaddr text");
    ENC_ERR(MACADDR, V_STR("08:00-2b:01:02:03"), "invalid macaddr text");
    ENC_ERR(MACADDR, V_STR("08.00.2b.01.02.03"), "invalid macaddr text");
    ENC_ERR(MACADDR, V_STR("08002b.010203"), "invalid macaddr text");
    ENC_ERR(MACADDR, V_STR("0800:2b01:0203"), "invalid macaddr text");
    ENC_ERR(MACADDR, V_STR("080:02b:010:203"), "invalid macaddr text");
    ENC_ERR(MACADDR, V_STR("08:00:2b:01:02:0g"), "invalid macaddr text");
    ENC_ERR(MACADDR, V_STR("08:00:2b:01:02:03 "), "invalid macaddr text");
    ENC_ERR(MACADDR, V_STR(":08:00:2b:01:02:03"), "invalid macaddr text");
    ENC_ERR(MACADDR, V_STR("08:00:2b:01:02:03:"), "invalid macaddr text");
    ENC_ERR(MACADDR, V_STR("08::00:2b:01:02:03"), "invalid macaddr text");
    ENC_ERR(MACADDR, V_STR(""), "invalid macaddr text");
    ENC_ERR(MACADDR, V_BYTES("\x08\x00\x2b\x01\x02\x03"), "cannot encode a bytes value as macaddr");

    ENC(MACADDR8, V_STR("08:00:2b:01:02:03:04:05"), "08002b0102030405");
    ENC(MACADDR8, V_STR("08-00-2b-01-02-03-04-05"), "08002b0102030405");
    ENC(MACADDR8, V_STR("0800.2b01.0203.0405"), "08002b0102030405");
    ENC(MACADDR8, V_STR("08002b0102030405"), "08002b0102030405");
    ENC(MACADDR8, V_STR("08002B01:02030405"), "08002b0102030405");
    /* 6 bytes: ff:fe in the middle, as macaddr8_in does */
    ENC(MACADDR8, V_STR("08:00:2b:01:02:03"), "08002bfffe010203");
    ENC(MACADDR8, V_STR("08002b010203"), "08002bfffe010203");
    RT(MACADDR8, "0123456789abcdef");
    ENC_ERR(MACADDR8, V_STR("08:00:2b:01:02:03:04"), "invalid macaddr8 text");
    ENC_ERR(MACADDR8, V_STR("08:00:2b:01:02:03:04:05:06"), "invalid macaddr8 text");
    ENC_ERR(MACADDR8, V_STR("08:00-2b:01:02:03:04:05"), "invalid macaddr8 text");
    ENC_ERR(MACADDR8, V_STR("08:00:2b:01:02:03:04:05:"), "invalid macaddr8 text");
    ENC_ERR(MACADDR8, V_STR(":08:00:2b:01:02:03:04:05"), "invalid macaddr8 text");
    ENC_ERR(MACADDR8, V_STR("08:0:2b:01:02:03:04:05"), "invalid macaddr8 text");
    ENC_ERR(MACADDR8, V_STR("08::00:2b:01:02:03:04"), "invalid macaddr8 text");
    ENC_ERR(MACADDR8, V_STR("08002b01020304x5"), "invalid macaddr8 text");
    ENC_ERR(MACADDR8, V_INT(0), "cannot encode a int value as macaddr8");

    DEC_ERR(MACADDR, "", "0 bytes, expected 6");
    DEC_ERR(MACADDR, "08002b0102", "5 bytes, expected 6");
    DEC_ERR(MACADDR, "08002b01020304", "7 bytes, expected 6");
    DEC_ERR(MACADDR8, "08002b010203", "6 bytes, expected 8");
    DEC_ERR(MACADDR8, "08002b010203040506", "9 bytes, expected 8");
    DECT_ERR(MACADDR, "08:00:2b", "invalid macaddr text");
    DECT_ERR(MACADDR8, "08:00:2b", "invalid macaddr8 text");

    DEC(MACADDR_ARR, "00000001 00000001 0000033d 00000002 00000001 00000006 08002b010203 ffffffff",
        "['08:00:2b:01:02:03', None]");
    ENC(MACADDR8_ARR, LIST(*V_STR("08:00:2b:01:02:03")),
        "00000001 00000000 00000306 00000001 00000001 00000008 08002bfffe010203");
}

int main(void)
{
    th_init();
    test_inet_cidr();
    test_macaddr();
    return th_finish();
}
