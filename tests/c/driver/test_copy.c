/*
 * test_copy.c - COPY FROM STDIN / TO STDOUT through the driver, against the
 * server: raw text data in bounded chunks with backpressure, binary rows
 * from the row encoder (int4, text, NULL, the header and trailer once),
 * an encoder refusal naming row and column, an abort that the server rolls
 * back, chunks out compared with the rows, statements refused while a COPY
 * is in progress, and a statement that is not a COPY.
 */
#include "tutil.h"

/* Drive a COPY call to its end (same as any operation). */
static int run(pgd_conn *c, int rc) { return t_run(c, rc); }

static int64_t end_rows(pgd_conn *c)
{
    pgd_result *r = pgd_conn_take_result(c);
    int64_t n = r ? pgd_result_affected(r) : -1;

    pgd_result_free(r);
    return n;
}

static void test_text_in(pgd_conn *c)
{
    char line[64];
    int i, rc, wrote_wait = 0;

    CHECK(t_simple(c, "DROP TABLE IF EXISTS pgd_copy_t; "
                      "CREATE TABLE pgd_copy_t (id int, v text)") == PGD_OK);
    CHECK(run(c, pgd_conn_copy_start(c, "COPY pgd_copy_t FROM STDIN")) == PGD_OK);
    CHECK(pgd_conn_copy_dir(c) == PGD_COPY_IN);
    /* another operation is refused while the COPY is in progress */
    CHECK(pgd_conn_send_simple(c, "SELECT 1") == PGD_ERROR);
    CHECK_CONTAINS(pgd_conn_error(c)->message, "COPY is in progress");
    CHECK(pgd_conn_copy_dir(c) == PGD_COPY_IN);
    for (i = 0; i < 20000; i++) {
        int n = snprintf(line, sizeof line, "%d\tline %d\n", i, i);

        rc = pgd_conn_copy_put(c, line, (size_t)n);
        if (rc & PGD_WANT_WRITE)
            wrote_wait = 1;
        CHECK(run(c, rc) == PGD_OK);
    }
    (void)wrote_wait; /* whether the socket ever filled depends on the kernel */
    CHECK(run(c, pgd_conn_copy_end(c, NULL)) == PGD_OK);
    CHECK(end_rows(c) == 20000);
    CHECK(pgd_conn_copy_dir(c) == 0);
    CHECK_SCALAR(c, "SELECT count(*) FROM pgd_copy_t", "20000");
}

static void test_abort(pgd_conn *c)
{
    CHECK(run(c, pgd_conn_copy_start(c, "COPY pgd_copy_t FROM STDIN")) == PGD_OK);
    CHECK(run(c, pgd_conn_copy_put(c, "1\tx\n", 4)) == PGD_OK);
    CHECK(run(c, pgd_conn_copy_end(c, "stopped by the test")) == PGD_ERROR);
    CHECK_STREQ(pgd_conn_error(c)->sqlstate, "57014");
    CHECK_CONTAINS(pgd_conn_error(c)->message, "stopped by the test");
    CHECK(pgd_conn_is_ok(c));
    CHECK_SCALAR(c, "SELECT count(*) FROM pgd_copy_t", "20000");
}

static void test_bad_data(pgd_conn *c)
{
    CHECK(run(c, pgd_conn_copy_start(c, "COPY pgd_copy_t FROM STDIN")) == PGD_OK);
    CHECK(run(c, pgd_conn_copy_put(c, "not-an-int\tx\n", 13)) == PGD_OK);
    CHECK(run(c, pgd_conn_copy_end(c, NULL)) == PGD_ERROR);
    CHECK_STREQ(pgd_conn_error(c)->sqlstate, "22P02");
    CHECK(pgd_conn_is_ok(c));
    CHECK_SCALAR(c, "SELECT 41 + 1", "42");
}

/* The server refuses a row while the data keeps coming: a later put (or
 * the end) reports its error, and the connection is usable afterwards. */
