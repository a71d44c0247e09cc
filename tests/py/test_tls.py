"""TLS: a private cluster with ssl = on and certificates this module makes
with openssl (a CA; a server certificate for localhost and 127.0.0.1; a
client certificate for the role certuser, whom pg_hba.conf lets in by
certificate only).  libpq's sslmode, sslrootcert, sslcert and sslkey work
in the DSN and as PSQLPool keywords; a server that fails the check is
refused with ConnectionFailedError."""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from urllib.parse import quote, urlencode

import pytest

import pgcluster
from psqlpy import PSQLPool
from psqlpy import exceptions as exc

CERT_USER = "certuser"
OTHER_USER = "othercert"      # also certificate-only; has no certificate of its own
PROBE = ("SELECT s.ssl, s.client_dn, current_user::text AS usr FROM pg_stat_ssl AS s "
         "WHERE s.pid = pg_backend_pid()")


@contextlib.asynccontextmanager
async def open_pool(**kwargs):
    """A started PSQLPool(**kwargs), closed on leaving the block."""
    pool = PSQLPool(**kwargs)
    await pool.startup()
    try:
        yield pool
    finally:
        await pool.close()


def _openssl(cwd: str, *args: str) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _issue(d: str, name: str, subject: str, ca: str, ext: str) -> None:
    """name.key and name.crt, signed by ca.key/ca.crt, with extensions `ext`."""
    with open(os.path.join(d, f"{name}.ext"), "w") as f:
        f.write(ext)
    _openssl(d, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject)
    _openssl(d, "x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
             "-set_serial", str(secrets.randbits(63)), "-days", "2", "-out", f"{name}.crt",
             "-extfile", f"{name}.ext")
    os.chmod(os.path.join(d, f"{name}.key"), 0o600)


