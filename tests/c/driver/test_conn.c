/*
 * test_conn.c - connections and single queries against a real server
 * (PSQLPY_TEST_DSN): connect (good, wrong password, refused port, bad
 * DSN, no password in its messages; several hosts with a refused or
 * skipped one), parameters and decoding, the statement cache (hits, eviction with
 * DEALLOCATE, disabled; per-database types with the unnamed statement),
 * text fallback for types without a codec, server
 * error fields, encode/usage errors that leave the connection usable, a
 * connection killed by the server, LISTEN/NOTIFY (delivered in order while
 * a query runs and while idle; dropped without a hook).
 */
#include "tutil.h"

#include <unistd.h>

#define PGD_TEST_REDACTED "********" /* redact.c's placeholder */

static pgd_result *take(pgd_conn *c)
{
    pgd_result *r = pgd_conn_take_result(c);

    CHECK(r != NULL);
    return r;
}

/* Run a query expected to succeed; returns cell (0,0) repr (new). */
static char *one(pgd_conn *c, const char *sql, size_t n, const pgd_value *p)
{
    pgd_result *r;
    char *s;
    int rc = t_query(c, sql, n, p);

    CHECK_MSG(rc == PGD_OK, "%s: %s", sql, pgd_conn_error(c)->message);
    if (rc != PGD_OK)
        return strdup("<failed>");
    r = take(c);
    if (!r)
        return strdup("<no result>");
    s = pgd_result_nrows(r) > 0 ? t_cell(r, 0, 0) : strdup("<no rows>");
    CHECK(pgd_conn_take_result(c) == NULL);
    pgd_result_free(r);
    return s;
}

#define CHECK_ONE(c, sql, n, p, want)                                                  \
    do {                                                                               \
        char *got_ = one((c), (sql), (n), (p));                                        \
        CHECK_MSG(strcmp(got_, (want)) == 0, "%s -> %s, want %s", (sql), got_, (want)); \
        free(got_);                                                                    \
    } while (0)

