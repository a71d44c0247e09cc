/*
 * op.c - Op: one request to the database, and the awaitable the user gets.
 *
 * pool.execute() and friends start the work at once and return an Op.
 * The Op implements the coroutine protocol (__await__, send, throw, close;
 * am_send), so it can be awaited, passed to asyncio.create_task() or
 * gathered.  While the work is in flight, send() yields an asyncio.Future
 * (created lazily, on the first send) that only serves to wake the task;
 * the outcome lives on the Op itself.  throw() is how cancellation reaches
 * us: a cancelled task throws CancelledError in, and the Op then withdraws
 * the request (if it is still waiting) or stops it (if it is running, see
 * rawconn_cancel_running) before re-raising.  A running batch or pipeline
 * begun outside a transaction block whose output has all been sent is the
 * exception: its cancel can come too late to matter, so the task is kept
 * waiting (throw() yields a new future) until the outcome says which it
 * was.  If the cancel took effect the CancelledError is raised then; if
 * the server had finished first, the operation's result is returned, as a
 * coroutine refusing a cancellation does (with Task.uncancel()).
 *
 * Timeouts (timeout= of a call, or the pool's command_timeout): a loop
 * timer armed when the call is made covers the whole call, waiting for a
 * connection included.  When it fires, the op is treated as if its task
 * had been cancelled (the same rules, so a timed-out batch keeps the
 * "nothing committed" guarantee) and fails with QueryTimeoutError:
 *  - waiting for a connection or queued: withdrawn;
 *  - running: the server is asked to cancel (rawconn_cancel_running).  A
 *    batch or pipeline begun outside a transaction block waits for the
 *    outcome, at most 0.25 s more: failed -> QueryTimeoutError
 *    (nothing of it stays), complete -> its result (the timeout came too
 *    late), no answer -> the connection is closed, ConnectionFailedError
 *    (outcome unknown).  Anything else fails at once and its connection
 *    is closed if the statement is still running a little later (a frozen
 *    backend, a dead link), which opens its slot again.  The plan, the
 *    deadline and whether it closes the connection are the driver's
 *    (pgd_opq_stop, pgd_opq_deadline, pgd_opq_overdue in
 *    driver/src/opqueue.c).
 */
#include "pyext.h"

/* What the connection's queue needs to know of an operation's kind. */
static pgd_opkind
op_queue_kind(int kind)
{
    switch (kind) {
    case OP_SIMPLE:
        return PGD_OPK_SIMPLE;
    case OP_BATCH:
        return PGD_OPK_BATCH;
    case OP_PIPELINE:
        return PGD_OPK_PIPELINE;
    case OP_COPY_START:
    case OP_COPY_GET: /* may wait on the server: cancelled there */
        return PGD_OPK_COPY;
    case OP_COPY_PUT:
    case OP_COPY_END:
    case OP_COPY_ABORT:
        return PGD_OPK_COPY_STEP;
    default:
        return PGD_OPK_QUERY;
    }
}

Op *
op_new(module_state *st, PoolObject *pool, int kind, int result_mode)
{
    if (psqlpy_tearing_down(st)) {
        PyErr_SetString(PyExc_RuntimeError, "psqlpy: the interpreter is shutting down");
        return NULL;
    }
    Op *op = PyObject_GC_New(Op, st->OpType);
    if (op == NULL)
        return NULL;
    op->st = st;
    op->kind = kind;
    op->result_mode = result_mode;
    op->state = OPS_NEW;
    pgd_aop_init(&op->aop, op_queue_kind(kind));
    op->is_error = 0;
    op->unnamed = 0;
    op->timed_out = 0;
    op->timeout = 0;
    op->timer = NULL;
    op->cancel_exc = NULL;
    op->cancel_task = NULL;
    op->future = NULL;
    op->outcome = NULL;
    op->pool = (PoolObject *)Py_XNewRef((PyObject *)pool);
    op->rc = NULL;
    op->conn_obj = NULL;
    op->sql = NULL;
    op->keep = NULL;
    op->vals = NULL;
    op->nvals = op->nparams = op->nrows = 0;
    op->sqls = NULL;
    op->np = NULL;
    op->pv = NULL;
    op->next = NULL;
    op->t0 = 0;
    op->rows = -1;
    PyObject_GC_Track(op);
    return op;
}

