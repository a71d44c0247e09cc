/*
 * numeric.c - the arbitrary-precision decimal codec.
 *
 * Server functions: numeric_recv/numeric_send (binary),
 * numeric_in/numeric_out (text).
 *
 * Binary wire layout (all big-endian):
 *   int16  ndigits   number of base-10000 digits that follow
 *   int16  weight    power of 10000 of the first digit
 *   uint16 sign      0x0000 positive, 0x4000 negative, 0xC000 NaN,
 *                    0xD000 +Infinity, 0xF000 -Infinity (PostgreSQL 14+)
 *   uint16 dscale    digits shown after the decimal point (0..0x3FFF)
 *   int16  digits[ndigits], each 0..9999
 * value = sum(digits[i] * 10000^(weight - i)).  The server sends it
 * normalized: no leading or trailing zero digits, zero as ndigits = 0,
 * weight = 0, positive sign.  Special values have ndigits = 0.
 * Text form: "-?digits[.digits]" with exactly dscale fraction digits, or
 * "NaN", "Infinity", "-Infinity".
 *
 * Decoding builds that canonical text (leading/trailing zero digits on the
 * wire are tolerated; a negative zero, also one that dscale cuts to zero,
 * prints as zero, like the server) and hands it to the host's make_decimal.
 *
 * Encoding accepts:
 *  - PGD_V_DECIMAL text: [+-]digits[.digits][(e|E)[+-]digits], ".5", "5.",
 *    "NaN" (also "-NaN": PostgreSQL's NaN has no sign), "Infinity",
 *    "-Infinity" (also "inf"/"-inf" spellings, case-insensitive).  "sNaN" is
 *    refused.  dscale is the number of fraction digits after applying the
 *    exponent (at least 0), as numeric_in computes it: "1.5E+5" -> 150000,
 *    "-0.00" -> 0.00.
 *  - PGD_V_INT: its decimal text.
 *  - PGD_V_FLOAT: the text Python's repr() prints, i.e. the shortest
 *    decimal that reads back as the same double (not "%.17g"), so 0.1
 *    encodes as 0.1 and not 0.10000000000000001, and 2.0 as 2.0 (dscale 1).
 *    NaN and infinities map to numeric's.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "codec_util.h"

#define NUMERIC_POS 0x0000
#define NUMERIC_NEG 0x4000
#define NUMERIC_NAN 0xC000
#define NUMERIC_PINF 0xD000
#define NUMERIC_NINF 0xF000
#define NUMERIC_DSCALE_MAX 0x3FFF
#define NBASE 10000
#define DEC_DIGITS 4

/* ---- decode ------------------------------------------------------------ */

/* Append the 4 decimal digits of group g (0 <= g < NBASE) to p. */
static char *put_group(char *p, int g)
{
    p[0] = (char)('0' + g / 1000);
    p[1] = (char)('0' + g / 100 % 10);
    p[2] = (char)('0' + g / 10 % 10);
    p[3] = (char)('0' + g % 10);
    return p + 4;
}

