/*
 * tcodecs.c - a small codec module compiled into the driver tests, so they
 * do not depend on the real plugins: int4, int8, text, bool (binary and
 * text decoders) and a one-dimensional array handler.  It counts binary
 * and text decodes so tests can tell which format a result came in.
 *
 * Wire forms (PostgreSQL's int4send/int8send/textsend/boolsend/array_send):
 *   int4: 4 bytes big-endian; int8: 8 bytes; text: raw UTF-8; bool: 1 byte
 *   array: i32 ndim, i32 has_null, u32 elem oid, ndim x (i32 size, i32
 *          lower bound), then per element i32 length (-1 = NULL) + bytes.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "pgd_wire.h"
#include "tutil.h"

int t_binary_decodes, t_text_decodes;

static int enc_int(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out, int width)
{
    char *p;

    if (v->kind != PGD_V_INT)
        return cx->host->error(cx->h, "expected an integer, got kind %u", v->kind);
    if (width == 4 && (v->u.i < INT32_MIN || v->u.i > INT32_MAX))
        return cx->host->error(cx->h, "%lld is out of range for int4", (long long)v->u.i);
    p = cx->host->reserve(out, (size_t)width);
    if (!p)
        return cx->host->error(cx->h, "out of memory");
    if (width == 4)
        pgd_put_i32(p, (int32_t)v->u.i);
    else
        pgd_put_i64(p, v->u.i);
    return width;
}

static int enc_int4(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    return enc_int(cx, v, out, 4);
}

static int enc_int8(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    return enc_int(cx, v, out, 8);
}

static pgd_obj *dec_int4(const pgd_cx *cx, const char *d, size_t n)
{
    if (n != 4) {
        cx->host->error(cx->h, "int4: %zu bytes", n);
        return NULL;
    }
    t_binary_decodes++;
    return cx->host->make_int(cx->h, pgd_get_i32(d));
}

static pgd_obj *dec_int8(const pgd_cx *cx, const char *d, size_t n)
{
    if (n != 8) {
        cx->host->error(cx->h, "int8: %zu bytes", n);
        return NULL;
    }
    t_binary_decodes++;
    return cx->host->make_int(cx->h, pgd_get_i64(d));
}

static pgd_obj *dec_int_text(const pgd_cx *cx, const char *d, size_t n)
{
    char buf[32], *end;
    long long v;

    if (n == 0 || n >= sizeof buf) {
        cx->host->error(cx->h, "integer text of %zu bytes", n);
        return NULL;
    }
    memcpy(buf, d, n);
    buf[n] = '\0';
    errno = 0;
    v = strtoll(buf, &end, 10);
    if (errno || *end) {
        cx->host->error(cx->h, "not an integer: %s", buf);
        return NULL;
    }
    t_text_decodes++;
    return cx->host->make_int(cx->h, v);
}

static int enc_text(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    char *p;

    if (v->kind != PGD_V_STR)
        return cx->host->error(cx->h, "expected a string, got kind %u", v->kind);
    if (v->u.s.n > INT_MAX)
        return cx->host->error(cx->h, "string too long");
    p = cx->host->reserve(out, v->u.s.n);
    if (!p && v->u.s.n)
        return cx->host->error(cx->h, "out of memory");
    if (v->u.s.n)
        memcpy(p, v->u.s.p, v->u.s.n);
    return (int)v->u.s.n;
}

static pgd_obj *dec_text(const pgd_cx *cx, const char *d, size_t n)
{
    t_binary_decodes++;
    return cx->host->make_str(cx->h, d, n);
}

static pgd_obj *dec_text_text(const pgd_cx *cx, const char *d, size_t n)
{
    t_text_decodes++;
    return cx->host->make_str(cx->h, d, n);
}

static int enc_bool(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    char *p;

    if (v->kind != PGD_V_BOOL)
        return cx->host->error(cx->h, "expected a bool, got kind %u", v->kind);
    p = cx->host->reserve(out, 1);
    if (!p)
        return cx->host->error(cx->h, "out of memory");
    *p = v->u.b ? 1 : 0;
    return 1;
}

static pgd_obj *dec_bool(const pgd_cx *cx, const char *d, size_t n)
{
    if (n != 1) {
        cx->host->error(cx->h, "bool: %zu bytes", n);
        return NULL;
    }
    t_binary_decodes++;
    return cx->host->make_bool(cx->h, *d != 0);
}

static pgd_obj *dec_bool_text(const pgd_cx *cx, const char *d, size_t n)
{
    if (n != 1 || (*d != 't' && *d != 'f')) {
        cx->host->error(cx->h, "bool text of %zu bytes", n);
        return NULL;
    }
    t_text_decodes++;
    return cx->host->make_bool(cx->h, *d == 't');
}

/* ---- one-dimensional arrays ------------------------------------------------ */

