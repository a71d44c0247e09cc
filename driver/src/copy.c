/*
 * copy.c - COPY FROM STDIN and COPY TO STDOUT over the non-blocking
 * connection, and the binary COPY row encoder.
 *
 * libpq's COPY calls: PQsendQuery starts the statement; PQgetResult then
 * reports PGRES_COPY_IN or PGRES_COPY_OUT.  In, PQputCopyData queues one
 * CopyData message (in non-blocking mode it only fails for lack of memory;
 * it flushes when its buffer is full, so whether the socket keeps up is
 * seen through PQflush, which returns 1 while output is pending: then we
 * report PGD_WANT_WRITE and the caller does not put more).  PQputCopyEnd
 * sends CopyDone, or CopyFail with a message, after which the server
 * reports an error and rolls the COPY back.  Out, PQgetCopyData(async=1)
 * returns one CopyData message (usually one row), 0 when more input is
 * needed, -1 at the end (the command's result follows), -2 on failure.
 *
 * The binary COPY format (PostgreSQL's copyfromparse.c/copyto.c):
 *   header  "PGCOPY\n\377\r\n\0" (11 bytes), int32 flags (0: no OIDs),
 *           int32 header extension length (0) and that many bytes
 *   tuple   int16 field count, then per field int32 length (-1 = NULL)
 *           and the value's binary send form (the type's *_send)
 *   trailer int16 -1
 * All integers are network byte order.  Each field's bytes are what the
 * column type's codec writes for a binary parameter, so a COPY row is
 * encoded exactly as a Bind of the same values would be.
 *
 * Rows are encoded into the connection's COPY buffer (not the parameter
 * buffer, which operations reset) and sent as one CopyData per put; the
 * caller decides how much to buffer (the extension: about 256 KB).
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "pgd_wire.h"

#define OUT_CHUNK_MAX ((size_t)64 << 10) /* a chunk out collects up to this */

static const char binary_signature[11] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', '\377',
                                          '\r', '\n', '\0'};

/* ---- buffer ------------------------------------------------------------- */

static int buf_append(struct pgd_wbuf *b, const char *data, size_t n)
{
    char *p = pgd_wbuf_reserve(b, n);

    if (!p)
        return PGD_ERROR;
    if (n)
        memcpy(p, data, n);
    return PGD_OK;
}

/* The binary COPY header, once, into the COPY buffer. */
static int put_header(pgd_conn *c)
{
    char *p = pgd_wbuf_reserve(&c->copy.buf, sizeof binary_signature + 8);

    if (!p)
        return PGD_ERROR;
    memcpy(p, binary_signature, sizeof binary_signature);
    pgd_put_u32(p + sizeof binary_signature, 0);     /* flags */
    pgd_put_u32(p + sizeof binary_signature + 4, 0); /* header extension length */
    c->copy.binary_header = 1;
    return PGD_OK;
}

/* ---- state -------------------------------------------------------------- */

static void free_columns(pgd_conn *c)
{
    size_t i;

    for (i = 0; c->copy.names && i < c->copy.ncols; i++)
        pgd_free(c->copy.names[i]);
    pgd_free(c->copy.names);
    pgd_free(c->copy.cols);
    pgd_free(c->copy.plan);
    c->copy.names = NULL;
    c->copy.cols = NULL;
    c->copy.plan = NULL;
    c->copy.ncols = 0;
}

static void free_chunk(pgd_conn *c)
{
    c->copy.chunk = NULL;
    c->copy.chunklen = 0;
}

/* The COPY is over (done, failed or gone): back to no COPY.  Column codecs
 * stay for the next COPY into the same table (set_columns replaces them). */
static void copy_over(pgd_conn *c)
{
    free_chunk(c);
    c->copy.dir = 0;
    c->copy.ended = 0;
    c->copy.binary_header = 0;
    c->copy.binary_rows = 0;
    c->copy.rows = 0;
    c->copy.buf.len = 0;
    if (c->copy.buf.cap > ((size_t)4 << 20)) {
        pgd_free(c->copy.buf.p);
        c->copy.buf.p = NULL;
        c->copy.buf.cap = 0;
    }
    pgd_free(c->copy.abort_msg);
    c->copy.abort_msg = NULL;
}