static void test_error_while_putting(pgd_conn *c)
{
    char block[8192];
    int i, rc = PGD_OK;

    memset(block, 0, sizeof block);
    for (i = 0; i + 8 < (int)sizeof block; i += 8)
        memcpy(block + i, "7\tabcd\n", 7), block[i + 7] = '\n';
    CHECK(run(c, pgd_conn_copy_start(c, "COPY pgd_copy_t FROM STDIN")) == PGD_OK);
    CHECK(run(c, pgd_conn_copy_put(c, "bad\tx\n", 6)) == PGD_OK);
    for (i = 0; i < 5000 && rc == PGD_OK; i++)
        rc = run(c, pgd_conn_copy_put(c, block, (size_t)i % 2 ? 8 * 100 : 8 * 1000));
    if (rc == PGD_OK)
        rc = run(c, pgd_conn_copy_end(c, NULL));
    CHECK(rc == PGD_ERROR);
    CHECK_STREQ(pgd_conn_error(c)->sqlstate, "22P02");
    CHECK(pgd_conn_is_ok(c));
    CHECK(pgd_conn_copy_dir(c) == 0);
    CHECK_SCALAR(c, "SELECT count(*) FROM pgd_copy_t", "20000");
}

static void test_binary_rows(pgd_conn *c)
{
    const uint32_t oids[2] = {23, 25};
    const char *names[2] = {"id", "v"};
    pgd_value row[2];
    int i;

    CHECK(t_simple(c, "TRUNCATE pgd_copy_t") == PGD_OK);
    /* no rows: the header and trailer alone */
    CHECK(run(c, pgd_conn_copy_start(c, "COPY pgd_copy_t (id, v) FROM STDIN (FORMAT binary)")) ==
          PGD_OK);
    CHECK(pgd_conn_copy_set_columns(c, 2, oids, names) == PGD_OK);
    CHECK(run(c, pgd_conn_copy_end(c, NULL)) == PGD_OK);
    CHECK(end_rows(c) == 0);
    CHECK(run(c, pgd_conn_copy_start(c, "COPY pgd_copy_t (id, v) FROM STDIN (FORMAT binary)")) ==
          PGD_OK);
    CHECK(pgd_conn_copy_set_columns(c, 2, oids, names) == PGD_OK);
    for (i = 0; i < 1000; i++) {
        row[0] = t_int(i);
        row[1] = i % 10 == 0 ? t_null() : t_str("value");
        CHECK(pgd_conn_copy_encode_row(c, 2, row, i) == PGD_OK);
        if (pgd_conn_copy_buffered(c) > 4096)
            CHECK(run(c, pgd_conn_copy_put(c, NULL, 0)) == PGD_OK);
    }
    CHECK(pgd_conn_copy_buffered(c) < 4096);
    /* wrong count and a refused value: nothing of the row stays buffered */
    {
        size_t before = pgd_conn_copy_buffered(c);

        CHECK(pgd_conn_copy_encode_row(c, 1, row, 1000) == PGD_ERROR);
        CHECK_CONTAINS(pgd_conn_error(c)->message, "row 1000 has 1 value");
        row[0] = t_str("text for an int4");
        CHECK(pgd_conn_copy_encode_row(c, 2, row, 1001) == PGD_ERROR);
        CHECK(pgd_conn_error(c)->kind == PGD_E_ENCODE);
        CHECK(pgd_conn_error(c)->index == 0);
        CHECK_CONTAINS(pgd_conn_error(c)->message, "row 1001, column \"id\"");
        CHECK(pgd_conn_copy_buffered(c) == before);
    }
    CHECK(run(c, pgd_conn_copy_end(c, NULL)) == PGD_OK);
    CHECK(end_rows(c) == 1000);
    CHECK_SCALAR(c, "SELECT count(*) || '/' || count(v) || '/' || sum(id) FROM pgd_copy_t",
                 "'1000/900/499500'");
}

