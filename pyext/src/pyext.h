/*
 * pyext.h - shared declarations of the _psqlpy extension.
 *
 * Objects:
 *   PSQLPool   (pool.c)       configuration, the driver's pool, waiters
 *   RawConn    (rawconn.c)    one pgd_conn on the event loop: the adapter
 *                             that carries out the driver's decisions (its
 *                             operation queue, pgd_opq; the socket it
 *                             watches, pgd_watch) with loop calls and timers
 *   Op         (op.c)         one request (query, batch, pipeline, acquire);
 *                             it is also the awaitable handed to the user
 *   Connection (connection.c) a connection lent by the pool
 *   QueryResult / SingleQueryResult (result.c)
 * Helpers: params.c (Python -> pgd_value), builders.c (pgd_host making
 * Python objects), errors.c (pgd_error -> exception).
 *
 * Calls between them go one way where they can: request.c and
 * connection.c -> pool.c -> rawconn.c -> op.c (outcomes).  A RawConn
 * reports to the pool through its owner hooks (rawconn_owner), never by
 * calling pool.c.  The one way back is cancellation: an Op whose task gives
 * up withdraws itself from the pool's waiting list or its connection's
 * queue (op_abandon), or has its connection stop it.
 *
 * Everything runs on the event loop's thread, under the GIL.
 */
#ifndef PSQLPY_PYEXT_H
#define PSQLPY_PYEXT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "pycompat.h"

#include "pgd.h"

/* ---- module state ------------------------------------------------------ */
/*
 * Every member of module_state, listed once: the struct, the module's
 * traverse and clear (module.c) and the interning of the names are all
 * generated from these lists, so none of them can miss a member.  Each
 * member is a strong reference, NULL until the module's exec sets it.
 *   PSQLPY_STATE_TYPES(X)    X(name): heap types, PyTypeObject *
 *   PSQLPY_STATE_OBJECTS(X)  X(name): other objects, PyObject *
 *   PSQLPY_STATE_NAMES(X)    X(name, "text"): interned str, PyObject *
 */
#define PSQLPY_STATE_TYPES(X)                                                  \
    X(PoolType) X(RawConnType) X(OpType) X(ConnectionType) X(QueryResultType)  \
    X(SingleQueryResultType)                                                    \
    X(RecordType) /* record.c */

#define PSQLPY_STATE_OBJECTS(X)                                                \
    /* exceptions (from psqlpy.exceptions) */                                  \
    X(BaseError) X(PoolError) X(PoolConfigurationError)                       \
    X(ConnectionFailedError) X(InterfaceError) X(DatabaseError)                \
    X(ParameterError) X(ResultError) X(UUIDError) X(NoRowsError)               \
    X(QueryTimeoutError)                                                       \
    X(sqlstate_map)     /* dict: SQLSTATE class (2 chars) -> class */          \
    X(connection_class) /* what connection() hands out (a subclass of          \
                           Connection set by the package) */                   \
    /* extra types (from psqlpy.extra_types) */                                \
    X(SmallInt) X(Integer) X(BigInt) X(PyUUID) X(PyJSON) X(Interval) X(Pinned) \
    X(callables) /* dict: address of a make_call name -> the callable */       \
    /* stdlib helpers */                                                       \
    X(Decimal) X(UUID) X(SafeUUID_unknown) X(json_loads) X(json_dumps) X(utc)  \
    X(timezone) X(object_new) X(CancelledError) X(get_running_loop)            \
    X(date_max) X(date_min) X(datetime_max) X(datetime_min)                    \
    X(datetime_max_utc) X(datetime_min_utc) X(empty_tuple)                     \
    X(ip_types) /* tuple: the ipaddress address and network classes */

