/*
 * pool.c - PSQLPool: configuration, startup/close, and routing operations
 * to connections.
 *
 * The driver's pgd_pool keeps the connections and knows which are idle;
 * this file adds what needs the event loop: a FIFO of operations waiting
 * for a connection, opening connections on demand (up to
 * max_db_pool_size), recycling checks when an idle connection is handed
 * out (Fast: is it open; Verified: a test query; Clean: reset session
 * state), and a ROLLBACK before a connection left inside a transaction
 * goes back to the pool.
 */
#include "pyext.h"

#include <math.h>
#include <structmember.h>

#define DEFAULT_POOL_SIZE 2
#define MAX_STMT_CACHE_SIZE 1000000

/* ---- connection bookkeeping --------------------------------------------- */

static void
forget_conn(PoolObject *pool, RawConn *rc)
{
    rawconn_close(rc);
    if (rc->conn != NULL) {
        pgd_conn_set_userdata(rc->conn, NULL);
        if (pool->pool != NULL)
            pgd_pool_discard(pool->pool, rc->conn);
        rc->conn = NULL;
    }
    rc->pool = NULL;
    Py_ssize_t n = PyList_GET_SIZE(pool->conns);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (PyList_GET_ITEM(pool->conns, i) == (PyObject *)rc) {
            /* may drop the last reference to rc: keep it for the caller */
            Py_INCREF(rc);
            PySequence_DelItem(pool->conns, i);
            Py_DECREF(rc);
            break;
        }
    }
    lifecycle_forgot(pool, rc);
}

void
pool_forget(PoolObject *pool, RawConn *rc)
{
    forget_conn(pool, rc);
}

static Op *
pop_waiter(PoolObject *pool)
{
    Op *op = pool->whead;
    if (op != NULL) {
        pool->whead = op->next;
        if (pool->whead == NULL)
            pool->wtail = NULL;
        op->next = NULL;
    }
    return op; /* owns the queue's reference */
}

/* A connection slot freed up: let the first waiter open a new one. */
static void
kick_waiters(PoolObject *pool)
{
    if (pool->closed || pool->whead == NULL || pool->pool == NULL ||
        psqlpy_tearing_down(pool->st))
        return;
    if (pgd_pool_size(pool->pool) >= pgd_pool_max_size(pool->pool))
        return;
    Op *op = pop_waiter(pool);
    op->state = OPS_NEW;
    pool_acquire(pool, op);
    Py_DECREF(op);
}

void
pool_kick_waiters(PoolObject *pool)
{
    kick_waiters(pool);
}

static PyObject *
closed_error(PoolObject *pool)
{
    return psqlpy_make_error(pool->st, pool->st->InterfaceError, "the pool is closed");
}

/* Give `rc` to `op`.  from_idle: it sat in the pool, so recycle it first. */
static void
serve(PoolObject *pool, RawConn *rc, Op *op, int from_idle)
{
    module_state *st = pool->st;
    rc->in_pool = 0;
    if (from_idle && pool->recycle != PGD_RECYCLE_FAST) {
        Op *chk = op_new(st, pool, OP_SIMPLE, RES_NONE);
        const char *sql = pgd_recycle_sql((pgd_recycle)pool->recycle);
        if (chk != NULL && sql != NULL && (chk->sql = PyUnicode_FromString(sql)) != NULL) {
            chk->aop.internal = 1;
            rc->leased++; /* hold it across the check */
            rawconn_submit(rc, chk);
            rc->leased--;
        } else {
            PyErr_Clear();
        }
        Py_XDECREF(chk);
    }
    if (op->kind != OP_ACQUIRE) {
        rawconn_submit(rc, op);
        return;
    }
    if (op->result_mode == RES_CONNECTION) {
        rc->leased++;
        PyObject *conn = connection_new(st, pool, rc);
        if (conn == NULL) {
            rc->leased--;
            op_fail_current(op);
            pool_release(pool, rc);
            return;
        }
        op_complete(op, conn);
        return;
    }
    op_complete(op, Py_NewRef(Py_None)); /* startup: just proved we can connect */
    if (rawconn_idle(rc) && !rc->leased)
        pool_release(pool, rc);
}

void
pool_acquire(PoolObject *pool, Op *op)
{
    module_state *st = pool->st;
    if (psqlpy_tearing_down(st)) {
        op->state = OPS_DONE; /* the interpreter is going away: no new work */
        return;
    }
    if (pool->closed || pool->pool == NULL) {
        op_fail(op, closed_error(pool));
        return;
    }
    pgd_conn *c;
    while ((c = pgd_pool_take_idle(pool->pool)) != NULL) {
        RawConn *rc = pgd_conn_userdata(c);
        if (rc == NULL) { /* not ours: cannot happen, but never leak it */
            pgd_pool_discard(pool->pool, c);
            continue;
        }
        rc->in_pool = 0;
        if (rc->state != RC_READY || !pgd_conn_is_ok(c)) {
            forget_conn(pool, rc);
            continue;
        }
        serve(pool, rc, op, 1);
        return;
    }
    if (pool_open(pool, op))
        return;
    /* full: wait for a connection to come back */
    Py_INCREF(op);
    op->state = OPS_WAITING;
    op->next = NULL;
    if (pool->wtail)
        pool->wtail->next = op;
    else
        pool->whead = op;
    pool->wtail = op;
}

