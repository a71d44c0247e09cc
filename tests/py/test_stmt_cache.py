"""The per-connection statement cache when the server invalidates a cached
statement: a table changed under a cached `SELECT *` (0A000 "cached plan
must not change result type"), or the statements deallocated by the user
(26000).  The failing call reports the server's error; the statement is
then prepared again, so the next call on the same connection answers with
the table's new shape, and keeps doing so."""

from __future__ import annotations

import pytest

from helpers import assert_pool_answers, backend_pid, observer, open_pool  # noqa: F401
from helpers3 import scratch_table
from psqlpy import exceptions as exc


@pytest.fixture
async def single(dsn):
    async with open_pool(dsn, max_db_pool_size=1) as p:
        yield p


async def _first_call_after_change(call):
    """The first call after the table changed: the server refuses the cached
    plan (0A000); the driver may also have re-prepared already.  Returns the
    result, or None when it failed as the server says."""
    try:
        return await call()
    except exc.NotSupportedError as e:
        assert e.sqlstate == "0A000"
        assert "cached plan must not change result type" in str(e)
        return None


def _rows(result):
    return result.result()


@pytest.mark.parametrize("change, new_row", [
    ("ADD COLUMN extra text DEFAULT 'new'", {"id": 1, "v": "one", "extra": "new"}),
    ("ALTER COLUMN v TYPE varchar(10)", {"id": 1, "v": "one"}),
    ("DROP COLUMN v", {"id": 1}),
], ids=["add-column", "change-type", "drop-column"])
async def test_execute_reprepares_after_alter_table(single, observer, change, new_row):
    async with scratch_table(single) as t:
        await single.execute(f"INSERT INTO {t} VALUES (1, 'one')")
        sql = f"SELECT * FROM {t} ORDER BY id"
        async with await single.connection() as conn:
            pid = await backend_pid(conn)
            for _ in range(2):            # prepared and cached, then reused
                assert _rows(await conn.execute(sql)) == [{"id": 1, "v": "one"}]
            await observer.execute(f"ALTER TABLE {t} {change}")
            first = await _first_call_after_change(lambda: conn.execute(sql))
            if first is not None:
                assert _rows(first) == [new_row]
            for _ in range(3):
                assert _rows(await conn.execute(sql)) == [new_row]
            res = await conn.fetch_row(sql)
            assert res.result() == new_row
            assert await backend_pid(conn) == pid     # the same session all along
        await assert_pool_answers(single)


async def test_fetch_row_reprepares_after_alter_table(single, observer):
    async with scratch_table(single) as t:
        await single.execute(f"INSERT INTO {t} VALUES (1, 'one')")
        sql = f"SELECT * FROM {t} WHERE id = $1"
        assert (await single.fetch_row(sql, [1])).result() == {"id": 1, "v": "one"}
        await observer.execute(f"ALTER TABLE {t} ADD COLUMN n int DEFAULT 7")
        first = await _first_call_after_change(lambda: single.fetch_row(sql, [1]))
        want = {"id": 1, "v": "one", "n": 7}
        if first is not None:
            assert first.result() == want
        assert (await single.fetch_row(sql, [1])).result() == want
        assert (await single.fetch_row(sql, [1])).result() == want


@pytest.mark.parametrize("kind", ["pipeline", "execute_many"])
async def test_batches_reprepare_after_alter_table(single, observer, kind):
    async with scratch_table(single) as t:
        await single.execute(f"INSERT INTO {t} VALUES (1, 'one'), (2, 'two')")
        sql = f"SELECT * FROM {t} WHERE id = $1"
        async with await single.connection() as conn:
            async def run():
                if kind == "pipeline":
                    out = await conn.pipeline([(sql, [1]), ("SELECT 5 AS five", None),
                                               (sql, [2])])
                    return [r.result() for r in out]
                await conn.execute_many(sql, [[1], [2]])
                return None

            await run()
            await run()
            await observer.execute(f"ALTER TABLE {t} ADD COLUMN flag bool DEFAULT true")
            try:
                await run()
            except exc.NotSupportedError as e:
                assert e.sqlstate == "0A000"
                assert e.index == 0
            for _ in range(2):
                out = await run()
                if kind == "pipeline":
                    assert out == [[{"id": 1, "v": "one", "flag": True}], [{"five": 5}],
                                   [{"id": 2, "v": "two", "flag": True}]]
            # the statement is shared with plain execute() on this connection
            res = await conn.execute(sql, [2])
            assert res.result() == [{"id": 2, "v": "two", "flag": True}]


async def test_reprepare_inside_a_transaction(single, observer):
    """In a transaction block the refused plan fails the transaction, as
    any error does; after the rollback the statement works again."""
    async with scratch_table(single) as t:
        await single.execute(f"INSERT INTO {t} VALUES (1, 'one')")
        sql = f"SELECT * FROM {t}"
        async with await single.connection() as conn:
            assert _rows(await conn.execute(sql)) == [{"id": 1, "v": "one"}]
            await observer.execute(f"ALTER TABLE {t} ADD COLUMN z int DEFAULT 0")
            tx = conn.transaction()
            await tx.begin()
            try:
                first = await tx.execute(sql)
            except exc.NotSupportedError as e:
                assert e.sqlstate == "0A000"
                await tx.rollback()
                tx = conn.transaction()
                await tx.begin()
            else:
                assert _rows(first) == [{"id": 1, "v": "one", "z": 0}]
            assert _rows(await tx.execute(sql)) == [{"id": 1, "v": "one", "z": 0}]
            await tx.commit()
            assert _rows(await conn.execute(sql)) == [{"id": 1, "v": "one", "z": 0}]


async def test_deallocate_all_by_the_user(single):
    """The user's DEALLOCATE ALL removes the driver's statements from the
    server: the cache notices (26000 at worst, once) and prepares them again."""
    async with await single.connection() as conn:
        sql = "SELECT $1::int4 + 1 AS n"
        assert _rows(await conn.execute(sql, [1])) == [{"n": 2}]
        await conn.execute("DEALLOCATE ALL")
        try:
            res = await conn.execute(sql, [2])
        except exc.ProgrammingError as e:
            assert e.sqlstate == "26000"
        else:
            assert _rows(res) == [{"n": 3}]
        for i in range(3, 6):
            assert _rows(await conn.execute(sql, [i])) == [{"n": i + 1}]
    await assert_pool_answers(single)
