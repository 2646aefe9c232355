"""The database's files on disk: private, never in a directory made up on the spot, and
when they cannot be written, one line that says why in the operator's words."""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

from bridge.errors import DatabaseUnavailable

try:
    import resource
except ImportError:  # pragma: no cover - Windows has no rlimits
    resource = None  # type: ignore[assignment]

NEARLY_FULL = 1024 * 1024  # bytes free below which a failed write is put down to a full disk
GROWTH = 1024 * 1024  # a file size limit this close above the database's size is why a write failed
# SQLite's (primary) result codes for a file it could not create, grow or write.
_CANNOT_WRITE = frozenset(
    {sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM}
)
_ERRNO = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the disk is read-only",
}


def require_directory(path: Path) -> None:
    """The file's directory must exist: created silently, a mistyped volume path would
    put the data on a disk that the next restart wipes."""
    if not path.parent.is_dir():
        raise DatabaseUnavailable(
            f"DATABASE_URL points into {path.parent}/, which does not exist: create it, or fix the path "
            "(on a PaaS: the volume's mount path)"
        )


def create_private(path: Path, *, database: Path | None = None) -> None:
    """Create the file readable by its owner only (the database holds user ids and text).
    ``database``: the database ``path`` belongs to (its lock file), named in errors."""
    require_directory(path)
    try:
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    except OSError as exc:
        cause = _ERRNO.get(exc.errno or 0) or write_trouble(path) or exc.strerror
        what = f"its lock file {path.name}" if database is not None else path.name
        raise DatabaseUnavailable(f"DATABASE_URL {_url(database or path)}: cannot open {what}: {cause}") from None
    os.close(fd)


def unusable(path: Path, exc: sqlite3.Error, doing: str) -> DatabaseUnavailable:
    """SQLite could not open or set up the database: a file it could not write is told by
    the disk's state (full, read-only, a file size limit) where the system shows one;
    anything else in SQLite's words, after ``doing``."""
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF  # the primary result code
    if code in _CANNOT_WRITE:
        cause = write_trouble(path) or ("the disk is full" if code == sqlite3.SQLITE_FULL else None)
        if cause is not None:
            return DatabaseUnavailable(f"DATABASE_URL {_url(path)}: {cause}")
    return DatabaseUnavailable(f"DATABASE_URL {_url(path)}: {doing}: {exc}")


def write_trouble(file: Path) -> str | None:
    """What keeps ``file`` (or a file beside it) from being written, if the system tells: a
    full or read-only disk, or a limit on file sizes for this process (``ulimit -f``) that
    the database has reached."""
    statvfs = getattr(os, "statvfs", None)
    try:
        stats = statvfs(file.parent) if statvfs is not None else None
    except OSError:
        stats = None
    if stats is not None:
        if stats.f_flag & getattr(os, "ST_RDONLY", 1):
            return "the disk is read-only"
        if stats.f_bavail * stats.f_frsize < NEARLY_FULL or (stats.f_files and not stats.f_favail):
            return "the disk is full"
    limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0] if resource is not None else -1
    if limit >= 0 and limit != getattr(resource, "RLIM_INFINITY", -1) and limit <= _largest(file) + GROWTH:
        return f"this process may not write files over {limit} bytes (ulimit -f {limit // 1024})"
    return None


def _largest(file: Path) -> int:
    """The size of the database's largest file (itself, its write-ahead log or journal)."""
    sizes = [0]
    for name in (file, file.with_name(file.name + "-wal"), file.with_name(file.name + "-journal")):
        try:
            sizes.append(name.stat().st_size)
        except OSError:
            continue
    return max(sizes)


def _url(path: Path) -> str:
    return f"sqlite:///{path}"
