/*
 * chost.h - a C implementation of the pgd_host table, for the C tests and
 * the benchmarks: builders make plain C trees (chost_obj), the output
 * buffer is a growable byte array, errors land in a fixed-size message.
 * No Python, no server.
 */
#ifndef CHOST_H
#define CHOST_H

#include <stddef.h>
#include <stdint.h>

#include "pgd_codec.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum chost_kind {
    CH_NULL, CH_BOOL, CH_INT, CH_FLOAT, CH_STR, CH_BYTES, CH_DECIMAL, CH_UUID,
    CH_JSON, CH_DATE, CH_TIME, CH_DATETIME, CH_INTERVAL, CH_LIST,
    CH_TUPLE, /* make_tuple: items */
    CH_CALL   /* make_call: s = the callable's name, items = the arguments */
} chost_kind;

/* What a builder returns (cast from pgd_obj *). */
typedef struct chost_obj {
    chost_kind kind;
    int64_t i;     /* BOOL, INT */
    double f;      /* FLOAT */
    char *s;       /* STR, BYTES, DECIMAL, JSON, CALL (NUL-terminated copy) */
    size_t n;      /* byte length of s; LIST, TUPLE, CALL: number of items */
    uint8_t uuid[16];
    pgd_dt dt;     /* DATE, TIME, DATETIME */
    int32_t months, days; int64_t usec; /* INTERVAL */
    struct chost_obj **items; /* LIST, TUPLE, CALL */
} chost_obj;

/* Per-call state: pass &ctx as pgd_cx.h. */
typedef struct chost_ctx {
    char err[512];     /* last error message, "" if none */
    int nerrors;
    /* codec lookup for host->find(); may be NULL */
    const pgd_codec *(*find)(void *user, uint32_t oid);
    void *find_user;
} chost_ctx;

/* The output buffer (pgd_wbuf is opaque to codecs; this is its layout). */
struct pgd_wbuf {
    char *p;
    size_t len, cap;
};

const pgd_host *chost_host(void);
void chost_ctx_init(chost_ctx *ctx);
void chost_wbuf_init(struct pgd_wbuf *b);
void chost_wbuf_free(struct pgd_wbuf *b);
void chost_wbuf_reset(struct pgd_wbuf *b);

/* Canonical text of a tree, for comparisons in tests:
 *   None, True/False, 42, 1.5 (%.17g; nan, inf, -inf), 'text', b'\x00..' (hex),
 *   Decimal('1.50'), UUID('...'), json:<text>, date(2000-01-02),
 *   time(01:02:03.000004+0000), datetime(2000-01-02 01:02:03.000004),
 *   date(infinity), interval(1m 2d 3us), [a, b], (a, b), (a,),
 *   module:name(a, b) (make_call) .
 * Returns a new malloc'd string. */
char *chost_repr(const pgd_obj *o);
void chost_free(pgd_obj *o);

#ifdef __cplusplus
}
#endif

#endif /* CHOST_H */