def _ca(d: str, name: str, subject: str) -> None:
    _openssl(d, "req", "-new", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-keyout", f"{name}.key",
             "-out", f"{name}.crt", "-subj", subject,
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")


def make_certificates(d: str) -> None:
    _ca(d, "ca", "/CN=psqlpy test CA")
    _ca(d, "other_ca", "/CN=psqlpy unrelated CA")
    _issue(d, "server", "/CN=localhost", "ca",
           "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
           "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
    _issue(d, "client", f"/CN={CERT_USER}", "ca",
           "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
           "extendedKeyUsage=clientAuth\n")


class TlsCluster(pgcluster.PgCluster):
    """A PgCluster with the server's certificate, key and client CA in its
    data directory, and certuser allowed in by certificate alone."""

    def __init__(self, certs: str) -> None:
        super().__init__(settings={"ssl": "on", "ssl_cert_file": "server.crt",
                                   "ssl_key_file": "server.key", "ssl_ca_file": "ca.crt"})
        self.certs = certs

    def _initdb(self) -> None:
        super()._initdb()
        owner = pwd.getpwnam(self.os_user) if self.os_user else None
        for name in ("server.crt", "server.key", "ca.crt"):
            dst = os.path.join(self.datadir, name)
            shutil.copyfile(os.path.join(self.certs, name), dst)
            os.chmod(dst, 0o600)
            if owner is not None:
                os.chown(dst, owner.pw_uid, owner.pw_gid)
        hba = os.path.join(self.datadir, "pg_hba.conf")
        with open(hba) as f:
            rest = f.read()
        with open(hba, "w") as f:      # first match wins: these come first
            users = f"{CERT_USER},{OTHER_USER}"
            f.write(f"hostssl   all {users} 127.0.0.1/32 cert\n"
                    f"hostnossl all {users} 127.0.0.1/32 reject\n")
            f.write(rest)


@pytest.fixture(scope="module")
def tls():
    """(cluster, certificate directory) for this module's tests."""
    certs = tempfile.mkdtemp(prefix="psqlpy-tls-")
    try:
        make_certificates(certs)
        with TlsCluster(certs) as cluster:
            yield cluster, certs
    finally:
        shutil.rmtree(certs, ignore_errors=True)


@pytest.fixture(scope="module")
def cert_role(tls):
    """certuser exists (created once, as the superuser)."""
    import asyncio

    async def create() -> None:
        async with open_pool(dsn=tls[0].dsn, max_db_pool_size=1) as p:
            await p.execute(f"CREATE ROLE {CERT_USER} LOGIN")
    asyncio.run(create())
    return CERT_USER


def url(cluster, user=None, password=None, host="127.0.0.1", **params) -> str:
    """A postgresql:// URI of the cluster with query parameters `params`."""
    user = quote(user or cluster.user, safe="")
    auth = f"{user}:{quote(password if password is not None else cluster.password, safe='')}@"
    if password == "":
        auth = f"{user}@"
    query = urlencode(params)
    return f"postgresql://{auth}{host}:{cluster.port}/{cluster.dbname}" + (
        f"?{query}" if query else "")


def kw(cluster, **extra) -> dict:
    """PSQLPool keywords for the cluster's superuser, plus `extra`."""
    return dict(host="127.0.0.1", port=cluster.port, username=cluster.user,
                password=cluster.password, db_name=cluster.dbname, max_db_pool_size=1, **extra)


async def probe(**pool_kwargs) -> dict:
    async with open_pool(**pool_kwargs) as p:
        return (await p.fetch_row(PROBE)).result()


async def refused(**pool_kwargs) -> exc.ConnectionFailedError:
    p = PSQLPool(**pool_kwargs)
    try:
        with pytest.raises(exc.ConnectionFailedError) as info:
            await p.startup()
    finally:
        await p.close()
    return info.value


def _files(certs: str, *names: str) -> list:
    return [os.path.join(certs, n) for n in names]


# ---------------------------------------------------------------------------
# sslmode


@pytest.mark.parametrize("style", ["dsn", "keywords"])
async def test_require_encrypts_and_disable_does_not(tls, style):
    cluster, _ = tls
    for mode, want in (("require", True), ("disable", False)):
        if style == "dsn":
            row = await probe(dsn=url(cluster, sslmode=mode), max_db_pool_size=1)
        else:
            row = await probe(**kw(cluster, sslmode=mode))
        assert row["ssl"] is want, mode
        assert row["usr"] == cluster.user


@pytest.mark.parametrize("style", ["dsn", "keywords"])
async def test_verify_ca(tls, style):
    cluster, certs = tls
    ca, other = _files(certs, "ca.crt", "other_ca.crt")
    if style == "dsn":
        row = await probe(dsn=url(cluster, sslmode="verify-ca", sslrootcert=ca),
                          max_db_pool_size=1)
        e = await refused(dsn=url(cluster, sslmode="verify-ca", sslrootcert=other))
    else:
        row = await probe(**kw(cluster, sslmode="verify-ca", sslrootcert=ca))
        e = await refused(**kw(cluster, sslmode="verify-ca", sslrootcert=other))
    assert row["ssl"] is True
    assert "certificate verify failed" in str(e)


async def test_verify_full_checks_the_host_name(tls):
    cluster, certs = tls
    (ca,) = _files(certs, "ca.crt")
    # the certificate names 127.0.0.1 and localhost
    row = await probe(dsn=url(cluster, sslmode="verify-full", sslrootcert=ca),
                      max_db_pool_size=1)
    assert row["ssl"] is True
    row = await probe(dsn=url(cluster, host="localhost", hostaddr="127.0.0.1",
                              sslmode="verify-full", sslrootcert=ca), max_db_pool_size=1)
    assert row["ssl"] is True
    row = await probe(**kw(cluster, sslmode="verify-full", sslrootcert=ca))
    assert row["ssl"] is True
    # the same server under a name its certificate does not carry
    wrong = url(cluster, host="wrong.invalid", hostaddr="127.0.0.1", sslmode="verify-full",
                sslrootcert=ca)
    e = await refused(dsn=wrong, max_db_pool_size=1)
    assert "does not match host name" in str(e) and "wrong.invalid" in str(e)
    # verify-ca does not look at the name
    row = await probe(dsn=wrong.replace("verify-full", "verify-ca"), max_db_pool_size=1)
    assert row["ssl"] is True


async def test_verify_full_refuses_an_unknown_ca(tls):
    cluster, certs = tls
    (other,) = _files(certs, "other_ca.crt")
    e = await refused(**kw(cluster, sslmode="verify-full", sslrootcert=other))
    assert "certificate verify failed" in str(e)


# ---------------------------------------------------------------------------
# client certificates


@pytest.mark.parametrize("style", ["dsn", "keywords"])
async def test_client_certificate_authenticates(tls, cert_role, style):
    cluster, certs = tls
    ca, crt, key = _files(certs, "ca.crt", "client.crt", "client.key")
    tls_opts = dict(sslmode="verify-full", sslrootcert=ca, sslcert=crt, sslkey=key)
    if style == "dsn":
        row = await probe(dsn=url(cluster, user=cert_role, password="", **tls_opts),
                          max_db_pool_size=1)
    else:
        row = await probe(host="127.0.0.1", port=cluster.port, username=cert_role,
                          db_name=cluster.dbname, max_db_pool_size=1, **tls_opts)
    assert row == {"ssl": True, "client_dn": f"/CN={cert_role}", "usr": cert_role}


async def test_certificate_only_role_without_a_certificate_is_refused(tls, cert_role):
    cluster, certs = tls
    (ca,) = _files(certs, "ca.crt")
    # no client certificate (and none from ~/.postgresql): the server refuses
    e = await refused(host="127.0.0.1", port=cluster.port, username=cert_role,
                      db_name=cluster.dbname, sslmode="verify-full", sslrootcert=ca,
                      sslcert=os.path.join(certs, "none.crt"),
                      sslkey=os.path.join(certs, "none.key"))
    assert "certificate" in str(e)
    # nor without TLS at all
    e = await refused(host="127.0.0.1", port=cluster.port, username=cert_role,
                      db_name=cluster.dbname, sslmode="disable")
    assert cert_role in str(e)


async def test_client_certificate_of_another_user_is_refused(tls, cert_role):
    """The certificate's CN must be the role logging in."""
    cluster, certs = tls
    ca, crt, key = _files(certs, "ca.crt", "client.crt", "client.key")
    async with open_pool(dsn=cluster.dsn, max_db_pool_size=1) as admin:
        await admin.execute(f"CREATE ROLE {OTHER_USER} LOGIN")
        try:
            e = await refused(host="127.0.0.1", port=cluster.port, username=OTHER_USER,
                              db_name=cluster.dbname, sslmode="verify-full", sslrootcert=ca,
                              sslcert=crt, sslkey=key)
            assert "certificate authentication failed" in str(e) and OTHER_USER in str(e)
        finally:
            await admin.execute(f"DROP ROLE {OTHER_USER}")


# ---------------------------------------------------------------------------
# keywords and DSN together


async def test_a_dsn_setting_wins_over_the_keyword(tls):
    """As for the other keywords, what the DSN says wins; the TLS keywords
    still apply to what it leaves out."""
    cluster, certs = tls
    (ca,) = _files(certs, "ca.crt")
    row = await probe(dsn=url(cluster, sslmode="disable"), sslmode="require",
                      max_db_pool_size=1)
    assert row["ssl"] is False
    row = await probe(dsn=url(cluster), sslmode="require", max_db_pool_size=1)
    assert row["ssl"] is True
    # keyword sslrootcert with the DSN's verify-full
    row = await probe(dsn=url(cluster, sslmode="verify-full"), sslrootcert=ca,
                      max_db_pool_size=1)
    assert row["ssl"] is True


async def test_bad_tls_keywords(tls):
    cluster, _ = tls
    with pytest.raises(exc.PoolConfigurationError):
        PSQLPool(**kw(cluster, sslmode="verify-full\0"))
    e = await refused(**kw(cluster, sslmode="sometimes"))
    assert "sslmode" in str(e)
