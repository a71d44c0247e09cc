/*
 * datetime.c - date/time codecs: date, time, timetz, timestamp, timestamptz,
 * interval.
 *
 * Server functions: date_recv/date_send, time_recv/time_send,
 * timetz_recv/timetz_send, timestamp_recv/timestamp_send,
 * timestamptz_recv/timestamptz_send, interval_recv/interval_send (binary);
 * date_in/date_out, time_in/time_out, timetz_in/timetz_out,
 * timestamp_in/timestamp_out, timestamptz_in/timestamptz_out,
 * interval_in/interval_out (text).
 *
 * Binary wire layouts (big-endian, epoch 2000-01-01):
 *   date         int32 days since 2000-01-01; INT32_MIN = -infinity,
 *                INT32_MAX = infinity
 *   time         int64 microseconds since midnight, 0..86400000000
 *                (24:00:00 is valid)
 *   timetz       int64 microseconds since midnight, then int32 zone in
 *                seconds WEST of UTC (|zone| < 16 h); pgd_dt.utc_offset is
 *                EAST of UTC, so utc_offset = -zone
 *   timestamp    int64 microseconds since 2000-01-01 00:00:00;
 *                INT64_MIN = -infinity, INT64_MAX = infinity
 *   timestamptz  the same, in UTC; decoded values have has_tz = 1,
 *                utc_offset = 0; encoding converts the value's utc_offset
 *                to UTC (a naive value is taken as UTC)
 *   interval     int64 microseconds, int32 days, int32 months (in that
 *                order); no special values (PostgreSQL 15)
 *
 * Text forms (the driver sets DateStyle = ISO, IntervalStyle = postgres):
 *   date         "2000-01-31", "0044-03-15 BC", "infinity", "-infinity"
 *   time         "13:45:00", "13:45:00.5" (fraction: 1..6 digits, trailing
 *                zeros dropped)
 *   timetz       "13:45:00+02", "13:45:00-03:30", "13:45:00+00:19:32"
 *   timestamp    "2000-01-31 13:45:00.25", "0044-03-15 12:00:00 BC"
 *   timestamptz  "2000-01-31 13:45:00+02", "0044-03-15 12:00:00+00 BC" (the
 *                session's zone; decoded to UTC)
 *   interval     "1 year 2 mons -3 days +04:05:06.5", "-1 days", "00:00:00"
 *
 * Years are proleptic Gregorian, astronomical (1 BC = year 0 in pgd_dt;
 * the text form says "0001 ... BC").  Day arithmetic is days-from-civil
 * (H. Hinnant's algorithms), no libc time functions, no time zone database.
 *
 * Encoding accepts PGD_V_DATE for date, PGD_V_TIME for time and timetz
 * (time ignores the zone; a naive timetz gets +00), PGD_V_DATETIME for
 * timestamp (wall-clock fields as given, the zone is dropped) and
 * timestamptz, PGD_V_INTERVAL for interval.  Values outside the server's
 * ranges (dates 4714-11-24 BC .. 5874897 AD, timestamps up to 294276 AD)
 * are refused.
 */
#include "codec_util.h"

#define USECS_PER_SEC INT64_C(1000000)
#define USECS_PER_DAY INT64_C(86400000000)
#define UNIX_TO_PG_DAYS 10957       /* 1970-01-01 -> 2000-01-01 */
#define PG_MIN_DAYS (-2451545L)     /* Julian day 0, 4714-11-24 BC */
#define PG_DATE_END_DAYS 2145031949L /* first day past the date range */
#define PG_TS_END_DAYS 106751983L    /* first day past the timestamp range */
#define TZ_LIMIT 57600               /* |zone| must stay below 16 h */

/* ---- calendar ---------------------------------------------------------- */

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian, astronomical y). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (unsigned)((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1);
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, pgd_dt *out)
{
    int64_t era, y;
    unsigned doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = (int64_t)yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    out->day = (int32_t)(doy - (153 * mp + 2) / 5 + 1);
    out->month = (int32_t)(mp < 10 ? mp + 3 : mp - 9);
    out->year = (int32_t)(y + (out->month <= 2));
}

static int days_in_month(int64_t y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : dm[m - 1];
}

/* Days since 2000-01-01 of v's date, within [min_days, end_days);
 * -1 after an error naming `type`. */
