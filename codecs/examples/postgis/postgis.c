/*
 * postgis.c - an example codec plugin for a real extension type: PostGIS's
 * `geometry` (and `geography`, which has the same wire form), written the
 * way a user would, against pgd_codec.h and pgd_wire.h only.  It is not
 * loaded by default:
 *
 *     psqlpy.load_codec_plugin(".../postgis.so")   # then open a new pool
 *
 * Types: geometry and geography are extension types whose OIDs differ per
 * database, so both are registered by name (oid 0): a connection that meets
 * a type of that name learns its OID from pg_type and uses this codec for
 * it, and the array handler (with this codec per element) for geometry[] /
 * geography[].
 *
 * Server functions: geometry_recv/geometry_send and geography_recv/
 * geography_send (binary: EWKB); geometry_out/geography_out (text: the same
 * EWKB as upper-case hex); geometry_in parses WKT, EWKT and hex (E)WKB.
 *
 * Wire layout, EWKB ("extended well-known binary"), one geometry:
 *   uint8   byte order: 1 = little endian (NDR), 0 = big endian (XDR); it
 *           holds for every number of this geometry up to a nested one,
 *           which starts with its own byte order
 *   uint32  type word: the geometry type in the low bits (1 Point,
 *           2 LineString, 3 Polygon, 4 MultiPoint, 5 MultiLineString,
 *           6 MultiPolygon, 7 GeometryCollection) and flags in the high
 *           ones: 0x80000000 Z, 0x40000000 M, 0x20000000 an SRID follows.
 *           ISO WKB's codes (type + 1000 Z, + 2000 M, + 3000 ZM) are read
 *           too, as the server does.
 *   uint32  SRID, when flagged
 *   body, by type (ndims = 2 + Z + M float8 per position: x y [z] [m]):
 *     Point              one position; all NaN is POINT EMPTY
 *     LineString         uint32 npoints, then npoints positions
 *     Polygon            uint32 nrings, each uint32 npoints + positions
 *                        (the first ring is the shell, the others holes)
 *     MultiPoint, MultiLineString, MultiPolygon, GeometryCollection
 *                        uint32 ngeoms, then ngeoms complete geometries,
 *                        each with its own byte order and type word, the
 *                        same Z and M as the collection, of the Multi*'s
 *                        single member type; a nested SRID is ignored
 * The server writes its native byte order and an SRID (when the value has
 * one) only on the outermost geometry.  The curved and surface types
 * (CircularString ... Triangle, 8-17) have no GeoJSON form: they are refused
 * with a message (convert them in SQL, e.g. ST_CurveToLine(g)).
 *
 * Python side:
 *   decoding gives a GeoJSON-like dict, built with the host's
 *   "builtins:dict" from a list of (key, value) tuples:
 *     {"type": "Point", "coordinates": [1.0, 2.0], "srid": 4326}
 *   "coordinates" nests lists as GeoJSON does (a position is [x, y] or
 *   [x, y, z]); an empty geometry has [] (an empty Point too); a
 *   GeometryCollection has "geometries" (a list of such dicts) instead;
 *   "srid" is there only when the value has one; a geometry with M has
 *   "measured": True and positions ending with m ([x, y, m], [x, y, z, m]).
 *   shapely.geometry.shape(d) turns the dict into a shapely object.
 *   Encoding takes
 *     PGD_V_MAP    a dict of that form (coordinates as lists or tuples, so
 *                  obj.__geo_interface__ works; "srid" and "measured"
 *                  optional, "bbox" ignored); written as big-endian EWKB;
 *     PGD_V_BYTES  WKB or EWKB (shapely's geom.wkb), checked like a decoded
 *                  value and then sent unchanged;
 *     PGD_V_STR    WKT, EWKT or hex text, sent in text format for
 *                  geometry_in to parse (PGD_CODEC_STR_TEXT).
 *   The codec checks structure; the server checks the rest (closed rings,
 *   enough points, a known SRID) and says so in a DatabaseError.
 *
 * Never trusting the wire: every count is checked against the bytes left
 * before anything is built, trailing bytes are refused, nesting is capped
 * at MAX_DEPTH, and nothing is read outside data[0..len).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "pgd_codec.h"
#include "pgd_wire.h"

#define EWKB_Z 0x80000000u
#define EWKB_M 0x40000000u
#define EWKB_SRID 0x20000000u
#define EWKB_TYPE_BITS 0x1FFFFFFFu

#define MAX_DEPTH 32     /* collections (and Multi*) inside collections */
#define MIN_MEMBER_BYTES 9 /* the smallest nested geometry: order, type, count 0 */