void pgd_copy_reset(pgd_conn *c)
{
    copy_over(c);
    free_columns(c);
    pgd_free(c->copy.buf.p);
    c->copy.buf.p = NULL;
    c->copy.buf.cap = 0;
}

int pgd_conn_copy_dir(const pgd_conn *c) { return c->state == PGD_CS_COPY ? c->copy.dir : 0; }

size_t pgd_conn_copy_buffered(const pgd_conn *c) { return c->copy.buf.len; }

const char *pgd_conn_copy_chunk(const pgd_conn *c, size_t *len)
{
    if (len)
        *len = c->copy.chunklen;
    return c->copy.chunk;
}

static int broken(pgd_conn *c)
{
    copy_over(c);
    c->op.kind = PGD_OP_NONE;
    return pgd_conn_broken(c, -1);
}

/* An operation of the COPY is done, the COPY goes on. */
static int step_done(pgd_conn *c)
{
    c->op.kind = PGD_OP_NONE;
    c->state = PGD_CS_COPY;
    return PGD_OK;
}

/* PGD_WANT_READ, plus WRITE while libpq holds output; PGD_ERROR if broken. */
static int flush_wants(pgd_conn *c)
{
    int f = PQflush(c->pg);

    if (f < 0)
        return broken(c);
    return PGD_WANT_READ | (f ? PGD_WANT_WRITE : 0);
}

/* Start an operation of the COPY in progress (dir) on the connection. */
static int begin_step(pgd_conn *c, int dir, int kind, const char *what)
{
    if (c->state == PGD_CS_BUSY)
        return pgd_conn_fail(c, PGD_E_USAGE, -1, "another operation is in progress");
    if (c->state != PGD_CS_COPY || c->copy.dir != dir)
        return pgd_conn_fail(c, PGD_E_USAGE, -1, "%s without a COPY %s in progress", what,
                             dir == PGD_COPY_IN ? "FROM STDIN" : "TO STDOUT");
    pgd_error_clear(&c->err);
    c->op.kind = kind;
    c->op.phase = 0;
    c->op.failed = 0;
    c->state = PGD_CS_BUSY;
    return PGD_OK;
}

/* Read the results that end the statement: every one until NULL.  The
 * command's own (COMMAND_OK) is kept for pgd_conn_take_result(); an error
 * is recorded.  PGD_OK / PGD_ERROR when over (the connection is idle),
 * PGD_WANT_READ when more input is needed. */
static int finish_results(pgd_conn *c)
{
    PGresult *res;

    for (;;) {
        if (PQisBusy(c->pg))
            return PQstatus(c->pg) == CONNECTION_OK ? PGD_WANT_READ : broken(c);
        res = PQgetResult(c->pg);
        if (!res)
            break;
        switch (PQresultStatus(res)) {
        case PGRES_COMMAND_OK:
        case PGRES_TUPLES_OK: {
            pgd_result *r = pgd_result_new(res, NULL, c->reg, c->types);

            if (!r || pgd_conn_push_result(c, r) != PGD_OK) {
                pgd_conn_fail(c, PGD_E_NOMEM, -1, "out of memory");
                c->op.failed = 1;
            }
            break;
        }
        case PGRES_COPY_IN:
            /* still in COPY IN (an end that was not accepted): end it */
            PQclear(res);
            if (PQputCopyEnd(c->pg, "COPY ended by the client") < 0)
                return broken(c);
            if (PQflush(c->pg) < 0)
                return broken(c);
            break;
        case PGRES_COPY_OUT: {
            char *b;
            int n;

            PQclear(res);
            while ((n = PQgetCopyData(c->pg, &b, 1)) > 0)
                PQfreemem(b);
            if (n == 0)
                return PGD_WANT_READ;
            if (n == -2)
                return broken(c);
            break;
        }
        default:
            if (!c->op.failed)
                pgd_error_from_result(&c->err, res, -1);
            c->op.failed = 1;
            PQclear(res);
            break;
        }
    }
    copy_over(c);
    c->op.kind = PGD_OP_NONE;
    if (PQstatus(c->pg) != CONNECTION_OK)
        return broken(c);
    c->state = PGD_CS_IDLE;
    return c->op.failed ? PGD_ERROR : PGD_OK;
}

