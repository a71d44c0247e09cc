/*
 * chost.c - the C codec host: a pgd_host table whose builders make plain C
 * trees (chost_obj), a growable output buffer and a bounded error message.
 * Used by the C tests and the benchmarks; no Python, no server.
 *
 * The builders are deliberately strict so that a codec bug shows up as an
 * error instead of a plausible-looking value:
 *  - make_str refuses invalid UTF-8 (the Python host refuses it too);
 *  - make_json checks the text is one well-formed JSON value;
 *  - make_decimal accepts only canonical decimal text ("-12.340", "0",
 *    "NaN", "Infinity", "-Infinity"): no exponent, no '+', no leading zeros;
 *  - make_date/time/datetime check every calendar field.
 * Years are astronomical (1 BC == year 0, 2 BC == -1).
 *
 * Ownership: every builder returns a new tree owned by the caller (free it
 * with chost_free); list_set steals its item, also on failure.
 */
#include "chost.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- errors ------------------------------------------------------------ */

/* Record a message in the context; returns -1 (the codec convention). */
static int ch_error(void *h, const char *fmt, ...)
{
    chost_ctx *ctx = h;
    va_list ap;

    if (!ctx)
        return -1;
    va_start(ap, fmt);
    vsnprintf(ctx->err, sizeof ctx->err, fmt, ap);
    va_end(ap);
    ctx->nerrors++;
    return -1;
}

/* Cold helper for builders: record and return NULL. */
#define CH_FAIL(h, ...) (ch_error((h), __VA_ARGS__), (pgd_obj *)NULL)

/* ---- output buffer ----------------------------------------------------- */

void chost_wbuf_init(struct pgd_wbuf *b)
{
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
}

void chost_wbuf_free(struct pgd_wbuf *b)
{
    free(b->p);
    chost_wbuf_init(b);
}

void chost_wbuf_reset(struct pgd_wbuf *b)
{
    b->len = 0;
}

/* Append n bytes; the returned pointer is valid until the next reserve. */
static char *ch_reserve(pgd_wbuf *b, size_t n)
{
    if (n > SIZE_MAX / 2 - b->len)
        return NULL;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        char *p;

        while (cap < b->len + n)
            cap *= 2;
        p = realloc(b->p, cap);
        if (!p)
            return NULL;
        b->p = p;
        b->cap = cap;
    }
    b->len += n;
    return b->p + b->len - n;
}

static size_t ch_tell(const pgd_wbuf *b)
{
    return b->len;
}

/* Pointer to an offset already written (for back-patching lengths). */
static char *ch_at(pgd_wbuf *b, size_t off)
{
    if (off > b->len)
        return NULL;
    return b->p + off;
}

static const pgd_codec *ch_find(void *h, uint32_t oid)
{
    chost_ctx *ctx = h;

    if (!ctx || !ctx->find)
        return NULL;
    return ctx->find(ctx->find_user, oid);
}

/* ---- objects ----------------------------------------------------------- */

static chost_obj *ch_new(void *h, chost_kind kind)
{
    chost_obj *o = calloc(1, sizeof *o);

    if (!o) {
        ch_error(h, "out of memory");
        return NULL;
    }
    o->kind = kind;
    return o;
}

/* New object holding a NUL-terminated copy of p[0..n). */
static pgd_obj *ch_new_bytes(void *h, chost_kind kind, const char *p, size_t n)
{
    chost_obj *o;

    if (n == SIZE_MAX)
        return CH_FAIL(h, "string too long");
    o = ch_new(h, kind);
    if (!o)
        return NULL;
    o->s = malloc(n + 1);
    if (!o->s) {
        free(o);
        return CH_FAIL(h, "out of memory");
    }
    if (n)
        memcpy(o->s, p, n);
    o->s[n] = '\0';
    o->n = n;
    return (pgd_obj *)o;
}

