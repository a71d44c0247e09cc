/*
 * bench_common.cc - see bench_common.h and bench_host.h.
 */
#include "bench_host.h"

#include <benchmark/benchmark.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>

#ifndef PGD_CODEC_DIR
#error "PGD_CODEC_DIR must name the directory of the built codec plugins"
#endif

void bench_die(const char *fmt, ...)
{
    va_list ap;

    std::fputs("micro-benchmarks: ", stderr);
    va_start(ap, fmt);
    std::vfprintf(stderr, fmt, ap);
    va_end(ap);
    std::fputc('\n', stderr);
    std::exit(1);
}

void bench_init(int *argc, char **argv)
{
    benchmark::Initialize(argc, argv);
    if (benchmark::ReportUnrecognizedArguments(*argc, argv))
        std::exit(1);
}

int bench_run()
{
    benchmark::AddCustomContext("pgd_allocator", pgd_allocator_get()->name);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}

pgd_registry *bench_registry_new()
{
    pgd_registry *r = pgd_registry_new();

    if (!r)
        bench_die("out of memory creating the registry");
    if (pgd_registry_load_dir(r, PGD_CODEC_DIR) != PGD_OK)
        bench_die("loading plugins from %s: %s", PGD_CODEC_DIR, pgd_registry_error(r));
    return r;
}

const pgd_registry *bench_registry()
{
    static pgd_registry *reg = bench_registry_new();
    return reg;
}

/* host->find(): the registry's base codec for an OID. */
static const pgd_codec *find_codec(void *, uint32_t oid)
{
    return pgd_registry_find(bench_registry(), oid, nullptr, nullptr);
}

BenchCodec::BenchCodec(uint32_t oid, const pgd_typeinfo *type)
{
    const pgd_codec *elem = nullptr;
    uint32_t elem_oid = 0;

    codec = pgd_registry_find(bench_registry(), oid, &elem, &elem_oid);
    if (!codec && type)
        codec = pgd_registry_find_named(bench_registry(), type->name);
    if (!codec || !(codec->flags & PGD_CODEC_BINARY))
        bench_die("no binary codec for type oid %u", oid);
    chost_ctx_init(&ctx);
    ctx.find = find_codec;
    cx = pgd_cx{chost_host(), &ctx, oid, elem_oid, elem, type, nullptr};
}

std::string BenchCodec::encode(const pgd_value &v)
{
    struct pgd_wbuf b;
    int n;

    chost_wbuf_init(&b);
    n = codec->encode_binary(&cx, &v, &b);
    if (n < 0 || (size_t)n != b.len)
        bench_die("encode (oid %u) failed: %s", cx.oid, ctx.err);
    std::string wire(b.p ? b.p : "", b.len);
    chost_wbuf_free(&b);
    return wire;
}

pgd_obj *BenchCodec::decode(const std::string &wire)
{
    pgd_obj *o = codec->decode_binary(&cx, wire.data(), wire.size());

    if (!o)
        bench_die("decode (oid %u) failed: %s", cx.oid, ctx.err);
    return o;
}

/* ---- samples ----------------------------------------------------------- */

/* Strings and item arrays the samples point into: stable addresses. */
static std::deque<std::string> g_strings;
static std::deque<std::vector<pgd_value>> g_lists;

static const std::string &keep(std::string s)
{
    g_strings.push_back(std::move(s));
    return g_strings.back();
}

static pgd_value v_int(int64_t i)
{
    pgd_value v{};
    v.kind = PGD_V_INT;
    v.u.i = i;
    return v;
}

static pgd_value v_bool(bool b)
{
    pgd_value v{};
    v.kind = PGD_V_BOOL;
    v.u.b = b;
    return v;
}

static pgd_value v_float(double f)
{
    pgd_value v{};
    v.kind = PGD_V_FLOAT;
    v.u.f = f;
    return v;
}

