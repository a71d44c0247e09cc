/*
 * array.c - the generic array handler (PGD_CODEC_ARRAY): one codec used for
 * every registered array type, with the element's codec in cx->elem and
 * its OID in cx->elem_oid.
 *
 * Server functions: array_recv/array_send (binary), array_in/array_out
 * (text).
 *
 * Binary wire layout (big-endian):
 *   int32  ndim        0..6 (MAXDIM); 0 = empty array, nothing follows
 *   int32  flags       1 if any element is NULL, else 0
 *   uint32 elemtype    element type OID (must equal cx->elem_oid)
 *   ndim x { int32 dim (>= 0), int32 lbound }
 *   then for every element in row-major order:
 *   int32  length      -1 = NULL (no bytes follow), else that many bytes
 *   bytes  the element's own binary form
 * Decoded as nested lists (one level per dimension).  Lower bounds other
 * than 1 are accepted and ignored (a list has no lower bound); an array with
 * a zero-length dimension decodes as [] (the server treats it as empty).
 * The element count is overflow-checked against the field length (every
 * element needs at least its 4 length bytes).
 *
 * Text form: '{1,2,NULL}', '{{1,2},{3,4}}', '{"a b","x\"y",""}', '{}', and
 * '[0:1]={1,2}' when a lower bound is not 1.  Elements are quoted when
 * they contain delimiters, blanks, quotes, backslashes or spell NULL;
 * inside and outside quotes a backslash escapes the next byte.  An
 * unquoted NULL (any case) is SQL NULL.  The delimiter is ',', except for
 * box[] (element type 603), whose pg_type.typdelim is ';' because a box's
 * own text holds commas.  Elements are decoded with the
 * element codec's decode_text, or as strings when the element type has no
 * codec (cx->elem == NULL; in binary that is an error) or its codec no
 * text decoder (reg*, whose text is a name; composite types; hstore), as
 * the driver decodes a column of such a type in a text result.
 *
 * Encoding takes PGD_V_LIST (or PGD_V_TUPLE), nested for more dimensions, rectangular
 * ("sub-lists must have equal lengths"), at most 6 deep; PGD_V_NULL items
 * become NULL elements; an empty list is an empty array (ndim 0).  When the
 * element type is PGD_CODEC_COMPOUND (point, range, ...), a tuple is one
 * element and only lists make dimensions.  Lower
 * bounds are written as 1.  Each element goes through
 * cx->elem->encode_binary and its length is back-patched.
 */
#include <stdlib.h>

#include "codec_util.h"

#define MAXDIM 6

/* ---- binary decode ----------------------------------------------------- */

typedef struct bin_rd {
    const pgd_cx *cx;
    pgd_cx ecx;
    const char *data;
    size_t len, pos;
    int ndim;
    int32_t dims[MAXDIM];
} bin_rd;

static pgd_obj *bin_level(bin_rd *r, int level)
{
    const pgd_host *H = r->cx->host;
    pgd_obj *list = H->make_list(r->cx->h, (size_t)r->dims[level]);
    int32_t i;

    if (!list)
        return NULL;
    for (i = 0; i < r->dims[level]; i++) {
        pgd_obj *item;

        if (level + 1 < r->ndim) {
            item = bin_level(r, level + 1);
        } else {
            int32_t n;

            if (r->len - r->pos < 4) {
                CU_ERR(r->cx, "invalid array field: truncated at element length");
                goto error;
            }
            n = pgd_get_i32(r->data + r->pos);
            r->pos += 4;
            if (n == -1) {
                item = H->make_null(r->cx->h);
            } else if (n < 0 || (size_t)n > r->len - r->pos) {
                CU_ERR(r->cx, "invalid array element length %d (%zu bytes left)", (int)n,
                       r->len - r->pos);
                goto error;
            } else {
                item = r->cx->elem->decode_binary(&r->ecx, r->data + r->pos, (size_t)n);
                r->pos += (size_t)n;
            }
        }
        if (!item || H->list_set(r->cx->h, list, (size_t)i, item) < 0)
            goto error;
    }
    return list;

error:
    H->release(r->cx->h, list);
    return NULL;
}

