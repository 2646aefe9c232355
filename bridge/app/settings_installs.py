"""The "Add to Slack" settings (OAuth v2, many workspaces, no ``SLACK_BOT_TOKEN``): a
group of ``Settings`` (``bridge.app.settings``), see ``adapters.slack.installs``."""

from __future__ import annotations

from pydantic import BaseModel, SecretStr, field_validator


class InstallSettings(BaseModel):
    """SLACK_CLIENT_ID and what it needs beside it."""

    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_state_secret: SecretStr | None = None  # signs the OAuth state
    # A Fernet key sealing what the bridge keeps secret in its database (Slack bot tokens).
    bridge_secret_key: SecretStr | None = None

    @field_validator("bridge_secret_key")
    @classmethod
    def _fernet_key(cls, value: SecretStr | None) -> SecretStr | None:
        # Imported here: cryptography loads only where a key is given.
        from bridge.app.installations import fernet_key_problem

        problem = fernet_key_problem(value.get_secret_value()) if value is not None else None
        if problem is not None:
            raise ValueError(problem)
        return value

    def install_problem(
        self, *, bot_token: SecretStr | None, signing_secret: SecretStr | None
    ) -> tuple[str, str] | None:
        """The setting that is wrong for Add to Slack and why, or None. ``Settings`` asks
        (with the single workspace's Slack settings) after the agent's requirements, so a
        start with several mistakes names the same one first as it always did."""
        if self.slack_client_id is None:
            for name in ("slack_client_secret", "slack_state_secret"):
                if getattr(self, name) is not None:
                    return "slack_client_id", f"is required when {name.upper()} is set (Add to Slack)"
            return None
        if bot_token is not None:
            return (
                "slack_bot_token",
                "is for one workspace; with SLACK_CLIENT_ID the app is installed in many (Add to Slack): unset one",
            )
        needed = {
            "slack_client_secret": self.slack_client_secret,
            "slack_state_secret": self.slack_state_secret,
            "slack_signing_secret": signing_secret,
            "bridge_secret_key": self.bridge_secret_key,
        }
        for name, value in needed.items():
            if value is None:
                return name, "is required with SLACK_CLIENT_ID (Add to Slack)"
        return None
