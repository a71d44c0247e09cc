"""Hostile input: parameters whose containers change under the driver,
text that has no UTF-8 form or holds NUL characters, values out of every
range, nesting without end, objects no codec takes, and garbage SQL.

Each check runs in a fresh interpreter (childproc.py), so a crash is that
test's failure.  What may come out: a result, or an exception deriving from
psqlpy.exceptions.Error of the documented kind (a "!" in an outcome marks
anything else).  And the pool answers a query afterwards.
"""

from __future__ import annotations

import textwrap

from childproc import run_child


def child(dsn, loop_name, body, **kw):
    """run_child with a started pool `pool` (2 connections) in the body,
    checked to answer and closed after it."""
    start = """
        pool = psqlpy.PSQLPool(dsn=DSN, max_db_pool_size=2)
        await pool.startup()
    """
    end = """
        out["answers"] = await answers(pool)
        await pool.close()
    """
    return run_child(dsn, loop_name, textwrap.dedent(start) + textwrap.dedent(body) +
                     textwrap.dedent(end), **kw).out


def foreign(outcomes):
    """The outcomes that are exceptions outside psqlpy's hierarchy."""
    return {k: v for k, v in outcomes.items() if v[0] == "err" and v[1].startswith("!")}


# ---- a call captures its parameters when it is made ------------------------------

def test_list_changed_after_the_call_on_a_new_statement(dsn, loop_name):
    # Bind is encoded only after the statement's Describe round trip.
    out = child(dsn, loop_name, """
        inner = ["A" * 200 + str(i) for i in range(8)]
        fut = pool.execute("SELECT $1::text[] AS v -- a new statement", [inner])
        inner[:] = ["B"] * 8
        junk = ["Z" * 200 + str(n) for n in range(20000)]
        out["v"] = (await fut).result()[0]["v"]
        del junk
    """)
    assert out["v"] == ["A" * 200 + str(i) for i in range(8)]
    assert out["answers"]


def test_list_changed_while_waiting_for_a_connection(dsn, loop_name):
    out = child(dsn, loop_name, """
        small = psqlpy.PSQLPool(dsn=DSN, max_db_pool_size=1)
        await small.startup()
        await small.execute("SELECT $1::text[] AS v", [["x"]])   # prepared already
        held = await small.connection()                          # the only one
        inner = ["C" * 200 + str(i) for i in range(8)]
        nested = [["D" * 100 + str(i)] for i in range(4)]
        doc = {"k": ["E" * 100], "n": 1}
        raw = bytearray(b"F" * 300)
        fut = small.execute("SELECT $1::text[] AS v, $2::text[] AS w, $3::jsonb AS j, "
                            "$4::bytea AS b", [inner, nested, doc, raw])
        out["waiting"] = small.status()["waiting"]
        inner[:] = ["B"] * 8
        nested[0][0] = "changed"
        nested.clear()
        doc["k"].append("more")
        doc.clear()
        raw[:] = b"G"
        junk = ["Z" * 200 + str(n) for n in range(20000)]
        held.close()
        row = (await fut).result()[0]
        out["row"] = [row["v"], row["w"], row["j"], row["b"].decode()]
        del junk
        out["small_answers"] = await answers(small)
        await small.close()
    """)
    assert out["waiting"] == 1
    assert out["row"] == [["C" * 200 + str(i) for i in range(8)],
                          [["D" * 100 + str(i)] for i in range(4)],
                          {"k": ["E" * 100], "n": 1},
                          "F" * 300]
    assert out["small_answers"] and out["answers"]


def test_batches_changed_after_the_call(dsn, loop_name):
    out = child(dsn, loop_name, """
        conn = await pool.connection()
        rows = [[["r%d-%s" % (r, "H" * 100)]] for r in range(50)]
        fut = conn.execute_many(
            "SELECT $1::text[] -- many, a new statement", rows)
        for row in rows:
            row[0][0] = "x"
        rows.clear()
        queries = [("SELECT $1::text[] AS v -- pipe %d" % i, [["I" * 100 + str(i)]])
                   for i in range(5)]
        pfut = conn.pipeline(queries)
        for q in queries:
            q[1][0][0] = "x"
        queries[:] = [("SELECT 1", None)]
        junk = ["Z" * 200 + str(n) for n in range(20000)]
        out["many"] = await fut
        out["pipe"] = [r.result()[0]["v"] for r in await pfut]
        del junk
        conn.close()
    """)
    assert out["many"] is None
    assert out["pipe"] == [["I" * 100 + str(i)] for i in range(5)]
    assert out["answers"]