static pgd_obj *numeric_decode(const pgd_cx *cx, const char *data, size_t len)
{
    char stackbuf[512];
    char *buf = NULL, *p;
    const char *start;
    pgd_obj *o = NULL;
    size_t ndigits, first, last, need, i;
    long weight, w;
    unsigned sign, dscale;

    if (len < 8)
        return CU_FAIL(cx, "invalid numeric field: %zu bytes, header needs 8", len);
    ndigits = pgd_get_u16(data);
    weight = pgd_get_i16(data + 2);
    sign = pgd_get_u16(data + 4);
    dscale = pgd_get_u16(data + 6);
    if (len != 8 + 2 * ndigits)
        return CU_FAIL(cx, "invalid numeric field: %zu bytes for %zu digits", len, ndigits);
    if (sign == NUMERIC_NAN || sign == NUMERIC_PINF || sign == NUMERIC_NINF) {
        const char *t = sign == NUMERIC_NAN ? "NaN" : sign == NUMERIC_PINF ? "Infinity"
                                                                           : "-Infinity";
        if (ndigits)
            return CU_FAIL(cx, "invalid numeric field: special value with digits");
        return cx->host->make_decimal(cx->h, t, strlen(t));
    }
    if (sign != NUMERIC_POS && sign != NUMERIC_NEG)
        return CU_FAIL(cx, "invalid numeric sign 0x%04x", sign);
    if (dscale > NUMERIC_DSCALE_MAX)
        return CU_FAIL(cx, "invalid numeric dscale %u", dscale);
    for (i = 0; i < ndigits; i++)
        if (pgd_get_u16(data + 8 + 2 * i) >= NBASE)
            return CU_FAIL(cx, "invalid numeric digit %u", pgd_get_u16(data + 8 + 2 * i));

    /* Strip leading/trailing zero digits: [first, last) are significant. */
    first = 0;
    last = ndigits;
    while (first < last && pgd_get_u16(data + 8 + 2 * first) == 0)
        first++;
    while (last > first && pgd_get_u16(data + 8 + 2 * (last - 1)) == 0)
        last--;
    if (first == last) {
        sign = NUMERIC_POS;
        weight = 0;
    } else {
        weight -= (long)first;
    }
#define DIGIT(k) /* k-th significant group, zero outside the stored ones */             \
    ((k) >= 0 && (size_t)(k) < last - first ? (int)pgd_get_u16(data + 8 + 2 * (first + (size_t)(k))) \
                                            : 0)

    /* sign + integer groups + '.' + dscale (+ one group of slack). */
    need = 1 + (weight >= 0 ? (size_t)(weight + 1) * DEC_DIGITS : 1) + 1 + dscale + DEC_DIGITS;
    buf = need <= sizeof stackbuf ? stackbuf : malloc(need);
    if (!buf)
        return CU_FAIL(cx, "out of memory decoding numeric");
    p = buf;
    if (sign == NUMERIC_NEG)
        *p++ = '-';
    if (weight < 0) {
        *p++ = '0';
    } else {
        for (w = 0; w <= weight; w++) {
            int g = DIGIT(w);

            if (w == 0) { /* no leading zeros in the first group */
                char tmp[4];
                int k = 0;

                put_group(tmp, g);
                while (k < 3 && tmp[k] == '0')
                    k++;
                memcpy(p, tmp + k, (size_t)(4 - k));
                p += 4 - k;
            } else {
                p = put_group(p, g);
            }
        }
    }
    if (dscale > 0) {
        char *frac;

        *p++ = '.';
        frac = p;
        /* groups weight+1, weight+2, ... are the fraction: group index
         * w - weight - 1 ... relative to the first significant group. */
        for (w = weight + 1; p - frac < (long)dscale; w++)
            p = put_group(p, DIGIT(w));
        p = frac + dscale; /* cut to dscale digits (rounding is the sender's) */
    }
#undef DIGIT
    /* digits that dscale cuts away can leave "-0.00": zero, unsigned, as
     * numeric_recv's trunc_var makes it */
    start = buf;
    if (sign == NUMERIC_NEG) {
        const char *q = buf + 1;

        while (q < p && (*q == '0' || *q == '.'))
            q++;
        if (q == p)
            start++;
    }
    o = cx->host->make_decimal(cx->h, start, (size_t)(p - start));
    if (buf != stackbuf)
        free(buf);
    return o;
}

