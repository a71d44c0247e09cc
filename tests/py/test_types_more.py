"""Round trips for the net, money, bits, sysid and textlike codec families.

The same method as test_types.py: each value goes out as $1 and its
expected canonical text as $2, and

    SELECT $1::T, $1::T::text, $2::text::T, $2::text::T::text

checks the encoder against the server's parser, the decoder against the
server's output and the expected text against the server's own canonical
form.  Sessions run with helpers.FIXED_SESSION plus lc_monetary=C (money's
text form and its two fraction digits depend on it).
"""

from __future__ import annotations

import gc
import ipaddress
import tracemalloc
from decimal import Decimal
from typing import Any

import pytest

from helpers import FIXED_SESSION, dsn_with_settings, open_pool, settle
from psqlpy import PSQLPool
from psqlpy import exceptions as exc
from psqlpy.extra_types import Array, Bit, Cidr, Inet, MacAddr, MacAddr8, Money, VarBit
from test_types import case, roundtrip, same

SESSION = {**FIXED_SESSION, "lc_monetary": "C"}

iface = ipaddress.ip_interface
net = ipaddress.ip_network


@pytest.fixture
async def tpool(dsn):
    async with open_pool(dsn_with_settings(dsn, SESSION), max_db_pool_size=1) as p:
        yield p


U64 = 2 ** 64 - 1

