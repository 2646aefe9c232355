"""The agent ``raia-bridge demo`` talks to: a help desk for an imaginary product
("Northwind Cloud") with a few believable answers that show what the bridge carries:
sources (links and files), Markdown (lists, a table, code), and a follow-up that
remembers what the conversation was about. ``/human`` (a takeover) is the simulator's.

Matching is by keywords: this is a stage set, not a language model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from adapters.raia.demo_agent import SimAnswer, made_files

_DOCS = "https://docs.northwind.example"


def _answer(text: str, page: str, title: str, *, file: tuple[str, str] | None = None) -> SimAnswer:
    """An answer citing one page of the product's docs (its path and title) and, if given,
    a file of its knowledge base (id and name)."""
    files = [{"fileId": file[0], "filename": file[1]}] if file else []
    return SimAnswer(text=text, urls=[{"url": f"{_DOCS}/{page}", "title": title}], files=files)


@dataclass(frozen=True)
class _Topic:
    name: str
    words: tuple[str, ...]
    answer: SimAnswer
    follow_words: tuple[str, ...]  # a question with these, after this topic, is its follow-up
    follow_up: SimAnswer  # "and for annual plans?": the same topic, one step on


_REFUNDS = _Topic(
    "refunds",
    ("refund", "money back", "cancel"),
    _answer(
        (
            "You can get a **full refund within 14 days** of any monthly charge【4:0†source】:\n\n"
            "1. Open *Billing → Invoices*.\n"
            "2. Choose the invoice and press **Request refund**.\n"
            "3. The money is back on your card in 5–10 business days.\n\n"
            "After 14 days we refund the unused part of the month as credit instead."
        ),
        "billing/refunds",
        "Refund policy",
        file=("file-terms", "Terms of Service (2026).pdf"),
    ),
    ("annual", "yearly", "year"),
    _answer(
        (
            "For **annual plans** the window is longer: a full refund within **30 days** of the "
            "renewal, and after that a *pro-rated* refund of the whole months left【4:1†source】.\n\n"
            "Same place as for monthly plans: *Billing → Invoices → Request refund*."
        ),
        "billing/annual-plans",
        "Annual plans",
    ),
)

_PLANS = _Topic(
    "plans",
    ("plan", "price", "pricing", "cost", "compare", "tier"),
    _answer(
        (
            "Here are the three plans side by side:\n\n"
            "| Plan | Price | Seats | Support |\n"
            "| --- | --- | --- | --- |\n"
            "| Starter | $0 | 3 | community |\n"
            "| Team | $12 / seat / month | unlimited | email, 1 business day |\n"
            "| Business | $29 / seat / month | unlimited | chat, 1 hour, **SSO** |\n\n"
            "Annual billing saves two months on Team and Business."
        ),
        "pricing",
        "Pricing",
    ),
    ("which", "recommend", "choose", "pick", "should", "best"),
    _answer(
        (
            "Most teams of 5–50 people pick **Team**; move to **Business** when you need SSO or "
            "answers within the hour. You can switch at any time and we pro-rate the difference."
        ),
        "pricing#switching",
        "Switching plans",
    ),
)

_SSO = _Topic(
    "single sign-on",
    ("sso", "single sign", "saml", "sign-in", "login"),
    _answer(
        (
            "Single sign-on takes about ten minutes (Business plan):\n\n"
            "1. In your identity provider, create a SAML app with this ACS URL:\n\n"
            "```\nhttps://app.northwind.example/sso/acs\n```\n\n"
            "2. Paste its metadata URL under *Settings → Security → SSO*.\n"
            "3. Press **Test sign-in**, then **Enforce** when it works."
        ),
        "security/sso",
        "Set up SSO",
        file=("file-sso", "SSO setup checklist.pdf"),
    ),
    ("okta", "azure", "entra", "google"),
    _answer(
        (
            "Yes, with Okta it is the same three steps: choose *SAML 2.0* when you create the app, "
            "and map the `email` attribute to the user's primary email."
        ),
        "security/sso/okta",
        "SSO with Okta",
    ),
)

_TOPICS = (_REFUNDS, _PLANS, _SSO)
_FOLLOW_UP = ("and ", "what about", "how about", "also ")  # then any question goes on with the topic

WELCOME = SimAnswer(
    text=(
        "Hi! I'm the help desk of **Northwind Cloud** (a made-up product: this is the demo). "
        "Things to try:\n\n"
        "- *How do refunds work?*, then a follow-up: *and for annual plans?*\n"
        "- *Compare the plans* (a table)\n"
        "- *How do I set up SSO?* (steps, a code block and a file)\n"
        "- *Make me a chart of signups*, or *a CSV of them* (a file the agent makes, posted with the answer)\n"
        "- `/human` to hand the conversation to a person, and `/reset` to start over"
    ),
)


def _topic_of(text: str) -> _Topic | None:
    lowered = text.lower()
    return next((topic for topic in _TOPICS if any(word in lowered for word in topic.words)), None)


def showcase_answer(question: str, earlier: Sequence[str] = ()) -> SimAnswer | None:
    """The answer to ``question``, given the person's ``earlier`` messages in this
    conversation (oldest first). ``[fail]`` in a question fails it, as in the tests."""
    if "[fail]" in question:
        return None
    lowered = question.lower().strip()
    made = made_files(question)
    if made:  # the code interpreter's work: files posted after the answer
        names = " and ".join(f"`{f.name}`" for f in made)
        return SimAnswer(text=f"Here you are: {names}, from this month's signups (Jan–Apr).", made=made)
    if lowered.startswith(("thank", "thx", "great", "perfect", "ok")):
        return SimAnswer(text="You're welcome! Ask me anything else, or type `/human` to reach a person.")
    previous = next((topic for text in reversed(earlier) if (topic := _topic_of(text)) is not None), None)
    topic = _topic_of(question)
    # Remembered: the conversation was about ``previous``, and this goes on with it.
    if previous is not None and any(word in lowered for word in previous.follow_words):
        return previous.follow_up
    if previous is not None and topic in (None, previous) and lowered.startswith(_FOLLOW_UP):
        return previous.follow_up
    if topic is not None:
        return topic.answer
    if previous is not None:
        return SimAnswer(
            text=(
                f"We were talking about **{previous.name}**. I'm not sure how *{question.strip()}* fits in: "
                "could you say it another way? (`/human` gets you a person.)"
            )
        )
    return WELCOME
