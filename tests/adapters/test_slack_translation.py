"""Slack translation functions on recorded event payloads."""

from __future__ import annotations

import re

from adapters.base import Allowlist
from adapters.slack.events import BotIdentity, Ignored, classify, strip_mention
from adapters.slack.render import render, split_mrkdwn
from bridge.models import InboundMessage, Intent, Reply, UrlCitation
from tests.fakes import slack

BOT = BotIdentity(user_id=slack.BOT_USER, bot_id=slack.BOT_ID, team_id=slack.TEAM)


def test_file_share_and_thread_broadcast_count_as_text() -> None:
    """file_share and thread_broadcast carry a person's words; other subtypes do not."""
    for subtype in ("file_share", "thread_broadcast"):
        action = classify(slack.envelope(slack.dm("see attached", subtype=subtype)), BOT, Allowlist())
        assert isinstance(action, InboundMessage)
        assert action.intent is Intent.ASK
    assert isinstance(classify(slack.envelope(slack.dm("x", subtype="channel_topic")), BOT, Allowlist()), Ignored)


def test_routes_dm_thread_and_channel_thread() -> None:
    """A DM in a thread is answered in it; a channel mention opens a thread under itself."""
    in_thread = classify(slack.envelope(slack.dm("hi", thread_ts="1.000001")), BOT, Allowlist())
    assert isinstance(in_thread, InboundMessage)
    assert in_thread.origin.thread == "1.000001"
    top = classify(slack.envelope(slack.dm("hi", ts="1.000002")), BOT, Allowlist())
    assert isinstance(top, InboundMessage)
    assert top.origin.thread == "1.000002"  # SLACK_DM_THREADS: a thread under the message
    assert top.origin.extra["title"] == "hi"  # it opens the thread: its session's title
    plain = classify(slack.envelope(slack.dm("hi")), BOT, Allowlist(), dm_threads=False)
    assert isinstance(plain, InboundMessage)
    assert plain.origin.thread is None
    mention = slack.channel_message(f"<@{slack.BOT_USER}> hi", kind="app_mention", ts="2.000002")
    action = classify(slack.envelope(mention, event_id="Ev1"), BOT, Allowlist())
    assert isinstance(action, InboundMessage)
    assert action.origin.thread == "2.000002"
    assert action.dedupe_keys == ("slack:event:Ev1", "slack:post:T0001:C0001:2.000002")
    assert action.user.fk_id == "slack:T0001:U1"


def test_thread_reply_without_mention_needs_the_thread_check() -> None:
    """A channel thread reply without a mention is a question only if the thread check passes."""
    action = classify(slack.envelope(slack.channel_message("more?", thread_ts="3.0")), BOT, Allowlist())
    assert isinstance(action, InboundMessage)
    assert not action.addressed


def test_dm_words_reset_and_help_are_commands() -> None:
    """'reset' or 'help' alone in a DM is a command, not a question."""
    action = classify(slack.envelope(slack.dm("  Reset ")), BOT, Allowlist())
    assert isinstance(action, InboundMessage)
    assert action.intent is Intent.RESET


def test_strip_mention_keeps_other_people() -> None:
    """Only the bot's own mention is removed."""
    assert strip_mention(f"<@{slack.BOT_USER}|raia> ask <@U2> about it", slack.BOT_USER) == "ask <@U2> about it"


def test_code_block_split_is_reopened() -> None:
    """A code block longer than a section is cut into halves that are each valid code blocks."""
    code = "```\n" + "\n".join(f"line {i} = {i}" for i in range(400)) + "\n```"
    parts = split_mrkdwn(code, 1000)
    assert len(parts) > 3
    assert all(p.startswith("```") and p.endswith("```") and len(p) <= 1000 for p in parts)
    assert sum(p.count("line ") for p in parts) == 400


