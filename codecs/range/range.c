/*
 * range.c - range and multirange types: the built-in int4range, int8range,
 * numrange, tsrange, tstzrange, daterange, their multiranges, and the ones
 * a database defines (CREATE TYPE ... AS RANGE).
 *
 * Server functions: range_recv/range_send, multirange_recv/multirange_send
 * (binary); range_out, multirange_out (text).
 *
 * Range binary layout:
 *   uint8  flags      RANGE_EMPTY 0x01, RANGE_LB_INC 0x02, RANGE_UB_INC 0x04,
 *                     RANGE_LB_INF 0x08, RANGE_UB_INF 0x10
 *   then, unless the range is empty or that bound infinite, for the lower
 *   and then the upper bound: int32 length (>= 0), the subtype's binary
 * An empty range is the flags byte alone.  Of the other bits, 0x20 and 0x40
 * (RANGE_LB_NULL / RANGE_UB_NULL) are never set in a value and are refused;
 * 0x80 (RANGE_CONTAIN_EMPTY) marks index keys only and is ignored, as
 * range_recv ignores it.  An infinite bound is never inclusive (its INC bit
 * is ignored, as the server clears it).
 * Multirange binary layout: int32 count (>= 0), then per range int32 length
 * and the range's binary as above.  The count is checked against the bytes
 * that follow (each range needs at least 5) before anything is allocated;
 * truncated bounds or ranges and trailing bytes are refused.
 *
 * Text: range_out writes "empty", or '[' / '(' lower ',' upper ']' / ')',
 * an infinite bound as nothing, a bound in double quotes when it is empty
 * or holds '"', '\', '(', ')', '[', ']', ',' or a blank (inside quotes a
 * '"' or '\' is doubled; a backslash escapes the next byte anywhere):
 * "[1,6)", "(,5)", "[\"2000-01-01 00:00:00\",)".  multirange_out writes
 * "{}" or "{[1,3),[5,7)}".
 *
 * Subtypes of the built-in types (a static table below): int4, int8,
 * numeric, timestamp, timestamptz, date; their codecs come from
 * cx->host->find(), so a missing subtype codec is an error naming it.  The
 * same codecs are registered as anyrange (3831) and anymultirange (4537),
 * which the driver uses for the range and multirange types a database
 * defines itself (minor 1): cx->type then describes the type and holds the
 * subtype's codec.  The server canonicalises discrete ranges ('[1,5]'
 * comes back as '[1,6)').
 *
 * Python side: a range decodes to psqlpy.extra_types.Range(lower, upper,
 * bounds, empty) (make_call): an infinite bound is None, `bounds` is what
 * the server says of the bounds ('[)', '[]', '(]', '()'; an infinite side
 * is exclusive), and the empty range is Range(None, None, '()', True).
 * A multirange decodes to a list of Range.
 * Encoding takes a PGD_V_TUPLE or PGD_V_LIST (lower, upper[, bounds[,
 * empty]]), i.e. a Range or a plain tuple: a NULL bound is infinite,
 * `bounds` one of the four strings above (default '[)'), `empty` a bool
 * (default false); an empty range must have NULL bounds.  A multirange
 * takes a list or tuple of such ranges (no NULLs).  Every codec is
 * PGD_CODEC_COMPOUND: in an array parameter a tuple is one value (a Range,
 * or for a multirange array the tuple of its ranges); lists make
 * dimensions.  And PGD_CODEC_STR_TEXT: a str parameter ("[1,5)") goes in
 * text format for the server to parse.
 */
#include "codec_util.h"

#define RANGE_EMPTY 0x01
#define RANGE_LB_INC 0x02
#define RANGE_UB_INC 0x04
#define RANGE_LB_INF 0x08
#define RANGE_UB_INF 0x10
#define RANGE_LB_NULL 0x20
#define RANGE_UB_NULL 0x40

/* The built-in range types: OIDs, names, subtype. */
typedef struct rbuiltin {
    uint32_t range, multi, sub;
    const char *name, *multi_name, *sub_name;
} rbuiltin;

