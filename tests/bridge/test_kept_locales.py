"""The locale a turn's lookup found is kept for the commands after a restart
(``bridge.languages``), written once per person and day unless it changes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, cast

from bridge.languages import KEEP_EVERY, KeptLocales, with_kept_locale
from bridge.models import PlatformUser
from bridge.ports.store import StorePort
from store.sqlite import SqliteStore
from tests.conftest import message
from tests.store.stores import Clock


class Counting:
    """A real store that counts the locales it is asked to keep."""

    def __init__(self, store: SqliteStore) -> None:
        self._store = store
        self.kept = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def keep_person_locale(self, fk_id: str, locale: str) -> None:
        self.kept += 1
        await self._store.keep_person_locale(fk_id, locale)


async def test_a_locale_is_kept_once_a_day_unless_it_changes(tmp_path: Path) -> None:
    clock = Clock()
    async with SqliteStore(tmp_path / "b.db", clock=clock) as real:
        store = Counting(real)
        kept = KeptLocales(cast(StorePort, store), clock)
        ann = PlatformUser("slack:T1:U1", "Ann", None, {"slackUserId": "U1", "locale": "de-DE"})
        await kept.looked_up(ann)
        await kept.looked_up(ann)  # her next turn: nothing to write
        assert store.kept == 1
        french = replace(ann, custom_data={**ann.custom_data, "locale": "fr-FR"})
        await kept.looked_up(french)  # changed in Slack's settings
        assert (store.kept, await real.person_locale(ann.fk_id)) == (2, "fr-FR")
        clock.now += KEEP_EVERY + 1
        await kept.looked_up(french)  # a day on: written again, so housekeeping keeps it
        assert store.kept == 3
        await kept.looked_up(PlatformUser("telegram:42", "Jo", None, {"languageCode": "de"}))
        await kept.looked_up(PlatformUser("slack:T1:U2", "Bo", None, {"slackUserId": "U2"}))  # users.info said none
        assert store.kept == 3  # a language on every message, or none found: nothing to keep


async def test_a_message_without_a_language_takes_the_kept_one(tmp_path: Path) -> None:
    async with SqliteStore(tmp_path / "b.db") as store:
        await store.keep_person_locale("test:u1", "de-DE")
        bare = message("/raia help", user="u1")
        assert (await with_kept_locale(store, bare)).user.custom_data["locale"] == "de-DE"
        told = replace(bare, user=replace(bare.user, custom_data={"languageCode": "es"}))
        assert await with_kept_locale(store, told) is told  # what the message says wins, no read
        stranger = message("/raia help", user="u9")
        assert await with_kept_locale(store, stranger) is stranger