static int pg_days(const pgd_cx *cx, const pgd_dt *v, long min_days, long end_days,
                   const char *type, int64_t *out)
{
    int64_t days;

    if (v->month < 1 || v->month > 12 || v->day < 1 ||
        v->day > days_in_month(v->year, v->month))
        return CU_ERR(cx, "invalid %s %d-%02d-%02d", type, (int)v->year, (int)v->month,
                      (int)v->day);
    days = days_from_civil(v->year, v->month, v->day) - UNIX_TO_PG_DAYS;
    if (days < min_days || days >= end_days)
        return CU_ERR(cx, "%s %d-%02d-%02d out of range", type, (int)v->year,
                      (int)v->month, (int)v->day);
    *out = days;
    return 0;
}

/* Microseconds since midnight of v's clock fields (24:00:00 allowed). */
static int pg_clock(const pgd_cx *cx, const pgd_dt *v, const char *type, int64_t *out)
{
    int64_t t;

    if (v->hour < 0 || v->hour > 24 || v->minute < 0 || v->minute > 59 || v->second < 0 ||
        v->second > 59 || v->usec < 0 || v->usec > 999999)
        return CU_ERR(cx, "invalid %s %02d:%02d:%02d.%06d", type, (int)v->hour,
                      (int)v->minute, (int)v->second, (int)v->usec);
    t = ((int64_t)v->hour * 3600 + v->minute * 60 + v->second) * USECS_PER_SEC + v->usec;
    if (t > USECS_PER_DAY)
        return CU_ERR(cx, "invalid %s: past 24:00:00", type);
    *out = t;
    return 0;
}

static void split_clock(int64_t t, pgd_dt *v)
{
    int64_t secs = t / USECS_PER_SEC;

    v->usec = (int32_t)(t % USECS_PER_SEC);
    v->second = (int32_t)(secs % 60);
    v->minute = (int32_t)(secs / 60 % 60);
    v->hour = (int32_t)(secs / 3600);
}

/* Fill v from microseconds since 2000-01-01. */
static void split_timestamp(int64_t ts, pgd_dt *v)
{
    int64_t days = ts / USECS_PER_DAY, rem = ts % USECS_PER_DAY;

    if (rem < 0) {
        rem += USECS_PER_DAY;
        days--;
    }
    civil_from_days(days + UNIX_TO_PG_DAYS, v);
    split_clock(rem, v);
}

/* ---- binary decode ----------------------------------------------------- */

static pgd_obj *date_decode(const pgd_cx *cx, const char *data, size_t len)
{
    pgd_dt v = {0};
    int32_t d;

    if (len != 4)
        return cu_bad_len(cx, "date", len, 4);
    d = pgd_get_i32(data);
    if (d == INT32_MIN)
        v.infinity = -1;
    else if (d == INT32_MAX)
        v.infinity = 1;
    else
        civil_from_days((int64_t)d + UNIX_TO_PG_DAYS, &v);
    return cx->host->make_date(cx->h, &v);
}

static int clock_from_wire(const pgd_cx *cx, const char *data, pgd_dt *v)
{
    int64_t t = pgd_get_i64(data);

    if (t < 0 || t > USECS_PER_DAY)
        return CU_ERR(cx, "invalid time on the wire: %lld microseconds", (long long)t);
    split_clock(t, v);
    return 0;
}

static pgd_obj *time_decode(const pgd_cx *cx, const char *data, size_t len)
{
    pgd_dt v = {0};

    if (len != 8)
        return cu_bad_len(cx, "time", len, 8);
    if (clock_from_wire(cx, data, &v) < 0)
        return NULL;
    return cx->host->make_time(cx->h, &v);
}

static pgd_obj *timetz_decode(const pgd_cx *cx, const char *data, size_t len)
{
    pgd_dt v = {0};
    int32_t zone;

    if (len != 12)
        return cu_bad_len(cx, "timetz", len, 12);
    if (clock_from_wire(cx, data, &v) < 0)
        return NULL;
    zone = pgd_get_i32(data + 8);
    if (zone <= -TZ_LIMIT || zone >= TZ_LIMIT)
        return CU_FAIL(cx, "invalid timetz zone %d seconds", (int)zone);
    v.has_tz = 1;
    v.utc_offset = -zone;
    return cx->host->make_time(cx->h, &v);
}

