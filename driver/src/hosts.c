/*
 * hosts.c - where a connection goes: its host list, the order in which it
 * is tried, and the parameters of each attempt.
 *
 * libpq walks a host list itself, but only its blocking connect enforces
 * connect_timeout per host; with the non-blocking API we use, a host that
 * never answers (a dropped SYN, a frozen server) would hold the whole
 * connect, and PQconnectPoll has no "give up on this host" call.  So the
 * driver tries the hosts one at a time, one PGconn per host (as psycopg 3
 * does for its async connections): the caller's per-host deadline ends an
 * attempt with pgd_conn_connect_skip() and the next host is started.
 * libpq still walks the addresses of one host name and applies
 * target_session_attrs to each attempt, except prefer-standby, which only
 * means something across hosts: the driver tries every host with
 * "standby" first, then (like libpq's second pass) every host that did not
 * time out with "any".
 *
 * load_balance_hosts=random (libpq 16's option; libpq 15 rejects it) is
 * taken out of the parameters and out of a DSN, never handed to libpq: the
 * hosts, with their hostaddr and port entries paired, are shuffled anew
 * for every connection.
 *
 * The parameters are flattened the way PQconnectStartParams with
 * expand_dbname reads them (the first dbname that looks like a connection
 * string is expanded at its position, the last non-empty value of a
 * keyword wins); host, hostaddr and port fall back to PGHOST, PGHOSTADDR
 * and PGPORT as in libpq.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

static const char *const tsa_values[] = {"any", "read-write", "read-only", "primary",
                                         "standby", "prefer-standby", NULL};

/* Format the reason into err (when given); returns PGD_ERROR. */
static int set_err(char *err, size_t errlen, const char *fmt, ...) PGD_PRINTF(3, 4);

static int set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return PGD_ERROR;
}

/* ---- taking load_balance_hosts out of a DSN ------------------------------- */

