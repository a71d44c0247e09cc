/*
 * pgd.h - libpgd, the C core of psqlpy: connections over libpq's
 * non-blocking API, a per-connection prepared-statement cache, the codec
 * registry and plugin loader, results decoded through codecs, and the pool's
 * bookkeeping.  No Python anywhere: the extension drives it from the event
 * loop, the C tests drive it with poll().
 *
 * Conventions
 *  - Functions return an int status (PGD_OK, PGD_ERROR, or PGD_WANT_* bits);
 *    details of a failure live on the object (pgd_conn_error(),
 *    pgd_registry_error()) until the next operation.
 *  - Pointers returned by accessors are borrowed from the object and valid
 *    until it changes; "new" in a comment means the caller frees it.
 *  - Nothing here blocks, except pgd_conn_cancel() (libpq's PQcancel opens a
 *    short connection of its own).
 */
#ifndef PGD_H
#define PGD_H

#include <stddef.h>
#include <stdint.h>

#include "pgd_codec.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status codes ---------------------------------------------------- */
#define PGD_OK 0
#define PGD_ERROR (-1)
#define PGD_WANT_READ 1  /* wait for the socket to be readable, then call again */
#define PGD_WANT_WRITE 2 /* also wait for writable (output still queued) */

/* ---- allocator table (pgd_alloc.c) ------------------------------------ */
/* Every driver and codec buffer goes through this table.  Default: jemalloc
 * (mallocx/rallocx/dallocx, so the process's malloc is left alone) when the
 * build has PGD_WITH_JEMALLOC, the system allocator otherwise. */
typedef struct pgd_allocator {
    const char *name;
    void *(*malloc)(size_t n);
    void *(*realloc)(void *p, size_t n);
    void (*free)(void *p);
} pgd_allocator;

void *pgd_malloc(size_t n);
void *pgd_calloc(size_t count, size_t n);
void *pgd_realloc(void *p, size_t n);
void pgd_free(void *p);
char *pgd_strdup(const char *s);                  /* new, or NULL */
const pgd_allocator *pgd_allocator_get(void);
void pgd_allocator_set(const pgd_allocator *a);   /* before any allocation */
const pgd_allocator *pgd_allocator_system(void);
const pgd_allocator *pgd_allocator_jemalloc(void); /* NULL when not built in,
                                                      or when libjemalloc is not in the
                                                      process and cannot be dlopen'ed */

/* ---- codec registry and plugin loader (registry.c, loader.c) ----------- */
typedef struct pgd_registry pgd_registry;

pgd_registry *pgd_registry_new(void); /* new, or NULL on OOM */
void pgd_registry_free(pgd_registry *r); /* plugins stay loaded (never dlclose) */

/* dlopen a plugin file, check its descriptor, register its codecs.
 * Refuses (PGD_ERROR) with a message naming the wrong thing: missing entry
 * symbol, bad magic, wrong ABI major, short struct_size/codec_size, name not
 * matching the file's base name, an OID already registered. */
int pgd_registry_load(pgd_registry *r, const char *path);
/* Load every "*.so" in dir, in name order; stops at the first refusal. */
int pgd_registry_load_dir(pgd_registry *r, const char *dir);
/* Register an in-process module (same checks; expected_name may be NULL). */
int pgd_registry_add_module(pgd_registry *r, const pgd_codec_module *m,
                            const char *expected_name);
const char *pgd_registry_error(const pgd_registry *r);

/* Codec for a type OID (base or array).  For an array OID the array handler
 * is returned and *elem / *elem_oid (if non-NULL) receive the element's
 * codec (possibly NULL) and OID.  NULL when the type has no codec. */
const pgd_codec *pgd_registry_find(const pgd_registry *r, uint32_t oid,
                                   const pgd_codec **elem, uint32_t *elem_oid);
/* The codec registered with oid 0 for a type name (the last one registered
 * wins), or NULL: what a connection uses for a per-database type of that
 * name. */
const pgd_codec *pgd_registry_find_named(const pgd_registry *r, const char *type_name);

/* ---- errors ------------------------------------------------------------ */
typedef enum pgd_errkind {
    PGD_E_NONE = 0,
    PGD_E_CONNECT, /* could not connect / authenticate */
    PGD_E_SERVER,  /* the server reported an error: sqlstate etc. are set */
    PGD_E_ENCODE,  /* a parameter could not be converted: index = parameter */
    PGD_E_USAGE,   /* wrong call for the state (busy, closed, bad argument) */
    PGD_E_IO,      /* connection lost or protocol failure */
    PGD_E_NOMEM
} pgd_errkind;

typedef struct pgd_error {
    int kind;         /* pgd_errkind */
    int index;        /* ENCODE: 0-based parameter; pipeline/batch: query or
                         row index of the failing item; -1 otherwise */
    char sqlstate[6]; /* "" when not from the server */
    const char *message; /* never NULL when kind != NONE */
    const char *severity, *detail, *hint, *position, *context, *schema_name,
        *table_name, *column_name, *datatype_name, *constraint_name;
    /* fields the server did not send are NULL */
    int item; /* ENCODE inside a batch/pipeline: the row/query whose
                 parameter failed (index is then the parameter); -1 otherwise */
} pgd_error;

