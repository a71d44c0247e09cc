/*
 * sysid.c - system identifier codecs: the reg* OID alias types, xid, xid8,
 * cid, tid and pg_lsn.  (oid itself is in the int family.)
 *
 * Server functions (binary / text):
 *   regproc, regprocedure, regoper, regoperator, regclass, regtype,
 *   regconfig, regdictionary, regnamespace, regrole, regcollation:
 *       <type>recv/<type>send (all oidrecv/oidsend underneath) / <type>in,
 *       <type>out
 *   xid:    xidrecv/xidsend / xidin/xidout
 *   xid8:   xid8recv/xid8send / xid8in/xid8out
 *   cid:    cidrecv/cidsend / cidin/cidout
 *   tid:    tidrecv/tidsend / tidin/tidout
 *   pg_lsn: pg_lsn_recv/pg_lsn_send / pg_lsn_in/pg_lsn_out
 *
 * Binary wire layouts (big-endian):
 *   reg*, xid, cid  uint32 (exactly 4 bytes)
 *   xid8, pg_lsn    uint64 (exactly 8 bytes)
 *   tid             uint32 block number, then uint16 offset (exactly 6 bytes)
 * Special values: none (pg_lsn's 0/0 is InvalidXLogRecPtr, an ordinary
 * value here).
 *
 * Decoded: reg* to the OID as an int; xid, cid to an int; xid8 to an int
 * (values beyond int64 through make_call "builtins:int" with the decimal
 * text); tid to a tuple (block, offset) (a list on a host without
 * make_tuple); pg_lsn to its text "16/B374D848" (pg_lsn_out: two
 * uppercase hex numbers without leading zeros).
 *
 * Text decode (a result in text format): xid, cid, xid8 (decimal), tid
 * ("(block,offset)") and pg_lsn.  The reg* types have none: their text is
 * a name ("pg_class", "integer"), not the OID, so such a column of a
 * text-format result comes back as that text.
 *
 * Encoding accepts:
 *   reg*, xid, cid  PGD_V_INT in 0..4294967295, or PGD_V_DECIMAL integer
 *                   text (always out of range: hosts use it beyond int64).
 *                   A name (PGD_V_STR) is refused: resolving it needs the
 *                   server (write $1::text::regclass in SQL for that).
 *   xid8            PGD_V_INT >= 0, PGD_V_DECIMAL integer text up to
 *                   18446744073709551615.
 *   tid             PGD_V_TUPLE or PGD_V_LIST of two ints: block
 *                   0..4294967295, offset 0..65535.  The codec is
 *                   COMPOUND, so in an array parameter a tuple is one tid.
 *   pg_lsn          PGD_V_STR "X/X" with 1..8 hex digits on each side
 *                   (either case, as pg_lsn_in), or an integer as for
 *                   xid8 (PGD_V_INT >= 0, PGD_V_DECIMAL up to 2^64 - 1).
 */
#include <inttypes.h>

#include "codec_util.h"

#define SHOWN(n) ((int)((n) > 60 ? 60 : (n)))

static const pgd_codec_module module; /* defined at the end */

/* The type name of one of this plugin's OIDs, for messages. */
static const char *type_name_of(uint32_t oid)
{
    size_t i;

    for (i = 0; i < module.n_codecs; i++)
        if (module.codecs[i].oid == oid)
            return module.codecs[i].type_name;
    return "system identifier";
}

/*
 * Parse a whole decimal integer "[-]digits" of exactly n bytes (no '+', no
 * blanks).  0 when it fits [0, hi] (stored), 1 when it is an integer that
 * does not (any negative one too, "-0" included), -1 when it is not an
 * integer at all.
 */
static int parse_u64(const char *p, size_t n, uint64_t hi, uint64_t *out)
{
    size_t i = n && p[0] == '-';
    uint64_t acc = 0;
    int over = i; /* negative */

    if (i == n)
        return -1;
    for (; i < n; i++) {
        unsigned d;

        if (!cu_is_digit(p[i]))
            return -1;
        d = (unsigned)(p[i] - '0');
        if (acc > (hi - d) / 10)
            over = 1;
        else if (!over)
            acc = acc * 10 + d;
    }
    if (over)
        return 1;
    *out = acc;
    return 0;
}

