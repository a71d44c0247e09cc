/*
 * test_pipeline.c - batches and pipelines in libpq pipeline mode, and
 * cancel, against a real server (PSQLPY_TEST_DSN): 10,000 rows with one
 * Sync, a failing row (index reported, nothing kept), a pipeline with an
 * error in the middle, repeated and uncached statements in one pipeline,
 * cached statements the server invalidates (prepared again),
 * cancel of pg_sleep followed by a correct query, and a disconnect while
 * a batch is still being sent (nothing of it is committed).
 */
#include "tutil.h"

#include <sys/socket.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void drop_results(pgd_conn *c)
{
    pgd_result *r;

    while ((r = pgd_conn_take_result(c)) != NULL)
        pgd_result_free(r);
}

#define NROWS 10000

static void test_batch(pgd_conn *c)
{
    static pgd_value rows[NROWS * 2];
    static char texts[NROWS][16];
    pgd_result *r;
    int i, n, ok;

    CHECK(t_simple(c, "CREATE TEMP TABLE tb (id int4 PRIMARY KEY, v text)") == PGD_OK);
    drop_results(c);
    for (i = 0; i < NROWS; i++) {
        snprintf(texts[i], sizeof texts[i], "v%d", i);
        rows[2 * i] = t_int(i);
        rows[2 * i + 1] = t_str(texts[i]);
    }
    CHECK(t_run(c, pgd_conn_send_batch(c, "INSERT INTO tb VALUES ($1, $2)", NROWS, 2, rows)) ==
          PGD_OK);
    for (n = 0, ok = 1; (r = pgd_conn_take_result(c)) != NULL; n++) {
        if (pgd_result_affected(r) != 1 || strcmp(pgd_result_command(r), "INSERT 0 1") != 0)
            ok = 0;
        pgd_result_free(r);
    }
    CHECK_MSG(n == NROWS, "%d results", n);
    CHECK(ok);
    CHECK_SCALAR(c, "SELECT count(*)::int4 FROM tb", "10000");
    CHECK_SCALAR(c, "SELECT v FROM tb WHERE id = 9999", "'v9999'");

    /* a batch returning rows: one result per row, in order */
    CHECK(t_run(c, pgd_conn_send_batch(c, "SELECT v FROM tb WHERE id = $1", 3, 1,
                                       (pgd_value[]){t_int(5), t_int(7), t_int(-1)})) == PGD_OK);
    CHECK_NEXT(c, "'v5'");
    CHECK_NEXT(c, "'v7'");
    r = pgd_conn_take_result(c);
    CHECK(r && pgd_result_nrows(r) == 0);
    pgd_result_free(r);
    CHECK(pgd_conn_take_result(c) == NULL);

    /* row 57 collides: the failing row's index, and none of the batch stays */
    for (i = 0; i < 100; i++) {
        rows[2 * i] = t_int(NROWS + i);
        rows[2 * i + 1] = t_str("new");
    }
    rows[2 * 57] = t_int(3);
    CHECK(t_run(c, pgd_conn_send_batch(c, "INSERT INTO tb VALUES ($1, $2)", 100, 2, rows)) ==
          PGD_ERROR);
    CHECK(pgd_conn_error(c)->kind == PGD_E_SERVER);
    CHECK_STREQ(pgd_conn_error(c)->sqlstate, "23505");
    CHECK_MSG(pgd_conn_error(c)->index == 57, "index %d", pgd_conn_error(c)->index);
    CHECK(pgd_conn_take_result(c) == NULL);
    CHECK(pgd_conn_is_ok(c) && !pgd_conn_is_busy(c));
    CHECK(pgd_conn_txstate(c) == PGD_TX_IDLE);
    /* out of pipeline mode: a simple query works (libpq refuses it in
     * pipeline mode) */
    CHECK_SCALAR(c, "SELECT count(*)::int4 FROM tb", "10000");

    /* an encode error in row 42 sends nothing */
    rows[2 * 57] = t_int(NROWS + 57);
    rows[2 * 42 + 1] = t_int(1);
    CHECK(pgd_conn_send_batch(c, "INSERT INTO tb VALUES ($1, $2)", 100, 2, rows) == PGD_ERROR);
    CHECK(pgd_conn_error(c)->kind == PGD_E_ENCODE);
    CHECK_CONTAINS(pgd_conn_error(c)->message, "row 42");
    CHECK(pgd_conn_error(c)->index == 1);
    CHECK_SCALAR(c, "SELECT count(*)::int4 FROM tb", "10000");

    /* inside the caller's transaction: a failing batch fails the transaction */
    rows[2 * 42 + 1] = t_str("new");
    rows[2 * 57] = t_int(3);
    CHECK(t_simple(c, "BEGIN") == PGD_OK);
    drop_results(c);
    CHECK(t_run(c, pgd_conn_send_batch(c, "INSERT INTO tb VALUES ($1, $2)", 100, 2, rows)) ==
          PGD_ERROR);
    CHECK(pgd_conn_txstate(c) == PGD_TX_INERROR);
    CHECK(t_simple(c, "ROLLBACK") == PGD_OK);
    drop_results(c);

    /* no rows: nothing to do */
    CHECK(pgd_conn_send_batch(c, "INSERT INTO tb VALUES ($1, $2)", 0, 2, rows) == PGD_OK);
    CHECK(pgd_conn_take_result(c) == NULL);
    CHECK(!pgd_conn_is_busy(c));
}

