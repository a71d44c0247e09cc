/*
 * test_unnamed.c - operations that use only the unnamed statement
 * (pgd_conn_set_unnamed, or a statement cache of size 0), against a real
 * server (PSQLPY_TEST_DSN).
 *
 * Such an operation must be one exchange: a pooler in transaction mode
 * (PgBouncer) may hand every Sync-terminated exchange outside a
 * transaction block to another server session, so a Bind must never
 * follow a Sync that came after its Parse.  The protocol is traced with
 * libpq's PQtrace and the messages the operation sent are counted: one
 * Sync each, for single statements, batches, pipelines, statements naming
 * per-database types (the pg_type query runs inside the same exchange),
 * and failures at every stage, a cancel included (the Sync the server
 * waits for is still sent, and the connection stays usable).  Nothing is left prepared and
 * the cache is not touched.
 */
#include "tutil.h"
#include "ttrace.h"

static void drop_results(pgd_conn *c)
{
    pgd_result *r;

    while ((r = pgd_conn_take_result(c)) != NULL)
        pgd_result_free(r);
}

/* Frontend messages of one traced operation. */
typedef struct sent {
    int syncs, parses, binds, flushes;
} sent;

static FILE *trace_on(pgd_conn *c)
{
    FILE *f = tmpfile();

    if (!f) {
        perror("tmpfile");
        exit(2);
    }
    t_trace_on(c, f);
    return f;
}

static sent trace_off(pgd_conn *c, FILE *f)
{
    char line[4096];
    sent n = {0, 0, 0, 0};

    t_trace_off(c);
    rewind(f);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "F\t", 2) != 0)
            continue;
        if (strstr(line, "\tSync"))
            n.syncs++;
        else if (strstr(line, "\tParse\t"))
            n.parses++;
        else if (strstr(line, "\tBind\t"))
            n.binds++;
        else if (strstr(line, "\tFlush"))
            n.flushes++;
    }
    fclose(f);
    return n;
}

/* Run an operation traced; returns its status. */
#define TRACED(c, out, call)                                                           \
    do {                                                                               \
        FILE *f_ = trace_on(c);                                                        \
        st_ = t_run((c), (call));                                                      \
        (out) = trace_off((c), f_);                                                    \
    } while (0)

static int prepared_count(pgd_conn *c)
{
    char *s = t_scalar(c, "SELECT count(*)::int4 FROM pg_prepared_statements");
    int n = s ? atoi(s) : -1;

    free(s);
    return n;
}

static void test_single(pgd_conn *c)
{
    pgd_value p[2];
    sent n;
    int st_, cached = pgd_conn_stmt_cache_count(c), named = prepared_count(c);

    /* cached first, then the same text unnamed: the cache is bypassed */
    p[0] = t_int(41);
    CHECK(t_query(c, "SELECT $1::int4 + 1 AS v", 1, p) == PGD_OK);
    CHECK_NEXT(c, "42");
    cached = pgd_conn_stmt_cache_count(c);
    named = prepared_count(c);

    pgd_conn_set_unnamed(c, 1);
    p[0] = t_int(1);
    TRACED(c, n, pgd_conn_send_query(c, "SELECT $1::int4 + 1 AS v", 1, p));
    CHECK(st_ == PGD_OK);
    CHECK_NEXT(c, "2");
    CHECK_MSG(n.syncs == 1 && n.parses == 1 && n.binds == 1 && n.flushes == 1,
              "syncs %d parses %d binds %d flushes %d", n.syncs, n.parses, n.binds, n.flushes);
    p[0] = t_str("x");
    p[1] = t_int(7);
    TRACED(c, n, pgd_conn_send_query(c, "SELECT $1::text || $2::int8 AS w", 2, p));
    CHECK(st_ == PGD_OK);
    CHECK_NEXT(c, "'x7'");
    CHECK(n.syncs == 1 && n.parses == 1);
    CHECK(pgd_conn_stmt_cache_count(c) == cached);
    CHECK(prepared_count(c) == named);

    /* a statement without parameters or rows */
    TRACED(c, n, pgd_conn_send_query(c, "SET application_name = 'unnamed'", 0, NULL));
    CHECK(st_ == PGD_OK);
    drop_results(c);
    CHECK(n.syncs == 1);
    CHECK_SCALAR(c, "SHOW application_name", "'unnamed'");
    pgd_conn_set_unnamed(c, 0);
}

