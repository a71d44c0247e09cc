/*
 * pgd_codec.h - the codec plugin ABI, version 1.
 *
 * This is the one header a codec plugin author needs; it brings the byte
 * order helpers of pgd_wire.h with it.  A plugin is a shared object that exports exactly one
 * function, PGD_CODEC_ENTRY ("pgd_codec_module_v1"), returning a pointer to
 * a static, self-describing pgd_codec_module.  The host (the psqlpy
 * extension, the C tests, the benchmarks) loads it with dlopen(), checks the
 * descriptor, registers its codecs by OID and never unloads it.
 *
 * Plugins link nothing from the host: everything they need (error
 * reporting, output buffer, object builders, codec lookup) arrives through
 * the pgd_host table in every call.  Codecs therefore know nothing about
 * Python; the extension's builders make Python objects, the C test host's
 * builders make plain C trees.
 *
 * Versioning rule: every struct here is append-only.  A new field goes at
 * the end (taking a reserved slot), bumps PGD_CODEC_ABI_MINOR, and readers
 * check `size` / `abi_minor` before touching it.  Anything else is a new
 * major, a new entry symbol, and a new header.
 *
 * Ownership: objects returned by builders and decoders are new references
 * owned by the caller.  list_set() steals its item, also on failure.
 * Input bytes handed to a decoder are borrowed and valid only during the
 * call; a decoder reads exactly `len` bytes, never more.
 */
#ifndef PGD_CODEC_H
#define PGD_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "pgd_wire.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PGD_CODEC_MAGIC 0x43444750u /* "PGDC" read as a little-endian u32 */
#define PGD_CODEC_ABI_MAJOR 1
#define PGD_CODEC_ABI_MINOR 1
#define PGD_CODEC_ENTRY "pgd_codec_module_v1"

#if defined(__GNUC__)
#define PGD_CODEC_EXPORT __attribute__((visibility("default")))
#else
#define PGD_CODEC_EXPORT
#endif

/* pgd_codec.flags */
#define PGD_CODEC_BINARY 0x1u /* decode_binary/encode_binary are set */
#define PGD_CODEC_TEXT 0x2u   /* decode_text is set */
#define PGD_CODEC_ARRAY 0x4u  /* the generic array handler: used for every
                                 registered array_oid, with cx->elem set */
#define PGD_CODEC_COMPOUND 0x8u /* (minor 1) a value of this type is itself a
                                   tuple (point, range, row, ...): inside an
                                   array parameter a PGD_V_TUPLE is one element
                                   of this type, not a dimension */
#define PGD_CODEC_TEXT_ENCODE 0x20u /* (minor 1) encode_binary writes the
                                      value's text form (no NUL byte): the
                                      parameter goes in text format, and the
                                      type cannot be an array element */
#define PGD_CODEC_STR_TEXT 0x10u /* (minor 1) a PGD_V_STR parameter of this type
                                    is sent in text format for the server to
                                    parse ('(1,2)' for a point) instead of
                                    going to encode_binary */

typedef struct pgd_obj pgd_obj;   /* opaque host object (a PyObject * in pyext) */
typedef struct pgd_wbuf pgd_wbuf; /* opaque host output buffer */
typedef struct pgd_codec pgd_codec;

/*
 * Calendar value shared by the encode input and the date/time builders.
 * Fields are proleptic Gregorian.  `infinity` is +1 / -1 for PostgreSQL's
 * 'infinity' / '-infinity' (other fields then unused).  `utc_offset` is in
 * seconds EAST of UTC and meaningful only when has_tz is set.
 * timestamptz values are handed to builders in UTC (has_tz = 1, offset 0).
 */
typedef struct pgd_dt {
    int32_t year, month, day;
    int32_t hour, minute, second, usec;
    int32_t utc_offset;
    int8_t has_tz;
    int8_t infinity;
    int8_t pad_[2];
} pgd_dt;

