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

/* Parse `dsn` and check its integer options; libpq's message into err,
 * with the words it quotes from after masked position `tail` redacted. */
static int check_conninfo(const char *dsn, char *err, size_t errlen, size_t tail)
{
    char *msg = NULL;
    PQconninfoOption *opts = PQconninfoParse(dsn, &msg);

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
        pgd_redact_tail(err, errlen, dsn, tail);
    }
    if (msg)
        PQfreemem(msg);
    return PGD_ERROR;
}

/* A connection string's syntax, checked with its passwords masked first so
 * that no message of libpq's quotes one (see redact.c).  load_balance_hosts,
 * which libpq 15 does not know, is taken out first (hosts.c). */
static int check_dsn(const char *dsn, char *err, size_t errlen)
{
    size_t tail = 0;
    char *lb = NULL, *stripped = pgd_dsn_strip_load_balance(dsn, &lb), *masked;
    int rc;

    pgd_free(lb);
    masked = stripped ? pgd_mask_passwords(stripped, &tail) : NULL;
    if (!masked) {
        pgd_free(stripped);
        if (err && errlen)
            snprintf(err, errlen, "out of memory");
        return PGD_ERROR;
    }
    rc = check_conninfo(masked, err, errlen, tail);
    if (rc == PGD_OK && strcmp(masked, stripped) != 0 &&
        check_conninfo(stripped, NULL, 0, 0) != PGD_OK) {
        rc = PGD_ERROR; /* only the password is at fault: do not quote it */
        if (err && errlen)
            snprintf(err, errlen, "the password in the connection string is malformed "
                                  "(a bad %%XX escape in a URI, or an unterminated quote)");
    }
    pgd_free(masked);
    pgd_free(stripped);
    return rc;
}

int pgd_conninfo_check_params(const char *const *keys, const char *const *vals, char *err,
                              size_t errlen)
{
    pgd_targets t;
    size_t i;
    int rc = PGD_OK;

    /* the first dbname that is a connection string is expanded (as libpq) */
    for (i = 0; keys && keys[i]; i++) {
        if (strcmp(keys[i], "dbname") == 0 && vals[i] && *vals[i]) {
            if (pgd_looks_like_conninfo(vals[i]))
                rc = check_dsn(vals[i], err, errlen);
            break;
        }
    }
    if (rc == PGD_OK) {
        rc = pgd_targets_init(&t, keys, vals, err, errlen);
        for (i = 0; rc == PGD_OK && i < t.nflat; i++)
            rc = check_option(t.keys[i], t.vals[i], err, errlen);
        for (i = 0; rc == PGD_OK && i < t.nport; i++)
            rc = check_option("port", t.port[i], err, errlen);
        pgd_targets_free(&t);
    }
    if (rc != PGD_OK && err && errlen)
        pgd_redact_passwords(err, errlen, keys, vals);
    return rc;
}

int pgd_conninfo_check(const char *dsn, char *err, size_t errlen)
{
    const char *const keys[] = {"dbname", NULL};
    const char *const vals[] = {dsn, NULL};
    int rc;

    if (!dsn) {
        if (err && errlen)
            snprintf(err, errlen, "no connection string");
        return PGD_ERROR;
    }
    rc = check_dsn(dsn, err, errlen);
    if (rc != PGD_OK && err && errlen)
        pgd_redact_passwords(err, errlen, keys, vals);
    return rc != PGD_OK ? rc : pgd_conninfo_check_params(keys, vals, err, errlen);
}

/* ---- connection parameters ---------------------------------------------- */

/* The flattened parameters, with our session options after the caller's
 * (theirs, else PGOPTIONS) and client_encoding.  A parameter set that
 * cannot be used is kept as a message for pgd_conn_connect_start(). */
