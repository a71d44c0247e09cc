/*
 * internal.h - libpgd's private structures, shared by the files of driver/src.
 * Nothing here is part of the public API (driver/include/pgd.h).
 */
#ifndef PGD_INTERNAL_H
#define PGD_INTERNAL_H

#include <libpq-fe.h>
#include <stdarg.h>

#include "pgd.h"

#if defined(__GNUC__)
#define PGD_COLD __attribute__((cold, noinline))
#define PGD_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define pgd_unlikely(x) __builtin_expect(!!(x), 0)
#define pgd_likely(x) __builtin_expect(!!(x), 1)
#else
#define PGD_COLD
#define PGD_PRINTF(f, a)
#define pgd_unlikely(x) (x)
#define pgd_likely(x) (x)
#endif

/* Bound on every error string copied onto a connection or registry. */
#define PGD_ERRSTR_MAX 4096

/* ---- output buffer (encode.c) ------------------------------------------
 * The layout codecs never see; the driver hands them &conn->wbuf through
 * its own pgd_host.  Grows with pgd_realloc, reused across operations. */
struct pgd_wbuf {
    char *p;
    size_t len, cap;
};

/* Append n bytes to b (grown by doubling; at most 1 GB in all): where to
 * write them, or NULL when out of memory (b unchanged).  (encode.c) */
char *pgd_wbuf_reserve(pgd_wbuf *b, size_t n);

/* A resolved codec for one parameter or result column. */
typedef struct pgd_colcodec {
    const pgd_codec *codec; /* NULL: no codec (text form) */
    const pgd_codec *elem;  /* array handler: element codec */
    uint32_t oid;
    uint32_t elem_oid;
    const pgd_typeinfo *type;      /* per-database type (types.c), else NULL */
    const pgd_typeinfo *elem_type; /* array of one: the element's */
} pgd_colcodec;

/* The pgd_cx for coding a value of cc's type. */
#define PGD_CX_FOR(cc, host_, h_)                                              \
    {(host_), (h_), (cc)->oid, (cc)->elem_oid, (cc)->elem, (cc)->type, (cc)->elem_type}

/* For a connection with money_int_cents, the value to encode for a
 * parameter (or COPY field) of cc's type: integers for money and money[]
 * turned into the decimal of as many cents, in the connection's scratch
 * space (valid until the next call), else v itself; NULL when out of memory. */
const pgd_value *pgd_cents_value(pgd_conn *c, const pgd_colcodec *cc, const pgd_value *v);

/* Resolve `oid` through the registry into *cc (codec NULL when none). */
void pgd_colcodec_resolve(const pgd_registry *reg, uint32_t oid, pgd_colcodec *cc);
/* The codec can decode (and for arrays its element too) the binary form. */
int pgd_colcodec_binary_decode(const pgd_colcodec *cc);
int pgd_colcodec_binary_encode(const pgd_colcodec *cc);

/* A column's binary encoder, planned once (per COPY) instead of per cell:
 * the codec's call context and whether it has a binary encoder at all.
 * Errors a codec reports go to the pgd_encstate its cx points at. */
typedef struct pgd_encstate {
    const pgd_registry *reg;
    char msg[256];
} pgd_encstate;
typedef struct pgd_encplan {
    pgd_cx cx;
    const pgd_codec *codec;
    int binary; /* the codec (and an array's element) encodes binary */
} pgd_encplan;

/* registry.c: the array handler (pgd_registry_find_named is in pgd.h) */
const pgd_codec *pgd_registry_array_handler(const pgd_registry *r);

/* ---- per-database types (types.c) ------------------------------------------ */
typedef struct pgd_typemap pgd_typemap;
pgd_typemap *pgd_types_new(void);                  /* refcount 1, or NULL */
pgd_typemap *pgd_types_retain(pgd_typemap *tm);    /* NULL-safe */
void pgd_types_release(pgd_typemap *tm);           /* NULL-safe */
/* Resolve oid through the registry, then the map; an OID >= 16384 the map
 * has never seen is queued for the next pgd_types_sql() round trip.
 * PGD_ERROR only when out of memory. */
int pgd_types_resolve(const pgd_registry *reg, pgd_typemap *tm, uint32_t oid,
                      pgd_colcodec *cc);
int pgd_types_have_pending(const pgd_typemap *tm);
const char *pgd_types_sql(void);                   /* takes $1 = oid[] text */
char *pgd_types_pending_param(pgd_typemap *tm);    /* "{1,2}", pgd_free it */
int pgd_types_load(pgd_typemap *tm, const PGresult *res); /* answers the pending */
void pgd_types_clear_pending(pgd_typemap *tm);

