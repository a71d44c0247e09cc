/*
 * vs_server.c - the codecs against a real server (ctest codecs_vs_server).
 *
 * For every literal in the table, libpq fetches the value in binary and in
 * text format; our binary decode and our text decode must give the same
 * value (chost_repr).  The decoded value is then encoded again: where the
 * kind round trips exactly, the bytes must equal the server's; in every
 * case the server must accept our bytes as a binary parameter and find them
 * equal to the literal.  The whole table runs under two TimeZone settings
 * (timestamptz text carries the session's offset, the binary form does
 * not).  A second table encodes values only the encoders see (Python lists
 * for json, floats for numeric, zones) and lets the server judge them.
 *
 * Needs PSQLPY_TEST_DSN; without it, says so and exits 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "harness.h"

#ifndef TUPLE
#define TUPLE(...)                                                                       \
    VAL(PGD_V_TUPLE, .u.list = {(const pgd_value[]){__VA_ARGS__},                        \
                                sizeof((const pgd_value[]){__VA_ARGS__}) / sizeof(pgd_value)})
#endif

#define NOT_EXACT 0x1 /* our bytes may differ from the server's (lower bounds,
                         the dscale the server leaves in numeric infinities) */
#define CMP_TEXT 0x2  /* no equality operator: compare as text */
#define LBOUNDS 0x4   /* lower bounds other than 1, which a list drops:
                         compare as text without the "[lb:ub]=" decoration */
#define NO_TEXT 0x100   /* no text decoder (reg*: their text is a name): the
                           binary side only */
#define TEXT_ONLY 0x200 /* a text-only codec (tsvector): decoding the text must
                           give the server's text; nothing is encoded */

/* geometric and range types */
enum {
    POINT = 600, LSEG = 601, PATH = 602, BOX = 603, POLYGON = 604, LINE = 628, CIRCLE = 718,
    POINT_ARR = 1017, BOX_ARR = 1020, POLYGON_ARR = 1027, LINE_ARR = 629, CIRCLE_ARR = 719,
    INT4RANGE = 3904, INT8RANGE = 3926, NUMRANGE = 3906, TSRANGE = 3908, TSTZRANGE = 3910,
    DATERANGE = 3912, INT4MULTI = 4451, INT8MULTI = 4536, NUMMULTI = 4532, TSMULTI = 4533,
    TSTZMULTI = 4534, DATEMULTI = 4535, INT4RANGE_ARR = 3905, INT4MULTI_ARR = 6150
};

typedef struct lit {
    const char *sql; /* a SELECT-list expression */
    uint32_t oid;    /* its type */
    int flags;
} lit;

