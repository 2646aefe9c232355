"""Slack installations ("Add to Slack" in many workspaces) on both engines. The bot token
arrives here already sealed (``bridge.app.installations``): the database never holds it
in the clear. A workspace's own installation wins over its organisation's (an org-wide
install has no team)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from store.pg_pool import Pool

T = TypeVar("T")


@dataclass(frozen=True)
class InstallationRow:
    team: str  # "" for an org-wide install
    enterprise: str  # "" outside Enterprise Grid
    sealed_token: str
    bot_user: str
    team_name: str


def _row(row: Any) -> InstallationRow:
    return InstallationRow(row["team"], row["enterprise"], row["bot_token"], row["bot_user"], row["team_name"])


class SqliteInstalls:
    _clock: Callable[[], float]

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        raise NotImplementedError

    async def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    @property
    def _db(self) -> sqlite3.Connection:
        raise NotImplementedError

    async def save_installation(self, row: InstallationRow) -> None:
        await self._run(
            self._db.execute,
            """INSERT OR REPLACE INTO slack_installations
               (team, enterprise, bot_token, bot_user, team_name, installed_at) VALUES (?, ?, ?, ?, ?, ?)""",
            (row.team, row.enterprise, row.sealed_token, row.bot_user, row.team_name, self._clock()),
        )

    async def installation(self, team: str, enterprise: str) -> InstallationRow | None:
        found = await self._one(
            """SELECT * FROM slack_installations WHERE (team = ? AND enterprise = ?)
               OR (team = '' AND enterprise = ? AND enterprise != '') ORDER BY team DESC LIMIT 1""",
            (team, enterprise, enterprise),
        )
        return _row(found) if found else None

    async def delete_installation(self, team: str, enterprise: str) -> bool:
        changed = await self._run(
            lambda: (
                self._db.execute(
                    "DELETE FROM slack_installations WHERE team = ? AND enterprise = ?", (team, enterprise)
                ).rowcount
            )
        )
        return bool(changed)

    async def count_installations(self) -> int:
        found = await self._one("SELECT COUNT(*) AS n FROM slack_installations")
        return int(found["n"])


class PgInstalls:
    _clock: Callable[[], float]

    @property
    def pool(self) -> Pool:
        raise NotImplementedError

    async def save_installation(self, row: InstallationRow) -> None:
        await self.pool.execute(
            """INSERT INTO slack_installations (team, enterprise, bot_token, bot_user, team_name, installed_at)
               VALUES ($1, $2, $3, $4, $5, $6)
               ON CONFLICT (enterprise, team) DO UPDATE SET bot_token = EXCLUDED.bot_token,
                   bot_user = EXCLUDED.bot_user, team_name = EXCLUDED.team_name,
                   installed_at = EXCLUDED.installed_at""",
            row.team,
            row.enterprise,
            row.sealed_token,
            row.bot_user,
            row.team_name,
            self._clock(),
        )

    async def installation(self, team: str, enterprise: str) -> InstallationRow | None:
        found = await self.pool.fetchrow(
            """SELECT * FROM slack_installations WHERE (team = $1 AND enterprise = $2)
               OR (team = '' AND enterprise = $2 AND enterprise != '') ORDER BY team DESC LIMIT 1""",
            team,
            enterprise,
        )
        return _row(found) if found else None

    async def delete_installation(self, team: str, enterprise: str) -> bool:
        status = await self.pool.execute(
            "DELETE FROM slack_installations WHERE team = $1 AND enterprise = $2", team, enterprise
        )
        return status != "DELETE 0"

    async def count_installations(self) -> int:
        return int(await self.pool.fetchval("SELECT COUNT(*) FROM slack_installations") or 0)
