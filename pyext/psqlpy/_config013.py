"""ConnectionPool's keyword arguments (the psqlpy 0.13 API) as libpq parameters.

Everything is checked when the pool is made (ConnectionPoolConfigurationError
or, for a DSN that does not parse, ConnectionPoolBuildError); the result is
one libpq conninfo string that the C pool connects with.  A DSN is parsed
here (URI or ``key=value`` form) so that the separate arguments can override
its parts, as in psqlpy 0.13.
"""

from __future__ import annotations

import math
import re
from typing import Any, Sequence
from urllib.parse import parse_qsl, unquote

from psqlpy._enums import LoadBalanceHosts, SslMode, TargetSessionAttrs
from psqlpy.exceptions import ConnectionPoolBuildError, ConnectionPoolConfigurationError

__all__ = ["PoolConfig", "build_config"]

_SSL = {
    SslMode.Disable: "disable", SslMode.Allow: "allow", SslMode.Prefer: "prefer",
    SslMode.Require: "require", SslMode.VerifyCa: "verify-ca",
    SslMode.VerifyFull: "verify-full",
}
_TSA = {
    TargetSessionAttrs.Any: "any", TargetSessionAttrs.ReadWrite: "read-write",
    TargetSessionAttrs.ReadOnly: "read-only",
}
_KV = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*('(?:[^'\\]|\\.)*'|[^\s']*)")


def _parse_keyword_dsn(dsn: str) -> dict[str, str]:
    out: dict[str, str] = {}
    pos = 0
    while pos < len(dsn):
        if not dsn[pos:].strip():
            break
        m = _KV.match(dsn, pos)
        if m is None:
            raise ConnectionPoolBuildError(f"invalid DSN {dsn!r}: expected key=value at {pos}")
        key, value = m.group(1), m.group(2)
        if value.startswith("'"):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        out[key] = value
        pos = m.end()
    return out


def _parse_uri(dsn: str) -> dict[str, str]:
    rest = dsn.split("://", 1)[1]
    out: dict[str, str] = {}
    rest, _, query = rest.partition("?")
    netloc, _, path = rest.partition("/")
    if "@" in netloc:
        userinfo, _, netloc = netloc.rpartition("@")
        user, sep, password = userinfo.partition(":")
        if user:
            out["user"] = unquote(user)
        if sep:
            out["password"] = unquote(password)
    hosts, ports = [], []
    for part in netloc.split(",") if netloc else []:
        if part.startswith("["):
            host, _, port = part[1:].partition("]")
            port = port[1:] if port.startswith(":") else ""
        else:
            host, _, port = part.partition(":")
        hosts.append(unquote(host))
        ports.append(port)
    if any(hosts):
        out["host"] = ",".join(hosts)
    if any(ports):
        out["port"] = ",".join(ports)
    if path:
        out["dbname"] = unquote(path)
    for key, value in parse_qsl(query, keep_blank_values=True):
        out[key] = value
    return out


def parse_dsn(dsn: str) -> dict[str, str]:
    """libpq parameters of a DSN (URI or key=value); ConnectionPoolBuildError if it
    cannot be one."""
    if not isinstance(dsn, str):
        raise ConnectionPoolBuildError(f"dsn must be a str, got {dsn!r}")
    if dsn.startswith(("postgresql://", "postgres://")):
        return _parse_uri(dsn)
    return _parse_keyword_dsn(dsn)


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _seconds(name: str, sec: Any, nanosec: Any) -> float | None:
    """sec + nanosec/1e9; a *_nanosec alone is refused (as psqlpy 0.13 does)."""
    if sec is None:
        if nanosec is not None:
            raise ConnectionPoolConfigurationError(
                f"{name}_nanosec must be used with {name}_sec")
        return None
    for what, v in ((f"{name}_sec", sec), (f"{name}_nanosec", nanosec)):
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 0):
            raise ConnectionPoolConfigurationError(
                f"{what} must be a non-negative int, got {v!r}")
    return float(sec) + (nanosec or 0) / 1e9


def _str_list(name: str, value: Any) -> list[str]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or not value:
        raise ConnectionPoolConfigurationError(f"{name} must be a non-empty list, got {value!r}")
    return [str(v) for v in value]


