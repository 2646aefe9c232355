"""Several agents behind one deployment (``ROUTES_FILE``): which agent a message is for.

Every agent has its own ``ConversationService`` (its own lanes, health and limits, so one
agent's outage never holds another's conversations) over the one store, where the agent
is part of each conversation's identity. Each bot or Slack app is a platform of its own
name (``telegram/<name>``, ``slack/<name>``); the router hands each one an ``Inbox`` that
names it on every message and passes the message to the agent it is for:

1. a follow-up in a thread stays with the agent that answered there, whatever the routes
   say now;
2. otherwise the first route that matches (the platform, and each of chat, team, user
   that the route names);
3. otherwise the bot's or app's own agent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from typing import Any

from bridge.models import AnswerFile, Attachment, InboundMessage, Origin, PlatformUser, Reply
from bridge.ports.feedback import Ratings, Vote, VoteResult
from bridge.ports.inbox import Inbox, Receipt, Respond
from bridge.ports.outbound import DeliveryProgress, Download, FileSink, FileSource, LiveText, Outbound
from bridge.ports.store import StorePort

POLICIES = ("mention", "all", "private")


@dataclass(frozen=True)
class Route:
    """``[[route]]``: messages on ``platform`` (and, where given, in ``chat``, of ``team``,
    from ``user``) go to ``agent``; ``reply`` is how the bot answers there."""

    platform: str
    agent: str
    chat: str | None = None
    team: str | None = None
    user: str | None = None
    reply: str = "mention"

    def matches(self, platform: str, message: InboundMessage) -> bool:
        # The person's id on the platform is the last part of their stable id
        # (``slack:T1:U2``, ``telegram:98765``).
        user = message.user.fk_id.rsplit(":", 1)[-1]
        return self.matches_ids(platform, message.origin.chat, message.origin.extra.get("team", ""), user)

    def matches_ids(self, platform: str, chat: str, team: str, user: str) -> bool:
        return (
            platform == self.platform
            and self.chat in (None, chat)
            and self.team in (None, team)
            and self.user in (None, user)
        )


def reply_policy(routes: Sequence[Route], platform: str) -> Callable[[str, str, str], str]:
    """How the bot named ``platform`` answers where a message was written (its adapter
    asks, before the message reaches the core): the ``reply`` of the first route that
    matches, else ``mention``."""
    mine = [route for route in routes if route.platform == platform and route.reply != "mention"]

    def policy(chat: str, team: str, user: str) -> str:
        for route in routes:
            if route.matches_ids(platform, chat, team, user):
                return route.reply
        return "mention"

    return policy if mine else (lambda chat, team, user: "mention")


def kind_of(platform: str) -> str:
    """``telegram/helpdesk_bot`` -> ``telegram``: which adapter a platform name is."""
    return platform.split("/", 1)[0]


class Router:
    """Picks the agent for each message and hands it to that agent's service."""

    def __init__(
        self,
        store: StorePort,
        services: Mapping[str, Inbox],
        routes: Sequence[Route],
        defaults: Mapping[str, str],
    ) -> None:
        self._store = store
        self._services = services
        self._routes = tuple(routes)
        self._defaults = defaults

    async def agent_for(self, platform: str, message: InboundMessage) -> str:
        origin = message.origin
        if origin.thread is not None:
            answered = await self._store.thread_agent(platform, origin.chat, origin.thread)
            if answered is not None and answered in self._services:
                return answered
        route = self.route_for(platform, message)
        return route.agent if route is not None else self._defaults[platform]

    def route_for(self, platform: str, message: InboundMessage) -> Route | None:
        return next((route for route in self._routes if route.matches(platform, message)), None)

    def inbox(self, platform: str) -> Inbox:
        """What the platform named ``platform`` hands its messages to."""
        return RoutedInbox(self, platform)

    def service(self, agent: str) -> Inbox:
        return self._services[agent]

    def default_service(self, platform: str) -> Inbox:
        return self._services[self._defaults[platform]]

    @property
    def accepting(self) -> bool:
        return all(service.accepting for service in self._services.values())

    async def agent_of_vote(self, platform: str, vote: Vote) -> str:
        agent = await self._store.question_agent(int(vote.key)) if vote.key.isdigit() else None
        return agent if agent is not None and agent in self._services else self._defaults[platform]