static void test_pipeline(pgd_conn *c)
{
    const char *sqls[4];
    size_t np[4];
    const pgd_value *pv[4];
    pgd_value a[1], b[2];
    pgd_result *r;
    int i;

    /* in order, each with its own parameters; the first and last share a
     * statement that is not prepared yet */
    a[0] = t_int(10);
    b[0] = t_int(2);
    b[1] = t_int(3);
    sqls[0] = "SELECT $1::int4 * 2 AS x";
    np[0] = 1;
    pv[0] = a;
    sqls[1] = "SELECT $1::int4 + $2::int4";
    np[1] = 2;
    pv[1] = b;
    sqls[2] = "SELECT 'three'::text";
    np[2] = 0;
    pv[2] = NULL;
    sqls[3] = sqls[0];
    np[3] = 1;
    pv[3] = b;
    CHECK(t_run(c, pgd_conn_send_pipeline(c, 4, sqls, np, pv)) == PGD_OK);
    CHECK_NEXT(c, "20");
    CHECK_NEXT(c, "5");
    CHECK_NEXT(c, "'three'");
    CHECK_NEXT(c, "4");
    CHECK(pgd_conn_take_result(c) == NULL);
    /* again, everything cached now */
    CHECK(t_run(c, pgd_conn_send_pipeline(c, 4, sqls, np, pv)) == PGD_OK);
    for (i = 0; (r = pgd_conn_take_result(c)) != NULL; i++)
        pgd_result_free(r);
    CHECK(i == 4);

    /* an error in the middle: its index, the rest skipped, nothing kept */
    CHECK(t_simple(c, "CREATE TEMP TABLE tp (n int4)") == PGD_OK);
    drop_results(c);
    sqls[0] = "INSERT INTO tp VALUES (1)";
    sqls[1] = "SELECT 1 / $1::int4";
    sqls[2] = "INSERT INTO tp VALUES (3)";
    np[0] = np[2] = 0;
    pv[0] = pv[2] = NULL;
    a[0] = t_int(0);
    np[1] = 1;
    pv[1] = a;
    CHECK(t_run(c, pgd_conn_send_pipeline(c, 3, sqls, np, pv)) == PGD_ERROR);
    CHECK(pgd_conn_error(c)->kind == PGD_E_SERVER);
    CHECK_STREQ(pgd_conn_error(c)->sqlstate, "22012");
    CHECK(pgd_conn_error(c)->index == 1);
    CHECK(pgd_conn_take_result(c) == NULL);
    CHECK(pgd_conn_is_ok(c) && !pgd_conn_is_busy(c));
    CHECK_SCALAR(c, "SELECT count(*)::int4 FROM tp", "0");

    /* a statement that does not parse: its index */
    sqls[1] = "SELEC 2";
    np[1] = 0;
    pv[1] = NULL;
    CHECK(t_run(c, pgd_conn_send_pipeline(c, 3, sqls, np, pv)) == PGD_ERROR);
    CHECK_STREQ(pgd_conn_error(c)->sqlstate, "42601");
    CHECK(pgd_conn_error(c)->index == 1);
    CHECK_SCALAR(c, "SELECT count(*)::int4 FROM tp", "0");

    /* wrong parameter count for query 1: usage error, nothing runs */
    sqls[1] = "SELECT $1::int4";
    np[1] = 0;
    CHECK(t_run(c, pgd_conn_send_pipeline(c, 3, sqls, np, pv)) == PGD_ERROR);
    CHECK(pgd_conn_error(c)->kind == PGD_E_USAGE);
    CHECK(pgd_conn_error(c)->index == 1);
    CHECK_SCALAR(c, "SELECT count(*)::int4 FROM tp", "0");

    /* the statement cache disabled: unnamed statements, one exchange each */
    pgd_conn_set_stmt_cache_size(c, 0);
    np[1] = 1;
    pv[1] = a;
    a[0] = t_int(8);
    CHECK(t_run(c, pgd_conn_send_pipeline(c, 3, sqls, np, pv)) == PGD_OK);
    drop_results(c);
    CHECK(t_run(c, pgd_conn_send_query(c, "SELECT 1", 0, NULL)) == PGD_OK);
    drop_results(c);
    CHECK_SCALAR(c, "SELECT count(*)::int4 FROM pg_prepared_statements", "0");
    CHECK_SCALAR(c, "SELECT string_agg(n::text, ',' ORDER BY n) FROM tp", "'1,3'");
    pgd_conn_set_stmt_cache_size(c, 256);
}

