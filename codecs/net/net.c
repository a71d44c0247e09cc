/*
 * net.c - network address codecs: inet, cidr, macaddr, macaddr8.
 *
 * Server functions: inet_recv/inet_send and cidr_recv/cidr_send (both via
 * network_recv/network_send), macaddr_recv/macaddr_send,
 * macaddr8_recv/macaddr8_send (binary); inet_in/inet_out, cidr_in/cidr_out,
 * macaddr_in/macaddr_out, macaddr8_in/macaddr8_out (text).
 *
 * inet and cidr binary wire layout:
 *   uint8  family   PGSQL_AF_INET (2) or PGSQL_AF_INET6 (3) -- PostgreSQL's
 *                   own numbers, not the operating system's AF_INET/AF_INET6
 *   uint8  bits     netmask length: 0..32 (IPv4), 0..128 (IPv6)
 *   uint8  is_cidr  0 from inet_send, 1 from cidr_send
 *   uint8  nb       address bytes that follow: 4 (IPv4) or 16 (IPv6)
 *   nb bytes        the address in network order
 * Decoding checks every field (family, bits within the family's maximum,
 * is_cidr matching the type, nb matching the family, exactly 4 + nb bytes)
 * and that a cidr has no bits set to the right of its mask (cidr_recv's
 * "Value has bits set to right of mask").  inet_recv ignores is_cidr; we
 * encode it as the type's own flag.
 *
 * Text form (inet_out/cidr_out): IPv4 as four decimal octets, IPv6 in
 * PostgreSQL's compressed form (the first longest run of two or more zero
 * groups becomes "::", lowercase hex without leading zeros, an embedded
 * IPv4 address for ::a.b.c.d and ::ffff:a.b.c.d), then "/bits" -- inet
 * leaves it out when bits is the family's maximum, cidr always shows it.
 * Decoded into the host through make_call: inet as
 * ipaddress.ip_interface(text), cidr as ipaddress.ip_network(text) (a host
 * without make_call gets the text as a string).
 *
 * macaddr: exactly 6 bytes.  macaddr8: exactly 8 bytes (macaddr8_recv also
 * takes 6 and inserts ff:fe in the middle, but macaddr8_send always writes
 * 8, and so does the encoder here).  Both decode to a string in the
 * server's form, lowercase hex pairs joined by ':' ("08:00:2b:01:02:03").
 * Special values: none.
 *
 * Encoding accepts PGD_V_STR only (the extension sends ipaddress objects as
 * their text):
 *  - inet/cidr: "address[/bits]", the address as inet_pton() reads it
 *    (dotted quad, or IPv6 text with an optional embedded IPv4 address),
 *    bits 0..32 or 0..128 in decimal, default the maximum.  No blanks, no
 *    zone ("%eth0"), no abbreviated IPv4 ("10/8").  A cidr with bits set to
 *    the right of the mask is refused, as cidr_in refuses it.
 *  - macaddr: the forms macaddr_in accepts, hex digits of either case:
 *    08:00:2b:01:02:03, 08-00-2b-01-02-03, 08002b:010203, 08002b-010203,
 *    0800.2b01.0203, 0800-2b01-0203, 08002b010203.
 *  - macaddr8: as macaddr8_in, 8 or 6 hex pairs, optionally separated by
 *    one separator (':', '-' or '.') used throughout; 6 pairs become
 *    xx:xx:xx:ff:fe:xx:xx:xx as the server converts them.
 */
#include <arpa/inet.h>

#include "codec_util.h"

#define PGSQL_AF_INET 2
#define PGSQL_AF_INET6 3
/* longest text: "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128" */
#define NET_TEXT_MAX 64
/* how much of a bad input a message shows */
#define SHOWN(n) ((int)((n) > 60 ? 60 : (n)))

typedef struct net_addr {
    uint8_t family; /* PGSQL_AF_* */
    uint8_t bits;
    uint8_t nb; /* 4 or 16 */
    uint8_t a[16];
} net_addr;

typedef struct net_type {
    const char *name;
    uint8_t is_cidr;
    const char *ctor; /* host constructor taking the text */
} net_type;

static const net_type T_INET = {"inet", 0, "ipaddress:ip_interface"};
static const net_type T_CIDR = {"cidr", 1, "ipaddress:ip_network"};

/* 1 when no bit right of the /bits mask is set. */
static int net_host_bits_clear(const net_addr *n)
{
    unsigned i;

    for (i = 0; i < n->nb; i++) {
        unsigned from = 8 * i;
        unsigned keep = n->bits >= from + 8 ? 8 : n->bits > from ? n->bits - from : 0;

        if (keep < 8 && (n->a[i] & (0xffu >> keep)))
            return 0;
    }
    return 1;
}

/* ---- text form ------------------------------------------------------------ */