static void test_connect(void)
{
    const char *k1[] = {"password", NULL}, *v1[] = {"surely-not-the-password", NULL};
    const char *k2[] = {"host", "port", NULL}, *v2[] = {"127.0.0.1", "1", NULL};
    const char *k3[] = {"dbname", NULL}, *v3[] = {"host=127.0.0.1 port=1 bogus_option=1", NULL};
    char err[256];
    pgd_conn *c;
    int rc;

    /* good */
    c = t_connect_kv(NULL, NULL, &rc);
    CHECK_MSG(rc == PGD_OK, "%s", pgd_conn_error(c)->message);
    CHECK(pgd_conn_is_ok(c));
    CHECK(!pgd_conn_is_busy(c));
    CHECK(pgd_conn_socket(c) >= 0);
    CHECK(pgd_conn_server_version(c) >= 100000);
    CHECK(pgd_conn_txstate(c) == PGD_TX_IDLE);
    CHECK(pgd_conn_error(c)->kind == PGD_E_NONE);
    /* the session settings travel in the startup packet */
    {
        char *ds = t_scalar(c, "SHOW DateStyle"), *is = t_scalar(c, "SHOW IntervalStyle"),
             *fd = t_scalar(c, "SHOW extra_float_digits"), *ce = t_scalar(c, "SHOW client_encoding");

        CHECK_STREQ(ds, "'ISO, MDY'");
        CHECK_STREQ(is, "'postgres'");
        CHECK_STREQ(fd, "'3'");
        CHECK_STREQ(ce, "'UTF8'");
        free(ds);
        free(is);
        free(fd);
        free(ce);
    }
    /* connect_start twice is a usage error, the connection stays fine */
    CHECK(pgd_conn_connect_start(c) == PGD_ERROR);
    CHECK(pgd_conn_error(c)->kind == PGD_E_USAGE);
    CHECK(pgd_conn_is_ok(c));
    pgd_conn_free(c);

    /* user options are kept next to ours */
    {
        const char *k[] = {"options", NULL}, *v[] = {"-c search_path=pg_catalog", NULL};
        char *sp, *ds;

        c = t_connect_kv(k, v, &rc);
        CHECK_MSG(rc == PGD_OK, "%s", pgd_conn_error(c)->message);
        sp = t_scalar(c, "SHOW search_path");
        ds = t_scalar(c, "SHOW DateStyle");
        CHECK_STREQ(sp, "'pg_catalog'");
        CHECK_STREQ(ds, "'ISO, MDY'");
        free(sp);
        free(ds);
        pgd_conn_free(c);
    }

    /* wrong password */
    c = t_connect_kv(k1, v1, &rc);
    CHECK(rc == PGD_ERROR);
    CHECK(pgd_conn_error(c)->kind == PGD_E_CONNECT);
    CHECK_CONTAINS(pgd_conn_error(c)->message, "password authentication failed");
    CHECK(!pgd_conn_is_ok(c));
    CHECK(pgd_conn_socket(c) == -1);
    /* operations on it are usage errors, not crashes */
    CHECK(pgd_conn_send_query(c, "SELECT 1", 0, NULL) == PGD_ERROR);
    CHECK(pgd_conn_error(c)->kind == PGD_E_USAGE);
    CHECK(pgd_conn_io(c) == PGD_ERROR);
    pgd_conn_free(c);

    /* nothing listens on port 1 */
    c = t_connect_kv(k2, v2, &rc);
    CHECK(rc == PGD_ERROR);
    CHECK(pgd_conn_error(c)->kind == PGD_E_CONNECT);
    CHECK_CONTAINS(pgd_conn_error(c)->message, "refused");
    pgd_conn_free(c);

    /* bad DSNs */
    CHECK(pgd_conninfo_check("host=127.0.0.1 port=5432 dbname=x", err, sizeof err) == PGD_OK);
    CHECK(err[0] == '\0');
    CHECK(pgd_conninfo_check("postgresql://u:p@localhost:5432/db?sslmode=disable", err,
                             sizeof err) == PGD_OK);
    CHECK(pgd_conninfo_check("host=127.0.0.1 bogus_option=1", err, sizeof err) == PGD_ERROR);
    CHECK_CONTAINS(err, "bogus_option");
    CHECK(pgd_conninfo_check("postgresql://[::1", err, sizeof err) == PGD_ERROR);
    CHECK(err[0] != '\0');
    CHECK(pgd_conninfo_check("host='unterminated", err, sizeof err) == PGD_ERROR);
    CHECK(err[0] != '\0');
    CHECK(pgd_conninfo_check(NULL, err, sizeof err) == PGD_ERROR);
    /* no message quotes a password (libpq's own would: the bad token, or
     * the whole URI of a malformed IPv6 host) */
    {
        static const char *const bad[] = {
            "postgresql://u:Zq7Secret%zz@h/db",
            "postgresql://u:Zq7Secret@[::1/db",
            "postgresql://u:Zq7Secret@[]/db",
            "postgresql://u:Zq7Secret%00@h/db",
            "postgresql://h/db?password=Zq7Secret%zz",
            "postgresql://h/db?pass%77ord=Zq7Secret%zz",
            "postgresql://u:Zq7Secret@h/db?password=x&port=abc",
            "host=h password='Zq7Secret",
            "host=h password=my Zq7Secret",
            "host=h password=Zq7Secret bogus_option=1",
            "host=h password=Zq7Secret port=x",
            "postgresql://u:Zq7Secret?password=x%zz@h/db",
            "postgresql://u:Zq7Secret@h/db?password=Zq7Secret&password=%zz",
            "host=h password=Zq7 Secret port=x \"Zq7Secret\"",
            "postgresql://h/db?password=a&password=b&password=c&password=d&password=e"
            "&password=f&password=g&password=h&password=i&password=Zq7Secret%zz",
            "host=h password=a password=b password=c password=d password=e password=f "
            "password=g password=h password=i password=j password='Zq7Secret",
            NULL,
        };
        for (const char *const *d = bad; *d; d++) {
            err[0] = '\0';
            CHECK(pgd_conninfo_check(*d, err, sizeof err) == PGD_ERROR);
            CHECK(err[0] != '\0');
            CHECK(strstr(err, "Zq7Secret") == NULL);
            if (strstr(err, "Zq7Secret"))
                fprintf(stderr, "  leaked by %s: %s\n", *d, err);
        }
        /* pieces of connection strings in random order: never a crash, and
         * (checked under the sanitizers) never a bad read */
        {
            static const char *const bits[] = {
                "postgresql://", "postgres://", "u", ":", "@", "[", "]", "::1", "/",
                "?", "&", "=", "%", "%zz", "%00", "%41", "'", "\\", " ", "password",
                "Zq7Secret", "host", "port", "5432", "x", "\"", "dbname",
            };
            unsigned long seed = 20261205;
            char dsn[256];

            for (int i = 0; i < 5000; i++) {
                size_t len = 0;
                int parts = (int)(seed % 12) + 1;

                dsn[0] = '\0';
                for (int j = 0; j < parts; j++) {
                    seed = seed * 6364136223846793005UL + 1442695040888963407UL;
                    const char *b = bits[(seed >> 33) % (sizeof bits / sizeof bits[0])];
                    if (len + strlen(b) + 1 >= sizeof dsn)
                        break;
                    memcpy(dsn + len, b, strlen(b) + 1);
                    len += strlen(b);
                }
                (void)pgd_conninfo_check(dsn, err, sizeof err);
                (void)pgd_conninfo_check(dsn, err, 8); /* a short buffer */
            }
        }
        /* the parts that are not secret are still named */
        CHECK(pgd_conninfo_check("postgresql://u:Zq7Secret@[::1/db", err, sizeof err) ==
              PGD_ERROR);
        CHECK_CONTAINS(err, "postgresql://u:" PGD_TEST_REDACTED "@[::1/db");
        CHECK(pgd_conninfo_check("host=h password='Zq7Secret' bogus_option=1", err,
                                 sizeof err) == PGD_ERROR);
        CHECK_CONTAINS(err, "bogus_option");
    }
    /* and connecting with one fails cleanly */
    c = pgd_conn_new(k3, v3, t_registry());
    CHECK(c != NULL);
    CHECK(pgd_conn_connect_start(c) == PGD_ERROR);
    CHECK(pgd_conn_error(c)->kind == PGD_E_CONNECT);
    CHECK_CONTAINS(pgd_conn_error(c)->message, "bogus_option");
    pgd_conn_free(c);
}

