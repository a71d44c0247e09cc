/*
 * pipeline.c - the operation engine: pgd_conn_send_query/simple/batch/
 * pipeline and the busy half of pgd_conn_io().
 *
 * Extended-protocol operations run in libpq pipeline mode.  Every message
 * the operation queues has a "slot" (what result it produces), consumed
 * in order as results arrive; the operation is over when the last slot is.
 * An operation has up to three segments, each ended by its own Sync:
 *
 *   1. DEALLOCATE of statements evicted earlier (only when the session is
 *      outside a transaction block, so a failure cannot abort the caller's
 *      transaction; a failed DEALLOCATE is queued again);
 *   2. for statements not prepared yet: Parse + Describe (one round trip
 *      for all of them); the Describe gives the parameter and column types,
 *      from which the codecs are resolved once per statement; when it names
 *      per-database types this connection has not met (enums, composites,
 *      domains, ... : types.c), one more round trip asks pg_type about
 *      them before anything is encoded;
 *   3. Bind/Execute of every query or row, then a single Sync: the server
 *      runs them as one implicit transaction (or inside the caller's), and
 *      after an error it skips the rest up to the Sync.
 *
 * Segment 3 is encoded entirely before its first message is queued, so an
 * encode or usage error leaves nothing half-sent.  When every statement is
 * cached, segments 1 and 3 go out together: one round trip.
 *
 * Unnamed operations (the cache is off, or pgd_conn_set_unnamed) are one
 * exchange: a pooler in transaction mode may give each Sync-terminated
 * exchange outside a transaction block to another server session, so
 * nothing may rely on what an earlier exchange prepared.  Segment 2 then
 * ends with a Flush instead of a Sync (the server answers, the exchange
 * stays open), as does the pg_type query; segment 3 sends Parse again
 * before a query's Bind when the unnamed statement holds another one
 * (every query of a pipeline but a single one; after the pg_type query);
 * DEALLOCATE goes out only for named statements evicted earlier (the
 * cache was shrunk), in its own exchange as always.  A failure while the exchange is open (a server
 * error, an encode error, a cancel) is followed by the Sync the server
 * waits for before the operation ends.
 *
 * Simple-protocol commands (pgd_conn_send_simple) are sent outside pipeline
 * mode with PQsendQuery and produce the last statement's result.
 *
 * Output: PQflush after queuing; PGD_WANT_WRITE while it reports pending
 * data.  Input: PQconsumeInput, then PQgetResult while !PQisBusy.  Nothing
 * blocks.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* ---- bookkeeping ------------------------------------------------------------- */

static int add_slot(pgd_conn *c, int kind, int idx)
{
    pgd_op *op = &c->op;

    if (pgd_grow(&op->slots, op->nslots, &op->capslots, sizeof *op->slots, 16) != PGD_OK)
        return PGD_ERROR;
    op->slots[op->nslots].kind = kind;
    op->slots[op->nslots].idx = idx;
    op->nslots++;
    return PGD_OK;
}

/* a statement per query (an explicit pipeline, a burst) */
#define PER_QUERY(op) ((op)->kind == PGD_OP_PIPELINE || (op)->kind == PGD_OP_BURST)

static size_t op_nstmts(const pgd_op *op) { return PER_QUERY(op) ? op->nq : 1; }

static pgd_stmt *op_stmt(const pgd_op *op, size_t q)
{
    return PER_QUERY(op) ? op->stmts[q] : op->stmt;
}

/* Release the operation's statements: drop those not ready or stale,
 * free temporaries (queueing DEALLOCATE for named ones).  A statement may
 * appear under several queries: nothing is freed until every reference
 * has been visited. */
static void release_stmts(pgd_conn *c)
{
    pgd_op *op = &c->op;
    size_t i, n = op->stmts || op->stmt ? op_nstmts(op) : 0;
    pgd_stmt *drop = NULL;

    for (i = 0; i < n; i++) {
        pgd_stmt *s = op_stmt(op, i);

        if (!s || s->inuse <= 0)
            continue; /* released already (or marked for dropping) */
        s->inuse = 0;
        s->sent = 0;
        if (s->cached && (!s->ready || s->stale)) {
            s->inuse = -1; /* mark: linked into `drop` */
            s->op_next = drop;
            drop = s;
        }
    }
    while (drop) {
        pgd_stmt *s = drop;

        drop = s->op_next;
        pgd_cache_drop(&c->cache, s);
    }
    while (op->temps) {
        pgd_stmt *s = op->temps;

        op->temps = s->op_next;
        pgd_cache_drop(&c->cache, s);
    }
    pgd_cache_trim(&c->cache);
    if (op->stmts)
        memset(op->stmts, 0, op->nq * sizeof *op->stmts);
    op->stmt = NULL;
}