/* Number of columns of the next result (-1 when there is none); frees it. */
static int next_ncols(pgd_conn *c)
{
    pgd_result *r = pgd_conn_take_result(c);
    int n = r ? pgd_result_ncols(r) : -1;

    if (r)
        pgd_result_free(r);
    drop_results(c);
    return n;
}

/* A cached statement the server invalidates: the table under SELECT * gets
 * another column (0A000 "cached plan must not change result type"), or the
 * user deallocates every statement (26000).  The failing call reports the
 * server's error; the statement is prepared again for the next one, as a
 * single query and inside a pipeline. */
static void test_invalidated_statement(pgd_conn *c)
{
    const char *sqls[2] = {"SELECT * FROM ti", "SELECT 1"};
    size_t np[2] = {0, 0};
    const pgd_value *pv[2] = {NULL, NULL};
    int i;

    CHECK(t_simple(c, "CREATE TEMP TABLE ti (a int4)") == PGD_OK);
    drop_results(c);
    for (i = 0; i < 2; i++) {
        CHECK(t_query(c, sqls[0], 0, NULL) == PGD_OK);
        CHECK(next_ncols(c) == 1);
    }
    CHECK(t_simple(c, "ALTER TABLE ti ADD COLUMN b text") == PGD_OK);
    drop_results(c);
    CHECK(t_query(c, sqls[0], 0, NULL) == PGD_ERROR);
    CHECK_STREQ(pgd_conn_error(c)->sqlstate, "0A000");
    drop_results(c);
    for (i = 0; i < 2; i++) {
        CHECK(t_query(c, sqls[0], 0, NULL) == PGD_OK);
        CHECK_MSG(next_ncols(c) == 2, "run %d after ALTER TABLE", i);
    }

    /* the same in a pipeline: the failing query's index, then prepared again */
    CHECK(t_run(c, pgd_conn_send_pipeline(c, 2, sqls, np, pv)) == PGD_OK);
    drop_results(c);
    CHECK(t_simple(c, "ALTER TABLE ti ADD COLUMN c int8") == PGD_OK);
    drop_results(c);
    CHECK(t_run(c, pgd_conn_send_pipeline(c, 2, sqls, np, pv)) == PGD_ERROR);
    CHECK_STREQ(pgd_conn_error(c)->sqlstate, "0A000");
    CHECK(pgd_conn_error(c)->index == 0);
    drop_results(c);
    for (i = 0; i < 2; i++) {
        CHECK(t_run(c, pgd_conn_send_pipeline(c, 2, sqls, np, pv)) == PGD_OK);
        CHECK_MSG(next_ncols(c) == 3, "pipeline run %d after ALTER TABLE", i);
    }

    /* DEALLOCATE ALL behind the cache's back */
    CHECK(t_simple(c, "DEALLOCATE ALL") == PGD_OK);
    drop_results(c);
    CHECK(t_query(c, sqls[0], 0, NULL) == PGD_ERROR);
    CHECK_STREQ(pgd_conn_error(c)->sqlstate, "26000");
    drop_results(c);
    for (i = 0; i < 2; i++) {
        CHECK(t_query(c, sqls[0], 0, NULL) == PGD_OK);
        CHECK(next_ncols(c) == 3);
    }
    CHECK(t_simple(c, "DROP TABLE ti") == PGD_OK);
    drop_results(c);
}