static const lit lits[] = {
    /* int */
    {"0::int2", INT2, 0},
    {"(-32768)::int2", INT2, 0},
    {"2147483647::int4", INT4, 0},
    {"(-2147483648)::int4", INT4, 0},
    {"'-9223372036854775808'::int8", INT8, 0},
    {"'4294967295'::oid", OID, 0},
    /* float */
    {"'1.5'::float4", FLOAT4, 0},
    {"'0.1'::float4", FLOAT4, 0},
    {"'NaN'::float4", FLOAT4, 0},
    {"'3.4028235e38'::float4", FLOAT4, 0},
    {"'1e-45'::float4", FLOAT4, 0},
    {"'0.1'::float8", FLOAT8, 0},
    {"'-0'::float8", FLOAT8, 0},
    {"'-Infinity'::float8", FLOAT8, 0},
    {"'1e-310'::float8", FLOAT8, 0},
    {"'1.7976931348623157e308'::float8", FLOAT8, 0},
    /* bool */
    {"true", BOOL, 0},
    {"false", BOOL, 0},
    /* text family */
    {"'hello'::text", TEXT, 0},
    {"''::text", TEXT, 0},
    {"U&'\\00e9\\20ac\\+01F600'::text", TEXT, 0},
    {"'a'::char(3)", BPCHAR, 0},
    {"'x y'::varchar(5)", VARCHAR, 0},
    {"'pg_class'::name", NAME, 0},
    {"'z'::\"char\"", CHAR, 0},
    {"''::\"char\"", CHAR, 0},
    /* bytea */
    {"'\\x00ff5c27'::bytea", BYTEA, 0},
    {"''::bytea", BYTEA, 0},
    /* uuid */
    {"'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid", UUID, 0},
    {"'00000000-0000-0000-0000-000000000000'::uuid", UUID, 0},
    /* json */
    {"'{\"a\": 1, \"b\": [true, null]}'::json", JSON, CMP_TEXT},
    {"'  [1,2]  '::json", JSON, CMP_TEXT},
    {"'{\"b\": 1, \"a\": [true, 2.50]}'::jsonb", JSONB, 0},
    {"'\"\\u00e9\"'::jsonb", JSONB, 0},
    {"'null'::jsonb", JSONB, 0},
    {"'[]'::jsonb", JSONB, 0},
    /* numeric */
    {"'0'::numeric", NUMERIC, 0},
    {"'0.00'::numeric", NUMERIC, 0},
    {"'-1.5'::numeric", NUMERIC, 0},
    {"'NaN'::numeric", NUMERIC, 0},
    {"'Infinity'::numeric", NUMERIC, NOT_EXACT},
    {"'-Infinity'::numeric", NUMERIC, NOT_EXACT},
    {"'1e-20'::numeric", NUMERIC, 0},
    {"'123456789012345678901234567890.123456789'::numeric", NUMERIC, 0},
    {"'-9e1000'::numeric", NUMERIC, 0},
    {"'1e-16383'::numeric", NUMERIC, 0},
    {"'10000.0001'::numeric(20,8)", NUMERIC, 0},
    /* date/time */
    {"'2000-01-01'::date", DATE, 0},
    {"'2024-02-29'::date", DATE, 0},
    {"'0044-03-15 BC'::date", DATE, 0},
    {"'0001-02-29 BC'::date", DATE, 0},
    {"'4714-11-24 BC'::date", DATE, 0},
    {"'5874897-12-31'::date", DATE, 0},
    {"'infinity'::date", DATE, 0},
    {"'-infinity'::date", DATE, 0},
    {"'00:00:00'::time", TIME, 0},
    {"'24:00:00'::time", TIME, 0},
    {"'12:34:56.789'::time", TIME, 0},
    {"'23:59:59.999999'::time", TIME, 0},
    {"'12:00:00-03:30'::timetz", TIMETZ, 0},
    {"'10:00:00.25+05:45'::timetz", TIMETZ, 0},
    {"'00:00:00+15:59:59'::timetz", TIMETZ, 0},
    {"'2024-02-29 12:34:56.123456'::timestamp", TIMESTAMP, 0},
    {"'0044-03-15 12:00:00 BC'::timestamp", TIMESTAMP, 0},
    {"'4714-11-24 00:00:00 BC'::timestamp", TIMESTAMP, 0},
    {"'294276-12-31 23:59:59.999999'::timestamp", TIMESTAMP, 0},
    {"'infinity'::timestamp", TIMESTAMP, 0},
    {"'2000-01-01 02:00:00+02'::timestamptz", TIMESTAMPTZ, 0},
    {"'1900-01-01 00:00:00+00'::timestamptz", TIMESTAMPTZ, 0},
    {"'2024-07-01 12:00:00.000001+00'::timestamptz", TIMESTAMPTZ, 0},
    {"'0044-03-15 12:00:00+00 BC'::timestamptz", TIMESTAMPTZ, 0},
    {"'4714-11-24 00:00:00+00 BC'::timestamptz", TIMESTAMPTZ, 0},
    {"'-infinity'::timestamptz", TIMESTAMPTZ, 0},
    {"'1 year 2 mons -3 days 04:05:06.5'::interval", INTERVAL, 0},
    {"'-00:00:00.000001'::interval", INTERVAL, 0},
    {"'00:00:00'::interval", INTERVAL, 0},
    {"'-178956970 years -8 mons -2147483648 days'::interval", INTERVAL, 0},
    {"'2562047788:00:54.775807'::interval", INTERVAL, 0},
    /* geometric (no equality that means "the same": compared as text) */
    {"'(1.5,-2)'::point", POINT, CMP_TEXT},
    {"'(NaN,-Infinity)'::point", POINT, CMP_TEXT},
    {"'(-0,1e-300)'::point", POINT, CMP_TEXT},
    {"'{1,2,3}'::line", LINE, CMP_TEXT},
    {"'{NaN,1,-0.5}'::line", LINE, CMP_TEXT},
    {"'[(1,2),(3,4)]'::lseg", LSEG, CMP_TEXT},
    {"'(1,2),(3,4)'::box", BOX, CMP_TEXT},
    {"'[(0,0),(1,1),(2,0)]'::path", PATH, CMP_TEXT},
    {"'((0,0),(1,1))'::path", PATH, CMP_TEXT},
    {"'((5,6))'::path", PATH, CMP_TEXT},
    {"'((0,0),(0,1),(1,1),(1,0))'::polygon", POLYGON, CMP_TEXT},
    {"'((2,3))'::polygon", POLYGON, CMP_TEXT},
    {"'<(1,2),3>'::circle", CIRCLE, CMP_TEXT},
    {"'<(0,0),NaN>'::circle", CIRCLE, CMP_TEXT},
    {"'{\"(1,2)\",NULL,\"(NaN,-0)\"}'::point[]", POINT_ARR, CMP_TEXT},
    {"'{(1,1),(0,0);(3,3),(2,2);NULL}'::box[]", BOX_ARR, CMP_TEXT},
    {"ARRAY['((0,0),(1,0),(0,1))'::polygon, NULL]", POLYGON_ARR, CMP_TEXT},
    {"ARRAY['{1,-1,0}'::line]", LINE_ARR, CMP_TEXT},
    {"ARRAY['<(0,0),1>'::circle]", CIRCLE_ARR, CMP_TEXT},
    /* ranges and multiranges */
    {"'empty'::int4range", INT4RANGE, 0},
    {"'[1,5]'::int4range", INT4RANGE, 0},
    {"'(,5)'::int4range", INT4RANGE, 0},
    {"'[-2147483648,2147483647)'::int4range", INT4RANGE, 0},
    {"'(,)'::int8range", INT8RANGE, 0},
    {"'[1.5,2.50]'::numrange", NUMRANGE, 0},
    {"'(,NaN]'::numrange", NUMRANGE, 0},
    {"'[2000-01-01,infinity)'::daterange", DATERANGE, 0},
    {"'[\"2000-01-01 00:00\",\"2000-01-02 12:30:00.5\")'::tsrange", TSRANGE, 0},
    {"'(\"2000-01-01 00:00+00\",infinity]'::tstzrange", TSTZRANGE, 0},
    {"'{}'::int4multirange", INT4MULTI, 0},
    {"'{[1,3),[5,7)}'::int4multirange", INT4MULTI, 0},
    {"'{(,0),[10,)}'::int8multirange", INT8MULTI, 0},
    {"'{[1.5,2)}'::nummultirange", NUMMULTI, 0},
    {"'{[2000-01-01,2000-01-02)}'::datemultirange", DATEMULTI, 0},
    {"'{[\"2000-01-01 00:00\",)}'::tsmultirange", TSMULTI, 0},
    {"'{[\"2000-01-01 00:00+00\",\"2001-01-01 00:00+00\"]}'::tstzmultirange", TSTZMULTI, 0},
    {"'{\"[1,3)\",empty,NULL}'::int4range[]", INT4RANGE_ARR, 0},
    /* arrays */
    {"'{}'::int4[]", INT4_ARR, 0},
    {"'{1,2,3}'::int4[]", INT4_ARR, 0},
    {"'{{1,NULL},{3,4}}'::int4[]", INT4_ARR, 0},
    {"'[0:1]={1,2}'::int4[]", INT4_ARR, NOT_EXACT | LBOUNDS},
    {"'[-2:-1][3:5]={{1,2,3},{4,5,6}}'::int4[]", INT4_ARR, NOT_EXACT | LBOUNDS},
    {"'{{{{{{7}}}}}}'::int8[]", INT8_ARR, 0},
    {"'{-32768,NULL}'::int2[]", INT2_ARR, 0},
    {"'{0,4294967295}'::oid[]", OID_ARR, 0},
    {"ARRAY['a b', 'x\"y', '', NULL, 'NULL', 'null', '\\', 'a,b', '{}', ' lead', "
     "U&'\\00e9']::text[]",
     TEXT_ARR, 0},
    {"'{}'::text[]", TEXT_ARR, 0},
    {"ARRAY['a', NULL]::varchar[]", VARCHAR_ARR, 0},
    {"'{t,f,NULL}'::bool[]", BOOL_ARR, 0},
    {"'{1.5,NaN,-Infinity}'::float8[]", FLOAT8_ARR, 0},
    {"'{0.1,-0}'::float4[]", FLOAT4_ARR, 0},
    {"ARRAY['\\x00ff'::bytea, '', NULL]", BYTEA_ARR, 0},
    {"'{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,NULL}'::uuid[]", UUID_ARR, 0},
    {"'{1.50,NaN,-7,1e-20}'::numeric[]", NUMERIC_ARR, 0},
    {"'{Infinity}'::numeric[]", NUMERIC_ARR, NOT_EXACT},
    {"'{2000-01-01,infinity,0044-03-15 BC}'::date[]", DATE_ARR, 0},
    {"'{24:00:00,00:00:00.5}'::time[]", TIME_ARR, 0},
    {"'{12:00:00-03:30}'::timetz[]", TIMETZ_ARR, 0},
    {"'{\"2000-01-01 00:00:00\",-infinity}'::timestamp[]", TIMESTAMP_ARR, 0},
    {"'{\"2000-01-01 00:00:00+00\",\"1900-01-01 00:00:00+00\"}'::timestamptz[]",
     TIMESTAMPTZ_ARR, 0},
    {"'{\"1 day -00:00:01\",\"-1 mons\"}'::interval[]", INTERVAL_ARR, 0},
    {"ARRAY['{\"a\": [1, null]}'::jsonb, NULL, '\"s\"']", JSONB_ARR, 0},
    {"ARRAY['{\"a\":1}'::json, NULL]", JSON_ARR, CMP_TEXT},
    /* net */
    {"'10.1.2.3/8'::inet", INET, 0},
    {"'192.168.0.1'::inet", INET, 0},
    {"'0.0.0.0/0'::inet", INET, 0},
    {"'::1'::inet", INET, 0},
    {"'::'::inet", INET, 0},
    {"'::ffff:1.2.3.4'::inet", INET, 0},
    {"'::1.2.3.4/100'::inet", INET, 0},
    {"'::2'::inet", INET, 0},
    {"'::ffff:0:1'::inet", INET, 0},
    {"'1:0:0:1:0:0:0:1'::inet", INET, 0},
    {"'1:0:2:0:3:0:4:0'::inet", INET, 0},
    {"'0:0:1::'::inet", INET, 0},
    {"'1::'::inet", INET, 0},
    {"'0:1:0:0:0:0:0:0'::inet", INET, 0},
    {"'2001:db8:0:0:1:0:0:1/64'::inet", INET, 0},
    {"'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'::inet", INET, 0},
    {"'::ffff:0:0/96'::cidr", CIDR, 0},
    {"'10/8'::cidr", CIDR, 0},
    {"'1.2.3.4/32'::cidr", CIDR, 0},
    {"'0.0.0.0/0'::cidr", CIDR, 0},
    {"'fe80::/10'::cidr", CIDR, 0},
    {"'::/0'::cidr", CIDR, 0},
    {"'2001:db8::/32'::cidr", CIDR, 0},
    {"'08:00:2b:01:02:03'::macaddr", MACADDR, 0},
    {"'FF-FF-FF-FF-FF-FF'::macaddr", MACADDR, 0},
    {"'08:00:2b:01:02:03:04:05'::macaddr8", MACADDR8, 0},
    {"'08:00:2b:01:02:03'::macaddr8", MACADDR8, 0},
    {"'{10.0.0.1,NULL,::1/64}'::inet[]", INET_ARR, 0},
    {"'{{10.0.0.0/8},{::/0}}'::cidr[]", CIDR_ARR, 0},
    {"'{08:00:2b:01:02:03,NULL}'::macaddr[]", MACADDR_ARR, 0},
    {"'{08:00:2b:01:02:03:04:05}'::macaddr8[]", MACADDR8_ARR, 0},
    /* money (lc_monetary C) */
    {"'1.23'::money", MONEY, 0},
    {"'-0.01'::money", MONEY, 0},
    {"'0'::money", MONEY, 0},
    {"'1234567.89'::money", MONEY, 0},
    {"'92233720368547758.07'::money", MONEY, 0},
    {"'-92233720368547758.08'::money", MONEY, 0},
    {"'{1.23,NULL,-5,1000}'::money[]", MONEY_ARR, 0},
    /* bits */
    {"B'101'", BIT, 0},
    {"B'10101010101'::bit(11)", BIT, 0},
    {"B''::varbit", VARBIT, 0},
    {"B'1111111111111111'::varbit", VARBIT, 0},
    {"repeat('10', 500)::varbit", VARBIT, 0},
    {"'{101,NULL,\"\"}'::varbit[]", VARBIT_ARR, 0},
    {"'{{1},{0}}'::bit[]", BIT_ARR, 0},
    /* sysid */
    {"'pg_class'::regclass", REGCLASS, NO_TEXT},
    {"'4294967295'::regclass", REGCLASS, NO_TEXT},
    {"'int4'::regtype", REGTYPE, NO_TEXT},
    {"'now'::regproc", REGPROC, NO_TEXT},
    {"'now()'::regprocedure", REGPROCEDURE, NO_TEXT},
    {"'||/'::regoper", REGOPER, NO_TEXT},
    {"'+(int4,int4)'::regoperator", REGOPERATOR, NO_TEXT},
    {"'simple'::regconfig", REGCONFIG, NO_TEXT},
    {"'simple'::regdictionary", REGDICTIONARY, NO_TEXT},
    {"'pg_catalog'::regnamespace", REGNAMESPACE, NO_TEXT},
    {"current_user::text::regrole", REGROLE, NO_TEXT},
    {"'\"C\"'::regcollation", REGCOLLATION, NO_TEXT},
    {"'0'::xid", XID, 0},
    {"'4294967295'::xid", XID, 0},
    {"'4294967295'::cid", CID, 0},
    {"'0'::xid8", XID8, 0},
    {"'9223372036854775807'::xid8", XID8, 0},
    {"'18446744073709551615'::xid8", XID8, 0},
    {"'(0,1)'::tid", TID, 0},
    {"'(4294967295,65535)'::tid", TID, 0},
    {"'16/B374D848'::pg_lsn", PG_LSN, 0},
    {"'0/0'::pg_lsn", PG_LSN, 0},
    {"'FFFFFFFF/FFFFFFFF'::pg_lsn", PG_LSN, 0},
    {"ARRAY['pg_class'::regclass, NULL]", REGCLASS_ARR, NO_TEXT},
    {"'{1,NULL,4294967295}'::xid[]", XID_ARR, CMP_TEXT},
    {"'{18446744073709551615,NULL}'::xid8[]", XID8_ARR, 0},
    {"'{\"(0,1)\",NULL}'::tid[]", TID_ARR, 0},
    {"'{16/B374D848,NULL}'::pg_lsn[]", PG_LSN_ARR, 0},
    /* textlike */
    {"'<a b=\"1\">x &amp; y</a>'::xml", XML, CMP_TEXT},
    {"U&'<r>\\00e9\\20ac</r>'::xml", XML, CMP_TEXT},
    {"'$.a[*] ? (@ > 1)'::jsonpath", JSONPATH, CMP_TEXT},
    {"'strict $.\"k\\u00e9\".type()'::jsonpath", JSONPATH, CMP_TEXT},
    {"'a b b:3A'::tsvector", TSVECTOR, TEXT_ONLY},
    {"'a & !(b | c)'::tsquery", TSQUERY, TEXT_ONLY},
    {"ARRAY['a b'::tsvector, NULL]", TSVECTOR_ARR, TEXT_ONLY},
    {"ARRAY['<a/>'::xml, NULL]", XML_ARR, CMP_TEXT},
    {"ARRAY['$.a'::jsonpath]", JSONPATH_ARR, CMP_TEXT},
};

