"""A takeover's posts reach the chat: the notices and each staff message that
``bridge.takeover`` recorded, posted in order, each exactly once.

A post is recorded in the store before it is posted and its parts are counted like an
answer's (``PostProgress``), so a restart, ``kill -9`` or another replica neither posts
one twice nor skips one; a staff member's files go after their words like an answer's."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace

from bridge import texts
from bridge.answer_files import FileDelivery, text_done
from bridge.backoff import Backoff, RateLimits
from bridge.errors import DeliveryPermanent, DeliveryRetryable, StoreError
from bridge.ports.agent import GivesFiles
from bridge.ports.outbound import CONVERSATION_POST, Outbound
from bridge.ports.store_takeover import HandoverPost, TakeoverStore

# The takeover's one log (the watch and its posts), as operators filter it.
log = logging.getLogger("bridge.takeover")


class PostProgress:
    """A post's delivery progress, written through to the store part by part."""

    def __init__(self, store: TakeoverStore, post: HandoverPost, *, resumed: bool) -> None:
        self._store, self._post, self._done = store, post, post.parts_delivered
        self.key = f"{CONVERSATION_POST}{post.conversation_id}-{post.key}"[:100]
        self.uncertain = resumed or post.delivery_attempts > 0

    @property
    def done(self) -> int:
        return self._done

    async def part_delivered(self, count: int) -> None:
        self._done = count
        await self._store.mark_post_parts(self._post.conversation_id, self._post.key, count)


class PostDelivery:
    """Posts what a conversation has recorded and not posted yet, on its platform."""

    def __init__(
        self,
        store: TakeoverStore,
        outbounds: Mapping[str, Outbound],
        *,
        gives_files: GivesFiles | None,
        max_file_bytes: int,
        attempts: int,
        backoff: Backoff,
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self._store, self._outbounds = store, outbounds
        # Files a staff member sends go after their words like an answer's files (each a
        # recorded part, FILES_MAX_MB and the platform's limit, a line instead when over).
        self._files = FileDelivery(gives_files, max_file_bytes)
        self._attempts, self._backoff, self._sleep = attempts, backoff, sleep

    async def deliver(self, conversation_id: int, *, resumed: bool) -> None:
        """Post what is recorded and not posted yet, in order. ``resumed``: the first may
        be out already (a watch taken up from the store)."""
        record = await self._store.handover(conversation_id)
        if record is None:
            return
        outbound = self._outbounds.get(record.platform)
        if outbound is None:
            return  # that platform is not configured in this run
        language = texts.language_of(record.profile.custom_data)
        for post in await self._store.pending_posts(conversation_id):
            reply = replace(texts.localize(post.reply, language), vote_key="")
            progress = PostProgress(self._store, post, resumed=resumed)
            resumed = False
            limits = RateLimits()
            while True:
                try:
                    # An earlier attempt may have posted the words already (only files are left);
                    # a staff message may be files alone.
                    if not text_done(progress) and (reply.text or reply.has_sources):
                        await outbound.deliver(record.origin, reply, progress)
                    await self._files.deliver(record.origin, reply, outbound, progress)
                except StoreError:
                    raise
                except DeliveryPermanent as exc:
                    log.error("conversation=%d post %s undeliverable: %s", conversation_id, post.key, exc)
                    break
                except Exception as exc:
                    progress.uncertain = exc.maybe_posted if isinstance(exc, DeliveryRetryable) else True
                    hint = exc.retry_after if isinstance(exc, DeliveryRetryable) else None
                    pause = limits.pause(hint, progress.uncertain)
                    if pause is not None:  # the platform's word to wait: not a failed attempt
                        log.warning("conversation=%d post %s rate limited (%s)", conversation_id, post.key, exc)
                        await self._sleep(pause)
                        continue
                    attempts = await self._store.note_post_attempt(conversation_id, post.key)
                    if attempts >= self._attempts:
                        log.error("conversation=%d post %s given up: %s", conversation_id, post.key, exc)
                        break
                    log.warning("conversation=%d post %s failed (%d): %s", conversation_id, post.key, attempts, exc)
                    await self._sleep(self._backoff.wait(attempts, hint=hint))
                    continue
                break
            await self._store.mark_post_delivered(conversation_id, post.key)
            log.info("conversation=%d post=%s delivered platform=%s", conversation_id, post.key, record.platform)
