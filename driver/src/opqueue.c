/*
 * opqueue.c - the operation queue of one connection: which operation runs,
 * what its end means for the connection, what becomes of the others when
 * the connection is lost, and how a running one is stopped early.
 *
 * The event-loop adapter (pyext/src/rawconn.c) does the I/O and delivers
 * outcomes; every decision it needs about its operations is taken here, on
 * plain structures, so that the rules are tested from C
 * (tests/c/driver/test_opqueue.c).  The stop plan itself is async.c's.
 *
 * The rules:
 *  - FIFO: an operation starts when the one before it has ended; one that
 *    was abandoned while it waited never starts.
 *  - An operation that ends with the connection broken loses the
 *    connection; so does an internal step that fails (a recycling check,
 *    a rollback), or one whose purpose is to fail a transaction and that
 *    left it healthy.
 *  - An operation stopped inside a transaction block that ends with the
 *    transaction still healthy (it completed anyway, or never reached its
 *    Execute) makes the queue fail the transaction before anything queued
 *    behind it runs: what its caller was told was cancelled cannot be
 *    committed.
 *  - When the connection is lost, the running operation fails with it;
 *    waiting ones that never started move to another connection (a few
 *    times at most) unless their connection was lent to a caller, whose
 *    session it is.
 *  - Automatic pipelining: single statements of the pool's callers that
 *    wait on a connection outside a transaction block, already prepared
 *    and without a timeout of their own, start together as one burst
 *    (pgd_opq_start_burst); a member whose caller gives up is only
 *    abandoned (its outcome dropped), never cancelled on the server,
 *    since a cancel request stops whatever statement runs at that moment.
 */
#include <stddef.h>

#include "internal.h"

/* Raises query_canceled; any error aborts the transaction block, so even
 * without PL/pgSQL (DO then fails to find the language) the effect is the
 * same. */
#define TX_ABORT_SQL                                                         \
    "DO $psqlpy$BEGIN RAISE query_canceled USING MESSAGE = "                 \
    "'canceling statement due to user request'; END$psqlpy$"

void pgd_aop_init(pgd_aop *op, pgd_opkind kind)
{
    op->next = NULL;
    op->kind = kind;
    op->state = PGD_AOP_NEW;
    op->tx_at_start = PGD_TX_UNKNOWN;
    op->internal = op->expect_error = op->abandoned = 0;
    op->abort_tx = op->took_no_effect = op->retries = 0;
    op->timed = 0;
    op->run_next = NULL;
}

void pgd_opq_init(pgd_opq *q)
{
    q->cur = q->head = q->tail = NULL;
    q->nrun = 0;
}

int pgd_opq_idle(const pgd_opq *q)
{
    return q->cur == NULL && q->head == NULL;
}

void pgd_opq_push(pgd_opq *q, pgd_aop *op)
{
    op->state = PGD_AOP_QUEUED;
    op->next = NULL;
    if (q->tail)
        q->tail->next = op;
    else
        q->head = op;
    q->tail = op;
}

void pgd_opq_push_front(pgd_opq *q, pgd_aop *op)
{
    op->state = PGD_AOP_QUEUED;
    op->next = q->head;
    q->head = op;
    if (q->tail == NULL)
        q->tail = op;
}

int pgd_opq_remove(pgd_opq *q, pgd_aop *op)
{
    pgd_aop *prev = NULL, *o;

    for (o = q->head; o != NULL; prev = o, o = o->next) {
        if (o != op)
            continue;
        if (prev)
            prev->next = o->next;
        else
            q->head = o->next;
        if (q->tail == o)
            q->tail = prev;
        o->next = NULL;
        o->state = PGD_AOP_NEW;
        return 1;
    }
    return 0;
}

pgd_aop *pgd_opq_pop(pgd_opq *q)
{
    pgd_aop *op = q->head;

    if (op != NULL) {
        q->head = op->next;
        if (q->head == NULL)
            q->tail = NULL;
        op->next = NULL;
        op->state = PGD_AOP_NEW;
    }
    return op;
}

pgd_aop *pgd_opq_start_next(pgd_opq *q, pgd_txstate tx, pgd_aop **dropped)
{
    pgd_aop *op;

    *dropped = NULL;
    if (q->cur != NULL || (op = pgd_opq_pop(q)) == NULL)
        return NULL;
    if (op->abandoned) {
        op->state = PGD_AOP_DONE;
        *dropped = op;
        return NULL;
    }
    op->state = PGD_AOP_RUNNING;
    op->tx_at_start = tx;
    op->run_next = NULL;
    q->cur = op;
    q->nrun = 1;
    return op;
}