/* ---- results (result.c) ------------------------------------------------ */
typedef struct pgd_result pgd_result;

int pgd_result_nrows(const pgd_result *r);
int pgd_result_ncols(const pgd_result *r);
const char *pgd_result_colname(const pgd_result *r, int col);
uint32_t pgd_result_coltype(const pgd_result *r, int col);
uint32_t pgd_result_coltable(const pgd_result *r, int col); /* source table OID, or 0 */
const char *pgd_result_command(const pgd_result *r); /* tag, e.g. "INSERT 0 1" */
int64_t pgd_result_affected(const pgd_result *r);    /* rows affected, or -1 */
int pgd_result_isnull(const pgd_result *r, int row, int col);
/* Decode one cell through the column's codec (resolved once per statement):
 * a new object from the host's builders (make_null for SQL NULL, make_str
 * of the text form for a type with no codec), or NULL after host->error(). */
pgd_obj *pgd_result_get(const pgd_result *r, int row, int col,
                        const pgd_host *host, void *h);
/* Decode every cell of one row, as pgd_result_get() would, column col
 * through hosts[col] (ncols tables; they may all be the same), into
 * out[0..ncols).  Returns the number of cells decoded: ncols, or the
 * column that failed (after its host's error(); also 0 for a row outside
 * the result).  The objects in out[0..returned) are the caller's. */
int pgd_result_get_row(const pgd_result *r, int row, const pgd_host *const *hosts, void *h,
                       pgd_obj **out);
/* The cell's bytes as the server sent them, undecoded: *data and *len
 * point into the result (borrowed, valid until pgd_result_free).  Returns
 * 1 for binary format, 0 for text, -1 for SQL NULL or a cell outside the
 * result (*data NULL, *len 0). */
int pgd_result_raw(const pgd_result *r, int row, int col, const char **data, size_t *len);
/* The result stays valid after its statement is evicted or its connection
 * is freed. */
void pgd_result_free(pgd_result *r);

/* ---- connections (conn.c, stmt_cache.c, pipeline.c) --------------------- */
typedef struct pgd_conn pgd_conn;

typedef enum pgd_txstate {
    PGD_TX_IDLE = 0, /* not in a transaction block */
    PGD_TX_ACTIVE,   /* a command is in progress */
    PGD_TX_INTRANS,  /* idle in a transaction block */
    PGD_TX_INERROR,  /* idle in a failed transaction block */
    PGD_TX_UNKNOWN   /* bad connection */
} pgd_txstate;

/* Validate a DSN / conninfo string without connecting.  PGD_OK, or
 * PGD_ERROR with libpq's message copied into err; no password of the
 * string appears in it (parse errors are those of a copy whose passwords
 * are masked). */
int pgd_conninfo_check(const char *dsn, char *err, size_t errlen);
/* The same for keyword/value arrays as given to pgd_conn_new(), including
 * integer options (port, connect_timeout, keepalives*) that libpq itself
 * only rejects when connecting. */
int pgd_conninfo_check_params(const char *const *keys, const char *const *vals, char *err,
                              size_t errlen);

/* New, unconnected connection.  keys/vals: NULL-terminated arrays as for
 * PQconnectStartParams with expand_dbname = 1 (a "dbname" value may be a
 * full DSN).  Copies what it needs.  NULL on OOM. */
pgd_conn *pgd_conn_new(const char *const *keys, const char *const *vals,
                       const pgd_registry *reg);
/* Close the socket (if open) and free everything. */
void pgd_conn_free(pgd_conn *c);
/* Deferred freeing.  An event-loop adapter holds the connection for the
 * length of each step it runs on it (a socket callback, a timer, a cancel)
 * and releases it at the end; a pgd_conn_free() in between (the pool
 * discarding a lost connection, pgd_pool_free) closes the connection at
 * once (libpq's connection and socket, pending results) but frees its
 * memory only at the last pgd_conn_unhold(), so the step may still read
 * it: it is then broken (pgd_conn_is_ok() false, pgd_conn_socket() -1,
 * pgd_conn_txstate() PGD_TX_UNKNOWN) and its user data stays.  Holds
 * nest. */
void pgd_conn_hold(pgd_conn *c);
void pgd_conn_unhold(pgd_conn *c);

/* Connect without blocking.  pgd_conn_connect_start() then, whenever the
 * socket is ready as asked, pgd_conn_connect_poll() until PGD_OK (ready for
 * queries) or PGD_ERROR (kind CONNECT or IO).  The socket may change while
 * connecting: re-read pgd_conn_socket() after every call. */
int pgd_conn_connect_start(pgd_conn *c);
int pgd_conn_connect_poll(pgd_conn *c);
int pgd_conn_socket(const pgd_conn *c); /* -1 when closed */
/* connect_timeout in seconds as configured (libpq does not enforce it for
 * non-blocking connects: the caller must, per host), -1 when not set. */
