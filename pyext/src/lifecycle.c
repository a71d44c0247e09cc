/*
 * lifecycle.c - a pool's life cycle:
 *
 *   min_size=      connections kept open: opened at startup and refilled
 *                  in the background;
 *   max_lifetime=  seconds a connection may live: an idle one past it is
 *                  closed by the background check, a lent one when it
 *                  comes back (never while lent);
 *   max_idle=      seconds a connection may sit idle while the pool holds
 *                  more than min_size;
 *   resize(n)      a new max_db_pool_size on a running pool;
 *   status()       counts for a health check;
 *   close(timeout) wait for lent connections up to timeout, then close them.
 *
 * The background check is one loop timer per pool (call_later), armed only
 * when min_size, max_lifetime or max_idle is set.  It holds a weak
 * reference to the pool, so a pool nobody holds is still freed.
 */
#include "pyext.h"

#define TICK_MAX 1.0   /* seconds between checks at most */
#define TICK_MIN 0.01

/* A non-negative number of seconds (None: 0 = off) from `name` in rest. */
static int
pop_seconds(PoolObject *pool, PyObject *rest, const char *name, double *out)
{
    *out = 0;
    PyObject *v = rest ? PyDict_GetItemString(rest, name) : NULL;
    if (v == NULL || v == Py_None)
        return rest && v ? PyDict_DelItemString(rest, name) : 0;
    if (PyBool_Check(v) || psqlpy_seconds(v, out) < 0 || *out <= 0) {
        PyErr_Clear();
        PyErr_Format(pool->st->PoolConfigurationError,
                     "%s must be a positive number of seconds or None, got %R", name, v);
        return -1;
    }
    return PyDict_DelItemString(rest, name);
}

int
lifecycle_parse(PoolObject *pool, PyObject *rest)
{
    pool->min_size = 0;
    if (pop_seconds(pool, rest, "max_lifetime", &pool->max_lifetime) < 0 ||
        pop_seconds(pool, rest, "max_idle", &pool->max_idle) < 0)
        return -1;
    PyObject *v = rest ? PyDict_GetItemString(rest, "min_size") : NULL;
    if (v == NULL)
        return 0;
    if (v != Py_None) {
        long n = PyLong_Check(v) && !PyBool_Check(v) ? PyLong_AsLong(v) : -1;
        if (n < 0 || n > 100000) {
            PyErr_Clear();
            PyErr_Format(pool->st->PoolConfigurationError,
                         "min_size must be an int >= 0, got %R", v);
            return -1;
        }
        pool->min_size = (int)n;
    }
    return PyDict_DelItemString(rest, "min_size");
}

/* checked after max_db_pool_size is known */
int
lifecycle_check(PoolObject *pool, int max_size)
{
    if (pool->min_size > max_size) {
        PyErr_Format(pool->st->PoolConfigurationError,
                     "min_size (%d) is larger than max_db_pool_size (%d)", pool->min_size,
                     max_size);
        return -1;
    }
    return 0;
}

int
lifecycle_expired(PoolObject *pool, RawConn *rc)
{
    if (pool->pool != NULL && pgd_pool_size(pool->pool) > pool->max_size)
        return 1; /* resize() made the pool smaller */
    return pool->max_lifetime > 0 && rc->born > 0 &&
           sessions_now() - rc->born >= pool->max_lifetime;
}

static double
tick(PoolObject *pool)
{
    double t = TICK_MAX;
    if (pool->max_lifetime > 0 && pool->max_lifetime / 4 < t)
        t = pool->max_lifetime / 4;
    if (pool->max_idle > 0 && pool->max_idle / 4 < t)
        t = pool->max_idle / 4;
    return t < TICK_MIN ? TICK_MIN : t;
}