static pgd_obj *array_decode(const pgd_cx *cx, const char *data, size_t len)
{
    bin_rd r;
    int32_t ndim, flags;
    uint32_t elemtype;
    uint64_t nitems = 1, cap;
    int i;
    pgd_obj *o;

    if (len < 12)
        return CU_FAIL(cx, "invalid array field: %zu bytes, header needs 12", len);
    ndim = pgd_get_i32(data);
    flags = pgd_get_i32(data + 4);
    elemtype = pgd_get_u32(data + 8);
    if (ndim < 0 || ndim > MAXDIM)
        return CU_FAIL(cx, "invalid array: %d dimensions (at most %d)", (int)ndim, MAXDIM);
    if (flags != 0 && flags != 1)
        return CU_FAIL(cx, "invalid array flags %d", (int)flags);
    if (elemtype != cx->elem_oid)
        return CU_FAIL(cx, "array element type %u on the wire, expected %u", elemtype,
                       cx->elem_oid);
    if (len < 12 + 8 * (size_t)ndim)
        return CU_FAIL(cx, "invalid array field: truncated in the dimensions");
    cap = (len - 12 - 8 * (size_t)ndim) / 4; /* most elements the rest could hold */
    for (i = 0; i < ndim; i++) {
        int32_t dim = pgd_get_i32(data + 12 + 8 * i);
        int32_t lb = pgd_get_i32(data + 16 + 8 * i);

        if (dim < 0)
            return CU_FAIL(cx, "invalid array dimension %d", (int)dim);
        if (lb > 0 && dim > INT32_MAX - lb)
            return CU_FAIL(cx, "invalid array bounds: lower bound %d + %d overflows",
                           (int)lb, (int)dim);
        r.dims[i] = dim;
        if (dim == 0)
            nitems = 0; /* empty, whatever the other dimensions say */
    }
    for (i = 0; i < ndim && nitems != 0; i++) {
        /* nitems * dim > cap, asked without the multiplication overflowing */
        if (nitems > cap / (uint64_t)r.dims[i])
            return CU_FAIL(cx, "invalid array: %d-dimension size exceeds the %zu-byte field",
                           i + 1, len);
        nitems *= (uint64_t)r.dims[i];
    }
    if (ndim == 0 || nitems == 0) {
        if (len != 12 + 8 * (size_t)ndim)
            return CU_FAIL(cx, "invalid array field: %zu trailing bytes after an empty array",
                           len - 12 - 8 * (size_t)ndim);
        return cx->host->make_list(cx->h, 0);
    }
    if (!cx->elem || !cx->elem->decode_binary || !(cx->elem->flags & PGD_CODEC_BINARY))
        return CU_FAIL(cx, "no binary decoder for array element type %u", cx->elem_oid);
    r.cx = cx;
    r.ecx = cu_elem_cx(cx);
    r.data = data;
    r.len = len;
    r.pos = 12 + 8 * (size_t)ndim;
    r.ndim = ndim;
    o = bin_level(&r, 0);
    if (o && r.pos != len) {
        cx->host->release(cx->h, o);
        return CU_FAIL(cx, "invalid array field: %zu trailing bytes", len - r.pos);
    }
    return o;
}

/* ---- text decode ------------------------------------------------------- */

typedef struct txt_rd {
    const pgd_cx *cx;
    pgd_cx ecx;
    const char *p, *end;
    char *scratch; /* unescaped element bytes, len bytes */
    char delim;    /* between elements: ',' (';' for box[]) */
    int ndim;      /* depth of the elements, 0 until the first one */
    int64_t sizes[MAXDIM];
} txt_rd;

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static void skip_blank(txt_rd *r)
{
    while (r->p < r->end && is_blank(*r->p))
        r->p++;
}

