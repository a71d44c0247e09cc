/*
 * test_hosts.c - a connection's host list (driver/src/hosts.c): taking
 * load_balance_hosts out of DSNs, flattening keywords and DSNs, host and
 * port lists and their checks, the random order (pairs kept, every host
 * first now and then), prefer-standby's two passes, PG* variables.  No server
 * needed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h" /* hosts.c's functions are the driver's own: not in pgd.h */

/* tutil.h's checks, written out: its codec host clashes with internal.h */
static int failures, checks;
static const char *nn(const char *s) { return s ? s : "(null)"; }
#define CHECK_MSG(cond, ...)                                                           \
    do {                                                                               \
        checks++;                                                                      \
        if (!(cond)) {                                                                 \
            failures++;                                                                \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);   \
            fprintf(stderr, __VA_ARGS__);                                              \
            fputc('\n', stderr);                                                       \
        }                                                                              \
    } while (0)
#define CHECK(cond) CHECK_MSG(cond, "%s", "")
static int streq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }
static int contains(const char *h, const char *n) { return h && strstr(h, n); }
#define CHECK_STREQ(a, b) CHECK_MSG(streq((a), (b)), "'%s' != '%s'", nn(a), nn(b))
#define CHECK_CONTAINS(h, n) CHECK_MSG(contains((h), (n)), "'%s' lacks '%s'", nn(h), (n))

static const char *param(const char *const *k, const char *const *v, const char *key)
{
    const char *found = NULL;

    for (; *k; k++, v++)
        if (strcmp(*k, key) == 0)
            found = *v;
    return found;
}

static void test_strip(void)
{
    struct {
        const char *in, *out, *lb;
    } rows[] = {
        {"postgresql://u:p@h1:1,h2:2/db?load_balance_hosts=random", "postgresql://u:p@h1:1,h2:2/db",
         "random"},
        {"postgresql://h/db?sslmode=disable&load_balance_hosts=random&connect_timeout=3",
         "postgresql://h/db?sslmode=disable&connect_timeout=3", "random"},
        {"postgres://h?load%5Fbalance%5Fhosts=disable&x=1", "postgres://h?x=1", "disable"},
        /* a '?' inside the credentials is not the query */
        {"postgresql://u:a?b@h/db", "postgresql://u:a?b@h/db", NULL},
        {"host=a,b load_balance_hosts=random port=1,2", "host=a,b  port=1,2", "random"},
        {"load_balance_hosts = 'ran\\'dom' dbname=x", " dbname=x", "ran'dom"},
        {"host=a options='-c load_balance_hosts=random'", "host=a options='-c load_balance_hosts=random'",
         NULL},
        {"host='unterminated load_balance_hosts=random", "host='unterminated load_balance_hosts=random",
         NULL},
    };
    size_t i;

    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char *lb = NULL, *out = pgd_dsn_strip_load_balance(rows[i].in, &lb);

        CHECK_STREQ(out, rows[i].out);
        if (rows[i].lb)
            CHECK_STREQ(lb, rows[i].lb);
        else
            CHECK_MSG(lb == NULL, "%s: lb %s", rows[i].in, lb);
        pgd_free(out);
        pgd_free(lb);
    }
}