enum {
    G_POINT = 1,
    G_LINESTRING,
    G_POLYGON,
    G_MULTIPOINT,
    G_MULTILINESTRING,
    G_MULTIPOLYGON,
    G_COLLECTION,
    G_LAST_KNOWN = 17
};

static const char *const type_names[G_LAST_KNOWN + 1] = {
    "Unknown",      "Point",         "LineString",   "Polygon",    "MultiPoint",
    "MultiLineString", "MultiPolygon", "GeometryCollection", "CircularString",
    "CompoundCurve", "CurvePolygon", "MultiCurve",   "MultiSurface", "Curve",
    "Surface",      "PolyhedralSurface", "TIN",      "Triangle",
};

/* The member type of a Multi* (Point for MultiPoint, ...); 0 = any. */
static int member_type(int type)
{
    return type >= G_MULTIPOINT && type <= G_MULTIPOLYGON ? type - 3 : 0;
}

/* ---- decoding ----------------------------------------------------------------- */

/*
 * A bounded reader over one EWKB value: raw bytes (binary results and bytes
 * parameters) or hex digits (text results; checked to be hex beforehand).
 * `len` and `pos` count bytes either way.
 */
typedef struct rd {
    const pgd_cx *cx;
    const char *p;
    size_t len, pos;
    int hex;
} rd;

/* What a geometry's header says. */
typedef struct head {
    int le;      /* little endian */
    int type;    /* G_POINT .. G_COLLECTION */
    int hasz, hasm;
    int has_srid;
    uint32_t srid;
} head;

