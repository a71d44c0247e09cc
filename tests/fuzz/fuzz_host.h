/*
 * fuzz_host.h - what the codec fuzz targets and the seed writer share: the
 * plugins of every family in tests/fuzz/families loaded from FUZZ_PLUGIN_DIR
 * with dlopen(), codecs looked up by OID as the driver does, and the input
 * format that picks a codec.
 *
 * A fuzz input is a small header and then the field:
 *
 *   byte 0       bit 0: 1 = decode_text, 0 = decode_binary (a codec that
 *                has only one of them gets that one); other bits unused
 *   bytes 1-2    codec selector, big-endian: the family's codec whose OID
 *                equals it, else codec number (selector % number of codecs)
 *   bytes 3-4    only when that codec is an array handler (PGD_CODEC_ARRAY):
 *                element selector over every loaded codec that has an array
 *                type: the one whose OID equals it, else number
 *                (selector % (count + 1)); the number `count` means "no
 *                element codec" (text elements then come back as strings)
 *   then         only when the codec (or that element codec) is the generic
 *                one for per-database types, registered under a pseudo-type
 *                OID (record, anyenum, anyrange, anymultirange): the type's
 *                description (pgd_typeinfo) the driver would hand it:
 *                record: 1 byte attribute count (% (FZ_MAX_FIELDS + 1)) and
 *                a 2-byte selector per attribute; range and multirange: one
 *                2-byte selector for the subtype; enum: nothing.  Selectors
 *                pick as element selectors do, among every loaded codec
 *                and the array types of the element codecs.
 *   the rest     the field, handed to the decoder as exactly that many bytes
 *                in a heap block of exactly that size
 *
 * Selecting by OID keeps a saved input meaning the same codec when codecs
 * or families are added; the fallback to a number lets the fuzzer reach
 * every codec without guessing OIDs.
 *
 * Element codecs, and codecs handed out by host->find(), are wrapped so
 * that they too get their bytes in a block of exactly their size.
 */
#ifndef FUZZ_HOST_H
#define FUZZ_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "chost.h"
#include "pgd_codec.h"

#define FZ_MAX_FIELDS 4
#define FZ_HEADER_MAX (1 + 2 + 2 + 1 + 2 * FZ_MAX_FIELDS)

typedef struct fz_family {
    const char *name;
    const pgd_codec_module *m;
} fz_family;

/* A made-up per-database type: what cx->type points to.  Type OIDs are
 * the codecs' own (the pseudo-type's for the type itself). */
typedef struct fz_type {
    pgd_typeinfo info;
    pgd_field fields[FZ_MAX_FIELDS];
    pgd_typeinfo range; /* multirange: the type of fields[0] */
    pgd_field range_field;
} fz_type;

/* One decoder call, as picked from a header.  Holds pointers into itself
 * once fz_set_type() has run: not to be copied after that. */
typedef struct fz_call {
    const pgd_codec *codec; /* the codec under test (unwrapped) */
    int text;               /* 1: decode_text, 0: decode_binary */
    const pgd_codec *elem;  /* array handler: wrapped element codec or NULL */
    uint32_t oid, elem_oid; /* for the pgd_cx */
    int typed;              /* 1: type is cx->type, 2: cx->elem_type, 0: none */
    fz_type type;
} fz_call;

/* Load every family's plugin (FUZZ_FAMILIES, FUZZ_PLUGIN_DIR); exits with
 * status 2 and a message when one cannot be loaded or two claim an OID. */
void fz_init(void);

/* The loaded family called `name`, or NULL (borrowed). */
const fz_family *fz_family_named(const char *name);
size_t fz_family_ncodecs(const fz_family *f);
const pgd_codec *fz_family_codec(const fz_family *f, size_t i);

/* Codecs that can be array elements (wrapped), in load order. */
size_t fz_nelems(void);
const pgd_codec *fz_elem(size_t i);

/* The kind of per-database type `c` is the generic codec for ('c', 'e',
 * 'r', 'm'), or 0. */
char fz_type_kind(const pgd_codec *c);
/* Describe call->typed's type: kind from its codec, with n fields (capped;
 * record only) whose codecs are `field[i]` (element codecs or others
 * picked by a selector; NULL for a type without a codec).  Sets
 * call->typed from the codec and element. */
void fz_set_type(fz_call *call, size_t n, const pgd_codec *const *field);

/* Parse the header of data[0..size): fills *call and returns the header's
 * length, or 0 when the input is too short to hold one. */
size_t fz_parse(const fz_family *f, const uint8_t *data, size_t size, fz_call *call);

/* Write the header that selects `call` into out (FZ_HEADER_MAX bytes);
 * returns its length. */
size_t fz_header(const fz_family *f, const fz_call *call, uint8_t *out);

/* Set up ctx and cx for `call`. */
void fz_cx(const fz_call *call, pgd_cx *cx, chost_ctx *ctx);

/*
 * Decode data[0..len) with the call's decoder, from a heap copy of exactly
 * len bytes.  Returns the new object (free with chost_free) or NULL with
 * the decoder's message in err (when err is not NULL).
 * Aborts, naming the codec, when the decoder breaks its contract: NULL
 * without recording an error, or an object after recording one.
 */
pgd_obj *fz_decode(const fz_call *call, const char *data, size_t len, char *err, size_t errsz);

/*
 * Encode `o` (a decoded value) with the call's binary encoder; returns the
 * wire bytes (malloc'd, *len set) or NULL when the value has no encoder
 * input form or the encoder refuses it.  Aborts when the encoder reports
 * a length other than what it appended, or succeeds after recording an
 * error.
 */
char *fz_encode(const fz_call *call, const pgd_obj *o, size_t *len);
char *fz_encode_value(const fz_call *call, const pgd_value *v, size_t *len);

/* The whole check for one fuzz input: decode, and for a value that
 * decodes, encode it and decode that in binary, which must give the same
 * value (aborts otherwise). */
void fz_run_one(const fz_family *f, const uint8_t *data, size_t size);

#endif
