/*
 * test_opqueue.c - the operation queue of one connection
 * (driver/src/opqueue.c): FIFO order, what the end of an operation means
 * for its connection, what becomes of waiting operations when the
 * connection is lost, and how a running one is stopped early and given a
 * deadline.  The first tests need no server; the last ones drive a queue
 * over a real connection with poll(), the way the event-loop adapter
 * does, and check what PostgreSQL makes of the queue's decisions.
 * Expected answers are written out, not derived.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tutil.h"

/* ---- the queue alone ------------------------------------------------------ */

static void test_fifo(void)
{
    pgd_opq q;
    pgd_aop a, b, c, d, *got, *dropped;

    pgd_opq_init(&q);
    CHECK(pgd_opq_idle(&q));
    pgd_aop_init(&a, PGD_OPK_QUERY);
    pgd_aop_init(&b, PGD_OPK_SIMPLE);
    pgd_aop_init(&c, PGD_OPK_BATCH);
    pgd_aop_init(&d, PGD_OPK_PIPELINE);
    pgd_opq_push(&q, &a);
    pgd_opq_push(&q, &b);
    pgd_opq_push(&q, &c);
    CHECK(!pgd_opq_idle(&q));
    CHECK(a.state == PGD_AOP_QUEUED && c.state == PGD_AOP_QUEUED);

    /* the first starts, recording the transaction state it started in */
    got = pgd_opq_start_next(&q, PGD_TX_INTRANS, &dropped);
    CHECK(got == &a && dropped == NULL && q.cur == &a);
    CHECK(a.state == PGD_AOP_RUNNING && a.tx_at_start == PGD_TX_INTRANS);
    /* one at a time: nothing else starts while a runs */
    CHECK(pgd_opq_start_next(&q, PGD_TX_IDLE, &dropped) == NULL && dropped == NULL);
    CHECK(q.cur == &a && b.state == PGD_AOP_QUEUED);

    /* withdrawn while waiting: gone from the queue, the rest keeps its order */
    CHECK(pgd_opq_remove(&q, &b) == 1);
    CHECK(b.state == PGD_AOP_NEW);
    CHECK(pgd_opq_remove(&q, &b) == 0);
    CHECK(pgd_opq_remove(&q, &a) == 0); /* running, not waiting */

    /* an internal step goes in front of everything waiting */
    pgd_opq_push(&q, &b);
    pgd_opq_push_front(&q, &d);
    CHECK(pgd_opq_take_current(&q) == &a && a.state == PGD_AOP_DONE && q.cur == NULL);
    CHECK(pgd_opq_start_next(&q, PGD_TX_IDLE, &dropped) == &d);
    CHECK(pgd_opq_take_current(&q) == &d);

    /* one abandoned while it waited never starts: handed back, then the next */
    c.abandoned = 1;
    got = pgd_opq_start_next(&q, PGD_TX_IDLE, &dropped);
    CHECK(got == NULL && dropped == &c && c.state == PGD_AOP_DONE);
    got = pgd_opq_start_next(&q, PGD_TX_IDLE, &dropped);
    CHECK(got == &b && dropped == NULL);
    CHECK(!pgd_opq_idle(&q));
    CHECK(pgd_opq_take_current(&q) == &b);
    CHECK(pgd_opq_idle(&q));
    CHECK(pgd_opq_start_next(&q, PGD_TX_IDLE, &dropped) == NULL && dropped == NULL);
    CHECK(pgd_opq_take_current(&q) == NULL);

    /* pop hands them back in order; the tail follows */
    pgd_opq_push(&q, &a);
    pgd_opq_push(&q, &b);
    CHECK(pgd_opq_remove(&q, &b) == 1); /* the tail */
    pgd_opq_push(&q, &c);
    CHECK(pgd_opq_pop(&q) == &a);
    CHECK(pgd_opq_pop(&q) == &c);
    CHECK(pgd_opq_pop(&q) == NULL);
    CHECK(pgd_opq_idle(&q));
}

struct fin {
    int internal, expect_error, abort_tx;
    int status, alive;
    pgd_txstate tx;
    pgd_after want;
    int took_no_effect;
};

#define OK PGD_OK
#define ER PGD_ERROR
#define IDLE PGD_TX_IDLE
#define INTR PGD_TX_INTRANS
#define INER PGD_TX_INERROR
#define UNKN PGD_TX_UNKNOWN