int pgd_conn_connect_timeout(const pgd_conn *c);
/*
 * Several hosts (host=a,b port=p1,p2, a URI with several hosts, or the
 * same from PGHOST/PGPORT) are tried one at a time, each with its own
 * libpq connection, in the given order or, with load_balance_hosts=random,
 * in a new random order for every connect.  A host that fails (refused,
 * 57P03, not what target_session_attrs asks for, ...) is followed by the
 * next one inside pgd_conn_connect_poll(); the error after the last one
 * lists every host's failure.  prefer-standby tries every host as
 * "standby", then every host that did not time out as "any".
 *
 * pgd_conn_connect_attempt() counts the hosts started by this connect: when
 * it changes, the caller restarts its per-host deadline.  When a deadline
 * expires, pgd_conn_connect_skip() gives the current host up (`why` goes
 * into the message) and starts the next: PGD_WANT_* as from
 * pgd_conn_connect_poll(), or PGD_ERROR when none is left.
 */
int pgd_conn_connect_attempt(const pgd_conn *c);
int pgd_conn_connect_skip(pgd_conn *c, const char *why);

int pgd_conn_is_ok(const pgd_conn *c);      /* connected and not broken */
int pgd_conn_is_busy(const pgd_conn *c);    /* an operation is in progress */
pgd_txstate pgd_conn_txstate(const pgd_conn *c);
int pgd_conn_server_version(const pgd_conn *c);
const pgd_error *pgd_conn_error(const pgd_conn *c); /* of the last failure */

/* Prepared-statement cache capacity (LRU, keyed by SQL text and pinned
 * parameter types); 0 disables caching: every operation then runs as with
 * pgd_conn_set_unnamed(c, 1).  Default 256. */
void pgd_conn_set_stmt_cache_size(pgd_conn *c, int n);
int pgd_conn_stmt_cache_count(const pgd_conn *c);
/* on: operations started from now on bypass the cache and use only the
 * unnamed statement, within one exchange (one Sync) each: Parse + Describe
 * end with a Flush, not a Sync; the pg_type query for new per-database
 * types, the Parse again where the unnamed statement was replaced (each
 * query of a pipeline) and every Bind/Execute follow before the only Sync.
 * Nothing prepared outlives the operation, and no later operation relies
 * on anything an earlier one prepared, so each operation may run on a
 * different server session (a pooler such as PgBouncer in transaction
 * mode).  (Named statements evicted earlier, when the cache was shrunk,
 * are still deallocated in an exchange of their own.)  off (the default):
 * the cache. */
void pgd_conn_set_unnamed(pgd_conn *c, int on);
/* on: an integer parameter (PGD_V_INT) of type money, or an integer element
 * of a money[] parameter, is the amount in cents (its wire value), as
 * psqlpy 0.13 reads it, instead of whole currency units (the money codec's
 * reading).  Default off. */
void pgd_conn_set_money_int_cents(pgd_conn *c, int on);

/*
 * Operations.  Each send function starts one operation on an idle
 * connection and returns PGD_WANT_* bits (or PGD_ERROR, leaving the
 * connection idle and usable when pgd_conn_is_ok()).  Then call
 * pgd_conn_io() whenever the socket is ready as asked, until it returns
 * PGD_OK (results ready) or PGD_ERROR (see pgd_conn_error(); the connection
 * is idle again and usable when pgd_conn_is_ok()).
 *
 * params are borrowed until the operation completes.  A value's pin_oid
 * (non-zero) fixes that parameter's type when the statement is prepared;
 * otherwise the server infers it and the codec for the inferred type
 * encodes the value (types with no codec are sent as text; only PGD_V_STR
 * is accepted for them).  Results come back in binary format, or in text
 * format for a statement whose result has a type with no binary codec.
 */

/* One statement with parameters, through the statement cache. */
int pgd_conn_send_query(pgd_conn *c, const char *sql, size_t nparams,
                        const pgd_value *params);
/* A simple-protocol command string without parameters (BEGIN, SAVEPOINT,
 * recycling statements; several statements allowed).  Produces one result:
 * the last statement's. */
int pgd_conn_send_simple(pgd_conn *c, const char *sql);
/* One statement, many parameter rows (row-major: nrows * nparams values),
 * in libpq pipeline mode with a single Sync: all or nothing inside the
 * caller's transaction.  Produces one result per row; on failure
 * error->index is the failing row. */
int pgd_conn_send_batch(pgd_conn *c, const char *sql, size_t nrows,
                        size_t nparams, const pgd_value *params);
/* Several statements with their own parameters, in pipeline mode with one
 * Sync.  Produces one result per query, in order; on failure error->index
 * is the failing query. */
int pgd_conn_send_pipeline(pgd_conn *c, size_t nqueries, const char *const *sqls,
                           const size_t *nparams, const pgd_value *const *params);

/* ---- automatic pipelining --------------------------------------------------------
 * Independent statements of different callers, sent together: one
 * Bind/Execute/Sync per statement in libpq's pipeline mode, so the server
 * answers them in one round trip, and an error aborts only its own
 * statement (everything after it up to its Sync), never the others.
 *
 * pgd_conn_may_pipeline: 1 when a statement may join such a burst: the
 * connection is idle outside a transaction block with named statements
 * cached, and this statement is cached, prepared and described (no
 * Describe round trip first), and has run here before from outside a
 * transaction block leaving the session outside one (so it is neither
 * BEGIN nor anything else that would draw the statements behind it into
 * a transaction).  0 otherwise; never fails, sends nothing. */
#define PGD_BURST_MAX 64
int pgd_conn_may_pipeline(pgd_conn *c, const char *sql, size_t nparams,
                          const pgd_value *params);