SCALARS = [
    # inet: ipaddress interfaces and addresses, or their text (inet::text
    # always shows the mask; the output function leaves out a full one)
    case("inet", iface("10.1.2.3/8"), "10.1.2.3/8"),
    case("inet", iface("192.168.0.1/32"), "192.168.0.1/32"),
    case("inet", ipaddress.ip_address("192.168.0.1"), "192.168.0.1/32", iface("192.168.0.1")),
    case("inet", "172.16.5.4/12", "172.16.5.4/12", iface("172.16.5.4/12")),
    case("inet", iface("0.0.0.0/0"), "0.0.0.0/0"),
    case("inet", iface("255.255.255.255"), "255.255.255.255/32"),
    case("inet", iface("::1"), "::1/128"),
    case("inet", iface("::"), "::/128"),
    case("inet", iface("2001:db8::1/64"), "2001:db8::1/64"),
    case("inet", iface("::ffff:1.2.3.4"), "::ffff:1.2.3.4/128"),
    case("inet", iface("1:0:0:1::1"), "1:0:0:1::1/128"),
    case("inet", iface("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/0"),
         "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/0"),
    # cidr: networks (an address is a /32 or /128 network)
    case("cidr", net("10.0.0.0/8"), "10.0.0.0/8"),
    case("cidr", net("1.2.3.4/32"), "1.2.3.4/32"),
    case("cidr", ipaddress.ip_address("1.2.3.4"), "1.2.3.4/32", net("1.2.3.4/32")),
    case("cidr", "192.168.0.0/16", "192.168.0.0/16", net("192.168.0.0/16")),
    case("cidr", net("0.0.0.0/0"), "0.0.0.0/0"),
    case("cidr", net("fe80::/10"), "fe80::/10"),
    case("cidr", net("::/0"), "::/0"),
    case("cidr", net("::ffff:0:0/96"), "::ffff:0.0.0.0/96"),
    case("cidr", net("2001:db8::1/128"), "2001:db8::1/128"),
    # macaddr, macaddr8: strings in the server's form
    case("macaddr", "08:00:2b:01:02:03", "08:00:2b:01:02:03"),
    case("macaddr", "08-00-2B-01-02-03", "08:00:2b:01:02:03", "08:00:2b:01:02:03"),
    case("macaddr", "0800.2b01.0203", "08:00:2b:01:02:03", "08:00:2b:01:02:03"),
    case("macaddr", "08002b:010203", "08:00:2b:01:02:03", "08:00:2b:01:02:03"),
    case("macaddr", "08002b010203", "08:00:2b:01:02:03", "08:00:2b:01:02:03"),
    case("macaddr", "00:00:00:00:00:00", "00:00:00:00:00:00"),
    case("macaddr", "ff:ff:ff:ff:ff:ff", "ff:ff:ff:ff:ff:ff"),
    case("macaddr8", "08:00:2b:01:02:03:04:05", "08:00:2b:01:02:03:04:05"),
    case("macaddr8", "0800.2b01.0203.0405", "08:00:2b:01:02:03:04:05",
         "08:00:2b:01:02:03:04:05"),
    case("macaddr8", "08:00:2b:01:02:03", "08:00:2b:ff:fe:01:02:03",
         "08:00:2b:ff:fe:01:02:03"),
    # money: Decimal with two fraction digits
    case("money", Decimal("1.23"), "$1.23"),
    case("money", 5, "$5.00", Decimal("5.00")),
    case("money", -1, "-$1.00", Decimal("-1.00")),
    case("money", Decimal("0"), "$0.00", Decimal("0.00")),
    case("money", Decimal("-0.01"), "-$0.01"),
    case("money", Decimal("1.500"), "$1.50", Decimal("1.50")),
    case("money", Decimal("1E+2"), "$100.00", Decimal("100.00")),
    case("money", "1234567.89", "$1,234,567.89", Decimal("1234567.89")),
    case("money", Decimal("92233720368547758.07"), "$92,233,720,368,547,758.07"),
    case("money", Decimal("-92233720368547758.08"), "-$92,233,720,368,547,758.08"),
    case("money", 92233720368547758, "$92,233,720,368,547,758.00",
         Decimal("92233720368547758.00")),
    # bit, varbit: strings of 0 and 1
    case("bit(3)", "101", "101"),
    case("bit(1)", "0", "0"),
    case("bit(9)", "100000001", "100000001"),
    case("varbit", "", ""),
    case("varbit", "0101", "0101"),
    case("varbit", "1" * 8, "1" * 8),
    case("varbit", "10" * 600, "10" * 600),
    # sysid
    case("regclass", 1259, "pg_class"),
    case("regtype", 23, "integer"),
    case("regproc", 1299, "now"),
    case("regprocedure", 1299, "now()"),
    case("regnamespace", 11, "pg_catalog"),
    case("regconfig", 3748, "simple"),
    case("regdictionary", 3765, "simple"),
    case("regcollation", 950, '"C"'),
    case("xid", 0, "0"),
    case("xid", 4294967295, "4294967295"),
    case("cid", 4294967295, "4294967295"),
    case("xid8", 0, "0"),
    case("xid8", 2 ** 63 - 1, str(2 ** 63 - 1)),
    case("xid8", 2 ** 63, str(2 ** 63)),
    case("xid8", U64, str(U64)),
    case("tid", (0, 1), "(0,1)"),
    case("tid", (4294967295, 65535), "(4294967295,65535)"),
    case("tid", [7, 8], "(7,8)", (7, 8)),
    case("pg_lsn", "16/B374D848", "16/B374D848"),
    case("pg_lsn", "16/b374d848", "16/B374D848", "16/B374D848"),
    case("pg_lsn", "0/0", "0/0"),
    case("pg_lsn", "FFFFFFFF/FFFFFFFF", "FFFFFFFF/FFFFFFFF"),
    case("pg_lsn", 1, "0/1", "0/1"),
    case("pg_lsn", 2 ** 63, "80000000/0", "80000000/0"),   # an int beyond int64
    case("pg_lsn", U64, "FFFFFFFF/FFFFFFFF", "FFFFFFFF/FFFFFFFF"),
    # textlike
    case("xml", "<a b=\"1\">x &amp; y</a>", "<a b=\"1\">x &amp; y</a>"),
    case("xml", "<r>é€😀</r>", "<r>é€😀</r>"),
    case("xml", "text only", "text only"),
    case("jsonpath", '$."a"', '$."a"'),
    case("jsonpath", "$.a[*] ? (@ > 1)", '$."a"[*]?(@ > 1)', '$."a"[*]?(@ > 1)'),
    case("jsonpath", 'strict $."é".type()', 'strict $."é".type()'),
    case("tsvector", "a b b", "'a' 'b'", "'a' 'b'"),
    case("tsvector", "fat:2,4 cat:3A", "'cat':3A 'fat':2,4", "'cat':3A 'fat':2,4"),
    case("tsquery", "a & !b", "'a' & !'b'", "'a' & !'b'"),
]


