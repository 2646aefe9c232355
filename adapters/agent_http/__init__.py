"""What every agent API client shares: HTTP outcomes -> the ``AgentError`` tree.

One translation for raia, Blaigent and the slug chat API, so a 429 is ``AgentRateLimited``
with its ``Retry-After`` whichever backend said it, and a refused connection is known to
have never reached the agent (safe to repeat) while any other transport failure may have.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from typing import Protocol

import httpx

from adapters.base import retry_seconds
from bridge.errors import (
    AgentAuthError,
    AgentError,
    AgentNotFoundError,
    AgentProtocolError,
    AgentRateLimited,
    AgentRejectedError,
    AgentServerError,
    AgentTransportError,
)


class HttpAnswer(Protocol):
    """What the translation reads of a response (``httpx.Response`` has it)."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def reason_phrase(self) -> str: ...


def retry_after(response: HttpAnswer) -> float | None:
    return retry_seconds(response.headers.get("retry-after"))


def never_connected(exc: BaseException) -> str | None:
    """ "connection refused" or "host not found" when that is the root cause: the request
    surely never reached the agent (and the operator should hear it in those words)."""
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return None
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused"
        if isinstance(seen, socket.gaierror):
            return "host not found"
        seen = seen.__cause__ or seen.__context__
    return None


def transport_error(what: str, exc: httpx.TransportError) -> AgentTransportError:
    if isinstance(exc, httpx.ConnectError):
        return AgentTransportError(f"{what}: cannot connect ({type(exc).__name__})", ambiguous=False)
    never_sent = never_connected(exc)
    if never_sent is not None:  # a refusal or a failed DNS look-up deep in the cause chain
        return AgentTransportError(f"{what}: {never_sent}", ambiguous=False)
    # Anything else may have reached the agent: a send is checked before it is repeated.
    return AgentTransportError(f"{what}: {type(exc).__name__}", ambiguous=True)


def status_error(what: str, response: HttpAnswer, reason: str) -> AgentError:
    """A non-2xx answer as the right ``AgentError`` (``reason``: the body's error text)."""
    status = response.status_code
    if status < 400:
        # None of these APIs redirect; a proxy or a moved host does. Not followed.
        return AgentProtocolError(f"{what}: unexpected redirect {status}", status=status)
    detail = f"{what}: {status} {reason or response.reason_phrase}"
    if status in (401, 403):
        return AgentAuthError(detail, status=status)
    if status == 404:
        return AgentNotFoundError(detail, status=status)
    if status == 429:
        return AgentRateLimited(detail, status=status, retry_after=retry_after(response))
    if status >= 500:
        return AgentServerError(detail, status=status, retry_after=retry_after(response))
    return AgentRejectedError(detail, status=status)
