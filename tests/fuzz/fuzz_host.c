/*
 * fuzz_host.c - see fuzz_host.h.
 *
 * FUZZ_PLUGIN_DIR (the directory holding the fuzz build's <family>.so) and
 * FUZZ_FAMILIES (the family names, separated by ':') are set by run.sh.
 */
#include "fuzz_host.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h" /* th_value_from: a decoded tree back into encoder input */

#if !defined(FUZZ_PLUGIN_DIR) || !defined(FUZZ_FAMILIES)
#error "FUZZ_PLUGIN_DIR and FUZZ_FAMILIES must be defined (see run.sh)"
#endif

#define MAX_FAMILIES 64
#define MAX_CODECS 512

static fz_family families[MAX_FAMILIES];
static size_t nfamilies;

/* Every loaded codec that is not an array handler, and its wrapped copy
 * (same codec, decoders that copy their input to an exact-size block). */
static const pgd_codec *codecs[MAX_CODECS];
static pgd_codec wrapped[MAX_CODECS];
static size_t ncodecs;

/* The array handler, and per element codec a wrapped copy of it under
 * that element's array OID (for attributes of an array type). */
static const pgd_codec *array_handler;
static pgd_codec arrays[MAX_CODECS];

/* Wrapped codecs that have an array type (elements), and every wrapped
 * codec found by OID, arrays included (attributes, subtypes). */
static const pgd_codec *elems[MAX_CODECS], *fields[2 * MAX_CODECS];
static size_t nelems, nfields;

static void die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("fuzz: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(2);
}

/* A contract violation: report it and abort, so the fuzzer keeps the input. */
static void violation(const pgd_codec *c, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "fuzz: codec %s (OID %u): ", c->type_name, c->oid);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

static size_t find_index(uint32_t oid)
{
    size_t i;

    for (i = 0; oid && i < ncodecs; i++)
        if (codecs[i]->oid == oid)
            return i;
    return SIZE_MAX;
}

/* ---- exact-size copies for element and find() codecs ------------------- */

/* Call `fn` on a heap copy of exactly len bytes of data. */
static pgd_obj *decode_copy(pgd_decode_fn fn, const pgd_cx *cx, const char *data, size_t len)
{
    char *copy = malloc(len); /* malloc(0) too: ASan flags any read of it */
    pgd_obj *o;

    if (!copy && len) {
        cx->host->error(cx->h, "out of memory");
        return NULL;
    }
    if (len)
        memcpy(copy, data, len);
    o = fn(cx, copy, len);
    free(copy);
    return o;
}

/* The wrapped codecs' decoders find the real codec by cx->oid, which the
 * array handler, a composite or a range sets to the type it codes. */
static const pgd_codec *real_codec(const pgd_cx *cx)
{
    size_t i = find_index(cx->oid);

    if (i != SIZE_MAX)
        return codecs[i];
    for (i = 0; i < nelems; i++)
        if (arrays[i].oid == cx->oid)
            return array_handler;
    fprintf(stderr, "fuzz: an element, attribute or find() codec was called with "
                    "cx->oid %u, which no codec has\n", cx->oid);
    abort();
}

static pgd_obj *exact_decode_binary(const pgd_cx *cx, const char *data, size_t len)
{
    return decode_copy(real_codec(cx)->decode_binary, cx, data, len);
}

static pgd_obj *exact_decode_text(const pgd_cx *cx, const char *data, size_t len)
{
    return decode_copy(real_codec(cx)->decode_text, cx, data, len);
}

static const pgd_codec *find_cb(void *user, uint32_t oid)
{
    size_t i = find_index(oid);

    (void)user;
    return i == SIZE_MAX ? NULL : &wrapped[i];
}

/* ---- loading ----------------------------------------------------------- */

static void add_codec(const char *family, const pgd_codec *c)
{
    pgd_codec *w;

    if (c->oid && find_index(c->oid) != SIZE_MAX)
        die("%s: OID %u registered twice", family, c->oid);
    if (ncodecs == MAX_CODECS)
        die("more than %d codecs", MAX_CODECS);
    codecs[ncodecs] = c;
    w = &wrapped[ncodecs];
    *w = *c;
    /* by-name codecs (OID 0) cannot be found by cx->oid: left unwrapped */
    if (c->oid && c->decode_binary)
        w->decode_binary = exact_decode_binary;
    if (c->oid && c->decode_text)
        w->decode_text = exact_decode_text;
    if (c->oid && c->array_oid)
        elems[nelems++] = w;
    if (c->oid)
        fields[nfields++] = w;
    ncodecs++;
}