/* An unsigned integer parameter (INT or DECIMAL) in [0, hi]; 0 or -1. */
static int uint_param(const pgd_cx *cx, const pgd_value *v, uint64_t hi, uint64_t *out)
{
    const char *name = type_name_of(cx->oid);
    int rc;

    switch (v->kind) {
    case PGD_V_INT:
        if (v->u.i < 0 || (uint64_t)v->u.i > hi)
            return CU_ERR(cx, "value %" PRId64 " out of range for %s", v->u.i, name);
        *out = (uint64_t)v->u.i;
        return 0;
    case PGD_V_DECIMAL:
        rc = parse_u64(v->u.s.p, v->u.s.n, hi, out);
        if (rc < 0)
            return CU_ERR(cx, "decimal %.*s is not an integer, cannot encode as %s",
                          SHOWN(v->u.s.n), v->u.s.p, name);
        if (rc > 0)
            return CU_ERR(cx, "value %.*s out of range for %s", SHOWN(v->u.s.n), v->u.s.p,
                          name);
        return 0;
    case PGD_V_STR:
        if (hi == UINT32_MAX && cx->oid != 28 && cx->oid != 29)
            return CU_ERR(cx, "cannot encode a str value as %s: pass the OID as an int (to "
                              "look a name up, write $1::text::%s)", name, name);
        /* fall through */
    default:
        return cu_wrong_kind(cx, v, name);
    }
}

/* An unsigned integer of `size` bytes (4 or 8) from INT or DECIMAL. */
static int uint_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out, size_t size)
{
    uint64_t x;
    char *p;

    if (uint_param(cx, v, size == 4 ? UINT32_MAX : UINT64_MAX, &x) < 0)
        return -1;
    p = cu_reserve(cx, out, size);
    if (!p)
        return -1;
    if (size == 4)
        pgd_put_u32(p, (uint32_t)x);
    else
        pgd_put_u64(p, x);
    return (int)size;
}

/* Unsigned decimal text in [0, hi] (xidout, cidout, xid8out); 0 or -1. */
static int uint_text(const pgd_cx *cx, const char *data, size_t len, uint64_t hi, uint64_t *x)
{
    if (parse_u64(data, len, hi, x) != 0)
        return CU_ERR(cx, "invalid %s text \"%.*s\"", type_name_of(cx->oid), SHOWN(len), data);
    return 0;
}

/* ---- reg*, xid, cid: uint32 ------------------------------------------------- */

static int u32_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    return uint_encode(cx, v, out, 4);
}

static pgd_obj *u32_decode(const pgd_cx *cx, const char *data, size_t len)
{
    if (len != 4)
        return cu_bad_len(cx, type_name_of(cx->oid), len, 4);
    return cx->host->make_int(cx->h, (int64_t)pgd_get_u32(data));
}

static pgd_obj *u32_decode_text(const pgd_cx *cx, const char *data, size_t len)
{
    uint64_t x = 0; /* set by uint_text unless it fails */

    if (uint_text(cx, data, len, UINT32_MAX, &x) < 0)
        return NULL;
    return cx->host->make_int(cx->h, (int64_t)x);
}

/* ---- xid8: uint64 ----------------------------------------------------------- */

static pgd_obj *u64_build(const pgd_cx *cx, uint64_t x)
{
    char text[24];
    int n;

    if (x <= INT64_MAX)
        return cx->host->make_int(cx->h, (int64_t)x);
    n = snprintf(text, sizeof text, "%" PRIu64, x);
    return cu_call_str(cx, "builtins:int", text, (size_t)n);
}

static int xid8_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    return uint_encode(cx, v, out, 8);
}