/* What a RawConn tells the pool (rawconn.c calls nothing of this file). */
static const rawconn_owner pool_owner = {
    pool_conn_ready, pool_conn_failed, pool_release, pool_conn_lost, pool_acquire,
};

/* Open a new connection for op (NULL: one kept warm, in the background).
 * 1: it is opening (or op failed), 0: the pool is full.  Without an op a
 * failure is only counted. */
int
pool_open(PoolObject *pool, Op *op)
{
    pgd_conn *c = pgd_pool_grow(pool->pool);
    if (c == NULL)
        return 0;
    if (pool->stmt_cache_size >= 0)
        pgd_conn_set_stmt_cache_size(c, pool->stmt_cache_size);
    pgd_conn_set_money_int_cents(c, pool->money_int_cents);
    RawConn *rc = rawconn_new(pool->st, pool, &pool_owner, c);
    if (rc == NULL) {
        pgd_pool_discard(pool->pool, c);
        goto error;
    }
    if (PyList_Append(pool->conns, (PyObject *)rc) < 0) {
        pgd_conn_set_userdata(c, NULL);
        pgd_pool_discard(pool->pool, c);
        rc->conn = NULL;
        rc->pool = NULL;
        Py_DECREF(rc);
        goto error;
    }
    sessions_watch(pool, c);
    rc->born = sessions_now();
    if (op != NULL) {
        rc->connect_waiter = (Op *)Py_NewRef((PyObject *)op);
        Py_XSETREF(op->rc, (RawConn *)Py_NewRef((PyObject *)rc));
        op->state = OPS_WAITING;
    }
    if (rawconn_connect(rc) < 0) {
        if (op != NULL) {
            Py_CLEAR(rc->connect_waiter);
            Py_CLEAR(op->rc);
            op->state = OPS_NEW;
        }
        forget_conn(pool, rc);
        Py_DECREF(rc);
        goto error;
    }
    Py_DECREF(rc);
    return 1;
error:
    pool->n_failed++;
    if (op != NULL)
        op_fail_current(op);
    else
        PyErr_Clear();
    return 1;
}

void
pool_release(PoolObject *pool, RawConn *rc)
{
    if (rc->in_pool || rc->leased || !rawconn_idle(rc))
        return;
    if (pool->closed || rc->state != RC_READY || rc->conn == NULL ||
        !pgd_conn_is_ok(rc->conn) || psqlpy_tearing_down(pool->st)) {
        /* at exit: nothing new starts; the server rolls back what is open */
        forget_conn(pool, rc);
        kick_waiters(pool);
        return;
    }
    pgd_txstate tx = pgd_conn_txstate(rc->conn);
    if (tx == PGD_TX_INTRANS || tx == PGD_TX_INERROR) {
        /* left inside a transaction: roll it back before anyone else uses it */
        Op *rb = op_new(pool->st, pool, OP_SIMPLE, RES_NONE);
        if (rb == NULL || (rb->sql = PyUnicode_FromString("ROLLBACK")) == NULL) {
            PyErr_Clear();
            Py_XDECREF(rb);
            forget_conn(pool, rc);
            kick_waiters(pool);
            return;
        }
        rb->aop.internal = 1;
        rawconn_submit(rc, rb); /* pump() calls us again once it is done */
        Py_DECREF(rb);
        return;
    }
    if (tx != PGD_TX_IDLE || lifecycle_expired(pool, rc)) {
        forget_conn(pool, rc);
        kick_waiters(pool);
        return;
    }
    Op *waiter;
    while ((waiter = pop_waiter(pool)) != NULL) {
        if (waiter->aop.abandoned || waiter->state == OPS_DONE) {
            Py_DECREF(waiter);
            continue;
        }
        waiter->state = OPS_NEW;
        if (!pool->auto_pipeline || !rawconn_may_pipeline(rc, waiter)) {
            serve(pool, rc, waiter, 1);
            Py_DECREF(waiter);
            return;
        }
        /* automatic pipelining: hand over the statements waiting behind it
         * that can go out with it, so that the connection's queue sends
         * them together; the others stay for the next free connection */
        rc->holding = 1;
        serve(pool, rc, waiter, 1);
        Py_DECREF(waiter);
        for (int n = 1; n < PGD_BURST_MAX && pool->whead != NULL &&
                        rawconn_may_pipeline(rc, pool->whead);) {
            waiter = pop_waiter(pool);
            if (!waiter->aop.abandoned && waiter->state != OPS_DONE) {
                waiter->state = OPS_NEW;
                rawconn_submit(rc, waiter);
                n++;
            }
            Py_DECREF(waiter);
        }
        rc->holding = 0;
        rawconn_pump(rc);
        return;
    }
    rc->idle_since = sessions_now();
    pgd_pool_put(pool->pool, rc->conn);
    rc->in_pool = 1;
}