/* ---- start ------------------------------------------------------------------ */

int pgd_conn_copy_start(pgd_conn *c, const char *sql)
{
    if (c->state == PGD_CS_COPY)
        return pgd_conn_fail(c, PGD_E_USAGE, -1, "a COPY is already in progress");
    if (c->state == PGD_CS_BUSY)
        return pgd_conn_fail(c, PGD_E_USAGE, -1, "another operation is in progress");
    if (c->state != PGD_CS_IDLE || PQstatus(c->pg) != CONNECTION_OK)
        return pgd_conn_fail(c, PGD_E_USAGE, -1, "the connection is not connected");
    pgd_error_clear(&c->err);
    pgd_conn_drop_results(c);
    pgd_op_reset(c);
    copy_over(c);
    if (!PQsendQuery(c->pg, sql))
        return PQstatus(c->pg) == CONNECTION_OK
                   ? pgd_error_from_conn(&c->err, c->pg, PGD_E_USAGE, -1)
                   : broken(c);
    c->op.kind = PGD_OP_COPY_START;
    c->state = PGD_CS_BUSY;
    return flush_wants(c);
}

static int advance_start(pgd_conn *c)
{
    PGresult *res;
    int notcopy = 0;

    if (PQflush(c->pg) < 0)
        return broken(c);
    while (!PQisBusy(c->pg)) {
        res = PQgetResult(c->pg);
        if (!res) {
            c->op.kind = PGD_OP_NONE;
            c->state = PGD_CS_IDLE;
            if (!c->op.failed)
                pgd_conn_fail(c, PGD_E_USAGE, -1,
                              "the statement is not a COPY FROM STDIN or COPY TO STDOUT");
            pgd_conn_drop_results(c);
            return PGD_ERROR;
        }
        switch (PQresultStatus(res)) {
        case PGRES_COPY_IN:
        case PGRES_COPY_OUT:
            c->copy.dir = PQresultStatus(res) == PGRES_COPY_IN ? PGD_COPY_IN : PGD_COPY_OUT;
            PQclear(res);
            if (c->op.failed || notcopy) {
                /* an earlier statement of the string failed or was no
                 * COPY: do not go on with this one */
                c->op.kind = PGD_OP_COPY_END;
                if (c->copy.dir == PGD_COPY_IN &&
                    PQputCopyEnd(c->pg, "COPY refused by the client") < 0)
                    return broken(c);
                return finish_results(c);
            }
            return step_done(c);
        case PGRES_FATAL_ERROR:
            if (!c->op.failed)
                pgd_error_from_result(&c->err, res, -1);
            c->op.failed = 1;
            PQclear(res);
            break;
        default:
            notcopy = 1;
            PQclear(res);
            break;
        }
    }
    if (PQstatus(c->pg) != CONNECTION_OK)
        return broken(c);
    return flush_wants(c);
}

/* ---- in --------------------------------------------------------------------- */

/* libpq refused CopyData/CopyDone: the server ended the COPY (an error it
 * sent was parsed meanwhile) or the connection is gone. */
static int put_refused(pgd_conn *c)
{
    if (PQstatus(c->pg) != CONNECTION_OK)
        return broken(c);
    c->op.kind = PGD_OP_COPY_END;
    c->op.failed = 0;
    c->copy.ended = 1; /* libpq has left COPY: no CopyDone to send */
    {
        int rc = finish_results(c);

        if (rc == PGD_OK) { /* no error came: report libpq's */
            pgd_error_from_conn(&c->err, c->pg, PGD_E_IO, -1);
            return PGD_ERROR;
        }
        return rc;
    }
}