/* After loading: the array handler under every element's array OID. */
static void add_arrays(void)
{
    size_t i;

    for (i = 0; array_handler && i < nelems; i++) {
        arrays[i] = *array_handler;
        arrays[i].oid = elems[i]->array_oid;
        arrays[i].array_oid = 0;
        if (array_handler->decode_binary)
            arrays[i].decode_binary = exact_decode_binary;
        if (array_handler->decode_text)
            arrays[i].decode_text = exact_decode_text;
        fields[nfields++] = &arrays[i];
    }
}

/* The descriptor field that is wrong, or NULL when the module is usable. */
static const char *descriptor_fault(const pgd_codec_module *m, const char *name)
{
    if (!m)
        return "(the entry function returned NULL)";
    if (m->magic != PGD_CODEC_MAGIC)
        return "magic";
    if (m->abi_major != PGD_CODEC_ABI_MAJOR)
        return "abi_major";
    if (m->struct_size < sizeof *m)
        return "struct_size";
    if (m->codec_size < sizeof(pgd_codec))
        return "codec_size";
    if (!m->name || strcmp(m->name, name) != 0)
        return "name (not the file's base name)";
    if (m->n_codecs == 0 || !m->codecs)
        return "n_codecs (no codecs)";
    return NULL;
}

static void load_family(const char *name)
{
    char path[1024];
    void *dl, *entry = NULL;
    pgd_codec_module_fn fn;
    const pgd_codec_module *m;
    const char *fault;
    size_t i;

    snprintf(path, sizeof path, "%s/%s.so", FUZZ_PLUGIN_DIR, name);
    dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (dl)
        entry = dlsym(dl, PGD_CODEC_ENTRY);
    if (!entry)
        die("%s: %s", path, dlerror());
    memcpy(&fn, &entry, sizeof fn);
    m = fn();
    fault = descriptor_fault(m, name);
    if (fault)
        die("%s: descriptor refused: %s", path, fault);
    if (nfamilies == MAX_FAMILIES)
        die("more than %d families", MAX_FAMILIES);
    families[nfamilies].name = m->name;
    families[nfamilies].m = m;
    nfamilies++;
    for (i = 0; i < m->n_codecs; i++) {
        const pgd_codec *c = fz_family_codec(&families[nfamilies - 1], i);

        if (!(c->flags & PGD_CODEC_ARRAY))
            add_codec(name, c);
        else if (!array_handler)
            array_handler = c;
    }
    /* never dlclose: codecs point into the module */
}

void fz_init(void)
{
    const char *p = FUZZ_FAMILIES;

    if (nfamilies)
        return;
    while (*p) {
        char name[128];
        size_t n = strcspn(p, ":");

        if (n == 0 || n >= sizeof name)
            die("bad family list \"%s\"", FUZZ_FAMILIES);
        memcpy(name, p, n);
        name[n] = '\0';
        load_family(name);
        p += n;
        if (*p == ':')
            p++;
    }
    add_arrays();
}

const fz_family *fz_family_named(const char *name)
{
    size_t i;

    for (i = 0; i < nfamilies; i++)
        if (strcmp(families[i].name, name) == 0)
            return &families[i];
    return NULL;
}

size_t fz_family_ncodecs(const fz_family *f)
{
    return f->m->n_codecs;
}

const pgd_codec *fz_family_codec(const fz_family *f, size_t i)
{
    return (const pgd_codec *)((const char *)f->m->codecs + i * f->m->codec_size);
}

size_t fz_nelems(void)
{
    return nelems;
}

const pgd_codec *fz_elem(size_t i)
{
    return elems[i];
}

/* ---- made-up per-database types --------------------------------------- */

char fz_type_kind(const pgd_codec *c)
{
    switch (c ? c->oid : 0) {
    case PGD_OID_RECORD:
        return 'c';
    case PGD_OID_ANYENUM:
        return 'e';
    case PGD_OID_ANYRANGE:
        return 'r';
    case PGD_OID_ANYMULTIRANGE:
        return 'm';
    default:
        return 0;
    }
}

/* An attribute or subtype of codec c (one of fields[]; NULL: none). */
static pgd_field make_field(const char *name, const pgd_codec *c)
{
    pgd_field f;

    memset(&f, 0, sizeof f);
    f.name = name;
    f.oid = c ? c->oid : 0;
    f.codec = c;
    if (c >= arrays && c < arrays + nelems) {
        f.elem = elems[c - arrays];
        f.elem_oid = f.elem->oid;
    }
    return f;
}