static void test_cancel(pgd_conn *c)
{
    double t0;
    int rc;

    t0 = now();
    rc = pgd_conn_send_query(c, "SELECT pg_sleep(10)", 0, NULL);
    CHECK(rc > 0);
    /* drive it until the query is running on the server (200 ms) */
    while (rc > 0 && now() - t0 < 0.2) {
        if (t_wait(pgd_conn_socket(c), rc, 50) == 0)
            rc = pgd_conn_io(c);
    }
    CHECK(pgd_conn_is_busy(c));
    CHECK(pgd_conn_cancel(c) == PGD_OK);
    rc = t_run(c, rc);
    CHECK(rc == PGD_ERROR);
    CHECK_STREQ(pgd_conn_error(c)->sqlstate, "57014");
    CHECK_MSG(now() - t0 < 5.0, "cancel took %.1f s", now() - t0);
    CHECK(pgd_conn_is_ok(c) && !pgd_conn_is_busy(c));
    /* the next query is correct */
    CHECK(t_query(c, "SELECT 41::int4 + 1", 0, NULL) == PGD_OK);
    CHECK_NEXT(c, "42");
    /* cancelling when idle is harmless */
    CHECK(pgd_conn_cancel(c) == PGD_OK);
    CHECK_SCALAR(c, "SELECT 1", "1");
}

/* A 2 MB parameter, far larger than the (shrunk) socket buffer: the send reports
 * PGD_WANT_WRITE and the caller's writable/readable loop finishes it. */
static void test_large_write(pgd_conn *c)
{
    size_t n = (size_t)2 << 20;
    char *big = malloc(n);
    pgd_value p[1];
    int rc;

    if (!big) {
        CHECK(big != NULL);
        return;
    }
    memset(big, 'x', n);
    p[0].kind = PGD_V_STR;
    p[0].pin_oid = 0;
    p[0].u.s.p = big;
    p[0].u.s.n = n;
    /* prepared first, so the send itself carries the 2 MB */
    CHECK(t_query(c, "SELECT length($1::text)", 1, (pgd_value[]){t_str("abc")}) == PGD_OK);
    pgd_result_free(pgd_conn_take_result(c));
    /* a small send buffer, so the kernel cannot take it all at once
     * however fast the server reads */
    {
        int sz = 4096;

        CHECK(setsockopt(pgd_conn_socket(c), SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz) == 0);
    }
    rc = pgd_conn_send_query(c, "SELECT length($1::text)", 1, p);
    CHECK_MSG(rc > 0 && (rc & PGD_WANT_WRITE), "rc %d", rc);
    CHECK(t_run(c, rc) == PGD_OK);
    CHECK_NEXT(c, "2097152");
    free(big);
}

/* 50,000 rows (about 2 MB of Bind/Execute) behind a 4 KB send buffer,
 * while another session holds a lock on the table so that the server stops
 * reading at the first row: the output is certainly still queued when
 * pgd_conn_disconnect() is called, so the final Sync is never sent and the
 * server rolls the implicit transaction back when it sees the connection
 * end, whatever it executes after the lock is released.  Seen from another
 * connection once the backend has exited: none of the rows. */