static void test_batch_pipeline(pgd_conn *c)
{
    const char *sqls[3] = {"SELECT $1::int4 * 2", "SELECT $1::text || '!'", "SELECT $1::int4 * 2"};
    pgd_value a[1], b[1], d[1];
    size_t np[3] = {1, 1, 1};
    const pgd_value *pv[3] = {a, b, d};
    sent n;
    int st_;

    pgd_conn_set_unnamed(c, 1);
    CHECK(t_simple(c, "CREATE TEMP TABLE tu (id int4 PRIMARY KEY, v text)") == PGD_OK);
    drop_results(c);
    /* a batch: Parse once, Bind/Execute per row, one Sync */
    TRACED(c, n, pgd_conn_send_batch(c, "INSERT INTO tu VALUES ($1, $2)", 3, 2,
                                     (pgd_value[]){t_int(1), t_str("a"), t_int(2), t_str("b"),
                                                   t_int(3), t_str("c")}));
    CHECK(st_ == PGD_OK);
    drop_results(c);
    CHECK_MSG(n.syncs == 1 && n.parses == 1 && n.binds == 3, "syncs %d parses %d binds %d",
              n.syncs, n.parses, n.binds);
    CHECK_SCALAR(c, "SELECT string_agg(v, ',' ORDER BY id) FROM tu", "'a,b,c'");

    /* a pipeline of different statements: each parsed again before its
     * Bind (the unnamed statement holds one at a time), one Sync */
    a[0] = t_int(5);
    b[0] = t_str("hi");
    d[0] = t_int(6);
    TRACED(c, n, pgd_conn_send_pipeline(c, 3, sqls, np, pv));
    CHECK(st_ == PGD_OK);
    CHECK_NEXT(c, "10");
    CHECK_NEXT(c, "'hi!'");
    CHECK_NEXT(c, "12");
    CHECK(pgd_conn_take_result(c) == NULL);
    CHECK_MSG(n.syncs == 1 && n.parses == 6 && n.binds == 3, "syncs %d parses %d binds %d",
              n.syncs, n.parses, n.binds);

    /* the statement cache off does the same; the statements it evicted
     * are deallocated first, in an exchange of their own */
    pgd_conn_set_unnamed(c, 0);
    pgd_conn_set_stmt_cache_size(c, 0);
    TRACED(c, n, pgd_conn_send_pipeline(c, 3, sqls, np, pv));
    CHECK(st_ == PGD_OK);
    drop_results(c);
    CHECK_MSG(n.syncs == 2 && n.binds == 4, "syncs %d binds %d", n.syncs, n.binds); /* +1: DEALLOCATE */
    TRACED(c, n, pgd_conn_send_pipeline(c, 3, sqls, np, pv));
    CHECK(st_ == PGD_OK);
    drop_results(c);
    CHECK(n.syncs == 1 && n.binds == 3);
    TRACED(c, n, pgd_conn_send_query(c, sqls[1], 1, b));
    CHECK(st_ == PGD_OK);
    CHECK_NEXT(c, "'hi!'");
    CHECK(n.syncs == 1 && n.parses == 1);
    CHECK(prepared_count(c) == 0);
    pgd_conn_set_stmt_cache_size(c, 256);
}

/* Per-database types: the pg_type query runs in the same exchange, and
 * the user's statement is parsed again after it. */
static void test_types(pgd_conn *c)
{
    const char *sqls[2] = {"SELECT $1::t_un_mood", "SELECT 5::t_un_pos"};
    size_t np[2] = {1, 0};
    pgd_value p[1];
    const pgd_value *pv[2] = {p, NULL};
    sent n;
    int st_;

    CHECK(t_simple(c, "DROP TYPE IF EXISTS t_un_mood; DROP DOMAIN IF EXISTS t_un_pos;"
                      " CREATE TYPE t_un_mood AS ENUM ('calm', 'glad');"
                      " CREATE DOMAIN t_un_pos AS int4 CHECK (VALUE > 0)") == PGD_OK);
    drop_results(c);
    pgd_conn_set_unnamed(c, 1);
    p[0] = t_str("glad");
    TRACED(c, n, pgd_conn_send_pipeline(c, 2, sqls, np, pv));
    CHECK(st_ == PGD_OK);
    CHECK_NEXT(c, "'glad'");
    CHECK_NEXT(c, "5");
    /* Parse x2 (describe), the pg_type query, Parse x2 (describe again),
     * Parse x2 (before each Bind) */
    CHECK_MSG(n.syncs == 1 && n.parses == 7, "syncs %d parses %d", n.syncs, n.parses);
    /* known now: no pg_type query */
    TRACED(c, n, pgd_conn_send_query(c, sqls[0], 1, p));
    CHECK(st_ == PGD_OK);
    CHECK_NEXT(c, "'glad'");
    CHECK(n.syncs == 1 && n.parses == 1);
    pgd_conn_set_unnamed(c, 0);
    CHECK(t_simple(c, "DROP TYPE t_un_mood; DROP DOMAIN t_un_pos") == PGD_OK);
    drop_results(c);
}

