"""A real PostgreSQL server for the tests, started on loopback from Debian's binaries.

One server per test session (``initdb`` takes a few seconds); each test gets a database
of its own on it. PostgreSQL refuses to run as root, so as root (CI) the server runs as
the ``postgres`` system user that Debian's package creates. The server uses password
authentication (scram) like a PaaS database does, so credentials in URLs are real.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

USER = "bridge"
PASSWORD = "pg-Secret-4711"  # only this throwaway server knows it; tests check it never leaks


def _bindir() -> Path:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not versions:
        raise RuntimeError(
            "PostgreSQL server binaries not found: install Debian's postgresql package "
            "(`apt-get install postgresql`, as .ci/run does)"
        )
    return Path(versions[-1]).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PgServer:
    """A running server; ``url(db)`` is a ``postgresql://`` URL as a PaaS hands it out."""

    directory: Path
    port: int
    bindir: Path
    as_user: str | None

    def url(self, database: str = "postgres", *, scheme: str = "postgresql") -> str:
        return f"{scheme}://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if self.as_user:
            cmd = ["runuser", "-u", self.as_user, "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)  # noqa: S603

    @classmethod
    def start(cls) -> PgServer:
        bindir = _bindir()
        root = Path(tempfile.mkdtemp(prefix="bridge-pg-"))
        as_user = None
        if os.geteuid() == 0:
            as_user = "postgres"
            entry = pwd.getpwnam(as_user)
            os.chown(root, entry.pw_uid, entry.pw_gid)
        server = cls(root / "data", _free_port(), bindir, as_user)
        pwfile = root / "pw"
        pwfile.write_text(PASSWORD)
        if as_user:
            os.chown(pwfile, pwd.getpwnam(as_user).pw_uid, -1)
        server._run(
            str(bindir / "initdb"),
            "-D",
            str(server.directory),
            "-U",
            USER,
            f"--pwfile={pwfile}",
            "--auth=scram-sha-256",
            "--encoding=UTF8",
            "--no-sync",
        )
        options = (
            f"-p {server.port} -h 127.0.0.1 -k {root} -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=300"
        )
        server._run(
            str(bindir / "pg_ctl"), "-D", str(server.directory), "-l", str(root / "log"), "-w", "-o", options, "start"
        )
        return server

    def stop(self) -> None:
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.directory), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.directory.parent, ignore_errors=True)

    async def new_database(self) -> str:
        """A fresh, empty database on this server; returns its URL."""
        import asyncpg  # the tests' own import: the core never sees the driver

        name = f"t_{uuid.uuid4().hex[:12]}"
        conn = await asyncpg.connect(self.url())
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return self.url(name)
