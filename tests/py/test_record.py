"""Record rows and the other row shapes of QueryResult / SingleQueryResult.

Against the real server: records(), result(as_tuple=True), row_factory(),
custom_decoders=, len/indexing/iteration of a QueryResult, and the Record
type itself (position, name and slice access, get, keys/values/items,
iteration, equality, hashing, repr, errors), with NULLs, duplicate column
names, zero columns, zero, one and 10,000 rows, and reference counts that
stay put.  Runs on the loop the session selects (PSQLPY_TEST_LOOP=uvloop).
"""

from __future__ import annotations

import datetime as dt
import gc
import sys
import weakref
from decimal import Decimal

import pytest

from helpers import live_psqlpy_objects, open_pool, pool, settle  # noqa: F401 (fixture)
from psqlpy import QueryResult, Record, SingleQueryResult
from psqlpy import exceptions as exc

MIXED = ("SELECT 1::int4 AS i, 'x'::text AS t, NULL::int8 AS n, 2.5::float8 AS f, "
         "true AS b, '2020-01-02'::date AS d, ARRAY[1, NULL, 3]::int4[] AS a, "
         "'\\x00ff'::bytea AS y, '1.50'::numeric AS m, '{\"k\": [1]}'::jsonb AS j")
MIXED_VALUES = (1, "x", None, 2.5, True, dt.date(2020, 1, 2), [1, None, 3], b"\x00\xff",
                Decimal("1.50"), {"k": [1]})
MIXED_NAMES = ["i", "t", "n", "f", "b", "d", "a", "y", "m", "j"]


async def _one(pool, sql: str, params=None) -> Record:
    recs = (await pool.execute(sql, params)).records()
    assert len(recs) == 1
    return recs[0]


async def test_record_by_position_name_and_slice(pool):
    r = await _one(pool, MIXED)
    assert type(r) is Record
    assert len(r) == len(MIXED_VALUES)
    for k, v in enumerate(MIXED_VALUES):
        assert r[k] == v
        assert r[k - len(MIXED_VALUES)] == v           # negative indexes
        assert r[MIXED_NAMES[k]] == v
    assert r["n"] is None
    assert r[1:3] == ["x", None]
    assert r[::-1] == list(reversed(MIXED_VALUES))
    assert r[-2:] == [Decimal("1.50"), {"k": [1]}]
    assert r[5:2] == [] and r[100:] == []
    assert isinstance(r[0:2], list)


async def test_record_mapping_methods_and_iteration(pool):
    r = await _one(pool, MIXED)
    assert list(r) == list(MIXED_VALUES)                # iteration gives the values
    assert r.keys() == MIXED_NAMES
    assert r.values() == list(MIXED_VALUES)
    assert r.items() == list(zip(MIXED_NAMES, MIXED_VALUES))
    assert r.get("t") == "x"
    assert r.get("n", "default") is None                # NULL is a value, not a miss
    assert r.get("missing") is None
    assert r.get("missing", 42) == 42
    assert "t" in r and "missing" not in r
    assert "x" not in r                                 # membership is by column name
    assert dict(r.items()) == (await pool.execute(MIXED)).result()[0]


async def test_record_bad_index_and_key(pool):
    r = await _one(pool, "SELECT 1 AS a, 2 AS b")
    with pytest.raises(IndexError):
        r[2]
    with pytest.raises(IndexError):
        r[-3]
    with pytest.raises(IndexError):
        r[sys.maxsize * 4]
    with pytest.raises(KeyError) as info:
        r["c"]
    assert info.value.args == ("c",)
    with pytest.raises(TypeError):
        r[1.5]                                          # type: ignore[call-overload]
    with pytest.raises(TypeError):
        r[b"a"]                                         # type: ignore[call-overload]
    with pytest.raises(TypeError):
        r.get([1])                                      # type: ignore[arg-type]
    with pytest.raises(TypeError):
        r.get()                                         # type: ignore[call-arg]
    with pytest.raises(TypeError):
        r.get("a", 1, 2)                                # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Record()                                        # type: ignore[call-arg]
    with pytest.raises(AttributeError):
        r.x = 1                                         # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        r[0] = 5                                        # type: ignore[index]