static int is_uri(const char *s)
{
    return strncmp(s, "postgresql://", 13) == 0 || strncmp(s, "postgres://", 11) == 0;
}

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = tolower(ch);
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* Percent-decode [s, s+n) into a new string. */
static char *pct_decode(const char *s, size_t n)
{
    char *out = pgd_malloc(n + 1), *o = out;
    size_t i;

    if (!out)
        return NULL;
    for (i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            *o++ = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

/* URI: drop every load_balance_hosts=... from the query part. */
static char *strip_uri(const char *dsn, char **lb)
{
    const char *p = strstr(dsn, "://") + 3, *q, *end;
    size_t len = strlen(dsn), olen = 0;
    char *out = pgd_malloc(len + 1);
    int first = 1;

    if (!out)
        return NULL;
    /* as libpq: credentials end at the first '@' before any '/' */
    for (q = p; *q && *q != '@' && *q != '/'; q++)
        ;
    if (*q == '@')
        p = q + 1;
    q = strchr(p, '?');
    if (!q) {
        memcpy(out, dsn, len + 1);
        return out;
    }
    olen = (size_t)(q - dsn);
    memcpy(out, dsn, olen);
    for (p = q + 1; *p; p = *end ? end + 1 : end) {
        const char *eq;
        char *key;

        end = strchr(p, '&');
        if (!end)
            end = p + strlen(p);
        eq = memchr(p, '=', (size_t)(end - p));
        key = pct_decode(p, (size_t)((eq ? eq : end) - p));
        if (!key) {
            pgd_free(out);
            return NULL;
        }
        if (strcmp(key, "load_balance_hosts") == 0) {
            pgd_free(*lb);
            *lb = eq ? pct_decode(eq + 1, (size_t)(end - eq - 1)) : pgd_strdup("");
            pgd_free(key);
            if (!*lb) {
                pgd_free(out);
                return NULL;
            }
            continue;
        }
        pgd_free(key);
        out[olen++] = first ? '?' : '&';
        first = 0;
        memcpy(out + olen, p, (size_t)(end - p));
        olen += (size_t)(end - p);
    }
    out[olen] = '\0';
    return out;
}

/* key=value string: drop every load_balance_hosts pair (libpq's quoting
 * rules).  A string that does not scan is returned unchanged: libpq will
 * name its fault. */
static char *strip_kv(const char *dsn, char **lb)
{
    size_t len = strlen(dsn), olen = 0;
    char *out = pgd_malloc(len + 1), *val = pgd_malloc(len + 1);
    const char *p = dsn, *copied = dsn;

    if (!out || !val)
        goto error;
    while (*p) {
        const char *k, *kend;
        size_t vlen = 0;

        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        k = p;
        while (*p && *p != '=' && !isspace((unsigned char)*p))
            p++;
        kend = p;
        while (isspace((unsigned char)*p))
            p++;
        if (*p != '=')
            goto unchanged;
        p++;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '\'') {
            p++;
            while (*p && *p != '\'') {
                if (*p == '\\' && p[1])
                    p++;
                val[vlen++] = *p++;
            }
            if (*p != '\'')
                goto unchanged;
            p++;
        } else {
            while (*p && !isspace((unsigned char)*p)) {
                if (*p == '\\' && p[1])
                    p++;
                val[vlen++] = *p++;
            }
        }
        val[vlen] = '\0';
        if ((size_t)(kend - k) == 18 && memcmp(k, "load_balance_hosts", 18) == 0) {
            memcpy(out + olen, copied, (size_t)(k - copied));
            olen += (size_t)(k - copied);
            copied = p;
            pgd_free(*lb);
            if (!(*lb = pgd_strdup(val)))
                goto error;
        }
    }
    memcpy(out + olen, copied, strlen(copied) + 1);
    pgd_free(val);
    return out;
unchanged:
    memcpy(out, dsn, len + 1);
    pgd_free(val);
    return out;
error:
    pgd_free(out);
    pgd_free(val);
    return NULL;
}

char *pgd_dsn_strip_load_balance(const char *dsn, char **lb)
{
    return is_uri(dsn) ? strip_uri(dsn, lb) : strip_kv(dsn, lb);
}

/* ---- flattening ------------------------------------------------------------ */

int pgd_looks_like_conninfo(const char *s)
{
    return strchr(s, '=') || is_uri(s);
}

/* Set key to val in the flat list (the last non-empty value wins). */
int pgd_targets_set(pgd_targets *t, const char *key, const char *val)
{
    size_t i;
    char *v;

    if (!val || !*val)
        return PGD_OK;
    if (!(v = pgd_strdup(val)))
        return PGD_ERROR;
    for (i = 0; i < t->nflat; i++) {
        if (strcmp(t->keys[i], key) == 0) {
            pgd_free(t->vals[i]);
            t->vals[i] = v;
            return PGD_OK;
        }
    }
    if (pgd_grow(&t->keys, t->nflat + 1, &t->capflat, sizeof *t->keys, 16) != PGD_OK ||
        pgd_grow(&t->vals, t->nflat + 1, &t->capvals, sizeof *t->vals, 16) != PGD_OK ||
        !(t->keys[t->nflat] = pgd_strdup(key))) {
        pgd_free(v);
        return PGD_ERROR;
    }
    t->vals[t->nflat++] = v;
    t->keys[t->nflat] = t->vals[t->nflat] = NULL;
    return PGD_OK;
}

/* Take key out of the flat list; returns its value (new) or NULL. */
static char *flat_take(pgd_targets *t, const char *key)
{
    size_t i;

    for (i = 0; i < t->nflat; i++) {
        if (strcmp(t->keys[i], key) == 0) {
            char *v = t->vals[i];

            pgd_free(t->keys[i]);
            memmove(t->keys + i, t->keys + i + 1, (t->nflat - i) * sizeof *t->keys);
            memmove(t->vals + i, t->vals + i + 1, (t->nflat - i) * sizeof *t->vals);
            t->nflat--;
            return v;
        }
    }
    return NULL;
}

const char *pgd_targets_get(const pgd_targets *t, const char *key)
{
    size_t i;

    for (i = 0; i < t->nflat; i++)
        if (strcmp(t->keys[i], key) == 0)
            return t->vals[i];
    return NULL;
}

/* Expand a connection string given as dbname into the flat list. */
static int expand_dsn(pgd_targets *t, const char *dsn, char *err, size_t errlen)
{
    char *lb = NULL, *msg = NULL, *stripped = pgd_dsn_strip_load_balance(dsn, &lb);
    PQconninfoOption *opts, *o;
    int rc = PGD_OK;

    if (!stripped)
        return set_err(err, errlen, "out of memory");
    opts = PQconninfoParse(stripped, &msg);
    pgd_free(stripped);
    if (!opts) {
        size_t n;

        set_err(err, errlen, "%s", msg ? msg : "out of memory");
        if (err && errlen) {
            n = strlen(err);
            while (n && err[n - 1] == '\n')
                err[--n] = '\0';
        }
        if (msg)
            PQfreemem(msg);
        pgd_free(lb);
        return PGD_ERROR;
    }
    for (o = opts; o->keyword && rc == PGD_OK; o++)
        rc = pgd_targets_set(t, o->keyword, o->val);
    PQconninfoFree(opts);
    if (rc == PGD_OK && lb)
        rc = pgd_targets_set(t, "load_balance_hosts", lb);
    pgd_free(lb);
    if (rc != PGD_OK)
        return set_err(err, errlen, "out of memory");
    return PGD_OK;
}

/* Split a comma-separated list into n new strings (*out, NULL when s is
 * NULL).  trim: strip blanks around each entry (numbers). */
static int split_list(const char *s, char ***out, size_t *n, int trim)
{
    size_t count = 1, i = 0;
    const char *p;

    *out = NULL;
    *n = 0;
    if (!s)
        return PGD_OK;
    for (p = s; *p; p++)
        count += *p == ',';
    if (!(*out = pgd_calloc(count + 1, sizeof **out)))
        return PGD_ERROR;
    for (p = s;; i++) {
        const char *e = strchr(p, ','), *b = p;
        size_t len;

        if (!e)
            e = p + strlen(p);
        len = (size_t)(e - b);
        if (trim) {
            while (len && isspace((unsigned char)*b))
                b++, len--;
            while (len && isspace((unsigned char)b[len - 1]))
                len--;
        }
        if (!((*out)[i] = pgd_malloc(len + 1)))
            return PGD_ERROR;
        memcpy((*out)[i], b, len);
        (*out)[i][len] = '\0';
        if (!*e)
            break;
        p = e + 1;
    }
    *n = count;
    return PGD_OK;
}

void pgd_targets_free(pgd_targets *t)
{
    size_t i;

    for (i = 0; i < t->nflat; i++) {
        pgd_free(t->keys[i]);
        pgd_free(t->vals[i]);
    }
    pgd_free(t->keys);
    pgd_free(t->vals);
    if (t->host)
        pgd_strv_free(t->host);
    if (t->hostaddr)
        pgd_strv_free(t->hostaddr);
    if (t->port)
        pgd_strv_free(t->port);
    pgd_free(t->tsa);
    pgd_free(t->order);
    pgd_free(t->timed_out);
    pgd_free((void *)t->akeys);
    pgd_free((void *)t->avals);
    pgd_free(t->log);
    memset(t, 0, sizeof *t);
}

static char *take_or_env(pgd_targets *t, const char *key, const char *env)
{
    char *v = flat_take(t, key);
    const char *e;

    if (!v && (e = getenv(env)) && *e)
        v = pgd_strdup(e);
    return v;
}

int pgd_targets_init(pgd_targets *t, const char *const *keys, const char *const *vals,
                     char *err, size_t errlen)
{
    char *host = NULL, *hostaddr = NULL, *port = NULL, *lb = NULL;
    size_t i, nh = 0, na = 0, np = 0;
    int seen_dbname = 0, rc = PGD_ERROR;

    memset(t, 0, sizeof *t);
    if (err && errlen)
        err[0] = '\0';
    for (i = 0; keys && keys[i]; i++) {
        const char *v = vals[i];

        if (strcmp(keys[i], "dbname") == 0 && !seen_dbname && v && *v) {
            seen_dbname = 1;
            if (pgd_looks_like_conninfo(v)) {
                if (expand_dsn(t, v, err, errlen) != PGD_OK)
                    goto done;
                continue;
            }
        }
        if (pgd_targets_set(t, keys[i], v) != PGD_OK)
            goto oom;
    }
    host = take_or_env(t, "host", "PGHOST");
    hostaddr = take_or_env(t, "hostaddr", "PGHOSTADDR");
    port = take_or_env(t, "port", "PGPORT");
    lb = take_or_env(t, "load_balance_hosts", "PGLOADBALANCEHOSTS");
    t->tsa = take_or_env(t, "target_session_attrs", "PGTARGETSESSIONATTRS");
    if (split_list(host, &t->host, &nh, 0) != PGD_OK ||
        split_list(hostaddr, &t->hostaddr, &na, 0) != PGD_OK ||
        split_list(port, &t->port, &np, 1) != PGD_OK)
        goto oom;
    t->n = nh ? nh : na ? na : 1;
    if (nh && na && nh != na) {
        set_err(err, errlen, "could not match %zu host names to %zu hostaddr values", nh, na);
        goto done;
    }
    if (np > 1 && np != t->n) {
        set_err(err, errlen, "could not match %zu port numbers to %zu hosts", np, t->n);
        goto done;
    }
    t->nport = np;
    if (lb && strcmp(lb, "random") == 0) {
        t->random = 1;
    } else if (lb && *lb && strcmp(lb, "disable") != 0) {
        set_err(err, errlen, "invalid load_balance_hosts value: \"%s\"", lb);
        goto done;
    }
    if (t->tsa) {
        for (i = 0; tsa_values[i] && strcmp(tsa_values[i], t->tsa) != 0; i++)
            ;
        if (!tsa_values[i]) {
            set_err(err, errlen, "invalid target_session_attrs value: \"%s\"", t->tsa);
            goto done;
        }
        t->prefer_standby = strcmp(t->tsa, "prefer-standby") == 0;
    }
    t->order = pgd_calloc(t->n, sizeof *t->order);
    t->timed_out = pgd_calloc(t->n, 1);
    if (!t->order || !t->timed_out)
        goto oom;
    for (i = 0; i < t->n; i++)
        t->order[i] = i;
    rc = PGD_OK;
    goto done;
oom:
    set_err(err, errlen, "out of memory");
done:
    pgd_free(host);
    pgd_free(hostaddr);
    pgd_free(port);
    pgd_free(lb);
    if (rc != PGD_OK)
        pgd_targets_free(t);
    return rc;
}

/* ---- order and attempts ------------------------------------------------------ */

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Not for secrets: spreading connections only needs every order to be
 * likely.  Seeded from the clock, the process and a counter, so two
 * connections started in the same nanosecond still differ. */
static uint64_t seed(void)
{
    static uint64_t counter;
    struct timespec ts;
    uint64_t s;

    clock_gettime(CLOCK_REALTIME, &ts);
    s = ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec) ^
        ((uint64_t)getpid() << 32) ^
        (__atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED) * 0xd1b54a32d192ed03ULL);
    return splitmix64(&s);
}

