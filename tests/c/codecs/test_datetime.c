/*
 * date, time, timetz, timestamp, timestamptz, interval.
 *
 * Wire bytes are what a PostgreSQL 15 server's *_send() returns and the
 * text is its *_out() with DateStyle ISO, IntervalStyle postgres and
 * TimeZone UTC (unless a row says otherwise).  Years in the expected reprs
 * are astronomical: 1 BC is 0000, 44 BC is -043.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"

typedef struct row {
    uint32_t oid;
    const char *hex;  /* server's binary form */
    const char *text; /* server's text form */
    const char *repr; /* what both decode to */
} row;

static const row rows[] = {
    /* date: days since 2000-01-01 */
    {DATE, "00000000", "2000-01-01", "date(2000-01-01)"},
    {DATE, "ffffffff", "1999-12-31", "date(1999-12-31)"},
    {DATE, "0000003b", "2000-02-29", "date(2000-02-29)"},
    {DATE, "0000003c", "2000-03-01", "date(2000-03-01)"},
    {DATE, "00002279", "2024-02-29", "date(2024-02-29)"},
    {DATE, "ffff718e", "1900-02-28", "date(1900-02-28)"},
    {DATE, "ffff718f", "1900-03-01", "date(1900-03-01)"},
    {DATE, "00008ee8", "2100-03-01", "date(2100-03-01)"},
    {DATE, "ffffd533", "1970-01-01", "date(1970-01-01)"},
    {DATE, "fff4dbf9", "0001-01-01", "date(0001-01-01)"},
    {DATE, "fff4dbf8", "0001-12-31 BC", "date(0000-12-31)"},
    {DATE, "fff4dac6", "0001-02-29 BC", "date(0000-02-29)"}, /* 1 BC is a leap year */
    {DATE, "fff4d511", "0005-02-29 BC", "date(-004-02-29)"},
    {DATE, "fff49d7b", "0044-03-15 BC", "date(-043-03-15)"},
    {DATE, "ffda97a7", "4714-11-24 BC", "date(-4713-11-24)"}, /* first date */
    {DATE, "7fda970c", "5874897-12-31", "date(5874897-12-31)"}, /* last date */
    {DATE, "7fffffff", "infinity", "date(infinity)"},
    {DATE, "80000000", "-infinity", "date(-infinity)"},

    /* time: microseconds since midnight */
    {TIME, "0000000000000000", "00:00:00", "time(00:00:00.000000)"},
    {TIME, "0000000000000001", "00:00:00.000001", "time(00:00:00.000001)"},
    {TIME, "0000000a8be62608", "12:34:56.789", "time(12:34:56.789000)"},
    {TIME, "0000000b8675b020", "13:45:00.5", "time(13:45:00.500000)"},
    {TIME, "000000141dd75fff", "23:59:59.999999", "time(23:59:59.999999)"},
    {TIME, "000000141dd76000", "24:00:00", "time(24:00:00.000000)"},

    /* timetz: then the zone in seconds WEST of UTC */
    {TIMETZ, "0000000a0eebb000ffffe3e0", "12:00:00+02", "time(12:00:00.000000+0200)"},
    {TIMETZ, "0000000a0eebb00000003138", "12:00:00-03:30", "time(12:00:00.000000-0330)"},
    {TIMETZ, "0000000a0eebb000fffffb6c", "12:00:00+00:19:32",
     "time(12:00:00.000000+0019:32)"},
    {TIMETZ, "0000000861c83890ffffaf24", "10:00:00.25+05:45", "time(10:00:00.250000+0545)"},
    {TIMETZ, "0000000000000000ffff1f01", "00:00:00+15:59:59", "time(00:00:00.000000+1559:59)"},
    {TIMETZ, "000000141dd75fff0000e0ff", "23:59:59.999999-15:59:59",
     "time(23:59:59.999999-1559:59)"},
    {TIMETZ, "000000141dd7600000000000", "24:00:00+00", "time(24:00:00.000000+0000)"},

    /* timestamp: microseconds since 2000-01-01 00:00:00 */
    {TIMESTAMP, "0000000000000000", "2000-01-01 00:00:00",
     "datetime(2000-01-01 00:00:00.000000)"},
    {TIMESTAMP, "0000000000000001", "2000-01-01 00:00:00.000001",
     "datetime(2000-01-01 00:00:00.000001)"},
    {TIMESTAMP, "ffffffffffffffff", "1999-12-31 23:59:59.999999",
     "datetime(1999-12-31 23:59:59.999999)"},
    {TIMESTAMP, "0002b58341685e40", "2024-02-29 12:34:56.123456",
     "datetime(2024-02-29 12:34:56.123456)"},
    {TIMESTAMP, "fffca2fec4c82000", "1970-01-01 00:00:00",
     "datetime(1970-01-01 00:00:00.000000)"},
    {TIMESTAMP, "ff1fe2ffc59c6000", "0001-01-01 00:00:00",
     "datetime(0001-01-01 00:00:00.000000)"},
    {TIMESTAMP, "ff1fe2ffc59c5fff", "0001-12-31 23:59:59.999999 BC",
     "datetime(0000-12-31 23:59:59.999999)"},
    {TIMESTAMP, "ff1af9e8fb46d000", "0044-03-15 12:00:00 BC",
     "datetime(-043-03-15 12:00:00.000000)"},
    {TIMESTAMP, "fd0f7cc1411fa000", "4714-11-24 00:00:00 BC",
     "datetime(-4713-11-24 00:00:00.000000)"},
    {TIMESTAMP, "7fffff5bb3b29fff", "294276-12-31 23:59:59.999999",
     "datetime(294276-12-31 23:59:59.999999)"},
    {TIMESTAMP, "7fffffffffffffff", "infinity", "datetime(infinity)"},
    {TIMESTAMP, "8000000000000000", "-infinity", "datetime(-infinity)"},

    /* timestamptz: the same count, in UTC */
    {TIMESTAMPTZ, "0000000000000000", "2000-01-01 00:00:00+00",
     "datetime(2000-01-01 00:00:00.000000+0000)"},
    {TIMESTAMPTZ, "ffffffffffffffff", "1999-12-31 23:59:59.999999+00",
     "datetime(1999-12-31 23:59:59.999999+0000)"},
    {TIMESTAMPTZ, "0002b59098fc2200", "2024-03-01 04:30:00+00",
     "datetime(2024-03-01 04:30:00.000000+0000)"},
    {TIMESTAMPTZ, "ff1fcadffc544000", "0001-02-29 00:00:00+00 BC",
     "datetime(0000-02-29 00:00:00.000000+0000)"},
    {TIMESTAMPTZ, "ff1af9e8fb46d000", "0044-03-15 12:00:00+00 BC",
     "datetime(-043-03-15 12:00:00.000000+0000)"},
    {TIMESTAMPTZ, "fd0f7cc1411fa000", "4714-11-24 00:00:00+00 BC",
     "datetime(-4713-11-24 00:00:00.000000+0000)"},
    {TIMESTAMPTZ, "7fffff5bb3b29fff", "294276-12-31 23:59:59.999999+00",
     "datetime(294276-12-31 23:59:59.999999+0000)"},
    {TIMESTAMPTZ, "7fffffffffffffff", "infinity", "datetime(infinity)"},
    {TIMESTAMPTZ, "8000000000000000", "-infinity", "datetime(-infinity)"},
    /* TimeZone Asia/Kolkata and Europe/Amsterdam (local mean time in 1900) */
    {TIMESTAMPTZ, "0000000000000000", "2000-01-01 05:30:00+05:30",
     "datetime(2000-01-01 00:00:00.000000+0000)"},
    {TIMESTAMPTZ, "0002b59098fc2200", "2024-03-01 10:00:00+05:30",
     "datetime(2024-03-01 04:30:00.000000+0000)"},
    {TIMESTAMPTZ, "fff4c9ee7c0b8000", "1900-01-01 00:19:32+00:19:32",
     "datetime(1900-01-01 00:00:00.000000+0000)"},
    {TIMESTAMPTZ, "ff1af9e8fb46d000", "0044-03-15 12:19:32+00:19:32 BC",
     "datetime(-043-03-15 12:00:00.000000+0000)"},

    /* interval: int64 usec, int32 days, int32 months */
    {INTERVAL, "00000000000000000000000000000000", "00:00:00", "interval(0m 0d 0us)"},
    {INTERVAL, "000000036c97ca88000000030000000e", "1 year 2 mons 3 days 04:05:06.789",
     "interval(14m 3d 14706789000us)"},
    {INTERVAL, "0000000000000000ffffffff00000000", "-1 days", "interval(0m -1d 0us)"},
    {INTERVAL, "fffffffffff0bdc00000000000000000", "-00:00:01", "interval(0m 0d -1000000us)"},
    {INTERVAL, "00000000000000000000000000000001", "1 mon", "interval(1m 0d 0us)"},
    {INTERVAL, "fffffffc93743f7f00000003fffffff2", "-1 years -2 mons +3 days -04:05:06.000001",
     "interval(-14m 3d -14706000001us)"},
    {INTERVAL, "ffffffffffffffff0000000100000000", "1 day -00:00:00.000001",
     "interval(0m 1d -1us)"},
    {INTERVAL, "7fffffffffffffff0000000000000000", "2562047788:00:54.775807",
     "interval(0m 0d 9223372036854775807us)"},
    {INTERVAL, "80000000000000000000000000000000", "-2562047788:00:54.775808",
     "interval(0m 0d -9223372036854775808us)"},
    {INTERVAL, "0000000000000000000000007fffffff", "178956970 years 7 mons",
     "interval(2147483647m 0d 0us)"},
    {INTERVAL, "00000000000000000000000080000000", "-178956970 years -8 mons",
     "interval(-2147483648m 0d 0us)"},
    {INTERVAL, "00000000000000007fffffff00000000", "2147483647 days",
     "interval(0m 2147483647d 0us)"},
    {INTERVAL, "00000000000000008000000000000000", "-2147483648 days",
     "interval(0m -2147483648d 0us)"},
};