/* One element at r->p (quoted or not); returns a new object or NULL. */
static pgd_obj *txt_element(txt_rd *r)
{
    const pgd_cx *cx = r->cx;
    size_t n = 0, keep = 0; /* keep: length up to the last escaped/quoted byte */
    int escaped = 0;

    if (*r->p == '"') {
        r->p++;
        for (;;) {
            if (r->p >= r->end)
                return CU_FAIL(cx, "malformed array text: unterminated quoted element");
            if (*r->p == '"') {
                r->p++;
                break;
            }
            if (*r->p == '\\') {
                if (++r->p >= r->end)
                    return CU_FAIL(cx, "malformed array text: backslash at the end");
            }
            r->scratch[n++] = *r->p++;
        }
    } else {
        while (r->p < r->end && *r->p != r->delim && *r->p != '}') {
            char c = *r->p;

            if (c == '{' || c == '"')
                return CU_FAIL(cx, "malformed array text: unexpected '%c' in an element", c);
            if (c == '\\') {
                if (++r->p >= r->end)
                    return CU_FAIL(cx, "malformed array text: backslash at the end");
                escaped = 1;
                r->scratch[n++] = *r->p++;
                keep = n;
                continue;
            }
            r->scratch[n++] = c;
            r->p++;
        }
        /* trailing blanks of an unquoted element are not part of it */
        while (n > keep && is_blank(r->scratch[n - 1]))
            n--;
        if (n == 0)
            return CU_FAIL(cx, "malformed array text: empty unquoted element");
        if (!escaped && n == 4 && (r->scratch[0] | 0x20) == 'n' &&
            (r->scratch[1] | 0x20) == 'u' && (r->scratch[2] | 0x20) == 'l' &&
            (r->scratch[3] | 0x20) == 'l')
            return cx->host->make_null(cx->h);
    }
    /* as the driver does with a column: without a text decoder, the text */
    if (!cx->elem || !cx->elem->decode_text || !(cx->elem->flags & PGD_CODEC_TEXT))
        return cx->host->make_str(cx->h, r->scratch, n);
    return cx->elem->decode_text(&r->ecx, r->scratch, n);
}

/* Items collected for one brace level before the list is built. */
typedef struct items {
    pgd_obj **v;
    size_t n, cap;
} items;

static int items_push(const pgd_cx *cx, items *it, pgd_obj *o)
{
    if (it->n == it->cap) {
        size_t cap = it->cap ? it->cap * 2 : 8;
        pgd_obj **v = realloc(it->v, cap * sizeof *v);

        if (!v) {
            cx->host->release(cx->h, o);
            return CU_ERR(cx, "out of memory decoding array text");
        }
        it->v = v;
        it->cap = cap;
    }
    it->v[it->n++] = o;
    return 0;
}

/* A '{...}' at depth `depth` (0 = outermost); r->p is at '{'. */
static pgd_obj *txt_level(txt_rd *r, int depth)
{
    const pgd_cx *cx = r->cx;
    items it = {NULL, 0, 0};
    pgd_obj *list = NULL;
    int subs = -1; /* 1: this level holds sub-arrays, 0: elements */
    size_t i;

    if (depth >= MAXDIM) {
        CU_ERR(cx, "malformed array text: more than %d dimensions", MAXDIM);
        goto error;
    }
    r->p++; /* '{' */
    skip_blank(r);
    if (r->p < r->end && *r->p == '}') {
        r->p++;
        if (depth > 0) {
            CU_ERR(cx, "malformed array text: empty sub-array");
            goto error;
        }
        return cx->host->make_list(cx->h, 0);
    }
    for (;;) {
        pgd_obj *o;
        int is_sub;

        skip_blank(r);
        if (r->p >= r->end) {
            CU_ERR(cx, "malformed array text: unexpected end");
            goto error;
        }
        is_sub = *r->p == '{';
        if (subs >= 0 && subs != is_sub) {
            CU_ERR(cx, "malformed array text: sub-lists must have equal lengths");
            goto error;
        }
        subs = is_sub;
        if (!is_sub) {
            if (r->ndim == 0)
                r->ndim = depth + 1;
            else if (r->ndim != depth + 1) {
                CU_ERR(cx, "malformed array text: sub-lists must have equal lengths");
                goto error;
            }
        }
        o = is_sub ? txt_level(r, depth + 1) : txt_element(r);
        if (!o || items_push(cx, &it, o) < 0)
            goto error;
        skip_blank(r);
        if (r->p < r->end && *r->p == r->delim) {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == '}') {
            r->p++;
            break;
        }
        CU_ERR(cx, "malformed array text: expected '%c' or '}'", r->delim);
        goto error;
    }
    if (r->sizes[depth] == 0)
        r->sizes[depth] = (int64_t)it.n;
    else if (r->sizes[depth] != (int64_t)it.n) {
        CU_ERR(cx, "malformed array text: sub-lists must have equal lengths");
        goto error;
    }
    list = cx->host->make_list(cx->h, it.n);
    if (!list)
        goto error;
    for (i = 0; i < it.n; i++) {
        pgd_obj *o = it.v[i];

        it.v[i] = NULL;
        if (cx->host->list_set(cx->h, list, i, o) < 0)
            goto error;
    }
    free(it.v);
    return list;

error:
    for (i = 0; i < it.n; i++)
        if (it.v[i])
            cx->host->release(cx->h, it.v[i]);
    free(it.v);
    if (list)
        cx->host->release(cx->h, list);
    return NULL;
}

