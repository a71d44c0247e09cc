/*
 * point.c - an example codec plugin, written the way a user would: against
 * pgd_codec.h and pgd_wire.h only.  It is not loaded by default; load it
 * with psqlpy.load_codec_plugin(".../point.so").
 *
 * Type: PostgreSQL's geometric `point` (OID 600, array point[] 1017).
 * Server functions: point_recv/point_send, point_in/point_out.
 * Binary wire layout: x then y, each a big-endian IEEE-754 float8
 * (16 bytes in all).  Text form: "(x,y)".
 * Python side: decodes to [x, y] (a list of two floats); encodes from a
 * list or tuple of two numbers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgd_codec.h"
#include "pgd_wire.h"

static int number(const pgd_value *v, double *out)
{
    if (v->kind == PGD_V_FLOAT) {
        *out = v->u.f;
        return 0;
    }
    if (v->kind == PGD_V_INT) {
        *out = (double)v->u.i;
        return 0;
    }
    return -1;
}

static int point_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    double x, y;
    char *p;

    if (v->kind != PGD_V_LIST || v->u.list.n != 2 || number(&v->u.list.items[0], &x) < 0 ||
        number(&v->u.list.items[1], &y) < 0)
        return cx->host->error(cx->h, "a point is a list of two numbers [x, y]");
    p = cx->host->reserve(out, 16);
    if (!p)
        return cx->host->error(cx->h, "out of memory");
    pgd_put_f64(p, x);
    pgd_put_f64(p + 8, y);
    return 16;
}

/* [x, y] as a new list; NULL after an error. */
static pgd_obj *make_pair(const pgd_cx *cx, double x, double y)
{
    const pgd_host *h = cx->host;
    pgd_obj *list = h->make_list(cx->h, 2), *item;

    if (!list)
        return NULL;
    if (!(item = h->make_float(cx->h, x)) || h->list_set(cx->h, list, 0, item) < 0 ||
        !(item = h->make_float(cx->h, y)) || h->list_set(cx->h, list, 1, item) < 0) {
        h->release(cx->h, list);
        return NULL;
    }
    return list;
}

static pgd_obj *point_decode(const pgd_cx *cx, const char *data, size_t len)
{
    if (len != 16)
        return cx->host->error(cx->h, "point: expected 16 bytes, got %zu", len), NULL;
    return make_pair(cx, pgd_get_f64(data), pgd_get_f64(data + 8));
}

static pgd_obj *point_decode_text(const pgd_cx *cx, const char *data, size_t len)
{
    char buf[128], *end;
    double x, y;

    if (len < 5 || len >= sizeof buf)
        return cx->host->error(cx->h, "point: bad text of %zu bytes", len), NULL;
    memcpy(buf, data, len);
    buf[len] = '\0';
    if (buf[0] != '(')
        return cx->host->error(cx->h, "point: text must start with '('"), NULL;
    x = strtod(buf + 1, &end);
    if (*end != ',')
        return cx->host->error(cx->h, "point: missing ','"), NULL;
    y = strtod(end + 1, &end);
    if (end[0] != ')' || end[1] != '\0')
        return cx->host->error(cx->h, "point: missing ')'"), NULL;
    return make_pair(cx, x, y);
}

static const pgd_codec codecs[] = {
    {"point", 600, 1017, PGD_CODEC_BINARY | PGD_CODEC_TEXT, 0, point_encode, point_decode,
     point_decode_text, {0}},
};

static const pgd_codec_module module = PGD_CODEC_MODULE_INIT("point", "1.0.0", codecs);

PGD_CODEC_EXPORT const pgd_codec_module *pgd_codec_module_v1(void)
{
    return &module;
}
