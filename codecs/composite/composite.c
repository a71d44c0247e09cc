/*
 * composite.c - composite (row) types: named composite types, table row
 * types and anonymous records.
 *
 * Server functions: record_recv/record_send (binary), record_in/record_out
 * (text).  Registered for the pseudo-type record (PGD_OID_RECORD, 2249, and
 * its array 2287); the driver uses it for every composite type it learns
 * from pg_type, with cx->type describing the attributes.
 *
 * Binary wire layout:
 *   int32 ncolumns                      (dropped attributes are not sent)
 *   ncolumns x { uint32 type oid, int32 length (-1 = NULL), length bytes }
 * Each column's bytes are that type's own binary form.
 *
 * Decoding gives a tuple of the column values.  For a named composite
 * (cx->type, kind 'c') each column is decoded with the codec the driver
 * resolved for its attribute, and the wire's column count and types must
 * match the attributes.  For an anonymous record (no cx->type) each
 * column's codec is looked up by the OID on the wire; a column whose type
 * has no codec here, or is an array, cannot be decoded (an error).
 *
 * Encoding needs the attributes (a named composite type: record_recv does
 * not accept anonymous records) and takes a PGD_V_TUPLE or PGD_V_LIST with
 * one item per attribute; PGD_V_NULL items are NULL columns.  Inside an
 * array parameter a tuple is one row (PGD_CODEC_COMPOUND).
 */
#include "codec_util.h"

#define MAX_COLUMNS 1664 /* the server's MaxTupleAttributeNumber */

/* The context for coding attribute f. */
static pgd_cx field_cx(const pgd_cx *cx, const pgd_field *f)
{
    pgd_cx fc = *cx;

    fc.oid = f->oid;
    fc.elem_oid = f->elem_oid;
    fc.elem = f->elem;
    fc.type = f->type;
    fc.elem_type = f->elem_type;
    return fc;
}

/* The attributes of a named composite, or NULL for an anonymous record. */
static const pgd_typeinfo *composite_info(const pgd_cx *cx)
{
    if (cx->host->abi_minor < 1 || !cx->type || cx->type->kind != 'c')
        return NULL;
    return cx->type;
}

static int can_decode(const pgd_codec *k)
{
    return k && (k->flags & PGD_CODEC_BINARY) && k->decode_binary;
}

static pgd_obj *record_decode(const pgd_cx *cx, const char *data, size_t len)
{
    const pgd_host *H = cx->host;
    const pgd_typeinfo *ti = composite_info(cx);
    size_t pos = 4, i, n;
    int32_t ncols;
    pgd_obj *tuple;

    if (!PGD_HOST_HAS(H, make_tuple) || !PGD_HOST_HAS(H, tuple_set))
        return CU_FAIL(cx, "record: the host cannot build tuples");
    if (len < 4)
        return CU_FAIL(cx, "invalid record: %zu bytes, expected at least 4", len);
    ncols = pgd_get_i32(data);
    /* every column needs at least its 8 header bytes */
    if (ncols < 0 || ncols > MAX_COLUMNS || (size_t)ncols > (len - 4) / 8)
        return CU_FAIL(cx, "invalid record: %d columns in %zu bytes", (int)ncols, len);
    n = (size_t)ncols;
    if (ti && n != ti->n_fields)
        return CU_FAIL(cx, "record of type %s has %zu columns, expected %u (was the type altered?)",
                       ti->name, n, ti->n_fields);
    tuple = H->make_tuple(cx->h, n);
    if (!tuple)
        return NULL;
    for (i = 0; i < n; i++) {
        uint32_t oid;
        int32_t flen;
        pgd_obj *item;
        pgd_cx fc = *cx;
        const pgd_codec *k;

        if (len - pos < 8)
            goto truncated;
        oid = pgd_get_u32(data + pos);
        flen = pgd_get_i32(data + pos + 4);
        pos += 8;
        if (flen < -1 || (flen > 0 && (size_t)flen > len - pos))
            goto truncated;
        if (ti) {
            const pgd_field *f = &ti->fields[i];

            if (oid != f->oid) {
                CU_ERR(cx, "record of type %s: column %zu (%s) has type oid %u on the wire, "
                           "expected %u", ti->name, i + 1, f->name, oid, f->oid);
                goto error;
            }
            fc = field_cx(cx, f);
            k = f->codec;
        } else {
            k = H->find(cx->h, oid);
            fc.oid = oid;
            fc.elem_oid = 0;
            fc.elem = NULL;
            fc.type = NULL;
            fc.elem_type = NULL;
            if (k && (k->flags & PGD_CODEC_ARRAY))
                k = NULL; /* no element codec to hand it */
        }
        if (flen == -1) {
            item = H->make_null(cx->h);
        } else if (!can_decode(k) ||
                   ((k->flags & PGD_CODEC_ARRAY) && !can_decode(fc.elem))) {
            CU_ERR(cx, "record column %zu: no binary decoder for type oid %u", i + 1, oid);
            goto error;
        } else {
            item = k->decode_binary(&fc, data + pos, (size_t)flen);
            pos += (size_t)flen;
        }
        if (!item || H->tuple_set(cx->h, tuple, i, item) < 0)
            goto error;
    }
    if (pos != len) {
        CU_ERR(cx, "invalid record: %zu trailing bytes", len - pos);
        goto error;
    }
    return tuple;
truncated:
    CU_ERR(cx, "invalid record: column %zu runs past the end of %zu bytes", i + 1, len);
error:
    H->release(cx->h, tuple);
    return NULL;
}

