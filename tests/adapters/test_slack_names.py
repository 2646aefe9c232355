"""The Slack name and language cache (users.info answers) keeps a bounded number of people,
the least recently used dropped first, and answers the ones it keeps without asking Slack."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.outbound import NAME_RETRY, SlackOutbound
from bridge.models import PlatformUser
from tests.fakes import slack
from tests.fakes.server import serving


def person(user: str) -> PlatformUser:
    return PlatformUser(fk_id=f"slack:T1:{user}", first_name=user, custom_data={"slackUserId": user})


async def test_the_name_cache_stays_bounded_and_answers_from_what_it_keeps() -> None:
    fake = slack.FakeSlack()
    fake.names |= {f"U{n}": (f"Person{n}", "") for n in range(1, 6)}
    fake.locales["U5"] = "de-DE"
    async with serving(fake.app()) as api:
        client = AsyncWebClient(token=slack.BOT_TOKEN, base_url=f"{api}/api/")
        outbound = SlackOutbound(client, f"{api}/api/", names_kept=3)
        for n in (1, 2, 3):
            await outbound.profile(person(f"U{n}"))
        await outbound.profile(person("U1"))  # kept: used again, so U2 is now the oldest
        assert fake.calls.count("users.info") == 3
        for n in (4, 5):
            await outbound.profile(person(f"U{n}"))  # over the bound: U2, then U3 dropped
        assert fake.calls.count("users.info") == 5
        kept = [await outbound.profile(person(user)) for user in ("U1", "U4", "U5")]
        assert fake.calls.count("users.info") == 5  # all three answered from the cache
        assert [user.first_name for user in kept] == ["Person1", "Person4", "Person5"]
        assert outbound.known(person("U5")).custom_data["locale"] == "de-DE"
        await outbound.profile(person("U2"))
        assert fake.calls.count("users.info") == 6  # dropped: asked anew


async def test_a_passing_users_info_failure_is_asked_again_a_minute_later_a_refusal_an_hour_later() -> None:
    """A rate limit (a burst of new people) stands for a minute: the person's next turn has
    their name. A refusal that stays (no ``users:read``) stands for the hour, as an answer."""
    fake = slack.FakeSlack()
    fake.fail("users.info", "ratelimited", status=429, headers={"Retry-After": "30"})
    fake.fail("users.info", "missing_scope")
    now = [1000.0]
    async with serving(fake.app()) as api:
        client = AsyncWebClient(token=slack.BOT_TOKEN, base_url=f"{api}/api/")
        outbound = SlackOutbound(client, f"{api}/api/", clock=lambda: now[0])
        assert (await outbound.profile(person("U1"))).first_name == "U1"  # rate limited: the id for now
        now[0] += 30
        await outbound.profile(person("U1"))
        assert fake.calls.count("users.info") == 1  # within the minute: not asked again
        now[0] += NAME_RETRY
        assert (await outbound.profile(person("U1"))).first_name == "U1"  # asked again: refused this time
        assert fake.calls.count("users.info") == 2
        now[0] += NAME_RETRY + 1
        await outbound.profile(person("U1"))
        assert fake.calls.count("users.info") == 2  # a refusal stands for the hour
        now[0] += 3600
        assert (await outbound.profile(person("U1"))).first_name == "Ann"
        assert fake.calls.count("users.info") == 3