static const struct fin fins[] = {
    /* a caller's statement: its own outcome, the connection goes on */
    {0, 0, 0, OK, 1, IDLE, PGD_AFTER_NEXT, 0},
    {0, 0, 0, OK, 1, INTR, PGD_AFTER_NEXT, 0},
    {0, 0, 0, ER, 1, IDLE, PGD_AFTER_NEXT, 1},
    {0, 0, 0, ER, 1, INER, PGD_AFTER_NEXT, 1},
    /* ... unless the connection broke under it */
    {0, 0, 0, ER, 0, UNKN, PGD_AFTER_LOST, 0},
    {0, 0, 0, OK, 0, UNKN, PGD_AFTER_LOST, 0},
    {0, 0, 1, OK, 0, UNKN, PGD_AFTER_LOST, 0},
    /* stopped inside a transaction block and the block is still healthy:
     * fail it first; failed already, or over: nothing to do */
    {0, 0, 1, OK, 1, INTR, PGD_AFTER_ABORT_TX, 0},
    {0, 0, 1, ER, 1, INTR, PGD_AFTER_ABORT_TX, 1},
    {0, 0, 1, ER, 1, INER, PGD_AFTER_NEXT, 1},
    {0, 0, 1, OK, 1, IDLE, PGD_AFTER_NEXT, 0},
    /* an internal step (recycling check, rollback) that fails, or breaks
     * the connection, takes the connection with it */
    {1, 0, 0, OK, 1, IDLE, PGD_AFTER_NEXT, 0},
    {1, 0, 0, ER, 1, IDLE, PGD_AFTER_CHECK_FAILED, 1},
    {1, 0, 0, ER, 0, UNKN, PGD_AFTER_CHECK_FAILED, 0},
    /* the transaction abort exists to fail: it must leave the block failed */
    {1, 1, 0, ER, 1, INER, PGD_AFTER_NEXT, 1},
    {1, 1, 0, OK, 1, INTR, PGD_AFTER_CHECK_FAILED, 0},
    {1, 1, 0, ER, 1, IDLE, PGD_AFTER_CHECK_FAILED, 1},
    {1, 1, 0, ER, 0, UNKN, PGD_AFTER_CHECK_FAILED, 0},
};

static void test_finished(void)
{
    for (size_t i = 0; i < sizeof fins / sizeof fins[0]; i++) {
        const struct fin *f = &fins[i];
        pgd_aop op;
        pgd_aop_init(&op, PGD_OPK_QUERY);
        op.internal = f->internal;
        op.expect_error = f->expect_error;
        op.abort_tx = f->abort_tx;
        pgd_after got = pgd_aop_finished(&op, f->status, f->alive, f->tx);
        CHECK_MSG(got == f->want, "row %zu: after %d, want %d", i, (int)got, (int)f->want);
        CHECK_MSG(op.took_no_effect == f->took_no_effect, "row %zu: took_no_effect %d", i,
                  op.took_no_effect);
        CHECK(op.state == PGD_AOP_DONE);
    }
    /* the statement that fails a transaction block raises query_canceled */
    CHECK_CONTAINS(pgd_tx_abort_sql(), "query_canceled");
}

static void test_fate(void)
{
    pgd_aop op;

    /* never started, from the pool: moved, a bounded number of times */
    pgd_aop_init(&op, PGD_OPK_QUERY);
    for (int i = 0; i < PGD_AOP_MAX_RETRIES; i++) {
        CHECK(pgd_opq_fate(&op, 1) == PGD_FATE_RETRY);
        CHECK(op.state == PGD_AOP_NEW);
    }
    CHECK(op.retries == 3);
    CHECK(pgd_opq_fate(&op, 1) == PGD_FATE_FAIL);
    /* on a connection a caller holds: its session is gone, so is the op */
    pgd_aop_init(&op, PGD_OPK_BATCH);
    CHECK(pgd_opq_fate(&op, 0) == PGD_FATE_FAIL);
    CHECK(op.retries == 0);
    /* nobody wants the outcome: dropped, never moved */
    pgd_aop_init(&op, PGD_OPK_QUERY);
    op.abandoned = 1;
    CHECK(pgd_opq_fate(&op, 1) == PGD_FATE_DROP && op.state == PGD_AOP_DONE);
    pgd_aop_init(&op, PGD_OPK_SIMPLE);
    op.internal = 1;
    CHECK(pgd_opq_fate(&op, 1) == PGD_FATE_DROP);
    CHECK(pgd_opq_fate(&op, 0) == PGD_FATE_DROP);
}