/* Signed int32 for '[lb:ub]' decorations. */
static int txt_int(txt_rd *r, int64_t *out)
{
    int neg = 0, n = 0;
    int64_t v = 0;

    if (r->p < r->end && (*r->p == '-' || *r->p == '+'))
        neg = *r->p++ == '-';
    while (r->p < r->end && cu_is_digit(*r->p) && n < 11) {
        v = v * 10 + (*r->p++ - '0');
        n++;
    }
    if (!n || n == 11)
        return 0;
    *out = neg ? -v : v;
    return *out >= INT32_MIN && *out <= INT32_MAX;
}

static pgd_obj *array_decode_text(const pgd_cx *cx, const char *data, size_t len)
{
    txt_rd r;
    int64_t decor[MAXDIM];
    int ndecor = 0, i;
    pgd_obj *o = NULL;

    memset(&r, 0, sizeof r);
    r.cx = cx;
    r.ecx = cu_elem_cx(cx);
    r.p = data;
    r.end = data + len;
    r.delim = cx->elem_oid == 603 ? ';' : ',';
    skip_blank(&r);
    if (r.p < r.end && *r.p == '[') {
        while (r.p < r.end && *r.p == '[') {
            int64_t lb = 1, ub;

            r.p++;
            if (ndecor == MAXDIM || !txt_int(&r, &ub))
                goto bad_decor;
            if (r.p < r.end && *r.p == ':') {
                r.p++;
                lb = ub;
                if (!txt_int(&r, &ub))
                    goto bad_decor;
            }
            if (r.p >= r.end || *r.p != ']' || ub < lb - 1)
                goto bad_decor;
            r.p++;
            decor[ndecor++] = ub - lb + 1;
        }
        if (r.p >= r.end || *r.p != '=')
            goto bad_decor;
        r.p++;
        skip_blank(&r);
    }
    if (r.p >= r.end || *r.p != '{')
        return CU_FAIL(cx, "malformed array text: must start with '{'");
    r.scratch = malloc(len ? len : 1);
    if (!r.scratch)
        return CU_FAIL(cx, "out of memory decoding array text");
    o = txt_level(&r, 0);
    if (!o)
        goto done;
    skip_blank(&r);
    if (r.p != r.end) {
        CU_ERR(cx, "malformed array text: junk after the closing '}'");
        goto fail;
    }
    if (ndecor) {
        int ndim = r.ndim ? r.ndim : 0;

        if (ndecor != ndim) {
            CU_ERR(cx, "malformed array text: %d bounds for %d dimensions", ndecor, ndim);
            goto fail;
        }
        for (i = 0; i < ndim; i++)
            if (decor[i] != r.sizes[i]) {
                CU_ERR(cx, "malformed array text: bounds do not match dimension %d", i + 1);
                goto fail;
            }
    }
    goto done;

fail:
    cx->host->release(cx->h, o);
    o = NULL;
done:
    free(r.scratch);
    return o;

bad_decor:
    return CU_FAIL(cx, "malformed array text: bad dimension decoration");
}

/* ---- encode ------------------------------------------------------------ */

typedef struct enc {
    const pgd_cx *cx;
    int tuple_is_elem; /* the element type is COMPOUND */
    pgd_cx ecx;
    pgd_wbuf *out;
    int ndim;
    size_t dims[MAXDIM];
    int hasnull;
} enc;

/* Whether `v` is a dimension (a sub-array) rather than an element. */
static int enc_is_dim(const enc *e, const pgd_value *v)
{
    return v->kind == PGD_V_LIST || (v->kind == PGD_V_TUPLE && !e->tuple_is_elem);
}

/* Check that `v` (a list at `level`) has the shape dims[level..]. */
static int enc_check(enc *e, const pgd_value *v, int level)
{
    size_t i;

    if (v->u.list.n != e->dims[level])
        return CU_ERR(e->cx, "cannot encode array: sub-lists must have equal lengths");
    for (i = 0; i < v->u.list.n; i++) {
        const pgd_value *it = &v->u.list.items[i];
        int is_list = enc_is_dim(e, it);

        if (is_list != (level + 1 < e->ndim))
            return CU_ERR(e->cx, "cannot encode array: sub-lists must have equal lengths");
        if (is_list && enc_check(e, it, level + 1) < 0)
            return -1;
    }
    return 0;
}

