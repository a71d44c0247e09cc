/*
 * sessions.c - session setup and visibility for a pool's connections:
 *
 *   server_settings=  {name: value} sent at connect in libpq's `options`
 *                     (-c name=value each), so they are the session's
 *                     defaults: RESET ALL / DISCARD ALL (the Clean
 *                     recycling) come back to them.
 *   init=             a coroutine function awaited with a Connection on
 *                     each new connection before anyone else uses it; if
 *                     it raises, the connection is closed and the caller
 *                     that was waiting for it gets the exception.
 *   on_notice=        notices and warnings of the server (RAISE NOTICE);
 *                     each also goes to the logging logger "psqlpy".
 *   query hooks       pool.add_query_hook(fn): fn(QueryEvent) after each
 *                     statement (SQL, parameter count, duration, rows,
 *                     error).  With no hook a statement costs one NULL test.
 *
 * Python code never runs inside the driver's reading: notices and query
 * events are handed to the loop with call_soon (psqlpy._sessions turns
 * them into objects, logs and calls the callbacks), and init runs as a task.
 */
#include "pyext.h"

#include <time.h>

double
sessions_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Take init=, on_notice= and server_settings= out of kwds.  *rest: a new
 * dict of the other keywords (or NULL when kwds is NULL); *settings:
 * borrowed from kwds, or Py_None.  0, or -1 with PoolConfigurationError. */
int
sessions_parse(PoolObject *pool, PyObject *kwds, PyObject **rest, PyObject **settings)
{
    module_state *st = pool->st;
    PyObject *init = NULL, *notice = NULL;
    *rest = NULL;
    *settings = Py_None;
    if (pool->sessions == NULL) {
        pool->sessions = PyImport_ImportModule("psqlpy._sessions");
        if (pool->sessions == NULL)
            return -1;
    }
    if (kwds != NULL) {
        *rest = PyDict_Copy(kwds);
        if (*rest == NULL)
            return -1;
        init = PyDict_GetItemString(kwds, "init");
        notice = PyDict_GetItemString(kwds, "on_notice");
        PyObject *s = PyDict_GetItemString(kwds, "server_settings");
        if (s != NULL)
            *settings = s;
        if ((init && PyDict_DelItemString(*rest, "init") < 0) ||
            (notice && PyDict_DelItemString(*rest, "on_notice") < 0) ||
            (s && PyDict_DelItemString(*rest, "server_settings") < 0))
            goto error;
    }
    if (init == Py_None)
        init = NULL;
    if (notice == Py_None)
        notice = NULL;
    if (init != NULL && !PyCallable_Check(init)) {
        PyErr_Format(st->PoolConfigurationError,
                     "init must be a coroutine function taking a Connection, got %R", init);
        goto error;
    }
    if (notice != NULL && !PyCallable_Check(notice)) {
        PyErr_Format(st->PoolConfigurationError, "on_notice must be callable, got %R", notice);
        goto error;
    }
    if (*settings != Py_None && !PyDict_Check(*settings)) {
        PyErr_Format(st->PoolConfigurationError,
                     "server_settings must be a dict of str to str, got %R", *settings);
        goto error;
    }
    Py_XSETREF(pool->init, Py_XNewRef(init));
    Py_XSETREF(pool->on_notice, Py_XNewRef(notice));
    return 0;
error:
    Py_CLEAR(*rest);
    *settings = Py_None;
    return -1;
}

/* server_settings as libpq's options value: "-c name=value" each, a
 * backslash or a space inside escaped with a backslash (libpq splits
 * options at unescaped spaces).  New reference, or NULL with
 * PoolConfigurationError. */
PyObject *
sessions_options(PoolObject *pool, PyObject *settings)
{
    module_state *st = pool->st;
    PyObject *out = PyUnicode_FromString(""), *key, *value;
    Py_ssize_t pos = 0;
    while (out != NULL && PyDict_Next(settings, &pos, &key, &value)) {
        if (!PyUnicode_Check(key) || !PyUnicode_Check(value)) {
            PyErr_Format(st->PoolConfigurationError,
                         "server_settings must map str to str, got %R: %R", key, value);
            Py_CLEAR(out);
            break;
        }
        Py_ssize_t klen = PyUnicode_GET_LENGTH(key);
        int ok = klen > 0;
        for (Py_ssize_t i = 0; ok && i < klen; i++) {
            Py_UCS4 ch = PyUnicode_READ_CHAR(key, i);
            ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                 (ch >= '0' && ch <= '9') || ch == '_' || ch == '.';
        }
        if (!ok) {
            PyErr_Format(st->PoolConfigurationError,
                         "server_settings: %R is not a setting name", key);
            Py_CLEAR(out);
            break;
        }
        Py_ssize_t vlen = PyUnicode_GET_LENGTH(value);
        PyObject *parts = PyList_New(0);
        int bad = parts == NULL;
        for (Py_ssize_t i = 0; !bad && i < vlen; i++) {
            Py_UCS4 ch = PyUnicode_READ_CHAR(value, i);
            if (ch == 0) {
                PyErr_Format(st->PoolConfigurationError,
                             "server_settings: the value of %R contains a NUL character", key);
                bad = 1;
                break;
            }
            PyObject *c = ch == '\\'  ? PyUnicode_FromString("\\\\")
                          : ch == ' ' ? PyUnicode_FromString("\\ ")
                                      : PyUnicode_FromOrdinal((int)ch);
            bad = c == NULL || PyList_Append(parts, c) < 0;
            Py_XDECREF(c);
        }
        PyObject *empty = bad ? NULL : PyUnicode_FromString("");
        PyObject *esc = empty ? PyUnicode_Join(empty, parts) : NULL;
        Py_XDECREF(empty);
        Py_XDECREF(parts);
        PyObject *item = esc ? PyUnicode_FromFormat("%s-c %U=%U",
                                                    PyUnicode_GET_LENGTH(out) ? " " : "", key,
                                                    esc)
                             : NULL;
        Py_XDECREF(esc);
        if (item == NULL) {
            Py_CLEAR(out);
            break;
        }
        PyObject *joined = PyUnicode_Concat(out, item);
        Py_DECREF(item);
        Py_SETREF(out, joined);
    }
    return out;
}

