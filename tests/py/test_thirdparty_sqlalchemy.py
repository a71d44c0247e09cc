"""psqlpy-sqlalchemy (the SQLAlchemy 2.0 dialect written for psqlpy 0.13)
on this package: an async ORM application of our own against the test
server, through ``postgresql+psqlpy://`` URLs.

The dialect talks to the 0.13 API (``psqlpy.connect()``, a Transaction
begun beside the Connection, ``prepare()`` and ``columns()`` for the
result description, ``row_factory(tuple_row)``, ``Cursor`` for streamed
results) and maps every driver error through SQLAlchemy's DB-API
translation, so these tests hold that API to what a real client needs.
The package is installed ``--no-deps`` by scripts/setup.sh (see
tests/py/requirements-thirdparty.txt); a missing one fails the import.
"""

from __future__ import annotations

import asyncio
import datetime
import decimal
import uuid
from typing import Any, AsyncIterator

import psqlpy_sqlalchemy  # noqa: F401  (fails loudly when not installed)
import pytest
import sqlalchemy.exc
from sqlalchemy import (ForeignKey, Integer, Numeric, String, UniqueConstraint,
                        delete, func, insert, select, text, update)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, joinedload, mapped_column, relationship, \
    selectinload

from psqlpy import exceptions


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "tp_sa_author"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    books: Mapped[list[Book]] = relationship(back_populates="author",
                                             cascade="all, delete-orphan",
                                             order_by="Book.title")


class Book(Base):
    __tablename__ = "tp_sa_book"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    pages: Mapped[int]
    price: Mapped[decimal.Decimal] = mapped_column(Numeric(8, 2))
    author_id: Mapped[int] = mapped_column(ForeignKey("tp_sa_author.id"))
    author: Mapped[Author] = relationship(back_populates="books")
    __table_args__ = (UniqueConstraint("author_id", "title", name="tp_sa_book_title_uq"),)


class Event(Base):
    """One column of each type an application commonly maps (not
    LargeBinary: the dialect's DB-API module has no Binary())."""
    __tablename__ = "tp_sa_event"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    at: Mapped[datetime.datetime]
    at_tz: Mapped[datetime.datetime] = mapped_column(
        sqlalchemy.DateTime(timezone=True))
    day: Mapped[datetime.date]
    amount: Mapped[decimal.Decimal] = mapped_column(Numeric(12, 4))
    ratio: Mapped[float]
    ok: Mapped[bool]
    label: Mapped[str]
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    seq: Mapped[int] = mapped_column(Integer)


@pytest.fixture
async def engine(dsn: str) -> AsyncIterator[AsyncEngine]:
    # A small pool, so that concurrent sessions also wait for connections.
    # Two settings the dialect needs whatever the driver (docs/migrating.md,
    # "Packages written for psqlpy 0.13"):
    # - json_deserializer: the dialect leaves SQLAlchemy's json.loads on
    #   jsonb values that psqlpy (0.13.1 as ours) hands out decoded;
    # - use_insertmanyvalues=False: SQLAlchemy's multi-row INSERT puts the
    #   values in a VALUES list the dialect casts only for some types, so
    #   the server takes a Numeric or Float parameter there for text, which
    #   psqlpy refuses (0.13.1: TypeError; ours: ParameterError).  Without
    #   it rows go one INSERT ... RETURNING each, or through execute_many.
    eng = create_async_engine(make_url(dsn).set(drivername="postgresql+psqlpy"),
                              pool_size=3, max_overflow=0,
                              json_deserializer=lambda value: value,
                              use_insertmanyvalues=False)
    async with eng.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)
        await conn.run_sync(Base.metadata.create_all)
    try:
        yield eng
    finally:
        async with eng.begin() as conn:
            await conn.run_sync(Base.metadata.drop_all)
        await eng.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def seed(sessions: async_sessionmaker[Any]) -> None:
    async with sessions() as s:
        s.add_all([
            Author(name="Le Guin", books=[
                Book(title="A Wizard of Earthsea", pages=183, price=decimal.Decimal("9.99")),
                Book(title="The Dispossessed", pages=387, price=decimal.Decimal("12.50")),
                Book(title="The Left Hand of Darkness", pages=304,
                     price=decimal.Decimal("11.00"))]),
            Author(name="Lem", books=[
                Book(title="Solaris", pages=204, price=decimal.Decimal("10.25"))]),
            Author(name="Nobody"),
        ])
        await s.commit()


