/*
 * result.c - pgd_result: a PGresult plus a plan for decoding each column.
 *
 * The codecs were resolved once, when the statement was described; a result
 * copies the pointers so it outlives its statement (eviction) and its
 * connection.  When the result is made, each column is planned once: its
 * format, and from it the one decode function its cells go through (the
 * codec's binary decoder in a binary column; in a text column the codec's
 * decode_text when it has one, else none: the cell becomes a string of the
 * server's text form).  A binary column whose codec cannot decode it (an
 * array or composite with a part that has no binary decoder) is marked
 * once, and its cells report that.  SQL NULL is always host->make_null.
 *
 * Per cell that leaves two of libpq's accessors (PQgetlength, PQgetvalue;
 * PQgetisnull only for an empty value), a pgd_cx filled from the plan and
 * one call.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* One column's plan. */
typedef struct pgd_colplan {
    pgd_colcodec cc;
    pgd_decode_fn decode; /* NULL: host->make_str of the text form */
    int undecodable;      /* binary, but cc cannot decode the binary form */
} pgd_colplan;

struct pgd_result {
    PGresult *res;
    pgd_typemap *types; /* a reference: the codecs may point into it */
    int nrows, ncols;
    pgd_colplan cols[]; /* ncols */
};

static void plan_column(pgd_colplan *cp, int binary)
{
    const pgd_codec *k = cp->cc.codec;

    cp->decode = NULL;
    cp->undecodable = 0;
    if (binary) {
        if (pgd_colcodec_binary_decode(&cp->cc))
            cp->decode = k->decode_binary;
        else
            cp->undecodable = 1;
    } else if (k && (k->flags & PGD_CODEC_TEXT) && k->decode_text &&
               (!(k->flags & PGD_CODEC_ARRAY) || cp->cc.elem)) {
        cp->decode = k->decode_text;
    }
}

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
        for (i = 0; i < ncols; i++)
            r->cols[i].cc = s->cols[i];
    } else {
        /* simple protocol: the types this connection knows; nothing is
         * fetched for a result that is already here */
        for (i = 0; i < ncols; i++)
            if (pgd_types_resolve(reg, types, PQftype(res, i), &r->cols[i].cc) != PGD_OK)
                pgd_colcodec_resolve(reg, PQftype(res, i), &r->cols[i].cc);
        pgd_types_clear_pending(types);
    }
    for (i = 0; i < ncols; i++)
        plan_column(&r->cols[i], PQfformat(res, i) == 1);
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

/* One cell of a row and column known to be in the result. */
static inline pgd_obj *decode_cell(const pgd_result *r, int row, int col, const pgd_host *host,
                                   void *h)
{
    const pgd_colplan *cp = &r->cols[col];
    const char *p;
    int n;

    /* PQgetlength is 0 for SQL NULL: only an empty value needs the test */
    n = PQgetlength(r->res, row, col);
    if (n == 0 && PQgetisnull(r->res, row, col))
        return host->make_null(h);
    p = PQgetvalue(r->res, row, col);
    if (pgd_likely(cp->decode != NULL)) {
        pgd_cx cx = PGD_CX_FOR(&cp->cc, host, h);

        return cp->decode(&cx, p, (size_t)n);
    }
    if (pgd_unlikely(cp->undecodable)) {
        host->error(h, "column %d (type oid %u) is binary but has no binary decoder", col,
                    cp->cc.oid);
        return NULL;
    }
    return host->make_str(h, p, (size_t)n);
}

pgd_obj *pgd_result_get(const pgd_result *r, int row, int col, const pgd_host *host, void *h)
{
    if (pgd_unlikely(row < 0 || row >= r->nrows || col < 0 || col >= r->ncols)) {
        host->error(h, "cell (%d, %d) outside the result (%d rows, %d columns)", row, col,
                    r->nrows, r->ncols);
        return NULL;
    }
    return decode_cell(r, row, col, host, h);
}

int pgd_result_get_row(const pgd_result *r, int row, const pgd_host *const *hosts, void *h,
                       pgd_obj **out)
{
    int col;

    if (pgd_unlikely(row < 0 || row >= r->nrows)) {
        if (r->ncols > 0)
            hosts[0]->error(h, "row %d outside the result (%d rows)", row, r->nrows);
        return 0;
    }
    for (col = 0; col < r->ncols; col++) {
        pgd_obj *o = decode_cell(r, row, col, hosts[col], h);

        if (pgd_unlikely(!o))
            break;
        out[col] = o;
    }
    return col;
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
