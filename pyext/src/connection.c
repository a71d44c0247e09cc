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
    rawconn_release(rc);
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

RawConn *
connection_raw(PyObject *op_self)
{
    ConnectionObject *self = (ConnectionObject *)op_self;
    return check_open(self) < 0 ? NULL : self->rc;
}

pgd_conn *
connection_pgd(PyObject *op_self)
{
    RawConn *rc = connection_raw(op_self);
    return rc ? rc->conn : NULL;
}

/* A request served by this connection (see request.c). */
static request
on_conn(PyObject *self, int kind, int mode)
{
    ConnectionObject *c = (ConnectionObject *)self;
    request r = {.pool = c->pool, .conn = self, .kind = kind, .mode = mode,
                 .params = Py_None, .timeout = Py_None, .prepared = 1, .default_timeout = 1};
    return r;
}

static PyObject *
query(PyObject *self, PyObject *args, PyObject *kwds, int kind, int mode, const char *fmt)
{
    request r = on_conn(self, kind, mode);
    if (request_parse(&r, args, kwds, fmt) < 0)
        return NULL;
    return request_run(&r);
}

static PyObject *
conn_execute(PyObject *self, PyObject *args, PyObject *kwds)
{
    return query(self, args, kwds, OP_QUERY, RES_QUERY, "O|OOp:execute");
}

static PyObject *
conn_fetch_row(PyObject *self, PyObject *args, PyObject *kwds)
{
    return query(self, args, kwds, OP_QUERY, RES_ROW, "O|OOp:fetch_row");
}

/* execute_many(querystring, parameters): one statement, many rows. */
static PyObject *
conn_execute_many(PyObject *self, PyObject *args, PyObject *kwds)
{
    return query(self, args, kwds, OP_BATCH, RES_NONE, "O|OOp:execute_many");
}

/* pipeline(queries): [(querystring, parameters or None), ...] -> list of
 * QueryResult. */
static PyObject *
conn_pipeline(PyObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"queries", "timeout", "prepared", NULL};
    request r = on_conn(self, OP_PIPELINE, RES_LIST);
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|Op:pipeline", kwlist, &r.sql, &r.timeout,
                                     &r.prepared))
        return NULL;
    return request_run(&r);
}

/* _simple(sql, timeout=None): a simple-protocol command (BEGIN, SAVEPOINT, ...). */
static PyObject *
conn_simple(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "_simple(sql, timeout=None)");
        return NULL;
    }
    request r = on_conn(self, OP_SIMPLE, RES_NONE);
    r.sql = args[0];
    if (nargs > 1)
        r.timeout = args[1];
    return request_run(&r);
}

/* _copy(kind, arg): one step of a COPY (OP_COPY_* relative to
 * OP_COPY_START); awaitable, see copy.c for the rest. */
static PyObject *
conn_copy_step(PyObject *self, PyObject *args)
{
    int step;
    PyObject *arg = Py_None;
    if (!PyArg_ParseTuple(args, "i|O:_copy", &step, &arg))
        return NULL;
    if (step < 0 || step > OP_COPY_ABORT - OP_COPY_START) {
        PyErr_SetString(PyExc_ValueError, "unknown COPY step");
        return NULL;
    }
    request r = on_conn(self, OP_COPY_START + step, RES_COPY);
    r.sql = arg;
    r.timeout = NULL;
    return request_run(&r);
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
    {"_copy_encode_iter", conn_copy_encode_iter, METH_VARARGS,
     "_copy_encode_iter($self, rows, first_index, names, limit, /)\n--\n\nEncode rows "
     "taken from the iterator rows into the COPY buffer until limit bytes are buffered "
     "or the iterator is exhausted; (rows taken, bytes buffered)."},
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