#define PSQLPY_STATE_NAMES(X)                                                  \
    X(s_create_future, "create_future")                                        \
    X(s_set_result, "set_result")                                              \
    X(s_set_exception, "set_exception")                                        \
    X(s_cancel, "cancel")                                                      \
    X(s_cancelled, "cancelled")                                                \
    X(s_done, "done")                                                          \
    X(s_result, "result")                                                      \
    X(s_add_reader, "add_reader")                                              \
    X(s_remove_reader, "remove_reader")                                        \
    X(s_add_writer, "add_writer")                                              \
    X(s_remove_writer, "remove_writer")                                        \
    X(s_blocking, "_asyncio_future_blocking")                                  \
    X(s_int, "int")                                                            \
    X(s_is_safe, "is_safe")                                                    \
    X(s_bytes, "bytes")                                                        \
    X(s_utcoffset, "utcoffset")                                                \
    X(s_days, "days")                                                          \
    X(s_seconds, "seconds")                                                    \
    X(s_microseconds, "microseconds")                                          \
    X(s_inner_value, "inner_value")                                            \
    X(s_on_read, "_on_read")                                                   \
    X(s_on_write, "_on_write")                                                 \
    X(s_is_closed, "is_closed")                                                \
    X(s_call_later, "call_later")                                              \
    X(s_on_timeout, "_on_connect_timeout")                                     \
    X(s_pg_type_oid, "__pg_type_oid__")

typedef struct module_state {
#define PSQLPY_TYPE_MEMBER(name) PyTypeObject *name;
#define PSQLPY_OBJECT_MEMBER(name) PyObject *name;
#define PSQLPY_NAME_MEMBER(name, text) PyObject *name;
    PSQLPY_STATE_TYPES(PSQLPY_TYPE_MEMBER)
    PSQLPY_STATE_OBJECTS(PSQLPY_OBJECT_MEMBER)
    PSQLPY_STATE_NAMES(PSQLPY_NAME_MEMBER)
#undef PSQLPY_TYPE_MEMBER
#undef PSQLPY_OBJECT_MEMBER
#undef PSQLPY_NAME_MEMBER
} module_state;

/* 1 when the interpreter is exiting or the module state was cleared:
 * no loop method may be called and nothing new may start (looptime.c). */
int psqlpy_tearing_down(const module_state *st);
/* Loop timers (looptime.c).  psqlpy_seconds: a positive finite number of
 * seconds (not a bool) into *out: 0, or -1 with no exception set.
 * psqlpy_call_later: loop.call_later(secs, <def bound to self>), a new
 * TimerHandle or NULL + exception.  psqlpy_cancel_timer: cancel and clear
 * *timer (no loop call while tearing down); never fails. */
int psqlpy_seconds(PyObject *arg, double *out);
PyObject *psqlpy_call_later(module_state *st, PyObject *loop, double secs, PyMethodDef *def,
                            PyObject *self);
void psqlpy_cancel_timer(module_state *st, PyObject **timer);

/* The process-wide codec registry (plugins are never unloaded). */
extern pgd_registry *psqlpy_registry;

module_state *psqlpy_state_of_type(PyTypeObject *tp);

/* ---- forward types ----------------------------------------------------- */
typedef struct PoolObject PoolObject;
typedef struct RawConn RawConn;
typedef struct Op Op;

enum op_kind {
    OP_QUERY = 1, /* one statement with parameters */
    OP_SIMPLE,    /* simple-protocol command string */
    OP_BATCH,     /* execute_many */
    OP_PIPELINE,  /* several statements */
    OP_ACQUIRE,   /* get a connection from the pool */
    /* COPY (copy.c): op->sql holds the statement (START), the data object
     * or None for the connection's COPY buffer (PUT), the abort message or
     * None (END, ABORT) */
    OP_COPY_START,
    OP_COPY_PUT,
    OP_COPY_END,
    OP_COPY_GET,
    OP_COPY_ABORT
};
#define OP_IS_COPY(k) ((k) >= OP_COPY_START && (k) <= OP_COPY_ABORT)

