/*
 * geometric.c - the geometric types: point, line, lseg, box, path, polygon,
 * circle.
 *
 * Server functions: point_recv/point_send, line_recv/line_send,
 * lseg_recv/lseg_send, box_recv/box_send, path_recv/path_send,
 * poly_recv/poly_send, circle_recv/circle_send (binary); point_out,
 * line_out, lseg_out, box_out, path_out, poly_out, circle_out (text).
 *
 * Binary wire layouts.  Every number is a float8: the IEEE-754 bits as a
 * big-endian 64-bit integer.  "point" below is x then y (16 bytes).
 *   point    x, y                                          16 bytes
 *   line     A, B, C of the line Ax + By + C = 0           24 bytes
 *   lseg     point start, point end                        32 bytes
 *   box      point high (upper right), point low           32 bytes
 *   path     uint8 closed (0 or 1), int32 npts (>= 1), npts points
 *   polygon  int32 npts (>= 1), npts points (the server computes the
 *            bounding box itself; it is not on the wire)
 *   circle   point center, radius                          24 bytes
 * Decoding checks the exact length: fixed sizes, and for path and polygon
 * the count against the bytes that follow (a count is never used before
 * it is checked), so truncated fields, trailing bytes and bad counts are
 * refused.  NaN and +-Infinity pass through both ways.
 *
 * Text forms (float8out for every number: "1.5", "-0", "1e+300", "NaN",
 * "Infinity", "-Infinity"):
 *   point "(x,y)"   line "{A,B,C}"   lseg "[(x1,y1),(x2,y2)]"
 *   box "(x1,y1),(x2,y2)"   circle "<(x,y),r>"
 *   path "[(x1,y1),...]" open, "((x1,y1),...)" closed
 *   polygon "((x1,y1),...)"
 * box[] is the one array type whose text delimiter is ';' (array.c).
 *
 * Python side (psqlpy.extra_types named tuples, built with make_call):
 *   point   Point(x, y)                 line    Line(a, b, c)
 *   lseg    LineSegment(Point, Point)   box     Box(Point high, Point low)
 *   path    Path((Point, ...), closed)  polygon Polygon((Point, ...))
 *   circle  Circle(Point center, radius)
 * Encoding takes PGD_V_TUPLE or PGD_V_LIST of the same shapes; every
 * number may be PGD_V_INT, PGD_V_FLOAT or PGD_V_DECIMAL, every point any
 * 2-sequence of numbers.  Path and polygon also take a plain sequence of
 * points, and the rule that tells the two apart is:
 *   polygon: exactly one item that is a sequence whose first item is
 *            itself a sequence (or that is empty) -> Polygon(points);
 *            otherwise every item is a point.
 *   path:    two items, the second a bool -> Path(points, closed);
 *            otherwise every item is a point, and the path is CLOSED (as
 *            the server reads path text written without brackets).
 * A point is never mistaken for a wrapper: its items are numbers.
 * Refused as the server refuses them: a line with |A| and |B| both at most
 * 1e-6 (line_recv: "A and B cannot both be zero"), a circle with a negative
 * radius (circle_recv; NaN and -0 are accepted), a path or polygon without
 * points.  The server normalises a box (high becomes the upper right).
 * All codecs are PGD_CODEC_COMPOUND: in an array parameter a tuple is one
 * value (a Point, a Polygon(...)), and lists make dimensions.  They are
 * PGD_CODEC_STR_TEXT too: a str parameter ("(1,2)") goes in text format
 * for the server to parse and never reaches the encoders here.
 */
#include <math.h>

#include "codec_util.h"

#define OID_POINT 600
#define OID_LSEG 601
#define OID_PATH 602
#define OID_BOX 603
#define OID_POLYGON 604
#define OID_LINE 628
#define OID_CIRCLE 718

#define LINE_EPSILON 1.0E-06 /* the server's EPSILON in FPzero() */
#define NUM_TEXT_MAX 1100    /* a Decimal's text (covers 1e308 written out) */

/* ---- decoding: the numbers first, then the objects --------------------- */

/*
 * A decoded value before it becomes objects: up to 6 leading numbers (a
 * point, a line's A B C, two points, a circle) and, for path and polygon,
 * npts points that are read either from the wire (big-endian float8 pairs
 * at `wire`) or from `txt` (parsed text, 2 * npts doubles, malloc'd).
 */
typedef struct geo {
    double f[6];
    int closed;
    size_t npts;
    const char *wire;
    double *txt;
} geo;

