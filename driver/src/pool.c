/*
 * pool.c - the pool's bookkeeping: which connections exist, which are idle.
 * Connecting, recycling and waiting are the caller's business (the
 * extension drives them from the event loop; it asks pgd_recycle_sql()
 * what to run when a connection comes back).
 *
 * Ownership: the pool owns every connection it made, idle or lent.
 * pgd_pool_free() frees them all, lent ones included; a connection given
 * to pgd_pool_discard() is freed at once.
 */
#include <string.h>

#include "internal.h"

struct pgd_pool {
    char **keys, **vals; /* NULL-terminated copies */
    const pgd_registry *reg;
    int max_size;
    int cap;             /* slots in all[] and idle[] (>= max_size, >= nall) */
    pgd_recycle recycle;
    pgd_conn **all;      /* max_size slots: every connection alive */
    int nall;
    pgd_conn **idle;     /* stack: most recently returned on top */
    int nidle;
};

static char **copy_strv(const char *const *v, size_t n)
{
    char **out = pgd_calloc(n + 1, sizeof *out);
    size_t i;

    if (!out)
        return NULL;
    for (i = 0; i < n; i++) {
        out[i] = pgd_strdup(v[i] ? v[i] : "");
        if (!out[i]) {
            while (i--)
                pgd_free(out[i]);
            pgd_free(out);
            return NULL;
        }
    }
    return out;
}

pgd_pool *pgd_pool_new(const char *const *keys, const char *const *vals, int max_size,
                       pgd_recycle recycle, const pgd_registry *reg)
{
    pgd_pool *p;
    size_t n = 0;

    if (max_size < 1)
        return NULL;
    p = pgd_calloc(1, sizeof *p);
    if (!p)
        return NULL;
    while (keys && keys[n])
        n++;
    p->keys = copy_strv(keys, n);
    p->vals = copy_strv(vals, n);
    p->all = pgd_calloc((size_t)max_size, sizeof *p->all);
    p->idle = pgd_calloc((size_t)max_size, sizeof *p->idle);
    if (!p->keys || !p->vals || !p->all || !p->idle)
        goto error;
    p->reg = reg;
    p->max_size = max_size;
    p->cap = max_size;
    p->recycle = recycle;
    return p;
error:
    pgd_pool_free(p);
    return NULL;
}

void pgd_pool_free(pgd_pool *p)
{
    int i;

    if (!p)
        return;
    for (i = 0; i < p->nall; i++)
        pgd_conn_free(p->all[i]);
    pgd_free(p->all);
    pgd_free(p->idle);
    pgd_strv_free(p->keys);
    pgd_strv_free(p->vals);
    pgd_free(p);
}

int pgd_pool_max_size(const pgd_pool *p) { return p->max_size; }
int pgd_pool_size(const pgd_pool *p) { return p->nall; }
int pgd_pool_idle(const pgd_pool *p) { return p->nidle; }
pgd_recycle pgd_pool_recycle_method(const pgd_pool *p) { return p->recycle; }

pgd_conn *pgd_pool_take_idle(pgd_pool *p)
{
    return p->nidle ? p->idle[--p->nidle] : NULL;
}

pgd_conn *pgd_pool_grow(pgd_pool *p)
{
    pgd_conn *c;

    if (p->nall >= p->max_size)
        return NULL;
    c = pgd_conn_new((const char *const *)p->keys, (const char *const *)p->vals, p->reg);
    if (!c)
        return NULL;
    p->all[p->nall++] = c;
    return c;
}

int pgd_pool_resize(pgd_pool *p, int max_size)
{
    pgd_conn **all, **idle;

    if (max_size < 1)
        return PGD_ERROR;
    if (max_size > p->cap) {
        all = pgd_realloc(p->all, (size_t)max_size * sizeof *all);
        if (!all)
            return PGD_ERROR;
        p->all = all;
        idle = pgd_realloc(p->idle, (size_t)max_size * sizeof *idle);
        if (!idle)
            return PGD_ERROR; /* all[] is bigger already: harmless */
        p->idle = idle;
        p->cap = max_size;
    }
    p->max_size = max_size;
    return PGD_OK;
}

static int index_of(pgd_conn **v, int n, const pgd_conn *c)
{
    int i;

    for (i = 0; i < n; i++)
        if (v[i] == c)
            return i;
    return -1;
}

void pgd_pool_discard(pgd_pool *p, pgd_conn *c)
{
    int i = index_of(p->all, p->nall, c);

    if (!c || i < 0)
        return; /* not ours: leave it alone */
    p->all[i] = p->all[--p->nall];
    i = index_of(p->idle, p->nidle, c);
    if (i >= 0) {
        memmove(&p->idle[i], &p->idle[i + 1], (size_t)(p->nidle - i - 1) * sizeof *p->idle);
        p->nidle--;
    }
    pgd_conn_free(c);
}

void pgd_pool_put(pgd_pool *p, pgd_conn *c)
{
    if (!c || index_of(p->all, p->nall, c) < 0 || index_of(p->idle, p->nidle, c) >= 0)
        return; /* not ours, or already idle */
    if (!pgd_conn_is_ok(c) || pgd_conn_is_busy(c)) {
        pgd_pool_discard(p, c);
        return;
    }
    p->idle[p->nidle++] = c;
}

const char *pgd_recycle_sql(pgd_recycle method)
{
    switch (method) {
    case PGD_RECYCLE_VERIFIED:
        return "SELECT 1";
    case PGD_RECYCLE_CLEAN:
        /* Session state back to defaults; prepared statements survive
         * (the connection's statement cache still names them). */
        return "CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; UNLISTEN *; "
               "SELECT pg_advisory_unlock_all(); DISCARD TEMP; DISCARD SEQUENCES;";
    default:
        return NULL;
    }
}