enum op_result {
    RES_QUERY = 1, /* QueryResult */
    RES_ROW,       /* SingleQueryResult of the first row */
    RES_NONE,      /* None */
    RES_LIST,      /* list of QueryResult (pipeline) */
    RES_CONNECTION, /* a Connection (acquire) */
    RES_COPY        /* COPY: rows copied (end), bytes or None (get), None */
};

enum op_state { OPS_NEW = 0, OPS_WAITING, OPS_QUEUED, OPS_RUNNING, OPS_DONE };

struct Op {
    PyObject_HEAD
    module_state *st;
    int kind, result_mode, state;
    pgd_aop aop;       /* its place in a connection's queue (opqueue.c):
                          internal (no future: a recycling / rollback step),
                          abandoned (the awaiting task gave up), the stop
                          marks, retries */
    int is_error;      /* outcome is an exception instance */
    int unnamed;       /* prepared=False: the unnamed statement, one exchange */
    int timed_out;     /* its timeout expired (QueryTimeoutError) */
    double timeout;    /* seconds for the whole call, 0 for none */
    PyObject *timer;   /* the loop's TimerHandle while the timeout is armed */
    PyObject *cancel_exc;  /* the CancelledError held back until the outcome
                              shows whether the cancel took effect */
    PyObject *cancel_task; /* the task it was thrown into */
    PyObject *outcome; /* result or exception, once done */
    PyObject *future;  /* asyncio.Future waking the awaiting task; made on
                          the first send(), NULL until then */
    PyObject *conn_obj; /* the Connection an op runs for (keeps it alive) */
    PoolObject *pool;  /* strong */
    RawConn *rc;       /* strong while assigned to a connection */
    PyObject *sql;     /* str, or a tuple of str (pipeline) */
    PyObject *keep;    /* list of objects whose buffers the values borrow */
    pgd_value *vals;   /* all parameter values (row-major) */
    size_t nvals, nparams, nrows;
    /* pipeline */
    const char **sqls;
    size_t *np;
    const pgd_value **pv;
    Op *next; /* the pool's waiting list; the list owns a reference */
    double t0;         /* monotonic start, for the query hooks (0: none) */
    int64_t rows;      /* rows of its result, -1 when unknown */
};

/* The Op around a queue entry, and the one running on a connection. */
#define OP_OF(a) ((Op *)((char *)(a) - offsetof(Op, aop)))
#define RC_CUR(rc) ((rc)->q.cur ? OP_OF((rc)->q.cur) : NULL)

/* ---- pool -------------------------------------------------------------- */
struct PoolObject {
    PyObject_HEAD
    module_state *st;
    PyObject *loop;      /* the loop the pool was started on */
    pgd_pool *pool;      /* NULL before startup */
    PyObject *conns;     /* list of RawConn */
    char **keys, **vals; /* connection parameters, NULL-terminated */
    int max_size;
    int recycle;         /* pgd_recycle */
    int stmt_cache_size; /* per connection; -1: the driver's default */
    int money_int_cents; /* psqlpy 0.13's reading of an int for money */
    int started, closed;
    double command_timeout; /* default timeout of statements, 0 for none */
    int auto_pipeline;   /* queued statements go out as bursts (opqueue.c) */
    Op *whead, *wtail;   /* waiting for a connection */
    PyObject *weakreflist;
    /* session setup and visibility (sessions.c) */
    PyObject *init;        /* coroutine function run on each new connection, or NULL */
    PyObject *on_notice;   /* notice callback, or NULL */
    PyObject *query_hooks; /* tuple of callables, NULL when none */
    PyObject *sessions;    /* the psqlpy._sessions module */
    /* life cycle (lifecycle.c) */
    int min_size;          /* connections kept open */
    double max_lifetime;   /* seconds a connection lives, 0: for ever */
    double max_idle;       /* seconds an idle one above min_size stays, 0: for ever */
    PyObject *maint_timer; /* the loop's TimerHandle of the next check, or NULL */
    Op *close_op;          /* close(timeout=): done when the last connection is */
    PyObject *close_timer; /* ... or when this fires (then lent ones are closed) */
    long long n_opened, n_closed, n_failed;
    long long n_bursts, n_pipelined; /* bursts sent, statements in them */
};