void chost_free(pgd_obj *obj)
{
    chost_obj *o = (chost_obj *)obj;
    size_t i;

    if (!o)
        return;
    if (o->items) { /* LIST, TUPLE, CALL */
        for (i = 0; i < o->n; i++)
            chost_free((pgd_obj *)o->items[i]);
        free(o->items);
    }
    free(o->s);
    free(o);
}

static void ch_release(void *h, pgd_obj *o)
{
    (void)h;
    chost_free(o);
}

/* ---- validators -------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 if invalid.
 * Rejects overlong forms, surrogates and code points above U+10FFFF. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    uint32_t cp;
    size_t k, i;

    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xC2 && p[0] <= 0xDF)
        k = 2, cp = p[0] & 0x1F;
    else if (p[0] >= 0xE0 && p[0] <= 0xEF)
        k = 3, cp = p[0] & 0x0F;
    else if (p[0] >= 0xF0 && p[0] <= 0xF4)
        k = 4, cp = p[0] & 0x07;
    else
        return 0;
    if (n < k)
        return 0;
    for (i = 1; i < k; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    if (cp >= 0xD800 && cp <= 0xDFFF)
        return 0;
    return k;
}

/* Offset of the first invalid byte, or n when p[0..n) is valid UTF-8. */
static size_t utf8_check(const char *p, size_t n)
{
    size_t i = 0;

    while (i < n) {
        size_t k = utf8_seq((const unsigned char *)p + i, n - i);

        if (!k)
            return i;
        i += k;
    }
    return n;
}

/* A small recursive-descent JSON syntax checker (RFC 8259). */
typedef struct json_cur {
    const char *p, *end;
    int depth;
} json_cur;

static void json_ws(json_cur *c)
{
    while (c->p < c->end &&
           (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int json_lit(json_cur *c, const char *lit)
{
    size_t n = strlen(lit);

    if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n) != 0)
        return -1;
    c->p += n;
    return 0;
}

static int json_digits(json_cur *c)
{
    const char *start = c->p;

    while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
        c->p++;
    return c->p > start ? 0 : -1;
}

static int json_number(json_cur *c)
{
    if (c->p < c->end && *c->p == '-')
        c->p++;
    if (c->p < c->end && *c->p == '0')
        c->p++;
    else if (json_digits(c) < 0)
        return -1;
    if (c->p < c->end && *c->p == '.') {
        c->p++;
        if (json_digits(c) < 0)
            return -1;
    }
    if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
        c->p++;
        if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
            c->p++;
        if (json_digits(c) < 0)
            return -1;
    }
    return 0;
}

static int json_string(json_cur *c)
{
    c->p++; /* opening quote */
    while (c->p < c->end) {
        unsigned char ch = (unsigned char)*c->p;

        if (ch == '"') {
            c->p++;
            return 0;
        }
        if (ch < 0x20)
            return -1;
        if (ch == '\\') {
            c->p++;
            if (c->p >= c->end)
                return -1;
            if (*c->p == 'u') {
                int i;

                for (i = 1; i <= 4; i++)
                    if (c->p + i >= c->end ||
                        !strchr("0123456789abcdefABCDEF", c->p[i]) || !c->p[i])
                        return -1;
                c->p += 5;
            } else if (strchr("\"\\/bfnrt", *c->p) && *c->p) {
                c->p++;
            } else {
                return -1;
            }
        } else {
            c->p++;
        }
    }
    return -1;
}