/* Text form from the server: validate it is canonical and pass it on. */
static pgd_obj *numeric_decode_text(const pgd_cx *cx, const char *data, size_t len)
{
    size_t i = 0, start;

    if ((len == 3 && memcmp(data, "NaN", 3) == 0) ||
        (len == 8 && memcmp(data, "Infinity", 8) == 0) ||
        (len == 9 && memcmp(data, "-Infinity", 9) == 0))
        return cx->host->make_decimal(cx->h, data, len);
    if (i < len && data[i] == '-')
        i++;
    start = i;
    while (i < len && cu_is_digit(data[i]))
        i++;
    if (i == start || (i - start > 1 && data[start] == '0'))
        goto error;
    if (i < len && data[i] == '.') {
        start = ++i;
        while (i < len && cu_is_digit(data[i]))
            i++;
        if (i == start)
            goto error;
    }
    if (i != len)
        goto error;
    /* "-0.00" is zero, unsigned, as numeric_in reads it */
    for (i = 1; data[0] == '-' && i < len && (data[i] == '0' || data[i] == '.'); i++)
        ;
    if (data[0] == '-' && i == len)
        return cx->host->make_decimal(cx->h, data + 1, len - 1);
    return cx->host->make_decimal(cx->h, data, len);

error:
    return CU_FAIL(cx, "invalid numeric text \"%.*s\"", (int)(len > 40 ? 40 : len), data);
}

/* ---- encode ------------------------------------------------------------ */

static int ieq(const char *p, size_t n, const char *lit)
{
    size_t i;

    if (n != strlen(lit))
        return 0;
    for (i = 0; i < n; i++) {
        char c = p[i];

        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != lit[i])
            return 0;
    }
    return 1;
}

static int put_special(const pgd_cx *cx, pgd_wbuf *out, unsigned sign)
{
    char *p = cu_reserve(cx, out, 8);

    if (!p)
        return -1;
    pgd_put_u16(p, 0);
    pgd_put_i16(p + 2, 0);
    pgd_put_u16(p + 4, (uint16_t)sign);
    pgd_put_u16(p + 6, 0);
    return 8;
}

static long floor_div4(long x)
{
    return x >= 0 ? x / 4 : -((-x + 3) / 4);
}

/*
 * Encode decimal text.  The significant digits (leading zeros dropped) are
 * s[0..n) with the decimal point `point` digits from the left of the first
 * one (may be negative or past the end).  Digit j has power of ten
 * point - 1 - j; base-10000 groups are aligned on powers that are
 * multiples of 4.
 */
