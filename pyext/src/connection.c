/*
 * connection.c - Connection: a pool connection lent to the user.
 *
 * Operations on one Connection run in the order they were started (a FIFO
 * on the underlying RawConn), so several tasks may share it safely.  The
 * connection goes back to the pool on close(), at the end of `async with`,
 * or when the object is garbage-collected; one left inside a transaction
 * is rolled back first.
 */
#include "pyext.h"

typedef struct ConnectionObject {
    PyObject_HEAD
    module_state *st;
    PoolObject *pool;
    RawConn *rc;
    int closed;
    PyObject *weakreflist;
} ConnectionObject;

PyObject *
connection_new(module_state *st, PoolObject *pool, RawConn *rc)
{
    PyTypeObject *tp = (PyTypeObject *)(st->connection_class ? st->connection_class
                                                             : (PyObject *)st->ConnectionType);
    ConnectionObject *c = (ConnectionObject *)tp->tp_alloc(tp, 0);
    if (c == NULL)
        return NULL;
    c->st = st;
    c->pool = (PoolObject *)Py_NewRef((PyObject *)pool);
    c->rc = (RawConn *)Py_NewRef((PyObject *)rc);
    c->closed = 0;
    return (PyObject *)c;
}

static void
release(ConnectionObject *self)
{
    if (self->closed)
        return;
    self->closed = 1;
    RawConn *rc = self->rc;
    if (rc == NULL)
        return;
    if (rc->leased > 0)
        rc->leased--;
    if (!rc->leased)
        rawconn_set_notify(rc, NULL); /* nobody listens any more */
    if (rc->pool != NULL && rawconn_idle(rc) && !rc->leased)
        pool_release(rc->pool, rc);
}

static int
check_open(ConnectionObject *self)
{
    if (self->closed) {
        PyErr_SetString(self->st->InterfaceError,
                        "the connection was released to the pool and cannot be used");
        return -1;
    }
    if (self->rc == NULL || self->rc->state == RC_CLOSED) {
        PyErr_SetString(self->st->ConnectionFailedError, "the connection is closed");
        return -1;
    }
    return 0;
}

static Op *
new_op(ConnectionObject *self, int kind, int mode)
{
    Op *op = op_new(self->st, self->pool, kind, mode);
    if (op != NULL)
        op->conn_obj = Py_NewRef((PyObject *)self);
    return op;
}

static PyObject *
submit(ConnectionObject *self, Op *op)
{
    if (op_arm_timeout(op) < 0)
        return op_failed_awaitable(op);
    rawconn_submit(self->rc, op);
    return (PyObject *)op;
}

static PyObject *
query(ConnectionObject *self, PyObject *args, PyObject *kwds, int mode, const char *fmt)
{
    static char *kwlist[] = {"querystring", "parameters", "timeout", "prepared", NULL};
    PyObject *sql, *params = Py_None, *timeout = Py_None;
    int prepared = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, fmt, kwlist, &sql, &params, &timeout,
                                     &prepared))
        return NULL;
    if (pool_check_loop(self->pool) < 0)
        return NULL;
    Op *op = new_op(self, OP_QUERY, mode);
    if (op == NULL)
        return NULL;
    op->unnamed = !prepared;
    if (check_open(self) < 0 || op_set_timeout(op, timeout, 1) < 0 ||
        op_bind_query(op, sql, params) < 0)
        return op_failed_awaitable(op);
    return submit(self, op);
}

static PyObject *
conn_execute(PyObject *self, PyObject *args, PyObject *kwds)
{
    return query((ConnectionObject *)self, args, kwds, RES_QUERY, "O|OOp:execute");
}

static PyObject *
conn_fetch_row(PyObject *self, PyObject *args, PyObject *kwds)
{
    return query((ConnectionObject *)self, args, kwds, RES_ROW, "O|OOp:fetch_row");
}

/* Re-raise the current error with "<what> <i>: " in front of its message
 * and the item's number in its `index` attribute. */