/* ---- handing things to the loop ----------------------------------------- */

/* loop.call_soon(psqlpy._sessions.<name>, *args); steals args (a tuple, or
 * NULL after a failure).  Runs with whatever exception was set put aside
 * (libpq may read while one is being raised) and restores it; a failure
 * is reported as unraisable, never raised into the driver's work. */
static void
post(PoolObject *pool, RawConn *rc, const char *name, PyObject *args)
{
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    PyObject *fn = args ? PyObject_GetAttrString(pool->sessions, name) : NULL;
    PyObject *call = fn ? PyTuple_Pack(1, fn) : NULL;
    PyObject *all = call ? PySequence_Concat(call, args) : NULL;
    PyObject *soon = all ? PyObject_GetAttrString(rc->loop, "call_soon") : NULL;
    PyObject *r = soon ? PyObject_Call(soon, all, NULL) : NULL;
    if (r == NULL)
        PyErr_WriteUnraisable((PyObject *)pool);
    Py_XDECREF(r);
    Py_XDECREF(soon);
    Py_XDECREF(all);
    Py_XDECREF(call);
    Py_XDECREF(fn);
    Py_XDECREF(args);
    PyErr_Restore(et, ev, tb);
}

/* ---- notices ----------------------------------------------------------- */

static void
on_notice(void *arg, const pgd_notice *n)
{
    pgd_conn *c = arg;
    RawConn *rc = pgd_conn_userdata(c);
    if (rc == NULL || rc->pool == NULL || rc->pool->sessions == NULL || rc->loop == NULL)
        return;
    PoolObject *pool = rc->pool;
    PyObject *d = Py_BuildValue(
        "{s:z,s:z,s:z,s:z,s:z,s:z,s:z,s:z,s:z,s:z,s:z,s:z,s:z}", "severity", n->severity,
        "severity_nonlocalized", n->severity_nonlocalized, "sqlstate", n->sqlstate, "message",
        n->message, "detail", n->detail, "hint", n->hint, "context", n->context, "position",
        n->position, "schema", n->schema, "table", n->table, "column", n->column, "datatype",
        n->datatype, "constraint", n->constraint);
    PyObject *args = d ? PyTuple_Pack(2, pool->on_notice ? pool->on_notice : Py_None, d)
                       : NULL;
    Py_XDECREF(d);
    post(pool, rc, "_dispatch_notice", args);
}

void
sessions_watch(PoolObject *pool, pgd_conn *c)
{
    (void)pool;
    pgd_conn_set_notice_hook(c, on_notice, c);
}

/* ---- query hooks ------------------------------------------------------- */

/* op finished on rc with value or exc (borrowed): hand a QueryEvent to the
 * hooks on the next loop turn. */
void
sessions_report(RawConn *rc, Op *op, PyObject *value, PyObject *exc)
{
    (void)value;
    PoolObject *pool = rc->pool;
    if (pool == NULL || pool->query_hooks == NULL || pool->sessions == NULL ||
        rc->loop == NULL)
        return;
    double secs = sessions_now() - op->t0;
    PyObject *args = Py_BuildValue("(OOndLO)", pool->query_hooks,
                                   op->sql ? op->sql : Py_None, (Py_ssize_t)op->nparams, secs,
                                   (long long)op->rows, exc ? exc : Py_None);
    post(pool, rc, "_dispatch_query", args);
}

PyObject *
sessions_add_query_hook(PyObject *self, PyObject *fn)
{
    PoolObject *pool = (PoolObject *)self;
    if (!PyCallable_Check(fn)) {
        PyErr_Format(PyExc_TypeError, "a query hook must be callable, got %R", fn);
        return NULL;
    }
    PyObject *add = PyTuple_Pack(1, fn);
    if (add == NULL)
        return NULL;
    PyObject *hooks = pool->query_hooks ? PySequence_Concat(pool->query_hooks, add)
                                        : Py_NewRef(add);
    Py_DECREF(add);
    if (hooks == NULL)
        return NULL;
    Py_XSETREF(pool->query_hooks, hooks);
    Py_RETURN_NONE;
}