static int enc_array(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    const pgd_host *H = cx->host;
    pgd_cx ecx = {.host = cx->host, .h = cx->h, .oid = cx->elem_oid};
    size_t start = H->tell(out), i, hasnull = 0;
    char *p;

    if (v->kind != PGD_V_LIST)
        return H->error(cx->h, "expected a list, got kind %u", v->kind);
    if (!cx->elem)
        return H->error(cx->h, "array element type %u has no codec", cx->elem_oid);
    for (i = 0; i < v->u.list.n; i++)
        if (v->u.list.items[i].kind == PGD_V_NULL)
            hasnull = 1;
    p = H->reserve(out, v->u.list.n ? 20 : 12);
    if (!p)
        return H->error(cx->h, "out of memory");
    pgd_put_i32(p, v->u.list.n ? 1 : 0);
    pgd_put_i32(p + 4, (int32_t)hasnull);
    pgd_put_u32(p + 8, cx->elem_oid);
    if (v->u.list.n) {
        pgd_put_i32(p + 12, (int32_t)v->u.list.n);
        pgd_put_i32(p + 16, 1);
    }
    for (i = 0; i < v->u.list.n; i++) {
        const pgd_value *it = &v->u.list.items[i];
        size_t lenpos = H->tell(out);
        int n;

        if (!H->reserve(out, 4))
            return H->error(cx->h, "out of memory");
        if (it->kind == PGD_V_NULL) {
            pgd_put_i32(H->at(out, lenpos), -1);
            continue;
        }
        n = cx->elem->encode_binary(&ecx, it, out);
        if (n < 0)
            return -1;
        pgd_put_i32(H->at(out, lenpos), n);
    }
    return (int)(H->tell(out) - start);
}

static pgd_obj *dec_array(const pgd_cx *cx, const char *d, size_t n)
{
    const pgd_host *H = cx->host;
    pgd_cx ecx = {.host = cx->host, .h = cx->h, .oid = cx->elem_oid};
    pgd_obj *list = NULL;
    int32_t ndim, dim;
    size_t off, i;

    if (n < 12)
        goto bad;
    ndim = pgd_get_i32(d);
    if (ndim == 0)
        return n == 12 ? H->make_list(cx->h, 0) : (H->error(cx->h, "trailing bytes"), NULL);
    if (ndim != 1 || n < 20 || !cx->elem)
        goto bad;
    dim = pgd_get_i32(d + 12);
    if (dim < 0 || (size_t)dim > (n - 20) / 4)
        goto bad;
    list = H->make_list(cx->h, (size_t)dim);
    if (!list)
        return NULL;
    off = 20;
    for (i = 0; i < (size_t)dim; i++) {
        int32_t len;
        pgd_obj *item;

        if (n - off < 4)
            goto bad;
        len = pgd_get_i32(d + off);
        off += 4;
        if (len == -1) {
            item = H->make_null(cx->h);
        } else {
            if (len < 0 || (size_t)len > n - off)
                goto bad;
            item = cx->elem->decode_binary(&ecx, d + off, (size_t)len);
            off += (size_t)len;
        }
        if (!item || H->list_set(cx->h, list, i, item) != 0)
            goto fail;
    }
    if (off != n)
        goto bad;
    return list;
bad:
    H->error(cx->h, "malformed array");
fail:
    if (list)
        H->release(cx->h, list);
    return NULL;
}

static const pgd_codec t_codecs[] = {
    {"int4", 23, 1007, PGD_CODEC_BINARY | PGD_CODEC_TEXT, 0, enc_int4, dec_int4, dec_int_text, {0}},
    {"int8", 20, 1016, PGD_CODEC_BINARY | PGD_CODEC_TEXT, 0, enc_int8, dec_int8, dec_int_text, {0}},
    {"text", 25, 1009, PGD_CODEC_BINARY | PGD_CODEC_TEXT, 0, enc_text, dec_text, dec_text_text,
     {0}},
    {"bool", 16, 1000, PGD_CODEC_BINARY | PGD_CODEC_TEXT, 0, enc_bool, dec_bool, dec_bool_text,
     {0}},
    {"anyarray", 0, 0, PGD_CODEC_BINARY | PGD_CODEC_ARRAY, 0, enc_array, dec_array, NULL, {0}},
};

const pgd_codec_module t_codecs_module = PGD_CODEC_MODULE_INIT("tcodecs", "1.0", t_codecs);