static size_t fmt_v4(const uint8_t *a, char *out)
{
    return (size_t)snprintf(out, 16, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
}

/* IPv6 text as inet_out writes it (see the comment at the top). */
static size_t fmt_v6(const uint8_t *a, char *out)
{
    unsigned w[8];
    int i, best = -1, best_len = 0, cur = -1;
    size_t n = 0;

    for (i = 0; i < 8; i++)
        w[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
    for (i = 0; i <= 8; i++) {
        if (i < 8 && w[i] == 0) {
            if (cur < 0)
                cur = i;
            continue;
        }
        if (cur >= 0 && i - cur > best_len) {
            best = cur;
            best_len = i - cur;
        }
        cur = -1;
    }
    if (best_len < 2)
        best = -1;
    for (i = 0; i < 8; i++) {
        if (best >= 0 && i >= best && i < best + best_len) {
            if (i == best)
                out[n++] = ':';
            continue;
        }
        if (i != 0)
            out[n++] = ':';
        if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff)))
            return n + fmt_v4(a + 12, out + n);
        n += (size_t)snprintf(out + n, 5, "%x", w[i]);
    }
    if (best >= 0 && best + best_len == 8)
        out[n++] = ':';
    out[n] = '\0';
    return n;
}

/* The server's text of an address; out holds NET_TEXT_MAX bytes. */
static size_t net_format(const net_addr *n, int is_cidr, char *out)
{
    size_t len = n->family == PGSQL_AF_INET ? fmt_v4(n->a, out) : fmt_v6(n->a, out);
    unsigned max = n->family == PGSQL_AF_INET ? 32 : 128;

    if (is_cidr || n->bits != max)
        len += (size_t)snprintf(out + len, NET_TEXT_MAX - len, "/%u", n->bits);
    return len;
}

/* Parse "address[/bits]" into *out; 0, or -1 with the message recorded. */
static int net_parse(const pgd_cx *cx, const net_type *t, const char *s, size_t n,
                     net_addr *out)
{
    char buf[NET_TEXT_MAX];
    const char *slash = memchr(s, '/', n);
    size_t alen = slash ? (size_t)(slash - s) : n;
    unsigned max, bits = 0;

    memset(out, 0, sizeof *out);
    if (alen == 0 || alen >= sizeof buf || memchr(s, '\0', alen))
        goto bad;
    memcpy(buf, s, alen);
    buf[alen] = '\0';
    if (memchr(buf, ':', alen)) {
        if (inet_pton(AF_INET6, buf, out->a) != 1)
            goto bad;
        out->family = PGSQL_AF_INET6;
        out->nb = 16;
        max = 128;
    } else {
        if (inet_pton(AF_INET, buf, out->a) != 1)
            goto bad;
        out->family = PGSQL_AF_INET;
        out->nb = 4;
        max = 32;
    }
    if (slash) {
        const char *d = slash + 1, *end = s + n;

        if (d == end || end - d > 3)
            goto bad;
        for (; d < end; d++) {
            if (!cu_is_digit(*d))
                goto bad;
            bits = bits * 10 + (unsigned)(*d - '0');
        }
        if (bits > max)
            return CU_ERR(cx, "invalid %s text \"%.*s\": /%u is more than the %u bits of an "
                              "IPv%d address", t->name, SHOWN(n), s, bits, max,
                          max == 32 ? 4 : 6);
    } else {
        bits = max;
    }
    out->bits = (uint8_t)bits;
    if (t->is_cidr && !net_host_bits_clear(out))
        return CU_ERR(cx, "invalid cidr value \"%.*s\": bits are set to the right of the /%u "
                          "mask", SHOWN(n), s, bits);
    return 0;

bad:
    return CU_ERR(cx, "invalid %s text \"%.*s\": expected an IPv4 or IPv6 address with an "
                      "optional /bits", t->name, SHOWN(n), s);
}

/* ---- inet, cidr ------------------------------------------------------------ */

static pgd_obj *net_build(const pgd_cx *cx, const net_type *t, const net_addr *n)
{
    char text[NET_TEXT_MAX];
    size_t len = net_format(n, t->is_cidr, text);

    return cu_call_str(cx, t->ctor, text, len);
}