void
pool_conn_lost(PoolObject *pool, RawConn *rc)
{
    Py_INCREF(rc);
    forget_conn(pool, rc);
    kick_waiters(pool);
    Py_DECREF(rc);
}

void
pool_conn_failed(PoolObject *pool, RawConn *rc, PyObject *exc)
{
    Py_INCREF(rc);
    pool->n_failed++;
    Op *waiter = rc->connect_waiter;
    rc->connect_waiter = NULL;
    forget_conn(pool, rc);
    if (waiter != NULL) {
        Py_CLEAR(waiter->rc);
        if (waiter->aop.abandoned) {
            waiter->state = OPS_DONE;
            Py_XDECREF(exc);
        } else {
            op_fail(waiter, exc);
        }
        Py_DECREF(waiter);
    } else {
        Py_XDECREF(exc);
    }
    kick_waiters(pool);
    Py_DECREF(rc);
}

void
pool_conn_ready(PoolObject *pool, RawConn *rc, Op *waiter)
{
    if (!rc->opened) {
        rc->opened = 1;
        pool->n_opened++;
    }
    if (waiter != NULL) {
        Py_CLEAR(waiter->rc);
        if (!waiter->aop.abandoned && waiter->state != OPS_DONE) {
            waiter->state = OPS_NEW;
            serve(pool, rc, waiter, 0);
            return;
        }
    }
    pool_release(pool, rc);
}

int
pool_withdraw(PoolObject *pool, Op *op)
{
    Op *prev = NULL;
    for (Op *o = pool->whead; o != NULL; prev = o, o = o->next) {
        if (o != op)
            continue;
        if (prev)
            prev->next = o->next;
        else
            pool->whead = o->next;
        if (pool->wtail == o)
            pool->wtail = prev;
        o->next = NULL;
        Py_DECREF(o);
        return 1;
    }
    return 0;
}

/* ---- Python type ---------------------------------------------------------- */

/* A pool belongs to the event loop it was started on (its sockets are
 * registered there and its futures made there): a call from any other
 * place (no running loop, or another loop) is refused with InterfaceError
 * instead of failing somewhere inside asyncio.  `loop` NULL: the pool is
 * not started yet, any running loop will do.  Returns the running loop
 * (new reference), or NULL with InterfaceError set. */
static PyObject *
running_loop(PoolObject *pool, PyObject *loop)
{
    module_state *st = pool->st;
    PyObject *running = PyObject_CallNoArgs(st->get_running_loop);
    if (running == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_RuntimeError))
            return NULL;
        psqlpy_reraise_as(st->InterfaceError,
                          loop ? "a pool belongs to the event loop it was started on, and no "
                                 "event loop is running here"
                               : "a pool starts on the running event loop: await "
                                 "pool.startup() in a coroutine on the loop that will use it");
        return NULL;
    }
    if (loop != NULL && running != loop) {
        Py_DECREF(running);
        PyErr_SetString(st->InterfaceError,
                        "a pool belongs to the event loop it was started on and cannot be "
                        "used from another one: create a pool per event loop");
        return NULL;
    }
    return running;
}

int
pool_check_usable(PoolObject *pool)
{
    if (pool->closed) {
        PyErr_SetString(pool->st->InterfaceError, "the pool is closed");
        return -1;
    }
    if (!pool->started) {
        PyErr_SetString(pool->st->InterfaceError,
                        "the pool is not started: await pool.startup() first");
        return -1;
    }
    return 0;
}

int
pool_check_loop(PoolObject *pool)
{
    PyObject *running = running_loop(pool, pool->loop);
    if (running == NULL)
        return -1;
    Py_DECREF(running);
    return 0;
}

static void
free_params(PoolObject *self)
{
    if (self->keys) {
        for (char **k = self->keys; *k; k++)
            PyMem_Free(*k);
        PyMem_Free(self->keys);
        self->keys = NULL;
    }
    if (self->vals) {
        for (char **v = self->vals; *v; v++)
            PyMem_Free(*v);
        PyMem_Free(self->vals);
        self->vals = NULL;
    }
}