static int record_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    const pgd_host *H = cx->host;
    const pgd_typeinfo *ti = composite_info(cx);
    size_t start = H->tell(out), i, total;
    char *p;

    if (!ti)
        return CU_ERR(cx, "cannot send an anonymous record; cast the parameter to a "
                          "composite type");
    if (v->kind != PGD_V_TUPLE && v->kind != PGD_V_LIST)
        return cu_wrong_kind(cx, v, ti->name);
    if (v->u.list.n != ti->n_fields)
        return CU_ERR(cx, "composite type %s has %u attributes, %zu values given", ti->name,
                      ti->n_fields, v->u.list.n);
    p = cu_reserve(cx, out, 4);
    if (!p)
        return -1;
    pgd_put_i32(p, (int32_t)ti->n_fields);
    for (i = 0; i < v->u.list.n; i++) {
        const pgd_field *f = &ti->fields[i];
        const pgd_value *it = &v->u.list.items[i];
        pgd_cx fc = field_cx(cx, f);
        size_t off;
        int n;

        p = cu_reserve(cx, out, 8);
        if (!p)
            return -1;
        pgd_put_u32(p, f->oid);
        if (it->kind == PGD_V_NULL) {
            pgd_put_i32(p + 4, -1);
            continue;
        }
        if (!f->codec || !(f->codec->flags & PGD_CODEC_BINARY) || !f->codec->encode_binary)
            return CU_ERR(cx, "composite type %s: attribute %s (type oid %u) has no binary "
                              "encoder", ti->name, f->name, f->oid);
        off = H->tell(out) - 4;
        n = f->codec->encode_binary(&fc, it, out);
        if (n < 0)
            return -1; /* the attribute codec's message stands */
        pgd_put_i32(H->at(out, off), n);
    }
    total = H->tell(out) - start;
    if (total > INT32_MAX)
        return CU_ERR(cx, "record of %zu bytes is too large", total);
    return (int)total;
}

static const pgd_codec codecs[] = {
    {"record", PGD_OID_RECORD, 2287, PGD_CODEC_BINARY | PGD_CODEC_COMPOUND, 0, record_encode,
     record_decode, NULL, {0}},
};

static const pgd_codec_module module = PGD_CODEC_MODULE_INIT("composite", "1.0.0", codecs);

PGD_CODEC_EXPORT const pgd_codec_module *pgd_codec_module_v1(void)
{
    return &module;
}
