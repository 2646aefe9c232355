"""The bridge's one error tree.

Foreign exceptions (httpx, Slack, Telegram) are translated once, where they are
caught, with ``raise ... from exc``; everything above that boundary sees only these::

    BridgeError
    ├── ConfigError              a setting is missing or malformed (one line, exit 2)
    ├── AgentError               the agent API (raia) failed
    │   ├── AgentAuthError       403: the key is wrong, expired or revoked (operator must act)
    │   ├── AgentNotFoundError   404: the user/conversation/message does not exist
    │   ├── AgentRejectedError   other 4xx: raia refused the request as given
    │   ├── AgentRateLimited     429, with ``retry_after`` when the server said so
    │   ├── AgentServerError     5xx
    │   ├── AgentTransportError  timeout, refused or dropped connection (``ambiguous``)
    │   └── AgentProtocolError   a 2xx whose body we could not understand
    ├── DeliveryError            the chat platform did not take our reply
    │   ├── DeliveryRetryable    try again later (rate limit, outage), ``retry_after``
    │   └── DeliveryPermanent    will never work (bot blocked, channel gone)
    └── ShuttingDown             the process is stopping and takes no new work
"""

from __future__ import annotations


class BridgeError(Exception):
    """Root of every error the bridge raises on purpose."""


class ConfigError(BridgeError):
    """A setting is missing or malformed; ``str()`` is one line naming the variable."""


class AgentError(BridgeError):
    """The agent API failed. ``retryable`` says whether repeating a safe call may help."""

    retryable = False

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class AgentAuthError(AgentError):
    """The agent key was refused (raia answers 403, never 401)."""


class AgentNotFoundError(AgentError):
    """The addressed raia object does not exist."""


class AgentRejectedError(AgentError):
    """raia refused the request (400/409/422...): repeating it will not help."""


class AgentRateLimited(AgentError):
    """raia asked us to slow down."""

    retryable = True

    def __init__(self, message: str, *, status: int | None = 429, retry_after: float | None) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class AgentServerError(AgentError):
    """raia failed on its side (5xx)."""

    retryable = True

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class AgentTransportError(AgentError):
    """The request did not complete. If ``ambiguous``, raia may still have acted on it."""

    retryable = True

    def __init__(self, message: str, *, ambiguous: bool) -> None:
        super().__init__(message)
        self.ambiguous = ambiguous


class AgentProtocolError(AgentError):
    """raia answered 2xx with a body that is not what the API describes."""


class DeliveryError(BridgeError):
    """The chat platform did not accept a reply."""


class DeliveryRetryable(DeliveryError):
    """Delivery may work later; ``retry_after`` is the platform's hint, if any."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DeliveryPermanent(DeliveryError):
    """Delivery will never work for this destination (blocked, removed, archived)."""


class ShuttingDown(BridgeError):
    """The process is stopping; platforms should redeliver the event later."""
