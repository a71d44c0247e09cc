/*
 * probe.c - built as a MODULE that links libpgd, loaded by
 * test_jemalloc_dlopen with dlopen(RTLD_LOCAL) the way CPython loads an
 * extension.  Reports which allocator libpgd picked and exercises it.
 */
#include <stdio.h>
#include <string.h>

#include "pgd.h"

__attribute__((visibility("default"))) int pgd_probe(char *name, size_t n);

/* Copies the allocator's name; 0 when a malloc/realloc/free round trip
 * through the table kept the data. */
int pgd_probe(char *name, size_t n)
{
    const pgd_allocator *a = pgd_allocator_get();
    char *p = pgd_malloc(100);
    int ok;

    snprintf(name, n, "%s", a->name);
    if (!p)
        return -1;
    memset(p, 'q', 100);
    p = pgd_realloc(p, 100000);
    if (!p)
        return -1;
    ok = p[0] == 'q' && p[99] == 'q';
    pgd_free(p);
    return ok ? 0 : -1;
}
