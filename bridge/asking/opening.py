"""Where a question goes at the agent: the person's agent user and the conversation,
as the store knows them, or created now (the user first, then the conversation)."""

from __future__ import annotations

from bridge.models import PlatformUser
from bridge.ports.agent import AgentPort, NewUser
from bridge.ports.store import QuestionRecord, StorePort


async def opening(store: StorePort, agent: AgentPort, q: QuestionRecord, person: PlatformUser) -> str:
    """The agent's id of the conversation ``q`` belongs to; created (with the person's
    user, if new, named as ``person``'s profile says) when it has none yet. Raises
    ``AgentError``."""
    # Read with the question, or (a record from elsewhere) looked up now.
    known = q.agent_ids
    if known is None:
        conversation = (await store.conversation(q.conversation_id)).agent_conversation_id or None
        user_id = None if conversation else await store.agent_user_id(q.fk_id)
    else:
        conversation, user_id = known.conversation, known.user
    if conversation:
        return conversation
    profile = person
    if user_id is None:
        user_id = await agent.find_or_create_user(
            NewUser(
                fk_id=q.fk_id,
                first_name=profile.first_name.strip() or "Unknown",
                # raia requires a last name; many chat users have none.
                last_name=(profile.last_name or "").strip() or f"({q.platform.capitalize()})",
                custom_data={"platform": q.platform, **profile.custom_data},
            )
        )
        await store.save_agent_user(q.fk_id, user_id)
    name = " ".join(p for p in (profile.first_name, profile.last_name) if p)
    agent_id = await agent.create_conversation(
        user_id,
        title=f"{q.platform.capitalize()} chat with {name}".strip(),
        custom_data={"platform": q.platform, "fkId": q.fk_id},
    )
    await store.set_agent_conversation(q.conversation_id, agent_id)
    return agent_id