/* Send n (2..PGD_BURST_MAX) statements for which pgd_conn_may_pipeline
 * said 1 as one burst.  Each is encoded on its own just before it is
 * queued: an encode or usage error fails only that statement, which is
 * not sent.  Driven with pgd_conn_io() like any operation; PGD_ERROR from
 * either means the whole burst failed (the connection broke, out of
 * memory: error on the connection).  After PGD_OK each statement's outcome
 * is taken with pgd_conn_burst_take. */
int pgd_conn_send_burst(pgd_conn *c, size_t n, const char *const *sqls, const size_t *nparams,
                        const pgd_value *const *params);
/* Statement i's result (new; free with pgd_result_free), or NULL when it
 * failed: its error is then the connection's (pgd_conn_error), index -1. */
pgd_result *pgd_conn_burst_take(pgd_conn *c, size_t i);

/* Advance the current operation: flush output, consume input. */
int pgd_conn_io(pgd_conn *c);
/* After PGD_OK: the operation's results in order; each call hands over one
 * (new; free with pgd_result_free), NULL when none is left. */
pgd_result *pgd_conn_take_result(pgd_conn *c);

/* Ask the server to cancel the running operation (blocking, short).  An
 * operation whose statements are still being prepared sends no Bind/Execute
 * afterwards.  The operation still has to be driven to its end with
 * pgd_conn_io(): it fails with SQLSTATE 57014 when the cancel took effect,
 * and completes normally when the server finished first (PostgreSQL ignores
 * a cancel that arrives while the backend is between statements, waiting
 * for the next message).  Its outcome is the truth either way.  PGD_OK or
 * PGD_ERROR. */
int pgd_conn_cancel(pgd_conn *c);

/* Close the connection at once without sending anything more: output libpq
 * still holds is dropped (what the kernel had already accepted still
 * reaches the server).  An operation in progress is over; the connection is
 * broken (pgd_conn_is_ok() false, pgd_conn_socket() -1; free it).
 *
 * This is how to stop an operation for sure while its output is not all
 * sent (the last send or pgd_conn_io() returned PGD_WANT_WRITE): its final
 * Sync is then among the unsent bytes, so the server never runs it; it sees
 * the connection end and rolls back the implicit transaction of an
 * operation that began outside a transaction block (unless one of its own
 * statements was a COMMIT).  Inside a transaction block this also ends the
 * caller's transaction. */
void pgd_conn_disconnect(pgd_conn *c);

/* ---- stopping an operation early (async.c) ----------------------------------
 * When the caller of a running operation gives up (its task was cancelled,
 * its timeout expired), what can still be prevented depends on where the
 * operation is.  The decision is made here, without I/O, so that it is
 * tested from C; the event-loop adapter carries it out. */
typedef enum pgd_opkind {
    PGD_OPK_QUERY = 1, /* pgd_conn_send_query */
    PGD_OPK_SIMPLE,    /* pgd_conn_send_simple */
    PGD_OPK_BATCH,     /* pgd_conn_send_batch */
    PGD_OPK_PIPELINE,  /* pgd_conn_send_pipeline */
    PGD_OPK_COPY,      /* a COPY step that may wait on the server (its start,
                          reading COPY OUT data): stopped like a query */
    PGD_OPK_COPY_STEP  /* any other COPY step: it ends by itself, never
                          cancelled (the caller then aborts the COPY) */
} pgd_opkind;

typedef enum pgd_stop {
    /* pgd_conn_disconnect(): the rest (its final Sync among it) is never
     * sent, the server rolls the implicit transaction back */
    PGD_STOP_DISCONNECT = 1,
    /* pgd_conn_cancel(), then wait for the outcome, which is the truth:
     * failed on a live connection -> nothing of it stays; complete -> the
     * stop came too late and the result stands */
    PGD_STOP_CANCEL_WAIT,
    /* pgd_conn_cancel(); the caller gives up at once, late results are
     * read and dropped */
    PGD_STOP_CANCEL,
    /* as PGD_STOP_CANCEL, and if the transaction block is still healthy
     * when the operation ends (it completed anyway, or was stopped before
     * its Bind/Execute), fail it before anything else runs on the
     * connection, so the abandoned statement cannot be committed */
    PGD_STOP_CANCEL_ABORT_TX,
    /* nothing to ask of the server: only drop the outcome (the operation
     * is not running, or ends by itself; see pgd_opq_stop) */
    PGD_STOP_DROP
} pgd_stop;

/* The plan for a running operation of `kind` that started in transaction
 * state `tx_at_start`; output_unsent: the last send/pgd_conn_io() returned
 * PGD_WANT_WRITE; can_wait: the caller may wait for the outcome. */
pgd_stop pgd_stop_plan(pgd_opkind kind, pgd_txstate tx_at_start, int output_unsent,
                       int can_wait);
/* The plan once pgd_conn_cancel() failed: a caller that waits still learns
 * the outcome; otherwise the connection must not be reused
 * (PGD_STOP_DISCONNECT). */
pgd_stop pgd_stop_cancel_failed(pgd_stop plan);
/* Seconds to give the server to act on the cancel request of `plan`
 * before the connection is closed (a frozen backend, a dead link): short
 * when a caller waits for it. */