/* op becomes q's current operation, started in transaction state tx */
static void run_one(pgd_opq *q, pgd_aop *op, pgd_opkind kind, pgd_txstate tx)
{
    pgd_aop *dropped;
    pgd_opq_init(q);
    pgd_aop_init(op, kind);
    pgd_opq_push(q, op);
    pgd_aop *got = pgd_opq_start_next(q, tx, &dropped);
    CHECK(got == op);
}

static void test_stop(void)
{
    pgd_opq q;
    pgd_aop op, other;

    /* not running on this queue: only the outcome is dropped */
    run_one(&q, &op, PGD_OPK_QUERY, PGD_TX_IDLE);
    pgd_aop_init(&other, PGD_OPK_QUERY);
    pgd_opq_push(&q, &other);
    CHECK(pgd_opq_stop(&q, &other, 1, 0, 1) == PGD_STOP_DROP);
    CHECK(other.abandoned && !op.abandoned);
    /* the connection is not usable: nothing to ask of it */
    CHECK(pgd_opq_stop(&q, &op, 0, 0, 1) == PGD_STOP_DROP && op.abandoned);

    /* a COPY IN step ends by itself; a COPY start or read is cancelled
     * like a query */
    run_one(&q, &op, PGD_OPK_COPY_STEP, PGD_TX_IDLE);
    CHECK(pgd_opq_stop(&q, &op, 1, 1, 1) == PGD_STOP_DROP && op.abandoned);
    run_one(&q, &op, PGD_OPK_COPY, PGD_TX_IDLE);
    CHECK(pgd_opq_stop(&q, &op, 1, 1, 1) == PGD_STOP_DISCONNECT && op.abandoned);
    run_one(&q, &op, PGD_OPK_COPY, PGD_TX_INTRANS);
    CHECK(pgd_opq_stop(&q, &op, 1, 0, 0) == PGD_STOP_CANCEL_ABORT_TX && !op.abandoned);

    /* unsent output outside a transaction block: close, abandoned at once */
    run_one(&q, &op, PGD_OPK_BATCH, PGD_TX_IDLE);
    CHECK(pgd_opq_stop(&q, &op, 1, 1, 1) == PGD_STOP_DISCONNECT && op.abandoned);
    CHECK(pgd_opq_deadline(&q, &op, PGD_STOP_DISCONNECT) == 0);

    /* all sent, a caller that waits: it stays current, not abandoned, and
     * gets the short grace */
    run_one(&q, &op, PGD_OPK_PIPELINE, PGD_TX_IDLE);
    pgd_stop plan = pgd_opq_stop(&q, &op, 1, 0, 1);
    CHECK(plan == PGD_STOP_CANCEL_WAIT && !op.abandoned);
    CHECK(pgd_opq_stop_sent(&q, &op, plan, 1) == PGD_STOP_CANCEL_WAIT && !op.abandoned);
    CHECK(pgd_opq_deadline(&q, &op, PGD_STOP_CANCEL_WAIT) ==
          pgd_stop_grace(PGD_STOP_CANCEL_WAIT));
    CHECK(pgd_opq_overdue(&q, &op));
    /* ... and it waits even when the cancel request could not be sent */
    CHECK(pgd_opq_stop_sent(&q, &op, plan, 0) == PGD_STOP_CANCEL_WAIT && !op.abandoned);
    /* the outcome came: no deadline, not overdue */
    CHECK(pgd_opq_take_current(&q) == &op);
    CHECK(pgd_opq_deadline(&q, &op, PGD_STOP_CANCEL_WAIT) == 0);
    CHECK(!pgd_opq_overdue(&q, &op));
    CHECK(!pgd_opq_overdue(&q, NULL));

    /* a caller that gives up at once: abandoned, the long grace */
    run_one(&q, &op, PGD_OPK_QUERY, PGD_TX_IDLE);
    plan = pgd_opq_stop(&q, &op, 1, 0, 0);
    CHECK(plan == PGD_STOP_CANCEL);
    CHECK(pgd_opq_stop_sent(&q, &op, plan, 1) == PGD_STOP_CANCEL && op.abandoned);
    CHECK(!op.abort_tx);
    CHECK(pgd_opq_deadline(&q, &op, PGD_STOP_CANCEL) == pgd_stop_grace(PGD_STOP_CANCEL));
    CHECK(pgd_opq_overdue(&q, &op));
    /* no cancel request reached the server: the statement's fate is
     * unknown, the connection is closed */
    run_one(&q, &op, PGD_OPK_SIMPLE, PGD_TX_IDLE);
    plan = pgd_opq_stop(&q, &op, 1, 1, 0);
    CHECK(plan == PGD_STOP_CANCEL);
    CHECK(pgd_opq_stop_sent(&q, &op, plan, 0) == PGD_STOP_DISCONNECT && op.abandoned);

    /* inside a transaction block: marked so that the block is failed if
     * it is still healthy at the end */
    run_one(&q, &op, PGD_OPK_QUERY, PGD_TX_INTRANS);
    plan = pgd_opq_stop(&q, &op, 1, 1, 1);
    CHECK(plan == PGD_STOP_CANCEL_ABORT_TX && !op.abandoned && !op.abort_tx);
    CHECK(pgd_opq_stop_sent(&q, &op, plan, 1) == PGD_STOP_CANCEL_ABORT_TX);
    CHECK(op.abandoned && op.abort_tx);
    CHECK(pgd_opq_take_current(&q) == &op);
    CHECK(pgd_aop_finished(&op, PGD_OK, 1, PGD_TX_INTRANS) == PGD_AFTER_ABORT_TX);
}