static void geo_pt(const geo *g, size_t i, double *x, double *y)
{
    if (g->txt) {
        *x = g->txt[2 * i];
        *y = g->txt[2 * i + 1];
    } else {
        *x = pgd_get_f64(g->wire + 16 * i);
        *y = pgd_get_f64(g->wire + 16 * i + 8);
    }
}

/* make_call(name, (items[0], ..., items[n-1])); steals the items, also
 * when one of them is NULL (an earlier builder failed) or the call fails. */
static pgd_obj *call_n(const pgd_cx *cx, const char *name, pgd_obj **items, size_t n)
{
    const pgd_host *H = cx->host;
    pgd_obj *args = NULL;
    size_t i;

    for (i = 0; i < n; i++)
        if (!items[i])
            goto error;
    args = H->make_tuple(cx->h, n);
    if (!args)
        goto error;
    for (i = 0; i < n; i++) {
        pgd_obj *it = items[i];

        items[i] = NULL;
        if (H->tuple_set(cx->h, args, i, it) < 0)
            goto error;
    }
    return H->make_call(cx->h, name, args);

error:
    for (i = 0; i < n; i++)
        if (items[i])
            H->release(cx->h, items[i]);
    if (args)
        H->release(cx->h, args);
    return NULL;
}

static pgd_obj *mk_point(const pgd_cx *cx, double x, double y)
{
    pgd_obj *xy[2];

    xy[0] = cx->host->make_float(cx->h, x);
    xy[1] = cx->host->make_float(cx->h, y);
    return call_n(cx, "psqlpy.extra_types:Point", xy, 2);
}

/* (Point, ...) of a path's or polygon's points. */
static pgd_obj *mk_points(const pgd_cx *cx, const geo *g)
{
    const pgd_host *H = cx->host;
    pgd_obj *t = H->make_tuple(cx->h, g->npts);
    size_t i;

    if (!t)
        return NULL;
    for (i = 0; i < g->npts; i++) {
        double x, y;
        pgd_obj *p;

        geo_pt(g, i, &x, &y);
        p = mk_point(cx, x, y);
        if (!p || H->tuple_set(cx->h, t, i, p) < 0) {
            H->release(cx->h, t);
            return NULL;
        }
    }
    return t;
}

/* The object for a decoded value of type `oid`. */
static pgd_obj *geo_build(const pgd_cx *cx, uint32_t oid, const geo *g)
{
    const pgd_host *H = cx->host;
    pgd_obj *it[3];

    if (!PGD_HOST_HAS(H, make_call) || !PGD_HOST_HAS(H, tuple_set))
        return CU_FAIL(cx, "geometric types need a host with make_call (codec ABI minor 1)");
    switch (oid) {
    case OID_POINT:
        return mk_point(cx, g->f[0], g->f[1]);
    case OID_LINE:
        it[0] = H->make_float(cx->h, g->f[0]);
        it[1] = H->make_float(cx->h, g->f[1]);
        it[2] = H->make_float(cx->h, g->f[2]);
        return call_n(cx, "psqlpy.extra_types:Line", it, 3);
    case OID_LSEG:
    case OID_BOX:
        it[0] = mk_point(cx, g->f[0], g->f[1]);
        it[1] = mk_point(cx, g->f[2], g->f[3]);
        return call_n(cx, oid == OID_LSEG ? "psqlpy.extra_types:LineSegment"
                                          : "psqlpy.extra_types:Box",
                      it, 2);
    case OID_CIRCLE:
        it[0] = mk_point(cx, g->f[0], g->f[1]);
        it[1] = H->make_float(cx->h, g->f[2]);
        return call_n(cx, "psqlpy.extra_types:Circle", it, 2);
    case OID_PATH:
        it[0] = mk_points(cx, g);
        it[1] = H->make_bool(cx->h, g->closed);
        return call_n(cx, "psqlpy.extra_types:Path", it, 2);
    case OID_POLYGON:
        it[0] = mk_points(cx, g);
        return call_n(cx, "psqlpy.extra_types:Polygon", it, 1);
    default:
        return CU_FAIL(cx, "the geometric codec does not know type %u", oid);
    }
}

/* ---- binary decode ----------------------------------------------------- */

static const char *geo_name(uint32_t oid)
{
    switch (oid) {
    case OID_POINT: return "point";
    case OID_LINE: return "line";
    case OID_LSEG: return "lseg";
    case OID_BOX: return "box";
    case OID_PATH: return "path";
    case OID_POLYGON: return "polygon";
    case OID_CIRCLE: return "circle";
    default: return "geometric value";
    }
}

