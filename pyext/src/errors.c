/*
 * errors.c - map the driver's pgd_error onto psqlpy.exceptions.
 *
 * Server errors become a DatabaseError subclass chosen by SQLSTATE (exact
 * code first, then its two-character class), carrying every field the
 * server sent.  Parameter conversion failures become ParameterError,
 * connection failures ConnectionFailedError, misuse InterfaceError.
 */
#include "pyext.h"

int
psqlpy_init_errors(module_state *st, PyObject *mod)
{
    struct {
        PyObject **slot;
        const char *name;
    } names[] = {
        {&st->BaseError, "Error"},
        {&st->PoolError, "PoolError"},
        {&st->PoolConfigurationError, "PoolConfigurationError"},
        {&st->ConnectionFailedError, "ConnectionFailedError"},
        {&st->InterfaceError, "InterfaceError"},
        {&st->DatabaseError, "DatabaseError"},
        {&st->ParameterError, "ParameterError"},
        {&st->ResultError, "ResultError"},
        {&st->UUIDError, "UUIDValueConvertError"},
        {&st->NoRowsError, "NoRowsError"},
        {&st->QueryTimeoutError, "QueryTimeoutError"},
        {&st->sqlstate_map, "SQLSTATE_CLASSES"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        *names[i].slot = PyObject_GetAttrString(mod, names[i].name);
        if (*names[i].slot == NULL)
            return -1;
    }
    return 0;
}

/* New exception instance of `type` with message `msg`. */
PyObject *
psqlpy_make_error(module_state *st, PyObject *type, const char *msg)
{
    (void)st;
    return PyObject_CallFunction(type, "s", msg ? msg : "");
}

/* Raise `type` with "<what>: <the pending error>" and the pending error as
 * its __cause__.  Returns -1. */
int
psqlpy_reraise_as(PyObject *type, const char *what)
{
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    PyErr_NormalizeException(&t, &v, &tb);
    if (v != NULL && tb != NULL)
        PyException_SetTraceback(v, tb);
    PyErr_Format(type, "%s: %S", what, v ? v : Py_None);
    if (v != NULL) {
        PyObject *t2, *v2, *tb2;
        PyErr_Fetch(&t2, &v2, &tb2);
        PyErr_NormalizeException(&t2, &v2, &tb2);
        PyException_SetCause(v2, v); /* steals v */
        PyErr_Restore(t2, v2, tb2);
    }
    Py_XDECREF(t);
    Py_XDECREF(tb);
    return -1;
}

static int
set_field(PyObject *exc, const char *name, const char *value)
{
    if (value == NULL)
        return 0;
    PyObject *v = PyUnicode_DecodeUTF8(value, (Py_ssize_t)strlen(value), "replace");
    if (v == NULL)
        return -1;
    int rc = PyObject_SetAttrString(exc, name, v);
    Py_DECREF(v);
    return rc;
}

static PyObject *
server_error_type(module_state *st, const char *sqlstate)
{
    PyObject *t = PyDict_GetItemString(st->sqlstate_map, sqlstate);
    if (t == NULL && strlen(sqlstate) >= 2) {
        char cls[3] = {sqlstate[0], sqlstate[1], 0};
        t = PyDict_GetItemString(st->sqlstate_map, cls);
    }
    return t ? t : st->DatabaseError;
}

PyObject *
psqlpy_error_from_conn(module_state *st, const pgd_conn *c)
{
    const pgd_error *e = pgd_conn_error(c);
    PyObject *type;
    const char *msg = e->message ? e->message : "unknown error";

    switch (e->kind) {
    case PGD_E_SERVER:
        type = server_error_type(st, e->sqlstate);
        break;
    case PGD_E_ENCODE:
        type = st->ParameterError; /* the driver's message names the parameter */
        break;
    case PGD_E_CONNECT:
    case PGD_E_IO:
        type = st->ConnectionFailedError;
        break;
    case PGD_E_NOMEM:
        return PyErr_NoMemory(), NULL;
    default:
        type = st->InterfaceError;
        break;
    }

    /* strip libpq's trailing newline */
    char clean[1024];
    size_t n = strlen(msg);
    if (n >= sizeof clean)
        n = sizeof clean - 1;
    memcpy(clean, msg, n);
    while (n > 0 && (clean[n - 1] == '\n' || clean[n - 1] == ' '))
        n--;
    clean[n] = 0;

    PyObject *exc = psqlpy_make_error(st, type, clean);
    if (exc == NULL)
        return NULL;
    if ((e->sqlstate[0] && set_field(exc, "sqlstate", e->sqlstate) < 0) ||
        set_field(exc, "severity", e->severity) < 0 ||
        set_field(exc, "detail", e->detail) < 0 ||
        set_field(exc, "hint", e->hint) < 0 ||
        set_field(exc, "position", e->position) < 0 ||
        set_field(exc, "context", e->context) < 0 ||
        set_field(exc, "schema_name", e->schema_name) < 0 ||
        set_field(exc, "table_name", e->table_name) < 0 ||
        set_field(exc, "column_name", e->column_name) < 0 ||
        set_field(exc, "datatype_name", e->datatype_name) < 0 ||
        set_field(exc, "constraint_name", e->constraint_name) < 0) {
        Py_DECREF(exc);
        return NULL;
    }
    /* index: the failing row of a batch / query of a pipeline */
    int item = e->kind == PGD_E_ENCODE ? e->item : e->index;
    if (item >= 0) {
        PyObject *idx = PyLong_FromLong(item);
        if (idx == NULL || PyObject_SetAttrString(exc, "index", idx) < 0) {
            Py_XDECREF(idx);
            Py_DECREF(exc);
            return NULL;
        }
        Py_DECREF(idx);
    }
    return exc;
}
