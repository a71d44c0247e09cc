/*
 * bench_registry.cc - codec registry lookups and the statement-cache hit
 * path, no server.
 *
 *   registry/find/<set>   one pgd_registry_find, cycling through 16 OIDs:
 *     builtin      base types of the built-in plugins (dense table)
 *     array        their array types (dense table, array handler + element)
 *     high         64 extension-like types at OIDs >= 100000 (hash table)
 *     high_array   their array types (hash table)
 *     miss_dense   built-in types without a codec (int2vector, aclitem, refcursor, ...)
 *     miss_hash    unregistered OIDs >= 100000
 *
 *   stmt_cache/<case>     one pgd_cache_lookup (driver/src/stmt_cache.c)
 *                         in a cache holding 256 statements of ~110 bytes
 *                         of SQL with 3 parameters (every 4th statement
 *                         pins its first parameter):
 *     hit_same     the most recently used statement again (no LRU move)
 *     hit_cycle    all 256 in a shuffled order (every hit moves to front)
 *     miss         SQL that is not cached
 *   The lookup is the whole of the cache-hit work the driver does before
 *   encoding the parameters; it needs no connection.
 */
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <deque>
#include <random>
#include <string>
#include <vector>

#include "bench_common.h"

extern "C" {
#include "internal.h" /* pgd_stmt_cache (not part of the public API) */
}

namespace {

constexpr int N_HIGH = 64;

uint32_t high_oid(int k) { return 100000u + 37u * (uint32_t)k; }
uint32_t high_array_oid(int k) { return 200000u + 37u * (uint32_t)k; }

/* A registry with the built-in plugins plus a module of N_HIGH codecs at
 * high OIDs (borrowing int4's functions), as an extension's types would
 * be.  Owned by the process. */
const pgd_registry *registry_with_high_oids()
{
    static std::deque<std::string> names;
    static std::vector<pgd_codec> codecs;
    static pgd_codec_module module;
    pgd_registry *r = bench_registry_new();
    const pgd_codec *int4 = pgd_registry_find(r, 23, nullptr, nullptr);

    if (!int4)
        bench_die("no int4 codec");
    for (int k = 0; k < N_HIGH; k++) {
        pgd_codec c = *int4;

        names.push_back("ext_type_" + std::to_string(k));
        c.type_name = names.back().c_str();
        c.oid = high_oid(k);
        c.array_oid = high_array_oid(k);
        codecs.push_back(c);
    }
    module = pgd_codec_module{PGD_CODEC_MAGIC, PGD_CODEC_ABI_MAJOR, PGD_CODEC_ABI_MINOR,
                              (uint32_t)sizeof(pgd_codec_module), (uint32_t)sizeof(pgd_codec),
                              "bench_ext", "1", codecs.size(), codecs.data(), {}};
    if (pgd_registry_add_module(r, &module, nullptr) != PGD_OK)
        bench_die("registering the high-OID module: %s", pgd_registry_error(r));
    return r;
}

struct OidSet {
    const char *name;
    std::vector<uint32_t> oids; /* 16 */
    bool hit;
};

std::vector<OidSet> oid_sets()
{
    OidSet high{"high", {}, true}, high_array{"high_array", {}, true}, miss_hash{"miss_hash", {}, false};

    for (int k = 0; k < 16; k++) {
        high.oids.push_back(high_oid(k * 4 + 1));
        high_array.oids.push_back(high_array_oid(k * 4 + 2));
        miss_hash.oids.push_back(300000u + 37u * (uint32_t)k);
    }
    return {
        {"builtin",
         {16, 17, 20, 21, 23, 25, 700, 701, 1043, 1082, 1114, 1184, 1186, 1700, 2950, 3802},
         true},
        {"array",
         {1000, 1001, 1005, 1007, 1009, 1016, 1021, 1022, 1015, 1182, 1115, 1185, 1187, 1231,
          2951, 3807},
         true},
        high,
        high_array,
        {"miss_dense",
         {22, 30, 194, 1033, 1790, 2970, 3361, 3402, 3642, 5017, 32, 1034, 2277, 2276, 2283, 4600},
         false},
        miss_hash,
    };
}

void BM_find(benchmark::State &st, const pgd_registry *reg, const OidSet *set)
{
    const uint32_t *oids = set->oids.data();
    const pgd_codec *elem;
    uint32_t elem_oid;
    unsigned i = 0;

    for (auto _ : st) {
        const pgd_codec *c = pgd_registry_find(reg, oids[i++ & 15], &elem, &elem_oid);

        benchmark::DoNotOptimize(c);
        benchmark::DoNotOptimize(elem);
        benchmark::DoNotOptimize(elem_oid);
    }
    st.SetItemsProcessed(st.iterations());
}

/* ---- statement cache ------------------------------------------------------ */

constexpr int N_STMTS = 256;

struct Stmts {
    pgd_stmt_cache sc;
    std::vector<std::string> sql;
    std::vector<std::vector<pgd_value>> params;
    std::vector<int> order; /* shuffled 0..N_STMTS-1 */
    std::string miss_sql;

