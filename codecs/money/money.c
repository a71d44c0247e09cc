/*
 * money.c - the money codec.
 *
 * Server functions: cash_recv/cash_send (binary), cash_in/cash_out (text).
 *
 * Binary wire layout: a big-endian int64, the amount in the currency's
 * smallest unit.  How many fraction digits that unit has comes from the
 * server's lc_monetary (frac_digits of its locale); this codec assumes 2
 * (cents), which holds for C/POSIX and the usual locales (en_US, de_DE,
 * fr_FR, ...) but not for, say, ja_JP (0) or ar_BH (3): with such a
 * setting values are off by a power of ten.  Range: -92233720368547758.08
 * .. 92233720368547758.07.  Special values: none (no NaN, no infinity).
 *
 * Decoded to a Decimal with exactly 2 fraction digits (make_decimal:
 * "12.35", "-0.01", "0.00").
 *
 * Text form (cash_out) depends on lc_monetary: "$1,234.56" and "-$1,234.56"
 * in the C locale.  decode_text reads only that shape: an optional '-', an
 * optional '$', digits with optional ',' group separators, '.', 2 digits;
 * other locales' text is refused with a message naming lc_monetary.
 *
 * Encoding accepts:
 *  - PGD_V_INT: whole currency units (5 -> 5.00), range-checked.
 *  - PGD_V_DECIMAL and PGD_V_STR: decimal text "[+-]digits[.digits][e[+-]n]"
 *    (no currency symbol, no group separators, no blanks).  Exact only: a
 *    value that needs more than 2 fraction digits ("1.005") is refused
 *    rather than rounded (cash_in would round it); trailing zeros beyond
 *    them are fine ("1.500").  NaN and infinities are refused.
 * Floats are refused (binary fractions are not exact cents).
 */
#include <inttypes.h>

#include "codec_util.h"

#define SHOWN(n) ((int)((n) > 60 ? 60 : (n)))
#define MONEY_UNITS_MAX (INT64_MAX / 100) /* whole units that fit */

/* ---- decode ------------------------------------------------------------ */

static pgd_obj *money_build(const pgd_cx *cx, int64_t cents)
{
    char text[32];
    uint64_t mag = cents < 0 ? (uint64_t)0 - (uint64_t)cents : (uint64_t)cents;
    int n = snprintf(text, sizeof text, "%s%" PRIu64 ".%02u", cents < 0 ? "-" : "", mag / 100,
                     (unsigned)(mag % 100));

    return cx->host->make_decimal(cx->h, text, (size_t)n);
}

static pgd_obj *money_decode(const pgd_cx *cx, const char *data, size_t len)
{
    if (len != 8)
        return cu_bad_len(cx, "money", len, 8);
    return money_build(cx, pgd_get_i64(data));
}

/* "-$1,234.56" (lc_monetary C): see the comment at the top. */
static pgd_obj *money_decode_text(const pgd_cx *cx, const char *data, size_t len)
{
    size_t i = 0, digits = 0, group = 0;
    int neg = 0, grouped = 0;
    uint64_t acc = 0;

    if (i < len && data[i] == '-')
        neg = 1, i++;
    if (i < len && data[i] == '$')
        i++;
    for (; i < len && data[i] != '.'; i++) {
        if (data[i] == ',') {
            /* groups of 3 after the first, as cash_out writes them */
            if (group == 0 || group > 3 || (grouped && group != 3))
                goto bad;
            grouped = 1;
            group = 0;
            continue;
        }
        if (!cu_is_digit(data[i]) || acc > (UINT64_MAX - 9) / 10)
            goto bad;
        acc = acc * 10 + (unsigned)(data[i] - '0');
        digits++;
        group++;
    }
    if (digits == 0 || (grouped && group != 3) || len - i != 3 || !cu_is_digit(data[i + 1]) ||
        !cu_is_digit(data[i + 2]) || acc > (uint64_t)MONEY_UNITS_MAX + 1)
        goto bad;
    acc = acc * 100 + (unsigned)(data[i + 1] - '0') * 10 + (unsigned)(data[i + 2] - '0');
    if (acc > (uint64_t)INT64_MAX + neg)
        goto bad;
    return money_build(cx, neg ? (int64_t)((uint64_t)0 - acc) : (int64_t)acc);

bad:
    return CU_FAIL(cx, "cannot read money text \"%.*s\": only the form of lc_monetary C "
                       "(-$1,234.56) is understood", SHOWN(len), data);
}

