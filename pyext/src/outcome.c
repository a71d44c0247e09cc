/*
 * outcome.c - what a finished operation gives its caller: the driver's
 * results turned into Python objects (a QueryResult, a row, a list of
 * results, a COPY's outcome), and their delivery to the operation's
 * future, with a timed-out batch's error made a QueryTimeoutError.
 * rawconn.c calls these when the driver's queue says an operation ended.
 */
#include "pyext.h"

/* The outcome of a single statement (RES_QUERY, RES_ROW) from its result
 * (stolen; NULL: none came): new reference, or NULL with an exception set. */
PyObject *
op_statement_outcome(module_state *st, Op *op, pgd_result *res)
{
    if (res == NULL) {
        PyErr_SetString(st->InterfaceError, "the statement returned no result");
        return NULL;
    }
    op->rows = pgd_result_affected(res);
    if (op->result_mode == RES_ROW && pgd_result_nrows(res) == 0) {
        pgd_result_free(res);
        PyErr_SetString(st->NoRowsError, "the query returned no rows");
        return NULL;
    }
    return op->result_mode == RES_QUERY ? queryresult_new(st, res) : singleresult_new(st, res);
}

/* The Python outcome of a finished operation: new reference, or NULL with
 * an exception set.  Frees every result the connection still holds. */
PyObject *
rawconn_outcome(RawConn *rc, Op *op)
{
    module_state *st = rc->st;
    PyObject *out = NULL;
    pgd_result *res;

    switch (op->result_mode) {
    case RES_QUERY:
    case RES_ROW:
        out = op_statement_outcome(st, op, pgd_conn_take_result(rc->conn));
        break;
    case RES_LIST:
        out = PyList_New(0);
        while (out != NULL && (res = pgd_conn_take_result(rc->conn)) != NULL) {
            PyObject *qr = queryresult_new(st, res);
            if (qr == NULL || PyList_Append(out, qr) < 0) {
                Py_XDECREF(qr);
                Py_CLEAR(out);
                break;
            }
            Py_DECREF(qr);
        }
        break;
    case RES_COPY:
        out = copyop_outcome(rc, op);
        break;
    default:
        out = Py_NewRef(Py_None);
        break;
    }
    while ((res = pgd_conn_take_result(rc->conn)) != NULL)
        pgd_result_free(res);
    return out;
}

/* Hand an outcome to its op (or drop it for abandoned/internal ops). */
void
op_deliver(Op *op, PyObject *value, PyObject *exc)
{
    if (op->timed_out && !op->aop.abandoned && exc != NULL && op->aop.took_no_effect &&
        op->cancel_exc == NULL) {
        /* waited for the outcome of a timed-out batch: the cancel took
         * effect, nothing of it stays */
        char msg[128];
        snprintf(msg, sizeof msg, "the statement did not finish within its timeout (%g s)",
                 op->timeout);
        PyObject *te = psqlpy_make_error(op->st, op->st->QueryTimeoutError, msg);
        if (te != NULL) {
            PyException_SetContext(te, exc); /* steals exc */
            exc = te;
        } else {
            PyErr_Clear();
        }
    }
    if (op->aop.abandoned || op->aop.internal) {
        Py_XDECREF(value);
        Py_XDECREF(exc);
        op->state = OPS_DONE;
        return;
    }
    if (exc != NULL)
        op_fail(op, exc);
    else
        op_complete(op, value);
}