/* ---- allocation helpers (alloc.c) ---------------------------------------- */
/* Free a NULL-terminated array of pgd_malloc'ed strings and the array. */
void pgd_strv_free(char **v);
/* Make room for element n of a growable array: arrp is the address of the
 * array pointer (any element type), *cap its capacity in elements of
 * `elem` bytes; doubles, starting at `first`.  PGD_OK, or PGD_ERROR with
 * the array unchanged. */
int pgd_grow(void *arrp, size_t n, size_t *cap, size_t elem, size_t first);

/* ---- error (error.c) ----------------------------------------------------- */
void pgd_error_init(pgd_error *e);
void pgd_error_clear(pgd_error *e);  /* frees the strings, kind NONE */
/* Set kind/index/message (formatted, bounded); returns PGD_ERROR. */
int pgd_error_set(pgd_error *e, int kind, int index, const char *fmt, ...) PGD_COLD
    PGD_PRINTF(4, 5);
int pgd_error_setv(pgd_error *e, int kind, int index, const char *fmt, va_list ap) PGD_COLD;
/* Copy every PQresultErrorField of res (kind SERVER); returns PGD_ERROR. */
int pgd_error_from_result(pgd_error *e, const PGresult *res, int index) PGD_COLD;
/* Copy PQerrorMessage(pg) as `kind`; returns PGD_ERROR. */
int pgd_error_from_conn(pgd_error *e, PGconn *pg, int kind, int index) PGD_COLD;

/* ---- passwords in messages (redact.c) ------------------------------------ */
#define PGD_REDACTED "********"
/* A copy of the connection string `dsn` with every password value replaced
 * by PGD_REDACTED (pgd_malloc'ed; NULL on OOM).  *tail: where the text
 * after an unquoted key=value password starts in the copy (0 if none). */
char *pgd_mask_passwords(const char *dsn, size_t *tail) PGD_COLD;
/* Replace in msg (capacity cap) each password held by keys/vals (a
 * "password" value, or one inside a "dbname" connection string: as given,
 * percent-decoded, and a URI's whole user:password). */
void pgd_redact_passwords(char *msg, size_t cap, const char *const *keys,
                          const char *const *vals) PGD_COLD;
/* Redact each "word" msg quotes that occurs in masked after `tail` (the
 * rest of an unquoted password libpq read as keywords). */
void pgd_redact_tail(char *msg, size_t cap, const char *masked, size_t tail) PGD_COLD;

/* ---- registry (registry.c, loader.c) ------------------------------------- */
typedef struct pgd_reg_entry {
    const pgd_codec *codec; /* base type codec, or the element codec of an
                               array entry */
    uint32_t oid;           /* key (hash part only; 0 = empty slot) */
    uint16_t module;        /* index into modules[] */
    uint16_t is_array;      /* the key is codec->array_oid */
} pgd_reg_entry;

typedef struct pgd_reg_module {
    char *name;
    const pgd_codec_module *m;
} pgd_reg_module;

/* OIDs below this live in a dense array (all built-in types are below
 * FirstNormalObjectId = 16384); the rest in an open-addressing hash. */
#define PGD_REG_DENSE 16384u

struct pgd_registry {
    pgd_reg_entry *dense;  /* PGD_REG_DENSE entries, calloc'ed */
    pgd_reg_entry *hash;   /* hcap entries (power of two), or NULL */
    size_t hcap, hcount;
    pgd_reg_module *modules;
    size_t nmodules, capmodules;
    const pgd_codec *array_handler;
    size_t array_module;
    const pgd_codec **named; /* codecs with oid 0 (resolved by name) */
    size_t nnamed, capnamed;
    char err[512];
};

/* The module entry point checks, shared by the loader and add_module.
 * `file` is the file name for messages ("int.so"), or NULL. */
int pgd_registry_add_checked(pgd_registry *r, const pgd_codec_module *m,
                             const char *expected_name, const char *file);
/* Register a checked module's codecs, all or nothing (registry.c). */
int pgd_registry_register(pgd_registry *r, const pgd_codec_module *m);
int pgd_registry_fail(pgd_registry *r, const char *fmt, ...) PGD_COLD PGD_PRINTF(2, 3);

