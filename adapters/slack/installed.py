"""An installation of the Slack app in a workspace ("Add to Slack"), and where they are
kept: plain values, so the composition root can seal and store them without loading
the Slack SDK."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from pydantic import SecretStr


@dataclass(frozen=True)
class Installation:
    """The app in one workspace (or, ``enterprise`` set and ``team`` empty, an org-wide install)."""

    team: str
    enterprise: str | None
    bot_token: SecretStr
    bot_user: str
    team_name: str = ""


class Installations(Protocol):
    """Where installations are kept (the bridge's database, tokens encrypted)."""

    async def save(self, installation: Installation) -> None: ...

    async def find(self, team: str, enterprise: str | None) -> Installation | None: ...

    async def delete(self, team: str, enterprise: str | None) -> bool: ...

    async def count(self) -> int: ...
