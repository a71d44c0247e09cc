/*
 * fuzz_seeds.c - write a seed corpus for one family's fuzz target:
 *
 *   fuzz_seeds FAMILY DIR
 *
 * Binary seeds are what the family's own encoders write for a fixed set of
 * sample values (the ones each encoder accepts); text seeds are sample
 * texts that the codec's text decoder accepts.  For an array handler the
 * samples accepted by each element codec are put into arrays of a few
 * shapes.  Each seed is the header that selects the codec (fuzz_host.h)
 * followed by the field, in a file named after a hash of its bytes.
 * Nothing here knows a family: a new plugin gets the seeds its encoders
 * and decoders accept.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_host.h"

#define SEEDS_PER_CODEC 64 /* per codec and format */
#define SAMPLES_PER_ELEM 4 /* samples put into arrays, per element codec */

#define STRV(k, lit) {.kind = (k), .u.s = {(lit), sizeof(lit) - 1}}
#define DT(...) {.kind = PGD_V_DATETIME, .u.dt = {__VA_ARGS__}}

static const pgd_value samples[] = {
    {.kind = PGD_V_BOOL, .u.b = 1},
    {.kind = PGD_V_BOOL, .u.b = 0},
    {.kind = PGD_V_INT, .u.i = 0},
    {.kind = PGD_V_INT, .u.i = 1},
    {.kind = PGD_V_INT, .u.i = -1},
    {.kind = PGD_V_INT, .u.i = 32767},
    {.kind = PGD_V_INT, .u.i = -32768},
    {.kind = PGD_V_INT, .u.i = INT32_MAX},
    {.kind = PGD_V_INT, .u.i = INT32_MIN},
    {.kind = PGD_V_INT, .u.i = UINT32_MAX},
    {.kind = PGD_V_INT, .u.i = INT64_MAX},
    {.kind = PGD_V_INT, .u.i = INT64_MIN},
    {.kind = PGD_V_FLOAT, .u.f = 1.5},
    {.kind = PGD_V_FLOAT, .u.f = -0.0},
    {.kind = PGD_V_FLOAT, .u.f = -2.25e-5},
    {.kind = PGD_V_FLOAT, .u.f = 1e300},
    {.kind = PGD_V_FLOAT, .u.f = NAN},
    {.kind = PGD_V_FLOAT, .u.f = INFINITY},
    {.kind = PGD_V_FLOAT, .u.f = -INFINITY},
    STRV(PGD_V_STR, ""),
    STRV(PGD_V_STR, "hello"),
    STRV(PGD_V_STR, "a b,\"c\"\\{}"),
    STRV(PGD_V_STR, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"),
    STRV(PGD_V_STR, "NULL"),
    STRV(PGD_V_BYTES, ""),
    STRV(PGD_V_BYTES, "\x00\x01\xfe\xff"),
    STRV(PGD_V_DECIMAL, "0"),
    STRV(PGD_V_DECIMAL, "-12.340"),
    STRV(PGD_V_DECIMAL, "0.0001"),
    STRV(PGD_V_DECIMAL, "123456789012345678901234567890.000000001"),
    STRV(PGD_V_DECIMAL, "NaN"),
    STRV(PGD_V_DECIMAL, "Infinity"),
    STRV(PGD_V_DECIMAL, "-Infinity"),
    {.kind = PGD_V_UUID, .u.uuid = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe,
                                    0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10}},
    {.kind = PGD_V_DATE, .u.dt = {.year = 2000, .month = 2, .day = 29}},
    {.kind = PGD_V_DATE, .u.dt = {.year = -4712, .month = 1, .day = 1}},
    {.kind = PGD_V_DATE, .u.dt = {.year = 5874897, .month = 12, .day = 31}},
    {.kind = PGD_V_DATE, .u.dt = {.infinity = 1}},
    {.kind = PGD_V_DATE, .u.dt = {.infinity = -1}},
    {.kind = PGD_V_TIME, .u.dt = {.hour = 0}},
    {.kind = PGD_V_TIME, .u.dt = {.hour = 23, .minute = 59, .second = 59, .usec = 999999}},
    {.kind = PGD_V_TIME, .u.dt = {.hour = 24}},
    {.kind = PGD_V_TIME,
     .u.dt = {.hour = 12, .minute = 34, .second = 56, .has_tz = 1, .utc_offset = 19800}},
    {.kind = PGD_V_TIME, .u.dt = {.hour = 1, .has_tz = 1, .utc_offset = -57599}},
    DT(.year = 2000, .month = 1, .day = 1),
    DT(.year = 1999, .month = 12, .day = 31, .hour = 23, .minute = 59, .second = 59,
       .usec = 999999),
    DT(.year = 2024, .month = 2, .day = 29, .hour = 12, .minute = 34, .second = 56,
       .usec = 789000, .has_tz = 1, .utc_offset = 3600),
    DT(.year = -4713, .month = 11, .day = 24),
    DT(.year = 294276, .month = 12, .day = 31, .hour = 23, .minute = 59, .second = 59,
       .usec = 999999),
    DT(.infinity = 1),
    DT(.infinity = -1),
    {.kind = PGD_V_INTERVAL, .u.iv = {.usec = 3, .days = 2, .months = 1}},
    {.kind = PGD_V_INTERVAL, .u.iv = {.usec = -4000000, .days = -3, .months = -14}},
    {.kind = PGD_V_INTERVAL, .u.iv = {.usec = INT64_MAX, .days = INT32_MAX}},
    STRV(PGD_V_JSON, "{\"a\": [1, 2.5, null, true, \"x\"], \"b\": {}}"),
    STRV(PGD_V_JSON, "[]"),
    STRV(PGD_V_JSON, "\"s\\u00e9\""),
    STRV(PGD_V_JSON, "-1.5e3"),
};

