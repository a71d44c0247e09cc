/*
 * rawconn.c - one driver connection on the asyncio event loop.
 *
 * While the connection is open a reader is registered for its socket, for
 * good: no registration churn per query, and an idle connection whose
 * server goes away is noticed at once.  A writer is registered only while
 * libpq reports queued output.  Operations run one at a time in FIFO order;
 * the next starts when the previous one's results are in.
 *
 * The socket registered with the loop is not libpq's descriptor but a
 * duplicate the driver's pgd_watch owns (driver/src/watch.c), which follows
 * every change of PQsocket(); this file only supplies its hooks (the loop's
 * add_reader/remove_reader/add_writer/remove_writer).  Which operation runs,
 * what its end means for the connection and how a running one is stopped
 * are the driver's queue's decisions (pgd_opq, driver/src/opqueue.c); this
 * file carries them out.  The outcomes' Python objects are outcome.c's,
 * LISTEN/NOTIFY delivery is notify.c's, loop timers are looptime.c's.
 *
 * Re-entrancy: completing an operation wakes Python code only through
 * Future callbacks, which asyncio runs later, so nothing here is re-entered
 * while a step is in progress.  Each step holds a reference to the RawConn
 * and a hold on its pgd_conn (step_begin), so that neither is freed under
 * it when the pool drops the connection during the step.
 *
 * An error or hang-up on the socket (POLLERR/POLLHUP, e.g. a reset after
 * the server ended the session) is dealt with in the same callback: uvloop
 * (libuv) reports POLLERR once and then closes its watcher for good, so a
 * connection still waiting after that callback would never be woken again.
 * After each step the socket is polled without waiting (pgd_watch_hung_up);
 * while it reports an error or hang-up, libpq is made to read to the end,
 * and a connection that still claims to be open after that is closed as
 * lost.
 *
 * Teardown: at interpreter exit (or once the module state is cleared) no
 * loop method is called any more; the duplicate is still closed.
 */
#include "pyext.h"