static int burst_member(const pgd_aop *op, pgd_aop_ready_fn ready, void *arg)
{
    return op->kind == PGD_OPK_QUERY && !op->internal && !op->abandoned && !op->timed &&
           ready(arg, (pgd_aop *)op);
}

size_t pgd_opq_start_burst(pgd_opq *q, pgd_txstate tx, int may_pipeline, pgd_aop_ready_fn ready,
                           void *arg, pgd_aop **ops, size_t max)
{
    pgd_aop *o;
    size_t n = 0, i;

    if (q->cur != NULL || !may_pipeline || tx != PGD_TX_IDLE || max < 2)
        return 0;
    for (o = q->head; o != NULL && n < max && burst_member(o, ready, arg); o = o->next)
        n++;
    if (n < 2)
        return 0;
    for (i = 0; i < n; i++) {
        ops[i] = pgd_opq_pop(q);
        ops[i]->state = PGD_AOP_RUNNING;
        ops[i]->tx_at_start = tx;
        ops[i]->run_next = NULL;
        if (i > 0)
            ops[i - 1]->run_next = ops[i];
    }
    q->cur = ops[0];
    q->nrun = n;
    return n;
}

pgd_after pgd_aop_finished(pgd_aop *op, int status, int alive, pgd_txstate tx)
{
    int check_failed;

    op->state = PGD_AOP_DONE;
    if (!alive)
        tx = PGD_TX_UNKNOWN;
    else if (status != PGD_OK)
        op->took_no_effect = 1;
    /* an internal step that exists to fail must leave the transaction failed */
    check_failed = op->internal && (op->expect_error ? tx != PGD_TX_INERROR : status != PGD_OK);
    if (check_failed)
        return PGD_AFTER_CHECK_FAILED;
    if (!alive)
        return PGD_AFTER_LOST;
    /* still in a healthy transaction after a stopped statement: whether it
     * completed or was stopped before its Bind/Execute, fail the transaction */
    if (op->abort_tx && tx == PGD_TX_INTRANS)
        return PGD_AFTER_ABORT_TX;
    return PGD_AFTER_NEXT;
}

const char *pgd_tx_abort_sql(void)
{
    return TX_ABORT_SQL;
}

pgd_aop *pgd_opq_take_current(pgd_opq *q)
{
    pgd_aop *op = q->cur;

    if (op == NULL)
        return NULL;
    q->cur = op->run_next;
    q->nrun = q->cur ? q->nrun - 1 : 0;
    op->run_next = NULL;
    op->state = PGD_AOP_DONE;
    return op;
}

pgd_fate pgd_opq_fate(pgd_aop *op, int may_move)
{
    if (op->internal || op->abandoned) {
        op->state = PGD_AOP_DONE;
        return PGD_FATE_DROP;
    }
    if (may_move && op->retries < PGD_AOP_MAX_RETRIES) {
        op->retries++;
        op->state = PGD_AOP_NEW;
        return PGD_FATE_RETRY;
    }
    return PGD_FATE_FAIL;
}

pgd_stop pgd_opq_stop(pgd_opq *q, pgd_aop *op, int usable, int output_unsent, int can_wait)
{
    pgd_stop plan;

    if (q->cur != op || !usable || op->kind == PGD_OPK_COPY_STEP || q->nrun > 1) {
        /* not running here (any more), or a COPY IN step, which ends by
         * itself: the caller then aborts the COPY; or a member of a burst,
         * where a cancel request could stop another caller's statement */
        op->abandoned = 1;
        return PGD_STOP_DROP;
    }
    plan = pgd_stop_plan(op->kind, op->tx_at_start, output_unsent, can_wait);
    if (plan == PGD_STOP_DISCONNECT)
        op->abandoned = 1;
    return plan;
}

pgd_stop pgd_opq_stop_sent(pgd_opq *q, pgd_aop *op, pgd_stop plan, int sent)
{
    (void)q;
    if (!sent)
        plan = pgd_stop_cancel_failed(plan);
    if (plan == PGD_STOP_CANCEL_WAIT)
        return plan; /* the outcome (57014, or complete) is the truth: wait for it */
    if (plan == PGD_STOP_CANCEL_ABORT_TX)
        op->abort_tx = 1;
    op->abandoned = 1;
    return plan;
}

double pgd_opq_deadline(const pgd_opq *q, const pgd_aop *op, pgd_stop plan)
{
    if (plan == PGD_STOP_DISCONNECT || q->cur != op || q->nrun > 1)
        return 0; /* over, closed, or a burst member (nothing was asked of the server) */
    return pgd_stop_grace(plan);
}

int pgd_opq_overdue(const pgd_opq *q, const pgd_aop *op)
{
    return op != NULL && q->cur == op;
}