/* The encoders are planned by set_columns: a type without a binary
 * encoder and a codec's own refusal are reported with the column, and a
 * second set_columns replaces the plans. */
static void test_binary_row_plans(pgd_conn *c)
{
    const uint32_t text_only[2] = {23, 3614}; /* int4, tsvector: no codec here */
    const uint32_t oids[2] = {23, 25};
    const char *names[2] = {"id", "v"};
    pgd_value row[2];

    CHECK(t_simple(c, "TRUNCATE pgd_copy_t") == PGD_OK);
    CHECK(run(c, pgd_conn_copy_start(c, "COPY pgd_copy_t (id, v) FROM STDIN (FORMAT binary)")) ==
          PGD_OK);
    CHECK(pgd_conn_copy_set_columns(c, 2, text_only, names) == PGD_OK);
    row[0] = t_int(1);
    row[1] = t_str("a b");
    CHECK(pgd_conn_copy_encode_row(c, 2, row, 0) == PGD_ERROR);
    CHECK(pgd_conn_error(c)->index == 1);
    CHECK_CONTAINS(pgd_conn_error(c)->message,
                   "row 0, column \"v\" (oid 3614): no binary codec for this type");
    row[0] = t_int((int64_t)1 << 40);
    row[1] = t_null();
    CHECK(pgd_conn_copy_encode_row(c, 2, row, 7) == PGD_ERROR);
    CHECK_CONTAINS(pgd_conn_error(c)->message,
                   "row 7, column \"id\" (int4): 1099511627776 is out of range for int4");
    /* NULL needs no encoder */
    row[0] = t_int(5);
    CHECK(pgd_conn_copy_encode_row(c, 2, row, 8) == PGD_OK);
    CHECK(pgd_conn_copy_set_columns(c, 2, oids, names) == PGD_OK); /* drops row 8 */
    row[1] = t_str("five");
    CHECK(pgd_conn_copy_encode_row(c, 2, row, 0) == PGD_OK);
    row[0] = t_int(6);
    CHECK(pgd_conn_copy_encode_row(c, 2, row, 1) == PGD_OK);
    CHECK(run(c, pgd_conn_copy_end(c, NULL)) == PGD_OK);
    CHECK(end_rows(c) == 2);
    CHECK_SCALAR(c, "SELECT string_agg(id || ':' || v, ',' ORDER BY id) FROM pgd_copy_t",
                 "'5:five,6:five'");
}

/* The end of a COPY whose data is not all sent yet: tens of MB buffered
 * and handed over with the end fill the socket while the server works
 * through them, so the end must ask to be called when the socket is
 * writable again (before it was only read: the server never saw the end
 * and the COPY hung). */
static void test_end_with_output_pending(pgd_conn *c)
{
    const uint32_t oids[2] = {23, 25};
    const char *names[2] = {"id", "v"};
    pgd_value row[2];
    int i, rc;

    CHECK(t_simple(c, "TRUNCATE pgd_copy_t") == PGD_OK);
    CHECK(run(c, pgd_conn_copy_start(c, "COPY pgd_copy_t (id, v) FROM STDIN (FORMAT binary)")) ==
          PGD_OK);
    CHECK(pgd_conn_copy_set_columns(c, 2, oids, names) == PGD_OK);
    row[1] = t_str("twenty bytes of text");
    for (i = 0; i < 1000000; i++) {
        row[0] = t_int(i);
        if (pgd_conn_copy_encode_row(c, 2, row, i) != PGD_OK)
            break;
    }
    CHECK(i == 1000000);
    CHECK(pgd_conn_copy_buffered(c) > ((size_t)32 << 20));
    rc = pgd_conn_copy_end(c, NULL);
    /* usually WANT_WRITE too (the socket is full); when the server drained
     * it meanwhile, only WANT_READ: either way the COPY must now complete,
     * where before the fix it waited for an answer that never came */
    CHECK_MSG(rc & PGD_WANT_READ, "copy_end returned %d", rc);
    CHECK(run(c, rc) == PGD_OK);
    CHECK(end_rows(c) == 1000000);
    CHECK_SCALAR(c, "SELECT count(*) || '/' || sum(id) FROM pgd_copy_t", "'1000000/499999500000'");
}