static void test_lists(void)
{
    const char *k1[] = {"dbname", "client_encoding", NULL};
    const char *v1[] = {"postgresql://u:pw@h1:5001,h2:5002/db?target_session_attrs=read-write"
                        "&load_balance_hosts=disable",
                        "UTF8", NULL};
    /* keywords after the DSN win, as in libpq */
    const char *k2[] = {"dbname", "port", "target_session_attrs", NULL};
    const char *v2[] = {"host=a,b,c dbname=x", "7", "standby", NULL};
    const char *const *ak, *const *av;
    char err[256];
    pgd_targets t;

    CHECK(pgd_targets_init(&t, k1, v1, err, sizeof err) == PGD_OK);
    CHECK(t.n == 2);
    CHECK(!t.random);
    CHECK_STREQ(t.tsa, "read-write");
    CHECK_STREQ(pgd_targets_get(&t, "user"), "u");
    CHECK_STREQ(pgd_targets_get(&t, "dbname"), "db");
    CHECK(pgd_targets_get(&t, "host") == NULL);
    CHECK(pgd_targets_get(&t, "load_balance_hosts") == NULL);
    CHECK(pgd_targets_begin(&t) == PGD_OK);
    pgd_targets_params(&t, &ak, &av);
    CHECK_STREQ(param(ak, av, "host"), "h1");
    CHECK_STREQ(param(ak, av, "port"), "5001");
    CHECK_STREQ(param(ak, av, "target_session_attrs"), "read-write");
    CHECK_STREQ(param(ak, av, "password"), "pw");
    CHECK(pgd_targets_next(&t) == 1);
    pgd_targets_params(&t, &ak, &av);
    CHECK_STREQ(param(ak, av, "host"), "h2");
    CHECK_STREQ(param(ak, av, "port"), "5002");
    CHECK(pgd_targets_next(&t) == 0);
    pgd_targets_free(&t);

    CHECK(pgd_targets_init(&t, k2, v2, err, sizeof err) == PGD_OK);
    CHECK(t.n == 3);
    CHECK(pgd_targets_begin(&t) == PGD_OK);
    CHECK(pgd_targets_next(&t) && pgd_targets_next(&t));
    pgd_targets_params(&t, &ak, &av);
    CHECK_STREQ(param(ak, av, "host"), "c");
    CHECK_STREQ(param(ak, av, "port"), "7");
    CHECK_STREQ(param(ak, av, "target_session_attrs"), "standby");
    pgd_targets_free(&t);

    /* refusals, with libpq's wording where libpq has one */
    {
        const char *bad[][2] = {
            {"host=a,b port=1,2,3", "could not match 3 port numbers to 2 hosts"},
            {"host=a,b hostaddr=1.1.1.1", "could not match 2 host names to 1 hostaddr values"},
            {"host=a load_balance_hosts=sometimes", "invalid load_balance_hosts value"},
            {"host=a target_session_attrs=primary-ish", "invalid target_session_attrs value"},
            {"postgresql://a?load_balance_hosts=often", "invalid load_balance_hosts value"},
            {"host=a bogus_option=1", "bogus_option"},
        };
        size_t i;

        for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            CHECK_MSG(pgd_conninfo_check(bad[i][0], err, sizeof err) == PGD_ERROR, "%s", bad[i][0]);
            CHECK_CONTAINS(err, bad[i][1]);
        }
        CHECK(pgd_conninfo_check("host=a,b port=1,2 load_balance_hosts=random "
                                 "target_session_attrs=prefer-standby", err, sizeof err) == PGD_OK);
        CHECK(pgd_conninfo_check("host=a,b port=1,x", err, sizeof err) == PGD_ERROR);
        CHECK_CONTAINS(err, "invalid integer value");
        CHECK_CONTAINS(err, "x");
    }
}

static void test_random(void)
{
    const char *k[] = {"host", "port", "load_balance_hosts", NULL};
    const char *v[] = {"a,b,c", "1,2,3", "random", NULL};
    const char *const *ak, *const *av;
    int first[3] = {0, 0, 0}, round;
    char err[256];
    pgd_targets t;

    CHECK(pgd_targets_init(&t, k, v, err, sizeof err) == PGD_OK);
    CHECK(t.random);
    for (round = 0; round < 300; round++) {
        int seen[3] = {0, 0, 0}, n = 0;

        CHECK(pgd_targets_begin(&t) == PGD_OK);
        do {
            const char *h, *p;

            pgd_targets_params(&t, &ak, &av);
            h = param(ak, av, "host");
            p = param(ak, av, "port");
            CHECK(h && p && strlen(h) == 1 && h[0] >= 'a' && h[0] <= 'c');
            if (!h || !p)
                break;
            CHECK_MSG(p[0] - '1' == h[0] - 'a', "host %s paired with port %s", h, p);
            if (n == 0)
                first[h[0] - 'a']++;
            seen[h[0] - 'a']++;
            n++;
            CHECK(param(ak, av, "load_balance_hosts") == NULL);
        } while (pgd_targets_next(&t));
        CHECK(n == 3 && seen[0] == 1 && seen[1] == 1 && seen[2] == 1);
    }
    /* each host comes first about a third of the time */
    CHECK_MSG(first[0] > 50 && first[1] > 50 && first[2] > 50, "%d %d %d", first[0], first[1],
              first[2]);
    pgd_targets_free(&t);
}

