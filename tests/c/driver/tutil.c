/*
 * tutil.c - see tutil.h.
 */
#include "tutil.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <time.h>

#include "pgd_wire.h"

int t_failures;
int t_checks;
const pgd_registry *t_reg;

int t_contains(const char *haystack, const char *needle)
{
    return haystack && needle && strstr(haystack, needle) != NULL;
}

const char *t_nn(const char *s)
{
    static const char null_text[] = "(null)";

    return s ? s : null_text;
}

int t_done(const char *name)
{
    if (t_failures) {
        fprintf(stderr, "%s: %d of %d checks FAILED\n", name, t_failures, t_checks);
        return 1;
    }
    if (t_checks == 0) {
        fprintf(stderr, "%s: no checks ran\n", name);
        return 1;
    }
    printf("%s: all %d checks passed\n", name, t_checks);
    return 0;
}

const char *t_dsn(void)
{
    const char *d = getenv("PSQLPY_TEST_DSN");

    if (!d || !*d) {
        fprintf(stderr, "PSQLPY_TEST_DSN is not set: this test needs a running PostgreSQL "
                        "(e.g. postgresql://postgres:pass@127.0.0.1:5432/postgres)\n");
        exit(1);
    }
    return d;
}

const pgd_registry *t_registry(void)
{
    static pgd_registry *r;

    if (!r) {
        r = pgd_registry_new();
        if (!r || pgd_registry_add_module(r, &t_codecs_module, "tcodecs") != PGD_OK) {
            fprintf(stderr, "cannot register the test codecs: %s\n",
                    r ? pgd_registry_error(r) : "OOM");
            exit(1);
        }
        t_reg = r;
    }
    return r;
}

int t_wait(int fd, int wants, int timeout_ms)
{
    struct pollfd p;
    int rc;

    p.fd = fd;
    p.events = (short)(((wants & PGD_WANT_READ) ? POLLIN : 0) |
                       ((wants & PGD_WANT_WRITE) ? POLLOUT : 0));
    p.revents = 0;
    do {
        rc = poll(&p, 1, timeout_ms);
    } while (rc < 0 && errno == EINTR);
    if (rc == 0) {
        if (timeout_ms >= 1000) /* short waits time out on purpose */
            fprintf(stderr, "timed out waiting for the socket (wants %d)\n", wants);
        return -1;
    }
    return 0;
}

pgd_conn *t_connect_kv(const char *const *keys, const char *const *vals, int *rc)
{
    const char *k[16], *v[16];
    size_t n = 0, i;
    pgd_conn *c;

    k[n] = "dbname";
    v[n++] = t_dsn();
    for (i = 0; keys && keys[i] && n < 15; i++, n++) {
        k[n] = keys[i];
        v[n] = vals[i];
    }
    k[n] = v[n] = NULL;
    c = pgd_conn_new(k, v, t_registry());
    if (!c) {
        fprintf(stderr, "pgd_conn_new failed\n");
        exit(1);
    }
    *rc = pgd_conn_connect_start(c);
    while (*rc > 0) {
        if (t_wait(pgd_conn_socket(c), *rc, 30000) != 0) {
            *rc = PGD_ERROR;
            break;
        }
        *rc = pgd_conn_connect_poll(c);
    }
    return c;
}

pgd_conn *t_connect(void)
{
    int rc;
    pgd_conn *c = t_connect_kv(NULL, NULL, &rc);

    if (rc != PGD_OK) {
        fprintf(stderr, "cannot connect to PSQLPY_TEST_DSN: %s\n", pgd_conn_error(c)->message);
        exit(1);
    }
    return c;
}

int t_run(pgd_conn *c, int rc)
{
    while (rc > 0) {
        if (t_wait(pgd_conn_socket(c), rc, 30000) != 0)
            return -99;
        rc = pgd_conn_io(c);
    }
    return rc;
}

int t_query(pgd_conn *c, const char *sql, size_t n, const pgd_value *params)
{
    return t_run(c, pgd_conn_send_query(c, sql, n, params));
}

int t_simple(pgd_conn *c, const char *sql)
{
    return t_run(c, pgd_conn_send_simple(c, sql));
}

/* Every cell t_cell() decodes is decoded again with its whole row through
 * pgd_result_get_row(), which must agree: the same value, or a failure at
 * the same column (or an earlier one). */