#define NDISC 50000

static void test_disconnect_unsent(pgd_conn *obs)
{
    static pgd_value rows[NDISC];
    pgd_conn *c = t_connect();
    char *pid = t_scalar(c, "SELECT pg_backend_pid()"), sql[160], *n;
    double t0;
    int i, rc, sz = 4096, gone = 0;

    CHECK(pid != NULL);
    CHECK(t_simple(obs, "DROP TABLE IF EXISTS pgd_disc_probe; "
                        "CREATE TABLE pgd_disc_probe (id int4)") == PGD_OK);
    drop_results(obs);
    for (i = 0; i < NDISC; i++)
        rows[i] = t_int(i);
    /* prepared first, so the send below queues all of the Bind/Execute */
    CHECK(t_run(c, pgd_conn_send_batch(c, "INSERT INTO pgd_disc_probe VALUES ($1)", 1, 1,
                                       (pgd_value[]){t_int(-1)})) == PGD_OK);
    drop_results(c);
    CHECK(setsockopt(pgd_conn_socket(c), SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz) == 0);
    CHECK(t_simple(obs, "BEGIN; LOCK TABLE pgd_disc_probe IN ACCESS EXCLUSIVE MODE") == PGD_OK);
    drop_results(obs);
    rc = pgd_conn_send_batch(c, "INSERT INTO pgd_disc_probe VALUES ($1)", NDISC, 1, rows);
    CHECK_MSG(rc > 0 && (rc & PGD_WANT_WRITE), "rc %d", rc);
    /* push what the socket takes */
    for (i = 0; i < 5 && rc > 0 && (rc & PGD_WANT_WRITE); i++) {
        if (t_wait(pgd_conn_socket(c), rc, 50) == 0)
            rc = pgd_conn_io(c);
    }
    CHECK_MSG(rc > 0 && (rc & PGD_WANT_WRITE), "the batch was all sent (rc %d)", rc);
    pgd_conn_disconnect(c);
    CHECK(!pgd_conn_is_ok(c) && !pgd_conn_is_busy(c));
    CHECK(pgd_conn_socket(c) == -1);
    CHECK(pgd_conn_io(c) == PGD_ERROR);
    CHECK(pgd_conn_error(c)->kind == PGD_E_IO);
    CHECK(pgd_conn_take_result(c) == NULL);
    CHECK(pgd_conn_send_query(c, "SELECT 1", 0, NULL) == PGD_ERROR);
    pgd_conn_free(c);
    CHECK(t_simple(obs, "COMMIT") == PGD_OK); /* the backend may run what it has read */
    drop_results(obs);

    snprintf(sql, sizeof sql, "SELECT count(*)::int4 FROM pg_stat_activity WHERE pid = %s",
             pid ? pid : "0");
    free(pid);
    for (t0 = now(); !gone && now() - t0 < 10.0;) {
        n = t_scalar(obs, sql);
        gone = n && strcmp(n, "0") == 0;
        free(n);
        if (!gone)
            nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
    }
    CHECK_MSG(gone, "the backend did not end");
    CHECK_SCALAR(obs, "SELECT count(*)::int4 FROM pgd_disc_probe WHERE id >= 0", "0");
    CHECK_SCALAR(obs, "SELECT count(*)::int4 FROM pgd_disc_probe", "1");
    CHECK(t_simple(obs, "DROP TABLE pgd_disc_probe") == PGD_OK);
    drop_results(obs);

    /* an idle connection: just closed */
    c = t_connect();
    pgd_conn_disconnect(c);
    CHECK(!pgd_conn_is_ok(c));
    pgd_conn_free(c);
}

int main(void)
{
    pgd_conn *c;

    t_dsn();
    c = t_connect();
    test_batch(c);
    test_pipeline(c);
    test_invalidated_statement(c);
    test_cancel(c);
    test_large_write(c);
    pgd_conn_free(c);
    c = t_connect();
    test_disconnect_unsent(c);
    pgd_conn_free(c);
    pgd_registry_free((pgd_registry *)t_reg);
    return t_done("test_pipeline");
}