/* Wake the awaiting task, if one is waiting. */
static void
wake(Op *op)
{
    if (op->future == NULL)
        return;
    PyObject *done = PyObject_CallMethodNoArgs(op->future, op->st->s_done);
    if (done == NULL) {
        PyErr_WriteUnraisable((PyObject *)op);
        return;
    }
    int is_done = done == Py_True;
    Py_DECREF(done);
    if (is_done)
        return;
    PyObject *r = PyObject_CallMethodOneArg(op->future, op->st->s_set_result, Py_None);
    if (r == NULL)
        PyErr_WriteUnraisable((PyObject *)op);
    Py_XDECREF(r);
}

/* Disarm the timeout clock; never fails. */
void
op_stop_timer(Op *op)
{
    psqlpy_cancel_timer(op->st, &op->timer);
}

void
op_complete(Op *op, PyObject *value)
{
    if (op->state == OPS_DONE) {
        Py_XDECREF(value);
        return;
    }
    op->state = OPS_DONE;
    op->is_error = 0;
    Py_XSETREF(op->outcome, value);
    op_stop_timer(op);
    wake(op);
}

void
op_fail(Op *op, PyObject *exc)
{
    if (op->state == OPS_DONE) {
        Py_XDECREF(exc);
        return;
    }
    op->state = OPS_DONE;
    op->is_error = 1;
    Py_XSETREF(op->outcome, exc);
    op_stop_timer(op);
    wake(op);
}

PyObject *
psqlpy_current_exception(void)
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

void
op_fail_current(Op *op)
{
    PyObject *v = psqlpy_current_exception();
    if (v == NULL) {
        v = PyObject_CallFunction(op->st->InterfaceError, "s", "unknown failure");
        if (v == NULL)
            PyErr_Clear();
    }
    op_fail(op, v);
}

PyObject *
op_failed_awaitable(Op *op)
{
    op_fail_current(op);
    return (PyObject *)op;
}

const char *
psqlpy_sql_utf8(module_state *st, PyObject *sql)
{
    Py_ssize_t n;
    const char *p = PyUnicode_AsUTF8AndSize(sql, &n);
    if (p == NULL) {
        /* a lone surrogate: no UTF-8 form */
        psqlpy_reraise_as(st->InterfaceError, "the SQL text is not valid Unicode");
        return NULL;
    }
    if (strlen(p) != (size_t)n) {
        /* libpq takes C strings: the text after the NUL would be dropped */
        PyErr_Format(st->InterfaceError,
                     "the SQL text contains a NUL character (at position %zu)", strlen(p));
        return NULL;
    }
    return p;
}