static int json_value(json_cur *c)
{
    json_ws(c);
    if (c->p >= c->end)
        return -1;
    switch (*c->p) {
    case '{':
    case '[': {
        char close = *c->p == '{' ? '}' : ']';
        int obj = close == '}';

        if (++c->depth > 512)
            return -1;
        c->p++;
        json_ws(c);
        if (c->p < c->end && *c->p == close) {
            c->p++;
            c->depth--;
            return 0;
        }
        for (;;) {
            if (obj) {
                json_ws(c);
                if (c->p >= c->end || *c->p != '"' || json_string(c) < 0)
                    return -1;
                json_ws(c);
                if (c->p >= c->end || *c->p != ':')
                    return -1;
                c->p++;
            }
            if (json_value(c) < 0)
                return -1;
            json_ws(c);
            if (c->p >= c->end)
                return -1;
            if (*c->p == close) {
                c->p++;
                c->depth--;
                return 0;
            }
            if (*c->p != ',')
                return -1;
            c->p++;
        }
    }
    case '"':
        return json_string(c);
    case 't':
        return json_lit(c, "true");
    case 'f':
        return json_lit(c, "false");
    case 'n':
        return json_lit(c, "null");
    default:
        return json_number(c);
    }
}

/* Canonical decimal text: -?(0|[1-9][0-9]*)(\.[0-9]+)? or NaN/±Infinity. */
static int decimal_ok(const char *p, size_t n)
{
    size_t i = 0, start;

    if ((n == 3 && memcmp(p, "NaN", 3) == 0) ||
        (n == 8 && memcmp(p, "Infinity", 8) == 0) ||
        (n == 9 && memcmp(p, "-Infinity", 9) == 0))
        return 1;
    if (i < n && p[i] == '-')
        i++;
    start = i;
    while (i < n && p[i] >= '0' && p[i] <= '9')
        i++;
    if (i == start || (i - start > 1 && p[start] == '0'))
        return 0;
    if (i < n && p[i] == '.') {
        start = ++i;
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++;
        if (i == start)
            return 0;
    }
    return i == n;
}

