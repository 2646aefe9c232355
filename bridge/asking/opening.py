"""Where a question goes at the agent: the person's agent user and the conversation,
as the store knows them, or created now (the user first, then the conversation)."""

from __future__ import annotations

import logging

from bridge.errors import AgentNotFoundError, AgentRejectedError
from bridge.models import PlatformUser
from bridge.ports.agent import AgentPort, NewUser
from bridge.ports.store import QuestionRecord, StorePort

log = logging.getLogger("bridge.turn")


async def opening(store: StorePort, agent: AgentPort, q: QuestionRecord, person: PlatformUser) -> tuple[str, bool]:
    """The agent's id of the conversation ``q`` belongs to, and whether it was created now
    (with the person's user, if new, named as ``person``'s profile says) because it had
    none yet. Raises ``AgentError``."""
    # Read with the question, or (a record from elsewhere) looked up now.
    known = q.agent_ids
    if known is None:
        conversation = (await store.conversation(q.conversation_id)).agent_conversation_id or None
        user_id = None if conversation else await store.agent_user_id(q.fk_id)
    else:
        conversation, user_id = known.conversation, known.user
    if conversation:
        return conversation, False
    title = f"{q.platform.capitalize()} chat with {' '.join(p for p in (person.first_name, person.last_name) if p)}"
    details = {"platform": q.platform, "fkId": q.fk_id}
    if user_id is not None:
        try:
            agent_id = await agent.create_conversation(user_id, title=title.strip(), custom_data=details)
        except (AgentNotFoundError, AgentRejectedError) as exc:
            # The stored user is not the agent's (the deployment moved to another agent on
            # the same database, or the agent lost it): the person is made anew there.
            log.warning("question=%d agent user %s unknown to the agent (%s); creating it again", q.id, user_id, exc)
            user_id = None
        else:
            await store.set_agent_conversation(q.conversation_id, agent_id)
            return agent_id, True
    user_id = await agent.find_or_create_user(
        NewUser(
            fk_id=q.fk_id,
            first_name=person.first_name.strip() or "Unknown",
            # raia requires a last name; many chat users have none.
            last_name=(person.last_name or "").strip() or f"({q.platform.capitalize()})",
            custom_data={"platform": q.platform, **person.custom_data},
        )
    )
    await store.save_agent_user(q.fk_id, user_id)
    agent_id = await agent.create_conversation(user_id, title=title.strip(), custom_data=details)
    await store.set_agent_conversation(q.conversation_id, agent_id)
    return agent_id, True
