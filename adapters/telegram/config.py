"""What the Telegram adapter needs from the settings (built by the composition root)."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import SecretStr

from adapters.base import Allowlist, ReplyPolicy, mention_everywhere


@dataclass(frozen=True)
class TelegramConfig:
    bot_token: SecretStr
    api_url: str  # the token is appended
    public_url: str | None  # set: webhook mode at PUBLIC_URL/telegram/webhook; else long polling
    webhook_secret: SecretStr | None  # required in webhook mode
    allow: Allowlist
    handoff: bool = False  # HANDOFF: /human is in the command menu
    guest_window: float = 8.0  # seconds a guest question may be answered in place (TELEGRAM_GUEST_WINDOW)
    # ROUTES_FILE: one of several bots, by its platform name (telegram/<name>) and webhook path.
    name: str = "telegram"
    path: str = "/telegram/webhook"
    policy: ReplyPolicy = mention_everywhere  # ROUTES_FILE's reply = mention | all | private, by chat
    proxy: str | None = None  # HTTPS_PROXY for the Bot API (none for a loopback fake)