double pgd_stop_grace(pgd_stop plan);

/* The deadline of the host being connected to, in seconds, 0 for none:
 * connect_timeout as configured (pgd_conn_connect_timeout), PGD_CONNECT_TIMEOUT
 * when not set, at least 2 (libpq's own minimum), 0 meaning wait for ever
 * as in libpq.  The adapter arms it again whenever
 * pgd_conn_connect_attempt() changes (each host gets the whole of it) and
 * calls pgd_conn_connect_skip() when it expires. */
#define PGD_CONNECT_TIMEOUT 30
int pgd_connect_deadline(const pgd_conn *c);

/* ---- the socket an event loop watches (watch.c) --------------------------------
 * The event-loop adapter registers interest in a connection's socket
 * through these hooks; the driver decides what to register and when.
 * What is registered is a duplicate of libpq's descriptor that the
 * pgd_watch owns (libpq closes and reopens its own at will, and the
 * number is reused by other sockets): it is unregistered before it is
 * closed, always.  Hooks are called only on a change of interest. */
typedef struct pgd_watch_hooks {
    int (*add_read)(void *arg, int fd);  /* 0, or -1 (the adapter keeps the error) */
    void (*del_read)(void *arg, int fd); /* failures do not matter */
    int (*add_write)(void *arg, int fd);
    void (*del_write)(void *arg, int fd);
} pgd_watch_hooks;

typedef struct pgd_watch {
    int fd;              /* the registered duplicate, -1 when none */
    int src_fd;          /* libpq's descriptor it duplicates */
    int reading, writing; /* what is registered */
    const pgd_watch_hooks *hooks;
    void *arg;
} pgd_watch;

void pgd_watch_init(pgd_watch *w, const pgd_watch_hooks *hooks, void *arg);
/* Follow the connection's current socket (after every connect step, and
 * whenever PQsocket() may have changed).  With check_identity (while
 * connecting, when libpq may close and reopen under the same number) the
 * socket itself is compared, else its number; a new socket gets a new
 * duplicate with nothing registered.  0; -1 when the connection has no
 * socket (the old duplicate is dropped); -2 when it cannot be duplicated
 * (errno). */
int pgd_watch_follow(pgd_watch *w, const pgd_conn *c, int check_identity);
/* Want readable / writable events (on) or not: 0 (done, or nothing to
 * change), -1 when the add hook failed, -2 when there is no socket. */
int pgd_watch_read(pgd_watch *w, int on);
int pgd_watch_write(pgd_watch *w, int on);
/* Unregister, then close the duplicate (never the other way round). */
void pgd_watch_drop(pgd_watch *w);
/* libpq no longer uses the socket the duplicate is of (it closed it): a
 * connection that still waits will never hear from it. */
int pgd_watch_stale(const pgd_watch *w, const pgd_conn *c);
/* The duplicate reports an error or a hang-up (polled, never waits).
 * uvloop (libuv) reports POLLERR once and then stops watching the
 * descriptor for good, so the adapter asks after every callback. */
int pgd_watch_hung_up(const pgd_watch *w);

/* ---- the operation queue of one connection (opqueue.c) ------------------------
 * Operations on a connection run one at a time, in the order they were
 * submitted.  The queue decides which runs, what its end means for the
 * connection, what becomes of the others when the connection is lost, and
 * how a running one is stopped (the plan above, applied to the queue's
 * state); the event-loop adapter embeds a pgd_aop in each of its operation
 * objects, does the I/O and delivers the outcomes.  No I/O and no
 * allocation here.
 *
 * Ownership: the queue links the pgd_aop structures but owns nothing; an
 * adapter that reference-counts its operations holds one reference for
 * each op pushed, and drops it when the op comes back to it (pgd_opq_pop,
 * pgd_opq_remove, pgd_opq_start_next's *dropped, pgd_opq_take_current). */
typedef enum pgd_aop_state {
    PGD_AOP_NEW = 0, /* not on a queue */
    PGD_AOP_QUEUED,
    PGD_AOP_RUNNING, /* the queue's current operation */
    PGD_AOP_DONE
} pgd_aop_state;

typedef struct pgd_aop {
    struct pgd_aop *next; /* the queue's link */
    pgd_opkind kind;
    pgd_aop_state state;
    pgd_txstate tx_at_start; /* when it started running */
    int internal;       /* the adapter's own step (recycling check, rollback,
                           transaction abort): nobody awaits it */
    int expect_error;   /* internal, and failing the transaction is its purpose */
    int abandoned;      /* its caller gave up: the outcome is dropped */
    int abort_tx;       /* stopped inside a transaction block: fail the
                           transaction if it is still healthy at the end */
    int took_no_effect; /* failed on a live connection (outside a transaction
                           block nothing of it stays) */
    int retries;        /* times moved to another connection, never started */
    int timed;          /* its caller set a timeout: never pipelined, so a
                           stop can always ask the server to cancel it */
    struct pgd_aop *run_next; /* the next member of a running burst */
} pgd_aop;

typedef struct pgd_opq {
    pgd_aop *cur;        /* running (the first member of a burst), or NULL */
    size_t nrun;         /* operations running: 1, or a burst's members */
    pgd_aop *head, *tail; /* waiting their turn */
} pgd_opq;