static void test_queries(pgd_conn *c)
{
    pgd_value p[3];
    pgd_value items[3];
    pgd_result *r;
    char *s;

    p[0] = t_int(41);
    CHECK_ONE(c, "SELECT $1::int4 + 1", 1, p, "42");
    p[0] = t_int(5000000000LL);
    CHECK_ONE(c, "SELECT $1::int8 * 2", 1, p, "10000000000");
    /* parameter types inferred by the server */
    p[0] = t_int(7);
    p[1] = t_str("h\xc3\xa9llo");
    CHECK_ONE(c, "SELECT $1 + 1", 1, p, "8");
    CHECK_ONE(c, "SELECT upper($2) || ($1 + 0)::text", 2, p, "'H\xc3\x89LLO7'");
    /* NULL in and out */
    p[0] = t_null();
    CHECK_ONE(c, "SELECT $1::int4", 1, p, "None");
    CHECK_ONE(c, "SELECT $1::int4 IS NULL", 1, p, "True");
    /* arrays through the array handler + element codec */
    items[0] = t_int(1);
    items[1] = t_null();
    items[2] = t_int(-3);
    memset(&p[0], 0, sizeof p[0]);
    p[0].kind = PGD_V_LIST;
    p[0].u.list.items = items;
    p[0].u.list.n = 3;
    CHECK_ONE(c, "SELECT $1::int4[]", 1, p, "[1, None, -3]");
    CHECK_ONE(c, "SELECT array_length($1::int4[], 1)", 1, p, "3");
    CHECK_ONE(c, "SELECT ARRAY['a', NULL]::text[]", 0, NULL, "['a', None]");
    /* pinned parameter type */
    p[0] = t_int(12);
    p[0].pin_oid = 20;
    CHECK_ONE(c, "SELECT pg_typeof($1)::text", 1, p, "'bigint'");

    /* several rows and columns, names, types, tags */
    CHECK(t_query(c, "SELECT g AS n, g::text AS t FROM generate_series(1, 3) g", 0, NULL) ==
          PGD_OK);
    r = take(c);
    if (r) {
        CHECK(pgd_result_nrows(r) == 3);
        CHECK(pgd_result_ncols(r) == 2);
        CHECK_STREQ(pgd_result_colname(r, 0), "n");
        CHECK_STREQ(pgd_result_colname(r, 1), "t");
        CHECK(pgd_result_colname(r, 2) == NULL);
        CHECK(pgd_result_coltype(r, 0) == 23);
        CHECK(pgd_result_coltype(r, 1) == 25);
        CHECK(pgd_result_coltable(r, 0) == 0); /* computed: no source table */
        CHECK(pgd_result_coltable(r, 2) == 0);
        CHECK_STREQ(pgd_result_command(r), "SELECT 3");
        CHECK(pgd_result_affected(r) == 3);
        s = t_cell(r, 2, 1);
        CHECK_STREQ(s, "'3'");
        free(s);
        s = t_cell(r, 3, 0); /* outside: an error from the host, no crash */
        CHECK_CONTAINS(s, "ERR:");
        free(s);
        CHECK(pgd_result_isnull(r, 0, 0) == 0);
        {
            /* undecoded cells: int4 in binary, text as sent */
            const char *raw;
            size_t n;
            CHECK(pgd_result_raw(r, 1, 0, &raw, &n) == 1);
            CHECK(n == 4 && raw && memcmp(raw, "\0\0\0\2", 4) == 0);
            CHECK(pgd_result_raw(r, 2, 1, &raw, &n) == 1);
            CHECK(n == 1 && raw && raw[0] == '3');
            CHECK(pgd_result_raw(r, 3, 0, &raw, &n) == -1); /* outside */
            CHECK(raw == NULL && n == 0);
            CHECK(pgd_result_raw(r, 0, 2, &raw, &n) == -1);
            CHECK(raw == NULL && n == 0);
        }
        pgd_result_free(r);
    }
    /* a column read from a table carries the table's OID (pg_class: 1259) */
    CHECK(t_query(c, "SELECT relname, 1 AS one FROM pg_class LIMIT 1", 0, NULL) == PGD_OK);
    r = take(c);
    if (r) {
        CHECK(pgd_result_coltable(r, 0) == 1259);
        CHECK(pgd_result_coltable(r, 1) == 0);
        CHECK(pgd_result_coltable(r, -1) == 0);
        pgd_result_free(r);
    }
    CHECK(t_query(c, "SELECT NULL::int4, ''::text", 0, NULL) == PGD_OK);
    r = take(c);
    if (r) {
        const char *raw = "x";
        size_t n = 9;
        CHECK(pgd_result_raw(r, 0, 0, &raw, &n) == -1); /* SQL NULL */
        CHECK(raw == NULL && n == 0);
        CHECK(pgd_result_raw(r, 0, 1, &raw, &n) == 1); /* empty, not NULL */
        CHECK(raw != NULL && n == 0);
        pgd_result_free(r);
    }

    CHECK(t_simple(c, "CREATE TEMP TABLE tq (id int4 PRIMARY KEY, v text)") == PGD_OK);
    pgd_result_free(pgd_conn_take_result(c));
    p[0] = t_int(1);
    p[1] = t_str("one");
    CHECK(t_query(c, "INSERT INTO tq VALUES ($1, $2)", 2, p) == PGD_OK);
    r = take(c);
    if (r) {
        CHECK_STREQ(pgd_result_command(r), "INSERT 0 1");
        CHECK(pgd_result_affected(r) == 1);
        CHECK(pgd_result_ncols(r) == 0);
        pgd_result_free(r);
    }
    /* simple protocol: several statements, the last one's result */
    CHECK(t_simple(c, "INSERT INTO tq VALUES (2, 'two'); UPDATE tq SET v = v || '!'") == PGD_OK);
    r = take(c);
    if (r) {
        CHECK_STREQ(pgd_result_command(r), "UPDATE 2");
        CHECK(pgd_result_affected(r) == 2);
        pgd_result_free(r);
    }
    CHECK_ONE(c, "SELECT string_agg(v, ',' ORDER BY id) FROM tq", 0, NULL, "'one!,two!'");

    /* transaction state follows the session */
    CHECK(t_simple(c, "BEGIN") == PGD_OK);
    pgd_result_free(pgd_conn_take_result(c));
    CHECK(pgd_conn_txstate(c) == PGD_TX_INTRANS);
    CHECK(t_query(c, "SELECT 1/0", 0, NULL) == PGD_ERROR);
    CHECK(pgd_conn_txstate(c) == PGD_TX_INERROR);
    CHECK(t_simple(c, "ROLLBACK") == PGD_OK);
    pgd_result_free(pgd_conn_take_result(c));
    CHECK(pgd_conn_txstate(c) == PGD_TX_IDLE);

    /* an empty query is not an error */
    CHECK(t_simple(c, "") == PGD_OK);
    pgd_result_free(pgd_conn_take_result(c));
    /* COPY is refused without breaking the session */
    CHECK(t_simple(c, "COPY tq TO STDOUT") == PGD_ERROR);
    CHECK(pgd_conn_error(c)->kind == PGD_E_USAGE);
    CHECK(t_simple(c, "COPY tq FROM STDIN") == PGD_ERROR);
    CHECK(pgd_conn_error(c)->kind == PGD_E_SERVER);
    CHECK_ONE(c, "SELECT count(*)::int4 FROM tq", 0, NULL, "2");
}