static PGconn *conn;

/* Run a query with at most one parameter; NULL (failure recorded) unless it
 * returned exactly one non-NULL value. */
static PGresult *query1(const char *what, const char *sql, uint32_t ptype, const char *pval,
                        int plen, int result_format)
{
    Oid types[1] = {ptype};
    const char *vals[1] = {pval};
    int lens[1] = {plen}, fmts[1] = {1};
    PGresult *res = PQexecParams(conn, sql, pval ? 1 : 0, types, vals, lens, fmts,
                                 result_format);

    th_count();
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        th_fail(__FILE__, __LINE__, "%s: %s: %s", what, sql, PQresultErrorMessage(res));
        goto error;
    }
    if (PQntuples(res) != 1 || PQnfields(res) != 1 || PQgetisnull(res, 0, 0)) {
        th_fail(__FILE__, __LINE__, "%s: %s: not one non-NULL value", what, sql);
        goto error;
    }
    return res;

error:
    PQclear(res);
    return NULL;
}

/* Run `sql` (which compares $1 with something) with our bytes as $1. */
static void server_agrees(const char *what, const char *sql, uint32_t oid, const char *bytes,
                          size_t n)
{
    PGresult *res = query1(what, sql, oid, bytes, (int)n, 0);

    if (!res)
        return;
    th_count();
    if (strcmp(PQgetvalue(res, 0, 0), "t") != 0)
        th_fail(__FILE__, __LINE__, "%s: the server finds our bytes different: %s", what, sql);
    PQclear(res);
}