class RoutedInbox:
    """One platform's ``Inbox``: its messages named after it, each to its agent's service."""

    def __init__(self, router: Router, platform: str) -> None:
        self._router, self._platform = router, platform

    @property
    def accepting(self) -> bool:
        return self._router.accepting

    async def receive(self, message: InboundMessage, *, respond: Respond | None = None) -> Receipt:
        message = replace(message, platform=self._platform)
        agent = await self._router.agent_for(self._platform, message)
        return await self._router.service(agent).receive(message, respond=respond)

    @property
    def ratings(self) -> Ratings | None:
        if self._router.default_service(self._platform).ratings is None:
            return None
        return RoutedRatings(self._router, self._platform)

    def background(self, work: Coroutine[Any, Any, None], *, name: str) -> None:
        self._router.default_service(self._platform).background(work, name=name)


class RoutedRatings:
    """👍/👎 go to the agent that gave the answer."""

    def __init__(self, router: Router, platform: str) -> None:
        self._router, self._platform = router, platform

    async def _ratings(self, vote: Vote) -> tuple[Ratings, Vote]:
        vote = replace(vote, platform=self._platform)
        ratings = self._router.service(await self._router.agent_of_vote(self._platform, vote)).ratings
        if ratings is None:  # that agent records no feedback
            ratings = _NoRatings()
        return ratings, vote

    async def vote(self, vote: Vote, accepted: Callable[[], Awaitable[None]] | None = None) -> VoteResult:
        ratings, vote = await self._ratings(vote)
        return await ratings.vote(vote, accepted)

    async def open_prompt(self, vote: Vote) -> bool:
        ratings, vote = await self._ratings(vote)
        return await ratings.open_prompt(vote)

    async def prompted(self, vote: Vote, where: str) -> None:
        ratings, vote = await self._ratings(vote)
        await ratings.prompted(vote, where)


class _NoRatings:
    async def vote(self, vote: Vote, accepted: Callable[[], Awaitable[None]] | None = None) -> VoteResult:
        from bridge.ports.feedback import Voted

        return VoteResult(Voted.GONE, "")

    async def open_prompt(self, vote: Vote) -> bool:
        return False

    async def prompted(self, vote: Vote, where: str) -> None:
        return None


class NamedOutbound:
    """A platform's ``Outbound`` registered under the platform's own name (several bots of
    one kind each have theirs)."""

    def __init__(self, inner: Outbound, platform: str) -> None:
        self._inner = inner
        self.platform = platform

    async def deliver(self, origin: Origin, reply: Reply, progress: DeliveryProgress) -> None:
        await self._inner.deliver(origin, reply, progress)

    def working(self, origin: Origin) -> AbstractAsyncContextManager[None]:
        return self._inner.working(origin)

    async def profile(self, user: PlatformUser) -> PlatformUser:
        return await self._inner.profile(user)

    def live(self, origin: Origin, language: str = "en", key: str = "") -> LiveText | None:
        return self._inner.live(origin, language, key)

    def download(self, attachment: Attachment, limit: int) -> AbstractAsyncContextManager[Download]:
        if not isinstance(self._inner, FileSource):
            raise TypeError(f"{self.platform} offers no files")
        return self._inner.download(attachment, limit)

    @property
    def max_file_bytes(self) -> int:
        return self._inner.max_file_bytes if isinstance(self._inner, FileSink) else 0

    async def post_file(
        self, origin: Origin, file: AnswerFile, download: Download, *, key: str, uncertain: bool
    ) -> None:
        if not isinstance(self._inner, FileSink):
            raise TypeError(f"{self.platform} takes no files")
        await self._inner.post_file(origin, file, download, key=key, uncertain=uncertain)