/* ---- over a real connection ------------------------------------------------- */

#define SLEEP "SELECT pg_sleep($1::int4)"

/* Wait (seen from the connection `watch`) until backend `pid` is in
 * pg_stat_activity state `state`; 0 after 30 s. */
static int wait_state(pgd_conn *watch, const char *pid, const char *state)
{
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM pg_stat_activity WHERE pid = %s AND state = '%s'",
             pid ? pid : "0", state);
    for (int i = 0; i < 3000; i++) {
        char *got = t_scalar(watch, sql);
        int there = got && strcmp(got, "1") == 0;
        free(got);
        if (there)
            return 1;
        usleep(10000);
    }
    return 0;
}

/* Start op (q's next) on c with sql; returns the send's status.  The
 * statement is expected in the connection's cache (run once before): then
 * Bind, Execute and Sync go in one exchange, and the statement runs as
 * soon as they are sent. */
static int start(pgd_conn *c, pgd_opq *q, pgd_aop *want, const char *sql, size_t n,
                 const pgd_value *params)
{
    pgd_aop *dropped;
    pgd_aop *op = pgd_opq_start_next(q, pgd_conn_txstate(c), &dropped);
    CHECK(op == want && dropped == NULL);
    return pgd_conn_send_query(c, sql, n, params);
}

/* Send what is queued of the current op (status st); returns the status. */
static int flush(pgd_conn *c, int st)
{
    while (st & PGD_WANT_WRITE) {
        CHECK(t_wait(pgd_conn_socket(c), st, 30000) == 0);
        st = pgd_conn_io(c);
    }
    return st;
}

/* Run the current op to its end and let the queue judge it; *sqlstate gets
 * the error's SQLSTATE ("" when none). */
static pgd_after finish(pgd_conn *c, pgd_opq *q, int status, char sqlstate[6])
{
    status = t_run(c, status);
    CHECK(status == PGD_OK || status == PGD_ERROR);
    strcpy(sqlstate, status == PGD_ERROR ? pgd_conn_error(c)->sqlstate : "");
    pgd_result *r;
    while ((r = pgd_conn_take_result(c)) != NULL)
        pgd_result_free(r);
    pgd_aop *op = pgd_opq_take_current(q);
    int alive = pgd_conn_is_ok(c);
    return pgd_aop_finished(op, status, alive, alive ? pgd_conn_txstate(c) : PGD_TX_UNKNOWN);
}

/* A statement stopped inside a transaction block that completed anyway
 * (the server had finished before the cancel request came, and ignored
 * it): the queue fails the transaction before the next statement runs,
 * so what follows cannot commit it. */
