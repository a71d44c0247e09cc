/*
 * conn.c - a connection: non-blocking connect, state, errors, results,
 * cancel and disconnect, and pgd_conn_io()'s dispatch.  The operations themselves (query,
 * simple, batch, pipeline) are in pipeline.c.
 *
 * Session settings the codecs' text fallbacks rely on travel in the
 * startup packet's `options` (no extra round trip after connecting):
 *   -c DateStyle=ISO -c IntervalStyle=postgres -c extra_float_digits=3
 * appended to whatever options the caller gave (so ours win), and
 * client_encoding=UTF8 (every string crossing the API is UTF-8).
 *
 * States: NEW -> CONNECTING -> IDLE <-> BUSY; FAILED (connect refused) and
 * BROKEN (connection lost) are final.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "internal.h"

#define PGD_SESSION_OPTIONS "-c DateStyle=ISO -c IntervalStyle=postgres -c extra_float_digits=3"
#define PGD_DEFAULT_CACHE 256

/* Options libpq takes as integers (a comma-separated list for port). libpq
 * only notices a bad one when it connects; we want it at configuration. */
static const char *const int_options[] = {"port", "connect_timeout", "keepalives",
                                          "keepalives_idle", "keepalives_interval",
                                          "keepalives_count", "tcp_user_timeout", NULL};

static int int_list_ok(const char *v, int allow_list)
{
    int digits = 0;

    for (; *v; v++) {
        if (*v >= '0' && *v <= '9') {
            digits++;
        } else if (*v == ',' && allow_list && digits) {
            digits = 0;
        } else if (*v != ' ' || digits) {
            return 0;
        }
    }
    return digits > 0 || allow_list;
}

static int check_option(const char *key, const char *val, char *err, size_t errlen)
{
    int i;

    if (!key || !val || !*val)
        return PGD_OK;
    for (i = 0; int_options[i]; i++) {
        if (strcmp(key, int_options[i]) != 0)
            continue;
        if (int_list_ok(val, strcmp(key, "port") == 0))
            return PGD_OK;
        if (err && errlen)
            snprintf(err, errlen, "invalid integer value \"%s\" for connection option \"%s\"",
                     val, key);
        return PGD_ERROR;
    }
    return PGD_OK;
}

int pgd_conninfo_check_params(const char *const *keys, const char *const *vals, char *err,
                              size_t errlen)
{
    size_t i;

    for (i = 0; keys && keys[i]; i++) {
        if (strcmp(keys[i], "dbname") == 0 && vals[i] &&
            (strchr(vals[i], '=') || strncmp(vals[i], "postgresql://", 13) == 0 ||
             strncmp(vals[i], "postgres://", 11) == 0)) {
            if (pgd_conninfo_check(vals[i], err, errlen) != PGD_OK)
                return PGD_ERROR;
        } else if (check_option(keys[i], vals[i], err, errlen) != PGD_OK) {
            return PGD_ERROR;
        }
    }
    return PGD_OK;
}

int pgd_conninfo_check(const char *dsn, char *err, size_t errlen)
{
    char *msg = NULL;
    PQconninfoOption *opts;

    if (!dsn) {
        if (err && errlen)
            snprintf(err, errlen, "no connection string");
        return PGD_ERROR;
    }
    opts = PQconninfoParse(dsn, &msg);
    if (opts) {
        PQconninfoOption *o;
        int rc = PGD_OK;

        if (err && errlen)
            err[0] = '\0';
        for (o = opts; o->keyword && rc == PGD_OK; o++)
            rc = check_option(o->keyword, o->val, err, errlen);
        PQconninfoFree(opts);
        return rc;
    }
    if (err && errlen) {
        size_t n;

        snprintf(err, errlen, "%s", msg ? msg : "out of memory");
        n = strlen(err);
        while (n && err[n - 1] == '\n')
            err[--n] = '\0';
    }
    if (msg)
        PQfreemem(msg);
    return PGD_ERROR;
}

/* ---- connection parameters ---------------------------------------------- */

static int looks_like_conninfo(const char *s)
{
    return strchr(s, '=') || strncmp(s, "postgresql://", 13) == 0 ||
           strncmp(s, "postgres://", 11) == 0;
}

/* The options the caller asked for, following libpq's precedence (later
 * keywords win, a DSN in the first dbname counts at its position), or
 * PGOPTIONS when none.  Returns a new string or NULL. */