static void
reraise_for_item(const char *what, size_t i)
{
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    PyErr_NormalizeException(&t, &v, &tb);
    PyObject *msg = PyUnicode_FromFormat("%s %zu: %S", what, i, v);
    PyObject *exc = msg ? PyObject_CallOneArg(t, msg) : NULL;
    PyObject *idx = exc ? PyLong_FromSize_t(i) : NULL;
    Py_XDECREF(msg);
    if (idx == NULL || PyObject_SetAttrString(exc, "index", idx) < 0) {
        /* keep the original error rather than lose it */
        Py_XDECREF(idx);
        Py_XDECREF(exc);
        PyErr_Clear();
        PyErr_Restore(t, v, tb);
        return;
    }
    Py_DECREF(idx);
    PyException_SetCause(exc, v); /* steals v */
    PyErr_SetObject(t, exc);
    Py_DECREF(exc);
    Py_XDECREF(t);
    Py_XDECREF(tb);
}

/* execute_many(querystring, parameters): one statement, many rows, one
 * pipeline with a single Sync. */
static PyObject *
conn_execute_many(PyObject *op_self, PyObject *args, PyObject *kwds)
{
    ConnectionObject *self = (ConnectionObject *)op_self;
    static char *kwlist[] = {"querystring", "parameters", "timeout", "prepared", NULL};
    PyObject *sql, *rows = Py_None, *timeout = Py_None;
    int prepared = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|OOp:execute_many", kwlist, &sql, &rows,
                                     &timeout, &prepared))
        return NULL;
    if (pool_check_loop(self->pool) < 0)
        return NULL;
    Op *op = new_op(self, OP_BATCH, RES_NONE);
    if (op == NULL)
        return NULL;
    op->unnamed = !prepared;
    if (check_open(self) < 0 || op_set_timeout(op, timeout, 1) < 0 ||
        op_bind_query(op, sql, Py_None) < 0)
        return op_failed_awaitable(op);
    if (rows == Py_None) {
        op_complete(op, Py_NewRef(Py_None));
        return (PyObject *)op;
    }
    /* Capture the rows now, each as a tuple owned by the call: converting a
     * value may run Python code that changes the caller's lists, and the
     * caller may change them once this returns. */
    PyObject *seq = PySequence_Tuple(rows);
    if (seq == NULL || PyList_Append(op->keep, seq) < 0) {
        Py_XDECREF(seq);
        PyErr_SetString(self->st->ParameterError,
                        "execute_many parameters must be a list of lists of values");
        return op_failed_awaitable(op);
    }
    Py_DECREF(seq);
    size_t nrows = (size_t)PyTuple_GET_SIZE(seq);
    if (nrows == 0) {
        op_complete(op, Py_NewRef(Py_None));
        return (PyObject *)op;
    }
    PyObject *tups = PyTuple_New((Py_ssize_t)nrows);
    if (tups == NULL || PyList_Append(op->keep, tups) < 0) {
        Py_XDECREF(tups);
        return op_failed_awaitable(op);
    }
    Py_DECREF(tups);
    size_t nparams = 0;
    for (size_t r = 0; r < nrows; r++) {
        PyObject *row = PyTuple_GET_ITEM(seq, (Py_ssize_t)r);
        if (!PyList_Check(row) && !PyTuple_Check(row)) {
            PyErr_Format(self->st->ParameterError,
                         "execute_many row %zu must be a list or tuple, not %s", r,
                         Py_TYPE(row)->tp_name);
            return op_failed_awaitable(op);
        }
        PyObject *tup = PySequence_Tuple(row);
        if (tup == NULL)
            return op_failed_awaitable(op);
        PyTuple_SET_ITEM(tups, (Py_ssize_t)r, tup);
        size_t n = (size_t)PyTuple_GET_SIZE(tup);
        if (r == 0)
            nparams = n;
        else if (n != nparams) {
            PyErr_Format(self->st->ParameterError,
                         "execute_many row %zu has %zu values, row 0 has %zu", r, n, nparams);
            return op_failed_awaitable(op);
        }
    }
    if (nparams > 0) {
        op->vals = PyMem_Calloc(nrows * nparams, sizeof(pgd_value));
        if (op->vals == NULL) {
            PyErr_NoMemory();
            return op_failed_awaitable(op);
        }
    }
    for (size_t r = 0; r < nrows && nparams > 0; r++) {
        PyObject *tup = PyTuple_GET_ITEM(tups, (Py_ssize_t)r);
        if (params_convert(self->st, tup, op->vals + r * nparams, nparams, op->keep) < 0) {
            reraise_for_item("execute_many row", r);
            return op_failed_awaitable(op);
        }
    }
    op->nrows = nrows;
    op->nparams = nparams;
    op->nvals = nrows * nparams;
    return submit(self, op);
}