/* ---- statements (stmt_cache.c) ------------------------------------------- */
typedef struct pgd_stmt pgd_stmt;
struct pgd_stmt {
    char name[24];        /* "" = the unnamed statement */
    char *sql;            /* NUL-terminated copy */
    size_t sqllen;
    uint32_t *pins;       /* pinned parameter OIDs (npins, last non-zero) */
    int npins;
    uint64_t hash;
    int cached;           /* lives in the connection's cache */
    int ready;            /* prepared and described */
    int prepared_ok, described_ok; /* during the prepare phase */
    int inuse;            /* operations holding it (not evictable) */
    int sent;             /* Parse+Describe queued by the current operation */
    int stale;            /* drop when the operation ends (server said it
                             no longer matches or no longer exists) */
    int nparams;
    pgd_colcodec *params;
    int ncols;
    pgd_colcodec *cols;
    int result_format;    /* 1 binary, 0 text */
    int pipelinable;      /* ran from outside a transaction block and left the
                             session outside one: may join a burst */
    int no_pipeline;      /* once left a transaction block open: never */
    pgd_stmt *lru_prev, *lru_next, *hnext;
    pgd_stmt *op_next;    /* temporaries of the current operation */
};

typedef struct pgd_stmt_cache {
    pgd_stmt **buckets;
    size_t nbuckets;
    int count, capacity;
    pgd_stmt *lru_head, *lru_tail; /* head = most recently used */
    uint64_t next_id;
    char **dealloc;       /* names waiting for DEALLOCATE */
    size_t ndealloc, capdealloc;
} pgd_stmt_cache;

/* ---- operations (conn.c, pipeline.c) -------------------------------------- */
enum pgd_slot_kind {
    PGD_SLOT_SYNC = 1, /* PGRES_PIPELINE_SYNC */
    PGD_SLOT_DEALLOC,  /* idx: position in op dealloc names */
    PGD_SLOT_PREPARE,  /* idx: query index */
    PGD_SLOT_DESCRIBE, /* idx: query index */
    PGD_SLOT_EXEC,     /* idx: query (or row) index */
    PGD_SLOT_SIMPLE,   /* simple protocol: results until NULL */
    PGD_SLOT_TYPES     /* the pg_type query for per-database types */
};

typedef struct pgd_slot {
    int kind;
    int idx;
} pgd_slot;

enum pgd_op_kind { PGD_OP_NONE = 0, PGD_OP_QUERY, PGD_OP_SIMPLE, PGD_OP_BATCH, PGD_OP_PIPELINE,
                   PGD_OP_BURST, /* pgd_conn_send_burst: a Sync per statement */
                   /* copy.c */
                   PGD_OP_COPY_START, PGD_OP_COPY_PUT, PGD_OP_COPY_END, PGD_OP_COPY_GET };
enum pgd_op_phase { PGD_PH_PREPARE = 1, PGD_PH_TYPES, PGD_PH_EXEC };

typedef struct pgd_op {
    int kind;
    int phase;
    size_t nq;                    /* queries (QUERY 1, BATCH rows) */
    const char *const *sqls;      /* PIPELINE */
    const char *sql;              /* QUERY, BATCH, SIMPLE */
    const size_t *nparams_v;      /* PIPELINE */
    const pgd_value *const *params_v;
    size_t nparams;               /* QUERY, BATCH: per row */
    const pgd_value *params;      /* QUERY, BATCH: row-major */
    pgd_stmt *stmt;               /* QUERY, BATCH */
    pgd_stmt **stmts;             /* PIPELINE: per query */
    pgd_stmt *temps;              /* statements freed at the end */
    pgd_slot *slots;
    size_t nslots, capslots, head;
    int pipeline;                 /* in libpq pipeline mode */
    int failed;                   /* an error is recorded on the connection */
    int cancelled;                /* pgd_conn_cancel() was called: start nothing new */
    int copy_out;                 /* draining an unexpected COPY OUT */
    int nulls;                    /* consecutive NULLs where a Sync is due */
    int unnamed;                  /* only unnamed statements, in one exchange */
    int open;                     /* messages sent since the last Sync (unnamed) */
    pgd_stmt *ucur;               /* the statement the unnamed one holds now */
    char **dealloc;               /* names sent for DEALLOCATE in this op */
    size_t ndealloc;
    PGresult *simple_last;
    int tx_idle;                  /* began outside a transaction block */
} pgd_op;

/* ---- hosts (hosts.c) -------------------------------------------------------
 * A connection's parameters flattened (PQconnectStartParams' precedence,
 * a DSN expanded), with host, hostaddr, port, target_session_attrs and
 * load_balance_hosts taken out, and the order its hosts are tried in. */
