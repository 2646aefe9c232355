"""The language each person was last looked up with, on both engines (``person_languages``).

Slack tells a person's language only through ``users.info``, which the bridge asks once a
turn has been acknowledged, and a slash command is answered in its acknowledgement: after
a restart, the first ``/raia`` of someone the new process has not looked up yet came out in
English. The locale a lookup gave is kept here instead (rows go with PEOPLE_DAYS)."""

from __future__ import annotations

from store.parts import PgPart, SqlitePart


class SqliteLanguages(SqlitePart):
    async def person_locale(self, fk_id: str) -> str | None:
        row = await self._run(
            lambda: self._db.execute("SELECT locale FROM person_languages WHERE fk_id = ?", (fk_id,)).fetchone()
        )
        return str(row[0]) if row is not None else None

    async def keep_person_locale(self, fk_id: str, locale: str) -> None:
        await self._run(
            self._db.execute,
            "INSERT OR REPLACE INTO person_languages (fk_id, locale, saved_at) VALUES (?, ?, ?)",
            (fk_id, locale, self._clock()),
        )


class PgLanguages(PgPart):
    async def person_locale(self, fk_id: str) -> str | None:
        locale = await self.pool.fetchval("SELECT locale FROM person_languages WHERE fk_id = $1", fk_id)
        return str(locale) if locale is not None else None

    async def keep_person_locale(self, fk_id: str, locale: str) -> None:
        await self.pool.execute(
            """INSERT INTO person_languages (fk_id, locale, saved_at) VALUES ($1, $2, $3)
               ON CONFLICT (fk_id) DO UPDATE SET locale = EXCLUDED.locale, saved_at = EXCLUDED.saved_at""",
            fk_id,
            locale,
            self._clock(),
        )