void pgd_op_reset(pgd_conn *c)
{
    pgd_op *op = &c->op;
    pgd_slot *slots = op->slots;
    size_t cap = op->capslots, i;

    release_stmts(c);
    for (i = 0; i < op->ndealloc; i++)
        pgd_free(op->dealloc[i]);
    pgd_free(op->dealloc);
    pgd_free(op->stmts);
    PQclear(op->simple_last);
    memset(op, 0, sizeof *op);
    /* keep the slot array for the next operation unless it grew large */
    if (cap <= 4096) {
        op->slots = slots;
        op->capslots = cap;
    } else {
        pgd_free(slots);
    }
    if (c->wbuf.cap > ((size_t)4 << 20)) {
        pgd_free(c->wbuf.p);
        c->wbuf.p = NULL;
        c->wbuf.cap = 0;
    }
    c->wbuf.len = 0;
}

/* ---- starting an operation ------------------------------------------------------ */

static int begin(pgd_conn *c)
{
    if (c->state == PGD_CS_BUSY)
        return pgd_conn_fail(c, PGD_E_USAGE, -1, "another operation is in progress");
    if (c->state == PGD_CS_COPY)
        return pgd_conn_fail(c, PGD_E_USAGE, -1, "a COPY is in progress on the connection");
    if (c->state != PGD_CS_IDLE || PQstatus(c->pg) != CONNECTION_OK)
        return pgd_conn_fail(c, PGD_E_USAGE, -1, "the connection is not connected");
    pgd_error_clear(&c->err);
    pgd_conn_drop_results(c);
    pgd_op_reset(c);
    return PGD_OK;
}

/* Fail before anything was sent: the connection stays idle. */
static int abort_unsent(pgd_conn *c)
{
    if (PQpipelineStatus(c->pg) != PQ_PIPELINE_OFF)
        PQexitPipelineMode(c->pg);
    pgd_op_reset(c);
    c->state = PGD_CS_IDLE;
    return PGD_ERROR;
}

static int flush_wants(pgd_conn *c)
{
    int f = PQflush(c->pg);

    if (f < 0)
        return -1;
    return PGD_WANT_READ | (f ? PGD_WANT_WRITE : 0);
}

/* The statement for (sql, params' pins): cached, or new. */
static pgd_stmt *get_stmt(pgd_conn *c, const char *sql, size_t nparams, const pgd_value *params)
{
    int temp = c->op.unnamed;
    pgd_stmt *s = temp ? NULL : pgd_cache_lookup(&c->cache, sql, nparams, params);

    if (!s) {
        s = pgd_cache_create(&c->cache, sql, nparams, params, temp);
        if (!s)
            return NULL;
        if (!s->cached) {
            s->op_next = c->op.temps;
            c->op.temps = s;
        }
    }
    s->inuse++;
    return s;
}

/* Segment 1: DEALLOCATE what the cache evicted, when outside a
 * transaction block. */
static int queue_deallocs(pgd_conn *c)
{
    pgd_stmt_cache *sc = &c->cache;
    pgd_op *op = &c->op;
    char sql[64];
    size_t i;

    if (!sc->ndealloc || PQtransactionStatus(c->pg) != PQTRANS_IDLE)
        return PGD_OK;
    op->dealloc = sc->dealloc;
    op->ndealloc = sc->ndealloc;
    sc->dealloc = NULL;
    sc->ndealloc = sc->capdealloc = 0;
    for (i = 0; i < op->ndealloc; i++) {
        snprintf(sql, sizeof sql, "DEALLOCATE \"%s\"", op->dealloc[i]);
        if (!PQsendQueryParams(c->pg, sql, 0, NULL, NULL, NULL, NULL, 0) ||
            add_slot(c, PGD_SLOT_DEALLOC, (int)i) != PGD_OK)
            return PGD_ERROR;
    }
    if (!PQpipelineSync(c->pg) || add_slot(c, PGD_SLOT_SYNC, -1) != PGD_OK)
        return PGD_ERROR;
    return PGD_OK;
}

/* End the exchange: Sync. */
static int sync_exchange(pgd_conn *c)
{
    if (!PQpipelineSync(c->pg) || add_slot(c, PGD_SLOT_SYNC, -1) != PGD_OK)
        return PGD_ERROR;
    c->op.open = 0;
    return PGD_OK;
}

/* End a segment: a Sync, or for an unnamed operation a Flush (the server
 * sends what it has; the exchange stays open). */
static int end_segment(pgd_conn *c)
{
    if (!c->op.unnamed)
        return sync_exchange(c);
    if (!PQsendFlushRequest(c->pg))
        return PGD_ERROR;
    c->op.open = 1;
    return PGD_OK;
}

/* Segment 2: Parse + Describe every statement not prepared yet. */
static int queue_prepares(pgd_conn *c)
{
    pgd_op *op = &c->op;
    size_t q, n = op_nstmts(op);

    for (q = 0; q < n; q++) {
        pgd_stmt *s = op_stmt(op, q);

        if (s->ready || s->sent)
            continue;
        s->sent = 1;
        if (!PQsendPrepare(c->pg, s->name, s->sql, s->npins, s->pins) ||
            add_slot(c, PGD_SLOT_PREPARE, (int)q) != PGD_OK ||
            !PQsendDescribePrepared(c->pg, s->name) ||
            add_slot(c, PGD_SLOT_DESCRIBE, (int)q) != PGD_OK)
            return PGD_ERROR;
        op->ucur = s->name[0] ? op->ucur : s;
    }
    return end_segment(c);
}