PyObject *
sessions_remove_query_hook(PyObject *self, PyObject *fn)
{
    PoolObject *pool = (PoolObject *)self;
    Py_ssize_t n = pool->query_hooks ? PyTuple_GET_SIZE(pool->query_hooks) : 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *h = PyTuple_GET_ITEM(pool->query_hooks, i);
        int eq = h == fn ? 1 : PyObject_RichCompareBool(h, fn, Py_EQ);
        if (eq < 0)
            return NULL;
        if (!eq)
            continue;
        if (n == 1) {
            Py_CLEAR(pool->query_hooks);
            Py_RETURN_NONE;
        }
        PyObject *head = PyTuple_GetSlice(pool->query_hooks, 0, i);
        PyObject *tail = head ? PyTuple_GetSlice(pool->query_hooks, i + 1, n) : NULL;
        PyObject *hooks = tail ? PySequence_Concat(head, tail) : NULL;
        Py_XDECREF(head);
        Py_XDECREF(tail);
        if (hooks == NULL)
            return NULL;
        Py_XSETREF(pool->query_hooks, hooks);
        Py_RETURN_NONE;
    }
    PyErr_Format(PyExc_ValueError, "%R is not a query hook of this pool", fn);
    return NULL;
}

/* ---- init= ------------------------------------------------------------- */

/* rc just connected.  With an init function, lend rc to a Connection and
 * start psqlpy._sessions._run_init(pool, rc, conn, init), which calls
 * pool._init_done(rc, exc) when init is over; rc keeps its connect_waiter
 * (and an extra lease) until then.  1: started; 0: nothing to do, or it
 * could not start (then the error is the waiter's). */
int
sessions_start_init(PoolObject *pool, RawConn *rc)
{
    if (pool->init == NULL || rc->inited)
        return 0;
    rc->inited = 1;
    rc->leased += 2; /* one for the Connection, one until _init_done */
    PyObject *conn = connection_new(pool->st, pool, rc);
    PyObject *fn = conn ? PyObject_GetAttrString(pool->sessions, "_run_init") : NULL;
    PyObject *r = fn ? PyObject_CallFunctionObjArgs(fn, pool->loop, (PyObject *)pool,
                                                    (PyObject *)rc, conn, pool->init, NULL)
                     : NULL;
    Py_XDECREF(fn);
    if (r != NULL) {
        Py_DECREF(r);
        Py_DECREF(conn);
        return 1;
    }
    /* could not even start it: fail the waiter as a failed init would */
    PyObject *exc = psqlpy_current_exception();
    if (conn != NULL) {
        PyObject *c = PyObject_CallMethod(conn, "close", NULL);
        if (c == NULL)
            PyErr_Clear();
        Py_XDECREF(c);
        Py_DECREF(conn);
    } else {
        rc->leased--;
    }
    rc->leased--;
    pool_conn_failed(pool, rc, exc); /* steals exc; fails the waiter */
    return 1;
}

/* pool._init_done(rc, exc): init is over on rc (exc None when it
 * succeeded).  Its Connection was closed already. */
PyObject *
sessions_init_done(PyObject *self, PyObject *args)
{
    PoolObject *pool = (PoolObject *)self;
    PyObject *rco, *exc;
    if (!PyArg_ParseTuple(args, "OO:_init_done", &rco, &exc))
        return NULL;
    if (!PyObject_TypeCheck(rco, pool->st->RawConnType)) {
        PyErr_SetString(PyExc_TypeError, "_init_done: not a connection of this pool");
        return NULL;
    }
    RawConn *rc = (RawConn *)rco;
    if (rc->leased > 0)
        rc->leased--;
    Op *waiter = rc->connect_waiter;
    rc->connect_waiter = NULL;
    const char *why = NULL;
    if (exc == Py_None && (rc->state != RC_READY || rc->pool == NULL))
        why = "the connection was lost while its init function ran";
    else if (exc == Py_None && pool->closed)
        why = "the pool was closed while the connection's init function ran";
    if (exc != Py_None || why != NULL) {
        PyObject *err = why == NULL ? Py_NewRef(exc)
                                    : psqlpy_make_error(pool->st,
                                                        pool->closed
                                                            ? pool->st->InterfaceError
                                                            : pool->st->ConnectionFailedError,
                                                        why);
        if (rc->pool != NULL) {
            rc->connect_waiter = waiter; /* pool_conn_failed fails it */
            waiter = NULL;
            pool_conn_failed(pool, rc, err);
        } else if (waiter != NULL && !waiter->aop.abandoned && waiter->state != OPS_DONE) {
            Py_CLEAR(waiter->rc);
            op_fail(waiter, err);
        } else {
            Py_XDECREF(err);
        }
        Py_XDECREF(waiter);
        Py_RETURN_NONE;
    }
    pool_conn_ready(pool, rc, waiter);
    Py_XDECREF(waiter);
    Py_RETURN_NONE;
}