def test_parameter_containers_of_the_wrong_kind(dsn, loop_name):
    out = child(dsn, loop_name, """
        conn = await pool.connection()
        res = {}
        for name, params in [("str", "ab"), ("bytes", b"ab"), ("dict", {"a": 1}), ("int", 5)]:
            res["execute " + name] = await outcome(
                lambda: pool.execute("SELECT $1::text AS v", params))
            res["pipeline " + name] = await outcome(
                lambda: conn.pipeline([("SELECT $1::text AS v", params)]))
        res["many int row"] = await outcome(lambda: conn.execute_many("SELECT $1::int", [5]))
        res["many ragged"] = await outcome(
            lambda: conn.execute_many("SELECT $1::int", [[1], [1, 2]]))
        conn.close()
        out["res"] = res
    """)
    assert out["res"] == {k: ["err", "ParameterError"] for k in out["res"]}, out["res"]
    assert out["answers"]


# ---- Python code run during the conversion changes the container --------------------

CALLBACKS = """
    import datetime, decimal, gc
    from psqlpy import extra_types

    victim = []           # the list being converted; each callback empties it

    def wreck():
        victim.clear()
        gc.collect()
        return ["Z" * 200 + str(n) for n in range(2000)]   # reuse the freed memory

    class Dec(decimal.Decimal):
        def __str__(self):
            wreck()
            return decimal.Decimal.__str__(self)

    class Zone(datetime.tzinfo):
        def utcoffset(self, dt):
            wreck()
            return datetime.timedelta(hours=1)
        def dst(self, dt):
            return None

    class Pinned(extra_types.Float64):
        @property
        def __pg_type_oid__(self):
            wreck()
            return 701

    class Shifty:
        @property
        def __class__(self):          # isinstance() asks for it
            wreck()
            return Shifty
        def __index__(self):
            wreck()
            return 1
        def __float__(self):
            wreck()
            return 1.0
"""


def test_callbacks_emptying_the_list_being_converted(dsn, loop_name):
    out = child(dsn, loop_name, CALLBACKS + """
    tz_is = "'2020-01-02T02:04:05Z'::timestamptz AS v"
    cases = {   # array SQL, element SQL, the list
        "decimal": ("SELECT $1::numeric[]::text AS v", "SELECT $1::numeric::text AS v",
                    lambda: [Dec("1.5")] + [decimal.Decimal(i) for i in range(6)]),
        "tzinfo": ("SELECT ($1::timestamptz[])[1] = " + tz_is,
                   "SELECT $1::timestamptz = " + tz_is,
                   lambda: [datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=Zone())] +
                           [datetime.datetime(2021, 1, 1, tzinfo=datetime.timezone.utc)] * 3),
        "pg_type_oid": ("SELECT $1::float8[]::text AS v", "SELECT $1::text AS v",
                        lambda: [Pinned(1.5), 2.5, 3.5, 4.5]),
        "class": ("SELECT $1::int8[]::text AS v", "SELECT $1::int8 AS v",
                  lambda: [Shifty(), 1, 2, 3]),
        "index": ("SELECT $1::int8[]::text AS v", "SELECT $1::int8 AS v",
                  lambda: [1, Shifty(), 2]),
    }
    res = {}
    for name, (sql, elem_sql, make) in cases.items():
        # as an array, as a row of a 2-D array, and as the parameter list itself
        victim[:] = make()
        res[name] = await outcome(lambda: pool.fetch_row(sql, [victim]))
        victim[:] = make()
        res[name + "/nested"] = await outcome(lambda: pool.fetch_row(sql, [[victim]]))
        victim[:] = make()[:1]
        res[name + "/top"] = await outcome(lambda: pool.fetch_row(elem_sql, victim))
    out["res"] = {k: [v[0], v[1] if v[0] == "err" else v[1].result()] for k, v in res.items()}

    # what a callback raises comes through as ParameterError, caused by it,
    # unless it is no error but a request to stop
    class Raising(decimal.Decimal):
        def __str__(self):
            raise self.exc
    bad = Raising(1)
    for exc in (ValueError("no"), KeyboardInterrupt(), SystemExit(3)):
        bad.exc = exc
        try:
            await pool.execute("SELECT $1::numeric AS v", [[bad]])
        except BaseException as e:
            out.setdefault("raised", []).append(
                [type(e).__name__, type(e.__cause__).__name__ if e.__cause__ else None])

    conn = await pool.connection()
    rows = [[Dec("2.5")], [decimal.Decimal(1)], [decimal.Decimal(2)]]
    def wreck():
        rows.clear(); rows.append(None); gc.collect()
    out["many"] = await outcome(lambda: conn.execute_many("SELECT $1::numeric", rows))
    queries = [("SELECT $1::numeric::text AS v", [Dec("3.5")]), ("SELECT 2 AS v", None)]
    def wreck():
        queries.clear(); gc.collect()
    r = await outcome(lambda: conn.pipeline(queries))
    out["pipe"] = [r[0], r[1] if r[0] == "err" else [x.result() for x in r[1]]]
    conn.close()
    """)
    res = out["res"]
    assert not foreign(res), res
    # captured when the call was made: the values as they were
    assert res["decimal"] == ["ok", {"v": "{1.5,0,1,2,3,4,5}"}]
    assert res["decimal/nested"] == ["ok", {"v": "{{1.5,0,1,2,3,4,5}}"}]
    assert res["decimal/top"] == ["ok", {"v": "1.5"}]
    assert res["tzinfo"] == ["ok", {"v": True}]
    assert res["tzinfo/top"] == ["ok", {"v": True}]
    assert res["pg_type_oid"] == ["ok", {"v": "{1.5,2.5,3.5,4.5}"}]
    assert res["pg_type_oid/top"] == ["ok", {"v": "1.5"}]
    # objects without a codec are refused, whatever their callbacks do
    for name in ("class", "class/nested", "class/top", "index", "index/nested"):
        assert res[name] == ["err", "ParameterError"], (name, res[name])
    assert out["raised"] == [["ParameterError", "ValueError"], ["KeyboardInterrupt", None],
                             ["SystemExit", None]]
    assert out["many"] == ["ok", None]
    assert out["pipe"] == ["ok", [[{"v": "3.5"}], [{"v": 2}]]]
    assert out["answers"]


