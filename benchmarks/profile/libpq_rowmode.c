/*
 * libpq_rowmode.c - what libpq's single-row mode costs against its normal
 * mode, for the comparison's big_result query (int4, text, float8 rows;
 * binary results).  Prints the rows, the results libpq made and the
 * largest PGresult held at once (PQresultMemorySize).  Count instructions
 * per row with callgrind over two row counts (see benchmarks/README.md,
 * "The 200,000-row result").
 *
 *   cc -O2 -Wall -Wextra -o /tmp/rowmode benchmarks/profile/libpq_rowmode.c \
 *      -I"$(pg_config --includedir)" -lpq
 *   /tmp/rowmode DSN 0|1 ROWS          (1: single-row mode)
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    const char *sql = "SELECT i AS id, 'row-' || i AS label, i * 0.5::float8 AS val "
                      "FROM generate_series(1, $1::int) AS i";
    const char *vals[1];
    long rows = 0, results = 0, text_bytes = 0;
    size_t largest = 0;
    int single, status = 0;
    PGresult *r;
    PGconn *c;

    if (argc != 4) {
        fprintf(stderr, "usage: %s DSN 0|1 ROWS\n", argv[0]);
        return 2;
    }
    single = atoi(argv[2]);
    vals[0] = argv[3];
    c = PQconnectdb(argv[1]);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "%s", PQerrorMessage(c));
        PQfinish(c);
        return 1;
    }
    if (!PQsendQueryParams(c, sql, 1, NULL, vals, NULL, NULL, 1) ||
        (single && !PQsetSingleRowMode(c))) {
        fprintf(stderr, "%s", PQerrorMessage(c));
        PQfinish(c);
        return 1;
    }
    while ((r = PQgetResult(c)) != NULL) {
        ExecStatusType st = PQresultStatus(r);

        if (st == PGRES_SINGLE_TUPLE || st == PGRES_TUPLES_OK) {
            if (PQresultMemorySize(r) > largest)
                largest = PQresultMemorySize(r);
            for (int i = 0; i < PQntuples(r); i++) {
                text_bytes += PQgetlength(r, i, 1); /* read a cell, as a driver would */
                rows++;
            }
            results++;
        } else {
            fprintf(stderr, "%s", PQresultErrorMessage(r));
            status = 1;
        }
        PQclear(r);
    }
    printf("single-row mode %d: %ld rows, %ld results, largest PGresult %zu bytes, "
           "%ld bytes of labels\n", single, rows, results, largest, text_bytes);
    PQfinish(c);
    return status;
}