/* Queue data as CopyData (PQputCopyData copies it). */
static int put_data(pgd_conn *c, const char *data, size_t len)
{
    while (len > 0) {
        int n = len > ((size_t)1 << 30) ? 1 << 30 : (int)len;
        int r = PQputCopyData(c->pg, data, n);

        if (r < 0)
            return put_refused(c);
        if (r == 0) {
            /* non-blocking and libpq could not grow its buffer: flush */
            if (PQflush(c->pg) < 0)
                return broken(c);
            r = PQputCopyData(c->pg, data, n);
            if (r <= 0)
                return r < 0 ? put_refused(c)
                             : pgd_conn_fail(c, PGD_E_NOMEM, -1, "out of memory queueing COPY data");
        }
        data += n;
        len -= (size_t)n;
    }
    return PGD_OK;
}

/* put_data did not queue everything: out of memory (the COPY goes on, the
 * caller may end or abort it) or the server ended the COPY (the operation
 * is now reading the statement's end: rc is its status). */
static int put_failed(pgd_conn *c, int rc)
{
    if (rc == PGD_ERROR && c->state == PGD_CS_BUSY && c->err.kind == PGD_E_NOMEM)
        step_done(c);
    return rc;
}

static int flush_step(pgd_conn *c)
{
    int f;

    if (!PQconsumeInput(c->pg))
        return broken(c);
    f = PQflush(c->pg);
    if (f < 0)
        return broken(c);
    if (f)
        return PGD_WANT_READ | PGD_WANT_WRITE;
    return step_done(c);
}

int pgd_conn_copy_put(pgd_conn *c, const char *data, size_t len)
{
    int rc;

    if (begin_step(c, PGD_COPY_IN, PGD_OP_COPY_PUT, "copy_put") != PGD_OK)
        return PGD_ERROR;
    if (!data) {
        rc = put_data(c, c->copy.buf.p, c->copy.buf.len);
        c->copy.buf.len = 0;
    } else {
        rc = put_data(c, data, len);
    }
    if (rc != PGD_OK)
        return put_failed(c, rc);
    return flush_step(c);
}

int pgd_conn_copy_end(pgd_conn *c, const char *abort_message)
{
    if (begin_step(c, PGD_COPY_IN, PGD_OP_COPY_END, "copy_end") != PGD_OK)
        return PGD_ERROR;
    if (abort_message) {
        c->copy.buf.len = 0;
        c->copy.abort_msg = pgd_strdup(abort_message);
        if (!c->copy.abort_msg)
            c->copy.abort_msg = pgd_strdup("aborted");
    } else {
        /* binary rows: a COPY of no rows still needs its header */
        if (c->copy.binary_rows && !c->copy.binary_header && put_header(c) != PGD_OK) {
            step_done(c);
            return pgd_conn_fail(c, PGD_E_NOMEM, -1, "out of memory");
        }
        if (c->copy.binary_header && !pgd_wbuf_reserve(&c->copy.buf, 2)) {
            step_done(c); /* the COPY goes on */
            return pgd_conn_fail(c, PGD_E_NOMEM, -1, "out of memory");
        }
        if (c->copy.binary_header)
            pgd_put_u16(c->copy.buf.p + c->copy.buf.len - 2, 0xFFFF);
        int rc = put_data(c, c->copy.buf.p, c->copy.buf.len);

        if (rc != PGD_OK)
            return put_failed(c, rc);
        c->copy.buf.len = 0;
    }
    return pgd_copy_advance(c);
}

static int advance_end(pgd_conn *c)
{
    int f;

    if (!c->copy.ended) {
        int r = PQputCopyEnd(c->pg, c->copy.abort_msg);

        if (r < 0)
            return put_refused(c);
        if (r == 0)
            return flush_wants(c); /* could not queue it yet: try when writable */
        c->copy.ended = 1;
    }
    if (!PQconsumeInput(c->pg))
        return broken(c);
    /* The end (and the data before it) may not all be sent yet: while the
     * server is still busy with earlier rows the socket can be full.  Ask
     * to be called when it is writable too, or the server never sees the
     * CopyDone and neither side moves. */
    f = PQflush(c->pg);
    if (f < 0)
        return broken(c);
    if (f)
        return PGD_WANT_READ | PGD_WANT_WRITE;
    return finish_results(c);
}