# ---- text -------------------------------------------------------------------------

def test_lone_surrogates(dsn, loop_name):
    out = child(dsn, loop_name, """
    def cause(e):
        c = e.__cause__
        while c is not None and not isinstance(c, UnicodeError):
            c = c.__cause__
        return type(c).__name__ if c is not None else None
    async def check(make):
        try:
            await make()
            return ["ok"]
        except BaseException as e:
            return [describe(e), cause(e)]
    bad = "caf\\udce9"
    conn = await pool.connection()
    res = {
        "sql": await check(lambda: pool.execute("SELECT '%s' AS v" % bad)),
        "sql/fetch_row": await check(lambda: pool.fetch_row("SELECT '%s' AS v" % bad)),
        "sql/conn": await check(lambda: conn.execute("SELECT '%s' AS v" % bad)),
        "sql/many": await check(lambda: conn.execute_many("SELECT $1::text -- %s" % bad, [["a"]])),
        "sql/pipeline": await check(lambda: conn.pipeline([("SELECT 1", None), ("SELECT '%s'" % bad, None)])),
        "param": await check(lambda: pool.execute("SELECT $1::text AS v", [bad])),
        "param/untyped": await check(lambda: pool.execute("SELECT $1 AS v", [bad])),
        "param/array": await check(lambda: pool.execute("SELECT $1::text[] AS v", [["a", bad]])),
        "param/json key": await check(lambda: pool.execute("SELECT $1::jsonb AS v", [{bad: 1}])),
        "param/many": await check(lambda: conn.execute_many("SELECT $1::text", [["a"], [bad]])),
        "param/pipeline": await check(lambda: conn.pipeline([("SELECT $1::text", [bad])])),
    }
    async with conn.transaction() as tx:
        res["savepoint"] = await check(lambda: tx.savepoint("sp" + bad))
        res["cursor"] = await check(lambda: tx.cursor("SELECT '%s'" % bad))
        res["tx/execute"] = await check(lambda: tx.execute("SELECT '%s'" % bad))
    conn.close()
    out["res"] = res
    """)
    res = out["res"]
    for key, got in res.items():
        assert got[0] != "ok" and not got[0].startswith("!"), (key, got)
    for key in ("sql", "sql/fetch_row", "sql/conn", "sql/many", "sql/pipeline", "cursor",
                "tx/execute", "savepoint"):
        assert res[key] == ["InterfaceError", "UnicodeEncodeError"], (key, res[key])
    for key in ("param", "param/untyped", "param/array", "param/json key", "param/many",
                "param/pipeline"):
        assert res[key] == ["ParameterError", "UnicodeEncodeError"], (key, res[key])
    assert out["answers"]