/* Close idle connections past their time; open up to min_size. */
static void
maintain(PoolObject *pool)
{
    if (pool->closed || pool->pool == NULL || psqlpy_tearing_down(pool->st))
        return;
    double now = sessions_now();
    PyObject *snap = PyList_GetSlice(pool->conns, 0, PyList_GET_SIZE(pool->conns));
    if (snap == NULL) {
        PyErr_Clear();
        return;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(snap); i++) {
        RawConn *rc = (RawConn *)PyList_GET_ITEM(snap, i);
        if (!rc->in_pool || rc->pool != pool)
            continue;
        int old = pool->max_lifetime > 0 && now - rc->born >= pool->max_lifetime;
        int idle = pool->max_idle > 0 && now - rc->idle_since >= pool->max_idle &&
                   pgd_pool_size(pool->pool) > pool->min_size;
        int over = pgd_pool_size(pool->pool) > pool->max_size;
        if (old || idle || over) {
            rc->in_pool = 0;
            pool_forget(pool, rc);
        }
    }
    Py_DECREF(snap);
    while (!pool->closed && pgd_pool_size(pool->pool) < pool->min_size &&
           pgd_pool_size(pool->pool) < pool->max_size) {
        long long failed = pool->n_failed;
        if (!pool_open(pool, NULL) || pool->n_failed != failed)
            break; /* a failure is counted; the next check tries again */
    }
}

static void arm(PoolObject *pool);

/* the timer's callback; self is a weak reference to the pool */
static PyObject *
on_tick(PyObject *self, PyObject *unused)
{
    (void)unused;
    PyObject *p = PyObject_CallNoArgs(self);
    if (p == NULL)
        return NULL;
    if (p != Py_None) {
        PoolObject *pool = (PoolObject *)p;
        Py_CLEAR(pool->maint_timer);
        maintain(pool);
        arm(pool);
    }
    Py_DECREF(p);
    Py_RETURN_NONE;
}

static PyMethodDef on_tick_def = {"_on_tick", on_tick, METH_NOARGS, NULL};

static void
arm(PoolObject *pool)
{
    if (pool->maint_timer != NULL || pool->closed || pool->loop == NULL ||
        (pool->min_size == 0 && pool->max_lifetime == 0 && pool->max_idle == 0))
        return;
    PyObject *ref = PyWeakref_NewRef((PyObject *)pool, NULL);
    pool->maint_timer = ref ? psqlpy_call_later(pool->st, pool->loop, tick(pool), &on_tick_def,
                                                ref)
                            : NULL;
    Py_XDECREF(ref);
    if (pool->maint_timer == NULL)
        PyErr_WriteUnraisable((PyObject *)pool);
}

void
lifecycle_started(PoolObject *pool)
{
    maintain(pool); /* the first connection is the startup's: the rest of min_size */
    arm(pool);
}

static void
finish_close(PoolObject *pool)
{
    Op *op = pool->close_op;
    pool->close_op = NULL;
    psqlpy_cancel_timer(pool->st, &pool->close_timer);
    if (op != NULL) {
        op_complete(op, Py_NewRef(Py_None));
        Py_DECREF(op);
    }
}

void
lifecycle_forgot(PoolObject *pool, RawConn *rc)
{
    if (rc->opened) {
        rc->opened = 0;
        pool->n_closed++;
    }
    if (pool->close_op != NULL && pool->conns != NULL && PyList_GET_SIZE(pool->conns) == 0)
        finish_close(pool);
}

/* close(timeout=) ran out: close what is still lent or opening */
static PyObject *
on_close_timeout(PyObject *self, PyObject *unused)
{
    (void)unused;
    PoolObject *pool = (PoolObject *)self;
    Py_CLEAR(pool->close_timer);
    Py_INCREF(pool);
    PyObject *snap = pool->conns ? PyList_GetSlice(pool->conns, 0,
                                                   PyList_GET_SIZE(pool->conns))
                                 : NULL;
    for (Py_ssize_t i = 0; snap && i < PyList_GET_SIZE(snap); i++) {
        RawConn *rc = (RawConn *)PyList_GET_ITEM(snap, i);
        if (rc->pool != pool)
            continue;
        if (rc->state == RC_CONNECTING)
            pool_conn_failed(pool, rc, psqlpy_make_error(pool->st,
                                                          pool->st->ConnectionFailedError,
                                                          "the pool was closed"));
        else
            rawconn_abort(rc, "the pool was closed: its close() timeout ran out while the "
                              "connection was lent");
    }
    Py_XDECREF(snap);
    PyErr_Clear();
    finish_close(pool); /* whatever is left is not ours any more */
    Py_DECREF(pool);
    Py_RETURN_NONE;
}

static PyMethodDef on_close_timeout_def = {"_on_close_timeout", on_close_timeout, METH_NOARGS,
                                           NULL};