static size_t q_nparams(const pgd_op *op, size_t q)
{
    return PER_QUERY(op) ? op->nparams_v[q] : op->nparams;
}

static const pgd_value *q_params(const pgd_op *op, size_t q)
{
    if (PER_QUERY(op))
        return op->params_v[q];
    if (op->kind == PGD_OP_BATCH)
        return op->params + q * op->nparams;
    return op->params;
}

/* Encode every query/row of segment 3 (nothing is queued). */
static int encode_all(pgd_conn *c)
{
    pgd_op *op = &c->op;
    size_t q, base = 0, total = 0;

    for (q = 0; q < op->nq; q++)
        total += q_nparams(op, q);
    if (pgd_params_reserve(c, total) != PGD_OK)
        return pgd_conn_fail(c, PGD_E_NOMEM, -1, "out of memory for %zu parameters", total);
    c->wbuf.len = 0;
    for (q = 0; q < op->nq; q++) {
        pgd_stmt *s = op->kind == PGD_OP_PIPELINE ? op->stmts[q] : op->stmt;
        int row = op->kind == PGD_OP_QUERY ? -1 : (int)q;

        if (pgd_encode_row(c, s, q_nparams(op, q), q_params(op, q), base, row) != PGD_OK) {
            c->err.item = row; /* which row/query; err.index is the parameter */
            return PGD_ERROR;
        }
        base += q_nparams(op, q);
    }
    pgd_params_finish(c, total);
    return PGD_OK;
}

/* Segment 3: Bind/Execute each query, one Sync. */
static int queue_execs(pgd_conn *c)
{
    pgd_op *op = &c->op;
    size_t q, base = 0;

    for (q = 0; q < op->nq; q++) {
        pgd_stmt *s = op->kind == PGD_OP_PIPELINE ? op->stmts[q] : op->stmt;
        int n = (int)q_nparams(op, q);

        /* the unnamed statement holds another query's: parse this one again */
        if (!s->name[0] && s != op->ucur) {
            if (!PQsendPrepare(c->pg, "", s->sql, s->npins, s->pins) ||
                add_slot(c, PGD_SLOT_PREPARE, (int)q) != PGD_OK)
                return PGD_ERROR;
            op->ucur = s;
        }
        if (!PQsendQueryPrepared(c->pg, s->name, n, c->pvals + base, c->plens + base,
                                 c->pfmts + base, s->result_format) ||
            add_slot(c, PGD_SLOT_EXEC, (int)q) != PGD_OK)
            return PGD_ERROR;
        base += (size_t)n;
    }
    if (sync_exchange(c) != PGD_OK)
        return PGD_ERROR;
    op->phase = PGD_PH_EXEC;
    return PGD_OK;
}

/* A libpq send call failed: out of memory or the connection is gone. */
static int send_failed(pgd_conn *c)
{
    if (PQstatus(c->pg) != CONNECTION_OK) {
        pgd_conn_broken(c, -1);
        pgd_op_reset(c);
        return PGD_ERROR;
    }
    /* Something may already be queued: the connection cannot be trusted
     * to be in step with the server any more. */
    pgd_error_from_conn(&c->err, c->pg, PGD_E_IO, -1);
    c->state = PGD_CS_BROKEN;
    pgd_op_reset(c);
    return PGD_ERROR;
}

/* Into pipeline mode, busy, with any pending DEALLOCATEs queued first;
 * PGD_OK, or what abort_unsent()/send_failed() return. */
static int enter_pipeline(pgd_conn *c, pgd_op *op)
{
    if (!PQenterPipelineMode(c->pg)) {
        pgd_error_from_conn(&c->err, c->pg, PGD_E_IO, -1);
        return abort_unsent(c);
    }
    op->pipeline = 1;
    c->state = PGD_CS_BUSY;
    if (queue_deallocs(c) != PGD_OK)
        return send_failed(c);
    return PGD_OK;
}

