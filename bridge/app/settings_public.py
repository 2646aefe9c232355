"""``PUBLIC_URL``, the address platforms call the bridge at: a group of ``Settings``
(``bridge.app.settings``). Unset, it is the address the platform names (Render, Railway,
Fly, Heroku), if any."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, field_validator

from bridge.app.environment import platform_public_url

_LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")
# The paths the bridge serves under PUBLIC_URL, sometimes pasted along with it.
_WEBHOOK_PATHS = ("/telegram/webhook", "/slack/events", "/raia/webhook")


def _platform_url() -> str | None:
    found = platform_public_url()
    return found[0] if found is not None else None


class PublicUrlSettings(BaseModel):
    """PUBLIC_URL, checked so that one line gives the value to use."""

    public_url: str | None = Field(default_factory=lambda: _platform_url(), validate_default=True)

    @field_validator("public_url", mode="before")
    @classmethod
    def _public_url_or_platforms(cls, value: Any) -> Any:
        # Unset or empty: the platform's own address for the app, where it tells it.
        if value is None or (isinstance(value, str) and not value.strip()):
            return _platform_url()
        return value

    @field_validator("public_url")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        # Telegram only calls https webhooks; plain http is for trying things on loopback.
        # Whatever is wrong (no scheme, http, a webhook path pasted along), the one line
        # gives the value to use: PUBLIC_URL is fixed in one round.
        if value is None:
            return None
        value = value.strip()
        parts = urlsplit(value if "://" in value else f"https://{value}")
        path = parts.path.rstrip("/")
        pasted = next((p for p in _WEBHOOK_PATHS if path.endswith(p)), None)
        base = path.removesuffix(pasted) if pasted else path
        loopback = parts.scheme == "http" and parts.hostname in _LOOPBACK
        if (parts.scheme == "https" or loopback) and parts.hostname and not pasted and "://" in value:
            return value
        suggestion = f"{'http' if loopback else 'https'}://{parts.netloc}{base}"
        if pasted:
            raise ValueError(f"is the app's base address, without {pasted} (the bridge adds the paths): {suggestion}")
        raise ValueError(f"must be the app's public https:// address (Telegram and Slack call https): {suggestion}")

    @property
    def public_url_origin(self) -> str | None:
        """Which variable ``public_url`` comes from: ``PUBLIC_URL`` or the platform's own."""
        if self.public_url is None:
            return None
        platform = platform_public_url()
        return platform[1] if platform is not None and platform[0] == self.public_url else "PUBLIC_URL"