static int
loop_call(RawConn *rc, PyObject *name, int fd, PyObject *cb)
{
    if (rc->loop == NULL || psqlpy_tearing_down(rc->st))
        return 0; /* the loop is going away with the interpreter */
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

/* The driver's watch hooks (pgd_watch, driver/src/watch.c): the loop's
 * add_reader/remove_reader/add_writer/remove_writer on the duplicate it
 * owns.  A failed add leaves its exception set; a failed remove (a closed
 * loop) does not matter and leaves any pending exception alone. */
static void
hook_del(RawConn *rc, PyObject *name, int fd)
{
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    if (loop_call(rc, name, fd, NULL) < 0)
        PyErr_Clear();
    PyErr_Restore(t, v, tb);
}

static int
add_read(void *arg, int fd)
{
    RawConn *rc = arg;
    return loop_call(rc, rc->st->s_add_reader, fd, rc->on_read);
}

static void
del_read(void *arg, int fd)
{
    RawConn *rc = arg;
    hook_del(rc, rc->st->s_remove_reader, fd);
}

static int
add_write(void *arg, int fd)
{
    RawConn *rc = arg;
    return loop_call(rc, rc->st->s_add_writer, fd, rc->on_write);
}

static void
del_write(void *arg, int fd)
{
    RawConn *rc = arg;
    hook_del(rc, rc->st->s_remove_writer, fd);
}

static const pgd_watch_hooks watch_hooks = {add_read, del_read, add_write, del_write};

/* Unregister, then close the duplicate: never the other way round. */
static void
drop_socket(RawConn *rc)
{
    pgd_watch_drop(&rc->w);
}

/* 0, or -1 with an exception set. */
static int
watch_result(RawConn *rc, int r)
{
    if (r == -2)
        PyErr_SetString(rc->st->ConnectionFailedError, "the connection has no socket");
    return r < 0 ? -1 : 0;
}

static int
want_reader(RawConn *rc, int on)
{
    return watch_result(rc, pgd_watch_read(&rc->w, on));
}

static int
want_writer(RawConn *rc, int on)
{
    return watch_result(rc, pgd_watch_write(&rc->w, on));
}

/* Follow the connection's current socket (pgd_watch_follow).  0; -1 when
 * the connection has no socket; -2 with an exception set. */
static int
follow_socket(RawConn *rc, int check_identity)
{
    int r = pgd_watch_follow(&rc->w, rc->conn, check_identity);
    if (r == -2)
        PyErr_SetFromErrno(rc->st->ConnectionFailedError);
    return r;
}

static void cancel_deadline(RawConn *rc);

/* A step on rc (a loop callback, a cancel, a close): rc and its pgd_conn
 * stay valid until step_end() even when the pool drops them meanwhile (the
 * driver defers freeing a held connection: pgd_conn_hold). */
static pgd_conn *
step_begin(RawConn *rc)
{
    Py_INCREF(rc);
    if (rc->conn != NULL)
        pgd_conn_hold(rc->conn);
    return rc->conn;
}

static void
step_end(RawConn *rc, pgd_conn *held)
{
    if (held != NULL)
        pgd_conn_unhold(held);
    Py_DECREF(rc);
}

RawConn *
rawconn_new(module_state *st, PoolObject *pool, const rawconn_owner *owner, pgd_conn *conn)
{
    RawConn *rc = PyObject_GC_New(RawConn, st->RawConnType);
    if (rc == NULL)
        return NULL;
    rc->st = st;
    rc->conn = conn;
    rc->pool = pool;
    rc->owner = owner;
    rc->loop = Py_NewRef(pool->loop);
    rc->on_read = rc->on_write = NULL;
    rc->timer = NULL;
    rc->attempt = 0;
    rc->state = RC_CONNECTING;
    pgd_watch_init(&rc->w, &watch_hooks, rc);
    rc->leased = 0;
    rc->in_pool = 0;
    pgd_opq_init(&rc->q);
    rc->connect_waiter = NULL;
    rc->copy_cache = NULL;
    rc->deadline = NULL;
    rc->deadline_op = NULL;
    rc->notify_cb = NULL;
    rc->notifies = NULL;
    rc->inited = 0;
    rc->opened = 0;
    rc->born = rc->idle_since = 0;
    rc->holding = rc->in_burst = 0;
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
    return pgd_opq_idle(&rc->q);
}

/* ---- connecting ---------------------------------------------------------- */

/* libpq leaves connect_timeout to callers of its non-blocking API.  Like
 * libpq's own connect_timeout it applies to each host: the driver tries one
 * host at a time, and the timer is armed again whenever it starts the
 * next; its length is the driver's (pgd_connect_deadline). */

static void
cancel_timer(RawConn *rc)
{
    psqlpy_cancel_timer(rc->st, &rc->timer);
}

static int
arm_timer(RawConn *rc)
{
    cancel_timer(rc);
    rc->attempt = pgd_conn_connect_attempt(rc->conn);
    int secs = pgd_connect_deadline(rc->conn);
    if (secs == 0) /* as in libpq: wait for ever */
        return 0;
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
    drop_socket(rc);
    rc->state = RC_CLOSED;
    if (rc->pool != NULL)
        rc->owner->failed(rc->pool, rc, exc); /* steals exc */
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
    int fs = follow_socket(rc, 1);
    if (fs < 0) {
        connect_failed(rc, fs == -1 ? psqlpy_make_error(rc->st, rc->st->ConnectionFailedError,
                                                        "connection has no socket")
                                    : psqlpy_current_exception());
        return;
    }
    if (status != PGD_OK && pgd_conn_connect_attempt(rc->conn) != rc->attempt &&
        arm_timer(rc) < 0) {
        connect_failed(rc, psqlpy_current_exception());
        return;
    }
    if (status == PGD_OK) {
        cancel_timer(rc);
        rc->state = RC_READY;
        if (want_writer(rc, 0) < 0 || want_reader(rc, 1) < 0) {
            connect_failed(rc, psqlpy_current_exception());
            return;
        }
        if (rc->pool != NULL && rc->pool->init != NULL && sessions_start_init(rc->pool, rc))
            return; /* the waiter stays rc->connect_waiter until init is over */
        Op *waiter = rc->connect_waiter;
        rc->connect_waiter = NULL;
        if (rc->pool != NULL)
            rc->owner->ready(rc->pool, rc, waiter);
        Py_XDECREF(waiter);
        return;
    }
    int rd = (status & PGD_WANT_WRITE) == 0;
    if (want_reader(rc, rd) < 0 || want_writer(rc, !rd) < 0) {
        connect_failed(rc, psqlpy_current_exception());
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
    rc->attempt = 0; /* the first step arms the timer */
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
    pgd_conn *held = step_begin(rc);
    char why[96];
    snprintf(why, sizeof why, "timeout expired after %d s (connect_timeout)",
             rc->timeout_secs);
    /* give this host up; the driver starts the next one, if any */
    int status = pgd_conn_connect_skip(rc->conn, why);
    if (status == PGD_ERROR)
        connect_failed(rc, psqlpy_error_from_conn(rc->st, rc->conn));
    else
        connect_step(rc, status);
    step_end(rc, held);
    if (PyErr_Occurred())
        PyErr_WriteUnraisable(self);
    Py_RETURN_NONE;
}

/* ---- operations ---------------------------------------------------------- */

static void pump(RawConn *rc);

/* The first waiting op, unlinked: the queue's reference passes to the caller. */
static Op *
pop_queue(RawConn *rc)
{
    pgd_aop *a = pgd_opq_pop(&rc->q);
    return a ? OP_OF(a) : NULL;
}

/* The connection is gone: fail everything on it and drop it from the pool. */
static void
conn_lost(RawConn *rc, PyObject *exc)
{
    drop_socket(rc);
    cancel_deadline(rc);
    rc->state = RC_CLOSED;
    Op *op;
    pgd_aop *a;
    rc->in_burst = 0;
    while ((a = pgd_opq_take_current(&rc->q)) != NULL) { /* every member of a burst */
        op = OP_OF(a);
        if (op->t0 != 0)
            sessions_report(rc, op, NULL, exc);
        op_deliver(op, NULL, Py_XNewRef(exc));
        Py_DECREF(op);
    }
    while ((op = pop_queue(rc)) != NULL) {
        switch (pgd_opq_fate(&op->aop, rc->pool != NULL && !rc->leased)) {
        case PGD_FATE_DROP:
            op->state = OPS_DONE;
            break;
        case PGD_FATE_RETRY: /* never started: it may still run on another connection */
            op->state = OPS_NEW;
            Py_CLEAR(op->rc);
            rc->owner->resubmit(rc->pool, op);
            break;
        default:
            op_deliver(op, NULL, Py_XNewRef(exc));
            break;
        }
        Py_DECREF(op);
    }
    Py_XDECREF(exc);
    rawconn_lost_notify(rc);
    if (rc->pool != NULL)
        rc->owner->lost(rc->pool, rc);
}

/* The queue said to fail the transaction before anything queued behind the
 * stopped operation runs (PGD_AFTER_ABORT_TX).  0, or -1 with an exception
 * set. */
static int
queue_tx_abort(RawConn *rc)
{
    Op *op = op_new(rc->st, rc->pool, OP_SIMPLE, RES_NONE);
    if (op == NULL)
        return -1;
    if ((op->sql = PyUnicode_FromString(pgd_tx_abort_sql())) == NULL) {
        Py_DECREF(op);
        return -1;
    }
    op->aop.internal = 1;
    op->aop.expect_error = 1;
    Py_XSETREF(op->rc, (RawConn *)Py_NewRef((PyObject *)rc));
    op->state = OPS_QUEUED;
    pgd_opq_push_front(&rc->q, &op->aop); /* the queue takes our reference */
    return 0;
}

static void after_finished(RawConn *rc, pgd_after after);

/* The error of a failed statement on c: the server's or libpq's, or the
 * one raised while making it. */
static PyObject *
statement_error(RawConn *rc, const pgd_conn *c)
{
    PyObject *exc = psqlpy_error_from_conn(rc->st, c);
    return exc != NULL ? exc : psqlpy_current_exception();
}

/* Operation op (taken off the queue, our reference) ended with status:
 * the queue's verdict on it, the query hooks' report, then its caller's
 * outcome (value and exc are stolen). */
static pgd_after
op_ended(RawConn *rc, Op *op, int status, int alive, pgd_txstate tx, PyObject *value,
         PyObject *exc)
{
    pgd_after after = pgd_aop_finished(&op->aop, status, alive, tx);
    if (op->t0 != 0)
        sessions_report(rc, op, value, exc);
    op_deliver(op, value, exc);
    Py_DECREF(op);
    return after;
}

/* The running burst ended (status as from pgd_conn_io): each member gets
 * its own outcome, in order; a whole-burst failure (the connection lost,
 * out of memory) fails them all. */
static void
finish_burst(RawConn *rc, int status)
{
    pgd_after after = PGD_AFTER_NEXT;
    size_t i = 0;
    pgd_aop *a;
    /* the members' outcomes are read from this connection even if Python
     * code run for an earlier member (a query hook) made the pool let go
     * of it: the step that called us holds its memory (pgd_conn_hold) */
    pgd_conn *c = rc->conn;

    rc->in_burst = 0;
    if (rc->deadline_op != NULL && rc->deadline_op->aop.state == PGD_AOP_RUNNING)
        cancel_deadline(rc);
    if (want_writer(rc, 0) < 0)
        PyErr_Clear();
    int alive = pgd_conn_is_ok(c);
    pgd_txstate tx = alive ? pgd_conn_txstate(c) : PGD_TX_UNKNOWN;
    /* off the queue one by one before its outcome is made: Python code
     * that runs meanwhile sees it over */
    for (; (a = pgd_opq_take_current(&rc->q)) != NULL; i++) {
        Op *op = OP_OF(a);
        PyObject *value = NULL, *exc = NULL;
        int st = status;
        if (status == PGD_OK) {
            pgd_result *res = pgd_conn_burst_take(c, i);
            if (res == NULL)
                st = PGD_ERROR;
            else if ((value = op_statement_outcome(rc->st, op, res)) == NULL)
                exc = psqlpy_current_exception();
        }
        if (st != PGD_OK && exc == NULL)
            exc = statement_error(rc, c);
        pgd_after one = op_ended(rc, op, st, alive, tx, value, exc);
        if (one > after)
            after = one;
    }
    after_finished(rc, after);
}

/* Start a burst of the n operations the queue made current
 * (pgd_opq_start_burst). */
static void
start_burst(RawConn *rc, pgd_aop **ops, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        Op *op = OP_OF(ops[i]);
        op->state = OPS_RUNNING;
        if (rc->pool != NULL && rc->pool->query_hooks != NULL)
            op->t0 = sessions_now();
        rc->bsqls[i] = PyUnicode_AsUTF8(op->sql);
        rc->bnp[i] = op->nparams;
        rc->bpv[i] = op->vals;
    }
    rc->in_burst = 1;
    if (rc->pool != NULL) {
        rc->pool->n_bursts++;
        rc->pool->n_pipelined += (long long)n;
    }
    pgd_conn_set_unnamed(rc->conn, 0);
    int status = pgd_conn_send_burst(rc->conn, n, rc->bsqls, rc->bnp, rc->bpv);
    if (status == PGD_ERROR || status == PGD_OK) {
        finish_burst(rc, status);
        return;
    }
    if (want_writer(rc, (status & PGD_WANT_WRITE) != 0) < 0)
        conn_lost(rc, psqlpy_current_exception());
}

/* The queue's pgd_aop_ready_fn: op's statement may join a burst. */
static int
burst_ready(void *arg, pgd_aop *a)
{
    RawConn *rc = arg;
    Op *op = OP_OF(a);
    if (op->kind != OP_QUERY || op->unnamed ||
        (op->result_mode != RES_QUERY && op->result_mode != RES_ROW))
        return 0;
    const char *sql = PyUnicode_AsUTF8(op->sql);
    if (sql == NULL) {
        PyErr_Clear();
        return 0;
    }
    return pgd_conn_may_pipeline(rc->conn, sql, op->nparams, op->vals);
}

int
rawconn_may_pipeline(RawConn *rc, Op *op)
{
    return rc->state == RC_READY && rc->conn != NULL && !op->aop.timed &&
           !op->aop.internal && !op->aop.abandoned && burst_ready(rc, &op->aop);
}

static void
finish_current(RawConn *rc, int status)
{
    if (rc->in_burst) {
        finish_burst(rc, status);
        return;
    }
    /* off the queue before anything else: Python code that runs while the
     * results are turned into objects sees it over */
    Op *op = OP_OF(pgd_opq_take_current(&rc->q));
    if (rc->deadline_op == op)
        cancel_deadline(rc);
    PyObject *value = NULL, *exc = NULL;

    if (want_writer(rc, 0) < 0)
        PyErr_Clear();
    if (status == PGD_OK) {
        value = rawconn_outcome(rc, op);
        if (value == NULL)
            exc = psqlpy_current_exception();
    } else {
        exc = statement_error(rc, rc->conn);
        pgd_result *res;
        while ((res = pgd_conn_take_result(rc->conn)) != NULL)
            pgd_result_free(res);
    }
    int alive = pgd_conn_is_ok(rc->conn);
    after_finished(rc, op_ended(rc, op, status, alive,
                                alive ? pgd_conn_txstate(rc->conn) : PGD_TX_UNKNOWN, value,
                                exc));
}

/* What the queue said about the end of the operation(s) that just ended. */
static void
after_finished(RawConn *rc, pgd_after after)
{
    if (after == PGD_AFTER_LOST || after == PGD_AFTER_CHECK_FAILED) {
        PyObject *lost = psqlpy_make_error(
            rc->st, rc->st->ConnectionFailedError,
            after == PGD_AFTER_CHECK_FAILED ? "connection failed its recycling check"
                                            : "the connection to the server was lost");
        conn_lost(rc, lost);
        return;
    }
    if (after == PGD_AFTER_ABORT_TX && queue_tx_abort(rc) < 0) {
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

/* op is the queue's current operation now (pgd_opq_start_next) */
static void
start_op(RawConn *rc, Op *op)
{
    int status;
    op->state = OPS_RUNNING;
    pgd_conn_set_unnamed(rc->conn, op->unnamed);
    if (rc->pool != NULL && rc->pool->query_hooks != NULL && !op->aop.internal)
        op->t0 = sessions_now();
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
    case OP_COPY_START:
    case OP_COPY_PUT:
    case OP_COPY_END:
    case OP_COPY_GET:
    case OP_COPY_ABORT:
        /* COPY OUT reads only while a COPY_GET runs (see io_step) */
        if (rc->w.fd >= 0 && want_reader(rc, 1) < 0) {
            conn_lost(rc, psqlpy_current_exception());
            return;
        }
        status = copyop_start(rc, op);
        if (rc->state != RC_READY)
            return; /* the abort closed the connection */
        break;
    default:
        status = PGD_ERROR;
        break;
    }
    if (status == PGD_ERROR || status == PGD_OK) { /* done at once (e.g. a COPY step) */
        finish_current(rc, status);
        return;
    }
    if (want_writer(rc, (status & PGD_WANT_WRITE) != 0) < 0) {
        conn_lost(rc, psqlpy_current_exception());
    }
}

/* Start queued operations; when nothing is left, give the connection back
 * to the pool unless someone holds it. */
static void
pump(RawConn *rc)
{
    pgd_conn *held = step_begin(rc);
    while (rc->state == RC_READY && !rc->holding) {
        pgd_aop *burst[PGD_BURST_MAX];
        size_t n = pgd_opq_start_burst(
            &rc->q, pgd_conn_txstate(rc->conn),
            rc->pool != NULL && !rc->leased && rc->pool->auto_pipeline, burst_ready, rc,
            burst, PGD_BURST_MAX);
        if (n > 0) {
            start_burst(rc, burst, n);
            continue;
        }
        pgd_aop *dropped, *next = pgd_opq_start_next(&rc->q, pgd_conn_txstate(rc->conn),
                                                     &dropped);
        if (dropped != NULL) { /* abandoned while it waited */
            OP_OF(dropped)->state = OPS_DONE;
            Py_DECREF(OP_OF(dropped));
            continue;
        }
        if (next == NULL)
            break;
        start_op(rc, OP_OF(next));
    }
    if (pgd_opq_idle(&rc->q) && rc->state == RC_READY && !rc->leased && !rc->holding &&
        !rc->in_pool && rc->pool != NULL)
        rc->owner->idle(rc->pool, rc);
    step_end(rc, held);
}

void
rawconn_release(RawConn *rc)
{
    if (rc->pool != NULL && rawconn_idle(rc) && !rc->leased)
        rc->owner->idle(rc->pool, rc);
}

void
rawconn_submit(RawConn *rc, Op *op)
{
    Py_XSETREF(op->rc, (RawConn *)Py_NewRef((PyObject *)rc));
    if (rc->state == RC_CLOSED) {
        op_deliver(op, NULL,
                psqlpy_make_error(rc->st, rc->st->ConnectionFailedError,
                                  "the connection is closed"));
        return;
    }
    Py_INCREF(op); /* the queue's reference */
    op->state = OPS_QUEUED;
    pgd_opq_push(&rc->q, &op->aop);
    if (rc->q.cur == NULL && rc->state == RC_READY && !rc->holding)
        pump(rc);
}

void
rawconn_pump(RawConn *rc)
{
    if (rc->q.cur == NULL && rc->state == RC_READY && !rc->holding)
        pump(rc);
}

/* op, waiting for rc to connect, gave up: 1 if it was rc's waiter. */
int
rawconn_forget_waiter(RawConn *rc, Op *op)
{
    if (rc->connect_waiter != op)
        return 0;
    rc->connect_waiter = NULL;
    Py_DECREF(op);
    return 1;
}

/* Remove op from rc's queue; 1 if it was there. */
int
rawconn_unqueue(RawConn *rc, Op *op)
{
    if (!pgd_opq_remove(&rc->q, &op->aop))
        return 0;
    Py_DECREF(op);
    return 1;
}

void
rawconn_close(RawConn *rc)
{
    drop_socket(rc);
    rc->state = RC_CLOSED;
}

/* Close the connection without sending anything more and fail what is on
 * it with `msg`. */
static void
disconnect(RawConn *rc, const char *msg)
{
    pgd_conn *held = step_begin(rc);
    pgd_conn_disconnect(rc->conn);
    conn_lost(rc, psqlpy_make_error(rc->st, rc->st->ConnectionFailedError, msg));
    step_end(rc, held);
}

/* The connection is beyond use: shut it down and fail what is on it. Steals exc. */
static void
disconnect_lost(RawConn *rc, PyObject *exc)
{
    pgd_conn *held = step_begin(rc);
    pgd_conn_disconnect(rc->conn);
    conn_lost(rc, exc);
    step_end(rc, held);
}

/* Carries out the queue's plan (pgd_opq_stop, driver/src/opqueue.c). */
pgd_stop
rawconn_cancel_running(RawConn *rc, Op *op, int may_wait)
{
    /* A writer is registered exactly while libpq holds output the kernel
     * has not taken (the driver said PGD_WANT_WRITE). */
    pgd_stop plan = pgd_opq_stop(&rc->q, &op->aop, rc->conn != NULL && rc->state == RC_READY,
                                 rc->w.writing, may_wait);
    if (plan == PGD_STOP_DROP)
        return plan;
    if (plan == PGD_STOP_DISCONNECT) {
        disconnect(rc, "the connection was closed to cancel an operation "
                       "it had not finished sending");
        return plan;
    }
    /* PQcancel blocks for a round trip to the server on a connection of
     * its own: let other threads run meanwhile */
    int sent;
    Py_BEGIN_ALLOW_THREADS
    sent = pgd_conn_cancel(rc->conn) == PGD_OK;
    Py_END_ALLOW_THREADS
    plan = pgd_opq_stop_sent(&rc->q, &op->aop, plan, sent);
    if (plan == PGD_STOP_DISCONNECT)
        disconnect(rc, "the connection was closed: the server could not be asked "
                       "to cancel a statement");
    return plan;
}

/* ---- deadline of a timed-out statement -------------------------------------- */

static void
cancel_deadline(RawConn *rc)
{
    psqlpy_cancel_timer(rc->st, &rc->deadline);
    Py_CLEAR(rc->deadline_op);
}

static PyObject *
rc_on_deadline(PyObject *self, PyObject *unused)
{
    (void)unused;
    RawConn *rc = (RawConn *)self;
    pgd_conn *held = step_begin(rc);
    Py_CLEAR(rc->deadline);
    Op *op = rc->deadline_op;
    rc->deadline_op = NULL;
    if (op != NULL && pgd_opq_overdue(&rc->q, &op->aop) && rc->state == RC_READY) {
        char msg[160];
        snprintf(msg, sizeof msg, "the connection was closed: the server did not answer "
                                  "the cancel request of a timed-out statement");
        disconnect(rc, msg);
    }
    Py_XDECREF(op);
    step_end(rc, held);
    if (PyErr_Occurred())
        PyErr_WriteUnraisable(self);
    Py_RETURN_NONE;
}

static PyMethodDef on_deadline_def = {"_on_deadline", rc_on_deadline, METH_NOARGS, NULL};

void
rawconn_arm_deadline(RawConn *rc, Op *op, pgd_stop plan)
{
    double secs = pgd_opq_deadline(&rc->q, &op->aop, plan);
    if (secs <= 0 || rc->state != RC_READY)
        return;
    cancel_deadline(rc);
    if (rc->loop == NULL || psqlpy_tearing_down(rc->st))
        return;
    PyObject *timer = psqlpy_call_later(rc->st, rc->loop, secs, &on_deadline_def,
                                        (PyObject *)rc);
    if (timer == NULL) {
        /* cannot wait for it: close the connection now rather than keep it */
        PyErr_Clear();
        disconnect(rc, "the connection was closed: a timed-out statement could not be "
                       "given a deadline");
        return;
    }
    rc->deadline = timer;
    rc->deadline_op = (Op *)Py_NewRef((PyObject *)op);
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
    if (rc->q.cur == NULL) {
        if (status == PGD_ERROR || !pgd_conn_is_ok(rc->conn))
            conn_lost(rc, psqlpy_error_from_conn(rc->st, rc->conn));
        else if (pgd_conn_copy_dir(rc->conn) == PGD_COPY_OUT && want_reader(rc, 0) < 0)
            conn_lost(rc, psqlpy_current_exception()); /* backpressure: no reading until
                                                   the next COPY_GET */
        return;
    }
    if (status == PGD_OK || status == PGD_ERROR) {
        finish_current(rc, status);
        return;
    }
    if (!pgd_conn_is_ok(rc->conn) || pgd_watch_stale(&rc->w, rc->conn)) {
        /* libpq closed its socket yet still waits: nothing will ever come */
        conn_lost(rc, psqlpy_make_error(rc->st, rc->st->ConnectionFailedError,
                                        "the connection to the server was lost"));
        return;
    }
    if (want_writer(rc, (status & PGD_WANT_WRITE) != 0) < 0)
        conn_lost(rc, psqlpy_current_exception());
}

static PyObject *
rc_on_io(PyObject *self, PyObject *unused)
{
    (void)unused;
    RawConn *rc = (RawConn *)self;
    pgd_conn *held = step_begin(rc);
    io_step(rc);
    /* see the top of the file: no further wake-up may come for this socket */
    for (int i = 0; i < 4 && rc->state != RC_CLOSED && pgd_watch_hung_up(&rc->w); i++) {
        if (i == 3) {
            PyObject *exc = psqlpy_make_error(rc->st, rc->st->ConnectionFailedError,
                                              "the connection to the server was lost");
            if (rc->state == RC_CONNECTING)
                connect_failed(rc, exc);
            else
                disconnect_lost(rc, exc);
            break;
        }
        io_step(rc);
    }
    rawconn_dispatch_notifies(rc);
    step_end(rc, held);
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
    Py_VISIT(rc->connect_waiter);
    Py_VISIT(rc->copy_cache);
    Py_VISIT(rc->deadline);
    Py_VISIT(rc->deadline_op);
    Py_VISIT(rc->notify_cb);
    Py_VISIT(rc->notifies);
    if (rc->q.cur != NULL)
        Py_VISIT(OP_OF(rc->q.cur));
    for (pgd_aop *a = rc->q.head; a != NULL; a = a->next)
        Py_VISIT(OP_OF(a));
    return 0;
}

static int
rc_clear(RawConn *rc)
{
    cancel_timer(rc);
    cancel_deadline(rc);
    Py_CLEAR(rc->on_read);
    Py_CLEAR(rc->on_write);
    pgd_aop *cur = pgd_opq_take_current(&rc->q);
    if (cur != NULL)
        Py_DECREF(OP_OF(cur));
    Py_CLEAR(rc->connect_waiter);
    Py_CLEAR(rc->copy_cache);
    rawconn_set_notify(rc, NULL);
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
    drop_socket(rc);
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

/* Close rc now (pool.close(timeout=) ran out): what runs or waits on it
 * fails with ConnectionFailedError(why). */
void
rawconn_abort(RawConn *rc, const char *why)
{
    if (rc->state == RC_CLOSED)
        return;
    pgd_conn *held = step_begin(rc);
    if (rc->conn != NULL)
        pgd_conn_disconnect(rc->conn);
    conn_lost(rc, psqlpy_make_error(rc->st, rc->st->ConnectionFailedError, why));
    step_end(rc, held);
}