static void test_abort_tx_live(void)
{
    pgd_conn *c = t_connect();
    pgd_opq q;
    pgd_aop stmt, abort_op, next;
    char state[6];

    pgd_opq_init(&q);
    CHECK(t_simple(c, "CREATE TEMP TABLE opq_t (v int)") == PGD_OK);
    pgd_aop_init(&stmt, PGD_OPK_QUERY);
    pgd_aop_init(&next, PGD_OPK_QUERY);
    pgd_opq_push(&q, &stmt);
    pgd_opq_push(&q, &next);

    char *pid = t_scalar(c, "SELECT pg_backend_pid()");
    pgd_conn *watch = t_connect();
    CHECK(t_query(c, "INSERT INTO opq_t VALUES (0)", 0, NULL) == PGD_OK); /* cached */
    CHECK(t_simple(c, "TRUNCATE opq_t") == PGD_OK);
    CHECK(t_simple(c, "BEGIN") == PGD_OK);
    int st = start(c, &q, &stmt, "INSERT INTO opq_t VALUES (0)", 0, NULL);
    CHECK(stmt.tx_at_start == PGD_TX_INTRANS);
    /* all sent; the answer is not read yet, but the server is done with
     * it: back to waiting for the next message, where a cancel request
     * is ignored */
    st = flush(c, st);
    CHECK(wait_state(watch, pid, "idle in transaction"));
    free(pid);
    pgd_conn_free(watch);

    pgd_stop plan = pgd_opq_stop(&q, &stmt, 1, 0, 0);
    CHECK(plan == PGD_STOP_CANCEL_ABORT_TX);
    int sent = pgd_conn_cancel(c) == PGD_OK;
    CHECK(sent);
    CHECK(pgd_opq_stop_sent(&q, &stmt, plan, sent) == PGD_STOP_CANCEL_ABORT_TX);
    CHECK(pgd_opq_deadline(&q, &stmt, PGD_STOP_CANCEL_ABORT_TX) > 0);

    /* the insert completed: the block is healthy, so it must be failed */
    pgd_after after = finish(c, &q, st, state);
    CHECK_MSG(after == PGD_AFTER_ABORT_TX, "after %d (sqlstate '%s')", (int)after, state);
    CHECK(!pgd_opq_overdue(&q, &stmt));

    pgd_aop_init(&abort_op, PGD_OPK_SIMPLE);
    abort_op.internal = abort_op.expect_error = 1;
    pgd_opq_push_front(&q, &abort_op);
    pgd_aop *dropped;
    CHECK(pgd_opq_start_next(&q, pgd_conn_txstate(c), &dropped) == &abort_op);
    st = pgd_conn_send_simple(c, pgd_tx_abort_sql());
    after = finish(c, &q, st, state);
    CHECK_STREQ(state, "57014"); /* query_canceled, as the cancel would have */
    CHECK(after == PGD_AFTER_NEXT);
    CHECK(pgd_conn_txstate(c) == PGD_TX_INERROR);

    /* the statement queued behind runs only now, in the failed block */
    st = start(c, &q, &next, "SELECT 1", 0, NULL);
    after = finish(c, &q, st, state);
    CHECK_STREQ(state, "25P02");
    CHECK(after == PGD_AFTER_NEXT && next.took_no_effect);
    CHECK(pgd_opq_idle(&q));

    /* ... and a COMMIT cannot keep the insert */
    CHECK(t_simple(c, "COMMIT") == PGD_OK);
    CHECK_SCALAR(c, "SELECT count(*) FROM opq_t", "0");
    pgd_conn_free(c);
}

/* A statement stopped inside a transaction block that the cancel reached:
 * the block failed by itself, nothing more to do. */
static void test_cancel_in_tx_live(void)
{
    pgd_conn *c = t_connect();
    pgd_opq q;
    pgd_aop stmt;
    char state[6];

    char *pid = t_scalar(c, "SELECT pg_backend_pid()");
    pgd_value secs = t_int(0);
    CHECK(t_query(c, SLEEP, 1, &secs) == PGD_OK); /* cached */
    CHECK(t_simple(c, "BEGIN") == PGD_OK);
    pgd_opq_init(&q);
    pgd_aop_init(&stmt, PGD_OPK_QUERY);
    pgd_opq_push(&q, &stmt);
    secs = t_int(30);
    int st = flush(c, start(c, &q, &stmt, SLEEP, 1, &secs));
    /* wait until the server runs it */
    pgd_conn *watch = t_connect();
    CHECK(wait_state(watch, pid, "active"));
    pgd_stop plan = pgd_opq_stop(&q, &stmt, 1, 0, 0);
    CHECK(plan == PGD_STOP_CANCEL_ABORT_TX);
    plan = pgd_opq_stop_sent(&q, &stmt, plan, pgd_conn_cancel(c) == PGD_OK);
    CHECK(plan == PGD_STOP_CANCEL_ABORT_TX && stmt.abandoned);
    pgd_after after = finish(c, &q, st, state);
    CHECK_STREQ(state, "57014");
    CHECK_MSG(after == PGD_AFTER_NEXT && stmt.took_no_effect, "after %d, took_no_effect %d",
              (int)after, stmt.took_no_effect);
    CHECK_MSG(pgd_conn_txstate(c) == PGD_TX_INERROR, "tx %d", (int)pgd_conn_txstate(c));
    CHECK(t_simple(c, "ROLLBACK") == PGD_OK);
    free(pid);
    pgd_conn_free(watch);
    pgd_conn_free(c);
}

