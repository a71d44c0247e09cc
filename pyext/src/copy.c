/*
 * copy.c - COPY on a Connection: the steps the Python layer
 * (psqlpy/_copy.py) strings together, and the binary row encoder's glue.
 *
 * A COPY is a sequence of operations on the connection's FIFO, each one
 * awaitable (Connection._copy(step, arg)):
 *   START(sql)      the server enters COPY; outcome None
 *   PUT(data|None)  queue bytes (or the rows _copy_encode() or
 *                   _copy_encode_iter() buffered) and
 *                   complete once the socket took them: awaiting each put
 *                   before the next is the backpressure of COPY FROM STDIN
 *   END(None)       finish: outcome the number of rows copied
 *   END(msg)        abort (CopyFail): the server rolls the COPY back
 *   GET             the next chunk of COPY TO STDOUT (bytes), at the end
 *                   the number of rows copied (int); nothing is read from
 *                   the socket between GETs
 *   ABORT(msg)      whatever state the COPY is in, end it without
 *                   committing: COPY IN is failed with msg; COPY OUT is
 *                   cancelled on the server (PQcancel) and what it sent
 *                   meanwhile is read and dropped (the connection is
 *                   closed if the cancel request cannot be sent); no
 *                   COPY: nothing.  Used after a cancellation or an
 *                   early exit from a loop over the chunks.
 * Between the steps the driver refuses every other operation on the
 * connection ("a COPY is in progress").
 *
 * Rows: _copy_encode_iter() takes them from a plain iterator itself (no
 * Python code per row), _copy_encode() from a list (an async iterable's
 * batch); both convert the common scalars in place and the rest through
 * params.c, and the driver encodes each row with the column encoders it
 * planned in _copy_columns().
 */
#include <string.h>

#include "pyext.h"

enum { STEP_START, STEP_PUT, STEP_END, STEP_GET, STEP_ABORT };

int
copyop_start(RawConn *rc, Op *op)
{
    pgd_conn *c = rc->conn;
    const char *text = NULL;
    Py_buffer view;
    int status;

    if (op->sql != NULL && PyUnicode_Check(op->sql)) {
        text = psqlpy_sql_utf8(rc->st, op->sql);
        if (text == NULL) {
            PyErr_Clear();
            text = "COPY aborted by the client";
            if (op->kind == OP_COPY_START)
                return pgd_conn_copy_start(c, "SELECT 'not valid SQL text'::int");
        }
    }
    switch (op->kind) {
    case OP_COPY_START:
        return pgd_conn_copy_start(c, text ? text : "");
    case OP_COPY_PUT:
        if (op->sql == NULL || op->sql == Py_None)
            return pgd_conn_copy_put(c, NULL, 0);
        if (PyObject_GetBuffer(op->sql, &view, PyBUF_SIMPLE) < 0) {
            PyErr_Clear();
            /* the data was checked when the step was made */
            return pgd_conn_copy_end(c, "COPY data is not a buffer");
        }
        status = pgd_conn_copy_put(c, view.buf, (size_t)view.len); /* copied by libpq */
        PyBuffer_Release(&view);
        return status;
    case OP_COPY_END:
        return pgd_conn_copy_end(c, text);
    case OP_COPY_GET:
        return pgd_conn_copy_get(c);
    case OP_COPY_ABORT:
        switch (pgd_conn_copy_dir(c)) {
        case PGD_COPY_IN:
            return pgd_conn_copy_end(c, text ? text : "COPY cancelled by the client");
        case PGD_COPY_OUT: {
            /* stop the server (PQcancel: a short blocking call), then read
             * what it sent meanwhile and drop it */
            int sent;
            Py_BEGIN_ALLOW_THREADS
            sent = pgd_conn_cancel(c) == PGD_OK;
            Py_END_ALLOW_THREADS
            if (!sent) {
                pgd_conn_disconnect(c);
                return PGD_ERROR;
            }
            return pgd_conn_copy_discard(c);
        }
        default:
            return PGD_OK;
        }
    default:
        return PGD_ERROR;
    }
}