PyObject *
lifecycle_close(PoolObject *pool, PyObject *timeout, Op *op)
{
    psqlpy_cancel_timer(pool->st, &pool->maint_timer);
    double secs = 0;
    int zero = (PyLong_Check(timeout) || PyFloat_Check(timeout)) && !PyBool_Check(timeout) &&
               PyFloat_AsDouble(timeout) == 0;
    if (timeout != Py_None && !zero && psqlpy_seconds(timeout, &secs) < 0) {
        PyErr_Clear();
        op_fail(op, psqlpy_make_error(pool->st, PyExc_ValueError,
                                      "close(timeout=) must be a number of seconds or None"));
        return (PyObject *)op;
    }
    if (timeout == Py_None || pool->conns == NULL || PyList_GET_SIZE(pool->conns) == 0 ||
        pool->loop == NULL) {
        op_complete(op, Py_NewRef(Py_None));
        return (PyObject *)op;
    }
    if (pool->close_op != NULL) { /* closing already: the earlier deadline stands */
        Py_INCREF(op);
        PyObject *r = lifecycle_close(pool, Py_None, op);
        Py_DECREF(op);
        return r;
    }
    pool->close_op = (Op *)Py_NewRef((PyObject *)op);
    pool->close_timer = psqlpy_call_later(pool->st, pool->loop, secs, &on_close_timeout_def,
                                          (PyObject *)pool);
    if (pool->close_timer == NULL) {
        Py_CLEAR(pool->close_op);
        return op_failed_awaitable(op);
    }
    return (PyObject *)op;
}

PyObject *
lifecycle_status(PoolObject *pool)
{
    int waiting = 0, lent = 0, connecting = 0;
    for (Op *o = pool->whead; o; o = o->next)
        waiting++;
    Py_ssize_t n = pool->conns ? PyList_GET_SIZE(pool->conns) : 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        RawConn *rc = (RawConn *)PyList_GET_ITEM(pool->conns, i);
        if (rc->state == RC_CONNECTING || (rc->state == RC_READY && !rc->opened))
            connecting++;
        else if (rc->state == RC_READY && !rc->in_pool)
            lent++;
    }
    return Py_BuildValue("{s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:L,s:L,s:L,s:L,s:L}", "max_size",
                         pool->max_size, "min_size", pool->min_size, "size",
                         pool->pool ? pgd_pool_size(pool->pool) : 0, "idle",
                         pool->pool ? pgd_pool_idle(pool->pool) : 0, "lent", lent,
                         "connecting", connecting, "waiting", waiting, "opened",
                         pool->n_opened, "closed", pool->n_closed, "failed", pool->n_failed,
                         "bursts", pool->n_bursts, "pipelined", pool->n_pipelined);
}

PyObject *
lifecycle_resize(PyObject *self, PyObject *arg)
{
    PoolObject *pool = (PoolObject *)self;
    long n = PyLong_Check(arg) && !PyBool_Check(arg) ? PyLong_AsLong(arg) : -1;
    if (n < 1 || n > 100000) {
        PyErr_Clear();
        PyErr_Format(PyExc_ValueError, "resize(): the new size must be an int >= 1, got %R",
                     arg);
        return NULL;
    }
    if (lifecycle_check(pool, (int)n) < 0)
        return NULL;
    if (pool->pool != NULL && pgd_pool_resize(pool->pool, (int)n) != PGD_OK)
        return PyErr_NoMemory();
    int grew = n > pool->max_size;
    pool->max_size = (int)n;
    if (pool->pool == NULL)
        Py_RETURN_NONE;
    if (grew) {
        /* room for waiters now */
        while (pool->whead != NULL && pgd_pool_size(pool->pool) < pool->max_size) {
            Op *first = pool->whead;
            pool_kick_waiters(pool);
            if (pool->whead == first)
                break;
        }
    } else {
        maintain(pool); /* idle ones beyond the new size close now */
    }
    Py_RETURN_NONE;
}

int
lifecycle_traverse(PoolObject *pool, visitproc visit, void *arg)
{
    Py_VISIT(pool->maint_timer);
    Py_VISIT(pool->close_timer);
    Py_VISIT(pool->close_op);
    return 0;
}

void
lifecycle_clear(PoolObject *pool)
{
    psqlpy_cancel_timer(pool->st, &pool->maint_timer);
    psqlpy_cancel_timer(pool->st, &pool->close_timer);
    Py_CLEAR(pool->close_op);
}