/* The server ends the session while a statement runs and others wait: the
 * running one fails with the connection; the waiting ones never started
 * and move to another connection (or are dropped when nobody wants them). */
static void test_lost_live(void)
{
    pgd_conn *c = t_connect();
    pgd_conn *killer = t_connect();
    pgd_opq q;
    pgd_aop stmt, waiting, gone, internal;
    char state[6];

    pgd_opq_init(&q);
    pgd_aop_init(&stmt, PGD_OPK_QUERY);
    pgd_aop_init(&waiting, PGD_OPK_QUERY);
    pgd_aop_init(&gone, PGD_OPK_QUERY);
    pgd_aop_init(&internal, PGD_OPK_SIMPLE);
    internal.internal = 1;
    pgd_opq_push(&q, &stmt);
    pgd_opq_push(&q, &waiting);
    pgd_opq_push(&q, &gone);
    pgd_opq_push(&q, &internal);
    gone.abandoned = 1;

    char *pid = t_scalar(c, "SELECT pg_backend_pid()");
    CHECK(pid != NULL);
    pgd_value secs = t_int(0);
    CHECK(t_query(c, SLEEP, 1, &secs) == PGD_OK); /* cached */
    secs = t_int(30);
    int st = flush(c, start(c, &q, &stmt, SLEEP, 1, &secs));
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%s)", pid ? pid : "0");
    CHECK_SCALAR(killer, sql, "True");
    free(pid);

    pgd_after after = finish(c, &q, st, state);
    CHECK(after == PGD_AFTER_LOST);
    CHECK(!stmt.took_no_effect);
    CHECK(pgd_opq_pop(&q) == &waiting);
    CHECK(pgd_opq_fate(&waiting, 1) == PGD_FATE_RETRY);
    CHECK(pgd_opq_pop(&q) == &gone);
    CHECK(pgd_opq_fate(&gone, 1) == PGD_FATE_DROP);
    CHECK(pgd_opq_pop(&q) == &internal);
    CHECK(pgd_opq_fate(&internal, 1) == PGD_FATE_DROP);
    CHECK(pgd_opq_idle(&q));
    pgd_conn_free(killer);
    pgd_conn_free(c);
}

/* ---- automatic pipelining ------------------------------------------------- */

static int ready_flag(void *arg, pgd_aop *op)
{
    (void)arg;
    return op->retries == 0; /* the tests mark "not prepared" with retries = 1 */
}