/* Failures while the exchange is open: the Sync still goes out, the
 * connection stays usable, and inside a transaction block the block is
 * failed as after any error. */
static void test_failures(pgd_conn *c)
{
    const char *sqls[3] = {"SELECT 1", "SELEC 2", "SELECT 3"};
    size_t np[3] = {0, 0, 0};
    const pgd_value *pv[3] = {NULL, NULL, NULL};
    pgd_value p[1];
    sent n;
    int st_;

    pgd_conn_set_unnamed(c, 1);
    /* a Parse error in the middle of a pipeline */
    TRACED(c, n, pgd_conn_send_pipeline(c, 3, sqls, np, pv));
    CHECK(st_ == PGD_ERROR);
    CHECK_STREQ(pgd_conn_error(c)->sqlstate, "42601");
    CHECK(pgd_conn_error(c)->index == 1);
    CHECK(n.syncs == 1 && n.binds == 0);
    CHECK(pgd_conn_is_ok(c) && pgd_conn_txstate(c) == PGD_TX_IDLE);

    /* wrong parameter count: found after the Describe, before any Bind */
    TRACED(c, n, pgd_conn_send_query(c, "SELECT $1::int4", 0, NULL));
    CHECK(st_ == PGD_ERROR);
    CHECK(pgd_conn_error(c)->kind == PGD_E_USAGE);
    CHECK(n.syncs == 1 && n.binds == 0);
    CHECK(pgd_conn_is_ok(c) && pgd_conn_txstate(c) == PGD_TX_IDLE);

    /* an error at Execute */
    p[0] = t_int(0);
    TRACED(c, n, pgd_conn_send_query(c, "SELECT 1 / $1::int4", 1, p));
    CHECK(st_ == PGD_ERROR);
    CHECK_STREQ(pgd_conn_error(c)->sqlstate, "22012");
    CHECK(n.syncs == 1);
    p[0] = t_int(4);
    CHECK(t_query(c, "SELECT 8 / $1::int4", 1, p) == PGD_OK);
    CHECK_NEXT(c, "2");

    /* inside a transaction block */
    CHECK(t_simple(c, "BEGIN") == PGD_OK);
    drop_results(c);
    CHECK(t_query(c, "SELEC 1", 0, NULL) == PGD_ERROR);
    CHECK(pgd_conn_txstate(c) == PGD_TX_INERROR);
    CHECK(t_query(c, "SELECT 1", 0, NULL) == PGD_ERROR);
    CHECK_STREQ(pgd_conn_error(c)->sqlstate, "25P02");
    CHECK(t_simple(c, "ROLLBACK") == PGD_OK);
    drop_results(c);
    CHECK(pgd_conn_txstate(c) == PGD_TX_IDLE);
    CHECK(t_query(c, "SELECT 5", 0, NULL) == PGD_OK);
    CHECK_NEXT(c, "5");
    pgd_conn_set_unnamed(c, 0);
}

/* A cancel before the Describe's answer: no Bind goes out, the Sync does. */
static void test_cancel(pgd_conn *c)
{
    pgd_value p[1];
    FILE *f;
    sent n;
    int rc;

    pgd_conn_set_unnamed(c, 1);
    p[0] = t_int(3);
    f = trace_on(c);
    rc = pgd_conn_send_query(c, "SELECT $1::int4 * 2", 1, p);
    CHECK(rc > 0);
    CHECK(pgd_conn_cancel(c) == PGD_OK);
    CHECK(t_run(c, rc) == PGD_ERROR);
    n = trace_off(c, f);
    CHECK_STREQ(pgd_conn_error(c)->sqlstate, "57014");
    CHECK_MSG(n.syncs == 1 && n.binds == 0, "syncs %d binds %d", n.syncs, n.binds);
    CHECK(pgd_conn_is_ok(c) && pgd_conn_txstate(c) == PGD_TX_IDLE);
    CHECK(t_query(c, "SELECT $1::int4 * 2", 1, p) == PGD_OK);
    CHECK_NEXT(c, "6");
    pgd_conn_set_unnamed(c, 0);
}

int main(void)
{
    pgd_conn *c;

    t_dsn();
    c = t_connect();
    test_single(c);
    test_batch_pipeline(c);
    test_types(c);
    test_failures(c);
    test_cancel(c);
    pgd_conn_free(c);
    pgd_registry_free((pgd_registry *)t_reg);
    return t_done("test_unnamed");
}