static pgd_obj *ts_decode(const pgd_cx *cx, const char *data, size_t len, int tz)
{
    pgd_dt v = {0};
    int64_t ts;

    if (len != 8)
        return cu_bad_len(cx, tz ? "timestamptz" : "timestamp", len, 8);
    ts = pgd_get_i64(data);
    if (ts == INT64_MIN)
        v.infinity = -1;
    else if (ts == INT64_MAX)
        v.infinity = 1;
    else
        split_timestamp(ts, &v);
    v.has_tz = (int8_t)tz;
    return cx->host->make_datetime(cx->h, &v);
}

static pgd_obj *timestamp_decode(const pgd_cx *cx, const char *data, size_t len)
{
    return ts_decode(cx, data, len, 0);
}

static pgd_obj *timestamptz_decode(const pgd_cx *cx, const char *data, size_t len)
{
    return ts_decode(cx, data, len, 1);
}

static pgd_obj *interval_decode(const pgd_cx *cx, const char *data, size_t len)
{
    if (len != 16)
        return cu_bad_len(cx, "interval", len, 16);
    return cx->host->make_interval(cx->h, pgd_get_i32(data + 12), pgd_get_i32(data + 8),
                                   pgd_get_i64(data));
}

/* ---- text decode ------------------------------------------------------- */

typedef struct cur {
    const char *p, *end;
} cur;

static int cur_lit(cur *c, const char *lit)
{
    size_t n = strlen(lit);

    if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n) != 0)
        return 0;
    c->p += n;
    return 1;
}

/* Unsigned decimal of min..max digits into *out (no overflow past 18). */
static int cur_uint(cur *c, int min, int max, int64_t *out)
{
    int n = 0;
    int64_t v = 0;

    while (c->p < c->end && n < max && cu_is_digit(*c->p)) {
        v = v * 10 + (*c->p++ - '0');
        n++;
    }
    if (n < min)
        return 0;
    *out = v;
    return 1;
}

/* "YYYY-MM-DD" (4+ digit year); stores the year as written. */
static int parse_ymd(cur *c, pgd_dt *v)
{
    int64_t y, m, d;

    if (!cur_uint(c, 4, 9, &y) || !cur_lit(c, "-") || !cur_uint(c, 2, 2, &m) ||
        !cur_lit(c, "-") || !cur_uint(c, 2, 2, &d))
        return 0;
    if (y < 1 || m < 1 || m > 12)
        return 0;
    v->year = (int32_t)y;
    v->month = (int32_t)m;
    v->day = (int32_t)d;
    return 1;
}

/* " BC" suffix: turn the written year into the astronomical one; then
 * check the day of month. */
static int finish_ymd(cur *c, pgd_dt *v)
{
    if (cur_lit(c, " BC"))
        v->year = 1 - v->year;
    return v->day >= 1 && v->day <= days_in_month(v->year, v->month);
}

/* "HH:MM:SS[.ffffff]" */
static int parse_clock(cur *c, pgd_dt *v)
{
    int64_t h, m, s, f = 0;
    const char *fs;

    if (!cur_uint(c, 2, 2, &h) || !cur_lit(c, ":") || !cur_uint(c, 2, 2, &m) ||
        !cur_lit(c, ":") || !cur_uint(c, 2, 2, &s))
        return 0;
    if (cur_lit(c, ".")) {
        fs = c->p;
        if (!cur_uint(c, 1, 6, &f))
            return 0;
        for (long k = c->p - fs; k < 6; k++)
            f *= 10;
    }
    if (m > 59 || s > 59 || h > 24 || (h == 24 && (m || s || f)))
        return 0;
    v->hour = (int32_t)h;
    v->minute = (int32_t)m;
    v->second = (int32_t)s;
    v->usec = (int32_t)f;
    return 1;
}