void fz_set_type(fz_call *call, size_t n, const pgd_codec *const *field)
{
    static const char *const names[FZ_MAX_FIELDS] = {"a", "b", "c", "d"};
    fz_type *t = &call->type;
    const pgd_codec *tc;
    size_t i, r;
    char kind;

    memset(t, 0, sizeof *t);
    call->typed = fz_type_kind(call->codec) ? 1 : fz_type_kind(call->elem) ? 2 : 0;
    if (!call->typed)
        return;
    tc = call->typed == 1 ? call->codec : call->elem;
    kind = fz_type_kind(tc);
    t->info.size = sizeof t->info;
    t->info.oid = tc->oid;
    t->info.name = "fuzz_type";
    t->info.schema = "public";
    t->info.kind = kind;
    t->info.fields = t->fields;
    if (kind == 'c') {
        t->info.n_fields = (uint32_t)(n < FZ_MAX_FIELDS ? n : FZ_MAX_FIELDS);
        for (i = 0; i < t->info.n_fields; i++)
            t->fields[i] = make_field(names[i], field[i]);
    } else if (kind == 'r') {
        t->info.n_fields = 1;
        t->fields[0] = make_field("", n ? field[0] : NULL);
    } else if (kind == 'm') {
        /* the range type's codec is the generic one, with its own type */
        r = find_index(PGD_OID_ANYRANGE);
        t->info.n_fields = 1;
        t->fields[0] = make_field("", r == SIZE_MAX ? NULL : &wrapped[r]);
        t->fields[0].type = &t->range;
        t->range = t->info;
        t->range.kind = 'r';
        t->range.oid = PGD_OID_ANYRANGE;
        t->range.fields = &t->range_field;
        t->range_field = make_field("", n ? field[0] : NULL);
    }
}

/* ---- the header -------------------------------------------------------- */

