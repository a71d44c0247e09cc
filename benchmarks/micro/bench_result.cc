/*
 * bench_result.cc - result-to-object conversion for an N x M synthetic
 * binary result, with the C host's builders: every row becomes a list of
 * M cell objects and the result a list of rows, then the tree is freed.
 *
 * The cells go through bench_table_get (result_path.c), which is the
 * driver's pgd_result_get binary branch over an in-memory table, because
 * a pgd_result can only be made from a PGresult (see result_path.h).
 * What is not measured: libpq's parsing of DataRow messages into the
 * PGresult and PQgetvalue/PQgetlength themselves.
 *
 *   result/<columns>/<rows>   one conversion of the whole result;
 *                             items_per_second counts cells
 *
 * Columns: "mixed8" = int4, int8, float8, text (NULL every 10th row),
 * numeric (NULL every 7th row), timestamptz, bool, uuid; "int4x4" = four
 * int4 columns.  The wire values are made by the codecs' encoders; before
 * timing, every cell's decoded form is checked against its input.
 */
#include <benchmark/benchmark.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>

#include "bench_host.h"
#include "result_path.h"

namespace {

/* A column: its type, the value of row r (NULL: kind PGD_V_NULL) and the
 * chost_repr that value must decode to.  Strings are kept in *store. */
struct Column {
    uint32_t oid;
    std::function<pgd_value(int r, std::string *store)> value;
    std::function<std::string(int r)> repr;
};

std::string fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
std::string fmt(const char *f, ...)
{
    char buf[256];
    va_list ap;

    va_start(ap, f);
    std::vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    return buf;
}

pgd_value v_null()
{
    pgd_value v{};
    v.kind = PGD_V_NULL;
    return v;
}

pgd_value v_kind_str(pgd_kind kind, const std::string &s)
{
    pgd_value v{};
    v.kind = kind;
    v.u.s.p = s.data();
    v.u.s.n = s.size();
    return v;
}

pgd_dt ts_of_row(int r)
{
    pgd_dt dt{};
    dt.year = 2024, dt.month = 1, dt.day = 1 + r / 86400;
    dt.hour = r / 3600 % 24, dt.minute = r / 60 % 60, dt.second = r % 60;
    dt.usec = r % 1000 * 1000;
    dt.has_tz = 1;
    return dt;
}

Column col_int4(int mul)
{
    return {23,
            [mul](int r, std::string *) {
                pgd_value v{};
                v.kind = PGD_V_INT;
                v.u.i = (int64_t)r * mul - 1000;
                return v;
            },
            [mul](int r) { return std::to_string((int64_t)r * mul - 1000); }};
}

std::vector<Column> columns_mixed8()
{
    std::vector<Column> c;

    c.push_back(col_int4(7));
    c.push_back({20,
                 [](int r, std::string *) {
                     pgd_value v{};
                     v.kind = PGD_V_INT;
                     v.u.i = (int64_t)r * 1000000007LL;
                     return v;
                 },
                 [](int r) { return std::to_string((int64_t)r * 1000000007LL); }});
    c.push_back({701,
                 [](int r, std::string *) {
                     pgd_value v{};
                     v.kind = PGD_V_FLOAT;
                     v.u.f = r * 0.25;
                     return v;
                 },
                 [](int r) { return fmt("%.17g", r * 0.25); }});
    c.push_back({25,
                 [](int r, std::string *s) {
                     if (r % 10 == 9)
                         return v_null();
                     *s = "user-" + std::to_string(r);
                     return v_kind_str(PGD_V_STR, *s);
                 },
                 [](int r) {
                     return r % 10 == 9 ? std::string("None") : "'user-" + std::to_string(r) + "'";
                 }});
    c.push_back({1700,
                 [](int r, std::string *s) {
                     if (r % 7 == 6)
                         return v_null();
                     *s = fmt("%d.%02d", r, r % 100);
                     return v_kind_str(PGD_V_DECIMAL, *s);
                 },
                 [](int r) {
                     return r % 7 == 6 ? std::string("None") : fmt("Decimal('%d.%02d')", r, r % 100);
                 }});
    c.push_back({1184,
                 [](int r, std::string *) {
                     pgd_value v{};
                     v.kind = PGD_V_DATETIME;
                     v.u.dt = ts_of_row(r);
                     return v;
                 },
                 [](int r) {
                     pgd_dt d = ts_of_row(r);
                     return fmt("datetime(%04d-%02d-%02d %02d:%02d:%02d.%06d+0000)", d.year, d.month,
                                d.day, d.hour, d.minute, d.second, d.usec);
                 }});
    c.push_back({16,
                 [](int r, std::string *) {
                     pgd_value v{};
                     v.kind = PGD_V_BOOL;
                     v.u.b = r & 1;
                     return v;
                 },
                 [](int r) { return std::string(r & 1 ? "True" : "False"); }});
    c.push_back({2950,
                 [](int r, std::string *) {
                     pgd_value v{};
                     v.kind = PGD_V_UUID;
                     for (int i = 0; i < 16; i++)
                         v.u.uuid[i] = (uint8_t)(i * 17 + r);
                     return v;
                 },
                 [](int r) {
                     std::string s = "UUID('";
                     for (int i = 0; i < 16; i++) {
                         if (i == 4 || i == 6 || i == 8 || i == 10)
                             s += "-";
                         s += fmt("%02x", (unsigned)(uint8_t)(i * 17 + r));
                     }
                     return s + "')";
                 }});
    return c;
}

std::vector<Column> columns_int4x4()
{
    return {col_int4(1), col_int4(3), col_int4(5), col_int4(7)};
}

/* The wire form of an N x M result and its bench_table. */
struct Result {
    int nrows, ncols;
    std::vector<std::string> wire; /* row-major */
    std::vector<bench_cell> cells;
    bench_table *table = nullptr;