/* pipeline(queries): [(querystring, parameters or None), ...] -> list of
 * QueryResult, sent in one pipeline with a single Sync. */
static PyObject *
conn_pipeline(PyObject *op_self, PyObject *args, PyObject *kwds)
{
    ConnectionObject *self = (ConnectionObject *)op_self;
    module_state *st = self->st;
    static char *kwlist[] = {"queries", "timeout", "prepared", NULL};
    PyObject *queries, *timeout = Py_None;
    int prepared = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|Op:pipeline", kwlist, &queries, &timeout,
                                     &prepared))
        return NULL;
    if (pool_check_loop(self->pool) < 0)
        return NULL;
    Op *op = new_op(self, OP_PIPELINE, RES_LIST);
    if (op == NULL)
        return NULL;
    op->unnamed = !prepared;
    if (check_open(self) < 0 || op_set_timeout(op, timeout, 1) < 0)
        return op_failed_awaitable(op);
    if ((op->keep = PyList_New(0)) == NULL)
        return op_failed_awaitable(op);
    /* Capture every query now as (sql, tuple of parameters or None), owned
     * by the call: the caller's lists may change under the conversion
     * (Python code runs in it) and after the call returns. */
    PyObject *seq = PySequence_Tuple(queries);
    if (seq == NULL || PyList_Append(op->keep, seq) < 0) {
        Py_XDECREF(seq);
        return op_failed_awaitable(op);
    }
    Py_DECREF(seq);
    size_t nq = (size_t)PyTuple_GET_SIZE(seq);
    if (nq == 0) {
        op_complete(op, PyList_New(0));
        return (PyObject *)op;
    }
    PyObject *plan = PyTuple_New((Py_ssize_t)nq * 2);
    if (plan == NULL || PyList_Append(op->keep, plan) < 0) {
        Py_XDECREF(plan);
        return op_failed_awaitable(op);
    }
    Py_DECREF(plan);
    size_t total = 0;
    for (size_t i = 0; i < nq; i++) {
        PyObject *q = PyTuple_GET_ITEM(seq, (Py_ssize_t)i);
        PyObject *sql = q, *params = Py_None, *pair = NULL;
        if ((PyTuple_Check(q) || PyList_Check(q)) && PySequence_Size(q) == 2) {
            pair = PySequence_Tuple(q);
            if (pair == NULL)
                return op_failed_awaitable(op);
            if (PyTuple_GET_SIZE(pair) != 2) {
                Py_DECREF(pair);
                pair = NULL;
            } else {
                sql = PyTuple_GET_ITEM(pair, 0);
                params = PyTuple_GET_ITEM(pair, 1);
            }
        }
        if (pair == NULL && !PyUnicode_Check(q)) {
            PyErr_Format(PyExc_TypeError,
                         "pipeline query %zu must be (querystring, parameters), not %s", i,
                         Py_TYPE(q)->tp_name);
            return op_failed_awaitable(op);
        }
        PyTuple_SET_ITEM(plan, (Py_ssize_t)(2 * i), Py_NewRef(sql));
        Py_XDECREF(pair); /* plan holds sql; params is captured below */
        PyObject *tup = Py_None;
        if (params != Py_None) {
            tup = PyUnicode_Check(params) || PyBytes_Check(params) || PyDict_Check(params)
                      ? NULL
                      : PySequence_Tuple(params);
            if (tup == NULL) {
                PyErr_Clear();
                PyErr_Format(st->ParameterError,
                             "pipeline query %zu: parameters must be a list or None", i);
                return op_failed_awaitable(op);
            }
            total += (size_t)PyTuple_GET_SIZE(tup);
        } else {
            Py_INCREF(tup);
        }
        PyTuple_SET_ITEM(plan, (Py_ssize_t)(2 * i + 1), tup);
    }
    op->sqls = PyMem_Calloc(nq, sizeof(char *));
    op->np = PyMem_Calloc(nq, sizeof(size_t));
    op->pv = PyMem_Calloc(nq, sizeof(pgd_value *));
    op->vals = total ? PyMem_Calloc(total, sizeof(pgd_value)) : NULL;
    if (!op->sqls || !op->np || !op->pv || (total && !op->vals)) {
        PyErr_NoMemory();
        return op_failed_awaitable(op);
    }
    size_t off = 0;
    for (size_t i = 0; i < nq; i++) {
        PyObject *sql = PyTuple_GET_ITEM(plan, (Py_ssize_t)(2 * i));
        PyObject *tup = PyTuple_GET_ITEM(plan, (Py_ssize_t)(2 * i + 1));
        if (!PyUnicode_Check(sql)) {
            PyErr_Format(PyExc_TypeError, "pipeline query %zu: querystring must be str", i);
            return op_failed_awaitable(op);
        }
        if ((op->sqls[i] = psqlpy_sql_utf8(st, sql)) == NULL) {
            reraise_for_item("pipeline query", i);
            return op_failed_awaitable(op);
        }
        op->pv[i] = op->vals ? op->vals + off : NULL;
        if (tup == Py_None)
            continue;
        size_t n = (size_t)PyTuple_GET_SIZE(tup);
        if (params_convert(st, tup, op->vals + off, n, op->keep) < 0) {
            reraise_for_item("pipeline query", i);
            return op_failed_awaitable(op);
        }
        op->np[i] = n;
        off += n;
    }
    op->nrows = nq;
    op->nvals = total;
    return submit(self, op);
}

