/*
 * rawconn.c - one driver connection on the asyncio event loop.
 *
 * While the connection is open a reader is registered for its socket, for
 * good: no registration churn per query, and an idle connection whose
 * server goes away is noticed at once.  A writer is registered only while
 * libpq reports queued output.  Operations run one at a time in FIFO order;
 * the next starts when the previous one's results are in.
 *
 * Re-entrancy: completing an operation wakes Python code only through
 * Future callbacks, which asyncio runs later, so nothing here is re-entered
 * while a step is in progress.  Each step holds a reference to the RawConn.
 */
#include "pyext.h"

static int
loop_call(RawConn *rc, PyObject *name, int fd, PyObject *cb)
{
    PyObject *fdo = PyLong_FromLong(fd);
    if (fdo == NULL)
        return -1;
    PyObject *args[3] = {rc->loop, fdo, cb};
    PyObject *r = PyObject_VectorcallMethod(name, args,
                                            (cb ? 3 : 2) | PY_VECTORCALL_ARGUMENTS_OFFSET,
                                            NULL);
    Py_DECREF(fdo);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* Unregister both callbacks; errors (a closed loop) are not interesting here. */
static void
unregister(RawConn *rc)
{
    if (rc->fd < 0)
        return;
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    if (rc->writing && loop_call(rc, rc->st->s_remove_writer, rc->fd, NULL) < 0)
        PyErr_Clear();
    if (rc->reading && loop_call(rc, rc->st->s_remove_reader, rc->fd, NULL) < 0)
        PyErr_Clear();
    PyErr_Restore(t, v, tb);
    rc->writing = rc->reading = 0;
    rc->fd = -1;
}

/* Register or drop one of the two callbacks (*flag says which is on). */
static int
want(RawConn *rc, int *flag, int on, PyObject *add, PyObject *remove, PyObject *cb)
{
    if (on == *flag)
        return 0;
    if (loop_call(rc, on ? add : remove, rc->fd, on ? cb : NULL) < 0)
        return -1;
    *flag = on;
    return 0;
}

static int
want_reader(RawConn *rc, int on)
{
    return want(rc, &rc->reading, on, rc->st->s_add_reader, rc->st->s_remove_reader,
                rc->on_read);
}

static int
want_writer(RawConn *rc, int on)
{
    return want(rc, &rc->writing, on, rc->st->s_add_writer, rc->st->s_remove_writer,
                rc->on_write);
}

/* Point the registrations at the connection's current socket. */
static int
follow_socket(RawConn *rc)
{
    int fd = pgd_conn_socket(rc->conn);
    if (fd != rc->fd) {
        unregister(rc);
        rc->fd = fd;
    }
    return fd < 0 ? -1 : 0;
}

RawConn *
rawconn_new(module_state *st, PoolObject *pool, pgd_conn *conn)
{
    RawConn *rc = PyObject_GC_New(RawConn, st->RawConnType);
    if (rc == NULL)
        return NULL;
    rc->st = st;
    rc->conn = conn;
    rc->pool = pool;
    rc->loop = Py_NewRef(pool->loop);
    rc->on_read = rc->on_write = NULL;
    rc->timer = NULL;
    rc->state = RC_CONNECTING;
    rc->fd = -1;
    rc->reading = rc->writing = 0;
    rc->leased = 0;
    rc->in_pool = 0;
    rc->release_when_idle = 0;
    rc->recycled_from_pool = 0;
    rc->cur = NULL;
    rc->qhead = rc->qtail = NULL;
    rc->connect_waiter = NULL;
    PyObject_GC_Track(rc);
    rc->on_read = PyObject_GetAttr((PyObject *)rc, st->s_on_read);
    rc->on_write = PyObject_GetAttr((PyObject *)rc, st->s_on_write);
    if (rc->on_read == NULL || rc->on_write == NULL) {
        rc->conn = NULL;
        Py_DECREF(rc);
        return NULL;
    }
    pgd_conn_set_userdata(conn, rc);
    return rc;
}

int
rawconn_idle(const RawConn *rc)
{
    return rc->cur == NULL && rc->qhead == NULL;
}

/* ---- connecting ---------------------------------------------------------- */

/* libpq leaves connect_timeout to callers of its non-blocking API; this is
 * the default when the connection parameters do not set one. */
#define DEFAULT_CONNECT_TIMEOUT 30

static void
cancel_timer(RawConn *rc)
{
    if (rc->timer == NULL)
        return;
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    PyObject *r = PyObject_CallMethodNoArgs(rc->timer, rc->st->s_cancel);
    if (r == NULL)
        PyErr_Clear();
    Py_XDECREF(r);
    PyErr_Restore(t, v, tb);
    Py_CLEAR(rc->timer);
}

static int
arm_timer(RawConn *rc)
{
    int secs = pgd_conn_connect_timeout(rc->conn);
    if (secs < 0)
        secs = DEFAULT_CONNECT_TIMEOUT;
    if (secs == 0) /* as in libpq: wait for ever */
        return 0;
    if (secs < 2) /* libpq's own minimum */
        secs = 2;
    PyObject *cb = PyObject_GetAttr((PyObject *)rc, rc->st->s_on_timeout);
    if (cb == NULL)
        return -1;
    PyObject *delay = PyLong_FromLong(secs);
    if (delay == NULL) {
        Py_DECREF(cb);
        return -1;
    }
    rc->timer = PyObject_CallMethodObjArgs(rc->loop, rc->st->s_call_later, delay, cb, NULL);
    rc->timeout_secs = secs;
    Py_DECREF(delay);
    Py_DECREF(cb);
    return rc->timer ? 0 : -1;
}

static void
connect_failed(RawConn *rc, PyObject *exc)
{
    cancel_timer(rc);
    unregister(rc);
    rc->state = RC_CLOSED;
    if (rc->pool != NULL)
        pool_conn_failed(rc->pool, rc, exc); /* steals exc */
    else
        Py_XDECREF(exc);
}

static void
connect_step(RawConn *rc, int status)
{
    if (status == PGD_ERROR) {
        connect_failed(rc, psqlpy_error_from_conn(rc->st, rc->conn));
        return;
    }
    if (follow_socket(rc) < 0) {
        connect_failed(rc, psqlpy_make_error(rc->st, rc->st->ConnectionFailedError,
                                             "connection has no socket"));
        return;
    }
    if (status == PGD_OK) {
        cancel_timer(rc);
        rc->state = RC_READY;
        if (want_writer(rc, 0) < 0 || want_reader(rc, 1) < 0) {
            PyObject *t, *v, *tb;
            PyErr_Fetch(&t, &v, &tb);
            PyErr_NormalizeException(&t, &v, &tb);
            Py_XDECREF(t);
            Py_XDECREF(tb);
            connect_failed(rc, v);
            return;
        }
        Op *waiter = rc->connect_waiter;
        rc->connect_waiter = NULL;
        if (rc->pool != NULL)
            pool_conn_ready(rc->pool, rc, waiter);
        Py_XDECREF(waiter);
        return;
    }
    int rd = (status & PGD_WANT_WRITE) == 0;
    if (want_reader(rc, rd) < 0 || want_writer(rc, !rd) < 0) {
        PyObject *t, *v, *tb;
        PyErr_Fetch(&t, &v, &tb);
        PyErr_NormalizeException(&t, &v, &tb);
        Py_XDECREF(t);
        Py_XDECREF(tb);
        connect_failed(rc, v);
    }
}

int
rawconn_connect(RawConn *rc)
{
    int status = pgd_conn_connect_start(rc->conn);
    if (status == PGD_ERROR) {
        PyObject *exc = psqlpy_error_from_conn(rc->st, rc->conn);
        rc->state = RC_CLOSED;
        if (exc != NULL)
            PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_XDECREF(exc);
        return -1;
    }
    if (arm_timer(rc) < 0) {
        rc->state = RC_CLOSED;
        return -1;
    }
    connect_step(rc, status);
    return 0;
}

static PyObject *
rc_on_connect_timeout(PyObject *self, PyObject *unused)
{
    (void)unused;
    RawConn *rc = (RawConn *)self;
    Py_CLEAR(rc->timer);
    if (rc->state != RC_CONNECTING)
        Py_RETURN_NONE;
    Py_INCREF(rc);
    char msg[128];
    snprintf(msg, sizeof msg, "timeout expired: no connection after %d s (connect_timeout)",
             rc->timeout_secs);
    connect_failed(rc, psqlpy_make_error(rc->st, rc->st->ConnectionFailedError, msg));
    Py_DECREF(rc);
    if (PyErr_Occurred())
        PyErr_WriteUnraisable(self);
    Py_RETURN_NONE;
}

/* ---- operations ---------------------------------------------------------- */

static void pump(RawConn *rc);

/* The Python outcome of a finished operation: new reference, or NULL with
 * an exception set.  Frees every result the connection still holds. */
static PyObject *
build_outcome(RawConn *rc, Op *op)
{
    module_state *st = rc->st;
    PyObject *out = NULL;
    pgd_result *res;

    switch (op->result_mode) {
    case RES_QUERY:
    case RES_ROW:
        res = pgd_conn_take_result(rc->conn);
        if (res == NULL) {
            PyErr_SetString(st->InterfaceError, "the statement returned no result");
            break;
        }
        if (op->result_mode == RES_ROW && pgd_result_nrows(res) == 0) {
            pgd_result_free(res);
            PyErr_SetString(st->NoRowsError, "the query returned no rows");
            break;
        }
        out = op->result_mode == RES_QUERY ? queryresult_new(st, res)
                                           : singleresult_new(st, res);
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
    default:
        out = Py_NewRef(Py_None);
        break;
    }
    while ((res = pgd_conn_take_result(rc->conn)) != NULL)
        pgd_result_free(res);
    return out;
}

static PyObject *
current_exception(void)
{
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    PyErr_NormalizeException(&t, &v, &tb);
    if (v != NULL && tb != NULL)
        PyException_SetTraceback(v, tb);
    Py_XDECREF(t);
    Py_XDECREF(tb);
    return v;
}

/* Hand an outcome to its op (or drop it for abandoned/internal ops). */
static void
deliver(Op *op, PyObject *value, PyObject *exc)
{
    if (op->abandoned || op->internal) {
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

static Op *
pop_queue(RawConn *rc)
{
    Op *op = rc->qhead;
    if (op != NULL) {
        rc->qhead = op->next;
        if (rc->qhead == NULL)
            rc->qtail = NULL;
        op->next = NULL;
    }
    return op; /* the queue's reference passes to the caller */
}

/* The connection is gone: fail everything on it and drop it from the pool. */
static void
conn_lost(RawConn *rc, PyObject *exc)
{
    unregister(rc);
    rc->state = RC_CLOSED;
    Op *op;
    if (rc->cur != NULL) {
        op = rc->cur;
        rc->cur = NULL;
        deliver(op, NULL, Py_XNewRef(exc));
        Py_DECREF(op);
    }
    while ((op = pop_queue(rc)) != NULL) {
        if (op->internal || op->abandoned) {
            op->state = OPS_DONE;
        } else if (rc->pool != NULL && !rc->leased && op->retries < 3) {
            /* never started: it may still run on another connection */
            op->retries++;
            op->state = OPS_NEW;
            Py_CLEAR(op->rc);
            pool_acquire(rc->pool, op);
        } else {
            deliver(op, NULL, Py_XNewRef(exc));
        }
        Py_DECREF(op);
    }
    Py_XDECREF(exc);
    if (rc->pool != NULL)
        pool_conn_lost(rc->pool, rc);
}

/* Raises query_canceled; any error aborts the transaction block, so even
 * without PL/pgSQL (DO then fails to find the language) the effect is the same. */
#define TX_ABORT_SQL                                                                   \
    "DO $psqlpy$BEGIN RAISE query_canceled USING MESSAGE = "                           \
    "'canceling statement due to user request'; END$psqlpy$"

/* An operation cancelled inside a transaction block ended with the
 * transaction still healthy: it completed anyway (the server finished before
 * the cancel took effect), or it was stopped before its Bind/Execute.  Abort
 * the transaction, before anything queued behind it runs, so that it fails
 * as the cancelled statement would have made it fail, and cannot commit what
 * the caller was told was cancelled.  0, or -1 with an exception set. */
static int
queue_tx_abort(RawConn *rc)
{
    Op *op = op_new(rc->st, rc->pool, OP_SIMPLE, RES_NONE);
    if (op == NULL)
        return -1;
    if ((op->sql = PyUnicode_FromString(TX_ABORT_SQL)) == NULL) {
        Py_DECREF(op);
        return -1;
    }
    op->internal = 1;
    op->expect_error = 1;
    Py_XSETREF(op->rc, (RawConn *)Py_NewRef((PyObject *)rc));
    op->state = OPS_QUEUED;
    op->next = rc->qhead; /* the queue takes our reference */
    rc->qhead = op;
    if (rc->qtail == NULL)
        rc->qtail = op;
    return 0;
}

static void
finish_current(RawConn *rc, int status)
{
    Op *op = rc->cur;
    rc->cur = NULL;
    PyObject *value = NULL, *exc = NULL;

    if (want_writer(rc, 0) < 0)
        PyErr_Clear();
    if (status == PGD_OK) {
        value = build_outcome(rc, op);
        if (value == NULL)
            exc = current_exception();
    } else {
        exc = psqlpy_error_from_conn(rc->st, rc->conn);
        if (exc == NULL)
            exc = current_exception();
        pgd_result *res;
        while ((res = pgd_conn_take_result(rc->conn)) != NULL)
            pgd_result_free(res);
    }
    int alive = pgd_conn_is_ok(rc->conn);
    pgd_txstate tx = alive ? pgd_conn_txstate(rc->conn) : PGD_TX_UNKNOWN;
    /* an internal step that exists to fail must leave the transaction failed */
    int internal_failed = op->internal && (op->expect_error ? tx != PGD_TX_INERROR
                                                            : status != PGD_OK);
    /* still in a healthy transaction after a cancelled statement: whether it
     * completed or was stopped before its Bind/Execute, fail the transaction */
    int abort_tx = op->abort_tx && tx == PGD_TX_INTRANS;
    if (status != PGD_OK && alive)
        op->took_no_effect = 1;
    deliver(op, value, exc);
    Py_DECREF(op);

    if (!alive || internal_failed) {
        PyObject *lost = psqlpy_make_error(
            rc->st, rc->st->ConnectionFailedError,
            internal_failed ? "connection failed its recycling check"
                            : "the connection to the server was lost");
        conn_lost(rc, lost);
        return;
    }
    if (abort_tx && queue_tx_abort(rc) < 0) {
        /* the transaction must not be committed: give it up with the connection */
        PyErr_Clear();
        pgd_conn_disconnect(rc->conn);
        conn_lost(rc, psqlpy_make_error(rc->st, rc->st->ConnectionFailedError,
                                        "the connection was closed to end the transaction "
                                        "of a cancelled statement"));
        return;
    }
    pump(rc);
}

static void
start_op(RawConn *rc, Op *op)
{
    int status;
    rc->cur = op; /* takes the caller's reference */
    op->state = OPS_RUNNING;
    op->tx_at_start = pgd_conn_txstate(rc->conn);
    pgd_conn_set_unnamed(rc->conn, op->unnamed);
    switch (op->kind) {
    case OP_QUERY:
        status = pgd_conn_send_query(rc->conn, PyUnicode_AsUTF8(op->sql), op->nparams,
                                     op->vals);
        break;
    case OP_SIMPLE:
        status = pgd_conn_send_simple(rc->conn, PyUnicode_AsUTF8(op->sql));
        break;
    case OP_BATCH:
        status = pgd_conn_send_batch(rc->conn, PyUnicode_AsUTF8(op->sql), op->nrows,
                                     op->nparams, op->vals);
        break;
    case OP_PIPELINE:
        status = pgd_conn_send_pipeline(rc->conn, op->nrows, op->sqls, op->np, op->pv);
        break;
    default:
        status = PGD_ERROR;
        break;
    }
    if (status == PGD_ERROR) {
        finish_current(rc, PGD_ERROR);
        return;
    }
    if (want_writer(rc, (status & PGD_WANT_WRITE) != 0) < 0) {
        conn_lost(rc, current_exception());
    }
}

/* Start queued operations; when nothing is left, give the connection back
 * to the pool unless someone holds it. */
static void
pump(RawConn *rc)
{
    Py_INCREF(rc);
    while (rc->cur == NULL && rc->state == RC_READY) {
        Op *op = pop_queue(rc);
        if (op == NULL)
            break;
        if (op->abandoned) {
            op->state = OPS_DONE;
            Py_DECREF(op);
            continue;
        }
        start_op(rc, op);
    }
    if (rc->cur == NULL && rc->qhead == NULL && rc->state == RC_READY && !rc->leased &&
        !rc->in_pool && rc->pool != NULL)
        pool_release(rc->pool, rc);
    Py_DECREF(rc);
}

void
rawconn_submit(RawConn *rc, Op *op)
{
    Py_XSETREF(op->rc, (RawConn *)Py_NewRef((PyObject *)rc));
    if (rc->state == RC_CLOSED) {
        deliver(op, NULL,
                psqlpy_make_error(rc->st, rc->st->ConnectionFailedError,
                                  "the connection is closed"));
        return;
    }
    Py_INCREF(op);
    op->state = OPS_QUEUED;
    op->next = NULL;
    if (rc->qtail)
        rc->qtail->next = op;
    else
        rc->qhead = op;
    rc->qtail = op;
    if (rc->cur == NULL && rc->state == RC_READY)
        pump(rc);
}

/* Remove op from rc's queue; 1 if it was there. */
int
rawconn_unqueue(RawConn *rc, Op *op)
{
    Op *prev = NULL;
    for (Op *o = rc->qhead; o != NULL; prev = o, o = o->next) {
        if (o != op)
            continue;
        if (prev)
            prev->next = o->next;
        else
            rc->qhead = o->next;
        if (rc->qtail == o)
            rc->qtail = prev;
        o->next = NULL;
        Py_DECREF(o);
        return 1;
    }
    return 0;
}

void
rawconn_close(RawConn *rc)
{
    unregister(rc);
    rc->state = RC_CLOSED;
}

/* Close the connection without sending anything more and fail what is on
 * it with `msg`. */
static void
disconnect(RawConn *rc, const char *msg)
{
    Py_INCREF(rc);
    pgd_conn_disconnect(rc->conn);
    conn_lost(rc, psqlpy_make_error(rc->st, rc->st->ConnectionFailedError, msg));
    Py_DECREF(rc);
}

int
rawconn_cancel_running(RawConn *rc, Op *op, int may_wait)
{
    int extended = op->kind == OP_QUERY || op->kind == OP_BATCH || op->kind == OP_PIPELINE;
    int outside = op->tx_at_start == PGD_TX_IDLE;

    if (rc->cur != op || rc->conn == NULL || rc->state != RC_READY) {
        op->abandoned = 1;
        return 0;
    }
    /* A writer is registered exactly while libpq holds output the kernel
     * has not taken (the driver said PGD_WANT_WRITE): the final Sync is
     * among it.  Nothing of the operation can commit if it is never sent. */
    if (extended && outside && rc->writing) {
        op->abandoned = 1;
        disconnect(rc, "the connection was closed to cancel an operation "
                       "it had not finished sending");
        return 0;
    }
    /* PQcancel blocks for a round trip to the server on a connection of
     * its own: let other threads run meanwhile */
    int sent;
    Py_BEGIN_ALLOW_THREADS
    sent = pgd_conn_cancel(rc->conn) == PGD_OK;
    Py_END_ALLOW_THREADS
    if (may_wait && outside && (op->kind == OP_BATCH || op->kind == OP_PIPELINE))
        return 1; /* the outcome (57014, or complete) is the truth: wait for it */
    op->abandoned = 1;
    if (!sent) {
        /* the server could not be asked: do not wait for it on this
         * connection, nor let a statement of unknown fate be followed */
        disconnect(rc, "the connection was closed: the server could not be asked "
                       "to cancel a statement");
        return 0;
    }
    if (extended && !outside)
        op->abort_tx = 1;
    return 0;
}

/* ---- event-loop callbacks ------------------------------------------------ */

static void
io_step(RawConn *rc)
{
    if (rc->state == RC_CONNECTING) {
        connect_step(rc, pgd_conn_connect_poll(rc->conn));
        return;
    }
    if (rc->state != RC_READY)
        return;
    int status = pgd_conn_io(rc->conn);
    if (rc->cur == NULL) {
        if (status == PGD_ERROR || !pgd_conn_is_ok(rc->conn))
            conn_lost(rc, psqlpy_error_from_conn(rc->st, rc->conn));
        return;
    }
    if (status == PGD_OK || status == PGD_ERROR) {
        finish_current(rc, status);
        return;
    }
    if (want_writer(rc, (status & PGD_WANT_WRITE) != 0) < 0)
        conn_lost(rc, current_exception());
}

static PyObject *
rc_on_io(PyObject *self, PyObject *unused)
{
    (void)unused;
    RawConn *rc = (RawConn *)self;
    Py_INCREF(rc);
    io_step(rc);
    Py_DECREF(rc);
    if (PyErr_Occurred()) /* never let a step's stray error escape into the loop */
        PyErr_WriteUnraisable(self);
    Py_RETURN_NONE;
}

static int
rc_traverse(RawConn *rc, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(rc));
    Py_VISIT(rc->loop);
    Py_VISIT(rc->on_read);
    Py_VISIT(rc->on_write);
    Py_VISIT(rc->timer);
    Py_VISIT(rc->cur);
    Py_VISIT(rc->connect_waiter);
    for (Op *o = rc->qhead; o != NULL; o = o->next)
        Py_VISIT(o);
    return 0;
}

static int
rc_clear(RawConn *rc)
{
    cancel_timer(rc);
    Py_CLEAR(rc->on_read);
    Py_CLEAR(rc->on_write);
    Py_CLEAR(rc->cur);
    Py_CLEAR(rc->connect_waiter);
    Op *op;
    while ((op = pop_queue(rc)) != NULL)
        Py_DECREF(op);
    return 0;
}

static void
rc_dealloc(RawConn *rc)
{
    PyTypeObject *tp = Py_TYPE(rc);
    PyObject_GC_UnTrack(rc);
    if (rc->loop != NULL)
        unregister(rc);
    rc_clear(rc);
    Py_CLEAR(rc->loop);
    /* the pgd_conn belongs to the driver's pool, which frees it */
    tp->tp_free((PyObject *)rc);
    Py_DECREF(tp);
}

static PyMethodDef rc_methods[] = {
    {"_on_read", rc_on_io, METH_NOARGS, NULL},
    {"_on_write", rc_on_io, METH_NOARGS, NULL},
    {"_on_connect_timeout", rc_on_connect_timeout, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot rc_slots[] = {
    {Py_tp_dealloc, rc_dealloc},
    {Py_tp_traverse, rc_traverse},
    {Py_tp_clear, rc_clear},
    {Py_tp_methods, rc_methods},
    {0, NULL},
};

PyType_Spec RawConnSpec = {
    .name = "psqlpy._psqlpy.RawConnection",
    .basicsize = sizeof(RawConn),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_HAVE_GC |
             Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = rc_slots,
};