/* ---- raw connection ---------------------------------------------------- */
enum rc_state { RC_CONNECTING = 1, RC_READY, RC_CLOSED };

struct RawConn {
    PyObject_HEAD
    module_state *st;
    pgd_conn *conn;
    PoolObject *pool;   /* borrowed; cleared when the pool goes away */
    const struct rawconn_owner *owner; /* what it tells the pool (pool.c) */
    PyObject *loop;     /* strong */
    PyObject *on_read, *on_write; /* bound methods, made once */
    PyObject *timer;    /* connect deadline (asyncio.TimerHandle) while connecting */
    int state;
    pgd_watch w;        /* the socket registered with the loop: the driver's
                           duplicate of libpq's (driver/src/watch.c) */
    int leased;         /* lent to a Connection / Transaction */
    int in_pool;        /* sitting idle in the driver's pool */
    int timeout_secs;
    int attempt;       /* the driver's host attempt the timer is for */
    pgd_opq q;          /* its operations (opqueue.c): one reference to each */
    Op *connect_waiter; /* the acquire op this connection was opened for */
    PyObject *copy_cache; /* dict: COPY column types per table (copy.c), or NULL */
    PyObject *deadline; /* TimerHandle: close the connection unless deadline_op
                           is over by then (a timed-out statement) */
    Op *deadline_op;    /* strong */
    PyObject *notify_cb; /* LISTEN/NOTIFY: called with a list of (pid, channel,
                            payload) after each I/O step, None once when the
                            connection is lost; NULL when nobody listens */
    PyObject *notifies;  /* list collected during the current step, or NULL */
    int inited;         /* the pool's init= ran (or is running) on it */
    int opened;         /* it was set up and counted in n_opened */
    double born;        /* sessions_now() when it started connecting */
    double idle_since;  /* ... when it last went back to the pool */
    int holding;        /* rawconn_submit queues without starting (the pool
                           hands over several waiters, then rawconn_pump) */
    int in_burst;       /* the running operations are one burst */
    /* the running burst's statements, for pgd_conn_send_burst */
    const char *bsqls[PGD_BURST_MAX];
    size_t bnp[PGD_BURST_MAX];
    const pgd_value *bpv[PGD_BURST_MAX];
};

/* rawconn.c
 *
 * A RawConn reports to its owner (the pool) only through these hooks, so
 * rawconn.c calls no function of pool.c, and calls go one way: the pool
 * and the Connections it lends drive RawConns, RawConns deliver outcomes
 * to Ops (op.c).  Each hook gets the owner (rc->pool, not NULL). */
typedef struct rawconn_owner {
    /* connected and set up; waiter: the acquire op it was opened for */
    void (*ready)(PoolObject *pool, RawConn *rc, Op *waiter);
    /* could not connect (or set up): steals exc, fails the waiter */
    void (*failed)(PoolObject *pool, RawConn *rc, PyObject *exc);
    /* nothing runs or waits on it and nobody holds it */
    void (*idle)(PoolObject *pool, RawConn *rc);
    /* the connection is closed: what was on it has been settled */
    void (*lost)(PoolObject *pool, RawConn *rc);
    /* an op that never started on the lost connection: route it again */
    void (*resubmit)(PoolObject *pool, Op *op);
} rawconn_owner;

RawConn *rawconn_new(module_state *st, PoolObject *pool, const rawconn_owner *owner,
                     pgd_conn *conn);