int pgd_targets_begin(pgd_targets *t)
{
    size_t i;

    /* base parameters + host, hostaddr, port, target_session_attrs + NULL */
    pgd_free((void *)t->akeys);
    pgd_free((void *)t->avals);
    t->akeys = pgd_calloc(t->nflat + 5, sizeof *t->akeys);
    t->avals = pgd_calloc(t->nflat + 5, sizeof *t->avals);
    if (!t->akeys || !t->avals)
        return PGD_ERROR;
    for (i = 0; i < t->n; i++) {
        t->order[i] = i;
        t->timed_out[i] = 0;
    }
    if (t->random && t->n > 1) {
        uint64_t s = seed();

        for (i = t->n - 1; i > 0; i--) {
            size_t j = (size_t)(splitmix64(&s) % (i + 1)), tmp = t->order[i];

            t->order[i] = t->order[j];
            t->order[j] = tmp;
        }
    }
    t->pos = 0;
    t->pass = 1;
    pgd_free(t->log);
    t->log = NULL;
    t->loglen = t->lastoff = 0;
    return PGD_OK;
}

size_t pgd_targets_current(const pgd_targets *t) { return t->order[t->pos]; }

int pgd_targets_next(pgd_targets *t)
{
    for (;;) {
        if (++t->pos >= t->n) {
            if (!t->prefer_standby || t->pass == 2)
                return 0;
            t->pass = 2; /* prefer-standby found none: any server will do */
            t->pos = 0;
        }
        if (t->pass == 1 || !t->timed_out[t->order[t->pos]])
            return 1;
    }
}