typedef struct pgd_targets {
    char **keys, **vals;      /* the other parameters, NULL-terminated */
    size_t nflat, capflat, capvals;
    char **host, **hostaddr, **port; /* per host; NULL when not given */
    size_t n, nport;          /* hosts (>= 1); port entries (0, 1 or n) */
    char *tsa;                /* target_session_attrs, or NULL */
    int prefer_standby, random;
    size_t *order, pos;       /* order[pos]: the host being tried */
    int pass;                 /* prefer-standby: 1 standby only, 2 any */
    unsigned char *timed_out; /* per host, this connect */
    const char **akeys, **avals; /* the current attempt's parameters */
    char *log;                /* every failed attempt's message */
    size_t loglen, lastoff;
} pgd_targets;

/* A dbname value that libpq would expand as a connection string. */
int pgd_looks_like_conninfo(const char *s);
/* dsn without its load_balance_hosts (new string; its value, new, in *lb;
 * NULL when out of memory). */
char *pgd_dsn_strip_load_balance(const char *dsn, char **lb);
/* PGD_OK, or PGD_ERROR with the reason in err (a DSN libpq cannot parse,
 * unmatched host/port lists, a bad load_balance_hosts or
 * target_session_attrs, out of memory); t is then empty. */
int pgd_targets_init(pgd_targets *t, const char *const *keys, const char *const *vals,
                     char *err, size_t errlen);
void pgd_targets_free(pgd_targets *t);
int pgd_targets_set(pgd_targets *t, const char *key, const char *val);
const char *pgd_targets_get(const pgd_targets *t, const char *key);
/* A new connect: a new order (shuffled for load_balance_hosts=random),
 * the first host, an empty log.  PGD_ERROR only when out of memory. */
int pgd_targets_begin(pgd_targets *t);
/* Move on to the next host; 0 when none is left. */
int pgd_targets_next(pgd_targets *t);
size_t pgd_targets_current(const pgd_targets *t);
/* The current attempt's parameters (for expand_dbname = 0), valid until
 * the next call. */
void pgd_targets_params(pgd_targets *t, const char *const **keys, const char *const **vals);
/* Remember an attempt's failure (bounded; a repeat of the last is dropped). */
void pgd_targets_log(pgd_targets *t, const char *msg);

/* COPY: between COPY operations of a COPY in progress (copy.c) */
enum pgd_conn_state { PGD_CS_NEW = 0, PGD_CS_CONNECTING, PGD_CS_IDLE, PGD_CS_BUSY, PGD_CS_BROKEN, PGD_CS_FAILED,
                      PGD_CS_COPY };

struct pgd_conn {
    PGconn *pg;
    int state;
    int holds;                    /* pgd_conn_hold() not yet released */
    int doomed;                   /* freed while held: the memory goes at the last release */
    pgd_targets tg;               /* parameters and hosts */
    char *bad_params;             /* why tg could not be made, or NULL */
    int attempt;                  /* hosts tried by this connect so far */
    const pgd_registry *reg;
    void *user;
    pgd_notify_fn notify;         /* LISTEN/NOTIFY hook, or NULL */
    void *notify_arg;
    pgd_error err;
    pgd_stmt_cache cache;
    int money_int_cents;          /* pgd_conn_set_money_int_cents() */
    void *cents_buf;              /* encode.c's scratch for it */
    size_t cents_cap;
    int unnamed;                  /* pgd_conn_set_unnamed() */
    pgd_typemap *types;           /* per-database types learnt so far */
    pgd_op op;
    struct pgd_wbuf wbuf;
    /* reusable parameter arrays */
    const char **pvals;
    int *plens, *pfmts;
    size_t *poffs;
    size_t pcap;
    /* COPY in progress (copy.c) */
    struct pgd_copy {
        int dir;                  /* 0 none, PGD_COPY_IN, PGD_COPY_OUT */
        int binary_header;        /* the binary header is in buf or was sent */
        int binary_rows;          /* set_columns was called for this COPY */
        int64_t rows;             /* rows encoded */
        struct pgd_wbuf buf;      /* encoded rows not sent yet */
        pgd_colcodec *cols;
        pgd_encplan *plan;        /* per column, made by set_columns */
        pgd_encstate enc;         /* the plans' error messages */
        char **names;
        size_t ncols;
        char *chunk;              /* last chunk read (PQfreemem'ed) */
        size_t chunklen;
        int ended;                /* in: PQputCopyEnd accepted; out: end seen */
        char *abort_msg;
    } copy;
    /* results of the last operation */
    pgd_result **results;
    size_t nresults, capresults, taken;
    /* outcomes of the last burst, per statement: a result or an error */
    pgd_result **bres;
    pgd_error *berr;
    size_t nb, capb;
    /* notices go here (pgd_conn_set_notice_hook), or nowhere */
    pgd_notice_fn notice_fn;
    void *notice_arg;
};