static char *decode_repr(uint32_t oid, int binary, const PGresult *res, const char *sql)
{
    char err[512];
    pgd_obj *o;
    char *r;

    th_count();
    o = th_decode_obj(oid, binary, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0), err,
                      sizeof err);
    if (!o) {
        th_fail(__FILE__, __LINE__, "%s: %s decode failed: %s", sql,
                binary ? "binary" : "text", err);
        return NULL;
    }
    r = chost_repr(o);
    chost_free(o);
    return r;
}

/* TEXT_ONLY: the text decode is the server's text (a scalar) or a list. */
static void check_text_only(const lit *l, const PGresult *txt, const char *what)
{
    char *rt = decode_repr(l->oid, 0, txt, what), *want;
    size_t n = strlen(PQgetvalue(txt, 0, 0)) + 3;

    th_count();
    if (!rt || rt[0] == '[') {
        if (rt && rt[strlen(rt) - 1] != ']')
            th_fail(__FILE__, __LINE__, "%s: text decodes to %.300s", what, rt);
        free(rt);
        return;
    }
    want = malloc(n);
    snprintf(want, n, "'%s'", PQgetvalue(txt, 0, 0));
    if (strcmp(rt, want) != 0)
        th_fail(__FILE__, __LINE__, "%s: text decodes to %.300s, wanted %.300s", what, rt, want);
    free(want);
    free(rt);
}