static char *
dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = PyMem_Malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* Append key=value(str(obj)) to the parameter arrays. */
static int
add_param(PoolObject *self, int *n, const char *key, PyObject *obj)
{
    if (obj == NULL || obj == Py_None)
        return 0;
    PyObject *s = PyUnicode_Check(obj) ? Py_NewRef(obj) : PyObject_Str(obj);
    if (s == NULL)
        return -1;
    Py_ssize_t len;
    /* `key` is what the caller called it: the DSN travels as libpq's dbname */
    const char *label = key;
    if (strcmp(key, "dsn") == 0)
        key = "dbname";
    const char *v = PyUnicode_AsUTF8AndSize(s, &len);
    if (v == NULL) {
        Py_DECREF(s);
        /* a lone surrogate.  The UnicodeEncodeError holds the whole value,
         * which may be or contain a password: not kept as the cause then. */
        if (strcmp(label, "dsn") == 0 || strcmp(key, "password") == 0) {
            PyErr_Clear();
            PyErr_Format(self->st->PoolConfigurationError,
                         "%s is not valid Unicode text (it holds a lone surrogate)", label);
            return -1;
        }
        return psqlpy_reraise_as(self->st->PoolConfigurationError, label);
    }
    if (strlen(v) != (size_t)len) {
        Py_DECREF(s);
        PyErr_Format(self->st->PoolConfigurationError, "%s contains a NUL character", label);
        return -1;
    }
    self->keys[*n] = dup_str(key);
    self->vals[*n] = dup_str(v);
    Py_DECREF(s);
    if (!self->keys[*n] || !self->vals[*n]) {
        PyErr_NoMemory();
        return -1;
    }
    (*n)++;
    self->keys[*n] = self->vals[*n] = NULL;
    return 0;
}

/* statement_cache_size=: prepared statements kept per connection (LRU);
 * 0 keeps none and runs every statement with the unnamed statement, in
 * one exchange (what a pooler in transaction mode needs). */
static int
parse_stmt_cache_size(PoolObject *self, PyObject *v)
{
    self->stmt_cache_size = -1;
    if (v == Py_None)
        return 0;
    long n = PyLong_Check(v) && !PyBool_Check(v) ? PyLong_AsLong(v) : -1;
    if (n == -1 && PyErr_Occurred())
        PyErr_Clear();
    if (!PyLong_Check(v) || PyBool_Check(v) || n < 0 || n > MAX_STMT_CACHE_SIZE) {
        PyErr_Format(self->st->PoolConfigurationError,
                     "statement_cache_size must be an int from 0 to %d, got %R",
                     MAX_STMT_CACHE_SIZE, v);
        return -1;
    }
    self->stmt_cache_size = (int)n;
    return 0;
}

/* A host or port keyword: a str or int as it is, a list or tuple joined
 * with commas (libpq's list form).  New reference, or NULL with
 * PoolConfigurationError. */
static PyObject *
list_param(module_state *st, const char *name, PyObject *v, int ints)
{
    if (!PyList_Check(v) && !PyTuple_Check(v))
        return Py_NewRef(v);
    Py_ssize_t n = PySequence_Fast_GET_SIZE(v);
    if (n == 0) {
        PyErr_Format(st->PoolConfigurationError, "%s must not be an empty list", name);
        return NULL;
    }
    PyObject *parts = PyList_New(n);
    if (parts == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(v, i);
        int ok = ints ? PyLong_Check(item) && !PyBool_Check(item) : PyUnicode_Check(item);
        if (ok && ints) {
            long p = PyLong_AsLong(item);
            ok = p >= 1 && p <= 65535;
            PyErr_Clear();
        }
        if (!ok) {
            Py_DECREF(parts);
            PyErr_Format(st->PoolConfigurationError, "%s: %R is not a %s", name, item,
                         ints ? "port number" : "host name (str)");
            return NULL;
        }
        PyObject *text = PyObject_Str(item);
        if (text == NULL) {
            Py_DECREF(parts);
            return NULL;
        }
        PyList_SET_ITEM(parts, i, text);
    }
    PyObject *sep = PyUnicode_FromString(",");
    PyObject *out = sep ? PyUnicode_Join(sep, parts) : NULL;
    Py_XDECREF(sep);
    Py_DECREF(parts);
    return out;
}

/* target_session_attrs / load_balance_hosts: libpq's text ("read-write"),
 * or an enum member whose name spells it (TargetSessionAttrs.ReadWrite).
 * New reference, or NULL with PoolConfigurationError. */
static PyObject *
option_text(module_state *st, const char *name, PyObject *v)
{
    if (PyUnicode_Check(v))
        return Py_NewRef(v);
    PyObject *mname = PyObject_HasAttrString(v, "name") && PyObject_HasAttrString(v, "value")
                          ? PyObject_GetAttrString(v, "name")
                          : NULL;
    if (mname == NULL || !PyUnicode_Check(mname)) {
        Py_XDECREF(mname);
        PyErr_Clear();
        PyErr_Format(st->PoolConfigurationError, "%s must be a str or an enum member, got %R",
                     name, v);
        return NULL;
    }
    /* CamelCase -> camel-case */
    const char *src = PyUnicode_AsUTF8(mname);
    char buf[64];
    size_t j = 0;
    for (size_t i = 0; src && src[i] && j + 2 < sizeof buf; i++) {
        char ch = src[i];
        if (ch >= 'A' && ch <= 'Z') {
            if (i > 0)
                buf[j++] = '-';
            ch = (char)(ch - 'A' + 'a');
        }
        buf[j++] = ch;
    }
    buf[j] = 0;
    Py_DECREF(mname);
    return PyUnicode_FromString(buf);
}

