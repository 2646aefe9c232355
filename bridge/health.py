"""What ``/healthz`` says about the agent API, kept up to date by every call a question makes."""

from __future__ import annotations

import logging

from bridge.errors import AgentAuthError, AgentError


class AgentHealth:
    """What /healthz says about the agent API: "ok", or what went wrong last."""

    def __init__(self, backend: str) -> None:
        self.status = "unknown"
        self.refused = False  # the key was refused: nothing will work until an operator acts
        self._backend = backend
        self._key = f"{backend.upper()}_API_KEY"

    def ok(self) -> None:
        self.status = "ok"
        self.refused = False

    def failed(self, exc: AgentError) -> None:
        self.refused = isinstance(exc, AgentAuthError)
        if isinstance(exc, AgentAuthError):
            self.status = f"{self._backend} rejected {self._key} ({exc.status})"
            logging.getLogger("bridge.service").error(
                "%s rejected the API key (HTTP %s): check %s (%s)", self._backend, exc.status, self._key, exc
            )
        else:
            self.status = f"error: {type(exc).__name__}"
