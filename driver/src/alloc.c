/*
 * alloc.c - the allocator table behind every driver and codec buffer.
 *
 * With PGD_WITH_JEMALLOC the default table calls jemalloc's non-standard
 * API (mallocx/rallocx/dallocx), so libpgd's buffers come from jemalloc
 * while the process's malloc()/free() stay whatever they were.
 *
 * jemalloc is found at run time, not linked: Debian's libjemalloc.so.2 uses
 * initial-exec TLS (DF_STATIC_TLS, 2.6 kB), and glibc refuses to dlopen such
 * a library once the process has started ("cannot allocate memory in static
 * TLS block") -- linking it into the CPython extension would make the
 * extension itself fail to import.  So on first use we look for mallocx in
 * the process (an executable that links jemalloc, or LD_PRELOAD), then try
 * dlopen("libjemalloc.so.2", RTLD_LOCAL) (its malloc then does not
 * interpose), and fall back to the system allocator when neither works.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- system allocator --------------------------------------------------- */

static void *sys_malloc(size_t n) { return malloc(n ? n : 1); }
static void *sys_realloc(void *p, size_t n) { return realloc(p, n ? n : 1); }
static void sys_free(void *p) { free(p); }

static const pgd_allocator sys_allocator = {"system", sys_malloc, sys_realloc, sys_free};

const pgd_allocator *pgd_allocator_system(void) { return &sys_allocator; }

/* ---- jemalloc ------------------------------------------------------------- */

#ifdef PGD_WITH_JEMALLOC
static void *(*je_mallocx)(size_t, int);
static void *(*je_rallocx)(void *, size_t, int);
static void (*je_dallocx)(void *, int);
static const pgd_allocator *je_table; /* NULL: jemalloc not available */
static pthread_once_t je_once = PTHREAD_ONCE_INIT;

/* mallocx(0) and rallocx(NULL) are undefined in jemalloc: map them. */
static void *je_malloc_(size_t n) { return je_mallocx(n ? n : 1, 0); }
static void *je_realloc_(void *p, size_t n)
{
    if (!p)
        return je_mallocx(n ? n : 1, 0);
    return je_rallocx(p, n ? n : 1, 0);
}
static void je_free_(void *p)
{
    if (p)
        je_dallocx(p, 0);
}

static const pgd_allocator je_allocator = {"jemalloc", je_malloc_, je_realloc_, je_free_};

static int je_bind(void *handle)
{
    union {
        void *p;
        void *(*m)(size_t, int);
        void *(*r)(void *, size_t, int);
        void (*d)(void *, int);
    } u;

    u.p = dlsym(handle, "mallocx");
    je_mallocx = u.m;
    u.p = dlsym(handle, "rallocx");
    je_rallocx = u.r;
    u.p = dlsym(handle, "dallocx");
    je_dallocx = u.d;
    return je_mallocx && je_rallocx && je_dallocx;
}

static void je_init(void)
{
    void *h;

    if (je_bind(RTLD_DEFAULT)) {
        je_table = &je_allocator;
        return;
    }
    /* never dlclose'd: blocks it handed out may live until exit */
    h = dlopen("libjemalloc.so.2", RTLD_NOW | RTLD_LOCAL);
    if (h && je_bind(h))
        je_table = &je_allocator;
}

const pgd_allocator *pgd_allocator_jemalloc(void)
{
    pthread_once(&je_once, je_init);
    return je_table;
}
#else
const pgd_allocator *pgd_allocator_jemalloc(void) { return NULL; }
#endif

/* The table chosen with pgd_allocator_set(), else the default. */
static const pgd_allocator *current;
static const pgd_allocator *default_table;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

static void default_init(void)
{
    const pgd_allocator *a = pgd_allocator_jemalloc();

    default_table = a ? a : &sys_allocator;
}

static const pgd_allocator *table(void)
{
    if (pgd_likely(current != NULL))
        return current;
    pthread_once(&default_once, default_init);
    return default_table;
}

const pgd_allocator *pgd_allocator_get(void) { return table(); }

/* Switch tables (NULL: back to the default).  Only valid while no block
 * is live: a pointer must be freed by the table that made it. */
void pgd_allocator_set(const pgd_allocator *a) { current = a; }

void *pgd_malloc(size_t n) { return table()->malloc(n); }

void *pgd_calloc(size_t count, size_t n)
{
    void *p;

    if (n && count > SIZE_MAX / n)
        return NULL;
    p = table()->malloc(count * n);
    if (p)
        memset(p, 0, count * n);
    return p;
}

void *pgd_realloc(void *p, size_t n) { return table()->realloc(p, n); }

void pgd_free(void *p)
{
    if (p)
        table()->free(p);
}

char *pgd_strdup(const char *s)
{
    size_t n;
    char *p;

    if (!s)
        return NULL;
    n = strlen(s) + 1;
    p = pgd_malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

void pgd_strv_free(char **v)
{
    size_t i;

    for (i = 0; v && v[i]; i++)
        pgd_free(v[i]);
    pgd_free(v);
}

int pgd_grow(void *arrp, size_t n, size_t *cap, size_t elem, size_t first)
{
    void *old, *p;
    size_t ncap;

    if (n < *cap)
        return PGD_OK;
    ncap = *cap ? *cap * 2 : first;
    if (ncap < *cap || ncap > SIZE_MAX / elem)
        return PGD_ERROR;
    memcpy(&old, arrp, sizeof old);
    p = pgd_realloc(old, ncap * elem);
    if (!p)
        return PGD_ERROR;
    memcpy(arrp, &p, sizeof p);
    *cap = ncap;
    return PGD_OK;
}