@pytest.mark.parametrize("pgtype, value, text, decoded", SCALARS)
async def test_scalar_roundtrip(tpool, pgtype, value, text, decoded):
    await roundtrip(tpool, pgtype, value, text, decoded)


ARRAYS = [
    case("inet[]", [[iface("10.0.0.1"), None], [iface("::1/64"), iface("10.0.0.0/8")]],
         "{{10.0.0.1,NULL},{::1/64,10.0.0.0/8}}"),
    case("inet[]", [], "{}"),
    case("cidr[]", [net("10.0.0.0/8"), None, net("::/0")], "{10.0.0.0/8,NULL,::/0}"),
    case("macaddr[]", ["08:00:2b:01:02:03", None], "{08:00:2b:01:02:03,NULL}"),
    case("macaddr8[]", [["08:00:2b:01:02:03:04:05"], [None]],
         "{{08:00:2b:01:02:03:04:05},{NULL}}"),
    case("money[]", [Decimal("1.23"), None, Decimal("-1000.00")],
         '{$1.23,NULL,"-$1,000.00"}'),
    case("bit(2)[]", [["10", "01"], [None, "11"]], "{{10,01},{NULL,11}}"),
    case("varbit[]", ["1", "", None], '{1,"",NULL}'),
    case("regclass[]", [1259, None], "{pg_class,NULL}"),
    case("xid[]", [1, None, 4294967295], "{1,NULL,4294967295}"),
    case("cid[]", [[0], [None]], "{{0},{NULL}}"),
    case("xid8[]", [[U64], [None]], "{{18446744073709551615},{NULL}}"),
    case("tid[]", [(0, 1), None, (5, 6)], '{"(0,1)",NULL,"(5,6)"}'),
    case("tid[]", [[(0, 1)], [(2, 3)]], '{{"(0,1)"},{"(2,3)"}}'),
    case("pg_lsn[]", ["16/B374D848", None], "{16/B374D848,NULL}"),
    case("xml[]", ["<a/>", None], "{<a/>,NULL}"),
    case("jsonpath[]", ['$."a"', None], '{"$.\\"a\\"",NULL}'),
    # text-only element type: the array goes as text, comes back as strs
    case("tsvector[]", "{\"'a' 'b'\",NULL}", "{\"'a' 'b'\",NULL}", ["'a' 'b'", None]),
    case("tsquery[]", "{{a},{NULL}}", "{{'a'},{NULL}}", [["'a'"], [None]]),
]


@pytest.mark.parametrize("pgtype, value, text, decoded", ARRAYS)
async def test_array_roundtrip(tpool, pgtype, value, text, decoded):
    await roundtrip(tpool, pgtype, value, text, decoded)


ALL_TYPES = ["inet", "cidr", "macaddr", "macaddr8", "money", "bit", "varbit", "regproc",
             "regprocedure", "regoper", "regoperator", "regclass", "regtype", "regconfig",
             "regdictionary", "regnamespace", "regrole", "regcollation", "xid", "xid8", "cid",
             "tid", "pg_lsn", "xml", "jsonpath", "tsvector", "tsquery", "inet[]", "money[]",
             "tid[]", "tsvector[]"]


@pytest.mark.parametrize("pgtype", ALL_TYPES)
async def test_null_both_ways(tpool, pgtype):
    res = await tpool.execute(
        f"SELECT NULL::{pgtype} AS v, $1::{pgtype} AS p, $1::{pgtype} IS NULL AS isnull",
        [None])
    assert res.result() == [{"v": None, "p": None, "isnull": True}]


