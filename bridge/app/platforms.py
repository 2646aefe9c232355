"""Which platforms this run serves, each built from its own typed settings. Imports
each SDK only when that platform is configured."""

from __future__ import annotations

import logging

from adapters.base import Allowlist, Platform
from bridge.app.settings import Settings

log = logging.getLogger("bridge.app")


def configured_platforms(settings: Settings) -> list[Platform]:
    platforms: list[Platform] = []
    if settings.telegram_bot_token is not None:
        from adapters.telegram.config import TelegramConfig
        from adapters.telegram.platform import TelegramPlatform

        users, chats = settings.telegram_allowlist
        if settings.public_url and settings.telegram_public_url is None:
            log.warning(
                "Telegram long-polls: set TELEGRAM_WEBHOOK_SECRET to receive updates by webhook at %s "
                "(the address %s gives)",
                settings.public_url,
                settings.public_url_origin,
            )
        telegram = TelegramConfig(
            bot_token=settings.telegram_bot_token,
            api_url=settings.telegram_api_url,
            public_url=settings.telegram_public_url,
            webhook_secret=settings.telegram_webhook_secret,
            allow=Allowlist(users=users, chats=chats),
            handoff=settings.handoff,
            guest_window=settings.telegram_guest_window,
        )
        platforms.append(TelegramPlatform(telegram))
    if settings.slack_bot_token is not None:
        from adapters.slack.config import SlackConfig
        from adapters.slack.platform import SlackPlatform

        users, channels = settings.slack_allowlist
        slack = SlackConfig(
            bot_token=settings.slack_bot_token,
            signing_secret=settings.slack_signing_secret,
            app_token=settings.slack_app_token,
            api_url=settings.slack_api_url,
            public_url=settings.public_url,
            allow=Allowlist(users=users, chats=channels),
            suggested_prompts=tuple(p.strip() for p in settings.slack_suggested_prompts.split(";") if p.strip()),
            dm_threads=settings.slack_dm_threads,
        )
        platforms.append(SlackPlatform(slack))
    return platforms