def test_nul_characters(dsn, loop_name):
    out = child(dsn, loop_name, """
    res = {
        # libpq would cut the text at the NUL and run "SELECT 1 AS v"
        "sql": await outcome(lambda: pool.execute("SELECT 1 AS v\\x00; SELECT 2")),
        "param": await outcome(lambda: pool.execute("SELECT $1::text AS v", ["a\\x00b"])),
        "array": await outcome(lambda: pool.execute("SELECT $1::text[] AS v", [["a\\x00"]])),
        "bytes": await outcome(lambda: pool.execute("SELECT $1::bytea AS v", [b"a\\x00b"])),
    }
    conn = await pool.connection()
    async with conn.transaction() as tx:
        res["savepoint"] = await outcome(lambda: tx.savepoint("a\\x00b"))
    conn.close()
    out["res"] = {k: [v[0], v[1] if v[0] == "err" else v[1].result()] for k, v in res.items()}
    """)
    res = out["res"]
    assert res["sql"] == ["err", "InterfaceError"]
    assert res["param"] == ["err", "ParameterError"]
    assert res["array"] == ["err", "ParameterError"]
    assert res["bytes"][0] == "ok"
    assert res["savepoint"] == ["err", "TransactionError"]
    assert out["answers"]


# ---- numbers, nesting, objects without a codec ----------------------------------------

def test_values_out_of_range_deep_and_without_a_codec(dsn, loop_name):
    out = child(dsn, loop_name, """
    import types
    from psqlpy import extra_types
    deep = []
    for _ in range(10000):
        deep = [deep]
    loop_list = []
    loop_list.append(loop_list)
    loop_dict = {}
    loop_dict["self"] = loop_dict
    class Plain:
        pass
    def gen():
        yield 1
    cases = {
        "int8 2**63": ("SELECT $1::int8 AS v", [2 ** 63]),
        "int8 -2**63-1": ("SELECT $1::int8 AS v", [-2 ** 63 - 1]),
        "int4 2**40": ("SELECT $1::int4 AS v", [2 ** 40]),
        "int2 in array": ("SELECT $1::int2[] AS v", [[1, 2 ** 20]]),
        "float8 2**1100": ("SELECT $1::float8 AS v", [2 ** 1100]),
        "numeric 10**5000": ("SELECT $1::numeric AS v", [10 ** 5000]),
        "SmallInt": ("SELECT $1 AS v", [extra_types.SmallInt(2 ** 16)]),
        "deep list": ("SELECT $1::int[] AS v", [deep]),
        "deep jsonb": ("SELECT $1::jsonb AS v", [extra_types.PyJSON(deep)]),
        "7 dims": ("SELECT $1::int[] AS v", [[[[[[[[1]]]]]]]]),
        "self list": ("SELECT $1::int[] AS v", [loop_list]),
        "self dict": ("SELECT $1::jsonb AS v", [loop_dict]),
        "ragged": ("SELECT $1::int[] AS v", [[[1, 2], [3]]]),
    }
    for i, obj in enumerate([object(), {1, 2}, frozenset(), 1j, lambda: 1, Ellipsis,
                             Plain(), gen(), Plain, types]):
        for sql in ("SELECT $1::text AS v", "SELECT $1::int8 AS v", "SELECT $1 AS v",
                    "SELECT $1::int8[] AS v"):
            cases["%s %s" % (type(obj).__name__, sql)] = (sql, [obj if "[]" not in sql else [obj]])
    res = {}
    for name, (sql, params) in cases.items():
        r = await outcome(lambda: pool.execute(sql, params))
        res[name] = [r[0], r[1] if r[0] == "err" else r[1].result()]
    out["res"] = res
    out["ok"] = (await pool.execute("SELECT $1::numeric AS v, $2::numeric AS w",
                                    [2 ** 63, -2 ** 70])).result()[0]
    """)
    res = out["res"]
    assert not foreign(res), foreign(res)
    for name, got in res.items():
        if name.split(" ")[0] in ("object", "set", "frozenset", "complex", "function",
                                  "ellipsis", "Plain", "generator", "type", "module"):
            assert got == ["err", "ParameterError"], (name, got)
    for name in ("int8 2**63", "int8 -2**63-1", "int4 2**40", "int2 in array", "deep list",
                 "deep jsonb", "7 dims", "self list", "self dict", "numeric 10**5000"):
        assert res[name] == ["err", "ParameterError"], (name, res[name])
    from decimal import Decimal
    assert out["ok"] == {"v": repr(Decimal(2 ** 63)), "w": repr(Decimal(-2 ** 70))}
    assert out["answers"]


