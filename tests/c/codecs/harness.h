/*
 * harness.h - table-driven codec tests over the C host (chost).
 *
 * The built-in plugins are loaded with dlopen() from PGD_CODEC_DIR by a
 * small test-local loader (the driver's loader is tested on its own), and
 * looked up by OID; an array OID yields the generic array handler with the
 * element codec filled in, as the driver does.
 *
 * Inputs handed to decoders are copied into a heap block of exactly their
 * length, so an over-read is caught by AddressSanitizer builds.
 * Each check macro records the file and line of a failure; th_finish()
 * prints the count and returns the process exit status: a failure when a
 * check failed or when no check ran at all.
 */
#ifndef CODEC_TEST_HARNESS_H
#define CODEC_TEST_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "chost.h"
#include "pgd_codec.h"

/* Load every built-in plugin; exits with a message when one is missing. */
void th_init(void);
int th_finish(void);

/* Codec for a type (base or array OID), or NULL. */
const pgd_codec *th_find(uint32_t oid, const pgd_codec **elem, uint32_t *elem_oid);
/* Set up ctx and cx for coding `oid` (records a failure if unknown). */
int th_cx(pgd_cx *cx, chost_ctx *ctx, uint32_t oid);

/* Hex text <-> bytes.  th_unhex returns a malloc'd block of *len bytes. */
char *th_unhex(const char *hex, size_t *len);
char *th_hex(const char *p, size_t n);

/* Decode exactly len bytes (binary or text).  Returns the new object, or
 * NULL with the codec's message in err. */
pgd_obj *th_decode_obj(uint32_t oid, int binary, const char *data, size_t len, char *err,
                       size_t errsz);

/* Convert a decoded tree back into an encoder input.  The value borrows
 * strings from the tree; list item arrays are allocated (th_value_free). */
int th_value_from(const chost_obj *o, pgd_value *v);
void th_value_free(pgd_value *v);

/* Encode; returns the bytes as malloc'd hex or NULL with err. */
char *th_encode_hex(uint32_t oid, const pgd_value *v, char *err, size_t errsz);

void th_fail(const char *file, int line, const char *fmt, ...);
/* Count one check made outside the th_* helpers (shown by th_finish). */
void th_count(void);

/* binary decode: hex in, repr expected */
void th_dec(const char *f, int l, uint32_t oid, const char *hex, const char *want);
/* text decode: server text in, repr expected */
void th_dect(const char *f, int l, uint32_t oid, const char *text, const char *want);
/* decode errors: message must contain want_sub */
void th_dec_err(const char *f, int l, uint32_t oid, const char *hex, const char *want_sub);
void th_dect_err(const char *f, int l, uint32_t oid, const char *text, const char *want_sub);
void th_dect_err_n(const char *f, int l, uint32_t oid, const char *text, size_t n,
                   const char *want_sub);
/* encode: expected wire bytes as hex */
void th_enc(const char *f, int l, uint32_t oid, const pgd_value *v, const char *want_hex);
void th_enc_err(const char *f, int l, uint32_t oid, const pgd_value *v, const char *want_sub);
/* binary round trip: decode hex, re-encode, expect the same bytes */
void th_rt(const char *f, int l, uint32_t oid, const char *hex);

