"""What asking an agent produced, for either kind of agent API: the reply to deliver, the
state it leaves the question in, and why."""

from __future__ import annotations

from dataclasses import dataclass

from bridge import texts
from bridge.errors import AgentAuthError, AgentError, AgentRejectedError
from bridge.models import QuestionState, Reply, ReplyKind


@dataclass(frozen=True)
class Finished:
    state: QuestionState
    reply: Reply
    error: str | None = None


def failure(exc: AgentError, *, timed_out: bool, sent: bool) -> Finished:
    """The person's notice for an agent error that ended the question."""
    if isinstance(exc, AgentAuthError):
        return Finished(QuestionState.FAILED, Reply(texts.UNAVAILABLE, ReplyKind.NOTICE), str(exc))
    if timed_out:
        # Never sent: the agent was unreachable. Sent: the answer did not come in time.
        text = texts.TIMEOUT if sent else texts.UNREACHABLE
        return Finished(QuestionState.TIMED_OUT, Reply(text, ReplyKind.NOTICE), str(exc))
    text = texts.REJECTED if isinstance(exc, AgentRejectedError) else texts.FAILED
    return Finished(QuestionState.FAILED, Reply(text, ReplyKind.NOTICE), str(exc))


def interrupted(error: str) -> Finished:
    """A call cut off (a restart) to an agent that cannot be asked what it got: the person
    asks again rather than the bridge asking twice on their behalf."""
    return Finished(QuestionState.FAILED, Reply(texts.INTERRUPTED, ReplyKind.NOTICE), error)