async def test_record_equality_hash_and_repr(pool):
    recs = (await pool.execute(
        "SELECT * FROM (VALUES (1, 'x'), (2, 'y'), (1, 'x')) AS v(a, b)")).records()
    assert recs[0] == recs[2] and recs[0] != recs[1]
    assert recs[0] == (1, "x") and (1, "x") == recs[0]
    assert recs[0] != (1, "x", None) and recs[0] != [1, "x"]
    assert hash(recs[0]) == hash(recs[2]) == hash((1, "x"))
    assert len({recs[0], recs[1], recs[2]}) == 2
    other = await _one(pool, "SELECT 1 AS c, 'x' AS d")   # same values, other names
    assert other != recs[0] and other == (1, "x")
    same = await _one(pool, "SELECT 1 AS a, 'x'::text AS b")  # another result, same names
    assert same == recs[0]
    assert repr(recs[0]) == "<Record a=1 b='x'>"
    assert repr(await _one(pool, "SELECT NULL::int AS n, '{1,2}'::int[] AS arr")) == \
        "<Record n=None arr=[1, 2]>"
    with pytest.raises(TypeError):
        hash(await _one(pool, "SELECT '{1}'::int[] AS arr"))   # a list is unhashable


async def test_duplicate_column_names(pool):
    """Key access finds the first column of a name; every column stays
    reachable by position and in keys()/items().  result()'s dicts keep
    the last one, as they always did."""
    sql = "SELECT 1 AS a, 2 AS a, 3 AS b, 4 AS a"
    res = await pool.execute(sql)
    r = res.records()[0]
    assert r["a"] == 1 and r.get("a") == 1 and r["b"] == 3
    assert r.keys() == ["a", "a", "b", "a"]
    assert r.items() == [("a", 1), ("a", 2), ("b", 3), ("a", 4)]
    assert list(r) == [1, 2, 3, 4]
    assert repr(r) == "<Record a=1 a=2 b=3 a=4>"
    assert res.result(as_tuple=True) == [(1, 2, 3, 4)]
    assert res.result() == [{"a": 4, "b": 3}]


async def test_row_dicts_of_many_rows(pool):
    """result() fills the dicts of a multi-row result from one template of
    the names: every row gets its own values, in column order, the last of
    a duplicated name, and a dict holding a list is tracked by the garbage
    collector, so a cycle through it is freed."""
    res = await pool.execute("SELECT g AS a, g * 10 AS a, 'v' || g AS b, ARRAY[g, -g] AS arr "
                             "FROM generate_series(1, 5) AS g")
    dicts = res.result()
    assert dicts == [{"a": g * 10, "b": f"v{g}", "arr": [g, -g]} for g in range(1, 6)]
    assert all(list(d) == ["a", "b", "arr"] for d in dicts)

    res = await pool.execute("SELECT g AS i, ARRAY[g] AS arr, NULL::text AS n "
                             "FROM generate_series(1, 4) AS g")
    rows = res.result()
    assert rows == [{"i": g, "arr": [g], "n": None} for g in range(1, 5)]
    assert all(gc.is_tracked(r) for r in rows)
    rows[0]["i"] = 99
    rows[0]["extra"] = 1
    assert rows[1] == {"i": 2, "arr": [2], "n": None}
    assert res.result()[0] == {"i": 1, "arr": [1], "n": None}

    class Probe:
        pass

    probe = Probe()
    ref = weakref.ref(probe)
    rows[2]["arr"].append(rows[2])              # a cycle through a row dict
    rows[2]["arr"].append(probe)
    del rows, probe
    gc.collect()
    assert ref() is None


async def test_a_cell_that_cannot_be_decoded_fails_its_call_only(pool):
    """A value Python cannot hold (a date in year 10000), in the third row,
    fails result(), result(as_tuple=True) and records() with a ResultError
    naming its column; the rows before and after it still decode, and so
    does the next call."""
    res = await pool.execute(
        "SELECT g AS i, CASE WHEN g = 3 THEN '10000-01-01'::date "
        "ELSE '2000-01-01'::date END AS d, 't' || g AS t FROM generate_series(1, 4) AS g")
    for call in (res.result, lambda: res.result(as_tuple=True), res.records, lambda: res[2]):
        with pytest.raises(exc.ResultError, match='column "d"') as ei:
            call()
        assert "10000" in str(ei.value)
    assert res[1] == {"i": 2, "d": dt.date(2000, 1, 1), "t": "t2"}
    assert res[3] == {"i": 4, "d": dt.date(2000, 1, 1), "t": "t4"}
    # the undecoded cell: days since 2000-01-01, 20 Gregorian cycles of 146,097
    assert res.result(custom_decoders={"d": bytes})[2]["d"] == (20 * 146097).to_bytes(4, "big")
    with pytest.raises(TypeError, match="custom_decoders must be a mapping"):
        res.result(custom_decoders=5)
    assert (await pool.execute("SELECT 1 AS one")).result() == [{"one": 1}]