static void check_lit(const lit *l, const char *zone)
{
    char sql[1024], cmp[1200], what[1200], err[512];
    PGresult *bin = NULL, *txt = NULL;
    char *rb = NULL, *rt = NULL, *hex = NULL, *want = NULL, *ours = NULL;
    pgd_obj *o = NULL;
    pgd_value v;
    size_t n;
    int have_v = 0;

    snprintf(sql, sizeof sql, "SELECT %s", l->sql);
    snprintf(what, sizeof what, "[TimeZone %s] %s", zone, l->sql);
    bin = query1(what, sql, 0, NULL, 0, 1);
    txt = query1(what, sql, 0, NULL, 0, 0);
    if (!bin || !txt)
        goto done;
    th_count();
    if (PQftype(bin, 0) != l->oid) {
        th_fail(__FILE__, __LINE__, "%s: type %u, the table says %u", what, PQftype(bin, 0),
                l->oid);
        goto done;
    }

    /* binary decode == text decode */
    if (l->flags & TEXT_ONLY) {
        check_text_only(l, txt, what);
        goto done;
    }
    rb = decode_repr(l->oid, 1, bin, what);
    rt = l->flags & NO_TEXT ? NULL : decode_repr(l->oid, 0, txt, what);
    th_count();
    if (rb && rt && strcmp(rb, rt) != 0)
        th_fail(__FILE__, __LINE__, "%s: binary decodes to %.300s, text \"%.200s\" to %.300s",
                what, rb, PQgetvalue(txt, 0, 0), rt);
    if (!rb)
        goto done;

    /* re-encode the decoded value */
    o = th_decode_obj(l->oid, 1, PQgetvalue(bin, 0, 0), (size_t)PQgetlength(bin, 0, 0), err,
                      sizeof err);
    th_count();
    if (!o || th_value_from((const chost_obj *)o, &v) < 0) {
        th_fail(__FILE__, __LINE__, "%s: no encoder input for %s", what, rb);
        goto done;
    }
    have_v = 1;
    hex = th_encode_hex(l->oid, &v, err, sizeof err);
    th_count();
    if (!hex) {
        th_fail(__FILE__, __LINE__, "%s: encoding %.300s failed: %s", what, rb, err);
        goto done;
    }
    want = th_hex(PQgetvalue(bin, 0, 0), (size_t)PQgetlength(bin, 0, 0));
    if (!(l->flags & NOT_EXACT)) {
        th_count();
        if (strcmp(hex, want) != 0)
            th_fail(__FILE__, __LINE__, "%s: server sent %.400s, we encode %.400s", what, want,
                    hex);
    }
    ours = th_unhex(hex, &n);
    if (l->flags & LBOUNDS)
        snprintf(cmp, sizeof cmp,
                 "SELECT $1::text = regexp_replace((%s)::text, '^(\\[[^]]*\\])+=', '')",
                 l->sql);
    else if (l->flags & CMP_TEXT)
        snprintf(cmp, sizeof cmp, "SELECT $1::text = (%s)::text", l->sql);
    else
        snprintf(cmp, sizeof cmp, "SELECT $1 IS NOT DISTINCT FROM (%s)", l->sql);
    server_agrees(what, cmp, l->oid, ours, n);

done:
    if (have_v)
        th_value_free(&v);
    chost_free(o);
    free(ours);
    free(want);
    free(hex);
    free(rb);
    free(rt);
    PQclear(bin);
    PQclear(txt);
}