static int enc_items(enc *e, const pgd_value *v, int level)
{
    const pgd_host *H = e->cx->host;
    size_t i;

    for (i = 0; i < v->u.list.n; i++) {
        const pgd_value *it = &v->u.list.items[i];
        size_t off;
        char *p;
        int n;

        if (level + 1 < e->ndim) {
            if (enc_items(e, it, level + 1) < 0)
                return -1;
            continue;
        }
        p = cu_reserve(e->cx, e->out, 4);
        if (!p)
            return -1;
        if (it->kind == PGD_V_NULL) {
            pgd_put_i32(p, -1);
            e->hasnull = 1;
            continue;
        }
        off = H->tell(e->out) - 4;
        n = e->cx->elem->encode_binary(&e->ecx, it, e->out);
        if (n < 0)
            return -1;
        if ((size_t)n != H->tell(e->out) - off - 4)
            return CU_ERR(e->cx, "element codec for type %u reported %d bytes, wrote %zu",
                          e->cx->elem_oid, n, H->tell(e->out) - off - 4);
        pgd_put_i32(H->at(e->out, off), n);
    }
    return 0;
}

static int array_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    const pgd_host *H = cx->host;
    enc e;
    const pgd_value *cur = v;
    size_t start = H->tell(out), nitems = 1, total;
    char *p;
    int i;

    if (!cx->elem || !cx->elem->encode_binary || !(cx->elem->flags & PGD_CODEC_BINARY))
        return CU_ERR(cx, "no binary encoder for array element type %u", cx->elem_oid);
    memset(&e, 0, sizeof e);
    e.cx = cx;
    e.tuple_is_elem = (cx->elem->flags & PGD_CODEC_COMPOUND) != 0;
    if (!enc_is_dim(&e, v))
        return cu_wrong_kind(cx, v, "an array");
    e.ecx = cu_elem_cx(cx);
    e.out = out;
    while (enc_is_dim(&e, cur)) {
        if (e.ndim == MAXDIM)
            return CU_ERR(cx, "cannot encode array: more than %d dimensions", MAXDIM);
        e.dims[e.ndim++] = cur->u.list.n;
        nitems *= cur->u.list.n;
        if (cur->u.list.n > INT32_MAX)
            return CU_ERR(cx, "cannot encode array: dimension of %zu items", cur->u.list.n);
        if (cur->u.list.n == 0)
            break;
        cur = &cur->u.list.items[0];
    }
    if (nitems == 0) {
        /* [], [[]], [[], []]: all still have to be rectangular */
        if (e.ndim > 1 && enc_check(&e, v, 0) < 0)
            return -1;
        e.ndim = 0;
    } else if (enc_check(&e, v, 0) < 0) {
        return -1;
    }
    p = cu_reserve(cx, out, 12 + 8 * (size_t)e.ndim);
    if (!p)
        return -1;
    pgd_put_i32(p, e.ndim);
    pgd_put_i32(p + 4, 0); /* flags, patched below */
    pgd_put_u32(p + 8, cx->elem_oid);
    for (i = 0; i < e.ndim; i++) {
        pgd_put_i32(p + 12 + 8 * i, (int32_t)e.dims[i]);
        pgd_put_i32(p + 16 + 8 * i, 1);
    }
    if (e.ndim && enc_items(&e, v, 0) < 0)
        return -1;
    if (e.hasnull)
        pgd_put_i32(H->at(out, start + 4), 1);
    total = H->tell(out) - start;
    if (total > INT32_MAX)
        return CU_ERR(cx, "array of %zu bytes is too large", total);
    return (int)total;
}

static const pgd_codec codecs[] = {
    {"anyarray", 0, 0, PGD_CODEC_ARRAY | PGD_CODEC_BINARY | PGD_CODEC_TEXT, 0, array_encode,
     array_decode, array_decode_text, {0}},
};

static const pgd_codec_module module = PGD_CODEC_MODULE_INIT("array", "1.0.0", codecs);

PGD_CODEC_EXPORT const pgd_codec_module *pgd_codec_module_v1(void)
{
    return &module;
}
