/*
 * hstore.c - the hstore extension's key/value type.
 *
 * Server functions: hstore_recv/hstore_send (binary), hstore_in/hstore_out
 * (text).  hstore is an extension type whose OID differs per database, so
 * the codec is registered by name (oid 0): a connection that meets a type
 * named "hstore" uses it, and the array handler for hstore[].
 *
 * Binary wire layout:
 *   int32 npairs
 *   npairs x { int32 keylen, key bytes, int32 vallen (-1 = NULL), value bytes }
 * Keys and values are text in the client encoding (UTF-8 here); keys are
 * never NULL.  The server sends the pairs sorted and without duplicate keys,
 * and sorts and de-duplicates what it receives (the last value wins).
 *
 * Decoding gives a dict (built with the host's "builtins:dict" from a list
 * of (key, value) tuples), value None for NULL.  Encoding takes PGD_V_MAP
 * (a dict) whose keys are strings and whose values are strings or None.
 */
#include "codec_util.h"

/* A field needs 4 length bytes at least: a cap on npairs from the length. */
#define MIN_PAIR_BYTES 8

static pgd_obj *hstore_decode(const pgd_cx *cx, const char *data, size_t len)
{
    const pgd_host *H = cx->host;
    pgd_obj *list = NULL, *args, *pair, *k, *v;
    size_t pos = 4, i, n;
    int32_t npairs, klen, vlen;

    if (!PGD_HOST_HAS(H, make_call) || !PGD_HOST_HAS(H, make_tuple))
        return CU_FAIL(cx, "hstore: the host cannot build dicts");
    if (len < 4)
        return CU_FAIL(cx, "invalid hstore: %zu bytes, expected at least 4", len);
    npairs = pgd_get_i32(data);
    if (npairs < 0 || (size_t)npairs > (len - 4) / MIN_PAIR_BYTES)
        return CU_FAIL(cx, "invalid hstore: %d pairs in %zu bytes", (int)npairs, len);
    n = (size_t)npairs;
    list = H->make_list(cx->h, n);
    if (!list)
        return NULL;
    for (i = 0; i < n; i++) {
        if (len - pos < 4)
            goto truncated;
        klen = pgd_get_i32(data + pos);
        pos += 4;
        if (klen < 0 || (size_t)klen > len - pos || len - pos - (size_t)klen < 4) {
            if (klen < 0) {
                CU_ERR(cx, "invalid hstore: pair %zu has a NULL key", i + 1);
                goto error;
            }
            goto truncated;
        }
        k = H->make_str(cx->h, data + pos, (size_t)klen);
        pos += (size_t)klen;
        vlen = pgd_get_i32(data + pos);
        pos += 4;
        if (vlen < -1 || (vlen > 0 && (size_t)vlen > len - pos)) {
            if (k)
                H->release(cx->h, k);
            goto truncated;
        }
        if (vlen == -1) {
            v = H->make_null(cx->h);
        } else {
            v = H->make_str(cx->h, data + pos, (size_t)vlen);
            pos += (size_t)vlen;
        }
        pair = k && v ? H->make_tuple(cx->h, 2) : NULL;
        if (!pair) {
            if (k)
                H->release(cx->h, k);
            if (v)
                H->release(cx->h, v);
            goto error;
        }
        if (H->tuple_set(cx->h, pair, 0, k) < 0) {
            if (v)
                H->release(cx->h, v);
            H->release(cx->h, pair);
            goto error;
        }
        if (H->tuple_set(cx->h, pair, 1, v) < 0) {
            H->release(cx->h, pair);
            goto error;
        }
        if (H->list_set(cx->h, list, i, pair) < 0)
            goto error;
    }
    if (pos != len) {
        CU_ERR(cx, "invalid hstore: %zu trailing bytes", len - pos);
        goto error;
    }
    args = H->make_tuple(cx->h, 1);
    if (!args)
        goto error;
    if (H->tuple_set(cx->h, args, 0, list) < 0) {
        H->release(cx->h, args);
        return NULL;
    }
    return H->make_call(cx->h, "builtins:dict", args);
truncated:
    CU_ERR(cx, "invalid hstore: pair %zu runs past the end of %zu bytes", i + 1, len);
error:
    H->release(cx->h, list);
    return NULL;
}

/* int32 length + bytes of a key or value. */
static int put_text(const pgd_cx *cx, pgd_wbuf *out, const pgd_value *s)
{
    char *p;

    if (s->u.s.n > INT32_MAX)
        return CU_ERR(cx, "hstore text of %zu bytes is too long", s->u.s.n);
    p = cu_reserve(cx, out, 4);
    if (!p)
        return -1;
    pgd_put_i32(p, (int32_t)s->u.s.n);
    return cu_put_bytes(cx, out, s->u.s.p, s->u.s.n);
}

static int hstore_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    const pgd_host *H = cx->host;
    size_t start = H->tell(out), i, total;
    char *p;

    if (v->kind != PGD_V_MAP)
        return cu_wrong_kind(cx, v, "hstore");
    if (v->u.list.n / 2 > INT32_MAX)
        return CU_ERR(cx, "hstore of %zu pairs is too large", v->u.list.n / 2);
    p = cu_reserve(cx, out, 4);
    if (!p)
        return -1;
    pgd_put_i32(p, (int32_t)(v->u.list.n / 2));
    for (i = 0; i + 1 < v->u.list.n; i += 2) {
        const pgd_value *k = &v->u.list.items[i], *val = &v->u.list.items[i + 1];

        if (k->kind != PGD_V_STR)
            return CU_ERR(cx, "hstore keys must be str, not %s", cu_kind_name(k->kind));
        if (put_text(cx, out, k) < 0)
            return -1;
        if (val->kind == PGD_V_NULL) {
            p = cu_reserve(cx, out, 4);
            if (!p)
                return -1;
            pgd_put_i32(p, -1);
        } else if (val->kind != PGD_V_STR) {
            return CU_ERR(cx, "hstore values must be str or None, not %s",
                          cu_kind_name(val->kind));
        } else if (put_text(cx, out, val) < 0) {
            return -1;
        }
    }
    total = H->tell(out) - start;
    if (total > INT32_MAX)
        return CU_ERR(cx, "hstore of %zu bytes is too large", total);
    return (int)total;
}

static const pgd_codec codecs[] = {
    {"hstore", 0, 0, PGD_CODEC_BINARY, 0, hstore_encode, hstore_decode, NULL, {0}},
};

static const pgd_codec_module module = PGD_CODEC_MODULE_INIT("hstore", "1.0.0", codecs);

PGD_CODEC_EXPORT const pgd_codec_module *pgd_codec_module_v1(void)
{
    return &module;
}
