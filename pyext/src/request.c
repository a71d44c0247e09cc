/*
 * request.c - every call that runs something becomes an Op here, whether
 * the pool or a Connection lent by it serves the call: execute(),
 * fetch_row(), execute_many(), pipeline(), _simple(), the COPY steps and
 * pool.connection().  The rules of a call are written once: it must come
 * from the pool's event loop, the pool must be usable (or the connection
 * open), timeout= and prepared= apply, the parameters are captured and
 * converted before the call returns, then the Op goes to the connection or
 * waits in the pool for one.
 */
#include "pyext.h"

/* fmt is always "O|OOp:<name>": querystring, parameters, timeout, prepared. */
int
request_parse(request *r, PyObject *args, PyObject *kwds, const char *fmt)
{
    static char *kwlist[] = {"querystring", "parameters", "timeout", "prepared", NULL};
    r->params = Py_None;
    r->timeout = Py_None;
    r->prepared = 1;
    r->default_timeout = 1;
    Py_ssize_t n = PyTuple_GET_SIZE(args);
    if ((kwds == NULL || PyDict_GET_SIZE(kwds) == 0) && n >= 1 && n <= 4) {
        /* positional only, the common call: no format to interpret */
        r->sql = PyTuple_GET_ITEM(args, 0);
        if (n > 1)
            r->params = PyTuple_GET_ITEM(args, 1);
        if (n > 2)
            r->timeout = PyTuple_GET_ITEM(args, 2);
        if (n > 3 && (r->prepared = PyObject_IsTrue(PyTuple_GET_ITEM(args, 3))) < 0)
            return -1;
        return 0;
    }
    return PyArg_ParseTupleAndKeywords(args, kwds, fmt, kwlist, &r->sql, &r->params,
                                       &r->timeout, &r->prepared)
               ? 0
               : -1;
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

/* Keep obj (a new reference, or NULL after an error) with the call until
 * it is done.  Returns it borrowed, or NULL + exception. */
static PyObject *
keep(Op *op, PyObject *obj)
{
    if (obj == NULL || PyList_Append(op->keep, obj) < 0) {
        Py_XDECREF(obj);
        return NULL;
    }
    Py_DECREF(obj);
    return obj;
}

/* execute_many(querystring, parameters): one statement, many rows, one
 * pipeline with a single Sync.  0: bound; 1: nothing to run, op done;
 * -1 + exception. */
static int
bind_batch(Op *op, PyObject *sql, PyObject *rows)
{
    module_state *st = op->st;
    if (op_bind_query(op, sql, Py_None) < 0)
        return -1;
    if (rows == Py_None) {
        op_complete(op, Py_NewRef(Py_None));
        return 1;
    }
    /* Capture the rows now, each as a tuple owned by the call: converting a
     * value may run Python code that changes the caller's lists, and the
     * caller may change them once this returns. */
    PyObject *seq = keep(op, PySequence_Tuple(rows));
    if (seq == NULL) {
        PyErr_SetString(st->ParameterError,
                        "execute_many parameters must be a list of lists of values");
        return -1;
    }
    size_t nrows = (size_t)PyTuple_GET_SIZE(seq);
    if (nrows == 0) {
        op_complete(op, Py_NewRef(Py_None));
        return 1;
    }
    PyObject *tups = keep(op, PyTuple_New((Py_ssize_t)nrows));
    if (tups == NULL)
        return -1;
    size_t nparams = 0;
    for (size_t r = 0; r < nrows; r++) {
        PyObject *row = PyTuple_GET_ITEM(seq, (Py_ssize_t)r);
        if (!PyList_Check(row) && !PyTuple_Check(row)) {
            PyErr_Format(st->ParameterError,
                         "execute_many row %zu must be a list or tuple, not %s", r,
                         Py_TYPE(row)->tp_name);
            return -1;
        }
        PyObject *tup = PySequence_Tuple(row);
        if (tup == NULL)
            return -1;
        PyTuple_SET_ITEM(tups, (Py_ssize_t)r, tup);
        size_t n = (size_t)PyTuple_GET_SIZE(tup);
        if (r == 0)
            nparams = n;
        else if (n != nparams) {
            PyErr_Format(st->ParameterError,
                         "execute_many row %zu has %zu values, row 0 has %zu", r, n, nparams);
            return -1;
        }
    }
    if (nparams > 0) {
        op->vals = PyMem_Calloc(nrows * nparams, sizeof(pgd_value));
        if (op->vals == NULL) {
            PyErr_NoMemory();
            return -1;
        }
    }
    for (size_t r = 0; r < nrows && nparams > 0; r++) {
        PyObject *tup = PyTuple_GET_ITEM(tups, (Py_ssize_t)r);
        if (params_convert(st, tup, op->vals + r * nparams, nparams, op->keep) < 0) {
            reraise_for_item("execute_many row", r);
            return -1;
        }
    }
    op->nrows = nrows;
    op->nparams = nparams;
    op->nvals = nrows * nparams;
    return 0;
}

/* pipeline(queries): [(querystring, parameters or None), ...] -> list of
 * QueryResult, sent in one pipeline with a single Sync.  As bind_batch. */
static int
bind_pipeline(Op *op, PyObject *queries)
{
    module_state *st = op->st;
    if ((op->keep = PyList_New(0)) == NULL)
        return -1;
    /* Capture every query now as (sql, tuple of parameters or None), owned
     * by the call: the caller's lists may change under the conversion
     * (Python code runs in it) and after the call returns. */
    PyObject *seq = keep(op, PySequence_Tuple(queries));
    if (seq == NULL)
        return -1;
    size_t nq = (size_t)PyTuple_GET_SIZE(seq);
    if (nq == 0) {
        op_complete(op, PyList_New(0));
        return 1;
    }
    PyObject *plan = keep(op, PyTuple_New((Py_ssize_t)nq * 2));
    if (plan == NULL)
        return -1;
    size_t total = 0;
    for (size_t i = 0; i < nq; i++) {
        PyObject *q = PyTuple_GET_ITEM(seq, (Py_ssize_t)i);
        PyObject *sql = q, *params = Py_None, *pair = NULL;
        if ((PyTuple_Check(q) || PyList_Check(q)) && PySequence_Size(q) == 2) {
            pair = PySequence_Tuple(q);
            if (pair == NULL)
                return -1;
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
            return -1;
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
                return -1;
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
        return -1;
    }
    size_t off = 0;
    for (size_t i = 0; i < nq; i++) {
        PyObject *sql = PyTuple_GET_ITEM(plan, (Py_ssize_t)(2 * i));
        PyObject *tup = PyTuple_GET_ITEM(plan, (Py_ssize_t)(2 * i + 1));
        if (!PyUnicode_Check(sql)) {
            PyErr_Format(PyExc_TypeError, "pipeline query %zu: querystring must be str", i);
            return -1;
        }
        if ((op->sqls[i] = psqlpy_sql_utf8(st, sql)) == NULL) {
            reraise_for_item("pipeline query", i);
            return -1;
        }
        op->pv[i] = op->vals ? op->vals + off : NULL;
        if (tup == Py_None)
            continue;
        size_t n = (size_t)PyTuple_GET_SIZE(tup);
        if (params_convert(st, tup, op->vals + off, n, op->keep) < 0) {
            reraise_for_item("pipeline query", i);
            return -1;
        }
        op->np[i] = n;
        off += n;
    }
    op->nrows = nq;
    op->nvals = total;
    return 0;
}

/* What the request carries, by kind: 0 bound, 1 done already, -1 error. */
static int
bind(Op *op, const request *r)
{
    switch (op->kind) {
    case OP_QUERY:
    case OP_SIMPLE:
        return op_bind_query(op, r->sql, r->params);
    case OP_BATCH:
        return bind_batch(op, r->sql, r->params);
    case OP_PIPELINE:
        return bind_pipeline(op, r->sql);
    case OP_ACQUIRE:
        return 0;
    default: /* a COPY step: its argument */
        op->sql = Py_NewRef(r->sql);
        return 0;
    }
}

PyObject *
request_run(const request *r)
{
    PoolObject *pool = r->pool;
    /* a call from another loop raises: no task there could await the failure */
    if (pool->started && pool_check_loop(pool) < 0)
        return NULL;
    Op *op = op_new(pool->st, pool, r->kind, r->mode);
    if (op == NULL)
        return NULL;
    op->conn_obj = Py_XNewRef(r->conn);
    op->unnamed = !r->prepared;
    RawConn *rc = NULL;
    if (r->conn != NULL ? (rc = connection_raw(r->conn)) == NULL : pool_check_usable(pool) < 0)
        return op_failed_awaitable(op);
    if (r->timeout != NULL && op_set_timeout(op, r->timeout, r->default_timeout) < 0)
        return op_failed_awaitable(op);
    int bound = bind(op, r);
    if (bound < 0)
        return op_failed_awaitable(op);
    if (bound > 0)
        return (PyObject *)op;
    if (op_arm_timeout(op) < 0)
        return op_failed_awaitable(op);
    if (rc != NULL)
        rawconn_submit(rc, op);
    else
        pool_acquire(pool, op);
    return (PyObject *)op;
}
