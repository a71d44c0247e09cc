/*
 * tutil.h - helpers shared by the driver tests: checks that report and
 * count failures, the DSN, poll()-driven I/O, and a small in-test codec
 * module (int4, int8, text, bool, and a one-dimensional array handler)
 * standing in for the real plugins.
 */
#ifndef TUTIL_H
#define TUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chost.h"
#include "pgd.h"

extern int t_failures;
extern int t_checks;

#define CHECK(cond)                                                                    \
    do {                                                                               \
        t_checks++;                                                                    \
        if (!(cond)) {                                                                 \
            t_failures++;                                                              \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
        }                                                                              \
    } while (0)

#define CHECK_MSG(cond, ...)                                                           \
    do {                                                                               \
        t_checks++;                                                                    \
        if (!(cond)) {                                                                 \
            t_failures++;                                                              \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);   \
            fprintf(stderr, __VA_ARGS__);                                              \
            fputc('\n', stderr);                                                       \
        }                                                                              \
    } while (0)

/* haystack contains needle (both may be NULL: then false) */
int t_contains(const char *haystack, const char *needle);
const char *t_nn(const char *s); /* s, or "(null)" */
#define CHECK_CONTAINS(hay, needle)                                                    \
    CHECK_MSG(t_contains((hay), (needle)), "'%s' does not contain '%s'", t_nn(hay), (needle))

#define CHECK_STREQ(a, b)                                                              \
    CHECK_MSG(t_nn(a) != t_nn(NULL) && strcmp(t_nn(a), t_nn(b)) == 0, "'%s' != '%s'",  \
              t_nn(a), t_nn(b))

/* Prints the summary; returns the process exit status. */
int t_done(const char *name);

/* ---- server ------------------------------------------------------------- */
/* PSQLPY_TEST_DSN, or exits with a failure explaining it is required. */
const char *t_dsn(void);
extern const pgd_registry *t_reg; /* set by t_registry() */
const pgd_registry *t_registry(void);

/* Wait (poll, 30 s cap: a timeout is a test failure) for what `wants`
 * asks.  Returns 0 when ready, -1 on timeout. */
int t_wait(int fd, int wants, int timeout_ms);
/* A new connection to the test DSN (extra key/value pairs may override);
 * connected when *rc == PGD_OK. */
pgd_conn *t_connect_kv(const char *const *keys, const char *const *vals, int *rc);
pgd_conn *t_connect(void); /* must succeed: exits otherwise */
/* Drive an operation started with status rc to its end. */
int t_run(pgd_conn *c, int rc);
/* send_query + run; PGD_OK or PGD_ERROR */
int t_query(pgd_conn *c, const char *sql, size_t n, const pgd_value *params);
int t_simple(pgd_conn *c, const char *sql);
/* Cell (row, col) of the next result as chost text (new, free()), via
 * pgd_result_get; "ERR:<msg>" when decoding failed. */
char *t_cell(const pgd_result *r, int row, int col);
/* Run sql (simple protocol) and return cell (0,0) as text (new) or NULL. */
char *t_scalar(pgd_conn *c, const char *sql);
/* Run sql (simple protocol) and return every row's column 0 joined by
 * ',' (new). */
char *t_column(pgd_conn *c, const char *sql);

/* cell (0,0) of a simple-protocol query equals want */
#define CHECK_SCALAR(c, sql, want)                                                     \
    do {                                                                               \
        char *got_ = t_scalar((c), (sql));                                             \
        CHECK_MSG(got_ && strcmp(got_, (want)) == 0, "%s -> %s, want %s", (sql),       \
                  t_nn(got_), (want));                                                 \
        free(got_);                                                                    \
    } while (0)
/* Take the next result and check its cell (0,0); frees the result. */
void t_check_next(pgd_conn *c, const char *want, const char *file, int line);
#define CHECK_NEXT(c, want) t_check_next((c), (want), __FILE__, __LINE__)

/* ---- values ------------------------------------------------------------- */
pgd_value t_int(int64_t v);
pgd_value t_str(const char *s);
pgd_value t_null(void);

/* ---- the in-test codec module ---------------------------------------------- */
extern const pgd_codec_module t_codecs_module; /* name "tcodecs" */
extern int t_binary_decodes, t_text_decodes;

#endif /* TUTIL_H */