/* Which waiting operations start together as one burst. */
static void test_burst_policy(void)
{
    pgd_opq q;
    pgd_aop a, b, c, d, e, f, *ops[PGD_BURST_MAX], *dropped;

    pgd_opq_init(&q);
    pgd_aop_init(&a, PGD_OPK_QUERY);
    pgd_aop_init(&b, PGD_OPK_QUERY);
    pgd_aop_init(&c, PGD_OPK_QUERY);
    pgd_aop_init(&d, PGD_OPK_QUERY);
    pgd_aop_init(&e, PGD_OPK_QUERY);
    pgd_aop_init(&f, PGD_OPK_BATCH);
    c.timed = 1; /* a timeout of its own: it runs alone */
    pgd_opq_push(&q, &a);
    pgd_opq_push(&q, &b);
    pgd_opq_push(&q, &c);
    pgd_opq_push(&q, &d);
    pgd_opq_push(&q, &e);
    pgd_opq_push(&q, &f);

    /* not on a lent connection / with pipelining off, not in a transaction */
    CHECK(pgd_opq_start_burst(&q, PGD_TX_IDLE, 0, ready_flag, NULL, ops, PGD_BURST_MAX) == 0);
    CHECK(pgd_opq_start_burst(&q, PGD_TX_INTRANS, 1, ready_flag, NULL, ops, PGD_BURST_MAX) == 0);
    CHECK(pgd_opq_start_burst(&q, PGD_TX_IDLE, 1, ready_flag, NULL, ops, 1) == 0);
    CHECK(a.state == PGD_AOP_QUEUED && q.cur == NULL);

    /* a and b go together; the run ends at c (timed) */
    CHECK(pgd_opq_start_burst(&q, PGD_TX_IDLE, 1, ready_flag, NULL, ops, PGD_BURST_MAX) == 2);
    CHECK(ops[0] == &a && ops[1] == &b && q.cur == &a && q.nrun == 2);
    CHECK(a.state == PGD_AOP_RUNNING && b.state == PGD_AOP_RUNNING && a.run_next == &b);
    CHECK(q.head == &c);
    /* nothing else starts while the burst runs */
    CHECK(pgd_opq_start_burst(&q, PGD_TX_IDLE, 1, ready_flag, NULL, ops, PGD_BURST_MAX) == 0);
    CHECK(pgd_opq_start_next(&q, PGD_TX_IDLE, &dropped) == NULL);
    /* a member that gives up is only dropped: a cancel request could stop
     * another caller's statement */
    CHECK(pgd_opq_stop(&q, &b, 1, 0, 0) == PGD_STOP_DROP && b.abandoned);
    CHECK(pgd_opq_stop(&q, &a, 1, 0, 0) == PGD_STOP_DROP && a.abandoned);
    CHECK(pgd_opq_deadline(&q, &a, PGD_STOP_DROP) == 0);
    /* taken back in order */
    CHECK(pgd_opq_take_current(&q) == &a && q.cur == &b && q.nrun == 1);
    CHECK(pgd_opq_take_current(&q) == &b && q.cur == NULL && q.nrun == 0);
    CHECK(a.state == PGD_AOP_DONE && b.state == PGD_AOP_DONE && a.run_next == NULL);
    CHECK(pgd_opq_take_current(&q) == NULL);

    /* c (timed) runs alone, and a stop of it is a real one */
    CHECK(pgd_opq_start_burst(&q, PGD_TX_IDLE, 1, ready_flag, NULL, ops, PGD_BURST_MAX) == 0);
    CHECK(pgd_opq_start_next(&q, PGD_TX_IDLE, &dropped) == &c && q.nrun == 1);
    CHECK(pgd_opq_stop(&q, &c, 1, 0, 0) == PGD_STOP_CANCEL);
    CHECK(pgd_opq_take_current(&q) == &c);

    /* d is ready but e is not prepared yet: one alone is no burst */
    e.retries = 1;
    CHECK(pgd_opq_start_burst(&q, PGD_TX_IDLE, 1, ready_flag, NULL, ops, PGD_BURST_MAX) == 0);
    CHECK(pgd_opq_start_next(&q, PGD_TX_IDLE, &dropped) == &d);
    CHECK(pgd_opq_take_current(&q) == &d);
    CHECK(pgd_opq_start_next(&q, PGD_TX_IDLE, &dropped) == &e);
    CHECK(pgd_opq_take_current(&q) == &e);
    /* a batch never joins one */
    CHECK(pgd_opq_start_burst(&q, PGD_TX_IDLE, 1, ready_flag, NULL, ops, PGD_BURST_MAX) == 0);
    CHECK(pgd_opq_pop(&q) == &f && pgd_opq_idle(&q));

    /* internal and abandoned operations end a run; max bounds it */
    pgd_aop_init(&a, PGD_OPK_QUERY);
    pgd_aop_init(&b, PGD_OPK_QUERY);
    pgd_aop_init(&c, PGD_OPK_QUERY);
    pgd_aop_init(&d, PGD_OPK_SIMPLE);
    d.internal = 1;
    pgd_opq_push(&q, &a);
    pgd_opq_push(&q, &b);
    pgd_opq_push(&q, &c);
    pgd_opq_push(&q, &d);
    CHECK(pgd_opq_start_burst(&q, PGD_TX_IDLE, 1, ready_flag, NULL, ops, 2) == 2);
    CHECK(pgd_opq_take_current(&q) == &a && pgd_opq_take_current(&q) == &b);
    CHECK(pgd_opq_start_burst(&q, PGD_TX_IDLE, 1, ready_flag, NULL, ops, PGD_BURST_MAX) == 0);
    CHECK(pgd_opq_start_next(&q, PGD_TX_IDLE, &dropped) == &c);
    CHECK(pgd_opq_take_current(&q) == &c);
    CHECK(pgd_opq_pop(&q) == &d && pgd_opq_idle(&q));
}