static void test_out(pgd_conn *c)
{
    size_t total = 0, len;
    int chunks = 0, rc;
    const char *p;

    CHECK(run(c, pgd_conn_copy_start(c, "COPY (SELECT g, 'x' FROM generate_series(1, 50000) g) "
                                        "TO STDOUT")) == PGD_OK);
    CHECK(pgd_conn_copy_dir(c) == PGD_COPY_OUT);
    for (;;) {
        rc = run(c, pgd_conn_copy_get(c));
        CHECK(rc == PGD_OK);
        if (rc != PGD_OK)
            break;
        p = pgd_conn_copy_chunk(c, &len);
        if (!p)
            break;
        CHECK(len <= ((size_t)64 << 10) + 64);
        if (chunks == 0)
            CHECK(len >= 4 && memcmp(p, "1\tx\n", 4) == 0);
        total += len;
        chunks++;
    }
    CHECK(end_rows(c) == 50000);
    CHECK(chunks > 1);
    /* the lengths of "g\tx\n" for g in 1..50000 */
    CHECK_MSG(total == 9 * 4 + 90 * 5 + 900 * 6 + 9000 * 7 + 40001 * 8, "total %zu", total);
    CHECK(pgd_conn_copy_dir(c) == 0);
    CHECK_SCALAR(c, "SELECT 'after'", "'after'");
}

static void test_out_cancel(pgd_conn *c)
{
    CHECK(run(c, pgd_conn_copy_start(c, "COPY (SELECT repeat('y', 100) FROM "
                                        "generate_series(1, 10000000)) TO STDOUT")) == PGD_OK);
    CHECK(run(c, pgd_conn_copy_get(c)) == PGD_OK);
    CHECK(pgd_conn_copy_chunk(c, NULL) != NULL);
    CHECK(pgd_conn_cancel(c) == PGD_OK);
    CHECK(run(c, pgd_conn_copy_discard(c)) == PGD_ERROR);
    CHECK_STREQ(pgd_conn_error(c)->sqlstate, "57014");
    CHECK(pgd_conn_is_ok(c));
    CHECK_SCALAR(c, "SELECT 'usable'", "'usable'");
}

static void test_not_a_copy(pgd_conn *c)
{
    CHECK(run(c, pgd_conn_copy_start(c, "SELECT 1")) == PGD_ERROR);
    CHECK_CONTAINS(pgd_conn_error(c)->message, "not a COPY");
    CHECK(run(c, pgd_conn_copy_start(c, "COPY no_such_table_pgd FROM STDIN")) == PGD_ERROR);
    CHECK_STREQ(pgd_conn_error(c)->sqlstate, "42P01");
    CHECK(pgd_conn_copy_put(c, "x", 1) == PGD_ERROR);
    CHECK_CONTAINS(pgd_conn_error(c)->message, "without a COPY");
    CHECK_SCALAR(c, "SELECT 'still'", "'still'");
    CHECK(t_simple(c, "DROP TABLE pgd_copy_t") == PGD_OK);
}

int main(void)
{
    pgd_conn *c;

    t_dsn();
    c = t_connect();
    test_text_in(c);
    test_abort(c);
    test_bad_data(c);
    test_error_while_putting(c);
    test_binary_rows(c);
    test_binary_row_plans(c);
    test_end_with_output_pending(c);
    test_out(c);
    test_out_cancel(c);
    test_not_a_copy(c);
    pgd_conn_free(c);
    pgd_registry_free((pgd_registry *)t_reg);
    return t_done("test_copy");
}