REG_OBJECTS = [
    ("regproc", "'now'"), ("regprocedure", "'now()'"), ("regoper", "'||/'"),
    ("regoperator", "'+(int4,int4)'"), ("regclass", "'pg_class'"), ("regtype", "'int4'"),
    ("regconfig", "'simple'"), ("regdictionary", "'simple'"),
    ("regnamespace", "'pg_catalog'"), ("regrole", "current_user"),
    ("regcollation", "'\"C\"'"),
]


@pytest.mark.parametrize("pgtype, expr", REG_OBJECTS, ids=[r[0] for r in REG_OBJECTS])
async def test_reg_types_are_oids_both_ways(tpool, pgtype, expr):
    res = await tpool.execute(f"SELECT ({expr})::text::{pgtype} AS v, "
                              f"({expr})::text::{pgtype}::oid::int8 AS o")
    row = res.result()[0]
    assert type(row["v"]) is int and row["v"] == row["o"]
    res = await tpool.execute(f"SELECT $1::{pgtype} = ({expr})::text::{pgtype} AS same",
                              [row["v"]])
    assert res.result() == [{"same": True}]


async def test_a_real_ctid_and_xid(tpool):
    res = await tpool.execute(
        "SELECT ctid AS t, ctid::text AS tt, xmin AS x, xmin::text AS xt "
        "FROM pg_class WHERE oid = 'pg_class'::regclass")
    row = res.result()[0]
    assert type(row["t"]) is tuple and f"({row['t'][0]},{row['t'][1]})" == row["tt"]
    assert type(row["x"]) is int and str(row["x"]) == row["xt"]
    res = await tpool.execute("SELECT count(*) AS n FROM pg_class WHERE ctid = $1", [row["t"]])
    assert res.result() == [{"n": 1}]


async def test_text_only_column_brings_the_row_in_text_yet_same_values(tpool):
    """A tsvector column makes the statement's results come in text format;
    every other column still decodes to its Python type (except a reg*
    type, whose text is a name, also as an array element)."""
    sql = ("SELECT 'a b'::tsvector AS ts, '10.1.2.3/8'::inet AS i, '10.0.0.0/8'::cidr AS c, "
           "'08-00-2b-01-02-03'::macaddr AS m, '08:00:2b:01:02:03:04:05'::macaddr8 AS m8, "
           "'-1234.5'::money AS mo, B'101' AS b, '(3,4)'::tid AS t, "
           "'18446744073709551615'::xid8 AS x8, '7'::xid AS x, '16/B374D848'::pg_lsn AS l, "
           "'<a/>'::xml AS xm, '$.a'::jsonpath AS jp, ARRAY['10.0.0.1'::inet, NULL] AS ia, "
           "'pg_class'::regclass AS rc, ARRAY['pg_class'::regclass, NULL] AS ra")
    want = {"ts": "'a' 'b'", "i": iface("10.1.2.3/8"), "c": net("10.0.0.0/8"),
            "m": "08:00:2b:01:02:03", "m8": "08:00:2b:01:02:03:04:05",
            "mo": Decimal("-1234.50"), "b": "101", "t": (3, 4), "x8": U64, "x": 7,
            "l": "16/B374D848", "xm": "<a/>", "jp": '$."a"', "ia": [iface("10.0.0.1"), None],
            "rc": "pg_class", "ra": ["pg_class", None]}
    row = (await tpool.execute(sql)).result()[0]
    assert all(same(row[k], v) for k, v in want.items()), row
    # the same columns without the text-only one come in binary, to the same values
    binary = (await tpool.execute(sql.replace("'a b'::tsvector AS ts, ", ""))).result()[0]
    assert all(same(binary[k], v) for k, v in want.items() if k not in ("ts", "rc", "ra")), binary
    assert binary["rc"] == 1259 and binary["ra"] == [1259, None]


