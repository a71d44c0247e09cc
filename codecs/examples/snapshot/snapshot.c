/*
 * snapshot.c - an example codec plugin, written the way a user would:
 * against pgd_codec.h and pgd_wire.h only.  It is not loaded by default;
 * load it with psqlpy.load_codec_plugin(".../snapshot.so").
 *
 * Type: PostgreSQL's `pg_snapshot` (OID 5038, array pg_snapshot[] 5039),
 * what pg_current_snapshot() returns.  No built-in family claims it.
 * Server functions: pg_snapshot_recv/pg_snapshot_send,
 * pg_snapshot_in/pg_snapshot_out.
 * Binary wire layout (big-endian):
 *   int32  nxip                the number of in-progress transactions
 *   int64  xmin, int64 xmax    full (64-bit) transaction IDs
 *   nxip x int64 xip           ascending, each in [xmin, xmax]
 * so 20 + 8 * nxip bytes in all.  Text form: "xmin:xmax:xip,xip,...",
 * e.g. "10:20:12,15" or "748:748:".
 * Python side: decodes to a tuple (xmin, xmax, (xip, ...)) of ints (a list
 * [xmin, xmax, [xip, ...]] on a host older than ABI minor 1, which has no
 * tuples); encodes from a tuple or list of the same shape.  The server
 * checks the rest (xmin > 0, xip order and range) and refuses what is off.
 * It is PGD_CODEC_COMPOUND: in an array parameter each tuple is one
 * snapshot.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgd_codec.h"
#include "pgd_wire.h"

#define MAX_XIP 0x3ffffff /* far above what a server sends, far below overflow */

/* A sequence of n slots: a tuple when the host has them, else a list. */
static pgd_obj *make_seq(const pgd_cx *cx, size_t n)
{
    if (PGD_HOST_HAS(cx->host, make_tuple) && PGD_HOST_HAS(cx->host, tuple_set))
        return cx->host->make_tuple(cx->h, n);
    return cx->host->make_list(cx->h, n);
}

/* Put item (stolen) into a sequence from make_seq(); 0 or -1. */
static int seq_set(const pgd_cx *cx, pgd_obj *seq, size_t i, pgd_obj *item)
{
    if (PGD_HOST_HAS(cx->host, make_tuple) && PGD_HOST_HAS(cx->host, tuple_set))
        return cx->host->tuple_set(cx->h, seq, i, item);
    return cx->host->list_set(cx->h, seq, i, item);
}

/* An xid as an int; xids are 64-bit but far below 2^63 in practice. */
static pgd_obj *make_xid(const pgd_cx *cx, uint64_t x)
{
    if (x > INT64_MAX) {
        cx->host->error(cx->h, "pg_snapshot: transaction ID %llu is too large",
                        (unsigned long long)x);
        return NULL;
    }
    return cx->host->make_int(cx->h, (int64_t)x);
}

/* (xmin, xmax, (xip...)) from xmin, xmax and nxip xips at `xips` (wire
 * bytes when `wire`, else an array of uint64). */
static pgd_obj *build(const pgd_cx *cx, uint64_t xmin, uint64_t xmax, size_t nxip,
                      const void *xips, int wire)
{
    pgd_obj *out = make_seq(cx, 3), *list = NULL, *item;
    size_t i;

    if (!out)
        return NULL;
    if (!(item = make_xid(cx, xmin)) || seq_set(cx, out, 0, item) < 0 ||
        !(item = make_xid(cx, xmax)) || seq_set(cx, out, 1, item) < 0)
        goto error;
    list = make_seq(cx, nxip);
    if (!list)
        goto error;
    for (i = 0; i < nxip; i++) {
        uint64_t x = wire ? pgd_get_u64((const char *)xips + 8 * i)
                          : ((const uint64_t *)xips)[i];

        if (!(item = make_xid(cx, x)) || seq_set(cx, list, i, item) < 0)
            goto error;
    }
    item = list;
    list = NULL;
    if (seq_set(cx, out, 2, item) < 0)
        goto error;
    return out;

error:
    if (list)
        cx->host->release(cx->h, list);
    cx->host->release(cx->h, out);
    return NULL;
}

static pgd_obj *snapshot_decode(const pgd_cx *cx, const char *data, size_t len)
{
    int32_t nxip;

    if (len < 20) {
        cx->host->error(cx->h, "pg_snapshot: %zu bytes, the header needs 20", len);
        return NULL;
    }
    nxip = pgd_get_i32(data);
    /* check the count against the bytes that are there before using it */
    if (nxip < 0 || (len - 20) % 8 != 0 || (len - 20) / 8 != (size_t)nxip) {
        cx->host->error(cx->h, "pg_snapshot: %d transaction IDs in %zu bytes", (int)nxip,
                        len);
        return NULL;
    }
    return build(cx, pgd_get_u64(data + 4), pgd_get_u64(data + 12), (size_t)nxip, data + 20,
                 1);
}