/* "+HH[:MM[:SS]]" -> seconds EAST of UTC (the text shows the east offset). */
static int parse_zone(cur *c, int32_t *east)
{
    int64_t h, m = 0, s = 0;
    int neg;

    if (cur_lit(c, "+"))
        neg = 0;
    else if (cur_lit(c, "-"))
        neg = 1;
    else
        return 0;
    if (!cur_uint(c, 2, 2, &h))
        return 0;
    if (cur_lit(c, ":")) {
        if (!cur_uint(c, 2, 2, &m))
            return 0;
        if (cur_lit(c, ":") && !cur_uint(c, 2, 2, &s))
            return 0;
    }
    if (m > 59 || s > 59 || h * 3600 + m * 60 + s >= TZ_LIMIT)
        return 0;
    *east = (int32_t)((neg ? -1 : 1) * (h * 3600 + m * 60 + s));
    return 1;
}

/* 'infinity' / '-infinity' as the whole text: sets v->infinity. */
static int parse_infinity(const char *data, size_t len, pgd_dt *v)
{
    if (len == 8 && memcmp(data, "infinity", 8) == 0)
        v->infinity = 1;
    else if (len == 9 && memcmp(data, "-infinity", 9) == 0)
        v->infinity = -1;
    return v->infinity != 0;
}

static CU_COLD pgd_obj *bad_text(const pgd_cx *cx, const char *type, const char *data,
                                 size_t len)
{
    return CU_FAIL(cx, "invalid %s text \"%.*s\"", type, (int)(len > 48 ? 48 : len), data);
}

static pgd_obj *date_decode_text(const pgd_cx *cx, const char *data, size_t len)
{
    pgd_dt v = {0};
    cur c = {data, data + len};

    if (!parse_infinity(data, len, &v) &&
        (!parse_ymd(&c, &v) || !finish_ymd(&c, &v) || c.p != c.end))
        return bad_text(cx, "date", data, len);
    return cx->host->make_date(cx->h, &v);
}

static pgd_obj *time_decode_text(const pgd_cx *cx, const char *data, size_t len)
{
    pgd_dt v = {0};
    cur c = {data, data + len};

    if (!parse_clock(&c, &v) || c.p != c.end)
        return bad_text(cx, "time", data, len);
    return cx->host->make_time(cx->h, &v);
}

static pgd_obj *timetz_decode_text(const pgd_cx *cx, const char *data, size_t len)
{
    pgd_dt v = {0};
    cur c = {data, data + len};

    if (!parse_clock(&c, &v) || !parse_zone(&c, &v.utc_offset) || c.p != c.end)
        return bad_text(cx, "timetz", data, len);
    v.has_tz = 1;
    return cx->host->make_time(cx->h, &v);
}

static pgd_obj *ts_decode_text(const pgd_cx *cx, const char *data, size_t len, int tz)
{
    const char *type = tz ? "timestamptz" : "timestamp";
    pgd_dt v = {0};
    cur c = {data, data + len};
    int32_t east = 0;

    if (!parse_infinity(data, len, &v)) {
        int64_t days, clock, ts;

        if (!parse_ymd(&c, &v) || !cur_lit(&c, " ") || !parse_clock(&c, &v) ||
            (tz && !parse_zone(&c, &east)) || !finish_ymd(&c, &v) || c.p != c.end)
            return bad_text(cx, type, data, len);
        /* Normalize through the epoch count: applies the zone and 24:00. */
        days = days_from_civil(v.year, v.month, v.day) - UNIX_TO_PG_DAYS;
        clock = ((int64_t)v.hour * 3600 + v.minute * 60 + v.second - east) * USECS_PER_SEC +
                v.usec;
        if (days < PG_MIN_DAYS - 1 || days > PG_TS_END_DAYS)
            return CU_FAIL(cx, "%s text \"%.*s\" out of range", type,
                           (int)(len > 48 ? 48 : len), data);
        ts = days * USECS_PER_DAY + clock;
        memset(&v, 0, sizeof v);
        split_timestamp(ts, &v);
    }
    v.has_tz = (int8_t)tz;
    return cx->host->make_datetime(cx->h, &v);
}

static pgd_obj *timestamp_decode_text(const pgd_cx *cx, const char *data, size_t len)
{
    return ts_decode_text(cx, data, len, 0);
}

static pgd_obj *timestamptz_decode_text(const pgd_cx *cx, const char *data, size_t len)
{
    return ts_decode_text(cx, data, len, 1);
}

