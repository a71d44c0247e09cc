/*
 * test_pool.c - pool bookkeeping against a real server (PSQLPY_TEST_DSN):
 * grow up to max_size, take the most recently returned idle connection,
 * put back, discard, broken connections dropped on put, and the recycling
 * SQL: CLEAN resets session state but keeps prepared statements.
 */
#include <unistd.h>

#include "tutil.h"

static int connect_conn(pgd_conn *c)
{
    int rc = pgd_conn_connect_start(c);

    while (rc > 0) {
        if (t_wait(pgd_conn_socket(c), rc, 30000) != 0)
            return PGD_ERROR;
        rc = pgd_conn_connect_poll(c);
    }
    return rc;
}

static void run_ok(pgd_conn *c, const char *sql)
{
    pgd_result *r;

    CHECK_MSG(t_simple(c, sql) == PGD_OK, "%s: %s", sql, pgd_conn_error(c)->message);
    while ((r = pgd_conn_take_result(c)) != NULL)
        pgd_result_free(r);
}

static void test_bookkeeping(void)
{
    const char *keys[] = {"dbname", NULL}, *vals[] = {t_dsn(), NULL};
    pgd_pool *p = pgd_pool_new(keys, vals, 2, PGD_RECYCLE_CLEAN, t_registry());
    pgd_conn *a, *b, *x;

    CHECK(p != NULL);
    if (!p)
        return;
    CHECK(pgd_pool_new(keys, vals, 0, PGD_RECYCLE_FAST, t_registry()) == NULL);
    CHECK(pgd_pool_max_size(p) == 2);
    CHECK(pgd_pool_recycle_method(p) == PGD_RECYCLE_CLEAN);
    CHECK(pgd_pool_size(p) == 0 && pgd_pool_idle(p) == 0);
    CHECK(pgd_pool_take_idle(p) == NULL);

    a = pgd_pool_grow(p);
    b = pgd_pool_grow(p);
    CHECK(a && b && a != b);
    CHECK(pgd_pool_grow(p) == NULL); /* full */
    CHECK(pgd_pool_size(p) == 2 && pgd_pool_idle(p) == 0);
    CHECK(connect_conn(a) == PGD_OK);
    CHECK(connect_conn(b) == PGD_OK);
    CHECK_SCALAR(a, "SELECT 1", "1");

    /* most recently returned first */
    pgd_pool_put(p, a);
    pgd_pool_put(p, b);
    CHECK(pgd_pool_idle(p) == 2);
    pgd_pool_put(p, b); /* twice: still counted once */
    CHECK(pgd_pool_idle(p) == 2);
    x = pgd_pool_take_idle(p);
    CHECK(x == b);
    x = pgd_pool_take_idle(p);
    CHECK(x == a);
    CHECK(pgd_pool_take_idle(p) == NULL);
    CHECK(pgd_pool_size(p) == 2 && pgd_pool_idle(p) == 0);

    /* a busy connection given back is dropped, and the pool can grow again */
    CHECK(pgd_conn_send_query(a, "SELECT pg_sleep(0.05)", 0, NULL) > 0);
    pgd_pool_put(p, a);
    CHECK(pgd_pool_size(p) == 1 && pgd_pool_idle(p) == 0);
    a = pgd_pool_grow(p);
    CHECK(a != NULL);
    CHECK(pgd_pool_size(p) == 2);
    /* never connected: not ok, dropped on put */
    pgd_pool_put(p, a);
    CHECK(pgd_pool_size(p) == 1);

    /* discard an idle one */
    pgd_pool_put(p, b);
    CHECK(pgd_pool_idle(p) == 1);
    pgd_pool_discard(p, b);
    CHECK(pgd_pool_size(p) == 0 && pgd_pool_idle(p) == 0);

    /* resize: up makes room at once; down below the size closes nothing
     * but refuses to grow until enough are gone */
    CHECK(pgd_pool_resize(p, 0) == PGD_ERROR && pgd_pool_max_size(p) == 2);
    CHECK(pgd_pool_resize(p, 5) == PGD_OK && pgd_pool_max_size(p) == 5);
    {
        pgd_conn *g[5];
        int i;

        for (i = 0; i < 5; i++)
            g[i] = pgd_pool_grow(p);
        CHECK(g[4] != NULL && pgd_pool_grow(p) == NULL && pgd_pool_size(p) == 5);
        CHECK(pgd_pool_resize(p, 1) == PGD_OK && pgd_pool_size(p) == 5);
        CHECK(pgd_pool_grow(p) == NULL);
        for (i = 0; i < 5; i++)
            pgd_pool_discard(p, g[i]);
        CHECK(pgd_pool_size(p) == 0);
        a = pgd_pool_grow(p);
        CHECK(a != NULL && pgd_pool_grow(p) == NULL);
        pgd_pool_discard(p, a);
    }

    /* lent connections are freed with the pool */
    a = pgd_pool_grow(p);
    CHECK(a && connect_conn(a) == PGD_OK);
    pgd_pool_free(p);
}