/* Decimal digits at *p (before end) into *out; 0 or -1. */
static int parse_u64(const char **p, const char *end, uint64_t *out)
{
    uint64_t v = 0;
    const char *s = *p;

    while (*p < end && **p >= '0' && **p <= '9') {
        unsigned d = (unsigned)(**p - '0');

        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
        (*p)++;
    }
    if (*p == s)
        return -1;
    *out = v;
    return 0;
}

static pgd_obj *snapshot_decode_text(const pgd_cx *cx, const char *data, size_t len)
{
    const char *p = data, *end = data + len;
    uint64_t xmin, xmax, *xips;
    size_t n = 0, i;
    pgd_obj *o = NULL;

    for (i = 0; i < len; i++)
        n += data[i] == ',';
    xips = malloc((n + 1) * sizeof *xips);
    if (!xips) {
        cx->host->error(cx->h, "out of memory");
        return NULL;
    }
    if (parse_u64(&p, end, &xmin) < 0 || p == end || *p++ != ':' ||
        parse_u64(&p, end, &xmax) < 0 || p == end || *p++ != ':')
        goto bad;
    for (i = 0; p < end; i++) {
        if ((i && *p++ != ',') || parse_u64(&p, end, &xips[i]) < 0)
            goto bad;
    }
    o = build(cx, xmin, xmax, i, xips, 0);
    free(xips);
    return o;

bad:
    free(xips);
    cx->host->error(cx->h, "pg_snapshot: bad text \"%.*s\"", (int)(len > 60 ? 60 : len), data);
    return NULL;
}

/* A transaction ID from an int >= 0. */
static int get_xid(const pgd_cx *cx, const pgd_value *v, uint64_t *out)
{
    if (v->kind != PGD_V_INT || v->u.i < 0)
        return cx->host->error(cx->h, "pg_snapshot: a transaction ID is an int >= 0");
    *out = (uint64_t)v->u.i;
    return 0;
}

static int is_seq(const pgd_value *v)
{
    return v->kind == PGD_V_LIST || v->kind == PGD_V_TUPLE;
}

static int snapshot_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    const pgd_value *xips;
    uint64_t xmin = 0, xmax = 0, x = 0;
    size_t i, n;
    char *p;

    if (!is_seq(v) || v->u.list.n != 3 || !is_seq(&v->u.list.items[2]))
        return cx->host->error(cx->h, "a pg_snapshot is a sequence (xmin, xmax, xips)");
    if (get_xid(cx, &v->u.list.items[0], &xmin) < 0 ||
        get_xid(cx, &v->u.list.items[1], &xmax) < 0)
        return -1;
    if (xmax < xmin)
        return cx->host->error(cx->h, "pg_snapshot: xmax %llu is before xmin %llu",
                               (unsigned long long)xmax, (unsigned long long)xmin);
    xips = v->u.list.items[2].u.list.items;
    n = v->u.list.items[2].u.list.n;
    if (n > MAX_XIP)
        return cx->host->error(cx->h, "pg_snapshot: %zu transaction IDs are too many", n);
    p = cx->host->reserve(out, 20 + 8 * n);
    if (!p)
        return cx->host->error(cx->h, "out of memory");
    pgd_put_i32(p, (int32_t)n);
    pgd_put_u64(p + 4, xmin);
    pgd_put_u64(p + 12, xmax);
    for (i = 0; i < n; i++) {
        if (get_xid(cx, &xips[i], &x) < 0)
            return -1;
        /* reserve() pointers stay valid until the next reserve: none here */
        pgd_put_u64(p + 20 + 8 * i, x);
    }
    return (int)(20 + 8 * n);
}

static const pgd_codec codecs[] = {
    {"pg_snapshot", 5038, 5039, PGD_CODEC_BINARY | PGD_CODEC_TEXT | PGD_CODEC_COMPOUND, 0,
     snapshot_encode, snapshot_decode, snapshot_decode_text, {0}},
};

static const pgd_codec_module module = PGD_CODEC_MODULE_INIT("snapshot", "1.0.0", codecs);

PGD_CODEC_EXPORT const pgd_codec_module *pgd_codec_module_v1(void)
{
    return &module;
}
