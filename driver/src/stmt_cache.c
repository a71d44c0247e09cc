/*
 * stmt_cache.c - the per-connection prepared-statement cache.
 *
 * Key: SQL text + the pinned parameter OIDs (a value's pin_oid; trailing
 * zeros dropped).  A hash table of chains for lookup and a doubly linked
 * LRU list (head = most recently used).  Server-side names are pgd_<n>,
 * never reused on a connection.  An evicted statement that exists on the
 * server is queued for DEALLOCATE; the operation engine sends the queue
 * piggy-backed on the next extended-protocol operation that starts while
 * the session is outside a transaction block.  Statements an operation is
 * using (inuse > 0) are never evicted: the cache may exceed its capacity
 * during an operation and is trimmed back when the operation ends.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define FNV_OFFSET 1469598103934665603ull
#define FNV_PRIME 1099511628211ull

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    size_t i;

    for (i = 0; i < n; i++) {
        h ^= b[i];
        h *= FNV_PRIME;
    }
    return h;
}

static int count_pins(size_t nparams, const pgd_value *params)
{
    size_t n = nparams;

    while (n && params[n - 1].pin_oid == 0)
        n--;
    return (int)n;
}

static uint64_t key_hash(const char *sql, size_t sqllen, int npins, const pgd_value *params)
{
    uint64_t h = fnv(FNV_OFFSET, sql, sqllen);
    int i;

    for (i = 0; i < npins; i++)
        h = fnv(h, &params[i].pin_oid, sizeof params[i].pin_oid);
    return h;
}

void pgd_cache_init(pgd_stmt_cache *sc, int capacity)
{
    memset(sc, 0, sizeof *sc);
    sc->capacity = capacity;
    sc->next_id = 1;
}

void pgd_stmt_free(pgd_stmt *s)
{
    if (!s)
        return;
    pgd_free(s->sql);
    pgd_free(s->pins);
    pgd_free(s->params);
    pgd_free(s->cols);
    pgd_free(s);
}

void pgd_cache_free(pgd_stmt_cache *sc)
{
    pgd_stmt *s = sc->lru_head, *next;
    size_t i;

    for (; s; s = next) {
        next = s->lru_next;
        pgd_stmt_free(s);
    }
    for (i = 0; i < sc->ndealloc; i++)
        pgd_free(sc->dealloc[i]);
    pgd_free(sc->dealloc);
    pgd_free(sc->buckets);
    memset(sc, 0, sizeof *sc);
}

static void lru_unlink(pgd_stmt_cache *sc, pgd_stmt *s)
{
    if (s->lru_prev)
        s->lru_prev->lru_next = s->lru_next;
    else
        sc->lru_head = s->lru_next;
    if (s->lru_next)
        s->lru_next->lru_prev = s->lru_prev;
    else
        sc->lru_tail = s->lru_prev;
    s->lru_prev = s->lru_next = NULL;
}

static void lru_push_front(pgd_stmt_cache *sc, pgd_stmt *s)
{
    s->lru_prev = NULL;
    s->lru_next = sc->lru_head;
    if (sc->lru_head)
        sc->lru_head->lru_prev = s;
    sc->lru_head = s;
    if (!sc->lru_tail)
        sc->lru_tail = s;
}

static int key_equal(const pgd_stmt *s, uint64_t h, const char *sql, size_t sqllen, int npins,
                     const pgd_value *params)
{
    int i;

    if (s->hash != h || s->sqllen != sqllen || s->npins != npins ||
        memcmp(s->sql, sql, sqllen) != 0)
        return 0;
    for (i = 0; i < npins; i++)
        if (s->pins[i] != params[i].pin_oid)
            return 0;
    return 1;
}

pgd_stmt *pgd_cache_lookup(pgd_stmt_cache *sc, const char *sql, size_t nparams,
                           const pgd_value *params)
{
    size_t sqllen = strlen(sql);
    int npins = count_pins(nparams, params);
    uint64_t h;
    pgd_stmt *s;

    if (!sc->buckets)
        return NULL;
    h = key_hash(sql, sqllen, npins, params);
    for (s = sc->buckets[h & (sc->nbuckets - 1)]; s; s = s->hnext) {
        if (key_equal(s, h, sql, sqllen, npins, params)) {
            if (sc->lru_head != s) {
                lru_unlink(sc, s);
                lru_push_front(sc, s);
            }
            return s;
        }
    }
    return NULL;
}

static void hash_unlink(pgd_stmt_cache *sc, pgd_stmt *s)
{
    pgd_stmt **pp = &sc->buckets[s->hash & (sc->nbuckets - 1)];

    while (*pp && *pp != s)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = s->hnext;
    s->hnext = NULL;
}

static int hash_grow(pgd_stmt_cache *sc)
{
    size_t ncap = sc->nbuckets ? sc->nbuckets * 2 : 64, i;
    pgd_stmt **nb = pgd_calloc(ncap, sizeof *nb);

    if (!nb)
        return PGD_ERROR;
    for (i = 0; i < sc->nbuckets; i++) {
        pgd_stmt *s = sc->buckets[i], *next;

        for (; s; s = next) {
            next = s->hnext;
            s->hnext = nb[s->hash & (ncap - 1)];
            nb[s->hash & (ncap - 1)] = s;
        }
    }
    pgd_free(sc->buckets);
    sc->buckets = nb;
    sc->nbuckets = ncap;
    return PGD_OK;
}

int pgd_cache_queue_dealloc(pgd_stmt_cache *sc, const char *name)
{
    char *copy;

    if (pgd_grow(&sc->dealloc, sc->ndealloc, &sc->capdealloc, sizeof *sc->dealloc, 8) != PGD_OK)
        return PGD_ERROR;
    copy = pgd_strdup(name);
    if (!copy)
        return PGD_ERROR;
    sc->dealloc[sc->ndealloc++] = copy;
    return PGD_OK;
}

void pgd_cache_drop(pgd_stmt_cache *sc, pgd_stmt *s)
{
    if (s->cached) {
        hash_unlink(sc, s);
        lru_unlink(sc, s);
        sc->count--;
        s->cached = 0;
    }
    /* On OOM the name is forgotten: the server keeps an unused statement
     * until the session ends, which is harmless. */
    if (s->prepared_ok && s->name[0])
        pgd_cache_queue_dealloc(sc, s->name);
    pgd_stmt_free(s);
}

