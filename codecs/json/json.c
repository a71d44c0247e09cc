/*
 * json.c - JSON codecs: json, jsonb.
 *
 * Server functions: json_recv/json_send, jsonb_recv/jsonb_send (binary);
 * json_in/json_out, jsonb_in/jsonb_out (text).
 *
 * Binary wire layout: json is the JSON text itself (UTF-8, no length
 * prefix).  jsonb is one version byte, currently always 1, followed by the
 * JSON text; any other version is refused (a future format we cannot read).
 * Text form: the JSON text (jsonb's is normalized by the server: keys sorted
 * and deduplicated, ", " and ": " separators).
 * Special values: the JSON literal null is a value, not SQL NULL.
 *
 * Decoding hands the text to the host's make_json, which parses it.
 * Encoding accepts PGD_V_JSON (serialized JSON text) and PGD_V_STR (taken as
 * JSON text as-is); the server validates it.  It also accepts PGD_V_LIST (a
 * Python list sent to a json/jsonb parameter) and PGD_V_TUPLE alike, written
 * as a JSON array, and PGD_V_MAP (a dict) written as a JSON object:
 *   LIST, TUPLE -> [a,b], nested lists nested
 *   MAP -> {"k":v}, keys that are not strings as json.dumps writes them
 *     (1 -> "1", 1.5 -> "1.5", True -> "true", None -> "null") (at most JSON_MAX_DEPTH deep)
 *   INT -> its decimal text; DECIMAL -> a JSON number ("+1.50E3" -> 1.50E3,
 *     ".5" -> 0.5, "007" -> 7); NaN and infinities are refused
 *   FLOAT -> the shortest text that reads back as the same double
 *     (Python's repr, as json.dumps writes it); NaN and infinities refused
 *   STR -> a JSON string: '"' and '\\' escaped, \n and \t as such, other
 *     control characters as \u00XX, everything else as is (UTF-8)
 *   BOOL -> true/false; NULL -> null
 *   JSON -> its text verbatim (a dict inside the list arrives already
 *     serialized by the host)
 * Any other kind is refused with a message naming it.
 */
#include <inttypes.h>
#include <math.h>

#include "codec_util.h"

#define JSONB_VERSION 1
#define JSON_MAX_DEPTH 256

static int json_text_input(const pgd_cx *cx, const pgd_value *v, const char *type)
{
    if (v->kind != PGD_V_JSON && v->kind != PGD_V_STR)
        return cu_wrong_kind(cx, v, type);
    if (v->u.s.n > INT32_MAX - 1)
        return CU_ERR(cx, "%s value of %zu bytes is too long", type, v->u.s.n);
    return 0;
}

/* ---- list -> JSON text ------------------------------------------------- */

static int put_lit(const pgd_cx *cx, pgd_wbuf *out, const char *lit)
{
    return cu_put_bytes(cx, out, lit, strlen(lit));
}

/* A JSON string literal for UTF-8 text p[0..n). */
static int put_json_string(const pgd_cx *cx, pgd_wbuf *out, const char *p, size_t n)
{
    size_t i, run = 0; /* p[run..i) is pending, needs no escaping */

    if (put_lit(cx, out, "\"") < 0)
        return -1;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        char esc[8];

        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if (cu_put_bytes(cx, out, p + run, i - run) < 0)
            return -1;
        run = i + 1;
        if (c == '"' || c == '\\')
            snprintf(esc, sizeof esc, "\\%c", c);
        else if (c == '\n')
            snprintf(esc, sizeof esc, "\\n");
        else if (c == '\t')
            snprintf(esc, sizeof esc, "\\t");
        else
            snprintf(esc, sizeof esc, "\\u%04x", c);
        if (put_lit(cx, out, esc) < 0)
            return -1;
    }
    if (cu_put_bytes(cx, out, p + run, n - run) < 0)
        return -1;
    return put_lit(cx, out, "\"");
}