/* conn.c */
int pgd_conn_fail(pgd_conn *c, int kind, int index, const char *fmt, ...) PGD_COLD PGD_PRINTF(4, 5);
int pgd_conn_broken(pgd_conn *c, int index) PGD_COLD;
int pgd_conn_push_result(pgd_conn *c, pgd_result *r);
void pgd_conn_drop_results(pgd_conn *c);

/* stmt_cache.c */
void pgd_cache_init(pgd_stmt_cache *sc, int capacity);
void pgd_cache_free(pgd_stmt_cache *sc);
/* A cached statement for (sql, params' pins), moved to the front, or NULL. */
pgd_stmt *pgd_cache_lookup(pgd_stmt_cache *sc, const char *sql, size_t nparams,
                           const pgd_value *params);
/* A new statement (not prepared yet).  temp: an unnamed temporary, never
 * cached.  Otherwise cached when caching is enabled (possibly beyond
 * capacity until pgd_cache_trim), else a named temporary. */
pgd_stmt *pgd_cache_create(pgd_stmt_cache *sc, const char *sql, size_t nparams,
                           const pgd_value *params, int temp);
/* Remove from the cache and free; queue DEALLOCATE when it exists on the
 * server (prepared_ok). */
void pgd_cache_drop(pgd_stmt_cache *sc, pgd_stmt *s);
void pgd_stmt_free(pgd_stmt *s);
int pgd_cache_queue_dealloc(pgd_stmt_cache *sc, const char *name);
void pgd_cache_set_capacity(pgd_stmt_cache *sc, int n);
/* Evict least recently used idle statements down to capacity. */
void pgd_cache_trim(pgd_stmt_cache *sc);
/* Fill params/cols from a Describe result and choose the result format;
 * per-database types not known yet are queued on `types` (may be NULL). */
int pgd_stmt_describe(pgd_stmt *s, const PGresult *res, const pgd_registry *reg,
                      pgd_typemap *types);
/* Resolve the codecs of a described statement again (after the types it
 * named were learnt) and choose the result format. */
int pgd_stmt_resolve(pgd_stmt *s, const pgd_registry *reg, pgd_typemap *types);

/* encode.c */
/* Encode one parameter row into c->wbuf, recording offsets/lengths/formats
 * at position `base` of the connection's parameter arrays (which must have
 * room).  PGD_OK, or PGD_ERROR with kind USAGE/ENCODE set (index = row for
 * batches when row_index >= 0, else the parameter). */
int pgd_encode_row(pgd_conn *c, const pgd_stmt *s, size_t nparams,
                   const pgd_value *params, size_t base, int row_index);
int pgd_params_reserve(pgd_conn *c, size_t n);
/* After encoding: turn offsets into pointers for n entries. */
void pgd_params_finish(pgd_conn *c, size_t n);

void pgd_encplan_init(pgd_encplan *p, const pgd_colcodec *cc, pgd_encstate *st);
/* Encode v with a planned encoder, appending to b: the bytes written, or -1
 * with a message in st->msg (b unchanged).  (COPY's row encoder.) */
int pgd_encplan_encode(const pgd_encplan *p, const pgd_value *v, pgd_wbuf *b);
/* "int4", "text[]", "oid 1234": the type's name for messages. */
const char *pgd_colcodec_label(const pgd_colcodec *cc, char *buf, size_t n);

/* result.c */
/* New result owning res (even on failure, res is cleared); it holds a
 * reference to `types`, which its codecs may point into. */
pgd_result *pgd_result_new(PGresult *res, const pgd_stmt *s, const pgd_registry *reg,
                           pgd_typemap *types);

/* copy.c */
int pgd_copy_advance(pgd_conn *c);
int pgd_copy_idle_io(pgd_conn *c);
void pgd_copy_reset(pgd_conn *c); /* drop COPY state (connection gone or freed) */

/* pipeline.c: the operation engine */
int pgd_op_advance(pgd_conn *c);
void pgd_op_reset(pgd_conn *c);
/* Drop a burst's outcomes not taken yet (free: the arrays too). */
void pgd_burst_clear(pgd_conn *c, int free_arrays);

#endif /* PGD_INTERNAL_H */