/* kind PGD_V_STR, BYTES, DECIMAL or JSON over a kept copy of s. */
static pgd_value v_text(pgd_kind kind, std::string s)
{
    const std::string &k = keep(std::move(s));
    pgd_value v{};
    v.kind = kind;
    v.u.s.p = k.data();
    v.u.s.n = k.size();
    return v;
}

static pgd_value v_list(std::vector<pgd_value> items)
{
    g_lists.push_back(std::move(items));
    pgd_value v{};
    v.kind = PGD_V_LIST;
    v.u.list.items = g_lists.back().data();
    v.u.list.n = g_lists.back().size();
    return v;
}

static pgd_value v_tuple(std::vector<pgd_value> items)
{
    pgd_value v = v_list(std::move(items));
    v.kind = PGD_V_TUPLE;
    return v;
}

static pgd_value v_null()
{
    pgd_value v{};
    v.kind = PGD_V_NULL;
    return v;
}

static pgd_value v_dt(pgd_kind kind, pgd_dt dt)
{
    pgd_value v{};
    v.kind = kind;
    v.u.dt = dt;
    return v;
}

static std::vector<BenchSample> make_samples()
{
    std::vector<BenchSample> s;

    s.push_back({"int4", 23, v_int(123456), "123456"});
    s.push_back({"int8", 20, v_int(9007199254740993LL), "9007199254740993"});
    s.push_back({"float8", 701, v_float(1234.5), "1234.5"});
    s.push_back({"text_short", 25, v_text(PGD_V_STR, "hello, world"), "'hello, world'"});
    {
        std::string t;
        for (size_t i = 0; i < 1024; i++)
            t += (char)('a' + i % 26);
        s.push_back({"text_1k", 25, v_text(PGD_V_STR, t), "'" + t + "'"});
    }
    {
        std::string b, e = "b'";
        char hex[8];
        for (size_t i = 0; i < 1024; i++) {
            b += (char)(i & 0xff);
            std::snprintf(hex, sizeof hex, "\\x%02x", (unsigned)(i & 0xff));
            e += hex;
        }
        s.push_back({"bytea_1k", 17, v_text(PGD_V_BYTES, b), e + "'"});
    }
    {
        static const uint8_t u[16] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0,
                                      0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
        pgd_value v{};
        v.kind = PGD_V_UUID;
        std::memcpy(v.u.uuid, u, 16);
        s.push_back({"uuid", 2950, v, "UUID('12345678-9abc-def0-0123-456789abcdef')"});
    }
    {
        std::string doc = "{\"id\": 42, \"name\": \"alice\", \"active\": true, "
                          "\"tags\": [\"a\", \"b\"], \"score\": 9.5}";
        s.push_back({"jsonb_small", 3802, v_text(PGD_V_JSON, doc), "json:" + doc});
    }
    s.push_back({"numeric_small", 1700, v_text(PGD_V_DECIMAL, "123.45"), "Decimal('123.45')"});
    {
        std::string d = "-12345678901234567890123456789012345678."
                        "123456789012345678901234567890";
        s.push_back({"numeric_large", 1700, v_text(PGD_V_DECIMAL, d), "Decimal('" + d + "')"});
    }
    {
        pgd_dt dt{};
        dt.year = 2024, dt.month = 5, dt.day = 17;
        dt.hour = 12, dt.minute = 34, dt.second = 56, dt.usec = 789012;
        dt.has_tz = 1;
        s.push_back({"timestamptz", 1184, v_dt(PGD_V_DATETIME, dt),
                     "datetime(2024-05-17 12:34:56.789012+0000)"});
    }
    {
        pgd_dt dt{};
        dt.year = 2024, dt.month = 5, dt.day = 17;
        s.push_back({"date", 1082, v_dt(PGD_V_DATE, dt), "date(2024-05-17)"});
    }
    {
        pgd_value v{};
        v.kind = PGD_V_INTERVAL;
        v.u.iv.months = 1;
        v.u.iv.days = 2;
        v.u.iv.usec = 3 * 3600 * INT64_C(1000000);
        s.push_back({"interval", 1186, v, "interval(1m 2d 10800000000us)"});
    }
    {
        std::vector<pgd_value> items;
        std::string e = "[";
        for (int i = 0; i < 100; i++) {
            items.push_back(v_int(i * 1000));
            e += (i ? ", " : "") + std::to_string(i * 1000);
        }
        s.push_back({"int4_array_100", 1007, v_list(std::move(items)), e + "]"});
    }
    {
        static const char *const words[10] = {"alpha", "bravo", "charlie", "delta", "echo",
                                              "foxtrot", "golf", "hotel", "india", "juliett"};
        std::vector<pgd_value> items;
        std::string e = "[";
        for (int i = 0; i < 10; i++) {
            items.push_back(v_text(PGD_V_STR, words[i]));
            e += std::string(i ? ", '" : "'") + words[i] + "'";
        }
        s.push_back({"text_array_10", 1009, v_list(std::move(items)), e + "]"});
    }
    /* net, money, bits, sysid, textlike */
    s.push_back({"inet", 869, v_text(PGD_V_STR, "192.168.10.20/24"),
                 "ipaddress:ip_interface('192.168.10.20/24')"});
    s.push_back({"cidr_v6", 650, v_text(PGD_V_STR, "2001:db8:1234::/48"),
                 "ipaddress:ip_network('2001:db8:1234::/48')"});
    s.push_back({"macaddr", 829, v_text(PGD_V_STR, "08-00-2b-01-02-03"),
                 "'08:00:2b:01:02:03'"});
    s.push_back({"money", 790, v_text(PGD_V_DECIMAL, "1234567.89"), "Decimal('1234567.89')"});
    {
        std::string b;
        for (int i = 0; i < 64; i++)
            b += (char)('0' + (i % 3 == 0));
        s.push_back({"varbit_64", 1562, v_text(PGD_V_STR, b), "'" + b + "'"});
    }
    {
        pgd_value t = v_list({v_int(123456), v_int(7)});
        t.kind = PGD_V_TUPLE;
        s.push_back({"tid", 27, t, "(123456, 7)"});
    }
    s.push_back({"xid8", 5069, v_int(1234567890123LL), "1234567890123"});
    s.push_back({"pg_lsn", 3220, v_text(PGD_V_STR, "16/B374D848"), "'16/B374D848'"});
    s.push_back({"jsonpath", 4072, v_text(PGD_V_STR, "$.\"a\"[*]?(@ > 1)"),
                 "'$.\"a\"[*]?(@ > 1)'"});
    /* geometric and range types: objects built through make_call */
    s.push_back({"point", 600, v_tuple({v_float(1.5), v_float(-2.25)}),
                 "psqlpy.extra_types:Point(1.5, -2.25)"});
    {
        std::vector<pgd_value> pts;
        std::string e = "psqlpy.extra_types:Polygon((";
        for (int i = 0; i < 16; i++) {
            pts.push_back(v_tuple({v_float(i), v_float(i * 0.5)}));
            e += (i ? ", " : "") + std::string("psqlpy.extra_types:Point(") +
                 std::to_string(i) + ", " + (i % 2 ? std::to_string(i / 2) + ".5" :
                                                    std::to_string(i / 2)) + ")";
        }
        s.push_back({"polygon_16", 604, v_tuple({v_list(std::move(pts))}), e + "))"});
    }
    s.push_back({"int4range", 3904, v_tuple({v_int(1), v_int(100)}),
                 "psqlpy.extra_types:Range(1, 100, '[)', False)"});
    {
        pgd_dt lo{}, hi{};
        lo.year = 2024, lo.month = 5, lo.day = 17, lo.hour = 12, lo.has_tz = 1;
        hi = lo;
        hi.day = 18;
        s.push_back({"tstzrange", 3910,
                     v_tuple({v_dt(PGD_V_DATETIME, lo), v_dt(PGD_V_DATETIME, hi),
                              v_text(PGD_V_STR, "[]")}),
                     "psqlpy.extra_types:Range(datetime(2024-05-17 12:00:00.000000+0000), "
                     "datetime(2024-05-18 12:00:00.000000+0000), '[]', False)"});
    }
    {
        std::vector<pgd_value> ranges;
        std::string e = "[";
        for (int i = 0; i < 4; i++) {
            ranges.push_back(v_tuple({v_int(10 * i), i == 3 ? v_null() : v_int(10 * i + 5)}));
            e += (i ? ", " : "") + std::string("psqlpy.extra_types:Range(") +
                 std::to_string(10 * i) + ", " +
                 (i == 3 ? std::string("None") : std::to_string(10 * i + 5)) + ", '[)', False)";
        }
        s.push_back({"int4multirange_4", 4451, v_list(std::move(ranges)), e + "]"});
    }
    s.push_back({"bool", 16, v_bool(true), "True"});
    s.push_back({"float4", 700, v_float(0.5), "0.5"});
    {
        const std::string doc = "{\"id\":7,\"tags\":[\"a\",\"b\"],\"ok\":true}";
        s.push_back({"json_small", 114, v_text(PGD_V_JSON, doc), "json:" + doc});
    }
    s.push_back({"xml", 142, v_text(PGD_V_STR, "<a href=\"x\">text</a>"),
                 "'<a href=\"x\">text</a>'"});
    {
        pgd_dt t{};
        t.hour = 13;
        t.minute = 14;
        t.second = 15;
        t.usec = 16;
        s.push_back({"time", 1083, v_dt(PGD_V_TIME, t), "time(13:14:15.000016)"});
        t.has_tz = 1;
        t.utc_offset = 3600;
        s.push_back({"timetz", 1266, v_dt(PGD_V_TIME, t), "time(13:14:15.000016+0100)"});
    }
    {
        /* a composite type (int4, text, float8), as a connection describes it */
        static pgd_field fields[3];
        static pgd_typeinfo row;
        const uint32_t oids[3] = {23, 25, 701};
        const char *names[3] = {"id", "name", "score"};

        for (int i = 0; i < 3; i++) {
            fields[i].name = names[i];
            fields[i].oid = oids[i];
            fields[i].codec = pgd_registry_find(bench_registry(), oids[i], nullptr, nullptr);
        }
        row.size = sizeof row;
        row.oid = 90001;
        row.name = "bench_row";
        row.schema = "public";
        row.kind = 'c';
        row.n_fields = 3;
        row.fields = fields;
        BenchSample c{"composite_3", PGD_OID_RECORD,
                      v_tuple({v_int(42), v_text(PGD_V_STR, "hello"), v_float(2.5)}),
                      "(42, 'hello', 2.5)"};
        c.type = &row;
        s.push_back(c);
    }
    {
        /* hstore, an extension type found by name */
        static pgd_typeinfo hs;
        hs.size = sizeof hs;
        hs.oid = 90002;
        hs.name = "hstore";
        hs.schema = "public";
        hs.kind = 'b';
        pgd_value m = v_list({v_text(PGD_V_STR, "colour"), v_text(PGD_V_STR, "red"),
                              v_text(PGD_V_STR, "size"), v_null()});
        m.kind = PGD_V_MAP;
        BenchSample h{"hstore_2", 90002, m,
                      "builtins:dict([('colour', 'red'), ('size', None)])"};
        h.type = &hs;
        s.push_back(h);
    }
    return s;
}

const std::vector<BenchSample> &bench_samples()
{
    static const std::vector<BenchSample> samples = make_samples();
    return samples;
}

const BenchSample &bench_sample(const std::string &name)
{
    for (const BenchSample &s : bench_samples())
        if (s.name == name)
            return s;
    bench_die("no sample named %s", name.c_str());
}

void bench_check_roundtrip(const BenchSample &s)
{
    BenchCodec c(s.oid, s.type);
    pgd_obj *o = c.decode(c.encode(s.value));
    char *r = chost_repr(o);

    if (!r || s.expect != r)
        bench_die("%s: decoded %.200s, expected %.200s", s.name.c_str(), r ? r : "(null)",
                  s.expect.c_str());
    std::free(r);
    chost_free(o);
}