static void check_row_decode(const pgd_result *r, int row, int col, int ok, const char *cell)
{
    int ncols = pgd_result_ncols(r), i, done;
    int bin = t_binary_decodes, txt = t_text_decodes; /* tests count t_cell's */
    const pgd_host **hosts;
    pgd_obj **out;
    chost_ctx ctx;

    if (row < 0 || row >= pgd_result_nrows(r) || col < 0 || col >= ncols)
        return;
    hosts = malloc((size_t)ncols * sizeof *hosts);
    out = malloc((size_t)ncols * sizeof *out);
    for (i = 0; i < ncols; i++)
        hosts[i] = chost_host();
    chost_ctx_init(&ctx);
    done = pgd_result_get_row(r, row, hosts, &ctx, out);
    if (done > col) {
        char *again = chost_repr(out[col]);

        if (!ok || strcmp(again, cell) != 0) {
            fprintf(stderr, "pgd_result_get_row (%d, %d): %s, pgd_result_get: %s\n", row, col,
                    again, cell);
            abort();
        }
        free(again);
    } else if (done == col && ok) {
        fprintf(stderr, "pgd_result_get_row failed at (%d, %d): %s; pgd_result_get: %s\n", row,
                col, ctx.err, cell);
        abort();
    }
    for (i = 0; i < done; i++)
        chost_free(out[i]);
    free(out);
    free(hosts);
    t_binary_decodes = bin;
    t_text_decodes = txt;
}

char *t_cell(const pgd_result *r, int row, int col)
{
    chost_ctx ctx;
    pgd_obj *o;
    char *s;

    chost_ctx_init(&ctx);
    o = pgd_result_get(r, row, col, chost_host(), &ctx);
    if (!o) {
        s = malloc(strlen(ctx.err) + 5);
        sprintf(s, "ERR:%s", ctx.err);
    } else {
        s = chost_repr(o);
        chost_free(o);
    }
    check_row_decode(r, row, col, o != NULL, s);
    return s;
}

char *t_scalar(pgd_conn *c, const char *sql)
{
    pgd_result *r;
    char *s;

    if (t_simple(c, sql) != PGD_OK) {
        fprintf(stderr, "query failed: %s: %s\n", sql, pgd_conn_error(c)->message);
        return NULL;
    }
    r = pgd_conn_take_result(c);
    if (!r)
        return NULL;
    s = pgd_result_nrows(r) > 0 ? t_cell(r, 0, 0) : NULL;
    pgd_result_free(r);
    return s;
}

char *t_column(pgd_conn *c, const char *sql)
{
    pgd_result *r;
    size_t len = 0;
    char *out;
    int i;

    if (t_simple(c, sql) != PGD_OK) {
        fprintf(stderr, "query failed: %s: %s\n", sql, pgd_conn_error(c)->message);
        return NULL;
    }
    r = pgd_conn_take_result(c);
    out = calloc(1, 1);
    for (i = 0; r && out && i < pgd_result_nrows(r); i++) {
        char *v = t_cell(r, i, 0);
        size_t n = strlen(v);
        char *grown = realloc(out, len + n + 2);

        if (grown) {
            out = grown;
            if (len)
                out[len++] = ',';
            memcpy(out + len, v, n + 1);
            len += n;
        }
        free(v);
    }
    pgd_result_free(r);
    return out;
}

void t_check_next(pgd_conn *c, const char *want, const char *file, int line)
{
    pgd_result *r = pgd_conn_take_result(c);
    char *s = r && pgd_result_nrows(r) > 0 ? t_cell(r, 0, 0) : NULL;

    t_checks++;
    if (!s || strcmp(s, want) != 0) {
        t_failures++;
        fprintf(stderr, "%s:%d: check failed: next result %s, want %s\n", file, line,
                r ? t_nn(s) : "(none)", want);
    }
    free(s);
    pgd_result_free(r);
}

pgd_value t_int(int64_t v)
{
    pgd_value x;

    memset(&x, 0, sizeof x);
    x.kind = PGD_V_INT;
    x.u.i = v;
    return x;
}

pgd_value t_str(const char *s)
{
    pgd_value x;

    memset(&x, 0, sizeof x);
    x.kind = PGD_V_STR;
    x.u.s.p = s;
    x.u.s.n = strlen(s);
    return x;
}

pgd_value t_null(void)
{
    pgd_value x;

    memset(&x, 0, sizeof x);
    x.kind = PGD_V_NULL;
    return x;
}
