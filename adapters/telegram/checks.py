"""``raia-bridge check`` for Telegram: the token, what the bot can do, and whether Telegram
can deliver to the webhook (its own last error)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from telegram.error import NetworkError, TelegramError
from telegram.ext import Application

from adapters.base import CheckResult

RECENT_ERROR = 3600  # seconds: a webhook delivery error this recent fails `check`


async def check(
    name: str, app: Application[Any, Any, Any, Any, Any, Any], webhook_url: str | None, api_url: str
) -> list[CheckResult]:
    """``webhook_url``: where Telegram should deliver (None: long polling)."""
    try:
        await app.initialize()
    except NetworkError as exc:  # DNS, refused connection, timeout
        where = urlsplit(api_url).netloc
        return [CheckResult(name, False, f"could not reach Telegram at {where} ({type(exc).__name__})")]
    except TelegramError as exc:
        # PTB's message quotes the token: never repeat it.
        return [CheckResult(name, False, f"TELEGRAM_BOT_TOKEN was refused ({type(exc).__name__})")]
    bot = app.bot
    me = bot.bot
    # What the bot can do besides chats and groups (switched on in @BotFather).
    guest = "guest mode on" if me.supports_guest_queries else "guest mode off"
    topics = "topics in private chats on" if me.has_topics_enabled else "topics in private chats off"
    results = [CheckResult(name, True, f"bot @{bot.username} (id {bot.id}); {guest}; {topics}")]
    info = await bot.get_webhook_info()
    if webhook_url is None:
        note = "long polling (no PUBLIC_URL)"
        if info.url:
            note += f"; a webhook is set to {info.url} and will be removed when the bridge starts polling"
        results.append(CheckResult(f"{name} mode", True, note))
        return results
    ok = info.url == webhook_url
    detail = f"webhook {info.url or '(none)'}; pending updates {info.pending_update_count}"
    failing = False
    if info.last_error_message:
        # Telegram's own words for why it cannot deliver to the webhook.
        detail += f"; last error: {info.last_error_message}"
        failing = _delivery_failing(info.last_error_date, info.pending_update_count)
        if info.last_error_date is not None:
            detail += f" ({_ago(info.last_error_date)})"
    if not ok:
        detail += f"; expected {webhook_url} (set when the bridge starts)"
    elif failing:
        detail += ": Telegram cannot deliver to PUBLIC_URL; make sure it is this bridge's public https address"
    results.append(CheckResult(f"{name} mode", (ok or not info.url) and not failing, detail))
    return results


def _delivery_failing(when: datetime | None, pending: int) -> bool:
    """Telegram's last webhook error still stands: it is recent, or updates wait behind it
    (Telegram keeps retrying them). An old error with nothing waiting was overcome."""
    if when is None or pending > 0:
        return True
    return _seconds_since(when) < RECENT_ERROR


def _seconds_since(when: datetime) -> int:
    aware = when if when.tzinfo is not None else when.replace(tzinfo=UTC)  # the Bot API's times are UTC
    return max(0, int((datetime.now(UTC) - aware).total_seconds()))


def _ago(when: datetime) -> str:
    seconds = _seconds_since(when)
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"