static int
pool_init(PyObject *op, PyObject *args, PyObject *kwds)
{
    PoolObject *self = (PoolObject *)op;
    static char *kwlist[] = {"dsn", "username", "password", "host", "port", "db_name",
                             "max_db_pool_size", "conn_recycling_method", "sslmode",
                             "sslrootcert", "sslcert", "sslkey", "command_timeout",
                             "target_session_attrs", "load_balance_hosts", "connect_timeout",
                             "statement_cache_size", "auto_pipeline", NULL};
    /* libpq's TLS options, passed on under their own names */
    static const char *const tls_names[] = {"sslmode", "sslrootcert", "sslcert", "sslkey"};
    PyObject *dsn = Py_None, *user = Py_None, *password = Py_None, *host = Py_None,
             *port = Py_None, *db = Py_None, *size = Py_None, *recycle = Py_None,
             *ctimeout = Py_None, *tsa = Py_None, *lbh = Py_None, *conn_to = Py_None;
    PyObject *tls[4] = {Py_None, Py_None, Py_None, Py_None};
    PyObject *cache_size = Py_None, *autopipe = Py_None;
    /* init=, on_notice= and server_settings= are taken out first (sessions.c);
     * settings is borrowed from kwds */
    PyObject *rest = NULL, *settings = Py_None;
    if (sessions_parse(self, kwds, &rest, &settings) < 0)
        return -1;
    if (lifecycle_parse(self, rest) < 0) { /* min_size=, max_lifetime=, max_idle= */
        Py_XDECREF(rest);
        return -1;
    }
    int parsed = PyArg_ParseTupleAndKeywords(args, rest, "|OOOOOOOOOOOOOOOOOO:PSQLPool", kwlist,
                                             &dsn, &user, &password, &host, &port, &db, &size,
                                             &recycle, &tls[0], &tls[1], &tls[2], &tls[3],
                                             &ctimeout, &tsa, &lbh, &conn_to, &cache_size,
                                             &autopipe);
    Py_XDECREF(rest);
    if (!parsed)
        return -1;
    module_state *st = self->st;
    if (self->started) {
        PyErr_SetString(st->InterfaceError, "the pool is already started");
        return -1;
    }
    free_params(self);

    self->max_size = DEFAULT_POOL_SIZE;
    if (size != Py_None) {
        long n = PyLong_Check(size) ? PyLong_AsLong(size) : -1;
        if (n == -1 && PyErr_Occurred())
            PyErr_Clear();
        if (!PyLong_Check(size) || PyBool_Check(size) || n < 1 || n > 100000) {
            PyErr_Format(st->PoolConfigurationError,
                         "max_db_pool_size must be a positive int, got %R", size);
            return -1;
        }
        self->max_size = (int)n;
    }
    if (lifecycle_check(self, self->max_size) < 0)
        return -1;
    if (autopipe != Py_None && !PyBool_Check(autopipe)) {
        PyErr_Format(st->PoolConfigurationError,
                     "auto_pipeline must be True, False or None, got %R", autopipe);
        return -1;
    }
    self->auto_pipeline = autopipe != Py_False; /* None: on */
    self->command_timeout = 0;
    if (ctimeout != Py_None && psqlpy_seconds(ctimeout, &self->command_timeout) < 0) {
        PyErr_Format(st->PoolConfigurationError,
                     "command_timeout must be a positive number of seconds or None, got %R",
                     ctimeout);
        return -1;
    }
    self->recycle = PGD_RECYCLE_FAST;
    if (recycle != Py_None) {
        PyObject *v = PyObject_HasAttrString(recycle, "value")
                          ? PyObject_GetAttrString(recycle, "value")
                          : Py_NewRef(recycle);
        long m = v && PyLong_Check(v) ? PyLong_AsLong(v) : -1;
        Py_XDECREF(v);
        if (m < PGD_RECYCLE_FAST || m > PGD_RECYCLE_CLEAN) {
            PyErr_Clear();
            PyErr_Format(st->PoolConfigurationError,
                         "conn_recycling_method must be a ConnRecyclingMethod, got %R",
                         recycle);
            return -1;
        }
        self->recycle = (int)m;
    }
    if (parse_stmt_cache_size(self, cache_size) < 0)
        return -1;
    if (port != Py_None && (!PyLong_Check(port) || PyBool_Check(port))) {
        if (!PyUnicode_Check(port) && !PyList_Check(port) && !PyTuple_Check(port)) {
            PyErr_Format(st->PoolConfigurationError, "port must be an int, got %R", port);
            return -1;
        }
    }
    if (port != Py_None && PyLong_Check(port)) {
        long p = PyLong_AsLong(port);
        if (p < 1 || p > 65535) {
            PyErr_Clear();
            PyErr_Format(st->PoolConfigurationError, "port %R is out of range", port);
            return -1;
        }
    }

    double conn_secs = 0;
    if (conn_to != Py_None &&
        !(PyLong_Check(conn_to) && !PyBool_Check(conn_to) && PyLong_AsLong(conn_to) == 0) &&
        psqlpy_seconds(conn_to, &conn_secs) < 0) {
        PyErr_Clear();
        PyErr_Format(st->PoolConfigurationError,
                     "connect_timeout must be a number of seconds (0: no limit), got %R",
                     conn_to);
        return -1;
    }

    self->keys = PyMem_Calloc(20, sizeof(char *));
    self->vals = PyMem_Calloc(20, sizeof(char *));
    if (!self->keys || !self->vals) {
        PyErr_NoMemory();
        return -1;
    }
    int n = 0;
    /* before the DSN, which then wins over them as over the other keywords */
    for (int i = 0; i < 4; i++)
        if (add_param(self, &n, tls_names[i], tls[i]) < 0)
            return -1;
    if (dsn != Py_None) {
        if (!PyUnicode_Check(dsn)) {
            /* not its repr: a DSN may hold a password */
            PyErr_Format(st->PoolConfigurationError, "dsn must be a str, not %s",
                         Py_TYPE(dsn)->tp_name);
            return -1;
        }
        if (add_param(self, &n, "dsn", dsn) < 0)
            return -1;
    } else {
        PyObject *hosts = host != Py_None ? list_param(st, "host", host, 0) : Py_NewRef(host);
        PyObject *ports = hosts && port != Py_None ? list_param(st, "port", port, 1)
                                                   : Py_XNewRef(port);
        int bad = hosts == NULL || ports == NULL || add_param(self, &n, "user", user) < 0 ||
                  add_param(self, &n, "password", password) < 0 ||
                  add_param(self, &n, "host", hosts) < 0 ||
                  add_param(self, &n, "port", ports) < 0 ||
                  add_param(self, &n, "dbname", db) < 0;
        Py_XDECREF(hosts);
        Py_XDECREF(ports);
        if (bad)
            return -1;
    }
    /* after the DSN, so that these keywords win over its values */
    if (tsa != Py_None || lbh != Py_None) {
        PyObject *t = tsa != Py_None ? option_text(st, "target_session_attrs", tsa) : NULL;
        PyObject *l = lbh != Py_None ? option_text(st, "load_balance_hosts", lbh) : NULL;
        int bad = (tsa != Py_None && t == NULL) || (lbh != Py_None && l == NULL) ||
                  add_param(self, &n, "target_session_attrs", t) < 0 ||
                  add_param(self, &n, "load_balance_hosts", l) < 0;
        Py_XDECREF(t);
        Py_XDECREF(l);
        if (bad)
            return -1;
    }
    if (conn_to != Py_None) {
        /* libpq counts whole seconds: a fraction rounds up, never shorter */
        PyObject *secs = PyLong_FromDouble(ceil(conn_secs));
        int bad = secs == NULL || add_param(self, &n, "connect_timeout", secs) < 0;
        Py_XDECREF(secs);
        if (bad)
            return -1;
    }
    if (settings != Py_None) {
        /* server_settings=: libpq's options, -c name=value each (sessions.c) */
        PyObject *opts = sessions_options(self, settings);
        int bad = opts == NULL || add_param(self, &n, "options", opts) < 0;
        Py_XDECREF(opts);
        if (bad)
            return -1;
    }
    PyObject *utf8 = PyUnicode_FromString("UTF8");
    if (utf8 == NULL)
        return -1;
    int rc = add_param(self, &n, "client_encoding", utf8);
    Py_DECREF(utf8);
    if (rc < 0)
        return -1;
    char err[512];
    if (pgd_conninfo_check_params((const char *const *)self->keys,
                                  (const char *const *)self->vals, err,
                                  sizeof err) != PGD_OK) {
        size_t len = strlen(err);
        while (len > 0 && (err[len - 1] == '\n' || err[len - 1] == ' '))
            err[--len] = 0;
        PyErr_Format(st->PoolConfigurationError, "invalid %s: %s",
                     dsn != Py_None ? "dsn" : "connection parameters", err);
        return -1;
    }
    return 0;
}