static int ndims(const head *h)
{
    return 2 + h->hasz + h->hasm;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* -1 after an error unless n more bytes are left; `what` names them. */
static int room(rd *r, size_t n, const char *what)
{
    if (r->len - r->pos >= n)
        return 0;
    return r->cx->host->error(r->cx->h, "invalid EWKB: %s at byte %zu needs %zu bytes, %zu left",
                              what, r->pos, n, r->len - r->pos);
}

/* Copy the next n bytes (room() checked) into dst and step over them. */
static void take(rd *r, char *dst, size_t n)
{
    size_t i;

    if (!r->hex) {
        memcpy(dst, r->p + r->pos, n);
    } else {
        for (i = 0; i < n; i++) {
            const char *d = r->p + 2 * (r->pos + i);

            dst[i] = (char)(hexval(d[0]) << 4 | hexval(d[1]));
        }
    }
    r->pos += n;
}

/* pgd_wire.h reads big-endian; a little-endian number is that, swapped. */
static uint32_t take_u32(rd *r, int le)
{
    char b[4];
    uint32_t v;

    take(r, b, sizeof b);
    v = pgd_get_u32(b);
    return le ? __builtin_bswap32(v) : v;
}

static double take_f64(rd *r, int le)
{
    char b[8];
    uint64_t u;
    double d;

    take(r, b, sizeof b);
    u = pgd_get_u64(b);
    if (le)
        u = __builtin_bswap64(u);
    memcpy(&d, &u, sizeof d);
    return d;
}

/* Byte order, type word and SRID; checked against the enclosing geometry. */
static int read_head(rd *r, head *h, const head *outer)
{
    const pgd_host *H = r->cx->host;
    size_t at = r->pos;
    uint32_t word, code, iso;
    char order;
    int want;

    if (room(r, 5, "a geometry header") < 0)
        return -1;
    take(r, &order, 1);
    if (order != 0 && order != 1)
        return H->error(r->cx->h, "invalid EWKB: byte order %d at byte %zu (expected 0 or 1)",
                        (unsigned char)order, at);
    h->le = order;
    word = take_u32(r, h->le);
    code = word & EWKB_TYPE_BITS;
    iso = code / 1000;
    h->type = (int)(code % 1000);
    if (iso > 3 || (iso && (word & (EWKB_Z | EWKB_M))) || h->type < 1 || h->type > G_LAST_KNOWN)
        return H->error(r->cx->h, "invalid EWKB: unknown geometry type word 0x%08x at byte %zu",
                        (unsigned)word, at);
    if (h->type > G_COLLECTION)
        return H->error(r->cx->h,
                        "geometry type %s is not supported by this codec (no GeoJSON form); "
                        "convert it in SQL, e.g. ST_CurveToLine()",
                        type_names[h->type]);
    h->hasz = (word & EWKB_Z) || iso == 1 || iso == 3;
    h->hasm = (word & EWKB_M) || iso >= 2;
    h->has_srid = (word & EWKB_SRID) != 0;
    h->srid = 0;
    if (h->has_srid) {
        if (room(r, 4, "an SRID") < 0)
            return -1;
        h->srid = take_u32(r, h->le);
    }
    if (outer) {
        want = member_type(outer->type);
        if (want && h->type != want)
            return H->error(r->cx->h, "invalid EWKB: a %s inside a %s at byte %zu",
                            type_names[h->type], type_names[outer->type], at);
        if (h->hasz != outer->hasz || h->hasm != outer->hasm)
            return H->error(r->cx->h,
                            "invalid EWKB: a %s at byte %zu has other dimensions than its %s",
                            type_names[h->type], at, type_names[outer->type]);
    }
    return 0;
}

/* One position.  With `out` (NULL = only check) a new list of floats; a
 * Point whose ordinates are all NaN (POINT EMPTY) gives []. */
static int read_position(rd *r, const head *h, int is_point, pgd_obj **out)
{
    const pgd_host *H = r->cx->host;
    int n = ndims(h), i, empty = 1;
    double c[4];
    pgd_obj *list, *f;

    if (room(r, (size_t)n * 8, "a position") < 0)
        return -1;
    for (i = 0; i < n; i++) {
        c[i] = take_f64(r, h->le);
        empty = empty && isnan(c[i]);
    }
    if (!out)
        return 0;
    if (is_point && empty)
        n = 0;
    if (!(list = H->make_list(r->cx->h, (size_t)n)))
        return -1;
    for (i = 0; i < n; i++) {
        f = H->make_float(r->cx->h, c[i]);
        if (!f || H->list_set(r->cx->h, list, (size_t)i, f) < 0) {
            H->release(r->cx->h, list);
            return -1;
        }
    }
    *out = list;
    return 0;
}

static int read_geom(rd *r, const head *outer, int depth, pgd_obj **out);

/*
 * The body after a header.  With `out`, a new object: a Point's position, a
 * LineString's list of positions, a Polygon's list of rings, a Multi*'s list
 * of its members' coordinates, a GeometryCollection's list of dicts.
 */
static int read_body(rd *r, const head *h, int depth, pgd_obj **out)
{
    const pgd_host *H = r->cx->host;
    pgd_obj *list = NULL, *item = NULL;
    size_t each, i, at;
    uint32_t n;
    head ring;

    if (h->type == G_POINT)
        return read_position(r, h, 1, out);
    each = h->type == G_LINESTRING ? (size_t)ndims(h) * 8
           : h->type == G_POLYGON  ? 4
                                   : MIN_MEMBER_BYTES;
    at = r->pos;
    if (room(r, 4, "a count") < 0)
        return -1;
    n = take_u32(r, h->le);
    /* before anything is built: do n items fit in what is left? */
    if (n > (r->len - r->pos) / each)
        return H->error(r->cx->h, "invalid EWKB: a %s of %u %s at byte %zu, only %zu bytes left",
                        type_names[h->type], (unsigned)n,
                        h->type == G_LINESTRING ? "points"
                        : h->type == G_POLYGON  ? "rings"
                                                : "members",
                        at, r->len - r->pos);
    if (out && !(list = H->make_list(r->cx->h, n)))
        return -1;
    ring = *h;
    ring.type = G_LINESTRING;
    for (i = 0; i < n; i++) {
        int rc = h->type == G_LINESTRING ? read_position(r, h, 0, out ? &item : NULL)
                 : h->type == G_POLYGON  ? read_body(r, &ring, depth, out ? &item : NULL)
                                         : read_geom(r, h, depth + 1, out ? &item : NULL);

        if (rc < 0 || (list && H->list_set(r->cx->h, list, i, item) < 0)) {
            if (list)
                H->release(r->cx->h, list);
            return -1;
        }
    }
    if (out)
        *out = list;
    return 0;
}

/* (key, value) as a new tuple; steals value, also on failure. */
static pgd_obj *make_pair(const pgd_cx *cx, const char *key, pgd_obj *value)
{
    const pgd_host *H = cx->host;
    pgd_obj *pair, *k;

    if (!value)
        return NULL;
    pair = H->make_tuple(cx->h, 2);
    k = pair ? H->make_str(cx->h, key, strlen(key)) : NULL;
    if (!k) {
        if (pair)
            H->release(cx->h, pair);
        H->release(cx->h, value);
        return NULL;
    }
    if (H->tuple_set(cx->h, pair, 0, k) < 0) {
        H->release(cx->h, value);
        H->release(cx->h, pair);
        return NULL;
    }
    if (H->tuple_set(cx->h, pair, 1, value) < 0) {
        H->release(cx->h, pair);
        return NULL;
    }
    return pair;
}

/* The GeoJSON-like dict for a geometry whose body is `body` (stolen, also
 * on failure).  The SRID goes on the outermost dict only. */
static pgd_obj *make_geojson(const pgd_cx *cx, const head *h, pgd_obj *body, int outermost)
{
    const pgd_host *H = cx->host;
    const char *keys[4];
    pgd_obj *vals[4], *pairs, *pair, *args;
    size_t n = 0, i;
    int failed = 0;

    keys[n] = "type";
    vals[n++] = H->make_str(cx->h, type_names[h->type], strlen(type_names[h->type]));
    keys[n] = h->type == G_COLLECTION ? "geometries" : "coordinates";
    vals[n++] = body;
    if (outermost && h->has_srid) {
        keys[n] = "srid";
        vals[n++] = H->make_int(cx->h, (int64_t)h->srid);
    }
    if (h->hasm) {
        keys[n] = "measured";
        vals[n++] = H->make_bool(cx->h, 1);
    }
    pairs = H->make_list(cx->h, n);
    for (i = 0; i < n; i++) {
        if (failed || !pairs) { /* drop what is left */
            if (vals[i])
                H->release(cx->h, vals[i]);
            continue;
        }
        pair = make_pair(cx, keys[i], vals[i]);
        if (!pair || H->list_set(cx->h, pairs, i, pair) < 0)
            failed = 1;
    }
    if (!pairs)
        return NULL;
    if (failed)
        goto error;
    if (!(args = H->make_tuple(cx->h, 1)))
        goto error;
    if (H->tuple_set(cx->h, args, 0, pairs) < 0) {
        H->release(cx->h, args);
        return NULL;
    }
    return H->make_call(cx->h, "builtins:dict", args);
error:
    H->release(cx->h, pairs);
    return NULL;
}

/* A whole geometry: header and body.  With `out`, a new object: a dict, or
 * a Multi*'s member as just its coordinates. */
static int read_geom(rd *r, const head *outer, int depth, pgd_obj **out)
{
    pgd_obj *body = NULL;
    head h;

    if (depth > MAX_DEPTH)
        return r->cx->host->error(r->cx->h, "invalid EWKB: geometries nested deeper than %d",
                                  MAX_DEPTH);
    if (read_head(r, &h, outer) < 0 || read_body(r, &h, depth, out ? &body : NULL) < 0)
        return -1;
    if (!out)
        return 0;
    if (outer && outer->type != G_COLLECTION) {
        *out = body;
        return 0;
    }
    *out = make_geojson(r->cx, &h, body, outer == NULL);
    return *out ? 0 : -1;
}

/* Read (out != NULL: and build) one complete value; refuse trailing bytes. */
static int read_value(rd *r, pgd_obj **out)
{
    if (read_geom(r, NULL, 0, out) < 0)
        return -1;
    if (r->pos == r->len)
        return 0;
    if (out)
        r->cx->host->release(r->cx->h, *out);
    return r->cx->host->error(r->cx->h, "invalid EWKB: %zu trailing bytes after the geometry",
                              r->len - r->pos);
}

static int host_can_build(const pgd_cx *cx)
{
    if (PGD_HOST_HAS(cx->host, make_tuple) && PGD_HOST_HAS(cx->host, tuple_set) &&
        PGD_HOST_HAS(cx->host, make_call))
        return 0;
    return cx->host->error(cx->h, "geometry: the host cannot build dicts (needs ABI minor 1)");
}

static pgd_obj *geom_decode(const pgd_cx *cx, const char *data, size_t len)
{
    rd r = {cx, data, len, 0, 0};
    pgd_obj *g = NULL;

    if (host_can_build(cx) < 0 || read_value(&r, &g) < 0)
        return NULL;
    return g;
}

/* Text results: the same EWKB in hex digits, read in place. */
static pgd_obj *geom_decode_text(const pgd_cx *cx, const char *data, size_t len)
{
    rd r = {cx, data, len / 2, 0, 1};
    pgd_obj *g = NULL;
    size_t i;

    if (host_can_build(cx) < 0)
        return NULL;
    if (len % 2)
        return cx->host->error(cx->h, "invalid geometry text: %zu hex digits (odd)", len), NULL;
    for (i = 0; i < len; i++)
        if (hexval(data[i]) < 0)
            return cx->host->error(cx->h, "invalid geometry text: not hex at character %zu", i),
                   NULL;
    if (read_value(&r, &g) < 0)
        return NULL;
    return g;
}

/* ---- encoding ----------------------------------------------------------------- */

/*
 * A dict is written in two passes over the same tree: the first (out ==
 * NULL) checks the structure and learns the number of ordinates, which the
 * type word of every header needs before the first position; the second
 * writes.
 */
typedef struct wr {
    const pgd_cx *cx;
    pgd_wbuf *out;   /* NULL in the checking pass */
    int ndims;       /* ordinates per position; 0 until the first one */
    int measured;    /* some dict said "measured": True */
    int hasz, hasm;  /* fixed between the passes */
    int has_srid;    /* the outermost dict's "srid" */
    uint32_t srid;
} wr;

/* The members of one geometry dict. */
typedef struct gdict {
    int type;
    const pgd_value *body; /* "coordinates", or "geometries" for a collection */
    int has_srid;
    uint32_t srid;
} gdict;

static const char *kind_name(const pgd_value *v)
{
    static const char *const names[] = {
        "None", "bool", "int",   "float", "str",   "bytes", "Decimal", "UUID", "date",
        "time", "datetime", "timedelta", "JSON", "list", "tuple", "dict",
    };

    if (v->kind == PGD_V_OBJECT)
        return v->u.obj.type_name ? v->u.obj.type_name : "an object";
    return v->kind < sizeof names / sizeof names[0] ? names[v->kind] : "an unknown kind";
}

static int is_seq(const pgd_value *v)
{
    return v->kind == PGD_V_LIST || v->kind == PGD_V_TUPLE;
}

static int key_is(const pgd_value *k, const char *name)
{
    return k->u.s.n == strlen(name) && memcmp(k->u.s.p, name, k->u.s.n) == 0;
}

/* ASCII case-insensitive match of a str value against a type name. */
static int name_is(const pgd_value *s, const char *name)
{
    size_t i;

    if (s->u.s.n != strlen(name))
        return 0;
    for (i = 0; i < s->u.s.n; i++) {
        char a = s->u.s.p[i], b = name[i];

        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z')
            b = (char)(b - 'A' + 'a');
        if (a != b)
            return 0;
    }
    return 1;
}

static int parse_type(const pgd_cx *cx, const pgd_value *s, int *type)
{
    int t;

    if (s->kind != PGD_V_STR)
        return cx->host->error(cx->h, "a geometry's \"type\" is a str, not %s", kind_name(s));
    for (t = 1; t <= G_LAST_KNOWN; t++)
        if (name_is(s, type_names[t]))
            break;
    if (t <= G_COLLECTION) {
        *type = t;
        return 0;
    }
    if (t <= G_LAST_KNOWN)
        return cx->host->error(cx->h, "geometry type %s is not supported by this codec",
                               type_names[t]);
    if (name_is(s, "Feature") || name_is(s, "FeatureCollection"))
        return cx->host->error(cx->h, "a GeoJSON %.*s is not a geometry: pass its geometry",
                               (int)s->u.s.n, s->u.s.p);
    return cx->host->error(cx->h, "\"%.*s\" is not a GeoJSON geometry type",
                           s->u.s.n > 40 ? 40 : (int)s->u.s.n, s->u.s.p);
}

/* Pick a dict apart; also notes "measured" in w. */
static int parse_dict(wr *w, const pgd_value *v, gdict *g)
{
    const pgd_host *H = w->cx->host;
    const pgd_value *type = NULL, *coords = NULL, *geoms = NULL;
    size_t i;

    if (v->kind != PGD_V_MAP)
        return H->error(w->cx->h,
                        "a geometry is a dict like {\"type\": \"Point\", \"coordinates\": [x, y]}"
                        ", WKB bytes or WKT text, not %s",
                        kind_name(v));
    g->has_srid = 0;
    g->srid = 0;
    for (i = 0; i + 1 < v->u.list.n; i += 2) {
        const pgd_value *k = &v->u.list.items[i], *val = &v->u.list.items[i + 1];

        if (k->kind != PGD_V_STR)
            return H->error(w->cx->h, "geometry dict keys are str, not %s", kind_name(k));
        if (key_is(k, "type")) {
            type = val;
        } else if (key_is(k, "coordinates")) {
            coords = val;
        } else if (key_is(k, "geometries")) {
            geoms = val;
        } else if (key_is(k, "srid")) {
            if (val->kind == PGD_V_NULL)
                continue;
            if (val->kind != PGD_V_INT || val->u.i < 0 || val->u.i > INT32_MAX)
                return H->error(w->cx->h, "a geometry's \"srid\" is an int from 0 to %d",
                                INT32_MAX);
            g->has_srid = val->u.i != 0;
            g->srid = (uint32_t)val->u.i;
        } else if (key_is(k, "measured")) {
            if (val->kind != PGD_V_BOOL && val->kind != PGD_V_NULL)
                return H->error(w->cx->h, "a geometry's \"measured\" is a bool, not %s",
                                kind_name(val));
            if (val->kind == PGD_V_BOOL && val->u.b)
                w->measured = 1;
        } else if (!key_is(k, "bbox")) {
            return H->error(w->cx->h,
                            "unexpected key \"%.*s\" in a geometry dict (expected type, "
                            "coordinates or geometries, srid, measured, bbox)",
                            k->u.s.n > 40 ? 40 : (int)k->u.s.n, k->u.s.p);
        }
    }
    if (!type)
        return H->error(w->cx->h, "a geometry dict needs a \"type\"");
    if (parse_type(w->cx, type, &g->type) < 0)
        return -1;
    g->body = g->type == G_COLLECTION ? geoms : coords;
    if (!g->body || (g->type == G_COLLECTION ? coords : geoms) != NULL)
        return H->error(w->cx->h, "a %s dict has \"%s\" and no \"%s\"", type_names[g->type],
                        g->type == G_COLLECTION ? "geometries" : "coordinates",
                        g->type == G_COLLECTION ? "coordinates" : "geometries");
    return 0;
}

/* n bytes at the end of the output, or NULL after an error. */
static char *put(wr *w, size_t n)
{
    char *p = w->cx->host->reserve(w->out, n);

    if (!p)
        w->cx->host->error(w->cx->h, "out of memory");
    return p;
}

static int put_count(wr *w, size_t n)
{
    char *p;

    if (n > UINT32_MAX)
        return w->cx->host->error(w->cx->h, "a geometry part of %zu items is too large", n);
    if (!w->out)
        return 0;
    if (!(p = put(w, 4)))
        return -1;
    pgd_put_u32(p, (uint32_t)n);
    return 0;
}

/* Byte order 0 (big endian, pgd_wire.h's order), type word, SRID. */
static int put_head(wr *w, int type, int with_srid)
{
    uint32_t word = (uint32_t)type | (w->hasz ? EWKB_Z : 0) | (w->hasm ? EWKB_M : 0);
    char *p;

    if (!w->out)
        return 0;
    if (with_srid)
        word |= EWKB_SRID;
    if (!(p = put(w, with_srid ? 9 : 5)))
        return -1;
    p[0] = 0;
    pgd_put_u32(p + 1, word);
    if (with_srid)
        pgd_put_u32(p + 5, w->srid);
    return 0;
}

static int number(const pgd_value *v, double *out)
{
    if (v->kind == PGD_V_FLOAT)
        *out = v->u.f;
    else if (v->kind == PGD_V_INT)
        *out = (double)v->u.i;
    else
        return -1;
    return 0;
}

/* [x, y], [x, y, z] or [x, y, z, m] ([x, y, m] when measured); a Point may
 * have [] (POINT EMPTY: NaN ordinates). */
static int put_position(wr *w, const pgd_value *v, int is_point)
{
    const pgd_host *H = w->cx->host;
    double c[4];
    size_t n, i;
    char *p;

    if (!is_seq(v))
        return H->error(w->cx->h, "a position is a list of 2 to 4 numbers, not %s",
                        kind_name(v));
    n = v->u.list.n;
    if (n == 0 && is_point) {
        for (i = 0; i < 4; i++)
            c[i] = NAN;
    } else {
        if (n < 2 || n > 4)
            return H->error(w->cx->h, "a position has 2 to 4 numbers, not %zu", n);
        for (i = 0; i < n; i++)
            if (number(&v->u.list.items[i], &c[i]) < 0)
                return H->error(w->cx->h, "coordinates are numbers, not %s",
                                kind_name(&v->u.list.items[i]));
        if (!w->ndims)
            w->ndims = (int)n;
        else if ((int)n != w->ndims)
            return H->error(w->cx->h, "positions of %d and of %zu numbers in one geometry",
                            w->ndims, n);
    }
    if (!w->out)
        return 0;
    if (!(p = put(w, (size_t)w->ndims * 8)))
        return -1;
    for (i = 0; i < (size_t)w->ndims; i++)
        pgd_put_f64(p + 8 * i, c[i]);
    return 0;
}

static int put_geom(wr *w, const pgd_value *v, int depth);

static int put_body(wr *w, int type, const pgd_value *v, int depth)
{
    static const char *const shapes[] = {
        NULL, NULL, "positions", "rings (lists of positions)", "positions",
        "lists of positions", "polygons (lists of rings)", "geometry dicts",
    };
    size_t i;
    int member = member_type(type);

    if (depth > MAX_DEPTH)
        return w->cx->host->error(w->cx->h, "geometries nested deeper than %d", MAX_DEPTH);
    if (type == G_POINT)
        return put_position(w, v, 1);
    if (!is_seq(v))
        return w->cx->host->error(w->cx->h, "a %s's %s is a list of %s, not %s",
                                  type_names[type],
                                  type == G_COLLECTION ? "geometries" : "coordinates",
                                  shapes[type], kind_name(v));
    if (put_count(w, v->u.list.n) < 0)
        return -1;
    for (i = 0; i < v->u.list.n; i++) {
        const pgd_value *item = &v->u.list.items[i];
        int rc;

        if (type == G_LINESTRING)
            rc = put_position(w, item, 0);
        else if (type == G_POLYGON)
            rc = put_body(w, G_LINESTRING, item, depth);
        else if (member)
            rc = put_head(w, member, 0) < 0 ? -1 : put_body(w, member, item, depth + 1);
        else
            rc = put_geom(w, item, depth + 1);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* One dict: header and body; only the outermost one carries the SRID. */
static int put_geom(wr *w, const pgd_value *v, int depth)
{
    gdict g = {0, NULL, 0, 0};

    if (depth > MAX_DEPTH)
        return w->cx->host->error(w->cx->h, "geometries nested deeper than %d", MAX_DEPTH);
    if (parse_dict(w, v, &g) < 0)
        return -1;
    if (depth == 0) {
        w->has_srid = g.has_srid;
        w->srid = g.srid;
    } else if (g.has_srid && (!w->has_srid || g.srid != w->srid)) {
        return w->cx->host->error(w->cx->h,
                                  "a nested geometry's srid %u differs from the outermost one's",
                                  (unsigned)g.srid);
    }
    if (put_head(w, g.type, depth == 0 && w->has_srid) < 0)
        return -1;
    return put_body(w, g.type, g.body, depth);
}

static int encode_dict(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    wr w = {cx, NULL, 0, 0, 0, 0, 0, 0};

    if (put_geom(&w, v, 0) < 0) /* check, learn the dimensions */
        return -1;
    if (w.measured && w.ndims == 2)
        return cx->host->error(cx->h, "a measured geometry's positions are [x, y, m] or "
                                      "[x, y, z, m]");
    if (!w.ndims) /* only empty parts: XY, or XYM when measured */
        w.ndims = w.measured ? 3 : 2;
    w.hasm = w.measured || w.ndims == 4;
    w.hasz = w.ndims - 2 - w.hasm;
    w.out = out;
    return put_geom(&w, v, 0);
}

static int geom_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    size_t start = cx->host->tell(out), total;
    char *p;

    if (v->kind == PGD_V_BYTES) { /* WKB / EWKB: check it all, send it as it is */
        rd r = {cx, v->u.s.p, v->u.s.n, 0, 0};

        if (read_value(&r, NULL) < 0)
            return -1;
        if (v->u.s.n > INT32_MAX)
            return cx->host->error(cx->h, "a geometry of %zu bytes is too large", v->u.s.n);
        if (!(p = cx->host->reserve(out, v->u.s.n)))
            return cx->host->error(cx->h, "out of memory");
        memcpy(p, v->u.s.p, v->u.s.n);
        return (int)v->u.s.n;
    }
    if (v->kind == PGD_V_OBJECT)
        return cx->host->error(cx->h,
                               "cannot send a %s as a geometry: pass obj.__geo_interface__ "
                               "(a dict) or obj.wkb (bytes)",
                               kind_name(v));
    if (encode_dict(cx, v, out) < 0)
        return -1;
    total = cx->host->tell(out) - start;
    if (total > INT32_MAX)
        return cx->host->error(cx->h, "a geometry of %zu bytes is too large", total);
    return (int)total;
}

/* geography has geometry's wire form (the server checks its SRID). */
static const pgd_codec codecs[] = {
    {"geometry", 0, 0, PGD_CODEC_BINARY | PGD_CODEC_TEXT | PGD_CODEC_STR_TEXT, 0, geom_encode,
     geom_decode, geom_decode_text, {0}},
    {"geography", 0, 0, PGD_CODEC_BINARY | PGD_CODEC_TEXT | PGD_CODEC_STR_TEXT, 0, geom_encode,
     geom_decode, geom_decode_text, {0}},
};

static const pgd_codec_module module = PGD_CODEC_MODULE_INIT("postgis", "1.0.0", codecs);

PGD_CODEC_EXPORT const pgd_codec_module *pgd_codec_module_v1(void)
{
    return &module;
}