async def test_zero_columns_and_zero_rows(pool):
    res = await pool.execute("SELECT")
    assert len(res) == 1
    r = res.records()[0]
    assert len(r) == 0 and list(r) == [] and r.keys() == [] and r.items() == []
    assert r == () and repr(r) == "<Record>"
    with pytest.raises(IndexError):
        r[0]
    assert res.result() == [{}] and res.result(as_tuple=True) == [()]
    empty = await pool.execute("SELECT 1 AS a WHERE false")
    assert len(empty) == 0
    assert empty.records() == [] and empty.result(as_tuple=True) == [] and list(empty) == []
    assert empty.row_factory(dict) == []
    with pytest.raises(IndexError):
        empty[0]
    with pytest.raises(exc.NoRowsError):
        (await pool.fetch_row("SELECT 1 AS a WHERE false")).result(as_tuple=True)


@pytest.mark.parametrize("n", [1, 10_000])
async def test_row_counts(pool, n):
    res = await pool.execute(
        "SELECT g AS i, 'r' || g AS s, g * 0.5::float8 AS f, "
        "CASE WHEN g % 3 = 0 THEN NULL ELSE g END AS maybe FROM generate_series(1, $1) AS g",
        [n])
    expected = [(g, f"r{g}", g * 0.5, None if g % 3 == 0 else g) for g in range(1, n + 1)]
    recs = res.records()
    assert len(recs) == len(res) == n
    assert recs == expected
    assert res.result(as_tuple=True) == expected
    assert [tuple(r.values()) for r in recs] == expected
    assert [r["maybe"] for r in recs] == [e[3] for e in expected]
    dicts = res.result()
    assert dicts == [dict(zip(["i", "s", "f", "maybe"], e)) for e in expected]
    assert list(res) == dicts
    assert res[0] == dicts[0] and res[-1] == dicts[-1] and res[n // 2] == dicts[n // 2]
    assert res[1:4] == dicts[1:4] and res[::-97] == dicts[::-97]
    assert res.row_factory(lambda row: row["i"]) == list(range(1, n + 1))


async def test_query_result_indexing_errors(pool):
    res = await pool.execute("SELECT 1 AS a UNION ALL SELECT 2")
    assert res[-2] == {"a": 1}
    for bad in (2, -3):
        with pytest.raises(IndexError):
            res[bad]
    with pytest.raises(TypeError):
        res["a"]                                         # type: ignore[call-overload]
    assert isinstance(res, QueryResult)


async def test_as_tuple_flag(pool):
    res = await pool.execute(MIXED)
    assert res.result(as_tuple=True) == [MIXED_VALUES]
    assert res.result(as_tuple=False) == res.result(as_tuple=None) == res.result()
    assert isinstance(res.result()[0], dict)
    with pytest.raises(TypeError):
        res.result(None, True)                           # type: ignore[misc]
    row = await pool.fetch_row(MIXED)
    assert isinstance(row, SingleQueryResult)
    assert row.result(as_tuple=True) == MIXED_VALUES
    assert row.result() == dict(zip(MIXED_NAMES, MIXED_VALUES))


async def test_row_factory(pool):
    res = await pool.execute("SELECT * FROM (VALUES (1, 'x'), (2, 'y')) AS v(a, b)")
    assert res.row_factory(lambda row: (row["b"], row["a"])) == [("x", 1), ("y", 2)]
    assert res.row_factory(row_factory=dict) == res.result()
    single = await pool.fetch_row("SELECT 7 AS a, 'z' AS b")
    assert single.row_factory(lambda row: sorted(row.items())) == [("a", 7), ("b", "z")]
    with pytest.raises(TypeError):
        res.row_factory(5)                               # type: ignore[arg-type]

    def boom(row):
        raise ZeroDivisionError(row["a"])

    with pytest.raises(ZeroDivisionError):
        res.row_factory(boom)


async def test_custom_decoders(pool):
    seen = []

    def raw(b: bytes) -> bytes:
        seen.append(b)
        return b

    res = await pool.execute(
        "SELECT * FROM (VALUES (1::int4, 'héllo'::text, 2::int8), (258, NULL, 3)) AS v(i, t, k)")
    rows = res.result(custom_decoders={
        "i": lambda b: int.from_bytes(b, "big", signed=True) * 10,   # binary int4
        "t": raw, "absent": raw})
    assert rows == [{"i": 10, "t": "héllo".encode(), "k": 2}, {"i": 2580, "t": None, "k": 3}]
    assert seen == ["héllo".encode()]                    # NULL does not reach the decoder
    assert res.result(as_tuple=True, custom_decoders={"k": lambda b: b}) == [
        (1, "héllo", b"\x00" * 7 + b"\x02"), (258, None, b"\x00" * 7 + b"\x03")]
    assert res.row_factory(lambda row: row["k"], custom_decoders={"k": len}) == [8, 8]
    assert res.result(custom_decoders={}) == res.result()
    single = await pool.fetch_row("SELECT 5::int2 AS s")
    assert single.result(custom_decoders={"s": bytes.hex}) == {"s": "0005"}
    assert single.result(as_tuple=True, custom_decoders={"s": bytes.hex}) == ("0005",)
    assert single.row_factory(dict, {"s": bytes.hex}) == {"s": "0005"}

    with pytest.raises(TypeError):
        res.result(custom_decoders={"i": 5})             # type: ignore[dict-item]
    with pytest.raises(TypeError):
        res.result(custom_decoders=[("i", raw)])         # type: ignore[arg-type]

    def fails(b: bytes) -> None:
        raise ValueError("bad cell")

    with pytest.raises(ValueError, match="bad cell"):
        res.result(custom_decoders={"k": fails})


async def test_refcounts_and_no_leaks(pool):
    decoder = (lambda b: b)  # noqa: E731
    factory = (lambda row: row)  # noqa: E731
    mapping = {"t": decoder}
    sql = "SELECT g AS i, 't' || g AS t, NULL::int AS n FROM generate_series(1, 50) AS g"

    async def work(rounds: int) -> None:
        for _ in range(rounds):
            res = await pool.execute(sql)
            recs = res.records()
            assert recs[3]["i"] == 4 and recs[3][-1] is None and recs[3][0:2] == [4, "t4"]
            assert recs[3].get("t") == "t4" and recs[3].items()[0] == ("i", 4)
            assert hash(recs[0]) == hash((1, "t1", None)) and repr(recs[0])
            res.result(as_tuple=True)
            res.result(custom_decoders=mapping)
            res.row_factory(factory, custom_decoders=mapping)
            list(res)
            res[1:5]
            with pytest.raises(KeyError):
                recs[0]["nope"]
            with pytest.raises(IndexError):
                res[99]
            with pytest.raises(ZeroDivisionError):     # fails on the 4th row, mid-list
                res.row_factory(lambda row: row["i"] // (row["i"] - 4))
            with pytest.raises(RuntimeError):
                res.result(custom_decoders={"i": _raise_on_third()})

    await work(3)
    await settle()
    gc.collect()
    counts = [sys.getrefcount(o) for o in (decoder, factory, mapping, sql, Record)]
    before = live_psqlpy_objects()
    await work(50)
    await settle()
    gc.collect()
    assert [sys.getrefcount(o) for o in (decoder, factory, mapping, sql, Record)] == counts
    assert live_psqlpy_objects() == before


def _raise_on_third():
    calls = []

    def dec(b: bytes) -> int:
        calls.append(b)
        if len(calls) == 3:
            raise RuntimeError("third cell")
        return len(calls)

    return dec


async def test_gc_tracking_and_the_shared_column_map(pool):
    """A Record joins the garbage collector only when one of its values can
    be part of a cycle (is tracked itself), like CPython's tuples."""
    recs = (await pool.execute("SELECT g AS a, g AS b FROM generate_series(1, 3) AS g")).records()
    assert not any(gc.is_tracked(r) for r in recs)
    with_list = await _one(pool, "SELECT 1 AS a, '{1,2}'::int[] AS arr, '{\"k\": {}}'::jsonb AS j")
    assert gc.is_tracked(with_list)
    inner = with_list["arr"]
    assert any(o is inner for o in gc.get_referents(with_list))
    del with_list, inner
    gc.collect()
    baseline = sys.getrefcount(Record)          # one per live Record
    looped = await _one(pool, "SELECT '{1}'::int[] AS arr")
    looped["arr"].append(looped)                # a cycle through a value
    assert sys.getrefcount(Record) == baseline + 1
    del looped
    gc.collect()
    assert sys.getrefcount(Record) == baseline  # the collector freed it
    maps = [[o for o in gc.get_referents(r) if isinstance(o, tuple)] for r in recs]
    assert all(len(m) == 1 for m in maps)
    assert maps[0][0] is maps[1][0] is maps[2][0]           # one column map per result
    assert sys.getsizeof(recs[0]) < sys.getsizeof({"a": 1, "b": 1})
    live = [r for r in recs]
    del recs
    gc.collect()
    assert [list(r) for r in live] == [[1, 1], [2, 2], [3, 3]]


async def test_records_outlive_their_result_and_pool(dsn):
    async with open_pool(dsn, max_db_pool_size=1) as p:
        res = await p.execute("SELECT 'kept'::text AS s, 9 AS n")
        recs = res.records()
        del res
    gc.collect()
    assert recs[0]["s"] == "kept" and recs[0][1] == 9 and recs[0].keys() == ["s", "n"]