static PyObject *
pool_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    (void)args;
    (void)kwds;
    PoolObject *self = (PoolObject *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->st = psqlpy_state_of_type(type);
    self->conns = PyList_New(0);
    if (self->st == NULL || self->conns == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    self->max_size = DEFAULT_POOL_SIZE;
    self->recycle = PGD_RECYCLE_FAST;
    self->stmt_cache_size = -1;
    self->auto_pipeline = 1;
    return (PyObject *)self;
}

static PyObject *
pool_startup(PyObject *op_self, PyObject *unused)
{
    (void)unused;
    PoolObject *self = (PoolObject *)op_self;
    module_state *st = self->st;
    if (self->closed) {
        PyErr_SetString(st->InterfaceError, "the pool is closed");
        return NULL;
    }
    if (self->keys == NULL) {
        /* PSQLPool() with no arguments: libpq defaults and PG* variables */
        if (pool_init(op_self, st->empty_tuple, NULL) < 0)
            return NULL;
    }
    PyObject *running = running_loop(self, self->loop);
    if (running == NULL)
        return NULL;
    if (self->loop == NULL)
        self->loop = running;
    else
        Py_DECREF(running);
    Op *op = op_new(self->st, self, OP_ACQUIRE, RES_NONE);
    if (op == NULL)
        return NULL;
    if (self->started) {
        op_complete(op, Py_NewRef(Py_None));
        return (PyObject *)op;
    }
    self->pool = pgd_pool_new((const char *const *)self->keys,
                              (const char *const *)self->vals, self->max_size,
                              (pgd_recycle)self->recycle, psqlpy_registry);
    if (self->pool == NULL) {
        Py_DECREF(op);
        return PyErr_NoMemory();
    }
    self->started = 1;
    pool_acquire(self, op);
    lifecycle_started(self);
    return (PyObject *)op;
}

/* A request the pool serves (see request.c). */
static request
on_pool(PyObject *self, int kind, int mode)
{
    request r = {.pool = (PoolObject *)self, .conn = NULL, .kind = kind, .mode = mode,
                 .params = Py_None, .timeout = Py_None, .prepared = 1, .default_timeout = 1};
    return r;
}

/* execute() and fetch_row(): one statement on a pooled connection. */
static PyObject *
pool_query(PyObject *self, PyObject *args, PyObject *kwds, int mode, const char *fmt)
{
    request r = on_pool(self, OP_QUERY, mode);
    if (request_parse(&r, args, kwds, fmt) < 0)
        return NULL;
    return request_run(&r);
}

static PyObject *
pool_execute(PyObject *self, PyObject *args, PyObject *kwds)
{
    return pool_query(self, args, kwds, RES_QUERY, "O|OOp:execute");
}

static PyObject *
pool_fetch_row(PyObject *self, PyObject *args, PyObject *kwds)
{
    return pool_query(self, args, kwds, RES_ROW, "O|OOp:fetch_row");
}

static PyObject *
pool_connection(PyObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"timeout", NULL};
    request r = on_pool(self, OP_ACQUIRE, RES_CONNECTION);
    r.default_timeout = 0; /* timeout=None: wait without a limit */
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O:connection", kwlist, &r.timeout))
        return NULL;
    return request_run(&r);
}