@pytest.mark.parametrize("wrapped, pg_type, back, text", [
    (Inet("10.1.2.3/8"), "inet", iface("10.1.2.3/8"), "10.1.2.3/8"),
    (Inet(ipaddress.ip_address("::1")), "inet", iface("::1"), "::1/128"),
    (Inet(iface("192.168.1.5/24")), "inet", iface("192.168.1.5/24"), "192.168.1.5/24"),
    (Cidr("10.0.0.0/8"), "cidr", net("10.0.0.0/8"), "10.0.0.0/8"),
    (Cidr(net("2001:db8::/32")), "cidr", net("2001:db8::/32"), "2001:db8::/32"),
    (MacAddr("08-00-2b-01-02-03"), "macaddr", "08:00:2b:01:02:03", "08:00:2b:01:02:03"),
    (MacAddr8("08:00:2b:01:02:03"), "macaddr8", "08:00:2b:ff:fe:01:02:03",
     "08:00:2b:ff:fe:01:02:03"),
    (MacAddr8("08:00:2b:01:02:03:04:05"), "macaddr8", "08:00:2b:01:02:03:04:05",
     "08:00:2b:01:02:03:04:05"),
    (Money(Decimal("1.23")), "money", Decimal("1.23"), "$1.23"),
    (Money(5), "money", Decimal("5.00"), "$5.00"),
    (Money("-0.01"), "money", Decimal("-0.01"), "-$0.01"),
    (Bit("101"), "bit", "101", "101"),
    (VarBit("0101"), "bit varying", "0101", "0101"),
    (VarBit(""), "bit varying", "", ""),
    (Array([iface("10.0.0.1"), None], "inet"), "inet[]", [iface("10.0.0.1"), None],
     "{10.0.0.1,NULL}"),
    (Array([net("10.0.0.0/8")], "cidr"), "cidr[]", [net("10.0.0.0/8")], "{10.0.0.0/8}"),
    (Array(["08:00:2b:01:02:03"], "macaddr"), "macaddr[]", ["08:00:2b:01:02:03"],
     "{08:00:2b:01:02:03}"),
    (Array([Decimal("1.00"), None], "money"), "money[]", [Decimal("1.00"), None],
     "{$1.00,NULL}"),
    (Array(["1", "0"], "bit"), "bit[]", ["1", "0"], "{1,0}"),
    (Array([["10"], ["01"]], "varbit"), "bit varying[]", [["10"], ["01"]], "{{10},{01}}"),
    (Array(["<a/>"], "xml"), "xml[]", ["<a/>"], "{<a/>}"),
], ids=repr)
async def test_extra_type_pins_type(tpool, wrapped, pg_type, back, text):
    res = await tpool.execute("SELECT pg_typeof($1)::text AS t, $1 AS v, $1::text AS s",
                              [wrapped])
    row = res.result()[0]
    assert row["t"] == pg_type and row["s"] == text
    assert same(row["v"], back), row["v"]