/* Count of floats of the fixed-size types (0 for path and polygon). */
static size_t geo_fixed(uint32_t oid)
{
    switch (oid) {
    case OID_POINT: return 2;
    case OID_LINE: case OID_CIRCLE: return 3;
    case OID_LSEG: case OID_BOX: return 4;
    default: return 0;
    }
}

/* Point count at data[0..4) checked against the `rest` bytes after it. */
static int geo_npts(const pgd_cx *cx, const char *type, const char *data, size_t rest,
                    size_t *npts)
{
    int32_t n = pgd_get_i32(data);

    if (n <= 0)
        return CU_ERR(cx, "invalid %s: %d points", type, (int)n);
    if (rest / 16 != (size_t)n || rest % 16 != 0)
        return CU_ERR(cx, "invalid %s field: %d points need %zu bytes, %zu follow", type,
                      (int)n, (size_t)n * 16, rest);
    *npts = (size_t)n;
    return 0;
}

static pgd_obj *geo_decode(const pgd_cx *cx, const char *data, size_t len)
{
    const char *type = geo_name(cx->oid);
    size_t nf = geo_fixed(cx->oid), i;
    geo g;

    memset(&g, 0, sizeof g);
    if (nf) {
        if (len != 8 * nf)
            return cu_bad_len(cx, type, len, 8 * nf);
        for (i = 0; i < nf; i++)
            g.f[i] = pgd_get_f64(data + 8 * i);
    } else if (cx->oid == OID_PATH) {
        if (len < 5)
            return CU_FAIL(cx, "invalid path field: %zu bytes, the header needs 5", len);
        if ((unsigned char)data[0] > 1)
            return CU_FAIL(cx, "invalid path: closed flag %u", (unsigned char)data[0]);
        g.closed = data[0];
        if (geo_npts(cx, type, data + 1, len - 5, &g.npts) < 0)
            return NULL;
        g.wire = data + 5;
    } else {
        if (len < 4)
            return CU_FAIL(cx, "invalid %s field: %zu bytes, the header needs 4", type, len);
        if (geo_npts(cx, type, data, len - 4, &g.npts) < 0)
            return NULL;
        g.wire = data + 4;
    }
    return geo_build(cx, cx->oid, &g);
}

/* ---- text decode ------------------------------------------------------- */

typedef struct tcur {
    const char *p, *end;
} tcur;