/* Signed decimal int64 with overflow check. */
static int cur_int64(cur *c, int64_t *out)
{
    int neg = 0, n = 0;
    uint64_t v = 0, lim;

    if (cur_lit(c, "-"))
        neg = 1;
    else
        cur_lit(c, "+");
    lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    while (c->p < c->end && cu_is_digit(*c->p)) {
        unsigned d = (unsigned)(*c->p++ - '0');

        if (v > (lim - d) / 10)
            return 0;
        v = v * 10 + d;
        n++;
    }
    if (!n)
        return 0;
    *out = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
    return 1;
}

/*
 * IntervalStyle = postgres: space-separated "N year[s]", "N mon[s]",
 * "N day[s]" and an optional "[+-]H:MM:SS[.f]" (hours unbounded), each
 * part at most once and in that order.
 */
static pgd_obj *interval_decode_text(const pgd_cx *cx, const char *data, size_t len)
{
    cur c = {data, data + len};
    int64_t months = 0, days = 0, usec = 0;
    int stage = 0; /* 1 years, 2 mons, 3 days, 4 time */

    if (len == 0)
        goto error;
    while (c.p < c.end) {
        const char *save;
        int64_t n, m, s, f = 0;

        if (stage && !cur_lit(&c, " "))
            goto error;
        save = c.p;
        if (!cur_int64(&c, &n))
            goto error;
        if (cur_lit(&c, " year")) {
            cur_lit(&c, "s");
            if (stage >= 1 || __builtin_mul_overflow(n, 12, &n) ||
                __builtin_add_overflow(months, n, &months))
                goto error;
            stage = 1;
        } else if (cur_lit(&c, " mon")) {
            cur_lit(&c, "s");
            if (stage >= 2 || __builtin_add_overflow(months, n, &months))
                goto error;
            stage = 2;
        } else if (cur_lit(&c, " day")) {
            cur_lit(&c, "s");
            if (stage >= 3)
                goto error;
            days = n;
            stage = 3;
        } else if (cur_lit(&c, ":")) {
            int neg = *save == '-';
            uint64_t mag, lim;
            uint64_t hmag = n < 0 ? (uint64_t)(-(n + 1)) + 1 : (uint64_t)n;

            if (stage >= 4 || !cur_uint(&c, 2, 2, &m) || !cur_lit(&c, ":") ||
                !cur_uint(&c, 2, 2, &s) || m > 59 || s > 59)
                goto error;
            if (cur_lit(&c, ".")) {
                const char *fs = c.p;

                if (!cur_uint(&c, 1, 6, &f))
                    goto error;
                for (long k = c.p - fs; k < 6; k++)
                    f *= 10;
            }
            lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
            if (hmag > lim / 3600000000u)
                goto error;
            mag = hmag * 3600000000u;
            if (lim - mag < (uint64_t)((m * 60 + s) * USECS_PER_SEC + f))
                goto error;
            mag += (uint64_t)((m * 60 + s) * USECS_PER_SEC + f);
            usec = neg ? (mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag)
                       : (int64_t)mag;
            stage = 4;
        } else {
            goto error;
        }
    }
    if (months < INT32_MIN || months > INT32_MAX || days < INT32_MIN || days > INT32_MAX)
        goto error;
    return cx->host->make_interval(cx->h, (int32_t)months, (int32_t)days, usec);

error:
    return bad_text(cx, "interval", data, len);
}

/* ---- encode ------------------------------------------------------------ */

static int put32(const pgd_cx *cx, pgd_wbuf *out, int32_t x)
{
    char *p = cu_reserve(cx, out, 4);

    if (!p)
        return -1;
    pgd_put_i32(p, x);
    return 4;
}

static int put64(const pgd_cx *cx, pgd_wbuf *out, int64_t x)
{
    char *p = cu_reserve(cx, out, 8);

    if (!p)
        return -1;
    pgd_put_i64(p, x);
    return 8;
}

static int date_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    int64_t days;

    if (v->kind != PGD_V_DATE)
        return cu_wrong_kind(cx, v, "date");
    if (v->u.dt.infinity)
        return put32(cx, out, v->u.dt.infinity > 0 ? INT32_MAX : INT32_MIN);
    if (pg_days(cx, &v->u.dt, PG_MIN_DAYS, PG_DATE_END_DAYS, "date", &days) < 0)
        return -1;
    return put32(cx, out, (int32_t)days);
}

