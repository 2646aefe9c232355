"""``DATABASE_URL`` -> the store that implements it: SQLite (one process, the default)
or PostgreSQL (a PaaS database, several replicas).

PaaS providers hand PostgreSQL out as ``postgres://user:password@host:port/db`` (Heroku,
Render, Fly) or ``postgresql://…`` (Railway), often with ``?sslmode=require``; asyncpg
reads both forms and that parameter as they are. The password never leaves this
module except inside the URL given to the driver: ``display`` masks it. A password is
taken as people paste it: ``#``, ``?`` or ``/`` in it are percent-encoded here (in a URL
they would end the password), and a percent-encoded one is decoded by the driver.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit

from store.postgres import PostgresStore
from store.sqlite import SqliteStore

Store = SqliteStore | PostgresStore

_POSTGRES_SCHEMES = ("postgres", "postgresql")
# What asyncpg understands in a URL's query; anything else is a mistake worth naming.
_SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
_PARAMETERS = {"sslmode", "sslrootcert", "sslcert", "sslkey", "application_name", "connect_timeout", "options"}
# scheme://userinfo@host…/db…: the userinfo runs to the last "@" before the host and path.
_USERINFO = re.compile(r"^(?P<scheme>[a-z]+://)(?P<userinfo>.*)@(?P<rest>[^@/]*/[^@]*)$", re.DOTALL)
# Characters a user name or password may hold unencoded; "%" keeps an encoded one as it is.
_USERINFO_SAFE = "%:!$&'()*+,;=~"


@dataclass(frozen=True)
class Database:
    """Where the bridge keeps its state. ``url`` may hold a password: use ``display``."""

    engine: Literal["sqlite", "postgresql"]
    url: str = field(repr=False)
    path: Path | None = None

    @property
    def display(self) -> str:
        """The URL with the password masked, for logs, ``check`` and errors."""
        if self.engine == "sqlite":
            return self.url
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        netloc = f"{parts.username}:***@{host}" if parts.password else f"{parts.username}@{host}"
        if not parts.username:
            netloc = host
        if parts.port:
            netloc += f":{parts.port}"
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))

    @property
    def password(self) -> str | None:
        """The password as the server knows it (percent-decoded)."""
        raw = urlsplit(self.url).password if self.engine == "postgresql" else None
        return unquote(raw) if raw else None

    def password_forms(self) -> list[str]:
        """The password as written in the URL and as decoded: both are kept out of logs."""
        raw = urlsplit(self.url).password if self.engine == "postgresql" else None
        return sorted({raw, unquote(raw)}) if raw else []

    def store(
        self,
        *,
        clock: Callable[[], float] | None = None,
        local_clock: Callable[[], float] = time.time,
        pool_size: int = 10,
    ) -> Store:
        """``local_clock``: this host's clock. SQLite keeps its times by it; PostgreSQL by the
        database server's, which all replicas share (``store.pg_clock``). ``clock``
        replaces either (a test's own)."""
        if self.engine == "sqlite":
            assert self.path is not None
            return SqliteStore(self.path, clock=clock or local_clock)
        return PostgresStore(self.url, clock=clock, local_clock=local_clock, pool_size=pool_size)


def parse_database_url(url: str) -> Database:
    """Validate ``DATABASE_URL``; ``ValueError`` says what is wrong without repeating it."""
    if url.startswith("sqlite:///") and url != "sqlite:///":
        path = url.removeprefix("sqlite:///")
        if path in (":memory:", "/:memory:"):
            raise ValueError("must be a file: an in-memory database forgets every question at each restart")
        return Database("sqlite", url, Path(path))
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme not in _POSTGRES_SCHEMES:
        raise ValueError(
            "must look like sqlite:///bridge.db (one process) or postgres://user:password@host:5432/db (PostgreSQL)"
        )
    url = _quote_userinfo(url)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        raise ValueError("is not a valid postgres:// URL (check the port and any special characters)") from None
    if not parts.hostname:
        raise ValueError("names no host: postgres://user:password@host:5432/db")
    if not parts.path.strip("/"):
        raise ValueError("names no database: add it after the host, as in postgres://…@host:5432/db")
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key not in _PARAMETERS:
            raise ValueError(f"has an unknown parameter {key!r} (supported: {', '.join(sorted(_PARAMETERS))})")
        if key == "sslmode" and value not in _SSLMODES:
            raise ValueError(f"has sslmode={value!r}; use one of {', '.join(_SSLMODES)}")
    return Database("postgresql", url)


def _quote_userinfo(url: str) -> str:
    """``postgres://u:pa#ss@h/db`` -> ``postgres://u:pa%23ss@h/db``: a password as pasted,
    whose ``#``, ``?``, ``/`` or ``@`` would otherwise end it (and lose the database name)."""
    match = _USERINFO.match(url)
    if match is None:
        return url
    return f"{match['scheme']}{quote(match['userinfo'], safe=_USERINFO_SAFE)}@{match['rest']}"