/*
 * Encode input: a type-neutral value the host builds from the user's data.
 * The codec for the parameter's PostgreSQL type decides whether it accepts
 * the kind (an int4 codec accepts PGD_V_INT in range, refuses PGD_V_STR).
 * Strings are borrowed, UTF-8, not NUL-terminated.
 */
typedef enum pgd_kind {
    PGD_V_NULL = 0,
    PGD_V_BOOL,     /* u.b */
    PGD_V_INT,      /* u.i: integers that fit int64 */
    PGD_V_FLOAT,    /* u.f */
    PGD_V_STR,      /* u.s: text */
    PGD_V_BYTES,    /* u.s: raw bytes */
    PGD_V_DECIMAL,  /* u.s: decimal text, e.g. "-1.5E+3", "NaN", "Infinity";
                       also integers too big for int64 */
    PGD_V_UUID,     /* u.uuid */
    PGD_V_DATE,     /* u.dt: year, month, day, infinity */
    PGD_V_TIME,     /* u.dt: hour..usec, has_tz, utc_offset */
    PGD_V_DATETIME, /* u.dt: all fields; naive means UTC for timestamptz */
    PGD_V_INTERVAL, /* u.iv */
    PGD_V_JSON,     /* u.s: serialized JSON text */
    PGD_V_LIST,     /* u.list: elements (nested lists for more dimensions) */
    PGD_V_TUPLE,    /* (minor 1) u.list: a fixed group of values (a Python
                       tuple): a point's coordinates, a range's bounds, a
                       row's fields.  Codecs that take LIST take TUPLE like
                       LIST, except where the element type is COMPOUND. */
    PGD_V_MAP,      /* (minor 1) u.list: a mapping (a Python dict), its keys
                       at the even positions, each followed by its value;
                       u.list.n counts both, so it is even */
    PGD_V_OBJECT,   /* (minor 1) u.obj: a host object the host could not turn
                       into any kind above (an instance of a user's class);
                       only codecs the host itself provides take it */
    PGD_V_RAW       /* (minor 1) u.s: a parameter's value already in the
                       binary wire form of whatever type the statement has
                       there; the driver sends the bytes as they are and no
                       codec is asked (codecs refuse it, e.g. in an array) */
} pgd_kind;

/*
 * New kinds are appended in later minors.  A codec refuses a kind it does
 * not know with an error (never by reading the union blindly), so a value
 * of a newer kind reaching an older plugin fails cleanly.
 */

typedef struct pgd_value pgd_value;
struct pgd_value {
    uint32_t kind;    /* pgd_kind */
    uint32_t pin_oid; /* type OID the user pinned (extra types), 0 = none */
    union {
        int b;
        int64_t i;
        double f;
        struct {
            const char *p;
            size_t n;
        } s;
        uint8_t uuid[16];
        pgd_dt dt;
        struct {
            int64_t usec;
            int32_t days;
            int32_t months;
        } iv;
        struct {
            const pgd_value *items;
            size_t n;
        } list;
        struct {
            const void *p;         /* the host's object, borrowed */
            const char *type_name; /* its type's name, for messages */
        } obj;
    } u;
};

/*
 * Services and object builders, provided by the host.  `h` is the host's
 * opaque per-call state (cx->h).  Every builder returns a new object, or
 * NULL after recording an error itself.
 */