static pgd_obj *net_decode(const pgd_cx *cx, const net_type *t, const char *data, size_t len)
{
    net_addr n;
    unsigned want_nb, max, is_cidr;

    if (len < 4)
        return CU_FAIL(cx, "invalid %s field: %zu bytes, need at least 4", t->name, len);
    n.family = (uint8_t)data[0];
    n.bits = (uint8_t)data[1];
    is_cidr = (uint8_t)data[2];
    n.nb = (uint8_t)data[3];
    if (n.family == PGSQL_AF_INET) {
        want_nb = 4;
        max = 32;
    } else if (n.family == PGSQL_AF_INET6) {
        want_nb = 16;
        max = 128;
    } else {
        return CU_FAIL(cx, "invalid %s field: address family %u (expected %d for IPv4 or %d "
                           "for IPv6)", t->name, n.family, PGSQL_AF_INET, PGSQL_AF_INET6);
    }
    if (n.bits > max)
        return CU_FAIL(cx, "invalid %s field: %u bits, more than the %u of the family",
                       t->name, n.bits, max);
    if (is_cidr != t->is_cidr)
        return CU_FAIL(cx, "invalid %s field: is_cidr flag %u, expected %u", t->name, is_cidr,
                       t->is_cidr);
    if (n.nb != want_nb)
        return CU_FAIL(cx, "invalid %s field: %u address bytes, the family has %u", t->name,
                       n.nb, want_nb);
    if (len != 4 + want_nb)
        return cu_bad_len(cx, t->name, len, 4 + want_nb);
    memcpy(n.a, data + 4, want_nb);
    if (t->is_cidr && !net_host_bits_clear(&n))
        return CU_FAIL(cx, "invalid cidr field: bits are set to the right of the /%u mask",
                       n.bits);
    return net_build(cx, t, &n);
}

static pgd_obj *net_decode_text(const pgd_cx *cx, const net_type *t, const char *data,
                                size_t len)
{
    net_addr n;

    if (net_parse(cx, t, data, len, &n) < 0)
        return NULL;
    return net_build(cx, t, &n);
}

static int net_encode(const pgd_cx *cx, const net_type *t, const pgd_value *v,
                      pgd_wbuf *out)
{
    net_addr n;
    char *p;

    if (v->kind != PGD_V_STR)
        return cu_wrong_kind(cx, v, t->name);
    if (net_parse(cx, t, v->u.s.p, v->u.s.n, &n) < 0)
        return -1;
    p = cu_reserve(cx, out, 4u + n.nb);
    if (!p)
        return -1;
    p[0] = (char)n.family;
    p[1] = (char)n.bits;
    p[2] = (char)t->is_cidr;
    p[3] = (char)n.nb;
    memcpy(p + 4, n.a, n.nb);
    return 4 + n.nb;
}

static int inet_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    return net_encode(cx, &T_INET, v, out);
}

static int cidr_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    return net_encode(cx, &T_CIDR, v, out);
}

static pgd_obj *inet_decode(const pgd_cx *cx, const char *data, size_t len)
{
    return net_decode(cx, &T_INET, data, len);
}

static pgd_obj *cidr_decode(const pgd_cx *cx, const char *data, size_t len)
{
    return net_decode(cx, &T_CIDR, data, len);
}

static pgd_obj *inet_decode_text(const pgd_cx *cx, const char *data, size_t len)
{
    return net_decode_text(cx, &T_INET, data, len);
}

static pgd_obj *cidr_decode_text(const pgd_cx *cx, const char *data, size_t len)
{
    return net_decode_text(cx, &T_CIDR, data, len);
}

/* ---- macaddr, macaddr8 ------------------------------------------------------ */

/*
 * macaddr_in's forms: 12 hex digits in equal groups of 2 (':' or '-'),
 * 4 ('.' or '-'), 6 (':' or '-'), or ungrouped, into out[0..6).  0 or -1.
 */
static int mac6_parse(const char *s, size_t n, uint8_t *out)
{
    char sep = 0;
    size_t i, group = 0, gsize = 0, nd = 0;
    int hex[12];

    for (i = 0; i < n; i++) {
        int h = cu_hex_val(s[i]);

        if (h >= 0) {
            if (nd == 12)
                return -1;
            hex[nd++] = h;
            group++;
            continue;
        }
        if ((s[i] != ':' && s[i] != '-' && s[i] != '.') || (sep && s[i] != sep) ||
            group == 0 || (gsize && group != gsize))
            return -1;
        sep = s[i];
        gsize = group;
        group = 0;
    }
    if (nd != 12)
        return -1;
    if (sep && (group != gsize || !((gsize == 2 && sep != '.') || (gsize == 4 && sep != ':') ||
                                    (gsize == 6 && sep != '.'))))
        return -1;
    for (i = 0; i < 6; i++)
        out[i] = (uint8_t)(hex[2 * i] << 4 | hex[2 * i + 1]);
    return 0;
}

/*
 * macaddr8_in's forms: 8 or 6 hex pairs, a separator (':', '-' or '.')
 * allowed after any pair but the last, the same one throughout.  6 pairs
 * become 8 with ff:fe in the middle; out[0..8).  0 or -1.
 */