static int t_ch(tcur *c, char ch)
{
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

/* One float8out number, up to the next delimiter. */
static int t_num(tcur *c, double *out)
{
    const char *s = c->p;

    while (c->p < c->end && !memchr(",()[]{}<>", *c->p, 9))
        c->p++;
    return cu_text_to_double(s, (size_t)(c->p - s), 64, 0, out) == 0;
}

static int t_point(tcur *c, double *x, double *y)
{
    return t_ch(c, '(') && t_num(c, x) && t_ch(c, ',') && t_num(c, y) && t_ch(c, ')');
}

/* path / polygon text: '[' or '(', points, then the matching bracket.
 * The points go to a malloc'd array sized by the count of '(' left. */
static int t_points(tcur *c, geo *g)
{
    const char *q;
    size_t n = 0, i;
    char close;

    if (t_ch(c, '['))
        close = ']';
    else if (t_ch(c, '('))
        close = ')';
    else
        return 0;
    g->closed = close == ')';
    for (q = c->p; q < c->end; q++)
        n += *q == '(';
    if (n == 0 || !(g->txt = malloc(2 * n * sizeof(double))))
        return 0;
    for (i = 0; i < n; i++) {
        if (i && !t_ch(c, ','))
            return 0;
        if (!t_point(c, &g->txt[2 * i], &g->txt[2 * i + 1]))
            return 0;
        if (c->p < c->end && *c->p == close)
            break;
    }
    g->npts = i + 1;
    return i < n && t_ch(c, close);
}

static pgd_obj *geo_decode_text(const pgd_cx *cx, const char *data, size_t len)
{
    tcur c = {data, data + len};
    geo g;
    int ok;
    pgd_obj *o = NULL;

    memset(&g, 0, sizeof g);
    switch (cx->oid) {
    case OID_POINT:
        ok = t_point(&c, &g.f[0], &g.f[1]);
        break;
    case OID_LINE:
        ok = t_ch(&c, '{') && t_num(&c, &g.f[0]) && t_ch(&c, ',') && t_num(&c, &g.f[1]) &&
             t_ch(&c, ',') && t_num(&c, &g.f[2]) && t_ch(&c, '}');
        break;
    case OID_LSEG:
        ok = t_ch(&c, '[') && t_point(&c, &g.f[0], &g.f[1]) && t_ch(&c, ',') &&
             t_point(&c, &g.f[2], &g.f[3]) && t_ch(&c, ']');
        break;
    case OID_BOX:
        ok = t_point(&c, &g.f[0], &g.f[1]) && t_ch(&c, ',') && t_point(&c, &g.f[2], &g.f[3]);
        break;
    case OID_CIRCLE:
        ok = t_ch(&c, '<') && t_point(&c, &g.f[0], &g.f[1]) && t_ch(&c, ',') &&
             t_num(&c, &g.f[2]) && t_ch(&c, '>');
        break;
    case OID_PATH:
        ok = t_points(&c, &g);
        break;
    case OID_POLYGON:
        ok = c.p < c.end && *c.p == '(' && t_points(&c, &g);
        g.closed = 0;
        break;
    default:
        ok = 0;
    }
    if (!ok || c.p != c.end)
        CU_ERR(cx, "invalid %s text \"%.*s\"", geo_name(cx->oid), (int)(len > 60 ? 60 : len),
               data);
    else
        o = geo_build(cx, cx->oid, &g);
    free(g.txt);
    return o;
}

/* ---- encode ------------------------------------------------------------ */

static int is_seq(const pgd_value *v)
{
    return v->kind == PGD_V_TUPLE || v->kind == PGD_V_LIST;
}

/* A coordinate or radius from an int, float or decimal; -1 after an error. */
static int get_num(const pgd_cx *cx, const pgd_value *v, const char *type, double *out)
{
    int rc;

    switch (v->kind) {
    case PGD_V_FLOAT:
        *out = v->u.f;
        return 0;
    case PGD_V_INT:
        *out = (double)v->u.i;
        return 0;
    case PGD_V_DECIMAL:
        rc = cu_text_to_double(v->u.s.p, v->u.s.n, NUM_TEXT_MAX, 0, out);
        if (rc == 0)
            return 0;
        return CU_ERR(cx, "%s: decimal %.*s %s", type, (int)(v->u.s.n > 40 ? 40 : v->u.s.n),
                      v->u.s.p, rc > 0 ? "is out of range for float8" : "is not a number");
    default:
        return CU_ERR(cx, "%s: a number must be an int, float or Decimal, not %s", type,
                      cu_kind_name(v->kind));
    }
}

/* A point: a 2-sequence (x, y) of numbers. */
static int get_point(const pgd_cx *cx, const pgd_value *v, const char *type, double *xy)
{
    if (!is_seq(v))
        return CU_ERR(cx, "%s: a point is a sequence (x, y), not a %s value", type,
                      cu_kind_name(v->kind));
    if (v->u.list.n != 2)
        return CU_ERR(cx, "%s: a point is a sequence (x, y), not one of %zu items", type,
                      v->u.list.n);
    if (get_num(cx, &v->u.list.items[0], type, &xy[0]) < 0 ||
        get_num(cx, &v->u.list.items[1], type, &xy[1]) < 0)
        return -1;
    return 0;
}

/* Append `n` doubles; the byte count or -1. */
static int put_f64s(const pgd_cx *cx, pgd_wbuf *out, const double *f, size_t n)
{
    char *p = cu_reserve(cx, out, 8 * n);
    size_t i;

    if (!p)
        return -1;
    for (i = 0; i < n; i++)
        pgd_put_f64(p + 8 * i, f[i]);
    return (int)(8 * n);
}

/* The fixed-size types: `shape` says what each item of v is, 'n' a number
 * and 'p' a point. */
static int enc_fixed(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out, const char *type,
                     const char *shape, const char *usage)
{
    double f[6] = {0};
    size_t n = strlen(shape), i, k = 0;

    if (!is_seq(v) || v->u.list.n != n)
        return CU_ERR(cx, "cannot encode a %s value as %s: expected %s", cu_kind_name(v->kind),
                      type, usage);
    for (i = 0; i < n; i++) {
        const pgd_value *it = &v->u.list.items[i];

        if (shape[i] == 'p' ? get_point(cx, it, type, &f[k]) : get_num(cx, it, type, &f[k]))
            return -1;
        k += shape[i] == 'p' ? 2 : 1;
    }
    if (cx->oid == OID_LINE && fabs(f[0]) <= LINE_EPSILON && fabs(f[1]) <= LINE_EPSILON)
        return CU_ERR(cx, "invalid line: A and B cannot both be zero");
    if (cx->oid == OID_CIRCLE && f[2] < 0)
        return CU_ERR(cx, "invalid circle: negative radius %g", f[2]);
    return put_f64s(cx, out, f, k);
}

static int enc_point(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    return enc_fixed(cx, v, out, "point", "nn", "Point(x, y) or (x, y)");
}

static int enc_line(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    return enc_fixed(cx, v, out, "line", "nnn", "Line(a, b, c) or (a, b, c)");
}

static int enc_lseg(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    return enc_fixed(cx, v, out, "lseg", "pp", "LineSegment(start, end) of two points");
}

static int enc_box(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    return enc_fixed(cx, v, out, "box", "pp", "Box(high, low) of two points");
}

static int enc_circle(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    return enc_fixed(cx, v, out, "circle", "pn", "Circle(center, radius)");
}

/* Whether the sequence v holds sequences (points), not numbers: its first
 * item is a sequence, or it is empty. */
static int holds_seqs(const pgd_value *v)
{
    return v->u.list.n == 0 || is_seq(&v->u.list.items[0]);
}

/* Path (closed 0 or 1) or polygon (closed -1): the header, then the points
 * of the sequence `pts`.  Returns the byte count or -1. */
static int enc_points(const pgd_cx *cx, const pgd_value *pts, pgd_wbuf *out,
                      const char *type, int closed)
{
    size_t n = pts->u.list.n, i, head = closed >= 0 ? 5 : 4;
    char *p;

    if (n == 0)
        return CU_ERR(cx, "invalid %s: no points", type);
    if (n > (INT32_MAX - head) / 16)
        return CU_ERR(cx, "invalid %s: %zu points are too many", type, n);
    p = cu_reserve(cx, out, head);
    if (!p)
        return -1;
    if (closed >= 0)
        *p++ = (char)closed;
    pgd_put_i32(p, (int32_t)n);
    for (i = 0; i < n; i++) {
        double xy[2];

        if (get_point(cx, &pts->u.list.items[i], type, xy) < 0 ||
            put_f64s(cx, out, xy, 2) < 0)
            return -1;
    }
    return (int)(head + 16 * n);
}

static int enc_path(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    const pgd_value *pts = v;
    int closed = 1; /* a plain sequence of points, as path_in reads "(1,2),(3,4)" */

    if (is_seq(v) && v->u.list.n == 2 && v->u.list.items[1].kind == PGD_V_BOOL) {
        pts = &v->u.list.items[0];
        closed = v->u.list.items[1].u.b ? 1 : 0;
    }
    if (!is_seq(pts) || !holds_seqs(pts))
        return CU_ERR(cx, "cannot encode this %s value as path: expected Path(points, "
                          "closed) or a sequence of points", cu_kind_name(v->kind));
    return enc_points(cx, pts, out, "path", closed);
}

static int enc_polygon(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    const pgd_value *pts = v;

    if (is_seq(v) && v->u.list.n == 1 && is_seq(&v->u.list.items[0]) &&
        holds_seqs(&v->u.list.items[0]))
        pts = &v->u.list.items[0]; /* Polygon(points) */
    if (!is_seq(pts) || !holds_seqs(pts))
        return CU_ERR(cx, "cannot encode this %s value as polygon: expected "
                          "Polygon(points) or a sequence of points", cu_kind_name(v->kind));
    return enc_points(cx, pts, out, "polygon", -1);
}

#define FLAGS (PGD_CODEC_BINARY | PGD_CODEC_TEXT | PGD_CODEC_COMPOUND | PGD_CODEC_STR_TEXT)

static const pgd_codec codecs[] = {
    {"point", OID_POINT, 1017, FLAGS, 0, enc_point, geo_decode, geo_decode_text, {0}},
    {"line", OID_LINE, 629, FLAGS, 0, enc_line, geo_decode, geo_decode_text, {0}},
    {"lseg", OID_LSEG, 1018, FLAGS, 0, enc_lseg, geo_decode, geo_decode_text, {0}},
    {"box", OID_BOX, 1020, FLAGS, 0, enc_box, geo_decode, geo_decode_text, {0}},
    {"path", OID_PATH, 1019, FLAGS, 0, enc_path, geo_decode, geo_decode_text, {0}},
    {"polygon", OID_POLYGON, 1027, FLAGS, 0, enc_polygon, geo_decode, geo_decode_text, {0}},
    {"circle", OID_CIRCLE, 719, FLAGS, 0, enc_circle, geo_decode, geo_decode_text, {0}},
};

static const pgd_codec_module module = PGD_CODEC_MODULE_INIT("geometric", "1.0.0", codecs);

PGD_CODEC_EXPORT const pgd_codec_module *pgd_codec_module_v1(void)
{
    return &module;
}