static int start_extended(pgd_conn *c)
{
    int entered;
    pgd_op *op = &c->op;
    size_t q, n = op_nstmts(op);
    int need_prepare = 0, wants;

    op->unnamed = c->unnamed || c->cache.capacity == 0;
    op->tx_idle = PQtransactionStatus(c->pg) == PQTRANS_IDLE;
    if (op->kind == PGD_OP_PIPELINE) {
        op->stmts = pgd_calloc(op->nq ? op->nq : 1, sizeof *op->stmts);
        if (!op->stmts)
            goto nomem;
        for (q = 0; q < op->nq; q++) {
            if (!op->sqls[q] || (op->nparams_v[q] && !op->params_v[q])) {
                pgd_conn_fail(c, PGD_E_USAGE, (int)q, "query %zu: no SQL or no parameters", q);
                return abort_unsent(c);
            }
            op->stmts[q] = get_stmt(c, op->sqls[q], op->nparams_v[q], op->params_v[q]);
            if (!op->stmts[q])
                goto nomem;
        }
    } else {
        op->stmt = get_stmt(c, op->sql, op->nparams, op->params);
        if (!op->stmt)
            goto nomem;
    }
    for (q = 0; q < n; q++)
        if (!op_stmt(op, q)->ready)
            need_prepare = 1;

    /* Everything cached: check and encode before anything is queued. */
    if (!need_prepare && encode_all(c) != PGD_OK)
        return abort_unsent(c);

    if ((entered = enter_pipeline(c, op)) != PGD_OK)
        return entered;
    if (need_prepare) {
        op->phase = PGD_PH_PREPARE;
        if (queue_prepares(c) != PGD_OK)
            return send_failed(c);
    } else if (queue_execs(c) != PGD_OK) {
        return send_failed(c);
    }
    wants = flush_wants(c);
    if (wants < 0)
        return send_failed(c);
    return wants;
nomem:
    pgd_conn_fail(c, PGD_E_NOMEM, -1, "out of memory starting an operation");
    return abort_unsent(c);
}

int pgd_conn_send_query(pgd_conn *c, const char *sql, size_t nparams, const pgd_value *params)
{
    if (begin(c) != PGD_OK)
        return PGD_ERROR;
    if (!sql || (nparams && !params))
        return pgd_conn_fail(c, PGD_E_USAGE, -1, "no SQL or no parameters given");
    c->op.kind = PGD_OP_QUERY;
    c->op.sql = sql;
    c->op.nq = 1;
    c->op.nparams = nparams;
    c->op.params = params;
    return start_extended(c);
}

int pgd_conn_send_batch(pgd_conn *c, const char *sql, size_t nrows, size_t nparams,
                        const pgd_value *params)
{
    if (begin(c) != PGD_OK)
        return PGD_ERROR;
    if (!sql || (nrows && nparams && !params))
        return pgd_conn_fail(c, PGD_E_USAGE, -1, "no SQL or no parameters given");
    if (nrows > (size_t)0x7fffffff)
        return pgd_conn_fail(c, PGD_E_USAGE, -1, "too many rows in one batch");
    if (nrows == 0)
        return PGD_OK; /* nothing to do: no results */
    c->op.kind = PGD_OP_BATCH;
    c->op.sql = sql;
    c->op.nq = nrows;
    c->op.nparams = nparams;
    c->op.params = params;
    return start_extended(c);
}

int pgd_conn_send_pipeline(pgd_conn *c, size_t nqueries, const char *const *sqls,
                           const size_t *nparams, const pgd_value *const *params)
{
    if (begin(c) != PGD_OK)
        return PGD_ERROR;
    if (nqueries && (!sqls || !nparams || !params))
        return pgd_conn_fail(c, PGD_E_USAGE, -1, "no queries given");
    if (nqueries > (size_t)0x7fffffff)
        return pgd_conn_fail(c, PGD_E_USAGE, -1, "too many queries in one pipeline");
    if (nqueries == 0)
        return PGD_OK;
    c->op.kind = PGD_OP_PIPELINE;
    c->op.nq = nqueries;
    c->op.sqls = sqls;
    c->op.nparams_v = nparams;
    c->op.params_v = params;
    return start_extended(c);
}

int pgd_conn_send_simple(pgd_conn *c, const char *sql)
{
    int wants;

    if (begin(c) != PGD_OK)
        return PGD_ERROR;
    if (!sql)
        return pgd_conn_fail(c, PGD_E_USAGE, -1, "no SQL given");
    c->op.kind = PGD_OP_SIMPLE;
    if (!PQsendQuery(c->pg, sql)) {
        if (PQstatus(c->pg) != CONNECTION_OK)
            return send_failed(c);
        pgd_error_from_conn(&c->err, c->pg, PGD_E_USAGE, -1);
        return abort_unsent(c);
    }
    c->state = PGD_CS_BUSY;
    if (add_slot(c, PGD_SLOT_SIMPLE, -1) != PGD_OK) {
        /* cannot track the result: the session is out of step */
        pgd_conn_fail(c, PGD_E_NOMEM, -1, "out of memory");
        c->state = PGD_CS_BROKEN;
        return PGD_ERROR;
    }
    wants = flush_wants(c);
    if (wants < 0)
        return send_failed(c);
    return wants;
}

/* ---- results ---------------------------------------------------------------------- */

/* error->index for a failure at slot idx */
static int fail_index(const pgd_op *op, const pgd_slot *sl)
{
    if (op->kind == PGD_OP_PIPELINE)
        return sl->idx;
    if (op->kind == PGD_OP_BATCH && sl->kind == PGD_SLOT_EXEC)
        return sl->idx;
    return -1;
}