/* Server text output of the built-in types and some that plugins may add
 * (network, money, bit strings, geometry, ranges). */
static const char *const texts[] = {
    "0", "1", "-1", "32767", "-32768", "2147483647", "-2147483648", "4294967295",
    "9223372036854775807", "-9223372036854775808", "1.5", "-0", "1e+100",
    "1.2345679e-05", "3.4028235e+38", "NaN", "Infinity", "-Infinity",
    "t", "f", "true", "false", "hello", "", "a b", "\xc3\xa9\xe2\x82\xac", "NULL",
    "\\x", "\\x00ff", "\\001abc\\\\", "0123456789abcdef0123456789abcdef",
    "01234567-89ab-cdef-0123-456789abcdef", "{01234567-89ab-cdef-0123-456789abcdef}",
    "{\"a\": [1, 2.5, null, true], \"b\": {}}", "[]", "\"x\"", "-1.5e3",
    "-12.340", "0.0001", "123456789012345678901234567890.000000001",
    "2000-01-01", "1999-12-31 BC", "5874897-12-31", "infinity", "-infinity",
    "00:00:00", "23:59:59.999999", "24:00:00", "12:34:56+05:30", "01:00:00-15:59:59",
    "2000-01-01 00:00:00", "2024-02-29 12:34:56.789", "2000-01-01 12:34:56+05:30",
    "4714-11-24 00:00:00+00 BC", "294276-12-31 23:59:59.999999+00",
    "1 year 2 mons 3 days 04:05:06.789", "-1 days +02:00:00", "00:00:00.000001",
    "-178000000 years", "192.168.0.1", "10.0.0.0/8", "::1", "2001:db8::/32",
    "08:00:2b:01:02:03", "08:00:2b:01:02:03:04:05", "$1,234.56", "-$0.01",
    "0101", "1", "(1,2)", "(1.5,-2.5),(3,4)", "((0,0),(1,1))", "[(0,0),(1,1)]",
    "<(1,2),3>", "{1,2,3}", "[1,10)", "(,)", "empty", "[\"2000-01-01\",infinity)",
};

static const char *outdir;
static unsigned nwritten;

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_seeds: %s: %s\n", what, strerror(errno));
    exit(2);
}

/* Write header + body as one seed file, named by its FNV-1a hash. */
static void put_seed(const uint8_t *hdr, size_t hlen, const char *body, size_t blen)
{
    uint64_t h = 14695981039346656037u;
    char path[4096];
    FILE *f;
    size_t i;

    for (i = 0; i < hlen; i++)
        h = (h ^ hdr[i]) * 1099511628211u;
    for (i = 0; i < blen; i++)
        h = (h ^ (uint8_t)body[i]) * 1099511628211u;
    snprintf(path, sizeof path, "%s/%016" PRIx64, outdir, h);
    f = fopen(path, "wb");
    if (!f || fwrite(hdr, 1, hlen, f) != hlen || (blen && fwrite(body, 1, blen, f) != blen) ||
        fclose(f) != 0)
        fail(path);
    nwritten++;
}

/* Whether the call's decoder accepts body[0..blen). */
static int accepts(const fz_call *call, const char *body, size_t blen)
{
    pgd_obj *o = fz_decode(call, body, blen, NULL, 0);

    chost_free(o);
    return o != NULL;
}

/* Encode v and write it as a seed when the encoder takes it and the
 * decoder reads it back (an encoder may pass on text for the server to
 * check, as json's does).  Returns 1 when a seed was written. */
static int binary_seed(const fz_family *fam, const fz_call *call, const pgd_value *v)
{
    uint8_t hdr[FZ_HEADER_MAX];
    size_t len;
    char *wire = fz_encode_value(call, v, &len);
    int ok = wire && accepts(call, wire, len);

    if (ok)
        put_seed(hdr, fz_header(fam, call, hdr), wire, len);
    free(wire);
    return ok;
}

static int text_seed(const fz_family *fam, const fz_call *call, const char *text)
{
    uint8_t hdr[FZ_HEADER_MAX];

    if (!accepts(call, text, strlen(text)))
        return 0;
    put_seed(hdr, fz_header(fam, call, hdr), text, strlen(text));
    return 1;
}

