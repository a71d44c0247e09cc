/*
 * copy.c - COPY on a Connection: the steps the Python layer
 * (psqlpy/_copy.py) strings together, and the binary row encoder's glue.
 *
 * A COPY is a sequence of operations on the connection's FIFO, each one
 * awaitable (Connection._copy(step, arg)):
 *   START(sql)      the server enters COPY; outcome None
 *   PUT(data|None)  queue bytes (or the rows _copy_encode() buffered) and
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

/* _copy_encode(rows, first_index, names): encode a list of rows (each a
 * sequence) into the connection's COPY buffer as binary COPY tuples;
 * returns the bytes now buffered.  A row that fails leaves nothing of
 * itself in the buffer; the error names its index (first_index + i) and
 * the column.  Rows before it stay encoded (the caller aborts the COPY). */
PyObject *
conn_copy_encode(PyObject *self, PyObject *args)
{
    module_state *st = psqlpy_state_of_type(Py_TYPE(self));
    PyObject *rows, *names;
    long long first;
    pgd_value stackvals[16];
    pgd_value *vals = stackvals;
    size_t cap = 16;
    PyObject *ret = NULL;
    if (!PyArg_ParseTuple(args, "O!LO!:_copy_encode", &PyList_Type, &rows, &first,
                          &PyTuple_Type, &names))
        return NULL;
    pgd_conn *c = connection_pgd(self);
    if (c == NULL)
        return NULL;
    for (Py_ssize_t r = 0; r < PyList_GET_SIZE(rows); r++) {
        long long rowno = first + r;
        PyObject *row = PySequence_Tuple(PyList_GET_ITEM(rows, r));
        if (row == NULL) {
            PyErr_Format(st->ParameterError, "row %lld is not a sequence of values", rowno);
            goto done;
        }
        size_t n = (size_t)PyTuple_GET_SIZE(row);
        if (n != (size_t)PyTuple_GET_SIZE(names)) {
            PyErr_Format(st->ParameterError, "row %lld has %zu value%s, the COPY takes %zd",
                         rowno, n, n == 1 ? "" : "s", PyTuple_GET_SIZE(names));
            Py_DECREF(row);
            goto done;
        }
        if (n > cap) {
            pgd_value *nv = PyMem_Realloc(vals == stackvals ? NULL : vals, n * sizeof *nv);
            if (nv == NULL) {
                PyErr_NoMemory();
                Py_DECREF(row);
                goto done;
            }
            vals = nv;
            cap = n;
        }
        PyObject *keep = PyList_New(0);
        if (keep == NULL) {
            Py_DECREF(row);
            goto done;
        }
        int ok = 0;
        for (size_t i = 0; i < n; i++) {
            PyObject *one = PyTuple_Pack(1, PyTuple_GET_ITEM(row, (Py_ssize_t)i));
            if (one == NULL)
                break;
            int cr = params_convert(st, one, &vals[i], 1, keep);
            /* the value stays referenced by the row for as long as vals
             * borrow from it; the 1-tuple may go */
            if (cr == 0 && PyList_Append(keep, one) < 0)
                cr = -1;
            Py_DECREF(one);
            if (cr < 0) {
                reraise_for_cell(st, rowno, PyTuple_GET_ITEM(names, (Py_ssize_t)i),
                                 (Py_ssize_t)i);
                break;
            }
            ok = (i + 1 == n);
        }
        if (n == 0)
            ok = 1;
        if (ok && pgd_conn_copy_encode_row(c, n, vals, rowno) != PGD_OK) {
            raise_conn_error(st, c);
            ok = 0;
        }
        Py_DECREF(keep);
        Py_DECREF(row);
        if (!ok)
            goto done;
    }
    ret = PyLong_FromSize_t(pgd_conn_copy_buffered(c));
done:
    if (vals != stackvals)
        PyMem_Free(vals);
    return ret;
}