/* ---- values only an encoder sees --------------------------------------- */

typedef struct enc_case {
    uint32_t oid;
    const pgd_value *v;
    const char *check; /* a query on $1 that must return true */
} enc_case;

static void check_encodes(void)
{
    const enc_case cases[] = {
        /* a Python list sent to json/jsonb */
        {JSONB,
         LIST(*V_INT(1), *V_FLOAT(-2.5), *V_STR("a\"b\\c\nd\te\x01"), *V_BOOL(1), *V_BOOL(0),
              *VAL(PGD_V_NULL), *V_DEC("1.50"), *V_JSON("{\"k\": [1]}"),
              *VAL(PGD_V_LIST), *LIST(*LIST(*V_STR("x")))),
         "SELECT $1 = '[1, -2.5, \"a\\\"b\\\\c\\nd\\te\\u0001\", true, false, null, 1.50, "
         "{\"k\": [1]}, [], [[\"x\"]]]'::jsonb"},
        {JSON, LIST(*V_STR("a\"b\\c\nd\te\x01"), *V_DEC("1.50"), *V_FLOAT(1e16)),
         "SELECT $1::text = '[\"a\\\"b\\\\c\\nd\\te\\u0001\",1.50,1e+16]'"},
        {JSON, LIST(*V_STRN(PGD_V_STR, "a\0b", 3)), "SELECT $1::text = '[\"a\\u0000b\"]'"},
        {JSONB, LIST(*V_STR("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"), *V_FLOAT(0.1),
                     *V_DEC("-.5e2"), *V_DEC("+007")),
         "SELECT $1 = jsonb_build_array(U&'\\00e9\\20ac\\+01F600', 0.1, -50, 7)"},
        {JSONB, VAL(PGD_V_LIST), "SELECT $1 = '[]'::jsonb"},
        /* numeric from ints and floats */
        {NUMERIC, V_FLOAT(0.1), "SELECT $1::text = '0.1'"},
        {NUMERIC, V_FLOAT(2.0), "SELECT $1::text = '2.0'"},
        {NUMERIC, V_FLOAT(1e300), "SELECT $1 = 1e300::numeric"},
        {NUMERIC, V_INT(INT64_MIN), "SELECT $1::text = '-9223372036854775808'"},
        {NUMERIC, V_DEC("12345.678e-2"), "SELECT $1::text = '123.45678'"},
        /* zones */
        {TIMESTAMPTZ, V_DT(.year = 2024, .month = 2, .day = 29, .hour = 23, .minute = 30,
                           .has_tz = 1, .utc_offset = -18000),
         "SELECT $1 = '2024-03-01 04:30:00+00'::timestamptz"},
        {TIMESTAMPTZ, V_DT(.year = -4713, .month = 11, .day = 23, .hour = 23, .has_tz = 1,
                           .utc_offset = -3600),
         "SELECT $1 = '4714-11-24 00:00:00+00 BC'::timestamptz"},
        {TIMESTAMP, V_DT(.year = 2000, .month = 1, .day = 1, .hour = 2, .has_tz = 1,
                         .utc_offset = 7200),
         "SELECT $1 = '2000-01-01 02:00:00'::timestamp"},
        {TIMETZ, V_TIME(.hour = 12), "SELECT $1::text = '12:00:00+00'"},
        /* geometric: the server normalises a box, closes a plain path,
         * computes a polygon's bounding box */
        {POINT, TUPLE(*V_DEC("1.5"), *V_INT(-2)), "SELECT $1::text = '(1.5,-2)'"},
        {BOX, TUPLE(*TUPLE(*V_INT(1), *V_INT(2)), *TUPLE(*V_INT(3), *V_INT(4))),
         "SELECT $1::text = '(3,4),(1,2)'"},
        {PATH, LIST(*TUPLE(*V_INT(0), *V_INT(0)), *TUPLE(*V_INT(1), *V_INT(1))),
         "SELECT $1::text = '((0,0),(1,1))'"},
        {POLYGON, LIST(*TUPLE(*V_INT(0), *V_INT(0)), *TUPLE(*V_INT(2), *V_INT(0)),
                       *TUPLE(*V_INT(0), *V_INT(1))),
         "SELECT $1::text = '((0,0),(2,0),(0,1))' AND box($1) ~= '(2,1),(0,0)'::box"},
        {LINE, TUPLE(*V_FLOAT(1.1e-6), *V_INT(0), *V_INT(1)), "SELECT $1::text = '{1.1e-06,0,1}'"},
        {POINT_ARR, LIST(*LIST(*TUPLE(*V_INT(1), *V_INT(2))), *LIST(*VAL(PGD_V_NULL))),
         "SELECT $1::text = '{{\"(1,2)\"},{NULL}}'"},
        /* ranges: discrete ones are canonicalised, multiranges merged */
        {INT4RANGE, TUPLE(*V_INT(1), *V_INT(5), *V_STR("[]")), "SELECT $1 = '[1,6)'::int4range"},
        {INT4RANGE, TUPLE(*VAL(PGD_V_NULL), *VAL(PGD_V_NULL), *V_STR("[]")),
         "SELECT $1 = '(,)'::int4range AND NOT lower_inc($1)"},
        {INT4RANGE, TUPLE(*V_INT(5), *V_INT(5)), "SELECT isempty($1)"},
        {DATERANGE, TUPLE(*V_DATE(.year = 2000, .month = 1, .day = 1),
                        *V_DATE(.year = 2000, .month = 1, .day = 31), *V_STR("(]")),
         "SELECT $1 = '[2000-01-02,2000-02-01)'::daterange"},
        {TSTZRANGE, TUPLE(*V_DT(.year = 2000, .month = 1, .day = 1, .hour = 2, .has_tz = 1,
                              .utc_offset = 7200),
                        *VAL(PGD_V_NULL)),
         "SELECT $1 = '[2000-01-01 00:00:00+00,)'::tstzrange"},
        {INT4MULTI, LIST(*TUPLE(*V_INT(5), *V_INT(7)), *TUPLE(*V_INT(1), *V_INT(3)),
                         *TUPLE(*V_INT(2), *V_INT(4)), *TUPLE(*V_INT(9), *V_INT(9))),
         "SELECT $1 = '{[1,4),[5,7)}'::int4multirange"},
        {INT4MULTI_ARR, LIST(*TUPLE(*TUPLE(*V_INT(1), *V_INT(3))), *VAL(PGD_V_TUPLE)),
         "SELECT $1 = ARRAY['{[1,3)}', '{}']::int4multirange[]"},
        /* arrays built here */
        {INT4_ARR, LIST(*LIST(*V_INT(1), *VAL(PGD_V_NULL)), *LIST(*V_INT(3), *V_INT(4))),
         "SELECT $1 = '{{1,NULL},{3,4}}'::int4[]"},
        {TEXT_ARR, LIST(*LIST(*VAL(PGD_V_LIST))), "SELECT $1 = '{}'::text[]"},
        {TEXT_ARR, LIST(*V_STR(""), *V_STR("NULL")),
         "SELECT $1 = ARRAY['', 'NULL'] AND $1[2] IS NOT NULL"},
        {TEXT, V_STR(""), "SELECT $1 = ''"},
        {BYTEA, V_BYTES(""), "SELECT $1 = ''::bytea"},
        /* net */
        {INET, V_STR("10.1.2.3/8"), "SELECT $1 = '10.1.2.3/8'::inet"},
        {INET, V_STR("2001:DB8::0:1"), "SELECT $1 = '2001:db8::1'::inet"},
        {CIDR, V_STR("192.168.0.0/16"), "SELECT $1 = '192.168/16'::cidr"},
        {CIDR, V_STR("1.2.3.4"), "SELECT $1 = '1.2.3.4/32'::cidr"},
        {MACADDR, V_STR("0800.2b01.0203"), "SELECT $1 = '08:00:2b:01:02:03'::macaddr"},
        {MACADDR, V_STR("08002B-010203"), "SELECT $1 = '08002b-010203'::macaddr"},
        {MACADDR8, V_STR("08002b010203"), "SELECT $1 = '08002b010203'::macaddr8"},
        {MACADDR8, V_STR("0800.2b01.0203.0405"), "SELECT $1 = '08:00:2b:01:02:03:04:05'::macaddr8"},
        {INET_ARR, LIST(*V_STR("10.0.0.1"), *VAL(PGD_V_NULL), *V_STR("::1/64")),
         "SELECT $1 = '{10.0.0.1,NULL,::1/64}'::inet[]"},
        /* money */
        {MONEY, V_INT(5), "SELECT $1 = 5::money"},
        {MONEY, V_INT(-92233720368547758), "SELECT $1 = '-92233720368547758'::money"},
        {MONEY, V_DEC("1.500"), "SELECT $1 = '1.50'::money"},
        {MONEY, V_DEC("1E+2"), "SELECT $1 = '100'::money"},
        {MONEY, V_STR("-0.07"), "SELECT $1 = '-0.07'::money"},
        /* bits */
        {BIT, V_STR("101"), "SELECT $1 = B'101'"},
        {VARBIT, V_STR(""), "SELECT $1 = B''::varbit"},
        {VARBIT, V_STR("111111111"), "SELECT $1 = B'111111111'::varbit AND length($1) = 9"},
        /* sysid */
        {REGCLASS, V_INT(1259), "SELECT $1 = 'pg_class'::regclass"},
        {REGTYPE, V_INT(25), "SELECT $1::text = 'text'"},
        {XID8, V_DEC("18446744073709551615"), "SELECT $1 = '18446744073709551615'::xid8"},
        {TID, TUPLE(*V_INT(1), *V_INT(2)), "SELECT $1 = '(1,2)'::tid"},
        {TID_ARR, LIST(*TUPLE(*V_INT(0), *V_INT(1)), *VAL(PGD_V_NULL)),
         "SELECT $1::text = '{\"(0,1)\",NULL}'"},
        {PG_LSN, V_STR("16/b374d848"), "SELECT $1 = '16/B374D848'::pg_lsn"},
        {PG_LSN, V_INT(1), "SELECT $1 = '0/1'::pg_lsn"},
        /* textlike */
        {JSONPATH, V_STR("$.a ? (@ > 1)"), "SELECT $1::text = '$.\"a\"?(@ > 1)'"},
        {XML, V_STR("<a>\xc3\xa9</a>"), "SELECT $1::text = U&'<a>\\00e9</a>'"},
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[512], what[64];
        char *hex = th_encode_hex(cases[i].oid, cases[i].v, err, sizeof err), *bytes;
        size_t n;

        snprintf(what, sizeof what, "encode case %zu", i);
        th_count();
        if (!hex) {
            th_fail(__FILE__, __LINE__, "%s (OID %u): %s", what, cases[i].oid, err);
            continue;
        }
        bytes = th_unhex(hex, &n);
        server_agrees(what, cases[i].check, cases[i].oid, bytes, n);
        free(bytes);
        free(hex);
    }
}

