/*
 * bench_host.h - codecs called through the C host (tests/c/chost.h) and
 * one sample value per benchmarked type.
 */
#ifndef PGD_BENCH_HOST_H
#define PGD_BENCH_HOST_H

#include <cstdint>
#include <string>
#include <vector>

#include "bench_common.h"

#include "chost.h"

/* A codec resolved for one type OID (array OIDs get the array handler and
 * their element codec), with a C host context to call it through. */
struct BenchCodec {
    const pgd_codec *codec = nullptr;
    chost_ctx ctx;
    pgd_cx cx;

    /* exits when the type has no codec; `type` describes a per-database
     * type (its codec is then found by its kind or name, as a connection
     * finds it) */
    explicit BenchCodec(uint32_t oid, const pgd_typeinfo *type = nullptr);
    BenchCodec(const BenchCodec &) = delete;
    BenchCodec &operator=(const BenchCodec &) = delete;

    /* Wire bytes of v (exits on an encode error). */
    std::string encode(const pgd_value &v);
    /* Decode (exits on a decode error); the caller frees with chost_free. */
    pgd_obj *decode(const std::string &wire);
};

/* One benchmarked value: its type and the repr (chost_repr) its decoded
 * form must have, written from the input, so a wrong codec fails loudly. */
struct BenchSample {
    std::string name; /* e.g. "int4", "text_1k" */
    uint32_t oid;
    pgd_value value;
    std::string expect;
    const pgd_typeinfo *type = nullptr; /* per-database types (composite, hstore) */
};

/* The samples, in report order.  Storage lives until exit. */
const std::vector<BenchSample> &bench_samples();
const BenchSample &bench_sample(const std::string &name); /* exits if unknown */

/* encode -> decode -> repr == expect, or exit. */
void bench_check_roundtrip(const BenchSample &s);

#endif /* PGD_BENCH_HOST_H */