/* How often an operation that never started is moved to another
 * connection when its connection is lost, before it fails with it. */
#define PGD_AOP_MAX_RETRIES 3

void pgd_aop_init(pgd_aop *op, pgd_opkind kind);
void pgd_opq_init(pgd_opq *q);
/* Nothing running and nothing waiting. */
int pgd_opq_idle(const pgd_opq *q);
/* Append op (state QUEUED). */
void pgd_opq_push(pgd_opq *q, pgd_aop *op);
/* Withdraw a waiting op (its caller gave up before it started): 1 if it
 * was on q (state NEW again), 0 if not. */
int pgd_opq_remove(pgd_opq *q, pgd_aop *op);
/* Unlink and return the first waiting op (state NEW), or NULL. */
pgd_aop *pgd_opq_pop(pgd_opq *q);
/* The next operation to run, when none runs: the first waiting one that
 * was not abandoned becomes current (state RUNNING, tx_at_start = tx) and
 * is returned; NULL when none runs now (one already runs, or none waits).
 * Abandoned ones met on the way are unlinked (state DONE) and handed back
 * through *dropped one per call: call again while *dropped is set. */
pgd_aop *pgd_opq_start_next(pgd_opq *q, pgd_txstate tx, pgd_aop **dropped);

/* Automatic pipelining: when nothing runs, start the longest run (at most
 * max, at least 2) of waiting operations at the head of the queue that
 * may go out together as one burst (pgd_conn_send_burst), and return how
 * many started (0: none; start the next one alone with
 * pgd_opq_start_next).  They become RUNNING in order (ops[0] is q->cur,
 * linked through run_next) and are taken back one by one with
 * pgd_opq_take_current.  The rules: the connection allows it
 * (may_pipeline: it belongs to the pool, is not lent to a caller, and the
 * pool has pipelining on) and is outside a transaction block; each member
 * is a single statement (PGD_OPK_QUERY), not internal, not abandoned,
 * without a timeout of its own, and ready(arg, op) says its statement is
 * prepared and described (pgd_conn_may_pipeline).  The run ends at the
 * first operation that does not qualify. */
typedef int (*pgd_aop_ready_fn)(void *arg, pgd_aop *op);
size_t pgd_opq_start_burst(pgd_opq *q, pgd_txstate tx, int may_pipeline, pgd_aop_ready_fn ready,
                           void *arg, pgd_aop **ops, size_t max);

/* What the end of the current operation means for the connection. */
typedef enum pgd_after {
    PGD_AFTER_NEXT = 0,     /* go on with the next operation */
    PGD_AFTER_ABORT_TX,     /* first fail the transaction: push
                               pgd_tx_abort_sql() in front (pgd_opq_push_front),
                               or close the connection if that cannot be done */
    PGD_AFTER_LOST,         /* the connection is gone: close it (pgd_opq_lose) */
    PGD_AFTER_CHECK_FAILED  /* an internal step did not do what it is for:
                               close the connection */
} pgd_after;

/* The current operation ended (taken off the queue first with
 * pgd_opq_take_current, before its results are read): status is PGD_OK or
 * PGD_ERROR (the send or pgd_conn_io() that ended it), alive is
 * pgd_conn_is_ok() and tx pgd_conn_txstate() once its results are read.
 * Sets took_no_effect when it failed on a live connection. */
pgd_after pgd_aop_finished(pgd_aop *op, int status, int alive, pgd_txstate tx);
/* Put an internal op in front of every waiting one. */
void pgd_opq_push_front(pgd_opq *q, pgd_aop *op);
/* The statement that fails a transaction block (it raises query_canceled,
 * as the stopped statement would have). */
const char *pgd_tx_abort_sql(void);

/* Unlink and return the current op (state DONE), NULL when none runs (in a
 * burst, the first member still running; the next becomes current): it
 * ended (then pgd_aop_finished), or the connection is lost (the adapter
 * fails it, then settles each waiting op with pgd_opq_pop and
 * pgd_opq_fate). */
pgd_aop *pgd_opq_take_current(pgd_opq *q);
/* What becomes of a waiting op when its connection is lost: */
typedef enum pgd_fate {
    PGD_FATE_DROP = 0, /* internal or abandoned: nobody wants its outcome */
    PGD_FATE_RETRY,    /* never started: run it on another connection
                          (retries is counted) */
    PGD_FATE_FAIL      /* fail it with the connection's error */
} pgd_fate;
/* may_move: the op may go to another connection (it came from the pool,
 * not from a connection a caller holds). */
pgd_fate pgd_opq_fate(pgd_aop *op, int may_move);

/* Stopping op early (its caller was cancelled or timed out), in two steps
 * (a member of a burst is only abandoned, PGD_STOP_DROP: a cancel request
 * acts on whichever statement the server runs at that moment, which may be
 * another caller's; its statement runs and its outcome is dropped; members
 * never have a timeout, see pgd_opq_start_burst),
 * around the cancel request, which blocks and so is the adapter's to send.
 * pgd_opq_stop: usable is whether the connection is open; output_unsent as
 * for pgd_stop_plan.  PGD_STOP_DROP (op is abandoned; nothing else to do)
 * when op is not q's current operation, the connection is not usable, or
 * op ends by itself; PGD_STOP_DISCONNECT (op is abandoned; close the
 * connection now); else the plan, for which the adapter sends the cancel
 * request (pgd_conn_cancel) and reports with pgd_opq_stop_sent. */