static void test_prefer_standby(void)
{
    const char *k[] = {"host", "port", "target_session_attrs", NULL};
    const char *v[] = {"a,b,c", "1", "prefer-standby", NULL};
    const char *want[][2] = {{"a", "standby"}, {"b", "standby"}, {"c", "standby"},
                             {"a", "any"},     {"c", "any"}};
    const char *const *ak, *const *av;
    char err[256];
    pgd_targets t;
    size_t i = 0;

    CHECK(pgd_targets_init(&t, k, v, err, sizeof err) == PGD_OK);
    CHECK(pgd_targets_begin(&t) == PGD_OK);
    do {
        pgd_targets_params(&t, &ak, &av);
        CHECK(i < 5);
        if (i >= 5)
            break;
        CHECK_STREQ(param(ak, av, "host"), want[i][0]);
        CHECK_STREQ(param(ak, av, "port"), "1");
        CHECK_STREQ(param(ak, av, "target_session_attrs"), want[i][1]);
        if (i == 1) /* b timed out: not tried again in the second pass */
            t.timed_out[pgd_targets_current(&t)] = 1;
        i++;
    } while (pgd_targets_next(&t));
    CHECK(i == 5);

    /* each failure once, in order; a repeat of the last is dropped */
    pgd_targets_log(&t, "host a: refused\n");
    pgd_targets_log(&t, "bad option\n");
    pgd_targets_log(&t, "bad option\n");
    pgd_targets_log(&t, "host c: timeout");
    CHECK_STREQ(t.log, "host a: refused\nbad option\nhost c: timeout");
    /* a new connect starts over */
    CHECK(pgd_targets_begin(&t) == PGD_OK);
    CHECK(t.log == NULL && t.pass == 1 && !t.timed_out[1]);
    pgd_targets_free(&t);
}

/* host, port, load_balance_hosts and target_session_attrs from libpq's
 * environment variables when the parameters do not give them */
static void test_environment(void)
{
    const char *k[] = {"user", "port", NULL}, *v[] = {"u", "9", NULL};
    char err[256];
    pgd_targets t;

    setenv("PGHOST", "x,y", 1);
    setenv("PGPORT", "1,2", 1);
    setenv("PGLOADBALANCEHOSTS", "random", 1);
    setenv("PGTARGETSESSIONATTRS", "read-only", 1);
    CHECK(pgd_targets_init(&t, NULL, NULL, err, sizeof err) == PGD_OK);
    CHECK(t.n == 2 && t.nport == 2 && t.random);
    CHECK_STREQ(t.tsa, "read-only");
    pgd_targets_free(&t);
    /* a parameter wins over its variable */
    CHECK(pgd_targets_init(&t, k, v, err, sizeof err) == PGD_OK);
    CHECK(t.n == 2 && t.nport == 1);
    CHECK_STREQ(t.port[0], "9");
    pgd_targets_free(&t);
    setenv("PGPORT", "1,2,3", 1);
    CHECK(pgd_targets_init(&t, NULL, NULL, err, sizeof err) == PGD_ERROR);
    CHECK_CONTAINS(err, "could not match 3 port numbers to 2 hosts");
    unsetenv("PGHOST");
    unsetenv("PGPORT");
    unsetenv("PGLOADBALANCEHOSTS");
    unsetenv("PGTARGETSESSIONATTRS");
}

int main(void)
{
    test_strip();
    test_lists();
    test_random();
    test_prefer_standby();
    test_environment();
    printf("test_hosts: %s (%d checks, %d failed)\n", failures ? "FAILED" : "all passed",
           checks, failures);
    return failures != 0;
}
