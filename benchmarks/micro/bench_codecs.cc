/*
 * bench_codecs.cc - decode and encode of one value per type family, through
 * the plugins' function pointers and the C host, no server.
 *
 *   codec/decode/<type>  wire bytes -> host object (built by chost, then
 *                        freed: the object's construction is part of the
 *                        cost, as it is in the extension)
 *   codec/encode/<type>  pgd_value -> wire bytes, into a reused buffer (as
 *                        the driver reuses its connection's buffer)
 *
 * One iteration is one value, so ns per iteration is ns per value.  The
 * wire bytes come from the codec's own encoder; before anything is timed
 * every sample is round-tripped and its decoded form compared with the
 * expected one (bench_common.cc).
 */
#include <benchmark/benchmark.h>

#include "bench_host.h"

static void BM_decode(benchmark::State &st, const BenchSample *s)
{
    BenchCodec c(s->oid, s->type);
    const std::string wire = c.encode(s->value);

    for (auto _ : st) {
        pgd_obj *o = c.codec->decode_binary(&c.cx, wire.data(), wire.size());

        if (!o) {
            st.SkipWithError(c.ctx.err);
            break;
        }
        chost_free(o);
    }
    st.SetItemsProcessed(st.iterations());
    st.SetBytesProcessed(st.iterations() * (int64_t)wire.size());
    st.counters["wire_bytes"] = (double)wire.size();
}

static void BM_encode(benchmark::State &st, const BenchSample *s)
{
    BenchCodec c(s->oid, s->type);
    struct pgd_wbuf b;
    size_t n = 0;

    chost_wbuf_init(&b);
    for (auto _ : st) {
        chost_wbuf_reset(&b);
        if (c.codec->encode_binary(&c.cx, &s->value, &b) < 0) {
            st.SkipWithError(c.ctx.err);
            break;
        }
        benchmark::DoNotOptimize(b.p);
        n = b.len;
    }
    chost_wbuf_free(&b);
    st.SetItemsProcessed(st.iterations());
    st.SetBytesProcessed(st.iterations() * (int64_t)n);
    st.counters["wire_bytes"] = (double)n;
}

int main(int argc, char **argv)
{
    bench_init(&argc, argv);
    for (const BenchSample &s : bench_samples()) {
        bench_check_roundtrip(s);
        benchmark::RegisterBenchmark(("codec/decode/" + s.name).c_str(), BM_decode, &s);
        benchmark::RegisterBenchmark(("codec/encode/" + s.name).c_str(), BM_encode, &s);
    }
    return bench_run();
}