/* Its holder let it go (a Connection released): back to the owner if idle. */
void rawconn_release(RawConn *rc);
int rawconn_connect(RawConn *rc);          /* start connecting; -1 + exception */
void rawconn_submit(RawConn *rc, Op *op);   /* steals nothing; takes its own ref */
/* Start what was queued while rc->holding was set. */
void rawconn_pump(RawConn *rc);
/* op could join a burst on rc now (the queue's rules, pgd_opq_start_burst). */
int rawconn_may_pipeline(RawConn *rc, Op *op);
void rawconn_close(RawConn *rc);            /* unregister; the pool frees the pgd_conn */
int rawconn_unqueue(RawConn *rc, Op *op);        /* 1 if op was queued on rc */
int rawconn_forget_waiter(RawConn *rc, Op *op); /* 1 if op waited for rc to connect */
/* notify.c: LISTEN/NOTIFY delivery.  rawconn_set_notify: the callback
 * (NULL or None: stop); rawconn_dispatch_notifies: what the last step
 * collected to the callback; rawconn_lost_notify: None to it, the
 * connection being gone. */
void rawconn_set_notify(RawConn *rc, PyObject *cb);
void rawconn_dispatch_notifies(RawConn *rc);
void rawconn_lost_notify(RawConn *rc);
/* outcome.c: the Python outcome of rc's finished operation op (new
 * reference, or NULL + exception; frees every result rc still holds), and
 * its delivery to op's future (value and exc stolen; dropped for abandoned
 * and internal operations). */
PyObject *rawconn_outcome(RawConn *rc, Op *op);
/* The outcome of op, a single statement (RES_QUERY, RES_ROW), from its
 * result (stolen; NULL: none came). */
PyObject *op_statement_outcome(module_state *st, Op *op, pgd_result *res);
void op_deliver(Op *op, PyObject *value, PyObject *exc);
/* The task awaiting `op`, rc's running operation, was cancelled (or its
 * timeout expired).  Carries out the queue's plan (pgd_opq_stop,
 * driver/src/opqueue.c): close the connection without sending more, or send
 * a cancel request and, with may_wait, let a batch or pipeline begun
 * outside a transaction block wait for its outcome, or mark a statement
 * begun inside one so that its transaction is failed if it stays healthy.
 * Returns the final plan: PGD_STOP_CANCEL_WAIT when the caller is to wait
 * for the outcome; anything else when op is abandoned (its outcome is
 * dropped; the connection may be closed). */
pgd_stop rawconn_cancel_running(RawConn *rc, Op *op, int may_wait);
int rawconn_idle(const RawConn *rc);
/* After a stop whose final plan is `plan`: close rc (its slot is opened
 * again) if `op` still runs on it when the queue's deadline passes
 * (pgd_opq_deadline): the server has not acted on the cancel request (a
 * frozen backend, a dead link). */
void rawconn_arm_deadline(RawConn *rc, Op *op, pgd_stop plan);

/* pool.c */
void pool_acquire(PoolObject *pool, Op *op); /* route op to a connection */
/* Withdraw op from the pool's waiting list; 1 if it was there. */
int pool_withdraw(PoolObject *pool, Op *op);
void pool_release(PoolObject *pool, RawConn *rc); /* connection is free again */
void pool_conn_lost(PoolObject *pool, RawConn *rc);
void pool_conn_ready(PoolObject *pool, RawConn *rc, Op *waiter);
void pool_conn_failed(PoolObject *pool, RawConn *rc, PyObject *exc);
int pool_check_usable(PoolObject *pool);

/* pool.c, for lifecycle.c */
void pool_forget(PoolObject *pool, RawConn *rc); /* close and drop rc */
void pool_kick_waiters(PoolObject *pool);
int pool_open(PoolObject *pool, Op *op); /* 1 opening, 0 full; op NULL: in the background */
/* rawconn.c */
void rawconn_abort(RawConn *rc, const char *why); /* close now, failing its operations */
/* lifecycle.c: min_size=, max_lifetime=, max_idle=, resize(), close(timeout=) */
int lifecycle_parse(PoolObject *pool, PyObject *rest); /* pops its keywords from rest */
int lifecycle_check(PoolObject *pool, int max_size); /* min_size <= max_size */
void lifecycle_started(PoolObject *pool);
int lifecycle_expired(PoolObject *pool, RawConn *rc); /* too old to go back to the pool */
void lifecycle_forgot(PoolObject *pool, RawConn *rc); /* rc was dropped */
PyObject *lifecycle_status(PoolObject *pool);
PyObject *lifecycle_resize(PyObject *self, PyObject *arg);
PyObject *lifecycle_close(PoolObject *pool, PyObject *timeout, Op *op); /* returns op */
void lifecycle_clear(PoolObject *pool);
int lifecycle_traverse(PoolObject *pool, visitproc visit, void *arg);