static int mac8_parse(const char *s, size_t n, uint8_t *out)
{
    size_t i = 0, k = 0;
    char sep = 0;

    while (i < n) {
        int hi, lo;

        if (k == 8 || n - i < 2)
            return -1;
        hi = cu_hex_val(s[i]);
        lo = cu_hex_val(s[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[k++] = (uint8_t)(hi << 4 | lo);
        i += 2;
        if (i < n && (s[i] == ':' || s[i] == '-' || s[i] == '.')) {
            if ((sep && s[i] != sep) || i + 1 == n)
                return -1;
            sep = s[i++];
        }
    }
    if (k == 6) {
        memmove(out + 5, out + 3, 3);
        out[3] = 0xff;
        out[4] = 0xfe;
    } else if (k != 8) {
        return -1;
    }
    return 0;
}

typedef struct mac_type {
    const char *name;
    size_t nb; /* bytes on the wire */
    int (*parse)(const char *s, size_t n, uint8_t *out);
    const char *forms; /* what the encoder accepts, for its message */
} mac_type;

static const mac_type T_MACADDR = {"macaddr", 6, mac6_parse,
                                   "6 hex pairs such as 08:00:2b:01:02:03, 08-00-2b-01-02-03, "
                                   "0800.2b01.0203 or 08002b010203"};
static const mac_type T_MACADDR8 = {"macaddr8", 8, mac8_parse,
                                    "8 or 6 hex pairs, optionally separated by ':', '-' or '.'"};

/* "xx:xx:..." of t->nb bytes, as macaddr_out/macaddr8_out print them. */
static pgd_obj *mac_build(const pgd_cx *cx, const mac_type *t, const uint8_t *b)
{
    static const char digits[] = "0123456789abcdef";
    char text[3 * 8];
    size_t i;

    for (i = 0; i < t->nb; i++) {
        text[3 * i] = digits[b[i] >> 4];
        text[3 * i + 1] = digits[b[i] & 15];
        text[3 * i + 2] = ':';
    }
    return cx->host->make_str(cx->h, text, 3 * t->nb - 1);
}

static pgd_obj *mac_decode(const pgd_cx *cx, const mac_type *t, const char *data, size_t len)
{
    if (len != t->nb)
        return cu_bad_len(cx, t->name, len, t->nb);
    return mac_build(cx, t, (const uint8_t *)data);
}

static pgd_obj *mac_decode_text(const pgd_cx *cx, const mac_type *t, const char *data,
                                size_t len)
{
    uint8_t b[8];

    if (t->parse(data, len, b) < 0)
        return CU_FAIL(cx, "invalid %s text \"%.*s\"", t->name, SHOWN(len), data);
    return mac_build(cx, t, b);
}

static int mac_encode(const pgd_cx *cx, const mac_type *t, const pgd_value *v, pgd_wbuf *out)
{
    uint8_t b[8];

    if (v->kind != PGD_V_STR)
        return cu_wrong_kind(cx, v, t->name);
    if (t->parse(v->u.s.p, v->u.s.n, b) < 0)
        return CU_ERR(cx, "invalid %s text \"%.*s\": expected %s", t->name, SHOWN(v->u.s.n),
                      v->u.s.p, t->forms);
    return cu_put_bytes(cx, out, b, t->nb);
}

static pgd_obj *macaddr_decode(const pgd_cx *cx, const char *data, size_t len)
{
    return mac_decode(cx, &T_MACADDR, data, len);
}

static pgd_obj *macaddr8_decode(const pgd_cx *cx, const char *data, size_t len)
{
    return mac_decode(cx, &T_MACADDR8, data, len);
}

static pgd_obj *macaddr_decode_text(const pgd_cx *cx, const char *data, size_t len)
{
    return mac_decode_text(cx, &T_MACADDR, data, len);
}

static pgd_obj *macaddr8_decode_text(const pgd_cx *cx, const char *data, size_t len)
{
    return mac_decode_text(cx, &T_MACADDR8, data, len);
}

static int macaddr_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    return mac_encode(cx, &T_MACADDR, v, out);
}

static int macaddr8_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    return mac_encode(cx, &T_MACADDR8, v, out);
}

#define BOTH (PGD_CODEC_BINARY | PGD_CODEC_TEXT)

static const pgd_codec codecs[] = {
    {"inet", 869, 1041, BOTH, 0, inet_encode, inet_decode, inet_decode_text, {0}},
    {"cidr", 650, 651, BOTH, 0, cidr_encode, cidr_decode, cidr_decode_text, {0}},
    {"macaddr", 829, 1040, BOTH, 0, macaddr_encode, macaddr_decode, macaddr_decode_text, {0}},
    {"macaddr8", 774, 775, BOTH, 0, macaddr8_encode, macaddr8_decode, macaddr8_decode_text,
     {0}},
};

static const pgd_codec_module module = PGD_CODEC_MODULE_INIT("net", "1.0.0", codecs);

PGD_CODEC_EXPORT const pgd_codec_module *pgd_codec_module_v1(void)
{
    return &module;
}