/* Bursts over a real connection: which statements may join one, results
 * in order, an error that fails only its own statement, a bad parameter
 * that fails only its own, and the connection idle and usable after. */
static void test_burst_live(void)
{
    pgd_conn *c = t_connect();
    const char *ok_sql = "SELECT $1::int4 * 2";
    const char *div_sql = "SELECT 10 / $1::int4";
    pgd_value v[4] = {t_int(1), t_int(0), t_int(3), t_int(5)};
    const char *sqls[4];
    size_t np[4];
    const pgd_value *pv[4];
    pgd_result *r;
    char *cell;

    /* not run here yet: not prepared, so not pipelined */
    CHECK(!pgd_conn_may_pipeline(c, ok_sql, 1, &v[0]));
    CHECK(t_query(c, ok_sql, 1, &v[0]) == PGD_OK);
    CHECK(pgd_conn_may_pipeline(c, ok_sql, 1, &v[0]));
    CHECK(t_query(c, div_sql, 1, &v[0]) == PGD_OK);
    CHECK(pgd_conn_may_pipeline(c, div_sql, 1, &v[0]));
    /* BEGIN left a transaction block open: never pipelined; and nothing is
     * inside a transaction block */
    CHECK(t_query(c, "BEGIN", 0, NULL) == PGD_OK);
    CHECK(!pgd_conn_may_pipeline(c, ok_sql, 1, &v[0]));
    CHECK(t_query(c, "ROLLBACK", 0, NULL) == PGD_OK);
    CHECK(!pgd_conn_may_pipeline(c, "BEGIN", 0, NULL));
    CHECK(pgd_conn_may_pipeline(c, ok_sql, 1, &v[0]));

    /* ok(1), 10/0, ok(3), 10/5 */
    sqls[0] = ok_sql, sqls[1] = div_sql, sqls[2] = ok_sql, sqls[3] = div_sql;
    for (int i = 0; i < 4; i++) {
        np[i] = 1;
        pv[i] = &v[i];
    }
    CHECK(t_run(c, pgd_conn_send_burst(c, 4, sqls, np, pv)) == PGD_OK);
    r = pgd_conn_burst_take(c, 0);
    CHECK(r != NULL);
    cell = r ? t_cell(r, 0, 0) : NULL;
    CHECK_STREQ(cell, "2");
    free(cell);
    pgd_result_free(r);
    CHECK(pgd_conn_burst_take(c, 1) == NULL);
    CHECK_STREQ(pgd_conn_error(c)->sqlstate, "22012");
    r = pgd_conn_burst_take(c, 2);
    cell = r ? t_cell(r, 0, 0) : NULL;
    CHECK_STREQ(cell, "6");
    free(cell);
    pgd_result_free(r);
    r = pgd_conn_burst_take(c, 3);
    cell = r ? t_cell(r, 0, 0) : NULL;
    CHECK_STREQ(cell, "2");
    free(cell);
    pgd_result_free(r);
    CHECK(pgd_conn_burst_take(c, 4) == NULL); /* out of range */
    CHECK(pgd_conn_is_ok(c) && pgd_conn_txstate(c) == PGD_TX_IDLE);

    /* a statement given the wrong number of parameters fails alone */
    np[1] = 0;
    pv[1] = NULL;
    sqls[1] = ok_sql;
    CHECK(t_run(c, pgd_conn_send_burst(c, 2, sqls, np, pv)) == PGD_OK);
    r = pgd_conn_burst_take(c, 0);
    CHECK(r != NULL);
    pgd_result_free(r);
    CHECK(pgd_conn_burst_take(c, 1) == NULL);
    CHECK(pgd_conn_error(c)->kind == PGD_E_USAGE);
    CHECK_SCALAR(c, "SELECT 40 + 2", "42");
    pgd_conn_free(c);
}

int main(void)
{
    test_fifo();
    test_finished();
    test_fate();
    test_stop();
    test_abort_tx_live();
    test_cancel_in_tx_live();
    test_lost_live();
    test_burst_policy();
    test_burst_live();
    return t_done("test_opqueue");
}