static void test_rows(void)
{
    size_t i;

    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const row *r = &rows[i];

        th_dec(__FILE__, __LINE__, r->oid, r->hex, r->repr);
        th_dect(__FILE__, __LINE__, r->oid, r->text, r->repr);
        th_rt(__FILE__, __LINE__, r->oid, r->hex);
    }
}

#define V_IV(mo, d, us) VAL(PGD_V_INTERVAL, .u.iv = {.usec = (us), .days = (d), .months = (mo)})

static void test_encode(void)
{
    /* date */
    ENC(DATE, V_DATE(.year = 2000, .month = 1, .day = 1), "00000000");
    ENC(DATE, V_DATE(.year = 2000, .month = 2, .day = 29), "0000003b");
    ENC(DATE, V_DATE(.year = 0, .month = 2, .day = 29), "fff4dac6");
    ENC(DATE, V_DATE(.year = -4713, .month = 11, .day = 24), "ffda97a7");
    ENC(DATE, V_DATE(.year = 5874897, .month = 12, .day = 31), "7fda970c");
    ENC(DATE, V_DATE(.infinity = 1), "7fffffff");
    ENC(DATE, V_DATE(.infinity = -1), "80000000");
    ENC_ERR(DATE, V_DATE(.year = -4713, .month = 11, .day = 23), "date -4713-11-23 out of range");
    ENC_ERR(DATE, V_DATE(.year = 5874898, .month = 1, .day = 1), "out of range");
    ENC_ERR(DATE, V_DATE(.year = 1900, .month = 2, .day = 29), "invalid date 1900-02-29");
    ENC_ERR(DATE, V_DATE(.year = 2100, .month = 2, .day = 29), "invalid date");
    ENC_ERR(DATE, V_DATE(.year = 2023, .month = 2, .day = 29), "invalid date");
    ENC_ERR(DATE, V_DATE(.year = 2000, .month = 13, .day = 1), "invalid date");
    ENC_ERR(DATE, V_DATE(.year = 2000, .month = 0, .day = 1), "invalid date");
    ENC_ERR(DATE, V_DATE(.year = 2000, .month = 4, .day = 31), "invalid date");
    ENC_ERR(DATE, V_DATE(.year = 2000, .month = 1, .day = 0), "invalid date");
    ENC_ERR(DATE, V_DT(.year = 2000, .month = 1, .day = 1), "cannot encode a datetime value as date");
    ENC_ERR(DATE, V_STR("2000-01-01"), "cannot encode a str value as date");

    /* time ignores a zone; timetz writes it (naive: +00) */
    ENC(TIME, V_TIME(.hour = 12, .minute = 34, .second = 56, .usec = 789000), "0000000a8be62608");
    ENC(TIME, V_TIME(.hour = 24), "000000141dd76000");
    ENC(TIME, V_TIME(.hour = 12, .has_tz = 1, .utc_offset = 7200), "0000000a0eebb000");
    ENC(TIMETZ, V_TIME(.hour = 12, .has_tz = 1, .utc_offset = 7200), "0000000a0eebb000ffffe3e0");
    ENC(TIMETZ, V_TIME(.hour = 12, .has_tz = 1, .utc_offset = -12600),
        "0000000a0eebb00000003138");
    ENC(TIMETZ, V_TIME(.hour = 12), "0000000a0eebb00000000000");
    ENC(TIMETZ, V_TIME(.has_tz = 1, .utc_offset = 57599), "0000000000000000ffff1f01");
    ENC_ERR(TIMETZ, V_TIME(.has_tz = 1, .utc_offset = 57600), "out of range for timetz");
    ENC_ERR(TIMETZ, V_TIME(.has_tz = 1, .utc_offset = -57600), "out of range for timetz");
    ENC_ERR(TIME, V_TIME(.hour = 24, .usec = 1), "past 24:00:00");
    ENC_ERR(TIME, V_TIME(.hour = 25), "invalid time");
    ENC_ERR(TIME, V_TIME(.minute = 60), "invalid time");
    ENC_ERR(TIME, V_TIME(.second = 60), "invalid time");
    ENC_ERR(TIME, V_TIME(.usec = 1000000), "invalid time");
    ENC_ERR(TIME, V_TIME(.hour = -1), "invalid time");
    ENC_ERR(TIMETZ, V_DT(.year = 2000, .month = 1, .day = 1), "cannot encode a datetime value as timetz");

    /* timestamp keeps the wall clock; timestamptz converts to UTC, naive = UTC */
    ENC(TIMESTAMP, V_DT(.year = 2000, .month = 1, .day = 1, .hour = 2, .has_tz = 1,
                        .utc_offset = 7200),
        "00000001ad274800");
    ENC(TIMESTAMPTZ, V_DT(.year = 2000, .month = 1, .day = 1, .hour = 2, .has_tz = 1,
                          .utc_offset = 7200),
        "0000000000000000");
    ENC(TIMESTAMPTZ, V_DT(.year = 2000, .month = 1, .day = 1), "0000000000000000");
    ENC(TIMESTAMPTZ, V_DT(.year = 2024, .month = 2, .day = 29, .hour = 23, .minute = 30,
                          .has_tz = 1, .utc_offset = -18000),
        "0002b59098fc2200");
    ENC(TIMESTAMPTZ, V_DT(.year = 1900, .month = 1, .day = 1, .minute = 19, .second = 32,
                          .has_tz = 1, .utc_offset = 1172),
        "fff4c9ee7c0b8000");
    /* a zone can bring a wall clock just past either end back in range */
    ENC(TIMESTAMPTZ, V_DT(.year = 294277, .month = 1, .day = 1, .minute = 30, .has_tz = 1,
                          .utc_offset = 3600),
        "7fffff5b4868ce00");
    ENC(TIMESTAMPTZ, V_DT(.year = -4713, .month = 11, .day = 23, .hour = 23, .has_tz = 1,
                          .utc_offset = -3600),
        "fd0f7cc1411fa000");
    ENC(TIMESTAMP, V_DT(.infinity = 1), "7fffffffffffffff");
    ENC(TIMESTAMPTZ, V_DT(.infinity = -1), "8000000000000000");
    ENC_ERR(TIMESTAMP, V_DT(.year = 294277, .month = 1, .day = 1), "timestamp 294277-01-01 out of range");
    ENC_ERR(TIMESTAMP, V_DT(.year = -4713, .month = 11, .day = 23, .hour = 23, .minute = 59),
            "out of range");
    ENC_ERR(TIMESTAMPTZ, V_DT(.year = 294276, .month = 12, .day = 31, .hour = 23, .has_tz = 1,
                              .utc_offset = -3600),
            "out of range");
    ENC_ERR(TIMESTAMP, V_DT(.year = 2001, .month = 2, .day = 29), "invalid timestamp 2001-02-29");
    ENC_ERR(TIMESTAMP, V_DT(.year = 2000, .month = 1, .day = 1, .hour = 24, .minute = 1),
            "invalid timestamp");
    ENC_ERR(TIMESTAMPTZ, V_DT(.year = 2000, .month = 1, .day = 1, .has_tz = 1,
                              .utc_offset = 200000),
            "utc offset 200000 seconds out of range");
    ENC_ERR(TIMESTAMP, V_DATE(.year = 2000, .month = 1, .day = 1),
            "cannot encode a date value as timestamp");

    /* interval: fields as given */
    ENC(INTERVAL, V_IV(14, 3, INT64_C(14706789000)), "000000036c97ca88000000030000000e");
    ENC(INTERVAL, V_IV(INT32_MIN, INT32_MAX, INT64_MIN), "8000000000000000 7fffffff 80000000");
    ENC(INTERVAL, V_IV(0, 0, -1), "ffffffffffffffff 00000000 00000000");
    ENC_ERR(INTERVAL, V_INT(5), "cannot encode a int value as interval");
}

