"""Which platforms this run serves, from the settings. Imports each SDK only when used."""

from __future__ import annotations

from bridge.platform import Platform
from bridge.settings import Settings


def configured_platforms(settings: Settings) -> list[Platform]:
    platforms: list[Platform] = []
    if settings.telegram_bot_token is not None:
        from adapters.telegram_bot import TelegramPlatform

        platforms.append(TelegramPlatform(settings))
    if settings.slack_bot_token is not None:
        from adapters.slack_app import SlackPlatform

        platforms.append(SlackPlatform(settings))
    return platforms