static int build_params(pgd_conn *c, const char *const *keys, const char *const *vals)
{
    char err[512];
    const char *uopt;
    char *opt;
    size_t len;
    int rc;

    if (pgd_targets_init(&c->tg, keys, vals, err, sizeof err) != PGD_OK) {
        /* the same fault again, said without quoting a password */
        if (pgd_conninfo_check_params(keys, vals, err, sizeof err) == PGD_OK)
            snprintf(err, sizeof err, "invalid connection parameters");
        c->bad_params = pgd_strdup(err);
        return c->bad_params ? PGD_OK : PGD_ERROR;
    }
    uopt = pgd_targets_get(&c->tg, "options");
    if (!uopt || !*uopt)
        uopt = getenv("PGOPTIONS");
    if (uopt && !*uopt)
        uopt = NULL;
    len = (uopt ? strlen(uopt) + 1 : 0) + sizeof PGD_SESSION_OPTIONS;
    opt = pgd_malloc(len);
    if (!opt)
        return PGD_ERROR;
    snprintf(opt, len, "%s%s%s", uopt ? uopt : "", uopt ? " " : "", PGD_SESSION_OPTIONS);
    rc = pgd_targets_set(&c->tg, "options", opt);
    pgd_free(opt);
    if (rc != PGD_OK || pgd_targets_set(&c->tg, "client_encoding", "UTF8") != PGD_OK)
        return PGD_ERROR;
    return PGD_OK;
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
        pgd_targets_free(&c->tg);
        pgd_free(c);
        return NULL;
    }
    return c;
}

/* The connection's server side goes now; its memory stays (a held
 * connection freed: pgd_conn_hold). */
static void conn_close(pgd_conn *c)
{
    pgd_op_reset(c);
    pgd_copy_reset(c);
    pgd_conn_drop_results(c);
    if (c->pg)
        PQfinish(c->pg);
    c->pg = NULL;
    c->state = PGD_CS_BROKEN;
}

void pgd_conn_hold(pgd_conn *c)
{
    c->holds++;
}

void pgd_conn_unhold(pgd_conn *c)
{
    if (--c->holds == 0 && c->doomed) {
        c->doomed = 0;
        pgd_conn_free(c);
    }
}

void pgd_conn_free(pgd_conn *c)
{
    if (!c)
        return;
    if (c->holds > 0) {
        /* a step of its caller is still on the stack: close it now, free it
         * at the last pgd_conn_unhold() */
        c->doomed = 1;
        conn_close(c);
        return;
    }
    pgd_op_reset(c);
    pgd_copy_reset(c);
    pgd_free(c->op.slots); /* kept by pgd_op_reset for reuse */
    pgd_conn_drop_results(c);
    pgd_free(c->results);
    pgd_burst_clear(c, 1);
    if (c->pg)
        PQfinish(c->pg);
    pgd_cache_free(&c->cache);
    pgd_types_release(c->types);
    pgd_error_clear(&c->err);
    pgd_targets_free(&c->tg);
    pgd_free(c->bad_params);
    pgd_free(c->wbuf.p);
    pgd_free(c->cents_buf);
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
    const char *v = pgd_targets_get(&c->tg, "connect_timeout");

    if (!v || !*v)
        v = getenv("PGCONNECT_TIMEOUT");
    return v && *v ? atoi(v) : -1;
}

/* ---- connect --------------------------------------------------------------- */

/* libpq's notice receiver: hand the fields to the hook, if any. */
static void notice_receiver(void *arg, const PGresult *r)
{
    pgd_conn *c = arg;
    pgd_notice n;

    if (!c->notice_fn || !r)
        return;
    n.severity = PQresultErrorField(r, PG_DIAG_SEVERITY);
    n.severity_nonlocalized = PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED);
    n.sqlstate = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    n.message = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    n.detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
    n.hint = PQresultErrorField(r, PG_DIAG_MESSAGE_HINT);
    n.context = PQresultErrorField(r, PG_DIAG_CONTEXT);
    n.position = PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION);
    n.schema = PQresultErrorField(r, PG_DIAG_SCHEMA_NAME);
    n.table = PQresultErrorField(r, PG_DIAG_TABLE_NAME);
    n.column = PQresultErrorField(r, PG_DIAG_COLUMN_NAME);
    n.datatype = PQresultErrorField(r, PG_DIAG_DATATYPE_NAME);
    n.constraint = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
    c->notice_fn(c->notice_arg, &n);
}