/* ---- encode ------------------------------------------------------------ */

/*
 * Decimal text -> cents, exactly.  0, or -1 with the message recorded.
 * The value is digits * 10^-scale, scale = (fraction digits) - exponent;
 * cents = digits * 10^(2 - scale).
 */
static int money_parse(const pgd_cx *cx, const char *p, size_t n, int64_t *out)
{
    cu_decimal d;
    int64_t exp = 0, scale, drop;
    uint64_t acc = 0, lim;
    size_t i, ndig, k;

    if (cu_scan_decimal(p, n, &d) < 0) {
        size_t at = n && (p[0] == '-' || p[0] == '+');

        if (at < n && (p[at] == 'N' || p[at] == 'n' || p[at] == 'I' || p[at] == 'i'))
            return CU_ERR(cx, "money has no NaN or infinity (\"%.*s\")", SHOWN(n), p);
        return CU_ERR(cx, "invalid money text \"%.*s\": expected a decimal number such as "
                          "1234.56 (no currency symbol or separators)", SHOWN(n), p);
    }
    if (d.exp_at < n) {
        int eneg;

        i = d.exp_at + 1;
        eneg = p[i] == '-';
        if (p[i] == '+' || p[i] == '-')
            i++;
        for (; i < n; i++)
            if (exp < 1000000) /* beyond any digit count that can matter */
                exp = exp * 10 + (p[i] - '0');
        if (eneg)
            exp = -exp;
    }
    lim = d.sign == '-' ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    ndig = d.int_len + d.frac_len;
    scale = (int64_t)d.frac_len - exp;
    drop = scale > 2 ? scale - 2 : 0; /* trailing digits below a cent */
    for (k = 0; k < ndig; k++) {
        char c = k < d.int_len ? p[d.int_at + k] : p[d.frac_at + k - d.int_len];

        if ((int64_t)(ndig - k) <= drop) {
            if (c != '0')
                return CU_ERR(cx, "money value \"%.*s\" has more than 2 fraction digits "
                                  "(it is not rounded)", SHOWN(n), p);
            continue;
        }
        if (acc > (lim - (unsigned)(c - '0')) / 10)
            goto range;
        acc = acc * 10 + (unsigned)(c - '0');
    }
    for (; acc && scale < 2; scale++) {
        if (acc > lim / 10)
            goto range;
        acc *= 10;
    }
    *out = d.sign == '-' ? (int64_t)((uint64_t)0 - acc) : (int64_t)acc;
    return 0;

range:
    return CU_ERR(cx, "money value \"%.*s\" out of range", SHOWN(n), p);
}

static int money_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    int64_t cents = 0;
    char *p;

    switch (v->kind) {
    case PGD_V_INT:
        if (v->u.i > MONEY_UNITS_MAX || v->u.i < -MONEY_UNITS_MAX)
            return CU_ERR(cx, "money value %" PRId64 " out of range", v->u.i);
        cents = v->u.i * 100;
        break;
    case PGD_V_DECIMAL:
    case PGD_V_STR:
        if (money_parse(cx, v->u.s.p, v->u.s.n, &cents) < 0)
            return -1;
        break;
    default:
        return cu_wrong_kind(cx, v, "money");
    }
    p = cu_reserve(cx, out, 8);
    if (!p)
        return -1;
    pgd_put_i64(p, cents);
    return 8;
}

static const pgd_codec codecs[] = {
    {"money", 790, 791, PGD_CODEC_BINARY | PGD_CODEC_TEXT, 0, money_encode, money_decode,
     money_decode_text, {0}},
};

static const pgd_codec_module module = PGD_CODEC_MODULE_INIT("money", "1.0.0", codecs);

PGD_CODEC_EXPORT const pgd_codec_module *pgd_codec_module_v1(void)
{
    return &module;
}
