/*
 * test_jemalloc_dlopen.c - libpgd built with PGD_WITH_JEMALLOC inside a
 * module loaded by dlopen(RTLD_LOCAL), as the Python extension is: the
 * module loads (Debian's libjemalloc cannot be dlopen'ed without spare
 * static TLS, so it must not be a link dependency), its allocator table
 * works, and the process's malloc stays libc's.  With the argument
 * "jemalloc" (run with GLIBC_TUNABLES=glibc.rtld.optional_static_tls
 * raised, so the dlopen of libjemalloc can succeed) the table must be
 * jemalloc's.  This executable links neither libpgd nor jemalloc.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
#define CHECK(c)                                                                 \
    do {                                                                         \
        if (!(c)) {                                                              \
            failures++;                                                          \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
        }                                                                        \
    } while (0)

int main(int argc, char **argv)
{
    void *dl = dlopen(PGD_TEST_PROBE, RTLD_NOW | RTLD_LOCAL);
    int (*probe)(char *, size_t);
    char name[64] = "";
    Dl_info info;
    void *m, *p;

    if (!dl) {
        fprintf(stderr, "dlopen(%s) failed: %s\n", PGD_TEST_PROBE, dlerror());
        return 1;
    }
    *(void **)&probe = dlsym(dl, "pgd_probe");
    CHECK(probe != NULL);
    if (!probe)
        return 1;
    CHECK(probe(name, sizeof name) == 0);
    if (argc > 1)
        CHECK(strcmp(name, argv[1]) == 0);
    else
        CHECK(strcmp(name, "jemalloc") == 0 || strcmp(name, "system") == 0);

    /* the process's malloc is still libc's */
    m = dlsym(RTLD_DEFAULT, "malloc");
    CHECK(m != NULL);
    CHECK(m && dladdr(m, &info) && info.dli_fname && strstr(info.dli_fname, "libc.so") != NULL);
    p = malloc(1000);
    CHECK(p != NULL);
    free(p);
    if (failures) {
        fprintf(stderr, "test_jemalloc_dlopen: %d checks FAILED (malloc from %s)\n", failures,
                info.dli_fname ? info.dli_fname : "?");
        return 1;
    }
    printf("test_jemalloc_dlopen: allocator %s, malloc from %s\n", name, info.dli_fname);
    return 0;
}