/* sessions.c: init=, server_settings=, notices and query hooks */
int sessions_parse(PoolObject *pool, PyObject *kwds, PyObject **rest, PyObject **settings);
PyObject *sessions_options(PoolObject *pool, PyObject *settings); /* new ref, -c list */
void sessions_watch(PoolObject *pool, pgd_conn *c);
int sessions_start_init(PoolObject *pool, RawConn *rc); /* 1: init started */
void sessions_report(RawConn *rc, Op *op, PyObject *value, PyObject *exc);
double sessions_now(void);
PyObject *sessions_add_query_hook(PyObject *self, PyObject *fn);
PyObject *sessions_remove_query_hook(PyObject *self, PyObject *fn);
PyObject *sessions_init_done(PyObject *self, PyObject *args);  /* -1 + exception when closed/not started */
/* -1 + InterfaceError unless called on the loop the pool was started on
 * (raised by the call itself: no task on another loop could await it) */
int pool_check_loop(PoolObject *pool);

/* op.c */
Op *op_new(module_state *st, PoolObject *pool, int kind, int result_mode);
int op_make_future(Op *op);                  /* -1 + exception */
void op_complete(Op *op, PyObject *value);   /* steals value */
void op_fail(Op *op, PyObject *exc);         /* steals exc (an instance) */
void op_fail_current(Op *op);                /* from the current Python error */
/* The current exception, normalized, with its traceback attached: a new
 * reference (NULL when none is set); the error indicator is cleared. */
PyObject *psqlpy_current_exception(void);
PyObject *op_failed_awaitable(Op *op);       /* fail from current error, return op */
int op_bind_query(Op *op, PyObject *sql, PyObject *params); /* -1 + exception */
/* The UTF-8 form of the SQL text `sql` (a str; borrowed from it), or NULL
 * with InterfaceError when it has none (a lone surrogate; the
 * UnicodeEncodeError is its cause) or holds a NUL, which libpq would cut
 * the text at. */
const char *psqlpy_sql_utf8(module_state *st, PyObject *sql);
/* The awaiting task was cancelled (or the awaitable closed): withdraw a
 * waiting op; stop a running one (rawconn_cancel_running) and drop its
 * results. */
void op_abandon(Op *op);
/* timeout= of a call: None -> the pool's command_timeout when use_default,
 * else none; a positive number of seconds.  0, or -1 + exception. */
int op_set_timeout(Op *op, PyObject *arg, int use_default);
/* Start the op's timeout clock (if it has one); 0, or -1 + exception. */
int op_arm_timeout(Op *op);
void op_stop_timer(Op *op);

/* connection.c */
PyObject *connection_new(module_state *st, PoolObject *pool, RawConn *rc);

/* The RawConn of a Connection still usable, or NULL with an exception
 * (borrowed). */
RawConn *connection_raw(PyObject *self);
/* The driver connection of a Connection still usable, or NULL with an
 * exception (borrowed). */
pgd_conn *connection_pgd(PyObject *self);

/* request.c: a call that runs something, built the same way whether the
 * pool or a Connection it lent serves it. */
typedef struct request {
    PoolObject *pool;
    PyObject *conn;      /* the Connection serving the call, or NULL: the pool */
    int kind, mode;      /* OP_*, RES_* */
    PyObject *sql;       /* querystring, pipeline's queries, or a COPY step's argument */
    PyObject *params;    /* parameters (execute_many: the rows), or Py_None */
    PyObject *timeout;   /* timeout= as passed; NULL: the call has none */
    int prepared;        /* prepared= */
    int default_timeout; /* timeout=None means the pool's command_timeout */
} request;
/* querystring, parameters=None, timeout=None, prepared=True into r (its
 * target and kind are the caller's); -1 + exception. */