@pytest.mark.parametrize("sql, params, message", [
    ("SELECT $1::inet", ["nope"], "invalid inet text"),
    ("SELECT $1::inet", ["1.2.3.4/33"], "/33 is more than the 32 bits"),
    ("SELECT $1::inet", ["fe80::1%eth0"], "invalid inet text"),
    ("SELECT $1::inet", [1], "cannot encode a int value as inet"),
    ("SELECT $1::cidr", ["10.1.2.3/8"], "bits are set to the right of the /8 mask"),
    ("SELECT $1::cidr", [iface("10.1.2.3/8")], "bits are set to the right"),
    ("SELECT $1::macaddr", ["08:00:2b:01:02"], "invalid macaddr text"),
    ("SELECT $1::macaddr8", ["08:00:2b:01:02:03:04"], "invalid macaddr8 text"),
    ("SELECT $1::money", [Decimal("1.005")], "more than 2 fraction digits"),
    ("SELECT $1::money", [Decimal("NaN")], "no NaN or infinity"),
    ("SELECT $1::money", [Decimal("92233720368547758.08")], "out of range"),
    ("SELECT $1::money", [10 ** 30], "out of range"),
    ("SELECT $1::money", [1.5], "cannot encode a float value as money"),
    ("SELECT $1::money", ["$1.00"], "invalid money text"),
    ("SELECT $1::varbit", ["10a"], "not 0 or 1"),
    ("SELECT $1::bit(3)", [5], "cannot encode a int value as bit"),
    ("SELECT $1::regclass", ["pg_class"], "$1::text::regclass"),
    ("SELECT $1::regtype", [-1], "out of range for regtype"),
    ("SELECT $1::xid", [2 ** 32], "out of range for xid"),
    ("SELECT $1::xid8", [2 ** 64], "out of range for xid8"),
    ("SELECT $1::xid8", [-1], "out of range for xid8"),
    ("SELECT $1::tid", [(1,)], "a tid is a (block, offset) pair of ints"),
    ("SELECT $1::tid", [(1, 65536)], "tid offset 65536 out of range"),
    ("SELECT $1::tid", ["(1,2)"], "cannot encode a str value as tid"),
    ("SELECT $1::pg_lsn", ["16B374D848"], "invalid pg_lsn text"),
    ("SELECT $1::pg_lsn", [-1], "out of range for pg_lsn"),
    ("SELECT $1::jsonpath", [5], "cannot encode a int value as jsonpath"),
    ("SELECT $1::xml", [b"<a/>"], "cannot encode a bytes value as xml"),
    ("SELECT $1::tsvector[]", [["a"]], "only a string can be sent"),
], ids=lambda v: v if isinstance(v, str) and v.startswith("SELECT") else None)
async def test_refused_parameters(tpool, sql, params, message):
    with pytest.raises(exc.ParameterError) as info:
        await tpool.execute(sql, params)
    assert message in str(info.value)
    assert "$1" in str(info.value)
    res = await tpool.execute("SELECT 1 AS one")
    assert res.result() == [{"one": 1}]


async def test_server_still_judges_what_it_parses(tpool):
    """The server's own checks stay: a malformed document or path, an
    address the server cannot take."""
    for sql, params in [("SELECT $1::xml", ["<a>"]), ("SELECT $1::jsonpath", ["$.["]),
                        ("SELECT $1::tsquery", ["a &"])]:
        with pytest.raises(exc.RustPSQLDriverPyBaseError):
            await tpool.execute(sql, params)


async def test_constructed_values_do_not_leak(tpool):
    """Values built through the host's constructors (ipaddress objects, an
    int beyond int64, tid tuples), in binary and in text results, and the
    refused parameters, leave no Python memory behind."""
    async def rounds(n: int) -> None:
        for k in range(n):
            for ts in ("", "'a'::tsvector AS ts, "):
                res = await tpool.execute(
                    f"SELECT {ts}$1::inet AS i, $2::cidr AS c, $3::xid8 AS x, $4::tid AS t, "
                    "$5::inet[] AS ia, $6::money AS m",
                    [iface(f"10.0.{k % 250}.1/24"), net("10.0.0.0/8"), U64 - k, (k, 1),
                     [iface("::1"), None], Decimal("1.25")])
                row = res.result()[0]
                assert row["x"] == U64 - k and row["t"] == (k, 1)
            with pytest.raises(exc.ParameterError):
                await tpool.execute("SELECT $1::inet AS i", ["nope"])

    await rounds(20)
    tracemalloc.start()
    try:
        await rounds(20)
        await settle()
        gc.collect()
        first = tracemalloc.get_traced_memory()[0]
        await rounds(150)
        await settle()
        gc.collect()
        second = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    # 150 rounds are 450 statements: allow well under 100 bytes each
    assert second - first < 40 * 1024, f"traced memory grew by {second - first} bytes"