void pgd_conn_set_notice_hook(pgd_conn *c, pgd_notice_fn fn, void *arg)
{
    c->notice_fn = fn;
    c->notice_arg = arg;
}

/* A failed host: remember why, let libpq's connection go. */
static void attempt_failed(pgd_conn *c, const char *why)
{
    pgd_targets_log(&c->tg, why && *why ? why : "could not connect");
    if (c->pg) {
        PQfinish(c->pg);
        c->pg = NULL;
    }
}

/* No host is left: the connect failed, with every host's reason and
 * without the passwords of the parameters. */
static int connect_failed(pgd_conn *c)
{
    char buf[PGD_ERRSTR_MAX];

    c->state = PGD_CS_FAILED;
    snprintf(buf, sizeof buf, "%s", c->tg.log ? c->tg.log : "could not connect");
    pgd_redact_passwords(buf, sizeof buf, (const char *const *)c->tg.keys,
                         (const char *const *)c->tg.vals);
    return pgd_conn_fail(c, PGD_E_CONNECT, -1, "%s", buf);
}

/* Start the attempt on the current host, or on the next ones while an
 * attempt fails at once.  PGD_WANT_WRITE or PGD_ERROR. */
static int attempt_start(pgd_conn *c)
{
    for (;;) {
        const char *const *keys, *const *vals;

        pgd_targets_params(&c->tg, &keys, &vals);
        c->attempt++;
        c->pg = PQconnectStartParams(keys, vals, 0);
        if (!c->pg) {
            c->state = PGD_CS_FAILED;
            return pgd_conn_fail(c, PGD_E_NOMEM, -1, "out of memory starting a connection");
        }
        if (PQstatus(c->pg) != CONNECTION_BAD) {
            c->state = PGD_CS_CONNECTING;
            /* libpq: behave as if PQconnectPoll had returned PGRES_POLLING_WRITING */
            return PGD_WANT_WRITE;
        }
        attempt_failed(c, PQerrorMessage(c->pg));
        if (!pgd_targets_next(&c->tg))
            return connect_failed(c);
    }
}

int pgd_conn_connect_start(pgd_conn *c)
{
    if (c->state != PGD_CS_NEW)
        return pgd_conn_fail(c, PGD_E_USAGE, -1, "connect_start on a connection that was "
                                                 "already started");
    pgd_error_clear(&c->err);
    if (c->bad_params) {
        c->state = PGD_CS_FAILED;
        return pgd_conn_fail(c, PGD_E_CONNECT, -1, "%s", c->bad_params);
    }
    if (pgd_targets_begin(&c->tg) != PGD_OK) {
        c->state = PGD_CS_FAILED;
        return pgd_conn_fail(c, PGD_E_NOMEM, -1, "out of memory starting a connection");
    }
    c->attempt = 0;
    return attempt_start(c);
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
        attempt_failed(c, PQerrorMessage(c->pg));
        return pgd_targets_next(&c->tg) ? attempt_start(c) : connect_failed(c);
    }
    if (PQsetnonblocking(c->pg, 1) != 0) {
        attempt_failed(c, "could not make the connection non-blocking");
        return connect_failed(c);
    }
    PQsetNoticeReceiver(c->pg, notice_receiver, c);
    pgd_free(c->tg.log);
    c->tg.log = NULL;
    c->tg.loglen = c->tg.lastoff = 0;
    c->state = PGD_CS_IDLE;
    return PGD_OK;
}

