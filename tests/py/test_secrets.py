"""Secrets: a distinctive password never shows.

Not in the repr/str of any object psqlpy hands out, any exception's message,
args, attributes or __cause__/__context__ chain, nor in anything written to
stdout/stderr (log lines at DEBUG, asyncio debug mode, unraisable-exception
reports) -- for good DSNs (URI and key=value), keyword arguments, a wrong
password, and malformed DSNs and arguments of every kind libpq complains
about.  It runs in a fresh interpreter (childproc.py) so that everything it
writes can be searched; the password travels in an environment variable.
"""

from __future__ import annotations

import os
from urllib.parse import quote

import psqlpy
import pytest

from childproc import run_child

# ':' and '$' make the URI form percent-encode it; no piece of it may leak.
PASSWORD = "Zq7x$ecret:Pw9"
ROLE = "psqlpy_hidden_role"
FRAGMENTS = ("Zq7x", "ecret", "Pw9", quote(PASSWORD, safe=""))


@pytest.fixture
async def secret_role(dsn):
    """A login role whose password is PASSWORD."""
    pool = psqlpy.PSQLPool(dsn=dsn, max_db_pool_size=1)
    await pool.startup()
    try:
        await pool.execute(f"DROP ROLE IF EXISTS {ROLE}")
        await pool.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}'")
        yield ROLE
        await pool.execute(f"DROP ROLE {ROLE}")   # its sessions ended with the child
    finally:
        await pool.close()