static void test_text_fallback(pgd_conn *c)
{
    pgd_value p[2];
    pgd_result *r;
    int bin, txt;
    char *s;

    /* every column has a binary codec: binary */
    bin = t_binary_decodes;
    txt = t_text_decodes;
    CHECK_ONE(c, "SELECT 7::int4", 0, NULL, "7");
    CHECK(t_binary_decodes == bin + 1 && t_text_decodes == txt);

    /* point and interval have no codec: the whole result comes as text,
     * int4 through its text decoder, the others as strings */
    bin = t_binary_decodes;
    txt = t_text_decodes;
    CHECK(t_query(c, "SELECT 7::int4, '(1,2)'::point, '1 day 02:00'::interval, 1.5::float8", 0,
                  NULL) == PGD_OK);
    r = take(c);
    if (r) {
        s = t_cell(r, 0, 0);
        CHECK_STREQ(s, "7");
        free(s);
        s = t_cell(r, 0, 1);
        CHECK_STREQ(s, "'(1,2)'");
        free(s);
        s = t_cell(r, 0, 2);
        CHECK_STREQ(s, "'1 day 02:00:00'");
        free(s);
        s = t_cell(r, 0, 3);
        CHECK_STREQ(s, "'1.5'");
        free(s);
        {
            const char *raw;
            size_t n;
            CHECK(pgd_result_raw(r, 0, 0, &raw, &n) == 0); /* text format */
            CHECK(n == 1 && raw && raw[0] == '7');
            CHECK(pgd_result_raw(r, 0, 1, &raw, &n) == 0);
            CHECK(n == 5 && raw && memcmp(raw, "(1,2)", 5) == 0);
        }
        pgd_result_free(r);
    }
    CHECK(t_binary_decodes == bin && t_text_decodes == txt + 1);

    /* a parameter of a type without a codec: a string goes as text */
    p[0] = t_str("(3,4)");
    CHECK_ONE(c, "SELECT $1::point", 1, p, "'(3,4)'");
    /* ... anything else is an encode error naming the parameter */
    p[0] = t_int(1);
    CHECK(pgd_conn_send_query(c, "SELECT $1::point", 1, p) == PGD_ERROR);
    CHECK(pgd_conn_error(c)->kind == PGD_E_ENCODE);
    CHECK(pgd_conn_error(c)->index == 0);
    CHECK_CONTAINS(pgd_conn_error(c)->message, "$1");
    CHECK(pgd_conn_is_ok(c) && !pgd_conn_is_busy(c));
    /* a text parameter with a NUL byte cannot go as text */
    p[0].kind = PGD_V_STR;
    p[0].u.s.p = "a\0b";
    p[0].u.s.n = 3;
    CHECK(pgd_conn_send_query(c, "SELECT $1::point", 1, p) == PGD_ERROR);
    CHECK(pgd_conn_error(c)->kind == PGD_E_ENCODE);
    CHECK_ONE(c, "SELECT 'ok'::text", 0, NULL, "'ok'");
}

/* PGD_V_RAW: the bytes go as the binary value of whatever type the
 * parameter has, without a codec (also for a type without one). */
static void raw_one(pgd_conn *c, const char *sql, const char *bytes, size_t n, const char *want)
{
    pgd_value p;

    memset(&p, 0, sizeof p);
    p.kind = PGD_V_RAW;
    p.u.s.p = bytes;
    p.u.s.n = n;
    if (want != NULL) {
        CHECK_ONE(c, sql, 1, &p, want);
    } else { /* bytes the type does not read: the server's error */
        CHECK(t_query(c, sql, 1, &p) == PGD_ERROR);
        CHECK_ONE(c, "SELECT 'ok'::text", 0, NULL, "'ok'");
    }
}

static void test_raw_params(pgd_conn *c)
{
    raw_one(c, "SELECT $1::int4", "\0\0\0\x05", 4, "5");
    raw_one(c, "SELECT $1::text", "hi", 2, "'hi'");
    raw_one(c, "SELECT length($1::text)", "", 0, "0");
    /* point has no codec here: its binary form, two float8 */
    raw_one(c, "SELECT $1::point::text",
            "\x3f\xf0\0\0\0\0\0\0\x40\0\0\0\0\0\0\0", 16, "'(1,2)'");
    raw_one(c, "SELECT $1::int4", "\0\x05", 2, NULL);
}