static void scalar_seeds(const fz_family *fam, const pgd_codec *c)
{
    fz_call call = {c, 0, NULL, c->oid, 0};
    size_t i, n;

    if (c->decode_binary && c->encode_binary)
        for (i = n = 0; i < sizeof samples / sizeof samples[0] && n < SEEDS_PER_CODEC; i++)
            n += (size_t)binary_seed(fam, &call, &samples[i]);
    call.text = 1;
    if (c->decode_text)
        for (i = n = 0; i < sizeof texts / sizeof texts[0] && n < SEEDS_PER_CODEC; i++)
            n += (size_t)text_seed(fam, &call, texts[i]);
}

/* Arrays [v], [v, NULL], [[v, v], [v, v]] of every sample that `elem`
 * encodes, and the empty array. */
static void array_binary_seeds(const fz_family *fam, const fz_call *call)
{
    fz_call ecall = {call->elem, 0, NULL, call->elem_oid, 0};
    const pgd_value none = {.kind = PGD_V_NULL};
    pgd_value one[2], row[2], grid[2], arr;
    size_t i, n, len;

    arr = (pgd_value){.kind = PGD_V_LIST, .u.list = {NULL, 0}};
    binary_seed(fam, call, &arr);
    for (i = n = 0; i < sizeof samples / sizeof samples[0] && n < SAMPLES_PER_ELEM; i++) {
        char *wire = fz_encode_value(&ecall, &samples[i], &len);

        if (!wire)
            continue;
        free(wire);
        n++;
        one[0] = samples[i];
        one[1] = none;
        row[0] = row[1] = samples[i];
        grid[0] = grid[1] = (pgd_value){.kind = PGD_V_LIST, .u.list = {row, 2}};
        arr.u.list.items = one;
        arr.u.list.n = 1;
        binary_seed(fam, call, &arr);
        arr.u.list.n = 2;
        binary_seed(fam, call, &arr);
        arr.u.list.items = grid;
        binary_seed(fam, call, &arr);
    }
}

/* Quote s as an array element: "..." with '"' and '\' escaped. */
static void quote(char *out, size_t cap, const char *s)
{
    size_t k = 0;

    out[k++] = '"';
    for (; *s && k + 3 < cap; s++) {
        if (*s == '"' || *s == '\\')
            out[k++] = '\\';
        out[k++] = *s;
    }
    out[k++] = '"';
    out[k] = '\0';
}

/* '{q}', '{q,NULL}', '{{q,q},{q,q}}', '[0:0]={q}' of every sample text the
 * element decoder accepts (any text when there is no element codec). */
static void array_text_seeds(const fz_family *fam, const fz_call *call)
{
    fz_call ecall = {call->elem, 1, NULL, call->elem_oid, 0};
    char q[512], text[2200];
    size_t i, n;

    text_seed(fam, call, "{}");
    for (i = n = 0; i < sizeof texts / sizeof texts[0] && n < SAMPLES_PER_ELEM; i++) {
        if (call->elem && !accepts(&ecall, texts[i], strlen(texts[i])))
            continue;
        n++;
        quote(q, sizeof q, texts[i]);
        snprintf(text, sizeof text, "{%s}", q);
        text_seed(fam, call, text);
        snprintf(text, sizeof text, "{%s,NULL}", q);
        text_seed(fam, call, text);
        snprintf(text, sizeof text, "{{%s,%s},{%s,%s}}", q, q, q, q);
        text_seed(fam, call, text);
        snprintf(text, sizeof text, "[0:0]={%s}", q);
        text_seed(fam, call, text);
    }
}

static void array_seeds(const fz_family *fam, const pgd_codec *c)
{
    fz_call call = {c, 0, NULL, 0, 0};
    size_t i;

    for (i = 0; i <= fz_nelems(); i++) {
        call.elem = i < fz_nelems() ? fz_elem(i) : NULL;
        call.elem_oid = call.elem ? call.elem->oid : 0;
        call.oid = call.elem ? call.elem->array_oid : 0;
        call.text = 0;
        if (call.elem && c->decode_binary && c->encode_binary && call.elem->encode_binary)
            array_binary_seeds(fam, &call);
        call.text = 1;
        if (c->decode_text && (!call.elem || call.elem->decode_text))
            array_text_seeds(fam, &call);
    }
}

int main(int argc, char **argv)
{
    const fz_family *fam;
    size_t i;

    if (argc != 3) {
        fprintf(stderr, "usage: %s FAMILY DIR\n", argv[0]);
        return 2;
    }
    fz_init();
    fam = fz_family_named(argv[1]);
    if (!fam) {
        fprintf(stderr, "fuzz_seeds: family %s is not loaded\n", argv[1]);
        return 2;
    }
    outdir = argv[2];
    if (mkdir(outdir, 0777) != 0 && errno != EEXIST)
        fail(outdir);
    for (i = 0; i < fz_family_ncodecs(fam); i++) {
        const pgd_codec *c = fz_family_codec(fam, i);

        if (c->flags & PGD_CODEC_ARRAY)
            array_seeds(fam, c);
        else
            scalar_seeds(fam, c);
    }
    printf("%s: %u seeds\n", fam->name, nwritten);
    return 0;
}
