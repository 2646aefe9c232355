"""The locale a lookup gave for each person (store.languages), kept across restarts on both
engines and forgotten with PEOPLE_DAYS."""

from __future__ import annotations

from tests.store.stores import Clock, open_store

DAY = 86400.0


async def test_a_kept_locale_is_read_back_replaced_and_forgotten_with_the_people(database: str) -> None:
    clock = Clock()
    async with open_store(database, clock) as store:
        await store.keep_person_locale("slack:T1:U1", "de-DE")
        await store.keep_person_locale("slack:T1:U2", "fr-FR")
    async with open_store(database, clock) as store:  # a restart
        assert await store.person_locale("slack:T1:U1") == "de-DE"
        assert await store.person_locale("slack:T1:U9") is None  # never looked up
        await store.keep_person_locale("slack:T1:U1", "pt-BR")  # they changed it in Slack
        assert await store.person_locale("slack:T1:U1") == "pt-BR"
        clock.now += 300 * DAY
        await store.keep_person_locale("slack:T1:U1", "pt-BR")  # looked up again: kept longer
        clock.now += 100 * DAY
        await store.purge(7 * DAY, keep_people_for=365 * DAY)
        assert await store.person_locale("slack:T1:U1") == "pt-BR"
        assert await store.person_locale("slack:T1:U2") is None  # 400 days without a lookup
