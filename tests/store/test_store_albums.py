"""Albums in the store, on both engines: a photo arriving after its album's question was
sent is a question of its own, if the person addressed the album."""

from __future__ import annotations

from dataclasses import replace

from bridge.models import Attachment, InboundMessage
from tests.conftest import message
from tests.store.stores import open_store


def _photo(n: int, album: str, *, addressed: bool = False, user: str = "u1") -> InboundMessage:
    file = Attachment(f"photo_{n}.jpg", "image/jpeg", 7, f"ref{n}")
    text = "which is best?" if addressed else ""
    return replace(message(text, keys=(f"p{n}",), user=user), attachments=(file,), album=album, addressed=addressed)


async def test_a_late_photo_of_an_addressed_album_is_a_question_of_its_own(database: str) -> None:
    async with open_store(database) as store:
        first = await store.record_question(_photo(1, "a", addressed=True), ttl=60)
        assert first is not None
        await store.mark_started(first.id)  # the album's question is on its way
        late = await store.record_question(_photo(2, "a"), ttl=60)
        assert late is not None
        assert late.id != first.id
        assert (late.text, [f.ref for f in late.attachments], late.album) == ("", ["ref2"], "a")
        later = await store.record_question(_photo(3, "a"), ttl=60)  # arriving with it: joins it
        assert later is not None
        assert later.id == late.id
        assert [f.ref for f in later.attachments] == ["ref2", "ref3"]
        # Someone else's photo in that album, and an album nobody addressed: not questions.
        assert await store.record_question(_photo(4, "a", user="u2"), ttl=60) is None
        assert await store.record_question(_photo(5, "b"), ttl=60) is None
        assert await store.record_question(_photo(2, "a"), ttl=60) is None  # redelivered
        assert await store.count_open() == 2