async def test_orm_models_with_relationships(sessions):
    await seed(sessions)
    async with sessions() as s:
        # generated keys came back (INSERT ... RETURNING through the dialect)
        ids = (await s.execute(select(Author.id).order_by(Author.id))).scalars().all()
        assert len(ids) == 3 and len(set(ids)) == 3
        authors = (await s.execute(
            select(Author).options(selectinload(Author.books)).order_by(Author.name)
        )).scalars().all()
        assert [(a.name, [b.title for b in a.books]) for a in authors] == [
            ("Le Guin", ["A Wizard of Earthsea", "The Dispossessed",
                         "The Left Hand of Darkness"]),
            ("Lem", ["Solaris"]),
            ("Nobody", []),
        ]
        # a joined eager load: both tables' columns in one row, told apart by label
        books = (await s.execute(
            select(Book).options(joinedload(Book.author)).order_by(Book.pages)
        )).scalars().all()
        assert [(b.title, b.author.name) for b in books][:2] == [
            ("A Wizard of Earthsea", "Le Guin"), ("Solaris", "Lem")]
        assert all(b.author_id == b.author.id for b in books)


async def test_joins_and_aggregates(sessions):
    await seed(sessions)
    async with sessions() as s:
        rows = (await s.execute(
            select(Author.name, func.count(Book.id), func.sum(Book.pages),
                   func.max(Book.price))
            .outerjoin(Book).group_by(Author.name).order_by(Author.name))).all()
        assert [tuple(r) for r in rows] == [
            ("Le Guin", 3, 874, decimal.Decimal("12.50")),
            ("Lem", 1, 204, decimal.Decimal("10.25")),
            ("Nobody", 0, None, None),
        ]
        long_ones = (await s.execute(
            select(Book.title, Author.name).join(Book.author)
            .where(Book.pages > 250).order_by(Book.title))).all()
        assert [r._asdict() for r in long_ones] == [
            {"title": "The Dispossessed", "name": "Le Guin"},
            {"title": "The Left Hand of Darkness", "name": "Le Guin"},
        ]
        avg = (await s.execute(select(func.avg(Book.price)))).scalar_one()
        assert avg == decimal.Decimal("43.74") / 4
        # a text() statement with named parameters, results by column name
        row = (await s.execute(
            text("SELECT count(*) AS n, min(pages) AS least FROM tp_sa_book "
                 "WHERE price < :limit AND title <> :skip"),
            {"limit": decimal.Decimal("12"), "skip": "Solaris"})).one()
        assert row._mapping["n"] == 2 and row._mapping["least"] == 183


async def test_updates_and_deletes(sessions):
    await seed(sessions)
    async with sessions() as s:
        book = (await s.execute(select(Book).where(Book.title == "Solaris"))).scalar_one()
        book.pages = 210
        await s.commit()
        await s.execute(update(Book).where(Book.price < 11).values(price=Book.price + 1))
        await s.commit()
    async with sessions() as s:
        prices = dict((await s.execute(select(Book.title, Book.price))).tuples().all())
        assert prices == {"A Wizard of Earthsea": decimal.Decimal("10.99"),
                          "The Dispossessed": decimal.Decimal("12.50"),
                          "The Left Hand of Darkness": decimal.Decimal("11.00"),
                          "Solaris": decimal.Decimal("11.25")}
        assert (await s.execute(select(Book.pages).where(Book.title == "Solaris"))
                ).scalar_one() == 210
        # an ORM delete cascades to the author's books
        lem = (await s.execute(select(Author).where(Author.name == "Lem")
                               .options(selectinload(Author.books)))).scalar_one()
        await s.delete(lem)
        await s.commit()
        await s.execute(delete(Author).where(Author.name == "Nobody"))
        await s.commit()
    async with sessions() as s:
        assert (await s.execute(select(Author.name))).scalars().all() == ["Le Guin"]
        assert (await s.execute(select(func.count()).select_from(Book))).scalar_one() == 3


async def test_rollback_and_savepoints(sessions):
    await seed(sessions)
    async with sessions() as s:
        s.add(Author(name="Temporary"))
        await s.flush()                      # sent, inside the open transaction
        assert (await s.execute(select(func.count()).select_from(Author))).scalar_one() == 4
        await s.rollback()
        assert (await s.execute(select(func.count()).select_from(Author))).scalar_one() == 3
    async with sessions() as s:
        with pytest.raises(RuntimeError):
            async with s.begin():
                s.add(Author(name="Gone"))
                await s.flush()
                raise RuntimeError("the block fails: its transaction is rolled back")
    async with sessions() as s:
        async with s.begin():
            s.add(Author(name="Kept"))
            with pytest.raises(RuntimeError):
                async with s.begin_nested():          # SAVEPOINT ... ROLLBACK TO
                    s.add(Author(name="Undone"))
                    await s.flush()
                    raise RuntimeError
        names = (await s.execute(select(Author.name).order_by(Author.name))).scalars().all()
        assert names == ["Kept", "Le Guin", "Lem", "Nobody"]