/* Close idle connections now, the others when they come back; fail
 * everything still waiting.  Returns an already finished awaitable. */
static PyObject *
pool_close(PyObject *op_self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"timeout", NULL};
    PyObject *timeout = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O:close", kwlist, &timeout))
        return NULL;
    PoolObject *self = (PoolObject *)op_self;
    Op *op = op_new(self->st, self, OP_ACQUIRE, RES_NONE);
    if (op == NULL)
        return NULL;
    if (!self->closed) {
        self->closed = 1;
        Op *w;
        while ((w = pop_waiter(self)) != NULL) {
            w->state = OPS_NEW;
            op_fail(w, closed_error(self));
            Py_DECREF(w);
        }
        if (self->pool != NULL) {
            pgd_conn *c;
            while ((c = pgd_pool_take_idle(self->pool)) != NULL) {
                RawConn *rc = pgd_conn_userdata(c);
                if (rc == NULL) {
                    pgd_pool_discard(self->pool, c);
                    continue;
                }
                rc->in_pool = 0;
                forget_conn(self, rc);
            }
        }
    }
    return lifecycle_close(self, timeout, op);
}

static PyObject *
pool_get_closed(PyObject *self, void *c)
{
    (void)c;
    return PyBool_FromLong(((PoolObject *)self)->closed);
}

static PyObject *
pool_status(PyObject *op_self, PyObject *unused)
{
    (void)unused;
    return lifecycle_status((PoolObject *)op_self);
}

static int
pool_traverse(PoolObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->loop);
    Py_VISIT(self->conns);
    Py_VISIT(self->init);
    Py_VISIT(self->on_notice);
    Py_VISIT(self->query_hooks);
    Py_VISIT(self->sessions);
    int lr = lifecycle_traverse(self, visit, arg);
    if (lr)
        return lr;
    for (Op *o = self->whead; o; o = o->next)
        Py_VISIT(o);
    return 0;
}

static int
pool_clear(PoolObject *self)
{
    Op *w;
    while ((w = pop_waiter(self)) != NULL)
        Py_DECREF(w);
    if (self->conns != NULL) {
        Py_ssize_t n = PyList_GET_SIZE(self->conns);
        for (Py_ssize_t i = 0; i < n; i++) {
            RawConn *rc = (RawConn *)PyList_GET_ITEM(self->conns, i);
            rawconn_close(rc);
            if (rc->conn)
                pgd_conn_set_userdata(rc->conn, NULL);
            rc->conn = NULL; /* freed with the driver's pool below */
            rc->pool = NULL;
        }
    }
    Py_CLEAR(self->conns);
    Py_CLEAR(self->loop);
    Py_CLEAR(self->init);
    Py_CLEAR(self->on_notice);
    Py_CLEAR(self->query_hooks);
    Py_CLEAR(self->sessions);
    lifecycle_clear(self);
    return 0;
}