static int time_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    int64_t t = 0; /* set by pg_clock; the compiler cannot see it through the error path */

    if (v->kind != PGD_V_TIME)
        return cu_wrong_kind(cx, v, "time");
    if (pg_clock(cx, &v->u.dt, "time", &t) < 0)
        return -1;
    return put64(cx, out, t);
}

static int timetz_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    int64_t t = 0; /* as in time_encode */
    int32_t zone;
    char *p;

    if (v->kind != PGD_V_TIME)
        return cu_wrong_kind(cx, v, "timetz");
    if (pg_clock(cx, &v->u.dt, "timetz", &t) < 0)
        return -1;
    zone = v->u.dt.has_tz ? -v->u.dt.utc_offset : 0;
    if (zone <= -TZ_LIMIT || zone >= TZ_LIMIT)
        return CU_ERR(cx, "utc offset %d seconds out of range for timetz",
                      (int)v->u.dt.utc_offset);
    p = cu_reserve(cx, out, 12);
    if (!p)
        return -1;
    pgd_put_i64(p, t);
    pgd_put_i32(p + 8, zone);
    return 12;
}

static int ts_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out, int tz)
{
    const char *type = tz ? "timestamptz" : "timestamp";
    int64_t days, clock, ts;

    if (v->kind != PGD_V_DATETIME)
        return cu_wrong_kind(cx, v, type);
    if (v->u.dt.infinity)
        return put64(cx, out, v->u.dt.infinity > 0 ? INT64_MAX : INT64_MIN);
    /* one day of slack each side: the zone shift may bring it back in */
    if (pg_days(cx, &v->u.dt, PG_MIN_DAYS - 1, PG_TS_END_DAYS + 1, type, &days) < 0 ||
        pg_clock(cx, &v->u.dt, type, &clock) < 0)
        return -1;
    ts = days * USECS_PER_DAY + clock;
    if (tz && v->u.dt.has_tz) {
        if (v->u.dt.utc_offset <= -TZ_LIMIT * 2 || v->u.dt.utc_offset >= TZ_LIMIT * 2)
            return CU_ERR(cx, "utc offset %d seconds out of range", (int)v->u.dt.utc_offset);
        ts -= (int64_t)v->u.dt.utc_offset * USECS_PER_SEC;
    }
    if (ts < PG_MIN_DAYS * USECS_PER_DAY || ts >= PG_TS_END_DAYS * USECS_PER_DAY)
        return CU_ERR(cx, "%s %d-%02d-%02d out of range", type, (int)v->u.dt.year,
                      (int)v->u.dt.month, (int)v->u.dt.day);
    return put64(cx, out, ts);
}

static int timestamp_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    return ts_encode(cx, v, out, 0);
}

static int timestamptz_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    return ts_encode(cx, v, out, 1);
}

static int interval_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    char *p;

    if (v->kind != PGD_V_INTERVAL)
        return cu_wrong_kind(cx, v, "interval");
    p = cu_reserve(cx, out, 16);
    if (!p)
        return -1;
    pgd_put_i64(p, v->u.iv.usec);
    pgd_put_i32(p + 8, v->u.iv.days);
    pgd_put_i32(p + 12, v->u.iv.months);
    return 16;
}

#define BOTH (PGD_CODEC_BINARY | PGD_CODEC_TEXT)

static const pgd_codec codecs[] = {
    {"date", 1082, 1182, BOTH, 0, date_encode, date_decode, date_decode_text, {0}},
    {"time", 1083, 1183, BOTH, 0, time_encode, time_decode, time_decode_text, {0}},
    {"timetz", 1266, 1270, BOTH, 0, timetz_encode, timetz_decode, timetz_decode_text, {0}},
    {"timestamp", 1114, 1115, BOTH, 0, timestamp_encode, timestamp_decode,
     timestamp_decode_text, {0}},
    {"timestamptz", 1184, 1185, BOTH, 0, timestamptz_encode, timestamptz_decode,
     timestamptz_decode_text, {0}},
    {"interval", 1186, 1187, BOTH, 0, interval_encode, interval_decode, interval_decode_text,
     {0}},
};

static const pgd_codec_module module = PGD_CODEC_MODULE_INIT("datetime", "1.0.0", codecs);

PGD_CODEC_EXPORT const pgd_codec_module *pgd_codec_module_v1(void)
{
    return &module;
}