/*
 * Decimal text [+-]digits[.digits][(e|E)[+-]digits] (either digit run may
 * be empty, not both) as a JSON number: no '+', no leading zeros, no bare
 * '.'.  The value itself is not changed (1.50 stays 1.50).
 */
static int put_json_decimal(const pgd_cx *cx, pgd_wbuf *out, const char *p, size_t n)
{
    cu_decimal d;
    size_t skip = 0;
    int shown = n > 40 ? 40 : (int)n;

    if (cu_scan_decimal(p, n, &d) < 0) {
        size_t k = n && (p[0] == '+' || p[0] == '-');

        /* NaN, Infinity, sNaN, ...: a letter where the digits should be */
        if (k < n && ((p[k] | 0x20) == 'n' || (p[k] | 0x20) == 'i' || (p[k] | 0x20) == 's'))
            return CU_ERR(cx, "decimal %.*s is not valid JSON", shown, p);
        return CU_ERR(cx, "invalid decimal text \"%.*s\"%s for JSON", shown, p,
                      shown < (int)n ? "..." : "");
    }
    while (skip + 1 < d.int_len && p[d.int_at + skip] == '0')
        skip++; /* "007" -> "7", "00" -> "0" */
    if (d.sign == '-' && put_lit(cx, out, "-") < 0)
        return -1;
    if (d.int_len == 0) { /* ".5" */
        if (put_lit(cx, out, "0") < 0)
            return -1;
    } else if (cu_put_bytes(cx, out, p + d.int_at + skip, d.int_len - skip) < 0) {
        return -1;
    }
    if (d.frac_len) { /* "5." has none */
        if (put_lit(cx, out, ".") < 0 || cu_put_bytes(cx, out, p + d.frac_at, d.frac_len) < 0)
            return -1;
    }
    return cu_put_bytes(cx, out, p + d.exp_at, n - d.exp_at) < 0 ? -1 : 0;
}

/* A JSON object key: strings as they are; ints, floats, booleans and None
 * as their JSON text in quotes (what json.dumps does with such keys). */
static int put_json_key(const pgd_cx *cx, pgd_wbuf *out, const pgd_value *k)
{
    char buf[48];

    switch (k->kind) {
    case PGD_V_STR:
        return put_json_string(cx, out, k->u.s.p, k->u.s.n);
    case PGD_V_INT:
        snprintf(buf, sizeof buf, "%" PRId64, k->u.i);
        break;
    case PGD_V_FLOAT:
        if (!isfinite(k->u.f))
            return CU_ERR(cx, "float key %s is not valid JSON",
                          isnan(k->u.f) ? "nan" : k->u.f > 0 ? "inf" : "-inf");
        cu_float_repr(k->u.f, buf, sizeof buf);
        break;
    case PGD_V_BOOL:
        snprintf(buf, sizeof buf, "%s", k->u.b ? "true" : "false");
        break;
    case PGD_V_NULL:
        snprintf(buf, sizeof buf, "null");
        break;
    default:
        return CU_ERR(cx, "JSON object keys must be str, int, float, bool or None, not %s",
                      cu_kind_name(k->kind));
    }
    return put_json_string(cx, out, buf, strlen(buf));
}

