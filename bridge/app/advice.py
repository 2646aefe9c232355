"""Settings that are legal but probably not what the operator meant: one line each,
logged at start and shown by ``check``."""

from __future__ import annotations

from bridge.app.settings import Settings


def setting_warnings(settings: Settings) -> list[str]:
    """Legal but probably unintended values: one line each, logged at start."""
    found = []
    if settings.shutdown_timeout < 1:
        found.append(
            f"SHUTDOWN_TIMEOUT={settings.shutdown_timeout:g} is below 1 s: requests in flight get no grace at "
            "shutdown and work in hand is cut off at every deploy (it resumes at the next start)"
        )
    if settings.files and settings.agent_backend != "raia":
        found.append(
            f"FILES is on, but AGENT_BACKEND={settings.agent_backend} takes no files: people sending one are told "
            "only their text is passed on (set FILES=off to silence this)"
        )
    if settings.feedback and settings.agent_backend != "raia":
        found.append(
            f"FEEDBACK is on, but AGENT_BACKEND={settings.agent_backend} records no feedback: answers carry no "
            "👍/👎 buttons (set FEEDBACK=off to silence this)"
        )
    if settings.handoff_button and (not settings.handoff or settings.agent_backend != "raia"):
        why = "HANDOFF=off" if not settings.handoff else f"AGENT_BACKEND={settings.agent_backend} has no takeovers"
        found.append(f'HANDOFF_BUTTON=on, but {why}: answers carry no "Talk to a person" button')
    return found