static const rbuiltin builtins[] = {
    {3904, 4451, 23, "int4range", "int4multirange", "int4"},
    {3926, 4536, 20, "int8range", "int8multirange", "int8"},
    {3906, 4532, 1700, "numrange", "nummultirange", "numeric"},
    {3908, 4533, 1114, "tsrange", "tsmultirange", "timestamp"},
    {3910, 4534, 1184, "tstzrange", "tstzmultirange", "timestamptz"},
    {3912, 4535, 1082, "daterange", "datemultirange", "date"},
};

/* What coding one range type takes: names for messages and its subtype's
 * codec (NULL when there is none) with a context for calling it. */
typedef struct rtype {
    const char *name, *multi_name, *sub_name;
    uint32_t sub;
    const pgd_codec *sc;
    pgd_cx scx;
} rtype;

/*
 * Fill *t for the type being coded and say whether it is a multirange;
 * -1 after an error.  A built-in type's subtype codec comes from
 * host->find(); a range type of the database's own (registered as
 * anyrange / anymultirange, minor 1) brings its subtype, resolved by the
 * driver, in cx->type: a range's fields[0] is the subtype, a multirange's
 * fields[0] the range type, whose fields[0] is the subtype.
 */
static int rtype_of(const pgd_cx *cx, rtype *t, int *multi)
{
    const pgd_typeinfo *ti = cx->host->abi_minor >= 1 ? cx->type : NULL;
    const pgd_field *f;
    size_t i;

    memset(t, 0, sizeof *t);
    t->scx = *cx;
    t->scx.elem_oid = 0;
    t->scx.elem = NULL;
    t->scx.type = NULL;
    t->scx.elem_type = NULL;
    for (i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
        if (builtins[i].range == cx->oid || builtins[i].multi == cx->oid) {
            *multi = builtins[i].multi == cx->oid;
            t->name = builtins[i].name;
            t->multi_name = builtins[i].multi_name;
            t->sub_name = builtins[i].sub_name;
            t->sub = t->scx.oid = builtins[i].sub;
            t->sc = cx->host->find(cx->h, t->sub);
            return 0;
        }
    if (ti && ti->kind == 'm' && ti->n_fields == 1 && ti->fields[0].type) {
        *multi = 1;
        t->multi_name = ti->name;
        ti = ti->fields[0].type;
    } else {
        *multi = 0;
        t->multi_name = "multirange";
    }
    if (!ti || ti->kind != 'r' || ti->n_fields != 1)
        return CU_ERR(cx, "the range codec does not know type %u", cx->oid);
    f = &ti->fields[0];
    t->name = ti->name;
    t->sub = t->scx.oid = f->oid;
    t->sc = f->codec;
    t->sub_name = f->type ? f->type->name : f->codec ? f->codec->type_name : NULL;
    t->scx.elem_oid = f->elem_oid;
    t->scx.elem = f->elem;
    t->scx.type = f->type;
    t->scx.elem_type = f->elem_type;
    return 0;
}

enum { SUB_DECODE, SUB_ENCODE, SUB_TEXT };

/* 0 when the subtype's codec can do `what` (SUB_*), else -1 after an
 * error naming the subtype. */
static int sub_ok(const pgd_cx *cx, const rtype *t, int what)
{
    const pgd_codec *c = t->sc;
    int ok = c && (what == SUB_TEXT ? (c->flags & PGD_CODEC_TEXT) && c->decode_text
                   : what == SUB_ENCODE ? (c->flags & PGD_CODEC_BINARY) && c->encode_binary
                                        : (c->flags & PGD_CODEC_BINARY) && c->decode_binary);

    if (ok)
        return 0;
    if (!t->sub_name)
        return CU_ERR(cx, "%s: no %s codec for its subtype (OID %u)", t->name,
                      what == SUB_TEXT ? "text" : "binary", t->sub);
    return CU_ERR(cx, "%s: no %s codec for its subtype %s (OID %u)", t->name,
                  what == SUB_TEXT ? "text" : "binary", t->sub_name, t->sub);
}

/* ---- building Range objects -------------------------------------------- */

/* Range(lower, upper, bounds, empty); steals lower and upper, which may be
 * NULL after a failed builder (then nothing is built). */
static pgd_obj *mk_range(const pgd_cx *cx, pgd_obj *lower, pgd_obj *upper, int flags)
{
    const pgd_host *H = cx->host;
    pgd_obj *args = NULL, *items[4];
    char b[2];
    size_t i;

    b[0] = (flags & (RANGE_LB_INC | RANGE_LB_INF | RANGE_EMPTY)) == RANGE_LB_INC ? '[' : '(';
    b[1] = (flags & (RANGE_UB_INC | RANGE_UB_INF | RANGE_EMPTY)) == RANGE_UB_INC ? ']' : ')';
    items[0] = lower;
    items[1] = upper;
    items[2] = H->make_str(cx->h, b, 2);
    items[3] = H->make_bool(cx->h, (flags & RANGE_EMPTY) != 0);
    for (i = 0; i < 4; i++)
        if (!items[i])
            goto error;
    args = H->make_tuple(cx->h, 4);
    if (!args)
        goto error;
    for (i = 0; i < 4; i++) {
        pgd_obj *it = items[i];

        items[i] = NULL;
        if (H->tuple_set(cx->h, args, i, it) < 0)
            goto error;
    }
    return H->make_call(cx->h, "psqlpy.extra_types:Range", args);

error:
    for (i = 0; i < 4; i++)
        if (items[i])
            H->release(cx->h, items[i]);
    if (args)
        H->release(cx->h, args);
    return NULL;
}

static int host_ok(const pgd_cx *cx)
{
    if (PGD_HOST_HAS(cx->host, make_call) && PGD_HOST_HAS(cx->host, tuple_set))
        return 0;
    return CU_ERR(cx, "range types need a host with make_call (codec ABI minor 1)");
}

/* ---- binary decode ----------------------------------------------------- */

/* One bound at data[*pos..len): int32 length, then the subtype's bytes. */
static pgd_obj *bin_bound(const pgd_cx *cx, const rtype *t, const char *data, size_t len,
                          size_t *pos, const char *which)
{
    int32_t n;
    pgd_obj *o;

    if (len - *pos < 4)
        return CU_FAIL(cx, "invalid %s field: truncated at the %s bound's length", t->name,
                       which);
    n = pgd_get_i32(data + *pos);
    *pos += 4;
    if (n < 0 || (size_t)n > len - *pos)
        return CU_FAIL(cx, "invalid %s: %s bound of %d bytes, %zu left", t->name, which,
                       (int)n, len - *pos);
    o = t->sc->decode_binary(&t->scx, data + *pos, (size_t)n);
    *pos += (size_t)n;
    return o;
}

/* A range of type t in exactly data[0..len). */
static pgd_obj *range_bin(const pgd_cx *cx, const rtype *t, const char *data, size_t len)
{
    const pgd_host *H = cx->host;
    pgd_obj *lo = NULL, *hi = NULL;
    size_t pos = 1;
    int flags;

    if (len < 1)
        return CU_FAIL(cx, "invalid %s field: 0 bytes", t->name);
    flags = (unsigned char)data[0];
    if (flags & (RANGE_LB_NULL | RANGE_UB_NULL))
        return CU_FAIL(cx, "invalid %s: flags 0x%02x", t->name, flags);
    if (flags & RANGE_EMPTY) {
        if (len != 1)
            return CU_FAIL(cx, "invalid %s field: %zu bytes after an empty range", t->name,
                           len - 1);
        return mk_range(cx, H->make_null(cx->h), H->make_null(cx->h), RANGE_EMPTY);
    }
    if ((flags & (RANGE_LB_INF | RANGE_UB_INF)) != (RANGE_LB_INF | RANGE_UB_INF) &&
        sub_ok(cx, t, SUB_DECODE) < 0)
        return NULL;
    lo = flags & RANGE_LB_INF ? H->make_null(cx->h) : bin_bound(cx, t, data, len, &pos, "lower");
    if (!lo)
        return NULL;
    hi = flags & RANGE_UB_INF ? H->make_null(cx->h) : bin_bound(cx, t, data, len, &pos, "upper");
    if (!hi)
        goto error;
    if (pos != len) {
        CU_ERR(cx, "invalid %s field: %zu trailing bytes", t->name, len - pos);
        goto error;
    }
    return mk_range(cx, lo, hi, flags);

error:
    H->release(cx->h, lo);
    if (hi)
        H->release(cx->h, hi);
    return NULL;
}

static pgd_obj *multi_bin(const pgd_cx *cx, const rtype *t, const char *data, size_t len)
{
    const pgd_host *H = cx->host;
    pgd_obj *list;
    int32_t n, i;
    size_t pos = 4;

    if (len < 4)
        return CU_FAIL(cx, "invalid %s field: %zu bytes, the count needs 4", t->multi_name,
                       len);
    n = pgd_get_i32(data);
    if (n < 0 || (size_t)n > (len - 4) / 5) /* each range: a length and a flags byte */
        return CU_FAIL(cx, "invalid %s: %d ranges in %zu bytes", t->multi_name, (int)n, len);
    list = H->make_list(cx->h, (size_t)n);
    if (!list)
        return NULL;
    for (i = 0; i < n; i++) {
        int32_t rn;
        pgd_obj *r;

        if (len - pos < 4) {
            CU_ERR(cx, "invalid %s field: truncated at range %d", t->multi_name, (int)i + 1);
            goto error;
        }
        rn = pgd_get_i32(data + pos);
        pos += 4;
        if (rn < 0 || (size_t)rn > len - pos) {
            CU_ERR(cx, "invalid %s: range %d of %d bytes, %zu left", t->multi_name,
                   (int)i + 1, (int)rn, len - pos);
            goto error;
        }
        r = range_bin(cx, t, data + pos, (size_t)rn);
        pos += (size_t)rn;
        if (!r || H->list_set(cx->h, list, (size_t)i, r) < 0)
            goto error;
    }
    if (pos != len) {
        CU_ERR(cx, "invalid %s field: %zu trailing bytes", t->multi_name, len - pos);
        goto error;
    }
    return list;

error:
    H->release(cx->h, list);
    return NULL;
}

static pgd_obj *range_decode(const pgd_cx *cx, const char *data, size_t len)
{
    int multi = 0;
    rtype t;

    if (rtype_of(cx, &t, &multi) < 0 || host_ok(cx) < 0)
        return NULL;
    return multi ? multi_bin(cx, &t, data, len) : range_bin(cx, &t, data, len);
}

/* ---- text decode ------------------------------------------------------- */

typedef struct trd {
    const pgd_cx *cx;
    const rtype *t;
    const char *p, *end;
    char *scratch; /* unescaped bound bytes; as long as the whole text */
} trd;

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* One bound up to ',' or the closing bracket: a new object (None when it
 * is infinite, i.e. written as nothing), or NULL after an error. */
static pgd_obj *txt_bound(trd *r, int *infinite)
{
    const pgd_cx *cx = r->cx;
    size_t n = 0;
    int quoted = 0;

    while (r->p < r->end && *r->p != ',' && *r->p != ')' && *r->p != ']') {
        char c = *r->p++;

        if (c == '"') {
            quoted = 1;
            for (;;) {
                if (r->p >= r->end)
                    return CU_FAIL(cx, "malformed %s text: unterminated quotes", r->t->name);
                c = *r->p++;
                if (c == '"') {
                    if (r->p < r->end && *r->p == '"') { /* "" is one quote */
                        r->scratch[n++] = *r->p++;
                        continue;
                    }
                    break;
                }
                if (c == '\\') {
                    if (r->p >= r->end)
                        return CU_FAIL(cx, "malformed %s text: backslash at the end",
                                       r->t->name);
                    c = *r->p++;
                }
                r->scratch[n++] = c;
            }
            continue;
        }
        if (c == '\\') {
            if (r->p >= r->end)
                return CU_FAIL(cx, "malformed %s text: backslash at the end", r->t->name);
            c = *r->p++;
        }
        r->scratch[n++] = c;
    }
    *infinite = n == 0 && !quoted;
    if (*infinite)
        return cx->host->make_null(cx->h);
    if (sub_ok(cx, r->t, SUB_TEXT) < 0)
        return NULL;
    return r->t->sc->decode_text(&r->t->scx, r->scratch, n);
}

/* One range at r->p ("empty" or bracketed), leaving r->p after it. */
static pgd_obj *txt_range(trd *r)
{
    const pgd_host *H = r->cx->host;
    pgd_obj *lo = NULL, *hi = NULL;
    int flags = 0, inf = 0;

    if ((size_t)(r->end - r->p) >= 5 && memcmp(r->p, "empty", 5) == 0) {
        r->p += 5;
        return mk_range(r->cx, H->make_null(r->cx->h), H->make_null(r->cx->h), RANGE_EMPTY);
    }
    if (r->p >= r->end || (*r->p != '[' && *r->p != '('))
        return CU_FAIL(r->cx, "malformed %s text: expected '[', '(' or empty", r->t->name);
    flags |= *r->p++ == '[' ? RANGE_LB_INC : 0;
    lo = txt_bound(r, &inf);
    if (!lo)
        return NULL;
    flags |= inf ? RANGE_LB_INF : 0;
    if (r->p >= r->end || *r->p != ',') {
        CU_ERR(r->cx, "malformed %s text: expected ','", r->t->name);
        goto error;
    }
    r->p++;
    hi = txt_bound(r, &inf);
    if (!hi)
        goto error;
    flags |= inf ? RANGE_UB_INF : 0;
    if (r->p >= r->end) {
        CU_ERR(r->cx, "malformed %s text: expected ']' or ')'", r->t->name);
        goto error;
    }
    if (*r->p == ',') {
        CU_ERR(r->cx, "malformed %s text: a third bound", r->t->name);
        goto error;
    }
    flags |= *r->p++ == ']' ? RANGE_UB_INC : 0;
    return mk_range(r->cx, lo, hi, flags);

error:
    H->release(r->cx->h, lo);
    if (hi)
        H->release(r->cx->h, hi);
    return NULL;
}

/* The ranges of a multirange text, collected before the list is built. */
typedef struct objs {
    pgd_obj **v;
    size_t n, cap;
} objs;

static int objs_push(trd *r, objs *o, pgd_obj *x)
{
    if (o->n == o->cap) {
        size_t cap = o->cap ? 2 * o->cap : 8;
        pgd_obj **v = realloc(o->v, cap * sizeof *v);

        if (!v) {
            r->cx->host->release(r->cx->h, x);
            return CU_ERR(r->cx, "out of memory decoding %s text", r->t->multi_name);
        }
        o->v = v;
        o->cap = cap;
    }
    o->v[o->n++] = x;
    return 0;
}

static void skip_blank(trd *r)
{
    while (r->p < r->end && is_blank(*r->p))
        r->p++;
}

/* The multirange text "{range,...}" at r->p. */
static pgd_obj *txt_multi(trd *r)
{
    const pgd_host *H = r->cx->host;
    objs got = {NULL, 0, 0};
    pgd_obj *list = NULL;
    size_t i;

    if (r->p >= r->end || *r->p++ != '{') {
        CU_ERR(r->cx, "malformed %s text: expected '{'", r->t->multi_name);
        goto error;
    }
    skip_blank(r);
    if (r->p < r->end && *r->p == '}') {
        r->p++;
    } else {
        for (;;) {
            pgd_obj *o;

            skip_blank(r);
            if (!(o = txt_range(r)) || objs_push(r, &got, o) < 0)
                goto error;
            skip_blank(r);
            if (r->p < r->end && *r->p == ',') {
                r->p++;
                continue;
            }
            if (r->p < r->end && *r->p == '}') {
                r->p++;
                break;
            }
            CU_ERR(r->cx, "malformed %s text: expected ',' or '}'", r->t->multi_name);
            goto error;
        }
    }
    list = H->make_list(r->cx->h, got.n);
    if (!list)
        goto error;
    for (i = 0; i < got.n; i++) {
        pgd_obj *o = got.v[i];

        got.v[i] = NULL;
        if (H->list_set(r->cx->h, list, i, o) < 0) {
            H->release(r->cx->h, list);
            list = NULL;
            goto error;
        }
    }
    free(got.v);
    return list;

error:
    for (i = 0; i < got.n; i++)
        if (got.v[i])
            H->release(r->cx->h, got.v[i]);
    free(got.v);
    return NULL;
}

static pgd_obj *range_decode_text(const pgd_cx *cx, const char *data, size_t len)
{
    trd r;
    rtype t;
    int multi = 0;
    pgd_obj *o = NULL;

    memset(&r, 0, sizeof r);
    r.cx = cx;
    if (rtype_of(cx, &t, &multi) < 0 || host_ok(cx) < 0)
        return NULL;
    r.t = &t;
    r.p = data;
    r.end = data + len;
    r.scratch = malloc(len ? len : 1);
    if (!r.scratch)
        return CU_FAIL(cx, "out of memory decoding %s text", r.t->name);
    o = multi ? txt_multi(&r) : txt_range(&r);
    if (o && r.p != r.end) {
        cx->host->release(cx->h, o);
        o = CU_FAIL(cx, "malformed %s text: junk after the value",
                    multi ? r.t->multi_name : r.t->name);
    }
    free(r.scratch);
    return o;
}

/* ---- encode ------------------------------------------------------------ */

/* One bound: int32 length (back-patched), then the subtype's binary. */
static int enc_bound(const pgd_cx *cx, const rtype *t, const pgd_value *b, pgd_wbuf *out)
{
    const pgd_host *H = cx->host;
    size_t off = H->tell(out);
    int n;

    if (sub_ok(cx, t, SUB_ENCODE) < 0 || !cu_reserve(cx, out, 4))
        return -1;
    n = t->sc->encode_binary(&t->scx, b, out);
    if (n < 0)
        return -1;
    if ((size_t)n != H->tell(out) - off - 4)
        return CU_ERR(cx, "%s codec reported %d bytes, wrote %zu", t->sub_name, n,
                      H->tell(out) - off - 4);
    pgd_put_i32(H->at(out, off), n);
    return n + 4;
}

static int is_seq(const pgd_value *v)
{
    return v->kind == PGD_V_TUPLE || v->kind == PGD_V_LIST;
}

/* A range (lower, upper[, bounds[, empty]]) of type t; bytes or -1. */
static int enc_range(const pgd_cx *cx, const rtype *t, const pgd_value *v, pgd_wbuf *out)
{
    const pgd_value *it;
    const char *bounds = "[)";
    int flags = 0, empty = 0, total = 1, n;
    char *p;

    if (!is_seq(v) || v->u.list.n < 2 || v->u.list.n > 4)
        return CU_ERR(cx, "cannot encode a %s value as %s: expected Range(lower, upper"
                          "[, bounds[, empty]]) or a tuple of 2 to 4 items",
                      is_seq(v) ? "sequence" : cu_kind_name(v->kind), t->name);
    it = v->u.list.items;
    if (v->u.list.n > 2) {
        if (it[2].kind != PGD_V_STR || it[2].u.s.n != 2 ||
            (it[2].u.s.p[0] != '[' && it[2].u.s.p[0] != '(') ||
            (it[2].u.s.p[1] != ']' && it[2].u.s.p[1] != ')'))
            return CU_ERR(cx, "%s: bounds must be one of '[)', '[]', '(]', '()'", t->name);
        bounds = it[2].u.s.p;
    }
    if (v->u.list.n > 3) {
        if (it[3].kind != PGD_V_BOOL)
            return CU_ERR(cx, "%s: empty must be a bool, not %s", t->name,
                          cu_kind_name(it[3].kind));
        empty = it[3].u.b;
    }
    if (empty && (it[0].kind != PGD_V_NULL || it[1].kind != PGD_V_NULL))
        return CU_ERR(cx, "%s: an empty range has no bounds (lower and upper must be None)",
                      t->name);
    if (empty)
        flags = RANGE_EMPTY;
    else {
        flags |= it[0].kind == PGD_V_NULL ? RANGE_LB_INF : bounds[0] == '[' ? RANGE_LB_INC : 0;
        flags |= it[1].kind == PGD_V_NULL ? RANGE_UB_INF : bounds[1] == ']' ? RANGE_UB_INC : 0;
    }
    p = cu_reserve(cx, out, 1);
    if (!p)
        return -1;
    *p = (char)flags;
    if (!(flags & (RANGE_EMPTY | RANGE_LB_INF))) {
        if ((n = enc_bound(cx, t, &it[0], out)) < 0)
            return -1;
        total += n;
    }
    if (!(flags & (RANGE_EMPTY | RANGE_UB_INF))) {
        if ((n = enc_bound(cx, t, &it[1], out)) < 0)
            return -1;
        total += n;
    }
    return total;
}

static int enc_multi(const pgd_cx *cx, const rtype *t, const pgd_value *v, pgd_wbuf *out)
{
    const pgd_host *H = cx->host;
    size_t start = H->tell(out), i;
    char *p;

    if (!is_seq(v))
        return CU_ERR(cx, "cannot encode a %s value as %s: expected a list of ranges",
                      cu_kind_name(v->kind), t->multi_name);
    if (v->u.list.n > INT32_MAX)
        return CU_ERR(cx, "%s: %zu ranges are too many", t->multi_name, v->u.list.n);
    p = cu_reserve(cx, out, 4);
    if (!p)
        return -1;
    pgd_put_i32(p, (int32_t)v->u.list.n);
    for (i = 0; i < v->u.list.n; i++) {
        const pgd_value *r = &v->u.list.items[i];
        size_t off = H->tell(out);
        int n;

        if (!is_seq(r))
            return CU_ERR(cx, "%s: item %zu is a %s value, not a range", t->multi_name, i + 1,
                          cu_kind_name(r->kind));
        if (!cu_reserve(cx, out, 4) || (n = enc_range(cx, t, r, out)) < 0)
            return -1;
        pgd_put_i32(H->at(out, off), n);
    }
    if (H->tell(out) - start > INT32_MAX)
        return CU_ERR(cx, "%s of %zu bytes is too large", t->multi_name, H->tell(out) - start);
    return (int)(H->tell(out) - start);
}

static int range_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    int multi = 0;
    rtype t;

    if (rtype_of(cx, &t, &multi) < 0)
        return -1;
    return multi ? enc_multi(cx, &t, v, out) : enc_range(cx, &t, v, out);
}