pgd_stop pgd_opq_stop(pgd_opq *q, pgd_aop *op, int usable, int output_unsent, int can_wait);
/* The plan once the cancel request was sent (sent 1) or could not be
 * (0): PGD_STOP_CANCEL_WAIT (the caller waits for the outcome: op stays
 * current), PGD_STOP_DISCONNECT (op is abandoned; close the connection),
 * or PGD_STOP_CANCEL / PGD_STOP_CANCEL_ABORT_TX (op is abandoned; the
 * latter also marks it abort_tx). */
pgd_stop pgd_opq_stop_sent(pgd_opq *q, pgd_aop *op, pgd_stop plan, int sent);
/* After a stop whose final plan is `plan`: seconds after which the
 * connection is to be closed if op still runs (pgd_opq_overdue), or 0 when
 * no deadline is needed (op is over, or the connection is closed). */
double pgd_opq_deadline(const pgd_opq *q, const pgd_aop *op, pgd_stop plan);
/* The deadline of op expired: 1 when the connection is to be closed (op
 * still runs: the server did not act on the cancel request). */
int pgd_opq_overdue(const pgd_opq *q, const pgd_aop *op);

/* An opaque pointer for the caller (the extension maps connections to its
 * own objects with it).  Never touched by the driver. */
/* LISTEN/NOTIFY.  Every pgd_conn_io() hands the notifications libpq has
 * read so far (while an operation runs, during a COPY, or while the
 * connection is idle) to `fn`, one call each, in the order the server sent
 * them, after its own work and before it returns; also when it reports the
 * connection lost, for what arrived before the end.  `channel` and `payload`
 * are NUL-terminated and valid only during the call; `fn` must not call back
 * into this connection.  With no hook (the default, or fn NULL) they are
 * dropped, so a connection nobody listens on does not accumulate them. */
typedef void (*pgd_notify_fn)(void *arg, int pid, const char *channel, const char *payload);
void pgd_conn_set_notify_hook(pgd_conn *c, pgd_notify_fn fn, void *arg);

void pgd_conn_set_userdata(pgd_conn *c, void *user);
void *pgd_conn_userdata(const pgd_conn *c);

/* A notice or warning the server sent (RAISE NOTICE, a WARNING): its
 * fields as PQresultErrorField gives them, NULL when absent.  Borrowed:
 * valid during the hook's call only. */
typedef struct pgd_notice {
    const char *severity;       /* localized: "NOTICE", "AVISO", ... */
    const char *severity_nonlocalized; /* "NOTICE", "WARNING", "DEBUG", ... */
    const char *sqlstate;
    const char *message;
    const char *detail;
    const char *hint;
    const char *context;
    const char *position;
    const char *schema, *table, *column, *datatype, *constraint;
} pgd_notice;
typedef void (*pgd_notice_fn)(void *arg, const pgd_notice *n);
/* Call fn(arg, notice) for each notice of this connection (NULL: drop
 * them, the default).  The hook runs inside libpq's reading, in the
 * middle of pgd_conn_io() and the like: it must not call back into the
 * connection. */
void pgd_conn_set_notice_hook(pgd_conn *c, pgd_notice_fn fn, void *arg);

/* With no operation in progress, pgd_conn_io() consumes whatever the server
 * sent (notices, or end of file): PGD_OK while the connection is fine,
 * PGD_ERROR (kind IO, pgd_conn_is_ok() false) when it is gone. */

/* Notes on the operations (behaviour, no new API):
 *  - A batch with nrows == 0 or a pipeline with nqueries == 0 returns
 *    PGD_OK at once: no I/O, no results.
 *  - ENCODE errors in a batch or pipeline: error->index is the parameter,
 *    the message names the row/query ("row 42, parameter $2 ...");
 *    USAGE (count mismatch) errors carry the row/query index.
 *  - A batch takes the pinned types of its first row.
 *  - The first use of a statement costs one extra round trip (Parse +
 *    Describe) before the Bind/Execute; later uses send only Bind/Execute.
 *  - The cache may exceed its size while an operation runs; it is trimmed
 *    when the operation ends and the evicted statements' DEALLOCATE rides on
 *    the next send_query/batch/pipeline that starts outside a transaction
 *    block.  A cached statement the server reports gone (26000) or changed
 *    (0A000 cached plan) fails that call and is prepared again next time.
 *  - Codecs registered with oid 0 (resolve by name) are accepted by the
 *    registry but not yet resolved per connection: their types fall back
 *    to text. */