PyObject *
copyop_outcome(RawConn *rc, Op *op)
{
    pgd_result *res;
    int64_t n;

    if (op->kind == OP_COPY_GET) {
        size_t len;
        const char *chunk = pgd_conn_copy_chunk(rc->conn, &len);
        if (chunk != NULL)
            return PyBytes_FromStringAndSize(chunk, (Py_ssize_t)len);
        /* the end: the rows copied, as for END */
    }
    switch (op->kind) {
    case OP_COPY_GET:
    case OP_COPY_END:
        res = pgd_conn_take_result(rc->conn);
        n = res ? pgd_result_affected(res) : -1;
        if (res)
            pgd_result_free(res);
        return PyLong_FromLongLong(n < 0 ? 0 : n);
    default:
        Py_RETURN_NONE;
    }
}

PyObject *
conn_copy_dir(PyObject *self, PyObject *unused)
{
    (void)unused;
    pgd_conn *c = connection_pgd(self);
    if (c == NULL)
        return NULL;
    return PyLong_FromLong(pgd_conn_copy_dir(c));
}

/* Raise the driver's error of c. */
static void
raise_conn_error(module_state *st, pgd_conn *c)
{
    PyObject *exc = psqlpy_error_from_conn(st, c);
    if (exc != NULL) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
    }
}

/* _copy_columns(oids, names): the column types of the next binary COPY. */
PyObject *
conn_copy_columns(PyObject *self, PyObject *args)
{
    PyObject *oids, *names, *ret = NULL;
    uint32_t *ov = NULL;
    const char **nv = NULL;
    if (!PyArg_ParseTuple(args, "O!O!:_copy_columns", &PyTuple_Type, &oids, &PyTuple_Type,
                          &names))
        return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(oids);
    if (PyTuple_GET_SIZE(names) != n) {
        PyErr_SetString(PyExc_ValueError, "oids and names differ in length");
        return NULL;
    }
    pgd_conn *c = connection_pgd(self);
    if (c == NULL)
        return NULL;
    ov = PyMem_Calloc((size_t)n + 1, sizeof *ov);
    nv = PyMem_Calloc((size_t)n + 1, sizeof *nv);
    if (ov == NULL || nv == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned long v = PyLong_AsUnsignedLong(PyTuple_GET_ITEM(oids, i));
        if (v == (unsigned long)-1 && PyErr_Occurred())
            goto done;
        ov[i] = (uint32_t)v;
        nv[i] = PyUnicode_AsUTF8(PyTuple_GET_ITEM(names, i));
        if (nv[i] == NULL)
            goto done;
    }
    if (pgd_conn_copy_set_columns(c, (size_t)n, ov, nv) != PGD_OK) {
        raise_conn_error(psqlpy_state_of_type(Py_TYPE(self)), c);
        goto done;
    }
    ret = Py_NewRef(Py_None);
done:
    PyMem_Free(ov);
    PyMem_Free(nv);
    return ret;
}

/* The value at column i of a row failed to convert: say which. */
static void
reraise_for_cell(module_state *st, long long row, PyObject *colname, Py_ssize_t col)
{
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    PyErr_NormalizeException(&t, &v, &tb);
    PyObject *msg = v != NULL ? PyObject_Str(v) : NULL;
    PyObject *type = t;
    /* params_convert says "parameter $1: ..." of the value it was given */
    const char *utf8 = msg != NULL ? PyUnicode_AsUTF8(msg) : NULL;
    if (utf8 != NULL && strncmp(utf8, "parameter $1: ", 14) == 0)
        Py_SETREF(msg, PyUnicode_FromString(utf8 + 14));
    PyErr_Clear(); /* a failed AsUTF8: keep the message as it is */
    if (v == NULL || PyObject_IsInstance(v, st->BaseError) != 1)
        type = st->ParameterError;
    if (msg != NULL && PyErr_Occurred() == NULL) {
        if (colname != NULL)
            PyErr_Format(type, "row %lld, column \"%U\": %U", row, colname, msg);
        else
            PyErr_Format(type, "row %lld, column %zd: %U", row, col + 1, msg);
        PyObject *t2, *v2, *tb2;
        PyErr_Fetch(&t2, &v2, &tb2);
        PyErr_NormalizeException(&t2, &v2, &tb2);
        if (v2 != NULL && v != NULL)
            PyException_SetCause(v2, Py_NewRef(v));
        PyErr_Restore(t2, v2, tb2);
        Py_XDECREF(t);
        Py_XDECREF(v);
        Py_XDECREF(tb);
    } else {
        PyErr_Restore(t, v, tb);
    }
    Py_XDECREF(msg);
}

