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

#define SEQ(k, items, n) {.kind = (k), .u.list = {(items), (n)}}

static const pgd_value map_items[] = {
    STRV(PGD_V_STR, "a"), STRV(PGD_V_STR, "1"), STRV(PGD_V_STR, "key two"), {.kind = PGD_V_NULL},
};
static const pgd_value xyz[] = {
    {.kind = PGD_V_FLOAT, .u.f = 1.5}, {.kind = PGD_V_FLOAT, .u.f = -2.5},
    {.kind = PGD_V_FLOAT, .u.f = 3},
};
static const pgd_value two_points[] = {SEQ(PGD_V_TUPLE, xyz, 2), SEQ(PGD_V_TUPLE, xyz + 1, 2)};

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
    SEQ(PGD_V_MAP, map_items, 4),
    SEQ(PGD_V_MAP, NULL, 0),
    SEQ(PGD_V_TUPLE, xyz, 2),
    SEQ(PGD_V_TUPLE, xyz, 3),
    SEQ(PGD_V_TUPLE, two_points, 2),
    SEQ(PGD_V_LIST, two_points, 2),
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

#define NSAMPLES (sizeof samples / sizeof samples[0])
#define NTEXTS (sizeof texts / sizeof texts[0])

static const pgd_value null_value = {.kind = PGD_V_NULL};

static pgd_value list_of(uint32_t kind, pgd_value *items, size_t n)
{
    pgd_value v = {.kind = kind};

    v.u.list.items = items;
    v.u.list.n = n;
    return v;
}

/* Up to max samples that e's encoder takes, into out; returns how many. */
static size_t taken(const pgd_codec *e, pgd_value *out, size_t max)
{
    fz_call call;
    size_t i, n = 0, len;

    memset(&call, 0, sizeof call);
    call.codec = e;
    call.oid = e->oid;
    for (i = 0; i < NSAMPLES && n < max; i++) {
        char *wire = fz_encode_value(&call, &samples[i], &len);

        if (wire)
            out[n++] = samples[i];
        free(wire);
    }
    return n;
}

/* The samples the call's encoder takes, the sample texts its text decoder
 * takes. */
static void value_seeds(const fz_family *fam, fz_call *call)
{
    size_t i, n;

    call->text = 0;
    for (i = n = 0; call->codec->decode_binary && i < NSAMPLES && n < SEEDS_PER_CODEC; i++)
        n += (size_t)binary_seed(fam, call, &samples[i]);
    call->text = 1;
    for (i = n = 0; call->codec->decode_text && i < NTEXTS && n < SEEDS_PER_CODEC; i++)
        n += (size_t)text_seed(fam, call, texts[i]);
    call->text = 0;
}

/* The first element codec that is not itself a per-database type's. */
static const pgd_codec *plain_elem(void)
{
    size_t i;

    for (i = 0; i < fz_nelems(); i++)
        if (!fz_type_kind(fz_elem(i)))
            return fz_elem(i);
    return NULL;
}

/* A per-database type's generic codec: for every element codec as the
 * attributes (record: two of it) or the subtype, the values (s, s) and
 * (s, NULL) of samples s it takes, a multirange as the list of one such
 * range; and the sample texts. */
static void typed_seeds(const fz_family *fam, fz_call *call)
{
    char kind = fz_type_kind(call->codec);
    const pgd_codec *field[2];
    pgd_value took[SAMPLES_PER_ELEM], items[2], range, v;
    size_t i, j, n;

    fz_set_type(call, 0, NULL);
    v = list_of(PGD_V_TUPLE, NULL, 0);
    binary_seed(fam, call, &v);
    value_seeds(fam, call);
    for (i = 0; kind != 'e' && i < fz_nelems(); i++) {
        field[0] = field[1] = fz_elem(i);
        fz_set_type(call, 2, field);
        value_seeds(fam, call);
        n = taken(field[0], took, SAMPLES_PER_ELEM);
        for (j = 0; j < 2 * n; j++) {
            items[0] = took[j / 2];
            items[1] = j % 2 ? null_value : took[j / 2];
            v = list_of(PGD_V_TUPLE, items, 2);
            range = v;
            if (kind == 'm')
                v = list_of(PGD_V_LIST, &range, 1);
            binary_seed(fam, call, &v);
        }
    }
}

static void scalar_seeds(const fz_family *fam, const pgd_codec *c)
{
    fz_call call;

    memset(&call, 0, sizeof call);
    call.codec = c;
    call.oid = c->oid;
    if (fz_type_kind(c))
        typed_seeds(fam, &call);
    else
        value_seeds(fam, &call);
}

/* Arrays [v], [v, NULL], [[v, v], [v, v]] of sample elements v (for an
 * element of a per-database type the tuple (s, NULL) of samples s of its
 * attributes' or subtype's codec), and the empty array. */
static void array_binary_seeds(const fz_family *fam, fz_call *call, const fz_call *ecall)
{
    const pgd_codec *attr = plain_elem();
    pgd_value took[SAMPLES_PER_ELEM], one[2], row[2], grid[2], pair[2], arr;
    size_t i, n;

    call->text = 0;
    arr = list_of(PGD_V_LIST, NULL, 0);
    binary_seed(fam, call, &arr);
    if (ecall->typed)
        n = attr ? taken(attr, took, SAMPLES_PER_ELEM) : 0;
    else
        n = taken(ecall->codec, took, SAMPLES_PER_ELEM);
    for (i = 0; i < n; i++) {
        one[0] = took[i];
        if (ecall->typed) {
            pair[0] = took[i];
            pair[1] = null_value;
            one[0] = list_of(PGD_V_TUPLE, pair, 2);
        }
        one[1] = null_value;
        row[0] = row[1] = one[0];
        grid[0] = grid[1] = list_of(PGD_V_LIST, row, 2);
        arr = list_of(PGD_V_LIST, one, 1);
        binary_seed(fam, call, &arr);
        arr.u.list.n = 2;
        binary_seed(fam, call, &arr);
        arr = list_of(PGD_V_LIST, grid, 2);
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
static void array_text_seeds(const fz_family *fam, fz_call *call, fz_call *ecall)
{
    char q[512], text[2200];
    size_t i, n;

    call->text = ecall->text = 1;
    text_seed(fam, call, "{}");
    for (i = n = 0; i < NTEXTS && n < SAMPLES_PER_ELEM; i++) {
        if (ecall->codec && !accepts(ecall, texts[i], strlen(texts[i])))
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
    const pgd_codec *field[2];
    fz_call call, ecall;
    size_t i;

    field[0] = field[1] = plain_elem();
    for (i = 0; i <= fz_nelems(); i++) {
        memset(&call, 0, sizeof call);
        memset(&ecall, 0, sizeof ecall);
        call.codec = c;
        call.elem = ecall.codec = i < fz_nelems() ? fz_elem(i) : NULL;
        call.elem_oid = ecall.oid = call.elem ? call.elem->oid : 0;
        call.oid = call.elem ? call.elem->array_oid : 0;
        if (fz_type_kind(call.elem)) {
            fz_set_type(&call, 2, field);
            fz_set_type(&ecall, 2, field);
        }
        if (call.elem && c->decode_binary && c->encode_binary && call.elem->encode_binary)
            array_binary_seeds(fam, &call, &ecall);
        if (c->decode_text && (!call.elem || call.elem->decode_text))
            array_text_seeds(fam, &call, &ecall);
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