static void test_recycle(void)
{
    pgd_conn *c = t_connect();
    const char *clean = pgd_recycle_sql(PGD_RECYCLE_CLEAN);
    char *s;

    CHECK(pgd_recycle_sql(PGD_RECYCLE_FAST) == NULL);
    CHECK(pgd_recycle_sql(PGD_RECYCLE_VERIFIED) != NULL);
    CHECK(clean != NULL);
    CHECK(!t_contains(clean, "DEALLOCATE"));
    run_ok(c, pgd_recycle_sql(PGD_RECYCLE_VERIFIED));

    /* dirty the session */
    CHECK(t_query(c, "SELECT 7::int4 AS kept", 0, NULL) == PGD_OK);
    pgd_result_free(pgd_conn_take_result(c));
    run_ok(c, "SET search_path = pg_catalog");
    run_ok(c, "SET DateStyle = 'German'");
    run_ok(c, "CREATE TEMP TABLE dirt (n int4)");
    run_ok(c, "LISTEN somewhere");
    run_ok(c, "SELECT pg_advisory_lock(4242)");
    run_ok(c, "BEGIN; DECLARE cur CURSOR WITH HOLD FOR SELECT 1; COMMIT");
    CHECK_SCALAR(c, "SELECT count(*)::int4 FROM pg_locks WHERE locktype = 'advisory' "
                    "AND pid = pg_backend_pid()", "1");

    run_ok(c, clean);

    CHECK_SCALAR(c, "SHOW search_path", "'\"$user\", public'");
    /* back to the connection's own settings, not the server default */
    CHECK_SCALAR(c, "SHOW DateStyle", "'ISO, MDY'");
    CHECK_SCALAR(c, "SELECT count(*)::int4 FROM pg_class WHERE relname = 'dirt' "
                    "AND relpersistence = 't'", "0");
    CHECK_SCALAR(c, "SELECT count(*)::int4 FROM pg_listening_channels()", "0");
    CHECK_SCALAR(c, "SELECT count(*)::int4 FROM pg_locks WHERE locktype = 'advisory' "
                    "AND pid = pg_backend_pid()", "0");
    CHECK_SCALAR(c, "SELECT count(*)::int4 FROM pg_cursors", "0");
    /* the prepared statement survives, and the cache still works */
    s = t_column(c, "SELECT statement FROM pg_prepared_statements");
    CHECK_STREQ(s, "'SELECT 7::int4 AS kept'");
    free(s);
    CHECK(pgd_conn_stmt_cache_count(c) == 1);
    CHECK(t_query(c, "SELECT 7::int4 AS kept", 0, NULL) == PGD_OK);
    CHECK_NEXT(c, "7");
    pgd_conn_free(c);
}

/* Deferred freeing: a connection the pool discards while its caller holds
 * it (a step of the event-loop adapter still on the stack) is closed at
 * once and freed at the last release; the sanitizer build checks that
 * nothing is read after the free and nothing leaks. */
static void test_deferred_free(void)
{
    const char *keys[] = {"dbname", NULL}, *vals[] = {t_dsn(), NULL};
    pgd_pool *p = pgd_pool_new(keys, vals, 2, PGD_RECYCLE_FAST, t_registry());
    pgd_conn *a, *b;
    int marker = 0;

    CHECK(p != NULL);
    if (!p)
        return;
    a = pgd_pool_grow(p);
    b = pgd_pool_grow(p);
    CHECK(a && b);
    CHECK(connect_conn(a) == PGD_OK && connect_conn(b) == PGD_OK);
    pgd_conn_set_userdata(a, &marker);
    char *pid = t_scalar(a, "SELECT pg_backend_pid()");
    CHECK(pid != NULL);

    /* held (twice: holds nest), then dropped by the pool */
    pgd_conn_hold(a);
    pgd_conn_hold(a);
    pgd_pool_discard(p, a);
    CHECK(pgd_pool_size(p) == 1);
    /* closed now: still readable, broken, its user data kept */
    CHECK(!pgd_conn_is_ok(a));
    CHECK(pgd_conn_socket(a) == -1);
    CHECK(pgd_conn_txstate(a) == PGD_TX_UNKNOWN);
    CHECK(pgd_conn_userdata(a) == &marker);
    /* ... and the server saw the session end (not when the memory goes) */
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_stat_activity WHERE pid = %s",
             pid ? pid : "0");
    int gone = 0;
    for (int i = 0; i < 3000 && !gone; i++) {
        char *n = t_scalar(b, sql);
        gone = n && strcmp(n, "0") == 0;
        free(n);
        if (!gone)
            usleep(10000);
    }
    CHECK(gone);
    free(pid);
    pgd_conn_unhold(a);
    CHECK(pgd_conn_userdata(a) == &marker); /* one hold left: still there */
    pgd_conn_unhold(a);                     /* freed here */

    /* a hold released without a free in between frees nothing */
    pgd_conn_hold(b);
    pgd_conn_unhold(b);
    CHECK(pgd_conn_is_ok(b));
    CHECK_SCALAR(b, "SELECT 1", "1");

    /* the pool freed while a connection is held: that one waits too */
    pgd_conn_hold(b);
    pgd_pool_free(p);
    CHECK(!pgd_conn_is_ok(b));
    pgd_conn_unhold(b);
}

int main(void)
{
    t_dsn();
    test_bookkeeping();
    test_recycle();
    test_deferred_free();
    pgd_registry_free((pgd_registry *)t_reg);
    return t_done("test_pool");
}