static pgd_obj *xid8_decode(const pgd_cx *cx, const char *data, size_t len)
{
    if (len != 8)
        return cu_bad_len(cx, "xid8", len, 8);
    return u64_build(cx, pgd_get_u64(data));
}

static pgd_obj *xid8_decode_text(const pgd_cx *cx, const char *data, size_t len)
{
    uint64_t x = 0; /* set by uint_text unless it fails */

    if (uint_text(cx, data, len, UINT64_MAX, &x) < 0)
        return NULL;
    return u64_build(cx, x);
}

/* ---- tid: (uint32 block, uint16 offset) -------------------------------------- */

static pgd_obj *tid_build(const pgd_cx *cx, uint32_t block, uint16_t offset)
{
    const pgd_host *H = cx->host;
    int tuple = PGD_HOST_HAS(H, make_tuple) && PGD_HOST_HAS(H, tuple_set);
    int (*set)(void *, pgd_obj *, size_t, pgd_obj *) = tuple ? H->tuple_set : H->list_set;
    pgd_obj *t = tuple ? H->make_tuple(cx->h, 2) : H->make_list(cx->h, 2), *item;

    if (!t)
        return NULL;
    item = H->make_int(cx->h, block);
    if (!item || set(cx->h, t, 0, item) < 0) /* set steals item */
        goto error;
    item = H->make_int(cx->h, offset);
    if (!item || set(cx->h, t, 1, item) < 0)
        goto error;
    return t;

error:
    H->release(cx->h, t);
    return NULL;
}

static pgd_obj *tid_decode(const pgd_cx *cx, const char *data, size_t len)
{
    if (len != 6)
        return cu_bad_len(cx, "tid", len, 6);
    return tid_build(cx, pgd_get_u32(data), pgd_get_u16(data + 4));
}

/* "(block,offset)" as tidout writes it. */
static pgd_obj *tid_decode_text(const pgd_cx *cx, const char *data, size_t len)
{
    const char *comma = len > 2 ? memchr(data, ',', len) : NULL;
    uint64_t block, offset;

    if (!comma || data[0] != '(' || data[len - 1] != ')' ||
        parse_u64(data + 1, (size_t)(comma - data - 1), UINT32_MAX, &block) != 0 ||
        parse_u64(comma + 1, (size_t)(data + len - 1 - comma - 1), UINT16_MAX, &offset) != 0)
        return CU_FAIL(cx, "invalid tid text \"%.*s\"", SHOWN(len), data);
    return tid_build(cx, (uint32_t)block, (uint16_t)offset);
}

static int tid_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    const pgd_value *it;
    char *p;

    if (v->kind != PGD_V_TUPLE && v->kind != PGD_V_LIST)
        return cu_wrong_kind(cx, v, "tid");
    it = v->u.list.items;
    if (v->u.list.n != 2 || it[0].kind != PGD_V_INT || it[1].kind != PGD_V_INT)
        return CU_ERR(cx, "a tid is a (block, offset) pair of ints, got a %s of %zu items",
                      cu_kind_name(v->kind), v->u.list.n);
    if (it[0].u.i < 0 || it[0].u.i > UINT32_MAX)
        return CU_ERR(cx, "tid block %" PRId64 " out of range 0..4294967295", it[0].u.i);
    if (it[1].u.i < 0 || it[1].u.i > UINT16_MAX)
        return CU_ERR(cx, "tid offset %" PRId64 " out of range 0..65535", it[1].u.i);
    p = cu_reserve(cx, out, 6);
    if (!p)
        return -1;
    pgd_put_u32(p, (uint32_t)it[0].u.i);
    pgd_put_u16(p + 4, (uint16_t)it[1].u.i);
    return 6;
}

/* ---- pg_lsn: uint64 as "X/X" ------------------------------------------------- */