static void test_errors(pgd_conn *c)
{
    const pgd_error *e;
    pgd_value p[3];

    /* raised with detail and hint */
    CHECK(t_query(c,
                  "DO $$ BEGIN RAISE EXCEPTION 'boom %', 42 USING DETAIL = 'the detail', "
                  "HINT = 'the hint', ERRCODE = '22012'; END $$",
                  0, NULL) == PGD_ERROR);
    e = pgd_conn_error(c);
    CHECK(e->kind == PGD_E_SERVER);
    CHECK_STREQ(e->sqlstate, "22012");
    CHECK_STREQ(e->message, "boom 42");
    CHECK_STREQ(e->detail, "the detail");
    CHECK_STREQ(e->hint, "the hint");
    CHECK_STREQ(e->severity, "ERROR");
    CHECK_CONTAINS(e->context, "PL/pgSQL");
    CHECK(e->index == -1);
    CHECK(pgd_conn_is_ok(c) && !pgd_conn_is_busy(c));
    CHECK(pgd_conn_take_result(c) == NULL);

    /* syntax error: position */
    CHECK(t_query(c, "SELECT 1 FROM FROM", 0, NULL) == PGD_ERROR);
    e = pgd_conn_error(c);
    CHECK_STREQ(e->sqlstate, "42601");
    CHECK_STREQ(e->position, "15");
    CHECK(e->detail == NULL);

    /* constraint fields */
    CHECK(t_simple(c, "CREATE TEMP TABLE te (id int4 CONSTRAINT te_pk PRIMARY KEY, "
                      "n int4 CONSTRAINT te_n_check CHECK (n > 0))") == PGD_OK);
    pgd_result_free(pgd_conn_take_result(c));
    p[0] = t_int(1);
    p[1] = t_int(5);
    CHECK(t_query(c, "INSERT INTO te VALUES ($1, $2)", 2, p) == PGD_OK);
    pgd_result_free(pgd_conn_take_result(c));
    CHECK(t_query(c, "INSERT INTO te VALUES ($1, $2)", 2, p) == PGD_ERROR);
    e = pgd_conn_error(c);
    CHECK_STREQ(e->sqlstate, "23505");
    CHECK_STREQ(e->constraint_name, "te_pk");
    CHECK_STREQ(e->table_name, "te");
    CHECK_CONTAINS(e->schema_name, "pg_temp");
    CHECK_CONTAINS(e->detail, "(id)=(1)");
    p[0] = t_int(2);
    p[1] = t_int(-1);
    CHECK(t_query(c, "INSERT INTO te VALUES ($1, $2)", 2, p) == PGD_ERROR);
    CHECK_STREQ(pgd_conn_error(c)->sqlstate, "23514");
    CHECK_STREQ(pgd_conn_error(c)->constraint_name, "te_n_check");
    /* a server-side type error on a parameter */
    p[0] = t_str("not a number");
    CHECK(t_query(c, "SELECT $1::text::int4", 1, p) == PGD_ERROR);
    CHECK_STREQ(pgd_conn_error(c)->sqlstate, "22P02");

    /* the next successful operation clears the error */
    CHECK_ONE(c, "SELECT 1::int4", 0, NULL, "1");
    CHECK(pgd_conn_error(c)->kind == PGD_E_NONE);
    CHECK(pgd_conn_error(c)->message == NULL);
}

static void test_encode_errors(pgd_conn *c)
{
    pgd_value p[3];
    const char *sql = "SELECT $1::int4 + $2::int4";
    int i;

    /* twice: first with the statement not yet prepared, then cached */
    for (i = 0; i < 2; i++) {
        p[0] = t_int(1);
        /* wrong count: usage error, nothing sent */
        CHECK(t_query(c, sql, 1, p) == PGD_ERROR);
        CHECK(pgd_conn_error(c)->kind == PGD_E_USAGE);
        CHECK_CONTAINS(pgd_conn_error(c)->message, "takes 2 parameters, 1 given");
        CHECK(pgd_conn_is_ok(c) && !pgd_conn_is_busy(c));
        p[1] = t_int(2);
        p[2] = t_int(3);
        CHECK(t_query(c, sql, 3, p) == PGD_ERROR);
        CHECK(pgd_conn_error(c)->kind == PGD_E_USAGE);
        /* wrong kind */
        p[1] = t_str("2");
        CHECK(t_query(c, sql, 2, p) == PGD_ERROR);
        CHECK(pgd_conn_error(c)->kind == PGD_E_ENCODE);
        CHECK(pgd_conn_error(c)->index == 1);
        CHECK_CONTAINS(pgd_conn_error(c)->message, "parameter $2 (int4)");
        CHECK_CONTAINS(pgd_conn_error(c)->message, "expected an integer");
        /* out of range for the column type */
        p[1] = t_int(1LL << 40);
        CHECK(t_query(c, sql, 2, p) == PGD_ERROR);
        CHECK(pgd_conn_error(c)->kind == PGD_E_ENCODE);
        CHECK_CONTAINS(pgd_conn_error(c)->message, "out of range for int4");
        /* and the connection works */
        p[1] = t_int(2);
        CHECK_ONE(c, sql, 2, p, "3");
    }
    /* inside a transaction, an encode error does not touch the server */
    CHECK(t_simple(c, "BEGIN") == PGD_OK);
    pgd_result_free(pgd_conn_take_result(c));
    p[1] = t_str("x");
    CHECK(t_query(c, sql, 2, p) == PGD_ERROR);
    CHECK(pgd_conn_txstate(c) == PGD_TX_INTRANS);
    CHECK(t_simple(c, "COMMIT") == PGD_OK);
    pgd_result_free(pgd_conn_take_result(c));

    /* a second operation while one runs is refused; the first completes */
    CHECK(pgd_conn_send_query(c, "SELECT 5::int4", 0, NULL) > 0);
    CHECK(pgd_conn_is_busy(c));
    CHECK(pgd_conn_send_query(c, "SELECT 6::int4", 0, NULL) == PGD_ERROR);
    CHECK(pgd_conn_send_simple(c, "SELECT 6") == PGD_ERROR);
    CHECK(pgd_conn_take_result(c) == NULL);
    CHECK(t_run(c, PGD_WANT_READ) == PGD_OK);
    {
        pgd_result *r = take(c);
        char *s = r ? t_cell(r, 0, 0) : NULL;

        CHECK_STREQ(s, "5");
        free(s);
        pgd_result_free(r);
    }
    /* idle: io is fine and has nothing to do */
    CHECK(pgd_conn_io(c) == PGD_OK);
}