static void record_server_error(pgd_conn *c, const PGresult *res, const pgd_slot *sl)
{
    pgd_op *op = &c->op;
    const char *st;

    if (sl->kind == PGD_SLOT_DEALLOC) {
        st = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        /* 26000: it is already gone; otherwise try again later */
        if (!st || strcmp(st, "26000") != 0)
            pgd_cache_queue_dealloc(&c->cache, op->dealloc[sl->idx]);
        return;
    }
    if (sl->kind == PGD_SLOT_EXEC) {
        pgd_stmt *s = op_stmt(op, (size_t)(PER_QUERY(op) ? sl->idx : 0));

        st = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        /* The statement no longer exists (DEALLOCATE ALL / DISCARD ALL by
         * the user) or its plan's result type changed: prepare it again
         * next time. */
        if (st && strcmp(st, "26000") == 0) {
            s->stale = 1;
            s->prepared_ok = 0;
        } else if (st && strcmp(st, "0A000") == 0 &&
                   strstr(PQresultErrorMessage(res), "cached plan") != NULL) {
            s->stale = 1;
        }
    }
    if (op->kind == PGD_OP_BURST && sl->idx >= 0) {
        /* only this statement failed: the others have Syncs of their own */
        if (c->berr[sl->idx].kind == PGD_E_NONE)
            pgd_error_from_result(&c->berr[sl->idx], res, -1);
        return;
    }
    if (!op->failed) {
        pgd_error_from_result(&c->err, res, fail_index(op, sl));
        op->failed = 1;
    }
}

/* Handle one result for the slot at the head.  PGD_OK, or PGD_ERROR when
 * the connection broke or memory ran out (op->failed set). */
static int handle_result(pgd_conn *c, PGresult *res)
{
    pgd_op *op = &c->op;
    pgd_slot *sl = &op->slots[op->head];
    ExecStatusType st;

    if (sl->kind == PGD_SLOT_SYNC) {
        if (!res) {
            op->nulls++;
            return PGD_OK;
        }
        op->nulls = 0;
        st = PQresultStatus(res);
        if (st == PGRES_PIPELINE_SYNC) {
            op->head++;
            /* a burst statement that opened a transaction block drew the
             * ones behind it in: never again */
            if (op->kind == PGD_OP_BURST && sl->idx >= 0 && op->stmts[sl->idx] &&
                (PQtransactionStatus(c->pg) == PQTRANS_INTRANS ||
                 PQtransactionStatus(c->pg) == PQTRANS_INERROR))
                op->stmts[sl->idx]->no_pipeline = 1;
        }
        else if (st == PGRES_FATAL_ERROR)
            record_server_error(c, res, sl);
        PQclear(res);
        return PGD_OK;
    }
    op->nulls = 0;
    if (!res) {
        op->head++; /* end of this command's results */
        return PGD_OK;
    }
    st = PQresultStatus(res);
    switch (st) {
    case PGRES_FATAL_ERROR:
        record_server_error(c, res, sl);
        break;
    case PGRES_PIPELINE_ABORTED:
        if (sl->kind == PGD_SLOT_DEALLOC) /* skipped: try again later */
            pgd_cache_queue_dealloc(&c->cache, op->dealloc[sl->idx]);
        else if (op->kind == PGD_OP_BURST && sl->kind == PGD_SLOT_EXEC &&
                 c->berr[sl->idx].kind == PGD_E_NONE)
            pgd_error_set(&c->berr[sl->idx], PGD_E_SERVER, -1,
                          "the statement was skipped after an error");
        break;
    case PGRES_COPY_IN:
        PQputCopyEnd(c->pg, "COPY FROM STDIN is not supported by this operation");
        break;
    case PGRES_COPY_OUT:
        op->copy_out = 1;
        break;
    case PGRES_COPY_BOTH:
        PQclear(res);
        pgd_conn_fail(c, PGD_E_USAGE, -1, "replication commands are not supported");
        op->failed = 1;
        return PGD_ERROR;
    default: /* COMMAND_OK, TUPLES_OK, EMPTY_QUERY, ... */
        switch (sl->kind) {
        case PGD_SLOT_PREPARE:
            op_stmt(op, (size_t)sl->idx)->prepared_ok = 1;
            break;
        case PGD_SLOT_DESCRIBE: {
            pgd_stmt *s = op_stmt(op, (size_t)sl->idx);

            if (pgd_stmt_describe(s, res, c->reg, c->types) != PGD_OK) {
                if (!op->failed)
                    pgd_conn_fail(c, PGD_E_NOMEM, -1, "out of memory describing a statement");
                op->failed = 1;
            } else {
                s->described_ok = 1;
            }
            break;
        }
        case PGD_SLOT_EXEC:
            if (op->kind == PGD_OP_BURST) {
                pgd_result *r = pgd_result_new(res, op->stmts[sl->idx], c->reg, c->types);

                res = NULL;
                if (!r) {
                    if (c->berr[sl->idx].kind == PGD_E_NONE)
                        pgd_error_set(&c->berr[sl->idx], PGD_E_NOMEM, -1,
                                      "out of memory storing a result");
                } else if (c->bres[sl->idx] || c->berr[sl->idx].kind != PGD_E_NONE) {
                    pgd_result_free(r); /* only the first result counts */
                } else {
                    c->bres[sl->idx] = r;
                }
            } else if (!op->failed) {
                pgd_result *r = pgd_result_new(
                    res, op_stmt(op, (size_t)(PER_QUERY(op) ? sl->idx : 0)),
                    c->reg, c->types);

                res = NULL; /* owned by r, or cleared */
                if (!r || pgd_conn_push_result(c, r) != PGD_OK) {
                    pgd_conn_fail(c, PGD_E_NOMEM, -1, "out of memory storing a result");
                    op->failed = 1;
                }
            }
            break;
        case PGD_SLOT_TYPES:
            if (pgd_types_load(c->types, res) != PGD_OK) {
                if (!op->failed)
                    pgd_conn_fail(c, PGD_E_NOMEM, -1, "out of memory learning types");
                op->failed = 1;
            }
            break;
        case PGD_SLOT_SIMPLE:
            PQclear(op->simple_last);
            op->simple_last = res;
            res = NULL;
            break;
        default:
            break;
        }
    }
    PQclear(res);
    return PGD_OK;
}

