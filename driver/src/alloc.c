/*
 * alloc.c - the allocator table behind every driver and codec buffer.
 *
 * With PGD_WITH_JEMALLOC the default table calls jemalloc's non-standard
 * API (mallocx/rallocx/dallocx) directly, so libpgd's buffers come from
 * jemalloc while the process's malloc()/free() keep whatever they were.
 * (Debian's libjemalloc also exports malloc; when the library is loaded
 * by dlopen() with RTLD_LOCAL, as a Python extension is, the process's
 * malloc still resolves to libc first.  An executable that links libpgd
 * directly gets jemalloc's malloc too.)
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#ifdef PGD_WITH_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

/* ---- system allocator --------------------------------------------------- */

static void *sys_malloc(size_t n) { return malloc(n ? n : 1); }
static void *sys_realloc(void *p, size_t n) { return realloc(p, n ? n : 1); }
static void sys_free(void *p) { free(p); }

static const pgd_allocator sys_allocator = {"system", sys_malloc, sys_realloc, sys_free};

const pgd_allocator *pgd_allocator_system(void) { return &sys_allocator; }

/* ---- jemalloc ------------------------------------------------------------- */

#ifdef PGD_WITH_JEMALLOC
/*
 * jemalloc is found at run time, not linked: Debian's libjemalloc.so.2
 * uses initial-exec TLS, which a library loaded with dlopen() (a Python
 * extension) cannot always get ("cannot allocate memory in static TLS
 * block").  So: use mallocx & co. when the process already has them (an
 * executable linked with -ljemalloc, or LD_PRELOAD=libjemalloc.so.2), else
 * try to dlopen the library, else fall back to the system allocator.
 * pgd_allocator_get()->name says which one is in use.
 */
#include <dlfcn.h>

typedef void *(*mallocx_fn)(size_t, int);
typedef void *(*rallocx_fn)(void *, size_t, int);
typedef void (*dallocx_fn)(void *, int);

static mallocx_fn je_mallocx;
static rallocx_fn je_rallocx;
static dallocx_fn je_dallocx;
static int je_state; /* 0 not looked up yet, 1 available, -1 unavailable */

static int je_lookup(void *handle)
{
    je_mallocx = (mallocx_fn)dlsym(handle, "mallocx");
    je_rallocx = (rallocx_fn)dlsym(handle, "rallocx");
    je_dallocx = (dallocx_fn)dlsym(handle, "dallocx");
    return je_mallocx && je_rallocx && je_dallocx;
}

static int je_available(void)
{
    if (je_state == 0) {
        void *h;
        if (je_lookup(RTLD_DEFAULT))
            je_state = 1;
        else if ((h = dlopen("libjemalloc.so.2", RTLD_NOW | RTLD_LOCAL)) != NULL && je_lookup(h))
            je_state = 1;
        else
            je_state = -1;
    }
    return je_state > 0;
}

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

const pgd_allocator *pgd_allocator_jemalloc(void) { return je_available() ? &je_allocator : NULL; }
#else
const pgd_allocator *pgd_allocator_jemalloc(void) { return NULL; }
#endif

static const pgd_allocator *current;

static const pgd_allocator *cur(void)
{
    if (current == NULL) {
        current = pgd_allocator_jemalloc();
        if (current == NULL)
            current = &sys_allocator;
    }
    return current;
}

const pgd_allocator *pgd_allocator_get(void) { return cur(); }

/* Switch tables.  Only valid before the first allocation: a pointer must
 * be freed by the table that made it.  NULL restores the default. */
void pgd_allocator_set(const pgd_allocator *a) { current = a; }

void *pgd_malloc(size_t n) { return cur()->malloc(n); }

void *pgd_calloc(size_t count, size_t n)
{
    void *p;

    if (n && count > SIZE_MAX / n)
        return NULL;
    p = cur()->malloc(count * n);
    if (p)
        memset(p, 0, count * n);
    return p;
}

void *pgd_realloc(void *p, size_t n) { return cur()->realloc(p, n); }

void pgd_free(void *p)
{
    if (p)
        cur()->free(p);
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