static char *user_options(const char *const *keys, const char *const *vals)
{
    const char *found = NULL;
    char *dsn_opt = NULL, *ret;
    int seen_dbname = 0;
    size_t i;

    for (i = 0; keys && keys[i]; i++) {
        const char *v = vals[i];

        if (!v || !*v)
            continue;
        if (strcmp(keys[i], "dbname") == 0 && !seen_dbname) {
            seen_dbname = 1;
            if (looks_like_conninfo(v)) {
                PQconninfoOption *o = PQconninfoParse(v, NULL), *p;

                for (p = o; p && p->keyword; p++) {
                    if (strcmp(p->keyword, "options") == 0 && p->val && *p->val) {
                        pgd_free(dsn_opt);
                        dsn_opt = pgd_strdup(p->val);
                        found = dsn_opt;
                    }
                }
                if (o)
                    PQconninfoFree(o);
            }
        } else if (strcmp(keys[i], "options") == 0) {
            found = v;
        }
    }
    if (!found)
        found = getenv("PGOPTIONS");
    ret = found && *found ? pgd_strdup(found) : NULL;
    pgd_free(dsn_opt);
    return ret;
}

/* keys/vals copied, plus our options and client_encoding at the end. */
static int build_params(pgd_conn *c, const char *const *keys, const char *const *vals)
{
    size_t n = 0, i, j = 0, len;
    char *uopt = NULL, *opt = NULL;

    while (keys && keys[n])
        n++;
    c->keys = pgd_calloc(n + 3, sizeof *c->keys);
    c->vals = pgd_calloc(n + 3, sizeof *c->vals);
    if (!c->keys || !c->vals)
        goto error;
    for (i = 0; i < n; i++, j++) {
        c->keys[j] = pgd_strdup(keys[i]);
        c->vals[j] = pgd_strdup(vals[i] ? vals[i] : "");
        if (!c->keys[j] || !c->vals[j])
            goto error;
    }
    uopt = user_options(keys, vals);
    len = (uopt ? strlen(uopt) + 1 : 0) + sizeof PGD_SESSION_OPTIONS;
    opt = pgd_malloc(len);
    if (!opt)
        goto error;
    snprintf(opt, len, "%s%s%s", uopt ? uopt : "", uopt ? " " : "", PGD_SESSION_OPTIONS);
    c->keys[j] = pgd_strdup("options");
    c->vals[j++] = opt;
    opt = NULL;
    c->keys[j] = pgd_strdup("client_encoding");
    c->vals[j++] = pgd_strdup("UTF8");
    for (i = 0; i < j; i++)
        if (!c->keys[i] || !c->vals[i])
            goto error;
    pgd_free(uopt);
    return PGD_OK;
error:
    pgd_free(uopt);
    pgd_free(opt);
    /* calloc'ed: every slot not filled is NULL */
    for (i = 0; i < n + 3 && c->keys && c->vals; i++) {
        pgd_free(c->keys[i]);
        pgd_free(c->vals[i]);
    }
    pgd_free(c->keys);
    pgd_free(c->vals);
    c->keys = c->vals = NULL;
    return PGD_ERROR;
}

pgd_conn *pgd_conn_new(const char *const *keys, const char *const *vals, const pgd_registry *reg)
{
    pgd_conn *c = pgd_calloc(1, sizeof *c);

    if (!c)
        return NULL;
    c->reg = reg;
    pgd_error_init(&c->err);
    pgd_cache_init(&c->cache, PGD_DEFAULT_CACHE);
    c->types = pgd_types_new();
    if (!c->types || build_params(c, keys, vals) != PGD_OK) {
        pgd_types_release(c->types);
        pgd_free(c);
        return NULL;
    }
    return c;
}

void pgd_conn_free(pgd_conn *c)
{
    if (!c)
        return;
    pgd_op_reset(c);
    pgd_free(c->op.slots); /* kept by pgd_op_reset for reuse */
    pgd_conn_drop_results(c);
    pgd_free(c->results);
    if (c->pg)
        PQfinish(c->pg);
    pgd_cache_free(&c->cache);
    pgd_types_release(c->types);
    pgd_error_clear(&c->err);
    pgd_strv_free(c->keys);
    pgd_strv_free(c->vals);
    pgd_free(c->wbuf.p);
    pgd_free((void *)c->pvals);
    pgd_free(c->plens);
    pgd_free(c->pfmts);
    pgd_free(c->poffs);
    pgd_free(c);
}

/* ---- errors --------------------------------------------------------------- */

int pgd_conn_fail(pgd_conn *c, int kind, int index, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    pgd_error_setv(&c->err, kind, index, fmt, ap);
    va_end(ap);
    return PGD_ERROR;
}

