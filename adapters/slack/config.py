"""What the Slack adapter needs from the settings (built by the composition root)."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import SecretStr

from adapters.base import Allowlist


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