typedef struct pgd_host {
    uint32_t size;      /* sizeof(pgd_host) as the host compiled it */
    uint32_t abi_minor; /* PGD_CODEC_ABI_MINOR the host implements */

    /* services */
    int (*error)(void *h, const char *fmt, ...); /* record a message; returns -1 */
    char *(*reserve)(pgd_wbuf *b, size_t n);     /* append n bytes; pointer valid until
                                                    the next reserve; NULL on OOM */
    size_t (*tell)(const pgd_wbuf *b);           /* bytes in the buffer */
    char *(*at)(pgd_wbuf *b, size_t off);        /* pointer to offset (for back-patching) */
    const pgd_codec *(*find)(void *h, uint32_t oid); /* codec for a type, or NULL */

    /* builders */
    pgd_obj *(*make_null)(void *h);
    pgd_obj *(*make_bool)(void *h, int v);
    pgd_obj *(*make_int)(void *h, int64_t v);
    pgd_obj *(*make_float)(void *h, double v);
    pgd_obj *(*make_str)(void *h, const char *p, size_t n);     /* UTF-8 */
    pgd_obj *(*make_bytes)(void *h, const char *p, size_t n);
    pgd_obj *(*make_decimal)(void *h, const char *p, size_t n); /* canonical decimal
                                                                   text, "NaN", "Infinity",
                                                                   "-Infinity" */
    pgd_obj *(*make_uuid)(void *h, const uint8_t b[16]);
    pgd_obj *(*make_json)(void *h, const char *p, size_t n);    /* parses JSON text */
    pgd_obj *(*make_date)(void *h, const pgd_dt *v);
    pgd_obj *(*make_time)(void *h, const pgd_dt *v);
    pgd_obj *(*make_datetime)(void *h, const pgd_dt *v);
    pgd_obj *(*make_interval)(void *h, int32_t months, int32_t days, int64_t usec);
    pgd_obj *(*make_list)(void *h, size_t n);                   /* n empty slots */
    int (*list_set)(void *h, pgd_obj *list, size_t i, pgd_obj *item); /* steals item;
                                                                   0 or -1 */
    void (*release)(void *h, pgd_obj *o); /* drop a reference (error paths) */

    /* ---- since minor 1: check with PGD_HOST_HAS() before use ---- */
    pgd_obj *(*make_tuple)(void *h, size_t n);                         /* n empty slots */
    int (*tuple_set)(void *h, pgd_obj *tuple, size_t i, pgd_obj *item); /* steals item;
                                                                   0 or -1 */
    /*
     * Call a host-side constructor by name: "module:attribute" (for the
     * Python host, e.g. "ipaddress:ip_interface" or
     * "psqlpy.extra_types:Point"), with the items of `args` (a tuple from
     * make_tuple, stolen, also on failure) as positional arguments.  The
     * name must be a string with static storage: hosts may cache the
     * lookup by its address.  Returns the new object.
     */
    pgd_obj *(*make_call)(void *h, const char *callable, pgd_obj *args);

    void *reserved_[13];
} pgd_host;

/* Whether a host provides member `field` (a minor-1+ member, say): its
 * table is long enough to hold it and the slot is filled. */
#define PGD_HOST_HAS(host, field)                                              \
    ((host)->size >= offsetof(pgd_host, field) + sizeof((host)->field) &&      \
     (host)->field != NULL)

/*
 * (minor 1) What a connection learnt from pg_type about a type whose OID
 * differs between databases (OID >= 16384: enums, composite types,
 * domains, ranges and multiranges of user types, extension types).  Built
 * by the driver, immutable, valid for as long as the call that received it.
 */
typedef struct pgd_typeinfo pgd_typeinfo;

/* One component of such a type, with its codec already resolved. */
typedef struct pgd_field {
    const char *name;         /* composite: the attribute name; else "" */
    uint32_t oid;             /* its type */
    uint32_t elem_oid;        /* when that type is an array: the element type */
    const pgd_codec *codec;   /* its codec (the array handler for arrays),
                                 NULL when the type has none */
    const pgd_codec *elem;    /* array: the element codec */
    const pgd_typeinfo *type; /* its own pgd_typeinfo, NULL for built-ins */
    const pgd_typeinfo *elem_type; /* array: the element's pgd_typeinfo */
} pgd_field;

struct pgd_typeinfo {
    uint32_t size;      /* sizeof(pgd_typeinfo) as the driver compiled it */
    uint32_t oid;
    const char *name;   /* pg_type.typname */
    const char *schema; /* its namespace */
    char kind;          /* pg_type.typtype: 'b' base, 'c' composite, 'd' domain,
                           'e' enum, 'r' range, 'm' multirange */
    char pad_[3];
    uint32_t n_fields;
    const pgd_field *fields; /* 'c': the attributes in order (dropped ones left
                                out); 'd': [0] the base type; 'r': [0] the
                                subtype; 'm': [0] the range type; else none */
    void *reserved_[4];
};