/* ---- out -------------------------------------------------------------------- */

int pgd_conn_copy_get(pgd_conn *c)
{
    if (begin_step(c, PGD_COPY_OUT, PGD_OP_COPY_GET, "copy_get") != PGD_OK)
        return PGD_ERROR;
    c->copy.buf.len = 0;
    free_chunk(c);
    return pgd_copy_advance(c);
}

int pgd_conn_copy_discard(pgd_conn *c)
{
    if (begin_step(c, PGD_COPY_OUT, PGD_OP_COPY_GET, "copy_discard") != PGD_OK)
        return PGD_ERROR;
    c->op.phase = 2;
    c->copy.buf.len = 0;
    free_chunk(c);
    return pgd_copy_advance(c);
}

/* Collect complete CopyData messages libpq already has into the buffer,
 * up to OUT_CHUNK_MAX; read the socket only when it has none. */
static int advance_get(pgd_conn *c)
{
    int consumed = 0;

    for (;;) {
        char *b = NULL;
        int n = c->copy.ended ? -1 : PQgetCopyData(c->pg, &b, 1);

        if (n > 0) {
            int ok = buf_append(&c->copy.buf, b, (size_t)n);

            PQfreemem(b);
            if (ok != PGD_OK)
                return pgd_conn_fail(c, PGD_E_NOMEM, -1, "out of memory reading COPY data");
            if (c->op.phase == 2) /* discarding */
                c->copy.buf.len = 0;
            else if (c->copy.buf.len >= OUT_CHUNK_MAX)
                break;
            continue;
        }
        if (n == -2)
            return broken(c);
        if (n == -1 || c->copy.ended) {
            c->copy.ended = 1; /* libpq reports the end once only */
            if (c->copy.buf.len)
                break; /* hand this out first; the end comes next time */
            c->op.phase = 1;
            c->op.failed = 0;
            return finish_results(c);
        }
        /* n == 0: nothing complete */
        if (c->copy.buf.len || consumed)
            break;
        if (!PQconsumeInput(c->pg))
            return broken(c);
        consumed = 1;
    }
    if (!c->copy.buf.len)
        return PQstatus(c->pg) == CONNECTION_OK ? PGD_WANT_READ : broken(c);
    c->copy.chunk = c->copy.buf.p;
    c->copy.chunklen = c->copy.buf.len;
    return step_done(c);
}

/* ---- dispatch (pgd_conn_io) --------------------------------------------- */

int pgd_copy_advance(pgd_conn *c)
{
    switch (c->op.kind) {
    case PGD_OP_COPY_START:
        if (!PQconsumeInput(c->pg))
            return broken(c);
        return advance_start(c);
    case PGD_OP_COPY_PUT:
        return flush_step(c);
    case PGD_OP_COPY_END:
        return advance_end(c);
    case PGD_OP_COPY_GET:
        if (c->op.phase == 1) {
            if (!PQconsumeInput(c->pg))
                return broken(c);
            return finish_results(c);
        }
        return advance_get(c);
    default:
        return pgd_conn_fail(c, PGD_E_USAGE, -1, "no COPY operation in progress");
    }
}

/* Between the operations of a COPY.  In: read what the server sends (only
 * an error or a notice can come) so that a lost connection is noticed.
 * Out: read nothing (the caller has not asked for more). */
int pgd_copy_idle_io(pgd_conn *c)
{
    if (c->copy.dir == PGD_COPY_IN && !PQconsumeInput(c->pg))
        return broken(c);
    if (PQstatus(c->pg) != CONNECTION_OK)
        return broken(c);
    return PGD_OK;
}

/* ---- binary rows ---------------------------------------------------------- */