/* pg_prepared_statements' SQL texts of our statements, in name order */
static char *prepared(pgd_conn *c)
{
    return t_column(c, "SELECT statement FROM pg_prepared_statements "
                       "WHERE name LIKE 'pgd\\_%' ORDER BY substr(name, 5)::int");
}

static void test_stmt_cache(void)
{
    pgd_conn *c = t_connect();
    pgd_value p[1];
    char *s;
    int i;

    CHECK(pgd_conn_stmt_cache_count(c) == 0);
    pgd_conn_set_stmt_cache_size(c, 2);
    CHECK_ONE(c, "SELECT 1::int4 AS a", 0, NULL, "1");
    CHECK(pgd_conn_stmt_cache_count(c) == 1);
    for (i = 0; i < 3; i++) {
        p[0] = t_int(i);
        CHECK_ONE(c, "SELECT $1::int4 AS b", 1, p, i == 0 ? "0" : i == 1 ? "1" : "2");
    }
    CHECK(pgd_conn_stmt_cache_count(c) == 2);
    s = prepared(c);
    CHECK_STREQ(s, "'SELECT 1::int4 AS a','SELECT $1::int4 AS b'");
    free(s);
    /* hits reuse the server's statement: 3 executions of b */
    s = t_column(c, "SELECT (generic_plans + custom_plans)::int4 FROM pg_prepared_statements "
                    "WHERE statement = 'SELECT $1::int4 AS b'");
    CHECK_STREQ(s, "3");
    free(s);

    /* a third statement evicts the least recently used (a), which is
     * DEALLOCATEd on the server */
    CHECK_ONE(c, "SELECT $1::int4 AS b", 1, p, "2"); /* b is now most recent */
    CHECK_ONE(c, "SELECT 3::int4 AS c", 0, NULL, "3");
    CHECK(pgd_conn_stmt_cache_count(c) == 2);
    /* the DEALLOCATE rides on the next extended-protocol operation */
    s = prepared(c);
    CHECK_STREQ(s, "'SELECT 1::int4 AS a','SELECT $1::int4 AS b','SELECT 3::int4 AS c'");
    free(s);
    CHECK_ONE(c, "SELECT 3::int4 AS c", 0, NULL, "3");
    s = prepared(c);
    CHECK_STREQ(s, "'SELECT $1::int4 AS b','SELECT 3::int4 AS c'");
    free(s);
    /* a again: prepared anew under a new name, evicting b */
    CHECK_ONE(c, "SELECT 1::int4 AS a", 0, NULL, "1");
    CHECK_ONE(c, "SELECT 1::int4 AS a", 0, NULL, "1");
    s = prepared(c);
    CHECK_STREQ(s, "'SELECT 3::int4 AS c','SELECT 1::int4 AS a'");
    free(s);

    /* a pinned type is part of the key */
    p[0] = t_int(4);
    p[0].pin_oid = 20;
    CHECK_ONE(c, "SELECT $1 AS p", 1, p, "4");
    p[0] = t_str("x");
    CHECK_ONE(c, "SELECT $1 AS p", 1, p, "'x'");
    CHECK_ONE(c, "SELECT $1 AS p", 1, p, "'x'");
    s = prepared(c);
    CHECK_STREQ(s, "'SELECT $1 AS p','SELECT $1 AS p'");
    free(s);

    /* a failed prepare is not cached */
    CHECK(t_query(c, "SELECT nope FROM nowhere", 0, NULL) == PGD_ERROR);
    CHECK(pgd_conn_stmt_cache_count(c) == 2);

    /* the user dropped every statement: the cache recovers (one error,
     * then the statement is prepared again) */
    CHECK(t_simple(c, "DEALLOCATE ALL") == PGD_OK);
    pgd_result_free(pgd_conn_take_result(c));
    CHECK(t_query(c, "SELECT $1 AS p", 1, p) == PGD_ERROR);
    CHECK_STREQ(pgd_conn_error(c)->sqlstate, "26000");
    CHECK_ONE(c, "SELECT $1 AS p", 1, p, "'x'");

    /* shrinking the cache evicts */
    pgd_conn_set_stmt_cache_size(c, 1);
    CHECK(pgd_conn_stmt_cache_count(c) == 1);

    /* disabled: unnamed statements, nothing stays prepared */
    pgd_conn_set_stmt_cache_size(c, 0);
    CHECK(pgd_conn_stmt_cache_count(c) == 0);
    CHECK_ONE(c, "SELECT 10::int4 AS d", 0, NULL, "10");
    p[0] = t_int(11);
    CHECK_ONE(c, "SELECT $1::int4 AS e", 1, p, "11");
    CHECK(pgd_conn_stmt_cache_count(c) == 0);
    s = prepared(c);
    CHECK_STREQ(s, "");
    free(s);

    /* per-database types with the unnamed statement: the pg_type query
     * replaces it, so it is prepared again before it runs */
    CHECK(t_simple(c, "DROP TYPE IF EXISTS t_conn_mood; DROP DOMAIN IF EXISTS t_conn_pos;"
                      " CREATE TYPE t_conn_mood AS ENUM ('calm', 'glad');"
                      " CREATE DOMAIN t_conn_pos AS int4 CHECK (VALUE > 0)") == PGD_OK);
    pgd_result_free(pgd_conn_take_result(c));
    p[0] = t_str("glad");
    CHECK_ONE(c, "SELECT $1::t_conn_mood", 1, p, "'glad'");
    p[0] = t_int(12);
    CHECK_ONE(c, "SELECT $1::t_conn_pos", 1, p, "12");
    CHECK_ONE(c, "SELECT ARRAY['calm', NULL]::t_conn_mood[]", 0, NULL, "['calm', None]");
    CHECK(t_simple(c, "DROP TYPE t_conn_mood; DROP DOMAIN t_conn_pos") == PGD_OK);
    pgd_result_free(pgd_conn_take_result(c));
    pgd_conn_free(c);
}