# ---- garbage SQL ---------------------------------------------------------------------

def test_garbage_sql(dsn, loop_name):
    out = child(dsn, loop_name, """
    import random
    rng = random.Random(20261205)
    fixed = [
        "SELECT 'abc", 'SELECT "abc', "SELECT $$abc", "SELECT E'\\\\", "SELECT 1 /* open",
        "SELECT $1", "SELECT $2::int", "", " ", ";", ";;;", "SELECT 1; SELECT 2",
        "BEGIN", "COMMIT", "ROLLBACK", "SELECT (" * 1000, ")" * 1000, "\\\\",
        "SELECT '" + "x" * 1000000 + "' AS v",            # 1 MB, valid
        "SELECT " + "x(" * 100000,                         # deep garbage
        "SELECT " + "".join(rng.choice("abc'\\"$;() ") for _ in range(1000000)),
    ]
    sqls = list(fixed)
    for _ in range(150):
        raw = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
        codec = rng.choice(["latin-1", "utf-8/replace", "utf-8/surrogateescape", "ascii/ignore"])
        name, _, errors = codec.partition("/")
        sqls.append(raw.decode(name, errors or "strict"))
        sqls.append("SELECT " + raw.decode("latin-1").replace("\\x00", ""))
    kinds = {}
    for sql in sqls:
        for make in (lambda: pool.execute(sql), lambda: pool.execute(sql, ["p"])):
            r = await outcome(make)
            key = "ok" if r[0] == "ok" else r[1]
            kinds[key] = kinds.get(key, 0) + 1
    out["kinds"] = kinds
    big = (await pool.execute("SELECT length($1::text) AS n", ["y" * 1000000])).result()
    out["big"] = big[0]["n"]
    """)
    kinds = out["kinds"]
    assert not [k for k in kinds if k.startswith("!")], kinds
    assert "ConnectionFailedError" not in kinds, kinds
    assert kinds.get("InterfaceError", 0) > 0     # NULs and surrogates
    assert kinds.get("ProgrammingError", 0) > 0   # syntax errors
    assert out["big"] == 1000000
    assert out["answers"]


# ---- a pool used away from its event loop ----------------------------------------------

def test_pool_used_outside_the_loop_it_started_on(dsn, loop_name):
    out = run_child(dsn, loop_name, """
    import threading
    pool = psqlpy.PSQLPool(dsn=DSN, max_db_pool_size=1)
    res = {}
    def no_loop(fn):
        # a thread with no event loop, as at the top of a script
        r = []
        def run():
            try:
                fn()
                r.append("returned")
            except BaseException as e:
                r.append(describe(e))
        t = threading.Thread(target=run)
        t.start()
        t.join()
        return r[0]
    # asyncio.run(pool.startup()) calls startup() before any loop runs
    res["startup, no loop"] = no_loop(pool.startup)
    in_thread = []
    def other_loop(make):
        # what a second asyncio.run() (or another thread's loop) would do
        def run():
            new = asyncio.new_event_loop()
            try:
                new.run_until_complete(make())
                in_thread.append("returned")
            except BaseException as e:
                in_thread.append(describe(e))
            finally:
                new.close()
        t = threading.Thread(target=run)
        t.start()
        t.join()
        return in_thread.pop()
    await pool.startup()
    conn = await pool.connection()
    res["execute, other loop"] = other_loop(lambda: pool.execute("SELECT 1"))
    res["fetch_row, other loop"] = other_loop(lambda: pool.fetch_row("SELECT 1"))
    res["connection, other loop"] = other_loop(lambda: pool.connection())
    res["startup, other loop"] = other_loop(lambda: pool.startup())
    res["lent connection, other loop"] = other_loop(lambda: conn.execute("SELECT 1"))
    res["execute_many, other loop"] = other_loop(lambda: conn.execute_many("SELECT $1::int", [[1]]))
    res["execute, no loop"] = no_loop(lambda: pool.execute("SELECT 1"))
    res["pipeline, no loop"] = no_loop(lambda: conn.pipeline([("SELECT 1", None)]))
    out["res"] = res
    out["conn"] = (await conn.execute("SELECT 2 AS v")).result()
    conn.close()
    out["answers"] = await answers(pool)
    await pool.close()
    """).out
    res = out["res"]
    assert res == {k: "InterfaceError" for k in res}, res
    assert len(res) == 9
    assert out["conn"] == [{"v": 2}]
    assert out["answers"]
