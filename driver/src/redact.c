/*
 * redact.c - keep passwords out of error messages.
 *
 * libpq quotes the offending part of a connection string in its parse
 * errors: `invalid percent-encoded token: "<password>%zz"`, or the whole
 * URI, password included, for a malformed IPv6 host.  Such messages end up
 * in exceptions and logs, so:
 *
 *  - a connection string is checked twice: first with every password in it
 *    replaced by PGD_REDACTED (pgd_mask_passwords), and the error reported
 *    is that copy's; only when the copy parses and the original does not
 *    is the password itself at fault, which is said without quoting it;
 *  - in a key=value string whose password is unquoted, a word that libpq
 *    quotes from after the password may be the rest of it (`password=my
 *    secret` reads `secret` as a keyword), so such words are redacted too;
 *  - every message that may quote connection parameters is then scrubbed
 *    of every password the parameters hold (pgd_redact_passwords): its
 *    text as given, percent-decoded, and the whole user:password part of a
 *    URI.
 *
 * The scanners follow libpq's conninfo_parse and conninfo_uri_parse_options
 * closely enough to find the same password spans; where the string is too
 * broken to tell, libpq stops at the same place.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* A span [start, end) of the connection string. */
typedef struct span {
    size_t start, end;
} span;

#define MAX_SPANS 8
/* Shorter passwords are not searched for in messages (every "a" would
 * go); the masked parse keeps them out of libpq's own messages. */
#define PGD_REDACT_MIN 3

typedef struct scan {
    span pw[MAX_SPANS]; /* password values, in order */
    size_t npw;
    span userinfo;      /* URI user[:password] (end == 0: none) */
    int unquoted_kv;    /* a key=value password without quotes */
} scan;

static int is_uri(const char *s)
{
    return strncmp(s, "postgresql://", 13) == 0 || strncmp(s, "postgres://", 11) == 0;
}