static int numeric_encode_text(const pgd_cx *cx, const char *txt, size_t len, pgd_wbuf *out)
{
    cu_decimal d;
    size_t nint, nfrac, lead = 0, ndig, nsig;
    const char *intp, *fracp;
    int neg = 0;
    long exp10 = 0, point, dscale, weight, lastw, ngroups, g;
    char *p;
    int shown = len > 40 ? 40 : (int)len;

    if (ieq(txt, len, "nan") || ieq(txt, len, "-nan") || ieq(txt, len, "+nan"))
        return put_special(cx, out, NUMERIC_NAN);
    if (ieq(txt, len, "infinity") || ieq(txt, len, "+infinity") || ieq(txt, len, "inf") ||
        ieq(txt, len, "+inf"))
        return put_special(cx, out, NUMERIC_PINF);
    if (ieq(txt, len, "-infinity") || ieq(txt, len, "-inf"))
        return put_special(cx, out, NUMERIC_NINF);
    if (ieq(txt, len, "snan") || ieq(txt, len, "-snan"))
        return CU_ERR(cx, "signaling NaN cannot be stored in numeric");

    if (cu_scan_decimal(txt, len, &d) < 0)
        goto syntax;
    neg = d.sign == '-';
    intp = txt + d.int_at;
    nint = d.int_len;
    fracp = txt + d.frac_at;
    nfrac = d.frac_len;
    if (d.exp_at < len) {
        size_t i = d.exp_at + 1;
        int eneg = 0;

        if (txt[i] == '-' || txt[i] == '+')
            eneg = txt[i++] == '-';
        for (; i < len; i++)
            if (exp10 < 10000000)
                exp10 = exp10 * 10 + (txt[i] - '0');
        if (eneg)
            exp10 = -exp10;
    }
    if (nint + nfrac > 1000000)
        return CU_ERR(cx, "numeric text of %zu digits is too long", nint + nfrac);

    dscale = (long)nfrac - exp10;
    if (dscale < 0)
        dscale = 0;
    if (dscale > NUMERIC_DSCALE_MAX)
        return CU_ERR(cx, "value %.*s%s out of range for numeric (scale %ld > %d)", shown,
                      txt, shown < (int)len ? "..." : "", dscale, NUMERIC_DSCALE_MAX);

    /* Count leading zeros across the integer and fraction digits. */
    ndig = nint + nfrac;
#define DIG(j) ((j) < nint ? intp[(j)] : fracp[(j) - nint]) /* j-th written digit */
    while (lead < ndig && DIG(lead) == '0')
        lead++;
    nsig = ndig - lead;
    while (nsig > 0 && DIG(lead + nsig - 1) == '0')
        nsig--; /* trailing zeros carry no value (dscale keeps the scale) */
    if (nsig == 0) {
        p = cu_reserve(cx, out, 8);
        if (!p)
            return -1;
        pgd_put_u16(p, 0);
        pgd_put_i16(p + 2, 0);
        pgd_put_u16(p + 4, NUMERIC_POS);
        pgd_put_u16(p + 6, (uint16_t)dscale);
        return 8;
    }
    point = (long)nint - (long)lead + exp10;
    weight = floor_div4(point - 1);
    lastw = floor_div4(point - 1 - (long)(nsig - 1));
    if (weight > INT16_MAX || lastw < INT16_MIN)
        return CU_ERR(cx, "value %.*s%s out of range for numeric", shown, txt,
                      shown < (int)len ? "..." : "");
    ngroups = weight - lastw + 1;
    p = cu_reserve(cx, out, 8 + 2 * (size_t)ngroups);
    if (!p)
        return -1;
    pgd_put_u16(p, (uint16_t)ngroups);
    pgd_put_i16(p + 2, (int16_t)weight);
    pgd_put_u16(p + 4, neg ? NUMERIC_NEG : NUMERIC_POS);
    pgd_put_u16(p + 6, (uint16_t)dscale);
    for (g = 0; g < ngroups; g++) {
        /* group g covers powers 4*(weight-g) .. 4*(weight-g)+3 */
        long base = 4 * (weight - g);
        int val = 0, k;

        for (k = 3; k >= 0; k--) {
            long j = point - 1 - (base + k); /* digit index among significant */

            val *= 10;
            if (j >= 0 && (size_t)j < nsig)
                val += DIG(lead + (size_t)j) - '0';
        }
        pgd_put_u16(p + 8 + 2 * g, (uint16_t)val);
    }
#undef DIG
    return (int)(8 + 2 * ngroups);

syntax:
    return CU_ERR(cx, "invalid decimal text \"%.*s\"%s for numeric", shown, txt,
                  shown < (int)len ? "..." : "");
}

static int numeric_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    char buf[40];
    int n;

    switch (v->kind) {
    case PGD_V_DECIMAL:
        return numeric_encode_text(cx, v->u.s.p, v->u.s.n, out);
    case PGD_V_INT:
        n = snprintf(buf, sizeof buf, "%" PRId64, v->u.i);
        return numeric_encode_text(cx, buf, (size_t)n, out);
    case PGD_V_FLOAT:
        if (isnan(v->u.f))
            return put_special(cx, out, NUMERIC_NAN);
        if (isinf(v->u.f))
            return put_special(cx, out, v->u.f > 0 ? NUMERIC_PINF : NUMERIC_NINF);
        n = cu_float_repr(v->u.f, buf, sizeof buf);
        return numeric_encode_text(cx, buf, (size_t)n, out);
    default:
        return cu_wrong_kind(cx, v, "numeric");
    }
}

static const pgd_codec codecs[] = {
    {"numeric", 1700, 1231, PGD_CODEC_BINARY | PGD_CODEC_TEXT, 0, numeric_encode,
     numeric_decode, numeric_decode_text, {0}},
};

static const pgd_codec_module module = PGD_CODEC_MODULE_INIT("numeric", "1.0.0", codecs);

PGD_CODEC_EXPORT const pgd_codec_module *pgd_codec_module_v1(void)
{
    return &module;
}
