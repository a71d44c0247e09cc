/*
 * test_postgis.c - the postgis example plugin on its own: loaded with
 * dlopen() from the path given as argv[1], driven through the C host
 * (tests/c/chost.h), no server and no Python.  This is also how a user can
 * test a plugin of their own.
 *
 * Fixtures are the server's own ST_AsEWKB(g, 'NDR') / ST_AsEWKB(g, 'XDR')
 * output (PostGIS 3.3).  Each is decoded from both byte orders and from the
 * hex text form, re-encoded from the decoded value (the encoder writes
 * XDR), and sent back as bytes.  Then the refusals: truncation at every
 * length, counts larger than the data, trailing bytes, nesting too deep,
 * bad byte orders, types and dimensions, and malformed dicts.
 *
 * Every input is copied into a heap block of exactly its length, so an
 * over-read shows up under AddressSanitizer.
 *
 *     test_postgis path/to/postgis.so
 */
#include <dlfcn.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chost.h"
#include "pgd_codec.h"

static const pgd_codec *geometry, *geography;
static int checks, failures;

static void fail(int line, const char *fmt, ...)
{
    va_list ap;

    failures++;
    fprintf(stderr, "test_postgis.c:%d: FAIL: ", line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        checks++;                                                                        \
        if (!(cond))                                                                     \
            fail(__LINE__, "check failed: %s", #cond);                                   \
    } while (0)

static void load(const char *path)
{
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    pgd_codec_module_fn fn;
    const pgd_codec_module *m;
    size_t i;

    if (!dl) {
        fprintf(stderr, "cannot load %s: %s\n", path, dlerror());
        exit(2);
    }
    *(void **)&fn = dlsym(dl, PGD_CODEC_ENTRY);
    m = fn ? fn() : NULL;
    if (!m || m->magic != PGD_CODEC_MAGIC || m->abi_major != PGD_CODEC_ABI_MAJOR ||
        m->struct_size < sizeof *m || m->codec_size < sizeof(pgd_codec) ||
        strcmp(m->name, "postgis") != 0) {
        fprintf(stderr, "%s: not the postgis codec module\n", path);
        exit(2);
    }
    for (i = 0; i < m->n_codecs; i++) {
        const pgd_codec *c = (const pgd_codec *)((const char *)m->codecs + i * m->codec_size);

        if (strcmp(c->type_name, "geometry") == 0)
            geometry = c;
        else if (strcmp(c->type_name, "geography") == 0)
            geography = c;
    }
    if (!geometry || !geography || geometry->oid != 0 || geography->oid != 0) {
        fprintf(stderr, "%s: no by-name geometry and geography codecs\n", path);
        exit(2);
    }
}

/* ---- hex, values and a compact printer ---------------------------------------- */

static char *unhex(const char *hex, size_t *len)
{
    size_t n = strlen(hex) / 2, i;
    char *p = malloc(n ? n : 1);
    unsigned b;

    for (i = 0; i < n; i++) {
        sscanf(hex + 2 * i, "%2x", &b);
        p[i] = (char)b;
    }
    *len = n;
    return p;
}

static char *tohex(const char *p, size_t n)
{
    char *s = malloc(2 * n + 1);
    size_t i;

    for (i = 0; i < n; i++)
        sprintf(s + 2 * i, "%02x", (unsigned char)p[i]);
    s[2 * n] = '\0';
    return s;
}

typedef struct sbuf {
    char p[4096];
    size_t n;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    int k;

    va_start(ap, fmt);
    k = vsnprintf(b->p + b->n, sizeof b->p - b->n, fmt, ap);
    va_end(ap);
    if (k > 0)
        b->n += (size_t)k < sizeof b->p - b->n ? (size_t)k : sizeof b->p - b->n - 1;
}

/* Python-like: {'type': 'Point', 'coordinates': [1, 2], 'srid': 4326}.
 * A builtins:dict call prints as the dict it makes. */
static void show(sbuf *b, const chost_obj *o)
{
    size_t i;

    switch (o->kind) {
    case CH_BOOL:
        sb_printf(b, o->i ? "True" : "False");
        break;
    case CH_INT:
        sb_printf(b, "%" PRId64, o->i);
        break;
    case CH_FLOAT:
        if (isnan(o->f))
            sb_printf(b, "nan");
        else
            sb_printf(b, "%.17g", o->f);
        break;
    case CH_STR:
        sb_printf(b, "'%s'", o->s);
        break;
    case CH_LIST:
        sb_printf(b, "[");
        for (i = 0; i < o->n; i++) {
            sb_printf(b, i ? ", " : "");
            show(b, o->items[i]);
        }
        sb_printf(b, "]");
        break;
    case CH_CALL:
        if (strcmp(o->s, "builtins:dict") == 0 && o->n == 1 && o->items[0]->kind == CH_LIST) {
            const chost_obj *pairs = o->items[0];

            sb_printf(b, "{");
            for (i = 0; i < pairs->n; i++) {
                sb_printf(b, i ? ", " : "");
                show(b, pairs->items[i]->items[0]);
                sb_printf(b, ": ");
                show(b, pairs->items[i]->items[1]);
            }
            sb_printf(b, "}");
            break;
        }
        /* fall through */
    default:
        sb_printf(b, "<kind %d>", (int)o->kind);
    }
}

/* A decoded tree back into encoder input, as the Python host would build
 * it from the dict (lists, floats, ints, bools, str; dict -> MAP). */
static int to_value(const chost_obj *o, pgd_value *v)
{
    const chost_obj *src = o;
    size_t i, n;
    pgd_value *items;

    memset(v, 0, sizeof *v);
    switch (o->kind) {
    case CH_BOOL:
        v->kind = PGD_V_BOOL;
        v->u.b = (int)o->i;
        return 0;
    case CH_INT:
        v->kind = PGD_V_INT;
        v->u.i = o->i;
        return 0;
    case CH_FLOAT:
        v->kind = PGD_V_FLOAT;
        v->u.f = o->f;
        return 0;
    case CH_STR:
        v->kind = PGD_V_STR;
        v->u.s.p = o->s;
        v->u.s.n = o->n;
        return 0;
    case CH_LIST:
        n = o->n;
        v->kind = PGD_V_LIST;
        break;
    case CH_CALL: /* builtins:dict([(k, v), ...]) */
        src = o->items[0];
        n = src->n * 2;
        v->kind = PGD_V_MAP;
        break;
    default:
        return -1;
    }
    items = calloc(n ? n : 1, sizeof *items);
    for (i = 0; i < n; i++) {
        const chost_obj *it = o->kind == CH_LIST ? src->items[i] : src->items[i / 2]->items[i % 2];

        if (to_value(it, &items[i]) < 0)
            return -1;
    }
    v->u.list.items = items;
    v->u.list.n = n;
    return 0;
}

static void free_value(pgd_value *v)
{
    size_t i;

    if (v->kind != PGD_V_LIST && v->kind != PGD_V_MAP && v->kind != PGD_V_TUPLE)
        return;
    for (i = 0; i < v->u.list.n; i++)
        free_value((pgd_value *)&v->u.list.items[i]);
    free((void *)v->u.list.items);
}

/* ---- calls through the codec -------------------------------------------------- */

static pgd_cx new_cx(chost_ctx *ctx, const pgd_codec *c)
{
    pgd_cx cx;

    memset(&cx, 0, sizeof cx);
    chost_ctx_init(ctx);
    cx.host = chost_host();
    cx.h = ctx;
    cx.oid = c == geometry ? 90001 : 90002; /* a per-database OID */
    return cx;
}

/* Decode (binary, or text = the hex digits themselves); the printed value
 * or NULL with the message in err. */
static pgd_obj *decode(const pgd_codec *c, int text, const char *hex, char *err, size_t errsz)
{
    chost_ctx ctx;
    pgd_cx cx = new_cx(&ctx, c);
    size_t len;
    char *data;
    pgd_obj *o;

    if (text) {
        len = strlen(hex);
        data = malloc(len ? len : 1);
        memcpy(data, hex, len);
        o = c->decode_text(&cx, data, len);
    } else {
        data = unhex(hex, &len);
        o = c->decode_binary(&cx, data, len);
    }
    free(data);
    snprintf(err, errsz, "%s", o ? "" : ctx.err);
    if (!o && !ctx.err[0])
        snprintf(err, errsz, "(decoder failed without a message)");
    return o;
}

static void dec(int line, int text, const char *hex, const char *want)
{
    char err[512];
    pgd_obj *o = decode(geometry, text, hex, err, sizeof err);
    sbuf b = {{0}, 0};

    checks++;
    if (!o) {
        fail(line, "decoding %.40s...: %s", hex, err);
        return;
    }
    show(&b, (const chost_obj *)o);
    if (strcmp(b.p, want) != 0)
        fail(line, "decoded\n   %s\n  want\n   %s", b.p, want);
    chost_free(o);
}

static void dec_err(int line, int text, const char *hex, const char *sub)
{
    char err[512];
    pgd_obj *o = decode(geometry, text, hex, err, sizeof err);

    checks++;
    if (o) {
        fail(line, "%.40s... decoded, expected an error with \"%s\"", hex, sub);
        chost_free(o);
    } else if (!strstr(err, sub)) {
        fail(line, "error \"%s\" does not contain \"%s\"", err, sub);
    }
}

/* Encode v; the bytes as hex (malloc'd) or NULL with the message in err. */
static char *encode(const pgd_codec *c, const pgd_value *v, char *err, size_t errsz)
{
    chost_ctx ctx;
    pgd_cx cx = new_cx(&ctx, c);
    struct pgd_wbuf out;
    char *hex = NULL;
    int n;

    chost_wbuf_init(&out);
    n = c->encode_binary(&cx, v, &out);
    err[0] = '\0';
    if (n < 0)
        snprintf(err, errsz, "%s", ctx.err[0] ? ctx.err : "(encoder failed without a message)");
    else if ((size_t)n != out.len)
        snprintf(err, errsz, "encoder said %d bytes, wrote %zu", n, out.len);
    else
        hex = tohex(out.p, out.len);
    chost_wbuf_free(&out);
    return hex;
}

static void enc(int line, const pgd_value *v, const char *want_hex)
{
    char err[512], *hex = encode(geometry, v, err, sizeof err);

    checks++;
    if (!hex)
        fail(line, "encoding: %s", err);
    else if (strcmp(hex, want_hex) != 0)
        fail(line, "encoded\n   %s\n  want\n   %s", hex, want_hex);
    free(hex);
}

static void enc_err(int line, const pgd_value *v, const char *sub)
{
    char err[512], *hex = encode(geometry, v, err, sizeof err);

    checks++;
    if (hex)
        fail(line, "encoded %s, expected an error with \"%s\"", hex, sub);
    else if (!strstr(err, sub))
        fail(line, "error \"%s\" does not contain \"%s\"", err, sub);
    free(hex);
}

/* ---- fixtures from the server ------------------------------------------------- */

static const struct fixture {
    const char *ewkt, *ndr, *xdr, *want;
} fixtures[] = {
    {"SRID=4326;POINT(1 2)", "0101000020e6100000000000000000f03f0000000000000040",
     "0020000001000010e63ff00000000000004000000000000000",
     "{'type': 'Point', 'coordinates': [1, 2], 'srid': 4326}"},
    {"POINT EMPTY", "0101000000000000000000f87f000000000000f87f",
     "00000000017ff80000000000007ff8000000000000", "{'type': 'Point', 'coordinates': []}"},
    {"LINESTRING(0 0,1 1,2 0.5)",
     "01020000000300000000000000000000000000000000000000000000000000f03f000000000000f03f000000"
     "0000000040000000000000e03f",
     "000000000200000003000000000000000000000000000000003ff00000000000003ff0000000000000400000"
     "00000000003fe0000000000000",
     "{'type': 'LineString', 'coordinates': [[0, 0], [1, 1], [2, 0.5]]}"},
    {"POLYGON((0 0,4 0,4 4,0 4,0 0),(1 1,2 1,2 2,1 1))",
     "0103000000020000000500000000000000000000000000000000000000000000000000104000000000000000"
     "0000000000000010400000000000001040000000000000000000000000000010400000000000000000000000"
     "000000000004000000000000000000f03f000000000000f03f0000000000000040000000000000f03f000000"
     "00000000400000000000000040000000000000f03f000000000000f03f",
     "0000000003000000020000000500000000000000000000000000000000401000000000000000000000000000"
     "0040100000000000004010000000000000000000000000000040100000000000000000000000000000000000"
     "0000000000000000043ff00000000000003ff000000000000040000000000000003ff0000000000000400000"
     "000000000040000000000000003ff00000000000003ff0000000000000",
     "{'type': 'Polygon', 'coordinates': [[[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]], "
     "[[1, 1], [2, 1], [2, 2], [1, 1]]]}"},
    {"SRID=3857;MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((5 5,6 5,6 6,5 5)))",
     "0106000020110f00000200000001030000000100000004000000000000000000000000000000000000000000"
     "00000000f03f0000000000000000000000000000f03f000000000000f03f0000000000000000000000000000"
     "0000010300000001000000040000000000000000001440000000000000144000000000000018400000000000"
     "0014400000000000001840000000000000184000000000000014400000000000001440",
     "002000000600000f110000000200000000030000000100000004000000000000000000000000000000003ff0"
     "00000000000000000000000000003ff00000000000003ff00000000000000000000000000000000000000000"
     "0000000000000300000001000000044014000000000000401400000000000040180000000000004014000000"
     "0000004018000000000000401800000000000040140000000000004014000000000000",
     "{'type': 'MultiPolygon', 'coordinates': [[[[0, 0], [1, 0], [1, 1], [0, 0]]], "
     "[[[5, 5], [6, 5], [6, 6], [5, 5]]]], 'srid': 3857}"},
    {"GEOMETRYCOLLECTION(POINT(1 2),GEOMETRYCOLLECTION(LINESTRING(0 0,1 1)),"
     "MULTIPOINT(3 4,EMPTY))",
     "0107000000030000000101000000000000000000f03f00000000000000400107000000010000000102000000"
     "0200000000000000000000000000000000000000000000000000f03f000000000000f03f0104000000020000"
     "000101000000000000000000084000000000000010400101000000000000000000f87f000000000000f87f",
     "00000000070000000300000000013ff000000000000040000000000000000000000007000000010000000002"
     "00000002000000000000000000000000000000003ff00000000000003ff00000000000000000000004000000"
     "0200000000014008000000000000401000000000000000000000017ff80000000000007ff8000000000000",
     "{'type': 'GeometryCollection', 'geometries': [{'type': 'Point', 'coordinates': [1, 2]}, "
     "{'type': 'GeometryCollection', 'geometries': [{'type': 'LineString', 'coordinates': "
     "[[0, 0], [1, 1]]}]}, {'type': 'MultiPoint', 'coordinates': [[3, 4], []]}]}"},
    {"POINT Z (1 2 3)", "0101000080000000000000f03f00000000000000400000000000000840",
     "00800000013ff000000000000040000000000000004008000000000000",
     "{'type': 'Point', 'coordinates': [1, 2, 3]}"},
    {"POINT M (1 2 3)", "0101000040000000000000f03f00000000000000400000000000000840",
     "00400000013ff000000000000040000000000000004008000000000000",
     "{'type': 'Point', 'coordinates': [1, 2, 3], 'measured': True}"},
    {"LINESTRING ZM (1 2 3 4,5 6 7 8)",
     "01020000c002000000000000000000f03f000000000000004000000000000008400000000000001040000000"
     "000000144000000000000018400000000000001c400000000000002040",
     "00c0000002000000023ff0000000000000400000000000000040080000000000004010000000000000401400"
     "00000000004018000000000000401c0000000000004020000000000000",
     "{'type': 'LineString', 'coordinates': [[1, 2, 3, 4], [5, 6, 7, 8]], 'measured': True}"},
    {"MULTILINESTRING((0 0,1 1),(2 2,3 3))",
     "01050000000200000001020000000200000000000000000000000000000000000000000000000000f03f0000"
     "00000000f03f0102000000020000000000000000000040000000000000004000000000000008400000000000"
     "000840",
     "000000000500000002000000000200000002000000000000000000000000000000003ff00000000000003ff0"
     "0000000000000000000002000000024000000000000000400000000000000040080000000000004008000000"
     "000000",
     "{'type': 'MultiLineString', 'coordinates': [[[0, 0], [1, 1]], [[2, 2], [3, 3]]]}"},
    {"GEOMETRYCOLLECTION EMPTY", "010700000000000000", "000000000700000000",
     "{'type': 'GeometryCollection', 'geometries': []}"},
    {"POLYGON EMPTY", "010300000000000000", "000000000300000000",
     "{'type': 'Polygon', 'coordinates': []}"},
};

#define NFIX (sizeof fixtures / sizeof fixtures[0])

static char *upper(const char *s)
{
    size_t n = strlen(s) + 1;
    char *u = malloc(n), *p;

    memcpy(u, s, n);

    for (p = u; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    return u;
}

static void test_fixtures(void)
{
    size_t i;

    for (i = 0; i < NFIX; i++) {
        const struct fixture *f = &fixtures[i];
        char err[512], *up;
        pgd_obj *o;
        pgd_value v;
        size_t len;
        char *raw;

        dec(__LINE__, 0, f->ndr, f->want);
        dec(__LINE__, 0, f->xdr, f->want);
        dec(__LINE__, 1, f->ndr, f->want); /* text results: hex digits, any case */
        up = upper(f->xdr);
        dec(__LINE__, 1, up, f->want);
        free(up);

        /* decoded value -> encoder -> the server's XDR bytes */
        o = decode(geometry, 0, f->ndr, err, sizeof err);
        checks++;
        if (!o || to_value((const chost_obj *)o, &v) < 0) {
            fail(__LINE__, "%s: %s", f->ewkt, err);
        } else {
            enc(__LINE__, &v, f->xdr);
            free_value(&v);
        }
        if (o)
            chost_free(o);

        /* bytes are checked and passed through unchanged, either order */
        raw = unhex(f->ndr, &len);
        enc(__LINE__, &(pgd_value){.kind = PGD_V_BYTES, .u.s = {raw, len}}, f->ndr);
        free(raw);
        raw = unhex(f->xdr, &len);
        enc(__LINE__, &(pgd_value){.kind = PGD_V_BYTES, .u.s = {raw, len}}, f->xdr);
        free(raw);

        /* geography: the same wire form */
        o = decode(geography, 0, f->ndr, err, sizeof err);
        CHECK(o != NULL);
        if (o)
            chost_free(o);
    }
}

/* Every proper prefix of a valid value is refused (and never over-read). */
static void test_truncation(void)
{
    size_t i, k, len;

    for (i = 0; i < NFIX; i++) {
        char *full = unhex(fixtures[i].ndr, &len);

        for (k = 0; k < len; k++) {
            chost_ctx ctx;
            pgd_cx cx = new_cx(&ctx, geometry);
            char *part = malloc(k ? k : 1);
            pgd_obj *o;

            memcpy(part, full, k);
            o = geometry->decode_binary(&cx, part, k);
            checks++;
            if (o) {
                fail(__LINE__, "%s cut to %zu bytes decoded", fixtures[i].ewkt, k);
                chost_free(o);
            } else if (!strstr(ctx.err, "invalid EWKB")) {
                fail(__LINE__, "%s cut to %zu bytes: \"%s\"", fixtures[i].ewkt, k, ctx.err);
            }
            /* and as a bytes parameter */
            {
                struct pgd_wbuf out;
                int n;

                chost_wbuf_init(&out);
                chost_ctx_init(&ctx);
                n = geometry->encode_binary(
                    &cx, &(pgd_value){.kind = PGD_V_BYTES, .u.s = {part, k}}, &out);
                CHECK(n == -1 && out.len == 0);
                chost_wbuf_free(&out);
            }
            free(part);
        }
        free(full);
    }
}

/* n GeometryCollections, each holding the next; the innermost is empty. */
static char *nested_hex(int n)
{
    char *s = malloc((size_t)n * 18 + 19), *p = s;
    int i;

    for (i = 0; i < n - 1; i++, p += 18)
        memcpy(p, "010700000001000000", 18);
    strcpy(p, "010700000000000000");
    return s;
}

static void test_refusals(void)
{
    char *hex;

    /* counts larger than what is left: refused before anything is built */
    dec_err(__LINE__, 0, "0102000000ffffffff", "LineString of 4294967295 points");
    dec_err(__LINE__, 0, "010200000002000000000000000000f03f000000000000f03f",
            "LineString of 2 points");
    dec_err(__LINE__, 0, "0103000000ffffff7f", "Polygon of 2147483647 rings");
    dec_err(__LINE__, 0, "0104000000030000000101000000000000000000f03f000000000000f03f",
            "MultiPoint of 3 members");
    dec_err(__LINE__, 0, "0107000000ffffffff", "GeometryCollection of 4294967295 members");
    /* trailing bytes */
    dec_err(__LINE__, 0, "010700000000000000" "00", "1 trailing bytes");
    dec_err(__LINE__, 0, "0101000000000000000000f03f000000000000f03f" "0000", "2 trailing");
    dec_err(__LINE__, 1, "010700000000000000" "01", "1 trailing bytes");
    /* nesting: 34 levels do not decode (33 do: test_nesting_exact) */
    hex = nested_hex(34);
    dec_err(__LINE__, 0, hex, "nested deeper than 32");
    free(hex);
    /* byte order, type word, dimensions, member types */
    dec_err(__LINE__, 0, "0201000000000000000000f03f000000000000f03f", "byte order 2");
    dec_err(__LINE__, 0, "010700000001000000" "020700000000000000", "byte order 2 at byte 9");
    dec_err(__LINE__, 0, "0163000000", "unknown geometry type word 0x00000063");
    dec_err(__LINE__, 0, "01e90f0000", "unknown geometry type word 0x00000fe9");
    dec_err(__LINE__, 0, "01e9030080", "unknown geometry type word 0x800003e9");
    dec_err(__LINE__, 0,
            "01080000000300000000000000000000000000000000000000000000000000f03f000000000000f03f"
            "00000000000000400000000000000000",
            "CircularString is not supported");
    dec_err(__LINE__, 0, "010400000001000000010200000000000000",
            "a LineString inside a MultiPoint at byte 9");
    dec_err(__LINE__, 0,
            "0107000000010000000101000080000000000000f03f000000000000f03f000000000000f03f",
            "other dimensions than its GeometryCollection");
    dec_err(__LINE__, 0, "", "geometry header at byte 0");
    /* ISO WKB type codes: 1001 = Point Z */
    dec(__LINE__, 0, "01e9030000000000000000f03f00000000000000400000000000000840",
        "{'type': 'Point', 'coordinates': [1, 2, 3]}");
    dec(__LINE__, 0, "01d1070000000000000000f03f00000000000000400000000000000840",
        "{'type': 'Point', 'coordinates': [1, 2, 3], 'measured': True}");
    /* a nested SRID is ignored, as the server does */
    dec(__LINE__, 0,
        "0107000020e6100000010000000101000020e7100000000000000000f03f000000000000f03f",
        "{'type': 'GeometryCollection', 'geometries': [{'type': 'Point', 'coordinates': "
        "[1, 1]}], 'srid': 4326}");
    /* text form */
    dec_err(__LINE__, 1, "0107000000000000000", "odd");
    dec_err(__LINE__, 1, "01070000000000000g", "not hex at character 17");
    dec_err(__LINE__, 1, "01070000000000", "needs 4 bytes, 2 left");
}

static void test_nesting_exact(void)
{
    char err[512], *hex = nested_hex(33);
    pgd_obj *o = decode(geometry, 0, hex, err, sizeof err);

    CHECK(o != NULL);
    if (!o)
        fail(__LINE__, "33 levels: %s", err);
    else
        chost_free(o);
    free(hex);
}

/* ---- encoding from dicts ------------------------------------------------------ */

#define VAL(k, ...) (&(pgd_value){.kind = (k), __VA_ARGS__})
#define F(x) ((pgd_value){.kind = PGD_V_FLOAT, .u.f = (x)})
#define I(x) ((pgd_value){.kind = PGD_V_INT, .u.i = (x)})
#define S(x) ((pgd_value){.kind = PGD_V_STR, .u.s = {(x), sizeof(x) - 1}})
#define B(x) ((pgd_value){.kind = PGD_V_BOOL, .u.b = (x)})
#define NONE ((pgd_value){.kind = PGD_V_NULL})
#define SEQ(k, ...)                                                                      \
    ((pgd_value){.kind = (k),                                                            \
                 .u.list = {(const pgd_value[]){__VA_ARGS__},                            \
                            sizeof((const pgd_value[]){__VA_ARGS__}) / sizeof(pgd_value)}})
#define L(...) SEQ(PGD_V_LIST, __VA_ARGS__)
#define T(...) SEQ(PGD_V_TUPLE, __VA_ARGS__)
#define MAP(...) SEQ(PGD_V_MAP, __VA_ARGS__)
#define EMPTY ((pgd_value){.kind = PGD_V_LIST, .u.list = {NULL, 0}})

static void test_encode(void)
{
    pgd_value deep[40];
    int i;

    /* shapely's __geo_interface__ has tuples; ints are numbers too */
    enc(__LINE__, &MAP(S("type"), S("Point"), S("coordinates"), T(F(1), I(2)), S("srid"), I(4326)),
        "0020000001000010e63ff00000000000004000000000000000");
    enc(__LINE__, &MAP(S("type"), S("point"), S("coordinates"), L(I(1), I(2)), S("srid"), NONE,
                       S("bbox"), L(I(1), I(2), I(1), I(2))),
        "00000000013ff00000000000004000000000000000");
    /* srid 0 is no SRID */
    enc(__LINE__, &MAP(S("type"), S("Point"), S("coordinates"), L(I(1), I(2)), S("srid"), I(0)),
        "00000000013ff00000000000004000000000000000");
    /* XYM from "measured"; an empty measured point is XYM too */
    enc(__LINE__, &MAP(S("type"), S("Point"), S("coordinates"), L(I(1), I(2), I(3)),
                       S("measured"), B(1)),
        "00400000013ff000000000000040000000000000004008000000000000");
    enc(__LINE__, &MAP(S("type"), S("Point"), S("coordinates"), EMPTY, S("measured"), B(1)),
        "00400000017ff80000000000007ff80000000000007ff8000000000000");
    /* an empty part takes the dimensions of the rest */
    enc(__LINE__, &MAP(S("type"), S("MultiPoint"), S("coordinates"),
                       L(EMPTY, L(I(1), I(2), I(3)))),
        "0080000004000000020080000001" "7ff80000000000007ff80000000000007ff8000000000000"
        "00800000013ff000000000000040000000000000004008000000000000");
    enc(__LINE__, &MAP(S("type"), S("LineString"), S("coordinates"), EMPTY),
        "000000000200000000");
    /* a nested dict may repeat the outermost SRID */
    enc(__LINE__, &MAP(S("type"), S("GeometryCollection"), S("srid"), I(4326), S("geometries"),
                       L(MAP(S("type"), S("Point"), S("coordinates"), L(I(1), I(2)), S("srid"),
                             I(4326)))),
        "0020000007000010e600000001" "00000000013ff00000000000004000000000000000");

    /* refusals */
    enc_err(__LINE__, &L(I(1), I(2)), "a geometry is a dict");
    enc_err(__LINE__, &I(7), "not int");
    enc_err(__LINE__, &S("POINT(1 2)"), "not str");
    enc_err(__LINE__, VAL(PGD_V_OBJECT, .u.obj = {NULL, "Point"}),
            "cannot send a Point as a geometry: pass obj.__geo_interface__");
    enc_err(__LINE__, &MAP(S("coordinates"), L(I(1), I(2))), "needs a \"type\"");
    enc_err(__LINE__, &MAP(S("type"), I(1), S("coordinates"), L(I(1), I(2))),
            "\"type\" is a str, not int");
    enc_err(__LINE__, &MAP(S("type"), S("Circle"), S("coordinates"), L(I(1), I(2))),
            "\"Circle\" is not a GeoJSON geometry type");
    enc_err(__LINE__, &MAP(S("type"), S("Feature"), S("geometry"), NONE),
            "unexpected key \"geometry\"");
    enc_err(__LINE__, &MAP(S("type"), S("Feature")), "GeoJSON Feature is not a geometry");
    enc_err(__LINE__, &MAP(S("type"), S("CircularString"), S("coordinates"), EMPTY),
            "CircularString is not supported");
    enc_err(__LINE__, &MAP(S("type"), S("Point"), S("cordinates"), L(I(1), I(2))),
            "unexpected key \"cordinates\"");
    enc_err(__LINE__, &MAP(I(1), S("Point")), "keys are str, not int");
    enc_err(__LINE__, &MAP(S("type"), S("Point")), "a Point dict has \"coordinates\"");
    enc_err(__LINE__, &MAP(S("type"), S("GeometryCollection"), S("coordinates"), EMPTY),
            "has \"geometries\" and no \"coordinates\"");
    enc_err(__LINE__, &MAP(S("type"), S("Point"), S("coordinates"), L(I(1))),
            "2 to 4 numbers, not 1");
    enc_err(__LINE__, &MAP(S("type"), S("Point"), S("coordinates"), L(I(1), I(2), I(3), I(4), I(5))),
            "2 to 4 numbers, not 5");
    enc_err(__LINE__, &MAP(S("type"), S("Point"), S("coordinates"), L(I(1), S("2"))),
            "coordinates are numbers, not str");
    enc_err(__LINE__, &MAP(S("type"), S("Point"), S("coordinates"), L(I(1), B(1))),
            "coordinates are numbers, not bool");
    enc_err(__LINE__, &MAP(S("type"), S("LineString"), S("coordinates"), L(I(1), I(2))),
            "a position is a list of 2 to 4 numbers, not int");
    enc_err(__LINE__, &MAP(S("type"), S("LineString"), S("coordinates"), L(EMPTY)),
            "2 to 4 numbers, not 0");
    enc_err(__LINE__, &MAP(S("type"), S("LineString"), S("coordinates"),
                           L(L(I(1), I(2)), L(I(1), I(2), I(3)))),
            "positions of 2 and of 3 numbers");
    enc_err(__LINE__, &MAP(S("type"), S("Polygon"), S("coordinates"), I(3)),
            "a Polygon's coordinates is a list of rings");
    enc_err(__LINE__, &MAP(S("type"), S("Point"), S("coordinates"), L(I(1), I(2)),
                           S("measured"), B(1)),
            "measured geometry's positions are [x, y, m]");
    enc_err(__LINE__, &MAP(S("type"), S("Point"), S("coordinates"), L(I(1), I(2)),
                           S("measured"), I(1)),
            "\"measured\" is a bool, not int");
    enc_err(__LINE__, &MAP(S("type"), S("Point"), S("coordinates"), L(I(1), I(2)), S("srid"),
                           I(-1)),
            "\"srid\" is an int from 0");
    enc_err(__LINE__, &MAP(S("type"), S("GeometryCollection"), S("geometries"),
                           L(MAP(S("type"), S("Point"), S("coordinates"), L(I(1), I(2)),
                                 S("srid"), I(3857)))),
            "nested geometry's srid 3857 differs");
    enc_err(__LINE__, &MAP(S("type"), S("GeometryCollection"), S("geometries"),
                           L(L(I(1), I(2)))),
            "a geometry is a dict");
    /* bytes are checked like a decoded value */
    enc_err(__LINE__, &(pgd_value){.kind = PGD_V_BYTES, .u.s = {"\x01\x07\0\0\0\0\0\0\0\x00", 10}},
            "1 trailing bytes");
    enc_err(__LINE__, &(pgd_value){.kind = PGD_V_BYTES, .u.s = {"POINT(1 2)", 10}},
            "invalid EWKB");

    /* nesting: collections 33 deep are written, 34 are refused */
    for (i = 0; i < 40; i++) {
        static pgd_value kv[40][4];

        kv[i][0] = S("type");
        kv[i][1] = S("GeometryCollection");
        kv[i][2] = S("geometries");
        kv[i][3] = i == 0 ? EMPTY : (pgd_value){.kind = PGD_V_LIST, .u.list = {&deep[i - 1], 1}};
        deep[i] = (pgd_value){.kind = PGD_V_MAP, .u.list = {kv[i], 4}};
    }
    {
        char err[512], *hex = encode(geometry, &deep[32], err, sizeof err), *want = nested_hex(33);
        size_t k;

        /* the encoder writes XDR: the same bytes as nested_hex's NDR but
         * for the order byte and the count words */
        CHECK(hex != NULL);
        if (hex) {
            for (k = 0; k + 18 <= strlen(want); k += 18) {
                CHECK(memcmp(hex + k, "0000000007", 10) == 0);
            }
            free(hex);
        }
        free(want);
    }
    enc_err(__LINE__, &deep[33], "nested deeper than 32");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s path/to/postgis.so\n", argv[0]);
        return 2;
    }
    load(argv[1]);
    test_fixtures();
    test_truncation();
    test_refusals();
    test_nesting_exact();
    test_encode();
    if (failures) {
        fprintf(stderr, "%d of %d checks FAILED\n", failures, checks);
        return 1;
    }
    printf("all %d checks passed\n", checks);
    return 0;
}
