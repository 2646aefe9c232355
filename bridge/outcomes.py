"""What asking an agent produced, for either kind of agent API: the reply to deliver, the
state it leaves the question in, and why."""

from __future__ import annotations

from dataclasses import dataclass

from bridge import texts
from bridge.errors import AgentAuthError, AgentError, AgentRejectedError
from bridge.models import QuestionState, Reply, Words


@dataclass(frozen=True)
class Finished:
    state: QuestionState
    reply: Reply
    error: str | None = None


def failure(exc: AgentError, *, timed_out: bool, sent: bool) -> Finished:
    """The person's notice for an agent error that ended the question."""
    if isinstance(exc, AgentAuthError):
        return Finished(QuestionState.FAILED, texts.notice("unavailable"), str(exc))
    if timed_out:
        # Never sent: the agent was unreachable. Sent: the answer did not come in time.
        return Finished(QuestionState.TIMED_OUT, texts.notice("timeout" if sent else "unreachable"), str(exc))
    key = "rejected" if isinstance(exc, AgentRejectedError) else "failed"
    return Finished(QuestionState.FAILED, texts.notice(key), str(exc))


def interrupted(error: str) -> Finished:
    """A call cut off (a restart) to an agent that cannot be asked what it got: the person
    asks again rather than the bridge asking twice on their behalf."""
    return Finished(QuestionState.FAILED, texts.notice("interrupted"), error)


def non_empty(reply: Reply) -> Reply:
    """An answer with neither words nor sources says so."""
    return reply if reply.text or reply.has_sources else texts.noted(reply, (Words("empty_answer"),))
