/*
 * harness.c - see harness.h.
 */
#include "harness.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef PGD_CODEC_DIR
#error "PGD_CODEC_DIR must name the directory holding the built plugins"
#endif

static const char *const plugin_names[] = {
    "int", "float", "bool", "text", "bytea", "uuid", "json", "numeric", "datetime", "array",
    "net", "money", "bits", "sysid", "textlike",
    "geometric", "range",
};

#define MAX_CODECS 128

static struct {
    const pgd_codec *codec;
} table[MAX_CODECS];
static size_t ncodecs;
static const pgd_codec *array_handler;
static int failures, checks;

void th_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    failures++;
    fprintf(stderr, "%s:%d: FAIL: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void th_count(void)
{
    checks++;
}

static void die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(2);
}

/* Tiny loader: dlopen, entry symbol, descriptor sanity, register. */
static void load_plugin(const char *name)
{
    char path[1024];
    void *dl;
    pgd_codec_module_fn fn;
    const pgd_codec_module *m;
    size_t i;

    snprintf(path, sizeof path, "%s/%s.so", PGD_CODEC_DIR, name);
    dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!dl)
        die("cannot load %s: %s", path, dlerror());
    *(void **)&fn = dlsym(dl, PGD_CODEC_ENTRY);
    if (!fn)
        die("%s: no %s symbol", path, PGD_CODEC_ENTRY);
    m = fn();
    if (!m || m->magic != PGD_CODEC_MAGIC || m->abi_major != PGD_CODEC_ABI_MAJOR ||
        m->struct_size < sizeof *m || m->codec_size < sizeof(pgd_codec))
        die("%s: bad module descriptor", path);
    if (strcmp(m->name, name) != 0)
        die("%s: module calls itself \"%s\"", path, m->name);
    for (i = 0; i < m->n_codecs; i++) {
        const pgd_codec *c =
            (const pgd_codec *)((const char *)m->codecs + i * m->codec_size);

        if (c->flags & PGD_CODEC_ARRAY) {
            array_handler = c;
            continue;
        }
        if (th_find(c->oid, NULL, NULL))
            die("%s: OID %u registered twice", path, c->oid);
        if (ncodecs == MAX_CODECS)
            die("too many codecs");
        table[ncodecs++].codec = c;
    }
    /* never dlclose: codecs point into the module */
}

void th_init(void)
{
    size_t i;

    for (i = 0; i < sizeof plugin_names / sizeof plugin_names[0]; i++)
        load_plugin(plugin_names[i]);
    if (!array_handler)
        die("no array handler loaded");
}

int th_finish(void)
{
    if (failures) {
        fprintf(stderr, "%d of %d checks FAILED\n", failures, checks);
        return 1;
    }
    if (checks == 0) {
        /* a test file whose checks never ran proves nothing */
        fprintf(stderr, "no checks ran\n");
        return 1;
    }
    printf("all %d checks passed\n", checks);
    return 0;
}

const pgd_codec *th_find(uint32_t oid, const pgd_codec **elem, uint32_t *elem_oid)
{
    size_t i;

    for (i = 0; i < ncodecs; i++)
        if (table[i].codec->oid == oid)
            return table[i].codec;
    for (i = 0; i < ncodecs; i++)
        if (table[i].codec->array_oid == oid && oid != 0) {
            if (elem)
                *elem = table[i].codec;
            if (elem_oid)
                *elem_oid = table[i].codec->oid;
            return array_handler;
        }
    return NULL;
}

static const pgd_codec *find_cb(void *user, uint32_t oid)
{
    (void)user;
    return th_find(oid, NULL, NULL);
}

int th_cx(pgd_cx *cx, chost_ctx *ctx, uint32_t oid)
{
    const pgd_codec *elem = NULL;
    uint32_t elem_oid = 0;

    chost_ctx_init(ctx);
    ctx->find = find_cb;
    memset(cx, 0, sizeof *cx);
    cx->host = chost_host();
    cx->h = ctx;
    cx->oid = oid;
    if (!th_find(oid, &elem, &elem_oid))
        return -1;
    cx->elem = elem;
    cx->elem_oid = elem_oid;
    return 0;
}