static int put_json_value(const pgd_cx *cx, pgd_wbuf *out, const pgd_value *v, int depth)
{
    char buf[40];
    size_t i;

    switch (v->kind) {
    case PGD_V_NULL:
        return put_lit(cx, out, "null");
    case PGD_V_BOOL:
        return put_lit(cx, out, v->u.b ? "true" : "false");
    case PGD_V_INT:
        snprintf(buf, sizeof buf, "%" PRId64, v->u.i);
        return put_lit(cx, out, buf);
    case PGD_V_FLOAT:
        if (!isfinite(v->u.f))
            return CU_ERR(cx, "float %s is not valid JSON",
                          isnan(v->u.f) ? "nan" : v->u.f > 0 ? "inf" : "-inf");
        cu_float_repr(v->u.f, buf, sizeof buf);
        return put_lit(cx, out, buf);
    case PGD_V_DECIMAL:
        return put_json_decimal(cx, out, v->u.s.p, v->u.s.n);
    case PGD_V_STR:
        return put_json_string(cx, out, v->u.s.p, v->u.s.n);
    case PGD_V_JSON:
        if (v->u.s.n == 0)
            return CU_ERR(cx, "empty JSON text in a list");
        return cu_put_bytes(cx, out, v->u.s.p, v->u.s.n);
    case PGD_V_MAP:
        if (depth >= JSON_MAX_DEPTH)
            return CU_ERR(cx, "dict nested more than %d deep for JSON", JSON_MAX_DEPTH);
        if (put_lit(cx, out, "{") < 0)
            return -1;
        for (i = 0; i + 1 < v->u.list.n; i += 2)
            if ((i && put_lit(cx, out, ",") < 0) ||
                put_json_key(cx, out, &v->u.list.items[i]) < 0 || put_lit(cx, out, ":") < 0 ||
                put_json_value(cx, out, &v->u.list.items[i + 1], depth + 1) < 0)
                return -1;
        return put_lit(cx, out, "}");
    case PGD_V_LIST:
    case PGD_V_TUPLE:
        if (depth >= JSON_MAX_DEPTH)
            return CU_ERR(cx, "list nested more than %d deep for JSON", JSON_MAX_DEPTH);
        if (put_lit(cx, out, "[") < 0)
            return -1;
        for (i = 0; i < v->u.list.n; i++)
            if ((i && put_lit(cx, out, ",") < 0) ||
                put_json_value(cx, out, &v->u.list.items[i], depth + 1) < 0)
                return -1;
        return put_lit(cx, out, "]");
    default:
        return CU_ERR(cx, "cannot encode a %s value as JSON", cu_kind_name(v->kind));
    }
}

/* json and jsonb: [version byte] then the JSON text. */
static int json_encode_common(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out,
                              const char *type, int jsonb)
{
    size_t start = cx->host->tell(out), total;
    char version = JSONB_VERSION;
    int seq = v->kind == PGD_V_LIST || v->kind == PGD_V_TUPLE || v->kind == PGD_V_MAP;

    if (!seq && json_text_input(cx, v, type) < 0)
        return -1;
    if (jsonb && cu_put_bytes(cx, out, &version, 1) < 0)
        return -1;
    if (seq) {
        if (put_json_value(cx, out, v, 0) < 0)
            return -1;
    } else if (cu_put_bytes(cx, out, v->u.s.p, v->u.s.n) < 0) {
        return -1;
    }
    total = cx->host->tell(out) - start;
    if (total > INT32_MAX)
        return CU_ERR(cx, "%s value of %zu bytes is too long", type, total);
    return (int)total;
}

static int json_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    return json_encode_common(cx, v, out, "json", 0);
}

static int jsonb_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    return json_encode_common(cx, v, out, "jsonb", 1);
}

static pgd_obj *json_decode(const pgd_cx *cx, const char *data, size_t len)
{
    return cx->host->make_json(cx->h, data, len);
}

static pgd_obj *jsonb_decode(const pgd_cx *cx, const char *data, size_t len)
{
    if (len < 1)
        return CU_FAIL(cx, "invalid jsonb field: empty (no version byte)");
    if (data[0] != JSONB_VERSION)
        return CU_FAIL(cx, "unsupported jsonb version %u (expected %d)",
                       (unsigned)(unsigned char)data[0], JSONB_VERSION);
    return cx->host->make_json(cx->h, data + 1, len - 1);
}

#define BOTH (PGD_CODEC_BINARY | PGD_CODEC_TEXT)

static const pgd_codec codecs[] = {
    {"json", 114, 199, BOTH, 0, json_encode, json_decode, json_decode, {0}},
    {"jsonb", 3802, 3807, BOTH, 0, jsonb_encode, jsonb_decode, json_decode, {0}},
};

static const pgd_codec_module module = PGD_CODEC_MODULE_INIT("json", "1.0.0", codecs);

PGD_CODEC_EXPORT const pgd_codec_module *pgd_codec_module_v1(void)
{
    return &module;
}
