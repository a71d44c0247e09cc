/*
 * result.c - pgd_result: a PGresult plus a copy of its columns' codecs.
 *
 * The codecs were resolved once, when the statement was described; a result
 * copies the pointers so it outlives its statement (eviction) and its
 * connection.  A cell is decoded by the column's binary decoder in a binary
 * result; in a text result by the codec's decode_text when it has one,
 * else it becomes a string of the server's text form.  SQL NULL is always
 * host->make_null.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct pgd_result {
    PGresult *res;
    pgd_typemap *types; /* a reference: the codecs may point into it */
    int nrows, ncols;
    pgd_colcodec cols[]; /* ncols */
};

pgd_result *pgd_result_new(PGresult *res, const pgd_stmt *s, const pgd_registry *reg,
                           pgd_typemap *types)
{
    int ncols = PQnfields(res), i;
    pgd_result *r;

    r = pgd_malloc(sizeof *r + (size_t)(ncols > 0 ? ncols : 0) * sizeof r->cols[0]);
    if (!r) {
        PQclear(res);
        return NULL;
    }
    r->res = res;
    r->types = pgd_types_retain(types);
    r->nrows = PQntuples(res);
    r->ncols = ncols;
    if (s && s->ncols == ncols && ncols > 0) {
        memcpy(r->cols, s->cols, (size_t)ncols * sizeof r->cols[0]);
    } else {
        /* simple protocol: the types this connection knows; nothing is
         * fetched for a result that is already here */
        for (i = 0; i < ncols; i++)
            if (pgd_types_resolve(reg, types, PQftype(res, i), &r->cols[i]) != PGD_OK)
                pgd_colcodec_resolve(reg, PQftype(res, i), &r->cols[i]);
        pgd_types_clear_pending(types);
    }
    return r;
}

void pgd_result_free(pgd_result *r)
{
    if (!r)
        return;
    PQclear(r->res);
    pgd_types_release(r->types);
    pgd_free(r);
}

int pgd_result_nrows(const pgd_result *r) { return r->nrows; }
int pgd_result_ncols(const pgd_result *r) { return r->ncols; }

const char *pgd_result_colname(const pgd_result *r, int col)
{
    return col >= 0 && col < r->ncols ? PQfname(r->res, col) : NULL;
}

uint32_t pgd_result_coltype(const pgd_result *r, int col)
{
    return col >= 0 && col < r->ncols ? PQftype(r->res, col) : 0;
}

/* OID of the table column `col` was taken from (PQftable), 0 when it is
 * computed or out of range. */
uint32_t pgd_result_coltable(const pgd_result *r, int col)
{
    return col >= 0 && col < r->ncols ? PQftable(r->res, col) : 0;
}

const char *pgd_result_command(const pgd_result *r) { return PQcmdStatus(r->res); }

int64_t pgd_result_affected(const pgd_result *r)
{
    const char *t = PQcmdTuples(r->res);

    if (!t || !*t)
        return -1;
    return strtoll(t, NULL, 10);
}

int pgd_result_isnull(const pgd_result *r, int row, int col)
{
    if (row < 0 || row >= r->nrows || col < 0 || col >= r->ncols)
        return 1;
    return PQgetisnull(r->res, row, col);
}

pgd_obj *pgd_result_get(const pgd_result *r, int row, int col, const pgd_host *host, void *h)
{
    const pgd_colcodec *cc;
    const char *p;
    size_t n;

    if (pgd_unlikely(row < 0 || row >= r->nrows || col < 0 || col >= r->ncols)) {
        host->error(h, "cell (%d, %d) outside the result (%d rows, %d columns)", row, col,
                    r->nrows, r->ncols);
        return NULL;
    }
    if (PQgetisnull(r->res, row, col))
        return host->make_null(h);
    cc = &r->cols[col];
    p = PQgetvalue(r->res, row, col);
    n = (size_t)PQgetlength(r->res, row, col);
    if (PQfformat(r->res, col) == 1) {
        pgd_cx cx = PGD_CX_FOR(cc, host, h);

        if (pgd_unlikely(!pgd_colcodec_binary_decode(cc))) {
            host->error(h, "column %d (type oid %u) is binary but has no binary decoder", col,
                        cc->oid);
            return NULL;
        }
        return cc->codec->decode_binary(&cx, p, n);
    }
    if (cc->codec && (cc->codec->flags & PGD_CODEC_TEXT) && cc->codec->decode_text &&
        (!(cc->codec->flags & PGD_CODEC_ARRAY) || cc->elem)) {
        pgd_cx cx = PGD_CX_FOR(cc, host, h);

        return cc->codec->decode_text(&cx, p, n);
    }
    return host->make_str(h, p, n);
}

int pgd_result_raw(const pgd_result *r, int row, int col, const char **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    if (pgd_unlikely(row < 0 || row >= r->nrows || col < 0 || col >= r->ncols) ||
        PQgetisnull(r->res, row, col))
        return -1;
    *data = PQgetvalue(r->res, row, col);
    *len = (size_t)PQgetlength(r->res, row, col);
    return PQfformat(r->res, col) == 1 ? 1 : 0;
}