/* "X/X", 1..8 hex digits each side; 0 or -1. */
static int lsn_parse(const char *s, size_t n, uint64_t *out)
{
    uint32_t part[2] = {0, 0};
    size_t i = 0, k, nd;

    for (k = 0; k < 2; k++) {
        for (nd = 0; i < n && cu_hex_val(s[i]) >= 0; i++, nd++) {
            if (nd == 8)
                return -1;
            part[k] = part[k] << 4 | (uint32_t)cu_hex_val(s[i]);
        }
        if (nd == 0 || (k == 0 && (i == n || s[i++] != '/')))
            return -1;
    }
    if (i != n)
        return -1;
    *out = (uint64_t)part[0] << 32 | part[1];
    return 0;
}

static pgd_obj *lsn_build(const pgd_cx *cx, uint64_t x)
{
    char text[24];
    int n = snprintf(text, sizeof text, "%X/%X", (unsigned)(x >> 32), (unsigned)(uint32_t)x);

    return cx->host->make_str(cx->h, text, (size_t)n);
}

static pgd_obj *lsn_decode(const pgd_cx *cx, const char *data, size_t len)
{
    if (len != 8)
        return cu_bad_len(cx, "pg_lsn", len, 8);
    return lsn_build(cx, pgd_get_u64(data));
}

static pgd_obj *lsn_decode_text(const pgd_cx *cx, const char *data, size_t len)
{
    uint64_t x;

    if (lsn_parse(data, len, &x) < 0)
        return CU_FAIL(cx, "invalid pg_lsn text \"%.*s\"", SHOWN(len), data);
    return lsn_build(cx, x);
}

static int lsn_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    uint64_t x;
    char *p;

    switch (v->kind) {
    case PGD_V_STR:
        if (lsn_parse(v->u.s.p, v->u.s.n, &x) < 0)
            return CU_ERR(cx, "invalid pg_lsn text \"%.*s\": expected two hex numbers of up "
                              "to 8 digits separated by '/', such as 16/B374D848",
                          SHOWN(v->u.s.n), v->u.s.p);
        break;
    case PGD_V_INT:
    case PGD_V_DECIMAL: /* an int beyond int64 */
        if (uint_param(cx, v, UINT64_MAX, &x) < 0)
            return -1;
        break;
    default:
        return cu_wrong_kind(cx, v, "pg_lsn");
    }
    p = cu_reserve(cx, out, 8);
    if (!p)
        return -1;
    pgd_put_u64(p, x);
    return 8;
}

/* reg*: binary only (their text is a name, see the top) */
#define REG(name, oid, arr)                                                              \
    {(name), (oid), (arr), PGD_CODEC_BINARY, 0, u32_encode, u32_decode, NULL, {0}}
#define BOTH (PGD_CODEC_BINARY | PGD_CODEC_TEXT)

static const pgd_codec codecs[] = {
    REG("regproc", 24, 1008),
    REG("regprocedure", 2202, 2207),
    REG("regoper", 2203, 2208),
    REG("regoperator", 2204, 2209),
    REG("regclass", 2205, 2210),
    REG("regtype", 2206, 2211),
    REG("regconfig", 3734, 3735),
    REG("regdictionary", 3769, 3770),
    REG("regnamespace", 4089, 4090),
    REG("regrole", 4096, 4097),
    REG("regcollation", 4191, 4192),
    {"xid", 28, 1011, BOTH, 0, u32_encode, u32_decode, u32_decode_text, {0}},
    {"cid", 29, 1012, BOTH, 0, u32_encode, u32_decode, u32_decode_text, {0}},
    {"xid8", 5069, 271, BOTH, 0, xid8_encode, xid8_decode, xid8_decode_text, {0}},
    {"tid", 27, 1010, BOTH | PGD_CODEC_COMPOUND, 0, tid_encode, tid_decode, tid_decode_text,
     {0}},
    {"pg_lsn", 3220, 3221, BOTH, 0, lsn_encode, lsn_decode, lsn_decode_text, {0}},
};

static const pgd_codec_module module = PGD_CODEC_MODULE_INIT("sysid", "1.0.0", codecs);

PGD_CODEC_EXPORT const pgd_codec_module *pgd_codec_module_v1(void)
{
    return &module;
}
