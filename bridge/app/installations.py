"""Slack installations kept in the bridge's database, each bot token sealed with
``BRIDGE_SECRET_KEY`` (a Fernet key: AES-128-CBC with an HMAC-SHA256, from the
``cryptography`` package) before it is written: a copy of the database (a backup, a
dump) gives no token without the key."""

from __future__ import annotations

import logging

from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr

from adapters.slack.installed import Installation
from bridge.app.database import Store
from store.installs import InstallationRow

log = logging.getLogger(__name__)


def fernet_key_problem(key: str) -> str | None:
    """Why ``key`` is no Fernet key, or None."""
    try:
        Fernet(key.encode())
    except ValueError:
        return (
            "must be a Fernet key (32 bytes, URL-safe base64): make one with "
            'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
        )
    return None


class SealedInstallations:
    """``adapters.slack.installs.Installations`` over the store; ``store`` is set once the
    store is open (the platforms are built before it)."""

    def __init__(self, key: SecretStr) -> None:
        self._fernet = Fernet(key.get_secret_value().encode())
        self.store: Store | None = None

    def _store(self) -> Store:
        if self.store is None:
            raise RuntimeError("the store is not open")
        return self.store

    async def save(self, installation: Installation) -> None:
        sealed = self._fernet.encrypt(installation.bot_token.get_secret_value().encode()).decode()
        row = InstallationRow(
            installation.team, installation.enterprise or "", sealed, installation.bot_user, installation.team_name
        )
        await self._store().save_installation(row)

    async def find(self, team: str, enterprise: str | None) -> Installation | None:
        row = await self._store().installation(team, enterprise or "")
        if row is None:
            return None
        try:
            token = self._fernet.decrypt(row.sealed_token.encode()).decode()
        except InvalidToken:
            log.error(
                "slack installation of %s cannot be opened: BRIDGE_SECRET_KEY is not the key it was sealed with",
                row.team or row.enterprise,
            )
            return None
        return Installation(row.team, row.enterprise or None, SecretStr(token), row.bot_user, row.team_name)

    async def delete(self, team: str, enterprise: str | None) -> bool:
        return await self._store().delete_installation(team, enterprise or "")

    async def count(self) -> int:
        return await self._store().count_installations()