/* Drain an unexpected COPY OUT.  1 when done, 0 when more input is needed,
 * -1 when the connection broke. */
static int drain_copy_out(pgd_conn *c)
{
    char *buf;
    int n;

    while ((n = PQgetCopyData(c->pg, &buf, 1)) > 0)
        PQfreemem(buf);
    if (n == 0)
        return 0;
    c->op.copy_out = 0;
    if (n == -2)
        return -1;
    if (!c->op.failed) {
        pgd_conn_fail(c, PGD_E_USAGE, -1, "COPY TO STDOUT is not supported by this operation");
        c->op.failed = 1;
    }
    return 1;
}

/* Segment 2 named types not known yet: ask pg_type about them (text in,
 * text out, the unnamed statement), then end the segment. */
static int queue_types(pgd_conn *c)
{
    char *oids = pgd_types_pending_param(c->types);
    const char *vals[1];
    int ok;

    if (!oids)
        return PGD_ERROR;
    vals[0] = oids;
    ok = PQsendQueryParams(c->pg, pgd_types_sql(), 1, NULL, vals, NULL, NULL, 0);
    pgd_free(oids);
    c->op.ucur = NULL; /* the pg_type query replaced the unnamed statement */
    if (!ok || add_slot(c, PGD_SLOT_TYPES, -1) != PGD_OK || end_segment(c) != PGD_OK)
        return PGD_ERROR;
    c->op.phase = PGD_PH_TYPES;
    return PGD_OK;
}

/* The types are learnt: resolve the operation's statements again.  The
 * types query replaced the unnamed statement, so one of those (used only
 * when caching is off) is prepared again: *again is set. */
static int resolve_again(pgd_conn *c, int *again)
{
    pgd_op *op = &c->op;
    size_t q, n = op_nstmts(op);

    *again = 0;
    pgd_types_clear_pending(c->types); /* whatever the answer, ask only once */
    for (q = 0; q < n; q++) {
        pgd_stmt *s = op_stmt(op, q);

        if (s->name[0] == '\0') {
            s->ready = s->sent = s->prepared_ok = s->described_ok = 0;
            *again = 1;
        } else if (s->ready && pgd_stmt_resolve(s, c->reg, c->types) != PGD_OK) {
            return PGD_ERROR;
        }
    }
    return PGD_OK;
}

/* Segment 2 is done: keep what was prepared and described. */
static void prepares_done(pgd_conn *c)
{
    pgd_op *op = &c->op;
    size_t q, n = op_nstmts(op);

    for (q = 0; q < n; q++) {
        pgd_stmt *s = op_stmt(op, q);

        if (!s->ready && s->prepared_ok && s->described_ok)
            s->ready = 1;
    }
}

/* The operation is over: leave pipeline mode, release statements, make
 * the connection idle. */