/* The common scalars (exact None, bool, int within int64, float, str) as
 * pgd_values borrowing from the object, without a `keep` list: the row
 * holds the object while the row is encoded.  1 when done, 0 when the
 * value needs the general conversion (params.c). */
static inline int
scalar_value(PyObject *o, pgd_value *v)
{
    PyTypeObject *tp = Py_TYPE(o);
    v->pin_oid = 0;
    if (o == Py_None) {
        v->kind = PGD_V_NULL;
        return 1;
    }
    if (tp == &PyLong_Type) {
        int overflow = 0;
        long long x = PyLong_AsLongLongAndOverflow(o, &overflow);
        if (overflow || (x == -1 && PyErr_Occurred())) {
            PyErr_Clear();
            return 0;
        }
        v->kind = PGD_V_INT;
        v->u.i = x;
        return 1;
    }
    if (tp == &PyUnicode_Type) {
        Py_ssize_t n;
        const char *p = PyUnicode_AsUTF8AndSize(o, &n);
        if (p == NULL) { /* e.g. a lone surrogate: let the general path word it */
            PyErr_Clear();
            return 0;
        }
        v->kind = PGD_V_STR;
        v->u.s.p = p;
        v->u.s.n = (size_t)n;
        return 1;
    }
    if (tp == &PyFloat_Type) {
        v->kind = PGD_V_FLOAT;
        v->u.f = PyFloat_AS_DOUBLE(o);
        return 1;
    }
    if (tp == &PyBool_Type) {
        v->kind = PGD_V_BOOL;
        v->u.b = o == Py_True;
        return 1;
    }
    return 0;
}

typedef struct row_enc {
    module_state *st;
    PyObject *self; /* the Connection (borrowed) */
    pgd_conn *c;
    PyObject *names;
    pgd_value stackvals[16];
    pgd_value *vals;
    size_t cap;
} row_enc;

/* Encode one row (any sequence) into the COPY buffer.  0, or -1 with an
 * exception naming row `rowno` (and the column when a value failed). */
static int
encode_one_row(row_enc *e, PyObject *item, long long rowno)
{
    PyObject *row, *keep = NULL;
    int rc = -1;

    if (PyTuple_CheckExact(item)) {
        row = Py_NewRef(item);
    } else if ((row = PySequence_Tuple(item)) == NULL) {
        PyErr_Format(e->st->ParameterError, "row %lld is not a sequence of values", rowno);
        return -1;
    }
    size_t n = (size_t)PyTuple_GET_SIZE(row);
    if (n != (size_t)PyTuple_GET_SIZE(e->names)) {
        PyErr_Format(e->st->ParameterError, "row %lld has %zu value%s, the COPY takes %zd",
                     rowno, n, n == 1 ? "" : "s", PyTuple_GET_SIZE(e->names));
        goto done;
    }
    if (n > e->cap) {
        pgd_value *nv = PyMem_Realloc(e->vals == e->stackvals ? NULL : e->vals,
                                      n * sizeof *nv);
        if (nv == NULL) {
            PyErr_NoMemory();
            goto done;
        }
        e->vals = nv;
        e->cap = n;
    }
    for (size_t i = 0; i < n; i++) {
        PyObject *o = PyTuple_GET_ITEM(row, (Py_ssize_t)i);
        if (scalar_value(o, &e->vals[i]))
            continue;
        /* the rest: objects the values borrow from stay in `keep` (the
         * value itself is held by the row) */
        if (keep == NULL && (keep = PyList_New(0)) == NULL)
            goto done;
        if (params_convert_one(e->st, o, &e->vals[i], keep) < 0) {
            reraise_for_cell(e->st, rowno, PyTuple_GET_ITEM(e->names, (Py_ssize_t)i),
                             (Py_ssize_t)i);
            goto done;
        }
    }
    /* Python code ran (the iterator, conversions): the connection may have
     * been closed meanwhile */
    if ((e->c = connection_pgd(e->self)) == NULL)
        goto done;
    if (pgd_conn_copy_encode_row(e->c, n, e->vals, rowno) != PGD_OK) {
        raise_conn_error(e->st, e->c);
        goto done;
    }
    rc = 0;
done:
    Py_XDECREF(keep);
    Py_DECREF(row);
    return rc;
}