static void
pool_dealloc(PoolObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    if (self->weakreflist != NULL)
        PyObject_ClearWeakRefs((PyObject *)self);
    pool_clear(self);
    if (self->pool != NULL) {
        pgd_pool_free(self->pool);
        self->pool = NULL;
    }
    free_params(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

/* ConnectionPool (psqlpy 0.13) reads an int parameter for money as cents,
 * as psqlpy 0.13 does; PSQLPool as whole units.  Called by the 0.13 layer
 * before startup, for the connections the pool opens from then on. */
static PyObject *
pool_money_int_cents(PyObject *self, PyObject *unused)
{
    (void)unused;
    ((PoolObject *)self)->money_int_cents = 1;
    Py_RETURN_NONE;
}

static PyMethodDef pool_methods[] = {
    {"startup", pool_startup, METH_NOARGS,
     "startup($self, /)\n--\n\nStart the pool on the running event loop and open its first "
     "connection (awaitable)."},
    {"execute", (PyCFunction)(void (*)(void))pool_execute, METH_VARARGS | METH_KEYWORDS,
     "execute($self, /, querystring, parameters=None, timeout=None, prepared=True)\n--\n\n"
     "Run one statement on a pooled connection; awaitable returning a QueryResult. "
     "prepared=False: the unnamed statement, nothing kept."},
    {"fetch_row", (PyCFunction)(void (*)(void))pool_fetch_row, METH_VARARGS | METH_KEYWORDS,
     "fetch_row($self, /, querystring, parameters=None, timeout=None, prepared=True)\n--\n\n"
     "The first row as a SingleQueryResult (awaitable); NoRowsError when there is none."},
    {"connection", (PyCFunction)(void (*)(void))pool_connection, METH_VARARGS | METH_KEYWORDS,
     "connection($self, /, timeout=None)\n--\n\nBorrow a connection (awaitable returning a "
     "Connection); timeout bounds the wait for a free one."},
    {"close", (PyCFunction)(void (*)(void))pool_close, METH_VARARGS | METH_KEYWORDS,
     "close($self, /, timeout=None)\n--\n\nClose the pool: idle connections now, lent ones "
     "when they come back (awaitable); with a timeout, awaiting it waits for them up to "
     "timeout seconds, then closes them."},
    {"resize", lifecycle_resize, METH_O,
     "resize($self, new_max, /)\n--\n\nChange max_db_pool_size: more room at once; when "
     "smaller, idle connections beyond it close now, lent ones when they come back."},
    {"status", pool_status, METH_NOARGS,
     "status($self, /)\n--\n\nA dict with max_size, min_size, size, idle, lent, waiting, "
     "opened, closed and failed."},
    {"add_query_hook", sessions_add_query_hook, METH_O,
     "add_query_hook($self, hook, /)\n--\n\nCall hook(event) after each statement on this "
     "pool's connections (a psqlpy.QueryEvent)."},
    {"remove_query_hook", sessions_remove_query_hook, METH_O,
     "remove_query_hook($self, hook, /)\n--\n\nStop calling a hook added with "
     "add_query_hook()."},
    {"_init_done", sessions_init_done, METH_VARARGS, NULL},
    {"_money_int_cents", pool_money_int_cents, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef pool_getset[] = {
    {"closed", pool_get_closed, NULL, "Whether close() was called.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef pool_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(PoolObject, weakreflist), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot pool_slots[] = {
    {Py_tp_new, pool_new},
    {Py_tp_init, pool_init},
    {Py_tp_dealloc, pool_dealloc},
    {Py_tp_traverse, pool_traverse},
    {Py_tp_clear, pool_clear},
    {Py_tp_methods, pool_methods},
    {Py_tp_getset, pool_getset},
    {Py_tp_members, pool_members},
    {Py_tp_doc, "Pool(dsn=None, username=None, password=None, host=None, port=None, "
                "db_name=None, max_db_pool_size=None, conn_recycling_method=None, "
                "sslmode=None, sslrootcert=None, sslcert=None, sslkey=None, "
                "command_timeout=None, target_session_attrs=None, load_balance_hosts=None, "
                "connect_timeout=None, statement_cache_size=None, auto_pipeline=None, "
                "server_settings=None, "
                "init=None, on_notice=None, min_size=None, max_lifetime=None, max_idle=None)"
                "\n--\n\n"
                "A pool of connections to one server or several; max_db_pool_size=None "
                "means 2, statement_cache_size=None means 256 (0: no prepared statements "
                "kept); auto_pipeline=None means True."},
    {0, NULL},
};

PyType_Spec PoolSpec = {
    .name = "psqlpy._psqlpy.Pool",
    .basicsize = sizeof(PoolObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_HAVE_GC |
             Py_TPFLAGS_BASETYPE,
    .slots = pool_slots,
};