static uint16_t get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void put_u16(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* The codec a selector picks from list[0..n): the one whose OID equals
 * sel, else number sel % (n + 1), where n means none. */
static const pgd_codec *pick(const pgd_codec *const *list, size_t n, uint16_t sel)
{
    size_t i;

    for (i = 0; sel && i < n; i++)
        if (list[i]->oid == sel)
            return list[i];
    i = sel % (n + 1);
    return i < n ? list[i] : NULL;
}

/* The selector that picks c (NULL: none) from list[0..n). */
static size_t selector(const pgd_codec *const *list, size_t n, const pgd_codec *c)
{
    size_t i;

    if (c && c->oid <= 0xFFFF)
        return c->oid;
    for (i = 0; c && i < n && list[i] != c; i++)
        ;
    return c ? i : n;
}

size_t fz_parse(const fz_family *f, const uint8_t *data, size_t size, fz_call *call)
{
    const pgd_codec *field[FZ_MAX_FIELDS];
    size_t n = fz_family_ncodecs(f), i, pos = 3, nf = 0;
    uint16_t sel;
    char kind;

    if (size < pos)
        return 0;
    memset(call, 0, sizeof *call);
    sel = get_u16(data + 1);
    for (i = 0; i < n && fz_family_codec(f, i)->oid != sel; i++)
        ;
    call->codec = fz_family_codec(f, i < n && sel ? i : sel % n);
    call->text = data[0] & 1;
    if (!call->codec->decode_text)
        call->text = 0;
    else if (!call->codec->decode_binary)
        call->text = 1;
    call->oid = call->codec->oid;
    if (call->codec->flags & PGD_CODEC_ARRAY) {
        if (size < pos + 2)
            return 0;
        call->elem = pick(elems, nelems, get_u16(data + pos));
        pos += 2;
        call->elem_oid = call->elem ? call->elem->oid : 0;
        call->oid = call->elem ? call->elem->array_oid : 0;
    }
    kind = fz_type_kind(call->codec) ? fz_type_kind(call->codec) : fz_type_kind(call->elem);
    if (kind == 'c') {
        if (size < pos + 1)
            return 0;
        nf = data[pos++] % (FZ_MAX_FIELDS + 1);
    } else if (kind == 'r' || kind == 'm') {
        nf = 1;
    }
    for (i = 0; i < nf; i++) {
        if (size < pos + 2)
            return 0;
        field[i] = pick(fields, nfields, get_u16(data + pos));
        pos += 2;
    }
    fz_set_type(call, nf, field);
    return pos;
}

size_t fz_header(const fz_family *f, const fz_call *call, uint8_t *out)
{
    const fz_type *t = &call->type;
    size_t i, pos = 3;

    out[0] = (uint8_t)(call->text ? 1 : 0);
    for (i = 0; fz_family_codec(f, i) != call->codec; i++)
        ;
    put_u16(out + 1, call->codec->oid && call->codec->oid <= 0xFFFF ? call->codec->oid : i);
    if (call->codec->flags & PGD_CODEC_ARRAY) {
        put_u16(out + pos, selector(elems, nelems, call->elem));
        pos += 2;
    }
    if (call->typed && t->info.kind == 'c') {
        out[pos++] = (uint8_t)t->info.n_fields;
        for (i = 0; i < t->info.n_fields; i++, pos += 2)
            put_u16(out + pos, selector(fields, nfields, t->fields[i].codec));
    } else if (call->typed && (t->info.kind == 'r' || t->info.kind == 'm')) {
        put_u16(out + pos, selector(fields, nfields,
                                    t->info.kind == 'r' ? t->fields[0].codec
                                                        : t->range_field.codec));
        pos += 2;
    }
    return pos;
}

/* ---- calls ------------------------------------------------------------- */

void fz_cx(const fz_call *call, pgd_cx *cx, chost_ctx *ctx)
{
    chost_ctx_init(ctx);
    ctx->find = find_cb;
    memset(cx, 0, sizeof *cx);
    cx->host = chost_host();
    cx->h = ctx;
    cx->oid = call->oid;
    cx->elem_oid = call->elem_oid;
    cx->elem = call->elem;
    if (call->typed == 1)
        cx->type = &call->type.info;
    else if (call->typed == 2)
        cx->elem_type = &call->type.info;
}

pgd_obj *fz_decode(const fz_call *call, const char *data, size_t len, char *err, size_t errsz)
{
    chost_ctx ctx;
    pgd_cx cx;
    pgd_obj *o;

    fz_cx(call, &cx, &ctx);
    o = decode_copy(call->text ? call->codec->decode_text : call->codec->decode_binary, &cx,
                    data, len);
    if (!o && !ctx.nerrors)
        violation(call->codec, "%s decoder returned NULL without an error",
                  call->text ? "text" : "binary");
    if (o && ctx.nerrors)
        violation(call->codec, "%s decoder returned a value after an error: %s",
                  call->text ? "text" : "binary", ctx.err);
    if (err)
        snprintf(err, errsz, "%s", ctx.err);
    return o;
}

char *fz_encode_value(const fz_call *call, const pgd_value *v, size_t *len)
{
    chost_ctx ctx;
    pgd_cx cx;
    struct pgd_wbuf b;
    char *out = NULL;
    int n;

    if (!call->codec->encode_binary)
        return NULL;
    fz_cx(call, &cx, &ctx);
    chost_wbuf_init(&b);
    n = call->codec->encode_binary(&cx, v, &b);
    if (n >= 0 && ctx.nerrors)
        violation(call->codec, "encoder returned %d after an error: %s", n, ctx.err);
    if (n < 0 && !ctx.nerrors)
        violation(call->codec, "encoder failed without an error");
    if (n >= 0 && (size_t)n != b.len)
        violation(call->codec, "encoder returned %d but appended %zu bytes", n, b.len);
    if (n >= 0) {
        out = malloc(b.len ? b.len : 1);
        if (!out)
            die("out of memory");
        if (b.len)
            memcpy(out, b.p, b.len);
        *len = b.len;
    }
    chost_wbuf_free(&b);
    return out;
}

char *fz_encode(const fz_call *call, const pgd_obj *o, size_t *len)
{
    pgd_value v;
    char *out = NULL;

    if (th_value_from((const chost_obj *)o, &v) == 0)
        out = fz_encode_value(call, &v, len);
    th_value_free(&v);
    return out;
}

void fz_run_one(const fz_family *f, const uint8_t *data, size_t size)
{
    fz_call call;
    size_t hlen = fz_parse(f, data, size, &call), len;
    pgd_obj *o, *again;
    char *wire, *r1, *r2, err[512];

    if (!hlen)
        return;
    o = fz_decode(&call, (const char *)data + hlen, size - hlen, NULL, 0);
    if (!o)
        return;
    /* The value read back from what its encoder writes must be the same,
     * also for a value that came from text (so both decoders agree).  An
     * encoder may refuse a value its decoder accepts (a decoder takes
     * whatever the wire can say; an encoder may be stricter). */
    if (call.text && !call.codec->decode_binary) {
        chost_free(o);
        return;
    }
    call.text = 0;
    wire = fz_encode(&call, o, &len);
    if (wire) {
        again = fz_decode(&call, wire, len, err, sizeof err);
        r1 = chost_repr(o);
        if (!again)
            violation(call.codec, "decoded %s, encoded, does not decode again: %s", r1, err);
        r2 = chost_repr(again);
        if (!r1 || !r2)
            die("out of memory");
        if (strcmp(r1, r2) != 0)
            violation(call.codec, "decoded %s, encoded and decoded again: %s", r1, r2);
        free(r1);
        free(r2);
        chost_free(again);
        free(wire);
    }
    chost_free(o);
}