static void test_extreme_wire(void)
{
    char err[512];
    pgd_obj *o;
    static const char *const far[] = {"8000000000000001", "7ffffffffffffffe"};
    size_t i, n;

    /* the farthest dates the wire can carry still decode (no overflow) */
    DEC(DATE, "80000001", "date(-5877611-06-23)");
    DEC(DATE, "7ffffffe", "date(5881610-07-10)");
    for (i = 0; i < 2; i++) {
        char *b = th_unhex(far[i], &n);

        th_count();
        o = th_decode_obj(TIMESTAMP, 1, b, n, err, sizeof err);
        if (!o)
            th_fail(__FILE__, __LINE__, "timestamp %s: %s", far[i], err);
        chost_free(o);
        free(b);
    }
}

static void test_malformed(void)
{
    /* binary: wrong sizes, impossible values */
    DEC_ERR(DATE, "", "0 bytes, expected 4");
    DEC_ERR(DATE, "000000", "3 bytes, expected 4");
    DEC_ERR(DATE, "0000000000", "5 bytes, expected 4");
    DEC_ERR(TIME, "00000000000000", "7 bytes, expected 8");
    DEC_ERR(TIME, "000000000000000000", "9 bytes, expected 8");
    DEC_ERR(TIME, "ffffffffffffffff", "invalid time on the wire: -1 microseconds");
    DEC_ERR(TIME, "000000141dd76001", "invalid time on the wire");
    DEC_ERR(TIME, "7fffffffffffffff", "invalid time on the wire");
    DEC_ERR(TIMETZ, "0000000000000000000000", "11 bytes, expected 12");
    DEC_ERR(TIMETZ, "00000000000000000000000000", "13 bytes, expected 12");
    DEC_ERR(TIMETZ, "0000000000000000", "8 bytes, expected 12");
    DEC_ERR(TIMETZ, "00000000000000000000e100", "invalid timetz zone 57600");
    DEC_ERR(TIMETZ, "0000000000000000ffff1f00", "invalid timetz zone -57600");
    DEC_ERR(TIMETZ, "000000141dd7600100000000", "invalid time on the wire");
    DEC_ERR(TIMETZ, "800000000000000000000000", "invalid time on the wire");
    DEC_ERR(TIMESTAMP, "00000000000000", "7 bytes, expected 8");
    DEC_ERR(TIMESTAMPTZ, "000000000000000000", "9 bytes, expected 8");
    DEC_ERR(INTERVAL, "000000000000000000000000000000", "15 bytes, expected 16");
    DEC_ERR(INTERVAL, "0000000000000000000000000000000000", "17 bytes, expected 16");
    DEC_ERR(INTERVAL, "0000000000000000", "8 bytes, expected 16");

    /* text the server never writes */
    DECT_ERR(DATE, "", "invalid date text");
    DECT_ERR(DATE, "2000-13-01", "invalid date text");
    DECT_ERR(DATE, "2000-00-10", "invalid date text");
    DECT_ERR(DATE, "2000-02-30", "invalid date text");
    DECT_ERR(DATE, "2001-02-29", "invalid date text \"2001-02-29\"");
    DECT_ERR(DATE, "1900-02-29", "invalid date text");
    DECT_ERR(DATE, "0004-02-29 BC", "invalid date text"); /* 4 BC is not a leap year */
    DECT_ERR(DATE, "0000-01-01", "invalid date text");
    DECT_ERR(DATE, "2000-1-01", "invalid date text");
    DECT_ERR(DATE, "200-01-01", "invalid date text");
    DECT_ERR(DATE, "2000-01-01 AD", "invalid date text");
    DECT_ERR(DATE, "2000-01-01 BCE", "invalid date text");
    DECT_ERR(DATE, "2000-01-01 ", "invalid date text");
    DECT_ERR(DATE, "2000-01-0", "invalid date text");
    DECT_ERR(DATE, "2000-01", "invalid date text");
    DECT_ERR(DATE, "Infinity", "invalid date text");
    DECT_ERR(DATE, "infinity ", "invalid date text");
    DECT_ERR(DATE, "+infinity", "invalid date text");
    DECT_ERR(TIME, "24:00:01", "invalid time text");
    DECT_ERR(TIME, "24:00:00.000001", "invalid time text");
    DECT_ERR(TIME, "25:00:00", "invalid time text");
    DECT_ERR(TIME, "12:60:00", "invalid time text");
    DECT_ERR(TIME, "12:00:60", "invalid time text");
    DECT_ERR(TIME, "12:00", "invalid time text");
    DECT_ERR(TIME, "12:00:00.", "invalid time text");
    DECT_ERR(TIME, "12:00:00.1234567", "invalid time text");
    DECT_ERR(TIME, "12:00:00+02", "invalid time text");
    DECT_ERR(TIME, "1:00:00", "invalid time text");
    DECT_ERR(TIMETZ, "12:00:00", "invalid timetz text");
    DECT_ERR(TIMETZ, "12:00:00+16", "invalid timetz text");
    DECT_ERR(TIMETZ, "12:00:00-16", "invalid timetz text");
    DECT_ERR(TIMETZ, "12:00:00+1", "invalid timetz text");
    DECT_ERR(TIMETZ, "12:00:00+02:60", "invalid timetz text");
    DECT_ERR(TIMETZ, "12:00:00+02:00:", "invalid timetz text");
    DECT_ERR(TIMETZ, "12:00:00+02:00:00:00", "invalid timetz text");
    DECT_ERR(TIMETZ, "12:00:00 +02", "invalid timetz text");
    DECT_ERR(TIMESTAMP, "2000-01-01T00:00:00", "invalid timestamp text");
    DECT_ERR(TIMESTAMP, "2000-01-01", "invalid timestamp text");
    DECT_ERR(TIMESTAMP, "2000-01-01 00:00:00+00", "invalid timestamp text");
    DECT_ERR(TIMESTAMP, "2000-02-30 00:00:00", "invalid timestamp text");
    DECT_ERR(TIMESTAMP, "2000-01-01 00:00:00 BC ", "invalid timestamp text");
    DECT_ERR(TIMESTAMP, "2000-01-01 00:00:00 ", "invalid timestamp text");
    DECT_ERR(TIMESTAMPTZ, "2000-01-01 00:00:00", "invalid timestamptz text");
    DECT_ERR(TIMESTAMPTZ, "2000-01-01 00:00:00 BC+00", "invalid timestamptz text");
    DECT_ERR(TIMESTAMPTZ, "infinity+00", "invalid timestamptz text");
    DECT_ERR(TIMESTAMPTZ, "999999999-01-01 00:00:00+00", "out of range");
    DECT_ERR(INTERVAL, "", "invalid interval text");
    DECT_ERR(INTERVAL, "1 year 1 year", "invalid interval text");
    DECT_ERR(INTERVAL, "1 day 1 mon", "invalid interval text");
    DECT_ERR(INTERVAL, "00:00:00 1 day", "invalid interval text");
    DECT_ERR(INTERVAL, "1 fortnight", "invalid interval text");
    DECT_ERR(INTERVAL, "1", "invalid interval text");
    DECT_ERR(INTERVAL, "1 day ", "invalid interval text");
    DECT_ERR(INTERVAL, " 1 day", "invalid interval text");
    DECT_ERR(INTERVAL, "1 day  00:00:00", "invalid interval text");
    DECT_ERR(INTERVAL, "2147483648 days", "invalid interval text");
    DECT_ERR(INTERVAL, "178956971 years", "invalid interval text");
    DECT_ERR(INTERVAL, "99999999999999999999 days", "invalid interval text");
    DECT_ERR(INTERVAL, "768614336404564651 years", "invalid interval text");
    DECT_ERR(INTERVAL, "2562047788:00:54.775808", "invalid interval text");
    DECT_ERR(INTERVAL, "-2562047788:00:54.775809", "invalid interval text");
    DECT_ERR(INTERVAL, "2562047789:00:00", "invalid interval text");
    DECT_ERR(INTERVAL, "01:60:00", "invalid interval text");
    DECT_ERR(INTERVAL, "01:00", "invalid interval text");
    DECT_ERR(INTERVAL, "01:00:00.1234567", "invalid interval text");
    DECT_ERR(INTERVAL, "-", "invalid interval text");
}

int main(void)
{
    th_init();
    test_rows();
    test_encode();
    test_extreme_wire();
    test_malformed();
    return th_finish();
}