static int finish(pgd_conn *c)
{
    pgd_op *op = &c->op;
    int failed = op->failed;

    if (op->pipeline && !PQexitPipelineMode(c->pg)) {
        pgd_conn_broken(c, -1);
        pgd_conn_drop_results(c);
        pgd_op_reset(c);
        return PGD_ERROR;
    }
    /* a cached statement that ran from outside a transaction block and
     * left the session outside one may join bursts from now on */
    if (op->kind == PGD_OP_QUERY && !failed && op->tx_idle && op->stmt && op->stmt->cached &&
        op->stmt->ready && !op->stmt->stale) {
        PGTransactionStatusType ts = PQtransactionStatus(c->pg);

        if (ts == PQTRANS_IDLE)
            op->stmt->pipelinable = !op->stmt->no_pipeline;
        else if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR)
            op->stmt->no_pipeline = 1, op->stmt->pipelinable = 0;
    }
    if (op->kind == PGD_OP_SIMPLE && !failed && op->simple_last) {
        pgd_result *r = pgd_result_new(op->simple_last, NULL, c->reg, c->types);

        op->simple_last = NULL;
        if (!r || pgd_conn_push_result(c, r) != PGD_OK) {
            pgd_conn_fail(c, PGD_E_NOMEM, -1, "out of memory storing a result");
            failed = 1;
        }
    }
    if (failed)
        pgd_conn_drop_results(c);
    pgd_op_reset(c);
    c->state = PGD_CS_IDLE;
    return failed ? PGD_ERROR : PGD_OK;
}

static int broken(pgd_conn *c)
{
    pgd_conn_broken(c, -1);
    pgd_conn_drop_results(c);
    pgd_op_reset(c);
    return PGD_ERROR;
}

int pgd_op_advance(pgd_conn *c)
{
    pgd_op *op = &c->op;
    int flush;

    if (!PQconsumeInput(c->pg))
        return broken(c);
    for (;;) {
        flush = PQflush(c->pg);
        if (flush < 0)
            return broken(c);
        while (op->head < op->nslots) {
            PGresult *res;

            if (op->copy_out) {
                int d = drain_copy_out(c);

                if (d < 0)
                    return broken(c);
                if (d == 0)
                    break;
            }
            if (PQisBusy(c->pg))
                break;
            res = PQgetResult(c->pg);
            if (handle_result(c, res) != PGD_OK)
                return broken(c);
            if (!res && op->nulls > 1)
                break; /* a Sync is due but libpq has nothing: wait */
        }
        if (PQstatus(c->pg) != CONNECTION_OK)
            return broken(c);
        if (op->head < op->nslots)
            return PGD_WANT_READ | (flush ? PGD_WANT_WRITE : 0);
        /* every queued message has its result */
        if (op->failed && op->open) {
            /* the server skips everything up to a Sync: send it, then end */
            if (sync_exchange(c) != PGD_OK)
                return send_failed(c);
            continue;
        }
        if (op->kind == PGD_OP_SIMPLE || op->phase == PGD_PH_EXEC || op->failed)
            return finish(c);
        if (op->phase == PGD_PH_PREPARE) {
            prepares_done(c);
            if (!op->cancelled && pgd_types_have_pending(c->types)) {
                if (queue_types(c) != PGD_OK)
                    return send_failed(c);
                continue;
            }
        }
        if (op->phase == PGD_PH_TYPES) {
            int again;

            if (resolve_again(c, &again) != PGD_OK) {
                pgd_conn_fail(c, PGD_E_NOMEM, -1, "out of memory resolving types");
                op->failed = 1;
                continue;
            }
            if (again && !op->cancelled) {
                op->phase = PGD_PH_PREPARE;
                if (queue_prepares(c) != PGD_OK)
                    return send_failed(c);
                continue;
            }
        }
        if (op->cancelled) {
            pgd_conn_fail(c, PGD_E_SERVER, -1, "canceling statement due to user request");
            memcpy(c->err.sqlstate, "57014", 6);
            op->failed = 1;
            continue;
        }
        if (encode_all(c) != PGD_OK) {
            op->failed = 1;
            continue;
        }
        if (queue_execs(c) != PGD_OK)
            return send_failed(c);
    }
}

/* ---- automatic pipelining: bursts ------------------------------------------------
 * Statements of different callers, each already prepared and described,
 * go out as Bind/Execute/Sync each, all in one write: the server answers
 * them in one round trip.  Each has a Sync of its own, so each runs in an
 * implicit transaction of its own and an error skips only what follows it
 * up to its own Sync: nothing of the others.  Outcomes are kept per
 * statement (c->bres / c->berr) until the adapter takes them. */

void pgd_burst_clear(pgd_conn *c, int free_arrays)
{
    size_t i;

    for (i = 0; i < c->nb; i++) {
        pgd_result_free(c->bres[i]);
        c->bres[i] = NULL;
        pgd_error_clear(&c->berr[i]);
    }
    c->nb = 0;
    if (free_arrays) {
        pgd_free(c->bres);
        pgd_free(c->berr);
        c->bres = NULL;
        c->berr = NULL;
        c->capb = 0;
    }
}

static int burst_reserve(pgd_conn *c, size_t n)
{
    size_t i;

    if (n > c->capb) {
        pgd_result **r = pgd_calloc(n, sizeof *r);
        pgd_error *e = pgd_calloc(n, sizeof *e);

        if (!r || !e) {
            pgd_free(r);
            pgd_free(e);
            return PGD_ERROR;
        }
        pgd_burst_clear(c, 1);
        c->bres = r;
        c->berr = e;
        c->capb = n;
    }
    for (i = 0; i < n; i++) {
        c->bres[i] = NULL;
        pgd_error_init(&c->berr[i]);
    }
    c->nb = n;
    return PGD_OK;
}