/* _simple(sql, timeout=None): a simple-protocol command (BEGIN, SAVEPOINT, ...). */
static PyObject *
conn_simple(PyObject *op_self, PyObject *const *args, Py_ssize_t nargs)
{
    ConnectionObject *self = (ConnectionObject *)op_self;
    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "_simple(sql, timeout=None)");
        return NULL;
    }
    if (pool_check_loop(self->pool) < 0)
        return NULL;
    PyObject *sql = args[0], *timeout = nargs > 1 ? args[1] : Py_None;
    Op *op = new_op(self, OP_SIMPLE, RES_NONE);
    if (op == NULL)
        return NULL;
    if (check_open(self) < 0 || op_set_timeout(op, timeout, 1) < 0 ||
        op_bind_query(op, sql, Py_None) < 0)
        return op_failed_awaitable(op);
    return submit(self, op);
}

/* ---- COPY (the rest is in copy.c) ---- */

pgd_conn *
connection_pgd(PyObject *op_self)
{
    ConnectionObject *self = (ConnectionObject *)op_self;
    if (check_open(self) < 0)
        return NULL;
    return self->rc->conn;
}

/* _copy(kind, arg): one step of a COPY (OP_COPY_* relative to
 * OP_COPY_START); awaitable, see copy.c. */
static PyObject *
conn_copy_step(PyObject *op_self, PyObject *args)
{
    ConnectionObject *self = (ConnectionObject *)op_self;
    int step;
    PyObject *arg = Py_None;
    if (!PyArg_ParseTuple(args, "i|O:_copy", &step, &arg))
        return NULL;
    if (step < 0 || step > OP_COPY_ABORT - OP_COPY_START) {
        PyErr_SetString(PyExc_ValueError, "unknown COPY step");
        return NULL;
    }
    if (pool_check_loop(self->pool) < 0)
        return NULL;
    Op *op = new_op(self, OP_COPY_START + step, RES_COPY);
    if (op == NULL)
        return NULL;
    op->sql = Py_NewRef(arg);
    if (check_open(self) < 0)
        return op_failed_awaitable(op);
    return submit(self, op);
}

