"""What the store tests share: a clock they move by hand, and a store of either engine
(``database``, the ``DATABASE_URL`` the conftest's fixture parametrises over both)."""

from __future__ import annotations

from bridge.app.database import Store, parse_database_url


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def open_store(database: str, clock: Clock | None = None) -> Store:
    return parse_database_url(database).store(clock=clock or Clock())