#define DEC(oid, hex, want) th_dec(__FILE__, __LINE__, (oid), (hex), (want))
#define DECT(oid, text, want) th_dect(__FILE__, __LINE__, (oid), (text), (want))
#define DEC_ERR(oid, hex, sub) th_dec_err(__FILE__, __LINE__, (oid), (hex), (sub))
#define DECT_ERR(oid, text, sub) th_dect_err(__FILE__, __LINE__, (oid), (text), (sub))
#define ENC(oid, v, hex) th_enc(__FILE__, __LINE__, (oid), (v), (hex))
#define ENC_ERR(oid, v, sub) th_enc_err(__FILE__, __LINE__, (oid), (v), (sub))
#define RT(oid, hex) th_rt(__FILE__, __LINE__, (oid), (hex))
#define CHECK(cond)                                                                      \
    do {                                                                                 \
        th_count();                                                                      \
        if (!(cond))                                                                     \
            th_fail(__FILE__, __LINE__, "check failed: %s", #cond);                      \
    } while (0)

/* pgd_value literals */
#define VAL(k, ...) (&(pgd_value){.kind = (k), __VA_ARGS__})
#define V_INT(x) VAL(PGD_V_INT, .u.i = (x))
#define V_FLOAT(x) VAL(PGD_V_FLOAT, .u.f = (x))
#define V_BOOL(x) VAL(PGD_V_BOOL, .u.b = (x))
#define V_STRN(k, p, n) VAL((k), .u.s = {(p), (n)})
#define V_STR(p) V_STRN(PGD_V_STR, (p), sizeof(p) - 1)
#define V_BYTES(p) V_STRN(PGD_V_BYTES, (p), sizeof(p) - 1)
#define V_DEC(p) V_STRN(PGD_V_DECIMAL, (p), sizeof(p) - 1)
#define V_JSON(p) V_STRN(PGD_V_JSON, (p), sizeof(p) - 1)
#define V_DATE(...) VAL(PGD_V_DATE, .u.dt = (pgd_dt){__VA_ARGS__})
#define V_TIME(...) VAL(PGD_V_TIME, .u.dt = (pgd_dt){__VA_ARGS__})
#define V_DT(...) VAL(PGD_V_DATETIME, .u.dt = (pgd_dt){__VA_ARGS__})
/* LIST(*V_INT(1), *V_STR("a")): items are values, not pointers */
#define LIST(...)                                                                        \
    VAL(PGD_V_LIST, .u.list = {(const pgd_value[]){__VA_ARGS__},                         \
                               sizeof((const pgd_value[]){__VA_ARGS__}) / sizeof(pgd_value)})
#define EMPTY_LIST VAL(PGD_V_LIST, .u.list = {NULL, 0})

/* Type OIDs used by the tests. */
enum {
    BOOL = 16, BYTEA = 17, CHAR = 18, NAME = 19, INT8 = 20, INT2 = 21, INT4 = 23,
    TEXT = 25, OID = 26, JSON = 114, FLOAT4 = 700, FLOAT8 = 701, UNKNOWN = 705,
    BPCHAR = 1042, VARCHAR = 1043, DATE = 1082, TIME = 1083, TIMESTAMP = 1114,
    TIMESTAMPTZ = 1184, INTERVAL = 1186, TIMETZ = 1266, NUMERIC = 1700, UUID = 2950,
    JSONB = 3802,
    BOOL_ARR = 1000, BYTEA_ARR = 1001, INT2_ARR = 1005, INT4_ARR = 1007,
    TEXT_ARR = 1009, INT8_ARR = 1016, FLOAT8_ARR = 1022, DATE_ARR = 1182,
    NUMERIC_ARR = 1231, JSONB_ARR = 3807, UUID_ARR = 2951,
    JSON_ARR = 199, OID_ARR = 1028, FLOAT4_ARR = 1021, VARCHAR_ARR = 1015,
    TIME_ARR = 1183, TIMESTAMP_ARR = 1115, TIMESTAMPTZ_ARR = 1185, INTERVAL_ARR = 1187,
    TIMETZ_ARR = 1270
};

/* net, money, bits, sysid, textlike */
enum {
    INET = 869, CIDR = 650, MACADDR = 829, MACADDR8 = 774, MONEY = 790, BIT = 1560,
    VARBIT = 1562, REGPROC = 24, REGPROCEDURE = 2202, REGOPER = 2203, REGOPERATOR = 2204,
    REGCLASS = 2205, REGTYPE = 2206, REGCONFIG = 3734, REGDICTIONARY = 3769,
    REGNAMESPACE = 4089, REGROLE = 4096, REGCOLLATION = 4191, TID = 27, XID = 28, CID = 29,
    XID8 = 5069, PG_LSN = 3220, XML = 142, JSONPATH = 4072, TSVECTOR = 3614, TSQUERY = 3615,
    INET_ARR = 1041, CIDR_ARR = 651, MACADDR_ARR = 1040, MACADDR8_ARR = 775, MONEY_ARR = 791,
    BIT_ARR = 1561, VARBIT_ARR = 1563, REGCLASS_ARR = 2210, REGTYPE_ARR = 2211,
    TID_ARR = 1010, XID_ARR = 1011, CID_ARR = 1012, XID8_ARR = 271, PG_LSN_ARR = 3221,
    XML_ARR = 143, JSONPATH_ARR = 4073, TSVECTOR_ARR = 3643, TSQUERY_ARR = 3645
};

#endif