static PyObject *
done_awaitable(ConnectionObject *self, PyObject *value)
{
    Op *op = op_new(self->st, self->pool, OP_ACQUIRE, RES_NONE);
    if (op == NULL) {
        Py_DECREF(value);
        return NULL;
    }
    op_complete(op, value);
    return (PyObject *)op;
}

static PyObject *
conn_set_notify_callback(PyObject *op_self, PyObject *cb)
{
    ConnectionObject *self = (ConnectionObject *)op_self;
    if (cb != Py_None && !PyCallable_Check(cb)) {
        PyErr_SetString(PyExc_TypeError, "the notification callback must be callable or None");
        return NULL;
    }
    if (cb != Py_None && check_open(self) < 0)
        return NULL;
    if (self->rc != NULL)
        rawconn_set_notify(self->rc, cb);
    Py_RETURN_NONE;
}

static PyObject *
conn_close(PyObject *self, PyObject *unused)
{
    (void)unused;
    release((ConnectionObject *)self);
    return done_awaitable((ConnectionObject *)self, Py_NewRef(Py_None));
}

static PyObject *
conn_aenter(PyObject *self, PyObject *unused)
{
    (void)unused;
    return done_awaitable((ConnectionObject *)self, Py_NewRef(self));
}

static PyObject *
conn_aexit(PyObject *self, PyObject *args)
{
    (void)args;
    release((ConnectionObject *)self);
    return done_awaitable((ConnectionObject *)self, Py_NewRef(Py_False));
}

static PyObject *
conn_get_closed(PyObject *op_self, void *c)
{
    (void)c;
    ConnectionObject *self = (ConnectionObject *)op_self;
    return PyBool_FromLong(self->closed || self->rc == NULL || self->rc->state == RC_CLOSED);
}

static PyObject *
conn_get_tx(PyObject *op_self, void *c)
{
    (void)c;
    ConnectionObject *self = (ConnectionObject *)op_self;
    static const char *names[] = {"idle", "active", "intrans", "inerror", "unknown"};
    int s = PGD_TX_UNKNOWN;
    if (self->rc != NULL && self->rc->conn != NULL && self->rc->state == RC_READY)
        s = pgd_conn_txstate(self->rc->conn);
    return PyUnicode_FromString(names[s]);
}

static int
conn_traverse(ConnectionObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->pool);
    Py_VISIT(self->rc);
    return 0;
}

static int
conn_clear(ConnectionObject *self)
{
    release(self);
    Py_CLEAR(self->rc);
    Py_CLEAR(self->pool);
    return 0;
}