int pgd_conn_copy_set_columns(pgd_conn *c, size_t ncols, const uint32_t *oids,
                              const char *const *names)
{
    size_t i;

    if (c->state == PGD_CS_BUSY)
        return pgd_conn_fail(c, PGD_E_USAGE, -1, "another operation is in progress");
    if (ncols > 1600)
        return pgd_conn_fail(c, PGD_E_USAGE, -1, "too many columns (%zu)", ncols);
    free_columns(c);
    c->copy.buf.len = 0;
    c->copy.binary_header = 0;
    c->copy.binary_rows = 1;
    c->copy.cols = pgd_calloc(ncols ? ncols : 1, sizeof *c->copy.cols);
    c->copy.names = pgd_calloc(ncols ? ncols : 1, sizeof *c->copy.names);
    c->copy.plan = pgd_calloc(ncols ? ncols : 1, sizeof *c->copy.plan);
    if (!c->copy.cols || !c->copy.names || !c->copy.plan)
        goto nomem;
    c->copy.ncols = ncols;
    c->copy.enc.reg = c->reg;
    for (i = 0; i < ncols; i++) {
        if (pgd_types_resolve(c->reg, c->types, oids[i], &c->copy.cols[i]) != PGD_OK)
            pgd_colcodec_resolve(c->reg, oids[i], &c->copy.cols[i]);
        /* the encoder is planned once per COPY, not per cell */
        pgd_encplan_init(&c->copy.plan[i], &c->copy.cols[i], &c->copy.enc);
        if (names && names[i] && !(c->copy.names[i] = pgd_strdup(names[i])))
            goto nomem;
    }
    pgd_types_clear_pending(c->types);
    return PGD_OK;
nomem:
    free_columns(c);
    return pgd_conn_fail(c, PGD_E_NOMEM, -1, "out of memory");
}

/* Room for n more bytes in b: pgd_wbuf_reserve with the common case
 * inline (its 1 GB cap checked here too). */
static inline char *reserve(struct pgd_wbuf *b, size_t n)
{
    char *p;

    if (b->p && b->cap - b->len >= n && b->len + n <= ((size_t)1 << 30)) {
        p = b->p + b->len;
        b->len += n;
        return p;
    }
    return pgd_wbuf_reserve(b, n);
}

int pgd_conn_copy_encode_row(pgd_conn *c, size_t nvals, const pgd_value *vals,
                             int64_t row_index)
{
    struct pgd_wbuf *b = &c->copy.buf;
    char label[160], col[96];
    size_t i, start;
    char *p;

    if (nvals != c->copy.ncols)
        return pgd_conn_fail(c, PGD_E_USAGE, -1, "row %lld has %zu value%s, the COPY takes %zu",
                             (long long)row_index, nvals, nvals == 1 ? "" : "s", c->copy.ncols);
    if (!c->copy.binary_header && put_header(c) != PGD_OK)
        return pgd_conn_fail(c, PGD_E_NOMEM, -1, "out of memory encoding a COPY row");
    start = b->len;
    if (!(p = reserve(b, 2)))
        goto nomem;
    pgd_put_u16(p, (uint16_t)nvals);
    for (i = 0; i < nvals; i++) {
        size_t lenpos = b->len;
        const pgd_value *v;
        int n;

        if (!(p = reserve(b, 4)))
            goto nomem;
        if (vals[i].kind == PGD_V_NULL) {
            pgd_put_u32(p, 0xFFFFFFFFu);
            continue;
        }
        v = c->money_int_cents ? pgd_cents_value(c, &c->copy.cols[i], &vals[i]) : &vals[i];
        if (v == NULL)
            goto nomem;
        n = pgd_encplan_encode(&c->copy.plan[i], v, b);
        if (n < 0) {
            b->len = start;
            if (c->copy.names[i])
                snprintf(col, sizeof col, "\"%s\"", c->copy.names[i]);
            else
                snprintf(col, sizeof col, "%zu", i + 1);
            return pgd_conn_fail(c, PGD_E_ENCODE, (int)i, "row %lld, column %s (%s): %s",
                                 (long long)row_index, col,
                                 pgd_colcodec_label(&c->copy.cols[i], label, sizeof label),
                                 c->copy.enc.msg);
        }
        pgd_put_u32(b->p + lenpos, (uint32_t)n); /* the codec may have moved the buffer */
    }
    c->copy.rows++;
    return PGD_OK;
nomem:
    b->len = start;
    return pgd_conn_fail(c, PGD_E_NOMEM, -1, "out of memory encoding a COPY row");
}