char *th_unhex(const char *hex, size_t *len)
{
    size_t n = strlen(hex), i, k = 0;
    char *out = malloc(n / 2 + 1);

    if (!out)
        die("out of memory");
    for (i = 0; i + 1 < n; i += 2) {
        unsigned b;

        if (hex[i] == ' ') { /* allow spaces between bytes */
            i--;
            continue;
        }
        if (sscanf(hex + i, "%2x", &b) != 1)
            die("bad hex in test table: %s", hex);
        out[k++] = (char)b;
    }
    *len = k;
    return out;
}

char *th_hex(const char *p, size_t n)
{
    char *out = malloc(2 * n + 1);
    size_t i;

    if (!out)
        die("out of memory");
    for (i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", (unsigned char)p[i]);
    out[2 * n] = '\0';
    return out;
}

/* Strip blanks from a hex literal (tables may group bytes). */
static char *hex_norm(const char *hex)
{
    size_t n;
    char *b = th_unhex(hex, &n), *h = th_hex(b, n);

    free(b);
    return h;
}

pgd_obj *th_decode_obj(uint32_t oid, int binary, const char *data, size_t len, char *err,
                       size_t errsz)
{
    chost_ctx ctx;
    pgd_cx cx;
    const pgd_codec *c;
    char *copy;
    pgd_obj *o;

    err[0] = '\0';
    if (th_cx(&cx, &ctx, oid) < 0) {
        snprintf(err, errsz, "no codec for OID %u", oid);
        return NULL;
    }
    c = th_find(oid, NULL, NULL);
    if (!(binary ? c->decode_binary : c->decode_text)) {
        snprintf(err, errsz, "codec has no %s decoder", binary ? "binary" : "text");
        return NULL;
    }
    copy = malloc(len); /* exactly len bytes: ASan flags any over-read */
    if (len)
        memcpy(copy, data, len);
    o = (binary ? c->decode_binary : c->decode_text)(&cx, copy, len);
    free(copy);
    if (!o)
        snprintf(err, errsz, "%s", ctx.err[0] ? ctx.err : "(decoder failed without a message)");
    else if (ctx.nerrors)
        snprintf(err, errsz, "decoder succeeded but recorded an error: %s", ctx.err);
    return o;
}

int th_value_from(const chost_obj *o, pgd_value *v)
{
    size_t i;

    if (o->kind == CH_CALL && strncmp(o->s, "psqlpy.extra_types:", 19) == 0) {
        /* Point, Range, ...: named tuples, which reach the extension as the
         * tuple of their fields */
        chost_obj t = *o;

        t.kind = CH_TUPLE;
        return th_value_from(&t, v);
    }
    memset(v, 0, sizeof *v);
    switch (o->kind) {
    case CH_NULL: v->kind = PGD_V_NULL; break;
    case CH_BOOL: v->kind = PGD_V_BOOL; v->u.b = (int)o->i; break;
    case CH_INT: v->kind = PGD_V_INT; v->u.i = o->i; break;
    case CH_FLOAT: v->kind = PGD_V_FLOAT; v->u.f = o->f; break;
    case CH_STR: v->kind = PGD_V_STR; v->u.s.p = o->s; v->u.s.n = o->n; break;
    case CH_BYTES: v->kind = PGD_V_BYTES; v->u.s.p = o->s; v->u.s.n = o->n; break;
    case CH_DECIMAL: v->kind = PGD_V_DECIMAL; v->u.s.p = o->s; v->u.s.n = o->n; break;
    case CH_JSON: v->kind = PGD_V_JSON; v->u.s.p = o->s; v->u.s.n = o->n; break;
    case CH_UUID: v->kind = PGD_V_UUID; memcpy(v->u.uuid, o->uuid, 16); break;
    case CH_DATE: v->kind = PGD_V_DATE; v->u.dt = o->dt; break;
    case CH_TIME: v->kind = PGD_V_TIME; v->u.dt = o->dt; break;
    case CH_DATETIME: v->kind = PGD_V_DATETIME; v->u.dt = o->dt; break;
    case CH_INTERVAL:
        v->kind = PGD_V_INTERVAL;
        v->u.iv.months = o->months;
        v->u.iv.days = o->days;
        v->u.iv.usec = o->usec;
        break;
    case CH_CALL:
        /* a constructor of one string, as the extension sends such objects
         * back: an ipaddress object as its text, an int beyond int64 (the
         * builtins:int of xid8) as decimal text */
        if (o->n != 1 || o->items[0]->kind != CH_STR)
            return -1;
        v->kind = strcmp(o->s, "builtins:int") == 0 ? PGD_V_DECIMAL : PGD_V_STR;
        v->u.s.p = o->items[0]->s;
        v->u.s.n = o->items[0]->n;
        break;
    case CH_TUPLE:
    case CH_LIST: {
        pgd_value *items = calloc(o->n ? o->n : 1, sizeof *items);

        if (!items)
            die("out of memory");
        v->kind = o->kind == CH_TUPLE ? PGD_V_TUPLE : PGD_V_LIST;
        v->u.list.items = items;
        v->u.list.n = o->n;
        for (i = 0; i < o->n; i++)
            if (th_value_from(o->items[i], &items[i]) < 0)
                return -1;
        break;
    }
    default:
        return -1;
    }
    return 0;
}

void th_value_free(pgd_value *v)
{
    size_t i;

    if (v->kind != PGD_V_LIST && v->kind != PGD_V_TUPLE)
        return;
    for (i = 0; i < v->u.list.n; i++)
        th_value_free((pgd_value *)&v->u.list.items[i]);
    free((void *)v->u.list.items);
}

/* One encode into a buffer that holds `prefix` (NULL: never allocated). */
static char *encode_once(uint32_t oid, const pgd_value *v, const char *prefix, char *err,
                         size_t errsz)
{
    chost_ctx ctx;
    pgd_cx cx;
    struct pgd_wbuf b;
    const pgd_codec *c;
    size_t pre = prefix ? strlen(prefix) : 0;
    char *hex = NULL;
    int n;

    err[0] = '\0';
    if (th_cx(&cx, &ctx, oid) < 0) {
        snprintf(err, errsz, "no codec for OID %u", oid);
        return NULL;
    }
    c = th_find(oid, NULL, NULL);
    chost_wbuf_init(&b);
    if (pre)
        memcpy(chost_host()->reserve(&b, pre), prefix, pre);
    n = c->encode_binary(&cx, v, &b);
    if (n < 0)
        snprintf(err, errsz, "%s", ctx.err[0] ? ctx.err : "(encoder failed without a message)");
    else if (ctx.nerrors)
        snprintf(err, errsz, "encoder succeeded but recorded an error: %s", ctx.err);
    else if ((size_t)n != b.len - pre)
        snprintf(err, errsz, "encoder returned %d but appended %zu bytes", n, b.len - pre);
    else if (pre && memcmp(b.p, prefix, pre) != 0)
        snprintf(err, errsz, "encoder overwrote bytes before its own");
    else
        hex = th_hex(b.p + pre, b.len - pre);
    chost_wbuf_free(&b);
    return hex;
}

/*
 * Encode twice: after bytes already in the buffer (encoders must append,
 * not overwrite) and into a buffer never allocated (the host may answer a
 * zero-byte reserve with NULL there); both must agree.
 */
char *th_encode_hex(uint32_t oid, const pgd_value *v, char *err, size_t errsz)
{
    char err2[512];
    char *hex = encode_once(oid, v, "pre", err, errsz);
    char *fresh = encode_once(oid, v, NULL, err2, sizeof err2);

    if (!hex != !fresh || (hex && strcmp(hex, fresh) != 0)) {
        snprintf(err, errsz, "encode into a fresh buffer differs: %s vs %s%s",
                 hex ? hex : "error", fresh ? fresh : "error: ", fresh ? "" : err2);
        free(hex);
        hex = NULL;
    }
    free(fresh);
    return hex;
}

static void dec_common(const char *f, int l, uint32_t oid, int binary, const char *in,
                       size_t inlen, const char *want)
{
    char err[512];
    pgd_obj *o;
    char *r;

    checks++;
    o = th_decode_obj(oid, binary, in, inlen, err, sizeof err);
    if (!o || err[0]) {
        th_fail(f, l, "decode %s of OID %u failed: %s (wanted %s)", binary ? "binary" : "text",
                oid, err, want);
        chost_free(o);
        return;
    }
    r = chost_repr(o);
    if (strcmp(r, want) != 0)
        th_fail(f, l, "decode %s of OID %u: got %s, wanted %s", binary ? "binary" : "text", oid,
                r, want);
    free(r);
    chost_free(o);
}

void th_dec(const char *f, int l, uint32_t oid, const char *hex, const char *want)
{
    size_t n;
    char *b = th_unhex(hex, &n);

    dec_common(f, l, oid, 1, b, n, want);
    free(b);
}

void th_dect(const char *f, int l, uint32_t oid, const char *text, const char *want)
{
    dec_common(f, l, oid, 0, text, strlen(text), want);
}

static void dec_err_common(const char *f, int l, uint32_t oid, int binary, const char *in,
                           size_t inlen, const char *want_sub)
{
    char err[512];
    pgd_obj *o;

    checks++;
    o = th_decode_obj(oid, binary, in, inlen, err, sizeof err);
    if (o) {
        char *r = chost_repr(o);

        th_fail(f, l, "decode %s of OID %u should fail (%s) but gave %s",
                binary ? "binary" : "text", oid, want_sub, r);
        free(r);
        chost_free(o);
        return;
    }
    if (!strstr(err, want_sub))
        th_fail(f, l, "decode of OID %u failed with \"%s\", wanted a message containing \"%s\"",
                oid, err, want_sub);
}

void th_dec_err(const char *f, int l, uint32_t oid, const char *hex, const char *want_sub)
{
    size_t n;
    char *b = th_unhex(hex, &n);

    dec_err_common(f, l, oid, 1, b, n, want_sub);
    free(b);
}

void th_dect_err(const char *f, int l, uint32_t oid, const char *text, const char *want_sub)
{
    dec_err_common(f, l, oid, 0, text, strlen(text), want_sub);
}

void th_dect_err_n(const char *f, int l, uint32_t oid, const char *text, size_t n,
                   const char *want_sub)
{
    dec_err_common(f, l, oid, 0, text, n, want_sub);
}

void th_enc(const char *f, int l, uint32_t oid, const pgd_value *v, const char *want_hex)
{
    char err[512];
    char *got, *want = hex_norm(want_hex);

    checks++;
    got = th_encode_hex(oid, v, err, sizeof err);
    if (!got)
        th_fail(f, l, "encode for OID %u failed: %s (wanted %s)", oid, err, want);
    else if (strcmp(got, want) != 0)
        th_fail(f, l, "encode for OID %u: got %s, wanted %s", oid, got, want);
    free(got);
    free(want);
}

void th_enc_err(const char *f, int l, uint32_t oid, const pgd_value *v, const char *want_sub)
{
    char err[512];
    char *got;

    checks++;
    got = th_encode_hex(oid, v, err, sizeof err);
    if (got)
        th_fail(f, l, "encode for OID %u should fail (%s) but gave %s", oid, want_sub, got);
    else if (!strstr(err, want_sub))
        th_fail(f, l, "encode for OID %u failed with \"%s\", wanted \"%s\"", oid, err, want_sub);
    free(got);
}

void th_rt(const char *f, int l, uint32_t oid, const char *hex)
{
    char err[512];
    size_t n;
    char *b = th_unhex(hex, &n), *want = th_hex(b, n), *got = NULL;
    pgd_obj *o;
    pgd_value v;

    checks++;
    o = th_decode_obj(oid, 1, b, n, err, sizeof err);
    if (!o) {
        th_fail(f, l, "round trip of OID %u: decode failed: %s", oid, err);
        goto done;
    }
    if (th_value_from((const chost_obj *)o, &v) < 0) {
        th_fail(f, l, "round trip of OID %u: no encoder input for the decoded value", oid);
        goto done;
    }
    got = th_encode_hex(oid, &v, err, sizeof err);
    th_value_free(&v);
    if (!got)
        th_fail(f, l, "round trip of OID %u: encode failed: %s", oid, err);
    else if (strcmp(got, want) != 0)
        th_fail(f, l, "round trip of OID %u: %s came back as %s", oid, want, got);
done:
    free(got);
    free(want);
    free(b);
    chost_free(o);
}
