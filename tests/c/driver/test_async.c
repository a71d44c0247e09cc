/*
 * test_async.c - the policy for stopping a running operation early
 * (driver/src/async.c): every kind of operation, every transaction state it
 * can start in, output unsent or not, a caller that can wait or not.  The
 * expected plans are written out, not derived, so a changed rule shows up
 * here.  Also the per-host connect deadline.  No server needed.
 */
#include "tutil.h"

#define Q PGD_OPK_QUERY
#define S PGD_OPK_SIMPLE
#define B PGD_OPK_BATCH
#define P PGD_OPK_PIPELINE
#define DISC PGD_STOP_DISCONNECT
#define WAIT PGD_STOP_CANCEL_WAIT
#define CANC PGD_STOP_CANCEL
#define ABRT PGD_STOP_CANCEL_ABORT_TX

struct row {
    pgd_opkind kind;
    pgd_txstate tx;
    int unsent, can_wait;
    pgd_stop want;
};

static const struct row rows[] = {
    /* outside a transaction block, output unsent: the Sync is never sent */
    {Q, PGD_TX_IDLE, 1, 0, DISC}, {Q, PGD_TX_IDLE, 1, 1, DISC},
    {B, PGD_TX_IDLE, 1, 0, DISC}, {B, PGD_TX_IDLE, 1, 1, DISC},
    {P, PGD_TX_IDLE, 1, 0, DISC}, {P, PGD_TX_IDLE, 1, 1, DISC},
    /* a simple-protocol command has no Sync to hold back */
    {S, PGD_TX_IDLE, 1, 0, CANC}, {S, PGD_TX_IDLE, 1, 1, CANC},
    /* all sent, outside: a batch/pipeline waits for the outcome if it can */
    {B, PGD_TX_IDLE, 0, 1, WAIT}, {P, PGD_TX_IDLE, 0, 1, WAIT},
    {B, PGD_TX_IDLE, 0, 0, CANC}, {P, PGD_TX_IDLE, 0, 0, CANC},
    {Q, PGD_TX_IDLE, 0, 1, CANC}, {Q, PGD_TX_IDLE, 0, 0, CANC},
    {S, PGD_TX_IDLE, 0, 1, CANC}, {S, PGD_TX_IDLE, 0, 0, CANC},
    /* inside a transaction block: never close (it would end the caller's
     * transaction), never wait; fail the transaction if it stays healthy */
    {Q, PGD_TX_INTRANS, 1, 1, ABRT}, {Q, PGD_TX_INTRANS, 0, 0, ABRT},
    {B, PGD_TX_INTRANS, 1, 1, ABRT}, {B, PGD_TX_INTRANS, 0, 1, ABRT},
    {P, PGD_TX_INTRANS, 1, 0, ABRT}, {P, PGD_TX_INTRANS, 0, 1, ABRT},
    {S, PGD_TX_INTRANS, 1, 1, CANC}, {S, PGD_TX_INTRANS, 0, 0, CANC},
    {Q, PGD_TX_INERROR, 0, 1, ABRT}, {B, PGD_TX_INERROR, 1, 1, ABRT},
    {S, PGD_TX_INERROR, 0, 1, CANC},
    /* a COPY start or read is stopped like a query */
    {PGD_OPK_COPY, PGD_TX_IDLE, 1, 1, DISC}, {PGD_OPK_COPY, PGD_TX_IDLE, 0, 1, CANC},
    {PGD_OPK_COPY, PGD_TX_INTRANS, 0, 0, ABRT},
    /* a state the driver could not read counts as inside: never assume
     * the implicit transaction */
    {Q, PGD_TX_UNKNOWN, 1, 1, ABRT}, {B, PGD_TX_UNKNOWN, 0, 1, ABRT},
    {S, PGD_TX_UNKNOWN, 1, 0, CANC},
};

static const char *name(pgd_stop s)
{
    switch (s) {
    case PGD_STOP_DISCONNECT:
        return "DISCONNECT";
    case PGD_STOP_CANCEL_WAIT:
        return "CANCEL_WAIT";
    case PGD_STOP_CANCEL:
        return "CANCEL";
    case PGD_STOP_CANCEL_ABORT_TX:
        return "CANCEL_ABORT_TX";
    case PGD_STOP_DROP:
        return "DROP";
    }
    return "?";
}

static void test_plans(void)
{
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct row *r = &rows[i];
        pgd_stop got = pgd_stop_plan(r->kind, r->tx, r->unsent, r->can_wait);
        CHECK_MSG(got == r->want, "row %zu (kind %d, tx %d, unsent %d, can_wait %d): %s, want %s",
                  i, (int)r->kind, (int)r->tx, r->unsent, r->can_wait, name(got), name(r->want));
    }
}

static void test_cancel_failed(void)
{
    /* a waiting caller learns the outcome anyway; otherwise a statement of
     * unknown fate must not be followed on the same connection */
    CHECK(pgd_stop_cancel_failed(PGD_STOP_CANCEL_WAIT) == PGD_STOP_CANCEL_WAIT);
    CHECK(pgd_stop_cancel_failed(PGD_STOP_CANCEL) == PGD_STOP_DISCONNECT);
    CHECK(pgd_stop_cancel_failed(PGD_STOP_CANCEL_ABORT_TX) == PGD_STOP_DISCONNECT);
    CHECK(pgd_stop_cancel_failed(PGD_STOP_DISCONNECT) == PGD_STOP_DISCONNECT);
}

static void test_grace(void)
{
    /* a caller waiting for the outcome of its timed-out batch gets it, or
     * a closed connection, well within half a second of its timeout */
    CHECK(pgd_stop_grace(PGD_STOP_CANCEL_WAIT) > 0);
    CHECK(pgd_stop_grace(PGD_STOP_CANCEL_WAIT) < 0.5);
    CHECK(pgd_stop_grace(PGD_STOP_CANCEL) >= pgd_stop_grace(PGD_STOP_CANCEL_WAIT));
    CHECK(pgd_stop_grace(PGD_STOP_CANCEL_ABORT_TX) == pgd_stop_grace(PGD_STOP_CANCEL));
}

/* The per-host connect deadline, read from a connection that is never
 * started (no server needed). */
static int deadline_for(const char *timeout)
{
    const char *k[] = {"host", timeout ? "connect_timeout" : NULL, NULL};
    const char *v[] = {"127.0.0.1", timeout, NULL};
    pgd_conn *c = pgd_conn_new(k, v, t_registry());
    CHECK(c != NULL);
    if (c == NULL)
        return -100;
    int secs = pgd_connect_deadline(c);
    pgd_conn_free(c);
    return secs;
}

static void test_connect_deadline(void)
{
    unsetenv("PGCONNECT_TIMEOUT");
    CHECK(deadline_for(NULL) == 30); /* not set: the driver's default */
    CHECK(deadline_for("0") == 0);   /* as in libpq: no deadline */
    CHECK(deadline_for("1") == 2);   /* libpq's minimum */
    CHECK(deadline_for("2") == 2);
    CHECK(deadline_for("7") == 7);
    setenv("PGCONNECT_TIMEOUT", "5", 1); /* libpq's environment default */
    CHECK(deadline_for(NULL) == 5);
    CHECK(deadline_for("9") == 9);
    unsetenv("PGCONNECT_TIMEOUT");
}

int main(void)
{
    test_plans();
    test_cancel_failed();
    test_grace();
    test_connect_deadline();
    return t_done("test_async");
}
