/*
 * bench_common.h - set-up shared by the micro-benchmarks: the registry of
 * built-in codec plugins, loaded once from the build tree.  Set-up
 * failures print a message and exit(1): a benchmark must never time a
 * path that did not work.
 *
 * Kept free of tests/c/chost.h, so a benchmark can include the driver's
 * internal.h (both define struct pgd_wbuf); the C host parts are in
 * bench_host.h.
 */
#ifndef PGD_BENCH_COMMON_H
#define PGD_BENCH_COMMON_H

#include "pgd.h"

/* The registry with every plugin in PGD_CODEC_DIR; owned by the process. */
const pgd_registry *bench_registry();
/* A new registry with the same plugins (exits on failure); the caller frees
 * it with pgd_registry_free. */
pgd_registry *bench_registry_new();

/* benchmark::Initialize; exits 1 on an option it does not know. */
void bench_init(int *argc, char **argv);
/* Record the driver's allocator table in the JSON context (pgd_allocator),
 * run the registered benchmarks, shut down; main's exit status. */
int bench_run();

/* Print "micro-benchmarks: <message>" to stderr and exit(1). */
[[noreturn]] void bench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* PGD_BENCH_COMMON_H */