    Result(const std::vector<Column> &cols, int n) : nrows(n), ncols((int)cols.size())
    {
        std::vector<std::unique_ptr<BenchCodec>> codecs;
        std::vector<uint32_t> oids;
        std::string store;

        for (const Column &c : cols) {
            codecs.push_back(std::make_unique<BenchCodec>(c.oid));
            oids.push_back(c.oid);
        }
        wire.reserve((size_t)nrows * ncols);
        for (int r = 0; r < nrows; r++) {
            for (int c = 0; c < ncols; c++) {
                pgd_value v = cols[c].value(r, &store);
                cells.push_back({nullptr, 0, v.kind == PGD_V_NULL});
                wire.push_back(v.kind == PGD_V_NULL ? std::string() : codecs[c]->encode(v));
            }
        }
        for (size_t i = 0; i < cells.size(); i++) {
            cells[i].p = wire[i].data();
            cells[i].len = (int)wire[i].size();
        }
        table = bench_table_new(bench_registry(), nrows, ncols, oids.data(), cells.data());
        if (!table)
            bench_die("out of memory");
    }
    ~Result() { bench_table_free(table); }
    Result(const Result &) = delete;
    Result &operator=(const Result &) = delete;
};

/* The whole result as a list of row lists, or NULL after an error. */
pgd_obj *convert(const Result &res, const pgd_host *H, chost_ctx *ctx)
{
    pgd_obj *rows = H->make_list(ctx, (size_t)res.nrows);

    if (!rows)
        return nullptr;
    for (int r = 0; r < res.nrows; r++) {
        pgd_obj *row = H->make_list(ctx, (size_t)res.ncols);

        if (!row)
            goto error;
        for (int c = 0; c < res.ncols; c++) {
            pgd_obj *o = bench_table_get(res.table, r, c, H, ctx);

            if (!o || H->list_set(ctx, row, (size_t)c, o) != 0) {
                H->release(ctx, row);
                goto error;
            }
        }
        if (H->list_set(ctx, rows, (size_t)r, row) != 0)
            goto error;
    }
    return rows;
error:
    H->release(ctx, rows);
    return nullptr;
}

/* Every cell decodes to what its column says about that row. */
void check(const char *name, const std::vector<Column> &cols, const Result &res)
{
    chost_ctx ctx;
    chost_ctx_init(&ctx);
    pgd_obj *o = convert(res, chost_host(), &ctx);
    std::string expect = "[";

    if (!o)
        bench_die("%s: conversion failed: %s", name, ctx.err);
    for (int r = 0; r < res.nrows; r++) {
        expect += r ? ", [" : "[";
        for (int c = 0; c < res.ncols; c++)
            expect += (c ? ", " : "") + cols[c].repr(r);
        expect += "]";
    }
    expect += "]";
    char *got = chost_repr(o);
    if (!got || expect != got)
        bench_die("%s: decoded %.300s..., expected %.300s...", name, got ? got : "(null)",
                  expect.c_str());
    std::free(got);
    chost_free(o);
}

void BM_result(benchmark::State &st, const Result *res)
{
    const pgd_host *H = chost_host();
    chost_ctx ctx;

    chost_ctx_init(&ctx);
    for (auto _ : st) {
        pgd_obj *o = convert(*res, H, &ctx);

        if (!o) {
            st.SkipWithError(ctx.err);
            break;
        }
        chost_free(o);
    }
    st.SetItemsProcessed(st.iterations() * res->nrows * res->ncols);
    st.counters["rows"] = res->nrows;
    st.counters["cols"] = res->ncols;
}

} // namespace

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        std::vector<Column> (*cols)();
        int nrows;
    } cases[] = {
        {"mixed8", columns_mixed8, 1},
        {"mixed8", columns_mixed8, 100},
        {"mixed8", columns_mixed8, 1000},
        {"int4x4", columns_int4x4, 1000},
    };
    std::vector<std::unique_ptr<Result>> results;

    bench_init(&argc, argv);
    for (const auto &c : cases) {
        std::vector<Column> cols = c.cols();
        std::string name = std::string("result/") + c.name + "/" + std::to_string(c.nrows);

        results.push_back(std::make_unique<Result>(cols, c.nrows));
        check(name.c_str(), cols, *results.back());
        benchmark::RegisterBenchmark(name.c_str(), BM_result, results.back().get());
    }
    return bench_run();
}
