/*
 * async.c - the policy for stopping a running operation early: what the
 * event-loop adapter does when the task awaiting an operation is cancelled
 * or its timeout expires.  No I/O here; the adapter (pyext/src/rawconn.c)
 * carries the plan out.
 *
 * The difficulty is PostgreSQL's: a cancel request that reaches the server
 * while the backend waits for the next message is ignored, so an operation
 * whose messages are still being sent goes on, and the final Sync of a
 * batch or pipeline commits its implicit transaction.
 *  - Begun outside a transaction block (extended protocol) with output
 *    still unsent: the Sync is among the unsent bytes; closing the
 *    connection without sending more makes the server roll back.
 *  - A batch or pipeline begun outside a transaction block, all sent, whose
 *    caller can wait: cancel and wait for the outcome, which says whether
 *    the cancel took effect (the caller may then report "nothing
 *    committed") or came too late (the result stands).
 *  - Begun inside a transaction block: cancel, give up at once, and fail
 *    the transaction if the statement ends with it still healthy, so that
 *    it cannot be committed; closing the connection would end the caller's
 *    transaction behind its back.
 *  - Anything else: cancel and give up at once.
 * A cancel request that cannot be sent leaves a statement of unknown fate
 * running: the connection is closed rather than reused, unless the caller
 * waits for the outcome anyway.
 */
#include "internal.h"

/* How long the server gets to act on a cancel request before the adapter
 * closes the connection.  A caller that waits for the outcome (a timed-out
 * batch) must not wait much past its own timeout. */
#define PGD_STOP_GRACE_WAIT 0.25
#define PGD_STOP_GRACE 1.0

pgd_stop pgd_stop_plan(pgd_opkind kind, pgd_txstate tx_at_start, int output_unsent,
                       int can_wait)
{
    int extended = kind == PGD_OPK_QUERY || kind == PGD_OPK_BATCH ||
                   kind == PGD_OPK_PIPELINE || kind == PGD_OPK_COPY;
    int outside = tx_at_start == PGD_TX_IDLE;

    if (extended && outside && output_unsent)
        return PGD_STOP_DISCONNECT;
    if (can_wait && outside && (kind == PGD_OPK_BATCH || kind == PGD_OPK_PIPELINE))
        return PGD_STOP_CANCEL_WAIT;
    if (extended && !outside)
        return PGD_STOP_CANCEL_ABORT_TX;
    return PGD_STOP_CANCEL;
}

pgd_stop pgd_stop_cancel_failed(pgd_stop plan)
{
    return plan == PGD_STOP_CANCEL_WAIT ? PGD_STOP_CANCEL_WAIT : PGD_STOP_DISCONNECT;
}

int pgd_connect_deadline(const pgd_conn *c)
{
    int secs = pgd_conn_connect_timeout(c);

    if (secs < 0)
        return PGD_CONNECT_TIMEOUT;
    if (secs == 0)
        return 0;
    return secs < 2 ? 2 : secs;
}

double pgd_stop_grace(pgd_stop plan)
{
    return plan == PGD_STOP_CANCEL_WAIT ? PGD_STOP_GRACE_WAIT : PGD_STOP_GRACE;
}
