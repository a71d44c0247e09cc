/*
 * result_path.c - see result_path.h.  bench_table_new plans the columns as
 * driver/src/result.c (pgd_result_new, plan_column) does for a binary
 * result, and bench_table_get follows its decode_cell line for line, with
 * PQget* replaced by the table's cells; keep the two in step.
 */
#include "result_path.h"

#include "internal.h"

typedef struct bench_col {
    pgd_colcodec cc;
    pgd_decode_fn decode; /* NULL: the codec cannot decode the binary form */
} bench_col;

struct bench_table {
    int nrows, ncols;
    const bench_cell *cells;
    bench_col cols[]; /* ncols */
};

bench_table *bench_table_new(const pgd_registry *reg, int nrows, int ncols,
                             const uint32_t *col_oids, const bench_cell *cells)
{
    bench_table *t;
    int i;

    if (nrows < 0 || ncols < 0)
        return NULL;
    t = pgd_malloc(sizeof *t + (size_t)ncols * sizeof t->cols[0]);
    if (!t)
        return NULL;
    t->nrows = nrows;
    t->ncols = ncols;
    t->cells = cells;
    for (i = 0; i < ncols; i++) {
        pgd_colcodec_resolve(reg, col_oids[i], &t->cols[i].cc);
        t->cols[i].decode = pgd_colcodec_binary_decode(&t->cols[i].cc)
                                ? t->cols[i].cc.codec->decode_binary
                                : NULL;
    }
    return t;
}

void bench_table_free(bench_table *t) { pgd_free(t); }

pgd_obj *bench_table_get(const bench_table *t, int row, int col, const pgd_host *host, void *h)
{
    const bench_col *bc;
    const bench_cell *cell;

    if (pgd_unlikely(row < 0 || row >= t->nrows || col < 0 || col >= t->ncols)) {
        host->error(h, "cell (%d, %d) outside the result (%d rows, %d columns)", row, col,
                    t->nrows, t->ncols);
        return NULL;
    }
    cell = &t->cells[(size_t)row * (size_t)t->ncols + (size_t)col];
    if (cell->len == 0 && cell->isnull)
        return host->make_null(h);
    bc = &t->cols[col];
    if (pgd_likely(bc->decode != NULL)) {
        pgd_cx cx = PGD_CX_FOR(&bc->cc, host, h);

        return bc->decode(&cx, cell->p, (size_t)cell->len);
    }
    host->error(h, "column %d (type oid %u) is binary but has no binary decoder", col,
                bc->cc.oid);
    return NULL;
}
