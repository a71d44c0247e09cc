/*
 * bench_alloc.cc - the driver's allocator table, jemalloc vs the system
 * malloc, on the allocation patterns the driver and codecs produce.  Each
 * case runs once per table (pgd_allocator_system(), pgd_allocator_jemalloc()),
 * calling the table's functions directly:
 *
 *   alloc/growth_16k/<table>   a buffer grown from 64 bytes by doubling
 *   alloc/growth_1m/<table>    to 16 KiB / 1 MiB with realloc, every new
 *                              page written once, then freed (the output
 *                              buffer of a large parameter set)
 *   alloc/growth_1m_mixed/<table>  the same, with 8 small blocks (32 bytes)
 *                              allocated after every step and freed at the
 *                              end, so the buffer is not alone at the top
 *                              of the heap (decoded cells made meanwhile)
 *   alloc/small_copies/<table> 1000 blocks of 8..256 bytes allocated and
 *                              filled, then all freed (a result's cell
 *                              copies, statement and error strings);
 *                              ns per block
 *   alloc/churn/<table>        4096 live blocks of 16..1024 bytes; each
 *                              op frees a random one and allocates a new
 *                              one (a long-lived pool's steady state)
 *
 * Built twice, one table per process (see CMakeLists.txt):
 *   pgd_bench_alloc_system    not linked with jemalloc, so malloc() is
 *                             glibc's: pgd_allocator_system()
 *   pgd_bench_alloc_jemalloc  linked with jemalloc: pgd_allocator_jemalloc()
 * One process cannot hold both honestly: Debian's libjemalloc.so.2 exports
 * malloc/free, so linking it turns the system table into jemalloc too, and
 * dlopen()ing it fails ("cannot allocate memory in static TLS block").
 * main() checks that each program has the allocator it claims.
 */
#include <benchmark/benchmark.h>

#include <dlfcn.h>

#include <cstring>
#include <random>
#include <vector>

#include "bench_common.h"

namespace {

constexpr size_t PAGE = 4096;

void BM_growth(benchmark::State &st, const pgd_allocator *a, size_t final_size, int mixed)
{
    std::vector<void *> small;

    for (auto _ : st) {
        size_t cap = 64, off;
        char *p = (char *)a->malloc(cap);

        if (!p) {
            st.SkipWithError("out of memory");
            break;
        }
        std::memset(p, 1, cap);
        while (cap < final_size) {
            char *q = (char *)a->realloc(p, cap * 2);

            if (!q) {
                a->free(p);
                st.SkipWithError("out of memory");
                return;
            }
            p = q;
            for (off = cap; off < cap * 2; off += PAGE < cap ? PAGE : cap)
                p[off] = (char)off;
            cap *= 2;
            for (int k = 0; k < mixed; k++) {
                void *b = a->malloc(32);

                if (!b)
                    break;
                std::memset(b, 0, 32);
                small.push_back(b);
            }
        }
        benchmark::DoNotOptimize(p);
        a->free(p);
        for (void *b : small)
            a->free(b);
        small.clear();
    }
    st.SetItemsProcessed(st.iterations());
}

/* Sizes skewed towards small, as cell copies are: 8..256 bytes. */
std::vector<size_t> small_sizes(size_t n, uint32_t seed)
{
    std::mt19937 rng(seed);
    std::vector<size_t> v(n);

    for (size_t &s : v) {
        uint32_t r = rng();
        s = (r & 3) == 0 ? 64 + r % 193 : 8 + r % 57;
    }
    return v;
}

void BM_small_copies(benchmark::State &st, const pgd_allocator *a)
{
    const std::vector<size_t> sizes = small_sizes(1000, 1);
    std::vector<void *> blocks(sizes.size());
    char src[256];

    std::memset(src, 'x', sizeof src);
    for (auto _ : st) {
        for (size_t i = 0; i < sizes.size(); i++) {
            blocks[i] = a->malloc(sizes[i]);
            if (!blocks[i]) {
                st.SkipWithError("out of memory");
                return;
            }
            std::memcpy(blocks[i], src, sizes[i]);
        }
        benchmark::ClobberMemory();
        for (void *p : blocks)
            a->free(p);
    }
    st.SetItemsProcessed(st.iterations() * (int64_t)sizes.size());
}

void BM_churn(benchmark::State &st, const pgd_allocator *a)
{
    constexpr size_t LIVE = 4096, NOPS = 1 << 16;
    std::mt19937 rng(2);
    std::vector<size_t> slot(NOPS), size(NOPS);
    std::vector<char *> live(LIVE);
    size_t i = 0;

    for (size_t k = 0; k < NOPS; k++) {
        slot[k] = rng() % LIVE;
        size[k] = 16 + rng() % 1009;
    }
    for (size_t k = 0; k < LIVE; k++) {
        live[k] = (char *)a->malloc(size[k]);
        if (!live[k]) {
            st.SkipWithError("out of memory");
            return;
        }
    }
    for (auto _ : st) {
        size_t k = i++ & (NOPS - 1);
        char *p;

        a->free(live[slot[k]]);
        p = (char *)a->malloc(size[k]);
        if (!p) {
            live[slot[k]] = nullptr;
            st.SkipWithError("out of memory");
            break;
        }
        p[0] = 1;
        live[slot[k]] = p;
    }
    for (char *p : live)
        a->free(p);
    st.SetItemsProcessed(st.iterations());
}

} // namespace

int main(int argc, char **argv)
{
    bench_init(&argc, argv);

#if PGD_BENCH_ALLOC_JEMALLOC
    const pgd_allocator *a = pgd_allocator_jemalloc();
    if (!a)
        bench_die("jemalloc is not available although this program links it");
#else
    /* jemalloc must not be the process's malloc, or "system" would be it. */
    if (dlsym(RTLD_DEFAULT, "mallocx"))
        bench_die("jemalloc is in this program: the system table would use it");
    const pgd_allocator *a = pgd_allocator_system();
#endif
    const std::string n = a->name;

    benchmark::RegisterBenchmark(("alloc/growth_16k/" + n).c_str(), BM_growth, a,
                                 (size_t)16 << 10, 0);
    benchmark::RegisterBenchmark(("alloc/growth_1m/" + n).c_str(), BM_growth, a,
                                 (size_t)1 << 20, 0);
    benchmark::RegisterBenchmark(("alloc/growth_1m_mixed/" + n).c_str(), BM_growth, a,
                                 (size_t)1 << 20, 8);
    benchmark::RegisterBenchmark(("alloc/small_copies/" + n).c_str(), BM_small_copies, a);
    benchmark::RegisterBenchmark(("alloc/churn/" + n).c_str(), BM_churn, a);
    /* the table measured here: pgd_allocator_get() is the same one */
    if (pgd_allocator_get() != a)
        bench_die("the driver's default table is %s, not %s", pgd_allocator_get()->name,
                  n.c_str());
    return bench_run();
}