static int set_session(const char *zone)
{
    char sql[256];
    PGresult *res;
    int ok;

    snprintf(sql, sizeof sql,
             "SET DateStyle = ISO; SET IntervalStyle = postgres; SET TimeZone = '%s'; "
             "SET client_encoding = UTF8; SET bytea_output = hex; SET lc_monetary = 'C'",
             zone);
    res = PQexec(conn, sql);
    ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "codecs_vs_server: %s: %s", sql, PQresultErrorMessage(res));
    PQclear(res);
    return ok ? 0 : -1;
}

int main(void)
{
    static const char *const zones[] = {"UTC", "Europe/Amsterdam"};
    const char *dsn = getenv("PSQLPY_TEST_DSN");
    size_t z, i;

    if (!dsn || !*dsn) {
        fprintf(stderr, "codecs_vs_server: PSQLPY_TEST_DSN is not set; it needs a running "
                        "PostgreSQL server (e.g. start one with tests/py/pgcluster.py)\n");
        return 1;
    }
    th_init();
    conn = PQconnectdb(dsn);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "codecs_vs_server: cannot connect: %s", PQerrorMessage(conn));
        PQfinish(conn);
        return 1;
    }
    for (z = 0; z < sizeof zones / sizeof zones[0]; z++) {
        if (set_session(zones[z]) < 0) {
            PQfinish(conn);
            return 1;
        }
        for (i = 0; i < sizeof lits / sizeof lits[0]; i++)
            check_lit(&lits[i], zones[z]);
    }
    check_encodes();
    PQfinish(conn);
    return th_finish();
}