void pgd_targets_params(pgd_targets *t, const char *const **keys, const char *const **vals)
{
    size_t i, j = 0, h = t->order[t->pos];

    for (i = 0; i < t->nflat; i++, j++) {
        t->akeys[j] = t->keys[i];
        t->avals[j] = t->vals[i];
    }
#define ADD(k, v)                                                                      \
    do {                                                                               \
        t->akeys[j] = (k);                                                             \
        t->avals[j++] = (v);                                                           \
    } while (0)
    if (t->host && *t->host[h])
        ADD("host", t->host[h]);
    if (t->hostaddr && *t->hostaddr[h])
        ADD("hostaddr", t->hostaddr[h]);
    if (t->nport)
        ADD("port", t->port[t->nport == 1 ? 0 : h]);
    if (t->prefer_standby)
        ADD("target_session_attrs", t->pass == 1 ? "standby" : "any");
    else if (t->tsa)
        ADD("target_session_attrs", t->tsa);
#undef ADD
    t->akeys[j] = t->avals[j] = NULL;
    *keys = t->akeys;
    *vals = t->avals;
}

void pgd_targets_log(pgd_targets *t, const char *msg)
{
    size_t n = strlen(msg);
    char *p;

    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        n--;
    if (!n)
        return;
    /* the same failure for every host (a bad option) is said once */
    if (t->log && t->loglen - t->lastoff == n && memcmp(t->log + t->lastoff, msg, n) == 0)
        return;
    if (t->loglen + n + 2 > PGD_ERRSTR_MAX)
        return;
    p = pgd_realloc(t->log, t->loglen + n + 2);
    if (!p)
        return;
    t->log = p;
    if (t->loglen)
        t->log[t->loglen++] = '\n';
    t->lastoff = t->loglen;
    memcpy(t->log + t->loglen, msg, n);
    t->loglen += n;
    t->log[t->loglen] = '\0';
}