static void
conn_dealloc(ConnectionObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    if (self->weakreflist != NULL)
        PyObject_ClearWeakRefs((PyObject *)self);
    conn_clear(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyMethodDef conn_methods[] = {
    {"execute", (PyCFunction)(void (*)(void))conn_execute, METH_VARARGS | METH_KEYWORDS,
     "execute($self, /, querystring, parameters=None, timeout=None, prepared=True)\n--\n\n"
     "Run one statement; awaitable returning a QueryResult. prepared=False: the unnamed "
     "statement, nothing kept."},
    {"fetch_row", (PyCFunction)(void (*)(void))conn_fetch_row, METH_VARARGS | METH_KEYWORDS,
     "fetch_row($self, /, querystring, parameters=None, timeout=None, prepared=True)\n--\n\n"
     "The first row as a SingleQueryResult (awaitable); NoRowsError when there is none."},
    {"execute_many", (PyCFunction)(void (*)(void))conn_execute_many,
     METH_VARARGS | METH_KEYWORDS,
     "execute_many($self, /, querystring, parameters=None, timeout=None, prepared=True)\n"
     "--\n\nRun one statement once per parameter list, pipelined with a single Sync "
     "(awaitable)."},
    {"pipeline", (PyCFunction)(void (*)(void))conn_pipeline, METH_VARARGS | METH_KEYWORDS,
     "pipeline($self, /, queries, timeout=None, prepared=True)\n--\n\nRun [(querystring, "
     "parameters), ...] in one pipeline; awaitable returning a list of QueryResult."},
    {"_simple", (PyCFunction)(void (*)(void))conn_simple, METH_FASTCALL, NULL},
    {"_copy", conn_copy_step, METH_VARARGS,
     "_copy($self, step, arg=None, /)\n--\n\nOne step of a COPY (see psqlpy/_copy.py); "
     "awaitable."},
    {"_copy_columns", conn_copy_columns, METH_VARARGS,
     "_copy_columns($self, oids, names, /)\n--\n\nThe column types of the binary COPY "
     "in progress."},
    {"_copy_encode", conn_copy_encode, METH_VARARGS,
     "_copy_encode($self, rows, first_index, names, /)\n--\n\nEncode rows into the COPY "
     "buffer; the bytes buffered."},
    {"_copy_dir", conn_copy_dir, METH_NOARGS,
     "_copy_dir($self, /)\n--\n\n1 in a COPY FROM STDIN, 2 in a COPY TO STDOUT, else 0."},
    {"_set_notify_callback", conn_set_notify_callback, METH_O,
     "_set_notify_callback($self, callback, /)\n--\n\nLISTEN/NOTIFY: call callback with a "
     "list of (process_id, channel, payload) as they arrive, and with None once if the "
     "connection is lost; None stops."},
    {"close", conn_close, METH_NOARGS,
     "close($self, /)\n--\n\nGive the connection back to the pool (may be awaited)."},
    {"__aenter__", conn_aenter, METH_NOARGS,
     "__aenter__($self, /)\n--\n\nAwaitable returning the connection itself."},
    {"__aexit__", conn_aexit, METH_VARARGS,
     "__aexit__($self, *exc)\n--\n\nGive the connection back to the pool; awaitable "
     "returning False."},
    {NULL, NULL, 0, NULL},
};

/* _copy_cache: a dict kept with the underlying connection (COPY column
 * types per table, see psqlpy/_copy.py). */
static PyObject *
conn_get_copy_cache(PyObject *op_self, void *closure)
{
    (void)closure;
    ConnectionObject *self = (ConnectionObject *)op_self;
    if (self->rc == NULL)
        return PyDict_New();
    if (self->rc->copy_cache == NULL && (self->rc->copy_cache = PyDict_New()) == NULL)
        return NULL;
    return Py_NewRef(self->rc->copy_cache);
}

static PyGetSetDef conn_getset[] = {
    {"_copy_cache", conn_get_copy_cache, NULL, NULL, NULL},
    {"closed", conn_get_closed, NULL, "Whether the connection can no longer be used.", NULL},
    {"transaction_status", conn_get_tx, NULL,
     "'idle', 'active', 'intrans', 'inerror' or 'unknown'.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

#include <structmember.h>
static PyMemberDef conn_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(ConnectionObject, weakreflist), READONLY,
     NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot conn_slots[] = {
    {Py_tp_dealloc, conn_dealloc},
    {Py_tp_traverse, conn_traverse},
    {Py_tp_clear, conn_clear},
    {Py_tp_methods, conn_methods},
    {Py_tp_getset, conn_getset},
    {Py_tp_members, conn_members},
    {Py_tp_doc, "A connection borrowed from a pool."},
    {0, NULL},
};

PyType_Spec ConnectionSpec = {
    .name = "psqlpy._psqlpy.Connection",
    .basicsize = sizeof(ConnectionObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_HAVE_GC |
             Py_TPFLAGS_BASETYPE | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = conn_slots,
};