int
op_bind_query(Op *op, PyObject *sql, PyObject *params)
{
    module_state *st = op->st;
    if (!PyUnicode_Check(sql)) {
        PyErr_Format(PyExc_TypeError, "querystring must be str, not %s",
                     Py_TYPE(sql)->tp_name);
        return -1;
    }
    if (psqlpy_sql_utf8(st, sql) == NULL)
        return -1;
    op->sql = Py_NewRef(sql);
    if ((op->keep = PyList_New(0)) == NULL)
        return -1;
    if (params == NULL || params == Py_None)
        return 0;
    if (PyUnicode_Check(params) || PyBytes_Check(params) || PyDict_Check(params)) {
        PyErr_Format(st->ParameterError,
                     "parameters must be a list or tuple of values, not %s",
                     Py_TYPE(params)->tp_name);
        return -1;
    }
    PyObject *tup = PySequence_Tuple(params);
    if (tup == NULL) {
        PyErr_Format(st->ParameterError,
                     "parameters must be a list or tuple of values, not %s",
                     Py_TYPE(params)->tp_name);
        return -1;
    }
    int rc = PyList_Append(op->keep, tup);
    Py_DECREF(tup);
    if (rc < 0)
        return -1;
    size_t n = (size_t)PyTuple_GET_SIZE(tup);
    if (n == 0)
        return 0;
    op->vals = PyMem_Calloc(n, sizeof(pgd_value));
    if (op->vals == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    op->nvals = op->nparams = n;
    return params_convert(st, tup, op->vals, n, op->keep);
}

/* The awaiting task was cancelled (or the awaitable closed): withdraw a
 * waiting op from wherever it waits; stop a running one (its connection's
 * queue decides how) and drop its results when they come. */
void
op_abandon(Op *op)
{
    RawConn *rc = op->rc;
    switch (op->state) {
    case OPS_WAITING:
        if (rc == NULL || !rawconn_forget_waiter(rc, op)) {
            if (op->pool != NULL)
                pool_withdraw(op->pool, op);
        }
        break;
    case OPS_QUEUED:
        if (rc != NULL)
            rawconn_unqueue(rc, op);
        break;
    case OPS_RUNNING:
        if (rc != NULL)
            rawconn_cancel_running(rc, op, 0);
        op->aop.abandoned = 1;
        return; /* finishes (and is dropped) when the server answers */
    default:
        break;
    }
    op->aop.abandoned = 1;
    op->state = OPS_DONE;
    op_stop_timer(op);
}

/* ---- timeouts ------------------------------------------------------------ */

int
op_set_timeout(Op *op, PyObject *arg, int use_default)
{
    if (arg == NULL || arg == Py_None) {
        op->timeout = use_default && op->pool != NULL ? op->pool->command_timeout : 0;
    } else if (psqlpy_seconds(arg, &op->timeout) < 0) {
        PyErr_Format(op->st->InterfaceError,
                     "timeout must be a positive number of seconds or None, got %R", arg);
        return -1;
    }
    op->aop.timed = op->timeout > 0; /* never pipelined (opqueue.c) */
    return 0;
}

static PyObject *op_on_timeout(PyObject *self, PyObject *unused);
static PyMethodDef on_timeout_def = {"_on_timeout", op_on_timeout, METH_NOARGS, NULL};

int
op_arm_timeout(Op *op)
{
    if (op->timeout <= 0 || op->state == OPS_DONE || op->timer != NULL)
        return 0;
    PyObject *loop = op->pool ? op->pool->loop : NULL;
    if (loop == NULL)
        return 0; /* not started: the call fails on its own */
    PyObject *timer = psqlpy_call_later(op->st, loop, op->timeout, &on_timeout_def,
                                        (PyObject *)op);
    if (timer == NULL)
        return -1;
    op->timer = timer;
    return 0;
}

/* Fail op with exc (stolen) even when it was withdrawn or abandoned (done,
 * without an outcome) on the way. */
static void
timeout_fail(Op *op, PyObject *exc)
{
    if (op->state == OPS_DONE && op->outcome != NULL) {
        Py_XDECREF(exc);
        return;
    }
    op->state = OPS_NEW;
    op_fail(op, exc);
}

static PyObject *
op_on_timeout(PyObject *self, PyObject *unused)
{
    (void)unused;
    Op *op = (Op *)self;
    Py_INCREF(op);
    Py_CLEAR(op->timer);
    if (op->state != OPS_DONE && !op->timed_out && !psqlpy_tearing_down(op->st)) {
        op->timed_out = 1;
        char msg[160];
        snprintf(msg, sizeof msg, "%s did not finish within its timeout (%g s)",
                 op->kind == OP_ACQUIRE ? "waiting for a connection" : "the statement",
                 op->timeout);
        PyObject *exc = psqlpy_make_error(op->st, op->st->QueryTimeoutError, msg);
        if (exc == NULL)
            PyErr_Clear();
        RawConn *rc = op->rc;
        if (op->state == OPS_RUNNING && rc != NULL) {
            Py_INCREF(rc);
            pgd_stop plan = op->cancel_exc != NULL ? PGD_STOP_CANCEL_WAIT
                                                   : rawconn_cancel_running(rc, op, 1);
            /* close the connection if the server does not act in time */
            rawconn_arm_deadline(rc, op, plan);
            if (plan == PGD_STOP_CANCEL_WAIT) {
                /* the outcome tells whether the cancel took effect: wait, briefly */
                Py_XDECREF(exc);
            } else {
                op->aop.abandoned = 1;
                timeout_fail(op, exc);
            }
            Py_DECREF(rc);
        } else {
            op_abandon(op);
            timeout_fail(op, exc);
        }
    }
    if (PyErr_Occurred())
        PyErr_WriteUnraisable(self);
    Py_DECREF(op);
    Py_RETURN_NONE;
}

/* ---- awaitable protocol ------------------------------------------------ */

/* A fresh future for the awaiting task to wait on (new reference). */
static PyObject *
wait_future(Op *op)
{
    PyObject *loop = op->pool ? op->pool->loop : NULL;
    if (loop == NULL) {
        PyErr_SetString(op->st->InterfaceError, "no event loop");
        return NULL;
    }
    PyObject *fut = PyObject_CallMethodNoArgs(loop, op->st->s_create_future);
    if (fut == NULL)
        return NULL;
    if (PyObject_SetAttr(fut, op->st->s_blocking, Py_True) < 0) {
        Py_DECREF(fut);
        return NULL;
    }
    Py_XSETREF(op->future, Py_NewRef(fut));
    return fut;
}

/* The task being run (new reference), or NULL; never fails.  Only on the
 * rare cancellation paths, so looked up here rather than kept. */
static PyObject *
current_task(void)
{
    PyObject *asyncio = PyImport_ImportModule("asyncio");
    PyObject *task = asyncio ? PyObject_CallMethod(asyncio, "current_task", NULL) : NULL;
    Py_XDECREF(asyncio);
    if (task == NULL)
        PyErr_Clear();
    else if (task == Py_None)
        Py_CLEAR(task);
    return task;
}

/* A task whose cancellation was refused (the operation had completed) is
 * told so, as asyncio asks of code that suppresses a cancel.  Steals task. */
static void
uncancel(PyObject *task)
{
    if (task == NULL)
        return;
    PyObject *r = PyObject_CallMethod(task, "uncancel", NULL);
    if (r == NULL)
        PyErr_Clear(); /* a task class without uncancel() */
    Py_XDECREF(r);
    Py_DECREF(task);
}

/* A cancel held back (cancel_exc) meets the outcome: raise the
 * CancelledError when the operation failed on a live connection (nothing
 * of it stays), else let the outcome through; an operation that completed
 * refused the cancellation. */
static PySendResult
settle_cancel(Op *op, PyObject **result)
{
    if (op->is_error && op->aop.took_no_effect) {
        PyObject *exc = op->cancel_exc;
        if (op->outcome != NULL)
            PyException_SetContext(exc, Py_NewRef(op->outcome));
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        *result = NULL;
        return PYGEN_ERROR;
    }
    if (!op->is_error) {
        uncancel(op->cancel_task);
        op->cancel_task = NULL;
    }
    return PYGEN_NEXT; /* not settled here */
}

static PySendResult
op_am_send(PyObject *self, PyObject *arg, PyObject **result)
{
    Op *op = (Op *)self;
    (void)arg;
    if (op->state == OPS_DONE) {
        if (op->cancel_exc != NULL && settle_cancel(op, result) == PYGEN_ERROR)
            return PYGEN_ERROR;
        if (op->is_error) {
            PyObject *exc = op->outcome;
            if (exc == NULL) {
                PyErr_SetString(op->st->InterfaceError, "operation failed");
            } else {
                PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
            }
            *result = NULL;
            return PYGEN_ERROR;
        }
        *result = Py_NewRef(op->outcome ? op->outcome : Py_None);
        return PYGEN_RETURN;
    }
    if (op->future == NULL) {
        *result = wait_future(op);
        return *result == NULL ? PYGEN_ERROR : PYGEN_NEXT;
    }
    if (PyObject_SetAttr(op->future, op->st->s_blocking, Py_True) < 0) {
        *result = NULL;
        return PYGEN_ERROR;
    }
    *result = Py_NewRef(op->future);
    return PYGEN_NEXT;
}

static PyObject *
op_iternext(PyObject *self)
{
    PyObject *res = NULL;
    PySendResult r = op_am_send(self, Py_None, &res);
    if (r == PYGEN_NEXT)
        return res;
    if (r == PYGEN_RETURN) {
        if (res == Py_None) {
            Py_DECREF(res);
            PyErr_SetNone(PyExc_StopIteration);
        } else {
            PyObject *e = PyObject_CallOneArg(PyExc_StopIteration, res);
            Py_DECREF(res);
            if (e != NULL) {
                PyErr_SetObject(PyExc_StopIteration, e);
                Py_DECREF(e);
            }
        }
    }
    return NULL;
}

static PyObject *
op_send(PyObject *self, PyObject *arg)
{
    (void)arg;
    return op_iternext(self);
}

/* A CancelledError thrown into a running operation that is worth waiting
 * for (rawconn_cancel_running): keep the task waiting on a new future and
 * hold the exception back until the outcome is known.  Steals exc.
 * Returns the future (new), or NULL with an exception set. */
static PyObject *
hold_cancel(Op *op, PyObject *exc)
{
    if (op->cancel_exc == NULL) {
        op->cancel_exc = exc;
        op->cancel_task = current_task();
    } else {
        Py_DECREF(exc); /* cancelled again while waiting: still waiting */
    }
    return wait_future(op);
}

static PyObject *
op_throw(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Op *op = (Op *)self;
    if (nargs < 1 || nargs > 3) {
        PyErr_SetString(PyExc_TypeError, "throw expected 1 to 3 arguments");
        return NULL;
    }
    PyObject *typ = args[0];
    PyObject *val = nargs > 1 ? args[1] : Py_None;
    if (PyExceptionInstance_Check(typ)) {
        PyErr_SetObject((PyObject *)Py_TYPE(typ), typ);
    } else if (PyExceptionClass_Check(typ)) {
        PyErr_SetObject(typ, val == Py_None ? NULL : val);
    } else {
        PyErr_SetString(PyExc_TypeError,
                        "exceptions must be classes or instances deriving from BaseException");
        return NULL;
    }
    if (op->state == OPS_DONE) {
        /* The cancel reached a finished operation (its results were read in
         * the same loop iteration, before the task was woken).  Raising now
         * would report as cancelled what has taken effect: hand over the
         * result instead, as a cancel that came too late. */
        if (!op->is_error && !op->aop.abandoned && !op->aop.internal && op->kind != OP_ACQUIRE &&
            PyErr_ExceptionMatches(op->st->CancelledError)) {
            PyErr_Clear();
            uncancel(current_task());
            return op_iternext(self);
        }
        return NULL;
    }
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    PyErr_NormalizeException(&t, &v, &tb);
    if (op->state == OPS_RUNNING && v != NULL && op->rc != NULL &&
        PyObject_TypeCheck(v, (PyTypeObject *)op->st->CancelledError)) {
        if (op->cancel_exc != NULL ||
            rawconn_cancel_running(op->rc, op, 1) == PGD_STOP_CANCEL_WAIT) {
            Py_XDECREF(t);
            Py_XDECREF(tb);
            return hold_cancel(op, v);
        }
        /* abandoned by rawconn_cancel_running */
    } else {
        op_abandon(op);
    }
    PyErr_Restore(t, v, tb);
    return NULL;
}

static PyObject *
op_close(PyObject *self, PyObject *unused)
{
    (void)unused;
    Op *op = (Op *)self;
    if (op->state != OPS_DONE)
        op_abandon(op);
    Py_RETURN_NONE;
}

static PyObject *
op_await(PyObject *self)
{
    return Py_NewRef(self);
}

static PyObject *
op_get_done(PyObject *self, void *closure)
{
    (void)closure;
    return PyBool_FromLong(((Op *)self)->state == OPS_DONE);
}

static void
op_free_buffers(Op *op)
{
    PyMem_Free(op->vals);
    op->vals = NULL;
    PyMem_Free(op->sqls);
    op->sqls = NULL;
    PyMem_Free(op->np);
    op->np = NULL;
    PyMem_Free(op->pv);
    op->pv = NULL;
}

static int
op_traverse(Op *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(op->future);
    Py_VISIT(op->timer);
    Py_VISIT(op->outcome);
    Py_VISIT(op->cancel_exc);
    Py_VISIT(op->cancel_task);
    Py_VISIT(op->pool);
    Py_VISIT(op->rc);
    Py_VISIT(op->conn_obj);
    Py_VISIT(op->sql);
    Py_VISIT(op->keep);
    return 0;
}

static int
op_clear(Op *op)
{
    Py_CLEAR(op->future);
    op_stop_timer(op);
    Py_CLEAR(op->outcome);
    Py_CLEAR(op->cancel_exc);
    Py_CLEAR(op->cancel_task);
    Py_CLEAR(op->pool);
    Py_CLEAR(op->rc);
    Py_CLEAR(op->conn_obj);
    Py_CLEAR(op->sql);
    Py_CLEAR(op->keep);
    return 0;
}

static void
op_dealloc(Op *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    op_clear(op);
    op_free_buffers(op);
    tp->tp_free((PyObject *)op);
    Py_DECREF(tp);
}

static PyMethodDef op_methods[] = {
    {"send", op_send, METH_O,
     "send($self, value, /)\n--\n\nCoroutine protocol: resume the operation."},
    {"throw", (PyCFunction)(void (*)(void))op_throw, METH_FASTCALL,
     "throw($self, typ, val=None, tb=None, /)\n--\n\nCoroutine protocol: raise an "
     "exception into the operation (cancellation arrives this way)."},
    {"close", op_close, METH_NOARGS,
     "close($self, /)\n--\n\nCoroutine protocol: abandon the operation."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef op_getset[] = {
    {"done", op_get_done, NULL, "Whether the operation has finished.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot op_slots[] = {
    {Py_tp_dealloc, op_dealloc},
    {Py_tp_traverse, op_traverse},
    {Py_tp_clear, op_clear},
    {Py_tp_iter, op_await},
    {Py_tp_iternext, op_iternext},
    {Py_tp_methods, op_methods},
    {Py_tp_getset, op_getset},
    {Py_am_await, op_await},
    {Py_am_send, op_am_send},
    {Py_tp_doc, "A database operation in flight; await it for its result."},
    {0, NULL},
};

PyType_Spec OpSpec = {
    .name = "psqlpy._psqlpy.PendingQuery",
    .basicsize = sizeof(Op),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_HAVE_GC |
             Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = op_slots,
};
