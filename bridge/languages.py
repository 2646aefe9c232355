"""People's languages where the platform tells them only when asked (Slack's users.info).

The bridge's own lines are in the person's language (``texts.language_of``). Telegram puts
it on every message; Slack tells it only through ``users.info``, which a turn asks once its
question is stored, while a slash command (``/raia stop``) is answered in its own
acknowledgement with what the process knows already. After a restart that was nothing: a
person's first command came out in English until they wrote again. So the locale a turn's
lookup found is kept in the store (once per person and day at most: a person looked up
daily keeps it past PEOPLE_DAYS' housekeeping), and a command whose message says no
language takes the kept one.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace

from bridge import texts
from bridge.errors import StoreError
from bridge.models import InboundMessage, PlatformUser
from bridge.ports.store import StorePort

log = logging.getLogger(__name__)

KEEP_EVERY = 86400.0  # a locale already kept is written again this seldom (its row's age)
REMEMBERED = 4096  # people whose kept locale this process remembers (to skip the write)


class KeptLocales:
    """The turns' side: the locale a lookup found, kept for the commands after a restart."""

    def __init__(self, store: StorePort, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock
        self._kept: OrderedDict[str, tuple[str, float]] = OrderedDict()  # fk_id -> (locale, kept at)

    async def looked_up(self, found: PlatformUser) -> None:
        """A turn looked the person up and ``found`` them: a locale the lookup gave (one a
        platform puts on every message needs no keeping) is kept. Best effort: a store that
        cannot take it now costs a command in English later, never the turn."""
        locale = found.custom_data.get(texts.LOOKED_UP, "")
        if not locale:
            return
        now = self._clock()
        kept = self._kept.get(found.fk_id)
        if kept is not None and kept[0] == locale and now - kept[1] < KEEP_EVERY:
            return
        try:
            await self._store.keep_person_locale(found.fk_id, locale)
        except StoreError as exc:
            log.info("the language of %s is not kept for now: %s", found.fk_id, exc)
            return
        self._kept[found.fk_id] = (locale, now)
        self._kept.move_to_end(found.fk_id)
        while len(self._kept) > REMEMBERED:
            self._kept.popitem(last=False)


async def with_kept_locale(store: StorePort, message: InboundMessage) -> InboundMessage:
    """``message`` with its person's kept locale when the message itself says no language
    (a Slack command from someone this process has not looked up)."""
    custom = message.user.custom_data
    if texts.told_locale(custom):
        return message
    try:
        locale = await store.person_locale(message.user.fk_id)
    except StoreError as exc:  # the line goes out in the default language, not never
        log.info("the language of %s could not be read: %s", message.user.fk_id, exc)
        return message
    if not locale:
        return message
    return replace(message, user=replace(message.user, custom_data={**custom, texts.LOOKED_UP: locale}))