static int
row_enc_init(row_enc *e, PyObject *self, PyObject *names)
{
    e->st = psqlpy_state_of_type(Py_TYPE(self));
    e->self = self;
    e->names = names;
    e->vals = e->stackvals;
    e->cap = sizeof e->stackvals / sizeof e->stackvals[0];
    e->c = connection_pgd(self);
    return e->c == NULL ? -1 : 0;
}

static void
row_enc_done(row_enc *e)
{
    if (e->vals != e->stackvals)
        PyMem_Free(e->vals);
}

/* _copy_encode(rows, first_index, names): encode a list of rows (each a
 * sequence) into the connection's COPY buffer as binary COPY tuples;
 * returns the bytes now buffered.  A row that fails leaves nothing of
 * itself in the buffer; the error names its index (first_index + i) and
 * the column.  Rows before it stay encoded (the caller aborts the COPY). */
PyObject *
conn_copy_encode(PyObject *self, PyObject *args)
{
    PyObject *rows, *names, *ret = NULL;
    long long first;
    row_enc e;
    if (!PyArg_ParseTuple(args, "O!LO!:_copy_encode", &PyList_Type, &rows, &first,
                          &PyTuple_Type, &names))
        return NULL;
    if (row_enc_init(&e, self, names) < 0)
        return NULL;
    for (Py_ssize_t r = 0; r < PyList_GET_SIZE(rows); r++) {
        PyObject *item = Py_NewRef(PyList_GET_ITEM(rows, r));
        int rc = encode_one_row(&e, item, first + r);
        Py_DECREF(item);
        if (rc < 0)
            goto done;
    }
    ret = PyLong_FromSize_t(pgd_conn_copy_buffered(e.c));
done:
    row_enc_done(&e);
    return ret;
}

/* _copy_encode_iter(rows, first_index, names, limit): like _copy_encode,
 * with the rows taken one by one from the iterator `rows` until `limit`
 * bytes are buffered or the iterator is exhausted (no Python-level loop
 * per row).  Returns (rows taken, bytes buffered): fewer than `limit`
 * bytes buffered means the iterator is exhausted.  An exception from the
 * iterator passes as it is. */
PyObject *
conn_copy_encode_iter(PyObject *self, PyObject *args)
{
    PyObject *it, *names, *ret = NULL;
    long long first, taken = 0;
    Py_ssize_t limit;
    row_enc e;
    if (!PyArg_ParseTuple(args, "OLO!n:_copy_encode_iter", &it, &first, &PyTuple_Type,
                          &names, &limit))
        return NULL;
    if (limit <= 0) {
        PyErr_SetString(PyExc_ValueError, "limit must be positive");
        return NULL;
    }
    if (!PyIter_Check(it)) {
        PyErr_Format(PyExc_TypeError, "rows must be an iterator, got %s",
                     Py_TYPE(it)->tp_name);
        return NULL;
    }
    if (row_enc_init(&e, self, names) < 0)
        return NULL;
    while (pgd_conn_copy_buffered(e.c) < (size_t)limit) {
        PyObject *item = PyIter_Next(it);
        if (item == NULL) {
            if (PyErr_Occurred())
                goto done;
            break;
        }
        int rc = encode_one_row(&e, item, first + taken);
        Py_DECREF(item);
        if (rc < 0)
            goto done;
        taken++;
    }
    if ((e.c = connection_pgd(self)) == NULL) /* closed by the iterator at its end */
        goto done;
    ret = Py_BuildValue("(Ln)", taken, (Py_ssize_t)pgd_conn_copy_buffered(e.c));
done:
    row_enc_done(&e);
    return ret;
}
