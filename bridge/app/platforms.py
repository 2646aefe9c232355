"""Which platforms this run serves, each built from its own typed settings. Imports
each SDK only when that platform is configured."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, TypedDict

from adapters.base import Allowlist, Platform, ReplyPolicy, mention_everywhere
from bridge.app.environment import SLACK_OAUTH
from bridge.app.settings import Settings
from bridge.routing import reply_policy

if TYPE_CHECKING:
    from bridge.app.routes import Routes

log = logging.getLogger("bridge.app")


def configured_platforms(settings: Settings, routes: Routes | None = None) -> list[Platform]:
    """The Telegram bot and Slack app the variables describe, or every bot and app of the
    routes file (each under its own name and webhook path)."""
    if routes is not None:
        bots = [
            (telegram_platform if bot.kind == "telegram" else slack_platform)(
                bot.settings, bot.platform, bot.path, reply_policy(routes.routes, bot.platform)
            )
            for bot in routes.bots
        ]
        if settings.slack_client_id is None:
            return bots
        from bridge.app.routes import INSTALLED

        return [*bots, installed_slack(settings, reply_policy(routes.routes, INSTALLED))]
    platforms: list[Platform] = []
    if settings.telegram_bot_token is not None:
        platforms.append(telegram_platform(settings))
    if settings.slack_bot_token is not None:
        platforms.append(slack_platform(settings))
    if settings.slack_client_id is not None:
        platforms.append(installed_slack(settings))
    return platforms


def installed_slack(settings: Settings, policy: ReplyPolicy = mention_everywhere) -> Platform:
    """ "Add to Slack": one app in many workspaces, their tokens sealed in the database."""
    from adapters.slack.installs import InstallConfig, InstalledSlack
    from bridge.app.installations import SealedInstallations

    assert settings.slack_client_secret is not None
    assert settings.slack_state_secret is not None
    assert settings.slack_signing_secret is not None
    assert settings.bridge_secret_key is not None
    # slack-bolt would read these and run its own OAuth in each workspace's app, dropping
    # the workspace's token: they are the bridge's settings, read already.
    for name in SLACK_OAUTH:
        os.environ.pop(name, None)
    config = InstallConfig(
        client_id=settings.slack_client_id or "",
        client_secret=settings.slack_client_secret,
        state_secret=settings.slack_state_secret,
        signing_secret=settings.slack_signing_secret,
        policy=policy,
        **_every_slack_app(settings),
    )
    return InstalledSlack(config, SealedInstallations(settings.bridge_secret_key))


def telegram_platform(
    settings: Settings,
    name: str = "telegram",
    path: str = "/telegram/webhook",
    policy: ReplyPolicy = mention_everywhere,
) -> Platform:
    from adapters.telegram.config import TelegramConfig
    from adapters.telegram.platform import TelegramPlatform
    from bridge.app.runtime import proxy_for

    assert settings.telegram_bot_token is not None
    users, chats = settings.telegram_allowlist
    if settings.public_url and settings.telegram_public_url is None:
        log.warning(
            "%s long-polls: set %s to receive updates by webhook at %s (the address %s gives)",
            "Telegram" if name == "telegram" else name,
            "TELEGRAM_WEBHOOK_SECRET" if name == "telegram" else "its secret_env",
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
        name=name,
        path=path,
        policy=policy,
        proxy=proxy_for(settings.telegram_api_url),
    )
    return TelegramPlatform(telegram)


def slack_platform(
    settings: Settings, name: str = "slack", path: str = "/slack/events", policy: ReplyPolicy = mention_everywhere
) -> Platform:
    from adapters.slack.config import SlackConfig
    from adapters.slack.platform import SlackPlatform

    assert settings.slack_bot_token is not None
    slack = SlackConfig(
        bot_token=settings.slack_bot_token,
        signing_secret=settings.slack_signing_secret,
        app_token=settings.slack_app_token,
        name=name,
        path=path,
        policy=policy,
        **_every_slack_app(settings),
    )
    return SlackPlatform(slack)


class _EverySlackApp(TypedDict):
    """What every Slack app of this run takes alike, one workspace (``SlackConfig``) or
    many (``InstallConfig``), from the same settings (mypy checks the names against both)."""

    api_url: str
    public_url: str | None
    allow: Allowlist
    suggested_prompts: tuple[str, ...]
    dm_threads: bool


def _every_slack_app(settings: Settings) -> _EverySlackApp:
    users, channels = settings.slack_allowlist
    return _EverySlackApp(
        api_url=settings.slack_api_url,
        public_url=settings.public_url,
        allow=Allowlist(users=users, chats=channels),
        suggested_prompts=tuple(p.strip() for p in settings.slack_suggested_prompts.split(";") if p.strip()),
        dm_threads=settings.slack_dm_threads,
    )
