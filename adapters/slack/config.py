"""What the Slack adapter needs from the settings (built by the composition root)."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import SecretStr

from adapters.base import Allowlist, ReplyPolicy, mention_everywhere


@dataclass(frozen=True)
class SlackConfig:
    bot_token: SecretStr
    signing_secret: SecretStr | None  # HTTP mode: verifies every request
    app_token: SecretStr | None  # set: Socket Mode
    api_url: str
    public_url: str | None  # for telling the operator the Request URL to enter
    allow: Allowlist
    # Offered when someone opens an assistant thread (Slack's Agents & AI Apps feature).
    suggested_prompts: tuple[str, ...] = ()
    # SLACK_DM_THREADS: a DM message is answered in a thread under it (Slack's agent view).
    dm_threads: bool = True
    # ROUTES_FILE: one of several apps, by its platform name (slack/<name>) and events path.
    name: str = "slack"
    path: str = "/slack/events"
    policy: ReplyPolicy = mention_everywhere  # ROUTES_FILE's reply = mention | all | private, by channel