/* The connection is gone.  Keeps a server error already recorded by the
 * operation (e.g. 57P01 admin shutdown) but reports it as IO. */
int pgd_conn_broken(pgd_conn *c, int index)
{
    if (c->err.kind == PGD_E_NONE || c->err.kind == PGD_E_USAGE)
        pgd_error_from_conn(&c->err, c->pg, PGD_E_IO, index);
    else
        c->err.kind = PGD_E_IO;
    c->state = PGD_CS_BROKEN;
    return PGD_ERROR;
}

const pgd_error *pgd_conn_error(const pgd_conn *c) { return &c->err; }

int pgd_conn_connect_timeout(const pgd_conn *c)
{
    PQconninfoOption *opts, *o;
    int secs = -1;

    if (!c->pg || !(opts = PQconninfo(c->pg)))
        return -1;
    for (o = opts; o->keyword; o++)
        if (strcmp(o->keyword, "connect_timeout") == 0 && o->val && *o->val)
            secs = atoi(o->val);
    PQconninfoFree(opts);
    return secs;
}

/* ---- connect --------------------------------------------------------------- */

static void notice_noop(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

int pgd_conn_connect_start(pgd_conn *c)
{
    if (c->state != PGD_CS_NEW)
        return pgd_conn_fail(c, PGD_E_USAGE, -1, "connect_start on a connection that was "
                                                 "already started");
    pgd_error_clear(&c->err);
    c->pg = PQconnectStartParams((const char *const *)c->keys, (const char *const *)c->vals, 1);
    if (!c->pg) {
        c->state = PGD_CS_FAILED;
        return pgd_conn_fail(c, PGD_E_NOMEM, -1, "out of memory starting a connection");
    }
    if (PQstatus(c->pg) == CONNECTION_BAD) {
        c->state = PGD_CS_FAILED;
        return pgd_error_from_conn(&c->err, c->pg, PGD_E_CONNECT, -1);
    }
    c->state = PGD_CS_CONNECTING;
    /* libpq: behave as if PQconnectPoll had returned PGRES_POLLING_WRITING */
    return PGD_WANT_WRITE;
}

int pgd_conn_connect_poll(pgd_conn *c)
{
    if (c->state == PGD_CS_IDLE)
        return PGD_OK;
    if (c->state != PGD_CS_CONNECTING)
        return pgd_conn_fail(c, PGD_E_USAGE, -1, "connect_poll without a connection attempt");
    switch (PQconnectPoll(c->pg)) {
    case PGRES_POLLING_READING:
        return PGD_WANT_READ;
    case PGRES_POLLING_WRITING:
        return PGD_WANT_WRITE;
    case PGRES_POLLING_OK:
        break;
    default:
        c->state = PGD_CS_FAILED;
        return pgd_error_from_conn(&c->err, c->pg, PGD_E_CONNECT, -1);
    }
    if (PQsetnonblocking(c->pg, 1) != 0) {
        c->state = PGD_CS_FAILED;
        return pgd_error_from_conn(&c->err, c->pg, PGD_E_CONNECT, -1);
    }
    PQsetNoticeProcessor(c->pg, notice_noop, NULL);
    c->state = PGD_CS_IDLE;
    return PGD_OK;
}

int pgd_conn_socket(const pgd_conn *c)
{
    if (!c->pg || c->state == PGD_CS_BROKEN || c->state == PGD_CS_FAILED)
        return -1;
    return PQsocket(c->pg);
}

int pgd_conn_is_ok(const pgd_conn *c)
{
    return (c->state == PGD_CS_IDLE || c->state == PGD_CS_BUSY) &&
           PQstatus(c->pg) == CONNECTION_OK;
}

int pgd_conn_is_busy(const pgd_conn *c) { return c->state == PGD_CS_BUSY; }

pgd_txstate pgd_conn_txstate(const pgd_conn *c)
{
    if (!c->pg)
        return PGD_TX_UNKNOWN;
    switch (PQtransactionStatus(c->pg)) {
    case PQTRANS_IDLE:
        return PGD_TX_IDLE;
    case PQTRANS_ACTIVE:
        return PGD_TX_ACTIVE;
    case PQTRANS_INTRANS:
        return PGD_TX_INTRANS;
    case PQTRANS_INERROR:
        return PGD_TX_INERROR;
    default:
        return PGD_TX_UNKNOWN;
    }
}

int pgd_conn_server_version(const pgd_conn *c) { return c->pg ? PQserverVersion(c->pg) : 0; }

void pgd_conn_set_stmt_cache_size(pgd_conn *c, int n) { pgd_cache_set_capacity(&c->cache, n); }

int pgd_conn_stmt_cache_count(const pgd_conn *c) { return c->cache.count; }

void pgd_conn_set_unnamed(pgd_conn *c, int on) { c->unnamed = on != 0; }

void pgd_conn_set_userdata(pgd_conn *c, void *user) { c->user = user; }

void *pgd_conn_userdata(const pgd_conn *c) { return c->user; }

/* ---- results ----------------------------------------------------------------- */

int pgd_conn_push_result(pgd_conn *c, pgd_result *r)
{
    if (pgd_grow(&c->results, c->nresults, &c->capresults, sizeof *c->results, 4) != PGD_OK) {
        pgd_result_free(r);
        return PGD_ERROR;
    }
    c->results[c->nresults++] = r;
    return PGD_OK;
}

void pgd_conn_drop_results(pgd_conn *c)
{
    size_t i;

    for (i = c->taken; i < c->nresults; i++)
        pgd_result_free(c->results[i]);
    c->nresults = c->taken = 0;
}

pgd_result *pgd_conn_take_result(pgd_conn *c)
{
    if (c->state == PGD_CS_BUSY || c->taken >= c->nresults)
        return NULL;
    return c->results[c->taken++];
}

/* ---- I/O --------------------------------------------------------------------- */

/* Idle: read whatever the server sent (notices, notifications, EOF). */
static int idle_io(pgd_conn *c)
{
    PGnotify *n;
    PGresult *res;

    /* A server ending the session sends an ErrorResponse (libpq, idle,
     * hands it to the notice processor) and then closes: the end of file
     * is seen at a later wake-up (the socket stays readable). */
    if (!PQconsumeInput(c->pg))
        return pgd_conn_broken(c, -1);
    while ((n = PQnotifies(c->pg)) != NULL)
        PQfreemem(n);
    while (!PQisBusy(c->pg) && (res = PQgetResult(c->pg)) != NULL)
        PQclear(res);
    if (PQstatus(c->pg) != CONNECTION_OK)
        return pgd_conn_broken(c, -1);
    return PGD_OK;
}

int pgd_conn_io(pgd_conn *c)
{
    switch (c->state) {
    case PGD_CS_BUSY:
        return pgd_op_advance(c);
    case PGD_CS_IDLE:
        return idle_io(c);
    case PGD_CS_BROKEN:
        return PGD_ERROR; /* the error that broke it stays */
    default:
        return pgd_conn_fail(c, PGD_E_USAGE, -1, "the connection is not connected");
    }
}

/* ---- cancel -------------------------------------------------------------------- */

int pgd_conn_cancel(pgd_conn *c)
{
    char buf[256];
    PGcancel *cn;
    int ok;

    if (!c->pg || (c->state != PGD_CS_BUSY && c->state != PGD_CS_IDLE))
        return pgd_conn_fail(c, PGD_E_USAGE, -1, "cancel on a connection that is not connected");
    if (c->state == PGD_CS_BUSY)
        c->op.cancelled = 1; /* a later segment (Bind/Execute) must not start */
    cn = PQgetCancel(c->pg);
    if (!cn)
        return pgd_conn_fail(c, PGD_E_NOMEM, -1, "cannot make a cancel request");
    buf[0] = '\0';
    ok = PQcancel(cn, buf, sizeof buf);
    PQfreeCancel(cn);
    if (!ok)
        return pgd_conn_fail(c, PGD_E_IO, -1, "cancel request failed: %s", buf);
    return PGD_OK;
}

/* ---- disconnect ---------------------------------------------------------------- */

/* shutdown(2) rather than PQfinish: PQfinish queues a Terminate after
 * whatever libpq still holds and flushes it all, which would deliver the
 * very Sync this is meant to hold back.  After shutdown nothing more leaves
 * the socket (later sends fail with EPIPE, which libpq ignores); the kernel
 * still delivers what it had already accepted, then the end of the stream.
 * The descriptor itself stays open until pgd_conn_free(). */
void pgd_conn_disconnect(pgd_conn *c)
{
    int fd;

    if (!c->pg || (c->state != PGD_CS_BUSY && c->state != PGD_CS_IDLE))
        return;
    fd = PQsocket(c->pg);
    if (fd >= 0)
        (void)shutdown(fd, SHUT_RDWR);
    pgd_conn_fail(c, PGD_E_IO, -1, "the connection was closed by the client");
    c->state = PGD_CS_BROKEN;
    pgd_conn_drop_results(c);
    pgd_op_reset(c);
}