/* Value of a hex digit, or -1. */
static int hexval(char c)
{
    if (!isxdigit((unsigned char)c))
        return -1;
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* Percent-decode s[0..n) into out (capacity cap > 0, NUL-terminated);
 * malformed escapes are copied as they are. */
static void pct_decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t i, o = 0;

    for (i = 0; i < n && o + 1 < cap; i++) {
        if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
}

/* s_len: the string's length.  Spans stay in order and never overlap ('?'
 * may sit in a URI's password); past MAX_SPANS passwords, the last span
 * runs to the end of the string, so everything from there is masked. */
static void add_pw(scan *sc, size_t start, size_t end, size_t s_len)
{
    if (end <= start || (sc->npw > 0 && start < sc->pw[sc->npw - 1].end))
        return;
    if (sc->npw == MAX_SPANS) {
        sc->pw[MAX_SPANS - 1].end = s_len;
        return;
    }
    sc->pw[sc->npw].start = start;
    sc->pw[sc->npw].end = end;
    sc->npw++;
}

static void scan_uri(const char *s, scan *sc)
{
    size_t start = strncmp(s, "postgresql://", 13) == 0 ? 13 : 11, p = start, q;
    char key[16];

    while (s[p] && s[p] != '@' && s[p] != '/')
        p++;
    if (s[p] == '@') {
        sc->userinfo.start = start;
        sc->userinfo.end = p;
        for (q = start; q < p && s[q] != ':'; q++)
            ;
        if (q < p)
            add_pw(sc, q + 1, p, strlen(s));
    }
    /* query parameters: ...?key=value&key=value */
    p = strchr(s, '?') ? (size_t)(strchr(s, '?') - s) + 1 : strlen(s);
    while (s[p]) {
        size_t k = p, eq, e;

        while (s[p] && s[p] != '&')
            p++;
        e = p;
        for (eq = k; eq < e && s[eq] != '='; eq++)
            ;
        if (eq < e) {
            pct_decode(s + k, eq - k, key, sizeof key);
            if (strcmp(key, "password") == 0)
                add_pw(sc, eq + 1, e, strlen(s));
        }
        if (s[p] == '&')
            p++;
    }
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static void scan_kv(const char *s, scan *sc)
{
    size_t p = 0;

    for (;;) {
        size_t k, ke, vs;
        int quoted;

        while (is_space(s[p]))
            p++;
        if (!s[p])
            return;
        k = p;
        while (s[p] && s[p] != '=' && !is_space(s[p]))
            p++;
        ke = p;
        while (is_space(s[p]))
            p++;
        if (s[p] != '=')
            return; /* libpq stops here too */
        p++;
        while (is_space(s[p]))
            p++;
        vs = p;
        quoted = s[p] == '\'';
        if (quoted) {
            p++;
            while (s[p] && s[p] != '\'') {
                if (s[p] == '\\' && s[p + 1])
                    p++;
                p++;
            }
            if (s[p] == '\'')
                p++;
        } else {
            while (s[p] && !is_space(s[p])) {
                if (s[p] == '\\' && s[p + 1])
                    p++;
                p++;
            }
        }
        if (ke - k == 8 && strncmp(s + k, "password", 8) == 0) {
            add_pw(sc, vs, p, strlen(s));
            if (!quoted)
                sc->unquoted_kv = 1;
        }
    }
}

static void scan_conninfo(const char *s, scan *sc)
{
    memset(sc, 0, sizeof *sc);
    if (is_uri(s))
        scan_uri(s, sc);
    else
        scan_kv(s, sc);
}

char *pgd_mask_passwords(const char *dsn, size_t *tail)
{
    scan sc;
    size_t i, len = strlen(dsn), out_len, at = 0, o = 0;
    char *out;

    scan_conninfo(dsn, &sc);
    out_len = len + sc.npw * (sizeof PGD_REDACTED) + 1;
    out = pgd_malloc(out_len);
    if (!out)
        return NULL;
    *tail = 0;
    for (i = 0; i < sc.npw; i++) {
        memcpy(out + o, dsn + at, sc.pw[i].start - at);
        o += sc.pw[i].start - at;
        memcpy(out + o, PGD_REDACTED, sizeof PGD_REDACTED - 1);
        o += sizeof PGD_REDACTED - 1;
        at = sc.pw[i].end;
        if (sc.unquoted_kv)
            *tail = o;
    }
    memcpy(out + o, dsn + at, len - at);
    out[o + len - at] = '\0';
    return out;
}

/* First occurrence of s[0..n) in h, or NULL. */
static const char *find(const char *h, const char *s, size_t n)
{
    for (; *h; h++)
        if (*h == *s && strncmp(h, s, n) == 0)
            return h;
    return NULL;
}

/* Replace every occurrence of s[0..n) in msg (capacity cap) with
 * PGD_REDACTED; the result is truncated to fit. */
static void replace_all(char *msg, size_t cap, const char *s, size_t n)
{
    char buf[PGD_ERRSTR_MAX];
    size_t o = 0;
    const char *p = msg, *hit;

    if (n == 0 || cap == 0)
        return;
    if (!find(msg, s, n))
        return;
    while ((hit = find(p, s, n)) != NULL) {
        size_t pre = (size_t)(hit - p);

        if (o + pre + sizeof PGD_REDACTED >= sizeof buf)
            break;
        memcpy(buf + o, p, pre);
        o += pre;
        memcpy(buf + o, PGD_REDACTED, sizeof PGD_REDACTED - 1);
        o += sizeof PGD_REDACTED - 1;
        p = hit + n;
    }
    snprintf(buf + o, sizeof buf - o, "%s", p);
    snprintf(msg, cap, "%s", buf);
}

/* Scrub one password value found at s[sp] (as given, and decoded). */
static void redact_value(char *msg, size_t cap, const char *s, span sp, int uri)
{
    char dec[PGD_ERRSTR_MAX];
    size_t n = sp.end - sp.start;

    if (n < PGD_REDACT_MIN)
        return;

    replace_all(msg, cap, s + sp.start, n);
    /* a key=value password may be quoted: its inside */
    if (!uri && n >= 2 && s[sp.start] == '\'')
        replace_all(msg, cap, s + sp.start + 1, n - 1 - (s[sp.end - 1] == '\'' ? 1 : 0));
    pct_decode(s + sp.start, n, dec, sizeof dec);
    replace_all(msg, cap, dec, strlen(dec));
}

static void redact_conninfo(char *msg, size_t cap, const char *dsn)
{
    scan sc;
    size_t i;
    int uri = is_uri(dsn);

    scan_conninfo(dsn, &sc);
    if (sc.userinfo.end > sc.userinfo.start + PGD_REDACT_MIN && sc.npw > 0)
        replace_all(msg, cap, dsn + sc.userinfo.start, sc.userinfo.end - sc.userinfo.start);
    for (i = 0; i < sc.npw; i++)
        redact_value(msg, cap, dsn, sc.pw[i], uri);
}

void pgd_redact_passwords(char *msg, size_t cap, const char *const *keys,
                          const char *const *vals)
{
    size_t i;

    for (i = 0; keys && keys[i]; i++) {
        const char *v = vals[i];

        if (!v || !*v)
            continue;
        if (strcmp(keys[i], "password") == 0 && strlen(v) >= PGD_REDACT_MIN)
            replace_all(msg, cap, v, strlen(v));
        else if (strcmp(keys[i], "dbname") == 0 && (strchr(v, '=') || is_uri(v)))
            redact_conninfo(msg, cap, v);
    }
}

void pgd_redact_tail(char *msg, size_t cap, const char *masked, size_t tail)
{
    char *q = msg, *e;
    int rounds = 0;

    if (tail == 0)
        return;
    /* every "word" the message quotes that appears after the password */
    while ((q = strchr(q, '"')) != NULL && (e = strchr(q + 1, '"')) != NULL) {
        size_t n = (size_t)(e - q - 1);
        char word[PGD_ERRSTR_MAX];

        if (n > 0 && n < sizeof word) {
            memcpy(word, q + 1, n);
            word[n] = '\0';
            if (strcmp(word, PGD_REDACTED) != 0 && strstr(masked + tail, word) &&
                rounds++ < 16) {
                replace_all(msg, cap, word, n);
                q = msg; /* the message changed: look again from its start */
                continue;
            }
        }
        q = e + 1;
    }
}