/* The server ends the session: kind IO, not ok, and no hang. */
static void test_killed(void)
{
    pgd_conn *victim = t_connect(), *killer = t_connect();
    char *pid, sql[128];
    int rc, i;

    pid = t_scalar(victim, "SELECT pg_backend_pid()");
    CHECK(pid != NULL);
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%s)", pid ? pid : "0");
    free(pid);
    CHECK(t_simple(killer, sql) == PGD_OK);
    pgd_result_free(pgd_conn_take_result(killer));
    usleep(200000);
    rc = t_query(victim, "SELECT 1", 0, NULL);
    CHECK_MSG(rc == PGD_ERROR, "rc %d", rc);
    CHECK_MSG(pgd_conn_error(victim)->kind == PGD_E_IO, "kind %d: %s",
              pgd_conn_error(victim)->kind, pgd_conn_error(victim)->message);
    CHECK(!pgd_conn_is_ok(victim));
    CHECK(pgd_conn_send_query(victim, "SELECT 1", 0, NULL) == PGD_ERROR);
    pgd_conn_free(victim);

    /* killed while idle: the idle io reports it */
    victim = t_connect();
    pid = t_scalar(victim, "SELECT pg_backend_pid()");
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%s)", pid ? pid : "0");
    free(pid);
    CHECK(t_simple(killer, sql) == PGD_OK);
    pgd_result_free(pgd_conn_take_result(killer));
    /* the server's FATAL message and its end of file may arrive apart:
     * io is called on every readable wake-up until it reports */
    for (i = 0, rc = PGD_OK; i < 10 && rc == PGD_OK; i++) {
        CHECK(t_wait(pgd_conn_socket(victim), PGD_WANT_READ, 5000) == 0);
        rc = pgd_conn_io(victim);
    }
    CHECK(rc == PGD_ERROR);
    CHECK(pgd_conn_error(victim)->kind == PGD_E_IO);
    CHECK(!pgd_conn_is_ok(victim));
    pgd_conn_free(victim);
    pgd_conn_free(killer);
}

/* Drive a connect already started with status rc to its end. */
static int finish_connect(pgd_conn *c, int rc)
{
    while (rc > 0) {
        if (t_wait(pgd_conn_socket(c), rc, 30000) != 0)
            return -99;
        rc = pgd_conn_connect_poll(c);
    }
    return rc;
}

/* Several hosts: a refused one is followed by the next inside
 * connect_poll; connect_skip gives the current host up (the caller's
 * per-host deadline); the error after the last names every host. */
static void test_several_hosts(void)
{
    char ports[64], both[64], port[32];
    const char *k[] = {"host", "port", NULL}, *v[] = {"127.0.0.1,127.0.0.1", ports, NULL};
    pgd_conn *c = t_connect();
    char *sp = t_scalar(c, "SELECT current_setting('port')"); /* "'5432'" */
    int rc;

    pgd_conn_free(c);
    CHECK(sp && strlen(sp) > 2 && strlen(sp) < sizeof port);
    if (!sp || strlen(sp) <= 2 || strlen(sp) >= sizeof port) {
        free(sp);
        return;
    }
    snprintf(port, sizeof port, "%.*s", (int)strlen(sp) - 2, sp + 1);
    free(sp);
    snprintf(ports, sizeof ports, "1,%s", port);
    snprintf(both, sizeof both, "%s,%s", port, port);

    c = t_connect_kv(k, v, &rc);
    CHECK_MSG(rc == PGD_OK, "%s", pgd_conn_error(c)->message);
    CHECK(pgd_conn_connect_attempt(c) == 2);
    pgd_conn_free(c);

    /* skip the first (good) host: the second one connects */
    c = pgd_conn_new((const char *const[]){"dbname", "host", "port", NULL},
                     (const char *const[]){t_dsn(), "127.0.0.1,127.0.0.1", both, NULL},
                     t_registry());
    rc = pgd_conn_connect_start(c);
    CHECK(rc > 0 && pgd_conn_connect_attempt(c) == 1);
    rc = pgd_conn_connect_skip(c, "skipped by the test");
    CHECK(rc > 0 && pgd_conn_connect_attempt(c) == 2);
    CHECK(finish_connect(c, rc) == PGD_OK);
    CHECK(pgd_conn_is_ok(c));
    /* not connecting any more: a usage error */
    CHECK(pgd_conn_connect_skip(c, "late") == PGD_ERROR);
    CHECK(pgd_conn_error(c)->kind == PGD_E_USAGE);
    pgd_conn_free(c);

    /* skip both: the error names both */
    c = pgd_conn_new((const char *const[]){"dbname", "host", "port", NULL},
                     (const char *const[]){t_dsn(), "127.0.0.1,127.0.0.1", ports, NULL},
                     t_registry());
    rc = pgd_conn_connect_start(c);
    /* the refused port 1 may fail inside connect_start already */
    if (pgd_conn_connect_attempt(c) == 1) {
        while (rc > 0 && pgd_conn_connect_attempt(c) == 1)
            rc = t_wait(pgd_conn_socket(c), rc, 30000) == 0 ? pgd_conn_connect_poll(c) : -99;
    }
    CHECK(rc > 0 && pgd_conn_connect_attempt(c) == 2);
    CHECK(pgd_conn_connect_skip(c, "skipped by the test") == PGD_ERROR);
    CHECK(pgd_conn_error(c)->kind == PGD_E_CONNECT);
    CHECK_CONTAINS(pgd_conn_error(c)->message, "port 1 failed");
    CHECK_CONTAINS(pgd_conn_error(c)->message, "failed: skipped by the test");
    CHECK(pgd_conn_socket(c) == -1);
    pgd_conn_free(c);
}

