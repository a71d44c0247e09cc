/*
 * jemalloc.c - the driver's allocator table on a private jemalloc.
 *
 * Built only when CMake finds the jemalloc made by scripts/build-jemalloc.sh
 * (PGD_JEMALLOC_ROOT): Debian's jemalloc, static and position-independent,
 * with its API prefixed pgdje_ (so the process's malloc is untouched) and
 * without initial-exec TLS (so a dlopen()ed extension can carry it).  Its
 * symbols are not exported from the extension.  The module installs the
 * table before the driver allocates anything.
 */
#include "pyext.h"

#include <jemalloc/jemalloc.h> /* declares pgdje_mallocx & co. */

/* mallocx(0) and rallocx(NULL) are undefined in jemalloc: map them. */
static void *
vj_malloc(size_t n)
{
    return pgdje_mallocx(n ? n : 1, 0);
}

static void *
vj_realloc(void *p, size_t n)
{
    return p ? pgdje_rallocx(p, n ? n : 1, 0) : pgdje_mallocx(n ? n : 1, 0);
}

static void
vj_free(void *p)
{
    if (p)
        pgdje_dallocx(p, 0);
}

static const pgd_allocator vendored = {"jemalloc", vj_malloc, vj_realloc, vj_free};

void
psqlpy_use_jemalloc(void)
{
    pgd_allocator_set(&vendored);
}
