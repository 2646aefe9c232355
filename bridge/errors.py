"""The bridge's one error tree.

Foreign exceptions (httpx, Slack, Telegram, the database driver) are translated once,
where they are caught, with ``raise ... from exc``; everything above that boundary sees
only these::

    BridgeError
    ├── ConfigError              a setting is missing or malformed (one line, exit 2)
    │   └── RoutesError          ROUTES_FILE is broken or names something undefined (exit 8)
    ├── StartupError             the bridge cannot start: one line, no traceback (exit 1)
    │   ├── CredentialRefused    a token or key was refused by its service (exit 3)
    │   ├── ServiceUnreachable   a service could not be reached at start (exit 4)
    │   ├── PortUnavailable      HOST:PORT cannot be listened on (exit 5)
    │   ├── InstanceLockTaken    another server already serves this database (exit 6)
    │   └── DatabaseUnavailable  DATABASE_URL cannot be opened (exit 7)
    ├── AgentError               the agent API failed; ``retry_after`` when the server said
    │   ├── AgentAuthError       401/403: the key is wrong, expired or revoked (operator must act)
    │   ├── AgentNotFoundError   404: the user/conversation/message does not exist
    │   ├── AgentRejectedError   other 4xx: the agent API refused the request as given
    │   ├── AgentRateLimited     429
    │   ├── AgentServerError     5xx
    │   ├── AgentTransportError  timeout, refused or dropped connection (``ambiguous``)
    │   └── AgentProtocolError   a body we could not understand, or a redirect (transient)
    ├── StoreError               the store failed (its driver's error chained as ``__cause__``)
    │   ├── StoreUnavailable     cannot be reached, locked, full, connection lost: retry later
    │   ├── StoreFault           it answered with an error retrying will not fix (a damaged
    │   │                        file, a schema changed under the bridge, a refused statement)
    │   ├── QuestionGone         no question with that id (never stored, or purged)
    │   ├── LeaseLost            another replica holds the conversation's lane: nothing written
    │   └── ConversationGone     no conversation with that id
    ├── FileUnavailable          a file sent with a question cannot be passed on (``reason``)
    ├── TranscriptionFailed      a recording could not be transcribed (``reason``, ``retryable``)
    └── DeliveryError            the chat platform did not take our reply
        ├── DeliveryRetryable    try again later (rate limit, outage), ``retry_after``, ``maybe_posted``
        └── DeliveryPermanent    will never work (bot blocked, channel gone)

``ShuttingDown`` is not an error and stands outside the tree: it is how a stopping
service's sleep tells the work in hand to leave off where it is (stored, resumed at the
next start), so no ``except BridgeError`` ever swallows it.
"""

from __future__ import annotations


class BridgeError(Exception):
    """Root of every error the bridge raises on purpose."""


class ConfigError(BridgeError):
    """A setting is missing or malformed; ``str()`` is one line naming the variable."""


class RoutesError(ConfigError):
    """``ROUTES_FILE`` cannot be used: one line naming the file and the table at fault."""

    exit_status = 8


class StartupError(BridgeError):
    """The bridge cannot start. ``str()`` is one line naming the setting or service and
    what to do; ``exit_status`` tells the causes apart for scripts and PaaS logs."""

    exit_status = 1


class CredentialRefused(StartupError):
    exit_status = 3


class ServiceUnreachable(StartupError):
    exit_status = 4


class PortUnavailable(StartupError):
    exit_status = 5


class InstanceLockTaken(StartupError):
    """Another process serves this database file."""

    exit_status = 6


class DatabaseUnavailable(StartupError):
    exit_status = 7


class StoreError(BridgeError):
    """The store failed. Raised only by ``store/``, translated from its driver's error
    (chained as ``__cause__``); ``str()`` is one line and never holds ``DATABASE_URL``.
    ``retryable`` says whether the same call may work later."""

    retryable = False


class StoreUnavailable(StoreError):
    """The database cannot be reached or cannot take the call now: the server is down or
    restarting, the connection was lost, the file is locked by another process, the disk
    is full or read-only, a timeout. Try again later. (A connection lost while committing
    leaves open, as with any database, whether that call took effect.)"""

    retryable = True