#define FLAGS (PGD_CODEC_BINARY | PGD_CODEC_TEXT | PGD_CODEC_COMPOUND | PGD_CODEC_STR_TEXT)
#define RANGE_CODEC(name, oid, array_oid)                                                \
    {(name), (oid), (array_oid), FLAGS, 0, range_encode, range_decode, range_decode_text, \
     {0}}

static const pgd_codec codecs[] = {
    RANGE_CODEC("int4range", 3904, 3905),
    RANGE_CODEC("int8range", 3926, 3927),
    RANGE_CODEC("numrange", 3906, 3907),
    RANGE_CODEC("tsrange", 3908, 3909),
    RANGE_CODEC("tstzrange", 3910, 3911),
    RANGE_CODEC("daterange", 3912, 3913),
    RANGE_CODEC("int4multirange", 4451, 6150),
    RANGE_CODEC("int8multirange", 4536, 6157),
    RANGE_CODEC("nummultirange", 4532, 6151),
    RANGE_CODEC("tsmultirange", 4533, 6152),
    RANGE_CODEC("tstzmultirange", 4534, 6153),
    RANGE_CODEC("datemultirange", 4535, 6155),
    /* the range and multirange types of a database's own (cx->type) */
    RANGE_CODEC("anyrange", PGD_OID_ANYRANGE, 0),
    RANGE_CODEC("anymultirange", PGD_OID_ANYMULTIRANGE, 0),
};

static const pgd_codec_module module = PGD_CODEC_MODULE_INIT("range", "1.0.0", codecs);

PGD_CODEC_EXPORT const pgd_codec_module *pgd_codec_module_v1(void)
{
    return &module;
}