/* Per-call context handed to every encode/decode. */
typedef struct pgd_cx {
    const pgd_host *host;
    void *h;               /* first argument of every host function */
    uint32_t oid;          /* the type being coded */
    uint32_t elem_oid;     /* array handler: the element type */
    const pgd_codec *elem; /* array handler: the element codec, NULL when the
                              element type has no codec (text form) */
    /* ---- since minor 1 (read only when cx->host->abi_minor >= 1) ---- */
    const pgd_typeinfo *type;      /* the type being coded, when it is one
                                      resolved through pg_type; else NULL */
    const pgd_typeinfo *elem_type; /* array handler: the element's, or NULL */
} pgd_cx;

/*
 * Pseudo-type OIDs under which the generic codecs for per-database types
 * are registered: a connection that meets an enum, composite, range or
 * multirange type it has no codec for uses the codec registered for
 * PGD_OID_ANYENUM / PGD_OID_RECORD / PGD_OID_ANYRANGE / PGD_OID_ANYMULTIRANGE,
 * with cx->type describing the real type.  A domain is coded as its base type.
 */
#define PGD_OID_RECORD 2249u
#define PGD_OID_ANYENUM 3500u
#define PGD_OID_ANYRANGE 3831u
#define PGD_OID_ANYMULTIRANGE 4537u

/*
 * encode_binary: append the binary wire form of `v` to `out`; return the
 * number of bytes appended (>= 0), or -1 after cx->host->error().
 * Never called with PGD_V_NULL (the host sends SQL NULL itself).
 *
 * decode_binary / decode_text: exactly `len` bytes in, a new object out,
 * or NULL after cx->host->error().  Never called for SQL NULL.
 */
typedef int (*pgd_encode_fn)(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out);
typedef pgd_obj *(*pgd_decode_fn)(const pgd_cx *cx, const char *data, size_t len);

struct pgd_codec {
    const char *type_name; /* pg_type.typname, e.g. "int4" */
    uint32_t oid;          /* 0 = resolve type_name through pg_type per connection */
    uint32_t array_oid;    /* its array type; 0 = none (or resolve by name) */
    uint32_t flags;        /* PGD_CODEC_* */
    uint32_t reserved_flags_;
    pgd_encode_fn encode_binary;
    pgd_decode_fn decode_binary;
    pgd_decode_fn decode_text; /* optional: used when a result comes back in
                                  text format */
    void *reserved_[4];
};

typedef struct pgd_codec_module {
    uint32_t magic;       /* PGD_CODEC_MAGIC */
    uint16_t abi_major;   /* PGD_CODEC_ABI_MAJOR */
    uint16_t abi_minor;   /* PGD_CODEC_ABI_MINOR the plugin was built against */
    uint32_t struct_size; /* sizeof(pgd_codec_module) */
    uint32_t codec_size;  /* sizeof(pgd_codec) */
    const char *name;     /* must equal the file's base name without ".so" */
    const char *version;  /* free-form, e.g. "1.0.0" */
    size_t n_codecs;
    const pgd_codec *codecs;
    void *reserved_[8];
} pgd_codec_module;

typedef const pgd_codec_module *(*pgd_codec_module_fn)(void);

/* Convenience for plugin authors: fills the header fields. */
#define PGD_CODEC_MODULE_INIT(name_, version_, codecs_)                         \
    {                                                                          \
        PGD_CODEC_MAGIC, PGD_CODEC_ABI_MAJOR, PGD_CODEC_ABI_MINOR,              \
            (uint32_t)sizeof(pgd_codec_module), (uint32_t)sizeof(pgd_codec),   \
            (name_), (version_), sizeof(codecs_) / sizeof((codecs_)[0]),       \
            (codecs_), { 0 }                                                   \
    }

#ifdef __cplusplus
}
#endif

#endif /* PGD_CODEC_H */