/* ---- COPY (copy.c) ------------------------------------------------------
 * COPY FROM STDIN / TO STDOUT over the non-blocking connection.  Each call
 * below is an operation like the others: it returns PGD_OK (done at once),
 * PGD_ERROR, or PGD_WANT_* bits, and then pgd_conn_io() is called whenever
 * the socket is ready as asked until PGD_OK or PGD_ERROR.  Between them the
 * connection is in COPY: the other operations refuse to start (USAGE), and
 * pgd_conn_io() on it only notices a lost connection (in COPY OUT it reads
 * nothing: the server waits while the caller has not asked for the next
 * chunk, which is the backpressure).
 *
 *   start:  pgd_conn_copy_start(sql)     -> PGD_OK once the server is in
 *           COPY; pgd_conn_copy_dir() says which way.  A statement that is
 *           not a COPY ... STDIN/STDOUT runs and fails the call (USAGE).
 *   in:     pgd_conn_copy_put(data, len) -> queued in libpq; PGD_WANT_WRITE
 *           until the socket took it (wait writable before the next put).
 *           pgd_conn_copy_encode_row() builds binary COPY rows in the
 *           connection's COPY buffer; pgd_conn_copy_put(NULL, 0) sends it.
 *           pgd_conn_copy_end(NULL) ends it (the buffer and, for binary
 *           rows, the trailer go first) -> the command's result
 *           (pgd_conn_take_result; pgd_result_affected = rows copied);
 *           pgd_conn_copy_end("why") aborts: the server rolls the COPY back
 *           and the call fails with the server's error (SQLSTATE 57014).
 *   out:    pgd_conn_copy_get()          -> PGD_OK with the next chunk in
 *           pgd_conn_copy_chunk() (borrowed until the next call), or with
 *           none (NULL) at the end: the command's result is then ready.
 *
 * A server error during COPY IN is seen at the end (or at a put once libpq
 * has read it); the connection is idle again after any failure that did not
 * break it. */
#define PGD_COPY_IN 1
#define PGD_COPY_OUT 2

int pgd_conn_copy_start(pgd_conn *c, const char *sql);
int pgd_conn_copy_dir(const pgd_conn *c);       /* 0, PGD_COPY_IN or PGD_COPY_OUT */
int pgd_conn_copy_put(pgd_conn *c, const char *data, size_t len);
int pgd_conn_copy_end(pgd_conn *c, const char *abort_message);
int pgd_conn_copy_get(pgd_conn *c);
const char *pgd_conn_copy_chunk(const pgd_conn *c, size_t *len);
/* Read the rest of a COPY OUT and drop it, then end as copy_get does at the
 * end (after pgd_conn_cancel() the server's 57014 error: the connection
 * is idle and usable again either way). */
int pgd_conn_copy_discard(pgd_conn *c);

/* Binary COPY rows.  set_columns, called once the COPY has started,
 * resolves a codec per column type OID (names are for messages; may be
 * NULL) and clears the COPY buffer; the COPY then sends the binary header
 * even when no row is encoded.
 * encode_row appends one tuple (the file header before the first): each
 * value through its column's binary encoder, PGD_V_NULL as SQL NULL.
 * PGD_ERROR (kind ENCODE, index = column; USAGE for a wrong count) leaves
 * the buffer as it was before the row; the message names the row
 * (row_index) and the column. */
int pgd_conn_copy_set_columns(pgd_conn *c, size_t ncols, const uint32_t *oids,
                              const char *const *names);
int pgd_conn_copy_encode_row(pgd_conn *c, size_t nvals, const pgd_value *vals,
                             int64_t row_index);
size_t pgd_conn_copy_buffered(const pgd_conn *c); /* bytes waiting in the buffer */

/* ---- pool bookkeeping (pool.c) ----------------------------------------- */
/* The pool holds connections and knows which are idle; waiting for one is
 * the caller's business (the extension keeps a queue of futures). */
typedef enum pgd_recycle {
    PGD_RECYCLE_FAST = 1,     /* only check the connection is open */
    PGD_RECYCLE_VERIFIED = 2, /* also run a test query */
    PGD_RECYCLE_CLEAN = 3     /* reset session state (keeps prepared statements) */
} pgd_recycle;

typedef struct pgd_pool pgd_pool;

pgd_pool *pgd_pool_new(const char *const *keys, const char *const *vals,
                       int max_size, pgd_recycle recycle, const pgd_registry *reg);
void pgd_pool_free(pgd_pool *p);   /* frees every connection it holds */
int pgd_pool_max_size(const pgd_pool *p);
int pgd_pool_size(const pgd_pool *p);   /* connections alive (idle + lent) */
int pgd_pool_idle(const pgd_pool *p);
pgd_recycle pgd_pool_recycle_method(const pgd_pool *p);
/* An idle connection (most recently used first), or NULL. */
pgd_conn *pgd_pool_take_idle(pgd_pool *p);
/* A new unconnected connection counted in the pool's size, or NULL when
 * the pool is full (or OOM). */
pgd_conn *pgd_pool_grow(pgd_pool *p);
/* Give a lent connection back (it must be idle and ok), or drop it. */
void pgd_pool_put(pgd_pool *p, pgd_conn *c);
void pgd_pool_discard(pgd_pool *p, pgd_conn *c);
/* A new maximum size (>= 1).  Shrinking below pgd_pool_size() closes
 * nothing: pgd_pool_grow() refuses until enough are discarded.  PGD_OK, or
 * PGD_ERROR (bad size, out of memory: the size is unchanged). */
int pgd_pool_resize(pgd_pool *p, int max_size);
/* SQL to run when recycling with the given method, or NULL for none. */
const char *pgd_recycle_sql(pgd_recycle method);

#ifdef __cplusplus
}
#endif

#endif /* PGD_H */