def test_source_titles_cannot_break_links() -> None:
    """A title with |, <, > or & stays inside its link."""
    (message,) = render(Reply("ok", urls=(UrlCitation("https://e.com/a|b", "A|B <C> & D"),)))
    body = "\n".join(b["text"]["text"] for b in message.blocks if b["type"] == "section")  # the sources
    assert "<https://e.com/a%7Cb|A¦B &lt;C&gt; &amp; D>" in body


def test_agent_text_and_sources_never_mention_anyone() -> None:
    """Links to !here, @U…, !subteam^…, tg:// (in the answer or its sources) keep their words
    and lose the link; bare @here/@channel/@everyone carry a word joiner; web links, code,
    e-mail addresses and URL paths stay as written."""
    answer = (
        "Ask [the team](!subteam^S123|eng), [me](@U123), [all](!here), [](!channel), [us][r], "
        "[room](#C0001), ![pic](tg://user?id=5) or @here / @Channel / @everyone (mail me@here.com); "
        "[docs](https://e.com/@here) and `@here`\n\n[r]: !everyone"
    )
    urls = (
        UrlCitation("!here", "Everyone"),
        UrlCitation("@U999", "@U999"),
        UrlCitation("!subteam^S1", "<!channel> @channel"),
        UrlCitation("tg://user?id=5", "Boss"),
        UrlCitation("https://e.com/a", "@here docs"),
    )
    (message,) = render(Reply(answer, urls=urls))
    body = "\n".join(b["text"]["text"] for b in message.blocks if b["type"] == "section")
    for shown in (body, message.text):
        # Every <…> Slack will parse is a web link; nothing else is (mentions need <…>).
        assert [target.split("|")[0] for target in re.findall(r"<([^>]*)>", shown)] == [
            "https://e.com/@here",
            "https://e.com/a",
        ]
        bare = re.findall(r"(?<![\w.@/])@(?:here|channel|everyone)\b", shown.replace("`@here`", ""), re.IGNORECASE)
        assert bare == []
    assert "Ask the team, me, all, , us, room, pic or @\u2060here / @\u2060Channel / @\u2060everyone" in body
    assert "(mail me@here.com); <https://e.com/@here|docs> and `@here`" in body
    sources = "• Everyone\n• @U999\n• &lt;!channel&gt; @\u2060channel\n• Boss\n• <https://e.com/a|@\u2060here docs>"
    assert sources in body


def test_dms_follow_the_allowlists() -> None:
    """A DM is the person's own: with SLACK_ALLOWED_USERS, listed people are answered; with
    only SLACK_ALLOWED_CHANNELS, a DM is refused politely unless its own D… id is listed."""

    def intent(allow: Allowlist, user: str = "U1") -> Intent:
        action = classify(slack.envelope(slack.dm("hi", user=user)), BOT, allow)
        assert isinstance(action, InboundMessage)
        return action.intent

    channels_only = Allowlist(chats=frozenset({"C0001"}))
    assert intent(channels_only) is Intent.NOT_ALLOWED
    assert intent(Allowlist(chats=frozenset({"C0001", "D0001"}))) is Intent.ASK
    both = Allowlist(users=frozenset({"U1"}), chats=frozenset({"C0001"}))
    assert intent(both) is Intent.ASK
    assert intent(both, user="U2") is Intent.NOT_ALLOWED
    assert intent(Allowlist(users=frozenset({"U1"}), chats=frozenset({"D0001"})), user="U2") is Intent.NOT_ALLOWED
    assert intent(Allowlist()) is Intent.ASK
    # In the listed channel everyone is answered; elsewhere silence.
    mention = slack.channel_message(f"<@{slack.BOT_USER}> hi", kind="app_mention")
    answered = classify(slack.envelope(mention), BOT, channels_only)
    assert isinstance(answered, InboundMessage)
    assert answered.intent is Intent.ASK
    elsewhere = slack.channel_message(f"<@{slack.BOT_USER}> hi", kind="app_mention", channel="C0999")
    assert isinstance(classify(slack.envelope(elsewhere), BOT, channels_only), Ignored)
