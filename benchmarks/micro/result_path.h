/*
 * result_path.h - the driver's per-cell result-to-object path (result.c,
 * pgd_result_get's binary branch) over an in-memory table instead of a
 * PGresult: the driver has no public constructor for a synthetic result,
 * so the benchmark keeps the cells itself and decodes them exactly as
 * result.c does (bounds check, NULL, the decode function planned per column).
 *
 * Plain C, compiled against the driver's internal.h (pgd_colcodec,
 * pgd_colcodec_resolve), which cannot share a translation unit with the C
 * host's header.
 */
#ifndef PGD_BENCH_RESULT_PATH_H
#define PGD_BENCH_RESULT_PATH_H

#include <stddef.h>
#include <stdint.h>

#include "pgd.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One cell as PQgetvalue/PQgetlength/PQgetisnull would give it. */
typedef struct bench_cell {
    const char *p; /* borrowed from the table's storage */
    int len;
    int isnull;
} bench_cell;

/* A binary result: nrows x ncols cells (row-major) and the columns' codecs
 * resolved once, as when a statement is described. */
typedef struct bench_table bench_table;

/* New, or NULL on OOM.  cells are borrowed and must outlive the table. */
bench_table *bench_table_new(const pgd_registry *reg, int nrows, int ncols,
                             const uint32_t *col_oids, const bench_cell *cells);
void bench_table_free(bench_table *t);

/* result.c's pgd_result_get for a binary result: a new object, or NULL
 * after host->error(). */
pgd_obj *bench_table_get(const bench_table *t, int row, int col, const pgd_host *host,
                         void *h);

#ifdef __cplusplus
}
#endif

#endif /* PGD_BENCH_RESULT_PATH_H */