BODY = r'''
import gc, logging, os, traceback, warnings
from urllib.parse import quote, urlsplit
logging.basicConfig(level=logging.DEBUG)
warnings.simplefilter("always")
asyncio.get_running_loop().set_debug(True)
PW, ROLE = os.environ["SECRET_PW"], os.environ["SECRET_ROLE"]
ENC = quote(PW, safe="")
u = urlsplit(DSN)
HOST, PORT, DB = u.hostname, u.port, u.path.lstrip("/")
texts = out.setdefault("texts", [])
seen = set()

def look(obj, what):
    """str, repr and plain attributes of obj (an exception: its whole chain)."""
    if id(obj) in seen:
        return
    seen.add(id(obj))
    for f in (str, repr):
        try:
            texts.append([what, f(obj)])
        except Exception as e:
            texts.append([what, "str/repr raised " + type(e).__name__])
    if isinstance(obj, BaseException):
        texts.append([what + ".args", repr(obj.args)])
        texts.append([what + " traceback", "".join(traceback.format_exception(obj))])
        for k, v in getattr(obj, "__dict__", {}).items():
            texts.append([what + "." + k, repr(v)])
        for link in ("__cause__", "__context__"):
            if getattr(obj, link) is not None:
                look(getattr(obj, link), what + "." + link)
        return
    for name in dir(obj):
        if name.startswith("__"):
            continue
        try:
            v = getattr(obj, name)
        except Exception as e:
            look(e, what + "." + name + " raised")
            continue
        if not callable(v):
            texts.append([what + "." + name, repr(v)])

async def use(pool, what):
    await pool.startup()
    look(pool, what)
    look(pool.status(), what + ".status()")
    res = await pool.execute("SELECT current_user AS u, $1::text AS t", ["x"])
    look(res, what + " result")
    out.setdefault("users", []).append(res.result()[0]["u"])
    look(await pool.fetch_row("SELECT 1 AS one"), what + " row")
    for sql in ("SELECT 1/0", "SELECT * FROM no_such_table", "SELECT 1 WHERE false"):
        try:
            await pool.fetch_row(sql)
        except BaseException as e:
            look(e, what + " " + sql)
    conn = await pool.connection()
    look(conn, what + " connection")
    async with conn.transaction() as tx:
        look(tx, what + " transaction")
        cur = await tx.cursor("SELECT generate_series(1, 3) AS n", fetch_number=2)
        look(cur, what + " cursor")
        look(await cur.fetch(), what + " fetched")
        await cur.close()
    conn.close()
    await pool.close()
    look(pool, what + " closed")

kv = "host=%s port=%s dbname=%s user=%s password='%s'" % (HOST, PORT, DB, ROLE, PW)
await use(psqlpy.PSQLPool(dsn="postgresql://%s:%s@%s:%s/%s" % (ROLE, ENC, HOST, PORT, DB)),
          "uri")
await use(psqlpy.PSQLPool(dsn=kv), "kv")
await use(psqlpy.PSQLPool(username=ROLE, password=PW, host=HOST, port=PORT, db_name=DB),
          "kwargs")

# a wrong password (it contains the right one)
for what, make in [
    ("wrong uri", lambda: psqlpy.PSQLPool(
        dsn="postgresql://%s:%s@%s:%s/%s" % (ROLE, ENC + "x", HOST, PORT, DB))),
    ("wrong kwargs", lambda: psqlpy.PSQLPool(username=ROLE, password=PW + "x", host=HOST,
                                             port=PORT, db_name=DB)),
]:
    pool = make()
    try:
        await pool.startup()
        out.setdefault("wrong_connected", []).append(what)
    except BaseException as e:
        out.setdefault("wrong", []).append(type(e).__name__)
        look(e, what)
    look(pool, what + " pool")
    await pool.close()

# malformed: the password is quoted by libpq's message unless masked
uri_host = "%s:%s" % (HOST, PORT)
bad_dsns = [
    "postgresql://u:%s%%zz@%s/db" % (ENC, uri_host),
    "postgresql://u:%s%%00@%s/db" % (ENC, uri_host),
    "postgresql://u:%s@[::1/db" % ENC,
    "postgresql://u:%s@[]/db" % ENC,
    "postgresql://u:%s@%s/db?port=abc" % (ENC, uri_host),
    "postgresql://u:%s@%s:5432x/db" % (ENC, HOST),
    "postgresql://u:%s@%s/db?x%%zz=1" % (ENC, uri_host),
    "postgresql://u:%s@%s/db?bogus=1" % (ENC, uri_host),
    "postgresql://%s/db?password=%s%%zz" % (uri_host, ENC),
    "postgresql://%s/db?password=%s&port=x" % (uri_host, ENC),
    "host=h password='%s" % PW,
    "host=h password=%s port=abc" % PW,
    "host=h password=%s bogus=1" % PW,
    "host=h password=my %s" % PW,
    "host=h password='%s' bogus" % PW,
    "postgresql://u:%s\udc80@h/db" % ENC,
    "postgresql://u:%s\x00@h/db" % ENC,
    "host=h password='%s\udc80'" % PW,
]
bad_kwargs = [
    dict(password=PW + "\udc80"),
    dict(password=PW + "\x00"),
    dict(password=PW, port="x"),
    dict(password=PW, port=70000),
    dict(password=PW, max_db_pool_size=0),
    dict(password=PW, conn_recycling_method="x"),
    dict(dsn=("postgresql://u:%s@h/db" % ENC).encode()),
    dict(dsn=["postgresql://u:%s@h/db" % ENC]),
]
for i, d in enumerate(bad_dsns):
    bad_kwargs.append(dict(dsn=d))
for i, kw in enumerate(bad_kwargs):
    try:
        psqlpy.PSQLPool(**kw)
        out.setdefault("accepted", []).append(i)
    except BaseException as e:
        out.setdefault("refused", []).append(type(e).__name__)
        look(e, "malformed %d" % i)
gc.collect()
'''


def test_password_never_shows(dsn, loop_name, secret_role):
    env = dict(os.environ, SECRET_PW=PASSWORD, SECRET_ROLE=secret_role, PYTHONASYNCIODEBUG="1",
               PYTHONDEVMODE="1")
    res = run_child(dsn, loop_name, BODY, env=env)
    out = res.out
    assert len(out["texts"]) > 100
    leaks = [(what, text) for what, text in out["texts"]
             if any(f in text for f in FRAGMENTS)]
    assert not leaks, leaks[:5]
    for stream in (res.stdout, res.stderr):
        for f in FRAGMENTS:
            assert f not in stream
    assert out["users"] == [ROLE] * 3               # the good configurations worked
    assert out["wrong"] == ["ConnectionFailedError"] * 2
    assert "accepted" not in out, out["accepted"]
    assert set(out["refused"]) == {"PoolConfigurationError"}, out["refused"]