/* The notice hook sees each notice's fields; without one they are dropped. */
struct seen_notices {
    int n;
    char sev[2][16], msg[2][64], detail[64], hint[64], state[2][8];
};

static void keep_notice(void *arg, const pgd_notice *n)
{
    struct seen_notices *s = arg;

    if (s->n < 2) {
        snprintf(s->sev[s->n], sizeof s->sev[0], "%s", t_nn(n->severity_nonlocalized));
        snprintf(s->msg[s->n], sizeof s->msg[0], "%s", t_nn(n->message));
        snprintf(s->state[s->n], sizeof s->state[0], "%s", t_nn(n->sqlstate));
        if (s->n == 0) {
            snprintf(s->detail, sizeof s->detail, "%s", t_nn(n->detail));
            snprintf(s->hint, sizeof s->hint, "%s", t_nn(n->hint));
        }
    }
    s->n++;
}

static void test_notices(pgd_conn *c)
{
    struct seen_notices s;
    const char *sql = "DO $$BEGIN RAISE NOTICE 'hi %', 3 USING DETAIL = 'd', HINT = 'h'; "
                      "RAISE WARNING 'w' USING ERRCODE = '01000'; END$$";

    memset(&s, 0, sizeof s);
    CHECK(t_simple(c, sql) == PGD_OK); /* no hook: dropped */
    pgd_conn_set_notice_hook(c, keep_notice, &s);
    CHECK(t_simple(c, sql) == PGD_OK);
    CHECK(s.n == 2);
    CHECK_STREQ(s.sev[0], "NOTICE");
    CHECK_STREQ(s.msg[0], "hi 3");
    CHECK_STREQ(s.state[0], "00000");
    CHECK_STREQ(s.detail, "d");
    CHECK_STREQ(s.hint, "h");
    CHECK_STREQ(s.sev[1], "WARNING");
    CHECK_STREQ(s.msg[1], "w");
    CHECK_STREQ(s.state[1], "01000");
    pgd_conn_set_notice_hook(c, NULL, NULL);
    CHECK(t_simple(c, sql) == PGD_OK);
    CHECK(s.n == 2);
}

/* ---- LISTEN/NOTIFY ---------------------------------------------------------- */

struct seen {
    int n;
    char log[512];
};

static void on_notify(void *arg, int pid, const char *channel, const char *payload)
{
    struct seen *s = arg;
    size_t len = strlen(s->log);

    CHECK(pid > 0);
    snprintf(s->log + len, sizeof s->log - len, "%s%s=%s", len ? "," : "", channel, payload);
    s->n++;
}

static void test_notify(void)
{
    pgd_conn *c = t_connect(), *sender = t_connect();
    struct seen s = {0, ""};

    pgd_conn_set_notify_hook(c, on_notify, &s);
    CHECK(t_simple(c, "LISTEN \"Chan One\"; LISTEN two") == PGD_OK);
    /* sent by the listener itself: arrives with the query's own results */
    CHECK(t_simple(c, "NOTIFY \"Chan One\", 'a'; SELECT pg_notify('two', 'b')") == PGD_OK);
    CHECK_STREQ(s.log, "Chan One=a,two=b");
    /* sent by another session while the listener is idle */
    CHECK(t_simple(sender, "NOTIFY two; NOTIFY \"Chan One\", 'c'; NOTIFY other, 'x'") == PGD_OK);
    for (int i = 0; i < 50 && s.n < 4; i++) {
        if (t_wait(pgd_conn_socket(c), PGD_WANT_READ, 2000) < 0)
            break;
        CHECK(pgd_conn_io(c) == PGD_OK);
    }
    CHECK_STREQ(s.log, "Chan One=a,two=b,two=,Chan One=c");
    /* without a hook they are dropped, not kept */
    pgd_conn_set_notify_hook(c, NULL, &s);
    CHECK(t_simple(c, "NOTIFY two, 'gone'") == PGD_OK);
    pgd_conn_set_notify_hook(c, on_notify, &s);
    CHECK(t_simple(c, "SELECT 1") == PGD_OK);
    CHECK(s.n == 4);
    pgd_conn_free(sender);
    pgd_conn_free(c);
}

int main(void)
{
    pgd_conn *c;

    t_dsn();
    test_connect();
    test_several_hosts();
    c = t_connect();
    test_queries(c);
    test_text_fallback(c);
    test_raw_params(c);
    test_errors(c);
    test_encode_errors(c);
    test_notices(c);
    pgd_conn_free(c);
    test_stmt_cache();
    test_killed();
    test_notify();
    pgd_registry_free((pgd_registry *)t_reg);
    return t_done("test_conn");
}