class DiskFull(StoreUnavailable):
    """The database's disk is full: the store takes no call until it has space again
    (``/healthz`` says "full"). Nothing stored is lost; try again later."""


class StoreFault(StoreError):
    """The database answered with an error that the same call will meet again: a damaged
    file, a schema that is not the one the bridge made, a statement it refuses (a bug).
    An operator has to look; the driver's error is the ``__cause__``."""


class QuestionGone(StoreError):
    """No question has this id (any more): never stored, or finished and purged."""

    def __init__(self, question_id: int) -> None:
        super().__init__(f"question {question_id} is not in the store")
        self.question_id = question_id


class LeaseLost(StoreError):
    """A step of a question's life was not written because this replica no longer holds
    its conversation's lane lease (a shared database: the lease ran out, or another
    replica took the conversation over). Nothing was written; the lane stops at once,
    without retrying and without a notice: the replica that holds the lease carries on."""

    def __init__(self, question_id: int) -> None:
        super().__init__(f"question {question_id}: another replica holds its conversation's lane")
        self.question_id = question_id


class ConversationGone(StoreError):
    """No conversation has this id."""

    def __init__(self, conversation_id: int) -> None:
        super().__init__(f"conversation {conversation_id} is not in the store")
        self.conversation_id = conversation_id


class FileUnavailable(BridgeError):
    """A file sent with a question cannot be fetched from the platform or is over a
    limit; the question goes on without it. Or a file the agent made cannot be fetched
    from it, or the platform refused it: a line says so in its place. ``reason`` is a
    message catalogue key."""

    def __init__(self, message: str, *, reason: str = "file_failed") -> None:
        super().__init__(message)
        self.reason = reason


class TranscriptionFailed(BridgeError):
    """A recording could not be transcribed. ``reason`` is a message catalogue key
    (``voice_refused``, ``voice_timeout``, ``voice_too_long``, ``voice_empty``,
    ``voice_failed``); ``retryable``: repeating the request may help (a timeout, a 429, a
    5xx)."""

    def __init__(self, message: str, *, reason: str = "voice_failed", retryable: bool = False) -> None:
        super().__init__(message)
        self.reason = reason
        self.retryable = retryable


class AgentError(BridgeError):
    """The agent API failed. ``retryable`` says whether repeating a safe call may help;
    ``retry_after`` is the server's own hint (seconds), if it gave one."""

    retryable = False

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class AgentAuthError(AgentError):
    """The agent key was refused (raia answers 403; 401 is treated the same)."""


class AgentNotFoundError(AgentError):
    """The addressed object does not exist."""


class AgentRejectedError(AgentError):
    """The agent API refused the request (400/409/422...): repeating it will not help."""


class AgentRateLimited(AgentError):
    """The agent API asked us to slow down (429)."""

    retryable = True


class AgentServerError(AgentError):
    """The agent API failed on its side (5xx)."""

    retryable = True


class AgentTransportError(AgentError):
    """The request did not complete. If ``ambiguous``, the agent may still have acted on it."""

    retryable = True

    def __init__(self, message: str, *, ambiguous: bool) -> None:
        super().__init__(message)
        self.ambiguous = ambiguous


class AgentProtocolError(AgentError):
    """The agent API answered with a body (or a redirect) its document does not describe.
    Counted as a passing upstream fault: a later try usually reads fine."""

    retryable = True


class DeliveryError(BridgeError):
    """The chat platform did not accept a reply."""


class DeliveryRetryable(DeliveryError):
    """Delivery may work later; ``retry_after`` is the platform's hint, if any.
    ``maybe_posted`` is False when the platform surely did not take it (a rate limit)."""

    def __init__(self, message: str, *, retry_after: float | None = None, maybe_posted: bool = True) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.maybe_posted = maybe_posted


class DeliveryPermanent(DeliveryError):
    """Delivery will never work for this destination (blocked, removed, archived)."""


class ShuttingDown(Exception):
    """The process is stopping: platforms should redeliver new events later, and work
    in hand is left where it is (it is stored and resumed at the next start)."""