int pgd_conn_connect_skip(pgd_conn *c, const char *why)
{
    char msg[512];
    const char *host, *port;

    if (c->state != PGD_CS_CONNECTING)
        return pgd_conn_fail(c, PGD_E_USAGE, -1, "connect_skip without a connection attempt");
    host = c->pg ? PQhost(c->pg) : NULL;
    port = c->pg ? PQport(c->pg) : NULL;
    snprintf(msg, sizeof msg, "connection to server at \"%s\", port %s failed: %s",
             host && *host ? host : "(default)", port && *port ? port : "(default)",
             why ? why : "timeout expired");
    c->tg.timed_out[pgd_targets_current(&c->tg)] = 1;
    attempt_failed(c, msg);
    return pgd_targets_next(&c->tg) ? attempt_start(c) : connect_failed(c);
}

int pgd_conn_connect_attempt(const pgd_conn *c) { return c->attempt; }

int pgd_conn_socket(const pgd_conn *c)
{
    if (!c->pg || c->state == PGD_CS_BROKEN || c->state == PGD_CS_FAILED)
        return -1;
    return PQsocket(c->pg);
}

int pgd_conn_is_ok(const pgd_conn *c)
{
    return (c->state == PGD_CS_IDLE || c->state == PGD_CS_BUSY || c->state == PGD_CS_COPY) &&
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

void pgd_conn_set_money_int_cents(pgd_conn *c, int on) { c->money_int_cents = on != 0; }

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
    pgd_burst_clear(c, 0);
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
    PGresult *res;

    /* A server ending the session sends an ErrorResponse (libpq, idle,
     * hands it to the notice processor) and then closes: the end of file
     * is seen at a later wake-up (the socket stays readable). */
    if (!PQconsumeInput(c->pg))
        return pgd_conn_broken(c, -1);
    while (!PQisBusy(c->pg) && (res = PQgetResult(c->pg)) != NULL)
        PQclear(res);
    if (PQstatus(c->pg) != CONNECTION_OK)
        return pgd_conn_broken(c, -1);
    return PGD_OK;
}

void pgd_conn_set_notify_hook(pgd_conn *c, pgd_notify_fn fn, void *arg)
{
    c->notify = fn;
    c->notify_arg = fn ? arg : NULL;
}

/* Hand what libpq has queued to the hook (or drop it).  Every path that
 * consumes input runs inside pgd_conn_io(), so draining once at its end
 * sees everything, in order. */
static void deliver_notifies(pgd_conn *c)
{
    PGnotify *n;

    if (!c->pg)
        return;
    while ((n = PQnotifies(c->pg)) != NULL) {
        if (c->notify)
            c->notify(c->notify_arg, n->be_pid, n->relname, n->extra ? n->extra : "");
        PQfreemem(n);
    }
}

static int conn_io(pgd_conn *c)
{
    switch (c->state) {
    case PGD_CS_BUSY:
        if (c->op.kind >= PGD_OP_COPY_START)
            return pgd_copy_advance(c);
        return pgd_op_advance(c);
    case PGD_CS_COPY:
        return pgd_copy_idle_io(c);
    case PGD_CS_IDLE:
        return idle_io(c);
    case PGD_CS_BROKEN:
        return PGD_ERROR; /* the error that broke it stays */
    default:
        return pgd_conn_fail(c, PGD_E_USAGE, -1, "the connection is not connected");
    }
}

int pgd_conn_io(pgd_conn *c)
{
    int status = conn_io(c);

    deliver_notifies(c);
    return status;
}

/* ---- cancel -------------------------------------------------------------------- */

int pgd_conn_cancel(pgd_conn *c)
{
    char buf[256];
    PGcancel *cn;
    int ok;

    if (!c->pg || (c->state != PGD_CS_BUSY && c->state != PGD_CS_IDLE && c->state != PGD_CS_COPY))
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

    if (!c->pg || (c->state != PGD_CS_BUSY && c->state != PGD_CS_IDLE && c->state != PGD_CS_COPY))
        return;
    fd = PQsocket(c->pg);
    if (fd >= 0)
        (void)shutdown(fd, SHUT_RDWR);
    pgd_conn_fail(c, PGD_E_IO, -1, "the connection was closed by the client");
    c->state = PGD_CS_BROKEN;
    pgd_conn_drop_results(c);
    pgd_op_reset(c);
    pgd_copy_reset(c);
}