int request_parse(request *r, PyObject *args, PyObject *kwds, const char *fmt);
/* Check the loop (raises), then build and bind the Op and hand it to its
 * target; the Op is the awaitable, failed already when the call was wrong. */
PyObject *request_run(const request *r);

/* copy.c */
int copyop_start(RawConn *rc, Op *op);       /* a pgd status, as the send calls */
PyObject *copyop_outcome(RawConn *rc, Op *op); /* new reference, or NULL + exception */
PyObject *conn_copy_columns(PyObject *self, PyObject *args);
PyObject *conn_copy_encode(PyObject *self, PyObject *args);
PyObject *conn_copy_encode_iter(PyObject *self, PyObject *args);
PyObject *conn_copy_dir(PyObject *self, PyObject *unused);

/* result.c */
PyObject *queryresult_new(module_state *st, pgd_result *res); /* steals res */
PyObject *singleresult_new(module_state *st, pgd_result *res); /* steals res */

/* record.c: a column map is (names tuple, dict name -> first index),
 * built once per result and shared by its Records. */
PyObject *record_colmap_new(PyObject *names);          /* new reference */
PyObject *record_new(module_state *st, PyObject *colmap); /* values unset */
PyObject **record_values(PyObject *rec); /* its value slots, to fill */
void record_finish(PyObject *rec); /* every value set */

extern PyType_Spec RecordSpec;

/* params.c */
int params_convert(module_state *st, PyObject *seq, pgd_value *out, size_t n,
                   PyObject *keep);
/* One value, its errors worded as for parameter $1. */
int params_convert_one(module_state *st, PyObject *obj, pgd_value *out, PyObject *keep);
/* builders.c */
extern const pgd_host psqlpy_host;
typedef struct pyhost_ctx {
    module_state *st;
    char err[512];
} pyhost_ctx;
/* Decode a cell into a new reference, raising ResultError on failure. */
PyObject *psqlpy_get_cell(module_state *st, const pgd_result *r, int row, int col);
/* pgd_result_get() through `cx` returned NULL for column col: raise the
 * ResultError for it (and clear cx->err for the next cell); returns NULL. */
PyObject *psqlpy_cell_error(const pgd_result *r, int col, pyhost_ctx *cx);
/* Decoding profiles: the default one (PSQLPool), and psqlpy 0.13's
 * (ConnectionPool and connect()); see builders.c. */
#define PSQLPY_PROFILE_DEFAULT 0
#define PSQLPY_PROFILE_013 1
/* The builder table for a column of type coltype under profile (static). */
const pgd_host *psqlpy_host_for(int profile, uint32_t coltype);
PyObject *psqlpy_get_cell_with(module_state *st, const pgd_result *r, int row, int col,
                               const pgd_host *host);

/* pycodecs.c: _register_codec(type_name, encode, decode, binary) */
PyObject *psqlpy_register_codec(PyObject *m, PyObject *const *args, Py_ssize_t nargs);

/* jemalloc.c (only in builds with the private jemalloc) */
void psqlpy_use_jemalloc(void);

/* errors.c */
PyObject *psqlpy_error_from_conn(module_state *st, const pgd_conn *c); /* new exc instance */
PyObject *psqlpy_make_error(module_state *st, PyObject *type, const char *msg);
/* Replace the pending exception by `type`("<what>: <it>") caused by it; -1. */
int psqlpy_reraise_as(PyObject *type, const char *what);
int psqlpy_init_errors(module_state *st, PyObject *excmod);

/* types */
extern PyType_Spec PoolSpec, RawConnSpec, OpSpec, ConnectionSpec,
    QueryResultSpec, SingleQueryResultSpec;

#endif