/* Evict the least recently used statement no operation is using. */
static int evict_one(pgd_stmt_cache *sc)
{
    pgd_stmt *s;

    for (s = sc->lru_tail; s; s = s->lru_prev) {
        if (!s->inuse) {
            pgd_cache_drop(sc, s);
            return 1;
        }
    }
    return 0;
}

void pgd_cache_trim(pgd_stmt_cache *sc)
{
    while (sc->count > sc->capacity && evict_one(sc))
        ;
}

void pgd_cache_set_capacity(pgd_stmt_cache *sc, int n)
{
    sc->capacity = n < 0 ? 0 : n;
    pgd_cache_trim(sc);
}

pgd_stmt *pgd_cache_create(pgd_stmt_cache *sc, const char *sql, size_t nparams,
                           const pgd_value *params, int temp)
{
    pgd_stmt *s = pgd_calloc(1, sizeof *s);
    int i, cache;

    if (!s)
        return NULL;
    s->sqllen = strlen(sql);
    s->sql = pgd_malloc(s->sqllen + 1);
    if (!s->sql)
        goto error;
    memcpy(s->sql, sql, s->sqllen + 1);
    s->npins = count_pins(nparams, params);
    if (s->npins) {
        s->pins = pgd_malloc((size_t)s->npins * sizeof *s->pins);
        if (!s->pins)
            goto error;
        for (i = 0; i < s->npins; i++)
            s->pins[i] = params[i].pin_oid;
    }
    s->hash = key_hash(sql, s->sqllen, s->npins, params);

    /* Cached even beyond capacity: the cache is trimmed when the
     * operation ends (pgd_cache_trim), so a statement that fails to
     * prepare never costs a good one its place. */
    cache = !temp && sc->capacity > 0;
    if (cache && (size_t)sc->count >= sc->nbuckets && hash_grow(sc) != PGD_OK)
        cache = 0;
    if (cache) {
        size_t b = s->hash & (sc->nbuckets - 1);

        s->hnext = sc->buckets[b];
        sc->buckets[b] = s;
        lru_push_front(sc, s);
        sc->count++;
        s->cached = 1;
    }
    if (!temp)
        snprintf(s->name, sizeof s->name, "pgd_%llu", (unsigned long long)sc->next_id++);
    return s;
error:
    pgd_stmt_free(s);
    return NULL;
}

int pgd_stmt_describe(pgd_stmt *s, const PGresult *res, const pgd_registry *reg,
                      pgd_typemap *types)
{
    int i;

    pgd_free(s->params);
    pgd_free(s->cols);
    s->params = NULL;
    s->cols = NULL;
    s->nparams = PQnparams(res);
    s->ncols = PQnfields(res);
    if (s->nparams > 0) {
        s->params = pgd_calloc((size_t)s->nparams, sizeof *s->params);
        if (!s->params)
            return PGD_ERROR;
    }
    if (s->ncols > 0) {
        s->cols = pgd_calloc((size_t)s->ncols, sizeof *s->cols);
        if (!s->cols)
            return PGD_ERROR;
    }
    for (i = 0; i < s->nparams; i++)
        s->params[i].oid = PQparamtype(res, i);
    for (i = 0; i < s->ncols; i++)
        s->cols[i].oid = PQftype(res, i);
    return pgd_stmt_resolve(s, reg, types);
}

int pgd_stmt_resolve(pgd_stmt *s, const pgd_registry *reg, pgd_typemap *types)
{
    int i;

    for (i = 0; i < s->nparams; i++)
        if (pgd_types_resolve(reg, types, s->params[i].oid, &s->params[i]) != PGD_OK)
            return PGD_ERROR;
    /* One column without a binary decoder => the whole result as text. */
    s->result_format = 1;
    for (i = 0; i < s->ncols; i++) {
        if (pgd_types_resolve(reg, types, s->cols[i].oid, &s->cols[i]) != PGD_OK)
            return PGD_ERROR;
        if (!pgd_colcodec_binary_decode(&s->cols[i]))
            s->result_format = 0;
    }
    return PGD_OK;
}