/* The connection's error becomes statement q's. */
static void burst_member_failed(pgd_conn *c, size_t q)
{
    pgd_error_clear(&c->berr[q]);
    c->berr[q] = c->err;
    c->berr[q].index = -1;
    pgd_error_init(&c->err);
}

int pgd_conn_may_pipeline(pgd_conn *c, const char *sql, size_t nparams, const pgd_value *params)
{
    pgd_stmt *s;

    if (!c || !sql || (nparams && !params) || c->state != PGD_CS_IDLE || c->unnamed ||
        c->cache.capacity == 0 || PQtransactionStatus(c->pg) != PQTRANS_IDLE)
        return 0;
    s = pgd_cache_lookup(&c->cache, sql, nparams, params);
    return s != NULL && s->ready && !s->stale && s->pipelinable && !s->no_pipeline;
}

int pgd_conn_send_burst(pgd_conn *c, size_t n, const char *const *sqls, const size_t *nparams,
                        const pgd_value *const *params)
{
    int entered;
    pgd_op *op = &c->op;
    size_t q;
    int wants;

    if (begin(c) != PGD_OK)
        return PGD_ERROR;
    if (n < 1 || n > PGD_BURST_MAX || !sqls || !nparams || !params)
        return pgd_conn_fail(c, PGD_E_USAGE, -1, "a burst takes 1 to %d statements",
                             PGD_BURST_MAX);
    if (burst_reserve(c, n) != PGD_OK)
        return pgd_conn_fail(c, PGD_E_NOMEM, -1, "out of memory starting a burst");
    op->kind = PGD_OP_BURST;
    op->nq = n;
    op->sqls = sqls;
    op->nparams_v = nparams;
    op->params_v = params;
    op->tx_idle = PQtransactionStatus(c->pg) == PQTRANS_IDLE;
    op->stmts = pgd_calloc(n, sizeof *op->stmts);
    if (!op->stmts) {
        pgd_conn_fail(c, PGD_E_NOMEM, -1, "out of memory starting a burst");
        return abort_unsent(c);
    }
    for (q = 0; q < n; q++) {
        pgd_stmt *s = NULL;

        if (sqls[q] && (!nparams[q] || params[q]))
            s = pgd_cache_lookup(&c->cache, sqls[q], nparams[q], params[q]);
        if (!s || !s->ready || s->stale) {
            /* pgd_conn_may_pipeline said no: never sent */
            pgd_error_set(&c->berr[q], PGD_E_USAGE, -1,
                          "the statement cannot be pipelined (not prepared)");
            continue;
        }
        s->inuse++;
        op->stmts[q] = s;
    }
    if ((entered = enter_pipeline(c, op)) != PGD_OK)
        return entered;
    for (q = 0; q < n; q++) {
        pgd_stmt *s = op->stmts[q];
        size_t np = nparams[q];

        if (!s)
            continue;
        /* each statement is encoded just before it is queued: a bad
         * parameter fails it alone, and nothing of it is sent */
        if (pgd_params_reserve(c, np) != PGD_OK) {
            pgd_error_set(&c->berr[q], PGD_E_NOMEM, -1, "out of memory for %zu parameters", np);
            continue;
        }
        c->wbuf.len = 0;
        if (pgd_encode_row(c, s, np, params[q], 0, -1) != PGD_OK) {
            burst_member_failed(c, q);
            continue;
        }
        pgd_params_finish(c, np);
        if (!PQsendQueryPrepared(c->pg, s->name, (int)np, c->pvals, c->plens, c->pfmts,
                                 s->result_format) ||
            add_slot(c, PGD_SLOT_EXEC, (int)q) != PGD_OK || !PQpipelineSync(c->pg) ||
            add_slot(c, PGD_SLOT_SYNC, (int)q) != PGD_OK)
            return send_failed(c);
    }
    op->phase = PGD_PH_EXEC;
    if (op->nslots == 0)
        return finish(c); /* nothing to send: every statement failed here */
    wants = flush_wants(c);
    if (wants < 0)
        return send_failed(c);
    return wants;
}

pgd_result *pgd_conn_burst_take(pgd_conn *c, size_t i)
{
    pgd_result *r;

    if (c->state == PGD_CS_BUSY || i >= c->nb) {
        pgd_conn_fail(c, PGD_E_USAGE, -1, "no outcome of a burst statement %zu", i);
        return NULL;
    }
    r = c->bres[i];
    if (r) {
        c->bres[i] = NULL;
        return r;
    }
    if (c->berr[i].kind == PGD_E_NONE) {
        pgd_conn_fail(c, PGD_E_SERVER, -1, "the statement returned no result");
        return NULL;
    }
    pgd_error_clear(&c->err);
    c->err = c->berr[i];
    pgd_error_init(&c->berr[i]);
    return NULL;
}