static int is_leap(int32_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int32_t y, int32_t m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

static int date_ok(void *h, const pgd_dt *v)
{
    if (v->month < 1 || v->month > 12)
        return ch_error(h, "month %d out of range", (int)v->month);
    if (v->day < 1 || v->day > days_in_month(v->year, v->month))
        return ch_error(h, "day %d out of range for %04d-%02d", (int)v->day,
                        (int)v->year, (int)v->month);
    return 0;
}

static int time_ok(void *h, const pgd_dt *v)
{
    /* PostgreSQL allows 24:00:00 exactly. */
    int midnight = v->hour == 24 && v->minute == 0 && v->second == 0 && v->usec == 0;

    if (!midnight && (v->hour < 0 || v->hour > 23 || v->minute < 0 || v->minute > 59 ||
                      v->second < 0 || v->second > 59 || v->usec < 0 ||
                      v->usec > 999999))
        return ch_error(h, "time %d:%d:%d.%d out of range", (int)v->hour,
                        (int)v->minute, (int)v->second, (int)v->usec);
    if (v->has_tz && (v->utc_offset < -16 * 3600 || v->utc_offset > 16 * 3600))
        return ch_error(h, "utc offset %d out of range", (int)v->utc_offset);
    return 0;
}

/* ---- builders ---------------------------------------------------------- */

static pgd_obj *ch_make_null(void *h)
{
    return (pgd_obj *)ch_new(h, CH_NULL);
}

static pgd_obj *ch_make_bool(void *h, int v)
{
    chost_obj *o = ch_new(h, CH_BOOL);

    if (o)
        o->i = v ? 1 : 0;
    return (pgd_obj *)o;
}

static pgd_obj *ch_make_int(void *h, int64_t v)
{
    chost_obj *o = ch_new(h, CH_INT);

    if (o)
        o->i = v;
    return (pgd_obj *)o;
}

static pgd_obj *ch_make_float(void *h, double v)
{
    chost_obj *o = ch_new(h, CH_FLOAT);

    if (o)
        o->f = v;
    return (pgd_obj *)o;
}

static pgd_obj *ch_make_str(void *h, const char *p, size_t n)
{
    size_t bad = utf8_check(p, n);

    if (bad != n)
        return CH_FAIL(h, "invalid UTF-8 at byte %zu", bad);
    return ch_new_bytes(h, CH_STR, p, n);
}

static pgd_obj *ch_make_bytes(void *h, const char *p, size_t n)
{
    return ch_new_bytes(h, CH_BYTES, p, n);
}

static pgd_obj *ch_make_decimal(void *h, const char *p, size_t n)
{
    if (!decimal_ok(p, n))
        return CH_FAIL(h, "not canonical decimal text: \"%.*s\"",
                       (int)(n > 64 ? 64 : n), p);
    return ch_new_bytes(h, CH_DECIMAL, p, n);
}

static pgd_obj *ch_make_uuid(void *h, const uint8_t b[16])
{
    chost_obj *o = ch_new(h, CH_UUID);

    if (o)
        memcpy(o->uuid, b, 16);
    return (pgd_obj *)o;
}

static pgd_obj *ch_make_json(void *h, const char *p, size_t n)
{
    json_cur c = {p, p + n, 0};
    size_t bad = utf8_check(p, n);

    if (bad != n)
        return CH_FAIL(h, "invalid UTF-8 in JSON at byte %zu", bad);
    if (json_value(&c) < 0 || (json_ws(&c), c.p != c.end))
        return CH_FAIL(h, "invalid JSON at byte %zu", (size_t)(c.p - p));
    return ch_new_bytes(h, CH_JSON, p, n);
}

static pgd_obj *ch_make_dt(void *h, chost_kind kind, const pgd_dt *v)
{
    chost_obj *o;

    if (v->infinity && kind != CH_TIME) {
        if (v->infinity != 1 && v->infinity != -1)
            return CH_FAIL(h, "infinity must be -1, 0 or 1");
    } else {
        if (kind != CH_TIME && date_ok(h, v) < 0)
            return NULL;
        if (kind != CH_DATE && time_ok(h, v) < 0)
            return NULL;
        if (kind == CH_TIME && v->infinity)
            return CH_FAIL(h, "a time cannot be infinite");
    }
    o = ch_new(h, kind);
    if (o)
        o->dt = *v;
    return (pgd_obj *)o;
}

static pgd_obj *ch_make_date(void *h, const pgd_dt *v)
{
    return ch_make_dt(h, CH_DATE, v);
}

static pgd_obj *ch_make_time(void *h, const pgd_dt *v)
{
    return ch_make_dt(h, CH_TIME, v);
}

static pgd_obj *ch_make_datetime(void *h, const pgd_dt *v)
{
    return ch_make_dt(h, CH_DATETIME, v);
}

static pgd_obj *ch_make_interval(void *h, int32_t months, int32_t days, int64_t usec)
{
    chost_obj *o = ch_new(h, CH_INTERVAL);

    if (o) {
        o->months = months;
        o->days = days;
        o->usec = usec;
    }
    return (pgd_obj *)o;
}

/* A LIST or TUPLE of n empty slots. */
static pgd_obj *ch_make_seq(void *h, chost_kind kind, size_t n)
{
    chost_obj *o;

    if (n > SIZE_MAX / sizeof(chost_obj *))
        return CH_FAIL(h, "sequence of %zu items is too long", n);
    o = ch_new(h, kind);
    if (!o)
        return NULL;
    if (n) {
        o->items = calloc(n, sizeof(chost_obj *));
        if (!o->items) {
            free(o);
            return CH_FAIL(h, "out of memory");
        }
    }
    o->n = n;
    return (pgd_obj *)o;
}

static pgd_obj *ch_make_list(void *h, size_t n)
{
    return ch_make_seq(h, CH_LIST, n);
}

static pgd_obj *ch_make_tuple(void *h, size_t n)
{
    return ch_make_seq(h, CH_TUPLE, n);
}

/* Steals item, also on failure. */
static int ch_seq_set(void *h, chost_kind kind, const char *what, pgd_obj *seq, size_t i,
                      pgd_obj *item)
{
    chost_obj *l = (chost_obj *)seq;

    if (!l || l->kind != kind) {
        chost_free(item);
        return ch_error(h, "%s on the wrong kind of object", what);
    }
    if (i >= l->n) {
        chost_free(item);
        return ch_error(h, "%s index %zu out of range (%zu items)", what, i, l->n);
    }
    if (!item)
        return ch_error(h, "%s with a NULL item", what);
    chost_free((pgd_obj *)l->items[i]);
    l->items[i] = (chost_obj *)item;
    return 0;
}

static int ch_list_set(void *h, pgd_obj *list, size_t i, pgd_obj *item)
{
    return ch_seq_set(h, CH_LIST, "list_set", list, i, item);
}

static int ch_tuple_set(void *h, pgd_obj *tuple, size_t i, pgd_obj *item)
{
    return ch_seq_set(h, CH_TUPLE, "tuple_set", tuple, i, item);
}

/* A CALL node: the name "module:attribute" and the arguments (args is a
 * TUPLE, stolen, also on failure; every slot must be filled). */
static pgd_obj *ch_make_call(void *h, const char *callable, pgd_obj *args)
{
    chost_obj *t = (chost_obj *)args, *o;
    size_t i;

    if (!t || t->kind != CH_TUPLE) {
        chost_free(args);
        return CH_FAIL(h, "make_call needs a tuple of arguments");
    }
    if (!callable || !strchr(callable, ':')) {
        chost_free(args);
        return CH_FAIL(h, "make_call: \"%s\" is not module:attribute",
                       callable ? callable : "(null)");
    }
    for (i = 0; i < t->n; i++)
        if (!t->items[i]) {
            chost_free(args);
            return CH_FAIL(h, "make_call: argument %zu was never set", i);
        }
    o = (chost_obj *)ch_new_bytes(h, CH_CALL, callable, strlen(callable));
    if (!o) {
        chost_free(args);
        return NULL;
    }
    o->items = t->items; /* the arguments move to the call node */
    o->n = t->n;
    t->items = NULL;
    t->n = 0;
    chost_free(args);
    return (pgd_obj *)o;
}

static const pgd_host ch_host = {
    .size = sizeof(pgd_host),
    .abi_minor = PGD_CODEC_ABI_MINOR,
    .error = ch_error,
    .reserve = ch_reserve,
    .tell = ch_tell,
    .at = ch_at,
    .find = ch_find,
    .make_null = ch_make_null,
    .make_bool = ch_make_bool,
    .make_int = ch_make_int,
    .make_float = ch_make_float,
    .make_str = ch_make_str,
    .make_bytes = ch_make_bytes,
    .make_decimal = ch_make_decimal,
    .make_uuid = ch_make_uuid,
    .make_json = ch_make_json,
    .make_date = ch_make_date,
    .make_time = ch_make_time,
    .make_datetime = ch_make_datetime,
    .make_interval = ch_make_interval,
    .make_list = ch_make_list,
    .list_set = ch_list_set,
    .release = ch_release,
    .make_tuple = ch_make_tuple,
    .tuple_set = ch_tuple_set,
    .make_call = ch_make_call,
};

const pgd_host *chost_host(void)
{
    return &ch_host;
}

void chost_ctx_init(chost_ctx *ctx)
{
    memset(ctx, 0, sizeof *ctx);
}

/* ---- canonical text ---------------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        char *p;

        while (cap < b->len + n + 1)
            cap *= 2;
        p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_puts(sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static void sb_printf(sbuf *b, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        sb_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void repr_date(sbuf *b, const pgd_dt *v)
{
    sb_printf(b, "%04d-%02d-%02d", (int)v->year, (int)v->month, (int)v->day);
}

static void repr_time(sbuf *b, const pgd_dt *v)
{
    sb_printf(b, "%02d:%02d:%02d.%06d", (int)v->hour, (int)v->minute, (int)v->second,
              (int)v->usec);
    if (v->has_tz) {
        int32_t off = v->utc_offset;
        char sign = off < 0 ? '-' : '+';

        if (off < 0)
            off = -off;
        sb_printf(b, "%c%02d%02d", sign, (int)(off / 3600), (int)(off / 60 % 60));
        if (off % 60)
            sb_printf(b, ":%02d", (int)(off % 60));
    }
}

static void repr_infinity(sbuf *b, const pgd_dt *v)
{
    sb_puts(b, v->infinity > 0 ? "infinity" : "-infinity");
}

static void repr(sbuf *b, const chost_obj *o)
{
    size_t i;

    if (!o) {
        sb_puts(b, "<unset>");
        return;
    }
    switch (o->kind) {
    case CH_NULL:
        sb_puts(b, "None");
        break;
    case CH_BOOL:
        sb_puts(b, o->i ? "True" : "False");
        break;
    case CH_INT:
        sb_printf(b, "%" PRId64, o->i);
        break;
    case CH_FLOAT:
        if (isnan(o->f))
            sb_puts(b, "nan");
        else if (isinf(o->f))
            sb_puts(b, o->f > 0 ? "inf" : "-inf");
        else
            sb_printf(b, "%.17g", o->f);
        break;
    case CH_STR:
        sb_puts(b, "'");
        sb_add(b, o->s, o->n);
        sb_puts(b, "'");
        break;
    case CH_BYTES:
        sb_puts(b, "b'");
        for (i = 0; i < o->n; i++)
            sb_printf(b, "\\x%02x", (unsigned char)o->s[i]);
        sb_puts(b, "'");
        break;
    case CH_DECIMAL:
        sb_puts(b, "Decimal('");
        sb_add(b, o->s, o->n);
        sb_puts(b, "')");
        break;
    case CH_UUID:
        sb_puts(b, "UUID('");
        for (i = 0; i < 16; i++) {
            if (i == 4 || i == 6 || i == 8 || i == 10)
                sb_puts(b, "-");
            sb_printf(b, "%02x", o->uuid[i]);
        }
        sb_puts(b, "')");
        break;
    case CH_JSON:
        sb_puts(b, "json:");
        sb_add(b, o->s, o->n);
        break;
    case CH_DATE:
        sb_puts(b, "date(");
        if (o->dt.infinity)
            repr_infinity(b, &o->dt);
        else
            repr_date(b, &o->dt);
        sb_puts(b, ")");
        break;
    case CH_TIME:
        sb_puts(b, "time(");
        repr_time(b, &o->dt);
        sb_puts(b, ")");
        break;
    case CH_DATETIME:
        sb_puts(b, "datetime(");
        if (o->dt.infinity) {
            repr_infinity(b, &o->dt);
        } else {
            repr_date(b, &o->dt);
            sb_puts(b, " ");
            repr_time(b, &o->dt);
        }
        sb_puts(b, ")");
        break;
    case CH_INTERVAL:
        sb_printf(b, "interval(%dm %dd %" PRId64 "us)", (int)o->months, (int)o->days,
                  o->usec);
        break;
    case CH_LIST:
    case CH_TUPLE:
    case CH_CALL:
        if (o->kind == CH_CALL)
            sb_puts(b, o->s);
        sb_puts(b, o->kind == CH_LIST ? "[" : "(");
        for (i = 0; i < o->n; i++) {
            if (i)
                sb_puts(b, ", ");
            repr(b, o->items[i]);
        }
        if (o->kind == CH_TUPLE && o->n == 1)
            sb_puts(b, ",");
        sb_puts(b, o->kind == CH_LIST ? "]" : ")");
        break;
    default:
        sb_printf(b, "<kind %d>", (int)o->kind);
        break;
    }
}

char *chost_repr(const pgd_obj *o)
{
    sbuf b = {NULL, 0, 0, 0};

    repr(&b, (const chost_obj *)o);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p ? b.p : calloc(1, 1);
}
