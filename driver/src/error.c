/*
 * error.c - pgd_error: the details of the last failure, kept on the
 * connection until its next operation.  Every string is a bounded
 * pgd_malloc'ed copy (PGD_ERRSTR_MAX bytes at most) owned by the error.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* message is never NULL while kind != NONE: when its copy cannot be made
 * it points at this constant, which pgd_error_clear() does not free. */
static const char oom_msg[] = "out of memory";

void pgd_error_init(pgd_error *e)
{
    memset(e, 0, sizeof *e);
    e->index = -1;
    e->item = -1;
}

static void free_str(const char **s)
{
    pgd_free((void *)*s);
    *s = NULL;
}

void pgd_error_clear(pgd_error *e)
{
    if (e->kind == PGD_E_NONE && !e->message)
        return;
    if (e->message != oom_msg)
        pgd_free((void *)e->message);
    free_str(&e->severity);
    free_str(&e->detail);
    free_str(&e->hint);
    free_str(&e->position);
    free_str(&e->context);
    free_str(&e->schema_name);
    free_str(&e->table_name);
    free_str(&e->column_name);
    free_str(&e->datatype_name);
    free_str(&e->constraint_name);
    pgd_error_init(e);
}

/* A bounded copy without trailing newlines; NULL for NULL (or OOM). */
static const char *copy_bounded(const char *s)
{
    size_t n;
    char *p;

    if (!s)
        return NULL;
    n = strnlen(s, PGD_ERRSTR_MAX - 1);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    p = pgd_malloc(n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static void set_message(pgd_error *e, const char *msg)
{
    e->message = copy_bounded(msg);
    if (!e->message) {
        e->kind = PGD_E_NOMEM;
        e->message = oom_msg;
    }
}

int pgd_error_setv(pgd_error *e, int kind, int index, const char *fmt, va_list ap)
{
    char buf[1024];

    pgd_error_clear(e);
    vsnprintf(buf, sizeof buf, fmt, ap);
    e->kind = kind;
    e->index = index;
    set_message(e, buf);
    return PGD_ERROR;
}

int pgd_error_set(pgd_error *e, int kind, int index, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    pgd_error_setv(e, kind, index, fmt, ap);
    va_end(ap);
    return PGD_ERROR;
}

int pgd_error_from_result(pgd_error *e, const PGresult *res, int index)
{
    const char *msg, *st;

    pgd_error_clear(e);
    e->kind = PGD_E_SERVER;
    e->index = index;
    st = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (st) {
        strncpy(e->sqlstate, st, sizeof e->sqlstate - 1);
        e->sqlstate[sizeof e->sqlstate - 1] = '\0';
    }
    msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    if (!msg)
        msg = PQresultErrorMessage(res);
    if (!msg || !*msg)
        msg = "unknown server error";
    set_message(e, msg);
    e->severity = copy_bounded(PQresultErrorField(res, PG_DIAG_SEVERITY));
    e->detail = copy_bounded(PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL));
    e->hint = copy_bounded(PQresultErrorField(res, PG_DIAG_MESSAGE_HINT));
    e->position = copy_bounded(PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION));
    e->context = copy_bounded(PQresultErrorField(res, PG_DIAG_CONTEXT));
    e->schema_name = copy_bounded(PQresultErrorField(res, PG_DIAG_SCHEMA_NAME));
    e->table_name = copy_bounded(PQresultErrorField(res, PG_DIAG_TABLE_NAME));
    e->column_name = copy_bounded(PQresultErrorField(res, PG_DIAG_COLUMN_NAME));
    e->datatype_name = copy_bounded(PQresultErrorField(res, PG_DIAG_DATATYPE_NAME));
    e->constraint_name = copy_bounded(PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME));
    return PGD_ERROR;
}

int pgd_error_from_conn(pgd_error *e, PGconn *pg, int kind, int index)
{
    const char *msg = pg ? PQerrorMessage(pg) : NULL;

    if (!msg || !*msg)
        msg = kind == PGD_E_IO ? "connection lost" : "could not connect";
    return pgd_error_set(e, kind, index, "%s", msg);
}