def _port(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise ConnectionPoolConfigurationError(f"port must be an int in 1..65535, got {value!r}")
    return str(value)


class PoolConfig:
    """The checked settings of one ConnectionPool."""

    __slots__ = ("params", "max_size", "recycling", "load_balance")

    def __init__(self, params: dict[str, str], max_size: int, recycling: Any,
                 load_balance: bool) -> None:
        self.params = params
        self.max_size = max_size
        self.recycling = recycling
        self.load_balance = load_balance

    def conninfo(self) -> str:
        """The libpq conninfo string.  With LoadBalanceHosts.Random it carries
        ``load_balance_hosts=random``, which the C pool acts on: a new random
        host order for every connection (libpq 15 does not know the option;
        see docs/scaling.md)."""
        params = dict(self.params)
        if self.load_balance:
            params["load_balance_hosts"] = "random"
        return " ".join(f"{k}={_quote(v)}" for k, v in params.items())

    # the attributes psqlpy 0.13 puts on Connection and Transaction
    @property
    def dbname(self) -> str | None:
        return self.params.get("dbname")

    @property
    def user(self) -> str | None:
        return self.params.get("user")

    @property
    def hosts(self) -> list[str]:
        h = self.params.get("host")
        return h.split(",") if h else []

    @property
    def ports(self) -> list[int]:
        p = self.params.get("port")
        return [int(x) for x in p.split(",") if x] if p else []

    @property
    def host_addrs(self) -> list[str]:
        h = self.params.get("hostaddr")
        return h.split(",") if h else []


def build_config(
    dsn: str | None = None,
    username: str | None = None,
    password: str | None = None,
    host: str | None = None,
    hosts: Sequence[str] | None = None,
    port: int | None = None,
    ports: Sequence[int] | None = None,
    db_name: str | None = None,
    target_session_attrs: TargetSessionAttrs | None = None,
    options: str | None = None,
    application_name: str | None = None,
    connect_timeout_sec: int | None = None,
    connect_timeout_nanosec: int | None = None,
    tcp_user_timeout_sec: int | None = None,
    tcp_user_timeout_nanosec: int | None = None,
    keepalives: bool | None = None,
    keepalives_idle_sec: int | None = None,
    keepalives_idle_nanosec: int | None = None,
    keepalives_interval_sec: int | None = None,
    keepalives_interval_nanosec: int | None = None,
    keepalives_retries: int | None = None,
    load_balance_hosts: LoadBalanceHosts | None = None,
    max_db_pool_size: int | None = None,
    conn_recycling_method: Any = None,
    ssl_mode: SslMode | None = None,
    ca_file: str | None = None,
    hostaddr: str | None = None,
) -> PoolConfig:
    """Check ConnectionPool's arguments and turn them into a PoolConfig."""
    params: dict[str, str] = parse_dsn(dsn) if dsn is not None else {}

    def text(name: str, key: str, value: Any) -> None:
        if value is None:
            return
        if not isinstance(value, str):
            raise ConnectionPoolConfigurationError(f"{name} must be a str, got {value!r}")
        params[key] = value

    text("username", "user", username)
    text("password", "password", password)
    text("db_name", "dbname", db_name)
    text("options", "options", options)
    text("application_name", "application_name", application_name)
    text("ca_file", "sslrootcert", ca_file)
    text("hostaddr", "hostaddr", hostaddr)
    if host is not None and hosts is not None:
        raise ConnectionPoolConfigurationError("give host or hosts, not both")
    if port is not None and ports is not None:
        raise ConnectionPoolConfigurationError("give port or ports, not both")
    text("host", "host", host)
    if hosts is not None:
        params["host"] = ",".join(_str_list("hosts", hosts))
    if port is not None:
        params["port"] = _port(port)
    if ports is not None:
        if isinstance(ports, (str, bytes)) or not isinstance(ports, Sequence) or not ports:
            raise ConnectionPoolConfigurationError(f"ports must be a non-empty list, got {ports!r}")
        params["port"] = ",".join(_port(p) for p in ports)
    nhosts = len(params["host"].split(",")) if "host" in params else 1
    nports = len(params["port"].split(",")) if "port" in params else 1
    if nports not in (1, nhosts):
        raise ConnectionPoolConfigurationError(
            f"{nports} ports for {nhosts} hosts: give one port, or one per host")

    if target_session_attrs is not None:
        if target_session_attrs not in _TSA:
            raise ConnectionPoolConfigurationError(
                f"target_session_attrs must be a TargetSessionAttrs, got {target_session_attrs!r}")
        params["target_session_attrs"] = _TSA[target_session_attrs]
    if ssl_mode is not None:
        if ssl_mode not in _SSL:
            raise ConnectionPoolConfigurationError(f"ssl_mode must be an SslMode, got {ssl_mode!r}")
        params["sslmode"] = _SSL[ssl_mode]
    if load_balance_hosts is not None and load_balance_hosts not in (
            LoadBalanceHosts.Disable, LoadBalanceHosts.Random):
        raise ConnectionPoolConfigurationError(
            f"load_balance_hosts must be a LoadBalanceHosts, got {load_balance_hosts!r}")

    # libpq takes whole seconds for these (milliseconds for tcp_user_timeout):
    # a fraction rounds up, so a timeout never becomes shorter than asked.
    t = _seconds("connect_timeout", connect_timeout_sec, connect_timeout_nanosec)
    if t is not None:
        params["connect_timeout"] = str(max(2, math.ceil(t)) if t else 0)
    t = _seconds("tcp_user_timeout", tcp_user_timeout_sec, tcp_user_timeout_nanosec)
    if t is not None:
        params["tcp_user_timeout"] = str(math.ceil(t * 1000))
    t = _seconds("keepalives_idle", keepalives_idle_sec, keepalives_idle_nanosec)
    if t is not None:
        params["keepalives_idle"] = str(math.ceil(t))
    t = _seconds("keepalives_interval", keepalives_interval_sec, keepalives_interval_nanosec)
    if t is not None:
        params["keepalives_interval"] = str(math.ceil(t))
    if keepalives is not None:
        if not isinstance(keepalives, bool):
            raise ConnectionPoolConfigurationError(f"keepalives must be a bool, got {keepalives!r}")
        params["keepalives"] = "1" if keepalives else "0"
    if keepalives_retries is not None:
        if (not isinstance(keepalives_retries, int) or isinstance(keepalives_retries, bool)
                or keepalives_retries < 0):
            raise ConnectionPoolConfigurationError(
                f"keepalives_retries must be a non-negative int, got {keepalives_retries!r}")
        params["keepalives_count"] = str(keepalives_retries)

    size = 2 if max_db_pool_size is None else max_db_pool_size
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise ConnectionPoolConfigurationError(
            f"max_db_pool_size must be a positive int, got {max_db_pool_size!r}")
    return PoolConfig(params, size, conn_recycling_method,
                      load_balance_hosts == LoadBalanceHosts.Random)