async def test_integrity_errors_surface_as_sqlalchemys(sessions):
    await seed(sessions)
    async with sessions() as s:
        s.add(Author(name="Lem"))
        with pytest.raises(sqlalchemy.exc.IntegrityError) as ei:
            await s.commit()
        orig = ei.value.orig
        assert isinstance(orig, exceptions.IntegrityError)
        assert orig.sqlstate == "23505"
        assert orig.constraint_name == "tp_sa_author_name_key"
        await s.rollback()
        # a foreign key violation, and the session goes on after each
        s.add(Book(title="Orphan", pages=1, price=1, author_id=999999))
        with pytest.raises(sqlalchemy.exc.IntegrityError) as ei:
            await s.commit()
        assert ei.value.orig.sqlstate == "23503"
        await s.rollback()
        s.add(Author(name="After the errors"))
        await s.commit()
    async with sessions() as s:
        assert (await s.execute(select(func.count()).select_from(Author))).scalar_one() == 4
    # other server errors map by their SQLSTATE class too
    async with sessions() as s:
        with pytest.raises(sqlalchemy.exc.ProgrammingError) as pe:
            await s.execute(text("SELECT * FROM tp_sa_no_such_table"))
        assert pe.value.orig.sqlstate == "42P01"
        await s.rollback()
        with pytest.raises(sqlalchemy.exc.DataError):
            await s.execute(text("SELECT 1 / 0"))


async def test_streamed_results(sessions):
    async with sessions() as s:
        lem = Author(name="Lem")
        s.add(lem)
        await s.flush()
        await s.execute(insert(Book), [
            {"title": f"Volume {i:04d}", "pages": i, "price": decimal.Decimal(i) / 100,
             "author_id": lem.id} for i in range(1, 1201)])
        await s.commit()
    async with sessions() as s:
        # a server-side cursor, fetched a partition at a time
        result = await s.stream(select(Book.pages).order_by(Book.pages)
                                .execution_options(yield_per=250))
        sizes: list[int] = []
        seen: list[int] = []
        async for part in result.partitions():
            sizes.append(len(part))
            seen.extend(p for (p,) in part)
        assert seen == list(range(1, 1201))
        assert sizes == [250, 250, 250, 250, 200]
        # ORM entities streamed one by one
        titles = [b.title async for b in await s.stream_scalars(
            select(Book).where(Book.pages > 1195).order_by(Book.pages))]
        assert titles == [f"Volume {i:04d}" for i in range(1196, 1201)]


async def test_concurrent_sessions(sessions, engine):
    await seed(sessions)

    async def worker(i: int) -> int:
        async with sessions() as s:
            async with s.begin():
                author = (await s.execute(select(Author).where(Author.name == "Lem"))
                          ).scalar_one()
                s.add(Book(title=f"Concurrent {i}", pages=i, price=i, author_id=author.id))
            return (await s.execute(select(func.count()).select_from(Book)
                                    .where(Book.title.like("Concurrent %")))).scalar_one()

    counts = await asyncio.gather(*(worker(i) for i in range(12)))   # 12 sessions, 3 connections
    assert all(1 <= c <= 12 for c in counts) and 12 in counts
    async with sessions() as s:
        titles = (await s.execute(select(Book.title).where(Book.title.like("Concurrent %"))
                                  )).scalars().all()
    assert sorted(titles) == sorted(f"Concurrent {i}" for i in range(12))
    assert engine.pool.checkedout() == 0          # every connection came back


async def test_column_types_round_trip(sessions):
    values = dict(
        at=datetime.datetime(2024, 2, 29, 23, 59, 58, 123456),
        at_tz=datetime.datetime(2024, 5, 6, 7, 8, 9, 654321, tzinfo=datetime.timezone.utc),
        day=datetime.date(1999, 12, 31),
        amount=decimal.Decimal("-12345678.9012"),
        ratio=0.125,
        ok=False,
        label="naïve — ünïcødé",
        payload={"tags": ["a", "b"], "n": 3, "nested": {"x": None}},
        seq=2**31 - 1,
    )
    async with sessions() as s:
        event = Event(**values)
        s.add(event)
        await s.commit()
        key = event.id
    assert isinstance(key, uuid.UUID)
    async with sessions() as s:
        got = (await s.execute(select(Event).where(Event.id == key))).scalar_one()
        assert got.id == key and isinstance(got.id, uuid.UUID)
        for name, value in values.items():
            assert getattr(got, name) == value, name
        # jsonb containment, a parameter bound to jsonb
        hit = (await s.execute(select(func.count()).select_from(Event)
                               .where(Event.payload.contains({"n": 3})))).scalar_one()
        assert hit == 1
