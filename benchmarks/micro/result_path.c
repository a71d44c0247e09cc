/*
 * result_path.c - see result_path.h.  The body of bench_table_get follows
 * driver/src/result.c (pgd_result_get) line for line, with PQget* replaced
 * by the table's cells; keep the two in step.
 */
#include "result_path.h"

#include "internal.h"

struct bench_table {
    int nrows, ncols;
    const bench_cell *cells;
    pgd_colcodec cols[]; /* ncols */
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
    for (i = 0; i < ncols; i++)
        pgd_colcodec_resolve(reg, col_oids[i], &t->cols[i]);
    return t;
}

void bench_table_free(bench_table *t) { pgd_free(t); }

pgd_obj *bench_table_get(const bench_table *t, int row, int col, const pgd_host *host, void *h)
{
    const pgd_colcodec *cc;
    const bench_cell *cell;

    if (pgd_unlikely(row < 0 || row >= t->nrows || col < 0 || col >= t->ncols)) {
        host->error(h, "cell (%d, %d) outside the result (%d rows, %d columns)", row, col,
                    t->nrows, t->ncols);
        return NULL;
    }
    cell = &t->cells[(size_t)row * (size_t)t->ncols + (size_t)col];
    if (cell->isnull)
        return host->make_null(h);
    cc = &t->cols[col];
    {
        pgd_cx cx = PGD_CX_FOR(cc, host, h);

        if (pgd_unlikely(!pgd_colcodec_binary_decode(cc))) {
            host->error(h, "column %d (type oid %u) is binary but has no binary decoder", col,
                        cc->oid);
            return NULL;
        }
        return cc->codec->decode_binary(&cx, cell->p, (size_t)cell->len);
    }
}