    Stmts()
    {
        pgd_cache_init(&sc, N_STMTS);
        for (int i = 0; i < N_STMTS; i++) {
            char buf[256];
            std::vector<pgd_value> p(3);

            std::snprintf(buf, sizeof buf,
                          "SELECT id, name, created_at FROM table_%d WHERE owner_id = $1 "
                          "AND status = $2 ORDER BY created_at DESC LIMIT $3",
                          i);
            sql.push_back(buf);
            p[0].kind = PGD_V_INT;
            p[0].u.i = i;
            p[0].pin_oid = i % 4 == 0 ? 20 : 0;
            p[1].kind = PGD_V_INT;
            p[2].kind = PGD_V_INT;
            params.push_back(p);
        }
        for (int i = 0; i < N_STMTS; i++)
            if (!pgd_cache_create(&sc, sql[i].c_str(), 3, params[i].data(), 0))
                bench_die("out of memory filling the statement cache");
        if (sc.count != N_STMTS)
            bench_die("statement cache holds %d statements, expected %d", sc.count, N_STMTS);
        for (int i = 0; i < N_STMTS; i++) {
            pgd_stmt *s = pgd_cache_lookup(&sc, sql[i].c_str(), 3, params[i].data());

            if (!s || sql[i] != s->sql)
                bench_die("statement %d not found in the cache", i);
            order.push_back(i);
        }
        std::shuffle(order.begin(), order.end(), std::mt19937(42));
        miss_sql = sql[0];
        miss_sql.replace(miss_sql.find("table_0"), 7, "table_x");
        if (pgd_cache_lookup(&sc, miss_sql.c_str(), 3, params[0].data()))
            bench_die("a miss was found in the statement cache");
        /* a pinned statement looked up without its pin is another key */
        pgd_value unpinned[3] = {params[0][0], params[0][1], params[0][2]};
        unpinned[0].pin_oid = 0;
        if (pgd_cache_lookup(&sc, sql[0].c_str(), 3, unpinned))
            bench_die("the pinned statement was found without its pin");
    }
    ~Stmts() { pgd_cache_free(&sc); }
    Stmts(const Stmts &) = delete;
    Stmts &operator=(const Stmts &) = delete;
};

void BM_cache_hit_same(benchmark::State &st, Stmts *s)
{
    const int k = s->order[0];

    for (auto _ : st)
        benchmark::DoNotOptimize(pgd_cache_lookup(&s->sc, s->sql[k].c_str(), 3, s->params[k].data()));
    st.SetItemsProcessed(st.iterations());
}

void BM_cache_hit_cycle(benchmark::State &st, Stmts *s)
{
    unsigned i = 0;

    for (auto _ : st) {
        int k = s->order[i++ % N_STMTS];

        benchmark::DoNotOptimize(pgd_cache_lookup(&s->sc, s->sql[k].c_str(), 3, s->params[k].data()));
    }
    st.SetItemsProcessed(st.iterations());
}

void BM_cache_miss(benchmark::State &st, Stmts *s)
{
    for (auto _ : st)
        benchmark::DoNotOptimize(pgd_cache_lookup(&s->sc, s->miss_sql.c_str(), 3, s->params[0].data()));
    st.SetItemsProcessed(st.iterations());
}

} // namespace

int main(int argc, char **argv)
{
    bench_init(&argc, argv);

    const pgd_registry *reg = registry_with_high_oids();
    static const std::vector<OidSet> sets = oid_sets();
    for (const OidSet &set : sets) {
        for (uint32_t oid : set.oids) {
            const pgd_codec *elem = nullptr;
            const pgd_codec *c = pgd_registry_find(reg, oid, &elem, nullptr);
            bool is_array = set.name == std::string("array") || set.name == std::string("high_array");

            if ((c != nullptr) != set.hit || (is_array && !elem))
                bench_die("registry/%s: oid %u %s", set.name, oid,
                          set.hit ? "not found" : "unexpectedly found");
        }
        benchmark::RegisterBenchmark((std::string("registry/find/") + set.name).c_str(), BM_find,
                                     reg, &set);
    }

    Stmts stmts;
    benchmark::RegisterBenchmark("stmt_cache/hit_same", BM_cache_hit_same, &stmts);
    benchmark::RegisterBenchmark("stmt_cache/hit_cycle", BM_cache_hit_cycle, &stmts);
    benchmark::RegisterBenchmark("stmt_cache/miss", BM_cache_miss, &stmts);

    return bench_run();
}
